"""Convolution and pooling written by hand (defined in day 07).

The functions follow the conventions of ``torch.nn.functional``: tensors are N×C×H×W, a convolution
weight is C_out×C_in×kH×kW, and "convolution" means cross-correlation (the kernel is not flipped).
They loop over the kH×kW kernel offsets and, for each offset, multiply a strided view of the padded
input by one column of the weight; every output pixel is the sum of those kH·kW products:

    out[n, o, r, c] = bias[o] + Σ_{i, j, ch} x_pad[n, ch, r·s_h + i·d_h, c·s_w + j·d_w] · w[o, ch, i, j]

They are checked against ``F.conv2d`` / ``nn.MaxPool2d`` in ``tests/test_day07_convolution.py``.
"""

from __future__ import annotations

import torch

IntPair = int | tuple[int, int]


def _pair(value: IntPair, name: str, minimum: int) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 2)`` stays; anything below ``minimum`` is an error."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Length of a convolution's (or pooling's) output along one axis.

    $$ n_{out} = \\left\\lfloor \\frac{n + 2p - d(k - 1) - 1}{s} \\right\\rfloor + 1 $$

    A dilated kernel spans ``d(k-1)+1`` input pixels; the padded input has ``n+2p``; the kernel fits
    at ``n + 2p - d(k-1) - 1`` positions after the first one, and ``stride`` keeps one in ``s``.

    Raises:
        ValueError: a non-positive size, kernel, stride or dilation, negative padding, or a kernel
            that does not fit in the padded input (no output at all).
    """
    for name, value, minimum in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1),
                                 ("padding", padding, 0), ("dilation", dilation, 1)):
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    span = dilation * (kernel - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(f"the kernel spans {span} pixels (kernel {kernel}, dilation {dilation}) but the "
                         f"padded input has only {n + 2 * padding} (n {n}, padding {padding}): no output")
    return (n + 2 * padding - span) // stride + 1


def pad2d(x: torch.Tensor, padding: IntPair, value: float = 0.0) -> torch.Tensor:
    """Surround the last two axes of ``x`` with ``padding`` rows/columns of ``value``."""
    ph, pw = _pair(padding, "padding", 0)
    *lead, height, width = x.shape
    out = x.new_full((*lead, height + 2 * ph, width + 2 * pw), value)
    out[..., ph:ph + height, pw:pw + width] = x
    return out


def _window(x: torch.Tensor, top: int, left: int, size: tuple[int, int],
            stride: tuple[int, int]) -> torch.Tensor:
    """The pixels that kernel offset (top, left) sees for every output position: N×C×H_out×W_out."""
    rows = slice(top, top + stride[0] * (size[0] - 1) + 1, stride[0])
    cols = slice(left, left + stride[1] * (size[1] - 1) + 1, stride[1])
    return x[..., rows, cols]


def _check_4d(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a 4-D tensor (N×C×H×W), got {shape}")


def conv2d_by_hand(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                   stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1) -> torch.Tensor:
    """2-D convolution (cross-correlation, groups=1), equal to ``F.conv2d`` with the same arguments.

    Args:
        x: input, N×C_in×H×W.
        weight: kernels, C_out×C_in×kH×kW.
        bias: C_out values, or None.
        stride, padding, dilation: an int or an (height, width) pair.
    Returns:
        N×C_out×H_out×W_out, the sizes given by ``conv_output_size``.
    """
    _check_4d(x, "x")
    _check_4d(weight, "weight")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"channel mismatch: x has C_in={x.shape[1]} but weight {tuple(weight.shape)} "
                         f"expects C_in={weight.shape[1]} (weight is C_out×C_in×kH×kW)")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    stride, padding, dilation = (_pair(stride, "stride", 1), _pair(padding, "padding", 0),
                                 _pair(dilation, "dilation", 1))
    kernel = (weight.shape[2], weight.shape[3])
    size = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d
                 in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True))
    padded = pad2d(x, padding)
    out = x.new_zeros((x.shape[0], weight.shape[0], *size))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            window = _window(padded, i * dilation[0], j * dilation[1], size, stride)  # N×C_in×H'×W'
            out += torch.einsum("nchw,oc->nohw", window, weight[:, :, i, j])
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


def max_pool2d_by_hand(x: torch.Tensor, kernel: IntPair, stride: IntPair | None = None,
                       padding: IntPair = 0) -> torch.Tensor:
    """Max pooling, equal to ``nn.MaxPool2d(kernel, stride, padding)``; stride defaults to ``kernel``.

    Padding adds ``-inf`` (it never wins a max). Like torch, padding may be at most half the kernel.
    """
    _check_4d(x, "x")
    kernel = _pair(kernel, "kernel", 1)
    stride = kernel if stride is None else _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    if any(p > k // 2 for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"padding {padding} must be at most half the kernel {kernel}")
    size = tuple(conv_output_size(n, k, s, p) for n, k, s, p
                 in zip(x.shape[2:], kernel, stride, padding, strict=True))
    padded = pad2d(x, padding, value=float("-inf"))
    out = x.new_full((*x.shape[:2], *size), float("-inf"))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out = torch.maximum(out, _window(padded, i, j, size, stride))
    return out
