"""Tests for helpers.numpy_mlp.NumpyMLP, the day-04 network that day 05 compares autograd with."""

import numpy as np
import pytest

from helpers.checks import grad_check
from helpers.numpy_mlp import NumpyMLP, sigmoid

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=np.float64)


def test_parameter_shapes_and_dtype():
    model = NumpyMLP(n_in=3, n_hidden=5, n_out=2, seed=0)
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {"W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    assert all(value.dtype == np.float64 for value in model.params.values())
    assert not model.params["b1"].any() and not model.params["b2"].any()


def test_initialisation_is_standard_normal_from_default_rng():
    model = NumpyMLP(n_in=2, n_hidden=3, n_out=1, seed=7)
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(model.params["W1"], rng.standard_normal((2, 3)))
    np.testing.assert_array_equal(model.params["W2"], rng.standard_normal((3, 1)))
    other = NumpyMLP(n_in=2, n_hidden=3, n_out=1, seed=8)
    assert not np.array_equal(model.params["W1"], other.params["W1"])


def test_forward_shape_range_and_cache():
    model = NumpyMLP(n_in=3, n_hidden=4, n_out=2, seed=1)
    x = np.random.default_rng(0).normal(size=(6, 3))
    yhat = model.forward(x)
    assert yhat.shape == (6, 2)
    assert np.all((yhat > 0) & (yhat < 1))
    assert model.cache["a1"].shape == (6, 4)
    expected = sigmoid(sigmoid(x @ model.params["W1"] + model.params["b1"]) @ model.params["W2"]
                       + model.params["b2"])
    np.testing.assert_allclose(yhat, expected)


def test_loss_is_mean_half_squared_error():
    model = NumpyMLP(n_in=2, n_hidden=2, n_out=2, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2))
    y = np.random.default_rng(2).uniform(size=(5, 2))
    yhat = model.forward(x)
    per_sample = [0.5 * np.sum((a - b) ** 2) for a, b in zip(yhat, y, strict=True)]
    assert model.loss(x, y) == pytest.approx(np.mean(per_sample))


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        values = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("sizes", [(2, 2, 1), (3, 4, 2), (5, 8, 3)])
def test_gradients_match_finite_differences(sizes):
    n_in, n_hidden, n_out = sizes
    model = NumpyMLP(n_in, n_hidden, n_out, seed=3)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(7, n_in)), rng.uniform(size=(7, n_out))
    grads = model.gradients(x, y)
    assert {name: g.shape for name, g in grads.items()} == {n: p.shape for n, p in model.params.items()}
    errors = grad_check(lambda: model.loss(x, y), model.params, grads, verbose=False)
    assert max(errors.values()) < 1e-6, errors


def test_step_moves_against_the_gradient():
    model = NumpyMLP(seed=0)
    before = model.loss(X_XOR, Y_XOR)
    original = {name: value.copy() for name, value in model.params.items()}
    grads = model.gradients(X_XOR, Y_XOR)
    model.step(grads, lr=0.5)
    for name in original:
        np.testing.assert_allclose(model.params[name], original[name] - 0.5 * grads[name])
    assert model.loss(X_XOR, Y_XOR) < before


def test_fit_solves_xor_with_the_article_recipe():
    model = NumpyMLP(n_in=2, n_hidden=2, n_out=1, seed=0)
    losses = model.fit(X_XOR, Y_XOR, epochs=10_000, lr=1.0)
    assert len(losses) == 10_000
    assert losses[-1] < 1e-3 < losses[0]
    assert losses[9000] < 1e-3
    np.testing.assert_array_equal(model.forward(X_XOR) > 0.5, Y_XOR > 0.5)


def test_fit_matches_manual_gradient_descent():
    manual, fitted = NumpyMLP(seed=2), NumpyMLP(seed=2)
    manual_losses = []
    for _ in range(50):
        manual_losses.append(manual.loss(X_XOR, Y_XOR))
        manual.step(manual.gradients(X_XOR, Y_XOR), lr=1.0)
    np.testing.assert_allclose(fitted.fit(X_XOR, Y_XOR, epochs=50, lr=1.0), manual_losses)


def test_fit_logs_every_n_epochs(capsys):
    NumpyMLP(seed=0).fit(X_XOR, Y_XOR, epochs=25, lr=1.0, log_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["0", "10", "20"]


@pytest.mark.parametrize("x", [np.zeros((4, 3)), np.zeros(2), np.zeros((2, 2, 2))])
def test_wrong_input_shape_is_a_clear_error(x):
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        NumpyMLP(n_in=2).forward(x)


def test_wrong_target_shape_is_a_clear_error():
    model = NumpyMLP(n_in=2, n_out=1)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\).*reshape\(-1, 1\)"):
        model.loss(X_XOR, Y_XOR.ravel())
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\)"):
        model.gradients(X_XOR, Y_XOR[:3])


def test_bad_sizes_and_bad_gradients_are_errors():
    with pytest.raises(ValueError, match="n_hidden must be a positive integer"):
        NumpyMLP(n_hidden=0)
    model = NumpyMLP()
    with pytest.raises(KeyError, match="b2"):
        model.step({name: g for name, g in model.gradients(X_XOR, Y_XOR).items() if name != "b2"}, lr=1.0)
    bad = model.gradients(X_XOR, Y_XOR)
    bad["W1"] = bad["W1"].T[:1]
    with pytest.raises(ValueError, match="gradient of 'W1' has shape"):
        model.step(bad, lr=1.0)
