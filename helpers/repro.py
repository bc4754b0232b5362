"""Reproducible CPU numerics for the ``ci`` profile: the same printed numbers on any x86-64 CI machine.

A float result depends on the order of its additions, and that order depends on which kernel runs: torch,
MKL and oneDNN each pick AVX-512, AVX2 or SSE code by the CPU they find, and split work across the threads
they are given. An Intel AVX-512 machine and a 2-core AMD AVX2 machine therefore train the same network to
slightly different weights, and after a few epochs to visibly different losses. Under ``ci`` we pin all of
it to what every CI machine has (AVX2, one thread), in one place:

- ``CI_ENV``: environment variables read when each library starts (``ATEN_CPU_CAPABILITY`` by torch's
  dispatcher, ``MKL_CBWR`` by MKL's conditional numerical reproducibility, ``ONEDNN_MAX_CPU_ISA`` by oneDNN,
  ``OPENBLAS_CORETYPE`` by NumPy's OpenBLAS) and the thread counts;
- ``pin_runtime()``: one thread in torch and NumPy's BLAS, oneDNN off (convolutions and LSTMs then run
  torch's own AVX2 kernels on MKL's pinned GEMM), deterministic algorithms, an exactly rounded float32 sqrt.

``scripts/test.sh``, ``scripts/refresh-outputs.sh`` and ``tests/course_plugin.py`` export ``CI_ENV`` before
any kernel starts; ``helpers.setup(..., "ci")`` applies it again for a student's own ``ci`` run (torch and MKL
read their variables at their first operation, after ``import torch``; only OpenBLAS must be set before NumPy
is imported) and then calls ``pin_runtime()``. ``python helpers/repro.py check`` reports what is and is not
pinned in the current process. CONTRIBUTING.md explains the design.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

#: The variables every ``ci`` run sets before its libraries start. AVX2 is the newest instruction set that
#: all x86-64 CI machines of this project have (AMD EPYC without AVX-512 included).
CI_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",      # torch's own kernels: the AVX2 build, not AVX-512
    "MKL_CBWR": "COMPATIBLE",           # MKL (torch's BLAS): the one branch that agrees on Intel and AMD
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # ... and no newer instructions
    "ONEDNN_MAX_CPU_ISA": "AVX2",       # oneDNN, if anything still reaches it
    "DNNL_MAX_CPU_ISA": "AVX2",         # the same, under oneDNN's older name
    "OPENBLAS_CORETYPE": "Haswell",     # NumPy/SciPy's OpenBLAS: its AVX2 (Haswell) kernels
    "OMP_NUM_THREADS": "1",             # one thread: the order of every reduction is fixed
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",              # set iteration order (read at interpreter start: scripts set it)
    "TOKENIZERS_PARALLELISM": "false",  # Hugging Face tokenizers: no thread pool, no fork warning
}

#: Variables that only take effect when set before NumPy is imported or the interpreter starts.
_STARTUP_ONLY = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")


def apply_env(environ: MutableMapping[str, str] | None = None) -> None:
    """Write ``CI_ENV`` into ``environ`` (default ``os.environ``), overriding what was there."""
    target = os.environ if environ is None else environ
    target.update(CI_ENV)


def shell_exports() -> str:
    """``export NAME=value`` lines for ``eval`` in a shell script."""
    return "\n".join(f"export {name}={value!r}" for name, value in CI_ENV.items())


def pin_runtime() -> None:
    """One thread in torch and in NumPy's BLAS, no oneDNN, deterministic algorithms.

    Call it before the first torch operation. NumPy's OpenBLAS may have started with more threads (it reads
    ``OPENBLAS_NUM_THREADS`` when NumPy is imported), so its pool is limited here through threadpoolctl.
    """
    import torch

    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        pass
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    exact_float32_sqrt()


def _exact_sqrt(original):  # noqa: ANN001, ANN202
    def sqrt(self, *args, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(self, torch_module().Tensor) and self.dtype == torch_module().float32 \
                and self.device.type == "cpu" and not args and not kwargs:
            return original(self.double()).float()
        return original(self, *args, **kwargs)

    sqrt.__wrapped__ = original  # type: ignore[attr-defined]
    sqrt.__doc__ = original.__doc__
    return sqrt


def torch_module():  # noqa: ANN201
    import torch

    return torch


def exact_float32_sqrt() -> None:
    """Compute float32 square roots on the CPU in float64, then round: exactly rounded on every CPU.

    torch's float32 ``sqrt`` kernel starts from the CPU's approximate reciprocal square root, whose last bits
    differ between processors (an AMD and an emulated Intel gave different bits for 17 % of 100,000
    inputs). Adam and AdamW divide by ``exp_avg_sq.sqrt()`` at every step, so training drifted between CPUs.
    Through float64 the result is the correctly rounded float32 square root everywhere. Idempotent.
    """
    torch = torch_module()
    if getattr(torch.Tensor.sqrt, "__wrapped__", None) is not None:
        return
    torch.Tensor.sqrt = _exact_sqrt(torch.Tensor.sqrt)
    torch.sqrt = _exact_sqrt(torch.sqrt)


def unpinned() -> list[str]:
    """What in this process is not as ``CI_ENV`` asks; empty when the ``ci`` numerics are pinned."""
    problems = [f"{name}={os.environ.get(name)!r} (want {value!r})" for name, value in CI_ENV.items()
                if name not in _STARTUP_ONLY and os.environ.get(name) != value]
    if "torch" in sys.modules:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
        if capability not in ("AVX2", "DEFAULT"):
            problems.append(f"torch runs {capability} kernels (started before ATEN_CPU_CAPABILITY was set)")
        if torch.get_num_threads() != 1:
            problems.append(f"torch uses {torch.get_num_threads()} threads")
    problems += _openblas_problems()
    return problems


def _openblas_problems() -> list[str]:
    """NumPy's OpenBLAS kernels, when threadpoolctl can see them (they are chosen when NumPy is imported)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return []
    want = CI_ENV["OPENBLAS_CORETYPE"].lower()
    return [f"NumPy's OpenBLAS runs {info.get('architecture')} kernels (set OPENBLAS_CORETYPE="
            f"{CI_ENV['OPENBLAS_CORETYPE']} before starting Python)"
            for info in threadpool_info()
            if info.get("internal_api") == "openblas" and str(info.get("architecture", want)).lower() != want]


def main(argv: list[str] | None = None) -> None:
    """``env``: print shell exports; ``check``: print what is not pinned (exit 1 if anything)."""
    command = (argv if argv is not None else sys.argv[1:] or ["env"])[0]
    if command == "env":
        print(shell_exports())
    elif command == "check":
        problems = unpinned()
        print("\n".join(problems) or "ci numerics pinned: " + ", ".join(CI_ENV))
        raise SystemExit(1 if problems else 0)
    else:
        raise SystemExit(f"unknown command {command!r}: use 'env' or 'check'")


if __name__ == "__main__":  # run as a file (python helpers/repro.py env): no package import needed
    main()
