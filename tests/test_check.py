"""Grading hand-worked answers: em-explainer check.

The expected marks are worked out here by hand from the lecture example's formulas.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT
from explainer.errors import ProblemError
from explainer.grading import grade, read_answers
from explainer.validation import load_problem, problem_from

LECTURE = EXAMPLES / "lecture" / "lecture.yaml"
X = [1, 2, 5, 8, 9]


def lecture_by_hand():
    """The lecture example's first iteration from its formulas: equal priors and
    variances cancel, r_n1 = 1 / (1 + exp(((x - 2)^2 - (x - 8)^2) / 4))."""
    r1 = [1 / (1 + math.exp(((x - 2) ** 2 - (x - 8) ** 2) / 4)) for x in X]
    n1 = sum(r1)
    mu1 = sum(r * x for r, x in zip(r1, X)) / n1
    r2 = [1 - r for r in r1]
    mu2 = sum(r * x for r, x in zip(r2, X)) / sum(r2)
    return r1, n1, mu1, mu2


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def marks(result):
    return {row["quantity"]: row["status"] for row in result["rows"]}


def test_correct_answers_score_full(tmp_path):
    r1, n1, mu1, mu2 = lecture_by_hand()
    rows = [(f"r[{n + 1},1]", f"{r:.3f}") for n, r in enumerate(r1)]
    rows += [("N[1]", f"{n1:.3f}"), ("pi[1]", f"{n1 / 5:.3f}"), ("mu[1]", f"{mu1:.3f}"),
             ("mu[2]", f"{mu2:.3f}")]
    path = tmp_path / "answers.csv"
    path.write_text("quantity,value\n" + "".join(f"{q},{v}\n" for q, v in rows))
    result = grade(load_problem(LECTURE), read_answers(path))
    assert result["score"] == result["out_of"] == len(rows)
    assert set(marks(result).values()) == {"correct"}


def test_one_wrong_responsibility_and_what_follows_from_it(tmp_path):
    """r_31 = 0.6 instead of 0.5: wrong. N_1, pi_1, mu_1 computed from it: follow-through.
    mu_2 does not use r_31 (r_32 is answered correctly): correct."""
    r1, _, _, mu2 = lecture_by_hand()
    mine = [round(r, 3) for r in r1]
    mine[2] = 0.6
    n1 = sum(mine)                                   # 2.600
    mu1 = sum(r * x for r, x in zip(mine, X)) / n1   # 6.0 / 2.6 = 2.308
    answers = {"r[1,1]": mine[0], "r[2,1]": mine[1], "r[3,1]": 0.6, "r[4,1]": mine[3],
               "r[5,1]": mine[4], "r[3,2]": 0.5, "N[1]": round(n1, 3),
               "pi[1]": round(n1 / 5, 3), "mu[1]": round(mu1, 3), "mu[2]": round(mu2, 3)}
    path = tmp_path / "answers.yaml"
    path.write_text("".join(f'"{q}": {v}\n' for q, v in answers.items()))
    result = grade(load_problem(LECTURE), read_answers(path))
    got = marks(result)
    assert got["it1.r[3,1]"] == "wrong"
    assert got["it1.N[1]"] == got["it1.pi[1]"] == got["it1.mu[1]"] == "follow-through"
    assert got["it1.r[3,2]"] == got["it1.mu[2]"] == got["it1.r[1,1]"] == "correct"
    assert result["score"] == len(answers) - 1
    assert "it1.r[3,1]" in result["steps"]


def test_a_single_slip_in_r31_costs_exactly_one_mark(tmp_path):
    """r_31 = 0.6 instead of 0.5, and everything after it computed from it as a student
    would: r_32 = 1 - r_31 = 0.4, N_k, pi_k, mu_k from those. One mark lost, once."""
    r1, _, _, _ = lecture_by_hand()
    mine1 = [round(r, 3) for r in r1]
    mine1[2] = 0.6
    mine2 = [round(1 - r, 3) for r in mine1]
    answers = {f"r[{n + 1},{k + 1}]": r[n] for n in range(5)
               for k, r in enumerate((mine1, mine2))}
    for k, r in enumerate((mine1, mine2), start=1):
        nk = sum(r)
        answers[f"N[{k}]"] = round(nk, 3)
        answers[f"pi[{k}]"] = round(nk / 5, 3)
        answers[f"mu[{k}]"] = round(sum(a * x for a, x in zip(r, X)) / nk, 3)
    path = tmp_path / "answers.yaml"
    path.write_text("".join(f'"{q}": {v}\n' for q, v in answers.items()))
    result = grade(load_problem(LECTURE), read_answers(path))
    got = marks(result)
    assert [q for q, m in got.items() if m == "wrong"] == ["it1.r[3,1]"]
    assert got["it1.r[3,2]"] == "follow-through"
    assert result["score"] == len(answers) - 1


def test_a_slip_in_p_of_x_is_marked_once(tmp_path):
    """Three components: a student divides point 3's weighted densities by a wrong
    p(x_3) (1.25 times too large): r_31, r_32, r_33 all off by the same factor. The
    first is wrong; the others are what that p(x_3) gives: follow-through."""
    spec = {"data": [-3, -1, 0, 2, 5], "components": 3,
            "init": {"weights": [0.2, 0.3, 0.5], "means": [-2, 0, 3],
                     "variances": [1, 2, 4]}, "stop": {"iterations": 1}}
    w = [pi * math.exp(-(0 - m) ** 2 / (2 * v)) / math.sqrt(2 * math.pi * v)
         for pi, m, v in zip([0.2, 0.3, 0.5], [-2, 0, 3], [1, 2, 4])]
    slip = [wk / (1.25 * sum(w)) for wk in w]
    answers = {f"r[3,{k + 1}]": round(r, 3) for k, r in enumerate(slip)}
    path = tmp_path / "answers.yaml"
    path.write_text("".join(f'"{q}": {v}\n' for q, v in answers.items()))
    result = grade(problem_from(spec), read_answers(path))
    got = marks(result)
    assert got == {"it1.r[3,1]": "wrong", "it1.r[3,2]": "follow-through",
                   "it1.r[3,3]": "follow-through"}


def test_a_hand_calculation_with_rounded_intermediates_is_accepted(tmp_path):
    # mu_1 = 2.201 with three-decimal intermediates (see test_exact), 2.200 exactly.
    path = tmp_path / "a.csv"
    path.write_text("mu[1],2.201\nmu[2],7.9\n")
    result = grade(load_problem(LECTURE), read_answers(path))
    first, second = result["rows"]
    assert first["status"] == "correct" and first["note"] == "carry"
    assert second["status"] == "wrong"


def test_follow_through_into_the_next_iteration(tmp_path):
    """A wrong mu_1 in iteration 1: iteration 2's r_31 from the student's mu_1 = 3 is
    1 / (1 + exp(((5 - 3)^2 - (5 - mu_2)^2) / 4)) -- follow-through."""
    problem = problem_from(LECTURE, iterations=2)
    _, _, _, mu2 = lecture_by_hand()
    r31 = 1 / (1 + math.exp(((5 - 3) ** 2 - (5 - mu2) ** 2) / 4))
    path = tmp_path / "a.csv"
    path.write_text(f"mu[1],3\nmu[2],{mu2:.3f}\nit2.r[3,1],{r31:.3f}\n")
    got = marks(grade(problem, read_answers(path)))
    assert got == {"it1.mu[1]": "wrong", "it1.mu[2]": "correct",
                   "it2.r[3,1]": "follow-through"}


def test_missing_values_and_the_report(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('"r[3,1]",0.6\nN[1],\n')
    result = cli("check", str(LECTURE), str(path))
    assert result.returncode == 0, result.stderr
    assert "**Score: 0 / 2**" in result.stdout
    assert "| `it1.N[1]` | — | missing |" in result.stdout
    assert "r_{3,1} = " in result.stdout  # the step of the wrong answer
    data = json.loads(cli("check", str(LECTURE), str(path), "--format", "json").stdout)
    assert data["counts"] == {"correct": 0, "follow-through": 0, "wrong": 1, "missing": 1}


@pytest.mark.parametrize("text,message", [
    ("r[3,1],abc\n", "answers (line 1) (r[3,1]): expected a number"),
    ("mean[1],2\n", "unknown quantity 'mean[1]'"),
    ("r[9,1],0.5\n", "n is a point, 1 to 5"),
    ("mu[3],2\n", "k is a component, 1 to 2"),
    ("it2.mu[1],2\n", "the problem runs 1 iteration(s)"),
    ("mu,2\n", "expected mu[k]"),
    ("mu[1],2\nmu[1],3\n", "answered twice"),
    ("mu[1],__import__('os')\n", "expected a number"),
])
def test_bad_answers_are_clear_errors(tmp_path, text, message):
    path = tmp_path / "a.csv"
    path.write_text(text)
    with pytest.raises(ProblemError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        grade(load_problem(LECTURE), read_answers(path))
    result = cli("check", str(LECTURE), str(path))
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_the_report_renders(tmp_path):
    """Every kind of step written out; its math renders with KaTeX, its table is whole."""
    from mdcheck import katex_failures, math_spans, table_problems

    path = tmp_path / "a.csv"
    path.write_text("r[2,1],0.1\nN[2],1\npi[1],0.9\nmu[2],1\nvar[1],9\nloglik,1\n"
                    "it2.mu[1],\n")
    result = cli("check", str(EXAMPLES / "heights" / "heights.yaml"), str(path))
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert report.count("**wrong**") == 6
    assert katex_failures(math_spans(report)) == []
    assert table_problems(report) == []
    # The working's steps: a Gaussian's (heights), the coins' and a categorical's.
    categorical = tmp_path / "categorical.yaml"
    categorical.write_text("data: [red, blue, red, green]\ncomponents: 2\n"
                           "model: {family: categorical, categories: [red, green, blue]}\n"
                           "init: {weights: [0.5, 0.5], probs: [[0.5, 0.3, 0.2], "
                           "[0.2, 0.3, 0.5]]}\nstop: {iterations: 1}\n")
    for spec, answers, wrong in (
            (EXAMPLES / "heights" / "heights.yaml",
             "dens[1,1],9\npx[2],9\nsx[1],1\nss[2],1\n", 4),
            (EXAMPLES / "coins" / "coins.yaml", "dens[1,1],9\nsx[1],1\nsf[2],1\n", 3),
            (categorical, "px[1],9\nsx[1,2],9\n", 2)):
        path.write_text(answers)
        report = cli("check", str(spec), str(path)).stdout
        assert report.count("**wrong**") == wrong
        assert katex_failures(math_spans(report)) == []
        assert table_problems(report) == []
    assert r"\sum_n r_{n1} [x_n = 2]" in report


def test_answers_that_lead_to_no_number_are_just_wrong(tmp_path):
    """N_1 = 0 and a negative variance: what follows from them is no number, so nothing
    is follow-through, and nothing crashes or warns."""
    path = tmp_path / "a.csv"
    path.write_text("N[1],0\nmu[1],5\nvar[1],-1\nit2.r[1,1],0.5\n")
    result = cli("check", str(EXAMPLES / "heights" / "heights.yaml"), str(path), "--format",
                 "json")
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["counts"]["wrong"] == 4
    assert all(row["led_to"] is None or math.isfinite(row["led_to"]) for row in data["rows"])


# --------------------------------------------------------------------------- d = 2

HAND_2D = EXAMPLES / "hand-2d" / "hand-2d.yaml"


def _sklearn_iterations(problem, count):
    """Weights, means and covariances after each of *count* EM iterations, from
    scikit-learn (reg_covar=0, tol=0, every *_init given; max_iter=i stops after i
    M-steps)."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    out = []
    for i in range(1, count + 1):
        gm = GaussianMixture(problem.components, covariance_type="full", tol=0, reg_covar=0,
                             max_iter=i, weights_init=problem.weights, means_init=problem.means,
                             precisions_init=np.linalg.inv(problem.variances))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(problem.data)
        out.append((gm.weights_, gm.means_, gm.covariances_))
    return out


def _answers_2d(problem):
    rows = []
    for it, (w, m, c) in enumerate(_sklearn_iterations(problem, 2), start=1):
        for k in range(problem.components):
            rows.append((f"it{it}.pi[{k + 1}]", w[k]))
            rows += [(f"it{it}.mu[{k + 1}][{i + 1}]", m[k, i]) for i in range(2)]
            rows += [(f"it{it}.cov[{k + 1}][{i + 1},{j + 1}]", c[k, i, j])
                     for i in range(2) for j in range(2)]
    return rows


def test_d2_answers_are_graded_entry_by_entry_against_scikit_learn(tmp_path):
    """mu[k][i] and cov[k][i,j]: scikit-learn's two iterations, to three decimals, score
    full marks; one wrong entry of iteration 1's mean is one wrong answer, and iteration
    2, computed from it, follows through; a bad index is a clear error."""
    problem = load_problem(HAND_2D)
    rows = _answers_2d(problem)
    path = tmp_path / "a.csv"
    path.write_text("".join(f'"{q}",{v:.3f}\n' for q, v in rows))
    result = grade(problem, read_answers(path))
    assert result["score"] == result["out_of"] == len(rows) == 2 * 2 * 7
    slip = "it1.mu[2][1]"
    path.write_text("".join(f'"{q}",{v + (0.3 if q == slip else 0):.3f}\n' for q, v in rows
                            if q.startswith("it1.")))
    result = grade(problem, read_answers(path))
    assert {q: s for q, s in marks(result).items() if s != "correct"} == {slip: "wrong"}
    assert "\\mu_{2,1}" in cli("check", str(HAND_2D), str(path)).stdout
    # The slip carried into iteration 2 (its covariance from the wrong mean) follows
    # through: what the wrong mean leads to, not scikit-learn's.
    import numpy as np

    # The M-step written out here: responsibilities of the given start (scipy), the
    # scatter of component 2 around the student's wrong mean.
    from scipy.stats import multivariate_normal

    x = np.asarray(problem.data, dtype=float)
    weighted = np.column_stack([problem.weights[k] * multivariate_normal(
        problem.means[k], problem.variances[k]).pdf(x) for k in range(2)])
    r2 = (weighted / weighted.sum(axis=1, keepdims=True))[:, 1]
    wrong_mean = (r2 @ x) / r2.sum()
    wrong_mean[0] = round(wrong_mean[0], 3) + 0.3
    led = float(r2 @ (x[:, 0] - wrong_mean[0]) ** 2 / r2.sum())
    right = dict(rows)["it1.cov[2][1,1]"]
    assert abs(led - right) > 0.01
    path.write_text(f'"it1.mu[2][1]",{wrong_mean[0]:.3f}\n"it1.cov[2][1,1]",{led:.3f}\n')
    assert marks(grade(problem, read_answers(path))) == {slip: "wrong",
                                                         "it1.cov[2][1,1]": "follow-through"}
    # The hand calculation's 2 x 2 matrices (written out in test_hand_calculation, with
    # fractions) are right too: its mu_1 is 0.432 where full precision gives 0.431.
    from test_hand_calculation import hand_2d

    hand = hand_2d(problem.data.tolist(), [0.5, 0.5], [[0, 0], [4, 4]],
                   [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]], 3, 1)[0]
    mine = float(hand["means"][0][0])
    assert round(dict(rows)["it1.mu[1][1]"], 3) != mine
    path.write_text(f'"it1.mu[1][1]",{mine}\n')
    result = grade(problem, read_answers(path))
    assert marks(result) == {"it1.mu[1][1]": "correct"}
    assert result["rows"][0]["note"] == "carry"
    for text, message in (("mu[1],1", "expected mu\\[k\\]\\[i\\]"),
                          ("mu[1][3],1", "i is a coordinate, 1 to 2"),
                          ("cov[1][1],1", "expected cov\\[k\\]\\[i,j\\]"),
                          ("var[1],1", "unknown quantity 'var\\[1\\]'.*cov\\[k\\]\\[i,j\\]"),
                          ("moves,1", "unknown quantity")):
        path.write_text(text + "\n")
        with pytest.raises(ProblemError, match=message):
            grade(problem, read_answers(path))


def test_a_wrong_weight_of_a_vector_family_is_written_out(tmp_path):
    """A wrong N_k of a categorical mixture (its sums are vectors) is marked with its
    step (it used to be an internal fault)."""
    problem = problem_from({"model": {"family": "categorical", "categories": ["a", "b", "c"]},
                            "data": ["a", "b", "c", "a", "a", "b"], "components": 2,
                            "init": {"weights": [0.5, 0.5],
                                     "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
                            "stop": {"iterations": 1}})
    path = tmp_path / "a.csv"
    path.write_text("N[1],9.9\npi[2],0.9\n")
    result = grade(problem, read_answers(path))
    assert marks(result) == {"it1.N[1]": "wrong", "it1.pi[2]": "wrong"}
    assert set(result["steps"]) == {"it1.N[1]", "it1.pi[2]"}


def test_the_report_echoes_answers_as_typed(tmp_path):
    """A student's 6.840 is shown as 6.840 (not 6.84), a fraction as written; a number
    written in other digits (Arabic-Indic, which Python reads) by its value."""
    r1, n1, mu1, _ = lecture_by_hand()
    rows = [("r[1,1]", f"{r1[0]:.3f}"), ("N[1]", f"{n1:.3f}0"), ("mu[1]", "1/2"),
            ("pi[1]", "\u0660.5")]
    path = tmp_path / "answers.csv"
    path.write_text("quantity,value\n" + "".join(f"{q},{v}\n" for q, v in rows))
    report = cli("check", str(LECTURE), str(path))
    assert report.returncode == 0, report.stderr
    cells = {line.split("|")[1].strip(" `"): line.split("|")[2].strip()
             for line in report.stdout.splitlines() if line.startswith("| `")}
    assert cells["it1.N[1]"] == f"${n1:.3f}0$" and cells["it1.r[1,1]"] == f"${r1[0]:.3f}$"
    assert cells["it1.mu[1]"] == "$1/2$" and cells["it1.pi[1]"] == "$0.5$"


# --------------------------------------------------------------------------- the working

def test_the_working_is_graded_against_scipy(tmp_path):
    """The densities, p(x_n) and the M-step's weighted sums as the pages write them, made
    here with scipy.stats and numpy: a 1-D problem with unequal variances (its densities
    keep their constant), the coins (the binomial coefficient kept), and the plane (the
    scatter matrices around the new means), every one correct at 4 decimals."""
    import numpy as np
    from scipy import stats

    one_d = problem_from({"data": [1, 2, 4.5, 7, 8.5, 9], "components": 2,
                          "init": {"weights": [0.4, 0.6], "means": [2, 8],
                                   "variances": [1, 3]},
                          "stop": {"iterations": 1}, "display": {"decimals": 4}})
    x = np.array([1, 2, 4.5, 7, 8.5, 9])
    dens = stats.norm.pdf(x[:, None], [2, 8], np.sqrt([1, 3]))
    px = dens @ [0.4, 0.6]
    r = dens * [0.4, 0.6] / px[:, None]
    mu = r.T @ x / r.sum(axis=0)
    ss = (r * (x[:, None] - mu) ** 2).sum(axis=0)
    rows = [(f"dens[{n + 1},{k + 1}]", dens[n, k]) for n in range(6) for k in range(2)]
    rows += [(f"px[{n + 1}]", px[n]) for n in range(6)]
    rows += [(f"sx[{k + 1}]", (r.T @ x)[k]) for k in range(2)]
    rows += [(f"ss[{k + 1}]", ss[k]) for k in range(2)]
    coins = load_problem(EXAMPLES / "coins" / "coins.yaml")
    heads = np.array([5, 9, 8, 4, 7])
    cdens = stats.binom.pmf(heads[:, None], 10, [0.6, 0.5])
    cr = cdens / cdens.sum(axis=1, keepdims=True)
    crows = [(f"dens[{n + 1},{k + 1}]", cdens[n, k]) for n in range(5) for k in range(2)]
    crows += [(f"px[{n + 1}]", cdens[n] @ [0.5, 0.5]) for n in range(5)]
    crows += [(f"sx[{k + 1}]", (cr.T @ heads)[k]) for k in range(2)]
    crows += [(f"sf[{k + 1}]", (cr.T @ (10 - heads))[k]) for k in range(2)]
    plane = load_problem(HAND_2D)
    px2 = np.asarray(plane.data, dtype=float)
    pdens = np.column_stack([stats.multivariate_normal(plane.means[k], plane.variances[k])
                             .pdf(px2) for k in range(2)])
    pr = pdens * plane.weights / (pdens @ plane.weights)[:, None]
    means = pr.T @ px2 / pr.sum(axis=0)[:, None]
    prows = [(f"dens[{n + 1},{k + 1}]", pdens[n, k]) for n in range(6) for k in range(2)]
    prows += [(f"sx[{k + 1}][{i + 1}]", (pr.T @ px2)[k, i]) for k in range(2) for i in range(2)]
    for k in range(2):
        dev = px2 - means[k]
        scatter = (pr[:, k, None] * dev).T @ dev
        prows += [(f"ss[{k + 1}][{i + 1},{j + 1}]", scatter[i, j])
                  for i in range(2) for j in range(2)]
    for problem, answers in ((one_d, rows), (coins, crows), (plane, prows)):
        path = tmp_path / "a.csv"
        path.write_text("".join(f'"{q}",{v:.4f}\n' for q, v in answers))
        result = grade(problem, read_answers(path))
        assert set(marks(result).values()) == {"correct"}, marks(result)
        assert result["score"] == len(answers)


def test_a_wrong_density_is_carried_through_p_r_and_the_means(tmp_path):
    """The lecture's density of x_3 under component 1 slipped (0.2 for e^{-9/4}): wrong;
    then p(x_3), r_31, the weighted sum and mu_1 each computed from the student's own
    value, by the formulas written out here: follow-through, each one."""
    r1, _, _, _ = lecture_by_hand()
    p3 = 0.5 * 0.2 + 0.5 * math.exp(-9 / 4)
    r31 = 0.5 * 0.2 / p3
    r = list(r1)
    r[2] = round(r31, 4)
    n1 = sum(round(v, 4) for v in r)
    sx1 = sum(round(v, 4) * x for v, x in zip(r, X))
    rows = [("dens[3,1]", "0.2"), ("dens[3,2]", f"{math.exp(-9 / 4):.4f}"),
            ("px[3]", f"{p3:.4f}"), ("r[3,1]", f"{r31:.4f}")]
    rows += [(f"r[{n + 1},1]", f"{r[n]:.4f}") for n in (0, 1, 3, 4)]
    rows += [("N[1]", f"{n1:.4f}"), ("sx[1]", f"{sx1:.3f}"), ("mu[1]", f"{sx1 / n1:.3f}")]
    path = tmp_path / "a.csv"
    path.write_text("".join(f'"{q}",{v}\n' for q, v in rows))
    got = marks(grade(load_problem(LECTURE), read_answers(path)))
    assert {q: s for q, s in got.items() if s != "correct"} == {
        "it1.dens[3,1]": "wrong", "it1.px[3]": "follow-through",
        "it1.r[3,1]": "follow-through", "it1.N[1]": "follow-through",
        "it1.sx[1]": "follow-through", "it1.mu[1]": "follow-through"}
    # A mean from a slipped sum: 5.9 / N_1 follows the student's sum, not the right one.
    path.write_text(f'"sx[1]",5.9\n"mu[1]",{5.9 / sum(r1):.3f}\n')
    assert marks(grade(load_problem(LECTURE), read_answers(path))) == {
        "it1.sx[1]": "wrong", "it1.mu[1]": "follow-through"}


def test_the_binomial_keeps_its_failures_under_a_slipped_sum(tmp_path):
    """The coins: a slipped sum of expected successes S', then p_1 = S' / (S' + F) with
    the right expected failures F (the page's table): follow-through; and a slipped F'
    with p_1 = S / (S + F'), the same."""
    import numpy as np
    from scipy import stats

    heads = np.array([5, 9, 8, 4, 7])
    dens = stats.binom.pmf(heads[:, None], 10, [0.6, 0.5])
    r = dens[:, 0] / dens.sum(axis=1)
    failures = (r * (10 - heads)).sum()
    slipped = round((r * heads).sum() + 1.5, 3)
    path = tmp_path / "a.csv"
    path.write_text(f'"sx[1]",{slipped}\n"p[1]",{slipped / (slipped + failures):.3f}\n')
    coins = load_problem(EXAMPLES / "coins" / "coins.yaml")
    assert marks(grade(coins, read_answers(path))) == {"it1.sx[1]": "wrong",
                                                       "it1.p[1]": "follow-through"}
    successes, wrong = (r * heads).sum(), round(failures + 1, 3)
    path.write_text(f'"sx[1]",{successes:.3f}\n"sf[1]",{wrong}\n'
                    f'"p[1]",{successes / (successes + wrong):.3f}\n')
    assert marks(grade(coins, read_answers(path))) == {
        "it1.sx[1]": "correct", "it1.sf[1]": "wrong", "it1.p[1]": "follow-through"}


@pytest.mark.parametrize("spec, text, message", [
    (LECTURE, "dens[1],1", "expected dens\\[n,k\\]"),
    (LECTURE, "px[1,1],1", "expected px\\[n\\]"),
    (LECTURE, "px[9],1", "n is a point, 1 to 5"),
    (LECTURE, "sx[1][1],1", "a second \\[...\\] is for a d >= 2"),
    (LECTURE, "sum[1],1", ("unknown quantity 'sum\\[1\\]'.*dens\\[n,k\\], px\\[n\\], "
                           "sx\\[k\\], ss\\[k\\]")),
    (EXAMPLES / "coins" / "coins.yaml", "ss[1],1",
     "unknown quantity 'ss\\[1\\]'.*sx\\[k\\], sf\\[k\\]"),
    (LECTURE, "sf[1],1", "unknown quantity 'sf\\[1\\]'"),
    (HAND_2D, "ss[1][1],1", "expected ss\\[k\\]\\[i,j\\]"),
    (HAND_2D, "sx[1][3],1", "i is a coordinate, 1 to 2"),
])
def test_bad_working_names_are_clear_errors(tmp_path, spec, text, message):
    path = tmp_path / "a.csv"
    path.write_text(text + "\n")
    with pytest.raises(ProblemError, match=message):
        grade(load_problem(spec), read_answers(path))
