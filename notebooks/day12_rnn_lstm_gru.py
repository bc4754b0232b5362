# %% [markdown]
# # Day 12: RNN, LSTM and GRU by hand
#
# Day 11 turned text into sequences of vectors. A feed-forward network takes a fixed number of inputs; a
# *recurrent* network reads a sequence of any length one step at a time and carries a state from step to
# step. Today we write the three classic recurrent cells from their equations, check each against
# PyTorch to $10^{-6}$, measure why the plain RNN forgets, and watch an LSTM's gates hold a token in memory.
#
# **Objectives**
# - write the Elman RNN, LSTM and GRU cells from their equations, with PyTorch's gate order and weight
#   layout, and check them against `nn.RNNCell`, `nn.LSTMCell` and `nn.GRUCell` with copied weights;
# - run them over sequences (several layers, one or two directions, `batch_first` or not) and check the
#   outputs and final states against `nn.RNN`, `nn.LSTM` and `nn.GRU`;
# - measure the gradient that reaches a step $k$ steps back, and explain vanishing and exploding
#   gradients with the product of Jacobians;
# - train the three cells on a task that needs memory, and read the LSTM's input, forget and output gates.
#
# **Profiles.** All data is generated with a seed, so every profile is offline. The equality checks and
# the gradient probe are the same small tensors everywhere. The memory task grows: `ci` trains each cell
# for 400 steps on sequences of 10 and 30 tokens (about 10 s of CPU); `laptop` goes to 100 tokens with
# 1,500 steps (about 3 min), `gpu` to 200 tokens with 3,000 steps (sizes in `helpers/days/day12.py`). The
# seed articles have no figure for this day to chase; one of them asks for the "match `nn.LSTM` outputs and
# speed" exercise, which is exercise 4 below.

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

cfg = setup("day12", PROFILE)

# %%
import itertools
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from helpers import compare, glue
from helpers.rnn import MODES, HandRNN, torch_twin

if cfg.num_threads:  # tiny matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)
device = cfg.device

# %% [markdown]
# ## 1. The Elman RNN
#
# A recurrent cell is one function applied at every step $t$ to the current input $x_t \in \mathbb{R}^{d}$
# and the previous state $h_{t-1} \in \mathbb{R}^{H}$, with the **same weights** at every step:
#
# $$
# h_t = \tanh\big(W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}\big), \qquad h_0 = 0 .
# $$
#
# $W_{ih} \in \mathbb{R}^{H\times d}$ reads the input, $W_{hh} \in \mathbb{R}^{H\times H}$ reads the
# past. PyTorch keeps two bias vectors where one would do (their sum is all that matters); we keep both
# so that the weights copy over one to one. A batch holds $B$ sequences, so $x_t$ is a $(B, d)$ matrix
# and we multiply by $W^\top$ on the right.

# %%
def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One Elman step: tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh); x (B, d), h (B, H)."""
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)


d, H, B = cfg.check_input, cfg.check_hidden, cfg.check_batch
x, h = torch.randn(B, d), torch.randn(B, H)
reference = nn.RNNCell(d, H)
print({name: tuple(p.shape) for name, p in reference.named_parameters()})
rnn_check = compare("rnn_cell vs nn.RNNCell", rnn_cell(x, h, *reference.parameters()), reference(x, h))

# %% [markdown]
# ## 2. The LSTM cell
#
# The Elman cell rewrites its whole state at every step. The LSTM (Hochreiter & Schmidhuber, 1997) adds a
# second state, the **cell** $c_t$, that changes only through gates: numbers between 0 and 1 that decide,
# element by element, what to forget, what to write and what to show. One matrix product computes four
# pre-activations, stacked in PyTorch's order (input, forget, candidate, output):
#
# $$
# \begin{aligned}
# i_t &= \sigma(W_{ii}x_t + b_{ii} + W_{hi}h_{t-1} + b_{hi}) && \text{input gate: how much to write}\\
# f_t &= \sigma(W_{if}x_t + b_{if} + W_{hf}h_{t-1} + b_{hf}) && \text{forget gate: how much to keep}\\
# g_t &= \tanh(W_{ig}x_t + b_{ig} + W_{hg}h_{t-1} + b_{hg}) && \text{candidate: what to write}\\
# o_t &= \sigma(W_{io}x_t + b_{io} + W_{ho}h_{t-1} + b_{ho}) && \text{output gate: how much to show}\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).
# \end{aligned}
# $$
#
# The cell update is a **sum**, not a squashing: with $f_t = 1$ and $i_t = 0$ the cell keeps its value
# exactly, for as many steps as needed. `weight_ih` is therefore $(4H, d)$ and `weight_hh` is $(4H, H)$;
# `chunk(4)` cuts them back into the four gates.

# %%
def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step; state = (h, c); returns (h', c'). Gate rows in PyTorch's order i, f, g, o."""
    h, c = state
    pre_i, pre_f, pre_g, pre_o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o)
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new


reference = nn.LSTMCell(d, H)
c = torch.randn(B, H)
print({name: tuple(p.shape) for name, p in reference.named_parameters()})
(h_mine, c_mine), (h_ref, c_ref) = lstm_cell(x, (h, c), *reference.parameters()), reference(x, (h, c))
lstm_checks = [compare("lstm_cell h vs nn.LSTMCell", h_mine, h_ref),
               compare("lstm_cell c vs nn.LSTMCell", c_mine, c_ref)]

# %% [markdown]
# ## 3. The GRU cell
#
# The GRU (Cho et al., 2014) merges the cell and the hidden state and uses two gates: the **update** gate
# $z_t$ interpolates between the old state and a candidate $n_t$, the **reset** gate $r_t$ decides how much
# of the old state the candidate may read. PyTorch's rows are (reset, update, new):
#
# $$
# \begin{aligned}
# r_t &= \sigma(W_{ir}x_t + b_{ir} + W_{hr}h_{t-1} + b_{hr}), \qquad
# z_t = \sigma(W_{iz}x_t + b_{iz} + W_{hz}h_{t-1} + b_{hz}),\\
# n_t &= \tanh\big(W_{in}x_t + b_{in} + r_t \odot (W_{hn}h_{t-1} + b_{hn})\big),\qquad
# h_t = (1 - z_t)\odot n_t + z_t \odot h_{t-1}.
# \end{aligned}
# $$
#
# Note where $r_t$ sits: it multiplies the hidden state **after** its projection $W_{hn}h_{t-1} + b_{hn}$.
# The original paper (and d2l's from-scratch GRU) resets first, $W_{hn}(r_t\odot h_{t-1})$. The two are
# different functions; PyTorch and cuDNN use the first because it lets all three hidden projections run
# as one matrix product before the gates are known. We follow PyTorch and check the difference.

# %%
def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step, PyTorch's variant: the reset gate multiplies W_hn h + b_hn."""
    i_r, i_z, i_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_cell_reset_first(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """The paper's (and d2l's) variant: reset h before the projection W_hn."""
    i_r, i_z, i_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)
    w_hr, w_hz, w_hn = weight_hh.chunk(3)
    b_hr, b_hz, b_hn = bias_hh.chunk(3)
    r, z = torch.sigmoid(i_r + h @ w_hr.T + b_hr), torch.sigmoid(i_z + h @ w_hz.T + b_hz)
    n = torch.tanh(i_n + (r * h) @ w_hn.T + b_hn)
    return (1 - z) * n + z * h


reference = nn.GRUCell(d, H)
gru_check = compare("gru_cell vs nn.GRUCell", gru_cell(x, h, *reference.parameters()), reference(x, h))
reset_first = compare("reset-first vs nn.GRUCell", gru_cell_reset_first(x, h, *reference.parameters()),
                      reference(x, h))

# %% [markdown]
# The reset-first variant is off by far more than rounding, so a scratch GRU written from the paper will
# not load PyTorch's weights and give the same outputs. Both variants train equally well in practice.
#
# ## 4. From cells to layers
#
# A layer runs its cell over the time axis and stacks the states: `output` holds $h_t$ for every step,
# `h_n` the last one. Three options change the bookkeeping, not the maths:
#
# - **`batch_first`**: the input is $(B, T, d)$ instead of PyTorch's default $(T, B, d)$. It changes only
#   `input` and `output`; `h_n` and `c_n` are always $(\text{layers}\cdot\text{directions}, B, H)$.
# - **`bidirectional`**: a second cell with its own weights (names ending in `_reverse`) reads the sequence
#   from the end. At each step the two states are concatenated, so `output` has $2H$ features.
#   `h_n` stacks the forward state after the **last** step and the backward state after the **first**.
# - **`num_layers`**: layer $\ell + 1$ reads the outputs of layer $\ell$ as its input sequence.
#
# Here is a one-direction layer built from our cells, checked against `nn.LSTM`:

# %%
def run_layer(cell, x, state, *weights):
    """Apply `cell` at every step of x (T, B, d); return (outputs (T, B, H), final state)."""
    outputs = []
    for x_t in x:                                   # iterate over the time axis
        state = cell(x_t, state, *weights)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(outputs), state


T = cfg.check_steps
sequence = torch.randn(T, B, d)
reference = nn.LSTM(d, H)
zeros = torch.zeros(B, H)
out_mine, (h_mine, c_mine) = run_layer(lstm_cell, sequence, (zeros, zeros), *reference.parameters())
out_ref, (h_ref, c_ref) = reference(sequence)      # h_ref: (layers * directions, B, H) = (1, B, H)
layer_checks = [compare("run_layer output vs nn.LSTM", out_mine, out_ref),
                compare("run_layer h_n vs nn.LSTM", h_mine, h_ref[0])]

# %% [markdown]
# `helpers.rnn.HandRNN` (defined today, and used again on day 13) is this loop with the three options:
# its parameters carry `nn.LSTM`'s names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), so
# `hand.load_state_dict(torch_layer.state_dict())` copies every weight, and `torch_twin(hand)` builds the
# matching PyTorch layer. We check all four cell types (`tanh` and `relu` Elman cells, LSTM, GRU) in every
# combination of direction, `batch_first` and one or two layers, with random initial states, on the
# outputs and on every final state:

# %%
def all_states(mode, result):
    """output, h_n (and c_n for the LSTM) as one list."""
    output, hidden = result
    return [output, *hidden] if mode == "lstm" else [output, hidden]


layer_diffs = {}
for mode, bidirectional, batch_first, layers in itertools.product(MODES, (False, True), (False, True), (1, 2)):
    hand = HandRNN(mode, d, H, num_layers=layers, batch_first=batch_first, bidirectional=bidirectional)
    twin = torch_twin(hand)
    inputs = torch.randn(B, T, d) if batch_first else torch.randn(T, B, d)
    count = layers * (2 if bidirectional else 1)
    state = torch.randn(count, B, H)
    state = (state, torch.randn(count, B, H)) if mode == "lstm" else state
    diffs = [compare("", mine, ref, verbose=False).max_diff
             for mine, ref in zip(all_states(mode, hand(inputs, state)), all_states(mode, twin(inputs, state)),
                                  strict=True)]
    layer_diffs[mode, bidirectional, batch_first, layers] = max(diffs)

layer_max_diff = max(layer_diffs.values())
glue("day12_layer_configs", len(layer_diffs))
# in units of 1e-6, to one decimal: the last digits of float32 rounding vary with memory alignment
glue("day12_layer_max_diff_1e6", round(layer_max_diff / 1e-6, 1))
for mode in MODES:
    worst = max(v for k, v in layer_diffs.items() if k[0] == mode)
    print(f"{mode:<9} 8 configurations (outputs, h_n, c_n) | all within 1e-6: {worst < 1e-6}")

# %% [markdown]
# All {glue:text}`day12_layer_configs` configurations agree with PyTorch; the largest difference is
# {glue:text}`day12_layer_max_diff_1e6:.1f` $\times 10^{-6}$, float32 rounding. `tests/test_day12_rnn.py`
# repeats the check, compares the gradients of every weight in float64, and makes sure that a cell with
# two gates swapped fails it.
#
# **Sequences of different lengths.** A batch of sentences is padded to the longest one. `HandRNN`
# accepts `lengths`: a sequence that has ended keeps its state (so `h_n` is the state after its last real
# token), its outputs at the pads are 0, and the backward direction starts at its last real token instead
# of at the pads. That is exactly what PyTorch computes from a *packed* sequence, tomorrow's tool:

# %%
lengths = torch.tensor([T, 3, 6])
hand = HandRNN("gru", d, H, bidirectional=True, batch_first=True)
padded = torch.randn(B, T, d)
packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
packed_out, packed_h = torch_twin(hand)(packed)
packed_out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=T)
mine_out, mine_h = hand(padded, lengths=lengths)
packed_checks = [compare("lengths vs packed: output", mine_out, packed_out),
                 compare("lengths vs packed: h_n", mine_h, packed_h)]

# %% [markdown]
# ## 5. Vanishing and exploding gradients
#
# Training a recurrent network is training a very deep one: the loss at step $T$ reaches the input at step
# $t$ through $T - t$ applications of the cell, and the chain rule multiplies their Jacobians,
#
# $$
# \frac{\partial h_T}{\partial h_t} = \prod_{s=t+1}^{T} \frac{\partial h_s}{\partial h_{s-1}}
# = \prod_{s=t+1}^{T} \mathrm{diag}\big(1 - h_s^2\big)\, W_{hh} \quad\text{(Elman cell)}.
# $$
#
# Each factor has norm at most $\|W_{hh}\|$ (the $\tanh'$ terms lie in $(0, 1]$), so when the spectral
# radius $\rho(W_{hh})$ is below 1 the gradient shrinks geometrically with the distance, and a signal
# from 50 steps back is lost in rounding; when it is well above 1 it can grow geometrically instead.
# In the LSTM the cell path contributes $\partial c_s/\partial c_{s-1} = \mathrm{diag}(f_s)$: a product of
# forget gates, which stays near 1 as long as the forget gates do.
#
# We measure it with autograd: take $B$ random sequences of $T$ steps, a loss that reads only the last
# output, $L = \sum_b w^\top h_T^{(b)}$, and plot $\|\partial L/\partial x_t\|$ (mean over the batch)
# against the distance $T - t$. The left panel uses PyTorch's default initialisation, plus an LSTM whose
# forget-gate bias starts at $+3$ (so $f \approx 0.95$); the right panel rescales the Elman cell's
# $W_{hh}$ to a chosen spectral radius.

# %%
def gradient_by_distance(layer: nn.Module, steps: int, batch: int, seed: int = 1) -> np.ndarray:
    """‖∂L/∂x_t‖ averaged over the batch, indexed by the distance T-1-t to the step the loss reads."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, steps, layer.input_size, dtype=torch.float64, generator=generator)
    inputs = inputs.to(device).requires_grad_()
    readout = torch.randn(layer.hidden_size, dtype=torch.float64, generator=generator).to(device)
    output, _ = layer(inputs)
    (output[:, -1] @ readout).sum().backward()
    return inputs.grad.norm(dim=-1).mean(dim=0).flip(0).cpu().numpy()


def make_layer(mode: str, forget_bias: float = 0.0, radius: float | None = None, seed: int = 0) -> nn.Module:
    """A batch_first float64 torch layer, optionally with a forget-gate bias or a rescaled W_hh."""
    torch.manual_seed(seed)
    kind = {"rnn_tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode]
    layer = kind(cfg.probe_input, cfg.probe_hidden, batch_first=True).double()
    with torch.no_grad():
        if forget_bias:   # rows H..2H of an LSTM's biases are the forget gate's
            layer.bias_hh_l0[cfg.probe_hidden:2 * cfg.probe_hidden] += forget_bias
        if radius is not None:
            w = layer.weight_hh_l0
            w.mul_(radius / torch.linalg.eigvals(w).abs().max())
    return layer.to(device)


probes = {"Elman RNN": make_layer("rnn_tanh"), "LSTM": make_layer("lstm"),
          f"LSTM, forget bias +{cfg.forget_bias:g}": make_layer("lstm", cfg.forget_bias), "GRU": make_layer("gru")}
curves = {name: gradient_by_distance(layer, cfg.probe_steps, cfg.probe_batch) for name, layer in probes.items()}
radius_curves = {rho: gradient_by_distance(make_layer("rnn_tanh", radius=rho), cfg.probe_steps, cfg.probe_batch)
                 for rho in cfg.probe_radii}
for key, name in (("rnn", "Elman RNN"), ("lstm", "LSTM"), ("gru", "GRU")):
    glue(f"day12_grad50_{key}", f"{curves[name][50]:.0e}")
glue("day12_grad50_lstm_bias", f"{curves[f'LSTM, forget bias +{cfg.forget_bias:g}'][50]:.1e}")
print(f"{'distance':<34}" + "".join(f"{k:>10}" for k in (0, 10, 20, 50, 99)))
for name, curve in {**curves, **{f"Elman RNN, rho(W_hh) = {r:g}": c for r, c in radius_curves.items()}}.items():
    print(f"{name:<34}" + "".join(f"{curve[k]:>10.1e}" for k in (0, 10, 20, 50, 99)))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), sharey=True)
for name, curve in curves.items():
    axes[0].plot(curve, label=name)
for rho, curve in radius_curves.items():
    axes[1].plot(curve, label=f"ρ(W_hh) = {rho:g}")
titles = ("cells at PyTorch's initialisation", "Elman RNN, rescaled W_hh")
for ax, title in zip(axes, titles, strict=True):
    ax.set(yscale="log", xlabel="distance T − t (steps)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
axes[0].set_ylabel("‖∂L/∂x_t‖ (mean over batch)")
fig.tight_layout()

# %% [markdown]
# At PyTorch's initialisation all three cells lose the gradient geometrically: 50 steps back it is about
# {glue:text}`day12_grad50_rnn` for the Elman RNN, {glue:text}`day12_grad50_lstm` for the LSTM and
# {glue:text}`day12_grad50_gru` for the GRU. Gates do not help by themselves: a forget gate that starts at
# $\sigma(0) = 0.5$ halves the cell at every step. Start it near 1 and the LSTM's gradient 50 steps back
# is {glue:text}`day12_grad50_lstm_bias`: that is why Keras initialises the forget bias to 1
# (`unit_forget_bias`) and why we add it below. On the right, the Elman RNN's fate is set by
# $\rho(W_{hh})$: below 1 the gradient vanishes, well above 1 it explodes (clip it, as day 08's Trainer
# does with `grad_clip`), and in between `tanh` saturation keeps it roughly level.
#
# ## 6. A task that needs memory
#
# *Remember the first token.* Each sequence starts with one of 4 signal tokens, followed by $T - 1$ noise
# tokens drawn from 4 others; the network reads the whole sequence (one-hot) and must name the first token
# from its final state. Chance is 25 %. The information must survive $T - 1$ steps of noise, so this is the
# vanishing-gradient problem in its purest form. Each cell gets the same width, data, optimiser and
# number of steps.

# %%
def memory_task(size: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (size, length) and labels: the first token (0..signal-1), then noise tokens."""
    signal, noise = cfg.signal_tokens, cfg.noise_tokens
    tokens = torch.randint(signal, signal + noise, (size, length), generator=generator)
    tokens[:, 0] = torch.randint(0, signal, (size,), generator=generator)
    return tokens, tokens[:, 0].clone()


class MemoryNet(nn.Module):
    """One-hot tokens -> a recurrent layer -> a linear layer on the final hidden state."""

    def __init__(self, mode: str, hidden: int, forget_bias: float = 0.0) -> None:
        super().__init__()
        self.vocab = cfg.signal_tokens + cfg.noise_tokens
        kind = {"rnn_tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode]
        self.rnn = kind(self.vocab, hidden, batch_first=True)
        if forget_bias:
            with torch.no_grad():
                self.rnn.bias_hh_l0[hidden:2 * hidden] += forget_bias
        self.head = nn.Linear(hidden, cfg.signal_tokens)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, h_n = self.rnn(F.one_hot(tokens, self.vocab).float())
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n        # the LSTM returns (h_n, c_n)
        return self.head(h_n[-1])


def train_memory(mode: str, length: int, forget_bias: float = 0.0, seed: int = 0) -> tuple[MemoryNet, float]:
    """Train on the memory task with Adam; return the model and its test accuracy."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = memory_task(cfg.memory_train_size, length, generator)
    x_test, y_test = memory_task(cfg.memory_test_size, length, generator)
    model = MemoryNet(mode, cfg.memory_hidden, forget_bias).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.memory_lr)
    for _ in range(cfg.memory_steps):
        batch = torch.randint(0, len(x_train), (cfg.memory_batch,), generator=generator)
        loss = F.cross_entropy(model(x_train[batch].to(device)), y_train[batch].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(x_test.to(device)).argmax(-1).cpu() == y_test).float().mean().item()
    return model, accuracy


variants = {"Elman RNN": ("rnn_tanh", 0.0), "LSTM": ("lstm", 0.0),
            f"LSTM, forget bias +{cfg.forget_bias:g}": ("lstm", cfg.forget_bias), "GRU": ("gru", 0.0)}
started = time.perf_counter()
memory_accuracy, memory_models = {}, {}
for length in cfg.memory_lengths:
    for name, (mode, bias) in variants.items():
        memory_models[name, length], memory_accuracy[name, length] = train_memory(mode, length, bias)
longest = max(cfg.memory_lengths)
for key, name in (("rnn", "Elman RNN"), ("lstm", "LSTM"), ("lstm_bias", f"LSTM, forget bias +{cfg.forget_bias:g}"),
                  ("gru", "GRU")):
    glue(f"day12_memory_{key}", memory_accuracy[name, longest])
glue("day12_memory_longest", longest)
print(f"test accuracy after {cfg.memory_steps} steps (chance 0.25) [{time.perf_counter() - started:.1f}s]")
print(f"{'cell':<24}" + "".join(f"{f'T = {n}':>9}" for n in cfg.memory_lengths))
for name in variants:
    print(f"{name:<24}" + "".join(f"{memory_accuracy[name, n]:>9.3f}" for n in cfg.memory_lengths))

# %% [markdown]
# At $T =$ {glue:text}`day12_memory_longest` the test accuracies are: Elman RNN
# {glue:text}`day12_memory_rnn:.1%`, LSTM at PyTorch's initialisation {glue:text}`day12_memory_lstm:.1%`,
# LSTM with the forget bias {glue:text}`day12_memory_lstm_bias:.1%`, GRU {glue:text}`day12_memory_gru:.1%`.
# (A single seed and a few hundred steps: rerun with other seeds before you rank close results.) The
# short sequences are easy for every cell; the long ones need a path through time along which the
# gradient survives, which is what the gates provide once they start open.
#
# ### Reading the LSTM's gates
#
# Which mechanism does the trained LSTM use? We copy its weights into our `lstm_cell`, extended to return
# the gates, run one test sequence step by step, and check that we reproduce `nn.LSTM`'s final state
# before we read anything.

# %%
from helpers.rnn import lstm_cell as lstm_cell_with_gates  # same cell as above, can also return (i, f, g, o)

trained = memory_models[f"LSTM, forget bias +{cfg.forget_bias:g}", longest].cpu()
tokens, label = memory_task(1, longest, torch.Generator().manual_seed(123))
inputs = F.one_hot(tokens, trained.vocab).float()[0]               # (T, vocab)
weights = [trained.rnn.weight_ih_l0, trained.rnn.weight_hh_l0, trained.rnn.bias_ih_l0, trained.rnn.bias_hh_l0]
with torch.no_grad():
    h_t = c_t = torch.zeros(1, cfg.memory_hidden)
    trace = {"input gate i": [], "forget gate f": [], "output gate o": [], "cell c": []}
    for x_t in inputs:
        (h_t, c_t), gates = lstm_cell_with_gates(x_t[None], (h_t, c_t), *weights, return_gates=True)
        for key, value in zip(trace, (gates.i, gates.f, gates.o, c_t), strict=True):
            trace[key].append(value[0])
    trace = {key: torch.stack(values).T.numpy() for key, values in trace.items()}   # (hidden, T)
    _, (h_ref, _) = trained.rnn(inputs[None])
    prediction = trained.head(h_t).argmax().item()
glue("day12_gate_i_first", float(trace["input gate i"][:, 0].mean()))
glue("day12_gate_i_rest", float(trace["input gate i"][:, 1:].mean()))
glue("day12_gate_f_rest", float(trace["forget gate f"][:, 1:].mean()))
gates_check = compare("gates replay h_T vs nn.LSTM", h_t, h_ref[0])
print(f"first token {label.item()}, predicted {prediction}")

# Where does the first token live? Final cells of 200 test sequences: how much of their spread (variance
# per unit, summed) is explained by the first token (between-group variance of the 4 groups)?
probe_tokens, probe_labels = memory_task(200, longest, torch.Generator().manual_seed(7))
with torch.no_grad():
    _, (_, final_cells) = trained.rnn(F.one_hot(probe_tokens, trained.vocab).float())
final_cells = final_cells[0]
group_means = torch.stack([final_cells[probe_labels == k].mean(0) for k in range(cfg.signal_tokens)])
explained = (group_means[probe_labels] - final_cells.mean(0)).pow(2).sum() / (final_cells - final_cells.mean(0)).pow(2).sum()
glue("day12_cell_explained", float(explained))
print(f"share of the final cells' variance explained by the first token: {explained:.3f}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2), sharey=True)
for ax, (name, values) in zip(axes, trace.items(), strict=True):
    is_gate = name != "cell c"
    limit = 1 if is_gate else np.abs(values).max()
    image = ax.imshow(values, aspect="auto", cmap="viridis" if is_gate else "RdBu_r",
                      vmin=0 if is_gate else -limit, vmax=limit, interpolation="nearest")
    ax.set(title=name, xlabel="time step t")
    fig.colorbar(image, ax=ax, fraction=0.05)
axes[0].set_ylabel("hidden unit")
fig.suptitle(f"LSTM on one sequence of {longest} tokens (first token {label.item()})")
fig.tight_layout()

# %% [markdown]
# The forget gate averages {glue:text}`day12_gate_f_rest:.2f` over the noise steps, for nearly every unit:
# the cell is a running sum that erases almost nothing. The input gate does *not* close on the noise (it
# averages {glue:text}`day12_gate_i_first:.2f` at the first step and {glue:text}`day12_gate_i_rest:.2f`
# afterwards), so each cell drifts steadily as noise accumulates. What the first token decides is the
# direction of that drift: it sets $h_1$, which feeds every later gate and candidate through $W_{hh}$.
# Across 200 test sequences, the first token explains {glue:text}`day12_cell_explained:.1%` of the
# variance of the final cell states; the noise tokens, the rest. The output gate shuts a few units (the
# dark rows) and passes the others to the classifier. This is not the textbook picture (a gate that opens
# once and then locks), but it is what a forget gate near 1 makes possible: information written at $t = 1$
# is still there at $t = T$.
#
# ## Summary
#
# - An RNN cell is one function applied at every step with shared weights; a layer is a loop over time.
#   Our Elman, LSTM and GRU cells, and `HandRNN` in every configuration, equal PyTorch's to float32
#   rounding once the gate order (LSTM i, f, g, o; GRU r, z, n) and the reset-gate placement match.
# - `h_n` is (layers × directions, batch, hidden) whatever `batch_first` says; the backward direction's
#   final state belongs to the *first* step.
# - Gradients through time are products of Jacobians: they vanish or explode geometrically with the
#   distance. Gated cells help because the cell path is a product of forget gates, which training (and a
#   positive forget bias at the start) can hold near 1.
#
# Tomorrow (day 13) puts these cells to work on real text: sentiment classification of reviews, with
# batches of padded sequences handled properly by packing.
#
# ## Exercises
#
# ```{exercise}
# :label: day12-params
# Write `recurrent_parameter_count(mode, input_size, hidden_size, num_layers, bidirectional)`: the number of
# parameters of `nn.RNN` (`mode="rnn"`), `nn.LSTM` or `nn.GRU` with biases. The cell compares it with the
# tensors of the PyTorch layers. Why does an LSTM have four times the parameters of an Elman RNN of the
# same width?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def recurrent_parameter_count(mode: str, input_size: int, hidden_size: int, num_layers: int,
                              bidirectional: bool) -> int:
    """Parameters of nn.RNN / nn.LSTM / nn.GRU (bias=True) with these sizes."""
    ### BEGIN SOLUTION
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[mode]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        per_direction = gates * hidden_size * (layer_input + hidden_size + 2)   # W_ih, W_hh, b_ih, b_hh
        total += directions * per_direction
    return total
    ### END SOLUTION


def torch_count(mode: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int:
    kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode]
    layer = kind(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    return sum(p.numel() for p in layer.parameters())


cases = [(mode, i, h, n, bi) for mode in ("rnn", "lstm", "gru")
         for i, h, n, bi in ((8, 16, 1, False), (8, 16, 2, True), (100, 32, 3, True), (5, 7, 2, False))]
check_function("recurrent_parameter_count", recurrent_parameter_count,
               [(case, torch_count(*case)) for case in cases])

# %% [markdown]
# ```{solution} day12-params
# :class: dropdown
# Each gate (or the single Elman pre-activation) has its own $W_{ih}$ ($H\times d$), $W_{hh}$ ($H\times H$)
# and two bias vectors, so one direction of one layer has $g\,H(d + H + 2)$ parameters with $g = 1, 4, 3$
# for the RNN, LSTM and GRU. A second direction doubles it, and every layer after the first reads
# $2H$ (bidirectional) or $H$ features instead of $d$. The LSTM computes four pre-activations (i, f, g, o)
# where the Elman cell computes one, hence four times the weights, and four times the work per step.
# ```
#
# ````{exercise}
# :label: day12-find-fix
# **Find and fix.** A seed article classifies sentences with a bidirectional LSTM and reads the features
# for its classifier like this:
#
# ```python
# lstm = nn.LSTM(emb_dim, hidden, batch_first=True, bidirectional=True)
# out, (h_n, c_n) = lstm(embedded)       # embedded: (B, T, emb_dim), right-padded
# features = out[:, -1]                  # (B, 2 * hidden)
# ```
#
# (a) How many real tokens has the *backward* half of `features` read? (b) What does the forward half
# read for a sentence shorter than $T$? (c) Write the fix with `h_n`, and say which rows of `h_n` to use
# when `num_layers=2`. Check your answer with `HandRNN(..., lengths=...)` or with packing.
# ````
#
# ````{solution} day12-find-fix
# :class: dropdown
# (a) The backward direction starts at step $T - 1$, so at the last position it has read exactly one
# token, and for a padded sentence that token is a pad: the backward half of `features` carries almost
# nothing about the sentence. (b) The forward half at step $T - 1$ has read the real tokens *and then the
# pads*: each pad step rewrites the state, so the features depend on how much padding the batch had.
# (c) Pack the batch so that every sequence stops at its own length, and use the final states, which
# `h_n` orders as (layer 0 forward, layer 0 backward, layer 1 forward, layer 1 backward):
#
# ```python
# packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
# _, (h_n, _) = lstm(packed)
# features = torch.cat([h_n[-2], h_n[-1]], dim=-1)   # last layer: forward after the last real token,
#                                                    # backward after reading the whole sentence
# ```
# `HandRNN` with `lengths` returns the same `h_n` (section 4 checks it). Day 13 tests that appending pads
# changes no logit of a model written this way, and that the `out[:, -1]` version fails that test.
# ````
#
# ```{exercise}
# :label: day12-radius
# Use `gradient_by_distance` and `make_layer("rnn_tanh", radius=rho)` to find, for the Elman RNN, the
# smallest spectral radius at which the gradient 50 steps back is at least $10^{-2}$ of the gradient at
# distance 0. Why is the answer above 1, although the linear argument says $\rho = 1$ is the boundary?
# ```
#
# ````{solution} day12-radius
# :class: dropdown
# ```python
# for rho in np.arange(0.8, 2.01, 0.1):
#     curve = gradient_by_distance(make_layer("rnn_tanh", radius=rho), 100, 32)
#     print(f"{rho:.1f} {curve[50] / curve[0]:.1e}")
# ```
# The ratio crosses $10^{-2}$ somewhat above $\rho = 1$. Each Jacobian is $\mathrm{diag}(1 - h_s^2)\,W_{hh}$:
# the $\tanh'$ factors are below 1 whenever the units are away from 0, and they shrink further as a
# larger $W_{hh}$ drives the units into saturation. The effective gain per step is therefore smaller than
# $\rho(W_{hh})$, and the weights must be "too large" for the gradient to survive. This is also why a
# saturated RNN cannot explode for ever: the larger the weights, the more its units saturate.
# ````
#
# ```{exercise}
# :label: day12-speed
# Time `HandRNN("lstm", 64, 128)` against `nn.LSTM(64, 128)` on a batch of 32 sequences of 100 steps,
# forward and backward, on the CPU (and the GPU if you have one). Where does the hand loop lose its time,
# and what does cuDNN do differently?
# ```
#
# ````{solution} day12-speed
# :class: dropdown
# ```python
# hand = HandRNN("lstm", 64, 128)
# twin = torch_twin(hand)
# x = torch.randn(100, 32, 64)
# for name, layer in (("hand", hand), ("torch", twin)):
#     start = time.perf_counter()
#     for _ in range(5):
#         layer(x)[0].sum().backward()
#     print(name, (time.perf_counter() - start) / 5)
# ```
# The outputs agree (section 4), but the hand loop is several times slower on a CPU and far slower on a
# GPU. It launches a few small operations per step from Python, and autograd records each one; the fused
# kernels compute the input projections of all $T$ steps in one large matrix product before the loop,
# fuse the gate non-linearities into one kernel per step, and (on the GPU) run the whole recurrence inside
# cuDNN without returning to Python. Only the $W_{hh}h_{t-1}$ part is truly sequential.
# ````
