"""Learning-rate schedules written by hand, each equal to its ``transformers`` counterpart.

Defined in Day 13. A schedule is a factor $\\lambda(s)$ that multiplies the optimizer's base learning rate
at optimizer step $s$; ``torch.optim.lr_scheduler.LambdaLR`` applies it (call ``scheduler.step()`` after
each ``optimizer.step()``, as ``helpers.Trainer`` does with ``scheduler_interval="step"``).
"""

from __future__ import annotations

import torch


def linear_warmup_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """The factor at ``step``: 0 → 1 linearly over ``warmup_steps``, then 1 → 0 linearly at ``total_steps``.

    Defined in Day 13. Equal to ``transformers.get_linear_schedule_with_warmup``'s lambda.
    """
    if warmup_steps < 0 or total_steps < 1 or warmup_steps > total_steps:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps and total_steps >= 1; "
                         f"got warmup_steps={warmup_steps}, total_steps={total_steps}")
    if step < warmup_steps:
        return step / warmup_steps
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def linear_warmup(optimizer: torch.optim.Optimizer, warmup_steps: int,
                  total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` with :func:`linear_warmup_factor`: warm up, then decay to 0. Defined in Day 13."""
    linear_warmup_factor(0, warmup_steps, total_steps)  # validate the arguments now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: linear_warmup_factor(step, warmup_steps, total_steps))
