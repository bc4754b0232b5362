"""Checks that students and tests both use: compare two results, check a gradient.

``compare`` prints one line in the style of nn-zero-to-hero's ``cmp``: exact, close (with the largest
difference) or WRONG. ``grad_check`` compares an analytic gradient with central finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def _array(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class Comparison:
    """Outcome of ``compare``; truthy when the two values agree within tolerance."""

    name: str
    exact: bool
    close: bool
    max_diff: float
    shape_ok: bool = True

    def __bool__(self) -> bool:
        return self.close

    def __str__(self) -> str:
        if not self.shape_ok:
            return f"{self.name:<24} WRONG shape"
        verdict = "exact" if self.exact else ("close" if self.close else "WRONG")
        return f"{self.name:<24} {verdict:<5} | max diff {self.max_diff:.1e}"


def compare(name: str, mine: Any, reference: Any, atol: float = 1e-6, rtol: float = 1e-5,
            verbose: bool = True) -> Comparison:
    """Compare ``mine`` with ``reference`` (arrays or tensors); print and return the verdict."""
    a, b = _array(mine), _array(reference)
    if a.shape != b.shape:
        result = Comparison(name, exact=False, close=False, max_diff=float("inf"), shape_ok=False)
        if verbose:
            print(f"{result}: {a.shape} vs reference {b.shape}")
        return result
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    result = Comparison(name, exact=bool(np.array_equal(a, b)),
                        close=bool(np.allclose(a, b, atol=atol, rtol=rtol)), max_diff=diff)
    if verbose:
        print(result)
    return result


def numerical_gradient(loss: Callable[[], float], param: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``loss()`` with respect to ``param``, perturbed in place."""
    grad = np.zeros_like(param, dtype=np.float64)
    for index in np.ndindex(param.shape):
        original = param[index]
        param[index] = original + eps
        plus = loss()
        param[index] = original - eps
        minus = loss()
        param[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: Any, b: Any) -> float:
    """||a - b|| / (||a|| + ||b||): scale-free, 0 for equal arrays, 1 for opposite ones."""
    x, y = _array(a), _array(b)
    denominator = np.linalg.norm(x) + np.linalg.norm(y)
    return float(np.linalg.norm(x - y) / denominator) if denominator else 0.0


def grad_check(loss: Callable[[], float], params: dict[str, np.ndarray],
               analytic: dict[str, np.ndarray], eps: float = 1e-6, tol: float = 1e-6,
               verbose: bool = True) -> dict[str, float]:
    """Check analytic gradients against finite differences, parameter by parameter.

    Args:
        loss: recomputes the scalar loss from the current values of ``params`` (float64 arrays).
        params: name -> array, perturbed in place and restored.
        analytic: name -> your gradient, same shapes.
    Returns:
        name -> relative error; prints ``ok``/``FAIL`` per parameter when ``verbose``.
    """
    errors = {}
    for name, param in params.items():
        if name not in analytic:
            raise KeyError(f"no analytic gradient for {name!r}")
        if np.shape(analytic[name]) != param.shape:
            raise ValueError(f"gradient of {name!r} has shape {np.shape(analytic[name])}, "
                             f"parameter has {param.shape}")
        if param.dtype != np.float64:
            raise TypeError(f"{name!r} is {param.dtype}: use float64 for finite differences")
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, param, eps))
        if verbose:
            verdict = "ok" if errors[name] < tol else "FAIL"
            print(f"{name:<8} relative error {errors[name]:.1e}  {verdict}")
    return errors
