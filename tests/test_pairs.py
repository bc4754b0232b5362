"""Every notebook is a pair: notebooks/dayNN_x.py (source) and dayNN_x.ipynb (same cells + ci outputs)."""

from pathlib import Path

import jupytext
import pytest

from helpers.env import colab_install_cell

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("day*.py"))


def cells(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    notebook = jupytext.read(path)
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in notebook.cells]


def test_there_are_notebooks():
    assert len(SOURCES) >= 6


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync(source: Path):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} is missing: run scripts/refresh-outputs.sh {source}"
    assert cells(source) == cells(paired), (
        f"{source.name} and {paired.name} differ: run scripts/refresh-outputs.sh {source}")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_follows_the_template(source: Path):
    notebook = jupytext.read(source)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# Day ")
    assert "google.colab" in code[0].source, "first code cell must be the Colab install cell"
    assert code[0].source.strip() == colab_install_cell(), (
        f"{source.name}: the Colab install cell differs from the template (helpers.env.COLAB_CELL with the "
        "repository of _config.yml): run scripts/sync-colab-cell.py")
    assert "parameters" in code[1].metadata.get("tags", []) and "PROFILE = None" in code[1].source
    assert f'setup("{source.stem.split("_")[0]}", PROFILE)' in code[2].source
    assert "## Exercises" in "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_outputs_are_committed(source: Path):
    notebook = jupytext.read(source.with_suffix(".ipynb"))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert any(c.outputs for c in code), f"{source.stem}.ipynb has no outputs: run scripts/refresh-outputs.sh"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{source.stem}.ipynb has committed errors"
    widgets = [c.id for c in code for o in c.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert not widgets, (f"{source.stem}.ipynb: cells {widgets} show a Jupyter widget (a progress bar?); "
                         "the site would fetch widget JavaScript from a CDN. Turn the progress bar off.")
    assert "widgets" not in notebook.metadata, f"{source.stem}.ipynb keeps widget state in its metadata"


def nested_fences(markdown: str) -> list[str]:
    """Directive blocks closed early by a nested fence as long as theirs (MyST ends them there)."""
    problems, stack = [], []
    for line in markdown.splitlines():
        stripped = line.strip()
        ticks = len(stripped) - len(stripped.lstrip("`"))
        if ticks < 3:
            continue
        info = stripped[ticks:].strip()
        if info:                                        # an opening fence: ```{solution} or ```python
            if stack and ticks >= stack[-1][0]:
                problems.append(f"{stack[-1][1]!r} holds {stripped!r}: give the outer block more backticks")
            stack.append((ticks, stripped))
        elif stack and ticks >= stack[-1][0]:
            stack.pop()
    return problems


def test_nested_fence_detector():
    assert nested_fences("```{solution} a\n```python\nx\n```\ntext\n```")
    assert not nested_fences("````{solution} a\n```python\nx\n```\ntext\n````")
    assert not nested_fences("```{exercise}\ntext\n```\n\n```python\ncode\n```")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_directive_fences_are_not_closed_by_nested_code(source: Path):
    notebook = jupytext.read(source)
    problems = [p for c in notebook.cells if c.cell_type == "markdown" for p in nested_fences(c.source)]
    assert not problems, f"{source.name}: {problems}"
