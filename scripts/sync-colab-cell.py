#!/usr/bin/env python3
"""Write the Colab install cell into every notebook pair, from the repository named in _config.yml.

The first code cell of each notebooks/dayNN_x.py (and of its .ipynb, whose outputs are kept) becomes
helpers.env.colab_install_cell(); each .ipynb also gets the python3 kernelspec that papermill and nbgrader
need. Only files that change are written, the .ipynb before the .py (the source stays the newer file).

Usage: scripts/sync-colab-cell.py [--check] [notebooks/dayNN_x.py ...]   (default: every notebooks/day*.py)
  --check   change nothing; list the notebooks that differ, exit 1 if any does (tests/test_pairs.py checks it)
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def _load_env():
    """helpers/env.py alone: importing the package ``helpers`` would import torch (seconds) for nothing."""
    spec = importlib.util.spec_from_file_location("course_env", ROOT / "helpers" / "env.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_env = _load_env()
colab_install_cell, KERNELSPEC = _env.colab_install_cell, _env.KERNELSPEC


def first_code_cell(lines: list[str]) -> tuple[int, int]:
    """(start, end) line indices of the first code cell's body in a percent-format source."""
    markers = [i for i, line in enumerate(lines) if line.startswith("# %%")]
    for number, index in enumerate(markers):
        if "[markdown]" not in lines[index] and "[raw]" not in lines[index]:
            end = markers[number + 1] if number + 1 < len(markers) else len(lines)
            return index + 1, end
    raise ValueError("no code cell")


def sync_py(path: Path, cell: str) -> str | None:
    """The new text of ``path`` with ``cell`` as its first code cell, or None when nothing changes."""
    text = path.read_text()
    lines = text.split("\n")
    start, end = first_code_cell(lines)
    body = "\n".join(lines[start:end]).strip("\n")
    if "google.colab" not in body:
        raise ValueError(f"{path.name}: the first code cell is not the Colab install cell; add it by hand "
                         "(copy it from any other notebook) and run this script again")
    if body == cell:
        return None
    new = lines[:start] + cell.split("\n") + [""] + lines[end:]
    return "\n".join(new)


def sync_ipynb(path: Path, cell: str) -> nbformat.NotebookNode | None:
    """``path`` with ``cell`` as its first code cell and the kernelspec set, or None when nothing changes."""
    notebook = nbformat.read(path, as_version=4)
    code = next(c for c in notebook.cells if c.cell_type == "code")
    if "google.colab" not in code.source:
        raise ValueError(f"{path.name}: the first code cell is not the Colab install cell")
    if code.source == cell and notebook.metadata.get("kernelspec") == KERNELSPEC:
        return None
    code.source = cell
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    parser.add_argument("sources", nargs="*", type=Path)
    args = parser.parse_args(argv)
    cell = colab_install_cell()
    sources = args.sources or sorted((ROOT / "notebooks").glob("day*.py"))
    differ, failed = [], []
    for source in sources:
        source = source.with_suffix(".py")
        paired = source.with_suffix(".ipynb")
        try:
            new_py = sync_py(source, cell)
            new_nb = sync_ipynb(paired, cell) if paired.exists() else None
        except ValueError as err:
            failed.append(str(err))
            continue
        if new_py is None and new_nb is None:
            continue
        differ.append(source.name)
        if not args.check:
            if new_nb is not None:
                nbformat.write(new_nb, paired)
            if new_py is not None:
                source.write_text(new_py)
    verb = "differ" if args.check else "updated"
    print(f"{len(differ)} notebook(s) {verb}" + (": " + ", ".join(differ) if differ else ""))
    for message in failed:
        print(f"error: {message}", file=sys.stderr)
    return 1 if failed or (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
