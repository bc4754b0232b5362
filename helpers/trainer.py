"""The course's Trainer: a small training loop on top of Hugging Face ``accelerate``.

Contract (the same as the day-08 notebook builds by hand):

- every batch is a ``dict``; the model is called as ``model(**batch)``;
- the model computes its own loss and returns it: a scalar tensor, a tuple whose first element is
  the loss, or a dict / ``ModelOutput`` with ``"loss"`` (wrap a plain network in ``WithLoss``);
- ``fit()`` returns a ``History`` and leaves the best weights (by ``monitor``) in the model.

``accelerate`` does the device placement, mixed precision (AMP on GPU), gradient accumulation and
multi-GPU / multi-process data parallelism (``accelerate launch``); the loop itself stays readable.
"""

from __future__ import annotations

import inspect
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

Metric = Callable[[torch.Tensor, torch.Tensor], float]
Callback = Callable[["Trainer", dict[str, float]], None]

MODEL_FILE = "model.safetensors"
STATE_FILE = "trainer_state.pt"


class TrainerError(RuntimeError):
    """A training problem with a message that says what to do about it."""


# ---------------------------------------------------------------- small public helpers
class WithLoss(nn.Module):
    """Give a plain network the Trainer's contract: ``forward(**batch) -> {"loss", "logits"}``.

    >>> model = WithLoss(nn.Linear(4, 3), nn.CrossEntropyLoss())      # doctest: +SKIP
    >>> model(x=torch.randn(2, 4), labels=torch.tensor([0, 2]))["loss"]  # doctest: +SKIP
    """

    def __init__(self, net: nn.Module, loss_fn: nn.Module | None = None,
                 input_key: str = "x", target_key: str = "labels") -> None:
        super().__init__()
        self.net = net
        self.loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
        self.input_key = input_key
        self.target_key = target_key

    def forward(self, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.input_key not in batch:
            raise TrainerError(f"batch has keys {sorted(batch)} but WithLoss reads {self.input_key!r}")
        logits = self.net(batch[self.input_key])
        out = {"logits": logits}
        if self.target_key in batch:
            out["loss"] = self.loss_fn(logits, batch[self.target_key])
        return out


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose arg-max matches the label."""
    return (logits.argmax(dim=-1) == labels).float().mean().item()


@dataclass
class History:
    """What ``Trainer.fit`` measured: one record per epoch and one loss per optimizer step."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    steps: list[dict[str, float]] = field(default_factory=list)
    monitor: str = "valid_loss"
    best_epoch: int | None = None
    best_score: float | None = None
    stopped_early: bool = False

    def column(self, key: str) -> list[float]:
        """Values of ``key`` across epochs (``history.column("valid_loss")``)."""
        return [record[key] for record in self.epochs if key in record]

    @property
    def best(self) -> dict[str, float]:
        """The epoch record whose weights the model holds after ``fit``."""
        for record in self.epochs:
            if record["epoch"] == self.best_epoch:
                return record
        return self.epochs[-1] if self.epochs else {}

    def state(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "steps": self.steps, "monitor": self.monitor,
                "best_epoch": self.best_epoch, "best_score": self.best_score,
                "stopped_early": self.stopped_early}


# ---------------------------------------------------------------- the Trainer
class Trainer:
    """Train ``model`` on dict batches; see the module docstring for the contract.

    Args:
        model: returns its loss (see module docstring).
        optimizer: built by the caller on ``model.parameters()``.
        train_loader / valid_loader: iterables of dict batches (``valid_loader`` optional).
        epochs: passes over ``train_loader``; ``max_steps`` stops earlier (optimizer steps).
        scheduler: a torch LR scheduler; ``scheduler_interval`` is ``"step"`` (after each optimizer
            step), ``"epoch"``, or ``"plateau"`` (``ReduceLROnPlateau``, fed the monitored value).
        metrics: ``{"name": fn(logits, labels) -> float}`` computed on the validation set.
        monitor / mode: the value that picks the best epoch (default ``valid_loss``, min).
        early_stopping: stop after this many epochs without improvement (None: never).
        grad_clip: max global gradient norm. grad_accum_steps: batches per optimizer step.
        mixed_precision: ``"auto"`` (bf16/fp16 on CUDA, none on CPU), ``"no"``, ``"fp16"``, ``"bf16"``.
        checkpoint_dir: where ``best/`` and ``last/`` checkpoints go (safetensors); None keeps the best
            weights in memory only. resume: continue from ``checkpoint_dir/last`` if it exists.
        save_every_steps: also write ``last`` every N optimizer steps (mid-epoch); a resumed run then
            ends with the same weights as an uninterrupted one (CPU, same seed).
        restore_best: load the best weights into the model at the end of ``fit``.
        device: ``"cpu"`` forces CPU; default lets accelerate pick (CUDA when available).
        progress: ``"bar"`` (tqdm), ``"lines"`` (one plain line per epoch) or ``"auto"``.
        callbacks: ``fn(trainer, record)`` after each epoch; set ``trainer.should_stop = True`` to stop.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        train_loader: Iterable[Mapping[str, Any]],
        valid_loader: Iterable[Mapping[str, Any]] | None = None,
        *,
        epochs: int = 1,
        max_steps: int | None = None,
        scheduler: Any = None,
        scheduler_interval: str = "step",
        metrics: Mapping[str, Metric] | None = None,
        label_key: str = "labels",
        monitor: str | None = None,
        mode: str | None = None,
        early_stopping: int | None = None,
        grad_clip: float | None = None,
        grad_accum_steps: int = 1,
        mixed_precision: str = "auto",
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        save_every_steps: int | None = None,
        restore_best: bool = True,
        device: str | torch.device | None = None,
        progress: str = "auto",
        callbacks: Iterable[Callback] = (),
    ) -> None:
        if epochs < 1 and max_steps is None:
            raise TrainerError("epochs must be >= 1 (or give max_steps).")
        if grad_accum_steps < 1:
            raise TrainerError("grad_accum_steps must be >= 1.")
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler_interval = "plateau"
        if scheduler_interval not in ("step", "epoch", "plateau"):
            raise TrainerError("scheduler_interval must be 'step', 'epoch' or 'plateau'.")
        self.epochs = epochs
        self.max_steps = max_steps
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.metrics = dict(metrics or {})
        self.label_key = label_key
        self.monitor = monitor or ("valid_loss" if valid_loader is not None else "train_loss")
        self.mode = mode or ("min" if "loss" in self.monitor else "max")
        if self.mode not in ("min", "max"):
            raise TrainerError("mode must be 'min' or 'max'.")
        if scheduler_interval == "plateau" and getattr(scheduler, "mode", self.mode) != self.mode:
            raise TrainerError(
                f"ReduceLROnPlateau(mode={scheduler.mode!r}) but {self.monitor!r} is {self.mode}imised: "
                f"create the scheduler with mode={self.mode!r}."
            )
        self.early_stopping = early_stopping
        self.grad_clip = grad_clip
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.restore_best = restore_best
        self.progress = _progress_mode(progress)
        self.callbacks = list(callbacks)
        self.history = History(monitor=self.monitor)
        self.global_step = 0
        self.start_epoch = 0
        self.should_stop = False
        self.save_every_steps = save_every_steps
        self._best_in_memory: dict[str, torch.Tensor] | None = None
        self._bad_epochs = 0
        self._epoch_state: _EpochState | None = None
        self._resumed_epoch_state: _EpochState | None = None

        self.accelerator = _make_accelerator(device, mixed_precision, grad_accum_steps)
        prepared = self.accelerator.prepare(model, optimizer, train_loader,
                                            *([valid_loader] if valid_loader is not None else []))
        self.model, self.optimizer, self.train_loader = prepared[:3]
        self._direct_optimizer = _direct_optimizer(self.optimizer, self.accelerator)
        self.valid_loader = prepared[3] if valid_loader is not None else None
        self._forward_params = _forward_parameters(self.accelerator.unwrap_model(self.model))
        self._rng_tap = _RngTap.install(self.train_loader) if (save_every_steps or resume) else None
        if resume:
            self.load_checkpoint()

    # ------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def unwrapped_model(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.model)

    # ------------------------------------------------------------ the loop
    def fit(self) -> History:
        """Train, validate each epoch, keep the best weights; return the ``History``.

        Ctrl-C (KeyboardInterrupt) saves a checkpoint in ``checkpoint_dir/last`` before re-raising, so that
        ``resume=True`` continues from the interrupted step.
        """
        try:
            for epoch in range(self.start_epoch, self.epochs):
                started = time.perf_counter()
                record: dict[str, float] = {"epoch": epoch + 1}
                record["train_loss"] = self._train_epoch(epoch)
                if self.valid_loader is not None:
                    record.update(self.evaluate(self.valid_loader, prefix="valid_"))
                record["lr"] = self.optimizer.param_groups[0]["lr"]
                record["step"] = self.global_step
                record["seconds"] = time.perf_counter() - started
                self._end_epoch(record)
                if self.should_stop or self._reached_max_steps():
                    break
        except KeyboardInterrupt:
            if self.checkpoint_dir is not None and self._epoch_state is not None:
                path = self.save_checkpoint(self.checkpoint_dir / "last")
                self._print(f"interrupted at step {self.global_step}: checkpoint saved to {path}; "
                            "create the Trainer again with resume=True to continue")
            raise
        if self.restore_best and self.history.best_epoch is not None:
            self._restore_best()
        return self.history

    def _train_epoch(self, epoch: int) -> float:
        self.model.train()
        state = self._begin_epoch(epoch)
        batches = _progress(self._batches(state), self.progress, f"epoch {epoch + 1}/{self.epochs}")
        micro_losses: list[float] = []
        for batch in batches:
            with self.accelerator.accumulate(self.model):
                loss, value = self._loss(self._forward(batch), epoch)
                self.accelerator.backward(loss)
                if self.grad_clip is not None and self.accelerator.sync_gradients:
                    self.accelerator.clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self._optimizer_step()
            if self.accelerator.num_processes > 1:
                value = self.accelerator.reduce(loss.detach(), reduction="mean").item()
            state.loss_total += value
            state.batches_done += 1
            micro_losses.append(value)
            if self.accelerator.sync_gradients:
                self._after_optimizer_step(sum(micro_losses) / len(micro_losses))  # mean over accumulation
                micro_losses.clear()
                if hasattr(batches, "set_postfix"):
                    batches.set_postfix(loss=f"{value:.4f}")
                if self._reached_max_steps():
                    break
                if self.save_every_steps and self.global_step % self.save_every_steps == 0 \
                        and self.checkpoint_dir is not None:
                    self.save_checkpoint(self.checkpoint_dir / "last")
        self._epoch_state = None
        if state.batches_done == 0:
            raise TrainerError("train_loader produced no batches: is the dataset empty?")
        return state.loss_total / state.batches_done

    def _begin_epoch(self, epoch: int) -> _EpochState:
        """The state of the epoch about to run: fresh, or the one restored from a mid-epoch checkpoint."""
        resumed = self._resumed_epoch_state
        self._resumed_epoch_state = None
        if resumed is not None and resumed.epoch == epoch:
            self._epoch_state = resumed
        else:
            self._epoch_state = _EpochState(epoch=epoch, rng_at_start=_rng_state(self._loader_generators()))
        return self._epoch_state

    def _batches(self, state: _EpochState) -> Iterator[Any]:
        """Iterate the train loader; after a mid-epoch resume, replay the epoch's shuffle and skip ahead.

        Skipped batches are loaded again (and dropped) so that every random draw of the data pipeline
        happens as in the interrupted run; the RNG tap restores the state the next batch was loaded with.
        """
        if hasattr(self.train_loader, "iteration"):
            self.train_loader.iteration = state.epoch  # accelerate's epoch counter (set_epoch)
        if state.batches_done == 0:
            yield from self.train_loader
            return
        generators = self._loader_generators()
        resume_rng = _rng_state(generators)
        _set_rng_state(state.rng_at_start, generators)  # same shuffle order as the interrupted epoch
        if self._rng_tap is not None and state.next_batch_rng is not None:
            self._rng_tap.replay = (state.batches_done, state.next_batch_rng)
        iterator = iter(self.train_loader)
        for _ in range(state.batches_done):
            next(iterator)
        _set_rng_state(resume_rng, generators)  # dropout, augmentation... continue where they stopped
        yield from iterator

    def _loader_generators(self) -> list[torch.Generator]:
        """The random generators that decide the train loader's shuffle (accelerate seeds its own)."""
        loader = self.train_loader
        candidates = [getattr(loader, "synchronized_generator", None), getattr(loader, "generator", None),
                      getattr(getattr(loader, "sampler", None), "generator", None)]
        found: list[torch.Generator] = []
        for candidate in candidates:
            if isinstance(candidate, torch.Generator) and not any(candidate is g for g in found):
                found.append(candidate)
        return found

    def _optimizer_step(self) -> None:
        """``step()`` then ``zero_grad()``, only at the end of an accumulation window (as accelerate does).

        Where accelerate's optimizer wrapper would only forward the calls (no loss scaler, no XLA or
        DeepSpeed), call the wrapped optimizer directly: the wrapper's per-call checks cost ~0.1 ms a step,
        which is most of the Trainer's overhead on small CPU models (benchmarks/README.md).
        """
        direct = self._direct_optimizer
        if direct is None:
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        elif self.accelerator.sync_gradients:
            direct.step()
            direct.zero_grad(set_to_none=True)

    def _after_optimizer_step(self, loss: float) -> None:
        self.global_step += 1
        lr = self.optimizer.param_groups[0]["lr"]
        self.history.steps.append({"step": self.global_step, "loss": loss, "lr": lr})
        stepped = not getattr(self.optimizer, "step_was_skipped", False)
        if self.scheduler is not None and self.scheduler_interval == "step" and stepped:
            self.scheduler.step()

    def _reached_max_steps(self) -> bool:
        return self.max_steps is not None and self.global_step >= self.max_steps

    def _forward(self, batch: Any) -> Any:
        if not isinstance(batch, Mapping):
            raise TrainerError(
                f"Batches must be dicts (got {type(batch).__name__}); wrap the dataset with "
                "helpers.data.DictDataset(dataset, keys=('x', 'labels'))."
            )
        try:
            return self.model(**batch)
        except TypeError as err:
            if "argument" not in str(err):
                raise
            raise TrainerError(
                f"model(**batch) failed: {err}. Batch keys: {sorted(batch)}; the model's forward "
                f"takes: {', '.join(self._forward_params)}. Rename the batch keys to match."
            ) from err

    def _loss(self, outputs: Any, epoch: int) -> tuple[torch.Tensor, float]:
        """The loss tensor and its value; a NaN/inf loss stops training before it reaches the weights."""
        loss = loss_from_outputs(outputs)
        value = loss.item()  # the one host sync per step, also used for logging
        if not math.isfinite(value):
            last = self.checkpoint_dir / "last" if self.checkpoint_dir else None
            where = f"last good checkpoint: {last}" if last and last.exists() else "no checkpoint"
            raise TrainerError(
                f"Loss is {value} at step {self.global_step + 1} (epoch {epoch + 1}); {where}. "
                "Lower the learning rate, set grad_clip, or check the inputs for NaN/inf."
            )
        return loss, value

    def _to_device(self, batch: Any) -> Any:
        """``batch`` with every tensor on the Trainer's device (see ``to_device``)."""
        return to_device(batch, self.device)

    # ------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, loader: Iterable[Mapping[str, Any]], prefix: str = "") -> dict[str, float]:
        """Mean loss (weighted by batch size) and the metrics over ``loader``."""
        self.model.eval()
        loss_sum, seen = 0.0, 0  # over the batches that carry a loss (labels present)
        logits_all, labels_all = [], []
        for batch in loader:
            batch = self._to_device(batch)  # a loader not given to the Trainer still yields CPU tensors
            outputs = self._forward(batch)
            try:
                loss = loss_from_outputs(outputs)
            except TrainerError:
                loss = None
            if loss is not None:
                size = _batch_size(batch)
                loss_sum, seen = loss_sum + loss.item() * size, seen + size
            if self.metrics:
                logits, labels = self.accelerator.gather_for_metrics(
                    (logits_from_outputs(outputs), batch[self.label_key]))
                logits_all.append(logits.float().cpu())
                labels_all.append(labels.cpu())
        if self.accelerator.num_processes > 1:
            totals = torch.tensor([loss_sum, float(seen)], device=self.device)
            loss_sum, seen = self.accelerator.reduce(totals, reduction="sum").tolist()
        # No batch with a loss: report none rather than a 0.0 that would look like the best epoch.
        result = {f"{prefix}loss": loss_sum / seen} if seen else {}
        if self.metrics:
            logits, labels = torch.cat(logits_all), torch.cat(labels_all)
            result.update({name: float(fn(logits, labels)) for name, fn in self.metrics.items()})
        return result

    @torch.no_grad()
    def predict(self, loader: Iterable[Mapping[str, Any]]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits, labels) over ``loader`` on the CPU; labels is None when batches have none."""
        self.model.eval()
        logits_all, labels_all = [], []
        for batch in loader:
            if isinstance(batch, Mapping) and isinstance(batch.get(self.label_key), torch.Tensor):
                labels_all.append(batch[self.label_key].cpu())  # read before the move: no copy back
            logits_all.append(logits_from_outputs(self._forward(self._to_device(batch))).float().cpu())
        return torch.cat(logits_all), (torch.cat(labels_all) if labels_all else None)

    # ------------------------------------------------------------ end of epoch
    def _end_epoch(self, record: dict[str, float]) -> None:
        self.history.epochs.append(record)
        if self.monitor not in record:
            raise TrainerError(f"monitor={self.monitor!r} is not among {sorted(record)}.")
        score = record[self.monitor]
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()
        elif self.scheduler is not None and self.scheduler_interval == "plateau":
            self.scheduler.step(score)
        improved = self._improved(score)
        if improved:
            self.history.best_epoch, self.history.best_score = int(record["epoch"]), score
            self._bad_epochs = 0
            self._save_best()
        else:
            self._bad_epochs += 1
        self._log(record, improved)
        if self.checkpoint_dir is not None:
            self.save_checkpoint(self.checkpoint_dir / "last")
        for callback in self.callbacks:
            callback(self, record)
        if self.early_stopping is not None and self._bad_epochs >= self.early_stopping:
            self.history.stopped_early = True
            self.should_stop = True
            self._print(f"early stopping: no improvement in {self.monitor} for "
                        f"{self._bad_epochs} epochs")

    def _improved(self, score: float) -> bool:
        best = self.history.best_score
        if best is None or math.isnan(best):
            return not math.isnan(score)
        return score < best if self.mode == "min" else score > best

    def _log(self, record: dict[str, float], improved: bool) -> None:
        skip = {"epoch", "step", "seconds", "lr"}
        parts = [f"epoch {int(record['epoch'])}/{self.epochs}"]
        parts += [f"{key} {value:.4f}" for key, value in record.items() if key not in skip]
        parts.append(f"lr {record['lr']:.2e}")
        line = " | ".join(parts) + (" *" if improved else "") + f" [{record['seconds']:.1f}s]"
        self._print(line)

    def _print(self, message: str) -> None:
        if self.accelerator.is_main_process:
            print(message, flush=True)

    # ------------------------------------------------------------ checkpoints
    def _weights(self) -> dict[str, torch.Tensor]:
        """Trainable parameters and buffers (frozen weights never change, so they are not saved)."""
        model = self.unwrapped_model
        tensors = {name: p for name, p in model.named_parameters() if p.requires_grad}
        # Only buffers that are part of the state: non-persistent ones (e.g. the rotary ``inv_freq`` of
        # HF LLMs) are rebuilt by the model, and load_state_dict rejects them as unexpected keys.
        state_keys = set(model.state_dict())
        tensors.update({name: b for name, b in model.named_buffers() if name in state_keys})
        return {name: t.detach().cpu().clone().contiguous() for name, t in tensors.items()}

    def _save_best(self) -> None:
        if self.checkpoint_dir is not None:
            save_weights(self._weights(), self.checkpoint_dir / "best" / MODEL_FILE)
        elif self.restore_best:  # the in-memory copy only serves _restore_best
            self._best_in_memory = self._weights()

    def _restore_best(self) -> None:
        if self.checkpoint_dir is None:
            weights = self._best_in_memory or {}
        else:
            weights = load_weights(self.checkpoint_dir / "best" / MODEL_FILE)
        _load_into(self.unwrapped_model, weights)
        record = self.history.best
        self._print(f"restored best weights: epoch {self.history.best_epoch} "
                    f"({self.monitor} {record.get(self.monitor, float('nan')):.4f})")

    def save_checkpoint(self, directory: str | Path) -> Path:
        """Write weights (safetensors) and everything needed to resume, mid-epoch included.

        The folder is replaced atomically (written as ``<name>.tmp``, then renamed), so a process killed
        while saving leaves the previous checkpoint intact.
        """
        directory = Path(directory)
        if not self.accelerator.is_main_process:
            return directory
        epoch = self._epoch_state
        if epoch is not None:
            epoch.next_batch_rng = self._rng_tap.state_before(epoch.batches_done) if self._rng_tap else None
        state = {
            "epoch_done": epoch.epoch if epoch is not None else len(self.history.epochs),
            "epoch_state": epoch.state() if epoch is not None else None,
            "global_step": self.global_step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "history": self.history.state(),
            "bad_epochs": self._bad_epochs,
            "rng": _rng_state(self._loader_generators()),
        }
        staging = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        save_weights(self._weights(), staging / MODEL_FILE)
        torch.save(state, staging / STATE_FILE)
        previous = directory.with_name(directory.name + ".old")
        if directory.exists():
            shutil.rmtree(previous, ignore_errors=True)
            directory.rename(previous)
        staging.rename(directory)
        shutil.rmtree(previous, ignore_errors=True)
        return directory

    def load_checkpoint(self, directory: str | Path | None = None) -> bool:
        """Resume from ``directory`` (default ``checkpoint_dir/last``); False if there is none."""
        if directory is None:
            if self.checkpoint_dir is None:
                raise TrainerError("resume=True needs checkpoint_dir.")
            directory = self.checkpoint_dir / "last"
        directory = Path(directory)
        previous = directory.with_name(directory.name + ".old")
        if not (directory / STATE_FILE).exists() and (previous / STATE_FILE).exists():
            directory = previous  # killed between the two renames of save_checkpoint
        if not (directory / STATE_FILE).exists():
            return False
        _load_into(self.unwrapped_model, load_weights(directory / MODEL_FILE))
        try:
            state = torch.load(directory / STATE_FILE, map_location="cpu", weights_only=True)
            self.optimizer.load_state_dict(state["optimizer"])
        except Exception as err:  # pickle errors, truncated files, another optimizer...
            raise TrainerError(f"Checkpoint {directory / STATE_FILE} is unreadable ({err}); "
                               "delete it to start afresh.") from err
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.start_epoch = state["epoch_done"]
        self.global_step = state["global_step"]
        self._bad_epochs = state["bad_epochs"]
        self.history = History(**state["history"])
        if state["epoch_state"] is not None:
            self._resumed_epoch_state = _EpochState(**state["epoch_state"])
        _set_rng_state(state["rng"], self._loader_generators())
        if self.history.best_epoch is not None and self.checkpoint_dir is None:
            self._best_in_memory = self._weights()
        epoch = self.start_epoch
        where = f"at epoch {epoch + 1}" if state["epoch_state"] else f"after epoch {epoch}"
        self._print(f"resumed from {directory} {where} (step {self.global_step})")
        return True


@dataclass
class _EpochState:
    """Progress through one epoch, enough to continue it exactly after a restart."""

    epoch: int
    rng_at_start: dict[str, Any]
    batches_done: int = 0
    loss_total: float = 0.0
    next_batch_rng: dict[str, Any] | None = None  # RNG state the next batch was loaded with (prefetch)

    def state(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "rng_at_start": self.rng_at_start, "batches_done": self.batches_done,
                "loss_total": self.loss_total, "next_batch_rng": self.next_batch_rng}


class _RngTap:
    """Wraps a loader's sampler to note the RNG state just before each batch is loaded.

    accelerate's loaders fetch one batch ahead, so when a checkpoint is written after step k, batch k+1
    has already drawn its random numbers (augmentation noise...). Resuming replays that draw exactly.
    Exact replay covers single-process training; with several processes resume is still correct but the
    data pipeline's random draws may differ.
    """

    def __init__(self, inner: Any, batch_size: int) -> None:
        self.inner = inner
        self.batch_size = batch_size
        self.last: tuple[int, dict[str, Any]] | None = None
        self.replay: tuple[int, dict[str, Any]] | None = None

    @classmethod
    def install(cls, loader: Any) -> _RngTap | None:
        batch_sampler = getattr(loader, "batch_sampler", None)
        batch_sampler = getattr(batch_sampler, "batch_sampler", batch_sampler)  # accelerate's shard wrapper
        if batch_sampler is None or not getattr(batch_sampler, "batch_size", None) \
                or not hasattr(batch_sampler, "sampler"):
            return None  # an iterable dataset: mid-epoch resume is then approximate
        tap = cls(batch_sampler.sampler, batch_sampler.batch_size)
        batch_sampler.sampler = tap
        return tap

    def state_before(self, batch_index: int) -> dict[str, Any] | None:
        return self.last[1] if self.last is not None and self.last[0] == batch_index else None

    def __len__(self) -> int:
        return len(self.inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)

    def __iter__(self) -> Iterator[Any]:
        for position, item in enumerate(self.inner):
            if position % self.batch_size == 0:
                batch_index = position // self.batch_size
                if self.replay is not None and self.replay[0] == batch_index:
                    _set_rng_state(self.replay[1])
                    self.replay = None
                self.last = (batch_index, _rng_state())
            yield item


def _rng_state(generators: Iterable[torch.Generator] = ()) -> dict[str, Any]:
    """torch (CPU, CUDA, ``generators``), NumPy and Python random states, loadable with weights_only."""
    import random

    import numpy as np

    numpy_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].astype("int64")), *numpy_state[2:]],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    state["generators"] = [generator.get_state() for generator in generators]
    return state


def _set_rng_state(state: dict[str, Any], generators: Iterable[torch.Generator] = ()) -> None:
    import random

    import numpy as np

    torch.set_rng_state(state["torch"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype("uint32"), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for generator, saved in zip(generators, state.get("generators", []), strict=False):
        generator.set_state(saved)


# ---------------------------------------------------------------- module-level utilities
def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move every tensor in ``batch`` to ``device``: dicts, lists and tuples are walked recursively.

    Other values (strings, numbers, None) are returned as they are. Tensors already there are not copied.
    The Trainer applies it to the batches of ``evaluate``/``predict``, whose loaders it did not prepare.
    """
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        moved = {key: to_device(value, device) for key, value in batch.items()}
        return moved if type(batch) is dict else _rebuild(batch, moved)
    if isinstance(batch, (list, tuple)):
        items = [to_device(value, device) for value in batch]
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a namedtuple
            return type(batch)(*items)
        return type(batch)(items)
    return batch


def _rebuild(original: Mapping[str, Any], values: dict[str, Any]) -> Any:
    """A mapping of ``original``'s type (``BatchEncoding``...) holding ``values``; a dict if that fails."""
    try:
        return type(original)(values)
    except TypeError:
        return values


def loss_from_outputs(outputs: Any) -> torch.Tensor:
    """The loss in a model's outputs (tensor, tuple with loss first, or dict/ModelOutput)."""
    if isinstance(outputs, torch.Tensor) and outputs.ndim == 0:
        return outputs
    if isinstance(outputs, Mapping) and outputs.get("loss") is not None:
        return outputs["loss"]
    if isinstance(outputs, (tuple, list)) and outputs and isinstance(outputs[0], torch.Tensor) \
            and outputs[0].ndim == 0:
        return outputs[0]
    raise TrainerError(
        f"The model returned {type(outputs).__name__} without a loss. Return a scalar loss, a tuple "
        "(loss, ...), or a dict with 'loss'; pass labels in the batch (HF models), or wrap a plain "
        "network: helpers.WithLoss(net, nn.CrossEntropyLoss())."
    )


def logits_from_outputs(outputs: Any) -> torch.Tensor:
    """The logits in a model's outputs (``"logits"`` key, second tuple element, or the tensor)."""
    if isinstance(outputs, Mapping) and outputs.get("logits") is not None:
        return outputs["logits"]
    if isinstance(outputs, (tuple, list)) and len(outputs) > 1:
        return outputs[1]
    if isinstance(outputs, torch.Tensor) and outputs.ndim > 0:
        return outputs
    raise TrainerError("Metrics need logits: return a dict with 'logits' or a tuple (loss, logits).")


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts of a torch module (``from helpers import count_parameters``)."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


def save_weights(tensors: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Save tensors to a safetensors file, creating its folder."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(dict(tensors), str(path))


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file, with a clear error when it is missing or corrupt."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.exists():
        raise TrainerError(f"No checkpoint at {path}: train first, or point to the right folder.")
    try:
        return load_file(str(path))
    except Exception as err:
        raise TrainerError(f"Checkpoint {path} is corrupt or not safetensors ({err}); "
                           "delete it and train again.") from err


def _load_into(model: nn.Module, weights: Mapping[str, torch.Tensor]) -> None:
    result = model.load_state_dict(dict(weights), strict=False)
    if result.unexpected_keys:
        raise TrainerError(f"Checkpoint does not fit this model: unexpected keys "
                           f"{result.unexpected_keys[:5]}... Is it from another architecture?")
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    missing = trainable.intersection(result.missing_keys)
    if missing:
        raise TrainerError(f"Checkpoint lacks trainable weights {sorted(missing)[:5]}...")


def _direct_optimizer(optimizer: Any, accelerator: Any) -> torch.optim.Optimizer | None:
    """The optimizer inside accelerate's wrapper when calling it directly changes nothing, else None."""
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.utils import DistributedType

    if type(optimizer) is not AcceleratedOptimizer or getattr(optimizer, "scaler", None) is not None:
        return None
    if accelerator.distributed_type not in (DistributedType.NO, DistributedType.MULTI_CPU,
                                            DistributedType.MULTI_GPU):
        return None
    return optimizer.optimizer


def _batch_size(batch: Mapping[str, Any]) -> int:
    for value in batch.values():
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            return int(value.shape[0])
    return 1


def _forward_parameters(model: nn.Module) -> list[str]:
    try:
        return list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return []


def _make_accelerator(device: str | torch.device | None, mixed_precision: str,
                      grad_accum_steps: int) -> Any:
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    # cpu=True also on machines without CUDA: under torchrun / `accelerate launch --multi_gpu` that is what
    # makes accelerate run DDP over gloo on CPU processes.
    cpu = (device is not None and torch.device(device).type == "cpu") or not torch.cuda.is_available()
    cuda = not cpu
    if mixed_precision == "auto":
        mixed_precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "no"
    if mixed_precision == "fp16" and not cuda:
        raise TrainerError("mixed_precision='fp16' needs a CUDA GPU; use 'no' (or 'bf16') on CPU.")
    if mixed_precision not in ("no", "fp16", "bf16"):
        raise TrainerError("mixed_precision must be 'auto', 'no', 'fp16' or 'bf16'.")
    # A notebook may build several Trainers with different settings: outside a distributed launch,
    # start accelerate's process-wide state afresh so that the new settings apply.
    if AcceleratorState._shared_state and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    return Accelerator(cpu=cpu, mixed_precision=mixed_precision,
                       gradient_accumulation_steps=grad_accum_steps)


def _progress_mode(progress: str) -> str:
    if progress == "auto":
        progress = os.environ.get("COURSE_PROGRESS", "auto")
    if progress == "auto":
        interactive = sys.stderr.isatty() or "ipykernel" in sys.modules
        return "bar" if interactive and _profile() != "ci" else "lines"
    if progress not in ("bar", "lines"):
        raise TrainerError("progress must be 'auto', 'bar' or 'lines'.")
    return progress


def _profile() -> str | None:
    """The running notebook's profile (``setup()``'s, else ``$COURSE_PROFILE``); None if it is invalid."""
    from helpers.profile import ProfileError, current_profile

    try:
        return current_profile()
    except ProfileError:
        return None


def _progress(loader: Iterable[Any], mode: str, description: str) -> Iterable[Any]:
    if mode != "bar":
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=description, leave=False)
