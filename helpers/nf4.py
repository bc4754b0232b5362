"""4-bit NormalFloat (NF4) block quantisation by hand, as QLoRA and bitsandbytes store weights.

Defined in Day 36 (QLoRA). The functions follow the data layout of
``bitsandbytes.functional.quantize_4bit(W, blocksize=64, quant_type="nf4")`` exactly, so their outputs
can be compared with the library byte for byte:

- the weight is flattened (row-major) and cut into blocks of ``blocksize`` values;
- each block is scaled by the reciprocal of its absolute maximum (``absmax``, kept in float32);
- each scaled value becomes the index (0-15) of the nearest of the 16 NF4 levels, where a value exactly
  half-way between two levels goes to the lower one;
- two indices share a byte, the first in the high nibble.

Double quantisation (``compress_statistics=True`` in bitsandbytes) then stores the float32 ``absmax`` of
each block in 8 bits: minus their mean (the ``offset``), in blocks of 256, with the 8-bit "dynamic" code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

#: The 16 NF4 levels as QLoRA publishes them (and ``bitsandbytes.functional.get_4bit_type("nf4")`` stores
#: them): normal quantiles normalised to [-1, 1], with an exact zero. Defined in Day 36.
NF4_LEVELS: tuple[float, ...] = (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
)

#: QLoRA's outermost quantile: the largest level sits at the normal quantile of this probability.
NF4_OFFSET = 0.9677083


def nf4_levels_from_quantiles(offset: float = NF4_OFFSET) -> torch.Tensor:
    """The NF4 levels rebuilt from quantiles of the standard normal distribution (QLoRA, appendix).

    Defined in Day 36. Eight positive levels at the normal quantiles of ``linspace(offset, 0.5, 9)`` (the
    last, 0.5, dropped), seven negative ones at those of ``linspace(offset, 0.5, 8)``, and an exact 0,
    all divided by the largest. One more positive than negative level gives zero its own code.
    """
    if not 0.5 < offset < 1.0:
        raise ValueError(f"offset is a probability between 0.5 and 1, got {offset}")
    positive = torch.special.ndtri(torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1])
    negative = -torch.special.ndtri(torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1])
    values = torch.cat([positive, torch.zeros(1, dtype=torch.float64), negative]).sort().values
    return (values / values.max()).float()


def _levels(levels: torch.Tensor | None, device: torch.device) -> torch.Tensor:
    table = torch.tensor(NF4_LEVELS) if levels is None else levels.float()
    if table.ndim != 1 or table.numel() < 2 or not bool((table[1:] > table[:-1]).all()):
        raise ValueError("levels must be a 1-D, strictly increasing table of at least two values")
    return table.to(device)


def nearest_level(scaled: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Index of the nearest level for each value of ``scaled`` (ties go to the lower level).

    Defined in Day 36. The decision boundaries are the midpoints between neighbouring levels; a value's
    index is the number of boundaries strictly below it.
    """
    midpoints = (levels[:-1] + levels[1:]) / 2
    return (scaled.unsqueeze(-1) > midpoints).sum(-1)


def _blocks(weight: torch.Tensor, blocksize: int) -> torch.Tensor:
    if not weight.is_floating_point():
        raise TypeError(f"quantise a float tensor, got {weight.dtype}")
    if blocksize < 2 or weight.numel() % blocksize:
        raise ValueError(f"{weight.numel()} values do not split into blocks of {blocksize}: "
                         "choose a blocksize that divides the number of values (64 in QLoRA)")
    return weight.detach().float().reshape(-1, blocksize)


def absmax_quantize(weight: torch.Tensor, levels: torch.Tensor,
                    blocksize: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Blockwise absmax quantisation: (one level index per value, float32 absmax per block).

    Defined in Day 36. Each block is multiplied by ``1 / absmax`` (as bitsandbytes computes it), clamped to
    [-1, 1], and each value is replaced by the index of its nearest level.
    """
    blocks = _blocks(weight, blocksize)
    absmax = blocks.abs().amax(dim=1)
    scaled = torch.clamp(blocks * (1.0 / absmax.clamp(min=1e-38)).unsqueeze(1), -1, 1)
    return nearest_level(scaled, levels).to(torch.uint8).reshape(-1), absmax


def pack_nibbles(codes: torch.Tensor) -> torch.Tensor:
    """Two 4-bit codes per byte, the first in the high nibble; shape ``(n/2, 1)`` like bitsandbytes."""
    if codes.numel() % 2 or int(codes.max()) > 15:
        raise ValueError("need an even number of codes between 0 and 15")
    codes = codes.reshape(-1).to(torch.uint8)
    return ((codes[0::2] << 4) | codes[1::2]).unsqueeze(1)


def unpack_nibbles(packed: torch.Tensor) -> torch.Tensor:
    """The codes that ``pack_nibbles`` packed, in their original order."""
    flat = packed.reshape(-1).to(torch.uint8)
    return torch.stack([flat >> 4, flat & 0xF], dim=1).reshape(-1)


def quantize_nf4(weight: torch.Tensor, blocksize: int = 64,
                 levels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """NF4-quantise ``weight``: (packed uint8 codes of shape ``(n/2, 1)``, float32 absmax per block).

    Defined in Day 36. Equal byte for byte to ``bitsandbytes.functional.quantize_4bit(weight,
    blocksize=blocksize, quant_type="nf4")`` and its ``state.absmax`` on CPU.
    """
    codes, absmax = absmax_quantize(weight, _levels(levels, weight.device), blocksize)
    return pack_nibbles(codes), absmax


def dequantize_nf4(packed: torch.Tensor, absmax: torch.Tensor, shape: tuple[int, ...] | torch.Size,
                   blocksize: int = 64, levels: torch.Tensor | None = None) -> torch.Tensor:
    """The float32 weight that ``quantize_nf4`` stands for: level[code] * absmax of its block.

    Defined in Day 36.
    """
    n = math.prod(shape)
    if packed.numel() * 2 != n or absmax.numel() * blocksize != n:
        raise ValueError(f"{packed.numel()} bytes and {absmax.numel()} blocks of {blocksize} "
                         f"do not hold a tensor of shape {tuple(shape)}")
    table = _levels(levels, packed.device)
    values = table[unpack_nibbles(packed).long()].reshape(-1, blocksize)
    return (values * absmax.float().unsqueeze(1)).reshape(shape)


@dataclass(frozen=True)
class DoubleQuant:
    """The 8-bit absmax of double quantisation: codes, their own absmax per block, and the offset."""

    codes: torch.Tensor      # uint8, one per first-level block
    absmax2: torch.Tensor    # float32, one per block of ``blocksize2`` first-level blocks
    offset: torch.Tensor     # float32 scalar: the mean of the first-level absmax
    blocksize2: int


def double_quantize(absmax: torch.Tensor, code: torch.Tensor, blocksize2: int = 256) -> DoubleQuant:
    """Store the first-level ``absmax`` in 8 bits, as QLoRA's double quantisation does.

    Defined in Day 36. ``absmax - mean(absmax)`` is quantised blockwise (blocks of ``blocksize2``) with the
    256-value ``code`` (bitsandbytes' signed "dynamic" code,
    ``bitsandbytes.functional.create_dynamic_map()``).
    Equal to the ``state.absmax``, ``state.offset`` and ``state.state2.absmax`` of
    ``quantize_4bit(..., compress_statistics=True)``.
    """
    if absmax.numel() % blocksize2:
        raise ValueError(f"{absmax.numel()} block scales do not split into blocks of {blocksize2}")
    offset = absmax.float().mean()
    codes, absmax2 = absmax_quantize(absmax.float() - offset, _levels(code, absmax.device), blocksize2)
    return DoubleQuant(codes, absmax2, offset, blocksize2)


def double_dequantize(state: DoubleQuant, code: torch.Tensor) -> torch.Tensor:
    """The float32 absmax that a ``DoubleQuant`` stands for (code[q] * absmax2 + offset)."""
    values = code.float()[state.codes.long()].reshape(-1, state.blocksize2)
    return (values * state.absmax2.unsqueeze(1)).reshape(-1) + state.offset


def bits_per_weight_storage(blocksize: int = 64, double_quant: bool = False, blocksize2: int = 256) -> float:
    """Average bits per weight of NF4 storage, scales included (4 + 32/64 = 4.5; 4.127 with double quant).

    Defined in Day 36.
    """
    if double_quant:
        return 4 + 8 / blocksize + 32 / (blocksize * blocksize2)
    return 4 + 32 / blocksize


def keep_trainable_layout(model: nn.Module) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference; returns how many layers it touched.

    Defined in Day 36. On CPUs with AVX512-BF16, bitsandbytes 0.50's ``Linear4bit`` converts its weight, the
    first time it runs in eval mode without gradients, to an inference-only layout whose matrix product has
    no backward: gradients then stop at every frozen 4-bit layer, silently, for the rest of the session (an
    evaluation before training is enough). Turning the conversion off keeps the ordinary layout, the same
    code path (dequantise, then ``linear``) on every CPU, and correct QLoRA gradients.
    """
    layers = [module for module in model.modules() if hasattr(module, "support_avx512bf16_for_cpu")]
    for module in layers:
        if getattr(module.weight.quant_state, "packing_format_for_cpu", False):
            raise RuntimeError("A 4-bit layer is already in bitsandbytes' CPU inference layout: call "
                               "keep_trainable_layout right after loading, before any forward pass.")
        module.support_avx512bf16_for_cpu = False
    return len(layers)


def packed_parameter_count(model: nn.Module, skip: tuple[str, ...] = ("lm_head",)) -> tuple[int, int]:
    """(trainable, total) parameters counted as bitsandbytes stores a 4-bit model.

    Defined in Day 36. The weight of every ``nn.Linear`` except those named in ``skip`` (bitsandbytes keeps
    ``lm_head`` in 16 bits) would be a ``Params4bit`` holding two 4-bit values per uint8 element, so it
    counts half its values, as PEFT counted before it corrected for the packing. LoRA layers
    (``lora_A``/``lora_B``) are never quantised. Works on a ``meta``-device model: shapes only.
    """
    trainable = total = 0
    packed = {id(module.weight) for name, module in model.named_modules()
              if isinstance(module, nn.Linear) and "lora_" not in name
              and not any(part in skip for part in name.split("."))}
    for param in model.parameters():
        count = param.numel() // 2 if id(param) in packed else param.numel()
        total += count
        trainable += count if param.requires_grad else 0
    return trainable, total
