"""The Trainer as real processes: SIGKILL mid-epoch then resume; DDP with two CPU processes (gloo)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

from helpers.trainer import load_weights

SCRIPT = Path(__file__).parent / "scripts" / "train_tiny.py"
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def run(*args: str, launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    command = (launcher or [sys.executable]) + [str(SCRIPT), *args]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    full = run("--out", str(tmp_path / "full.safetensors"))
    assert full.returncode == 0, full.stderr

    # Epoch 1 makes 8 training + 2 validation forwards: forward 13 is the 3rd batch of epoch 2, so the
    # last checkpoint is the one written after step 10.
    killed = run("--out", str(tmp_path / "resumed.safetensors"), "--checkpoint-dir", str(tmp_path / "ckpt"),
                 "--kill-at-forward", "13")
    assert killed.returncode == -signal.SIGKILL
    assert "epoch 1/3" in killed.stdout and "epoch 2/3" not in killed.stdout

    resumed = run("--out", str(tmp_path / "resumed.safetensors"), "--checkpoint-dir", str(tmp_path / "ckpt"),
                  "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "at epoch 2 (step 10)" in resumed.stdout

    expected = load_weights(tmp_path / "full.safetensors")
    actual = load_weights(tmp_path / "resumed.safetensors")
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.equal(expected[name], actual[name]), f"{name} differs after resume"
    full_losses = json.loads((tmp_path / "full.json").read_text())
    resumed_losses = json.loads((tmp_path / "resumed.json").read_text())
    assert full_losses == resumed_losses


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    single = run("--out", str(tmp_path / "one.safetensors"), "--batch-size", "32", "--shuffle", "0",
                 "--dropout", "0", "--noise", "0")
    assert single.returncode == 0, single.stderr
    # On CPU, `accelerate launch --multi_gpu` starts the processes through torchrun; the Trainer then runs DDP
    # over gloo. (`accelerate launch --cpu` starts a single process: it is meant for MPI.)
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", "29517"]
    double = run("--out", str(tmp_path / "two.safetensors"), "--batch-size", "16", "--shuffle", "0",
                 "--dropout", "0", "--noise", "0", launcher=launcher)
    assert double.returncode == 0, double.stderr[-3000:]
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    assert len(one["steps"]) == len(two["steps"]) == 12
    torch.testing.assert_close(torch.tensor(two["steps"]), torch.tensor(one["steps"]), rtol=0, atol=1e-5)
    torch.testing.assert_close(torch.tensor(two["valid"]), torch.tensor(one["valid"]), rtol=0, atol=1e-5)
    weights_one = load_weights(tmp_path / "one.safetensors")
    weights_two = load_weights(tmp_path / "two.safetensors")
    for name in weights_one:
        torch.testing.assert_close(weights_two[name], weights_one[name], rtol=0, atol=1e-5)
