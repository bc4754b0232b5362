"""Sphinx extension of the course's website (loaded through ``local_extensions`` in ``_config.yml``).

- **Each script once per page.** Sphinx 7.4 compares an inline script added as ``add_js_file(None, body=...)``
  with the same script re-read from its registry as ``("", body=...)`` and finds them different, so the
  inline scripts of sphinx-thebe and sphinx-togglebutton were written twice (the browser then stops at
  "Identifier 'THEBE_JS_URL' has already been declared"); and Jupyter Book adds every ``.js`` file under
  ``_static`` to every page, so the vendored MathJax was loaded a second time next to Sphinx's own tag (a
  MathJax ``TypeError``). ``html-page-context`` keeps the first of each script (same file, or same body).
- **No console error on a first visit.** pydata-sphinx-theme logs "Got invalid theme mode: ." when no
  ``default_mode`` is set (Jupyter Book sets none): ``config-inited`` sets it to ``auto`` (the reader's
  system preference) in ``html_context``, where the theme reads it, unless the book already says.
- **A real ``index.html``.** Jupyter Book writes a bare ``<meta http-equiv="Refresh">`` line there, with no
  title, language or link; this writes a small HTML page that redirects to the root page and says where.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple[str, str]:
    filename = str(getattr(script, "filename", script) or "")
    attributes = getattr(script, "attributes", {}) or {}
    return filename.split("?")[0], str(attributes.get("body", ""))


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Keep the first of each script in the page's ``script_files`` (by file, or by inline body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


INDEX = """<!DOCTYPE html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="refresh" content="0; url={target}">
  <link rel="canonical" href="{target}">
</head>
<body>
  <main>
    <h1>{title}</h1>
    <p>The course starts at <a href="{target}">{target}</a>.</p>
  </main>
</body>
</html>
"""


def write_index(app: Sphinx, exception: Exception | None) -> None:
    """Write ``index.html``: a titled page in the book's language that redirects to the root page."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target = f"{app.config.root_doc}.html"
    title = html.escape(app.config.html_title or app.config.project)
    lang = html.escape(app.config.language or "en")
    Path(app.outdir, "index.html").write_text(INDEX.format(lang=lang, title=title, target=target),
                                              encoding="utf-8")


def default_theme_mode(app: Sphinx, config: Any) -> None:
    """``html_context["default_mode"] = "auto"`` unless the book sets it."""
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", default_theme_mode)
    app.connect("html-page-context", dedupe_scripts, priority=900)  # after every extension added its scripts
    app.connect("build-finished", write_index, priority=900)  # after sphinx-external-toc's bare redirect
    return {"parallel_read_safe": True, "parallel_write_safe": True}
