"""Checks that students and tests both use: compare two results, check a gradient.

``compare`` prints one line in the style of nn-zero-to-hero's ``cmp``: exact, close (with the largest
difference) or WRONG. ``grad_check`` compares an analytic gradient with central finite differences.

The ``check_*`` functions grade exercises: they print ``[OK] ...`` or raise ``ExerciseError`` with a message
that says what is wrong (no answer yet, shape, value, gradient, a failing case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def to_numpy(values: Any, dtype: Any = None) -> np.ndarray:
    """A NumPy copy of a tensor (any device, with or without grad), array or list.

    Tensors become float32 (float64 with ``dtype=np.float64``), so that bf16/fp16 ones convert too;
    ``dtype`` also converts arrays and lists. ``helpers.viz`` draws with it, ``compare`` compares with it.
    """
    if hasattr(values, "detach"):
        values = values.detach().cpu()
        values = (values.double() if np.dtype(dtype or np.float32) == np.float64 else values.float()).numpy()
    return np.asarray(values, dtype=dtype)


@dataclass(frozen=True)
class Comparison:
    """Outcome of ``compare``; truthy when the two values agree within tolerance."""

    name: str
    exact: bool
    close: bool
    max_diff: float
    shape_ok: bool = True
    atol: float = 0.0
    show_diff: bool = True

    def __bool__(self) -> bool:
        return self.close

    def __str__(self) -> str:
        name = f"{self.name:<{max(24, len(self.name))}}"
        if not self.shape_ok:
            return f"{name} WRONG shape"
        if not self.show_diff and self.close:  # the verdict only: the last bits differ between CPUs
            return f"{name} ok    | within atol {self.atol:.0e}"
        verdict = "exact" if self.exact else ("close" if self.close else "WRONG")
        return f"{name} {verdict:<5} | max diff {self.max_diff:.1e}"


def compare(name: str, mine: Any, reference: Any, atol: float = 1e-6, rtol: float = 1e-5,
            verbose: bool = True, show_diff: bool = True) -> Comparison:
    """Compare ``mine`` with ``reference`` (arrays or tensors); print and return the verdict.

    ``show_diff=False`` prints only the verdict (``ok | within atol 1e-12``) when the values agree: use it
    in notebooks where the largest difference is float rounding that changes from CPU to CPU. A WRONG
    verdict always prints the largest difference.
    """
    a, b = to_numpy(mine, np.float64), to_numpy(reference, np.float64)
    if a.shape != b.shape:
        result = Comparison(name, exact=False, close=False, max_diff=float("inf"), shape_ok=False)
        if verbose:
            print(f"{result}: {a.shape} vs reference {b.shape}")
        return result
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    result = Comparison(name, exact=bool(np.array_equal(a, b)),
                        close=bool(np.allclose(a, b, atol=atol, rtol=rtol)), max_diff=diff,
                        atol=atol, show_diff=show_diff)
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
    x, y = to_numpy(a, np.float64), to_numpy(b, np.float64)
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


# ---------------------------------------------------------------- exercise checkers
class ExerciseError(AssertionError):
    """A student's answer is wrong; the message says what is wrong (shape, value, gradient...)."""


def _passed(name: str, detail: str = "") -> None:
    print(f"[OK] {name}" + (f": {detail}" if detail else ""))


def _not_implemented(answer: Any) -> bool:
    return answer is None or answer is NotImplemented or answer is Ellipsis


def check_shape(name: str, answer: Any, shape: tuple[int, ...]) -> None:
    """Raise ``ExerciseError`` unless ``answer`` (array or tensor) has ``shape``."""
    if _not_implemented(answer):
        raise ExerciseError(f"{name}: no answer yet (got {answer!r}); write your code where it says so.")
    found = tuple(np.shape(to_numpy(answer, np.float64)))
    if found != tuple(shape):
        raise ExerciseError(f"{name}: wrong shape {found}, expected {tuple(shape)}.")
    _passed(name, f"shape {found}")


def check_value(name: str, answer: Any, expected: Any, atol: float = 1e-6, rtol: float = 1e-5,
                verbose: bool = True) -> None:
    """Raise ``ExerciseError`` unless ``answer`` equals ``expected`` (shape first, then values)."""
    if _not_implemented(answer):
        raise ExerciseError(f"{name}: no answer yet (got {answer!r}); write your code where it says so.")
    mine, reference = to_numpy(answer, np.float64), to_numpy(expected, np.float64)
    if mine.shape != reference.shape:
        raise ExerciseError(f"{name}: wrong shape {mine.shape}, expected {reference.shape}.")
    if not np.all(np.isfinite(mine)):
        raise ExerciseError(f"{name}: contains NaN or inf.")
    if not np.allclose(mine, reference, atol=atol, rtol=rtol):
        diff = np.abs(mine - reference)
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        where = f" at index {tuple(map(int, worst))}" if diff.ndim else ""
        raise ExerciseError(
            f"{name}: wrong value; largest difference {float(diff.max()):.3g}{where}"
            f" (yours {float(mine[worst]):.6g}, expected {float(reference[worst]):.6g})."
        )
    if verbose:
        _passed(name, "values match")


def check_gradient(name: str, loss: Callable[[], float], params: dict[str, np.ndarray],
                   analytic: dict[str, Any], tol: float = 1e-6) -> None:
    """Raise ``ExerciseError`` unless each analytic gradient matches finite differences."""
    for key, param in params.items():
        if key not in analytic or _not_implemented(analytic[key]):
            raise ExerciseError(f"{name}: no gradient for {key!r} yet.")
        if np.shape(analytic[key]) != param.shape:
            raise ExerciseError(f"{name}: gradient of {key!r} has shape {np.shape(analytic[key])}, "
                                f"the parameter has {param.shape}.")
    analytic_arrays = {key: to_numpy(value, np.float64) for key, value in analytic.items()}
    errors = grad_check(loss, params, analytic_arrays, tol=tol, verbose=False)
    wrong = {key: err for key, err in errors.items() if err >= tol}
    if wrong:
        detail = ", ".join(f"{key} (relative error {err:.1e})" for key, err in wrong.items())
        raise ExerciseError(f"{name}: wrong gradient for {detail}; finite differences disagree.")
    _passed(name, "gradients match finite differences")


def check_function(name: str, function: Callable[..., Any], cases: list[tuple[tuple[Any, ...], Any]],
                   atol: float = 1e-6) -> None:
    """Call ``function(*args)`` for each ``(args, expected)`` case and compare with ``check_value``."""
    for args, expected in cases:
        try:
            result = function(*args)
        except NotImplementedError:
            raise
        except Exception as err:
            raise ExerciseError(f"{name}: raised {type(err).__name__}: {err} for input {args!r}.") from err
        try:
            check_value(f"{name}{args!r}", result, expected, atol=atol, verbose=False)
        except ExerciseError as err:
            raise ExerciseError(f"{name}: for input {args!r}, {str(err).split(': ', 1)[1]}") from None
    _passed(name, f"{len(cases)} cases")
