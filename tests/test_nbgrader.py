"""The instructors' workflow with nbgrader itself: export, generate_assignment, autograde.

For two fast days, ``python -m helpers.student COURSE --nbgrader`` writes the source assignments and the
course's ``nbgrader_config.py``; ``nbgrader generate_assignment`` makes the student version; two students
submit it: one solved (each answer cell given back its solution), one untouched. ``nbgrader autograde``
runs both (under the ``ci`` profile, as ``nbgrader_config.py`` sets) and the gradebook must hold full marks
for the first and zero for the second.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
DAYS = ("day02", "day03")  # fast notebooks (~10 s each under ci) with two graded exercises each

pytest.importorskip("nbgrader", reason="nbgrader is in requirements-dev.txt: scripts/setup.sh installs it")


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "COURSE_PROFILE"}  # the config sets ci
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (f"nbgrader {' '.join(args)} failed:\n"
                                    f"{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result


def answers(notebook: nbformat.NotebookNode) -> dict[str, str]:
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    course = tmp_path_factory.mktemp("course")
    subprocess.run([sys.executable, "-m", "helpers.student", str(course), "--nbgrader", "--days", *DAYS],
                   check=True, capture_output=True, cwd=ROOT)
    assert (course / "nbgrader_config.py").exists()
    nbgrader(course, "generate_assignment", "day*", "--force")  # a glob: every exported day in one call
    for day in DAYS:
        [source] = (course / "source" / day).glob("*.ipynb")
        released = course / "release" / day / source.name
        for student in ("solved", "untouched"):
            notebook = nbformat.read(released, as_version=4)
            if student == "solved":
                solutions = answers(nbformat.read(source, as_version=4))
                for cell in notebook.cells:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    if grade_id in solutions:
                        cell.source = solutions[grade_id]
            target = course / "submitted" / student / day / source.name
            target.parent.mkdir(parents=True)
            nbformat.write(notebook, target)
    nbgrader(course, "autograde", "day*", "--create")

    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for day in DAYS:
            for student in ("solved", "untouched"):
                submission = gradebook.find_submission(day, student)
                scores[day, student] = (submission.score, submission.max_score)
    print("\nnbgrader scores:", {f"{d}/{s}": f"{a:g}/{b:g}" for (d, s), (a, b) in scores.items()})
    return course, scores


@pytest.mark.parametrize("day", DAYS)
def test_released_version_has_no_solutions(graded, day):
    course, _ = graded
    [released] = (course / "release" / day).glob("*.ipynb")
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text and "{solution}" not in text
    notebook = nbformat.read(released, as_version=4)
    solution_cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert solution_cells and all("raise NotImplementedError" in c.source for c in solution_cells)
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(solution_cells) and all(c.metadata["nbgrader"]["locked"] for c in tests)


@pytest.mark.parametrize("day", DAYS)
def test_solved_copy_gets_full_marks_and_untouched_copy_zero(graded, day):
    _, scores = graded
    score, maximum = scores[day, "solved"]
    assert maximum >= 2 and score == maximum, f"{day}: the solved copy scored {score}/{maximum}"
    untouched = scores[day, "untouched"]
    assert untouched == (0.0, maximum), f"{day}: the untouched copy scored {untouched}"
