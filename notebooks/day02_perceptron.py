# %% [markdown]
# # Day 02: The perceptron
#
# Every network in this course, up to the largest language model, is built from one operation: a weighted
# sum of the inputs plus a bias, $w \cdot x + b$, passed through a non-linear function. Today we write the
# oldest version of it, Rosenblatt's perceptron, in a few lines of NumPy: one neuron, a step function and a
# learning rule that needs no calculus. It learns the logic gates AND, OR and NAND from their truth tables,
# and it fails on XOR, which is exactly the failure that motivates hidden layers (day 04).
#
# **Objectives**
# - compute a neuron's output $\hat y = \mathrm{step}(w \cdot x + b)$ (forward propagation) and read $w$
#   and $b$ geometrically, as a line that splits the plane;
# - implement the perceptron learning rule and explain why it moves the line the right way;
# - train AND, OR and NAND, and watch the decision boundary move epoch by epoch;
# - show that XOR cannot be learned, and prove that no line separates it.
#
# **Profiles.** The data are four-row truth tables and training takes milliseconds, so `ci`, `laptop` and
# `gpu` run exactly the same thing (NumPy on the CPU). The seed article trains AND for 20 epochs with a
# learning rate of 0.1 and reports that it is learned; every profile reproduces that figure.

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

cfg = setup("day02", PROFILE)

# %% [markdown]
# ## The neuron
#
# A perceptron takes an input vector $x \in \mathbb{R}^d$, computes a weighted sum of it plus a bias, and
# fires (outputs 1) when that sum is not negative:
#
# $$
# z = w \cdot x + b = \sum_{i=1}^{d} w_i x_i + b, \qquad
# \hat y = \mathrm{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0. \end{cases}
# $$
#
# The weights $w_i$ say how much each input counts and in which direction; the bias $b$ is a threshold
# moved to the left-hand side ($w \cdot x \ge -b$). Computing $\hat y$ from $x$ is called *forward
# propagation*: information flows from the inputs to the output. For a whole data set at once, stack the
# $N$ inputs as the rows of a matrix $X \in \mathbb{R}^{N \times d}$; then $z = Xw + b$ is one matrix-vector
# product, and that is how the code below computes it.
#
# The inputs of a two-input logic gate are the four corners of the unit square:

# %%
import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, 0]),
    "XOR": np.array([0, 1, 1, 0]),
}


def step(z: np.ndarray) -> np.ndarray:
    """The Heaviside step: 1 where z >= 0, else 0."""
    return (np.asarray(z) >= 0).astype(int)


def forward(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Forward propagation of one neuron on N×d inputs: step(Xw + b)."""
    return step(x @ w + b)


print(" x1 x2 | " + "  ".join(f"{name:>4}" for name in GATES))
for row, x_row in enumerate(X):
    print(f"  {x_row[0]:.0f}  {x_row[1]:.0f} | " + "  ".join(f"{y[row]:>4}" for y in GATES.values()))

w_or, b_or = np.array([1.0, 1.0]), -0.5
print("\nOR by hand, w = [1, 1], b = -0.5:")
print("z      =", X @ w_or + b_or)
print("y_hat  =", forward(X, w_or, b_or), " target =", GATES["OR"])

# %% [markdown]
# ### What $w$ and $b$ do geometrically
#
# The points where the neuron hesitates, $w \cdot x + b = 0$, form a line in the plane (a hyperplane in $d$
# dimensions): the **decision boundary**. Everything on the side $w$ points to is classified 1, the rest 0.
#
# - $w$ is perpendicular to the line and sets its *orientation*;
# - $b$ slides the line along $w$ without turning it: the line's distance to the origin is $-b / \lVert w
#   \rVert$ (signed);
# - multiplying $w$ and $b$ by the same positive number changes nothing: only the line matters.
#
# Without a bias the line must pass through the origin, because $z = w \cdot 0 = 0$ there whatever $w$ is.
# With our step, $\mathrm{step}(0) = 1$, so a bias-free neuron classifies the input $(0, 0)$ as 1 for every
# choice of weights, and OR, whose output at $(0, 0)$ is 0, cannot be learned at all. The bias is what lets
# the line move off the origin.

# %%
import matplotlib.pyplot as plt

from helpers import viz


def draw_line(ax: plt.Axes, w: np.ndarray, b: float, **style) -> None:
    """Draw w·x + b = 0 across the axes' current x range (a vertical line when w[1] == 0)."""
    style = {"color": "k", "linestyle": "--", "linewidth": 1.2} | style
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    if abs(w[1]) > 1e-12:
        xs = np.array([x_lo, x_hi])
        ax.plot(xs, -(w[0] * xs + b) / w[1], **style)
    elif abs(w[0]) > 1e-12:
        ax.axvline(-b / w[0], **style)
    ax.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi))


def draw_neuron(ax: plt.Axes, w: np.ndarray, b: float, y: np.ndarray, title: str,
                margin: float = 0.5) -> None:
    """The neuron's regions, its boundary line, the data and the vector w from the line's closest point."""
    viz.decision_boundary(lambda grid: forward(grid, w, b), X, y, ax=ax, resolution=200, margin=margin)
    draw_line(ax, w, b)
    foot = -b * w / (w @ w)  # the point of the line closest to the origin
    ax.annotate("", xy=foot + 0.4 * w / np.linalg.norm(w), xytext=foot,
                arrowprops={"arrowstyle": "->", "color": "k", "linewidth": 1.5})
    errors = int((forward(X, w, b) != y).sum())
    ax.set_title(f"{title}\n{errors} error(s)", fontsize=9)
    ax.set_aspect("equal")


fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.4))
draw_neuron(axes[0], w_or, b_or, GATES["OR"], "OR: w=[1, 1], b=-0.5")
draw_neuron(axes[1], w_or, -1.5, GATES["AND"], "same w, b=-1.5: AND")
draw_neuron(axes[2], w_or, 0.0, GATES["OR"], "same w, no bias")
fig.tight_layout()

# %% [markdown]
# Blue is the region classified 1, red the region classified 0; the dots are the four inputs coloured by
# their target (OR's, except in the middle panel, which uses AND's), and the arrow is $w$. Moving $b$ from
# $-0.5$ to $-1.5$ slides the same line from OR to AND. With $b = 0$ the line passes through the origin,
# where $z = 0$ gives class 1, and OR's $(0, 0)$ is misclassified.
#
# ## The perceptron learning rule
#
# Instead of choosing $w$ and $b$ by hand, let the neuron find them. Show it one example $(x, y)$ at a time,
# compute $\hat y$, and correct the parameters by the error $y - \hat y \in \{-1, 0, 1\}$:
#
# $$
# w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y),
# $$
#
# with a *learning rate* $\eta > 0$. Why does this help? If the example is already right, $y - \hat y = 0$
# and nothing moves. If the target is 1 but the neuron said 0, then $z < 0$, and after the update the same
# input gets
#
# $$
# z' = (w + \eta x) \cdot x + (b + \eta) = z + \eta\left(\lVert x \rVert^2 + 1\right) > z :
# $$
#
# the sum grows, towards the side where the neuron fires. When the target is 0 but the neuron said 1, the
# sum shrinks by the same amount. (The $+1$ is the bias seen as the weight of an input that is always 1.)
# One update may not be enough to fix a mistake, and fixing one row may break another, so we sweep over the
# data again and again; one sweep is an *epoch*. The perceptron convergence theorem (Rosenblatt, Novikoff,
# 1962) guarantees that if some line separates the two classes, the rule stops making mistakes after a
# finite number of updates, whatever $\eta$ and the starting weights. It says nothing about data that no
# line separates; we will meet such data soon.
#
# The class below follows the seed article's recipe: random normal weights, a bias that starts at 0, and
# updates one sample at a time. Its random generator is seeded so that every run is the same. After each
# epoch it records the number of rows the neuron gets wrong and a copy of $(w, b)$, so that we can replay
# the training afterwards.

# %%
from dataclasses import dataclass, field


@dataclass
class TrainingLog:
    """errors[k] and weights[k]: misclassified rows and (w, b) after epoch k (k = 0 is the initial state)."""

    errors: list[int] = field(default_factory=list)
    weights: list[tuple[np.ndarray, float]] = field(default_factory=list)

    @property
    def converged_at(self) -> int | None:
        """The first epoch after which every row is right, or None if that never happened."""
        return next((epoch for epoch, count in enumerate(self.errors) if count == 0), None)


class Perceptron:
    """One neuron y = step(w·x + b), trained with the perceptron rule one sample at a time."""

    def __init__(self, n_inputs: int, learning_rate: float = 0.1, seed: int = 0) -> None:
        if n_inputs < 1 or learning_rate <= 0:
            raise ValueError(f"need n_inputs >= 1 and learning_rate > 0, got {n_inputs} and {learning_rate}")
        rng = np.random.default_rng(seed)
        self.w = rng.normal(size=n_inputs)
        self.b = 0.0
        self.learning_rate = learning_rate

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward propagation: 0/1 predictions for one input (d,) or a batch (N, d)."""
        return step(np.asarray(x, dtype=float) @ self.w + self.b)

    def update(self, x_row: np.ndarray, target: int) -> int:
        """Apply the perceptron rule to one example; return its error y - y_hat (-1, 0 or 1)."""
        error = int(target - self.predict(x_row))
        self.w = self.w + self.learning_rate * error * x_row
        self.b = self.b + self.learning_rate * error
        return error

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int) -> TrainingLog:
        """Sweep over the rows ``epochs`` times, updating after each row; log errors and weights per epoch."""
        x, y = self._check_data(x, y)
        log = TrainingLog()
        self._record(log, x, y)
        for _ in range(epochs):
            for x_row, target in zip(x, y, strict=True):
                self.update(x_row, target)
            self._record(log, x, y)
        return log

    def _record(self, log: TrainingLog, x: np.ndarray, y: np.ndarray) -> None:
        log.errors.append(int((self.predict(x) != y).sum()))
        log.weights.append((self.w.copy(), float(self.b)))

    def _check_data(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = np.asarray(x, dtype=float), np.asarray(y)
        if x.ndim != 2 or x.shape[1] != len(self.w):
            raise ValueError(f"x must have shape (N, {len(self.w)}), got {x.shape}")
        if y.shape != (len(x),) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must hold one 0/1 label per row of x (N={len(x)}), got {y!r}")
        return x, y.astype(int)


# Bad input fails loudly, e.g. labels written as -1/+1 (another common convention):
try:
    Perceptron(2).fit(X, np.array([-1, -1, -1, 1]), epochs=1)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## Learning AND, OR and NAND
#
# We train one fresh perceptron per gate, with the same seed (so the same starting weights), the seed
# article's learning rate and its budget of epochs:

# %%
from helpers import glue

print(f"learning rate {cfg.learning_rate}, {cfg.epochs} epochs, seed {cfg.seed}\n")
logs: dict[str, TrainingLog] = {}
for gate in ("AND", "OR", "NAND"):
    model = Perceptron(2, cfg.learning_rate, seed=cfg.seed)
    logs[gate] = model.fit(X, GATES[gate], cfg.epochs)
    print(f"{gate:<4}  target {GATES[gate]}  predicted {model.predict(X)}  "
          f"w = [{model.w[0]:+.3f}, {model.w[1]:+.3f}]  b = {model.b:+.3f}  "
          f"errors 0 from epoch {logs[gate].converged_at}")
    glue(f"day02_{gate.lower()}_epochs", logs[gate].converged_at)

glue("day02_lr", cfg.learning_rate)
glue("day02_epochs", cfg.epochs)
print("\nerrors after each epoch (epoch 0 = the random start), AND:", logs["AND"].errors)

# %% [markdown]
# All three gates are learned. AND gets every row right after epoch {glue:text}`day02_and_epochs`, OR after
# epoch {glue:text}`day02_or_epochs` and NAND after epoch {glue:text}`day02_nand_epochs`: well within the
# article's {glue:text}`day02_epochs` epochs at learning rate {glue:text}`day02_lr`. Once an epoch ends
# with no error, the next epoch changes nothing (every $y - \hat y$ is 0), so training has converged and
# the remaining epochs are idle. The learned weights look nothing like the round numbers we chose by hand,
# but they draw a line with the same effect: the rule stops at the first line that works, not at the "best"
# one.
#
# How many epochs depends on where the weights start. The article sets no seed, so its "20 epochs" is one
# draw; here is the distribution over many initialisations:

# %%
def epochs_to_learn(y: np.ndarray, seed: int, epochs: int) -> int | None:
    """Epochs a fresh perceptron (seeded initial weights) needs before it classifies every row right."""
    return Perceptron(2, cfg.learning_rate, seed=seed).fit(X, y, epochs).converged_at


needed = [epochs_to_learn(GATES["AND"], seed, cfg.sweep_max_epochs) for seed in range(cfg.sweep_seeds)]
learned = np.array([count for count in needed if count is not None])
within = int((learned <= cfg.epochs).sum())
print(f"AND over {cfg.sweep_seeds} seeds: learned by every seed within {cfg.sweep_max_epochs} epochs: "
      f"{len(learned) == cfg.sweep_seeds}")
print(f"epochs needed: median {np.median(learned):.1f}, max {learned.max()}; "
      f"within {cfg.epochs} epochs: {within}/{cfg.sweep_seeds}")
glue("day02_sweep_seeds", cfg.sweep_seeds)
glue("day02_sweep_within", within)
glue("day02_sweep_max", int(learned.max()))

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.hist(learned, bins=np.arange(learned.max() + 2) - 0.5, color="#5b9bd5")
ax.axvline(cfg.epochs + 0.5, color="k", linestyle=":", label=f"the article's {cfg.epochs} epochs")
ax.set(xlabel="epochs until AND is learned", ylabel="seeds", title="Epochs to learn AND, by initialisation")
ax.legend()
fig.tight_layout()

# %% [markdown]
# {glue:text}`day02_sweep_within` of {glue:text}`day02_sweep_seeds` initialisations learn AND within
# {glue:text}`day02_epochs` epochs; the slowest needs {glue:text}`day02_sweep_max`. The convergence theorem
# promises a finite number of updates, not a small one: starting weights far from a solution take many
# steps of size $\eta$ to undo.
#
# ## The boundary, epoch by epoch
#
# Each panel replays the AND perceptron's weights after one epoch (epoch 0 is the random start) with
# `helpers.viz.decision_boundary`, until the epoch after which no row is wrong:

# %%
def boundary_per_epoch(log: TrainingLog, y: np.ndarray, gate: str, ncols: int = 4) -> plt.Figure:
    """One small panel per epoch, from the initial weights to the first epoch without errors."""
    last = log.converged_at if log.converged_at is not None else len(log.errors) - 1
    snapshots = log.weights[: last + 1]
    nrows = -(-len(snapshots) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.3 * nrows), squeeze=False)
    for epoch, (ax, (w, b)) in enumerate(zip(axes.flat, snapshots, strict=False)):
        viz.decision_boundary(lambda grid, w=w, b=b: forward(grid, w, b), X, y, ax=ax, resolution=120)
        draw_line(ax, w, b)
        ax.set_title(f"epoch {epoch}: {log.errors[epoch]} error(s)", fontsize=8)
        ax.set(xticks=[], yticks=[], aspect="equal")
    for ax in axes.flat[len(snapshots):]:
        ax.axis("off")
    fig.suptitle(f"{gate}: the decision boundary after each epoch", fontsize=10)
    fig.tight_layout()
    return fig


fig = boundary_per_epoch(logs["AND"], GATES["AND"], "AND")

# %% [markdown]
# The random start has $b = 0$, so its line passes through the origin. Each update then shifts the line a
# little: the bias slides it, the weights turn it. The number of errors goes up as well as down, because
# fixing one row can break another, until after epoch {glue:text}`day02_and_epochs` only $(1, 1)$ is left on
# the blue side.
#
# ## XOR: no line will do
#
# XOR outputs 1 when exactly one input is 1. Train it the same way, for many more epochs:

# %%
xor_model = Perceptron(2, cfg.learning_rate, seed=cfg.seed)
logs["XOR"] = xor_model.fit(X, GATES["XOR"], cfg.xor_epochs)
xor_errors = logs["XOR"].errors[1:]
print(f"XOR after {cfg.xor_epochs} epochs: predicted {xor_model.predict(X)}, target {GATES['XOR']}")
print(f"errors 0 after some epoch: {logs['XOR'].converged_at is not None}; "
      f"fewest errors after any epoch: {min(xor_errors)}; last 10 epochs: {xor_errors[-10:]}")
glue("day02_xor_epochs", cfg.xor_epochs)
glue("day02_xor_min_errors", min(xor_errors))

fig, ax = plt.subplots(figsize=(7, 2.8))
for gate, log in logs.items():
    ax.plot(range(len(log.errors)), log.errors, drawstyle="steps-post", label=gate,
            linewidth=2.2 if gate == "XOR" else 1.4)
ax.set(xlabel="epoch", ylabel="misclassified rows (of 4)", yticks=range(5), title="Errors after each epoch")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# AND, OR and NAND reach 0 errors within a few epochs and stay there; XOR never does in
# {glue:text}`day02_xor_epochs` epochs, and after no epoch does it get fewer than
# {glue:text}`day02_xor_min_errors` rows wrong. To see what the rule is doing, replay one more epoch of XOR,
# one update at a time:

# %%
import copy

replay = copy.deepcopy(xor_model)
start = (replay.w.copy(), replay.b)
states = []  # (row, error, w, b) after each update
for x_row, target in zip(X, GATES["XOR"], strict=True):
    error = replay.update(x_row, target)
    states.append((x_row, error, replay.w.copy(), replay.b))
# Small weights can put the line far from the four points: widen the view until every line's closest point
# to the origin (the arrow's foot) is inside it, the same view for the four panels.
feet = np.array([-b * w / (w @ w) for _, _, w, b in states])
margin = max(0.5, float(np.max(np.maximum(-feet, feet - 1))) + 0.4)
fig, axes = plt.subplots(1, 4, figsize=(9.5, 3.0), layout="constrained")  # room for the suptitle
for ax, (x_row, error, w, b) in zip(axes, states, strict=True):
    draw_neuron(ax, w, b, GATES["XOR"], f"update on ({x_row[0]:.0f}, {x_row[1]:.0f}), error {error:+d}",
                margin=margin)
    ax.set(xticks=[], yticks=[])
fig.suptitle("XOR: the line after each update of one epoch", fontsize=10)
back_to_start = bool(np.allclose(replay.w, start[0]) and np.isclose(replay.b, start[1]))
print(f"weights at the end of the epoch equal the weights at its start: {back_to_start}")

# %% [markdown]
# The view is wider than in the other figures: after some updates the weights are so small that the line
# lies well away from the four points, and every point falls on the same side. Every row is wrong when its
# turn comes, so every row triggers an update, and the four updates
# cancel out: the corrections to $w$ add up to $-(0,0) + (0,1) + (1,0) - (1,1) = (0, 0)$ and those to $b$ to
# $-1 + 1 + 1 - 1 = 0$. The line visits the same four positions in every epoch, forever. Another seed or
# another order of the rows gives another pattern, but the weights never settle: a perceptron that stopped
# updating would be classifying every row right.
#
# More epochs will not help, because **no line separates XOR's classes**. Suppose some $w_1, w_2, b$ did.
# The four rows require
#
# $$
# \underbrace{b < 0}_{(0,0)\,\to\,0}, \qquad \underbrace{w_1 + b \ge 0}_{(1,0)\,\to\,1}, \qquad
# \underbrace{w_2 + b \ge 0}_{(0,1)\,\to\,1}, \qquad \underbrace{w_1 + w_2 + b < 0}_{(1,1)\,\to\,0}.
# $$
#
# Adding the two middle inequalities gives $w_1 + w_2 + 2b \ge 0$, that is $w_1 + w_2 + b \ge -b > 0$, which
# contradicts the last one. Data whose classes a line (a hyperplane) can separate are called *linearly
# separable*; AND, OR and NAND are, XOR is not, and a single perceptron can only ever represent linearly
# separable labelings. The best any line can do on XOR is 3 rows out of 4 (OR's line, for instance, is
# wrong only at $(1, 1)$).
#
# The way out is to stack neurons. XOR equals AND(OR, NAND): two neurons draw two lines, a third combines
# their outputs. That is a multi-layer perceptron, and training one needs a learning rule that reaches the
# hidden neurons: backpropagation, on day 04.
#
# ## Why not gradient descent?
#
# The perceptron rule looks like gradient descent on the squared error $L = \tfrac12 (y - \hat y)^2$, but it
# is not. By the chain rule
#
# $$
# \frac{\partial L}{\partial w} = -(y - \hat y)\,\mathrm{step}'(z)\,x ,
# $$
#
# and $\mathrm{step}'(z) = 0$ for every $z \ne 0$ (it is undefined at 0). The true gradient is zero almost
# everywhere, so gradient descent would never move. The perceptron rule simply pretends that
# $\mathrm{step}'(z) = 1$. That shortcut works for one neuron, but it gives no signal to pass back through a
# layer of step functions. Day 03 replaces the step by smooth activations (sigmoid, tanh, ReLU) whose
# derivatives carry that signal.

# %%
z = np.linspace(-3, 3, 601)
fig, (ax_step, ax_slope) = plt.subplots(1, 2, figsize=(8, 2.6), sharex=True)
ax_step.plot(z[z < 0], step(z[z < 0]), color="#1f4e79")
ax_step.plot(z[z >= 0], step(z[z >= 0]), color="#1f4e79")
ax_step.plot([0], [1], "o", color="#1f4e79")
ax_step.plot([0], [0], "o", mfc="white", color="#1f4e79")
ax_step.set(title="step(z)", xlabel="z", ylim=(-0.2, 1.2))
ax_slope.plot(z[z < 0], np.zeros((z < 0).sum()), color="#c00000")
ax_slope.plot(z[z > 0], np.zeros((z > 0).sum()), color="#c00000")
ax_slope.plot([0], [0], "o", mfc="white", color="#c00000")
ax_slope.set(title="step'(z): 0 except at z = 0 (undefined)", xlabel="z", ylim=(-0.2, 1.2))
for ax in (ax_step, ax_slope):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day02-by-hand
# Find weights $w_1, w_2$ and a bias $b$ by hand for AND and for NAND: write the four inequalities each
# gate imposes (one per row, as in the XOR proof) and pick numbers that satisfy them. Make `and_weights()`
# and `nand_weights()` return them as `(w, b)`; the cell runs `forward` on every row of each truth table.
# How are your NAND parameters related to your AND parameters, and why?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def and_weights() -> tuple[np.ndarray, float]:
    """(w, b) such that step(w·x + b) is the AND gate."""
    ### BEGIN SOLUTION
    return np.array([1.0, 1.0]), -1.5
    ### END SOLUTION


def nand_weights() -> tuple[np.ndarray, float]:
    """(w, b) such that step(w·x + b) is the NAND gate."""
    ### BEGIN SOLUTION
    w_and, b_and = and_weights()
    return -w_and, -b_and
    ### END SOLUTION


def truth_table(gate: str) -> list[tuple[tuple[int, int], int]]:
    """The rows of GATES[gate] as check_function cases: ((x1, x2), target)."""
    return [((int(x1), int(x2)), int(target)) for (x1, x2), target in zip(X, GATES[gate], strict=True)]


check_function("AND gate", lambda x1, x2: forward(np.array([x1, x2], dtype=float), *and_weights()),
               truth_table("AND"))
check_function("NAND gate", lambda x1, x2: forward(np.array([x1, x2], dtype=float), *nand_weights()),
               truth_table("NAND"))

# %% [markdown]
# ```{solution} day02-by-hand
# :class: dropdown
# AND needs $b < 0$, $w_2 + b < 0$, $w_1 + b < 0$ and $w_1 + w_2 + b \ge 0$; for example $w = (1, 1)$,
# $b = -1.5$. NAND needs the four opposite inequalities (with $\ge$ and $<$ swapped); for example
# $w = (-1, -1)$, $b = 1.5$. Negating all parameters of a neuron negates $z$, which swaps the two sides of
# the same line (up to the points exactly on it, where $z = 0$): NAND is NOT AND, so it uses AND's line
# with the arrow $w$ reversed. The solution above builds NAND exactly that way, from `and_weights()`; it
# works because no row of the table lies on AND's line.
# ```
#
# ````{exercise}
# :label: day02-inverted
# Find and fix: one published version of this demo used the step function below. Train AND with it (use
# it inside `Perceptron.predict`). What happens to the errors and to the weights over 100 epochs, and why?
#
# ```python
# def step(z):
#     return (np.asarray(z) < 0).astype(int)
# ```
# ````
#
# ```{solution} day02-inverted
# :class: dropdown
# The errors never reach 0 and the weights grow without bound. With the inverted step the neuron fires
# when $z < 0$, but the learning rule still assumes it fires when $z \ge 0$: for a target 1 predicted 0 the
# rule increases $z$, which was already $\ge 0$, pushing it further into the region the inverted neuron
# calls 0. Every update makes the mistake worse. The fix is the comparison `z >= 0` (equivalently, keep
# `< 0` and flip the sign of the update, which learns $-w, -b$). A quick test catches this kind of bug: a
# neuron with hand-picked weights, such as OR's $w = (1, 1)$, $b = -0.5$, must reproduce the truth table.
# ```
#
# ```{exercise}
# :label: day02-learning-rate
# Count the epochs AND needs (`converged_at`) for learning rates 0.01, 0.1, 1 and 10, first with the
# random initial weights of `Perceptron`, then with $w = 0$, $b = 0$ (set `model.w = np.zeros(2)` before
# `fit`). Explain the two patterns. Bonus: with zero weights, one learning rate gives a different count
# from the others. Which one, and why?
# ```
#
# ```{solution} day02-learning-rate
# :class: dropdown
# With random weights of size about 1, a small $\eta$ needs many epochs: the rule has to undo the random
# start in steps of size $\eta$. A large $\eta$ makes the start negligible after the first updates, and the
# counts come close to those of a zero start. With a zero start the learning rate cancels out: every
# parameter is then an integer multiple of $\eta$, so $z$ is $\eta$ times what it would be with $\eta = 1$,
# its sign is the same, and the neuron makes the same predictions and the same number of epochs for every
# $\eta > 0$. That holds in exact arithmetic. In floating point $0.1$ is not exact: the bias reaches
# `-0.20000000000000004` instead of $-0.2$, so an input that should sit exactly on the line ($z = 0$, class
# 1) gets a tiny negative $z$ and class 0, and $\eta = 0.1$ converges in a different number of epochs than
# $\eta = 1$ or $\eta = 0.125$ (a power of two, exact in binary). Ties at $z = 0$ are fragile; random
# initial weights make them practically impossible.
# ```
#
# ```{exercise}
# :label: day02-majority
# A 3-input majority gate outputs 1 when at least two of its three inputs are 1. Write `train_majority()`:
# build the gate's 8-row truth table (`itertools.product((0, 1), repeat=3)`), train a
# `Perceptron(3, cfg.learning_rate, seed=cfg.seed)` on it for `cfg.sweep_max_epochs` epochs and return the
# model. The cell checks its predictions on every row. Then try 3-input parity (1 when an odd number of
# inputs is 1). Which of the two is linearly separable?
# ```

# %% tags=["hide-input"]
import itertools

from helpers.checks import check_function


def train_majority() -> Perceptron:
    """A Perceptron(3, ...) trained on the 3-input majority truth table."""
    ### BEGIN SOLUTION
    inputs = np.array(list(itertools.product((0, 1), repeat=3)), dtype=float)
    majority = (inputs.sum(axis=1) >= 2).astype(int)
    model = Perceptron(3, cfg.learning_rate, seed=cfg.seed)
    model.fit(inputs, majority, cfg.sweep_max_epochs)
    return model
    ### END SOLUTION


majority_model = train_majority()
check_function("majority gate", lambda *bits: majority_model.predict(np.array(bits, dtype=float)),
               [(bits, int(sum(bits) >= 2)) for bits in itertools.product((0, 1), repeat=3)])

# %% [markdown]
# ````{solution} day02-majority
# :class: dropdown
# Majority is linearly separable: $w = (1, 1, 1)$, $b = -1.5$ puts a plane between "at most one 1" and "at
# least two 1s", and the perceptron finds a separating plane in a few epochs. Parity is not: it contains
# XOR (fix the third input to 0), so no plane can separate it, and its errors never reach 0.
#
# ```python
# X3 = np.array(list(itertools.product((0, 1), repeat=3)), dtype=float)
# parity = (X3.sum(axis=1) % 2).astype(int)
# log = Perceptron(3, 0.1, seed=0).fit(X3, parity, epochs=200)
# print("parity: errors 0 from epoch", log.converged_at, "fewest errors", min(log.errors))
# ```
# ````
