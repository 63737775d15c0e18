"""Named mistakes (explainer/grading/mistakes.py): each mistake of the catalogue, made by
hand in the test (scipy.stats and formulas written out here, not the implementation's
values), is named by ``check``; right answers, follow-through and unrelated slips are
not; the catalogue is data a page's script can read."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from conftest import EXAMPLES
from scipy import stats

from explainer.grading import grade
from explainer.grading.mistakes import MISTAKES, candidates, evaluate
from explainer.validation import load_problem, problem_from

GAUSS = {"data": [1, 2, 4.5, 7, 8.5, 9], "components": 2,
         "init": {"weights": [0.4, 0.6], "means": [2, 8], "variances": [1, 3]},
         "stop": {"iterations": 1}, "display": {"decimals": 4}}
X = np.array(GAUSS["data"], dtype=float)
PI, MU, VAR = np.array([0.4, 0.6]), np.array([2.0, 8.0]), np.array([1.0, 3.0])


def _named(problem, quantity: str, value: float, decimals: int = 6) -> tuple[str, dict]:
    """check's verdict on one answer, written to *decimals*: its status and mistake."""
    text = f"{value:.{decimals}f}"
    row = grade(problem, [("answers", quantity, text)])["rows"][0]
    return row["status"], row["mistake"]


def _gauss_estep(variances=VAR, constant=True):
    dens = stats.norm.pdf(X[:, None], MU[None, :], np.sqrt(variances)[None, :])
    if not constant:
        dens = np.exp(-(X[:, None] - MU[None, :]) ** 2 / (2 * variances[None, :]))
    weighted = PI * dens
    return dens, weighted, weighted.sum(axis=1)


def _row_share(weighted, n, k):
    return weighted[n, k] / weighted[n].sum()


DENS, WEIGHTED, P = _gauss_estep()
R = WEIGHTED / P[:, None]
NK = R.sum(axis=0)
MU_NEW = (R * X[:, None]).sum(axis=0) / NK
VAR_NEW = (R * (X[:, None] - MU_NEW) ** 2).sum(axis=0) / NK


@pytest.mark.parametrize("quantity, value, name", [
    ("r[3,1]", WEIGHTED[2, 0], "forgot to normalise"),
    ("r[3,2]", DENS[2, 1] / P[2], "the weight left out of the numerator"),
    ("r[3,1]", DENS[2, 0] / DENS[2].sum(), "the weights left out"),
    ("r[3,1]", WEIGHTED[2, 0] / P[3], "the mixture density of another point"),
    ("r[3,1]", _row_share(_gauss_estep(np.sqrt(VAR))[1], 2, 0), "σ used for σ²"),
    ("r[3,1]", _row_share(_gauss_estep(constant=False)[1], 2, 0),
     "the normal constant dropped with unequal variances"),
    ("loglik", np.log(_gauss_estep(np.sqrt(VAR))[2]).sum(), "σ used for σ²"),
    ("loglik", np.log10(P).sum(), "log base 10 for the natural log"),
    ("loglik", np.log(_gauss_estep(constant=False)[2]).sum(),
     "the normal constant left out of the log-likelihood"),
    ("pi[2]", NK[1], "N_k not divided by N"),
    ("mu[1]", (R[:, 0] * X).sum() / len(X), "divided by N instead of N_k"),
    ("var[2]", (R[:, 1] * (X - MU_NEW[1]) ** 2).sum() / len(X), "divided by N instead of N_k"),
    ("var[2]", (R[:, 1] * (X - MU[1]) ** 2).sum() / NK[1], "the old mean used in the variance"),
    ("var[1]", math.sqrt(VAR_NEW[0]), "σ used for σ²"),
    # the working: a density, a mixture density, a weighted sum of squares
    ("dens[3,2]", _gauss_estep(np.sqrt(VAR))[0][2, 1], "σ used for σ²"),
    ("dens[3,2]", _gauss_estep(constant=False)[0][2, 1],
     "the normal constant dropped with unequal variances"),
    ("px[3]", _gauss_estep(np.sqrt(VAR))[2][2], "σ used for σ²"),
    ("px[3]", DENS[2].sum(), "the weights left out"),
    ("ss[2]", (R[:, 1] * (X - MU[1]) ** 2).sum(), "the old mean used in the variance"),
])
def test_a_gaussian_mistake_is_named(quantity, value, name):
    status, mistake = _named(problem_from(GAUSS), quantity, value)
    assert status == "wrong" and mistake is not None, (quantity, value)
    assert mistake["name"] == name
    assert mistake["value"] == pytest.approx(value, abs=1e-4)


def test_a_rounding_slip_is_named_and_a_right_rounding_is_correct():
    problem = problem_from(GAUSS)
    right = MU_NEW[0]
    assert _named(problem, "mu[1]", right, 4) == ("correct", None)
    status, mistake = _named(problem, "mu[1]", right, 2)  # too few decimals
    assert (status, mistake["name"]) == ("wrong", "a rounding slip")
    assert mistake["value"] == float(f"{right:.2f}")
    # Rounded the wrong way: the other neighbour at 4 decimals (where only the
    # full-precision calculation is accepted; the rounded carries' reach it otherwise).
    scaled = right * 1e4
    wrong_way = (math.floor(scaled) if scaled - math.floor(scaled) >= 0.5
                 else math.ceil(scaled)) / 1e4
    assert _named(problem, "mu[1]", wrong_way, 4)[0] == "correct"
    status, mistake = _named(problem_from(GAUSS, grading_carry="full"), "mu[1]", wrong_way, 4)
    assert (status, mistake["name"]) == ("wrong", "a rounding slip")


def test_no_mistake_is_named_for_a_right_answer_a_follow_through_or_a_stray_value():
    problem = problem_from(GAUSS)
    assert _named(problem, "r[3,1]", R[2, 0], 4) == ("correct", None)
    assert _named(problem, "mu[2]", MU_NEW[1] + 0.37) == ("wrong", None)
    # A wrong N_1, then pi_1 computed from it: follow-through, no mistake named.
    rows = grade(problem, [("a", "N[1]", "2.5"), ("a", "pi[1]", f"{2.5 / 6:.4f}")])["rows"]
    assert [(r["status"], r["mistake"]) for r in rows] == [("wrong", None),
                                                           ("follow-through", None)]


def test_a_mistake_is_made_on_the_students_own_earlier_values():
    """N_1 answered wrong, then pi_1 written as that N_1 undivided: named, with the
    student's N_1 (the value their own answer gives)."""
    rows = grade(problem_from(GAUSS), [("a", "N[1]", "2.5"), ("a", "pi[1]", "2.5")])["rows"]
    assert rows[1]["mistake"]["name"] == "N_k not divided by N"
    assert rows[1]["mistake"]["value"] == 2.5


def test_the_lectures_density_with_its_constant_is_named():
    """The lecture's table drops the normal constant (equal variances): N(x_1 | 2, 2)
    itself typed for its entry is "the normal constant kept", and p(x_1) with it too."""
    problem = load_problem(EXAMPLES / "lecture" / "lecture.yaml")
    full = stats.norm.pdf(1, [2, 8], math.sqrt(2))
    status, mistake = _named(problem, "dens[1,1]", full[0], 4)
    assert (status, mistake["name"]) == ("wrong", "the normal constant kept")
    status, mistake = _named(problem, "px[1]", 0.5 * full.sum(), 4)
    assert (status, mistake["name"]) == ("wrong", "the normal constant kept")
    assert _named(problem, "dens[1,1]", math.exp(-0.25), 4) == ("correct", None)


def test_the_lecture_numerator_for_r11_is_forgot_to_normalise():
    """The lecture's kernel drops the normal constant: its page's numerator 0.5 e^{-1/4},
    or the density's pi_1 N(x_1 | 2, 2), is named either way."""
    problem = load_problem(EXAMPLES / "lecture" / "lecture.yaml")
    for numerator in (0.5 * math.exp(-0.25), 0.5 * stats.norm.pdf(1, 2, math.sqrt(2))):
        status, mistake = _named(problem, "r[1,1]", numerator, 4)
        assert (status, mistake["name"]) == ("wrong", "forgot to normalise")


COINS = load_problem(EXAMPLES / "coins" / "coins.yaml")


def _binomial(p, coefficient=True):
    heads = np.array([5, 9, 8, 4, 7])
    dens = stats.binom.pmf(heads[:, None], 10, np.asarray(p)[None, :])
    if not coefficient:
        dens = dens / np.array([math.comb(10, h) for h in heads])[:, None]
    return 0.5 * dens


def _example(name: str):
    """An example's spec file, and its data, weights and parameter as the spec writes them."""
    path = EXAMPLES / name / f"{name}.yaml"
    spec = yaml.safe_load(path.read_text())
    parameter = next(v for key, v in spec["init"].items() if key != "weights")
    return (path, np.array(spec["data"], dtype=float),
            np.array(spec["init"]["weights"], dtype=float), np.array(parameter, dtype=float))


CATEGORICAL = {"data": ["a", "b", "a", "c", "c", "a"], "components": 2,
               "model": {"family": "categorical", "categories": ["a", "b", "c"]},
               "init": {"weights": [0.5, 0.5], "probs": [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]]},
               "stop": {"iterations": 1}}


def _family_cases() -> list[tuple[object, str, float, str]]:
    """Each family's mistakes, made here: (spec file or mapping, quantity, the answer the
    mistake gives, its name)."""
    cases = []
    coins = EXAMPLES / "coins" / "coins.yaml"
    swapped = _binomial([0.4, 0.5])
    cases.append((coins, "r[2,1]", swapped[1, 0] / swapped[1].sum(), "p and 1 − p swapped"))
    no_coefficient = np.log(_binomial([0.6, 0.5], coefficient=False).sum(axis=1)).sum()
    cases.append((coins, "loglik", no_coefficient, "the binomial coefficient dropped"))
    cases.append((coins, "dens[2,1]", stats.binom.pmf(9, 10, 0.4), "p and 1 − p swapped"))

    path, x, pi, lam = _example("poisson")
    weighted = pi * stats.poisson.pmf(x[:, None], lam[None, :])
    r = weighted / weighted.sum(axis=1, keepdims=True)
    no_factorial = np.log((pi * lam ** x[:, None] * np.exp(-lam)).sum(axis=1)).sum()
    cases.append((path, "loglik", no_factorial, "the x! dropped"))
    cases.append((path, "lambda[1]", (r[:, 0] * x).sum() / len(x),
                  "divided by N instead of N_k"))

    path, x, pi, lam = _example("waiting")
    inverted = pi * stats.expon.pdf(x[:, None], scale=lam[None, :])  # mean lambda: 1/lambda
    cases.append((path, "r[1,1]", inverted[0, 0] / inverted[0].sum(), "λ for 1/λ"))
    cases.append((path, "px[2]", inverted[1].sum(), "λ for 1/λ"))
    weighted = pi * stats.expon.pdf(x[:, None], scale=1 / lam[None, :])
    r = weighted / weighted.sum(axis=1, keepdims=True)
    cases.append((path, "lambda[2]", (r[:, 1] * x).sum() / r[:, 1].sum(), "λ for 1/λ"))

    path, x, pi, p = _example("bernoulli")
    swapped = pi * np.prod(np.where(x[:, None, :] == 1, 1 - p[None], p[None]), axis=2)
    cases.append((path, "r[1,2]", swapped[0, 1] / swapped[0].sum(), "p and 1 − p swapped"))

    codes = np.array([0, 1, 0, 2, 2, 0])
    q = np.array(CATEGORICAL["init"]["probs"])
    weighted = 0.5 * q[:, codes].T
    r = weighted / weighted.sum(axis=1, keepdims=True)
    # q[2,3] over N, not N_2
    cases.append((CATEGORICAL, "q[2,3]", r[codes == 2, 1].sum() / len(codes),
                  "divided by N instead of N_k"))
    return cases


FAMILY_CASES = _family_cases()


def problem_of(spec):
    return problem_from(spec) if isinstance(spec, dict) else load_problem(spec)


@pytest.mark.parametrize("spec, quantity, value, name", FAMILY_CASES)
def test_a_family_mistake_is_named(spec, quantity, value, name):
    status, mistake = _named(problem_of(spec), quantity, value)
    assert (status, mistake["name"]) == ("wrong", name)
    assert mistake["value"] == pytest.approx(value, abs=1e-4)


def test_the_coins_right_log_likelihood_names_nothing():
    right = np.log(_binomial([0.6, 0.5]).sum(axis=1)).sum()
    assert _named(COINS, "loglik", right) == ("correct", None)


def test_the_catalogue_is_data_and_each_entry_is_well_formed():
    """JSON as it is (a page's script reads the same catalogue); ids unique; every
    expression evaluates on an iteration's names; an unknown name is refused."""
    assert json.loads(json.dumps(MISTAKES)) == MISTAKES
    assert len({m["id"] for m in MISTAKES}) == len(MISTAKES)
    values = {"led": 0.25, "correct": 0.25, "decimals": 3, "typed": 2, "N": 3, "K": 2,
              "x": np.array([1.0, 2.0, 4.0]), "pi0": np.array([0.5, 0.5]),
              "mu0": np.array([1.0, 3.0]), "weighted": np.full((3, 2), 0.1),
              "p": np.full(3, 0.2), "r": np.full((3, 2), 0.5), "Nk": np.array([1.5, 1.5]),
              "loglik": -4.0, "log_constant": np.zeros(3)}
    for mistake in MISTAKES:
        assert set(mistake) <= {"id", "name", "kinds", "models", "dims", "values", "each",
                                "world", "match", "explain"}
        assert mistake["explain"].endswith(".")
        assert candidates(mistake, values, {"n": 0, "k": 1}), mistake["id"]
    assert evaluate(["sum", "m", ["x", "m"]], values, {}) == 7.0
    with pytest.raises(KeyError):
        evaluate(["nonsense", "n"], values, {"n": 0})


def test_a_mistake_on_the_right_values_after_an_earlier_slip_is_named():
    """r[3,1] slipped (forgot to normalise), then pi_2 written as the right N_2: the
    student did not carry their slip on, and the mistake is named all the same."""
    rows = grade(problem_from(GAUSS), [("a", "r[3,1]", f"{WEIGHTED[2, 0]:.4f}"),
                                       ("a", "pi[2]", f"{NK[1]:.4f}")])["rows"]
    assert [r["mistake"]["name"] for r in rows] == ["forgot to normalise",
                                                    "N_k not divided by N"]


def test_check_names_the_mistake_in_markdown_and_json(tmp_path):
    import subprocess
    import sys

    answers = tmp_path / "answers.csv"
    answers.write_text(f"quantity,value\nr[1,1],{0.5 * math.exp(-0.25):.3f}\nr[3,1],0.6\n")
    lecture = str(EXAMPLES / "lecture" / "lecture.yaml")
    run = [sys.executable, "-m", "explainer", "check", lecture, str(answers)]
    text = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "| **wrong**: forgot to normalise |" in text
    assert r"divide it by $p(x_n) = \sum_j \pi_j f_j(x_n)$" in text
    rows = json.loads(subprocess.run(run + ["--format", "json"], capture_output=True,
                                     text=True, check=True).stdout)["rows"]
    assert rows[0]["mistake"]["id"] == "not-normalised"
    assert rows[0]["mistake"]["value"] == pytest.approx(0.5 * math.exp(-0.25))
    assert rows[1]["status"] == "wrong" and rows[1]["mistake"] is None
