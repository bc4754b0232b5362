"""Student copies execute under `ci` with NotImplementedError in exercise cells only, and leak no solution."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.student import solution_snippets, student_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("day*.ipynb"))


def test_some_exercises_are_checkable():
    checkable = [p.stem for p in PATHS if "### BEGIN SOLUTION" in p.read_text()]
    assert len(checkable) >= len(PATHS) // 2, f"only {checkable} have checkable exercises"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_student_copy(path: Path):
    instructor = nbformat.read(path, as_version=4)
    student = student_notebook(instructor)
    text = nbformat.writes(student)
    leaked = [s for s in solution_snippets(instructor) if s in text]
    assert not leaked, f"solution text survives in the student copy: {leaked[:3]}"
    assert "BEGIN SOLUTION" not in text and "{solution}" not in text

    NotebookClient(student, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for index, cell in enumerate(student.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if "exercise" in cell.metadata.get("tags", []):
            assert [e.ename for e in errors] == ["NotImplementedError"], f"exercise cell {index}: {errors}"
        else:
            assert not errors, f"cell {index} fails in the student copy: {errors[0].ename} {errors[0].evalue}"
