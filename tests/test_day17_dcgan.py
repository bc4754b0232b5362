"""Day 17: DCGAN shapes and init, one training step, the Fréchet distance, the shipped checkpoint."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.utils import make_grid

from helpers import gan
from helpers.profile import day_settings
from helpers.trainer import load_weights

ROOT = Path(__file__).resolve().parent.parent
CI = day_settings("day17", "ci")


def _recorded_sizes(net: nn.Module, x: torch.Tensor, kind: type) -> list[int]:
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
             for m in net.modules() if isinstance(m, kind)]
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    return sizes


def test_generator_and_discriminator_shapes() -> None:
    generator, discriminator = gan.Generator(nz=16, ngf=8), gan.Discriminator(ndf=8)
    assert _recorded_sizes(generator, torch.randn(3, 16), nn.ConvTranspose2d) == [4, 7, 14, 28]
    images = generator(torch.randn(3, 16))
    assert images.shape == (3, 1, 28, 28) and images.abs().max() <= 1
    assert _recorded_sizes(discriminator, images, nn.Conv2d) == [14, 7, 4, 1]
    assert discriminator(images).shape == (3,)
    with pytest.raises(ValueError, match=r"noise of shape \(N, 16\)"):
        generator(torch.randn(3, 8))
    with pytest.raises(ValueError, match="28×28"):
        discriminator(torch.randn(3, 1, 32, 32))


def _tutorial_weights_init(m: nn.Module) -> None:
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


@pytest.mark.parametrize("build", [lambda: gan.Generator(32, 16), lambda: gan.Discriminator(16)])
def test_weights_init_equals_the_pytorch_tutorial(build) -> None:
    torch.manual_seed(0)
    mine, reference = build(), None
    reference = copy.deepcopy(mine)
    torch.manual_seed(1)
    mine.apply(gan.weights_init)
    torch.manual_seed(1)
    reference.apply(_tutorial_weights_init)
    for (name, a), b in zip(mine.state_dict().items(), reference.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_weights_init_statistics() -> None:
    torch.manual_seed(0)
    generator = gan.Generator(64, 64).apply(gan.weights_init)
    weights = torch.cat([m.weight.flatten() for m in generator.modules()
                         if isinstance(m, nn.ConvTranspose2d)])
    gammas = torch.cat([m.weight for m in generator.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(weights.mean().item()) < 1e-3 and abs(weights.std().item() - 0.02) < 1e-3
    assert abs(gammas.mean().item() - 1) < 5e-3 and abs(gammas.std().item() - 0.02) < 5e-3


def test_train_step_losses_and_fresh_noise() -> None:
    torch.manual_seed(0)
    generator, discriminator, opt_g, opt_d = gan.make_dcgan(16, 8, 8)
    assert opt_g.defaults["lr"] == 2e-4 and opt_g.defaults["betas"] == (0.5, 0.999)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    noise = torch.Generator().manual_seed(3)
    # the reference: the same z, and the minimax value written with log and sigmoid
    g_copy, d_copy = copy.deepcopy(generator), copy.deepcopy(discriminator)
    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        fake = g_copy(z)
        expected_d = -(torch.log(torch.sigmoid(d_copy(real))).mean()
                       + torch.log(1 - torch.sigmoid(d_copy(fake))).mean())
    before_g = [p.detach().clone() for p in generator.parameters()]
    result = gan.train_step(generator, discriminator, opt_g, opt_d, real, noise)
    assert result["loss_d"] == pytest.approx(expected_d.item(), rel=1e-5)
    assert all(not torch.equal(a, b) for a, b in zip(before_g, generator.parameters(), strict=True))
    # G's loss is the non-saturating -log D(G(z)) with D after its update (same z, G before its update)
    with torch.no_grad():
        fake_before = g_copy.train()(z)
    d_after = copy.deepcopy(discriminator)
    with torch.no_grad():
        expected_g = F.softplus(-d_after(fake_before)).mean()
    assert result["loss_g"] == pytest.approx(expected_g.item(), rel=1e-4)
    # the next step draws new noise
    assert not torch.equal(torch.randn(8, 16, generator=noise), z)


def test_train_epoch_stops_and_rejects_empty() -> None:
    torch.manual_seed(0)
    nets = gan.make_dcgan(8, 4, 4)
    batches = [torch.rand(4, 1, 28, 28) * 2 - 1 for _ in range(5)]
    means = gan.train_epoch(*nets, batches, max_steps=2)
    assert set(means) == {"loss_d", "loss_g", "d_real", "d_fake"}
    with pytest.raises(ValueError, match="no batches"):
        gan.train_epoch(*nets, [])


def test_denormalize_matches_make_grid_normalisation() -> None:
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(make_grid(gan.denormalize(x)),
                               make_grid(x, normalize=True, value_range=(-1, 1)))
    assert gan.to_uint8(torch.tensor([-1.0, 0.0, 1.0])).tolist() == [0, 128, 255]


def _random_covariance(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.normal(size=(d, rank or d + 3))
    return a @ a.T / a.shape[1]


@pytest.mark.parametrize("d", [1, 2, 8, 64])
def test_sqrtm_and_trace_against_scipy(d: int) -> None:
    rng = np.random.default_rng(d)
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    np.testing.assert_allclose(gan.sqrtm_psd(s1), scipy.linalg.sqrtm(s1).real, atol=1e-9)
    np.testing.assert_allclose(gan.sqrtm_psd(s1) @ gan.sqrtm_psd(s1), s1, atol=1e-9)
    expected = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert gan.trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-8, abs=1e-9)


def test_frechet_distance_against_the_pytorch_fid_formula() -> None:
    rng = np.random.default_rng(0)
    f1, f2 = rng.normal(size=(500, 16)), rng.normal(loc=0.3, scale=1.5, size=(400, 16))
    (m1, s1), (m2, s2) = gan.gaussian_statistics(f1), gan.gaussian_statistics(torch.from_numpy(f2))
    np.testing.assert_allclose(s1, np.cov(f1, rowvar=False))
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    assert gan.frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-8)
    assert gan.frechet_distance(m1, s1, m1, s1) == pytest.approx(0, abs=1e-8)
    assert gan.frechet_distance(m2, s2, m1, s1) == pytest.approx(expected, rel=1e-8)
    # rank-deficient covariances (fewer samples than features) still work
    low = _random_covariance(rng, 16, rank=4)
    assert np.isfinite(gan.frechet_distance(m1, low, m2, s2))
    # one dimension: (m1 - m2)² + (σ1 - σ2)²
    assert gan.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-1.0]),
                                np.array([[9.0]])) == pytest.approx(4 + 1)


def test_frechet_distance_errors() -> None:
    with pytest.raises(ValueError, match="shapes do not match"):
        gan.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        gan.sqrtm_psd(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="N >= 2"):
        gan.gaussian_statistics(np.zeros((1, 4)))


def test_judge_report_histogram_and_coverage() -> None:
    torch.manual_seed(0)
    judge = gan.DigitJudge()
    with torch.no_grad():
        judge.head.bias.copy_(torch.tensor([0.0] * 9 + [100.0]))          # always says 9
    images = torch.rand(20, 1, 28, 28) * 2 - 1
    reference = gan.gaussian_statistics(gan.judge_features(judge, torch.rand(30, 1, 28, 28))[0])
    report = gan.judge_report(judge, images, reference)
    assert report.histogram.tolist() == [0.0] * 9 + [1.0]
    assert report.coverage == pytest.approx(0.1) and report.confidence == pytest.approx(1.0)
    assert report.fd > 0


def test_training_script_runs_a_few_steps(tmp_path: Path) -> None:
    """The command that made the shipped checkpoint, for one epoch of two steps."""
    out = tmp_path / "generator"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COURSE_PROFILE": "ci"}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_day17_generator.py"), "--epochs", "1",
                    "--max-steps", "2", "--out", str(out)], check=True, cwd=ROOT, env=env,
                   capture_output=True, text=True)
    generator = gan.Generator(CI["nz"], CI["ngf"])
    generator.load_state_dict(load_weights(tmp_path / "generator.safetensors"))    # strict: every key
    log = json.loads((tmp_path / "generator_log.json").read_text())
    assert log["epochs"] == 1 and len(log["history"]) == 1 and log["max_steps"] == 2
    assert load_weights(tmp_path / "generator_grids.safetensors")["grids"].shape == (1, 16, 1, 28, 28)


def test_shipped_checkpoint_is_small_complete_and_trained() -> None:
    path = ROOT / "data" / "day17_generator.safetensors"
    assert path.stat().st_size < 3_000_000
    generator = gan.Generator(CI["nz"], CI["ngf"])
    generator.load_state_dict(load_weights(path))
    log = json.loads((ROOT / "data" / "day17_generator_log.json").read_text())
    assert log["command"] == "OMP_NUM_THREADS=1 python scripts/train_day17_generator.py"
    assert log["epochs"] == CI["checkpoint_epochs"] and log["max_steps"] is None
    assert log["settings"]["lr"] == CI["lr"] and tuple(log["settings"]["betas"]) == tuple(CI["betas"])
    history = log["history"]
    assert [r["epoch"] for r in history] == list(range(1, CI["checkpoint_epochs"] + 1))
    assert history[-1]["fd"] < history[0]["fd"] / 5 and history[-1]["confidence"] > 0.7
    grids = load_weights(ROOT / "data" / "day17_generator_grids.safetensors")["grids"]
    assert grids.dtype == torch.uint8 and grids.shape == (CI["checkpoint_epochs"], 16, 1, 28, 28)
