# %% [markdown]
# # Day 05: PyTorch basics
#
# On day 04 we wrote a 2-2-1 network for XOR in NumPy, and most of the work was the backward pass: every
# gradient derived by hand with the chain rule, coded, and checked with finite differences. A deep-learning
# framework does that part for us. PyTorch records the operations of the forward pass and differentiates
# them automatically (*autograd*), keeps the parameters inside *modules*, and updates them with
# *optimisers*. Today we learn those pieces one at a time, then rebuild day 04's network in a few lines and
# check that PyTorch computes the very same loss and gradients as our NumPy code.
#
# **Objectives**
# - create and reshape tensors: dtype, shape, device, broadcasting, views;
# - compute gradients with autograd, and know why they accumulate and must be zeroed;
# - write an `nn.Module` and know why its method is called `forward`;
# - take SGD and Adam steps by hand and with `torch.optim`, and check that they agree;
# - rebuild the XOR network of day 04, match its loss and gradients with `NumpyMLP`, and train it.
#
# **Profiles.** The data are truth tables and a few random numbers, the same in every profile; the notebook
# takes seconds. Under `gpu` the same cells run on the GPU (`cfg.device`). There is no figure from the
# source articles to chase: the 2025 article trains a similar network but shows no output.

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

cfg = setup("day05", PROFILE)

# %% [markdown]
# ## Tensors
#
# A tensor is PyTorch's array: like a NumPy array, it has a **shape** and a **dtype**; unlike it, it also
# has a **device** (the CPU or a GPU) and can remember how it was computed. PyTorch's default floating type
# is `float32`, half the size of NumPy's `float64`: enough for training, and what GPUs are fast at.

# %%
import numpy as np
import torch

matrix = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(f"shape {tuple(matrix.shape)}, dtype {matrix.dtype}, device {matrix.device}")
print("labels are integers:", torch.tensor([0, 2, 1]).dtype)

array = np.arange(3.0)
shared = torch.from_numpy(array)  # no copy: same memory, NumPy's dtype
shared[0] = 10.0
print(f"from_numpy keeps {shared.dtype} and shares memory: array = {array}")
print("float32 + float64 ->", (matrix[0] + shared).dtype, "(the wider type wins)")

# %% [markdown]
# **Broadcasting** lets tensors of different shapes combine without copies, with NumPy's rules: align the
# shapes on the right; two sizes are compatible if they are equal or one of them is 1, which is stretched.
# A column $(3, 1)$ plus a row $(1, 4)$ gives a $(3, 4)$ table; a bias of shape $(3,)$ is added to every row
# of an $(N, 3)$ batch. Shapes that do not fit are an error, not a guess.

# %%
column = torch.arange(3.0).reshape(3, 1)
row = torch.arange(4.0).reshape(1, 4)
print((10 * column + row), "\n")
try:
    matrix + torch.ones(2)  # (2, 3) + (2,): trailing sizes 3 and 2 differ
except RuntimeError as err:
    print("RuntimeError:", err)

# %% [markdown]
# A **view** is a new tensor that reuses the same memory with another shape: `view`, `reshape` (when it can),
# slicing and `transpose` all make views, so writing into one writes into the other. `view` needs memory laid
# out row after row (*contiguous*); a transposed tensor is not, so `view` refuses and `reshape` copies.
# When you need an independent tensor, `clone()` it.

# %%
flat = matrix.view(6)
flat[0] = 100.0
print("after flat[0] = 100:", matrix[0].tolist(), "| same memory:", flat.data_ptr() == matrix.data_ptr())

transposed = matrix.T
print("transposed is contiguous:", transposed.is_contiguous())
try:
    transposed.view(6)
except RuntimeError as err:
    print("RuntimeError:", str(err).split(".")[0])
print("reshape copies instead:", transposed.reshape(6).tolist())

# %% [markdown]
# ## Autograd
#
# Mark a tensor with `requires_grad=True` and PyTorch records every operation that uses it in a
# *computation graph*. `loss.backward()` walks that graph from the loss back to the inputs, applying the
# chain rule node by node, and adds each gradient to the `.grad` of the leaf tensors. Take one sigmoid
# neuron and a squared error, small enough to differentiate by hand:
#
# $$
# z = wx + b, \qquad \hat y = \sigma(z), \qquad L = (\hat y - t)^2, \qquad
# \frac{\partial L}{\partial w} = 2(\hat y - t)\,\hat y\,(1 - \hat y)\,x, \qquad
# \frac{\partial L}{\partial b} = 2(\hat y - t)\,\hat y\,(1 - \hat y).
# $$

# %%
x_in, target = torch.tensor(2.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
w = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
b = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)

y_hat = torch.sigmoid(w * x_in + b)
loss = (y_hat - target) ** 2
print(f"loss = {loss.item():.6f}, computed by {loss.grad_fn.name()}")
node = loss.grad_fn
while node.next_functions:  # walk the graph back towards w and b
    node = node.next_functions[0][0]
    print("  <-", node.name())

loss.backward()
print(f"autograd: dL/dw = {w.grad.item():.6f}, dL/db = {b.grad.item():.6f}")

# %% [markdown]
# Check autograd against the formulas, with `helpers.compare` at a tight tolerance (the verdict is printed;
# the last bits of floating-point noise are not, because they differ between machines).

# %%
from helpers import compare

# compare at a fixed, tight tolerance, printing the verdict only: the last bits of rounding noise differ
# between machines (a WRONG verdict still prints the largest difference).
TIGHT = {"atol": 1e-12, "rtol": 0.0, "show_diff": False}

with torch.no_grad():  # plain arithmetic: nothing to record
    dloss_dz = 2 * (y_hat - target) * y_hat * (1 - y_hat)
compare("dL/dw, chain rule", dloss_dz * x_in, w.grad, **TIGHT)
compare("dL/db, chain rule", dloss_dz, b.grad, **TIGHT)

# %% [markdown]
# **Gradients accumulate.** `backward()` *adds* to `.grad` instead of overwriting it. That is deliberate:
# a loss that is a sum of parts, or a batch too large for memory split into pieces, gets its full gradient by
# calling `backward()` on each part. The price is that before every new step you must reset the gradients
# (`optimizer.zero_grad()`, or `w.grad = None`); forget it and each step uses the sum of all past gradients.

# %%
first = w.grad.clone()
loss = (torch.sigmoid(w * x_in + b) - target) ** 2  # the same forward pass again
loss.backward()
compare("w.grad after 2 backward", w.grad, 2 * first, **TIGHT)
w.grad = None  # what zero_grad() does (by default it sets .grad to None)
b.grad = None
print("after reset:", w.grad)

# %% [markdown]
# Two more tools. Inside `with torch.no_grad():` nothing is recorded: use it to evaluate a model or to update
# parameters by hand. `t.detach()` returns the same values cut from the graph, for example before converting
# to NumPy.

# %%
with torch.no_grad():
    print("recorded inside no_grad:", (w * x_in).requires_grad)
print("recorded outside:", (w * x_in).requires_grad, "| detached:", (w * x_in).detach().requires_grad)

# %% [markdown]
# ## Modules: parameters and `forward`
#
# A model is a subclass of `nn.Module`. In `__init__` it creates its layers; every `nn.Parameter` or
# sub-module assigned as an attribute is registered, so `model.parameters()` finds all the weights for the
# optimiser and `model.to(device)` moves them all. The computation goes in a method that **must be called
# `forward`**: `model(x)` runs `nn.Module.__call__`, which runs any hooks and then calls `self.forward(x)`.
# Name it anything else and the call fails. `nn.Linear(n_in, n_out)` computes $xW^\top + b$ and stores its
# weight with shape `(n_out, n_in)`: the transpose of day 04's `W1`.

# %%
from torch import nn

from helpers import count_parameters


class Neuron(nn.Module):
    """One sigmoid neuron: sigmoid(x @ W.T + b)."""

    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x))


neuron = Neuron(3)
for name, param in neuron.named_parameters():
    print(f"{name:<14} shape {tuple(param.shape)}  requires_grad={param.requires_grad}")
print("parameters (trainable, total):", count_parameters(neuron))
print("output shape for a batch of 5:", tuple(neuron(torch.zeros(5, 3)).shape))


class MisnamedNeuron(nn.Module):
    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, 1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:  # the right computation, under the wrong name
        return torch.sigmoid(self.linear(x))


try:
    MisnamedNeuron(3)(torch.zeros(5, 3))
except NotImplementedError as err:
    print("NotImplementedError:", err)

# %% [markdown]
# ## Optimisers
#
# An optimiser holds a list of parameters and updates them from their `.grad`. Plain SGD is the update of day
# 03, $\theta \leftarrow \theta - \eta g$. Adam keeps two running averages per parameter, of the gradient and
# of its square, corrects their bias towards zero in the first steps, and divides one by the square root of
# the other, so every parameter gets a step of about $\eta$ whatever the scale of its gradient:
#
# $$
# m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
# \hat m = \frac{m}{1-\beta_1^t}, \quad \hat v = \frac{v}{1-\beta_2^t}, \quad
# \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}.
# $$
#
# We write both by hand on a small least-squares problem and check that `torch.optim` takes the same steps.
# Every optimiser step follows the same three lines: `zero_grad()`, `loss.backward()`, `step()`.

# %%
generator = torch.Generator().manual_seed(cfg.seed)
features = torch.randn(cfg.opt_samples, cfg.opt_features, dtype=torch.float64, generator=generator)
targets = features @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)[: cfg.opt_features] + 0.1


def least_squares(theta: torch.Tensor) -> torch.Tensor:
    return ((features @ theta - targets) ** 2).mean()


def gradient(theta: torch.Tensor) -> torch.Tensor:
    """d least_squares / d theta, by autograd on a fresh copy."""
    theta = theta.detach().requires_grad_()
    least_squares(theta).backward()
    return theta.grad


def sgd_by_hand(theta, lr, steps):
    for _ in range(steps):
        theta = theta - lr * gradient(theta)
    return theta


def adam_by_hand(theta, lr, steps, betas=(0.9, 0.999), eps=1e-8):
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for t in range(1, steps + 1):
        g = gradient(theta)
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g**2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        theta = theta - lr * m_hat / (v_hat.sqrt() + eps)
    return theta


def with_torch_optim(make_optimizer, start, steps):
    theta = start.clone().requires_grad_()
    optimizer = make_optimizer([theta])
    for _ in range(steps):
        optimizer.zero_grad()
        least_squares(theta).backward()
        optimizer.step()
    return theta.detach()


start = torch.zeros(cfg.opt_features, dtype=torch.float64)
sgd_mine = sgd_by_hand(start, cfg.sgd_lr, cfg.opt_steps)
adam_mine = adam_by_hand(start, cfg.adam_lr, cfg.opt_steps)
compare("SGD by hand vs optim", sgd_mine,
        with_torch_optim(lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr), start, cfg.opt_steps), **TIGHT)
compare("Adam by hand vs optim", adam_mine,
        with_torch_optim(lambda p: torch.optim.Adam(p, lr=cfg.adam_lr), start, cfg.opt_steps), **TIGHT)
print(f"loss after {cfg.opt_steps} steps: start {least_squares(start):.4f}, SGD {least_squares(sgd_mine):.4f}, "
      f"Adam {least_squares(adam_mine):.4f}")

# %% [markdown]
# ## Devices
#
# A tensor lives on one device, and an operation needs all its inputs on the same one. `setup` chose the
# device for this profile (`cfg.device`: the GPU under `gpu`, the CPU otherwise). Move a model with
# `model.to(device)`, which moves its parameters in place, and data with `t = t.to(device)`, which returns a
# new tensor. Values you print or hand to NumPy come back with `.item()`, `.tolist()` or `.cpu()`.

# %%
neuron = neuron.to(cfg.device)
batch = torch.zeros(5, 3).to(cfg.device)
print(f"cfg.device = {cfg.device}; parameters on {next(neuron.parameters()).device.type}, "
      f"output on {neuron(batch).device.type}")

# %% [markdown]
# ## Day 04's XOR network in PyTorch
#
# Now the network of day 04, $\hat y = \sigma(\sigma(xW_1 + b_1)W_2 + b_2)$, with the same loss, the mean over
# the samples of $\frac12\sum_k(\hat y_k - y_k)^2$. In PyTorch it is two `nn.Linear` layers, and the backward
# pass we derived by hand on day 04 is one call to `backward()`. To compare the two implementations number
# for number, the PyTorch twin uses `float64` and copies its weights from a `NumpyMLP` (transposing them, since
# `nn.Linear` stores `(n_out, n_in)`).

# %%
from helpers.numpy_mlp import NumpyMLP


class TwoLayerNet(nn.Module):
    """The PyTorch twin of day 04's NumpyMLP: sigmoid(sigmoid(x W1 + b1) W2 + b2)."""

    def __init__(self, n_in: int = 2, n_hidden: int = 2, n_out: int = 1) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.output = nn.Linear(n_hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.output(torch.sigmoid(self.hidden(x))))


def half_squared_error(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over samples of 0.5 * sum over outputs of (y_hat - y)^2: NumpyMLP.loss."""
    return 0.5 * ((y_hat - y) ** 2).sum(dim=1).mean()


def twin_of(numpy_net: NumpyMLP) -> TwoLayerNet:
    """A float64 TwoLayerNet with numpy_net's weights (nn.Linear stores W transposed)."""
    net = TwoLayerNet(numpy_net.n_in, numpy_net.n_hidden, numpy_net.n_out).double()
    p = numpy_net.params
    with torch.no_grad():
        net.hidden.weight.copy_(torch.from_numpy(p["W1"].T))
        net.hidden.bias.copy_(torch.from_numpy(p["b1"]))
        net.output.weight.copy_(torch.from_numpy(p["W2"].T))
        net.output.bias.copy_(torch.from_numpy(p["b2"]))
    return net


def torch_gradients(net: TwoLayerNet) -> dict[str, torch.Tensor]:
    """The .grad of net's parameters under NumpyMLP's names and layouts."""
    return {"W1": net.hidden.weight.grad.T, "b1": net.hidden.bias.grad,
            "W2": net.output.weight.grad.T, "b2": net.output.bias.grad}


x_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
y_xor = np.array([[0], [1], [1], [0]], dtype=np.float64)
numpy_net = NumpyMLP(n_in=2, n_hidden=cfg.n_hidden, n_out=1, seed=cfg.xor_seed)
net = twin_of(numpy_net)
x_t, y_t = torch.from_numpy(x_xor), torch.from_numpy(y_xor)

loss = half_squared_error(net(x_t), y_t)
loss.backward()
numpy_grads = numpy_net.gradients(x_xor, y_xor)
print(f"loss: torch {loss.item():.6f}, numpy {numpy_net.loss(x_xor, y_xor):.6f}")
compare("loss", loss, numpy_net.loss(x_xor, y_xor), **TIGHT)
for name, grad in torch_gradients(net).items():
    compare(f"d loss / d {name}", grad, numpy_grads[name], **TIGHT)

# %% [markdown]
# Autograd and our hand-written backpropagation agree to the last few bits of `float64`: they apply the same
# chain rule, only the bookkeeping differs. The same equality is checked for several seeds and layer sizes in
# `tests/test_day05_autograd.py`.
#
# Training takes five lines: the loop that every PyTorch day of the course repeats. With the same plain SGD
# (`torch.optim.SGD`, learning rate {glue:text}`day05_lr`) for the same {glue:text}`day05_epochs` epochs as
# day 04, the PyTorch twin should follow exactly the path of `NumpyMLP.fit`.

# %%
import time

from helpers import glue

net = twin_of(numpy_net).to(cfg.device)
x_dev, y_dev = x_t.to(cfg.device), y_t.to(cfg.device)
optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr)
torch_losses = []
started = time.perf_counter()
for epoch in range(cfg.epochs):
    optimizer.zero_grad()                        # forget the previous step's gradients
    loss = half_squared_error(net(x_dev), y_dev)  # forward
    loss.backward()                              # backward: fills every parameter's .grad
    optimizer.step()                             # update: p -= lr * p.grad
    torch_losses.append(loss.item())
    if epoch % cfg.log_every == 0:
        print(f"epoch {epoch:>6} loss {loss.item():.4f}")
print(f"trained {cfg.epochs} epochs on {cfg.device.type} [{time.perf_counter() - started:.1f}s]")

numpy_losses = numpy_net.fit(x_xor, y_xor, epochs=cfg.epochs, lr=cfg.lr)  # day 04's training, in place
compare("loss curve vs NumpyMLP", torch_losses, numpy_losses, atol=1e-9, rtol=0.0, show_diff=False)
net.cpu()
for name, layer, attribute, key in (("W1", net.hidden, "weight", "W1"), ("b1", net.hidden, "bias", "b1"),
                                    ("W2", net.output, "weight", "W2"), ("b2", net.output, "bias", "b2")):
    value = getattr(layer, attribute).detach()
    compare(f"trained {name} vs NumpyMLP", value.T if attribute == "weight" else value,
            numpy_net.params[key], atol=1e-9, rtol=0.0, show_diff=False)

with torch.no_grad():
    outputs = net(x_t).squeeze(1)
predictions = (outputs >= 0.5).long()
glue("day05_lr", cfg.lr)
glue("day05_epochs", cfg.epochs)
glue("day05_final_loss", torch_losses[-1])
print(f"outputs {outputs.numpy().round(4)} -> predictions {predictions.tolist()}, "
      f"targets {y_t.squeeze(1).long().tolist()}")
print(f"final loss {torch_losses[-1]:.5f}; solves XOR: {predictions.tolist() == [0, 1, 1, 0]}")

# %% [markdown]
# The two implementations trace the same loss curve and end with the same weights, to the tolerance printed
# (after {glue:text}`day05_epochs` steps, rounding differences in the last bits have had time to grow a
# little). The network solves XOR with a final loss of {glue:text}`day05_final_loss:.5f`. The curve shows
# the long plateau of day 04 before the hidden units specialise, and the plane shows the learned decision
# regions.

# %%
import matplotlib.pyplot as plt

from helpers import viz

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].plot(numpy_losses, label="NumpyMLP.fit (day 04)", linewidth=4, alpha=0.4)
axes[0].plot(torch_losses, label="PyTorch twin", linestyle="--")
axes[0].set(yscale="log", xlabel="epoch", ylabel="loss (log scale)", title="Same path, two implementations")
axes[0].legend(fontsize=8)


def predict_probability(points: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(points)).squeeze(1).numpy()


viz.decision_boundary(predict_probability, x_xor, y_xor, ax=axes[1], title="Output of the trained twin")
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# ````{exercise}
# :label: day05-zero-grad
# Delete `optimizer.zero_grad()` from the training loop above and run it again from a fresh twin,
# `twin_of(NumpyMLP(n_in=2, n_hidden=cfg.n_hidden, n_out=1, seed=seed))`, for a few seeds. Every 1000 epochs,
# print the loss, the largest entry of `net.hidden.weight.grad` and the norm of `net.hidden.weight`. What
# happens to the stored gradient and to the weights, and why? Is the final loss a good guide here?
# ````
#
# ````{solution} day05-zero-grad
# :class: dropdown
# ```python
# for seed in range(4):
#     net = twin_of(NumpyMLP(n_in=2, n_hidden=cfg.n_hidden, n_out=1, seed=seed))
#     sgd = torch.optim.SGD(net.parameters(), lr=cfg.lr)
#     for epoch in range(cfg.epochs):  # the training loop without sgd.zero_grad()
#         loss = half_squared_error(net(x_t), y_t)  # forward
#         loss.backward()
#         sgd.step()
#         if epoch % 1000 == 0:
#             print(seed, epoch, round(loss.item(), 4), net.hidden.weight.grad.abs().max().item(),
#                   net.hidden.weight.norm().item())
# ```
# Without the reset, `.grad` holds the sum of the gradients of *all* past epochs, so every step applies the
# whole history again: momentum that never forgets. The sum grows during the first epochs, the weights
# jump, and the sigmoids saturate, where their slope, and therefore every new gradient, is about zero.
# From then on the stored sum no longer changes, and each step moves the weights by the same amount again:
# their norm grows linearly, without end. Where they run off to is luck: for some seeds the saturated
# network happens to output the right answers (loss near 0, but with absurd weights that never settle);
# for others it is frozen on wrong predictions, where no gradient can reach it any more. Either way it is
# no longer gradient descent.
# ````

# %% [markdown]
# ```{exercise}
# :label: day05-momentum
# `torch.optim.SGD(params, lr, momentum=mu)` keeps a *velocity* per parameter: $v \leftarrow \mu v + g$
# (with $v = g$ at the first step) and $\theta \leftarrow \theta - \eta v$. Write `momentum_by_hand(theta, lr, mu,
# steps)` in the style of `sgd_by_hand`; the cell compares it with `torch.optim.SGD` on `least_squares`, from
# the same start and for a few settings. Compare with the momentum of day 03's exercise: are they the same
# method?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def momentum_by_hand(theta: torch.Tensor, lr: float, mu: float, steps: int) -> torch.Tensor:
    """`steps` steps of SGD with momentum mu on least_squares, from theta."""
    ### BEGIN SOLUTION
    velocity = torch.zeros_like(theta)
    for _ in range(steps):  # v <- mu v + g, then theta <- theta - lr v
        velocity = mu * velocity + gradient(theta)
        theta = theta - lr * velocity
    return theta
    ### END SOLUTION


for mu, steps in ((0.9, cfg.opt_steps), (0.5, 2 * cfg.opt_steps), (0.0, 1)):
    check_value(f"momentum mu={mu}, steps={steps}", momentum_by_hand(start, cfg.sgd_lr, mu, steps),
                with_torch_optim(lambda p, mu=mu: torch.optim.SGD(p, lr=cfg.sgd_lr, momentum=mu), start, steps),
                atol=1e-12)

# %% [markdown]
# ```{solution} day05-momentum
# :class: dropdown
# Starting from $v = 0$, the first update $v = \mu\cdot 0 + g$ equals PyTorch's $v = g$, so the two agree at
# every step. It is the same heavy-ball method as day 03's exercise. Some texts write
# $v \leftarrow \mu v + (1-\mu) g$ instead: that is PyTorch's `dampening=1 - mu` and a learning rate
# effectively scaled by $1-\mu$.
# ```
#
# ```{exercise}
# :label: day05-relu
# The 2025 article uses a 2→4→1 network with a ReLU hidden layer, `nn.init.kaiming_normal_` weights, biases
# set to 0.01, a sigmoid output, `nn.MSELoss` and SGD with learning rate 0.05 for 5000 epochs, in `float32`.
# Complete `relu_xor_net(seed)`, which builds that network with `nn.Sequential` after seeding PyTorch's
# generator; the cell checks the output shape on the four XOR inputs, the number of parameters, the biases
# and that the outputs are probabilities. Then train it on XOR for the seeds 0 to 5 and
# print the four outputs of each run. Do all seeds solve XOR? What is wrong with the runs that do not?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_shape, check_value


def relu_xor_net(seed: int) -> nn.Module:
    """The article's 2-4-1 ReLU/sigmoid network, initialised from torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    ### BEGIN SOLUTION
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # std sqrt(2 / fan_in)
            nn.init.constant_(layer.bias, 0.01)
    return model
    ### END SOLUTION


x32 = x_t.float()
relu_net = relu_xor_net(0)
check_shape("outputs for the 4 XOR inputs", relu_net(x32), (4, 1))
check_value("parameter count", count_parameters(relu_net)[1], (2 + 1) * 4 + (4 + 1) * 1)
biases = torch.cat([p.detach().flatten() for name, p in relu_net.named_parameters() if name.endswith("bias")])
check_value("biases", biases, torch.full((4 + 1,), 0.01))
relu_outputs = relu_net(x32).detach()
check_value("outputs strictly between 0 and 1", bool(((relu_outputs > 0) & (relu_outputs < 1)).all()), True)

# %% [markdown]
# ````{solution} day05-relu
# :class: dropdown
# The network is in the cell above. To train it for several seeds:
#
# ```python
# y32 = y_t.float()
# for seed in range(6):
#     model = relu_xor_net(seed)
#     optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
#     for _ in range(5000):
#         optimizer.zero_grad()
#         loss = nn.functional.mse_loss(model(x32), y32)
#         loss.backward()
#         optimizer.step()
#     print(seed, round(loss.item(), 4), model(x32).detach().squeeze(1).numpy().round(3))
# ```
# Most seeds solve it, but not all: in some runs two of the outputs sit at 0.5. Print the hidden layer,
# `model[1](model[0](x32))`, for such a run: for those two inputs all four ReLUs output 0, so the network
# cannot tell them apart and answers their average target. A ReLU that outputs 0 also passes a zero
# gradient, so nothing can switch those units back on for those inputs (*dead ReLUs*, the step function's
# problem on half of the axis). Four hidden units make this rarer than two, and the small positive bias of
# 0.01 is meant to keep units alive at the start; it does not always suffice.
# ````
#
# ````{exercise}
# :label: day05-gpu
# Run this notebook with `PROFILE = "gpu"` on a machine with a GPU (or Colab). Which lines send work to the
# GPU? What breaks if you remove `.to(cfg.device)` from the data but keep it for the model? Is the GPU faster
# for this network?
# ````
#
# ````{solution} day05-gpu
# :class: dropdown
# `setup` sets `cfg.device` to `cuda`, and `neuron.to(cfg.device)`, `twin_of(numpy_net).to(cfg.device)` and
# `x_t.to(cfg.device)` put the model and the data there; the printed devices say `cuda`. With the model on the
# GPU and the data on the CPU, the first `nn.Linear` raises a `RuntimeError` saying that the tensors are on
# different devices: PyTorch never moves data silently. The checks against NumPy still pass, because
# `helpers.compare` moves tensors to the CPU itself. The GPU is *slower* here: with four samples and nine
# weights every step is a handful of tiny operations, and launching each one on the GPU costs more than
# computing it on the CPU. GPUs pay off when each operation has a lot of work, as from day 06 on.
# ````
