# %% [markdown]
# # Day 04: The multilayer perceptron and backpropagation
#
# On day 02 a single perceptron learned AND, OR and NAND but could not learn XOR: no straight line
# separates XOR's ones from its zeros. Today we stack two layers of $Wx+b$ with a non-linearity in between,
# derive every gradient of the network with the chain rule, check those gradients numerically, and train the
# network on XOR with plain gradient descent, all in NumPy. Everything PyTorch's `autograd` will do for us
# from day 05 on is written out here by hand once.
#
# **Objectives**
# - explain why XOR needs a hidden layer, and build one that solves it by hand;
# - derive the gradients of a 2-layer network with the chain rule (the *delta recursion* of backpropagation);
# - implement forward, loss, backward and gradient descent in NumPy, and check the gradients with finite
#   differences;
# - see that training depends on the random seed (plateaus), and how more hidden units help.
#
# **Profiles.** XOR has four points, so every profile trains exactly the same network on exactly the same
# data and compares it with the 2024 article's figure (loss 0.0003 at epoch 9000 for a 2-2-1 network, lr 1,
# 10,000 epochs of full-batch gradient descent). Only the number of random seeds in the two sweeps grows from
# `ci` to `laptop` and `gpu`. The network built today is collected as `helpers.numpy_mlp.NumpyMLP`, which
# day 05 checks PyTorch's gradients against.

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

cfg = setup("day04", PROFILE)

# %% [markdown]
# ## Why XOR needs a hidden layer
#
# XOR is 1 when exactly one of its two inputs is 1. A perceptron draws one straight line
# $w_1x_1 + w_2x_2 + b = 0$ through the plane and answers 1 on one side. The two ones of XOR, $(0,1)$ and
# $(1,0)$, sit on one diagonal of the square and the two zeros on the other, so every line leaves a one and
# a zero on the same side (on day 02 the perceptron rule never got all four rows right).

# %%
import matplotlib.pyplot as plt
import numpy as np

x_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
y_xor = np.array([[0], [1], [1], [0]], dtype=np.float64)  # one column: one output unit

fig, ax = plt.subplots(figsize=(3.2, 3.0))
ax.scatter(x_xor[:, 0], x_xor[:, 1], c=y_xor.ravel(), cmap="RdBu", edgecolors="k", s=120)
for (x1, x2), label in zip(x_xor, y_xor.ravel(), strict=True):
    ax.annotate(f"y={label:.0f}", (x1, x2), xytext=(8, 6), textcoords="offset points")
ax.set(xlim=(-0.4, 1.5), ylim=(-0.4, 1.4), xlabel="$x_1$", ylabel="$x_2$", title="XOR: no line separates")
fig.tight_layout()

# %% [markdown]
# Two lines can do it. XOR is "OR, and not AND": one line separates $(0,0)$ from the rest (OR), another
# separates $(1,1)$ from the rest (NAND), and XOR is 1 where both say 1 (AND). Each line is a perceptron,
# so a *hidden layer* of two units computes OR and NAND, and an output unit computes the AND of their
# answers. With the smooth step $\sigma(z) = 1/(1+e^{-z})$ instead of the hard step, the whole network is
#
# $$
# a_1 = \sigma(x W_1 + b_1), \qquad \hat y = \sigma(a_1 W_2 + b_2),
# $$
#
# with $x$ a row of two inputs, $W_1$ of shape $2\times 2$, $W_2$ of shape $2\times 1$. We write $\sigma$ in a
# form that gives the same values but never overflows, $\sigma(z) = \exp(-\log(1+e^{-z}))$, and set the
# weights by hand: large weights make $\sigma$ almost a step.

# %%
def sigmoid(z):
    """1 / (1 + exp(-z)), computed as exp(-log(1 + exp(-z))) so that it never overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


hand_made = {
    "W1": np.array([[20.0, -20.0], [20.0, -20.0]]),  # column 0: OR, column 1: NAND
    "b1": np.array([-10.0, 30.0]),
    "W2": np.array([[20.0], [20.0]]),                # AND of the two hidden units
    "b2": np.array([-30.0]),
}
hidden = sigmoid(x_xor @ hand_made["W1"] + hand_made["b1"])
output = sigmoid(hidden @ hand_made["W2"] + hand_made["b2"])
for inputs, h, out in zip(x_xor, hidden, output, strict=True):
    print(f"x={inputs.astype(int)}  OR={h[0]:.3f}  NAND={h[1]:.3f}  ->  XOR={out[0]:.3f}")

# %% [markdown]
# A hidden layer exists that solves XOR. The rest of the day is about *finding* such weights from the data
# alone, starting from random numbers.
#
# ## The network and its loss
#
# For a batch of $N$ samples stacked as rows, $x$ is $N\times 2$ and every quantity below has one row per
# sample:
#
# $$
# z_1 = x W_1 + b_1,\quad a_1 = \sigma(z_1),\quad z_2 = a_1 W_2 + b_2,\quad \hat y = \sigma(z_2),
# $$
#
# and the loss is the mean over samples of half the squared error (the article's loss):
#
# $$
# L = \frac{1}{N}\sum_{n=1}^{N} \tfrac12 \lVert \hat y_n - y_n \rVert^2 .
# $$
#
# The parameters start random: both weight matrices are drawn from the standard normal distribution
# $\mathcal N(0, 1)$ with `np.random.default_rng(seed)`, the biases start at zero. `forward` keeps the
# activations that the backward pass will need.

# %%
def init_params(n_in: int, n_hidden: int, n_out: int, seed: int) -> dict[str, np.ndarray]:
    """W1 and W2 from N(0, 1) (W1 drawn first), zero biases; float64."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((n_in, n_hidden)), "b1": np.zeros(n_hidden),
            "W2": rng.standard_normal((n_hidden, n_out)), "b2": np.zeros(n_out)}


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """yhat for the batch x, and the cache of activations for the backward pass."""
    a1 = sigmoid(x @ params["W1"] + params["b1"])
    yhat = sigmoid(a1 @ params["W2"] + params["b2"])
    return yhat, {"x": x, "a1": a1, "yhat": yhat}


def mse_loss(yhat: np.ndarray, y: np.ndarray) -> float:
    """Mean over samples of 0.5 * squared error: half the sum over samples and outputs, divided by N."""
    return float(0.5 * np.sum((yhat - y) ** 2) / len(y))


params = init_params(2, cfg.n_hidden, 1, seed=cfg.seed)
yhat, cache = forward(params, x_xor)
print("initial outputs:", np.round(yhat.ravel(), 4))
print(f"initial loss: {mse_loss(yhat, y_xor):.4f}")

# %% [markdown]
# ## Backpropagation: the chain rule, one layer at a time
#
# **The sigmoid's derivative** is written with its own output:
# $\sigma'(z) = \frac{e^{-z}}{(1+e^{-z})^2} = \sigma(z)\,\bigl(1-\sigma(z)\bigr)$. So the backward pass needs
# no $z$, only the activations $a_1$ and $\hat y$ that `forward` cached.
#
# **Output layer.** Take one weight $W_2[j,k]$, from hidden unit $j$ to output $k$. It changes the loss only
# through $z_2[n,k]$ for every sample $n$, so the chain rule sums over samples:
#
# $$
# \frac{\partial L}{\partial W_2[j,k]}
# = \sum_n \underbrace{\frac{\partial L}{\partial \hat y_{nk}}}_{(\hat y_{nk}-y_{nk})/N}\;
#   \underbrace{\frac{\partial \hat y_{nk}}{\partial z_2[n,k]}}_{\hat y_{nk}(1-\hat y_{nk})}\;
#   \underbrace{\frac{\partial z_2[n,k]}{\partial W_2[j,k]}}_{a_1[n,j]} .
# $$
#
# The first two factors do not depend on $j$; they form the **delta** of the output layer, the gradient of
# the loss with respect to its pre-activation $z_2$. In matrix form ($\odot$ is the element-wise product):
#
# $$
# \delta_2 = \frac{\partial L}{\partial z_2} = \frac{1}{N}(\hat y - y) \odot \hat y \odot (1-\hat y),
# \qquad
# \frac{\partial L}{\partial W_2} = a_1^{\top}\delta_2,
# \qquad
# \frac{\partial L}{\partial b_2} = \sum_n \delta_2[n,:] .
# $$
#
# **Hidden layer.** $a_1[n,j]$ feeds every output $k$ through $W_2[j,k]$, so its gradient sums over the
# outputs: $\partial L/\partial a_1 = \delta_2 W_2^{\top}$. One more sigmoid gives the hidden delta, and the
# weights of the first layer follow exactly as those of the second:
#
# $$
# \delta_1 = \frac{\partial L}{\partial z_1} = (\delta_2 W_2^{\top}) \odot a_1 \odot (1-a_1),
# \qquad
# \frac{\partial L}{\partial W_1} = x^{\top}\delta_1,
# \qquad
# \frac{\partial L}{\partial b_1} = \sum_n \delta_1[n,:] .
# $$
#
# **The delta recursion.** Nothing here is special to two layers. With $a_0 = x$, layers
# $z_l = a_{l-1}W_l + b_l$, $a_l = f(z_l)$, the deltas run backwards from the loss:
#
# $$
# \delta_L = \frac{\partial L}{\partial a_L} \odot f'(z_L), \qquad
# \delta_l = (\delta_{l+1} W_{l+1}^{\top}) \odot f'(z_l), \qquad
# \frac{\partial L}{\partial W_l} = a_{l-1}^{\top}\delta_l, \qquad
# \frac{\partial L}{\partial b_l} = \textstyle\sum_n \delta_l[n,:] .
# $$
#
# Each layer needs only the delta of the layer above and its own cached input: one backward sweep costs
# about as much as the forward one. That sweep is *backpropagation*; `autograd` automates it for any graph.

# %%
def backward(params: dict[str, np.ndarray], cache: dict[str, np.ndarray],
             y: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the mean 0.5 * squared error with respect to every parameter (delta recursion)."""
    x, a1, yhat = cache["x"], cache["a1"], cache["yhat"]
    delta2 = (yhat - y) * yhat * (1 - yhat) / len(x)          # dL/dz2, (N, n_out)
    delta1 = (delta2 @ params["W2"].T) * a1 * (1 - a1)        # dL/dz1, (N, n_hidden)
    return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0),
            "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}


grads = backward(params, cache, y_xor)
for name, grad in grads.items():
    print(f"dL/d{name:<3} shape {str(grad.shape):<7} = {np.round(grad.ravel(), 4)}")

# %% [markdown]
# ## Checking the gradients with finite differences
#
# A derivation can be wrong in a way no shape check catches (a missing factor, a wrong activation). The
# definition of the derivative gives an independent answer: nudge one parameter by $\pm\varepsilon$ and
# watch the loss,
#
# $$
# \frac{\partial L}{\partial \theta_i} \approx \frac{L(\theta_i+\varepsilon) - L(\theta_i-\varepsilon)}{2\varepsilon},
# \qquad
# \text{relative error} = \frac{\lVert g_\text{backprop} - g_\text{numeric}\rVert}
#                              {\lVert g_\text{backprop}\rVert + \lVert g_\text{numeric}\rVert}.
# $$
#
# `helpers.grad_check` does this for every entry of every parameter (it perturbs the arrays in place, so the
# loss function must read the current values). The central difference has an error of order $\varepsilon^2$
# (*truncation*); floating-point *round-off* adds an error of order $10^{-16}/\varepsilon$. The figure
# shows the trade-off. We check with $\varepsilon = 10^{-4}$, where the relative error is the formula's own
# truncation error, far below the usual threshold $10^{-6}$; a wrong gradient gives errors near 1.

# %%
from helpers import grad_check


def xor_loss() -> float:
    return mse_loss(forward(params, x_xor)[0], y_xor)


def show_errors(errors: dict[str, float], tol: float = 1e-6) -> None:
    """One line per parameter: the order of magnitude of the relative error and the verdict."""
    for name, error in errors.items():
        print(f"{name:<3} relative error ~ {error:.0e}  {'ok' if error < tol else 'FAIL'}")


show_errors(grad_check(xor_loss, params, grads, eps=cfg.grad_eps, verbose=False))

# %%
eps_values = np.logspace(-10, -1, 19)
sweep = [grad_check(xor_loss, params, grads, eps=eps, verbose=False) for eps in eps_values]
fig, ax = plt.subplots(figsize=(5, 3.2))
for name in grads:
    ax.loglog(eps_values, [errors[name] for errors in sweep], marker="o", ms=3, label=name)
ax.axvline(cfg.grad_eps, color="grey", linestyle=":")
ax.set(xlabel=r"finite-difference step $\varepsilon$", ylabel="relative error",
       title="Round-off (left) vs truncation (right)")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# ## Gradient descent on XOR
#
# Gradient descent moves every parameter a small step against its gradient, $\theta \leftarrow \theta -
# \eta\,\partial L/\partial\theta$. On four points the whole data set is one batch (*full-batch* gradient
# descent). The article's recipe: learning rate $\eta = 1$, 10,000 epochs.

# %%
def train(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, epochs: int, lr: float,
          log_every: int = 0) -> list[float]:
    """Full-batch gradient descent, in place; the loss of each epoch is measured before its update."""
    losses = []
    for epoch in range(epochs):
        yhat, cache = forward(params, x)
        losses.append(mse_loss(yhat, y))
        if log_every and epoch % log_every == 0:
            print(f"epoch {epoch:>6} loss {losses[-1]:.5f}")
        grads = backward(params, cache, y)
        for name in params:
            params[name] -= lr * grads[name]
    return losses


params = init_params(2, cfg.n_hidden, 1, seed=cfg.seed)
losses = train(params, x_xor, y_xor, cfg.epochs, cfg.lr, log_every=cfg.log_every)

# %% [markdown]
# ## The same code, collected in `helpers.numpy_mlp`
#
# Later days need this network again (day 05 compares PyTorch's `autograd` with it), so the cells above are
# collected in one class, `helpers.numpy_mlp.NumpyMLP`, with the same initialisation, `forward`, `loss`,
# `gradients`, `step` and `fit`. `helpers.compare` checks that the two cannot drift apart: same initial
# weights, same gradients, same loss at every epoch.

# %%
import inspect

from helpers import compare
from helpers.numpy_mlp import NumpyMLP

print(f"NumpyMLP{inspect.signature(NumpyMLP)}")
print("\n".join(inspect.getdoc(NumpyMLP).splitlines()[:4]))

model = NumpyMLP(n_in=2, n_hidden=cfg.n_hidden, n_out=1, seed=cfg.seed)
fresh = init_params(2, cfg.n_hidden, 1, seed=cfg.seed)
for name in fresh:
    compare(f"initial {name}", fresh[name], model.params[name])
helper_grads = model.gradients(x_xor, y_xor)
notebook_grads = backward(fresh, forward(fresh, x_xor)[1], y_xor)
for name in notebook_grads:
    compare(f"gradient {name}", notebook_grads[name], helper_grads[name])

model_losses = model.fit(x_xor, y_xor, epochs=cfg.epochs, lr=cfg.lr)
same_curve = compare("loss per epoch", losses, model_losses)

# %% [markdown]
# ## What the network learned

# %%
from helpers import glue

loss_9000 = model_losses[9000]
glue("day04_loss_9000", f"{loss_9000:.5f}")
print(f"loss at epoch 9000: {loss_9000:.5f}   (the 2024 article: 0.00030)")
print(f"final loss (epoch {cfg.epochs - 1}): {model_losses[-1]:.5f}")
print("outputs:", np.round(model.forward(x_xor).ravel(), 4),
      "-> predictions:", (model.forward(x_xor) > 0.5).astype(int).ravel())

# %% [markdown]
# After 9000 epochs the loss is {glue:text}`day04_loss_9000`, the same order as the article's
# 0.0003 (its run was not seeded, so it started from other random weights; the sweep below shows how much the
# loss at epoch 9000 varies from seed to seed). The loss curve has the typical shape of XOR: a long plateau
# while the hidden units are still useless, a sudden drop once they have split the plane, then a slow
# polish of the outputs towards 0 and 1.

# %%
from helpers import viz

fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2))
axes[0].semilogy(model_losses)
axes[0].axvline(9000, color="grey", linestyle=":")
axes[0].set(xlabel="epoch", ylabel="loss (log scale)", title="Training loss, 2-2-1 MLP on XOR")
axes[0].grid(alpha=0.3)
viz.decision_boundary(lambda grid: model.forward(grid)[:, 0], x_xor, y_xor, ax=axes[1],
                      title="Output $\\hat y$ over the plane")
fig.tight_layout()

# %% [markdown]
# The output is a curved band: two lines, one from each hidden unit, bent and blended by the output
# sigmoid. Looking at the points through the hidden layer shows why it works. The hidden layer moves the
# four inputs to new coordinates $a_1$ where the two classes *are* linearly separable, and the output unit
# is a perceptron that draws one line there (the dashed line $a_1 W_2 + b_2 = 0$).

# %%
hidden_xor = sigmoid(x_xor @ model.params["W1"] + model.params["b1"])
fig, ax = plt.subplots(figsize=(4.2, 3.6))
ax.scatter(hidden_xor[:, 0], hidden_xor[:, 1], c=y_xor.ravel(), cmap="RdBu", edgecolors="k", s=120)
labels_at: list[tuple[np.ndarray, list[str]]] = []  # inputs that land close together share one label
for point, (x1, x2) in zip(hidden_xor, x_xor.astype(int), strict=True):
    near = [names for where, names in labels_at if np.linalg.norm(where - point) < 0.1]
    if near:
        near[0].append(f"({x1},{x2})")
    else:
        labels_at.append((point, [f"x=({x1},{x2})"]))
for point, names in labels_at:
    ax.annotate(" and ".join(names), point, xytext=(0, 10), textcoords="offset points", fontsize=8,
                ha="center")
w, b = model.params["W2"][:, 0], model.params["b2"][0]
line = np.linspace(-0.25, 1.25, 50)
ax.plot(line, -(w[0] * line + b) / w[1], "k--")
ax.set(xlim=(-0.25, 1.25), ylim=(-0.1, 1.15), xlabel="hidden unit 1", ylabel="hidden unit 2",
       title="XOR in the hidden layer's coordinates")
fig.tight_layout()

# %% [markdown]
# ## Seeds and plateaus
#
# The loss of a network with a hidden layer is not convex: it has flat plateaus and saddle points, and
# where gradient descent ends depends on where it starts. We train the same 2-2-1 network from
# {glue:text}`day04_n_seeds` random seeds and call a run *solved* when all four outputs fall on the right
# side of 0.5 after 10,000 epochs.

# %%
def solves_xor(net: NumpyMLP) -> bool:
    return bool(np.array_equal(net.forward(x_xor) > 0.5, y_xor > 0.5))


def train_seeds(n_hidden: int, seeds: range) -> list[tuple[NumpyMLP, list[float]]]:
    """One trained network and its loss curve per seed (the article's lr and epochs)."""
    runs = []
    for seed in seeds:
        net = NumpyMLP(n_in=2, n_hidden=n_hidden, n_out=1, seed=seed)
        runs.append((net, net.fit(x_xor, y_xor, epochs=cfg.epochs, lr=cfg.lr)))
    return runs


seeds = range(cfg.n_seeds)
runs_by_hidden = {cfg.n_hidden: train_seeds(cfg.n_hidden, seeds)}
two_unit_runs = runs_by_hidden[cfg.n_hidden]
solved = [solves_xor(net) for net, _ in two_unit_runs]
stuck = [seed for seed, ok in zip(seeds, solved, strict=True) if not ok]
loss_9000_solved = [curve[9000] for (_, curve), ok in zip(two_unit_runs, solved, strict=True) if ok]
glue("day04_n_seeds", cfg.n_seeds)
glue("day04_solved_share_2", sum(solved) / len(solved))
glue("day04_median_loss_9000", f"{np.median(loss_9000_solved):.5f}")
print(f"{sum(solved)}/{len(solved)} seeds solve XOR with {cfg.n_hidden} hidden units")
for seed in stuck:
    net, curve = two_unit_runs[seed]
    print(f"  seed {seed:>3} stuck: final loss {curve[-1]:.4f}, "
          f"predictions {(net.forward(x_xor) > 0.5).astype(int).ravel()}")
print(f"loss at epoch 9000 over the solved seeds: median {np.median(loss_9000_solved):.5f}, "
      f"range {min(loss_9000_solved):.5f} to {max(loss_9000_solved):.5f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
for (_, curve), ok in zip(two_unit_runs, solved, strict=True):
    axes[0].semilogy(curve, color="tab:blue" if ok else "tab:red", alpha=0.6, lw=1)
axes[0].set(xlabel="epoch", ylabel="loss (log scale)", title="Loss per seed: solved (blue), stuck (red)")
axes[0].grid(alpha=0.3)
example_solved = solved.index(True)
viz.decision_boundary(lambda grid: two_unit_runs[example_solved][0].forward(grid)[:, 0], x_xor, y_xor,
                      ax=axes[1], title=f"seed {example_solved}: solved")
if stuck:
    viz.decision_boundary(lambda grid: two_unit_runs[stuck[0]][0].forward(grid)[:, 0], x_xor, y_xor,
                          ax=axes[2], title=f"seed {stuck[0]}: stuck")
else:
    axes[2].axis("off")
fig.tight_layout()

# %% [markdown]
# With two hidden units, {glue:text}`day04_solved_share_2:.0%` of the seeds solve XOR in 10,000 epochs.
# Over the seeds that succeed, the loss at epoch 9000 has median {glue:text}`day04_median_loss_9000`, again
# close to the article's 0.0003. Two kinds of failure hide behind the red curves; giving the stuck runs many
# more epochs tells them apart.

# %%
import copy

extra_epochs = cfg.stuck_extra_epochs
checkpoints = [extra_epochs // 9, extra_epochs // 3, extra_epochs]  # more epochs, counted after 10,000
rescued = 0
for seed in stuck:
    net, curve = two_unit_runs[seed]
    hidden = sigmoid(x_xor @ net.params["W1"] + net.params["b1"])
    longer = copy.deepcopy(net)  # keep the 10,000-epoch run for the sweep below
    more = longer.fit(x_xor, y_xor, epochs=extra_epochs, lr=cfg.lr)
    rescued += solves_xor(longer)
    gradient_norm = np.sqrt(sum(np.sum(g**2) for g in longer.gradients(x_xor, y_xor).values()))
    weight_norms = [np.sqrt(sum(np.sum(w**2) for w in n.params.values())) for n in (net, longer)]
    print(f"seed {seed:>3}: {'solved' if solves_xor(longer) else 'still stuck'} after {extra_epochs:,} more "
          f"epochs; loss {curve[-1]:.5f} at 10,000, then "
          + ", ".join(f"{more[c - 1]:.5f} at +{c:,}" for c in checkpoints))
    print(f"          never rises: {bool(np.all(np.diff(more) <= 0))}; gradient norm at the end "
          f"{gradient_norm:.1e}; weight norm {weight_norms[0]:.1f} -> {weight_norms[1]:.1f}")
    print(f"          hidden activations a1 for inputs 00, 01, 10, 11 at epoch 10,000: "
          f"{np.round(hidden, 2).tolist()}")
glue("day04_n_stuck", len(stuck))
glue("day04_n_rescued", rescued)
print(f"{rescued} of {len(stuck)} stuck runs solve XOR with more epochs")

# %% [markdown]
# The hidden activations show what went wrong in every stuck run: two inputs with *different* labels land
# on (almost) the same saturated point of the hidden layer, so the output unit, a perceptron in those
# coordinates, cannot answer differently for them. Pulling them apart needs gradient through the hidden
# sigmoids, and those sit near 0 or 1 where $\sigma' = a_1(1-a_1) \approx 0$, so $\delta_1$ almost vanishes.
# These are **plateaus**, not local minima. A local minimum, strictly, is a point from which no small step
# lowers the loss, so gradient descent would stop there with the loss constant. The printout shows the
# opposite: in every stuck run the loss never rises, the gradient is tiny but not zero, and the weights
# keep growing; a run that stays stuck is still losing loss, slowly, after 90,000 extra epochs. Gradient descent
# is crawling along a nearly flat valley that leads towards ever more saturated sigmoids, with a loss
# that approaches its floor only as the weights go to infinity. For this very network, the 2-2-1 sigmoid
# net on XOR, that is a theorem: its error surface has no strict local minima at finite weights, only
# saddle points and such plateaus (Hamey 1998; Sprinkhuizen-Kuyper and Boers 1998). Some plateaus end in
# a sudden drop once the hidden units separate ({glue:text}`day04_n_rescued` of the
# {glue:text}`day04_n_stuck` stuck runs here); others drift towards a wrong answer so slowly that, in
# practice, no affordable number of epochs helps. Which kind a run meets is decided by its random start.
#
# ## How many hidden units?
#
# Two hidden units are the minimum for XOR, with no spare capacity: both must find their line. Extra units
# give gradient descent more ways to succeed. The same sweep for 2, 3, 4 and 8 hidden units:

# %%
for n_hidden in cfg.sweep_hidden:
    if n_hidden not in runs_by_hidden:
        runs_by_hidden[n_hidden] = train_seeds(n_hidden, seeds)
success_rate = {n_hidden: float(np.mean([solves_xor(net) for net, _ in runs]))
                for n_hidden, runs in runs_by_hidden.items()}
glue("day04_success_rate_8", success_rate[max(cfg.sweep_hidden)])
for n_hidden, rate in success_rate.items():
    median = np.median([curve[-1] for _, curve in runs_by_hidden[n_hidden]])
    print(f"{n_hidden} hidden units: {rate:.0%} of {cfg.n_seeds} seeds solve XOR, "
          f"median final loss {median:.5f}")

fig, ax = plt.subplots(figsize=(4.5, 3))
ax.bar([str(h) for h in success_rate], list(success_rate.values()), color="tab:blue")
ax.set(xlabel="hidden units", ylabel="share of seeds that solve XOR", ylim=(0, 1.05),
       title=f"Hidden-unit sweep ({cfg.n_seeds} seeds each)")
fig.tight_layout()

# %% [markdown]
# With 8 hidden units {glue:text}`day04_success_rate_8:.0%` of the seeds solve XOR. Wider layers are the
# first of many tricks (careful initialisation, other activations, better optimisers) that make deep
# networks trainable in practice even though their loss surfaces are not convex.
#
# ## When a gradient is wrong
#
# Here is a `backward` with one mistake in it, the kind a copy-paste produces. The finite-difference check
# catches it, and tells us *which* parameters are affected:

# %%
def backward_buggy(params: dict[str, np.ndarray], cache: dict[str, np.ndarray],
                   y: np.ndarray) -> dict[str, np.ndarray]:
    x, a1, yhat = cache["x"], cache["a1"], cache["yhat"]
    delta2 = (yhat - y) * yhat * (1 - yhat) / len(x)
    delta1 = (delta2 @ params["W2"].T) * yhat * (1 - yhat)
    return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0),
            "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}


params = init_params(2, cfg.n_hidden, 1, seed=cfg.seed)
show_errors(grad_check(xor_loss, params, backward_buggy(params, forward(params, x_xor)[1], y_xor),
                       eps=cfg.grad_eps, verbose=False))

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day04-fix
# In `backward_buggy` above the gradients of `W2` and `b2` pass the check and those of `W1` and `b1` fail.
# What does that tell you about where the mistake is? Find it, and write the corrected function as
# `backward_fixed` (same arguments, same dictionary of gradients). The cell checks its gradients against
# finite differences twice: on the 2-2-1 XOR network, and on a 3-4-2 network with random data, where
# non-square weight matrices also catch a missing or extra transpose.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_gradient


def backward_fixed(params: dict[str, np.ndarray], cache: dict[str, np.ndarray],
                   y: np.ndarray) -> dict[str, np.ndarray]:
    """``backward_buggy`` with its mistake corrected: gradients of the mean 0.5 * squared error."""
    ### BEGIN SOLUTION
    output_slope = cache["yhat"] * (1 - cache["yhat"])   # sigma'(z2), from the cached output
    hidden_slope = cache["a1"] * (1 - cache["a1"])       # sigma'(z1): the HIDDEN layer's derivative
    delta2 = (cache["yhat"] - y) * output_slope / len(y)
    delta1 = (delta2 @ params["W2"].T) * hidden_slope
    return {"W1": cache["x"].T @ delta1, "b1": np.sum(delta1, axis=0),
            "W2": cache["a1"].T @ delta2, "b2": np.sum(delta2, axis=0)}
    ### END SOLUTION


def check_backward(name: str, net: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> None:
    """check_gradient of backward_fixed at the parameters ``net`` for the batch (x, y)."""
    analytic = backward_fixed(net, forward(net, x)[1], y)
    check_gradient(name, lambda: mse_loss(forward(net, x)[0], y), net, analytic)


random_data = np.random.default_rng(cfg.seed + 1)
check_backward("backward_fixed, 2-2-1 on XOR", init_params(2, 2, 1, seed=cfg.seed), x_xor, y_xor)
check_backward("backward_fixed, 3-4-2 on random data", init_params(3, 4, 2, seed=cfg.seed + 1),
               random_data.standard_normal((5, 3)), random_data.uniform(size=(5, 2)))

# %% [markdown]
# ```{solution} day04-fix
# :class: dropdown
# `W2` and `b2` only use `delta2`, so `delta2` is right; `W1` and `b1` use `delta1`, so the mistake is in
# `delta1`. It multiplies by the derivative of the *output* sigmoid, `yhat * (1 - yhat)`, instead of the
# hidden one, `a1 * (1 - a1)`. With that one factor replaced, all four gradients agree with finite
# differences on both networks. On the XOR network the wrong factor even has the right shape by luck:
# `yhat` is $(4, 1)$ and broadcasts against the $(4, 2)$ hidden layer, so no error is raised, only wrong
# numbers, which is exactly what a gradient check is for.
# ```
#
# ```{exercise}
# :label: day04-xnor
# XNOR is 1 when both inputs are equal. Write `train_xnor(seed)`: a `NumpyMLP` with `cfg.n_hidden` hidden
# units and that seed, trained on XNOR with the article's recipe (`cfg.lr`, `cfg.epochs`), returned trained.
# The cell checks its predictions on the four rows of the truth table. Does XNOR need a different network?
# Then train from the seeds of the sweep above: do the same seeds get stuck as for XOR?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def train_xnor(seed: int) -> NumpyMLP:
    """A 2-n_hidden-1 NumpyMLP trained on XNOR by full-batch gradient descent (the article's recipe)."""
    ### BEGIN SOLUTION
    y_xnor = 1 - y_xor                 # XNOR is NOT XOR
    net = NumpyMLP(n_in=2, n_hidden=cfg.n_hidden, n_out=1, seed=seed)
    net.fit(x_xor, y_xnor, epochs=cfg.epochs, lr=cfg.lr)
    return net
    ### END SOLUTION


xnor_net = train_xnor(cfg.seed)
check_function("XNOR after training", lambda x1, x2: int(xnor_net.forward(np.array([[x1, x2]]))[0, 0] > 0.5),
               [((x1, x2), int(x1 == x2)) for x1 in (0, 1) for x2 in (0, 1)])

# %% [markdown]
# ````{solution} day04-xnor
# :class: dropdown
# XNOR is `1 - XOR`, just as non-separable, and the same network learns it: the output unit only has to
# flip the sign of its line in the hidden coordinates. The seeds that get stuck are usually different:
#
# ```python
# xnor_stuck = [seed for seed in seeds if not np.array_equal(train_xnor(seed).forward(x_xor) > 0.5,
#                                                            y_xor < 0.5)]
# print("stuck on XOR:", stuck, " stuck on XNOR:", xnor_stuck)
# ```
#
# The targets changed, so from the same starting weights gradient descent follows another path. Which seeds
# fail depends on the task, not only on the initialisation.
# ````
#
# ```{exercise}
# :label: day04-relu
# The 2025 article uses a ReLU hidden layer, $a_1 = \max(0, z_1)$, with He initialisation
# ($W_1 \sim \mathcal N(0, 2/n_\text{in})$) and $b_1 = 0.01$, and keeps the sigmoid output. Change `forward`
# and `backward` accordingly, check the new gradients with `grad_check`, and train a 2-4-1 network on XOR.
# Why is $b_1$ set to a small positive value?
# ```
#
# ```{solution} day04-relu
# :class: dropdown
# Only the hidden activation and its derivative change: ReLU's derivative is 1 where $z_1>0$ and 0 elsewhere.
#
#     def forward_relu(params, x):
#         z1 = x @ params["W1"] + params["b1"]
#         a1 = np.maximum(z1, 0.0)
#         yhat = sigmoid(a1 @ params["W2"] + params["b2"])
#         return yhat, {"x": x, "z1": z1, "a1": a1, "yhat": yhat}
#
#     def backward_relu(params, cache, y):
#         x, z1, a1, yhat = cache["x"], cache["z1"], cache["a1"], cache["yhat"]
#         delta2 = (yhat - y) * yhat * (1 - yhat) / len(x)       # the output layer is unchanged
#         delta1 = (delta2 @ params["W2"].T) * (z1 > 0)
#         return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0),
#                 "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}
#
#     rng = np.random.default_rng(0)
#     relu_params = {"W1": rng.normal(0, np.sqrt(2 / 2), (2, 4)), "b1": np.full(4, 0.01),
#                    "W2": rng.normal(0, np.sqrt(2 / 4), (4, 1)), "b2": np.zeros(1)}
#
# `grad_check` passes (ReLU has a kink at 0, but no $z_1$ lands exactly there). With lr 0.2 and 5,000 epochs
# most seeds solve XOR, and some get stuck just as with sigmoids. A ReLU unit whose $z_1$ is negative for every input outputs 0 and gets zero
# gradient forever (a *dead* unit); input $(0,0)$ gives $z_1 = b_1$, so $b_1 = 0.01 > 0$ keeps every unit
# alive on it at the start. He's variance $2/n_\text{in}$ compensates for ReLU zeroing half of its inputs, so
# activations keep their scale from layer to layer.
# ```
#
# ```{exercise}
# :label: day04-sum
# The 2025 article's code *sums* the gradients over the batch instead of averaging them (it drops the $1/N$
# in $\delta_2$) and trains with lr 0.05. What averaged learning rate is that? Which learning rate with summed
# gradients reproduces our run exactly, and what goes wrong with summed gradients on a larger data set?
# ```
#
# ```{solution} day04-sum
# :class: dropdown
# Summing multiplies every gradient by $N$, so a step $\eta\sum_n g_n = (N\eta)\,\frac1N\sum_n g_n$: summed
# gradients with lr $\eta$ are averaged gradients with lr $N\eta$. On XOR, $N=4$: the article's 0.05 is an
# averaged lr of 0.2, and our lr 1 with averages equals lr 0.25 with sums (exactly the same numbers: 4 and
# 1/4 are powers of two, so even the rounding agrees). With sums, the effective step grows with the data set: a learning rate tuned on 4 samples
# diverges on 4,000. Averaging keeps the learning rate independent of the batch size, which is why
# PyTorch's losses default to `reduction="mean"`.
# ```
