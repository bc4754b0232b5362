"""GRU encoder-decoders, with or without attention, greedy decoding and a small training loop.

Defined in Day 18 (plain encoder-decoder) and Day 19 (attention decoder); reused by Day 20.

The decoding API (what greedy decoding here and beam search in ``helpers.decoding`` drive)
------------------------------------------------------------------------------------------
Shapes: B batch, S source length, T target length, V target vocabulary, H decoder width,
D encoder output width, L GRU layers. Token ids: ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2
(``helpers.corpora.dates.CharVocab``); a model built with other ids says so in ``Seq2Seq(pad_id=...,
bos_id=..., eos_id=...)``.

``model = Seq2Seq(encoder, decoder)``::

    encoder_outputs, hidden, src_mask = model.encode(src, src_lengths)
    #   src (B, S) int64, right-padded; src_lengths (B,) int64
    #   encoder_outputs (B, S, D) (zeros at pads); hidden (L, B, H): the decoder's initial state;
    #   src_mask (B, S) bool, True at pads
    log_probs, hidden, attn_weights = model.decoder.step(prev_token, hidden, encoder_outputs, src_mask)
    #   prev_token (B,) int64: the previous output token (<bos> at the first step)
    #   log_probs (B, V): log-softmax over the next token; hidden (L, B, H): the new state
    #   attn_weights (B, S) (exactly 0 at pads), or None for a decoder without attention
    logits, hidden, attn = model.decoder(tgt_in, hidden, encoder_outputs, src_mask)
    #   teacher forcing: tgt_in (B, T) = <bos> + target; logits (B, T, V); attn (B, T, S) or None

The decoder state is always one tensor ``hidden`` of shape (L, B, H), so beam search reorders beams
with ``hidden[:, index]`` (or ``hidden.index_select(1, index)``), and repeats the encoder side with
``encoder_outputs.repeat_interleave(k, 0)`` and ``src_mask.repeat_interleave(k, 0)``. ``step`` is pure
(no state kept in the module), and ``decoder(tgt_in, ...)`` equals ``step`` applied to the gold tokens
one at a time (tested in ``tests/test_day18_seq2seq.py``). :func:`greedy_decode` returns a
:class:`Decoded` (tokens, total log-probability, attention weights), the reference that beam search
with beam size 1 must reproduce.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from helpers.attention import lengths_to_mask

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2


class Encoder(nn.Module):
    """Embedding + GRU over a padded batch of source ids. Defined in Day 18.

    The GRU reads packed sequences, so pads never enter the state: the final hidden state of each
    sample is the one after its last real token, and ``outputs`` are zero at pads. With
    ``bidirectional=True``, ``outputs`` concatenate both directions (width ``2 * hidden_size``) and the
    final states of the two directions are merged per layer by ``tanh(W [h_fwd; h_bwd])``.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, pad_id: int = PAD_ID) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size, hidden_size, num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size) if bidirectional else None
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """src (B, S), src_lengths (B,) -> outputs (B, S, output_size), hidden (layers, B, hidden_size)."""
        if src.ndim != 2 or src_lengths.shape != (src.shape[0],):
            raise ValueError(f"src must be (batch, length) and src_lengths (batch,), got {tuple(src.shape)} "
                             f"and {tuple(src_lengths.shape)}")
        embedded = self.dropout(self.embedding(src))
        packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, hidden = self.rnn(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src.shape[1])
        if self.bridge is not None:   # (2L, B, H) -> (L, 2, B, H) -> (L, B, 2H) -> (L, B, H)
            hidden = hidden.view(self.num_layers, 2, *hidden.shape[1:])
            hidden = torch.tanh(self.bridge(torch.cat([hidden[:, 0], hidden[:, 1]], dim=-1)))
        return outputs, hidden


class Decoder(nn.Module):
    """GRU decoder without attention: the encoder's final state is all it knows of the source.

    Defined in Day 18. ``encoder_outputs`` and ``src_mask`` are accepted (and ignored) so that every
    decoder has the same ``step``/``forward`` signature.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, pad_id: int = PAD_ID) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size, hidden_size, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(hidden_size, vocab_size)
        self.hidden_size, self.num_layers = hidden_size, num_layers

    def forward(self, tgt_in: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor | None = None,
                src_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, None]:
        """Teacher forcing: tgt_in (B, T) -> logits (B, T, V), final hidden, None (no attention)."""
        outputs, hidden = self.rnn(self.dropout(self.embedding(tgt_in)), hidden)
        return self.out(outputs), hidden, None

    def step(self, prev_token: torch.Tensor, hidden: torch.Tensor,
             encoder_outputs: torch.Tensor | None = None,
             src_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, None]:
        """One step: prev_token (B,) -> log_probs (B, V), hidden (L, B, H), None."""
        logits, hidden, _ = self.forward(prev_token[:, None], hidden)
        return logits[:, 0].log_softmax(-1), hidden, None


class AttentionDecoder(nn.Module):
    """GRU decoder with attention over the encoder outputs, in Luong et al.'s layout. Defined in Day 19.

    At step t: ``h_t = GRU(emb(y_{t-1}), h_{t-1})``; ``c_t, a_t = attention(h_t, encoder_outputs)``;
    ``h~_t = tanh(W_c [c_t; h_t])``; ``logits_t = W_s h~_t``. The query is the top layer's *current*
    state, so the GRU runs over the whole target at once under teacher forcing and the attention is one
    batched product (Bahdanau's layout queries with ``h_{t-1}`` and feeds ``c_t`` into the GRU, which
    forces a Python loop). Any module of ``helpers.attention`` can score.

    Args:
        attention: e.g. ``AdditiveAttention(hidden_size, encoder_size, hidden_size)`` or
            ``LuongAttention("general", hidden_size, encoder_size)``.
        encoder_size: width of the encoder outputs (``Encoder.output_size``).
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, attention: nn.Module,
                 encoder_size: int, num_layers: int = 1, dropout: float = 0.0, pad_id: int = PAD_ID) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(embed_size, hidden_size, num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.attention = attention
        self.combine = nn.Linear(encoder_size + hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
        self.hidden_size, self.num_layers = hidden_size, num_layers

    def forward(self, tgt_in: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor,
                src_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing: tgt_in (B, T) -> logits (B, T, V), final hidden, weights (B, T, S)."""
        if encoder_outputs is None:
            raise ValueError("AttentionDecoder needs encoder_outputs (B, S, D) to attend to")
        outputs, hidden = self.rnn(self.dropout(self.embedding(tgt_in)), hidden)     # (B, T, H)
        context, weights = self.attention(outputs, encoder_outputs, key_padding_mask=src_mask)
        attentional = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))
        return self.out(self.dropout(attentional)), hidden, weights

    def step(self, prev_token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor,
             src_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: prev_token (B,) -> log_probs (B, V), hidden (L, B, H), weights (B, S)."""
        logits, hidden, weights = self.forward(prev_token[:, None], hidden, encoder_outputs, src_mask)
        return logits[:, 0].log_softmax(-1), hidden, weights[:, 0]


class Seq2Seq(nn.Module):
    """An encoder and a decoder (with or without attention) behind one API. Defined in Day 18.

    ``forward(src, src_lengths, tgt_in)`` returns teacher-forced logits (B, T, V); ``encode`` prepares
    what ``decoder.step`` needs (see the module docstring).
    """

    def __init__(self, encoder: Encoder, decoder: nn.Module, pad_id: int = PAD_ID, bos_id: int = BOS_ID,
                 eos_id: int = EOS_ID) -> None:
        super().__init__()
        if encoder.hidden_size != decoder.hidden_size or encoder.num_layers != decoder.num_layers:
            raise ValueError(f"the encoder's state ({encoder.num_layers} x {encoder.hidden_size}) must match "
                             f"the decoder's ({decoder.num_layers} x {decoder.hidden_size})")
        self.encoder, self.decoder = encoder, decoder
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> encoder_outputs (B, S, D), initial decoder hidden (L, B, H), src_mask (B, S) True at pads."""
        encoder_outputs, hidden = self.encoder(src, src_lengths)
        return encoder_outputs, hidden, lengths_to_mask(src_lengths.to(src.device), src.shape[1])

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T, V)."""
        encoder_outputs, hidden, src_mask = self.encode(src, src_lengths)
        return self.decoder(tgt_in, hidden, encoder_outputs, src_mask)[0]


def decode_step_by_step(decoder: nn.Module, tgt_in: torch.Tensor, hidden: torch.Tensor,
                        encoder_outputs: torch.Tensor | None, src_mask: torch.Tensor | None,
                        teacher_forcing: float = 1.0, generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``decoder.step`` T times. Defined in Day 18.

    At each step the input is the gold token with probability ``teacher_forcing``, else the model's own
    previous argmax (drawn per sample and per step, as in scheduled sampling).

    Returns log-probabilities (B, T, V) and attention weights (B, T, S) (None without attention). With
    ``teacher_forcing=1`` it equals the teacher-forced ``decoder(tgt_in, ...)`` (after log-softmax);
    with 0 it is free running, as at test time.
    """
    if not 0.0 <= teacher_forcing <= 1.0:
        raise ValueError(f"teacher_forcing is a probability, got {teacher_forcing}")
    token = tgt_in[:, 0]
    all_log_probs, all_weights = [], []
    for t in range(tgt_in.shape[1]):
        log_probs, hidden, weights = decoder.step(token, hidden, encoder_outputs, src_mask)
        all_log_probs.append(log_probs)
        all_weights.append(weights)
        if t + 1 < tgt_in.shape[1]:
            gold, own = tgt_in[:, t + 1], log_probs.argmax(-1)
            if teacher_forcing >= 1.0:
                token = gold
            elif teacher_forcing <= 0.0:
                token = own
            else:
                coin = torch.rand(gold.shape, generator=generator, device="cpu").to(gold.device)
                token = torch.where(coin < teacher_forcing, gold, own)
    weights = None if all_weights[0] is None else torch.stack(all_weights, 1)
    return torch.stack(all_log_probs, 1), weights


class Decoded(NamedTuple):
    """Output of :func:`greedy_decode` (and of beam search)."""

    tokens: torch.Tensor             # (B, L) int64, the generated ids without <bos>; <pad> after <eos>
    log_prob: torch.Tensor           # (B,) sum of the log-probabilities of the tokens up to <eos> included
    weights: torch.Tensor | None     # (B, L, S) attention weights (zeros after <eos>), or None


@torch.no_grad()
def greedy_decode(model: Seq2Seq, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int) -> Decoded:
    """Pick the most probable token at each step until ``<eos>`` or ``max_len`` tokens. Defined in Day 18.

    Drives ``model.encode`` and ``model.decoder.step`` only (the decoding API of this module).
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    encoder_outputs, hidden, src_mask = model.encode(src, src_lengths)
    batch = src.shape[0]
    token = torch.full((batch,), model.bos_id, dtype=torch.long, device=src.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=src.device)
    total = torch.zeros(batch, device=src.device)
    tokens, all_weights = [], []
    for _ in range(max_len):
        log_probs, hidden, weights = model.decoder.step(token, hidden, encoder_outputs, src_mask)
        best, token = log_probs.max(-1)
        total = total + best.masked_fill(finished, 0.0)
        token = token.masked_fill(finished, model.pad_id)
        tokens.append(token)
        if weights is not None:
            all_weights.append(weights.masked_fill(finished[:, None], 0.0))
        finished = finished | (token == model.eos_id)
        if finished.all():
            break
    return Decoded(torch.stack(tokens, 1), total, torch.stack(all_weights, 1) if all_weights else None)


def sequence_loss(logits: torch.Tensor, tgt_out: torch.Tensor, pad_id: int = PAD_ID) -> torch.Tensor:
    """Mean cross-entropy over the real target tokens (pads ignored). Defined in Day 18.

    Accepts logits or log-probabilities (B, T, V): log-softmax is idempotent, so both give the same loss.
    """
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=pad_id)


def _trim(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Cut a batch to its longest source and target (the dataset is padded to the global maximum)."""
    src_len = int(batch["src_lengths"].max())
    tgt_len = int((batch["tgt_out"] != PAD_ID).sum(1).max())
    return {"src": batch["src"][:, :src_len].to(device), "src_lengths": batch["src_lengths"].to(device),
            "tgt_in": batch["tgt_in"][:, :tgt_len].to(device),
            "tgt_out": batch["tgt_out"][:, :tgt_len].to(device)}


def batches(data: dict[str, torch.Tensor], batch_size: int, generator: torch.Generator | None = None):
    """Yield dict batches of ``data`` (the output of ``encode_pairs``), shuffled when a generator is given."""
    n = data["src"].shape[0]
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield {key: value[index] for key, value in data.items()}


def train_seq2seq(model: Seq2Seq, data: dict[str, torch.Tensor], steps: int, batch_size: int = 64,
                  lr: float = 3e-3, teacher_forcing: float | Callable[[int], float] = 1.0,
                  grad_clip: float = 1.0, seed: int = 0, log_every: int = 0) -> list[float]:
    """Adam on shuffled batches of ``data`` for ``steps`` steps; returns every step's loss. Defined in Day 18.

    ``teacher_forcing`` is the probability of feeding the gold token (a float, or a function of the step
    for a schedule); 1.0 uses the fast teacher-forced ``forward``, anything else the step-by-step loop.
    ``log_every`` > 0 prints the mean loss every so many steps (durations as ``[12.3s]``).
    """
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    iterator = iter(())
    for step in range(steps):
        batch = next(iterator, None)
        if batch is None:
            iterator = batches(data, batch_size, generator)
            batch = next(iterator)
        batch = _trim(batch, device)
        ratio = teacher_forcing(step) if callable(teacher_forcing) else teacher_forcing
        if ratio >= 1.0:
            logits = model(batch["src"], batch["src_lengths"], batch["tgt_in"])
        else:
            encoder_outputs, hidden, src_mask = model.encode(batch["src"], batch["src_lengths"])
            logits, _ = decode_step_by_step(model.decoder, batch["tgt_in"], hidden, encoder_outputs, src_mask,
                                            ratio, generator)
        loss = sequence_loss(logits, batch["tgt_out"], model.pad_id)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss is {loss.item()} at step {step}: lower lr or check the data")
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            recent = sum(losses[-log_every:]) / log_every
            print(f"step {step + 1:>5}  loss {recent:.4f}  [{time.perf_counter() - start:.1f}s]")
    model.eval()
    return losses


@torch.no_grad()
def evaluate(model: Seq2Seq, data: dict[str, torch.Tensor], batch_size: int = 256,
             max_len: int | None = None) -> dict[str, Any]:
    """Per-sample scores of ``model`` on ``data``. Defined in Day 18.

    Returns ``tf_token_acc`` (teacher-forced token accuracy), ``greedy_token_acc`` (greedy decoding,
    position by position against the gold target + ``<eos>``), ``exact`` (greedy output == target,
    1.0/0.0) and the predicted token ids, each per sample (CPU tensors, in the order of ``data``).
    """
    model.eval()
    device = next(model.parameters()).device
    out: dict[str, list] = {"tf_token_acc": [], "greedy_token_acc": [], "exact": [], "tokens": []}
    for raw in batches(data, batch_size):
        batch = _trim(raw, device)
        gold, real = batch["tgt_out"], batch["tgt_out"] != model.pad_id
        n_real = real.sum(1)
        logits = model(batch["src"], batch["src_lengths"], batch["tgt_in"])
        out["tf_token_acc"].append(((logits.argmax(-1) == gold) & real).sum(1) / n_real)
        decoded = greedy_decode(model, batch["src"], batch["src_lengths"], max_len or gold.shape[1] + 5)
        pred = decoded.tokens
        width = max(pred.shape[1], gold.shape[1])
        pred = F.pad(pred, (0, width - pred.shape[1]), value=model.pad_id)
        gold_p = F.pad(gold, (0, width - gold.shape[1]), value=model.pad_id)
        real_p = F.pad(real, (0, width - real.shape[1]), value=False)
        out["greedy_token_acc"].append(((pred == gold_p) & real_p).sum(1) / n_real)
        out["exact"].append((pred == gold_p).all(1).float())
        out["tokens"].extend(row.cpu() for row in decoded.tokens)
    result = {key: torch.cat(values).cpu() for key, values in out.items() if key != "tokens"}
    result["tokens"] = out["tokens"]
    return result
