"""The package as Colab installs it: a wheel (not an editable checkout) declaring what the notebooks import.

``pip install "wxb-course-helpers[all] @ git+..."`` builds a wheel from ``pyproject.toml``; everything the
notebooks call must be inside it (``helpers.days`` with every day's settings, ``helpers.corpora``...).
The test builds the wheel from a copy of the working tree, installs it into a fresh virtualenv (the
wheel alone: its dependencies come from this environment through a ``.pth`` line, so nothing is
downloaded), and calls ``setup(day, "ci")`` for every ``helpers/days/day*.py`` from outside the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
DAYS = sorted(p.stem for p in (ROOT / "helpers" / "days").glob("day*.py"))

#: requirements.txt entries that pyproject deliberately leaves out, and why.
NOT_DECLARED = {
    "ipykernel": "Jupyter and Colab bring their own kernel (upgrading it inside Colab breaks the kernel)",
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {_name(r) for r in extra if not r.startswith(project["name"])}
    return names


def required() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {_name(line.split("#")[0]) for line in lines if line.split("#")[0].strip()}


def test_pyproject_declares_every_runtime_requirement():
    missing = required() - declared() - set(NOT_DECLARED)
    assert not missing, (f"requirements.txt lists {sorted(missing)}, which pyproject.toml does not declare: "
                         "add each to [project] dependencies or an extra (text, llm), with the same range")


def test_all_extra_brings_every_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert Requirement(extras["all"][0]).extras == set(extras) - {"all"}
    assert any(_name(r) == "bitsandbytes" for r in extras["llm"])  # the 8-bit/4-bit gpu recipes


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources (no build/ or egg-info left in the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(src)], check=True, capture_output=True, text=True)
    [built] = out.glob("wxb_course_helpers-*.whl")
    return built


def test_wheel_contains_every_subpackage(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "helpers").rglob("*.py")}
    assert not expected - names, f"left out of the wheel: {sorted(expected - names)[:10]}"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Provides-Extra: llm" in text and "Requires-Dist: torchvision" in text


def test_setup_runs_for_every_day_from_the_installed_wheel(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    target = Path(subprocess.run([str(python), "-c", where], check=True, capture_output=True, text=True)
                  .stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
                    "--target", str(target), str(wheel)], check=True, capture_output=True, text=True)
    # the dependencies (torch...) from this environment, after the wheel's own files on sys.path
    (target / "zz_course_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    script = (
        "import helpers, sys\n"
        f"assert helpers.__file__.startswith({str(target)!r}), helpers.__file__\n"
        "from helpers import setup\n"
        f"for day in {DAYS!r}:\n"
        "    cfg = setup(day, 'ci')\n"
        "    assert cfg.day == day and cfg.profile == 'ci'\n"
        f"print('setup ok for {len(DAYS)} days')\n"
    )
    env = {**os.environ, "COURSE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": ""}
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"setup ok for {len(DAYS)} days" in result.stdout
