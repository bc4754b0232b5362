"""The pinned ci numerics (helpers/repro.py) and the nbval additions of conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from course_plugin import budget_for, numbers_within_tolerance, solution_only_names

from helpers import repro

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import hashlib, torch
from torch import nn
from helpers import setup
setup("day01", "ci")
import helpers.repro as r
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
opt = torch.optim.Adam(net.parameters(), 1e-2)
x, y = torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,))
for _ in range(5):
    loss = nn.functional.cross_entropy(net(x), y); opt.zero_grad(); loss.backward(); opt.step()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters())).hexdigest()[:16]
print(torch.backends.cpu.get_cpu_capability(), torch.get_num_threads(), torch.backends.mkldnn.enabled,
      r.unpinned(), digest)
"""


def _run_probe(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in repro.CI_ENV}
    env.update(extra_env)
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=300, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_shell_exports_name_every_variable():
    result = subprocess.run([sys.executable, str(ROOT / "helpers" / "repro.py"), "env"],
                            capture_output=True, text=True, check=True)
    for name, value in repro.CI_ENV.items():
        assert f"export {name}='{value}'" in result.stdout


def test_apply_env_overrides():
    environ = {"ATEN_CPU_CAPABILITY": "avx512", "OTHER": "x"}
    repro.apply_env(environ)
    assert environ["ATEN_CPU_CAPABILITY"] == "avx2" and environ["OTHER"] == "x"


def test_setup_pins_kernels_even_when_the_shell_did_not():
    """A student's own ci run (no exports) gets the same kernels and weights as CI (which exports CI_ENV)."""
    bare = _run_probe({"OPENBLAS_CORETYPE": "Haswell"})
    exported = _run_probe(repro.CI_ENV)
    capability, threads, mkldnn, problems, _ = bare.split(" ", 4)
    assert capability in ("AVX2", "DEFAULT") and threads == "1" and mkldnn == "False", bare
    assert "[]" in problems, bare
    assert bare == exported


def test_unpinned_reports_a_wrong_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MKL_CBWR", "AUTO")
    assert any("MKL_CBWR" in problem for problem in repro.unpinned())


@pytest.mark.parametrize(("test", "reference", "ok"), [
    ("loss 0.4233 acc 86.73%", "loss 0.4233 acc 86.73%", True),
    ("loss 0.4234 acc 86.73%", "loss 0.4233 acc 86.73%", True),      # one unit in the last digit
    ("loss 0.4235 acc 86.73%", "loss 0.4233 acc 86.73%", False),     # two units: a real change
    ("loss 0.4276 acc 86.80%", "loss 0.4233 acc 86.73%", False),     # the CPU drift
    ("max diff 1.3e-07", "max diff 1.2e-07", True),
    ("max diff 3.0e-07", "max diff 1.2e-07", False),
    ("lr 1.1", "lr 0.1", False),                                       # a changed learning rate
    ("valid loss 0.4233", "train loss 0.4233", False),                 # text must match exactly
    ("epoch 3", "epoch 3 4", False),
])
def test_numbers_within_tolerance(test: str, reference: str, ok: bool):
    assert numbers_within_tolerance(test, reference) is ok


def test_solution_only_names_finds_a_dependency():
    instructor = ["x = 1", "def f(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION\ny = 2",
                  "print(y)"]
    student = ["x = 1", "def f(a):\n    raise NotImplementedError\ny = 2", "print(y)"]
    assert solution_only_names(instructor, student) == []
    instructor = ["answer = 41 + 1", "print(answer)"]
    student = ["raise NotImplementedError", "print(answer)"]
    assert solution_only_names(instructor, student) == [(1, "answer", 0)]
    student_redefines = ["raise NotImplementedError", "answer = 0\nprint(answer)"]
    assert solution_only_names(["answer = 1", "answer = 0\nprint(answer)"], student_redefines) == []


def test_budget_for_reads_the_day_setting(tmp_path: Path):
    assert budget_for(Path("notebooks/day01_setup.ipynb")) == 60.0
    llm_days = [p.stem for p in (ROOT / "helpers" / "days").glob("day*.py") if "CI_BUDGET_S" in p.read_text()]
    for day in llm_days:
        assert budget_for(Path(f"notebooks/{day}_x.ipynb")) == 120.0
