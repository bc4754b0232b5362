"""The course's pytest plugin (``-p course_plugin`` in pyproject.toml): pinned numerics, nbval additions.

- Every run gets the pinned numerics of ``helpers/repro.py`` (set here, before
  torch or NumPy is imported, for a plain ``pytest`` run; ``scripts/test.sh`` exports them too).
- nbval (``--nbval``) gets three additions, described in CONTRIBUTING.md:
  * cells tagged ``nbval-tolerance`` compare their printed numbers within one unit of the last printed digit
    (the text around the numbers still has to match exactly); every other cell is compared exactly;
  * after the last cell of each notebook, ``ci-budget`` checks the kernel's CPU time against the day's budget
    (``CI_BUDGET_S`` in ``helpers/days/dayNN.py``, else 60 s) and records wall and CPU time;
  * then ``student-copy`` checks the student copy without executing the notebook a second time: no later cell
    uses a name that only a solution defines, and each exercise cell's stub, run in the same kernel, raises
    ``NotImplementedError``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import re
import time
from pathlib import Path
from queue import Empty

_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_course_repro", _ROOT / "helpers" / "repro.py")
_repro = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_repro)  # type: ignore[union-attr]
_repro.apply_env()  # before matplotlib/NumPy/torch are imported by anything below

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

TOLERANCE_TAG = "nbval-tolerance"
DEFAULT_BUDGET_S = 60.0
TIMES_FILE = _ROOT / "_build" / "notebook-times.json"


# ------------------------------------------------------------------------------ tolerant numbers
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _last_digit_unit(token: str) -> float:
    """One unit in the last printed digit of ``token`` (``0.4233`` -> 1e-4, ``1.2e-07`` -> 1e-8)."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers_within_tolerance(test: str, reference: str) -> bool:
    """True when the texts are equal but for numbers at most one unit of their last digit apart."""
    if _NUMBER.sub("#", test) != _NUMBER.sub("#", reference):
        return False
    for got, want in zip(_NUMBER.findall(test), _NUMBER.findall(reference), strict=True):
        unit = max(_last_digit_unit(got), _last_digit_unit(want))
        if not math.isclose(float(got), float(want), rel_tol=0.0, abs_tol=unit * 1.000001):
            return False
    return True


def _tolerate(test_outputs: list, reference_outputs: list) -> list:
    """Copy each reference text over the fresh one where they agree within tolerance (then nbval compares)."""
    from nbval.plugin import coalesce_streams

    test_outputs = coalesce_streams(test_outputs)
    references = {(o.get("output_type"), o.get("name")): o for o in reference_outputs}
    for output in test_outputs:
        ref = references.get((output.get("output_type"), output.get("name")))
        if ref is None:
            continue
        if "text" in output and "text" in ref and numbers_within_tolerance(output["text"], ref["text"]):
            output["text"] = ref["text"]
        data, ref_data = output.get("data", {}), ref.get("data", {})
        for mime in ("text/plain", "text/html", "text/latex"):
            if mime in data and mime in ref_data and numbers_within_tolerance(data[mime], ref_data[mime]):
                data[mime] = ref_data[mime]
    return test_outputs


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("nbval"):
        return
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell, "_course_patched", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):  # noqa: ANN001
        if TOLERANCE_TAG in self.cell.metadata.get("tags", []):
            test = _tolerate(test, ref)
        return original(self, test, ref, skip_compare)

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._course_patched = True


# ------------------------------------------------------------------------------ budget and student copy
def budget_for(notebook: Path) -> float:
    """The day's ``CI_BUDGET_S`` (``helpers/days/dayNN.py``), else 60 s."""
    day = notebook.stem.split("_")[0]
    module = _ROOT / "helpers" / "days" / f"{day}.py"
    if module.exists():
        match = re.search(r"^CI_BUDGET_S\s*(?::[^=]*)?=\s*([\d.]+)", module.read_text(), re.M)
        if match:
            return float(match.group(1))
    return DEFAULT_BUDGET_S


def _kernel_cpu_seconds(kernel) -> float | None:  # noqa: ANN001
    import psutil

    process = getattr(getattr(kernel.km, "provisioner", None), "process", None)
    if process is None:
        return None
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


class BudgetItem(pytest.Item):
    """Fails when the notebook's kernel used more CPU time than the day's budget."""

    def runtest(self) -> None:
        notebook = Path(str(self.parent.fspath))
        kernel = getattr(self.parent, "kernel", None)
        if kernel is None or not kernel.is_alive():
            pytest.fail("the notebook's kernel is not running: its cells failed before the budget check")
        cpu = _kernel_cpu_seconds(kernel)
        wall = time.monotonic() - getattr(self.parent, "_course_started", time.monotonic())
        # COURSE_BUDGET_SCALE: only for runs on an emulated CPU, which is many times slower
        budget = budget_for(notebook) * float(os.environ.get("COURSE_BUDGET_SCALE", "1"))
        record = {"cpu_s": round(cpu, 1) if cpu is not None else None, "wall_s": round(wall, 1),
                  "budget_s": budget}
        # reported, not stored here: under pytest-xdist this runs in a worker; the controller collects it
        self.user_properties.append((_TIMES_PROPERTY, {"notebook": notebook.stem, **record}))
        if cpu is None:
            pytest.fail("cannot read the kernel's CPU time (jupyter_client without a local provisioner)")
        if cpu > budget:
            pytest.fail(f"{notebook.name}: {cpu:.1f} s of kernel CPU time under ci, over its budget of "
                        f"{budget:.0f} s (wall {wall:.1f} s). Make the ci settings smaller "
                        f"(helpers/days/{notebook.stem.split('_')[0]}.py).")

    def reportinfo(self):  # noqa: ANN201
        return self.path, 0, f"{self.parent.name}::ci-budget"


def _python_source(cell_source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _loaded_names(tree: ast.AST) -> set[str]:
    """Names read before the cell itself assigns them (reads on the line of their first assignment count)."""
    first_store: dict[str, int] = {}
    loads: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            table = first_store if isinstance(node.ctx, ast.Store) else loads
            table[node.id] = min(table.get(node.id, node.lineno), node.lineno)
    return {name for name, line in loads.items() if line <= first_store.get(name, line)}


def solution_only_names(instructor_cells: list[str], student_cells: list[str]) -> list[tuple[int, str, int]]:
    """(cell, name, defining cell) for each later cell that uses a name only a solution defines."""
    problems: list[tuple[int, str, int]] = []
    only_in_solution: dict[str, int] = {}
    for index, (mine, theirs) in enumerate(zip(instructor_cells, student_cells, strict=True)):
        student_tree = ast.parse(_python_source(theirs))
        if mine != theirs:  # an exercise cell: what the solution binds and the stub does not
            gone = _bound_names(ast.parse(_python_source(mine))) - _bound_names(student_tree)
            only_in_solution.update(dict.fromkeys(gone, index))
            continue
        for name in sorted(_loaded_names(student_tree) & set(only_in_solution)):
            problems.append((index, name, only_in_solution[name]))
        for name in _bound_names(student_tree):  # rebound by ordinary code: defined for the student too
            only_in_solution.pop(name, None)
    return problems


class StudentCopyItem(pytest.Item):
    """The student copy of this notebook works, checked in the kernel nbval just used."""

    def runtest(self) -> None:
        import nbformat

        from helpers.student import student_notebook

        instructor = nbformat.read(str(self.parent.fspath), as_version=4)
        student = student_notebook(instructor)
        mine = [c for c in instructor.cells if c.cell_type == "code"]
        theirs = [c for c in student.cells if c.cell_type == "code"]
        assert len(mine) == len(theirs), "the student copy has a different number of code cells"
        problems = solution_only_names([c.source for c in mine], [c.source for c in theirs])
        assert not problems, "in the student copy, " + "; ".join(
            f"code cell {i} uses {name!r}, which only the solution of code cell {j} defines"
            for i, name, j in problems)
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.fail("the notebook's kernel is not running: its cells failed before the student check")
        stubs = [(i, c.source) for i, (m, c) in enumerate(zip(mine, theirs, strict=True))
                 if m.source != c.source]
        for index, source in stubs:
            error = _run_and_get_error(kernel, source)
            assert error == "NotImplementedError", (
                f"the stub of exercise code cell {index} should raise NotImplementedError, got {error}")

    def reportinfo(self):  # noqa: ANN201
        return self.path, 0, f"{self.parent.name}::student-copy"


def _run_and_get_error(kernel, source: str, timeout: float = 300) -> str | None:  # noqa: ANN001
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=timeout)
    error = None
    while True:
        try:
            msg = kernel.get_message(stream="iopub", timeout=10)
        except Empty:
            return error
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            error = msg["content"]["ename"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return error


_TIMES_KEY = pytest.StashKey[dict]()
_TIMES_PROPERTY = "course-notebook-time"
_CONFIG: list[pytest.Config] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the budget items' times (in the controller process too, when pytest-xdist runs workers)."""
    if report.when != "call" or not _CONFIG:
        return
    for key, value in report.user_properties:
        if key == _TIMES_PROPERTY:
            record = dict(value)
            _CONFIG[0].stash.setdefault(_TIMES_KEY, {})[record.pop("notebook")] = record


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write ``_build/notebook-times.json`` once, from the process that saw every report."""
    times = session.config.stash.get(_TIMES_KEY, {})
    if not times or hasattr(session.config, "workerinput"):
        return
    TIMES_FILE.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}
    TIMES_FILE.write_text(json.dumps({**previous, **times}, indent=1, sort_keys=True) + "\n")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    if not config.getoption("nbval", default=False):
        return
    from nbval.plugin import IPyNbCell, IPyNbFile

    result: list = []
    for position, item in enumerate(items):
        result.append(item)
        parent = item.parent
        is_last_cell = isinstance(item, IPyNbCell) and isinstance(parent, IPyNbFile) and (
            position + 1 == len(items) or items[position + 1].parent is not parent)
        if is_last_cell and Path(str(parent.fspath)).name.startswith("day"):
            result.append(BudgetItem.from_parent(parent, name="ci-budget"))
            result.append(StudentCopyItem.from_parent(parent, name="student-copy"))
    items[:] = result
    if getattr(IPyNbFile, "_course_timed", False):
        return
    original_setup = IPyNbFile.setup

    def setup(self):  # noqa: ANN001, ANN202
        self._course_started = time.monotonic()
        return original_setup(self)

    IPyNbFile.setup = setup
    IPyNbFile._course_timed = True


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:  # noqa: ANN001
    times = config.stash.get(_TIMES_KEY, {})
    if not times:
        return
    terminalreporter.section("notebook times under ci (kernel CPU and wall, seconds)")
    for name, record in sorted(times.items()):
        terminalreporter.write_line(f"{name:<40} cpu {record['cpu_s']:>6} wall {record['wall_s']:>6} "
                                    f"budget {record['budget_s']:>5.0f}")
    total_cpu = sum(r["cpu_s"] or 0 for r in times.values())
    total_wall = sum(r["wall_s"] for r in times.values())
    terminalreporter.write_line(f"{'total':<40} cpu {total_cpu:>6.1f} wall {total_wall:>6.1f}")
