"""The website in a real browser: headless Chromium (Debian's) driven by Selenium, over localhost.

Every page loads with its images and without a single browser-console error; no internal link or anchor is
broken; search finds a page; the attention-heatmap page and the interactive-embedding page render; axe-core
(npm ``axe-core``, injected into the page) checks accessibility, and its result is kept in
_build/axe-report.json. Screenshots are kept in _build/screenshots. ``COURSE_HTML`` points the test at
another build of the site (default ``_build/html``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("COURSE_HTML", ROOT / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"
AXE_REPORT = ROOT / "_build" / "axe-report.json"
AXE_VERSION = "4.11.0"  # npm axe-core, fetched by scripts/setup.sh into the offline folder
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: build the book first with scripts/book.sh")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the browser closing a connection early is no error
        pass


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("Chromium is missing: scripts/setup.sh installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, read by console_errors()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pages() -> list[str]:
    skip = ("_static/", "_sources/", "_images/")
    names = (str(path.relative_to(HTML)) for path in HTML.rglob("*.html"))
    return sorted(name for name in names if not name.startswith(skip))


def console_errors(browser) -> list[str]:
    """The browser-console errors since the last call (JavaScript exceptions, failed loads...)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    return condition()


def test_every_page_loads_with_images_and_no_broken_links(site, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    links: set[str] = set()
    anchors: dict[str, set[str]] = {}
    problems: list[str] = []
    for page in pages():
        browser.get(f"{site}/{page}")
        wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
        if not browser.title or "404" in browser.title:
            problems.append(f"{page}: no title or an error page")
        if not browser.execute_script("return document.documentElement.lang"):
            problems.append(f"{page}: no lang attribute on <html>")
        if page == "index.html":
            continue  # a redirect: the browser is already on the root page, checked on its own
        time.sleep(0.3)  # deferred and async scripts (MathJax, thebe) report their errors after "complete"
        problems += [f"{page}: console error: {message}" for message in console_errors(browser)]
        broken_images = browser.execute_script(
            "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        problems += [f"{page}: broken image {src}" for src in broken_images]
        anchors[urldefrag(browser.current_url)[0]] = set(browser.execute_script(
            "return [...document.querySelectorAll('[id]')].map(e => e.id)"))
        hrefs = browser.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)")
        for href in hrefs:
            if urlparse(href).netloc == urlparse(site).netloc:
                links.add(href)
    for link in sorted(links):
        url, fragment = urldefrag(link)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as err:
            status = err.code
        if status != 200:
            problems.append(f"broken link {link} ({status})")
        elif fragment and url in anchors and fragment not in anchors[url]:
            problems.append(f"broken anchor {link}")
    print(f"\nbrowser: {len(pages())} pages loaded, {len(links)} internal links checked, "
          f"{len(problems)} problems")
    assert not problems, "\n".join(problems[:20])
    assert len(pages()) >= 10


def test_search_finds_the_perceptron_day(site, browser):
    browser.get(f"{site}/search.html?q=perceptron")
    results = wait_for(lambda: browser.execute_script(
        "return [...document.querySelectorAll('#search-results li a, ul.search li a')].map(a => a.href)"))
    assert any("day02_perceptron" in href for href in results), results


def test_maths_and_attention_heatmaps_render(site, browser):
    browser.get(f"{site}/notebooks/day21_transformer_from_scratch.html")
    rendered = wait_for(lambda: browser.execute_script(
        "return document.querySelectorAll('mjx-container').length"))
    assert rendered > 10, "MathJax did not typeset the page (it is vendored in _static/mathjax)"
    sizes = browser.execute_script(
        "return [...document.querySelectorAll('.cell_output img')].map(i => i.naturalWidth)")
    assert len(sizes) >= 3 and min(sizes) > 50
    width = browser.execute_script(
        "var cell = [...document.querySelectorAll('div.cell')].find(c => c.querySelector('.cell_input')"
        " && c.querySelector('.cell_input').textContent.includes('attention_heatmap('));"
        "var img = cell && cell.querySelector('.cell_output img');"
        "if (img) { img.scrollIntoView(); } return img ? img.naturalWidth : 0;")
    assert width > 100, "the attention heatmap image is missing"
    browser.save_screenshot(str(SHOTS / "day21-attention.png"))


def test_interactive_embedding_renders_zooms_and_has_hover_labels(site, browser):
    browser.get(f"{site}/notebooks/day06_dnn_mnist.html")
    svg = wait_for(lambda: browser.execute_script(
        "return document.querySelector('svg[data-interactive=\"ready\"]') ? true : false"))
    assert svg, "the interactive projection's script did not run"
    before = browser.execute_script(
        "var s = document.querySelector('svg[data-interactive]'); s.scrollIntoView();"
        "return s.getAttribute('viewBox');")
    titles = browser.execute_script("return document.querySelectorAll('svg[data-interactive] title').length")
    browser.execute_script(
        "var s = document.querySelector('svg[data-interactive]'), r = s.getBoundingClientRect();"
        "s.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: r.left + r.width / 2,"
        " clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));")
    after = browser.execute_script(
        "return document.querySelector('svg[data-interactive]').getAttribute('viewBox')")
    assert titles >= 20 and after != before
    browser.save_screenshot(str(SHOTS / "day06-interactive-embedding.png"))



#: JavaScript: the day-27 attention view (an interactive SVG with attention lines)
_VIEW = ("var svg = [...document.querySelectorAll('svg[data-interactive]')]"
         ".find(s => s.querySelector('line[data-q]'));")
_OPACITIES = "[...svg.querySelectorAll('line[data-q]')].map(l => l.getAttribute('stroke-opacity')).join()"


def test_interactive_attention_view_follows_the_hovered_token(site, browser):
    """Day 27: hovering a query token keeps only its attention lines; choosing another head redraws."""
    browser.get(f"{site}/notebooks/day27_bert_internals.html")
    ready = wait_for(lambda: browser.execute_script(
        _VIEW + "return !!svg && svg.getAttribute('data-interactive') === 'ready';"))
    assert ready, "the interactive attention view's script did not run"
    visible_rows = browser.execute_script(_VIEW + """
        svg.scrollIntoView();
        svg.querySelector('text[data-side="q"][data-i="1"]').dispatchEvent(new MouseEvent('mouseenter'));
        var rows = new Set();
        svg.querySelectorAll('line[data-q]').forEach(function (l) {
          if (+l.getAttribute('stroke-opacity') > 0) { rows.add(l.getAttribute('data-q')); }
        });
        return [...rows];""")
    assert visible_rows == ["1"], f"hovering query token 1 left lines of rows {visible_rows} visible"
    changed = browser.execute_script(_VIEW + f"""
        var box = svg.closest('[id]').querySelector('select[name=head]'), before = {_OPACITIES};
        box.value = '1'; box.dispatchEvent(new Event('change'));
        return before !== {_OPACITIES};""")
    assert changed, "choosing another head did not redraw the attention lines"
    browser.save_screenshot(str(SHOTS / "day27-interactive-attention.png"))

AXE_PAGES = ["book/intro.html", "book/how-to-use.html", "notebooks/day02_perceptron.html",
             "notebooks/day06_dnn_mnist.html", "notebooks/day21_transformer_from_scratch.html"]

#: axe-core rules that fail because of the theme's own markup (sphinx-book-theme / pydata-sphinx-theme), which
#: the course's configuration cannot change: rule id -> where it comes from.
THEME_VIOLATIONS: dict[str, str] = {
    "region": "the site title atop the primary sidebar (pydata-sphinx-theme's navbar-logo component) "
              "is not inside a landmark; one node per page, moderate impact",
}
#: what to change when a rule fails, where the course's configuration can fix it
FIXES = {
    "summary-name": "the sidebar's collapsible entries have a <summary> with no text (a chevron): list each "
                    "part's days as chapters next to the part's page in _toc.yml, not as its `sections:`",
}


def axe_source() -> str:
    from helpers.data import MissingDataError, fetch_npm_package

    try:
        package = fetch_npm_package("axe-core", AXE_VERSION)
    except MissingDataError as err:
        pytest.fail(f"axe-core is missing ({err}); scripts/setup.sh fetches it")
    return (package / "package" / "axe.min.js").read_text()


def test_accessibility_with_axe_core(site, browser):
    source = axe_source()
    report: dict[str, list[dict]] = {}
    for page in AXE_PAGES:
        browser.get(f"{site}/{page}")
        wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
        browser.execute_script(source)
        browser.set_script_timeout(120)
        report[page] = browser.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ("
            "{id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,"
            " examples: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));")
    AXE_REPORT.parent.mkdir(parents=True, exist_ok=True)
    AXE_REPORT.write_text(json.dumps({"axe-core": AXE_VERSION, "pages": report}, indent=1) + "\n")
    totals: dict[str, int] = {}
    for violations in report.values():
        for violation in violations:
            totals[violation["id"]] = totals.get(violation["id"], 0) + violation["nodes"]
    print(f"\naxe-core {AXE_VERSION} on {len(AXE_PAGES)} pages: "
          + (", ".join(f"{rule} {count}" for rule, count in sorted(totals.items())) or "no violations"))
    ours = {rule: count for rule, count in totals.items() if rule not in THEME_VIOLATIONS}
    hints = "".join(f"\n{rule}: {FIXES[rule]}" for rule in ours if rule in FIXES)
    assert not ours, f"accessibility violations (details in {AXE_REPORT}): {ours}{hints}"
