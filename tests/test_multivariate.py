"""d >= 2 (issue 5): the engine against scikit-learn's GaussianMixture for each
covariance type, densities against scipy.stats.multivariate_normal, properties,
singular covariances, bad input, the documents and the exact values."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from conftest import assert_printed, printed_pattern
from eqcheck import group_end
from explainer.api import run
from explainer.families.gaussian import COVARIANCE_UPDATES, variance_floor
from explainer.errors import ProblemError
from explainer.validation import validate
from explainer.api import Trace

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("full", "diag", "spherical", "tied")


def mv_spec(x, weights, means, covariances, iterations=1, covariance_type="full", **extra):
    spec = {"data": np.asarray(x, dtype=float).tolist(), "components": len(means),
            "init": {"weights": list(map(float, weights)),
                     "means": np.asarray(means, dtype=float).tolist(),
                     "covariances": np.asarray(covariances, dtype=float).tolist()},
            "model": {"covariance_type": covariance_type},
            "stop": {"iterations": iterations}}
    spec.update(extra)
    return spec


def solve(spec) -> Trace:
    return run(validate(spec))


# --------------------------------------------------------------------------- sklearn

def precisions(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    """scikit-learn's precisions_init for our K x d x d covariances."""
    if covariance_type == "full":
        return np.linalg.inv(covariances)
    if covariance_type == "diag":
        return 1.0 / np.diagonal(covariances, axis1=1, axis2=2)
    if covariance_type == "spherical":
        return 1.0 / covariances[:, 0, 0]
    return np.linalg.inv(covariances[0])


def as_matrices(gm: GaussianMixture, k: int, d: int) -> np.ndarray:
    """scikit-learn's covariances_ of any type as K x d x d matrices."""
    c = gm.covariances_
    if gm.covariance_type == "full":
        return c
    if gm.covariance_type == "diag":
        return np.array([np.diag(v) for v in c])
    if gm.covariance_type == "spherical":
        return np.array([np.eye(d) * v for v in c])
    return np.array([c] * k)


def sklearn_after(x, weights, means, covariances, covariance_type, n_iter):
    gm = GaussianMixture(n_components=len(means), covariance_type=covariance_type,
                         max_iter=n_iter, tol=0, reg_covar=0, n_init=1,
                         weights_init=weights, means_init=means,
                         precisions_init=precisions(covariances, covariance_type),
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x)
    return gm


def random_covariance(rng, d, covariance_type, scale):
    if covariance_type in ("full", "tied"):
        a = rng.normal(size=(d, d))
        return scale * (a @ a.T / d + 0.5 * np.eye(d))
    if covariance_type == "diag":
        return np.diag(scale * rng.uniform(0.5, 2.0, size=d))
    return scale * rng.uniform(0.5, 2.0) * np.eye(d)


@st.composite
def problems(draw):
    """A classroom-sized problem in d = 2..4: K clusters of points, a start near them."""
    covariance_type = draw(st.sampled_from(TYPES))
    d = draw(st.integers(2, 4))
    k = draw(st.integers(1, 3))
    n = draw(st.integers(max(3 * k, d + 2), 40))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    spread = draw(st.floats(0.5, 5))
    centres = rng.normal(scale=3 * spread, size=(k, d))
    x = np.round(centres[rng.integers(0, k, size=n)] + spread * rng.normal(size=(n, d)), 3)
    means = np.round(centres + 0.5 * spread * rng.normal(size=(k, d)), 3)
    shared = random_covariance(rng, d, covariance_type, spread ** 2)
    covariances = np.array([shared if covariance_type == "tied" else
                            random_covariance(rng, d, covariance_type, spread ** 2)
                            for _ in range(k)])
    covariances = (covariances + np.swapaxes(covariances, 1, 2)) / 2
    raw = rng.uniform(0.2, 1.0, size=k)
    weights = raw / raw.sum()
    iterations = draw(st.integers(1, 10))
    return x, weights, means, covariances, covariance_type, iterations


def well_posed(trace: Trace) -> bool:
    """No floor, no empty or sliver component (there EM is chaotic), no near-singular
    covariance (where two correct implementations part ways by rounding)."""
    if trace.events:
        return False
    for it in trace.iterations:
        if it.mstep.nk.min() < 1e-2 or np.linalg.cond(it.mstep.params.variances).max() > 1e6:
            return False
    return True


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(problems())
def test_every_iteration_agrees_with_scikit_learn(problem):
    x, weights, means, covariances, covariance_type, iterations = problem
    trace = solve(mv_spec(x, weights, means, covariances, iterations, covariance_type,
                          display={"detail": "all"}))
    assume(well_posed(trace))
    n, d = x.shape
    k = len(means)
    for it in trace.iterations:
        gm = sklearn_after(x, weights, means, covariances, covariance_type, it.index)
        p = it.mstep.params
        np.testing.assert_allclose(p.weights, gm.weights_, rtol=1e-8)
        np.testing.assert_allclose(p.means, gm.means_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(p.variances, as_matrices(gm, k, d), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(it.mstep.nk, gm.weights_ * n, rtol=1e-8)
        assert it.log_likelihood == pytest.approx(gm.lower_bound_ * n, rel=1e-8)
        following = (trace.iterations[it.index].estep if it.index < len(trace.iterations)
                     else trace.final)
        np.testing.assert_allclose(following.detail.resp, gm.predict_proba(x), rtol=1e-8,
                                   atol=1e-12)
        assert it.log_likelihood_after == pytest.approx(gm.score(x) * n, rel=1e-8)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_each_covariance_type_against_scikit_learn_on_a_fixed_problem(covariance_type):
    # Also a guard that the property test above exercises every type: one fixed case each.
    rng = np.random.default_rng(5)
    x = np.vstack([rng.normal([0, 0, 0], 1, size=(15, 3)), rng.normal([4, 4, 0], 1, size=(15, 3))])
    means = np.array([[0.5, 0, 0], [3.5, 4, 0]])
    cov = np.array([random_covariance(rng, 3, covariance_type, 1.0) for _ in range(2)])
    if covariance_type == "tied":
        cov[1] = cov[0]
    trace = solve(mv_spec(x, [0.4, 0.6], means, cov, 5, covariance_type))
    gm = sklearn_after(x, [0.4, 0.6], means, cov, covariance_type, 5)
    np.testing.assert_allclose(trace.final.params.variances, as_matrices(gm, 2, 3), rtol=1e-8)
    np.testing.assert_allclose(trace.final.params.means, gm.means_, rtol=1e-8)


def test_a_wrong_covariance_update_fails_the_comparison():
    # Mutation check: the diagonal update with the old means is not scikit-learn's.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 2)) * [1, 3]
    cov = np.array([np.diag([1.0, 2.0]), np.diag([2.0, 1.0])])
    spec = mv_spec(x, [0.5, 0.5], [[-1, 0], [1, 0]], cov, 1, "diag")
    gm = sklearn_after(x, [0.5, 0.5], np.array([[-1.0, 0], [1, 0]]), cov, "diag", 1)
    good = solve(spec).final.params.variances
    original = COVARIANCE_UPDATES["diag"]
    try:
        COVARIANCE_UPDATES["diag"] = lambda s, nk, n, xp: original(s, nk, n, xp) * 1.001
        bad = solve(spec).final.params.variances
    finally:
        COVARIANCE_UPDATES["diag"] = original
    np.testing.assert_allclose(good, as_matrices(gm, 2, 2), rtol=1e-8)
    assert not np.allclose(bad, as_matrices(gm, 2, 2), rtol=1e-8)


# --------------------------------------------------------------------------- densities

@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(problems())
def test_densities_and_intermediates_agree_with_scipy(problem):
    x, weights, means, covariances, covariance_type, _ = problem
    trace = solve(mv_spec(x, weights, means, covariances, 0, covariance_type))
    assume(not trace.events)
    detail = trace.final.detail
    for k in range(len(means)):
        expected = multivariate_normal(means[k], covariances[k]).logpdf(x)
        np.testing.assert_allclose(detail.log_density[:, k], expected, rtol=1e-10, atol=1e-10)
        # The intermediates the document writes: |Sigma|, Sigma^-1, the Mahalanobis term.
        assert detail.determinant[k] == pytest.approx(np.linalg.det(covariances[k]), rel=1e-10)
        np.testing.assert_allclose(detail.inverse[k] @ covariances[k], np.eye(x.shape[1]),
                                   atol=1e-8)
        dev = x - means[k]
        maha = np.einsum("ni,ij,nj->n", dev, np.linalg.inv(covariances[k]), dev)
        np.testing.assert_allclose(detail.mahalanobis[:, k], maha, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(np.einsum("ni,ni->n", dev, detail.precision_deviation[:, k]),
                                   maha, rtol=1e-9, atol=1e-9)
    mixture = sum(w * multivariate_normal(m, c).pdf(x)
                  for w, m, c in zip(weights, means, covariances))
    np.testing.assert_allclose(detail.mixture_density, mixture, rtol=1e-9)


# --------------------------------------------------------------------------- properties

@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(problems(), st.sampled_from([("weights",), ("means",), ("covariances",),
                                    ("weights", "means"), ("weights", "means", "covariances")]))
def test_properties_of_every_run(problem, update):
    x, weights, means, covariances, covariance_type, iterations = problem
    trace = solve(mv_spec(x, weights, means, covariances, iterations, covariance_type,
                          model={"covariance_type": covariance_type, "update": list(update)},
                          display={"detail": "all"}))
    for it in trace.iterations:
        resp = it.estep.detail.resp
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)
        assert np.all(resp >= 0)
        p = it.mstep.params
        if "weights" not in update:
            assert p.weights.tolist() == pytest.approx(list(weights), rel=0, abs=0)
        if "means" not in update:
            assert np.array_equal(p.means, means)
        if "covariances" not in update:
            assert np.array_equal(p.variances, covariances)
        # Every covariance stays symmetric positive definite, of its type's form.
        assert np.allclose(p.variances, np.swapaxes(p.variances, 1, 2))
        assert np.all(np.linalg.eigvalsh(p.variances) > 0)
        if covariance_type in ("diag", "spherical"):
            d = x.shape[1]
            assert np.all(p.variances[:, ~np.eye(d, dtype=bool)] == 0)
        if covariance_type == "spherical":
            assert np.all(np.ptp(np.diagonal(p.variances, axis1=1, axis2=2), axis=1) == 0)
        if covariance_type == "tied":
            assert np.all(p.variances == p.variances[0])
        if not it.mstep.events:
            assert it.log_likelihood_after >= it.log_likelihood - 1e-9 * abs(it.log_likelihood)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(problems())
def test_the_m_step_terms_the_document_writes(problem):
    # The weighted vectors r_nk x_n, the outer products r_nk (x_n - mu_k)(x_n - mu_k)^T
    # (around the new means) and their sums, recomputed with plain numpy.
    x, weights, means, covariances, covariance_type, _ = problem
    trace = solve(mv_spec(x, weights, means, covariances, 1, covariance_type,
                          display={"detail": "all"}))
    it = trace.iterations[0]
    resp, m = it.estep.detail.resp, it.mstep
    new_means = m.params.means
    np.testing.assert_allclose(m.detail.mean_terms, resp[:, :, None] * x[:, None, :],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m.sum_rx, resp.T @ x, rtol=1e-10, atol=1e-12)
    dev = x[:, None, :] - new_means[None, :, :]
    outer = resp[:, :, None, None] * dev[:, :, :, None] * dev[:, :, None, :]
    np.testing.assert_allclose(m.detail.variance_terms, outer, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.sum_rsq, outer.sum(axis=0), rtol=1e-9, atol=1e-10)


def test_json_round_trip_and_schema():
    import jsonschema

    x = [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]]
    trace = solve(mv_spec(x, [0.5, 0.5], [[0, 0], [4, 4]],
                          [np.eye(2), [[1, 0.5], [0.5, 1]]], 3, display={"detail": [1]}))
    text = trace.to_json()
    data = json.loads(text)
    schema = json.loads((ROOT / "explainer" / "schema" / "trace-1.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert "covariances" in data["iterations"][0] and "variances" not in data["final"]
    again = Trace.from_json(text)
    assert again.to_json() == text
    assert again.to_markdown() == trace.to_markdown()
    assert again.to_latex() == trace.to_latex()


# --------------------------------------------------------------------------- documents

def _as_set(tex: str) -> str:
    """LaTeX as it reads: without its layout hints (``\\nobreak`` and penalties after a
    relation; ``\\emjoin{A}{B}``, A and B on one line if they fit: A B; ``\\emsum{S}``, a
    sum broken into lines before its ``\\emplus`` signs; ``\\empair{H}{A}{H}{B}``, two
    blocks side by side; ``\\emlabel{L}``, the widest label of a block;
    ``\\emformproduct{F}{R}{M}{C}``, F = R M C; ``\\emproduct{R}{M}{C}``, R M C)."""
    tex = tex.replace("\\nobreak", "").replace("\\penalty9999 ", "").replace("\\emplus", "+")
    for name, arguments in (("emjoin", 2), ("emsum", 1), ("empair", 4), ("emlabel", 1),
                            ("emformproduct", 4), ("emproduct", 3)):
        while (start := tex.find(f"\\{name}{{")) >= 0:
            parts, at = [], start + len(name) + 1
            for _ in range(arguments):
                end = group_end(tex, at)
                parts.append(tex[at + 1:end - 1])
                at = end
            if name == "emformproduct":
                parts[0] += " ="
            tex = f"{tex[:start]}{' '.join(parts) if name != 'emlabel' else ''}{tex[at:]}"
    return tex


def test_the_hand_sized_document_shows_the_worked_numbers():
    # examples/hand-2d, recomputed here with numpy and scipy, written as the document
    # writes them (three decimals), in Markdown and LaTeX.
    x = np.array([[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]], dtype=float)
    means = np.array([[0.0, 0.0], [4.0, 4.0]])
    cov = np.array([np.eye(2), [[1, 0.5], [0.5, 1]]])
    trace = solve(mv_spec(x, [0.5, 0.5], means, cov, 2))
    md, tex = trace.to_markdown(), _as_set(trace.to_latex())
    det2, inv2 = np.linalg.det(cov[1]), np.linalg.inv(cov[1])
    c2 = 1 / (2 * np.pi * np.sqrt(det2))
    dev = x[5] - means[1]
    maha = dev @ inv2 @ dev
    dens = [multivariate_normal(means[k], cov[k]).pdf(x) for k in range(2)]
    r = 0.5 * np.array(dens).T
    r /= r.sum(axis=1, keepdims=True)
    nk = r.sum(axis=0)
    mu1 = r[:, 0] @ x / nk[0]
    d1 = x - mu1
    s1 = (r[:, 0, None, None] * d1[:, :, None] * d1[:, None, :]).sum(axis=0)
    pieces = [
        (r"|\Sigma_{2}| &= 1 \cdot 1 - 0.5 \cdot 0.5 {rel} {}", [det2]),
        (r"\begin{pmatrix} {} & {} \cr {} & {} \end{pmatrix}", inv2.ravel()),
        (r"\frac{1}{2\pi \sqrt{{}}} {rel} {}", [det2, c2]),
        (r"(-2) \cdot ({}) + (-2) \cdot ({}) {rel} {}", [*(inv2 @ dev), maha]),
        (r"\exp({}) {rel} {}", [-maha / 2, dens[1][5]]),
        (r"r_{6,1} = \frac{0.5 \cdot {}}{{}} {rel} {}",
         [dens[0][5], 0.5 * (dens[0][5] + dens[1][5]), r[5, 0]]),
        (r"\begin{pmatrix} {} \cr {} \end{pmatrix}", mu1),
        (r"\begin{pmatrix} {} & {} \cr {} & {} \end{pmatrix}", s1.ravel()),
        (r"\frac{1}{{}} \begin{pmatrix} {} & {} \cr {} & {} \end{pmatrix}", [nk[0], *s1.ravel()]),
        (r"\approx \begin{pmatrix} {} & {} \cr {} & {} \end{pmatrix}", (s1 / nk[0]).ravel()),
    ]
    # Written as the document writes them: the digits the display rule gives (at least
    # three significant ones, more where an equation needs them). LaTeX writes a matrix's
    # rows apart with \\ and a long line's result on a line of its own.
    for template, values in pieces:
        assert printed_pattern(md, template, values), template
        tex_template = template.replace(r"\cr", "\\\\")
        assert printed_pattern(tex, tex_template, values) or printed_pattern(
            tex, tex_template.replace(" {rel} {}", " \\\\ &{rel} {}"), values), template
    assert_printed(md, "\\approx ", nk[0])


# --------------------------------------------------------------------------- singular

def test_a_component_collapsing_on_one_point_is_floored_and_explained():
    # Component 2 starts on the lone point (10, 10) with a tiny covariance: it collapses.
    x = [[0, 0], [1, 0.5], [0.5, 1], [1, 1], [10, 10]]
    trace = solve(mv_spec(x, [0.5, 0.5], [[0.5, 0.5], [10, 10]],
                          [np.eye(2), 1e-4 * np.eye(2)], 3))
    events = [e for e in trace.events if e.kind == "covariance_floor"]
    assert events and events[0].component == 1 and events[0].cause == "collapse"
    assert events[0].points == 1
    floor = variance_floor(np.array(x, dtype=float))
    assert np.linalg.eigvalsh(trace.final.params.variances[1]).min() == pytest.approx(floor)
    assert np.isfinite(trace.final.log_likelihood)
    text = trace.to_markdown()
    assert "collapsed onto 1 point" in text and "Singular covariance (iteration 1)" in text


def test_coincident_columns_are_explained_at_the_start():
    # y = x for every point: the data covariance (random_points start) is singular.
    x = [[float(v), float(v)] for v in (0, 1, 2, 5, 6, 7)]
    trace = solve({"data": x, "components": 2, "init_method": "random_points", "seed": 1,
                   "stop": {"iterations": 2}})
    assert trace.start.events and trace.start.events[0].cause == "dependent"
    for it in trace.iterations:
        assert np.all(np.isfinite(it.mstep.params.variances))
    text = trace.to_markdown()
    assert "columns of the data are linearly dependent" in text
    assert "Singular covariance (at the start)" in text


def test_a_given_singular_covariance_is_floored_not_refused():
    x = [[0, 0], [1, 1], [4, 5], [5, 4]]
    trace = solve(mv_spec(x, [0.5, 0.5], [[0.5, 0.5], [4.5, 4.5]],
                          [[[1, 1], [1, 1]], np.eye(2)], 1))
    assert trace.start.events[0].kind == "covariance_floor"
    assert np.linalg.eigvalsh(trace.start.params.variances[0]).min() > 0


# --------------------------------------------------------------------------- bad input

BASE = {"data": [[0, 0], [4, 4], [1, 0]], "init": {
    "weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
    "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}}


@pytest.mark.parametrize("change, field, words", [
    ({"data": [[0, 0], [4, 4, 4], [1, 0]]}, "data[2]", "expected 2 numbers"),
    ({"data": [[0, 0], 4, [1, 0]]}, "data[2]", "expected a row of numbers"),
    ({"init.covariances": [[[1, 0], [0, 1]]]}, "init.covariances", "expected 2 matrices"),
    ({"init.covariances": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0], [0, 1]]]},
     "init.covariances[1]", "2 x 2 matrix"),
    ({"init.covariances": [[[1, 0.5], [0.2, 1]], [[1, 0], [0, 1]]]},
     "init.covariances[1]", "symmetric"),
    ({"init.covariances": [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]},
     "init.covariances[2]", "positive definite"),
    ({"init.covariances": [[[-1, 0], [0, 1]], [[1, 0], [0, 1]]]},
     "init.covariances[1]", "positive definite"),
    ({"init.means": [[0, 0], [4]]}, "init.means[2]", "row of 2 numbers"),
    ({"init.covariances": None, "init.variances": [1, 1]}, "init.covariances",
     "init.variances is for 1-D"),
    ({"model": {"covariance_type": "diagonal"}}, "model.covariance_type", "diag"),
    ({"model": {"covariance_type": "diag"},
      "init.covariances": [[[1, 0.5], [0.5, 1]], [[1, 0], [0, 1]]]},
     "init.covariances[1]", "diagonal matrix"),
    ({"model": {"covariance_type": "spherical"},
      "init.covariances": [[[1, 0], [0, 2]], [[1, 0], [0, 1]]]},
     "init.covariances[1]", "equal diagonal"),
    ({"model": {"covariance_type": "tied"},
      "init.covariances": [[[1, 0], [0, 1]], [[2, 0], [0, 2]]]},
     "init.covariances[2]", "same matrix"),
    ({"model": {"kernel": "proportional"}}, "model.kernel", "1-D"),
])
def test_bad_input_names_the_field(change, field, words):
    spec = json.loads(json.dumps(BASE))
    for key, value in change.items():
        if key.startswith("init."):
            name = key.split(".")[1]
            if value is None:
                spec["init"].pop(name)
            else:
                spec["init"][name] = value
        else:
            spec[key] = value
    with pytest.raises(ProblemError) as info:
        validate(spec)
    assert info.value.field == field and words in str(info.value)


def test_bad_covariance_from_the_command_line_exits_2(tmp_path):
    spec = json.loads(json.dumps(BASE))
    spec["init"]["covariances"][0] = [[1, 2], [2, 1]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run([sys.executable, "-m", "explainer", "solve", str(path), "-o",
                           str(tmp_path / "out.md")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("error: init.covariances[1]: expected a positive definite")
    assert len(done.stderr.splitlines()) == 1 and not (tmp_path / "out.md").exists()


def test_columns_from_csv_and_rows_on_the_command_line(tmp_path):
    (tmp_path / "points.csv").write_text("x,y,label\n0,0,a\n1,0,a\n4,4,b\n5,4,b\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("data_file: points.csv\ncolumns: [x, y]\ncomponents: 2\n"
                    "init_method: kmeans\n")
    problem = validate(__import__("yaml").safe_load(spec.read_text()), tmp_path)
    assert problem.data.tolist() == [[0, 0], [1, 0], [4, 4], [5, 4]]
    with pytest.raises(ProblemError) as info:
        validate({"data_file": "points.csv", "columns": ["x", "z"], "components": 2},
                 tmp_path)
    assert info.value.field == "columns"
    done = subprocess.run([sys.executable, "-m", "explainer", "solve", "--data",
                           "0,0; 1,0; 4,4; 5,4", "--k", "2", "--init-method", "kmeans",
                           "--covariance-type", "spherical", "--part", "summary"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    # k-means numbers the clusters from the left: mu_1 = (0.5, 0), mu_2 = (4.5, 4).
    means = done.stdout.split(r"\mu_{1} ")[1].split(r"\end{pmatrix}")[0]
    first, second = means.split(r"\begin{pmatrix} ")[1].split(r" \cr ")
    # (0.5, 0) but for the floating-point noise of a weighted average, printed as it is.
    assert first == "0.500" and (second.strip() == "0" or "10^{-" in second)


def test_a_given_start_on_the_command_line_and_in_python():
    args = ["--data", "0,0; 1,0; 4,4; 5,4", "--k", "2", "--weights", ".5,.5",
            "--means", "0,0; 4,4", "--covariances", "1,0; 0,1 | 1,.5; .5,1"]
    done = subprocess.run([sys.executable, "-m", "explainer", "solve", *args, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    start = json.loads(done.stdout)["start"]
    assert start["means"] == [[0, 0], [4, 4]]
    assert start["covariances"] == [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]]
    import explainer

    trace = explainer.solve(data=[[0, 0], [1, 0], [4, 4], [5, 4]], k=2, weights=[.5, .5],
                            means="0,0; 4,4", covariances="1,0; 0,1 | 1,.5; .5,1")
    assert trace.start.params.variances.tolist() == start["covariances"]
    args[-1] = "1,0; 0,1 | 1,.5; .5"
    done = subprocess.run([sys.executable, "-m", "explainer", "solve", *args],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "init.covariances[2]: expected a 2 x 2 matrix" in done.stderr


def test_exam_refuses_d_3(tmp_path):
    """Exam variants are drawn for 1-D problems and points in the plane; d = 3 is a clear
    error, from the command line too, and leaves nothing."""
    from explainer.exam import make_variant

    base = {"data": [[0, 0, 0], [4, 4, 4], [1, 0, 1]], "components": 2, "init": {
        "weights": [0.5, 0.5], "means": [[0, 0, 0], [4, 4, 4]],
        "covariances": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]] * 2}, "exam": {"ask": ["r"]}}
    with pytest.raises(ProblemError, match="d >= 3 is not supported"):
        make_variant(base, seed=1, number=1)
    (tmp_path / "t.yaml").write_text(json.dumps(base))
    done = subprocess.run([sys.executable, "-m", "explainer", "exam", str(tmp_path / "t.yaml"),
                           "-n", "2", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "d >= 3 is not supported" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- plots

def _scipy_resp(x, weights, means, covariances) -> np.ndarray:
    weighted = np.column_stack([w * multivariate_normal(m, c).pdf(x)
                                for w, m, c in zip(weights, means, covariances)])
    return weighted / weighted.sum(axis=1, keepdims=True)


def test_scatter_plots_colour_by_responsibility_with_sigma_ellipses():
    pytest.importorskip("matplotlib")
    from matplotlib.patches import Ellipse

    from explainer.render.plots import grid_figure, grid_iterations, scatter_fit_figure

    x = np.array([[0, 0], [1, 0.5], [0.5, 1], [2, 2], [4, 4], [5, 4.5], [4.5, 5]])
    covariances = [[[1, 0.3], [0.3, 0.5]], [[0.8, -0.2], [-0.2, 1.2]]]
    trace = solve(mv_spec(x, [0.4, 0.6], [[0.5, 0.5], [4.5, 4.5]], covariances, 12,
                          display={"detail": "none"}))
    fig = scatter_fit_figure(trace)
    start, end = fig.axes
    assert start.get_title() == "start" and end.get_title() == "after 12 iterations"
    # Red-blue mixing of the starting responsibilities, recomputed with scipy.
    resp = _scipy_resp(x, [0.4, 0.6], [[0.5, 0.5], [4.5, 4.5]], covariances)
    expected = resp @ np.array([[0.85, 0.1, 0.1], [0.1, 0.2, 0.9]])
    colours = start.collections[0].get_facecolors()[:, :3]
    np.testing.assert_allclose(colours, expected, atol=1e-12)
    # The 1- and 2-sigma ellipses of component 1: axes 2 s sqrt(eigenvalue).
    ellipses = [p for p in start.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 4
    values = np.linalg.eigvalsh(np.array(covariances[0]))
    for s, e in zip((1, 2), ellipses[:2]):
        assert sorted([e.width, e.height]) == pytest.approx(sorted(2 * s * np.sqrt(values)))
        assert tuple(e.center) == pytest.approx((0.5, 0.5))
    # The grid: iterations 1, 3, ..., 11 and the final parameters.
    assert grid_iterations(12) == [1, 3, 5, 7, 9, 11]
    assert grid_iterations(40) == [1, 6, 11, 16, 21, 26, 31, 36]
    assert grid_iterations(3) == [1, 2, 3]
    titles = [ax.get_title() for ax in grid_figure(trace).axes if ax.axison]
    assert titles == [f"iteration {i}" for i in (1, 3, 5, 7, 9, 11)] + ["after iteration 12"]
    # A panel's colours are the responsibilities of that iteration's parameters.
    it5 = trace.iterations[4].estep.params
    panel = grid_figure(trace).axes[2]
    expected = _scipy_resp(x, it5.weights, it5.means, it5.variances) @ np.array(
        [[0.85, 0.1, 0.1], [0.1, 0.2, 0.9]])
    np.testing.assert_allclose(panel.collections[0].get_facecolors()[:, :3], expected,
                               atol=1e-9)


def test_plots_of_more_than_two_dimensions_say_which_coordinates():
    pytest.importorskip("matplotlib")
    from explainer.render.plots import grid_figure, scatter_fit_figure

    x = [[0, 0, 1], [1, 0.5, 0], [0.5, 1, 2], [6, 5, 4], [5, 6, 5], [6.5, 5.5, 3]]
    trace = solve({"data": x, "components": 2, "init_method": "kmeans",
                   "model": {"covariance_type": "diag"}, "stop": {"iterations": 2}})
    assert scatter_fit_figure(trace).axes[0].get_title() == (
        "start (first two of 3 coordinates)")
    assert grid_figure(trace).get_suptitle().endswith("\n(first two of 3 coordinates)")


# --------------------------------------------------------------------------- exact

def test_exact_values_for_2x2_rational_matrices():
    x = [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]]
    spec = mv_spec(x, [0.5, 0.5], [[0, 0], [4, 4]], [np.eye(2), [[1, 0.5], [0.5, 1]]], 2,
                   display={"exact": True})
    spec["init"]["weights"] = ["1/2", "1/2"]
    trace = solve(spec)
    assert trace.exact is not None and len(trace.exact.iterations) >= 1
    detail = trace.exact.iterations[0].estep.detail
    # Sigma_2 = [[1, 1/2], [1/2, 1]]: |Sigma_2| = 3/4, Sigma_2^-1 = [[4/3, -2/3], [-2/3, 4/3]].
    assert detail.determinant[1] == sympy.Rational(3, 4)
    assert detail.inverse[1].tolist() == [[sympy.Rational(4, 3), sympy.Rational(-2, 3)],
                                          [sympy.Rational(-2, 3), sympy.Rational(4, 3)]]
    # x_6 = (2, 2) against mu_2 = (4, 4): (-2, -2) Sigma^-1 (-2, -2)^T = 16/3.
    assert detail.mahalanobis[5, 1] == sympy.Rational(16, 3)
    # c_2 = 1 / (2 pi sqrt(3/4)) = 1 / (sqrt(3) pi).
    assert sympy.simplify(detail.norm_const[1] - 1 / (sympy.sqrt(3) * sympy.pi)) == 0
    # Every exact value in the JSON equals the float trace.
    data = json.loads(trace.to_json())
    for item in data["iterations"][:len(trace.exact.iterations)]:
        for key in ("responsibilities", "N_k", "weights", "means", "covariances", "sum_rx",
                    "sum_rsq"):
            exact = np.vectorize(lambda t: float(sympy.N(sympy.sympify(t), 30)))(
                np.array(item["exact"][key], dtype=object))
            np.testing.assert_allclose(exact, np.array(item[key], dtype=float), rtol=1e-12,
                                       atol=1e-300)
    text = trace.to_markdown()
    assert r"\frac{\sqrt{3}}{3 \pi}" in text and r"\frac{16}{3}" in text


def test_half_a_rounded_delta_squared_is_written_with_approx():
    """c_k exp(-Delta^2 / 2) is written with numbers after '=' only where the printed
    exponent is exactly half the printed Delta^2 (a hand calculation, whose c_k is the
    number it carries); at full precision c_k itself is rounded: always '\\approx'."""
    import re
    from decimal import Decimal

    from explainer.render.markdown import render_markdown

    data = [[-0.8, -1.32], [1.14, 0.11], [-0.55, -0.78], [0.75, 1.63], [5.17, 4.72],
            [2.0, 4.27], [2.9, 4.03], [4.04, 2.01]]
    spec = {"data": data, "components": 2,
            "init": {"weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
                     "covariances": [[[1, 0], [0, 1]], [[2, 0.5], [0.5, 1]]]}}
    line = re.compile(r"(?:=|\\approx) (-?[0-9.]+), \\cr\n\\mathcal\{N\}\(x_\{\d+\} \\mid "
                      r"\\mu_\{\d+\}, \\Sigma_\{\d+\}\) &= c_\{\d+\} \\exp\\left\(-\\tfrac\{1\}"
                      r"\{2\} \\Delta\^2_\{\d+,\d+\}\\right\) (=|\\approx) [0-9.]+ \\cdot "
                      r"\\exp\((-?[0-9.]+)\)")
    seen = set()
    for carry in ("rounded", "full"):
        page = render_markdown(run(validate({**spec, "display": {"carry": carry}})))
        found = line.findall(page)
        assert len(found) >= 4
        for delta, relation, exponent in found:
            half = Decimal(exponent) == -Decimal(delta) / 2
            assert (relation == "=") == (half and carry == "rounded"), (delta, exponent)
            seen.add((carry, relation))
    assert seen == {("rounded", "="), ("rounded", r"\approx"), ("full", r"\approx")}
