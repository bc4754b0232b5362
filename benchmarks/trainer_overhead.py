"""Per-step overhead of ``helpers.Trainer`` against a hand-written loop, the transformers ``Trainer``
and Lightning, on the same model, data, optimizer and seed (CPU).

Run from the repository root (see ``benchmarks/README.md``)::

    python benchmarks/trainer_overhead.py --repeats 7 --steps 300

Method, in short:

- every contender trains the same network (``Net``: an MLP whose ``forward(x, labels)`` returns
  ``{"loss", "logits"}``) built from the same seed, with the same AdamW optimizer, on the same
  ``DataLoader`` object (in-memory random "MNIST-sized" tensors, ``helpers.tensor_dataset``,
  ``shuffle=False``) for exactly ``--steps`` optimizer steps;
- a post-step hook on the torch optimizer (the same few-microsecond hook for every contender)
  takes a timestamp (wall clock and process CPU time) after every optimizer step; the per-step time
  of a run is ``(t[last] - t[skip]) / (last - skip)``: the first ``--skip`` steps of each run are
  warm-up and the constructor / ``fit()`` start-up / teardown are *not* in it (they are reported
  apart, as "start-up");
- the contenders run interleaved: repetition ``r`` runs them in an order rotated by ``r``; the hand loop
  runs twice per repetition (the second copy, "hand loop (again)", shows the noise floor);
  "helpers.Trainer + fix" is helpers.Trainer with the two fixes suggested in the README applied from
  outside (``_DirectOptimizer``; no best-weights snapshot when ``restore_best=False``), to measure what
  they would bring;
- ratios are paired: each contender's per-step time divided by the hand loop's of the same repetition;
  the table gives the median over repetitions and the min-max;
- stdout/stderr of every run go to a buffer (helpers.Trainer prints one line per epoch, the hand
  loop prints the same kind of line; transformers and Lightning print nothing per epoch here), so that
  no terminal I/O is timed;
- the final weights of every run are compared with the hand loop's (max abs difference): all
  contenders must have done the same optimizer steps on the same batches;
- ``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` for the whole process, which makes
  every AdamW step of every contender slower on a machine without a GPU: it is set only while
  Lightning runs (``isolate_import_side_effects``).

This is a benchmark, not a test: nothing under ``benchmarks/`` is collected by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: model sizes: hidden layer widths, batch size. "tiny" (about 1.5 ms of CPU per step, a fifth of it
#: the DataLoader's per-sample collation) makes per-step framework overhead visible; "medium" is a
#: realistic small-MLP step of a few ms.
SIZES = {
    "tiny": {"hidden": [128], "batch": 64},
    "medium": {"hidden": [512, 256], "batch": 128},
}
IN_FEATURES, CLASSES = 784, 10
LR = 1e-3


class Net(nn.Module):
    """The model every contender trains: ``forward(x, labels) -> {"loss", "logits"}``.

    Explicit arguments (no ``**kwargs``) so that the transformers Trainer does not pass
    ``num_items_in_batch`` nor count labels each step.
    """

    def __init__(self, hidden: list[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = IN_FEATURES
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, CLASSES))
        self.net = nn.Sequential(*layers)
        self.loss_fn = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.net(x)
        return {"loss": self.loss_fn(logits, labels), "logits": logits}


# ---------------------------------------------------------------- the common setup
@dataclass
class Setup:
    model: Net
    optimizer: torch.optim.Optimizer
    loader: torch.utils.data.DataLoader
    steps: int
    clock: list[float] = field(default_factory=list)  # wall time (perf_counter) after each step
    cpu: list[float] = field(default_factory=list)    # process CPU time (all threads) after each step

    @property
    def epochs(self) -> int:
        return math.ceil(self.steps / len(self.loader))


def make_setup(size: str, steps: int, batches_per_epoch: int, seed: int) -> Setup:
    """Model, optimizer and loader, identical for every contender (same seed, same data, same order)."""
    from helpers.data import tensor_dataset

    cfg = SIZES[size]
    data_gen = torch.Generator().manual_seed(seed + 1)
    n = cfg["batch"] * batches_per_epoch
    x = torch.randn(n, IN_FEATURES, generator=data_gen)
    labels = torch.randint(0, CLASSES, (n,), generator=data_gen)
    dataset = tensor_dataset(x=x, labels=labels)  # the course's dict dataset: one dict per sample
    loader = torch.utils.data.DataLoader(dataset, batch_size=cfg["batch"], shuffle=False, num_workers=0)
    torch.manual_seed(seed)
    model = Net(cfg["hidden"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    setup = Setup(model, optimizer, loader, steps)
    clock, cpu = setup.clock, setup.cpu

    def tick(*_: object) -> None:
        clock.append(time.perf_counter())
        cpu.append(time.process_time())

    optimizer.register_step_post_hook(tick)
    return setup


# ---------------------------------------------------------------- the contenders
def run_hand(s: Setup) -> None:
    """The minimal loop: zero_grad, forward, backward, step, plus ``loss.item()`` for the running mean
    (any real loop logs the loss) and one printed line per epoch, like helpers.Trainer."""
    model, optimizer = s.model, s.optimizer
    model.train()
    step = 0
    for epoch in range(s.epochs):
        total, count = 0.0, 0
        for batch in s.loader:
            optimizer.zero_grad(set_to_none=True)
            loss = model(**batch)["loss"]
            loss.backward()
            optimizer.step()
            total += loss.item()
            count += 1
            step += 1
            if step == s.steps:
                break
        print(f"epoch {epoch + 1}/{s.epochs} | train_loss {total / count:.4f}", flush=True)
        if step == s.steps:
            break


def run_helpers(s: Setup) -> None:
    from helpers import Trainer

    trainer = Trainer(s.model, s.optimizer, s.loader, epochs=s.epochs, max_steps=s.steps,
                      device="cpu", progress="lines", restore_best=False, mixed_precision="no")
    trainer.fit()


class _DirectOptimizer:
    """The fix suggested for helpers.Trainer (see README), applied from outside for the measurement:
    step / zero_grad go straight to the torch optimizer, gated on ``sync_gradients`` as accelerate's
    ``AcceleratedOptimizer`` does, without its per-step ``importlib.util.find_spec("lomo_optim")``
    (twice) and ``inspect.signature(zero_grad)``. Valid without a GradScaler (fp16) and off XLA."""

    def __init__(self, wrapped: object, accelerator: object) -> None:
        self._wrapped = wrapped
        self._inner = wrapped.optimizer
        self._accelerator = accelerator

    def step(self, closure: object = None) -> None:
        if self._accelerator.sync_gradients:
            self._inner.step(closure)

    def zero_grad(self, set_to_none: bool = True) -> None:
        if self._accelerator.sync_gradients:
            self._inner.zero_grad(set_to_none=set_to_none)

    def __getattr__(self, name: str) -> object:
        return getattr(self._wrapped, name)


def run_helpers_fixed(s: Setup) -> None:
    from helpers import Trainer

    trainer = Trainer(s.model, s.optimizer, s.loader, epochs=s.epochs, max_steps=s.steps,
                      device="cpu", progress="lines", restore_best=False, mixed_precision="no")
    assert trainer.accelerator.scaler is None
    trainer.optimizer = _DirectOptimizer(trainer.optimizer, trainer.accelerator)
    # second fix: with restore_best=False and no checkpoint_dir, the in-memory copy of the best weights
    # that _end_epoch takes after every improving epoch is never used
    trainer._save_best = lambda: None
    trainer.fit()


def run_transformers(s: Setup) -> None:
    import transformers
    from accelerate.state import AcceleratorState, GradientState

    loader = s.loader

    class SameLoaderTrainer(transformers.Trainer):
        # The exact DataLoader object of the other contenders (same batches, same order), prepared by
        # accelerate as transformers does with the loader it builds itself.
        def get_train_dataloader(self):
            return self.accelerator.prepare(loader)

    AcceleratorState._reset_state(reset_partial_state=True)  # helpers.Trainer left its own state
    GradientState._reset_state()
    with tempfile.TemporaryDirectory() as out:
        args = transformers.TrainingArguments(
            output_dir=out, max_steps=s.steps, per_device_train_batch_size=loader.batch_size,
            use_cpu=True, report_to="none", save_strategy="no", eval_strategy="no",
            logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0,
            dataloader_pin_memory=False, max_grad_norm=0.0,  # no clipping: same work as the others
            lr_scheduler_type="constant", learning_rate=LR, seed=0,
        )
        trainer = SameLoaderTrainer(model=s.model, args=args, train_dataset=loader.dataset,
                                    optimizers=(s.optimizer, None))
        trainer.train()


def run_lightning(s: Setup) -> None:
    import lightning as L

    net, optimizer = s.model, s.optimizer

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def training_step(self, batch, batch_idx):
            return self.net(**batch)["loss"]

        def configure_optimizers(self):
            return optimizer

    with framework_env("lightning"):  # what `import lightning` sets for the process (see FRAMEWORK_ENV)
        trainer = L.Trainer(max_steps=s.steps, max_epochs=-1, accelerator="cpu", devices=1, logger=False,
                            enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(Module(), train_dataloaders=s.loader)


CONTENDERS: dict[str, Callable[[Setup], None]] = {
    "hand loop": run_hand,
    "helpers.Trainer": run_helpers,
    "helpers.Trainer + fix": run_helpers_fixed,
    "transformers.Trainer": run_transformers,
    "lightning.Trainer": run_lightning,
    "hand loop (again)": run_hand,
}


# ---------------------------------------------------------------- measuring
@dataclass
class Run:
    per_step: float  # seconds per optimizer step, steady state
    cpu_step: float  # process CPU seconds per optimizer step, steady state
    startup: float   # seconds from the call to the end of the first step, less one steady step
    total: float     # seconds for the whole call (construction, fit, teardown)
    weights: dict[str, torch.Tensor]
    loss: float


#: environment variables that a framework sets for the whole process when imported; they are taken
#: out after import and set again only while that framework's contender runs
#: (see ``isolate_import_side_effects``).
FRAMEWORK_ENV: dict[str, dict[str, str]] = {}


def isolate_import_side_effects() -> None:
    """``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` for the process; with it, torch's
    per-step ``current_accelerator(check_available=True)`` (AdamW's graph-capture health check) probes
    NVML (a dlopen) on every optimizer step of every loop in the process on a machine without a GPU,
    about 30 µs/step here. Lightning's own runs keep it; the other contenders must not pay for it."""
    key = "PYTORCH_NVML_BASED_CUDA_CHECK"
    before = os.environ.get(key)
    with contextlib.suppress(ImportError):
        import lightning  # noqa: F401
    after = os.environ.get(key)
    if after != before:
        FRAMEWORK_ENV["lightning"] = {key: after} if after is not None else {}
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


@contextlib.contextmanager
def framework_env(name: str):
    saved = {key: os.environ.get(key) for key in FRAMEWORK_ENV.get(name, {})}
    os.environ.update(FRAMEWORK_ENV.get(name, {}))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def quiet_frameworks() -> None:
    warnings.filterwarnings("ignore")
    isolate_import_side_effects()
    for module in ("lightning", "transformers", "accelerate"):  # they set their loggers' levels on import
        with contextlib.suppress(ImportError):
            __import__(module)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning",
                 "transformers", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
    except ImportError:
        pass


def measure(name: str, size: str, steps: int, skip: int, batches_per_epoch: int, seed: int,
            threads: int) -> Run:
    s = make_setup(size, steps, batches_per_epoch, seed)
    gc.collect()
    sink = io.StringIO()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            CONTENDERS[name](s)
    except Exception:
        sys.stderr.write(sink.getvalue())
        raise
    total = time.perf_counter() - started
    clock = s.clock
    if len(clock) != steps:
        raise RuntimeError(f"{name}: {len(clock)} optimizer steps instead of {steps}")
    if torch.get_num_threads() != threads:
        raise RuntimeError(f"{name} changed torch's thread count to {torch.get_num_threads()}")
    per_step = (clock[-1] - clock[skip]) / (steps - 1 - skip)
    cpu_step = (s.cpu[-1] - s.cpu[skip]) / (steps - 1 - skip)
    startup = (clock[0] - started) - per_step
    first = next(iter(s.loader))
    with torch.no_grad():
        s.model.eval()
        loss = s.model(**first)["loss"].item()
    weights = {k: v.detach().clone() for k, v in s.model.state_dict().items()}
    return Run(per_step, cpu_step, startup, total, weights, loss)


def summarize(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def machine_info(threads: int) -> dict[str, str]:
    import accelerate
    import transformers

    try:
        import lightning

        lightning_version = lightning.__version__
    except ImportError:
        lightning_version = "not installed"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "threads": (f"torch.set_num_threads({threads}); "
                    f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}"),
        "versions": (f"Python {platform.python_version()}, torch {torch.__version__}, accelerate "
                     f"{accelerate.__version__}, transformers {transformers.__version__}, "
                     f"lightning {lightning_version}"),
    }


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    parser.add_argument("--skip", type=int, default=20, help="first steps of each run left out of the timing")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repetitions")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=list(CONTENDERS))
    parser.add_argument("--batches-per-epoch", type=int, default=100,
                        help="dataset size in batches (300 steps = 3 epochs: epoch ends are timed too)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results.md",
                        help="markdown file for the results ('-' for stdout only)")
    args = parser.parse_args(argv)
    if args.steps <= args.skip + 1:
        parser.error("--steps must exceed --skip + 1")
    if "hand loop" not in args.contenders:
        parser.error("the hand loop is the reference: keep it among --contenders")

    torch.set_num_threads(args.threads)
    quiet_frameworks()
    info = machine_info(args.threads)
    load_before = load_average()
    began = time.perf_counter()
    names = list(args.contenders)
    sections = []
    for size in args.sizes:
        print(f"[{size}] warm-up: one short run of each contender", file=sys.stderr, flush=True)
        for name in names:  # imports, allocator, first-call costs: untimed
            measure(name, size, args.skip + 10, args.skip, args.batches_per_epoch, args.seed, args.threads)
        runs: dict[str, list[Run]] = {name: [] for name in names}
        for rep in range(args.repeats):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for name in order:
                runs[name].append(measure(name, size, args.steps, args.skip, args.batches_per_epoch,
                                          args.seed, args.threads))
            line = ", ".join(f"{n} {runs[n][-1].per_step * 1e3:.3f}" for n in names)
            print(f"[{size}] repetition {rep + 1}/{args.repeats} (ms/step): {line} | load {load_average()}",
                  file=sys.stderr, flush=True)
        sections.append(table(size, runs, names, args))
    load_after = load_average()
    minutes = (time.perf_counter() - began) / 60
    command = "python benchmarks/trainer_overhead.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = [
        "# helpers.Trainer overhead: results",
        "",
        f"- command: `{command.strip()}`",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; duration {minutes:.1f} min",
        f"- machine: {info['cpu']}; {info['threads']}",
        f"- {info['versions']}",
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        f"- {args.steps} optimizer steps per run, first {args.skip} untimed; {args.repeats} interleaved "
        f"repetitions; {args.batches_per_epoch} batches per epoch; AdamW lr {LR}",
        "",
    ]
    text = "\n".join(header + sections)
    print(text)
    if str(args.output) != "-":
        args.output.write_text(text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


def table(size: str, runs: dict[str, list[Run]], names: list[str], args: argparse.Namespace) -> str:
    cfg = SIZES[size]
    layers = " -> ".join(str(w) for w in [IN_FEATURES, *cfg["hidden"], CLASSES])
    hand = runs["hand loop"]

    def paired(name: str, attr: str) -> tuple[tuple[float, float, float], tuple[float, float, float], float]:
        mine = [getattr(r, attr) for r in runs[name]]
        ref = [getattr(h, attr) for h in hand]
        ms = summarize([v * 1e3 for v in mine])
        ratios = summarize([v / h for v, h in zip(mine, ref, strict=True)])
        extra_us = statistics.median([(v - h) * 1e6 for v, h in zip(mine, ref, strict=True)])
        return ms, ratios, extra_us

    lines = [
        f"## {size}: MLP {layers}, batch {cfg['batch']}",
        "",
        "Wall-clock time per optimizer step (the measure the target refers to):",
        "",
        "| contender | ms/step, median [min-max] | ratio to hand loop, median [min-max] "
        "| overhead µs/step, median |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        ms, ratios, extra = paired(name, "per_step")
        lines.append(f"| {name} | {ms[0]:.3f} [{ms[1]:.3f}-{ms[2]:.3f}] "
                     f"| {ratios[0]:.3f} [{ratios[1]:.3f}-{ratios[2]:.3f}] | {extra:+.0f} |")
    lines += [
        "",
        "Process CPU time per optimizer step (all threads; less sensitive to other jobs on the machine), "
        "start-up and sanity checks:",
        "",
        "| contender | CPU ms/step, median [min-max] | CPU ratio to hand loop, median [min-max] "
        "| CPU overhead µs/step, median | start-up s, median | loss after training | "
        "max abs weight diff vs hand loop |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        ms, ratios, extra = paired(name, "cpu_step")
        startup = statistics.median([r.startup for r in runs[name]])
        diff = max(max((r.weights[k] - h.weights[k]).abs().max().item() for k in h.weights)
                   for r, h in zip(runs[name], hand, strict=True))
        loss = statistics.median([r.loss for r in runs[name]])
        lines.append(f"| {name} | {ms[0]:.3f} [{ms[1]:.3f}-{ms[2]:.3f}] "
                     f"| {ratios[0]:.3f} [{ratios[1]:.3f}-{ratios[2]:.3f}] | {extra:+.0f} "
                     f"| {startup:.2f} | {loss:.6f} | {diff:.1e} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
