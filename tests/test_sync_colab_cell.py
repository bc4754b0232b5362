"""scripts/sync-colab-cell.py rewrites the first code cell of a pair (both files) and sets the kernelspec."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext

from helpers.env import colab_install_cell

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "sync-colab-cell.py"
PAIR = ROOT / "notebooks" / "day02_perceptron"


def cells(path: Path) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in jupytext.read(path).cells]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_sync_rewrites_both_files_of_a_pair_and_is_idempotent(tmp_path):
    py, nb = tmp_path / "day02_perceptron.py", tmp_path / "day02_perceptron.ipynb"
    shutil.copy(PAIR.with_suffix(".py"), py)
    shutil.copy(PAIR.with_suffix(".ipynb"), nb)
    old = py.read_text().replace("import sys\n", "import sys  # an older install cell\n", 1)
    py.write_text(old)
    notebook = json.loads(nb.read_text())
    notebook["metadata"].pop("kernelspec", None)
    nb.write_text(json.dumps(notebook, indent=1))

    assert run("--check", str(py)).returncode == 1
    result = run(str(py))
    assert result.returncode == 0 and "1 notebook(s) updated" in result.stdout, result.stderr
    code = [source for kind, source in cells(py) if kind == "code"]
    assert code[0] == colab_install_cell() and cells(py) == cells(nb)
    assert json.loads(nb.read_text())["metadata"]["kernelspec"]["name"] == "python3"
    outputs_before = [c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"][1:]
    written = json.loads(nb.read_text())["cells"]
    outputs_after = [c.get("outputs") for c in written if c["cell_type"] == "code"][1:]
    assert outputs_after == outputs_before  # the committed outputs are kept
    assert run("--check", str(py)).returncode == 0 and "0 notebook(s)" in run(str(py)).stdout


def test_sync_refuses_a_notebook_without_an_install_cell(tmp_path):
    py = tmp_path / "day99_x.py"
    py.write_text("# %% [markdown]\n# # Day 99: x\n\n# %%\nprint('no install cell')\n")
    result = run(str(py))
    assert result.returncode == 1 and "not the Colab install cell" in result.stderr
