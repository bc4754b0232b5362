"""A tiny, fully seeded training run for the Trainer's process-level tests.

It is started as a real process so that the tests can kill it (SIGKILL mid-epoch) and resume it, and so that
`accelerate launch --cpu --num_processes 2` can run it with DDP. It writes the final weights (safetensors) and
the per-step losses (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from helpers.profile import seed_everything
from helpers.trainer import Trainer, WithLoss, save_weights


class NoisyBlobs(Dataset):
    """Two Gaussian blobs; each read adds fresh noise from torch's global RNG (like augmentation)."""

    def __init__(self, n: int, noise: float) -> None:
        generator = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, 8, generator=generator)
        self.labels = (self.x[:, :2].sum(1) > 0).long()
        self.noise = noise

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[index] + self.noise * torch.randn(8), "labels": self.labels[index]}


class KillAtForward(nn.Module):
    """Sends SIGKILL to its own process at the N-th forward pass (mid-epoch, mid-step)."""

    def __init__(self, net: nn.Module, kill_at: int) -> None:
        super().__init__()
        self.net = net
        self.kill_at = kill_at
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.net(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--checkpoint-dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at-forward", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--shuffle", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--noise", type=float, default=0.1)
    args = parser.parse_args()

    seed_everything(0)
    torch.set_num_threads(1)
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(args.dropout), nn.Linear(32, 2))
    model = WithLoss(KillAtForward(net, args.kill_at_forward))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
    train = DataLoader(NoisyBlobs(128, args.noise), batch_size=args.batch_size, shuffle=bool(args.shuffle))
    valid = DataLoader(NoisyBlobs(64, 0.0), batch_size=32)
    trainer = Trainer(model, optimizer, train, valid, epochs=args.epochs, scheduler=scheduler, device="cpu",
                      checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                      save_every_steps=1 if args.checkpoint_dir else None, restore_best=False)
    history = trainer.fit()
    if trainer.accelerator.is_main_process:
        save_weights(trainer._weights(), args.out)
        losses = {"steps": [s["loss"] for s in history.steps],
                  "valid": history.column("valid_loss"), "train": history.column("train_loss")}
        args.out.with_suffix(".json").write_text(json.dumps(losses))


if __name__ == "__main__":
    main()
