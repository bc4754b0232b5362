"""Fine-tuning a pretrained encoder for sequence classification: data, partial freezing, two trainers.

Defined in Day 28 (BERT classification). ``stratified_subset`` draws class-balanced-as-the-source subsets,
``tokenize_split`` pads a split to a fixed length once, ``freeze_lower`` freezes the embeddings and the
lowest encoder layers, ``StepLossHFTrainer`` is the transformers ``Trainer`` made to walk the batches in the
order given and to record every step's loss, so that it can be compared with ``helpers.Trainer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, SequentialSampler

from helpers.heads import freeze


def stratified_subset(texts: Sequence[str], labels: Sequence[int], n: int,
                      seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` examples drawn without replacement, keeping the class shares of ``labels``, in random order.

    Defined in Day 28 (day 26 wrote the same function in its notebook).
    """
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels: pass one label per text")
    if not 0 < n <= len(labels):
        raise ValueError(f"n must be between 1 and the {len(labels)} examples, got {n}")
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        picked.extend(rng.choice(where, size=round(n * len(where) / len(labels)), replace=False))
    order = rng.permutation(np.asarray(picked, dtype=int))
    return [texts[i] for i in order], labels[order]


class TokenizedSplit(Dataset):
    """A split tokenised once: ``input_ids``, ``token_type_ids``, ``attention_mask`` and ``labels`` rows.

    Defined in Day 28. Items are dicts of tensors, so the default collate stacks them into the batches that
    both ``helpers.Trainer`` and the transformers ``Trainer`` pass as ``model(**batch)``.
    """

    def __init__(self, encoding: dict[str, torch.Tensor], labels: Sequence[int]) -> None:
        self.columns = dict(encoding)
        self.columns["labels"] = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        sizes = {k: len(v) for k, v in self.columns.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"columns have different lengths {sizes}: pass one label per text")

    def __len__(self) -> int:
        return len(self.columns["labels"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.columns.items()}


def tokenize_split(tokenizer: Any, texts: Sequence[str], labels: Sequence[int],
                   max_length: int) -> TokenizedSplit:
    """Truncate and pad every text to ``max_length`` tokens (pads only where a review is shorter).

    Defined in Day 28. Truncation keeps ``[SEP]`` (the seed sliced ids to 512 and lost it).
    """
    if max_length < 3:
        raise ValueError(f"max_length must leave room for [CLS], a token and [SEP]; got {max_length}")
    enc = tokenizer(list(texts), padding="max_length", truncation=True, max_length=max_length,
                    return_tensors="pt")
    return TokenizedSplit(dict(enc), labels)


def freeze_lower(model: nn.Module, n_layers: int) -> int:
    """Freeze the embeddings and the lowest ``n_layers`` encoder layers of a BERT model; return the count.

    Defined in Day 28, on top of day 26's ``freeze``. Gradients stop at the first trainable layer, so the
    backward pass is cheaper as well.
    """
    bert = getattr(model, "bert", getattr(model, "encoder", model))
    if not hasattr(getattr(bert, "encoder", None), "layer"):
        bert = model
    layers = getattr(getattr(bert, "encoder", None), "layer", None)
    if layers is None:
        raise TypeError(f"expected a BERT model (.bert.encoder.layer), got {type(model).__name__}")
    if not 0 <= n_layers <= len(layers):
        raise ValueError(f"n_layers must be between 0 and {len(layers)}, got {n_layers}")
    return freeze(bert.embeddings) + sum(freeze(layer) for layer in layers[:n_layers])


def prior_entropy(labels: Sequence[int]) -> float:
    """Cross-entropy (nats) of the best constant prediction: the class prior's entropy.

    Defined in Day 28. A classifier that has collapsed to the prior sits at this loss; with two balanced
    classes it is ln 2 = 0.6931.
    """
    counts = np.bincount(np.asarray(labels))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def padded_rows(attention_mask: torch.Tensor) -> torch.Tensor:
    """Boolean per row: does this row hold at least one pad position? Defined in Day 28."""
    return (attention_mask == 0).any(dim=-1)


def _hf_trainer_class() -> type:
    from transformers import Trainer as HFTrainer

    class StepLossHFTrainer(HFTrainer):
        """The transformers ``Trainer`` walking ``train_dataset`` in its given order, recording each loss.

        Defined in Day 28. The default trainer shuffles with its own sampler; a sequential sampler lets both
        trainers see the same batches when the dataset is already shuffled.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.step_losses: list[float] = []

        def _get_train_sampler(self, *args: Any, **kwargs: Any) -> SequentialSampler:
            return SequentialSampler(self.train_dataset)

        def training_step(self, *args: Any, **kwargs: Any) -> torch.Tensor:
            loss = super().training_step(*args, **kwargs)
            self.step_losses.append(float(loss.detach()))
            return loss

    return StepLossHFTrainer


def hf_trainer_losses(model: nn.Module, dataset: Dataset, *, lr: float, batch_size: int, steps: int,
                      seed: int, output_dir: str, max_grad_norm: float = 1.0) -> list[float]:
    """Train ``model`` with the transformers ``Trainer`` for ``steps`` steps; return the loss per step.

    Defined in Day 28. Plain AdamW (no weight decay), constant learning rate, no warm-up, fp32,
    ``dataset`` in its given order: the settings ``helpers.Trainer`` gets in the comparison.
    """
    from transformers import TrainingArguments

    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    args = TrainingArguments(
        output_dir=output_dir, per_device_train_batch_size=batch_size, learning_rate=lr, max_steps=steps,
        lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=max_grad_norm,
        optim="adamw_torch", seed=seed, data_seed=seed, logging_strategy="no", save_strategy="no",
        report_to="none", disable_tqdm=True, dataloader_num_workers=0, use_cpu=not torch.cuda.is_available(),
    )
    from transformers import PrinterCallback

    trainer = _hf_trainer_class()(model=model, args=args, train_dataset=dataset)
    trainer.remove_callback(PrinterCallback)  # it prints the run's summary dict, timings included
    trainer.train()
    if len(trainer.step_losses) != steps:
        raise RuntimeError(f"expected {steps} losses, recorded {len(trainer.step_losses)}")
    return trainer.step_losses


class MeanPoolClassifier(nn.Module):
    """Mean of the token vectors (pads excluded) -> dropout -> linear: MiniLM's own pooling with a new head.

    Defined in Day 28. all-MiniLM-L6-v2 was trained to be read by mean pooling (day 25), not through
    ``[CLS]`` and a pooler, so this head starts from features that already separate reviews. ``forward``
    follows the Trainer contract of both trainers: it returns ``{"logits"}``, plus ``"loss"`` (cross-entropy)
    when ``labels`` are given. Without ``attention_mask`` every position counts,
    pads included (the seeds' bug).
    """

    def __init__(self, encoder: nn.Module, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        if num_labels < 2:
            raise ValueError(f"num_labels must be at least 2 for cross-entropy, got {num_labels}")
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        weights = (torch.ones_like(input_ids) if attention_mask is None else attention_mask).unsqueeze(-1)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        out = {"logits": self.classifier(self.dropout(pooled))}
        if labels is not None:
            out["loss"] = nn.functional.cross_entropy(out["logits"], labels)
        return out
