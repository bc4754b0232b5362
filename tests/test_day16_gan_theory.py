"""Day 16: transposed-convolution sizes, BatchNorm by hand, D*, generator losses; against PyTorch/SciPy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.spatial.distance import jensenshannon
from torch import nn

from helpers.gan import (
    batch_norm,
    conv_transpose_output_size,
    non_saturating_generator_loss,
    optimal_discriminator,
    saturating_generator_loss,
)


def _torch_size(n, kernel, stride, padding, output_padding, dilation):
    try:
        layer = nn.ConvTranspose2d(1, 1, kernel, stride=stride, padding=padding,
                                   output_padding=output_padding, dilation=dilation, bias=False)
        size = layer(torch.zeros(1, 1, n, n)).shape[-1]
        return size or None                     # an empty output (size 0) counts as refused
    except (RuntimeError, ValueError):
        return None


def _formula_size(*args):
    try:
        return conv_transpose_output_size(*args)
    except ValueError:
        return None


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_conv_transpose_output_size_matches_torch_on_a_sweep(n: int) -> None:
    built = 0
    for kernel, stride, padding, output_padding, dilation in itertools.product(
            range(1, 6), range(1, 4), range(0, 3), range(0, 3), range(1, 3)):
        args = (n, kernel, stride, padding, output_padding, dilation)
        expected, found = _formula_size(*args), _torch_size(*args)
        assert expected == found, f"config {args}: formula {expected}, ConvTranspose2d {found}"
        built += found is not None
    assert built > 50


def test_conv_transpose_output_size_dcgan_chain() -> None:
    sizes = [1]
    for kernel, stride, padding in ((4, 1, 0), (3, 2, 1), (4, 2, 1), (4, 2, 1)):
        sizes.append(conv_transpose_output_size(sizes[-1], kernel, stride, padding))
    assert sizes == [1, 4, 7, 14, 28]


@pytest.mark.parametrize("args, message", [((0, 3), "n must be"), ((4, 3, 2, 1, 2), "output_padding"),
                                           ((1, 1, 1, 1), "crops the whole output"),
                                           ((4, 3, 0), "stride must be")])
def test_conv_transpose_output_size_errors(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        conv_transpose_output_size(*args)


@pytest.mark.parametrize("module, shape, momentum", [
    (nn.BatchNorm1d(5, momentum=0.1), (16, 5), 0.1),
    (nn.BatchNorm1d(3, momentum=0.3), (4, 3, 7), 0.3),        # N×C×L
    (nn.BatchNorm2d(4, momentum=0.1), (3, 4, 5, 6), 0.1),
])
def test_batch_norm_equals_torch_in_train_and_eval(module: nn.Module, shape, momentum: float) -> None:
    module = module.double()
    gen = torch.Generator().manual_seed(0)
    channels = shape[1]
    with torch.no_grad():
        module.weight.copy_(1 + torch.randn(channels, generator=gen, dtype=torch.float64))
        module.bias.copy_(torch.randn(channels, generator=gen, dtype=torch.float64))
    gamma = module.weight.detach().clone().requires_grad_(True)
    beta = module.bias.detach().clone().requires_grad_(True)
    mean, var = torch.zeros(channels, dtype=torch.float64), torch.ones(channels, dtype=torch.float64)
    for training in (True, True, True, False, True, False):
        module.train(training)
        x = (2 * torch.randn(shape, generator=gen, dtype=torch.float64) - 1).requires_grad_(True)
        mine = batch_norm(x, gamma, beta, mean, var, training, momentum=momentum)
        reference = module(x)
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(mean, module.running_mean, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(var, module.running_var, rtol=1e-10, atol=1e-12)
        upstream = torch.randn(shape, generator=gen, dtype=torch.float64)
        for got, want in zip(torch.autograd.grad(mine, [x, gamma, beta], upstream),
                             torch.autograd.grad(reference, [x, module.weight, module.bias], upstream),
                             strict=True):
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_batch_norm_normalises_with_the_biased_variance() -> None:
    x = torch.tensor([[0.0], [2.0]])
    out = batch_norm(x, None, None, None, None, training=True, eps=0.0)
    torch.testing.assert_close(out, torch.tensor([[-1.0], [1.0]]))       # biased std is 1, unbiased √2
    running_mean, running_var = torch.zeros(1), torch.ones(1)
    batch_norm(x, None, None, running_mean, running_var, training=True, momentum=1.0)
    torch.testing.assert_close(running_var, torch.tensor([2.0]))          # unbiased variance kept


def test_batch_norm_errors() -> None:
    with pytest.raises(ValueError, match="more than one value per channel"):
        batch_norm(torch.ones(1, 3), None, None, None, None, training=True)
    with pytest.raises(ValueError, match="running_mean"):
        batch_norm(torch.ones(4, 3), None, None, None, None, training=False)
    with pytest.raises(ValueError, match="N×C"):
        batch_norm(torch.ones(4), None, None, None, None, training=True)


def test_optimal_discriminator_maximises_the_value_pointwise() -> None:
    """SciPy maximises p log y + q log(1 - y) over y at every grid point: the maximiser is D*."""
    grid = np.linspace(-5, 5, 101)
    p_data = 0.5 * np.exp(-0.5 * (grid + 1) ** 2) + 0.5 * np.exp(-0.5 * ((grid - 2) / 0.5) ** 2) / 0.5
    p_g = np.exp(-0.5 * (grid / 2) ** 2) / 2
    p_data, p_g = p_data / p_data.sum(), p_g / p_g.sum()
    best = np.array([minimize_scalar(lambda y, a=a, b=b: -(a * np.log(y) + b * np.log1p(-y)),
                                     bounds=(1e-12, 1 - 1e-12), method="bounded",
                                     options={"xatol": 1e-12}).x for a, b in zip(p_data, p_g, strict=True)])
    d_star = optimal_discriminator(p_data, p_g)
    np.testing.assert_allclose(best, d_star, atol=1e-6, rtol=0)
    # and V(D*, G) = -log 4 + 2 JSD, with SciPy's JSD
    value = (p_data * np.log(d_star) + p_g * np.log1p(-d_star)).sum()
    assert value == pytest.approx(-math.log(4) + 2 * jensenshannon(p_data, p_g) ** 2, abs=1e-10)
    # a torch input gives a torch output with the same values
    torch.testing.assert_close(optimal_discriminator(torch.from_numpy(p_data), torch.from_numpy(p_g)),
                               torch.from_numpy(d_star))


def test_optimal_discriminator_numpy_and_empty_regions() -> None:
    d = optimal_discriminator(np.array([1.0, 0.0, 0.0, 3.0]), np.array([1.0, 2.0, 0.0, 1.0]))
    np.testing.assert_allclose(d, [0.5, 0.0, 0.5, 0.75])


def test_generator_loss_gradients_from_autograd() -> None:
    logits = torch.linspace(-15, 5, 101, dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(logits.detach())
    saturating, = torch.autograd.grad(saturating_generator_loss(logits), logits)
    non_saturating, = torch.autograd.grad(non_saturating_generator_loss(logits), logits)
    torch.testing.assert_close(saturating * len(logits), -d, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(non_saturating * len(logits), d - 1, rtol=1e-10, atol=1e-14)
    # the values are the losses they claim to be
    with torch.no_grad():
        torch.testing.assert_close(saturating_generator_loss(logits), torch.log1p(-d).mean(), rtol=1e-8,
                                   atol=1e-12)
        torch.testing.assert_close(non_saturating_generator_loss(logits), -torch.log(d).mean(), rtol=1e-8,
                                   atol=1e-12)
    # where D(G(z)) -> 0 the saturating gradient vanishes and the other does not
    assert abs(saturating[0].item()) * len(logits) < 1e-6 < abs(non_saturating[0].item())
