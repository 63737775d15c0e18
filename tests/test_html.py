"""The HTML page: one self-contained file, the Markdown document's content, math as
MathML, study mode; checked as a file and in a real browser (Debian's Chromium, driven
by Selenium through Debian's chromedriver)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import EXAMPLE_SPECS, EXAMPLES, ROOT, given_spec
from mdcheck import math_spans
from explainer.api import run
from explainer.validation import load_problem, validate
from explainer.render.html import render_html, svg_figures

# Screenshots of every example's page, where a person can look at them (CI keeps them).
SHOTS = Path(os.environ.get("EM_EXPLAINER_SCREENSHOTS", ROOT / "build" / "screenshots"))
NAMES = [p.parent.name for p in EXAMPLE_SPECS]


def page_of(spec: Path, **options) -> tuple[str, str]:
    """An example's HTML page and the Markdown it was made from (same figures)."""
    trace = run(load_problem(spec))
    figures = svg_figures(trace)
    return (render_html(trace, plots=figures, **options),
            trace.to_markdown() if not figures else _markdown(trace, figures))


def _markdown(trace, figures) -> str:
    from explainer.render.markdown import render_markdown

    return render_markdown(trace, plots=figures)


@pytest.mark.parametrize("name", NAMES)
def test_every_formula_of_the_markdown_is_mathml(name):
    page, markdown = page_of(EXAMPLES / name / f"{name}.yaml")
    assert page.count("<math ") == len(math_spans(markdown))
    assert "<merror" not in page
    assert "$" not in re.sub(r"<[^>]+>", "", page.split("<main", 1)[1]).replace("\\$", "")


def test_the_page_is_self_contained_and_small():
    page, _ = page_of(EXAMPLES / "lecture" / "lecture.yaml")
    assert len(page.encode()) < 1_000_000
    # Nothing is fetched: no URL but the figures' data URIs.
    assert not re.search(r"(src|href)=\"(?!data:image/svg\+xml;base64,|#)", page)
    assert page.count('src="data:image/svg+xml;base64,') == 2  # fit, responsibilities


def test_the_content_security_policy_allows_only_the_page_s_own_script_and_style():
    page, _ = page_of(EXAMPLES / "lecture" / "lecture.yaml")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)[1]
    script = re.search(r"<script>(.*)</script>", page, re.S)[1]
    style = re.search(r"<style>(.*)</style>", page, re.S)[1]

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert f"script-src {digest(script)}'" in policy
    assert digest(style) in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    # No inline event handler anywhere (the script adds its own with addEventListener).
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page)


def test_user_text_is_escaped():
    trace = run(validate({"data": [1, 2, 5, 8, 9], "components": 2,
                          "title": "<script>alert(1)</script> & <b>bold</b>",
                          "names": ["<img src=x onerror=alert(2)>", "b"],
                          "init": {"weights": [0.5, 0.5], "means": [2, 8],
                                   "variances": [2, 2]}}))
    page = render_html(trace)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_each_part_and_the_command_line(tmp_path):
    spec = EXAMPLES / "lecture" / "lecture.yaml"
    for part in ("setup", "estep", "responsibilities", "mstep", "conclusion", "summary",
                 "clustering", "plots"):
        out = tmp_path / f"{part}.html"
        result = subprocess.run([sys.executable, "-m", "explainer", "solve", str(spec),
                                 "--part", part, "-o", str(out)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        assert out.read_text().startswith("<!DOCTYPE html>")
    json_file = tmp_path / "lecture.json"
    subprocess.run([sys.executable, "-m", "explainer", "solve", str(spec), "-o",
                    str(json_file)], check=True, capture_output=True)
    again = tmp_path / "again.html"
    subprocess.run([sys.executable, "-m", "explainer", "render", str(json_file), "-o",
                    str(again), "--reveal"], check=True, capture_output=True)
    assert 'data-study="on"' in again.read_text()
    wrong = subprocess.run([sys.executable, "-m", "explainer", "solve", str(spec), "-o",
                            str(tmp_path / "x.md"), "--reveal"], capture_output=True, text=True)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: --reveal")


def test_the_notebook_display_is_the_document_without_a_script():
    trace = run(load_problem(EXAMPLES / "lecture" / "lecture.yaml"))
    html = trace._repr_html_()
    assert html.startswith('<div class="em-explainer">') and "<script" not in html
    assert html.count("<math ") == len(math_spans(trace.to_markdown()))


# --------------------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        raise RuntimeError("a browser is needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--window-size=1100,1400"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def _open(browser, page: str, folder: Path, name: str) -> None:
    path = folder / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    browser.get_log("browser")  # (the previous page's)
    browser.get(path.as_uri())


@pytest.mark.parametrize("name", NAMES)
def test_every_example_renders_in_chromium(browser, tmp_path, name):
    from selenium.webdriver.common.by import By

    page, markdown = page_of(EXAMPLES / name / f"{name}.yaml")
    _open(browser, page, tmp_path, name)
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert len(browser.find_elements(By.TAG_NAME, "math")) == len(math_spans(markdown))
    assert browser.find_elements(By.TAG_NAME, "merror") == []
    # Every formula is drawn: a MathML box of some size, not zero.
    empty = browser.execute_script(
        "return Array.from(document.querySelectorAll('math')).filter("
        "m => m.getBoundingClientRect().width < 1).length")
    assert empty == 0
    # Headings in order (one h1, no level skipped) and tables with their header cells.
    problems = browser.execute_script("""
        const out = [];
        const hs = Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4'));
        if (document.querySelectorAll('main h1').length !== 1) out.push('h1 count');
        let last = 1;
        for (const h of hs) { const l = +h.tagName[1]; if (l > last + 1) out.push(h.textContent);
                              last = l; }
        for (const t of document.querySelectorAll('table')) {
          if (!t.querySelector('thead th')) out.push('table without header');
        }
        for (const b of document.querySelectorAll('button, select')) {
          if (!(b.textContent.trim() || b.getAttribute('aria-label'))) out.push('unnamed control');
        }
        return out;""")
    assert problems == []
    assert axe_violations(browser) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def _pages_to_read() -> list[tuple[str, str]]:
    """Every example's page and those of 20-point problems: 1-D (its sums of 20 terms
    and the data of 20 points), the plane, a Bernoulli mixture."""
    rng = np.random.default_rng(29)
    x = np.round(np.r_[rng.normal(2, 1, 10), rng.normal(7, 1.5, 10)], 2)
    problems = {
        "twenty": given_spec(x, [0.5, 0.5], [2, 8], [1, 2], iterations=2),
        "twenty-plane": {"data": np.round(np.r_[rng.normal(0, 1, (10, 2)),
                                                 rng.normal(4, 1, (10, 2))], 2).tolist(),
                         "components": 2, "init": {"weights": [0.5, 0.5],
                                                   "means": [[0, 0], [4, 4]],
                                                   "covariances": [[[1, 0], [0, 1]]] * 2}},
        "twenty-bernoulli": {"data": rng.integers(0, 2, (20, 3)).tolist(), "components": 2,
                             "model": {"family": "bernoulli"},
                             "init": {"weights": [0.5, 0.5],
                                      "p": [[0.2, 0.5, 0.7], [0.8, 0.4, 0.3]]}}}
    return [(name, page_of(EXAMPLES / name / f"{name}.yaml")[0]) for name in NAMES] + [
        (name, render_html(run(validate(spec)))) for name, spec in problems.items()]


def test_no_formula_needs_a_scrollbar_in_a_1200_px_window(browser, tmp_path):
    """Written-out sums break into lines as in the PDF (an aligned block, which
    latex2mathml must be given as align*: its & and \\cr were printed), and the data are
    a formula per point, so that no formula is wider than the page's column."""
    browser.set_window_size(1200, 1000)
    try:
        for name, page in _pages_to_read():
            assert "<mi>&amp;</mi>" not in page and "<mi>\\cr</mi>" not in page, name
            _open(browser, page, tmp_path, name)
            wide = browser.execute_script("""
                const column = document.querySelector('main').clientWidth;
                return Array.from(document.querySelectorAll('math')).filter(
                    m => m.getBoundingClientRect().width > column).map(
                    m => m.textContent.slice(0, 60));""")
            assert wide == [], (name, wide)
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"), name
    finally:
        browser.set_window_size(1100, 1400)


def axe_violations(browser) -> list:
    """What axe-core (npm, a maintained accessibility engine) finds against WCAG 2 A and
    AA and its best practices, headings, tables and landmarks among them. One rule is
    left out: empty-table-header does not count a formula's MathML as text (a header
    "x_n" that is only a formula); an aria-label would make a screen reader read the
    LaTeX source instead of the formula."""
    engine = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if not engine.is_file():
        raise RuntimeError("axe-core is needed: run 'npm ci' in the repository")
    browser.execute_script(engine.read_text(encoding="utf-8"))
    return browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa',
                                                          'best-practice']},
                           rules: {'empty-table-header': {enabled: false}}})
           .then(r => done(r.violations.map(v => [v.id, v.nodes.length,
                                                  v.nodes[0].html.slice(0, 200)])))
           .catch(e => done(['axe failed', String(e)]));""")


def test_study_mode_by_click_and_by_keyboard(browser, tmp_path):
    from selenium.webdriver.common.by import By

    page, _ = page_of(EXAMPLES / "lecture" / "lecture.yaml")
    _open(browser, page, tmp_path, "study")

    def hidden() -> int:
        return len(browser.find_elements(By.CSS_SELECTOR, ".em-hidden"))
    assert hidden() == 0  # nothing hidden until asked for
    browser.find_element(By.XPATH, "//button[text()='Study mode']").click()
    steps = hidden()
    assert steps > 10
    # Every result is hidden until its step: the new mean mu_1 = 2.200 (in the M-step,
    # the conclusion's bullet, the final table), the takeaway's sentences, the figure
    # of the fit after the run; the setup's figure of the start and the prose stay.
    new_mean = browser.find_elements(By.XPATH, "//*[local-name()='mn' and text()='2.200']")
    assert len(new_mean) >= 3 and not any(e.is_displayed() for e in new_mean)
    takeaway = browser.find_elements(By.XPATH, "//li[contains(., 'belong to') or "
                                               "contains(., 'ambiguous')]")
    assert takeaway and not any(e.is_displayed() for e in takeaway)
    figures = browser.find_elements(By.CSS_SELECTOR, "main img")
    assert len(figures) >= 2 and figures[0].is_displayed()
    assert not any(f.is_displayed() for f in figures[1:])
    assert browser.find_element(By.XPATH, "//p[starts-with(., 'The E-step asks')]"
                                ).is_displayed() is False  # (it names r_nk: a step)
    # Revealed in the page's order: each step shown lies after the one before.
    order = browser.execute_script("""
        var s = Array.prototype.slice.call(document.querySelectorAll('[data-em-step]'));
        return s.every(function (e, i) { return i === 0 ||
            (s[i - 1].compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING); });""")
    assert order
    browser.find_element(By.XPATH, "//button[text()='Show next step']").click()
    assert hidden() == steps - 1
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("n")
    body.send_keys("n")
    assert hidden() == steps - 3
    assert browser.find_element(By.CSS_SELECTOR, ".em-status").text == \
        f"Step 3 of {steps} shown"
    body.send_keys("a")
    assert hidden() == 0
    body.send_keys("s")  # study mode off: everything shown, the buttons idle
    assert hidden() == 0 and not browser.find_element(
        By.XPATH, "//button[text()='Show next step']").is_enabled()
    # Opened in study mode (--reveal): the steps hidden from the start.
    trace = run(load_problem(EXAMPLES / "lecture" / "lecture.yaml"))
    _open(browser, render_html(trace, study=True), tmp_path, "reveal")
    # (This page has no figures: fewer steps.)
    assert hidden() == len(browser.find_elements(By.CSS_SELECTOR, "[data-em-step]")) > 10


def test_an_injected_title_is_shown_literally_and_runs_nothing(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    title = "<script>window.injected = 1; alert(1)</script>"
    trace = run(validate({"data": [1, 2, 5, 8, 9], "components": 2, "title": title,
                          "names": ["<img src=x onerror=alert(2)>", "b"],
                          "init": {"weights": [0.5, 0.5], "means": [2, 8],
                                   "variances": [2, 2]}}))
    _open(browser, render_html(trace), tmp_path, "injected")
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.title == title
    assert browser.execute_script("return window.injected === undefined")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def test_mathjax_html_is_the_same_with_its_inline_texts_remembered(monkeypatch):
    """The MathJax HTML (a Cloze question's feedback) parses and renders each inline text
    once: every example's Markdown, twice over, gives what a parser remembering nothing
    gives; a document that defines link references is parsed whole."""
    from explainer.render import html

    documents = [p.read_text() for p in sorted(EXAMPLES.rglob("*.md"))]
    line = "See [the notes][n] and [the notes][n].\n"  # (a link where [n] is defined)
    documents += [line, line + "\n[n]: https://example.org\n"]
    remembered = [html.markdown_to_mathjax_html(d) for d in documents * 2]
    html._mathjax_parser.cache_clear()
    monkeypatch.setattr(html, "_remember_inline_html", lambda md: None)
    try:
        plain = [html.markdown_to_mathjax_html(d) for d in documents * 2]
    finally:
        html._mathjax_parser.cache_clear()
    assert len(documents) > 10 and remembered == plain
    assert '<a href="https://example.org">the notes</a>' in remembered[-1]
    page = remembered[documents.index(next(d for d in documents if "$$" in d))]
    assert "<h1" not in page and "<h2" not in page and "<p>\\[" in page and "\\(" in page
