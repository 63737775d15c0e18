"""Practice mode (solve --practice): the page's inputs and its verdicts in Chromium, held
to `check`'s (explainer.grading.grade) on random answer sets of every family, the
lecture's slip and follow-through worked out here by formula, the named mistakes, the
answers kept by the browser, a hostile title and category names, and axe-core."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES
from test_html import axe_violations, browser  # noqa: F401  (the Chromium fixture)
from test_mistakes import FAMILY_CASES

from explainer.api import run
from explainer.errors import ProblemError
from explainer.grading import grade
from explainer.grading.check import _Student
from explainer.grading.practice import practice_data
from explainer.grading.quantities import parse_quantity
from explainer.validation import load_problem, problem_from

LECTURE = EXAMPLES / "lecture" / "lecture.yaml"


def _page(tmp_path, spec, name="practice.html") -> str:
    """The practice page of *spec* (a path or a mapping), written by the command line."""
    if not isinstance(spec, (str, type(LECTURE))):
        path = tmp_path / "spec.json"
        path.write_text(json.dumps(spec))
        spec = path
    out = tmp_path / name
    subprocess.run([sys.executable, "-m", "explainer", "solve", str(spec), "--practice",
                    "-o", str(out), "-q"], check=True)
    return out.as_uri()


def _fresh(browser, url: str) -> None:  # noqa: F811
    """Open *url* with no answers kept from an earlier test (the browser keeps them per
    page's data, and the pages of one spec are alike)."""
    browser.get(url)
    browser.execute_script("window.localStorage.clear();")
    browser.get(url)


def _type(browser, answers: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """Type each answer and Enter, as a student does; the verdicts' words."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for name, text in answers.items():
        field = browser.find_element(By.CSS_SELECTOR, f"input[data-quantity='{name}']")
        field.clear()
        field.send_keys(text + Keys.ENTER)
    return {name: browser.find_element(By.CSS_SELECTOR, f"[data-verdict-for='{name}'] .em-word"
                                       ).text for name in answers}


def test_the_lecture_slip_is_wrong_once_and_followed_through(browser, tmp_path):  # noqa: F811
    """The acceptance: r_{3,1} typed as 0.6, then N_1, pi_1 and mu_1 computed from it
    (here, by formula) are follow-through; pi_1 N_11 typed for r_{1,1} is 'forgot to
    normalise'. The page works from file:// (no network: its policy allows none)."""
    _fresh(browser, _page(tmp_path, LECTURE))
    x = np.array([1, 2, 5, 8, 9], dtype=float)
    weighted = 0.5 * np.exp(-(x[:, None] - np.array([2.0, 8.0])) ** 2 / 4)  # kernel: no c
    r = weighted[:, 0] / weighted.sum(axis=1)
    r[2] = 0.6
    n1 = r.sum()
    verdicts = _type(browser, {"r[3,1]": "0.6", "N[1]": f"{n1:.3f}", "pi[1]": f"{n1 / 5:.3f}",
                               "mu[1]": f"{(r * x).sum() / n1:.3f}"})
    assert verdicts == {"r[3,1]": "wrong", "N[1]": "follow-through",
                        "pi[1]": "follow-through", "mu[1]": "follow-through"}
    from selenium.webdriver.common.by import By

    score = browser.find_element(By.CSS_SELECTOR, ".em-practice-score").text
    # (of 5 x 2 densities, 5 p(x_n), 5 x 2 r_nk, l; 2 each of N_k, pi_k, sum r x, mu_k)
    assert score == "Practice: 0 right, 3 follow-through, 1 wrong, of 34."
    verdict = _type(browser, {"r[1,1]": f"{0.5 * math.exp(-0.25):.3f}"})
    assert verdict == {"r[1,1]": "wrong: forgot to normalise"}
    why = browser.find_element(By.CSS_SELECTOR, "[data-verdict-for='r[1,1]'] .em-explain")
    assert "only the numerator" in why.text
    assert len(browser.page_source.encode()) < 1_000_000


def test_a_wrong_density_is_followed_through_in_the_page(browser, tmp_path):  # noqa: F811
    """The lecture's density of x_3 under component 1 slipped (0.2 for e^{-9/4}), then
    p(x_3), r_31, the weighted sum and mu_1 from it (by the formulas written out here):
    wrong once, then follow-through, as check grades them (tests/test_check.py)."""
    _fresh(browser, _page(tmp_path, LECTURE))
    x = np.array([1, 2, 5, 8, 9], dtype=float)
    kernel = np.exp(-(x[:, None] - np.array([2.0, 8.0])) ** 2 / 4)
    r = kernel[:, 0] / kernel.sum(axis=1)
    p3 = 0.5 * 0.2 + 0.5 * kernel[2, 1]
    r[2] = round(0.5 * 0.2 / p3, 4)
    sx = (r * x).sum()
    verdicts = _type(browser, {"dens[3,1]": "0.2", "dens[3,2]": f"{kernel[2, 1]:.4f}",
                               "px[3]": f"{p3:.4f}", "r[3,1]": f"{r[2]:.4f}",
                               "sx[1]": f"{sx:.3f}", "mu[1]": f"{sx / r.sum():.3f}"})
    assert verdicts == {"dens[3,1]": "wrong", "dens[3,2]": "right",
                        "px[3]": "follow-through", "r[3,1]": "follow-through",
                        "sx[1]": "follow-through", "mu[1]": "follow-through"}


def test_the_worked_step_is_hidden_until_answered_or_asked_for(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    _fresh(browser, _page(tmp_path, LECTURE))
    new_mean = browser.find_elements(By.XPATH, "//*[local-name()='mn' and text()='2.200']")
    assert new_mean and not any(e.is_displayed() for e in new_mean)
    e_step = browser.find_element(By.CSS_SELECTOR, "section.em-practice[data-section='e']")
    assert e_step.find_element(By.XPATH, "preceding-sibling::*[1]").text.startswith("E-step")
    table = browser.find_elements(By.XPATH, "//main/table[.//*[contains(., 'p(x')]]")
    assert table and not table[0].is_displayed()
    e_step.find_element(By.CSS_SELECTOR, "button[data-action='show']").click()
    assert table[0].is_displayed()
    assert not any(e.is_displayed() for e in new_mean)  # (the M-step's stays hidden)
    m_step = browser.find_element(By.CSS_SELECTOR, "section.em-practice[data-section='m']")
    answers = {f.get_attribute("data-quantity"): "1"
               for f in m_step.find_elements(By.CSS_SELECTOR, "input")}
    _type(browser, answers)  # every answer given: the worked M-step is shown
    assert any(e.is_displayed() for e in new_mean)


def test_answers_are_kept_by_the_browser_and_reset(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    url = _page(tmp_path, LECTURE)
    _fresh(browser, url)
    _type(browser, {"r[2,1]": "1.000"})
    browser.get(url)
    kept = browser.find_element(By.CSS_SELECTOR, "input[data-quantity='r[2,1]']")
    assert kept.get_attribute("value") == "1.000"
    assert browser.find_element(By.CSS_SELECTOR, "[data-verdict-for='r[2,1]']").text == "right"
    browser.find_element(By.XPATH, "//button[text()='Reset my answers']").click()
    browser.get(url)
    kept = browser.find_element(By.CSS_SELECTOR, "input[data-quantity='r[2,1]']")
    assert kept.get_attribute("value") == ""


# Problems of every model, with several iterations shown in full (follow-through across
# iterations: a wrong mean enters the next E-step).
PROBLEMS = {
    "gaussian": {"data": [1, 2, 4.5, 7, 8.5, 9], "components": 2,
                 "init": {"weights": [0.4, 0.6], "means": [2, 8], "variances": [1, 3]},
                 "stop": {"iterations": 2}, "display": {"decimals": 3, "detail": "all"}},
    "lecture": LECTURE,
    "binomial": EXAMPLES / "coins" / "coins.yaml",
    "poisson": EXAMPLES / "poisson" / "poisson.yaml",
    "exponential": EXAMPLES / "waiting" / "waiting.yaml",
    "bernoulli": EXAMPLES / "bernoulli" / "bernoulli.yaml",
    "categorical": {"data": ["red", "blue", "red", "green", "green", "blue", "red"],
                    "components": 2,
                    "model": {"family": "categorical", "categories": ["red", "green", "blue"]},
                    "init": {"weights": [0.4, 0.6],
                             "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
                    "stop": {"iterations": 2}, "display": {"detail": "all"}},
    **{f"plane-{kind}": {
        "data": [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2], [3, 5]], "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
                 "covariances": [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]] if kind == "full"
                 else [[[1, 0], [0, 1]], [[1, 0], [0, 1]]] if kind == "tied"
                 else [[[1, 0], [0, 1]], [[2, 0], [0, 1.5]]] if kind == "diag"
                 else [[[1, 0], [0, 1]], [[2, 0], [0, 2]]]},
        "model": {"covariance_type": kind},
        "stop": {"iterations": 2}, "display": {"detail": "all"}}
        for kind in ("full", "tied", "diag", "spherical")},
}
SETS = 1000  # random answer sets per model


def _answer_sets(problem, names: list[str], rng: random.Random) -> list[dict[str, str]]:
    """Answer sets drawn around the right values: per quantity, none, the key, what the
    set's earlier answers lead to (check's own follow-through calculation), a slip of a
    few per cent, or the key to fewer decimals."""
    rows = grade(problem, [("a", name, "") for name in names])["rows"]
    correct = {name: row["correct"] for name, row in zip(names, rows)}
    start = run(problem).start.params
    d = problem.decimals
    sets = []
    for _ in range(SETS):
        answers: dict[str, str] = {}
        values = {}
        for name in names:
            choice = rng.random()
            if choice < 0.3:
                continue
            q = parse_quantity(name, problem, "a")
            if choice < 0.55:
                value = correct[name]
            elif choice < 0.8:
                value = _Student(problem, values).led_to(q, start)
            elif choice < 0.92:
                value = correct[name] * (1 + rng.choice([-1, 1]) * rng.uniform(0.01, 0.2))
            else:
                value = round(correct[name], max(0, d - 2))
            if not math.isfinite(value):
                continue
            # (mostly at the asked decimals; some with one or two more, as a student
            # copies a density from a calculator)
            text = f"{value:.{d + rng.choice((0, 0, 0, 1, 2))}f}"
            answers[name] = text
            values[q] = float(text)
        sets.append(answers)
    return sets


@pytest.mark.parametrize("model", PROBLEMS)
def test_the_pages_verdicts_are_checks(browser, tmp_path, model):  # noqa: F811
    spec = PROBLEMS[model]
    problem = problem_from(spec) if isinstance(spec, dict) else load_problem(spec)
    _fresh(browser, _page(tmp_path, spec))
    names = [q["name"] for q in practice_data(run(problem))["quantities"]]
    sets = _answer_sets(problem, names, random.Random(model))
    page = browser.execute_script(
        "return arguments[0].map(function (a) { return window.EMPractice.grade(a); });", sets)
    words = {"correct": "right", "follow-through": "follow-through", "wrong": "wrong"}
    statuses = set()
    for answers, verdicts in zip(sets, page):
        if not answers:
            continue
        rows = grade(problem, [("a", name, text) for name, text in answers.items()])["rows"]
        ours = {name: (words[row["status"]], row["mistake"] and row["mistake"]["name"])
                for name, row in zip(answers, rows)}
        theirs = {name: (v["status"], v["mistake"] and v["mistake"]["name"])
                  for name, v in verdicts.items()}
        assert theirs == ours, answers
        statuses |= {v for v, _ in ours.values()}
    assert statuses == {"right", "follow-through", "wrong"}


def _line_shows(q: dict, text: str) -> bool:
    """Whether *text* (a worked line or table row, spaces left out) is the line of
    quantity *q* (the page's data, 1-based): it writes the quantity's own symbol, or
    starts with its point."""
    k, n, entry = q["k"], q["n"], q["entry"]
    point = text.replace("\N{MATHEMATICAL BOLD SMALL X}", "x").startswith(f"x{n}=")
    symbol = {"r": f"r{n},{k}=", "N": f"N{k}=", "pi": f"π{k}", "var": f"σ{k}2",
              "loglik": "log-likelihood", "mu": f"μ{k}"}.get(q["kind"])
    if q["kind"] in ("dens", "px") or (q["kind"] == "r" and point):
        return point
    if q["kind"] in ("sx", "sf", "mu") and (f"rn{k}xn" in text or f"rn{k}Successes" in text):
        return True
    if q["kind"] == "ss":
        return text.startswith(f"S{k}=") or f"rn{k}(xn" in text
    if q["kind"] == "cov":
        return text.startswith((f"Σ{k}=", "Σ=", f"σ{k}2"))
    if symbol is None:  # a family's parameter (a vector's entry), or the sum it divides
        index = f"{k},{entry}" if entry is not None else f"{k}"
        return any(text.startswith(f"{g}{index}new") for g in ("p", "λ", "q"))
    return symbol.lower() in text.lower()


@pytest.mark.parametrize("model", PROBLEMS)
def test_every_answer_has_its_worked_line(browser, tmp_path, model):  # noqa: F811
    """Each quantity of the page has the worked line it is compared with: its own
    equation or its point's table row, in its own section."""
    _fresh(browser, _page(tmp_path, PROBLEMS[model]))
    data = json.loads(browser.execute_script(
        "return document.getElementById('em-practice-data').textContent;"))
    lines = browser.execute_script(
        "return arguments[0].map(function (name) { var el = window.EMPractice.locate(name);"
        " return el ? el.textContent.replace(/\\s+/g, '') : null; });",
        [q["name"] for q in data["quantities"]])
    missing = [q["name"] for q, line in zip(data["quantities"], lines) if line is None]
    assert missing == []
    wrong = [(q["name"], line[:40]) for q, line in zip(data["quantities"], lines)
             if not _line_shows(q, line)]
    assert wrong == []


def test_a_wrong_answer_is_compared_with_its_worked_line(browser, tmp_path):  # noqa: F811
    """A wrong r_31 gets a button that shows the hidden E-step and marks the worked
    equation of r_31 (focused, for a keyboard and a screen reader)."""
    from selenium.webdriver.common.by import By

    _fresh(browser, _page(tmp_path, LECTURE))
    assert _type(browser, {"r[3,1]": "0.6"}) == {"r[3,1]": "wrong"}
    browser.find_element(By.CSS_SELECTOR, "[data-verdict-for='r[3,1]'] button.em-compare"
                         ).click()
    marked = browser.find_elements(By.CSS_SELECTOR, ".em-practice-target")
    assert len(marked) == 1 and marked[0].is_displayed()
    assert marked[0].text.replace(" ", "").replace("\n", "").startswith("r3,1=")
    assert browser.switch_to.active_element == marked[0]
    # A right answer has no such button.
    _type(browser, {"r[3,2]": "0.5"})
    assert not browser.find_elements(By.CSS_SELECTOR,
                                     "[data-verdict-for='r[3,2]'] button.em-compare")


def test_each_named_mistake_is_named_by_the_page_as_by_check(browser, tmp_path):  # noqa: F811
    """The cases of tests/test_mistakes.py typed into the page."""
    import test_mistakes as cases

    _fresh(browser, _page(tmp_path, cases.GAUSS))
    problem = problem_from(cases.GAUSS)
    for quantity, value, name in cases.test_a_gaussian_mistake_is_named.pytestmark[0].args[1]:
        text = f"{value:.6f}"
        page = browser.execute_script("return window.EMPractice.grade(arguments[0]);",
                                      {quantity: text})[quantity]
        row = grade(problem, [("a", quantity, text)])["rows"][0]
        assert row["mistake"]["name"] == name
        assert page == {"status": "wrong", "mistake": {"id": row["mistake"]["id"],
                                                        "name": name,
                                                        "value": pytest.approx(value, abs=1e-4)}}


@pytest.mark.parametrize("spec, quantity, value, name", FAMILY_CASES)
def test_each_family_mistake_is_named_by_the_page_as_by_check(browser, tmp_path, spec,  # noqa: F811
                                                              quantity, value, name):
    """tests/test_mistakes.py's family cases (made there with scipy.stats) typed into
    their pages: the page names check's mistake."""
    _fresh(browser, _page(tmp_path, spec))
    assert _type(browser, {quantity: f"{value:.6f}"}) == {quantity: f"wrong: {name}"}


def test_hostile_title_and_category_names_stay_text(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    evil = "</script><img src=x onerror=\"document.title='pwned'\">&amp;"
    spec = {"title": evil, "data": [evil, "b", evil, "b"], "components": 2,
            "model": {"family": "categorical", "categories": [evil, "b"]},
            "init": {"weights": [0.5, 0.5], "probs": [[0.7, 0.3], [0.4, 0.6]]},
            "stop": {"iterations": 1}}
    _fresh(browser, _page(tmp_path, spec))
    assert browser.title == evil
    assert browser.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
    row = browser.find_element(By.CSS_SELECTOR, "section.em-practice tbody th")
    assert row.text == f"x1 = {evil}"
    verdict = browser.execute_script("return window.EMPractice.grade({'r[1,1]': '0.5'});")
    assert verdict["r[1,1]"]["status"] == "wrong"


def test_practice_mode_passes_axe(browser, tmp_path):  # noqa: F811
    _fresh(browser, _page(tmp_path, LECTURE))
    _type(browser, {"r[1,1]": "0.389", "r[3,1]": "0.500"})
    assert axe_violations(browser) == []


def test_practice_mode_is_for_html_and_one_dimension(tmp_path):
    out = subprocess.run([sys.executable, "-m", "explainer", "solve", str(LECTURE),
                          "--practice", "-o", str(tmp_path / "a.md")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert out.stderr == ("error: --practice: practice mode is a feature of the HTML page, "
                          "but the format is md\n")
    space = problem_from({"data": [[0, 0, 0], [1, 0, 1], [4, 4, 4], [5, 4, 4]],
                          "components": 2, "init": {
                              "weights": [0.5, 0.5], "means": [[0, 0, 0], [4, 4, 4]],
                              "covariances": [np.eye(3).tolist(), np.eye(3).tolist()]}})
    with pytest.raises(ProblemError, match="in one dimension or in the plane, not in 3"):
        practice_data(run(space))


def test_a_rounding_slip_the_wrong_way_is_named_by_the_page_as_by_check(browser, tmp_path):  # noqa: F811
    """Where the key alone is accepted (grading.carry: full), the other neighbour at the
    asked decimals is a rounding slip, for a negative log-likelihood too."""
    import test_mistakes as cases

    spec = {**cases.GAUSS, "grading": {"carry": "full"}}
    _fresh(browser, _page(tmp_path, spec))
    problem = problem_from(spec)
    loglik = float(np.log(cases.P).sum())
    for quantity, value in (("loglik", loglik), ("mu[1]", float(cases.MU_NEW[0]))):
        scaled = value * 1e4
        other = (math.floor(scaled) if scaled - math.floor(scaled) >= 0.5
                 else math.ceil(scaled)) / 1e4
        text = f"{other:.4f}"
        row = grade(problem, [("a", quantity, text)])["rows"][0]
        page = browser.execute_script("return window.EMPractice.grade(arguments[0]);",
                                      {quantity: text})[quantity]
        assert row["mistake"]["name"] == page["mistake"]["name"] == "a rounding slip"


def test_the_pages_roundings_are_checks(browser, tmp_path):  # noqa: F811
    """The catalogue's roundings in the page (BigInt decimals) against Python's: half
    away from zero with two significant digits kept for a tiny value (check's
    round_half_up), and down and up at the decimals, on values of every size and sign."""
    from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

    from explainer.backend import round_half_up

    _fresh(browser, _page(tmp_path, LECTURE))
    rng = random.Random(7)
    values = [rng.choice([-1, 1]) * rng.uniform(0, 10) * 10.0 ** rng.randint(-9, 6)
              for _ in range(3000)] + [0.00049, -0.0005, 0.0005, 2.675, -2.675, 0.000996]
    cases = [(v, rng.randint(0, 6), how) for v in values for how in ("round", "down", "up")]
    page = browser.execute_script(
        "return arguments[0].map(function (c) { return window.EMPractice.round(c[0], c[1], c[2]); });",
        cases)
    for (value, d, how), theirs in zip(cases, page):
        exact = Decimal(f"{value:.15g}")
        ours = (round_half_up(value, d) if how == "round" else float(exact.quantize(
            Decimal(1).scaleb(-d), rounding=ROUND_FLOOR if how == "down" else ROUND_CEILING)))
        assert theirs == ours, (value, d, how)


def test_the_api_writes_the_practice_page():
    import explainer

    trace = explainer.solve(str(LECTURE))
    page = trace.to_html(practice=True, plots=False)
    assert page.count('<section class="em-practice"') == 2
    assert page.count("data-quantity=") == 34
    with pytest.raises(ValueError, match="whole page"):
        trace.to_html(practice=True, part="estep")
    assert "em-practice" not in trace.to_html(plots=False)


def test_a_problem_too_big_to_work_by_hand_has_no_practice_page(tmp_path):
    out = subprocess.run([sys.executable, "-m", "explainer", "solve", "--data",
                          ",".join(str(v) for v in range(40)), "--k", "2", "--init-method",
                          "kmeans", "--practice",
                          "-o", str(tmp_path / "a.html")],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert out.stderr == ("error: --practice: practice mode is for a problem worked by hand: "
                          "at most 30 points, but this one has 40\n")


def test_the_verdict_is_read_out_and_alt_h_shows_the_worked_step(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _fresh(browser, _page(tmp_path, LECTURE))
    _type(browser, {"r[1,1]": f"{0.5 * math.exp(-0.25):.3f}"})
    live = browser.find_element(By.CSS_SELECTOR, ".em-practice-live")
    assert live.get_attribute("role") == "status"
    assert live.get_attribute("textContent") == (
        "r 1,1: wrong: forgot to normalise. Practice: 0 right, 0 follow-through, 1 wrong, "
        "of 34.")
    table = browser.find_elements(By.XPATH, "//main/table[.//*[contains(., 'p(x')]]")
    assert not table[0].is_displayed()
    field = browser.find_element(By.CSS_SELECTOR, "input[data-quantity='r[2,1]']")
    field.send_keys(Keys.ALT, "h")
    assert table[0].is_displayed()


def test_an_exam_writes_a_practice_page_per_variant_that_its_key_passes(browser, tmp_path):  # noqa: F811
    import csv

    out = tmp_path / "exam"
    subprocess.run([sys.executable, "-m", "explainer", "exam", str(EXAMPLES / "exam" / "exam.yaml"),
                    "-n", "2", "--format", "html", "-o", str(out), "-q"], check=True)
    for number in (1, 2):
        folder = out / f"variant-00{number}"
        assert sorted(p.name for p in folder.iterdir()) == [
            "key.md", "practice.html", "problem.yaml", "question.md"]
        _fresh(browser, (folder / "practice.html").as_uri())
        decimals = load_problem(folder / "problem.yaml").decimals
        with open(out / "answers.csv", encoding="utf-8") as rows:
            key = {row["quantity"].removeprefix("it1."): f"{float(row['value']):.{decimals}f}"
                   for row in csv.DictReader(rows) if row["variant"] == str(number)}
        on_page = set(browser.execute_script(
            "return Array.prototype.map.call(document.querySelectorAll('input[data-quantity]'),"
            " function (i) { return i.getAttribute('data-quantity'); });"))
        asked = {name: text for name, text in key.items() if name in on_page}
        assert len(asked) >= 10
        verdicts = browser.execute_script("return window.EMPractice.grade(arguments[0]);", asked)
        assert {v["status"] for v in verdicts.values()} == {"right"}


def test_the_page_grades_with_the_network_off(browser, tmp_path):  # noqa: F811
    """Everything the page needs is inside it: it fetches nothing, and with the browser
    offline it still grades."""
    url = _page(tmp_path, EXAMPLES / "coins" / "coins.yaml")
    browser.set_network_conditions(offline=True, latency=0, download_throughput=0,
                                   upload_throughput=0)
    try:
        _fresh(browser, url)
        assert browser.execute_script(
            "return performance.getEntriesByType('resource').length;") == 0
        # Set 1, 5 heads of 10: C(10, 5) and the equal weights cancel in r_{1,1}.
        a, b = 0.6 ** 5 * 0.4 ** 5, 0.5 ** 10
        assert _type(browser, {"r[1,1]": f"{a / (a + b):.3f}"}) == {"r[1,1]": "right"}
    finally:
        browser.delete_network_conditions()


def test_answers_at_full_precision_and_carried_are_right(browser, tmp_path):  # noqa: F811
    """The lecture's mu_1 is 2.200 at full precision and 2.201 when every intermediate is
    rounded to 3 decimals (the rounded carry, written out in tests/test_hand_calculation.py):
    both are right, as check accepts both; 2.203 is neither."""
    _fresh(browser, _page(tmp_path, LECTURE))
    assert _type(browser, {"mu[1]": "2.200"}) == {"mu[1]": "right"}
    assert _type(browser, {"mu[1]": "2.201"}) == {"mu[1]": "right"}
    assert _type(browser, {"mu[1]": "2.203"}) == {"mu[1]": "wrong"}


# --------------------------------------------------------------------------- typed whole

def _e_answers(loglik, dens, px, r) -> dict:
    """An E-step's answers by the page's names: the log-likelihood, each density, p(x_n)
    and r_nk (rows of points, 1-based in the names)."""
    points, components = range(len(px)), range(len(dens[0]))
    answers = {"loglik": loglik}
    answers.update({f"dens[{n + 1},{k + 1}]": dens[n][k] for n in points for k in components})
    answers.update({f"px[{n + 1}]": px[n] for n in points})
    answers.update({f"r[{n + 1},{k + 1}]": r[n][k] for n in points for k in components})
    return answers


def _lecture_values(slip: float | None = None) -> tuple[dict, dict]:
    """The lecture's first iteration at full precision (scipy.stats and numpy) and as
    the rounded carry (tests/handcalc.py, exact fractions); with *slip*, r_31 typed as
    that and everything after it at full precision from it."""
    from fractions import Fraction

    import handcalc
    from scipy import stats

    x, mu, pi = np.array([1, 2, 5, 8, 9.0]), np.array([2.0, 8.0]), np.array([0.5, 0.5])
    dens = np.exp(-(x[:, None] - mu) ** 2 / 4)  # (the kernel drops the constant)
    px = dens @ pi
    r = dens * pi / px[:, None]
    if slip is not None:
        r[2] = [slip, 1 - slip]
    nk = r.sum(axis=0)
    full = _e_answers(np.log(stats.norm.pdf(x[:, None], mu, math.sqrt(2)) @ pi).sum(), dens,
                      px, r)
    for k in range(2):
        full.update({f"N[{k + 1}]": nk[k], f"pi[{k + 1}]": nk[k] / 5,
                     f"sx[{k + 1}]": r[:, k] @ x, f"mu[{k + 1}]": r[:, k] @ x / nk[k]})
    F = Fraction
    problem = handcalc.Problem([F(v) for v in (1, 2, 5, 8, 9)], [F(1, 2)] * 2, [F(2), F(8)],
                               [F(2), F(2)], 3, "proportional", {"weights", "means"})
    e = handcalc.e_step(problem, problem.weights, problem.means, problem.variances)
    m = handcalc.m_step(problem, e, problem.weights, problem.means, problem.variances)
    carried = _e_answers(e.log_likelihood, e.density, e.mixture, e.resp)
    for k in range(2):
        carried.update({f"N[{k + 1}]": m.nk[k], f"pi[{k + 1}]": m.weights[k],
                        f"sx[{k + 1}]": m.sum_rx[k], f"mu[{k + 1}]": m.means[k]})
    return full, carried


def _coins_values(slip: float | None = None) -> tuple[dict, dict]:
    """The coin example's first iteration at full precision (scipy.stats) and as the
    rounded carry written out here with fractions (each density, p(x_n), r_nk, each
    point's expected successes and failures, their sums, p_k = S / (S + F), each carried
    to 3 decimals as the page's rule says: tests/handcalc.py's carry)."""
    from fractions import Fraction

    from handcalc import carry, log
    from scipy import stats

    heads, p, pi = np.array([5, 9, 8, 4, 7]), np.array([0.6, 0.5]), np.array([0.5, 0.5])
    dens = stats.binom.pmf(heads[:, None], 10, p)
    px = dens @ pi
    r = dens * pi / px[:, None]
    if slip is not None:
        r[0] = [slip, 1 - slip]
    full = _e_answers(np.log(px).sum(), dens, px, r)
    for k in range(2):
        s, f = r[:, k] @ heads, r[:, k] @ (10 - heads)
        full.update({f"N[{k + 1}]": r[:, k].sum(), f"sx[{k + 1}]": s, f"sf[{k + 1}]": f,
                     f"p[{k + 1}]": s / (s + f)})

    def R(value):  # (each written value carried, as the page's rule says)
        return carry(value, 3)

    q = [Fraction(3, 5), Fraction(1, 2)]
    cd = [[R(math.comb(10, h) * q[k] ** h * (1 - q[k]) ** (10 - h)) for k in range(2)]
          for h in heads.tolist()]
    cpx = [R(sum(Fraction(1, 2) * v for v in row)) for row in cd]
    cr = [[R(Fraction(1, 2) * row[k] / m) for k in range(2)] for row, m in zip(cd, cpx)]
    carried = _e_answers(R(sum(R(log(m)) for m in cpx)), cd, cpx, cr)
    for k in range(2):
        s = R(sum(R(cr[n][k] * h) for n, h in enumerate(heads.tolist())))
        f = R(sum(R(cr[n][k] * (10 - h)) for n, h in enumerate(heads.tolist())))
        carried.update({f"N[{k + 1}]": R(sum(row[k] for row in cr)), f"sx[{k + 1}]": s,
                        f"sf[{k + 1}]": f, f"p[{k + 1}]": R(s / (s + f))})
    return full, carried


def _plane_values(slip: float | None = None) -> tuple[dict, dict]:
    """The hand-2d example's first iteration at full precision (scipy's multivariate
    normal) and as the rounded carry (tests/test_hand_calculation.py's hand_2d, exact
    fractions); with *slip*, r_61 typed as that."""
    from scipy import stats
    from test_hand_calculation import hand_2d

    x = np.array([[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]], dtype=float)
    means = [np.array([0.0, 0.0]), np.array([4.0, 4.0])]
    covs = [np.eye(2), np.array([[1, 0.5], [0.5, 1]])]
    dens = np.column_stack([stats.multivariate_normal(means[k], covs[k]).pdf(x)
                            for k in range(2)])
    px = dens @ [0.5, 0.5]
    r = dens * 0.5 / px[:, None]
    if slip is not None:
        r[5] = [slip, 1 - slip]
    full = _e_answers(np.log(px).sum(), dens, px, r)
    upper = ((0, 0), (0, 1), (1, 1))
    for k in range(2):
        nk = r[:, k].sum()
        sx = r[:, k] @ x
        dev = x - sx / nk
        scatter = (r[:, k, None] * dev).T @ dev
        full.update({f"N[{k + 1}]": nk, f"pi[{k + 1}]": nk / 6})
        full.update({f"{name}[{k + 1}][{i + 1}]": v[i] for i in range(2)
                     for name, v in (("sx", sx), ("mu", sx / nk))})
        full.update({f"{name}[{k + 1}][{i + 1},{j + 1}]": v[i, j] for i, j in upper
                     for name, v in (("ss", scatter), ("cov", scatter / nk))})
    hand = hand_2d(x.tolist(), [0.5, 0.5], [m.tolist() for m in means],
                   [c.tolist() for c in covs], 3, 1)[0]
    rows = hand["rows"]
    carried = _e_answers(hand["log_likelihood"], [row["density"] for row in rows],
                         [row["mixture"] for row in rows], [row["resp"] for row in rows])
    for k in range(2):
        carried.update({f"N[{k + 1}]": hand["nk"][k], f"pi[{k + 1}]": hand["weights"][k]})
        carried.update({f"{name}[{k + 1}][{i + 1}]": hand[key][k][i] for i in range(2)
                        for name, key in (("sx", "sum_rx"), ("mu", "means"))})
        carried.update({f"{name}[{k + 1}][{i + 1},{j + 1}]": hand[key][k][i][j]
                        for i, j in upper for name, key in (("ss", "scatter"),
                                                            ("cov", "covs"))})
    return full, carried


TYPED = {"lecture": (LECTURE, _lecture_values, "r[3,1]"),
         "coins": (EXAMPLES / "coins" / "coins.yaml", _coins_values, "r[1,1]"),
         "plane": (EXAMPLES / "hand-2d" / "hand-2d.yaml", _plane_values, "r[6,1]")}


@pytest.mark.parametrize("name", TYPED)
def test_typed_answers_full_and_carried_are_right_and_a_slip_is_followed(
        browser, tmp_path, name):  # noqa: F811
    """Every quantity of the first iteration typed into the page as a student does:
    at full precision, then as the rounded carry (both worked out here, not by the
    package), each right; then a slipped r_n1 with r_n2 = 1 - it and the M-step from
    them: one wrong, the rest follow-through."""
    spec, values, slipped = TYPED[name]
    url = _page(tmp_path, spec)
    _fresh(browser, url)
    data = json.loads(browser.execute_script(
        "return document.getElementById('em-practice-data').textContent;"))
    first = [q["name"] for q in data["quantities"] if q["iteration"] == 1]
    full, carried = values()
    assert set(full) == set(first) == set(carried)
    for answers in (full, carried):
        _fresh(browser, url)
        typed = _type(browser, {q: f"{float(v):.3f}" for q, v in answers.items()})
        assert {q: v for q, v in typed.items() if v != "right"} == {}
    _fresh(browser, url)
    wrong = round(full[slipped] + 0.1, 3)
    after, _ = values(wrong)
    later = {q: f"{v:.3f}" for q, v in after.items() if q.split("[")[0] in
             ("N", "pi", "sx", "sf", "mu", "ss", "cov", "p")}
    point = slipped.split(",")[0]
    typed = _type(browser, {slipped: f"{wrong:.3f}", f"{point},2]": f"{1 - wrong:.3f}",
                            **later})
    assert typed.pop(slipped) == "wrong"
    assert set(typed.values()) == {"follow-through"}, typed
