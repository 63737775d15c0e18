"""Rounded carry is the hand calculation: an independent calculation from the page's
written values (tests/handcalc.py: exact fractions, mpmath) reproduces every number the
page prints; rows, convergence and the comparison with full precision are told truly."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, given_spec, lecture_spec
from eqcheck import check_markdown
from handcalc import OutOfRange, compare, numbers

from explainer.engine import run
from explainer.problem import load_problem, validate
from explainer.render.markdown import render_markdown


def hand(spec: dict) -> dict:
    spec = dict(spec)
    spec["display"] = {"detail": "all", **spec.get("display", {}), "carry": "rounded"}
    return spec


MML = {**given_spec([-3, -2.5, -1, 0, 2, 4, 5], [1, 1, 1], [-4, 0, 8], [1, 0.2, 3],
                    iterations=3),
       "init": {"weights": ["1/3"] * 3, "means": [-4, 0, 8], "variances": [1, 0.2, 3]}}
PROBLEMS = {
    # Mathematics for Machine Learning, ch. 11 (weights of 1/3, used as written).
    "mml": hand(MML),
    "mml-2-decimals": hand({**MML, "display": {"decimals": 2}}),
    "lecture": hand(lecture_spec(stop={"iterations": 3})),
    "lecture-normalized": hand(lecture_spec(model={"kernel": "normalized"},
                                            stop={"iterations": 2})),
    # Tiny densities (two significant digits carried) and 4 decimals.
    "far": hand(given_spec([0, 1, 2, 10, 11, 30], [0.25, 0.75], [1, 11], [1, 4],
                           iterations=2, display={"decimals": 4})),
}


def assert_hand(page: str, at_least: int) -> None:
    result = compare(page)
    assert result.differences == [], result.differences[:5]
    assert result.checked >= at_least
    assert check_markdown(page).failures == []


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_a_hand_calculation_reproduces_every_number_of_the_page(name):
    trace = run(validate(PROBLEMS[name]))
    assert_hand(render_markdown(trace), 50)


def test_the_hand_example_is_the_hand_calculation():
    trace = run(load_problem(EXAMPLES / "hand" / "hand.yaml"))
    assert_hand(render_markdown(trace), 150)


def test_the_checker_finds_a_changed_number():
    page = render_markdown(run(validate(PROBLEMS["mml"])))
    changed = page.replace("-27.855", "-27.854", 1)
    assert changed != page
    assert compare(changed).differences != []


@st.composite
def classroom(draw):
    """A problem as set in class: a few points at halves, 2 or 3 components, given
    parameters (weights as fractions 1/K or tenths), 2 to 4 decimals, a few iterations."""
    k = draw(st.integers(2, 3))
    n = draw(st.integers(k + 1, 7))
    half = st.integers(-12, 24).map(lambda v: v / 2)
    data = sorted(draw(half) for _ in range(n))
    means = sorted(draw(half) for _ in range(k))
    variances = [draw(st.sampled_from([0.5, 1, 1.5, 2, 3, 4])) for _ in range(k)]
    if draw(st.booleans()):
        weights: list = [f"1/{k}"] * k
    else:
        cuts = sorted(draw(st.lists(st.integers(1, 9), min_size=k - 1, max_size=k - 1,
                                    unique=True)))
        weights = [(b - a) / 10 for a, b in zip([0, *cuts], [*cuts, 10])]
    kernel = draw(st.sampled_from(["normalized", "proportional"]))
    update = draw(st.sampled_from([["weights", "means", "variances"], ["weights", "means"],
                                   ["means"], ["means", "variances"]]))
    if kernel == "proportional":
        variances = [variances[0]] * k
        update = [u for u in update if u != "variances"]
    return {"data": data, "components": k,
            "init": {"weights": weights, "means": means, "variances": variances},
            "model": {"kernel": kernel, "update": update},
            "stop": {"iterations": draw(st.integers(1, 3))},
            "display": {"decimals": draw(st.integers(2, 4)), "detail": "all",
                        "carry": "rounded"}}


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(classroom())
def test_a_hand_calculation_reproduces_every_number_of_any_classroom_problem(spec):
    trace = run(validate(spec))
    # Collapses and floors follow rules of their own, said on the page.
    assume(not trace.events)
    try:
        assert_hand(render_markdown(trace), 20)
    except OutOfRange:  # a component collapsing onto a point: densities of 10^-2000
        assume(False)


# --------------------------------------------------------------------------- sentences

def _row_sentences(page: str):
    """Each responsibility table's sentence about its rows, and its rows' printed sums."""
    for part in page.split("Here are the responsibilities of all points (")[1:]:
        sentence = part.split("):")[0]
        table = part.split("\n\n")[1]
        sums = []
        for line in table.splitlines()[2:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            sums.append(sum(numbers(c)[-1] for c in cells[1:]))
        yield sentence, sums


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(classroom())
def test_rows_are_said_to_sum_to_1_only_when_they_do(spec):
    trace = run(validate(spec))
    assume(not trace.events)
    page = render_markdown(trace)
    decimals = spec["display"]["decimals"]
    for sentence, sums in _row_sentences(page):
        if "each row sums to 1" in sentence:
            assert all(s == 1 for s in sums), (sentence, sums)
            continue
        said = numbers(sentence.rsplit(" at ", 1)[0])
        quantum = Fraction(1, 10 ** decimals)
        rounded = [round(s / quantum) * quantum for s in sums]  # no exact ties here
        assert min(rounded) == said[0] and max(rounded) == said[-1], (sentence, sums)
        assert "not always to exactly 1" in sentence


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(classroom(), st.sampled_from([1e-3, 1e-2]))
def test_a_falling_log_likelihood_is_never_called_convergence(spec, tol):
    spec = {**spec, "stop": {"iterations": 25, "tol": tol},
            "display": {**spec["display"], "decimals": 2, "detail": "all"}}
    trace = run(validate(spec))
    page = render_markdown(trace)
    for text in page.split("**Log-likelihood**")[1:]:
        line = text.split("\n")[0]
        before, after = numbers(re.search(r"\$: \$(.*?) \\rightarrow (.*?)\$", line).group(0))
        if after < before:
            assert "fall" in line and "converged" not in line, line
    if trace.converged:
        last = trace.iterations[-1]
        assert 0 <= last.log_likelihood_after - last.log_likelihood + 1e-12
    # The full-precision run compared with it ran as many iterations.
    assert len(trace.full.iterations) == len(trace.iterations)


def test_a_fall_of_the_hand_log_likelihood_goes_on_and_is_explained(tmp_path):
    """Two decimals on the MML problem: the hand log-likelihood falls at some iteration;
    EM goes on (a fall is no convergence) and the page says where the fall comes from."""
    spec = {**MML, "stop": {"iterations": 30, "tol": 0.001},
            "display": {"decimals": 2, "detail": "all", "carry": "rounded"}}
    trace = run(validate(spec))
    falls = [it for it in trace.iterations if it.gain < -1e-9]
    assert falls, "the problem no longer shows a fall: choose another"
    assert all(it.index < len(trace.iterations) or not trace.converged for it in falls)
    page = render_markdown(trace)
    assert "rounded intermediates of the hand calculation" in page
    # The figure of the log-likelihood says where its curve falls.
    trace.write(tmp_path / "fall.md", plots=True)
    assert ("EM never decreases it: where the curve falls, the rounded intermediates of "
            "the hand calculation did that.") in (tmp_path / "fall.md").read_text()
