# %% [markdown]
# # Day 37: RLHF, learning from preferences
#
# Day 36 taught SmolLM2 to answer with supervised fine-tuning: copy the reference answer, token by token.
# Many things we want from an assistant have no single reference answer, but people can say which of two
# answers they prefer. Reinforcement learning from human feedback (RLHF) turns such comparisons into a
# training signal in two ways. The classic pipeline (InstructGPT, Llama-2-chat) first fits a *reward model*
# to the comparisons and then optimises the language model against it with PPO, held close to where it
# started by a KL penalty. *Direct preference optimisation* (DPO) skips the reward model and the sampling,
# and trains on the comparisons with a classification-like loss. Today we build the three pieces by hand
# and check each against TRL.
#
# **Objectives**
# - build preference pairs in TRL's `prompt`/`chosen`/`rejected` format, and say what a stand-in for
#   human comparisons can and cannot teach;
# - derive the Bradley-Terry loss $-\log\sigma(r_c - r_r)$, train a reward model with TRL's
#   `RewardTrainer`, and check its loss by hand; measure the reward accuracy on held-out pairs;
# - derive DPO's loss and its implicit reward $\beta \log \pi_\theta/\pi_\text{ref}$, train with TRL's
#   `DPOTrainer`, and recompute its loss and reward margins from our own log-probabilities;
# - write a small PPO loop with a KL penalty against the reference policy, and plot reward against KL;
# - find and fix a "RLHF" that uses language-model logits as rewards, with no reward model and no KL.
#
# **Profiles.** There is no human preference set among the offline packages, so `ci` builds pairs from
# real human text: fine-food reviews, where a 5-star review is preferred to a review with a lower score
# (the preference comes from the reviewers' own ratings, as in Stanford's SHP, where it comes from
# votes), and `chatterbot-corpus` dialogues, where the real reply is preferred to a reply taken from a
# dialogue on another topic. The policy is the packaged SmolLM2-135M-Instruct, the reward model its first
# {glue:text}`day37_rm_layers` blocks (of 30) with a scalar head, and every stage takes a handful of optimizer steps: about a
# minute on a CPU. `laptop` downloads a slice of Anthropic's HH-RLHF (human comparisons of assistant
# replies) and trains the full backbone for longer (about 20 minutes on two cores); `gpu` uses
# UltraFeedback (binarised), with more and longer pairs (about 20 minutes on a T4). The source article
# (the 2023 series, day 29) reports no number to chase for its "RLHF" step; its bugs are today's
# find-and-fix exercise.

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

cfg = setup("day37", PROFILE)

# %% [markdown]
# ## Preferences as data
#
# A preference dataset holds triples: a prompt $x$, a preferred answer $y_c$ (*chosen*) and a dispreferred
# one $y_r$ (*rejected*). TRL's trainers read them as the columns `prompt`, `chosen` and `rejected`, either
# as plain strings (the "standard" format, used here) or as lists of chat messages.
#
# Our `ci` pairs come from two sources, built by `helpers.preference`:
#
# - **reviews**: the prompt "Write a short review of a food you bought.", a 5-star review as the chosen
#   answer and a review with any other score as the rejected one (Amazon fine-food reviews from Day 13,
#   the shortest ones, each used once);
# - **dialogues**: a `chatterbot-corpus` prompt (Day 34), its real reply as the chosen answer and the
#   reply of a conversation on another topic as the rejected one.
#
# Neither is a human comparison of two answers to the same prompt. The review pairs encode "an
# enthusiastic review is preferred", a sentiment signal; the dialogue pairs encode "an answer on the
# topic is preferred", a relevance signal. A reward model can learn both, and DPO and PPO can move a
# policy towards them, which is enough to watch every mechanism work and to check every loss. What
# they cannot show is the point of real RLHF: learning a human notion of helpfulness or harmlessness
# that no simple rule captures. `laptop` and `gpu` read human comparisons (HH-RLHF, UltraFeedback) in
# the same format, so the cells below run unchanged.

# %%
import datasets

from helpers import glue
from helpers.corpora import fine_foods
from helpers.dialogues import load_chatterbot_dialogues
from helpers.preference import dialogue_pairs, hub_pairs, review_pairs

datasets.disable_progress_bars()  # the trainers tokenise with datasets.map: no progress bars in outputs

n_eval = cfg.eval_pairs
if cfg.dataset == "offline":
    reviews = review_pairs(fine_foods.load_records("train"), cfg.n_review_pairs + n_eval, cfg.max_chars,
                           seed=cfg.seed)
    dialogues = dialogue_pairs(load_chatterbot_dialogues(), cfg.n_dialogue_pairs + n_eval, seed=cfg.seed)
    train_pairs = reviews[n_eval:] + dialogues[n_eval:]
    eval_pairs = reviews[:n_eval] + dialogues[:n_eval]
else:  # human comparisons from the Hub, in the same format (source "human")
    pairs = hub_pairs(cfg.dataset, cfg.dataset_split, cfg.n_review_pairs + n_eval, seed=cfg.seed)
    train_pairs, eval_pairs = pairs[n_eval:], pairs[:n_eval]
train_set = datasets.Dataset.from_list(train_pairs).shuffle(seed=cfg.seed)
eval_set = datasets.Dataset.from_list(eval_pairs)
print(f"{len(train_set)} training pairs, {len(eval_set)} held-out pairs; columns {train_set.column_names}")
for pair in (eval_pairs[1], eval_pairs[-1]):  # one pair of each source
    print(f"\n[{pair['source']}] prompt: {pair['prompt']!r}\n  chosen:   {pair['chosen'][:110]!r}\n"
          f"  rejected: {pair['rejected'][:110]!r}")

# %% [markdown]
# ## A reward model from comparisons
#
# The Bradley-Terry model (1952) gives each answer a score $r(x, y)$ and says that a person prefers $y_c$
# to $y_r$ with probability
#
# $$
# P(y_c \succ y_r \mid x) = \frac{e^{r(x, y_c)}}{e^{r(x, y_c)} + e^{r(x, y_r)}} = \sigma\big(r(x, y_c) - r(x, y_r)\big).
# $$
#
# Fitting $r$ by maximum likelihood on the pairs gives the reward model's loss,
#
# $$
# L_\text{RM} = -\frac{1}{N} \sum_{i=1}^N \log \sigma\big(r(x_i, y_{c,i}) - r(x_i, y_{r,i})\big),
# $$
#
# a logistic regression on *differences* of scores. Only differences matter: adding a constant to every
# reward changes nothing, so a reward's absolute value has no meaning (TRL's `center_rewards_coefficient`
# adds a small penalty that pins the mean near zero). The reward model is a language model with its
# vocabulary head replaced by a single output, read at the last token of `prompt + answer`:
# `AutoModelForSequenceClassification` with `num_labels=1`, which for SmolLM2 is
# `LlamaForSequenceClassification`. It finds the last token as the last one that is not the pad token;
# SmolLM2's pad token is its end-of-text token `<|im_end|>`, which TRL appends to every answer, so the
# score is read on the answer's last real token, just before it.
#
# Under `ci` the backbone keeps only the first {glue:text}`day37_rm_layers` blocks of SmolLM2
# (`num_hidden_layers` passed to `from_pretrained` loads those and drops the rest), which makes each step
# several times cheaper; LoRA adapts them and the new head is trained in full (PEFT's `SEQ_CLS` task
# type saves it with the adapter).

# %%
import tempfile
import warnings

import torch
from peft import LoraConfig, TaskType
from transformers import PrinterCallback
from trl import RewardConfig, RewardTrainer

from helpers import load_pretrained

warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*")  # transformers renames it: not our concern
layer_kwargs = {"num_hidden_layers": cfg.rm_layers} if cfg.rm_layers else {}
reward_model, tokenizer = load_pretrained(cfg.model_id, task="sequence-classification", profile=cfg.profile,
                                          num_labels=1, **layer_kwargs)
reward_model.config.pad_token_id = tokenizer.pad_token_id  # the score is read before the first pad
glue("day37_rm_layers", reward_model.config.num_hidden_layers)


def trainer_args(config_class: type, steps: int, batch_size: int, lr: float, **extra: object) -> object:
    """A TRL config for a short, quiet, deterministic run on ``cfg.device``."""
    return config_class(
        output_dir=tempfile.mkdtemp(prefix="day37_"), max_steps=steps, per_device_train_batch_size=batch_size,
        learning_rate=lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        max_length=cfg.max_length, logging_steps=1, save_strategy="no", report_to="none",
        disable_tqdm=True, gradient_checkpointing=False, bf16=False, seed=cfg.seed,
        use_cpu=cfg.device.type == "cpu", **extra)


rm_trainer = RewardTrainer(
    model=reward_model, processing_class=tokenizer, train_dataset=train_set,
    args=trainer_args(RewardConfig, cfg.rm_steps, cfg.rm_batch_size, cfg.rm_lr),
    peft_config=LoraConfig(r=cfg.rm_lora_r, lora_alpha=2 * cfg.rm_lora_r, lora_dropout=0.0,
                           target_modules=["q_proj", "v_proj"], task_type=TaskType.SEQ_CLS))
rm_trainer.remove_callback(PrinterCallback)  # disable_tqdm swaps the bar for a printer of every log line
reward_model = rm_trainer.model
print(f"reward model: {reward_model.config.num_hidden_layers} blocks, "
      f"{sum(p.numel() for p in reward_model.parameters() if p.requires_grad):,} trainable parameters")

# %% [markdown]
# Before training, check the trainer's loss against ours on the same batch. `RewardTrainer` tokenises
# `prompt + chosen` and `prompt + rejected`, and its collator stacks all the chosen sequences and then all
# the rejected ones in one padded batch; one forward pass gives every score, and the two halves are
# $r_c$ and $r_r$.

# %%
from helpers import compare
from helpers.preference import preference_accuracy, reward_loss


def rm_batch(rows: list[dict]) -> dict[str, torch.Tensor]:
    """Tokenised pairs, collated the way RewardTrainer does, on the model's device."""
    batch = rm_trainer.data_collator(rows)
    return {key: value.to(rm_trainer.accelerator.device) for key, value in batch.items()}


rm_train_rows = [rm_trainer.train_dataset[i] for i in range(cfg.rm_batch_size)]
reward_model.eval()
with torch.no_grad():
    batch = rm_batch(rm_train_rows)
    trl_loss = rm_trainer.compute_loss(reward_model, dict(batch))
    chosen_r, rejected_r = reward_model(**batch).logits.squeeze(-1).chunk(2)
compare("RewardTrainer loss = -log sigmoid(r_c - r_r)", reward_loss(chosen_r, rejected_r), trl_loss, atol=1e-6)
print(f"rewards chosen {chosen_r.cpu().numpy().round(4)}, rejected {rejected_r.cpu().numpy().round(4)}")

# %% [markdown]
# The held-out pairs go through the trainer's own preprocessing (`_prepare_dataset`, which appends the
# end-of-text token and tokenises) so that they are scored exactly as the training pairs are. The reward
# accuracy is the share of pairs whose chosen answer gets the higher score; we measure it per source,
# before and after training.

# %%
rm_eval_set = rm_trainer._prepare_dataset(eval_set, tokenizer, rm_trainer.args, "eval")


@torch.no_grad()
def reward_scores(model: torch.nn.Module, rows: datasets.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Rewards of the chosen and of the rejected answers of ``rows``, in batches."""
    model.eval()
    chosen, rejected = [], []
    for start in range(0, len(rows), 8):
        scores = model(**rm_batch([rows[i] for i in range(start, min(start + 8, len(rows)))])).logits
        c, r = scores.squeeze(-1).chunk(2)
        chosen.append(c.cpu())
        rejected.append(r.cpu())
    return torch.cat(chosen), torch.cat(rejected)


def accuracy_by_source(model: torch.nn.Module) -> dict[str, float]:
    chosen, rejected = reward_scores(model, rm_eval_set)
    sources = rm_eval_set["source"]
    return {source: preference_accuracy(chosen[[s == source for s in sources]],
                                        rejected[[s == source for s in sources]])
            for source in dict.fromkeys(sources)}


eval_counts = {source: rm_eval_set["source"].count(source) for source in dict.fromkeys(rm_eval_set["source"])}


rm_before = accuracy_by_source(reward_model)
rm_trainer.train()
rm_after = accuracy_by_source(reward_model)
for source in rm_before:
    glue(f"day37_rm_acc_{source}", rm_after[source])
    print(f"reward accuracy on {eval_counts[source]:>2} held-out {source:<9} pairs: before {rm_before[source]:.4f}"
          f"  after {rm_after[source]:.4f}")

# %% [markdown]
# Before training the head is random, so the accuracy is a coin toss per pair (a random head can still
# rank one source well by chance, for instance by picking up the answers' length). How far training
# moves it depends on the profile: under `ci` about a dozen held-out pairs per source (those that fit
# in `max_length` tokens; the trainer drops longer ones) give accuracies in steps of 0.08 or more, and a few optimizer steps are far from convergence, so read these numbers as a smoke
# test. The review pairs are also hard by construction: "other" includes 4-star reviews, which are
# enthusiastic too, so even a well-trained model stays well below 100 % on them. Relevance (the dialogue
# pairs) is the easier signal.

# %% [markdown]
# The log of each step holds the loss, the mean margin $r_c - r_r$ and the accuracy on the training
# batch. The margin should grow as the model learns to separate the pairs; with batches of
# {glue:text}`day37_rm_batch` pairs the curves are noisy.

# %%
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator


def log_column(trainer: object, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one logged quantity (the trainer logs once per step)."""
    rows = [row for row in trainer.state.log_history if key in row]
    return [row["step"] for row in rows], [row[key] for row in rows]


glue("day37_rm_batch", cfg.rm_batch_size)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for key, label in (("margin", "mean margin $r_c - r_r$"), ("loss", "loss")):
    axes[0].plot(*log_column(rm_trainer, key), marker=".", label=label)
axes[0].axhline(0, color="grey", lw=0.8)
axes[0].set(xlabel="optimizer step", ylabel="value on the training batch", title="Reward model training")
axes[0].legend(fontsize=8)
axes[1].plot(*log_column(rm_trainer, "accuracy"), marker=".")
axes[1].set(xlabel="optimizer step", ylabel="accuracy on the batch", ylim=(-0.05, 1.05),
            title="Reward accuracy (training batches)")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## DPO: the policy is its own reward model
#
# RLHF's second stage maximises the reward while staying close to a reference policy $\pi_\text{ref}$
# (the model before this stage):
#
# $$
# \max_{\pi}\; \mathbb{E}_{x,\, y \sim \pi}\big[r(x, y)\big] - \beta\, \mathrm{KL}\big(\pi(\cdot\mid x)\,\|\,\pi_\text{ref}(\cdot\mid x)\big).
# $$
#
# Its optimum has a closed form, $\pi^*(y\mid x) \propto \pi_\text{ref}(y\mid x)\, e^{r(x,y)/\beta}$, which
# can be solved for the reward: $r(x, y) = \beta \log \frac{\pi^*(y\mid x)}{\pi_\text{ref}(y\mid x)} +
# \beta \log Z(x)$. Put this reward into the Bradley-Terry loss: $\log Z(x)$ cancels in the difference,
# and what is left is a loss on the policy itself (Rafailov et al., 2023),
#
# $$
# L_\text{DPO} = -\log \sigma\Big(\beta \log \frac{\pi_\theta(y_c\mid x)}{\pi_\text{ref}(y_c\mid x)}
#   - \beta \log \frac{\pi_\theta(y_r\mid x)}{\pi_\text{ref}(y_r\mid x)}\Big).
# $$
#
# The two terms are the *implicit rewards*; their difference is the *reward margin*. $\log\pi(y\mid x)$
# is the sum of the log-probabilities of the answer's tokens given the prompt and the tokens before
# them. No sampling, no separate reward model: one forward pass of the policy and one of the frozen
# reference per pair. With LoRA, the reference is the same model with its adapter switched off, so no
# second copy is needed. $\beta$ plays the part of the KL coefficient: a small $\beta$ lets the policy go
# far from the reference.
#
# Under `ci` the LoRA adapter sits in the last {glue:text}`day37_lora_blocks` blocks only
# (`layers_to_transform`), so the backward pass stops there and a step costs little more than the two
# forward passes; the other profiles adapt every block.

# %%
from trl import DPOConfig, DPOTrainer

policy, policy_tokenizer = load_pretrained(cfg.model_id, profile=cfg.profile)
lora_layers = {"layers_to_transform": cfg.lora_layers} if cfg.lora_layers else {}
glue("day37_lora_blocks", len(cfg.lora_layers or range(policy.config.num_hidden_layers)))
dpo_trainer = DPOTrainer(
    model=policy, processing_class=policy_tokenizer, train_dataset=train_set,
    args=trainer_args(DPOConfig, cfg.dpo_steps, cfg.dpo_batch_size, cfg.dpo_lr, beta=cfg.dpo_beta),
    peft_config=LoraConfig(r=cfg.dpo_lora_r, lora_alpha=2 * cfg.dpo_lora_r, lora_dropout=0.0,
                           target_modules=["q_proj", "v_proj"], task_type=TaskType.CAUSAL_LM, **lora_layers))
dpo_trainer.remove_callback(PrinterCallback)
policy = dpo_trainer.model
sources = eval_set["source"]
keep = [i for i, source in enumerate(sources) if sources[:i].count(source) < cfg.dpo_eval_pairs]
dpo_eval_set = dpo_trainer._prepare_dataset(eval_set.select(keep), policy_tokenizer, dpo_trainer.args, "eval")
row = dpo_eval_set[0]
print(f"DPO example: {len(row['prompt_ids'])} prompt tokens, {len(row['chosen_ids'])} chosen and "
      f"{len(row['rejected_ids'])} rejected answer tokens (end-of-text included)")

# %% [markdown]
# Our side of the check: `completion_logprobs` takes the logits, shifts by one (the logits at position
# $t$ predict token $t+1$) and sums the log-probabilities of the answer tokens, marked by the collator's
# `completion_mask`; `dpo_loss` forms the two log-ratios, the implicit rewards and the loss. Before
# training there is nothing to check: LoRA's $B$ starts at zero, so the policy *is* the reference, every
# implicit reward is exactly 0 and the loss is exactly $\log 2$.

# %%
from helpers.preference import completion_logprobs, dpo_loss


def dpo_batch(rows: list[dict]) -> dict[str, torch.Tensor]:
    batch = dpo_trainer.data_collator(rows)
    return {key: value.to(dpo_trainer.accelerator.device) for key, value in batch.items()}


@torch.no_grad()
def dpo_by_hand(rows: list[dict]) -> object:
    """Our DPO loss and implicit rewards for ``rows``: the policy with and without its adapter."""
    batch = dpo_batch(rows)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    logps = completion_logprobs(policy(**inputs).logits, batch["input_ids"], batch["completion_mask"])
    with policy.disable_adapter():  # the reference: the model before DPO
        ref_logps = completion_logprobs(policy(**inputs).logits, batch["input_ids"], batch["completion_mask"])
    return dpo_loss(*logps.chunk(2), *ref_logps.chunk(2), beta=cfg.dpo_beta)


dpo_result = dpo_trainer.train()
print(f"{dpo_result.global_step} DPO steps, mean training loss {dpo_result.training_loss:.4f}")

# %% [markdown]
# After training the adapter is no longer zero and the check means something. We give the trainer's
# `compute_loss` a batch and read the loss it returns and the implicit rewards it logs, then recompute
# them from our log-probabilities. (TRL computes the log-probabilities with a fused head that never builds
# the full logits tensor, so the two agree to float32 rounding, not to the bit.)

# %%
check_rows = [dpo_trainer.train_dataset[i] for i in range(cfg.dpo_batch_size)]
policy.eval()
with torch.no_grad():
    trl_dpo_loss = dpo_trainer.compute_loss(policy, dpo_batch(check_rows))
trl_logged = {key: dpo_trainer._metrics["eval"][key][-1]
              for key in ("rewards/chosen", "rewards/rejected", "rewards/margins")}
ours = dpo_by_hand(check_rows)
compare("DPOTrainer loss = hand DPO loss", ours.loss, trl_dpo_loss, atol=1e-4)
compare("implicit rewards, chosen (batch mean)", ours.chosen_rewards.mean(), trl_logged["rewards/chosen"],
        atol=1e-4)
compare("implicit rewards, rejected (batch mean)", ours.rejected_rewards.mean(),
        trl_logged["rewards/rejected"], atol=1e-4)
compare("reward margins (batch mean)", ours.margins.mean(), trl_logged["rewards/margins"], atol=1e-4)
print(f"on this batch: loss {ours.loss.item():.4f}, margins {ours.margins.cpu().numpy().round(4)}")

# %% [markdown]
# The implicit rewards over training, and the margins on held-out pairs after it (before training they
# are all 0). On the training batches the chosen answers' rewards should rise relative to the rejected
# ones; often both log-probabilities fall, the rejected one faster, since DPO only constrains the
# difference (rasbt's DPO notebook shows the same). Under `ci`, five steps of two pairs are not enough to
# learn a preference that carries over to new pairs: the large step size that makes the policy move at
# all fits the few pairs it sees, and the held-out margins are noise, often negative (here their mean is
# {glue:text}`day37_dpo_margin_after:.4f`, and the chosen answer wins {glue:text}`day37_dpo_acc_after:.2f`
# of the pairs). `laptop` and `gpu`, with hundreds of pairs and steps, are where the held-out margins
# grow.

# %%
dpo_after = dpo_by_hand([dpo_eval_set[i] for i in range(len(dpo_eval_set))])
glue("day37_dpo_margin_after", dpo_after.margins.mean().item())
glue("day37_dpo_acc_after", preference_accuracy(dpo_after.chosen_rewards, dpo_after.rejected_rewards))
print(f"{len(dpo_eval_set)} held-out pairs after DPO: loss {dpo_after.loss.item():.4f} (log 2 = 0.6931 before), "
      f"mean margin {dpo_after.margins.mean().item():.4f}, "
      f"accuracy {preference_accuracy(dpo_after.chosen_rewards, dpo_after.rejected_rewards):.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for key, label in (("rewards/chosen", "chosen"), ("rewards/rejected", "rejected"),
                   ("rewards/margins", "margin")):
    axes[0].plot(*log_column(dpo_trainer, key), marker=".", label=label)
axes[0].axhline(0, color="grey", lw=0.8)
axes[0].set(xlabel="optimizer step", ylabel=r"implicit reward $\beta \log \pi/\pi_{ref}$",
            title="DPO: implicit rewards (training batches)")
axes[0].legend(fontsize=8)
margins = dpo_after.margins.cpu().numpy()
for source in dict.fromkeys(dpo_eval_set["source"]):
    index = [i for i, s in enumerate(dpo_eval_set["source"]) if s == source]
    axes[1].bar(index, margins[index], label=source)
axes[1].axhline(0, color="grey", lw=0.8)
axes[1].set(xlabel="held-out pair", ylabel="reward margin after DPO", title="DPO margins on held-out pairs")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## PPO with a KL penalty, by hand
#
# The classic pipeline optimises the policy against the trained reward model by reinforcement learning.
# **TRL 1.16 has no PPO trainer** (`trl.experimental.ppo` existed up to TRL 1.12), so the cells below
# write a small one. For each prompt the policy samples an answer $y = (a_1, \dots, a_T)$. Each generated
# token gets the reward
#
# $$
# r_t = -\beta\,\big(\log\pi_\theta(a_t \mid s_t) - \log\pi_\text{ref}(a_t\mid s_t)\big) + [t = T]\; r_\phi(x, y),
# $$
#
# the reward model's score $r_\phi$ arriving at the last token, and a per-token KL penalty everywhere:
# summed over the answer, it is the score minus $\beta$ times a sampled estimate of
# $\mathrm{KL}(\pi_\theta\,\|\,\pi_\text{ref})$. Without that penalty the policy would drift to whatever
# text fools the reward model (*reward hacking*), far from the fluent language of the reference.
#
# PPO (Schulman et al., 2017) then takes a few gradient steps on the samples it has, with the clipped
# objective: with the probability ratio $\rho_t = \pi_\theta(a_t\mid s_t) / \pi_\text{old}(a_t\mid s_t)$
# against the policy that sampled,
#
# $$
# L_\text{PPO} = -\frac{1}{\sum_t 1}\sum_t \min\big(\rho_t A_t,\; \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\, A_t\big),
# $$
#
# so that no step moves a token's probability by more than a factor $1 \pm \epsilon$ in the direction the
# advantage rewards. Our advantage $A_t$ is the return-to-go $\sum_{t' \ge t} r_{t'}$, whitened over the
# batch: the batch mean is the baseline. Full PPO learns a value network for the baseline and uses
# generalised advantage estimation (GAE); dropping the critic, as RLOO and GRPO do, keeps the loop short.
# The pieces are in `helpers.preference`: `token_logprobs`, `kl_penalized_rewards`, `returns_to_go`,
# `whiten`, `ppo_clip_loss`.
#
# The policy gets a fresh LoRA adapter, `ppo`, on the same model as DPO's, so the reference is again the
# model with adapters off. The reward model is the one trained above. The prompts are the review prompt,
# so the reward model's sentiment signal should push the answers towards enthusiasm.

# %%
from helpers.preference import (
    REVIEW_PROMPT,
    exact_kl,
    kl_penalized_rewards,
    ppo_clip_loss,
    returns_to_go,
    token_logprobs,
    whiten,
)

policy.add_adapter("ppo", LoraConfig(r=cfg.ppo_lora_r, lora_alpha=2 * cfg.ppo_lora_r, lora_dropout=0.0,
                                     target_modules=["q_proj", "v_proj"], task_type=TaskType.CAUSAL_LM,
                                     **lora_layers))
policy.set_adapter("ppo")
ppo_params = [p for name, p in policy.named_parameters() if ".ppo." in name]
for p in ppo_params:
    p.requires_grad_(True)
ppo_optimizer = torch.optim.Adam(ppo_params, lr=cfg.ppo_lr)
prompts = [REVIEW_PROMPT] * cfg.ppo_batch_size if cfg.dataset == "offline" else \
    [pair["prompt"] for pair in eval_pairs[: cfg.ppo_batch_size]]
pad_id, eos_id = policy_tokenizer.pad_token_id, policy_tokenizer.eos_token_id
print(f"PPO adapter: {sum(p.numel() for p in ppo_params):,} trainable parameters; "
      f"{len(prompts)} samples per iteration, {cfg.ppo_new_tokens} new tokens at most")


@torch.no_grad()
def rollout(seed: int) -> dict[str, torch.Tensor]:
    """Sample answers, then score them: log-probs under the policy and the reference, and RM scores."""
    policy.eval()
    encoded = policy_tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left").to(cfg.device)
    width = encoded["input_ids"].shape[1]
    torch.manual_seed(seed)  # pure sampling: temperature 1, no top-k or top-p, so pi is the policy itself
    sequences = policy.generate(**encoded, do_sample=True, top_k=0, top_p=1.0, temperature=1.0,
                                max_new_tokens=cfg.ppo_new_tokens, pad_token_id=pad_id)
    answers = sequences[:, width:]
    is_eos = answers == eos_id
    after_eos = (is_eos.long().cumsum(-1) - is_eos.long()) > 0  # tokens after the first end-of-text
    mask = (~after_eos).float()  # the end-of-text token itself is an action: it stays
    attention = torch.cat([encoded["attention_mask"], mask.long()], dim=1)
    logits = answer_logits(sequences, attention, width)
    with policy.disable_adapter():
        ref_logits = answer_logits(sequences, attention, width)
    answer_texts = policy_tokenizer.batch_decode(answers.masked_fill(after_eos | is_eos, pad_id),
                                                 skip_special_tokens=True)
    texts = [prompt + text + tokenizer.eos_token for prompt, text in zip(prompts, answer_texts, strict=True)]
    reward_model.eval()
    scored = tokenizer(texts, return_tensors="pt", padding=True).to(rm_trainer.accelerator.device)
    scores = reward_model(**scored).logits.squeeze(-1).to(cfg.device)
    return {"sequences": sequences, "attention": attention, "answers": answers, "mask": mask, "width": width,
            "logprobs": token_logprobs(logits, answers), "ref_logprobs": token_logprobs(ref_logits, answers),
            "scores": scores, "kl_exact": exact_kl(logits, ref_logits, mask), "answer_texts": answer_texts,
            "logits": logits, "ref_logits": ref_logits}


def answer_logits(sequences: torch.Tensor, attention: torch.Tensor, width: int) -> torch.Tensor:
    """The logits that predict each answer token (position t - 1 predicts token t)."""
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # left-padded prompts: count real tokens only
    logits = policy(input_ids=sequences, attention_mask=attention, position_ids=positions).logits
    return logits[:, width - 1:-1]


# %% [markdown]
# Before training, a check of the pieces on a first batch of samples: our per-token log-probabilities
# equal TRL's `selective_log_softmax` (the function its trainers use), the exact KL per position equals
# PyTorch's `kl_div`, and the per-token rewards sum to the score minus $\beta$ times the sampled KL.

# %%
import torch.nn.functional as F
from trl.trainer.utils import selective_log_softmax

first = rollout(cfg.seed)
logits, ref_logits = first.pop("logits"), first.pop("ref_logits")
compare("token_logprobs = trl selective_log_softmax", first["logprobs"],
        selective_log_softmax(logits, first["answers"]), atol=1e-4)
kl_reference = F.kl_div(ref_logits.log_softmax(-1), logits.log_softmax(-1), log_target=True,
                        reduction="none").sum(-1)
compare("exact_kl = torch kl_div", first["kl_exact"], (kl_reference * first["mask"]).sum(-1), atol=1e-5)
rewards = kl_penalized_rewards(first["scores"], first["logprobs"], first["ref_logprobs"], first["mask"],
                               cfg.ppo_beta)
sampled_kl = ((first["logprobs"] - first["ref_logprobs"]) * first["mask"]).sum(-1)
compare("sum of rewards = score - beta * sampled KL", rewards.sum(-1),
        first["scores"] - cfg.ppo_beta * sampled_kl, atol=1e-5)
print("a first sample:", repr(first["answer_texts"][0]))

# %% [markdown]
# The loop. Each iteration samples a batch with the current policy, freezes those samples' log-probs as
# $\pi_\text{old}$, computes rewards and advantages once, and takes `ppo_epochs` clipped steps on them.
# We record the reward model's mean score and the mean KL from the reference (exact, summed over the
# answer's tokens).

# %%
history = []
batch = first
for iteration in range(cfg.ppo_iterations):
    if iteration > 0:
        batch = rollout(cfg.seed + iteration)
        del batch["logits"], batch["ref_logits"]
    rewards = kl_penalized_rewards(batch["scores"], batch["logprobs"], batch["ref_logprobs"], batch["mask"],
                                   cfg.ppo_beta)
    advantages = whiten(returns_to_go(rewards, batch["mask"]), batch["mask"])
    policy.train()
    for _ in range(cfg.ppo_epochs):
        new_logprobs = token_logprobs(answer_logits(batch["sequences"], batch["attention"], batch["width"]),
                                      batch["answers"])
        loss, clip_fraction = ppo_clip_loss(new_logprobs, batch["logprobs"], advantages, batch["mask"],
                                            cfg.ppo_clip)
        ppo_optimizer.zero_grad()
        loss.backward()
        ppo_optimizer.step()
    history.append({"iteration": iteration, "score": batch["scores"].mean().item(),
                    "kl": batch["kl_exact"].mean().item(), "clip_fraction": clip_fraction.item(),
                    "length": batch["mask"].sum(-1).mean().item()})
final = rollout(cfg.seed + cfg.ppo_iterations)
history.append({"iteration": cfg.ppo_iterations, "score": final["scores"].mean().item(),
                "kl": final["kl_exact"].mean().item(), "clip_fraction": float("nan"),
                "length": final["mask"].sum(-1).mean().item()})
glue("day37_ppo_score_before", history[0]["score"])
glue("day37_ppo_score_after", history[-1]["score"])
glue("day37_ppo_kl_after", history[-1]["kl"])
print(f"{'iteration':>9} {'RM score':>9} {'KL':>8} {'clip frac':>9} {'tokens':>7}")
for record in history:
    print(f"{record['iteration']:>9} {record['score']:9.4f} {record['kl']:8.4f} "
          f"{record['clip_fraction']:9.4f} {record['length']:7.2f}")

# %% [markdown]
# The classic picture of RLHF plots the reward against the KL from the reference: the policy buys reward
# by moving away from the reference, and $\beta$ sets the exchange rate. The second panel is the same
# run over the iterations.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
kls, scores = [r["kl"] for r in history], [r["score"] for r in history]
axes[0].plot(kls, scores, marker="o")
for record in history:
    axes[0].annotate(str(record["iteration"]), (record["kl"], record["score"]), textcoords="offset points",
                     xytext=(4, 4), fontsize=8)
axes[0].set(xlabel=r"KL($\pi_\theta \,\|\, \pi_{ref}$) per answer (nats)", ylabel="mean reward-model score",
            title=f"PPO: reward vs KL ($\\beta$ = {cfg.ppo_beta})")
iterations = [r["iteration"] for r in history]
axes[1].plot(iterations, scores, marker="o", label="RM score")
axes[1].plot(iterations, [s - cfg.ppo_beta * k for s, k in zip(scores, kls, strict=True)], marker=".",
             label=r"score $-\ \beta$ KL (the objective)")
axes[1].set(xlabel="PPO iteration (samples of the policy before it)", ylabel="value",
            title="PPO: objective over iterations")
axes[1].legend(fontsize=8)
axes[1].xaxis.set_major_locator(MaxNLocator(integer=True))
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# Samples from the policy before PPO (iteration 0) and after the last iteration, with the reward model's
# score. With a few iterations on a CPU the change is small and noisy; the `laptop` and `gpu` profiles run
# many more.

# %%
for name, result in (("before PPO", first), ("after PPO", final)):
    print(name)
    for text, score in list(zip(result["answer_texts"], result["scores"].tolist(), strict=True))[:3]:
        print(f"  {score:7.4f}  {' '.join(text.split())[:100]!r}")

# %% [markdown]
# ## Find and fix: "RLHF" with logits as rewards
#
# The 2023 article's "RLHF" step did this, ten times: generate two replies to a prompt, call the first
# one chosen and the second one rejected, re-tokenise both, and minimise
#
# ```python
# r_j = model(chosen_ids).logits      # (1, T_j, vocabulary): raw next-token logits
# r_k = model(rejected_ids).logits    # (1, T_k, vocabulary)
# loss = -torch.nn.functional.logsigmoid(r_j - r_k).mean()
# loss.backward(); optimizer.step()
# ```
#
# Every part of the recipe above is missing. There is **no preference**: which reply is "chosen" is the
# order of sampling, so the signal is noise. There is **no reward model**: a logit is not a score of an
# answer; it is an unnormalised log-probability of one next token, and the softmax ignores a constant
# added to all logits of a position, so the "reward" can grow without the model's distribution changing
# at all (the cell below shows it). The **shapes** only subtract when both replies have the same length.
# And there is **no reference and no KL**, so nothing keeps the model near the one it started from.

# %%
torch.manual_seed(0)
logits_j, logits_k = torch.randn(1, 5, 11), torch.randn(1, 5, 11)


def seed_rlhf_loss(r_j: torch.Tensor, r_k: torch.Tensor) -> torch.Tensor:
    return -F.logsigmoid(r_j - r_k).mean()


shifted = logits_j + 3.0  # the same next-token distributions: softmax ignores the shift
compare("shifted logits give the same probabilities", shifted.softmax(-1), logits_j.softmax(-1))
print(f"the article's loss: {seed_rlhf_loss(logits_j, logits_k):.4f} before the shift, "
      f"{seed_rlhf_loss(shifted, logits_k):.4f} after it, for the same model behaviour")

# %% [markdown]
# ## Exercises
#
# ````{exercise}
# :label: day37-fix
# Find and fix the article's "RLHF" above. Say for each of its four flaws which piece of today's notebook
# replaces it, then write the corrected loop for one pair of sampled replies with a reward model that
# decides which one is chosen.
# ````
#
# ````{solution} day37-fix
# :class: dropdown
# - no preference → a preference source: human comparisons, or a reward model that ranks the two samples
#   (RLAIF and "best-of-2" do this), or a preference dataset used offline;
# - logits as rewards → a scalar reward per answer: `reward_model(...)` (Bradley-Terry, trained above), or,
#   in DPO, the implicit reward $\beta \log \pi_\theta(y\mid x)/\pi_\text{ref}(y\mid x)$, which is a sum of
#   *normalised* log-probabilities (`completion_logprobs`) and so cannot be inflated by a shift of logits;
# - shapes → one number per sequence, whatever its length (sum over the answer tokens, masked);
# - no KL → a frozen reference: the adapter switched off, and $\beta$ in DPO's loss or PPO's reward.
#
# The corrected step, online DPO with the reward model as the judge:
#
# ```python
# encoded = policy_tokenizer([REVIEW_PROMPT] * 2, return_tensors="pt").to(cfg.device)
# width = encoded["input_ids"].shape[1]
# policy.set_adapter("ppo"); policy.eval()
# with torch.no_grad():
#     samples = policy.generate(**encoded, do_sample=True, max_new_tokens=24, pad_token_id=pad_id)
# texts = policy_tokenizer.batch_decode(samples[:, width:], skip_special_tokens=True)
# scored = tokenizer([REVIEW_PROMPT + t + tokenizer.eos_token for t in texts], return_tensors="pt",
#                    padding=True).to(cfg.device)
# with torch.no_grad():
#     scores = reward_model(**scored).logits.squeeze(-1)
# order = [0, 1] if scores[0] >= scores[1] else [1, 0]   # the judge decides, not the sampling order
# mask = torch.zeros_like(samples, dtype=torch.float); mask[:, width:] = 1
# mask[:, width:] *= (samples[:, width:] != pad_id).float()   # (keep the first end-of-text in real code)
# policy.train()
# logps = completion_logprobs(policy(input_ids=samples).logits, samples, mask)
# with torch.no_grad(), policy.disable_adapter():
#     ref_logps = completion_logprobs(policy(input_ids=samples).logits, samples, mask)
# out = dpo_loss(logps[order[0]:order[0] + 1], logps[order[1]:order[1] + 1],
#                ref_logps[order[0]:order[0] + 1], ref_logps[order[1]:order[1] + 1], beta=0.1)
# ppo_optimizer.zero_grad(); out.loss.backward(); ppo_optimizer.step()
# ```
# ````
#
# ````{exercise}
# :label: day37-beta
# Rerun the PPO loop with $\beta = 0$, $0.05$ and $0.5$ (a fresh `ppo` adapter each time:
# `policy.delete_adapter("ppo")`, then the adapter cell again), and draw the three reward-vs-KL curves on
# one plot. Which one drifts furthest from the reference, and what do its samples look like?
# ````
#
# ````{solution} day37-beta
# :class: dropdown
# With $\beta = 0$ nothing holds the policy: the KL grows fastest and, given enough iterations (run it
# under `laptop`), the samples collapse onto whatever the reward model scores highest, often repeated
# enthusiastic words ("Great great delicious!") or degenerate text: reward hacking. With $\beta = 0.5$
# the penalty of a nat of KL outweighs most score gains, the curve stays near KL = 0 and the score barely
# moves. The curves trace the reward/KL frontier that InstructGPT and Gao et al. (2022, "Scaling laws for
# reward model overoptimization") plot: the true quality first rises with KL and then falls, while the
# proxy reward keeps rising. In `ci`, with five iterations, the curves are short and noisy; the ordering
# of their KL is the robust part.
# ````
#
# ```{exercise}
# :label: day37-k3
# PPO's penalty uses the sampled estimate $k_1 = \log\pi(a) - \log\pi_\text{ref}(a)$ of the KL, which is
# unbiased but can be negative for one sample. GRPO uses $k_3 = e^{-k_1} - 1 + k_1$ (Schulman, "Approximating
# KL divergence", 2020). Write `k3_estimate(logp, ref_logp)`, which returns $k_3$ for each sample. The cell
# draws 20,000 samples from a small distribution and checks that every $k_3$ is non-negative and that their
# mean matches the exact KL.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def k3_estimate(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 = exp(ref_logp - logp) - 1 - (ref_logp - logp), for each sample a ~ pi."""
    ### BEGIN SOLUTION
    log_ratio = ref_logp - logp
    return torch.exp(log_ratio) - 1 - log_ratio
    ### END SOLUTION


generator = torch.Generator().manual_seed(0)
pi_logits, ref_logits_toy = torch.tensor([2.0, 0.5, -1.0, 0.0]), torch.tensor([0.0, 0.0, 0.0, 0.0])
draws = torch.multinomial(pi_logits.softmax(-1), 20_000, replacement=True, generator=generator)
k3 = k3_estimate(pi_logits.log_softmax(-1)[draws], ref_logits_toy.log_softmax(-1)[draws])
exact = exact_kl(pi_logits[None, None], ref_logits_toy[None, None], torch.ones(1, 1)).item()
check_value("every k3 is >= 0", bool((k3 >= 0).all()), True)
check_value("mean of k3 = KL(pi || ref)", k3.mean().item(), exact, atol=0.02)

# %% [markdown]
# ````{solution} day37-k3
# :class: dropdown
# The function is in the cell above. With $r = \pi_\text{ref}(a)/\pi(a)$, $k_3 = r - 1 - \log r \ge 0$
# because $\log r \le r - 1$. It is unbiased because $\mathbb{E}_{a\sim\pi}[r] = \sum_a \pi_\text{ref}(a) = 1$,
# so $\mathbb{E}[k_3] = \mathbb{E}[-\log r] = \mathrm{KL}(\pi\,\|\,\pi_\text{ref})$. Its variance is lower
# than $k_1$'s when the two distributions are close, which is why GRPO and TRL's GRPO trainer use it.
# Compare the two estimators' standard deviations on the same draws:
# ```python
# k1 = pi_logits.log_softmax(-1)[draws] - ref_logits_toy.log_softmax(-1)[draws]
# print(f"exact {exact:.4f}; k1 mean {k1.mean():.4f} std {k1.std():.4f}; k3 mean {k3.mean():.4f} std {k3.std():.4f}")
# ```
# ````
#
# ## Summary
#
# - Preference pairs are `prompt`/`chosen`/`rejected` triples. Offline we built them from review ratings
#   and mismatched dialogue replies: real text, but a sentiment and a relevance signal rather than human
#   judgements of helpfulness.
# - A reward model is a language model with a scalar head, fitted with the Bradley-Terry loss
#   $-\log\sigma(r_c - r_r)$; TRL's `RewardTrainer` computes exactly that. Here its held-out accuracy after
#   training was {glue:text}`day37_rm_acc_reviews:.2f` on the review pairs and
#   {glue:text}`day37_rm_acc_dialogues:.2f` on the dialogue pairs (a few steps, a dozen pairs per source).
# - DPO replaces the reward model by the implicit reward $\beta\log\pi_\theta/\pi_\text{ref}$ and trains on
#   the pairs directly; our loss and reward margins equal `DPOTrainer`'s; the mean held-out margin after
#   training was {glue:text}`day37_dpo_margin_after:.4f` (accuracy {glue:text}`day37_dpo_acc_after:.2f`).
# - PPO samples from the policy, rewards it with the reward model minus a KL penalty against the
#   reference, and takes clipped policy-gradient steps; the mean score went from
#   {glue:text}`day37_ppo_score_before:.4f` to {glue:text}`day37_ppo_score_after:.4f` at a KL of
#   {glue:text}`day37_ppo_kl_after:.4f` nats.
# - Logits are not rewards, and an RL step without a reference has nothing to keep the model sane.
#
# Next, Day 38 keeps the sequence-classification head we used for the reward model and turns a decoder
# LLM into a classifier, with the same last-token pooling and its pad = end-of-text trap.
