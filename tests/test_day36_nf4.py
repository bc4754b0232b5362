"""Day 36: the hand-written NF4 quantiser equals bitsandbytes byte for byte; double quantisation; counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers import nf4  # silences bitsandbytes' import-time warning before it is imported

bnb = pytest.importorskip("bitsandbytes")
bnbF = pytest.importorskip("bitsandbytes.functional")


def test_levels_from_normal_quantiles_are_bitsandbytes_table() -> None:
    table = bnbF.get_4bit_type("nf4", device="cpu")
    assert torch.equal(torch.tensor(nf4.NF4_LEVELS), table)
    assert torch.allclose(nf4.nf4_levels_from_quantiles(), table, atol=1e-6, rtol=0)
    assert (nf4.nf4_levels_from_quantiles(0.99) - table).abs().max() > 1e-3  # the offset matters


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("blocksize", [64, 128])
def test_quantize_nf4_equals_bitsandbytes_byte_for_byte(dtype: torch.dtype, blocksize: int) -> None:
    generator = torch.Generator().manual_seed(blocksize)
    samples = [torch.randn(96, 128, generator=generator),                      # normal weights
               torch.rand(64, 256, generator=generator) - 0.5,                 # uniform
               torch.randn(32, 128, generator=generator) ** 3]                 # heavy tails
    for weight in samples:
        weight = weight.to(dtype)
        packed, absmax = nf4.quantize_nf4(weight, blocksize)
        ref_packed, state = bnbF.quantize_4bit(weight, blocksize=blocksize, quant_type="nf4")
        assert packed.shape == ref_packed.shape and packed.dtype == torch.uint8
        assert torch.equal(packed, ref_packed)
        assert torch.equal(absmax, state.absmax)
        assert torch.equal(nf4.dequantize_nf4(packed, absmax, weight.shape, blocksize).to(dtype),
                           bnbF.dequantize_4bit(ref_packed, state))


def test_a_value_on_a_midpoint_goes_to_the_lower_level_as_in_bitsandbytes() -> None:
    levels = torch.tensor(nf4.NF4_LEVELS)
    midpoints = (levels[:-1] + levels[1:]) / 2
    block = torch.cat([midpoints, torch.tensor([1.0]), torch.zeros(64 - 16)])  # absmax 1: scaled = itself
    packed, _ = nf4.quantize_nf4(block)
    ref_packed, _ = bnbF.quantize_4bit(block, blocksize=64, quant_type="nf4")
    assert torch.equal(packed, ref_packed)
    assert nf4.unpack_nibbles(packed)[:15].tolist() == list(range(15))
    ties_up = (block.unsqueeze(-1) >= midpoints).sum(-1).to(torch.uint8)  # the test can fail: ties up differ
    assert not torch.equal(nf4.pack_nibbles(ties_up), ref_packed)


def test_packing_round_trip_and_high_nibble_first() -> None:
    codes = torch.tensor([1, 2, 15, 0], dtype=torch.uint8)
    packed = nf4.pack_nibbles(codes)
    assert packed.reshape(-1).tolist() == [0x12, 0xF0]
    assert torch.equal(nf4.unpack_nibbles(packed), codes)


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="blocks of 64"):
        nf4.quantize_nf4(torch.randn(10, 10))
    with pytest.raises(TypeError, match="float"):
        nf4.quantize_nf4(torch.ones(64, dtype=torch.int64))
    with pytest.raises(ValueError, match="shape"):
        nf4.dequantize_nf4(torch.zeros(32, 1, dtype=torch.uint8), torch.ones(1), (8, 9))
    with pytest.raises(ValueError, match="offset"):
        nf4.nf4_levels_from_quantiles(0.3)


def test_double_quantisation_matches_bitsandbytes_layout() -> None:
    weight = torch.randn(1024, 256, generator=torch.Generator().manual_seed(2))
    code = bnbF.create_dynamic_map()
    packed, absmax = nf4.quantize_nf4(weight)
    ours = nf4.double_quantize(absmax, code, 256)
    ref_packed, state = bnbF.quantize_4bit(weight, blocksize=64, quant_type="nf4", compress_statistics=True)
    assert torch.equal(packed, ref_packed)
    assert torch.equal(ours.offset, state.offset)
    assert torch.equal(ours.absmax2, state.state2.absmax)
    # bitsandbytes' C kernel searches the 8-bit code approximately: a few codes are its nearest's neighbour
    differ = ours.codes != state.absmax
    assert differ.float().mean() < 0.01
    assert (ours.codes.int() - state.absmax.int()).abs().max() <= 1
    # ours is the nearest: never further from the true scale than bitsandbytes' choice
    theirs = nf4.DoubleQuant(state.absmax, state.state2.absmax, state.offset, 256)
    ours_err = (nf4.double_dequantize(ours, code) - absmax).abs()
    theirs_err = (nf4.double_dequantize(theirs, code) - absmax).abs()
    assert bool((ours_err <= theirs_err + 1e-12).all())
    # our dequantisation of bitsandbytes' state is bitsandbytes' own, to the bit
    assert torch.equal(nf4.dequantize_nf4(packed, nf4.double_dequantize(theirs, code), weight.shape),
                       bnbF.dequantize_4bit(ref_packed, state))


def test_bits_per_weight() -> None:
    assert nf4.bits_per_weight_storage(64) == 4.5
    assert nf4.bits_per_weight_storage(64, True, 256) == pytest.approx(4.127, abs=1e-3)


def test_packed_count_reproduces_the_2023_articles_llama2_share() -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    with torch.device("meta"):
        llama = AutoModelForCausalLM.from_config(LlamaConfig())
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"]
    llama = get_peft_model(llama, LoraConfig(r=32, lora_alpha=64, target_modules=targets))
    assert nf4.packed_parameter_count(llama) == (81_108_992, 3_581_521_920)  # 2.2647 %
    trainable, total = llama.get_nb_trainable_parameters()  # today's PEFT: 4-bit counted whole
    assert (trainable, total) == (81_108_992, 6_819_524_608)


def _linear4bit(generator: torch.Generator) -> tuple[nn.Module, torch.Tensor]:
    dense = nn.Linear(64, 32, bias=False)
    with torch.no_grad():
        dense.weight.copy_(torch.randn(32, 64, generator=generator))
    layer = bnb.nn.Linear4bit(64, 32, bias=False, compute_dtype=torch.float32, quant_type="nf4")
    layer.weight = bnb.nn.Params4bit(dense.weight.data.clone(), requires_grad=False, quant_type="nf4",
                                    compress_statistics=False)
    layer = layer.to("cpu")  # quantises on the move
    layer.weight.requires_grad_(False)
    return layer, dense.weight.detach()


def test_linear4bit_is_the_hand_quantiser_and_keeps_its_gradient_after_eval() -> None:
    layer, weight = _linear4bit(torch.Generator().manual_seed(3))
    assert torch.equal(layer.weight.data.reshape(-1, 1), nf4.quantize_nf4(weight)[0])
    assert nf4.keep_trainable_layout(nn.Sequential(layer)) == 1
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(4))
    layer.eval()
    with torch.no_grad():
        layer(x)  # an evaluation pass: without the fix, AVX512-BF16 CPUs repack the weight here
    layer.train()
    x.requires_grad_(True)
    layer(x).sum().backward()
    dequantised = nf4.dequantize_nf4(*nf4.quantize_nf4(weight), weight.shape)
    assert x.grad is not None
    assert torch.allclose(x.grad, dequantised.sum(0).expand(5, -1), atol=1e-5)
