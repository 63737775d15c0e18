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

from explainer.api import run
from explainer.validation import load_problem, validate
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
    # Data with more digits than the page writes as given (a generated data set): a hand
    # calculation writes them, and uses them, at its decimals.
    "long-decimals": hand(given_spec([-1.7497654730546974, 0.34268040332750216,
                                      1.153035802563644, 5.981321923488, 6.51103471624,
                                      7.0000004], [0.5, 0.5], [0, 6], [1, 1],
                                     iterations=2)),
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


# --------------------------------------------------------------------------- d = 2

def hand_2d(data, weights, means, covs, decimals, iterations):
    """The d = 2 hand calculation as the page's rule states it, written out here with
    exact fractions (exp, log and sqrt to 50 digits, handcalc's): |S| = a d - b c,
    S^-1 = adj(S) / |S| entry by entry, c_k = 1 / (2 pi sqrt|S|), for each point the
    entries of S^-1 (x - mu), Delta^2 of those, the exponent -Delta^2 / 2, the density
    c_k exp(exponent), p(x_n), r_nk; N_k, pi_k, sum_n r_nk x_n, mu_k, the scatter around
    the new mean entry by entry, Sigma_k = S_k / N_k; every written value carried."""
    from fractions import Fraction

    from handcalc import PI, carry, exp, log, sqrt

    F = lambda v: Fraction(str(v))  # noqa: E731
    R = lambda v: carry(v, decimals)  # noqa: E731
    x = [[F(v) for v in row] for row in data]
    w, mu = [F(v) for v in weights], [[F(v) for v in m] for m in means]
    sig = [[[F(v) for v in row] for row in m] for m in covs]
    K, N = len(w), len(x)
    out = []
    for _ in range(iterations):
        det = [R(s[0][0] * s[1][1] - s[0][1] * s[1][0]) for s in sig]
        inv = [[[R(a / det[k]) for a in row] for row in
                ([sig[k][1][1], -sig[k][0][1]], [-sig[k][1][0], sig[k][0][0]])]
               for k in range(K)]
        norm = [R(1 / (2 * PI * sqrt(det[k]))) for k in range(K)]
        rows = []
        for xn in x:
            row = {"pdev": [], "maha": [], "exponent": [], "density": []}
            for k in range(K):
                dev = [xn[i] - mu[k][i] for i in range(2)]
                pdev = [R(inv[k][i][0] * dev[0] + inv[k][i][1] * dev[1]) for i in range(2)]
                maha = R(dev[0] * pdev[0] + dev[1] * pdev[1])
                e = R(-maha / 2)
                row["pdev"].append(pdev)
                row["maha"].append(maha)
                row["exponent"].append(e)
                row["density"].append(R(norm[k] * exp(e)))
            row["mixture"] = R(sum(w[k] * row["density"][k] for k in range(K)))
            row["resp"] = [R(w[k] * row["density"][k] / row["mixture"]) for k in range(K)]
            row["log_mixture"] = R(log(row["mixture"]))
            rows.append(row)
        nk = [R(sum(rows[n]["resp"][k] for n in range(N))) for k in range(K)]
        sum_rx = [[R(sum(rows[n]["resp"][k] * x[n][i] for n in range(N))) for i in range(2)]
                  for k in range(K)]
        w = [R(nk[k] / N) for k in range(K)]
        mu = [[R(sum_rx[k][i] / nk[k]) for i in range(2)] for k in range(K)]
        scatter = [[[R(sum(rows[n]["resp"][k] * (x[n][i] - mu[k][i]) * (x[n][j] - mu[k][j])
                           for n in range(N))) for j in range(2)] for i in range(2)]
                   for k in range(K)]
        sig = [[[R(scatter[k][i][j] / nk[k]) for j in range(2)] for i in range(2)]
               for k in range(K)]
        out.append({"det": det, "inv": inv, "norm": norm, "rows": rows, "nk": nk,
                    "sum_rx": sum_rx, "weights": w, "means": mu, "scatter": scatter,
                    "covs": sig, "log_likelihood": R(sum(r["log_mixture"] for r in rows))})
    return out


HAND_2D = {
    "lecture plane": {"data": [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]],
                      "weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
                      "covs": [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]]},
    "correlated": {"data": [[1.5, 2], [2, 3.5], [3, 3], [6, 5.5], [7, 6], [6.5, 7.5], [4, 4]],
                   "weights": [0.4, 0.6], "means": [[2, 3], [6, 6]],
                   "covs": [[[1, 0.3], [0.3, 2]], [[2, -0.5], [-0.5, 1.5]]]},
}


@pytest.mark.parametrize("name", sorted(HAND_2D))
def test_a_2d_hand_calculation_is_the_page_of_rounded_2x2_matrices(name):
    """--carry rounded with d = 2: every determinant, inverse entry, c_k, entry of
    Sigma^-1 (x - mu), Delta^2, exponent, density, p(x_n), r_nk, N_k, weighted sum, new
    weight, mean, scatter entry and covariance entry of two iterations is the hand
    calculation written out in this test, and every printed line of the page holds
    (the independent checker), in KaTeX."""
    from fractions import Fraction

    from mdcheck import katex_failures, math_spans, table_problems

    case = HAND_2D[name]
    spec = {"data": case["data"], "components": 2,
            "init": {"weights": case["weights"], "means": case["means"],
                     "covariances": case["covs"]},
            "stop": {"iterations": 2}, "display": {"detail": "all", "carry": "rounded"}}
    trace = run(validate(spec))
    hand = hand_2d(case["data"], case["weights"], case["means"], case["covs"], 3, 2)
    # A double as the short decimal it stands for (12 significant digits: a value kept as
    # its log reads 0.07999999999999999 for 0.08, 6.30000000000001e-07 for 6.3e-07)
    F = lambda v: Fraction(f"{float(v):.12g}")  # noqa: E731
    for it, h in zip(trace.iterations, hand):
        d = it.estep.detail
        assert [F(v) for v in d.determinant] == h["det"]
        assert [[[F(v) for v in r] for r in m] for m in d.inverse] == h["inv"]
        assert [F(v) for v in d.norm_const] == h["norm"]
        for n, row in enumerate(h["rows"]):
            assert [[F(v) for v in p] for p in d.precision_deviation[n]] == row["pdev"]
            assert [F(v) for v in d.mahalanobis[n]] == row["maha"]
            assert [F(v) for v in d.exponent[n]] == row["exponent"]
            assert [F(v) for v in d.density[n]] == row["density"], (n, d.density[n])
            assert F(d.mixture_density[n]) == row["mixture"]
            assert [F(v) for v in d.resp[n]] == row["resp"]
        m = it.mstep
        assert [F(v) for v in m.nk] == h["nk"]
        assert [[F(v) for v in r] for r in m.sum_rx] == h["sum_rx"]
        assert [F(v) for v in m.params.weights] == h["weights"]
        assert [[F(v) for v in r] for r in m.params.means] == h["means"]
        assert [[[F(v) for v in r] for r in s] for s in m.sum_rsq] == h["scatter"]
        assert [[[F(v) for v in r] for r in s] for s in m.params.variances] == h["covs"]
        assert F(it.log_likelihood) == h["log_likelihood"]
    page = render_markdown(trace)
    result = check_markdown(page)
    assert result.failures == [] and result.checked > 60
    assert katex_failures(math_spans(page)) == [] and table_problems(page) == []
    assert "Its numbers can end a few units of the last decimal away" in page


def test_a_rounded_carry_of_3x3_matrices_is_refused():
    spec = {"data": [[0, 0, 0], [1, 1, 1], [5, 5, 5], [6, 6, 6]], "components": 2,
            "init": {"weights": [0.5, 0.5], "means": [[0, 0, 0], [5, 5, 5]],
                     "covariances": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]] * 2},
            "display": {"carry": "rounded"}}
    from explainer.errors import ProblemError

    with pytest.raises(ProblemError, match="display.carry: a rounded carry is for 1-D "
                                           "problems and 2 x 2 matrices"):
        validate(spec)


def test_row_sums_speak_of_every_row_and_say_when_the_carry_is_too_coarse():
    """The sentence over the table of responsibilities gives the smallest and largest
    row sum of every row, also of rows the table leaves out; a carry whose rows stray
    from 1 by more than 0.05, or with a responsibility above 1, says that it carries too
    few decimals. Checked against the page's own printed table."""
    x = [0, 0.4, 1.1, 1.5, 9.6, 2.2, 2.9, 3.3, 4.1, 4.6, 5.2, 5.8, 6.1, 7.7, 8.4, 9.0]
    spec = hand(given_spec(x, [0.5, 0.5], [1, 8], [0.3, 0.3], iterations=1,
                           display={"decimals": 2}))
    said = re.compile(r"a row adds up to between \$([0-9.]+)\$ and \$([0-9.]+)\$ at 2 "
                      r"decimals, not always to exactly 1(.*?)\):\n")
    whole = render_markdown(run(validate(spec)))
    table = whole.split("Here are the responsibilities of all points")[1].split("\n\n")[1]
    rows = [numbers(line.split("|", 2)[2]) for line in table.splitlines()[2:]]
    assert len(rows) == len(x)
    sums = [sum(r) for r in rows]
    low, high, rest = said.search(whole).groups()
    # (said at the decimals carried: 0.50 for 0.5 + 1.1e-52)
    assert (Fraction(low), Fraction(high)) == (Fraction(round(min(sums) * 100), 100),
                                               Fraction(round(max(sums) * 100), 100))
    assert max(1 - min(sums), max(sums) - 1) > Fraction(1, 20)  # (the case asked for)
    assert "2 decimals are too few for these densities" in rest
    assert ("a responsibility above 1" in rest) == (max(max(r) for r in rows) > 1)
    # Four rows shown: the sentence is the same, of every row.
    few = render_markdown(run(validate({**spec, "display": {**spec["display"],
                                                             "max_rows": 4}})))
    assert said.search(few).groups() == (low, high, rest)
    # Enough decimals: rows close to 1, nothing to advise.
    fine = render_markdown(run(validate({**spec, "display": {**spec["display"],
                                                              "decimals": 6}})))
    assert "too few for these densities" not in fine


def test_the_note_on_scientific_notation_is_true_of_a_hand_calculation():
    """A hand calculation carries a value too small for its decimals with two significant
    digits; its note says so (it said 'at least three', of numbers printed with two)."""
    page = render_markdown(run(validate(PROBLEMS["far"])))
    note = re.search(r"Numbers too small for (\d+) decimals \(at most \$5 \\times "
                     r"10\^\{-(\d+)\}\$\) are carried in scientific notation with two "
                     r"significant digits", page)
    assert note and int(note.group(2)) == int(note.group(1)) + 1
    assert "at least three significant digits" not in page
    table = page.split("Here are the responsibilities of all points")[1].split("\n\n")[1]
    mantissas = re.findall(r"(\d\.\d+) \\times 10\^\{-\d+\}", table)
    assert mantissas and all(len(m) == 3 for m in mantissas), mantissas
