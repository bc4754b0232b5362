"""papermill runs a committed notebook with a parameter: ``papermill nb.ipynb out.ipynb -p PROFILE ci``.

It needs the kernelspec that every committed ``.ipynb`` keeps (jupytext.toml leaves the .ipynb's own
metadata alone), and the ``parameters``-tagged cell, after which papermill injects ``PROFILE = "ci"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "day02_perceptron.ipynb"  # a fast day (seconds under ci)


def test_every_committed_notebook_names_a_kernel():
    missing = [p.name for p in sorted((ROOT / "notebooks").glob("day*.ipynb"))
               if json.loads(p.read_text())["metadata"].get("kernelspec", {}).get("name") != "python3"]
    assert not missing, (f"no python3 kernelspec in {missing}: papermill and nbgrader cannot start a kernel. "
                         "Run scripts/sync-colab-cell.py (it also sets the kernelspec)")


def test_papermill_runs_a_notebook_with_the_ci_profile(tmp_path: Path):
    pytest.importorskip("papermill", reason="in requirements-dev.txt: scripts/setup.sh installs it")
    out = tmp_path / "out.ipynb"
    env = {**os.environ, "COURSE_PROFILE": "laptop"}  # the parameter must win over the environment
    command = [sys.executable, "-m", "papermill", str(NOTEBOOK), str(out), "-p", "PROFILE", "ci",
               "--cwd", str(NOTEBOOK.parent), "--no-progress-bar"]
    result = subprocess.run(command,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    notebook = nbformat.read(out, as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'PROFILE = "ci"' in injected[0].source
    outputs = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile=ci" in outputs
    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
