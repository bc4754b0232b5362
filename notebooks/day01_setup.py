# %% [markdown]
# # Day 01: How to use this course
#
# This course goes from a single artificial neuron, $\hat y = \mathrm{step}(Wx+b)$, written in NumPy,
# to fine-tuning LLaMA-family language models with LoRA, QLoRA and RLHF. Every day is one notebook that
# you can read on the website, run on a laptop, or run on a GPU (local or Colab). Today sets up the
# machine and explains how the notebooks adapt to it.
#
# **Objectives**
# - choose a *profile* (`ci`, `laptop`, `gpu`) and know what each one runs;
# - check your environment: packages, versions, GPU;
# - place deep learning inside machine learning and AI, and see the road map of the course.

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

cfg = setup("day01", PROFILE)

# %% [markdown]
# ## One notebook, three profiles
#
# The same code runs everywhere; only the sizes change. The profile decides them:
#
# | profile | where | data and models | time |
# |---|---|---|---|
# | `ci` | any CPU, offline | tiny models, small real data shipped by package registries | seconds |
# | `laptop` | a CPU | the real datasets, downloaded once | minutes |
# | `gpu` | one CUDA GPU or Colab | the full recipe: real data, full models, enough epochs | as long as the recipe needs |
#
# Pick one in three ways, from the most to the least specific:
#
# 1. set `PROFILE = "laptop"` in the cell tagged `parameters` near the top of each notebook;
# 2. set the environment variable before starting Jupyter: `COURSE_PROFILE=laptop jupyter lab`;
# 3. say nothing: you get `gpu` when torch sees a CUDA GPU and `laptop` otherwise.
#
# `setup("dayNN", PROFILE)` resolves the profile, picks the device, seeds every random generator and
# loads the day's settings (`cfg.epochs`, `cfg.train_size`...). An unknown profile is an error that
# lists the valid ones:

# %%
from helpers import ProfileError, resolve_profile

try:
    resolve_profile("tpu")
except ProfileError as err:
    print(err)

# %% [markdown]
# The outputs you see on the website come from the `ci` profile, so the numbers in them are small-data
# numbers. Where a day reproduces a figure from the articles the course grew from, the notebook says which
# figure and which profile chases it.
#
# ## Check your environment
#
# `python -m helpers.env` prints the same report in a terminal. Every line should say `[OK]`; a `[FAIL]`
# names the package and the version the course needs.

# %% tags=["nbval-ignore-output"]
# The versions and the device differ from machine to machine, so nbval does not compare this output.
from helpers.env import report

all_ok = report(PROFILE)

# %% [markdown]
# On a machine with an NVIDIA GPU the `device` line names the card and its memory. On Colab, choose
# *Runtime → Change runtime type → GPU* first. Asking for the `gpu` profile on a machine without one
# stops with an error that says so, instead of silently running for hours on the CPU.
#
# ## Where deep learning sits
#
# *Artificial intelligence* is any technique that makes a machine act sensibly: search, rules, planning,
# learning. *Machine learning* is the part of AI that learns its behaviour from data instead of rules
# written by hand. *Deep learning* is the part of machine learning that learns with many stacked layers of
# simple units, each computing $Wx+b$ followed by a non-linearity. Large language models are deep
# networks of one particular kind, the Transformer, trained on a very large amount of text.

# %%
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

fig, ax = plt.subplots(figsize=(6, 3.6))
for width, height, colour, label in [
    (5.8, 3.4, "#dbe9f6", "Artificial intelligence: search, rules, planning, learning"),
    (4.4, 2.5, "#a9cbe8", "Machine learning: behaviour learned from data"),
    (3.0, 1.6, "#5b9bd5", "Deep learning: stacked layers of Wx+b"),
    (1.6, 0.7, "#1f4e79", "LLMs"),
]:
    ax.add_patch(Ellipse((0, -0.6 + height / 2), width, height, color=colour))
    ax.text(0, -0.6 + height - 0.25 if label != "LLMs" else -0.6 + height / 2, label, ha="center",
            va="center", fontsize=8, color="white" if colour in ("#5b9bd5", "#1f4e79") else "black")
ax.set(xlim=(-3, 3), ylim=(-0.7, 2.9), aspect="equal")
ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## The road map
#
# The course climbs one layer of abstraction at a time. Each part reuses what the previous one built, and
# the small `helpers` package collects what is reused (the profiles, the data loaders, the `Trainer`, the
# plots and the checks) so that no notebook copies another.

# %%
parts = [
    ("0", "Orientation", "01"), ("I", "Wx+b by hand (NumPy)", "02-04"),
    ("II", "PyTorch and vision", "05-10"), ("III", "Text, sequences, embeddings", "11-15"),
    ("IV", "GANs", "16-17"), ("V", "Seq2Seq and attention", "18-20"),
    ("VI", "Transformers", "21-25"), ("VII", "Pretrained encoders", "26-30"),
    ("VIII", "Decoders and LLMs", "31-41"),
]
import textwrap

fig, ax = plt.subplots(figsize=(9, 2.2))
for index, (number, name, days) in enumerate(parts):
    shade = 0.25 + 0.08 * index
    colour = "white" if shade > 0.6 else "black"  # dark boxes get white text
    ax.add_patch(plt.Rectangle((index, 0), 0.92, 1, color=plt.cm.Blues(shade)))
    ax.text(index + 0.46, 0.78, f"Part {number}", ha="center", fontsize=8, weight="bold", color=colour)
    # Wrapped to the box: lines of at most 12 characters fit 0.92 of a box at this font size.
    ax.text(index + 0.46, 0.45, textwrap.fill(name, 12, break_long_words=False), ha="center", va="center", fontsize=6.5,
            color=colour, linespacing=1.1)
    ax.text(index + 0.46, 0.08, f"days {days}", ha="center", fontsize=7, color=colour)
ax.set(xlim=(-0.05, len(parts)), ylim=(-0.05, 1.05))
ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## How to read a day
#
# - Prose explains the idea and the maths; code cells implement it; figures show what the code did.
# - Every hand-written piece is checked against a reference (`helpers.compare`, `helpers.grad_check`),
#   and the check's verdict is printed, so you see at once whether your own version is right.
# - Numbers quoted in the text come from the executed cells, never typed by hand.
# - Each day ends with exercises; solutions are folded away under each one.
#
# ## Exercises
#
# ```{exercise}
# :label: day01-profile
# Run this notebook with `COURSE_PROFILE=laptop` set in the environment, then with `PROFILE = "ci"` in the
# parameters cell. Which one wins, and what does the first line printed by `setup` say each time?
# ```
#
# ```{solution} day01-profile
# :class: dropdown
# The parameters cell wins: `setup` uses the `PROFILE` argument when it is not `None` and only then reads
# `COURSE_PROFILE`. The first line reads `day01: profile=ci device=cpu seed=0`.
# ```
#
# ```{exercise}
# :label: day01-env
# Uninstall `peft` in a scratch environment and run `python -m helpers.env`. What does the report print, and
# what is the exit status of the command?
# ```
#
# ```{solution} day01-env
# :class: dropdown
# The `peft` line reads `[FAIL] peft not installed (needs >= 0.13; ...)` and the command exits with status 1,
# so scripts can stop on a broken environment.
# ```
