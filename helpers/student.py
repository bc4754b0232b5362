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
import ast
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat

from helpers.env import KERNELSPEC

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your solution.")'

#: nbgrader's configuration, copied into every exported course directory.
NBGRADER_CONFIG = "nbgrader_config.py"

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
    """Lines of solution code and prose in an instructor notebook (to check that none survive).

    A line that the notebook also shows outside every solution (``torch.manual_seed(cfg.seed)`` in a
    worked example and in a solution that repeats it) is public, so it is not a snippet.
    """
    hidden: list[str] = []
    public: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            inside = False
            for line in cell.source.splitlines():
                if line.strip() in (BEGIN, END):
                    inside = line.strip() == BEGIN
                elif inside:
                    hidden.append(line.strip())
                else:
                    public.add(line.strip())
        elif cell.cell_type == "markdown":
            kept, _ = strip_markdown(cell.source)
            kept_lines = set(kept.splitlines())
            public.update(line.strip() for line in kept_lines)
            hidden += [line.strip() for line in cell.source.splitlines() if line not in kept_lines]
    public_text = "\n".join(public)  # a solution line inside a longer public line is public too
    return [line for line in hidden if len(line) > 12 and line not in public_text]


def write_student_copies(notebooks: Path, out: Path) -> list[Path]:
    """Write a student copy of every ``notebooks/day*.ipynb`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(notebooks.glob("day*.ipynb")):
        target = out / path.name
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def split_exercise(source: str) -> tuple[str, str]:
    """Split an exercise cell into (answer, test): the code up to the statement holding the last
    ``### END SOLUTION``, and the rest (the checker calls), which nbgrader grades.

    The split falls before the first top-level statement that starts after the last ``### END SOLUTION``
    line, so a function whose body goes on after the marker stays whole in the answer.
    """
    lines = source.splitlines()
    ends = [number for number, line in enumerate(lines, start=1) if line.strip() == END]
    if not ends:
        raise ValueError(f"no {END!r} in the cell")
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ValueError(f"the exercise cell is not valid Python ({err}); cannot split it") from err
    after = [node.lineno for node in tree.body if node.lineno > ends[-1]]
    if not after:
        return source.rstrip("\n"), ""
    first = after[0]
    # comment lines just above the first statement belong to it
    while first > ends[-1] + 1 and lines[first - 2].lstrip().startswith("#") \
            and lines[first - 2].strip() != END:
        first -= 1
    return "\n".join(lines[: first - 1]).rstrip("\n"), "\n".join(lines[first - 1:]).strip("\n")


#: Points per graded exercise (each checker cell passes or fails as a whole).
POINTS = 1


def nbgrader_notebook(notebook: nbformat.NotebookNode, day: str) -> nbformat.NotebookNode:
    """The instructor notebook as an nbgrader source notebook.

    - each exercise cell (``### BEGIN/END SOLUTION``) becomes an *autograded answer* (nbgrader replaces
      the solution by ``raise NotImplementedError()`` in the student version), followed by a locked
      *autograder tests* cell worth ``POINTS`` with the checker calls that ended the exercise cell: it
      passes when the checker prints ``[OK]`` and fails when it raises;
    - ``{solution}`` blocks and cells tagged ``solution`` are removed (nbgrader leaves markdown alone);
    - the notebook names the ``python3`` kernel, which nbgrader's executor starts.
    """
    copy = nbformat.from_dict(notebook)
    cells, number = [], 0
    for cell in copy.cells:
        if "solution" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            cell.source, changed = strip_markdown(cell.source)
            if changed and not cell.source.strip():
                continue
        if cell.cell_type == "code" and BEGIN in cell.source:
            number += 1
            grade_id = f"{day}-exercise-{number}"
            answer, test = split_exercise(cell.source)
            cell.source, cell.outputs, cell.execution_count = answer, [], None
            cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                         "grade_id": grade_id, "schema_version": 3}
            cells.append(cell)
            if not test.strip():
                raise ValueError(f"{day}, exercise {number}: no checker call after {END!r} to grade it")
            graded = nbformat.v4.new_code_cell(test)
            graded.metadata["nbgrader"] = {"solution": False, "grade": True, "locked": True,
                                           "grade_id": f"{grade_id}-test", "points": POINTS,
                                           "schema_version": 3}
            graded.metadata["tags"] = ["exercise-check"]
            cells.append(graded)
            continue
        cells.append(cell)
    copy.cells = cells
    copy.metadata["kernelspec"] = dict(KERNELSPEC)
    return copy


def write_nbgrader_source(notebooks: Path, out: Path, days: Sequence[str] | None = None) -> list[Path]:
    """One nbgrader assignment per day (``out/source/dayNN/dayNN_slug.ipynb``) and ``out/nbgrader_config.py``.

    ``days`` (e.g. ``["day02", "day03"]``) limits the export; days without an exercise to grade are
    skipped. Then, in ``out``: ``nbgrader generate_assignment dayNN``, collect the submissions in
    ``submitted/<student>/dayNN/``, and ``nbgrader autograde dayNN``.
    """
    written = []
    out.mkdir(parents=True, exist_ok=True)
    config = notebooks.parent / NBGRADER_CONFIG
    if config.exists():
        shutil.copy(config, out / NBGRADER_CONFIG)
    for path in sorted(notebooks.glob("day*.ipynb")):
        day = path.stem.split("_")[0]
        if days is not None and day not in days:
            continue
        notebook = nbformat.read(path, as_version=4)
        if not any(c.cell_type == "code" and BEGIN in c.source for c in notebook.cells):
            continue
        target = out / "source" / day / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(notebook, day), target)
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
    for folder in ("_static", "_ext", "_extra"):  # vendored MathJax; the site's Sphinx extension; favicon.ico
        if (root / folder).is_dir():
            shutil.copytree(root / folder, out / folder)
    write_student_copies(root / "notebooks", out / "notebooks")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.student", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--book", action="store_true", help="also copy the book's pages and configuration")
    parser.add_argument("--nbgrader", action="store_true",
                        help="write nbgrader assignments (OUT/source/dayNN/) instead of student copies")
    parser.add_argument("--days", nargs="+", metavar="dayNN", help="with --nbgrader: only these days")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the course checkout (default: this one)")
    args = parser.parse_args(argv)
    if args.nbgrader:
        for path in write_nbgrader_source(args.root / "notebooks", args.out, args.days):
            print(path)
    elif args.book:
        write_student_book(args.root, args.out)
        print(f"student book sources in {args.out}: jupyter-book build {args.out}")
    else:
        for path in write_student_copies(args.root / "notebooks", args.out / "notebooks"):
            print(path)


if __name__ == "__main__":
    main()
