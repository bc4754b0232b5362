"""Train the DCGAN generator that day 17 ships for its ``ci`` profile, with the course's own code.

The command that made ``data/day17_generator.safetensors`` (and its log and sample grids) is::

    OMP_NUM_THREADS=1 python scripts/train_day17_generator.py

It runs the ``ci`` settings of ``helpers/days/day17.py`` (the 8,500 offline digits, ngf = ndf = 32, Adam 2e-4
with betas (0.5, 0.999), batch 128, a fresh z at every step) for ``checkpoint_epochs`` epochs, and at the end
of every epoch judges 1,000 digits generated from a fixed noise with the same digit judge as the notebook
(``helpers.gan.fit_judge`` with the same seed). It writes:

- ``<out>.safetensors``: the generator's state dict (weights and BatchNorm running statistics);
- ``<out>_log.json``: the settings, this command, and per epoch the mean losses, D's outputs and the
  judge's scores (class histogram, confidence, coverage, Fréchet distance);
- ``<out>_grids.safetensors``: 16 de-normalised fixed-noise samples (uint8) per epoch.

About 3 minutes of CPU on one thread. ``--epochs`` and ``--max-steps`` shorten it (the test runs a few steps).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from helpers import gan, repro
from helpers.profile import day_settings, seed_everything
from helpers.trainer import save_weights

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "OMP_NUM_THREADS=1 python scripts/train_day17_generator.py"


def main(argv: list[str] | None = None) -> dict:
    settings = day_settings("day17", "ci")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=settings["checkpoint_epochs"])
    parser.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "day17_generator",
                        help="output prefix (without .safetensors)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")

    repro.apply_env()  # the ci profile's pinned numerics (helpers/repro.py), as the notebook runs them
    repro.pin_runtime()
    seed_everything(args.seed, deterministic=True)
    s = settings
    images, labels = gan.load_digits(train=True, profile="ci")
    test_images, test_labels = gan.load_digits(train=False, profile="ci")
    judge = gan.fit_judge(images, labels, s["judge_epochs"], s["judge_batch_size"], s["judge_lr"], args.seed)
    test_features, test_probabilities = gan.judge_features(judge, test_images)
    reference = gan.gaussian_statistics(test_features)
    judge_accuracy = (test_probabilities.argmax(dim=1) == test_labels).float().mean().item()
    print(f"judge: {judge_accuracy:.2%} of the test digits right", flush=True)

    torch.manual_seed(args.seed)
    generator, discriminator, opt_g, opt_d = gan.make_dcgan(s["nz"], s["ngf"], s["ndf"], s["lr"],
                                                            tuple(s["betas"]))
    loader = DataLoader(TensorDataset(images), batch_size=s["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    noise = torch.Generator().manual_seed(args.seed + 1)
    eval_z = torch.randn(s["n_eval"], s["nz"], generator=torch.Generator().manual_seed(s["eval_seed"]))

    history, grids = [], []
    for epoch in range(1, args.epochs + 1):
        start = time.process_time()
        losses = gan.train_epoch(generator, discriminator, opt_g, opt_d, loader, noise, args.max_steps)
        samples = gan.sample(generator, eval_z)
        report = gan.judge_report(judge, samples, reference)
        grids.append(gan.to_uint8(samples[:16]))
        history.append({"epoch": epoch, **losses, "fd": report.fd, "confidence": report.confidence,
                        "coverage": report.coverage, "histogram": report.histogram.tolist()})
        print(f"epoch {epoch}: D {losses['loss_d']:.4f} G {losses['loss_g']:.4f} | FD {report.fd:.2f} "
              f"confidence {report.confidence:.3f} coverage {report.coverage:.3f} "
              f"[{time.process_time() - start:.1f}s CPU]", flush=True)

    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    save_weights({k: v.contiguous() for k, v in generator.state_dict().items()},
                 out.with_name(out.name + ".safetensors"))
    save_weights({"grids": torch.stack(grids)}, out.with_name(out.name + "_grids.safetensors"))
    log = {"command": COMMAND, "seed": args.seed, "epochs": args.epochs, "max_steps": args.max_steps,
           "settings": {k: s[k] for k in ("nz", "ngf", "ndf", "batch_size", "lr", "betas", "judge_epochs",
                                          "judge_batch_size", "judge_lr", "n_eval", "eval_seed")},
           "judge_test_accuracy": judge_accuracy, "torch": torch.__version__, "history": history}
    out.with_name(out.name + "_log.json").write_text(json.dumps(log, indent=1) + "\n")
    return log


if __name__ == "__main__":
    main()
