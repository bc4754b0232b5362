"""Day 07: the hand-written convolution and pooling equal torch's, and the output-size formula holds."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.conv import conv2d_by_hand, conv_output_size, max_pool2d_by_hand, pad2d


def _random_conv_config(rng: random.Random) -> dict:
    """A random valid configuration; pairs and ints mixed, non-square everything."""
    def pair(low: int, high: int):
        a, b = rng.randint(low, high), rng.randint(low, high)
        return a if rng.random() < 0.5 else (a, b)

    return {"batch": rng.randint(1, 3), "c_in": rng.randint(1, 4), "c_out": rng.randint(1, 5),
            "kernel": (rng.randint(1, 5), rng.randint(1, 5)), "stride": pair(1, 3),
            "padding": pair(0, 3), "dilation": pair(1, 3), "bias": rng.random() < 0.7}


def _as_pair(value):
    return (value, value) if isinstance(value, int) else value


def _input_size(rng: random.Random, cfg: dict) -> tuple[int, int]:
    """Height and width large enough for the (dilated) kernel to fit at least once."""
    sizes = []
    for axis in range(2):
        span = _as_pair(cfg["dilation"])[axis] * (cfg["kernel"][axis] - 1) + 1
        low = max(1, span - 2 * _as_pair(cfg["padding"])[axis])
        sizes.append(rng.randint(low, low + 12))
    return sizes[0], sizes[1]


CONV_SEEDS = range(150)


@pytest.mark.parametrize("seed", CONV_SEEDS)
def test_conv2d_by_hand_equals_torch(seed: int) -> None:
    rng = random.Random(seed)
    cfg = _random_conv_config(rng)
    torch.manual_seed(seed)
    height, width = _input_size(rng, cfg)
    x = torch.randn(cfg["batch"], cfg["c_in"], height, width, dtype=torch.float64)
    weight = torch.randn(cfg["c_out"], cfg["c_in"], *cfg["kernel"], dtype=torch.float64)
    bias = torch.randn(cfg["c_out"], dtype=torch.float64) if cfg["bias"] else None
    args = {"stride": cfg["stride"], "padding": cfg["padding"], "dilation": cfg["dilation"]}
    expected = F.conv2d(x, weight, bias, **args)
    torch.testing.assert_close(conv2d_by_hand(x, weight, bias, **args), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_conv2d_by_hand_equals_nn_conv2d_module_and_its_gradients(seed: int) -> None:
    rng = random.Random(1000 + seed)
    cfg = _random_conv_config(rng)
    torch.manual_seed(seed)
    layer = nn.Conv2d(cfg["c_in"], cfg["c_out"], cfg["kernel"], stride=cfg["stride"],
                      padding=cfg["padding"], dilation=cfg["dilation"], bias=cfg["bias"]).double()
    x = torch.randn(cfg["batch"], cfg["c_in"], *_input_size(rng, cfg), dtype=torch.float64,
                    requires_grad=True)
    mine = conv2d_by_hand(x, layer.weight, layer.bias, stride=cfg["stride"], padding=cfg["padding"],
                          dilation=cfg["dilation"])
    reference = layer(x)
    torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-12)
    upstream = torch.randn_like(reference)
    grads_mine = torch.autograd.grad(mine, [x, layer.weight], upstream)
    grads_ref = torch.autograd.grad(reference, [x, layer.weight], upstream)
    for got, want in zip(grads_mine, grads_ref, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_conv2d_by_hand_float32_photo_sized_input() -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 80)
    weight = torch.randn(8, 3, 5, 5)
    torch.testing.assert_close(conv2d_by_hand(x, weight, padding=2), F.conv2d(x, weight, padding=2),
                               rtol=1e-5, atol=1e-5)


def test_output_size_formula_matches_nn_conv2d_on_a_grid() -> None:
    """Every (n, kernel, stride, padding, dilation) in the grid: the formula gives nn.Conv2d's size,
    and where nn.Conv2d refuses (the kernel does not fit) the formula raises ValueError."""
    checked = refused = 0
    for n, kernel, stride, padding, dilation in itertools.product(
            range(1, 13), range(1, 6), range(1, 4), range(0, 3), range(1, 4)):
        layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
        x = torch.zeros(1, 1, n, n + 3)
        try:
            shape = layer(x).shape
        except RuntimeError:
            with pytest.raises(ValueError, match="no output"):
                conv_output_size(n, kernel, stride, padding, dilation)
            refused += 1
            continue
        assert shape[2] == conv_output_size(n, kernel, stride, padding, dilation), (n, kernel, stride,
                                                                                    padding, dilation)
        assert shape[3] == conv_output_size(n + 3, kernel, stride, padding, dilation)
        checked += 1
    assert checked > 1000 and refused > 50


@pytest.mark.parametrize("n, kernel, stride, padding, dilation, expected", [
    (32, 5, 1, 0, 1, 28), (28, 2, 2, 0, 1, 14), (224, 7, 2, 3, 1, 112), (5, 3, 1, 0, 2, 1),
    (7, 3, 2, 1, 1, 4), (1, 1, 1, 0, 1, 1),
])
def test_output_size_known_values(n, kernel, stride, padding, dilation, expected) -> None:
    assert conv_output_size(n, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize("seed", range(60))
def test_max_pool2d_by_hand_equals_nn_maxpool2d(seed: int) -> None:
    rng = random.Random(seed)
    kernel = (rng.randint(1, 4), rng.randint(1, 4))
    stride = None if rng.random() < 0.3 else (rng.randint(1, 3), rng.randint(1, 3))
    padding = (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))
    height, width = rng.randint(kernel[0], kernel[0] + 10), rng.randint(kernel[1], kernel[1] + 10)
    torch.manual_seed(seed)
    x = torch.randn(rng.randint(1, 3), rng.randint(1, 4), height, width, dtype=torch.float64)
    expected = nn.MaxPool2d(kernel, stride, padding)(x)
    torch.testing.assert_close(max_pool2d_by_hand(x, kernel, stride, padding), expected, rtol=0, atol=0)


def test_max_pool_output_size_matches_nn_maxpool2d_on_a_grid() -> None:
    for n, kernel, stride in itertools.product(range(1, 12), range(1, 5), range(1, 4)):
        for padding in range(0, kernel // 2 + 1):
            if kernel > n + 2 * padding:
                continue
            shape = nn.MaxPool2d(kernel, stride, padding)(torch.zeros(1, 1, n, n)).shape
            assert shape[2] == conv_output_size(n, kernel, stride, padding)


def test_pad2d_places_the_input_in_the_middle() -> None:
    x = torch.arange(6.0).view(1, 1, 2, 3)
    torch.testing.assert_close(pad2d(x, (1, 2), value=-1.0), F.pad(x, (2, 2, 1, 1), value=-1.0))


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d_by_hand(torch.zeros(1, 3, 5, 5), torch.zeros(2, 1, 3, 3)), "C_in=3"),
    (lambda: conv2d_by_hand(torch.zeros(3, 5, 5), torch.zeros(2, 3, 3, 3)), "4-D"),
    (lambda: conv2d_by_hand(torch.zeros(1, 3, 5, 5), torch.zeros(2, 3, 3, 3), torch.zeros(3)), "bias"),
    (lambda: conv2d_by_hand(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3)), "no output"),
    (lambda: conv2d_by_hand(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), stride=0), "stride"),
    (lambda: conv2d_by_hand(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding=(1, 2, 3)), "pair"),
    (lambda: max_pool2d_by_hand(torch.zeros(1, 1, 5, 5), 2, padding=2), "half the kernel"),
    (lambda: conv_output_size(0, 3), "n must be"),
    (lambda: conv_output_size(5, 3, dilation=0), "dilation"),
])
def test_bad_input_gets_a_clear_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
