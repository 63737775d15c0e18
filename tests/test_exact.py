"""Exact values (SymPy) and the rounded carry of a hand calculation.

Expected values are recomputed here from the formulas, never copied from the tool.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ROOT, lecture_spec
from explainer import defaults
from explainer.backend import RoundedBackend, round_half_up
from explainer.api import run
from explainer.errors import ProblemError
from explainer.exact import parse_exact
from explainer.validation import validate
from explainer.render.json import render_json
from explainer.render.json_reader import trace_from_json
from explainer.render.markdown import render_markdown
from explainer.api import spec_of

HERE = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, input=stdin, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def evaluated(text: str) -> float:
    """An exact value from the JSON trace, read by SymPy itself, to 50 digits."""
    return float(sp.sympify(text).evalf(50))


def close(exact: float, value: float) -> bool:
    return math.isclose(exact, value, rel_tol=1e-12, abs_tol=1e-300)


# --------------------------------------------------------------------------- agreement

@st.composite
def small_problems(draw):
    """Hand-sized problems: integer or one-decimal data, fractions as starting values."""
    k = draw(st.integers(1, 3))
    n = draw(st.integers(k, 5))
    tenths = draw(st.booleans())
    data = [draw(st.integers(-30, 30)) / (10 if tenths else 1) for _ in range(n)]
    parts = [draw(st.integers(1, 4)) for _ in range(k)]
    weights = [f"{p}/{sum(parts)}" for p in parts]
    means = [draw(st.integers(-3, 3)) for _ in range(k)]
    variances = [draw(st.sampled_from(["1/2", "1", "2", "3/2", "4"])) for _ in range(k)]
    update = draw(st.sampled_from([["weights", "means", "variances"], ["weights", "means"],
                                   ["means"]]))
    return {"data": data, "components": k,
            "init": {"weights": weights, "means": means, "variances": variances},
            "model": {"update": update}, "stop": {"iterations": draw(st.integers(1, 2))},
            "display": {"exact": True, "detail": "all"}}


@settings(max_examples=15, **HERE)
@given(small_problems())
def test_every_exact_value_agrees_with_the_float_trace(spec):
    """Each exact value of the JSON trace, evaluated by SymPy to 50 digits, is the float
    trace's value to 1e-12 relative."""
    data = json.loads(run(validate(spec)).to_json())
    reached = data["exact"]["iterations"]
    for item in data["iterations"][:reached]:
        exact = item["exact"]
        for key in ("N_k", "weights", "means", "variances", "sum_rx", "sum_rsq"):
            for text, value in zip(exact[key], item[key]):
                assert close(evaluated(text), value), (key, text, value)
        for row, values in zip(exact["responsibilities"], item["responsibilities"]):
            for text, value in zip(row, values):
                assert close(evaluated(text), value), ("responsibilities", text, value)
    for item in data["iterations"][reached:]:
        assert "exact" not in item


@pytest.mark.parametrize("method", ["random_points", "kmeans"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_starts_are_the_same_points_exactly(method, seed):
    spec = {"data": [9, 1, 5, 2.5, 8, 2.5, 4], "components": 3, "init_method": method,
            "seed": seed, "display": {"exact": True}}
    data = json.loads(run(validate(spec)).to_json())
    for name in ("weights", "means", "variances"):
        for text, value in zip(data["exact"]["start"][name], data["start"][name]):
            assert close(evaluated(text), value), (name, text, value)
    if data["exact"]["iterations"]:
        for text, value in zip(data["iterations"][0]["exact"]["means"],
                               data["iterations"][0]["means"]):
            assert close(evaluated(text), value)


def test_the_lecture_example_exactly():
    """r_3k = 1/2, N_1 = N_2 = 5/2, and mu_1 in closed form: the weighted mean with
    r_n1 = 1 / (1 + exp(((x_n - 2)^2 - (x_n - 8)^2) / 4)) (equal priors and variances)."""
    trace = run(validate(lecture_spec(display={"exact": True})))
    assert trace.exact is not None and trace.exact_budget is None
    iteration = trace.exact.iterations[0]
    resp = iteration.estep.detail.resp
    assert resp[2, 0] == sp.Rational(1, 2) and resp[2, 1] == sp.Rational(1, 2)
    assert list(iteration.mstep.nk) == [sp.Rational(5, 2), sp.Rational(5, 2)]
    assert list(iteration.mstep.params.weights) == [sp.Rational(1, 2), sp.Rational(1, 2)]
    x = [1, 2, 5, 8, 9]
    r1 = [1 / (1 + sp.exp(sp.Rational((xn - 2) ** 2 - (xn - 8) ** 2, 4))) for xn in x]
    assert r1[0] == 1 / (1 + sp.exp(-12))
    mu1 = sum(r * xn for r, xn in zip(r1, x)) / sum(r1)
    assert sp.simplify(iteration.mstep.params.means[0] - mu1) == 0
    assert abs(float(mu1) - float(trace.iterations[0].mstep.params.means[0])) < 1e-12
    text = render_markdown(trace)
    assert r"\frac{e^{- \frac{1}{4}}}{e^{- \frac{1}{4}} + e^{- \frac{49}{4}}}" in text
    assert r"\frac{1}{1 + e^{-12}}" in text
    assert "N_{1} = \\frac{5}{2} \\approx 2.500" in text
    assert r"r_{3,1} = \frac{e^{- \frac{9}{4}}}{e^{- \frac{9}{4}} + e^{- \frac{9}{4}}} = " \
           r"\frac{1}{2} = 0.500" in text


def test_normalized_kernel_keeps_pi_and_square_roots():
    trace = run(validate({"data": [0, 1], "init": {"weights": ["1/3", "2/3"], "means": [0, 1],
                                                 "variances": [1, 2]},
                          "display": {"exact": True}}))
    detail = trace.exact.iterations[0].estep.detail
    # N(0 | 0, 1) = 1/sqrt(2 pi); N(0 | 1, 2) = exp(-1/4) / (2 sqrt(pi))
    assert sp.simplify(detail.density[0, 0] - 1 / sp.sqrt(2 * sp.pi)) == 0
    quarter = sp.exp(sp.Rational(-1, 4))
    assert sp.simplify(detail.density[0, 1] - quarter / (2 * sp.sqrt(sp.pi))) == 0
    # r_11 = (1/3) N_11 / ((1/3) N_11 + (2/3) N_12): the pi's cancel to 1 / (1 + sqrt(2) e^{-1/4})
    expected = 1 / (1 + sp.sqrt(2) * sp.exp(sp.Rational(-1, 4)))
    assert sp.simplify(detail.resp[0, 0] - expected) == 0
    assert math.isclose(float(expected), trace.iterations[0].estep.detail.resp[0, 0],
                        rel_tol=1e-12)


def test_decimals_are_read_as_the_fractions_written():
    problem = validate({"data": [0.1, "2/3", "1e-1"], "init": {"weights": [1], "means": [0.5],
                                                             "variances": ["0.25"]},
                        "display": {"exact": True}})
    assert problem.exact_inputs.data == (sp.Rational(1, 10), sp.Rational(2, 3),
                                         sp.Rational(1, 10))
    assert problem.exact_inputs.variances == (sp.Rational(1, 4),)
    assert spec_of(problem)["data"] == ["1/10", "2/3", "1/10"]


# --------------------------------------------------------------------------- budget

def test_the_timer_interrupting_the_parser_is_the_budget_not_an_internal_fault():
    """The budget's timer can fire inside ast.parse (reading back an exact value), which
    CPython reports as a SystemError ('AST constructor recursion depth mismatch'): past
    the deadline that is the budget spent; before it, a fault."""
    from explainer.backend import BudgetExceeded
    from explainer.exact import ExactBackend

    backend = ExactBackend(seconds=0.01)
    time.sleep(0.02)
    with pytest.raises(BudgetExceeded, match="time: more than 0.01 s"):
        with backend.enforced():
            raise SystemError("AST constructor recursion depth mismatch (before=147, after=140)")
    with pytest.raises(SystemError):
        with ExactBackend(seconds=60).enforced():
            raise SystemError("a fault of our own")


def test_the_budget_stops_exact_arithmetic_and_the_document_says_so(monkeypatch):
    monkeypatch.setattr(defaults, "EXACT_MAX_WORK", 300)
    spec = lecture_spec(stop={"iterations": 3}, display={"exact": True, "detail": "all"})
    trace = run(validate(spec))
    assert trace.exact is not None and 1 <= len(trace.exact.iterations) < 3
    assert trace.exact_budget.startswith("size")
    text = render_markdown(trace)
    assert "would go past the budget of exact arithmetic" in text
    assert "Exact values stop here" in text
    assert len(trace.iterations) == 3  # the decimals go on
    # The JSON's exact.final is for an E-step-only question, as the schema says; a run
    # stopped by its budget has no exact final E-step (it used to hold iteration 2's).
    assert json.loads(render_json(trace))["exact"]["final"] is None
    single = run(validate(lecture_spec(stop={"iterations": 0}, display={"exact": True})))
    assert json.loads(render_json(single))["exact"]["final"]["means"] == ["2", "8"]


def test_no_input_runs_away():
    """Twenty iterations on awkward numbers: the budget ends exact arithmetic in time, and
    no printed exact form is longer than a line."""
    spec = {"data": [0.13, 1.7, 2.9, 3.31, 5.5, 6.25, 7.1, 8.8, 9.05, 11.2], "components": 3,
            "init": {"weights": ["1/7", "2/7", "4/7"], "means": [1.1, 5.3, 9.7],
                     "variances": [0.7, 1.3, 2.9]},
            "stop": {"iterations": 20}, "display": {"exact": True, "detail": "all"}}
    started = time.monotonic()
    trace = run(validate(spec))
    text = render_markdown(trace)
    assert time.monotonic() - started < 30
    assert trace.exact_budget is not None
    longest = max(len(line) for line in text.splitlines() if "e^{" in line)
    assert longest < 2000


# --------------------------------------------------------------------------- rounded carry

def hand(value: Decimal, places: int = 3) -> Decimal:
    """A calculator's rounding: half away from zero; a value that would round to 0 keeps
    two significant digits."""
    if value != 0 and abs(value) < Decimal("0.0005"):
        return Decimal(f"{value:.1e}")
    return value.quantize(Decimal(10) ** -places, rounding=ROUND_HALF_UP)


def test_rounded_carry_is_the_hand_calculation():
    """The lecture example worked by hand with three decimals, written out step by step."""
    x = [Decimal(v) for v in (1, 2, 5, 8, 9)]
    e = lambda v: hand(Decimal(math.exp(float(v))))  # noqa: E731 (a calculator's exp key)
    n1 = [e(hand(-(xn - 2) ** 2 / 4)) for xn in x]
    n2 = [e(hand(-(xn - 8) ** 2 / 4)) for xn in x]
    p = [hand(Decimal("0.5") * a + Decimal("0.5") * b) for a, b in zip(n1, n2)]
    r1 = [hand(Decimal("0.5") * a / pn) for a, pn in zip(n1, p)]
    nk1 = hand(sum(r1))
    mu1 = hand(hand(sum(r * xn for r, xn in zip(r1, x))) / nk1)
    assert (p[0], r1[0], nk1, mu1) == (Decimal("0.390"), Decimal("0.999"), Decimal("2.499"),
                                       Decimal("2.201"))
    trace = run(validate(lecture_spec(display={"carry": "rounded"})))
    it = trace.iterations[0]
    assert [Decimal(repr(float(v))) for v in it.estep.detail.resp[:, 0]] == r1
    assert Decimal(repr(float(it.mstep.nk[0]))) == nk1
    assert Decimal(repr(float(it.mstep.params.means[0]))) == mu1
    full = trace.full.iterations[0].mstep.params.means[0]
    assert round(full, 3) == 2.2  # rounding changed the third decimal of the mean
    text = render_markdown(trace)
    assert "| $\\mu_{1}$ | $2.201$ | $2.200$ |" in text
    assert "With full precision instead of rounded intermediates: $2.200$ (the rounded " \
           "carry gives $2.201$" in text


@settings(max_examples=30, **HERE)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20),
       st.integers(0, 6))
@example(values=[0.5], decimals=0)
@example(values=[-0.05, 0.0005], decimals=1)
def test_carried_values_are_what_the_document_prints(values, decimals):
    from explainer.render.filters import format_fixed

    carried = RoundedBackend(decimals).carry(np.array(values))
    half = Decimal(5).scaleb(-decimals - 1)
    for value, kept in zip(values, carried):
        if abs(Decimal(repr(value))) == half:
            # Exactly half a unit is kept as it is (what a tiny value carried with two
            # digits can become: carrying it again changes nothing), printed 5.0 x 10^-d-1.
            assert kept == value
        elif kept == 0 or abs(kept) >= 0.5 * 10 ** -decimals:
            assert format_fixed(kept, decimals) == format_fixed(round_half_up(value, decimals),
                                                                decimals)
            assert float(format_fixed(kept, decimals)) == kept  # on the printed grid


def test_ties_round_as_on_paper():
    # 0.5 * 0.209 = 0.1045 on paper, 0.10449999999999999 in binary: paper rounds up.
    assert round_half_up(0.5 * 0.209, 3) == 0.105
    assert round_half_up(-0.5625, 3) == -0.563
    assert round_half_up(4.8e-6, 3) == 4.8e-6


# --------------------------------------------------------------------------- safety

@pytest.mark.parametrize("bad", ["__import__('os').system('true')", "1/0", "exp(1)",
                                 "lambda: 1", "2**1000"])
def test_number_strings_are_never_evaluated(bad):
    result = cli("solve", "--data", f"1,{bad},3", "--k", "1", "--exact")
    assert result.returncode == 2
    assert result.stderr.startswith("error: data")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", ["__import__('os').system('true')", "(lambda: 1)()",
                                 "x.__class__", "2**(10**10)", "exp(1)**100000", "1e5",
                                 "open('/etc/passwd')", "(" * 300 + "1" + ")" * 300,
                                 "9" * 5000])
def test_a_saved_trace_is_read_without_eval(tmp_path, bad):
    data = json.loads(run(validate(lecture_spec(display={"exact": True}))).to_json())
    data["iterations"][0]["exact"]["means"][0] = bad
    with pytest.raises(ProblemError, match="exact value|too large|not allowed"):
        trace_from_json(json.dumps(data))
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    result = cli("render", str(path))
    assert result.returncode == 2 and result.stderr.startswith("error: ")


def test_parse_exact_reads_what_sympy_writes():
    for value in (sp.Rational(-5, 2), 1 / (1 + sp.exp(-12)),
                  sp.sqrt(6) * sp.exp(sp.Rational(1, 3)) / 4, sp.log(3) - sp.pi, sp.E):
        assert parse_exact(sp.sstr(value), "v") == value


def test_exact_and_rounded_carry_exclude_each_other():
    result = cli("solve", "--data", "1,2", "--k", "1", "--init-method", "kmeans", "--exact",
                 "--carry", "rounded")
    assert result.returncode == 2 and "display.carry" in result.stderr
    result = cli("solve", "--data", "1,2,3", "--k", "2", "--init-method",
                 "random_responsibilities", "--exact")
    assert result.returncode == 2 and "no exact form" in result.stderr
