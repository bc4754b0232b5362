import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers.data import tensor_dataset
from helpers.trainer import (
    History,
    Trainer,
    TrainerError,
    WithLoss,
    accuracy,
    load_weights,
    logits_from_outputs,
    loss_from_outputs,
    save_weights,
)


def make_data(n: int = 64, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    labels = (x[:, 0] + x[:, 1] > 0).long()
    return tensor_dataset(x=x, labels=labels)


def make_model(seed: int = 0) -> WithLoss:
    torch.manual_seed(seed)
    return WithLoss(nn.Linear(4, 2))


def loaders(batch_size: int = 16):
    return DataLoader(make_data(), batch_size=batch_size), DataLoader(make_data(32, seed=1), batch_size=32)


def fit(model=None, optimizer=None, **kwargs):
    model = model or make_model()
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=0.5)
    train, valid = loaders(kwargs.pop("batch_size", 16))
    trainer = Trainer(model, optimizer, train, kwargs.pop("valid", valid), device="cpu", **kwargs)
    return trainer, trainer.fit()


class Scripted:
    """A metric whose values are given in advance, to drive best-epoch and early-stopping logic."""

    def __init__(self, values):
        self.values = list(values)

    def __call__(self, logits, labels):
        return self.values.pop(0)


def test_fit_learns_and_returns_history(capsys):
    trainer, history = fit(epochs=5, metrics={"accuracy": accuracy})
    assert isinstance(history, History) and len(history.epochs) == 5
    losses = history.column("train_loss")
    assert losses[-1] < losses[0]
    assert history.column("accuracy")[-1] > 0.8
    assert len(history.steps) == 5 * 4 and history.steps[-1]["step"] == 20
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/5 | train_loss ") and "valid_loss" in lines[0]
    assert lines[-1].startswith("restored best weights: epoch")


def test_best_weights_are_restored():
    snapshots = {}

    def remember(trainer, record):
        snapshots[record["epoch"]] = trainer.unwrapped_model.net.weight.detach().clone()

    trainer, history = fit(epochs=3, metrics={"score": Scripted([0.5, 0.9, 0.7])}, monitor="score",
                           callbacks=[remember])
    assert history.best_epoch == 2 and history.best_score == 0.9 and history.best["score"] == 0.9
    assert torch.equal(trainer.unwrapped_model.net.weight, snapshots[2])


def test_best_weights_restored_from_disk(tmp_path):
    snapshots = {}

    def remember(trainer, record):
        snapshots[record["epoch"]] = trainer.unwrapped_model.net.weight.detach().clone()

    trainer, history = fit(epochs=3, metrics={"score": Scripted([0.3, 0.2, 0.1])}, monitor="score",
                           mode="min", checkpoint_dir=tmp_path, callbacks=[remember])
    assert history.best_epoch == 3
    assert (tmp_path / "best" / "model.safetensors").exists()
    assert torch.equal(trainer.unwrapped_model.net.weight, snapshots[3])


def test_early_stopping_stops_after_patience(capsys):
    _, history = fit(epochs=10, metrics={"score": Scripted([0.9, 0.8, 0.8, 0.7, 0.95])}, monitor="score",
                     early_stopping=2)
    assert len(history.epochs) == 3 and history.stopped_early and history.best_epoch == 1
    assert "early stopping: no improvement in score for 2 epochs" in capsys.readouterr().out


def test_callback_can_stop_training():
    def stop(trainer, record):
        trainer.should_stop = True

    _, history = fit(epochs=5, callbacks=[stop])
    assert len(history.epochs) == 1


def test_max_steps_stops_mid_epoch():
    trainer, history = fit(epochs=10, max_steps=6)
    assert trainer.global_step == 6 and len(history.epochs) == 2


def test_monitor_defaults_to_train_loss_without_validation():
    _, history = fit(epochs=2, valid=None)
    assert history.monitor == "train_loss" and "valid_loss" not in history.epochs[0]


def test_gradient_accumulation_equals_larger_batch():
    big, _ = fit(epochs=2, batch_size=16)
    small, _ = fit(epochs=2, batch_size=8, grad_accum_steps=2)
    assert small.global_step == big.global_step == 8
    torch.testing.assert_close(small.unwrapped_model.net.weight, big.unwrapped_model.net.weight)


def test_grad_clip_bounds_the_update():
    model = make_model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    fit(model, optimizer, epochs=1, max_steps=1, grad_clip=0.01, restore_best=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm() <= 0.01 + 1e-6


def test_schedulers_step_per_step_per_epoch_and_on_plateau():
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, optimizer, epochs=1, scheduler=scheduler)  # 4 optimizer steps
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5**4)

    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, optimizer, epochs=2, scheduler=scheduler, scheduler_interval="epoch")
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.25)

    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.1)
    fit(model, optimizer, epochs=3, scheduler=plateau, monitor="score",
        metrics={"score": Scripted([0.5, 0.5, 0.5])}, mode="min")
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_resume_continues_and_matches_uninterrupted_run(tmp_path, capsys):
    full, full_history = fit(epochs=4, restore_best=False)

    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    train, valid = loaders()
    Trainer(model, optimizer, train, valid, epochs=2, checkpoint_dir=tmp_path, device="cpu",
            restore_best=False).fit()
    model = make_model(seed=123)  # fresh weights: everything must come from the checkpoint
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    resumed = Trainer(model, optimizer, train, valid, epochs=4, checkpoint_dir=tmp_path, resume=True,
                      device="cpu", restore_best=False)
    history = resumed.fit()
    assert "resumed from" in capsys.readouterr().out
    assert [r["epoch"] for r in history.epochs] == [1, 2, 3, 4]
    assert resumed.global_step == full.global_step
    assert torch.equal(resumed.unwrapped_model.net.weight, full.unwrapped_model.net.weight)
    assert history.column("train_loss") == full_history.column("train_loss")


def test_resume_without_checkpoint_starts_fresh_and_needs_a_dir(tmp_path):
    trainer, history = fit(epochs=1, checkpoint_dir=tmp_path / "empty", resume=True)
    assert len(history.epochs) == 1
    with pytest.raises(TrainerError, match="checkpoint_dir"):
        fit(epochs=1, resume=True)


def test_corrupt_and_missing_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(TrainerError, match="No checkpoint"):
        load_weights(tmp_path / "nothing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainerError, match="corrupt"):
        load_weights(bad)
    save_weights({"w": torch.ones(2)}, tmp_path / "ok" / "w.safetensors")
    assert torch.equal(load_weights(tmp_path / "ok" / "w.safetensors")["w"], torch.ones(2))


def test_corrupt_trainer_state_is_a_clear_error(tmp_path):
    fit(epochs=1, checkpoint_dir=tmp_path)
    (tmp_path / "last" / "trainer_state.pt").write_bytes(b"garbage")
    with pytest.raises(TrainerError, match="unreadable"):
        fit(epochs=2, checkpoint_dir=tmp_path, resume=True)


def test_checkpoint_from_another_model_is_rejected(tmp_path):
    save_weights({"other.weight": torch.ones(1)}, tmp_path / "last" / "model.safetensors")
    torch.save({}, tmp_path / "last" / "trainer_state.pt")
    with pytest.raises(TrainerError, match="unexpected keys"):
        fit(epochs=1, checkpoint_dir=tmp_path, resume=True)


def test_nan_loss_names_the_step():
    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(1))

        def forward(self, x, labels):
            return (self.w * float("nan")).sum()

    with pytest.raises(TrainerError, match=r"Loss is nan at step 1 \(epoch 1\)"):
        fit(Exploding(), epochs=1)


def test_batch_contract_errors():
    with pytest.raises(TrainerError, match="Batches must be dicts"):
        model = make_model()
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), [(torch.ones(2, 4), torch.zeros(2))],
                device="cpu").fit()

    class NeedsMask(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 1)

        def forward(self, x, mask):
            return self.lin(x * mask).mean()

    with pytest.raises(TrainerError, match="Batch keys: \\['labels', 'x'\\].*takes: x, mask"):
        fit(NeedsMask(), epochs=1)

    class NoLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x, labels):
            return self.lin(x)

    with pytest.raises(TrainerError, match="without a loss.*WithLoss"):
        fit(NoLoss(), epochs=1)


def test_gpu_only_options_on_cpu_and_bad_arguments():
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train, _ = loaders()
    with pytest.raises(TrainerError, match="fp16.*needs a CUDA GPU"):
        Trainer(model, optimizer, train, device="cpu", mixed_precision="fp16")
    for bad in ({"epochs": 0}, {"grad_accum_steps": 0}, {"scheduler_interval": "batch"}, {"mode": "up"},
                {"progress": "fancy"}, {"mixed_precision": "fp8"}):
        with pytest.raises(TrainerError):
            Trainer(model, optimizer, train, device="cpu", **bad)
    with pytest.raises(TrainerError, match="monitor='nope'"):
        fit(epochs=1, monitor="nope")


def test_outputs_helpers_and_predict():
    loss = torch.tensor(1.5)
    logits = torch.randn(2, 3)
    assert loss_from_outputs(loss) is loss
    assert loss_from_outputs((loss, logits)) is loss
    assert loss_from_outputs({"loss": loss}) is loss
    assert logits_from_outputs({"logits": logits}) is logits
    assert logits_from_outputs((loss, logits)) is logits
    with pytest.raises(TrainerError):
        logits_from_outputs({"loss": loss})
    assert accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0])) == 0.5

    trainer, _ = fit(epochs=1)
    predictions, labels = trainer.predict(DataLoader(make_data(10), batch_size=4))
    assert predictions.shape == (10, 2) and labels.shape == (10,)
    with pytest.raises(TrainerError, match="reads 'x'"):
        WithLoss(nn.Linear(4, 2))(inputs=torch.ones(1, 4))


def test_frozen_parameters_are_not_checkpointed(tmp_path):
    model = make_model()
    model.net.bias.requires_grad_(False)
    trainer, _ = fit(model, torch.optim.SGD([model.net.weight], lr=0.5), epochs=1, checkpoint_dir=tmp_path)
    saved = load_weights(tmp_path / "best" / "model.safetensors")
    assert set(saved) == {"net.weight"}


def test_progress_bar_mode_runs(capsys):
    _, history = fit(epochs=1, progress="bar")
    assert len(history.epochs) == 1
    assert math.isfinite(history.epochs[0]["train_loss"])


def test_ctrl_c_saves_a_checkpoint_and_resume_continues(tmp_path, capsys):
    class InterruptAt(WithLoss):
        def __init__(self, at: int):
            torch.manual_seed(0)
            super().__init__(nn.Linear(4, 2))
            self.at, self.calls = at, 0

        def forward(self, **batch):
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
            return super().forward(**batch)

    full, _ = fit(InterruptAt(at=0), epochs=3, restore_best=False)
    model = InterruptAt(at=7)  # epoch 1 = 4 training + 1 validation forwards: call 7 is batch 2 of epoch 2
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    train, valid = loaders()
    with pytest.raises(KeyboardInterrupt):
        Trainer(model, optimizer, train, valid, epochs=3, checkpoint_dir=tmp_path, device="cpu").fit()
    assert "interrupted at step 5: checkpoint saved" in capsys.readouterr().out
    model = InterruptAt(at=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    resumed = Trainer(model, optimizer, train, valid, epochs=3, checkpoint_dir=tmp_path, resume=True,
                      device="cpu", restore_best=False)
    resumed.fit()
    assert "at epoch 2 (step 5)" in capsys.readouterr().out
    assert torch.equal(resumed.unwrapped_model.net.weight, full.unwrapped_model.net.weight)


def test_non_persistent_buffers_are_not_checkpointed(tmp_path):
    class WithTable(WithLoss):
        def __init__(self):
            torch.manual_seed(0)
            super().__init__(nn.Linear(4, 2))
            self.register_buffer("table", torch.ones(3), persistent=False)
            self.register_buffer("count", torch.zeros(1))

    trainer, history = fit(WithTable(), epochs=2, checkpoint_dir=tmp_path)
    assert history.best_epoch is not None
    assert set(load_weights(tmp_path / "best" / "model.safetensors")) == {"net.weight", "net.bias", "count"}


def test_plateau_scheduler_must_follow_the_monitor_direction():
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min")
    train, valid = loaders()
    with pytest.raises(TrainerError, match="mode='max'"):
        Trainer(model, optimizer, train, valid, scheduler=plateau, metrics={"accuracy": accuracy},
                monitor="accuracy", device="cpu")


def test_step_loss_is_the_mean_over_accumulated_batches():
    trainer, history = fit(epochs=1, batch_size=8, grad_accum_steps=2)
    assert len(history.steps) == 4
    mean_of_steps = sum(s["loss"] for s in history.steps) / 4
    assert mean_of_steps == pytest.approx(history.epochs[0]["train_loss"])


def test_validation_without_labels_reports_no_loss_instead_of_zero():
    trainer, _ = fit(epochs=1)
    unlabeled = DataLoader(tensor_dataset(x=torch.randn(8, 4)), batch_size=4)
    assert trainer.evaluate(unlabeled, prefix="valid_") == {}
    with pytest.raises(TrainerError, match="monitor='valid_loss' is not among"):
        fit(epochs=1, valid=unlabeled)


class DeviceRecorder(nn.Module):
    """Records the device of every tensor it receives (nested ones too); its outputs stay on the CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.seen: list[torch.device] = []

    def _record(self, value) -> None:
        if isinstance(value, torch.Tensor):
            self.seen.append(value.device)
        elif isinstance(value, dict):
            for item in value.values():
                self._record(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._record(item)

    def forward(self, **batch):
        self._record(batch)
        rows = batch["x"].shape[0]
        return {"loss": self.weight.sum() + 1.0, "logits": torch.zeros(rows, 2)}


def nested_batches(count: int = 2):
    return [{"x": torch.randn(3, 4), "extra": {"mask": torch.ones(3, dtype=torch.bool)},
             "pieces": [torch.zeros(3), (torch.ones(3), "a string stays a string")],
             "labels": torch.tensor([0, 1, 0])} for _ in range(count)]


def test_evaluate_and_predict_move_every_tensor_to_the_trainer_device(monkeypatch):
    # The old code called model(**batch) with the loader's CPU tensors, which crashes on a GPU (days 08,
    # 09 and 21 under `gpu`). CI has no GPU: pretend the Trainer runs on the "meta" device (shapes, no
    # data) and check where every tensor of each batch, nested ones included, arrives.
    model = DeviceRecorder()
    train = DataLoader(tensor_dataset(x=torch.randn(4, 4), labels=torch.zeros(4, dtype=torch.long)),
                       batch_size=2)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), train, device="cpu")
    target = torch.device("meta")
    monkeypatch.setattr(Trainer, "device", property(lambda self: target))
    result = trainer.evaluate(nested_batches(), prefix="test_")
    assert result == {"test_loss": pytest.approx(1.0)}
    assert len(model.seen) == 2 * 5 and set(model.seen) == {target}
    model.seen.clear()
    logits, labels = trainer.predict(nested_batches(3))
    assert len(model.seen) == 3 * 5 and set(model.seen) == {target}
    assert logits.shape == (9, 2) and labels.device.type == "cpu" and labels.tolist() == [0, 1, 0] * 3


def test_to_device_walks_nested_batches_and_keeps_other_values():
    from helpers.trainer import to_device

    batch = nested_batches(1)[0]
    moved = to_device(batch, "meta")
    assert moved["x"].is_meta and moved["extra"]["mask"].is_meta and moved["pieces"][1][0].is_meta
    assert moved["pieces"][1][1] == "a string stays a string" and isinstance(moved["pieces"][1], tuple)
    assert to_device(batch["x"], "cpu") is batch["x"]  # already there: no copy


def test_progress_mode_follows_the_profile_resolved_by_setup(monkeypatch):
    # A notebook run with PROFILE = "ci" in its parameters cell (no $COURSE_PROFILE) must print plain
    # lines, as a run with COURSE_PROFILE=ci does; the old code read only the environment variable.
    import sys
    import types

    from helpers import profile
    from helpers.trainer import _progress_mode

    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # as in a notebook
    monkeypatch.setattr(profile, "seed_everything", lambda *args, **kwargs: None)  # no global side effects
    monkeypatch.setattr(torch, "set_num_threads", lambda threads: None)
    monkeypatch.setattr(profile, "_ACTIVE_PROFILE", None, raising=False)
    profile.setup("day01", "ci")
    assert _progress_mode("auto") == "lines"
    assert profile.current_profile() == "ci"
    profile.setup("day01", "laptop")
    assert _progress_mode("auto") == "bar"
    monkeypatch.setenv("COURSE_PROFILE", "ci")  # setup's choice wins over the environment
    assert _progress_mode("auto") == "bar"
