"""Student copies of the notebooks: the same sources without the solutions.

Solutions are marked in the instructor notebooks (the ones in ``notebooks/``) in two ways:

- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines (nbgrader's markers), which becomes
  ``raise NotImplementedError(...)`` in the student copy; the cell gets the tag ``exercise``;
- MyST ``{solution}`` blocks in markdown cells, and cells tagged ``solution``, which are removed.

``python -m helpers.student OUT`` writes the student notebooks to ``OUT/notebooks``; with ``--book``, the
sources of a student website to ``OUT`` (build it with ``jupyter-book build OUT``); with ``--nbgrader``, one
nbgrader assignment per day in ``OUT/source/``.
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your solution.")'
_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}")


def strip_code(source: str) -> tuple[str, bool]:
    """Replace each marked solution block by a stub at the block's indentation; (new source, changed)."""
    lines, out, inside, changed = source.splitlines(), [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN!r}")
            inside, changed = True, True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif stripped == END:
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r}")
    return "\n".join(out), changed


def strip_markdown(source: str) -> tuple[str, bool]:
    """Remove MyST ``{solution}`` blocks (backtick or colon fences, any length); (new source, changed)."""
    out: list[str] = []
    closing: str | None = None
    changed = False
    for line in source.splitlines():
        if closing is not None:
            if line.strip() == closing:
                closing = None
            continue
        match = _FENCE_OPEN.match(line.strip())
        if match:
            closing, changed = match.group("fence"), True
            continue
        out.append(line)
    if closing is not None:
        raise ValueError("unclosed {solution} block")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return text, changed


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with every solution removed (see the module docstring)."""
    copy = nbformat.from_dict(notebook)
    cells = []
    for cell in copy.cells:
        tags = list(cell.metadata.get("tags", []))
        if "solution" in tags:
            continue
        if cell.cell_type == "code":
            cell.source, changed = strip_code(cell.source)
            if changed:
                cell.outputs, cell.execution_count = [], None
                cell.metadata["tags"] = [t for t in tags if t not in ("hide-input", "remove-input")] \
                    + ["exercise"]
        elif cell.cell_type == "markdown":
            cell.source, changed = strip_markdown(cell.source)
            if changed and not cell.source.strip():
                continue
        cells.append(cell)
    copy.cells = cells
    return copy


def solution_snippets(notebook: nbformat.NotebookNode) -> list[str]:
    """Lines of solution code and prose in an instructor notebook (to check that none survive)."""
    snippets: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            inside = False
            for line in cell.source.splitlines():
                if line.strip() in (BEGIN, END):
                    inside = line.strip() == BEGIN
                elif inside and len(line.strip()) > 12:
                    snippets.append(line.strip())
        elif cell.cell_type == "markdown":
            kept, _ = strip_markdown(cell.source)
            kept_lines = set(kept.splitlines())
            snippets += [line.strip() for line in cell.source.splitlines()
                         if len(line.strip()) > 25 and line not in kept_lines]
    return snippets


def write_student_copies(notebooks: Path, out: Path) -> list[Path]:
    """Write a student copy of every ``notebooks/day*.ipynb`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(notebooks.glob("day*.ipynb")):
        target = out / path.name
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def nbgrader_notebook(notebook: nbformat.NotebookNode, day: str) -> nbformat.NotebookNode:
    """The instructor notebook with nbgrader metadata: exercise cells become autograded answers.

    nbgrader understands the same ``### BEGIN/END SOLUTION`` markers, so ``nbgrader generate_assignment``
    produces the student version; the checker call at the end of each exercise cell grades it.
    """
    copy = nbformat.from_dict(notebook)
    number = 0
    for cell in copy.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            number += 1
            cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                         "grade_id": f"{day}-exercise-{number}", "schema_version": 3}
    return copy


def write_nbgrader_source(notebooks: Path, out: Path) -> list[Path]:
    """One nbgrader assignment per day: ``out/source/dayNN/dayNN_slug.ipynb``."""
    written = []
    for path in sorted(notebooks.glob("day*.ipynb")):
        day = path.stem.split("_")[0]
        target = out / "source" / day / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(nbformat.read(path, as_version=4), day), target)
        written.append(target)
    return written


def write_student_book(root: Path, out: Path) -> None:
    """Sources of the student website in ``out``: the book's pages and the student notebooks."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, out / name)
    shutil.copytree(root / "book", out / "book")
    if (root / "_static").is_dir():
        shutil.copytree(root / "_static", out / "_static")
    write_student_copies(root / "notebooks", out / "notebooks")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.student", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--book", action="store_true", help="also copy the book's pages and configuration")
    parser.add_argument("--nbgrader", action="store_true",
                        help="write nbgrader assignments (OUT/source/dayNN/) instead of student copies")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the course checkout (default: this one)")
    args = parser.parse_args(argv)
    if args.nbgrader:
        for path in write_nbgrader_source(args.root / "notebooks", args.out):
            print(path)
    elif args.book:
        write_student_book(args.root, args.out)
        print(f"student book sources in {args.out}: jupyter-book build {args.out}")
    else:
        for path in write_student_copies(args.root / "notebooks", args.out / "notebooks"):
            print(path)


if __name__ == "__main__":
    main()
