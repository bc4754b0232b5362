import nbformat
import pytest

from helpers.student import (
    STUB,
    solution_snippets,
    strip_code,
    strip_markdown,
    student_notebook,
    write_student_book,
)

CODE = """def and_weights():
    ### BEGIN SOLUTION
    w = [1.0, 1.0]
    return w, -1.5
    ### END SOLUTION

check(and_weights)"""

MARKDOWN = """## Exercises

```{exercise}
:label: d-ex
Find the weights.
```

````{solution} d-ex
:class: dropdown
The secret answer is w = (1, 1), b = -1.5.
```python
print("nested fence")
```
````

Closing words."""


def test_strip_code_replaces_solution_with_indented_stub():
    source, changed = strip_code(CODE)
    assert changed and "secret" not in source and "-1.5" not in source
    assert f"    {STUB}" in source and source.endswith("check(and_weights)")
    assert strip_code("x = 1") == ("x = 1", False)


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx", "### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_strip_code_rejects_unbalanced_markers(bad):
    with pytest.raises(ValueError):
        strip_code(bad)


def test_strip_markdown_removes_solution_blocks_with_nested_fences():
    text, changed = strip_markdown(MARKDOWN)
    assert changed and "secret answer" not in text and "nested fence" not in text
    assert "{exercise}" in text and text.endswith("Closing words.")
    assert strip_markdown(":::{solution} x\nhidden\n:::\nkept")[0] == "kept"
    with pytest.raises(ValueError, match="unclosed"):
        strip_markdown("```{solution}\nforever")


def make_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(MARKDOWN),
                nbformat.v4.new_code_cell(CODE, outputs=[nbformat.v4.new_output("stream", text="[OK]")]),
                nbformat.v4.new_code_cell("print('only for instructors')", metadata={"tags": ["solution"]}),
                nbformat.v4.new_markdown_cell("```{solution} d-ex\nall of it\n```")]
    nb.cells[1].metadata["tags"] = ["hide-input"]
    return nb


def test_student_notebook_strips_everything_and_tags_exercises():
    instructor = make_notebook()
    student = student_notebook(instructor)
    assert len(student.cells) == 2  # solution-only cells are gone
    code = student.cells[1]
    assert code.metadata["tags"] == ["exercise"] and code.outputs == []
    text = nbformat.writes(student)
    for snippet in solution_snippets(instructor):
        assert snippet not in text
    assert "only for instructors" not in text
    assert len(instructor.cells) == 4 and "BEGIN SOLUTION" in instructor.cells[1].source  # untouched


def test_solution_snippets_find_code_and_prose():
    snippets = solution_snippets(make_notebook())
    assert "return w, -1.5" in snippets
    assert "The secret answer is w = (1, 1), b = -1.5." in snippets


def test_solution_lines_the_notebook_also_shows_publicly_are_not_snippets():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("torch.manual_seed(cfg.seed)\nmodel = build()"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\ntorch.manual_seed(cfg.seed)\nanswer = secret_value()\n"
                                  "### END SOLUTION")])
    assert solution_snippets(notebook) == ["answer = secret_value()"]


def test_student_book_sources(tmp_path):
    root = tmp_path / "course"
    (root / "book").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "book" / "intro.md").write_text("# Intro")
    (root / "_config.yml").write_text("title: x")
    (root / "_toc.yml").write_text("root: book/intro")
    (root / "_ext").mkdir()
    (root / "_ext" / "course_site.py").write_text("def setup(app): pass\n")  # the site's local extension
    nbformat.write(make_notebook(), root / "notebooks" / "day99_demo.ipynb")
    out = tmp_path / "student"
    write_student_book(root, out)
    assert (out / "book" / "intro.md").exists() and (out / "_toc.yml").exists()
    assert (out / "_ext" / "course_site.py").exists()
    assert "secret" not in (out / "notebooks" / "day99_demo.ipynb").read_text()


def test_nbgrader_export_splits_answer_and_locked_graded_check(tmp_path):
    from helpers.env import KERNELSPEC
    from helpers.student import write_nbgrader_source

    (tmp_path / "nb").mkdir()
    nbformat.write(make_notebook(), tmp_path / "nb" / "day99_demo.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "nb" / "day98_no_exercise.ipynb")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    [path] = write_nbgrader_source(tmp_path / "nb", tmp_path / "out")
    assert path == tmp_path / "out" / "source" / "day99" / "day99_demo.ipynb"
    assert (tmp_path / "out" / "nbgrader_config.py").exists()
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"] == KERNELSPEC
    marked = [(c.metadata["nbgrader"], c.source) for c in notebook.cells if "nbgrader" in c.metadata]
    assert marked == [
        ({"solution": True, "grade": False, "locked": False, "grade_id": "day99-exercise-1",
          "schema_version": 3},
         CODE[: CODE.index("\n\ncheck")]),  # nbgrader replaces the marked block itself
        ({"solution": False, "grade": True, "locked": True, "grade_id": "day99-exercise-1-test", "points": 1,
          "schema_version": 3}, "check(and_weights)"),
    ]
    text = nbformat.writes(notebook)
    assert "{solution}" not in text and "secret answer" not in text and "only for instructors" not in text
    assert "{exercise}" in text


@pytest.mark.parametrize("source, answer, test", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n\ncheck(f)",
     "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "check(f)"),
    # the function goes on after the marker; a comment above the checker goes with the checker
    ("def f():\n    ### BEGIN SOLUTION\n    y = 1\n    ### END SOLUTION\n    return y\n# grade it\ncheck(f)",
     "def f():\n    ### BEGIN SOLUTION\n    y = 1\n    ### END SOLUTION\n    return y",
     "# grade it\ncheck(f)"),
    ("### BEGIN SOLUTION\nx = 2\n### END SOLUTION", "### BEGIN SOLUTION\nx = 2\n### END SOLUTION", ""),
])
def test_split_exercise(source, answer, test):
    from helpers.student import split_exercise

    assert split_exercise(source) == (answer, test)


def test_nbgrader_export_refuses_an_exercise_without_a_check():
    from helpers.student import nbgrader_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 2\n### END SOLUTION")]
    with pytest.raises(ValueError, match="no checker call"):
        nbgrader_notebook(notebook, "day99")
