"""Mixtures of other families than the Gaussian: binomial, Bernoulli, Poisson, categorical.

Every expected value comes from a plain EM written out here from the formulas, with the
densities of scipy.stats, or from the coin example's published figures (Do & Batzoglou,
Nature Biotechnology 26, 2008)."""

from __future__ import annotations

import json
import re
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import EXAMPLES
from eqcheck import check_markdown
from mdcheck import katex_failures, math_spans, table_problems
from explainer.api import run
from explainer.errors import ProblemError
from explainer.validation import load_problem, validate
from explainer.render.json import SCHEMA_FILE
from explainer.api import Trace
from explainer.api import spec_of

COINS = EXAMPLES / "coins" / "coins.yaml"


def reference(pmf, data, weights, theta, iterations, update, estimate):
    """A plain EM: r_nk = pi_k f(x_n; theta_k) / sum_j ..., pi_k = N_k / N, and the
    family's *estimate(resp)*; returns each iteration's parameters and log-likelihood
    before it."""
    weights, theta = np.array(weights, float), np.array(theta, float)
    out = []
    for _ in range(iterations):
        dens = np.array([[pmf(x, t) for t in theta] for x in data])
        joint = dens * weights
        ll = float(np.log(joint.sum(axis=1)).sum())
        resp = joint / joint.sum(axis=1, keepdims=True)
        if "weights" in update:
            weights = resp.sum(axis=0) / len(data)
        theta = estimate(resp)
        out.append((weights.copy(), theta.copy(), ll))
    return out


def test_the_coin_example_gives_the_published_figures():
    trace = run(load_problem(COINS))
    first, tenth = trace.iterations[0].mstep.params.p, trace.iterations[9].mstep.params.p
    # The paper: 0.71 and 0.58 after one iteration, 0.80 and 0.52 after ten.
    assert np.round(first, 2).tolist() == [0.71, 0.58]
    assert np.round(tenth, 2).tolist() == [0.80, 0.52]
    heads = np.array([5, 9, 8, 4, 7])
    ref = reference(lambda h, p: stats.binom.pmf(h, 10, p), heads, [0.5, 0.5], [0.6, 0.5], 10,
                    ("p",), lambda r: (r.T @ heads) / (r.T @ np.full(5, 10)))
    for it, (w, p, ll) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.p, p, rtol=0, atol=1e-12)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)
    # The document writes them so (acceptance: 0.713, 0.581; 0.797, 0.520).
    text = subprocess.run([sys.executable, "-m", "explainer", "solve", str(COINS)],
                          capture_output=True, text=True, check=True).stdout
    # (the log-likelihoods before and after iteration 1 from the reference above)
    assert (f"| 1 | ${ref[0][2]:.3f}$ | ${ref[1][2]:.3f}$ | $0.500, 0.500$ | $0.713, 0.581$ |"
            in text)
    assert "| 1 (coin A) | $0.500$ | $0.797$ |" in text
    assert "| 2 (coin B) | $0.500$ | $0.520$ |" in text
    # The paper's table: the expected heads the first set credits to coin A, r_11 * 5,
    # with r_11 from scipy's pmf as printed (to the digits the page gives it).
    a, b = stats.binom.pmf(5, 10, 0.6), stats.binom.pmf(5, 10, 0.5)
    found = re.search(r"\| \$(0\.\d+) \\cdot 5 \\approx (\d+\.\d+)\$ \|", text)
    assert found is not None
    shown, quantum = Decimal(found[1]), Decimal(found[1]).as_tuple().exponent
    assert shown == Decimal(a / (a + b)).quantize(Decimal(1).scaleb(quantum), ROUND_HALF_UP)
    assert Decimal(found[2]) == (shown * 5).quantize(
        Decimal(1).scaleb(Decimal(found[2]).as_tuple().exponent), ROUND_HALF_UP)


def test_binomial_with_its_own_trials_per_point():
    rows = [[3, 5], [9, 12], [1, 4], [7, 8]]
    trace = run(validate({"data": rows, "components": 2, "model": {"family": "binomial"},
                          "init": {"weights": [0.3, 0.7], "p": [0.2, 0.8]},
                          "stop": {"iterations": 6}}))
    h, m = np.array(rows).T
    ref = reference(lambda x, p: stats.binom.pmf(x[0], x[1], p), np.array(rows), [0.3, 0.7],
                    [0.2, 0.8], 6, ("weights", "p"), lambda r: (r.T @ h) / (r.T @ m))
    for it, (w, p, ll) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.weights, w, atol=1e-9)
        assert np.allclose(it.mstep.params.p, p, atol=1e-9)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)


def test_poisson_against_a_plain_reference():
    problem = load_problem(EXAMPLES / "poisson" / "poisson.yaml")
    x = problem.data
    trace = run(validate({**spec_of(problem), "stop": {"iterations": 25}}))
    ref = reference(lambda c, lam: stats.poisson.pmf(c, lam), x, [0.5, 0.5], [1, 6], 25,
                    ("weights", "rates"), lambda r: (r.T @ x) / r.sum(axis=0))
    for it, (w, lam, ll) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.weights, w, rtol=0, atol=1e-9)
        assert np.allclose(it.mstep.params.rates, lam, rtol=0, atol=1e-9)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)


def test_bernoulli_against_a_plain_reference():
    problem = load_problem(EXAMPLES / "bernoulli" / "bernoulli.yaml")
    x = problem.data
    trace = run(validate({**spec_of(problem), "stop": {"iterations": 15}}))
    ref = reference(lambda row, p: np.prod(stats.bernoulli.pmf(row, p)), x, [0.5, 0.5],
                    problem.p, 15, ("weights", "p"),
                    lambda r: (r.T @ x) / r.sum(axis=0)[:, None])
    for it, (w, p, ll) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.weights, w, rtol=0, atol=1e-9)
        assert np.allclose(it.mstep.params.p, p, rtol=0, atol=1e-9)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)


def test_categorical_against_a_plain_reference_and_its_remark():
    labels = ["red", "blue", "red", "green", "green", "blue", "red", "red"]
    spec = {"data": labels, "components": 2, "model": {"family": "categorical",
                                                        "categories": ["red", "green", "blue"]},
            "init": {"weights": [0.4, 0.6], "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
            "stop": {"iterations": 3}}
    trace = run(validate(spec))
    codes = np.array([["red", "green", "blue"].index(v) for v in labels])
    onehot = np.eye(3)[codes]
    ref = reference(lambda c, q: stats.multinomial.pmf(np.eye(3)[c], 1, q), codes,
                    [0.4, 0.6], spec["init"]["probs"], 3, ("weights", "probs"),
                    lambda r: (r.T @ onehot) / r.sum(axis=0)[:, None])
    for it, (w, q, ll) in zip(trace.iterations, ref):
        assert np.allclose(it.mstep.params.probs, q, rtol=0, atol=1e-9)
        assert it.log_likelihood == pytest.approx(ll, abs=1e-9)
        # The remark's claim: the mixture gives each category its share of the data.
        mixture = it.mstep.params.weights @ it.mstep.params.probs
        assert np.allclose(mixture, np.bincount(codes, minlength=3) / len(codes), atol=1e-12)
    assert "share of the data" in trace.to_markdown()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=3, max_size=15),
       st.floats(0.05, 0.95), st.floats(0.5, 20), st.floats(0.5, 20))
def test_poisson_rows_sum_to_one_and_the_log_likelihood_never_falls(counts, w, a, b):
    trace = run(validate({"data": counts, "components": 2, "model": {"family": "poisson"},
                          "init": {"weights": [w, 1 - w], "rates": [a, b]},
                          "stop": {"iterations": 8}, "display": {"detail": "all"}}))
    for it in trace.iterations:
        assert np.allclose(it.estep.detail.resp.sum(axis=1), 1)
        assert it.gain >= -1e-9 * max(1, abs(it.log_likelihood))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=3, max_size=10), st.floats(0.05, 0.95),
       st.floats(0.05, 0.95))
def test_binomial_documents_hold_line_by_line(heads, a, b):
    trace = run(validate({"data": heads, "components": 2,
                          "model": {"family": "binomial", "trials": 10},
                          "init": {"weights": [0.5, 0.5], "p": [a, b]},
                          "stop": {"iterations": 2}}))
    for it in trace.iterations:
        assert it.gain >= -1e-9 * max(1, abs(it.log_likelihood))
    report = check_markdown(trace.to_markdown())
    assert report.failures == []


@pytest.mark.parametrize("display", [{}, {"exact": True}, {"carry": "rounded"}])
@pytest.mark.parametrize("name", ["coins", "poisson", "bernoulli"])
def test_the_json_trace_validates_and_reads_back(name, display):
    import jsonschema
    import yaml

    spec = yaml.safe_load((EXAMPLES / name / f"{name}.yaml").read_text())
    spec["display"] = {**(spec.get("display") or {}), **display}
    trace = run(validate(spec))
    text = trace.to_json()
    jsonschema.validate(json.loads(text), json.loads(SCHEMA_FILE.read_text()))
    again = Trace.from_json(text)
    assert again.to_json() == text and again.to_markdown() == trace.to_markdown()


@pytest.mark.parametrize("spec, field, words", [
    ({"data": [5, 11], "model": {"family": "binomial", "trials": 10},
      "init": {"weights": [1], "p": [0.5]}}, "data[2]", "at most 10 successes"),
    ({"data": [5, -1], "model": {"family": "poisson"}, "init": {"weights": [1], "rates": [2]}},
     "data[2]", "a whole number"),
    ({"data": [1, 2], "model": {"family": "poisson"}, "init": {"weights": [1], "rates": [0]}},
     "init.rates[1]", "a rate > 0"),
    ({"data": [[1, 0], [0, 1]], "model": {"family": "bernoulli"},
      "init": {"weights": [1], "p": [[1.5, 0.5]]}}, "init.p[1][1]", "from 0 to 1"),
    # 1 - p of 0.9999999999999999 is 1.1e-16 in a double, where the page would write 0.
    ({"data": [5, 9], "model": {"family": "binomial", "trials": 10},
      "init": {"weights": [1], "p": [0.9999999999999999]}}, "init.p[1]",
     "expected 1 or a probability at most 1 - 10^-12, but got 0.9999999999999999"),
    ({"data": [[1, 0], [0, 1]], "model": {"family": "bernoulli"},
      "init": {"weights": [1], "p": [[0.5, "0.9999999999999"]]}}, "init.p[1][2]",
     "at most 1 - 10^-12"),
    ({"data": ["a", "b"], "model": {"family": "categorical"},
      "init": {"weights": [1], "probs": [[0.7, 0.7]]}}, "init.probs[1]", "summing to 1"),
    ({"data": [5], "model": {"family": "binomial", "trials": 10},
      "init": {"weights": [1], "p": [0.5], "means": [2]}}, "init.means", "Gaussian"),
    ({"data": [5, 10], "model": {"family": "binomial", "trials": 10},
      "init": {"weights": [1], "p": [0]}}, "data[1]", "probability 0"),
    ({"data": [1, 2], "init": {"weights": [1], "means": [1], "variances": [1], "rates": [1]}},
     "init.rates", "not for Gaussians"),
])
def test_bad_input_is_a_clear_error(spec, field, words):
    with pytest.raises(ProblemError) as info:
        validate({"components": 1, **spec})
    assert info.value.field == field and words in str(info.value)


def test_a_probability_just_short_of_1_is_written_as_given_and_every_line_holds():
    # 1 - 10^-12, the nearest to 1 accepted: written as given, its complement 1e-12.
    trace = run(validate({"data": [5, 9, 8], "components": 2,
                          "model": {"family": "binomial", "trials": 10},
                          "init": {"weights": [0.5, 0.5], "p": [0.999999999999, 0.3]}}))
    text = trace.to_markdown()
    assert "p_{1} = 0.999999999999$" in text
    assert check_markdown(text).failures == []


def test_a_rate_reaching_zero_is_explained():
    trace = run(validate({"data": [0, 0, 0, 9, 11], "components": 2,
                          "model": {"family": "poisson"},
                          "init": {"weights": [0.5, 0.5], "rates": [0.5, 8]},
                          "stop": {"iterations": 30}, "display": {"detail": "all"}}))
    assert trace.iterations[-1].mstep.params.rates[0] < 1e-6
    assert not np.isnan(trace.final.log_likelihood)


@pytest.mark.parametrize("name", ["coins", "poisson", "bernoulli"])
def test_each_example_compiles_as_a_pdf_with_its_figures(tmp_path, name):
    out = tmp_path / f"{name}.pdf"
    result = subprocess.run([sys.executable, "-m", "explainer", "solve",
                             str(EXAMPLES / name / f"{name}.yaml"), "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Figure 1:" in text and "Clustering" in text
    figures = tmp_path / f"{name}_files"
    md = subprocess.run([sys.executable, "-m", "explainer", "solve",
                         str(EXAMPLES / name / f"{name}.yaml"), "-o", str(tmp_path / "x.md"),
                         "--plots"], capture_output=True, text=True)
    assert md.returncode == 0, md.stderr
    assert {p.name for p in (tmp_path / "x_files").iterdir()} == {"fit.png", "loglik.png",
                                                                  "resp.png"}
    assert not figures.exists()


@settings(max_examples=4, deadline=None)
@given(st.sampled_from(["binomial", "poisson", "bernoulli", "categorical"]),
       st.integers(0, 2**16), st.sampled_from(["full", "rounded"]))
# Draws that failed once: a tiny probability raised to a power; a Bernoulli entry whose
# one r_nk the document wrote beside the sum it stands for; a hand calculation's
# p = S / (S + F) of tiny sums, and its 1 - p of a tiny p; an empty component.
@example("binomial", 1670, "full")
@example("bernoulli", 2410, "full")
@example("binomial", 53, "rounded")
@example("binomial", 306, "rounded")
@example("categorical", 498, "full")
def test_drawn_problems_of_every_family_compile(family, seed, carry):
    from explainer.render.output import build_pdf

    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    weights = rng.dirichlet(np.ones(k)).round(3)
    weights[-1] = round(1 - weights[:-1].sum(), 3)
    n = int(rng.integers(k, 9))
    if family == "binomial":
        spec = {"data": rng.integers(0, 8, n).tolist(), "model": {"trials": 7},
                "init": {"p": rng.uniform(0.05, 0.95, k).round(2).tolist()}}
    elif family == "poisson":
        spec = {"data": rng.integers(0, 15, n).tolist(),
                "init": {"rates": rng.uniform(0.5, 12, k).round(1).tolist()}}
    elif family == "bernoulli":
        spec = {"data": rng.integers(0, 2, (n, 3)).tolist(),
                "init": {"p": rng.uniform(0.05, 0.95, (k, 3)).round(2).tolist()}}
    else:
        spec = {"data": rng.choice(["yes", "no", "maybe"], n).tolist(),
                "model": {"categories": ["yes", "no", "maybe"]},
                "init": {"probs": rng.dirichlet(np.ones(3), k).round(2).tolist()}}
        for row in spec["init"]["probs"]:
            row[-1] = round(1 - sum(row[:-1]), 2)
    spec["init"]["weights"] = weights.tolist()
    spec.setdefault("model", {})["family"] = family
    try:
        problem = validate({**spec, "components": k, "stop": {"iterations": 2},
                            "display": {"carry": carry}})
    except ProblemError as exc:  # a point no drawn component can produce: refused
        assert "probability 0 under every component" in str(exc)
        assume(False)
    trace = run(problem)
    markdown = trace.to_markdown()
    assert check_markdown(markdown).failures == []
    assert katex_failures(math_spans(markdown)) == [] and table_problems(markdown) == []
    assert build_pdf(trace, plots=True).pdf.startswith(b"%PDF")


@pytest.mark.parametrize("name", ["coins", "poisson", "bernoulli"])
def test_exact_values_equal_the_floats_and_read_back(name):
    import yaml

    spec = yaml.safe_load((EXAMPLES / name / f"{name}.yaml").read_text())
    spec["display"] = {"exact": True}
    trace = run(validate(spec))
    assert trace.exact is not None and trace.exact.iterations
    parameter = trace.problem.parameters[1]
    for exact, floats in zip(trace.exact.iterations, trace.iterations):
        if exact.estep.detail is not None:
            got = np.array(exact.estep.detail.resp, dtype=float)
            assert np.allclose(got, floats.estep.detail.resp, rtol=1e-12, atol=1e-15)
        for key in ("weights", parameter):
            assert np.allclose(np.array(exact.mstep.params.get(key), dtype=float),
                               floats.mstep.params.get(key), rtol=1e-12, atol=0)
    if name == "coins":  # the first responsibility by hand: 0.6^5 0.4^5 / (... + 0.5^10)
        first = trace.exact.iterations[0].estep.detail.resp[0, 0]
        by_hand = Fraction(3, 5) ** 5 * Fraction(2, 5) ** 5
        assert first == by_hand / (by_hand + Fraction(1, 2) ** 10)
    text = trace.to_json()
    assert Trace.from_json(text).to_json() == text
    markdown = trace.to_markdown()
    assert "exactly" in markdown and check_markdown(markdown).failures == []
    assert trace.to_latex().count("\\displaystyle") > 0


def _grade(spec_path, rows):
    from explainer.grading import grade

    return {r["quantity"]: r for r in grade(load_problem(spec_path), rows)["rows"]}


def test_check_grades_the_coin_example():
    heads, trials = np.array([5, 9, 8, 4, 7]), 10
    # A hand calculation: responsibilities written with 3 decimals, then p from them.
    pmf = [stats.binom.pmf(heads, trials, p) for p in (0.6, 0.5)]
    r1 = np.round(pmf[0] / (pmf[0] + pmf[1]), 3)
    p1_by_hand = float(r1 @ heads / (r1 @ np.full(5, trials)))
    # The full-precision p_k of two iterations, from a plain EM with scipy's pmf.
    (_, first, _), (_, second, _) = reference(
        lambda h, q: stats.binom.pmf(h, trials, q), heads, [0.5, 0.5], [0.6, 0.5], 2,
        ("p",), lambda r: (r.T @ heads) / (r.T @ np.full(5, trials)))
    rows = [("a", "r[1,1]", f"{r1[0]:.3f}"), ("b", "N[1]", f"{r1.sum():.3f}"),
            ("c", "p[1]", f"{p1_by_hand:.3f}"), ("d", "p[2]", "0.600"),
            ("e", "it2.p[2]", f"{second[1]:.3f}"), ("f", "pi[1]", "0.4")]
    marks = _grade(COINS, rows)
    assert marks["it1.r[1,1]"]["status"] == "correct"
    assert marks["it1.p[1]"]["status"] == "correct"
    assert marks["it1.p[2]"]["status"] == "wrong"
    assert marks["it1.p[2]"]["correct"] == pytest.approx(first[1], abs=1e-12)
    assert marks["it2.p[2]"]["status"] == "correct"
    # The weights are fixed in the coin example: they stay 0.5.
    assert marks["it1.pi[1]"]["status"] == "wrong" and marks["it1.pi[1]"]["correct"] == 0.5


def test_check_follows_a_slip_through_in_every_family(tmp_path):
    # Poisson: a wrong N_1 makes the weight the student computes from it follow through.
    poisson = EXAMPLES / "poisson" / "poisson.yaml"
    marks = _grade(poisson, [("a", "N[1]", "5.0"), ("b", "pi[1]", f"{5 / 12:.3f}")])
    assert marks["it1.N[1]"]["status"] == "wrong"
    assert marks["it1.pi[1]"]["status"] == "follow-through"
    # Bernoulli p[k,i] and categorical q[k,c], checked against a plain M-step.
    problem = load_problem(EXAMPLES / "bernoulli" / "bernoulli.yaml")
    x = problem.data
    joint = np.array([[np.prod(stats.bernoulli.pmf(row, p)) for p in problem.p]
                      for row in x]) * 0.5
    resp = joint / joint.sum(axis=1, keepdims=True)
    p13 = float(resp[:, 0] @ x[:, 2] / resp[:, 0].sum())
    marks = _grade(EXAMPLES / "bernoulli" / "bernoulli.yaml",
                   [("a", "p[1,3]", f"{p13:.3f}"), ("b", "p[1,4]", "0.5")])
    assert marks["it1.p[1,3]"]["status"] == "correct"
    assert marks["it1.p[1,4]"]["status"] == "wrong"
    spec = tmp_path / "cat.yaml"
    spec.write_text("data: [red, blue, red, green]\ncomponents: 2\n"
                    "model: {family: categorical, categories: [red, green, blue]}\n"
                    "init: {weights: [0.4, 0.6], probs: [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]}\n")
    marks = _grade(spec, [("a", "q[1,1]", "0.9")])
    assert marks["it1.q[1,1]"]["status"] == "wrong"
    with pytest.raises(ProblemError, match="c is a category, 1 to 3"):
        _grade(spec, [("a", "q[1,4]", "0.1")])
    with pytest.raises(ProblemError, match="did you mean 'q'"):
        _grade(spec, [("a", "qq[1,1]", "0.1")])


def test_the_coin_example_by_hand_with_rounded_carry():
    """Every value rounded to 3 decimals before it is used, redone here with Python's
    decimal: the densities, p(x_n), r_nk, the expected successes and failures, p_k."""
    from decimal import ROUND_HALF_UP, Decimal

    def rnd(v):
        return v.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    import yaml

    spec = yaml.safe_load(COINS.read_text())
    spec["display"]["carry"] = "rounded"
    trace = run(validate(spec))
    heads, p = [5, 9, 8, 4, 7], [Decimal("0.6"), Decimal("0.5")]
    half = Decimal("0.5")
    resp = []
    for h in heads:
        dens = [rnd(math.comb(10, h) * q ** h * (1 - q) ** (10 - h)) for q in p]
        mix = rnd(half * dens[0] + half * dens[1])
        resp.append([rnd(half * f / mix) for f in dens])
    assert trace.iterations[0].estep.detail.resp.tolist() == [[float(v) for v in r]
                                                              for r in resp]
    for k in range(2):
        succ = sum(rnd(r[k] * h) for r, h in zip(resp, heads))
        fail = sum(rnd(r[k] * (10 - h)) for r, h in zip(resp, heads))
        assert trace.iterations[0].mstep.params.p[k] == float(rnd(succ / (succ + fail)))
    markdown = trace.to_markdown()
    assert check_markdown(markdown).failures == []
    assert "values differ from the full-precision calculation" in markdown
    text = trace.to_json()
    assert Trace.from_json(text).to_json() == text


@pytest.mark.parametrize("name", ["poisson", "bernoulli"])
def test_rounded_carry_documents_hold_line_by_line(name):
    import yaml

    spec = yaml.safe_load((EXAMPLES / name / f"{name}.yaml").read_text())
    spec["display"] = {"carry": "rounded"}
    trace = run(validate(spec))
    markdown = trace.to_markdown()
    assert check_markdown(markdown).failures == []
    assert katex_failures(math_spans(markdown)) == [] and table_problems(markdown) == []
    assert "is the sum of that column" in markdown
    text = trace.to_json()
    assert Trace.from_json(text).to_json() == text


COIN_EXAM = """title: Two coins by hand
data: {count: 5, range: [0, 10], decimals: 0}
components: 2
model: {family: binomial, trials: 10, update: [p]}
init:
  weights: [0.5, 0.5]
  p: {range: [0.2, 0.8], decimals: 1}
exam: {ask: [r, N, p]}
"""


def test_an_exam_of_coin_problems(tmp_path):
    """Every variant's key equals a plain EM on its problem (scipy's binomial pmf), the
    Moodle Cloze question holds those values, and 'check' marks the key's answers
    correct."""
    import csv
    import xml.etree.ElementTree as ET
    import zipfile

    from explainer.exam import write_exam
    from explainer.grading import grade

    template = tmp_path / "coins.yaml"
    template.write_text(COIN_EXAM)
    out = write_exam(template, 3, 7, tmp_path / "out")
    rows = list(csv.DictReader((out / "answers.csv").open()))
    assert {r["variant"] for r in rows} == {"1", "2", "3"}
    for number in (1, 2, 3):
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        heads = problem.data
        (w, p, _), = reference(lambda h, q: stats.binom.pmf(h, 10, q), heads, [0.5, 0.5],
                               problem.p, 1, ("p",),
                               lambda r: (r.T @ heads) / (r.T @ np.full(len(heads), 10)))
        mine = {r["quantity"]: float(r["full_precision"]) for r in rows
                if r["variant"] == str(number)}
        assert mine["it1.p[1]"] == pytest.approx(p[0], abs=1e-12)
        assert mine["it1.p[2]"] == pytest.approx(p[1], abs=1e-12)
        answers = [(q, q, f"{v:.3f}") for q, v in mine.items()]
        result = grade(problem, answers)
        assert result["counts"]["correct"] == len(answers)
    xml = ET.parse(out / "moodle.xml").getroot()
    cloze = [q for q in xml if q.get("type") == "cloze"]
    assert len(cloze) == 3
    text = cloze[0].find("questiontext/text").text
    assert "binomial distributions" in text and "NUMERICAL" in text
    assert r"\( x_{1} = " in text and r"p_{1} = " in text
    for name in ("qti-1.2.zip", "qti-2.1.zip"):
        with zipfile.ZipFile(out / name) as archive:
            assert "imsmanifest.xml" in archive.namelist()
    question = (out / "variant-001" / "question.md").read_text()
    assert "the new probabilities of success $p_k$ (`p[k]`)" in question
    assert check_markdown((out / "variant-001" / "key.md").read_text()).failures == []


@pytest.mark.parametrize("template, symbol", [
    ("data: {count: 6, range: [0, 12], decimals: 0}\ncomponents: 2\nmodel: {family: poisson}\n"
     "init: {weights: [0.5, 0.5], rates: {range: [1, 10], decimals: 0}}\n"
     "exam: {ask: [r, N, pi, lambda]}\n", "lambda"),
    ("data: [[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]]\ncomponents: 2\n"
     "model: {family: bernoulli}\ninit: {weights: [0.5, 0.5], "
     "p: [[0.6, 0.6, 0.4], [0.4, 0.4, 0.6]]}\nexam: {ask: [r, p]}\n", "p"),
    ("data: [red, blue, red, green, green, blue]\ncomponents: 2\n"
     "model: {family: categorical, categories: [red, green, blue]}\n"
     "init: {weights: [0.5, 0.5], probs: [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]}\n"
     "exam: {ask: [r, q], allow_tiny: true}\n", "q"),
])
def test_exams_of_every_family(tmp_path, template, symbol):
    import csv

    from explainer.exam import write_exam

    path = tmp_path / "t.yaml"
    path.write_text(template)
    out = write_exam(path, 2, 3, tmp_path / "out")
    rows = list(csv.DictReader((out / "answers.csv").open()))
    asked = {r["quantity"].split(".")[1].split("[")[0] for r in rows}
    assert symbol in asked
    for number in (1, 2):
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        trace = run(problem)
        parameter = trace.iterations[0].mstep.params.get(problem.parameters[1])
        for r in rows:
            if r["variant"] == str(number) and f".{symbol}[" in r["quantity"]:
                index = [int(v) - 1 for v in r["quantity"].split("[")[1][:-1].split(",")]
                assert float(r["full_precision"]) == pytest.approx(
                    float(parameter[tuple(index)]), abs=1e-12)


def test_every_model_says_how_an_exam_asks_for_its_own_quantities():
    """A model's document plug-in gives the words and the check name of each quantity
    that is the model's own (a new family cannot leave its exam question blank); the
    kinds every model has are the question template's."""
    from explainer.families import MODELS
    from explainer.grading import parse_quantity
    from explainer.render.documents import asked_of

    shared = {"r", "N", "pi", "loglik", "assign", "moves"}
    examples = {"gaussian": "lecture/lecture.yaml", "binomial": "coins/coins.yaml",
                "bernoulli": "bernoulli/bernoulli.yaml", "poisson": "poisson/poisson.yaml",
                "exponential": "waiting/waiting.yaml"}
    for name, model in MODELS.items():
        for dim in (1, 2, 3) if name == "gaussian" else (1,):
            for kind in model.kinds(dim):
                asked = asked_of(name, dim, kind)
                if kind in shared:
                    assert asked is None, (name, kind)
                    continue
                assert asked is not None and asked.text.startswith("the new "), (name, kind)
                assert (asked.name == "") == (name == "gaussian" and dim == 1), (name, kind)
                if asked.name and name in examples and dim == 1:  # check reads the name
                    problem = load_problem(EXAMPLES / examples[name])
                    text = "it1." + asked.name.replace("k", "1").replace("[i]", "[1]") \
                        .replace(",i]", ",1]").replace(",c]", ",1]")
                    assert parse_quantity(text, problem, "answers").kind == kind


def test_a_family_exam_template_is_checked(tmp_path):
    from explainer.exam import load_template

    path = tmp_path / "t.yaml"
    path.write_text("data: [1, 2]\ncomponents: 2\nmodel: {family: poisson}\n"
                    "init: {weights: [0.5, 0.5]}\nexam: {ask: [r, lambda]}\n")
    with pytest.raises(ProblemError, match="init.rates"):
        load_template(path)
    path.write_text("data: [1, 2]\ncomponents: 2\nmodel: {family: poisson}\n"
                    "init: {weights: [0.5, 0.5], rates: [1, 2]}\nexam: {ask: [r, mu]}\n")
    with pytest.raises(ProblemError, match="r, N, pi, lambda, loglik"):
        load_template(path)


def test_the_checker_of_printed_lines_redoes_the_families_cells():
    """The independent checker knows binomial coefficients, factorials and powers of e,
    so a binomial's or a Poisson's table cell is redone, and a wrong one fails."""
    good = [r"$\binom{10}{5} \cdot 0.6^{5} \cdot 0.4^{5} \approx 0.2007$",
            r"$\frac{6^{2} \cdot e^{-6}}{2!} \approx 0.0446$",
            r"$\frac{e^{-1}}{0!} \approx 0.368$"]
    for line in good:
        report = check_markdown(line)
        assert report.checked == 1 and report.failures == [], line
    for line in (r"$\binom{10}{5} \cdot 0.6^{5} \cdot 0.4^{5} \approx 0.2008$",
                 r"$\frac{6^{2} \cdot e^{-6}}{2!} \approx 0.0447$"):
        assert check_markdown(line).failures, line
    # The coin example's table is among what is redone.
    text = (EXAMPLES / "coins" / "coins.md").read_text()
    assert check_markdown(text).checked >= 40


def test_exam_data_drawn_with_repeats_and_as_rows(tmp_path):
    """Counts that repeat, categories drawn from a choice, rows of 0/1 answers: each
    variant's data as the generator says, and reproducible by seed."""
    from explainer.exam import write_exam

    cases = {
        "pois": ("data: {count: 8, range: [0, 9], decimals: 0, repeat: true}\ncomponents: 2\n"
                 "model: {family: poisson}\n"
                 "init: {weights: [0.5, 0.5], rates: {range: [1, 8], decimals: 0}}\n"
                 "exam: {ask: [r, lambda]}\n"),
        "cat": ("data: {count: 7, choice: [red, green, blue], repeat: true}\ncomponents: 2\n"
                "model: {family: categorical, categories: [red, green, blue]}\n"
                "init: {weights: [0.5, 0.5], probs: [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]}\n"
                "exam: {ask: [r, q], allow_tiny: true}\n"),
        "bern": ("data: {count: 6, dims: 3, range: [0, 1], decimals: 0}\ncomponents: 2\n"
                 "model: {family: bernoulli}\ninit: {weights: [0.5, 0.5], "
                 "p: [[0.7, 0.6, 0.3], [0.3, 0.4, 0.7]]}\nexam: {ask: [r, p]}\n"),
    }
    for name, text in cases.items():
        (tmp_path / f"{name}.yaml").write_text(text)
        out = write_exam(tmp_path / f"{name}.yaml", 2, 5, tmp_path / name)
        again = write_exam(tmp_path / f"{name}.yaml", 2, 5, tmp_path / f"{name}-again")
        for number in (1, 2):
            folder = f"variant-{number:03d}"
            problem = load_problem(out / folder / "problem.yaml")
            assert (out / folder / "problem.yaml").read_text() == \
                (again / folder / "problem.yaml").read_text()
            if name == "pois":
                assert problem.n_samples == 8 and set(problem.data) <= set(range(10))
            elif name == "cat":
                assert problem.n_samples == 7 and problem.categories == ("red", "green", "blue")
            else:
                assert problem.data.shape == (6, 3) and set(problem.data.ravel()) <= {0, 1}


def test_a_tiny_probability_raised_to_a_power_is_bracketed():
    """Found by the drawn problems: 8.102 x 10^-4 to the 5th is written
    (8.102 \\times 10^{-4})^{5}, which KaTeX and the checker read, not ...10^{-4}^{5}."""
    spec = {"data": [2, 3, 1, 1, 3, 3, 7], "components": 3,
            "model": {"family": "binomial", "trials": 7},
            "init": {"weights": [0.48, 0.118, 0.402], "p": [0.41, 0.26, 0.95]},
            "stop": {"iterations": 2}}
    markdown = run(validate(spec)).to_markdown()
    assert re.search(r"\(\d\.\d+ \\times 10\^\{-\d+\}\)\^\{\d\}", markdown)
    assert katex_failures(math_spans(markdown)) == []
    assert check_markdown(markdown).failures == []


def test_an_exponential_hand_calculation_whose_weighted_waits_round_to_0_is_refused():
    """lambda_k = N_k / sum_n r_nk x_n: carried to 1 decimal, r_nk x_n = 0.2 x 0.1 = 0.02
    rounds to 0.0 for every point of a component with N_k = 0.4, whose rate has no value:
    one line, not a division by 0 (a component that is empty keeps its rate)."""
    import numpy as np

    from explainer.backend import RoundedBackend
    from explainer.errors import ProblemError
    from explainer.families.exponential import Exponential

    family = Exponential.__new__(Exponential)
    sums = {"sum_rx": np.array([0.0, 3.5])}
    with pytest.raises(ProblemError, match=r"display.decimals: carried to 1 decimals, every "
                                           r"r_n1 x_n of component 1 rounds to 0"):
        family.check_sums(sums, np.array([False, False]), RoundedBackend(1))
    family.check_sums(sums, np.array([True, False]), RoundedBackend(1))  # empty: kept


def test_a_parameter_below_the_display_precision_is_said_by_its_value():
    """Binomial data at the boundary (0, 0, 20, 20 of 20): p_1 = 4.37e-8 falls to about
    5e-147 (computed here with scipy), printed so, and said to have moved, not to be
    'unchanged at this precision' (both are 0.000 at three decimals)."""
    from explainer.render.markdown import render_markdown

    x, p, w = np.array([0, 0, 20, 20]), np.array([4.37e-8, 0.9]), np.array([0.5, 0.5])
    spec = {"data": x.tolist(), "components": 2,
            "model": {"family": "binomial", "trials": 20},
            "init": {"weights": w.tolist(), "p": p.tolist()}, "stop": {"iterations": 1}}
    weighted = w * np.array([[stats.binom.pmf(v, 20, q) for q in p] for v in x])
    r = weighted / weighted.sum(axis=1, keepdims=True)
    new = (r * x[:, None]).sum(axis=0) / (20 * r.sum(axis=0))
    assert 1e-150 < new[0] < 1e-140
    page = render_markdown(run(validate(spec)))
    line = next(s for s in page.splitlines() if s.startswith(r"- $p_{1} = 4.37 \times"))
    mantissa, exponent = re.search(r"\\rightarrow ([0-9.]+) \\times 10\^\{(-\d+)\}",
                                   line).groups()
    assert abs(float(mantissa) * 10.0 ** int(exponent) / new[0] - 1) < 0.01
    assert "It moved down" in line and "Unchanged" not in line
    assert check_markdown(page).failures == []


def test_a_categorical_component_at_a_fixed_point_is_said_unchanged():
    """After many iterations the probabilities print alike before and after: the page
    says they are unchanged at this precision, not that each one moved."""
    from explainer.render.markdown import render_markdown

    spec = {"data": list("aabcaacb"), "components": 2,
            "model": {"family": "categorical", "categories": ["a", "b", "c"]},
            "init": {"weights": [0.5, 0.5], "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
            "stop": {"iterations": 60}, "display": {"detail": "last"}}
    page = render_markdown(run(validate(spec)))
    last = page.split("## Iteration 60")[1]
    moves = re.findall(r"\\mathbf\{q\}_\{\d\} = (\(.*?\)) \\rightarrow (\(.*?\))\$\. ([^.]*)",
                       last)
    assert len(moves) == 2
    for before, after, said in moves:
        assert before == after and said.startswith("Unchanged at this precision"), said


def test_the_largest_likelihood_remark_allows_for_a_hand_calculation():
    """One category per point: after an M-step the mixture gives each category its share
    of the data, the largest likelihood there is; a hand calculation only comes close,
    and says so (its rounded log-likelihood can print above that largest one)."""
    from explainer.render.markdown import render_markdown

    spec = {"data": list("aabcaacb"), "components": 2,
            "model": {"family": "categorical", "categories": ["a", "b", "c"]},
            "init": {"weights": [0.5, 0.5], "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
            "stop": {"iterations": 2}}
    caveat = "A hand calculation's rounded values only come close to that"
    full = render_markdown(run(validate(spec)))
    hand = render_markdown(run(validate({**spec, "display": {"carry": "rounded"}})))
    assert "the largest likelihood there is" in full and caveat not in full
    assert "the largest likelihood there is" in hand and caveat in hand


def test_the_responsibilities_figure_takes_a_bernoullis_points_in_the_data_order():
    """Rows of 0s and 1s have no order of x: the figure keeps the data's order and its
    caption says so (the document plug-in's points_in_data_order), and turns their
    labels upright (turned_labels); counts are sorted, their labels level."""
    import explainer
    from explainer.render.markdown import render_markdown
    from explainer.render.plots import resp_figure

    names = {"fit": "f.png", "resp": "r.png"}
    for example, order in (("bernoulli", "in the order of the data"),
                           ("poisson", "in order of x")):
        trace = explainer.solve(EXAMPLES / example / f"{example}.yaml")
        assert f"stacked (points {order}).](r.png)" in render_markdown(trace, plots=names)
        ticks = resp_figure(trace).axes[0].get_xticklabels()
        labels = [t.get_text() for t in ticks]
        rows = trace.problem.data.tolist()
        if example == "bernoulli":  # each row's 0s and 1s, in the data's order, upright
            assert labels == ["".join(str(int(v)) for v in row) for row in rows]
            assert {t.get_rotation() for t in ticks} == {90}
        else:
            assert labels == [f"{v:g}" for v in sorted(rows)]
            assert {t.get_rotation() for t in ticks} == {0}
