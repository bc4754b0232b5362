"""The website in a real browser: headless Chromium (Debian's) driven by Selenium, over localhost.

Every page loads with its images; no internal link or anchor is broken; search finds a page; the attention-
heatmap page and the interactive-embedding page render. Screenshots are kept in _build/screenshots.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: build the book first with scripts/book.sh")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


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
