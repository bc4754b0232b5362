# %% [markdown]
# # Day 03: Gradient descent
#
# Day 02's perceptron learned AND and OR with a rule written by hand. Deep networks cannot be trained that
# way: nobody can write the update rule of a million weights. They are trained by *gradient descent*: define
# a loss that measures how wrong the model is, compute its slope with respect to every parameter, and take
# a small step downhill. Today we run gradient descent on a loss we can draw, watch what the learning rate
# does, see why the step function of day 02 gives it nothing to work with, and meet the smooth activations
# and the softmax/cross-entropy pair that the rest of the course uses.
#
# **Objectives**
# - derive the gradient of the mean squared error of a linear model and check it numerically;
# - draw a loss surface and the paths of gradient descent for a learning rate that is too small, good,
#   oscillating and divergent, and relate the limit to the curvature of the loss;
# - show that a step activation has a zero gradient, so gradient descent cannot move its weights;
# - plot sigmoid, tanh, ReLU and GELU with their derivatives, checked against PyTorch's autograd;
# - compute softmax, log-softmax and cross-entropy stably, and check that cross-entropy is the negative
#   log-likelihood of the log-softmax.
#
# **Profiles.** Everything here runs on small synthetic data and truth tables, the same in every profile;
# the whole notebook takes seconds. There is no figure from the source articles to chase.

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

cfg = setup("day03", PROFILE)

# %% [markdown]
# ## A linear model and its loss
#
# Take one input $x$ and one output $y$, and the model $\hat y = wx + b$: a single neuron without
# activation. The data are synthetic: points on a line with some noise, so we know the answer. The
# *mean squared error* over the $N$ points measures how far the model is from them:
#
# $$
# L(w, b) = \frac{1}{N}\sum_{i=1}^{N} \left(\hat y_i - y_i\right)^2 = \frac{1}{N}\sum_{i=1}^{N} \left(w x_i + b - y_i\right)^2 .
# $$
#
# The chain rule gives its slope along each parameter. With the residual $r_i = \hat y_i - y_i$,
#
# $$
# \frac{\partial L}{\partial w} = \frac{2}{N}\sum_{i} r_i\, x_i, \qquad
# \frac{\partial L}{\partial b} = \frac{2}{N}\sum_{i} r_i .
# $$
#
# The gradient $\nabla L = (\partial L/\partial w, \partial L/\partial b)$ points uphill; its size says how
# steep the slope is.

# %%
import numpy as np

rng = np.random.default_rng(cfg.seed)
x = rng.normal(cfg.x_mean, cfg.x_std, cfg.n_points)
y = cfg.true_w * x + cfg.true_b + cfg.noise * rng.normal(size=cfg.n_points)


def mse(w, b):
    """Mean squared error of y_hat = w * x + b; w and b may be arrays of the same shape (a grid)."""
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    residuals = w[..., None] * x + b[..., None] - y
    return np.mean(residuals**2, axis=-1)


def mse_gradient(w, b):
    """(dL/dw, dL/db) of the mean squared error, from the formulas above."""
    residuals = w * x + b - y
    return np.array([2 * np.mean(residuals * x), 2 * np.mean(residuals)])


w_best, b_best = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)[0]
print(f"{cfg.n_points} points; least-squares line: w = {w_best:.4f}, b = {b_best:.4f}, "
      f"loss = {mse(w_best, b_best):.4f}")

# %% [markdown]
# Before using a gradient formula, check it. `helpers.grad_check` nudges each parameter by $\pm\epsilon$ and
# compares the *finite difference* $\big(L(\theta+\epsilon) - L(\theta-\epsilon)\big)/2\epsilon$ with the
# formula. A relative error around $10^{-10}$ means the formula is right; a wrong factor of 2 would give
# about $0.3$.

# %%
from helpers import glue, grad_check

point = {"w": np.array([-1.0]), "b": np.array([2.5])}
formula = mse_gradient(point["w"][0], point["b"][0])
errors = grad_check(lambda: float(mse(point["w"][0], point["b"][0])), point,
                    {"w": formula[:1], "b": formula[1:]}, verbose=False)
for name, error in errors.items():  # print the verdict; the last digits of the error vary by machine
    print(f"dL/d{name} at (w, b) = (-1, 2.5): {formula[int(name == 'b')]:.4f}, "
          + ("ok (relative error below 1e-7)" if error < 1e-7 else f"WRONG (relative error {error:.1e})"))

# %% [markdown]
# ## Gradient descent and the learning rate
#
# Gradient descent starts somewhere and repeats one update: step against the gradient, by a fraction
# $\eta$ of it, the *learning rate*:
#
# $$
# (w, b) \leftarrow (w, b) - \eta\, \nabla L(w, b).
# $$
#
# The gradient says which way is downhill, but only locally; $\eta$ says how far to trust it. We start at
# the same point four times with four learning rates and draw the path on the contour lines of $L$ (each
# line joins points of equal loss; the star is the least-squares solution).

# %%
def gradient_descent(start, lr, steps):
    """Plain gradient descent on the MSE; returns the (steps + 1) × 2 array of points visited."""
    params = np.array(start, dtype=np.float64)
    path = [params.copy()]
    for _ in range(steps):
        params = params - lr * mse_gradient(*params)
        path.append(params.copy())
    return np.array(path)


paths = {f"{name} (lr={lr})": gradient_descent(cfg.start, lr, cfg.gd_steps)
         for name, lr in cfg.learning_rates.items()}

# %%
import matplotlib.pyplot as plt

from helpers import viz

fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), sharex=True, sharey=True)
for ax, (label, path) in zip(axes.flat, paths.items(), strict=True):
    viz.loss_surface(mse, (-1.5, 4.5), (-3.5, 3.5), paths={label: path}, minimum=(w_best, b_best), ax=ax,
                     title=label)
fig.suptitle(f"Gradient descent on the MSE surface: {cfg.gd_steps} steps from the square")
fig.tight_layout()

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
for label, path in paths.items():
    ax.plot(mse(path[:, 0], path[:, 1]), marker="o", markersize=2.5, label=label)
ax.axhline(mse(w_best, b_best), color="black", linestyle=":", label="minimum")
ax.set(yscale="log", xlabel="step", ylabel="loss (log scale)", title="Loss per step")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# Four behaviours from one formula:
#
# - **too small**: every step goes the right way but barely moves; after all the steps the loss is still
#   far from the minimum;
# - **good**: the loss drops fast, then the path creeps along the long flat valley;
# - **oscillating**: each step overshoots the valley floor and lands on the opposite wall; the path
#   zig-zags across the valley but still converges;
# - **divergent**: each step overshoots by *more* than the previous one, and the loss grows without bound.
#
# The numbers tell the same story. Divergence is not a slow failure: the distance to the minimum is
# multiplied by about the same factor at every step, so the loss grows geometrically.

# %%
loss_table = {label: mse(path[:, 0], path[:, 1]) for label, path in paths.items()}
print("step " + "".join(f"{label.split(' (')[0]:>13}" for label in loss_table))
for step in range(0, cfg.gd_steps + 1, 10):
    print(f"{step:>4} " + "".join(f"{losses[step]:>13.4f}" for losses in loss_table.values()))

final_losses = {label.split(" (")[0]: losses[-1] for label, losses in loss_table.items()}
divergent = paths[[label for label in paths if label.startswith("divergent")][0]]
distance = np.linalg.norm(divergent - [w_best, b_best], axis=1)
growth = distance[-1] / distance[-2]
glue("day03_min_loss", float(mse(w_best, b_best)))
glue("day03_final_too_small", float(final_losses["too small"]))
glue("day03_final_good", float(final_losses["good"]))
glue("day03_final_divergent", float(final_losses["divergent"]))
glue("day03_growth", float(growth))
glue("day03_steps", cfg.gd_steps)
print(f"divergent run: in the last step the distance to the minimum grew x{growth:.3f} "
      f"and the loss x{final_losses['divergent'] / loss_table[list(paths)[-1]][-2]:.3f}")

# %% [markdown]
# After {glue:text}`day03_steps` steps the good learning rate reaches a loss of
# {glue:text}`day03_final_good:.4f` (the minimum is {glue:text}`day03_min_loss:.4f`), the too-small one is
# still at {glue:text}`day03_final_too_small:.4f`, and the divergent one has climbed to
# {glue:text}`day03_final_divergent:.4g`, its distance to the minimum growing by a factor of
# {glue:text}`day03_growth:.3f` per step.
#
# Why is the border between "oscillating" and "divergent" so sharp? Because this loss is a quadratic in
# $(w, b)$: its second derivatives, the *Hessian*
#
# $$
# H = \frac{2}{N}\begin{pmatrix} \sum_i x_i^2 & \sum_i x_i \\ \sum_i x_i & N \end{pmatrix},
# $$
#
# are the same everywhere. Along each eigenvector of $H$, one gradient-descent step multiplies the distance
# to the minimum by $1 - \eta\lambda$, where $\lambda$ is the eigenvalue, the *curvature* in that direction.
# The run converges if and only if $|1 - \eta\lambda| < 1$ for every eigenvalue, that is
# $\eta < 2/\lambda_{\max}$: the steepest direction sets the limit, and the flattest one sets the speed.

# %%
hessian = 2 / len(x) * np.array([[np.sum(x**2), np.sum(x)], [np.sum(x), len(x)]])
curvatures = np.linalg.eigvalsh(hessian)
lr_limit = 2 / curvatures.max()
print(f"curvatures (eigenvalues of H): {curvatures.round(4)}; stable if lr < 2 / {curvatures.max():.4f} "
      f"= {lr_limit:.4f}")
glue("day03_lr_limit", float(lr_limit))
for name, lr in cfg.learning_rates.items():
    factors = np.abs(1 - lr * curvatures)
    print(f"{name:>12} lr={lr:<5} |1 - lr*curvature| = {factors.round(3)} -> "
          f"{'diverges' if factors.max() > 1 else 'converges'}")

# %% [markdown]
# The limit here is $\eta <$ {glue:text}`day03_lr_limit:.4f`, between the oscillating and the divergent
# learning rates. Real networks are not quadratic, but near a minimum they look like one, which is why a
# learning rate that is "a bit too large" blows up instead of merely slowing down.
#
# ## A step activation cannot learn by gradient descent
#
# Day 02's perceptron computes $\hat y = \mathrm{step}(w \cdot x + b)$ with $\mathrm{step}(z) = 1$ for
# $z \ge 0$ and $0$ otherwise. Its loss has a gradient too, by the chain rule:
#
# $$
# \frac{\partial L}{\partial w} = \frac{2}{N}\sum_i (\hat y_i - y_i)\,\mathrm{step}'(z_i)\, x_i ,
# \qquad \mathrm{step}'(z) = 0 \text{ for every } z \neq 0 .
# $$
#
# The step is flat everywhere except at $0$, where it jumps and has no derivative at all. So every term is
# multiplied by zero: the gradient is exactly zero, whatever the weights, and gradient descent never moves.
# Let us watch it fail on the OR truth table, then swap the step for the smooth sigmoid
# $\sigma(z) = 1/(1+e^{-z})$, whose derivative $\sigma(1-\sigma)$ is never zero.

# %%
x_or = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
y_or = np.array([0, 1, 1, 1], dtype=np.float64)


def step(z):
    return (z >= 0).astype(np.float64)


def step_derivative(z):
    return np.zeros_like(z)  # 0 wherever it exists (it does not exist at z = 0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))


def neuron_loss_and_gradient(w, b, activation, derivative):
    """MSE of y_hat = activation(x_or @ w + b) on the OR table, and its gradient by the chain rule."""
    z = x_or @ w + b
    errors = activation(z) - y_or
    dloss_dz = 2 * errors * derivative(z) / len(y_or)
    return float(np.mean(errors**2)), x_or.T @ dloss_dz, float(dloss_dz.sum())


def train_neuron(activation, derivative, w, b, lr, epochs):
    """Full-batch gradient descent; returns the final (w, b) and the loss per epoch."""
    w, b, losses = w.copy(), float(b), []
    for _ in range(epochs):
        loss, grad_w, grad_b = neuron_loss_and_gradient(w, b, activation, derivative)
        w, b = w - lr * grad_w, b - lr * grad_b
        losses.append(loss)
    return w, b, losses


w0, b0 = np.array([-0.5, 0.3]), -0.2
loss, grad_w, grad_b = neuron_loss_and_gradient(w0, b0, step, step_derivative)
print(f"step neuron at w={w0}, b={b0}: predictions {step(x_or @ w0 + b0).astype(int)}, loss {loss:.4f}")
print(f"chain-rule gradient: dL/dw = {grad_w}, dL/db = {grad_b}")

# %% [markdown]
# Finite differences agree: nudging a weight by a tiny $\epsilon$ does not flip any prediction, so the
# loss does not change at all, and the numerical gradient is exactly zero too.

# %%
from helpers import compare
from helpers.checks import numerical_gradient

step_params = {"w": w0.copy(), "b": np.array([b0])}


def step_loss():
    return neuron_loss_and_gradient(step_params["w"], step_params["b"][0], step, step_derivative)[0]


compare("dL/dw, finite differences", numerical_gradient(step_loss, step_params["w"]), grad_w)
compare("dL/db, finite differences", numerical_gradient(step_loss, step_params["b"]), [grad_b])

w_step, b_step, losses_step = train_neuron(step, step_derivative, w0, b0, cfg.gate_lr, cfg.gate_epochs)
w_sig, b_sig, losses_sig = train_neuron(sigmoid, sigmoid_derivative, w0, b0, cfg.gate_lr, cfg.gate_epochs)
glue("day03_step_loss", losses_step[-1])
glue("day03_sigmoid_loss", losses_sig[-1])
print(f"after {cfg.gate_epochs} epochs of gradient descent (lr={cfg.gate_lr}):")
print(f"  step:    weights unchanged: {np.array_equal(w_step, w0) and b_step == b0}, "
      f"loss {losses_step[0]:.4f} -> {losses_step[-1]:.4f}, "
      f"predictions {step(x_or @ w_step + b_step).astype(int)}")
print(f"  sigmoid: w = {w_sig.round(3)}, b = {b_sig:.3f}, loss {losses_sig[0]:.4f} -> {losses_sig[-1]:.4f}, "
      f"predictions {(sigmoid(x_or @ w_sig + b_sig) >= 0.5).astype(int)}")

# %% [markdown]
# The step neuron ends where it started, with a loss of {glue:text}`day03_step_loss:.4f`; the sigmoid neuron,
# from the same weights, learns OR (loss {glue:text}`day03_sigmoid_loss:.4f`). The picture shows why: along
# one weight, the step neuron's loss is a staircase of flat plateaus, and gradient descent only sees the
# plateau it stands on. The sigmoid turns the staircase into a slope.

# %%
w1_values = np.linspace(-3, 3, 601)
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, activation, derivative in (("step", step, step_derivative), ("sigmoid", sigmoid, sigmoid_derivative)):
    slice_losses = [neuron_loss_and_gradient(np.array([w1, w0[1]]), b0, activation, derivative)[0]
                    for w1 in w1_values]
    ax.plot(w1_values, slice_losses, label=name)
ax.axvline(w0[0], color="grey", linestyle=":", label="start")
ax.set(xlabel="$w_1$ (other weights fixed)", ylabel="MSE on OR", title="Loss along one weight")
ax.legend()
fig.tight_layout()

# %% [markdown]
# Day 02's perceptron rule $w \leftarrow w + \eta\,(y - \hat y)\,x$ *did* learn, because it is not gradient
# descent on this loss: it is what the chain rule would give if the step's derivative were replaced by 1.
# That trick works for one neuron; for a network of many layers we need activations that are
# differentiable, with derivatives that are not zero almost everywhere.
#
# ## Activation functions and their derivatives
#
# Four activations cover most of the course:
#
# $$
# \begin{aligned}
# \sigma(z) &= \frac{1}{1+e^{-z}}, & \sigma'(z) &= \sigma(z)\,\big(1-\sigma(z)\big),\\
# \tanh(z) &= \frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}, & \tanh'(z) &= 1-\tanh^2(z),\\
# \mathrm{ReLU}(z) &= \max(0, z), & \mathrm{ReLU}'(z) &= \mathbb{1}[z > 0],\\
# \mathrm{GELU}(z) &= z\,\Phi(z), & \mathrm{GELU}'(z) &= \Phi(z) + z\,\varphi(z),
# \end{aligned}
# $$
#
# where $\Phi$ and $\varphi$ are the cumulative distribution and the density of the standard normal
# distribution. ReLU has no derivative at $0$ either, but only at that one point; the convention (PyTorch's
# too) is to use $0$ there. We write them in NumPy and check the derivatives against PyTorch's autograd,
# which differentiates its own implementation of each function.

# %%
import torch
import torch.nn.functional as F
from scipy.special import erf

SQRT2 = np.sqrt(2.0)


def normal_cdf(z):
    return 0.5 * (1 + erf(z / SQRT2))


def normal_pdf(z):
    return np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)


activations = {  # name -> (function, derivative, PyTorch's function)
    "sigmoid": (sigmoid, sigmoid_derivative, torch.sigmoid),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2, torch.tanh),
    "ReLU": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(np.float64), torch.relu),
    "GELU": (lambda z: z * normal_cdf(z), lambda z: normal_cdf(z) + z * normal_pdf(z), F.gelu),
}
# compare at a fixed, tight tolerance, printing the verdict only: the last bits of rounding noise differ
# between machines (a WRONG verdict still prints the largest difference).
TIGHT = {"atol": 1e-12, "rtol": 0.0, "show_diff": False}

z_grid = np.linspace(-4, 4, 161)  # includes z = 0
for name, (function, derivative, torch_function) in activations.items():
    z = torch.tensor(z_grid, dtype=torch.float64, requires_grad=True)
    torch_function(z).sum().backward()  # d(sum_i f(z_i))/dz_i = f'(z_i)
    compare(f"{name}(z)", function(z_grid), torch_function(z.detach()), **TIGHT)
    compare(f"{name}'(z) vs autograd", derivative(z_grid), z.grad, **TIGHT)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
axes[0].plot(z_grid, step(z_grid), label="step", color="grey", linestyle="--")
axes[1].plot(z_grid, step_derivative(z_grid), label="step", color="grey", linestyle="--")
for name, (function, derivative, _) in activations.items():
    axes[0].plot(z_grid, function(z_grid), label=name)
    axes[1].plot(z_grid, derivative(z_grid), label=name)
axes[0].set(xlabel="z", title="activation f(z)", ylim=(-1.2, 2.2))
axes[1].set(xlabel="z", title="derivative f'(z)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()

max_sigmoid_slope = float(sigmoid_derivative(z_grid).max())
sigmoid_slope_at_4 = float(sigmoid_derivative(4.0))
glue("day03_sigmoid_max_slope", max_sigmoid_slope)
glue("day03_sigmoid_slope_4", sigmoid_slope_at_4)
print(f"largest sigmoid slope {max_sigmoid_slope:.4f} (at z=0); at z=4 it is {sigmoid_slope_at_4:.4f}")

# %% [markdown]
# Read the right panel as "how much gradient passes through". The sigmoid lets through at most
# {glue:text}`day03_sigmoid_max_slope:.2f` of it, and only {glue:text}`day03_sigmoid_slope_4:.4f` at
# $z = 4$: through several sigmoid layers the products of such factors shrink fast (the *vanishing
# gradient* of day 04 and day 12). Tanh is a rescaled sigmoid, centred on zero, with slope 1 at the origin.
# ReLU passes the gradient unchanged for $z > 0$ and blocks it for $z < 0$; GELU, used in Transformers,
# is a smooth ReLU with a small negative dip. The step, flat at zero, passes nothing.
#
# ## Softmax, log-softmax and cross-entropy
#
# For $K$ classes a network outputs $K$ scores, the *logits* $z_1, \dots, z_K$. The softmax turns them into
# probabilities, and the cross-entropy of the true class $y$ is the negative log of its probability,
# averaged over the batch:
#
# $$
# p_k = \mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad
# \mathrm{CE}(z, y) = -\log p_y = -\log\mathrm{softmax}(z)_y .
# $$
#
# The softmax does not change when the same constant is added to every logit, so computing it as written is
# an accident waiting to happen: $e^{1000}$ overflows to infinity, and $\infty/\infty$ is not a number.

# %%
def softmax_naive(z):
    exps = np.exp(z)
    return exps / exps.sum(axis=-1, keepdims=True)


big_logits = np.array([1000.0, 1001.0, 1002.0])
with np.errstate(over="ignore", invalid="ignore"):  # silence the overflow warnings: we show the result
    print("naive softmax of", big_logits, "->", softmax_naive(big_logits))
print("naive softmax of", big_logits - 1000, "->", softmax_naive(big_logits - 1000).round(4))

# %% [markdown]
# The fix is the *log-sum-exp* trick: subtract the largest logit $m$ first, so that the largest exponent is
# $e^0 = 1$ and nothing overflows, and work with logarithms:
#
# $$
# \log\mathrm{softmax}(z)_k = z_k - \log\sum_j e^{z_j} = (z_k - m) - \log\sum_j e^{z_j - m} .
# $$
#
# Then the cross-entropy is the *negative log-likelihood* (NLL) of the log-softmax: pick the entry of the
# true class and change its sign. PyTorch splits it the same way: `F.cross_entropy(z, y)` is
# `F.nll_loss(F.log_softmax(z), y)`.

# %%
def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z):
    return np.exp(log_softmax(z))


def nll(log_probabilities, targets):
    """Mean negative log-probability of the target classes."""
    return -np.mean(log_probabilities[np.arange(len(targets)), targets])


def cross_entropy(logits, targets):
    return nll(log_softmax(logits), targets)


print("stable softmax of", big_logits, "->", softmax(big_logits).round(4))
compare("softmax vs torch", softmax(big_logits), torch.softmax(torch.tensor(big_logits), dim=-1),
        **TIGHT)

logits = 3 * rng.normal(size=(8, 5))
targets = rng.integers(0, 5, size=8)
logits_t, targets_t = torch.tensor(logits, requires_grad=True), torch.tensor(targets)
torch_ce = F.cross_entropy(logits_t, targets_t)
compare("log_softmax vs torch", log_softmax(logits), F.log_softmax(logits_t, dim=-1), **TIGHT)
compare("CE vs F.cross_entropy", cross_entropy(logits, targets), torch_ce, **TIGHT)
compare("CE = NLL(log_softmax)", cross_entropy(logits, targets),
        F.nll_loss(F.log_softmax(logits_t, dim=-1), targets_t), **TIGHT)
compare("CE, logits x 1000", cross_entropy(1000 * logits, targets),
        F.cross_entropy(1000 * logits_t, targets_t), atol=1e-9, rtol=0.0, show_diff=False)
print(f"cross-entropy of the batch: {cross_entropy(logits, targets):.4f}")

# %% [markdown]
# The cross-entropy has the simplest gradient of all, which is one reason it is paired with the softmax:
# with respect to the logits it is the predicted probabilities minus the one-hot target, divided by the
# batch size,
#
# $$
# \frac{\partial\,\mathrm{CE}}{\partial z_k} = \frac{1}{N}\big(p_k - \mathbb{1}[k = y]\big).
# $$

# %%
torch_ce.backward()
one_hot = np.eye(logits.shape[1])[targets]
compare("dCE/dz vs autograd", (softmax(logits) - one_hot) / len(targets), logits_t.grad,
        **TIGHT)

# %% [markdown]
# Two practical consequences. A classifier in PyTorch ends with a linear layer and **no softmax**:
# `nn.CrossEntropyLoss` takes the raw logits and applies the stable log-softmax itself (adding a softmax
# before it would apply it twice). And when you need probabilities, compute `log_softmax` and exponentiate,
# or call `softmax`, but never `exp` the logits yourself.
#
# ## Exercises
#
# ```{exercise}
# :label: day03-gradient
# Derive $\partial L/\partial w$ and $\partial L/\partial b$ for the loss $L = \frac{1}{2N}\sum_i (wx_i + b - y_i)^2$
# (with a factor $\tfrac12$, as in the 2024 article) and write them in `half_mse_gradient(w, b)`, which
# returns `(dL/dw, dL/db)` for the data `x`, `y` above. The cell compares them with finite differences at a
# few points. How do they differ from the ones above, and how does the factor change the learning rates of
# the paths?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_gradient


def half_mse_gradient(w: float, b: float) -> tuple[float, float]:
    """(dL/dw, dL/db) of L = 1/(2N) * sum_i (w x_i + b - y_i)^2."""
    ### BEGIN SOLUTION
    r = w * x + b - y  # the residuals
    return float(np.mean(r * x)), float(np.mean(r))
    ### END SOLUTION


for w_at, b_at in ((-1.0, 2.5), (0.7, -0.3), (w_best, b_best + 1.0)):  # away from the minimum, where grad = 0
    at = {"w": np.array([w_at]), "b": np.array([b_at])}  # perturbed in place by the finite differences
    dw, db = half_mse_gradient(w_at, b_at)
    check_gradient(f"half-MSE gradient at (w, b) = ({w_at:.2f}, {b_at:.2f})",
                   lambda at=at: 0.5 * float(mse(at["w"][0], at["b"][0])),
                   at, {"w": np.reshape(dw, 1), "b": np.reshape(db, 1)})

# %% [markdown]
# ```{solution} day03-gradient
# :class: dropdown
# With $r_i = wx_i + b - y_i$ the chain rule gives $\partial L/\partial w = \frac1N\sum_i r_i x_i$ and
# $\partial L/\partial b = \frac1N\sum_i r_i$: half the gradients above. The same paths need twice the
# learning rate, and the stability limit doubles too.
# ```
#
# ```{exercise}
# :label: day03-curvature
# (a) For $f(\theta) = \frac{a}{2}\theta^2$ with $a > 0$, write one step of gradient descent as
# $\theta_{t+1} = c\,\theta_t$. For which $\eta$ does $\theta_t \to 0$? For which does it oscillate?
# Which $\eta$ reaches the minimum in one step?
# (b) On the 2-D surface there are two curvatures $\lambda_{\min} < \lambda_{\max}$ and a single $\eta$.
# Show that the $\eta$ that makes the slowest direction converge fastest is $2/(\lambda_{\min}+\lambda_{\max})$,
# run `gradient_descent` with it and compare the loss after the same number of steps with the "good" run.
# ```
#
# ````{solution} day03-curvature
# :class: dropdown
# (a) $f'(\theta) = a\theta$, so $\theta_{t+1} = \theta_t - \eta a\theta_t = (1 - \eta a)\,\theta_t$. It
# converges iff $|1 - \eta a| < 1$, i.e. $0 < \eta < 2/a$: the largest stable learning rate is the inverse of
# the curvature, times two. For $1/a < \eta < 2/a$ the factor is negative and $\theta$ changes sign at every
# step (oscillation); $\eta = 1/a$ lands on the minimum in one step; $\eta > 2/a$ diverges geometrically.
#
# (b) The slowest direction contracts by $\max(|1-\eta\lambda_{\min}|, |1-\eta\lambda_{\max}|)$ per step.
# The first term decreases and the second increases with $\eta$, so the maximum is smallest where they are
# equal: $1 - \eta\lambda_{\min} = \eta\lambda_{\max} - 1$, i.e. $\eta = 2/(\lambda_{\min}+\lambda_{\max})$,
# with factor $(\kappa-1)/(\kappa+1)$, $\kappa = \lambda_{\max}/\lambda_{\min}$ (the *condition number*).
#
# ```python
# best_lr = 2 / curvatures.sum()
# path = gradient_descent(cfg.start, best_lr, cfg.gd_steps)
# excess = lambda loss: loss - mse(w_best, b_best)          # distance to the minimum loss
# print(best_lr, excess(mse(*path[-1])), excess(final_losses["good"]))
# ```
# Both runs end close to the minimum, but the excess loss of the best learning rate is far smaller than
# that of the "good" one.
# The larger $\kappa$, the slower the best possible plain gradient descent: this is what momentum and
# Adam (day 05) try to fix.
# ````
#
# ```{exercise}
# :label: day03-momentum
# Gradient descent with *momentum* keeps a running direction: $v \leftarrow \beta v + \nabla L$,
# $\theta \leftarrow \theta - \eta v$, with $v = 0$ at the start. Write `momentum_descent(start, lr, beta, steps)`,
# run it with the "too small" learning rate and $\beta = 0.9$, and draw both paths with `viz.loss_surface`.
# How many steps does each need to get within 1% of the minimum loss?
# ```
#
# ````{solution} day03-momentum
# :class: dropdown
# ```python
# def momentum_descent(start, lr, beta, steps):
#     params, velocity = np.array(start, dtype=np.float64), np.zeros(2)
#     path = [params.copy()]
#     for _ in range(steps):
#         velocity = beta * velocity + mse_gradient(*params)
#         params = params - lr * velocity
#         path.append(params.copy())  # the point reached by this step
#     return np.array(path)
#
# lr = cfg.learning_rates["too small"]
# runs = {"plain": gradient_descent(cfg.start, lr, 400), "momentum": momentum_descent(cfg.start, lr, 0.9, 400)}
# viz.loss_surface(mse, (-1.5, 4.5), (-3.5, 3.5), paths=runs, minimum=(w_best, b_best))
# target = 1.01 * mse(w_best, b_best)
# for name, path in runs.items():
#     print(name, np.argmax(mse(path[:, 0], path[:, 1]) <= target))
# ```
# Momentum accumulates the small, consistent gradient along the flat valley, so its effective step there is
# about $\eta/(1-\beta) = 10\eta$, and it needs several times fewer steps. It overshoots and curls around
# the minimum at first; that is the price of the speed.
# ````

# %% [markdown]
# ```{exercise}
# :label: day03-bce
# A one-neuron classifier such as the OR neuron outputs one logit $z$ and the probability $\sigma(z)$; its
# *binary cross-entropy* with a target $y \in [0, 1]$ is
#
# $$
# \mathrm{BCE}(z, y) = -\big(y \log\sigma(z) + (1 - y)\log(1 - \sigma(z))\big).
# $$
#
# Computed as written it fails for large $|z|$: $\sigma(40)$ is exactly 1 in `float64`, so $\log(1-\sigma)$
# is $-\infty$. Write `bce_with_logits(z, y)` so that it is accurate and finite for every logit up to
# $|z| = 1000$ (hint: $\log\sigma(z) = -\log(1 + e^{-z})$ and $1 - \sigma(z) = \sigma(-z)$; or note that
# $\sigma(z)$ is the softmax of the two logits $(0, z)$). The cell compares it with PyTorch's
# `F.binary_cross_entropy_with_logits`.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def bce_with_logits(z: float, y: float) -> float:
    """-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))), stable for large |z|."""
    ### BEGIN SOLUTION
    # BCE = softplus(z) - y z, and softplus(z) = max(z, 0) + log(1 + e^{-|z|}) never overflows
    return float(max(z, 0.0) - z * y + np.log1p(np.exp(-abs(z))))
    ### END SOLUTION


def torch_bce(z: float, y: float) -> float:
    """PyTorch's reference value, in float64."""
    return F.binary_cross_entropy_with_logits(torch.tensor(z, dtype=torch.float64),
                                              torch.tensor(y, dtype=torch.float64)).item()


bce_inputs = [(0.0, 1.0), (2.5, 1.0), (2.5, 0.0), (-3.0, 0.3), (40.0, 0.0), (-40.0, 1.0),
              (1000.0, 0.0), (-1000.0, 1.0), (1000.0, 1.0), (-1000.0, 0.25)]
check_function("bce_with_logits", bce_with_logits, [((z, t), torch_bce(z, t)) for z, t in bce_inputs])

# %% [markdown]
# ```{solution} day03-bce
# :class: dropdown
# $-\log\sigma(z) = \log(1 + e^{-z})$ and $-\log(1 - \sigma(z)) = -\log\sigma(-z) = \log(1 + e^{z})$, so
# $\mathrm{BCE} = y\log(1 + e^{-z}) + (1 - y)\log(1 + e^{z}) = \log(1 + e^{z}) - yz$, the *softplus* of $z$
# minus $yz$. The softplus overflows as written for large $z$, so factor out the larger exponent, exactly
# like the log-sum-exp trick: $\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})$, where the exponent is
# never positive. `np.log1p` keeps the last term accurate when $e^{-|z|}$ is tiny. Through the hint,
# $\mathrm{BCE}(z, y)$ is also the two-class cross-entropy of the logits $(0, z)$ with the soft target
# $(1 - y, y)$, which `log_softmax` computes stably. PyTorch's `BCEWithLogitsLoss` exists for the same
# reason as `CrossEntropyLoss`: it takes logits, not probabilities.
# ```
#
# ````{exercise}
# :label: day03-find-fix
# **Find and fix.** The 2025 article trains a one-neuron OR classifier with code like this, and reports that
# after one step `grad_w` is `[0. 0.]` and only the bias moved, which it blames on the step function's zero
# derivative:
#
# ```python
# z = x_or @ w + b
# y_pred = (z < 0).astype(int)          # the activation
# err = y_pred - y_or
# grad_w = x_or.T @ err / len(x_or)
# grad_b = err.mean()
# w, b = w - lr * grad_w, b - lr * grad_b
# ```
#
# (a) Find the bug in the activation line. (b) Start from the article's weights $w = (1.25, 1.94)$,
# $b = 1.50$ with the activation fixed: what are the predictions, `grad_w` and `grad_b`? Is the zero in
# `grad_w` caused by the step function? (c) Is `grad_w` the gradient of the MSE of this neuron? What is?
# ````
#
# ```{solution} day03-find-fix
# :class: dropdown
# (a) The step is inverted: it must be `(z >= 0)`, 1 when the weighted sum reaches the threshold.
#
# (b) With positive weights and bias every $z$ is positive, so all four predictions are 1. Only the first
# sample, $x = (0, 0)$ with label 0, is wrong: `err = [1, 0, 0, 0]`, hence `grad_b = 0.25` and
# `grad_w = x_or.T @ err / 4 = [0, 0]`, because the only wrong sample has $x = 0$. The zero comes from the
# data, not from the step: the weights of an input that is 0 cannot be blamed for the error.
#
# (c) No. `err * x` is the perceptron rule: it leaves out the factor $\mathrm{step}'(z)$ of the chain rule,
# as if the derivative were 1. The true gradient of the MSE through the step is
# `neuron_loss_and_gradient(w, b, step, step_derivative)`: zero for $w$ **and** $b$, so true gradient
# descent would move nothing at all. The article's loop does learn OR, but as a perceptron, not by gradient
# descent; use a sigmoid (and its derivative) to make it gradient descent.
# ```
