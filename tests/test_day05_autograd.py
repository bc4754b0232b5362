"""Day 05's acceptance check: PyTorch autograd reproduces day 04's NumPy backpropagation.

The PyTorch twin of ``helpers.numpy_mlp.NumpyMLP`` (two ``nn.Linear`` layers with sigmoids, float64, the
same weights) must give the same loss and the same gradients, for several seeds and layer sizes, and
``torch.optim.SGD`` must follow the same path as ``NumpyMLP.fit``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import compare
from helpers.numpy_mlp import NumpyMLP

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=np.float64)
ATOL, RTOL = 1e-12, 1e-10  # float64 on both sides: only the order of the roundings differs


class TwoLayerNet(nn.Module):
    """sigmoid(sigmoid(x W1 + b1) W2 + b2), as written in notebooks/day05_pytorch_basics.py."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.output = nn.Linear(n_hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.output(torch.sigmoid(self.hidden(x))))


def half_squared_error(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((y_hat - y) ** 2).sum(dim=1).mean()


def twin_of(numpy_net: NumpyMLP) -> TwoLayerNet:
    net = TwoLayerNet(numpy_net.n_in, numpy_net.n_hidden, numpy_net.n_out).double()
    p = numpy_net.params
    with torch.no_grad():
        net.hidden.weight.copy_(torch.from_numpy(p["W1"].T))
        net.hidden.bias.copy_(torch.from_numpy(p["b1"]))
        net.output.weight.copy_(torch.from_numpy(p["W2"].T))
        net.output.bias.copy_(torch.from_numpy(p["b2"]))
    return net


def as_numpy_layout(net: TwoLayerNet, values: str) -> dict[str, torch.Tensor]:
    """The parameters (``values="data"``) or their gradients (``"grad"``) under NumpyMLP's names."""
    return {"W1": getattr(net.hidden.weight, values).T, "b1": getattr(net.hidden.bias, values),
            "W2": getattr(net.output.weight, values).T, "b2": getattr(net.output.bias, values)}


def assert_same(name: str, mine, reference, atol: float = ATOL) -> None:
    result = compare(name, mine, reference, atol=atol, rtol=RTOL, verbose=False)
    assert result, str(result)


def random_problem(n_in: int, n_out: int, n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 + seed)
    return rng.normal(size=(n_samples, n_in)), rng.uniform(size=(n_samples, n_out))


def check_loss_and_gradients(numpy_net: NumpyMLP, x: np.ndarray, y: np.ndarray) -> None:
    net = twin_of(numpy_net)
    loss = half_squared_error(net(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    assert loss.dtype == torch.float64
    assert_same("loss", loss, numpy_net.loss(x, y))
    assert_same("output", net(torch.from_numpy(x)), numpy_net.forward(x))
    numpy_grads = numpy_net.gradients(x, y)
    torch_grads = as_numpy_layout(net, "grad")
    assert set(torch_grads) == set(numpy_grads)
    for name, grad in torch_grads.items():
        assert_same(f"d loss / d {name}", grad, numpy_grads[name])


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 7])
def test_xor_loss_and_gradients_equal_numpy(seed: int) -> None:
    check_loss_and_gradients(NumpyMLP(n_in=2, n_hidden=2, n_out=1, seed=seed), X_XOR, Y_XOR)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize(("n_in", "n_hidden", "n_out", "n_samples"),
                         [(2, 4, 1, 4), (3, 5, 2, 10), (4, 8, 3, 1), (1, 1, 1, 6), (5, 16, 4, 32)])
def test_other_shapes_equal_numpy(seed: int, n_in: int, n_hidden: int, n_out: int, n_samples: int) -> None:
    x, y = random_problem(n_in, n_out, n_samples, seed)
    check_loss_and_gradients(NumpyMLP(n_in=n_in, n_hidden=n_hidden, n_out=n_out, seed=seed), x, y)


def test_gradients_after_a_few_updates_still_equal_numpy() -> None:
    """Away from the initial weights (non-zero biases) the equality still holds."""
    numpy_net = NumpyMLP(n_in=2, n_hidden=3, n_out=1, seed=4)
    numpy_net.fit(X_XOR, Y_XOR, epochs=50, lr=1.0)
    assert not np.all(numpy_net.params["b1"] == 0)
    check_loss_and_gradients(numpy_net, X_XOR, Y_XOR)


def test_torch_sgd_follows_numpy_fit() -> None:
    numpy_net = NumpyMLP(n_in=2, n_hidden=2, n_out=1, seed=0)
    net = twin_of(numpy_net)
    x, y = torch.from_numpy(X_XOR), torch.from_numpy(Y_XOR)
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    torch_losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = half_squared_error(net(x), y)
        loss.backward()
        optimizer.step()
        torch_losses.append(loss.item())
    numpy_losses = numpy_net.fit(X_XOR, Y_XOR, epochs=300, lr=1.0)
    assert_same("loss curve", torch_losses, numpy_losses, atol=1e-10)
    for name, value in as_numpy_layout(net, "data").items():
        assert_same(f"trained {name}", value, numpy_net.params[name], atol=1e-10)


def test_the_check_detects_a_wrong_gradient() -> None:
    """The comparison is not vacuous: a gradient off by a tiny amount is caught."""
    numpy_net = NumpyMLP(seed=0)
    net = twin_of(numpy_net)
    half_squared_error(net(torch.from_numpy(X_XOR)), torch.from_numpy(Y_XOR)).backward()
    wrong = as_numpy_layout(net, "grad")["W1"] + 1e-9
    assert not compare("W1", wrong, numpy_net.gradients(X_XOR, Y_XOR)["W1"], atol=ATOL, rtol=RTOL,
                       verbose=False)
