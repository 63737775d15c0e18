"""Mixtures of exponential distributions (waiting times): the sixth model, a plug-in of its
own (explainer/families/exponential.py, render/documents/exponential.py, its template
templates/parts/families/exponential.j2 and examples/waiting).

Every expected value comes from a plain EM written out here with scipy.stats.expon's
density, from SymPy by hand, or from the formula in the test."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import EXAMPLES
from eqcheck import check_markdown
from mdcheck import katex_failures, math_spans, table_problems
from explainer.api import Trace, run
from explainer.errors import ProblemError
from explainer.render.json import SCHEMA_FILE
from explainer.validation import load_problem, validate
from explainer.api import spec_of

WAITING = EXAMPLES / "waiting" / "waiting.yaml"


def plain_em(x, weights, rates, iterations):
    """EM for an exponential mixture from the formulas: r_nk = pi_k f_k(x_n) / sum_j ...,
    pi_k = N_k / N, lambda_k = N_k / sum_n r_nk x_n; each iteration's parameters and the
    log-likelihood before it."""
    weights, rates = np.array(weights, float), np.array(rates, float)
    out = []
    for _ in range(iterations):
        joint = np.array([[stats.expon.pdf(v, scale=1 / lam) for lam in rates] for v in x]) \
            * weights
        ll = float(np.log(joint.sum(axis=1)).sum())
        resp = joint / joint.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0)
        weights, rates = nk / len(x), nk / (resp.T @ x)
        out.append((weights.copy(), rates.copy(), ll, resp))
    return out


def test_against_a_plain_em_with_scipy_densities():
    problem = load_problem(WAITING)
    x = problem.data
    trace = run(validate({**spec_of(problem), "stop": {"iterations": 25}}))
    ref = plain_em(x, [0.5, 0.5], [2, 0.25], 25)
    assert len(trace.iterations) == 25
    for it, (w, lam, ll, resp) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.weights, w, rtol=0, atol=1e-12)
        assert np.allclose(it.mstep.params.rates, lam, rtol=1e-12, atol=0)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)
        if it.estep.detail is not None:
            assert np.allclose(it.estep.detail.resp, resp, rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 200), min_size=3, max_size=12),
       st.floats(0.05, 0.95), st.floats(0.05, 5), st.floats(0.05, 5),
       st.sampled_from(["full", "rounded"]))
def test_rows_sum_to_one_the_log_likelihood_never_falls_and_every_line_holds(
        tenths, w, a, b, carry):
    data = [t / 10 for t in tenths]
    trace = run(validate({"data": data, "components": 2, "model": {"family": "exponential"},
                          "init": {"weights": [round(w, 2), round(1 - round(w, 2), 2)],
                                   "rates": [round(a, 2), round(b, 2)]},
                          "stop": {"iterations": 3}, "display": {"detail": "all",
                                                                 "carry": carry}}))
    # (A hand calculation's rows are what its rounded operands give, each line of it
    # checked below; the full-precision run's rows sum to 1 and its likelihood rises.)
    for it in trace.iterations if carry == "full" else ():
        assert np.allclose(it.estep.detail.resp.sum(axis=1), 1, rtol=0, atol=1e-12)
        assert it.gain >= -1e-9 * max(1, abs(it.log_likelihood))
    markdown = trace.to_markdown()
    assert check_markdown(markdown).failures == []
    assert katex_failures(math_spans(markdown)) == [] and table_problems(markdown) == []


def test_the_document_writes_each_density_and_update():
    text = run(load_problem(WAITING)).to_markdown()
    # f_1(x_1) = 2 e^{-2 * 0.4} and lambda_1 = N_1 / sum_n r_n1 x_n, from scipy and the
    # plain EM, to the digits the page prints.
    f11 = stats.expon.pdf(0.4, scale=1 / 2)
    assert f"$2 e^{{-2 \\cdot 0.4}} \\approx {f11:.4f}$" in text
    _, rates, _, _ = plain_em(load_problem(WAITING).data, [0.5, 0.5], [2, 0.25], 1)[0]
    assert f"\\lambda_{{1}}^{{\\text{{new}}}} = \\frac{{" in text
    assert f"\\approx {rates[0]:.3f}\n" in text
    assert "waiting times $x_n$" in text and "density of each point" in text
    assert "probability of each point" not in text  # a density, not a probability
    report = check_markdown(text)
    assert report.failures == [] and report.checked > 100


def test_exact_values_equal_the_floats_and_the_first_density_by_hand():
    # (One iteration: the next one's exact forms grow past the budget of exact arithmetic.)
    problem = validate({**spec_of(load_problem(WAITING)), "stop": {"iterations": 1},
                        "display": {"exact": True}})
    trace = run(problem)
    assert trace.exact is not None and len(trace.exact.iterations) == 1
    first = trace.exact.iterations[0]
    # r_11 = pi_1 f_1(x_1) / p(x_1) with f_k(x) = lambda_k e^{-lambda_k x}, by hand in
    # SymPy: the data read as written (0.4 = 2/5), not as a count.
    x1 = sp.Rational(2, 5)
    joint = [sp.Rational(1, 2) * 2 * sp.exp(-2 * x1),
             sp.Rational(1, 2) * sp.Rational(1, 4) * sp.exp(-sp.Rational(1, 4) * x1)]
    assert sp.simplify(first.estep.detail.resp[0, 0] - joint[0] / sum(joint)) == 0
    for exact, floats in zip(trace.exact.iterations, trace.iterations):
        assert np.allclose(np.array(exact.estep.detail.resp, dtype=float),
                           floats.estep.detail.resp, rtol=1e-12, atol=1e-15)
        assert np.allclose(np.array(exact.mstep.params.rates, dtype=float),
                           floats.mstep.params.rates, rtol=1e-12, atol=0)
    markdown = trace.to_markdown()
    assert "e^{- \\frac{4}{5}}" in markdown and check_markdown(markdown).failures == []
    text = trace.to_json()
    assert Trace.from_json(text).to_json() == text


@pytest.mark.parametrize("display", [{}, {"exact": True}, {"carry": "rounded"}])
def test_the_json_trace_validates_and_reads_back(display):
    import jsonschema

    spec = {**spec_of(load_problem(WAITING)), "display": display}
    if display.get("exact"):  # (one iteration: the next one goes past the exact budget)
        spec["stop"] = {"iterations": 1}
    trace = run(validate(spec))
    text = trace.to_json()
    document = json.loads(text)
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    assert document["problem"]["model"]["family"] == "exponential"
    again = Trace.from_json(text)
    assert again.to_json() == text and again.to_markdown() == trace.to_markdown()


@pytest.mark.parametrize("example", ["waiting", "coins", "poisson", "bernoulli"])
def test_a_saved_trace_whose_numbers_do_not_follow_is_refused(example):
    """Reading a saved trace, the model plug-in's sums, update and ranges are checked: a
    changed sum_rx, a changed parameter and a negative one are each refused, naming the
    entry."""
    problem = load_problem(EXAMPLES / example / f"{example}.yaml")
    document = json.loads(run(problem).to_json())
    name = problem.parameters[1]
    assert json.loads(Trace.from_json(json.dumps(document)).to_json()) == document

    def refused(change, field):
        changed = json.loads(json.dumps(document))
        change(changed["iterations"][0])
        with pytest.raises(ProblemError, match=field):
            Trace.from_json(json.dumps(changed))

    refused(lambda it: it["sum_rx"].__setitem__(0, np.add(it["sum_rx"][0], 0.5).tolist()),
            r"iterations\[1\]\.sum_rx\[1\]")
    refused(lambda it: it[name].__setitem__(0, np.multiply(it[name][0], 0.9).tolist()),
            rf"iterations\[1\]\.{name}\[1\]")
    refused(lambda it: it[name].__setitem__(0, np.multiply(it[name][0], -1).tolist()),
            rf"iterations\[1\]\.{name}: expected")


def test_pdf_and_figures(tmp_path):
    out = tmp_path / "waiting.pdf"
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", str(WAITING),
                             "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Figure 1:" in text and "Clustering" in text and "waiting times" in text
    md = subprocess.run([sys.executable, "-m", "explainer", "solve", str(WAITING),
                         "-o", str(tmp_path / "x.md"), "--plots"], capture_output=True,
                        text=True)
    assert md.returncode == 0, md.stderr
    assert {p.name for p in (tmp_path / "x_files").iterdir()} == {"fit.png", "loglik.png",
                                                                  "resp.png"}
    assert "mixture's density (solid)" in (tmp_path / "x.md").read_text()


def test_check_follows_a_slip_through():
    from explainer.grading import grade

    problem = load_problem(WAITING)
    _, rates, _, resp = plain_em(problem.data, [0.5, 0.5], [2, 0.25], 1)[0]
    nk = resp.sum(axis=0)
    sum_rx = resp.T @ problem.data
    rows = [("a", "N[1]", "5.0"), ("b", "lambda[1]", f"{5.0 / sum_rx[0]:.3f}"),
            ("c", "lambda[2]", f"{rates[1]:.3f}"), ("d", "N[2]", f"{nk[1]:.3f}")]
    marks = {r["quantity"]: r for r in grade(problem, rows)["rows"]}
    assert marks["it1.N[1]"]["status"] == "wrong"
    assert marks["it1.lambda[1]"]["status"] == "follow-through"
    assert marks["it1.lambda[2]"]["status"] == "correct"
    assert marks["it1.N[2]"]["status"] == "correct"


def test_an_exam_of_waiting_times(tmp_path):
    from explainer.exam import write_exam

    path = tmp_path / "t.yaml"
    path.write_text("data: {count: 6, range: [0.1, 8], decimals: 1}\ncomponents: 2\n"
                    "model: {family: exponential}\n"
                    "init: {weights: [0.5, 0.5], rates: {range: [0.2, 2], decimals: 1}}\n"
                    "exam: {ask: [r, N, pi, lambda, loglik, assign, moves]}\n")
    out = write_exam(path, 2, 5, tmp_path / "out")
    rows = list(csv.DictReader((out / "answers.csv").open()))
    for number in (1, 2):
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        ref = plain_em(problem.data, problem.weights, problem.rates, 1)[0]
        mine = {r["quantity"]: float(r["full_precision"]) for r in rows
                if r["variant"] == str(number) and r["full_precision"]}
        for k in range(2):
            assert mine[f"it1.lambda[{k + 1}]"] == pytest.approx(ref[1][k], rel=1e-12)
            assert mine[f"it1.pi[{k + 1}]"] == pytest.approx(ref[0][k], abs=1e-12)
        assert mine["it1.loglik"] == pytest.approx(ref[2], abs=1e-9)
        question = (out / f"variant-{number:03d}" / "question.md").read_text()
        assert "which rate $\\lambda_k$ the M-step moves furthest" in question
        assert check_markdown((out / f"variant-{number:03d}" / "key.md").read_text()
                              ).failures == []
    moodle = ET.parse(out / "moodle.xml").getroot()
    text = ET.tostring(moodle, encoding="unicode")
    assert "exponential distributions" in text and "the rate of component" in text
    # Each variant's setup states its data as drawn (waiting times with their decimals).
    for number in (1, 2):
        data = load_problem(out / f"variant-{number:03d}" / "problem.yaml").data
        stated = ", ".join(f"\\( x_{{{n + 1}}} = {v:g} \\)" for n, v in enumerate(data))
        assert f"fitted with EM to the data {stated}," in text


@pytest.mark.parametrize("spec, field, words", [
    ({"data": [1.5, -0.2]}, "data[2]", "a waiting time above 0"),
    ({"data": [1.5, 0]}, "data[2]", "a waiting time above 0"),
    ({"data": [1.5, 1e-300]}, "data[2]", "from 1e-09 to 1,000,000,000"),
    ({"data": [[1, 2], [3, 4]]}, "data", "one waiting time per point"),
    ({"data": [1, 2], "init": {"weights": [1], "rates": [0]}}, "init.rates[1]", "a rate > 0"),
    ({"data": [1, 2], "init": {"weights": [1], "p": [0.5]}}, "init.p", "binomial"),
])
def test_bad_input_is_a_clear_error(spec, field, words):
    spec = {"components": 1, "model": {"family": "exponential"},
            "init": {"weights": [1], "rates": [1]}, **spec}
    with pytest.raises(ProblemError) as info:
        validate(spec)
    assert info.value.field == field and words in str(info.value)


def test_the_command_line_names_the_model(tmp_path):
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", "--data",
                             "0.5,3,0.2,6", "--family", "exponential", "--k", "2",
                             "--weights", "0.5,0.5", "--rates", "2,0.25"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "a mixture of exponential distributions" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "explainer", "solve", "--data", "1,2",
                          "--family", "exponentail", "--k", "1"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "did you mean 'exponential'" in bad.stderr
