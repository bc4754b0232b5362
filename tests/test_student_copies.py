"""Student copies leak no solution (the nbval run executes them: ``StudentCopyItem`` in course_plugin.py)."""

from pathlib import Path

import nbformat
import pytest

from helpers.student import solution_snippets, student_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("day*.ipynb"))


def test_some_exercises_are_checkable():
    checkable = [p.stem for p in PATHS if "### BEGIN SOLUTION" in p.read_text()]
    assert len(checkable) >= len(PATHS) // 2, f"only {checkable} have checkable exercises"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_student_copy_leaks_no_solution(path: Path):
    instructor = nbformat.read(path, as_version=4)
    student = student_notebook(instructor)
    text = nbformat.writes(student)
    leaked = [s for s in solution_snippets(instructor) if s in text]
    assert not leaked, f"solution text survives in the student copy: {leaked[:3]}"
    assert "BEGIN SOLUTION" not in text and "{solution}" not in text
