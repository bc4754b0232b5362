import numpy as np
import pytest
import torch

from helpers.checks import compare, grad_check, numerical_gradient, relative_error


def test_compare_exact_close_wrong_and_shape(capsys):
    a = np.arange(6.0).reshape(2, 3)
    assert compare("same", a, a.copy()).exact
    close = compare("close", a, a + 1e-9)
    assert close and not close.exact
    wrong = compare("wrong", a, a + 1e-2)
    assert not wrong and wrong.max_diff == pytest.approx(1e-2)
    shape = compare("shape", a, a.T)
    assert not shape and not shape.shape_ok
    out = capsys.readouterr().out
    assert "exact" in out and "close" in out and "WRONG |" in out and "WRONG shape" in out


def test_compare_accepts_tensors_with_grad():
    t = torch.ones(3, requires_grad=True) * 2
    assert compare("tensor", t, np.full(3, 2.0), verbose=False).exact


def test_relative_error_is_scale_free():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1e-8], [1.1e-8]) == pytest.approx(relative_error([1.0], [1.1]))


def test_numerical_gradient_of_quadratic_restores_param():
    w = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(w**2)), w)
    np.testing.assert_allclose(grad, 2 * w, atol=1e-6)
    np.testing.assert_array_equal(w, [1.0, -2.0, 3.0])


def test_grad_check_passes_right_and_flags_wrong_gradient(capsys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=5)
    w = rng.normal(size=3)

    def loss() -> float:
        return float(np.mean((x @ w - y) ** 2))

    right = 2 * x.T @ (x @ w - y) / len(y)
    assert grad_check(loss, {"w": w}, {"w": right})["w"] < 1e-8
    assert grad_check(loss, {"w": w}, {"w": right * 1.1})["w"] > 1e-3
    out = capsys.readouterr().out
    assert "ok" in out and "FAIL" in out


def test_grad_check_rejects_bad_inputs():
    w = np.zeros(2)
    with pytest.raises(KeyError):
        grad_check(lambda: 0.0, {"w": w}, {})
    with pytest.raises(ValueError, match="shape"):
        grad_check(lambda: 0.0, {"w": w}, {"w": np.zeros(3)})
    with pytest.raises(TypeError, match="float64"):
        grad_check(lambda: 0.0, {"w": np.zeros(2, np.float32)}, {"w": np.zeros(2)})


def test_compare_without_diff_prints_only_the_verdict_unless_wrong(capsys):
    a = np.arange(3.0)
    assert compare("rounding", a, a + 1e-13, atol=1e-12, rtol=0.0, show_diff=False)
    assert not compare("a much longer name than the column", a, a + 1e-3, atol=1e-12, show_diff=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{'rounding':<24} ok    | within atol 1e-12"  # no machine-dependent digits
    assert lines[1] == "a much longer name than the column WRONG | max diff 1.0e-03"


def test_to_numpy_is_shared_by_viz_and_converts_half_precision():
    from helpers import checks, viz

    assert viz.to_numpy is checks.to_numpy
    half = torch.tensor([1.5, 2.0], dtype=torch.bfloat16, requires_grad=True)
    assert checks.to_numpy(half).dtype == np.float32
    assert checks.to_numpy(half, np.float64).dtype == np.float64
    assert checks.to_numpy([1, 2]).dtype.kind == "i"
