"""The engine against independent computations: formulas written out, scipy.stats,
scikit-learn's GaussianMixture, and hypothesis properties."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from conftest import given_spec, lecture_spec
from explainer.engine import run
from explainer.families.gaussian import e_step, m_step, variance_floor
from explainer.validation import validate
from explainer.trace import Params


def solve(spec):
    return run(validate(spec))


# --------------------------------------------------------------------------- lecture

def test_lecture_example_recomputed_from_the_formulas():
    trace = solve(lecture_spec())
    it = trace.iterations[0]
    x = [1.0, 2.0, 5.0, 8.0, 9.0]
    # E-step by hand: with equal priors and equal variances 2, r_n1 = a / (a + b),
    # a = exp(-(x-2)^2/4), b = exp(-(x-8)^2/4).
    r1, r2 = [], []
    for xn in x:
        a, b = math.exp(-(xn - 2) ** 2 / 4), math.exp(-(xn - 8) ** 2 / 4)
        r1.append(a / (a + b))
        r2.append(b / (a + b))
    r = np.array([r1, r2]).T
    np.testing.assert_allclose(it.estep.detail.resp, r, rtol=1e-12)
    assert it.estep.detail.resp[2, 0] == 0.5  # x3 = 5 is exactly halfway
    # M-step: N_k, pi_k = N_k / 5, mu_k = sum r x / N_k; variances fixed.
    n1, n2 = sum(r1), sum(r2)
    np.testing.assert_allclose(it.mstep.nk, [n1, n2], rtol=1e-12)
    np.testing.assert_allclose(it.mstep.params.weights, [n1 / 5, n2 / 5], rtol=1e-12)
    mu1 = sum(rv * xn for rv, xn in zip(r1, x)) / n1
    mu2 = sum(rv * xn for rv, xn in zip(r2, x)) / n2
    np.testing.assert_allclose(it.mstep.params.means, [mu1, mu2], rtol=1e-12)
    assert it.mstep.params.variances.tolist() == [2.0, 2.0]
    # The seed rounds r_11 to 1 and gets mu_1 = 2.2; the exact value is a little above.
    assert 2.2 < mu1 < 2.201
    # Log-likelihood with the full density (the proportional kernel only drops a constant).
    ll = sum(math.log(0.5 * norm.pdf(xn, 2, math.sqrt(2)) + 0.5 * norm.pdf(xn, 8, math.sqrt(2)))
             for xn in x)
    assert it.log_likelihood == pytest.approx(ll, rel=1e-12)
    ll_after = sum(math.log(n1 / 5 * norm.pdf(xn, mu1, math.sqrt(2))
                            + n2 / 5 * norm.pdf(xn, mu2, math.sqrt(2))) for xn in x)
    assert it.log_likelihood_after == pytest.approx(ll_after, rel=1e-12)
    assert trace.final.log_likelihood == pytest.approx(ll_after, rel=1e-12)


def test_single_point_e_step_only():
    trace = solve(given_spec([3.5], [0.6, 0.4], [2, 5], [1, 2], iterations=0))
    assert trace.iterations == ()
    d = trace.final.detail
    p1, p2 = norm.pdf(3.5, 2, 1), norm.pdf(3.5, 5, math.sqrt(2))
    np.testing.assert_allclose(d.density[0], [p1, p2], rtol=1e-12)
    np.testing.assert_allclose(d.mixture_density[0], 0.6 * p1 + 0.4 * p2, rtol=1e-12)
    np.testing.assert_allclose(d.resp[0], [0.6 * p1 / (0.6 * p1 + 0.4 * p2),
                                           0.4 * p2 / (0.6 * p1 + 0.4 * p2)], rtol=1e-12)


# --------------------------------------------------------------------------- densities

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=20),
       st.lists(st.tuples(st.floats(-100, 100), st.floats(0.01, 100)), min_size=1, max_size=4))
def test_every_per_point_quantity_matches_scipy(xs, comps):
    x = np.array(xs)
    means = np.array([c[0] for c in comps])
    variances = np.array([c[1] for c in comps])
    weights = np.full(len(comps), 1.0 / len(comps))
    d = e_step(x, Params(weights, means, variances), "normalized").detail
    sd = np.sqrt(variances)
    np.testing.assert_allclose(d.deviation, x[:, None] - means, rtol=1e-14)
    np.testing.assert_allclose(d.sq_deviation, (x[:, None] - means) ** 2, rtol=1e-14)
    np.testing.assert_allclose(d.exponent, -(x[:, None] - means) ** 2 / (2 * variances),
                               rtol=1e-13)
    np.testing.assert_allclose(d.norm_const, norm.pdf(0, 0, sd), rtol=1e-13)
    np.testing.assert_allclose(d.log_density, norm.logpdf(x[:, None], means, sd), rtol=1e-11,
                               atol=1e-11)
    np.testing.assert_allclose(d.density, norm.pdf(x[:, None], means, sd), rtol=1e-10,
                               atol=1e-300)
    np.testing.assert_allclose(d.weighted_density, weights * norm.pdf(x[:, None], means, sd),
                               rtol=1e-10, atol=1e-300)
    mix = (weights * norm.pdf(x[:, None], means, sd)).sum(axis=1)
    finite = mix > 1e-290  # where scipy's own density has not underflowed
    np.testing.assert_allclose(d.mixture_density[finite], mix[finite], rtol=1e-10)


def test_a_point_forty_standard_deviations_away_gets_responsibilities():
    trace = solve(given_spec([0.0, 0.1, 40.0], [0.5, 0.5], [0, 1], [1, 1], iterations=3))
    for it in trace.iterations:
        assert np.all(np.isfinite(it.mstep.params.means))
    resp = trace.iterations[0].estep.detail.resp
    assert np.all(np.isfinite(resp))
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    assert resp[2, 1] == pytest.approx(1.0)  # the far point belongs to the nearer mean 1


def test_underflowing_densities_are_computed_in_log_space():
    # exp(-(1000-0)^2/2) underflows; the responsibilities must still come out right.
    trace = solve(given_spec([0.0, 1000.0], [0.5, 0.5], [0, 1], [1, 1], iterations=0))
    d = trace.final.detail
    assert d.density[1, 0] == 0.0 and d.density[1, 1] == 0.0
    # r_{2,2} / r_{2,1} = exp(-(999)^2/2 + (1000)^2/2) = exp(999.5): r_{2,2} = 1.
    assert d.resp[1, 1] == 1.0
    assert d.log_weighted[1, 1] - d.log_weighted[1, 0] == pytest.approx(999.5)


# --------------------------------------------------------------------------- differential

def sklearn_after(x, weights, means, variances, n_iter):
    """scikit-learn's GaussianMixture run for exactly n_iter of our iterations."""
    gm = GaussianMixture(
        n_components=len(means), covariance_type="full", max_iter=n_iter, tol=0,
        reg_covar=0, n_init=1, weights_init=weights, means_init=np.array(means)[:, None],
        precisions_init=(1.0 / np.array(variances))[:, None, None], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(np.asarray(x)[:, None])
    return gm


@st.composite
def problems(draw):
    k = draw(st.integers(1, 5))
    n = draw(st.integers(k, 60))
    centre = draw(st.floats(-100, 100))
    spread = draw(st.floats(0.5, 20))
    x = [round(centre + spread * draw(st.floats(-3, 3)), 3) for _ in range(n)]
    means = [round(centre + spread * draw(st.floats(-2, 2)), 3) for _ in range(k)]
    variances = [round(spread ** 2 * draw(st.floats(0.05, 4)), 4) for _ in range(k)]
    raw = [draw(st.floats(0.1, 1.0)) for _ in range(k)]
    weights = [w / sum(raw) for w in raw]
    iterations = draw(st.integers(1, 10))
    return x, weights, means, variances, iterations


def well_posed(trace) -> bool:
    """No floor or empty component, and no component down to a sliver of a point:
    there EM is chaotic and two correct implementations part ways."""
    if trace.events:
        return False
    # A variance down to a millionth of the data's (a component closing in on one point)
    # is as chaotic, though it is no floored collapse yet.
    sliver = 1e-6 * float(np.var(trace.problem.data))
    return all(it.mstep.nk.min() > 1e-3 and it.mstep.params.variances.min() > sliver
               for it in trace.iterations)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(problems())
def test_every_iteration_agrees_with_scikit_learn(problem):
    x, weights, means, variances, iterations = problem
    trace = solve(given_spec(x, weights, means, variances, iterations,
                             display={"detail": "all"}))
    assume(well_posed(trace))
    n = len(x)
    for it in trace.iterations:
        gm = sklearn_after(x, weights, means, variances, it.index)
        p = it.mstep.params
        np.testing.assert_allclose(p.weights, gm.weights_, rtol=1e-9)
        np.testing.assert_allclose(p.means, gm.means_[:, 0], rtol=1e-9, atol=1e-12)
        # A variance is a mean of squares of differences at the data's scale: two correct
        # implementations agree to a few units of the rounding of x^2 (13.0 and 13.125
        # give variances near 1e-6, equal to within 1e-15 but not to rtol 1e-9).
        resolution = 1e-13 * max(abs(v) for v in x) ** 2
        np.testing.assert_allclose(p.variances, gm.covariances_[:, 0, 0], rtol=1e-9,
                                   atol=resolution)
        # scikit-learn adds 10 eps to N_k; its weights are N_k / N.
        np.testing.assert_allclose(it.mstep.nk, gm.weights_ * n, rtol=1e-9)
        # lower_bound_ is the mean log-likelihood of the last E-step (before its M-step).
        assert it.log_likelihood == pytest.approx(gm.lower_bound_ * n, rel=1e-9)
        # predict_proba: the E-step under the parameters after this iteration.
        following = (trace.iterations[it.index].estep if it.index < len(trace.iterations)
                     else trace.final)
        # r_nk = exp(a_nk - log sum_j exp a_nj): an exponent a of size A carries an error of
        # A times the rounding unit into r's relative error (exponents of thousands where a
        # variance has shrunk), so 1e-7 relative, not 1e-9.
        np.testing.assert_allclose(following.detail.resp, gm.predict_proba(np.array(x)[:, None]),
                                   rtol=1e-7, atol=1e-15)
        assert it.log_likelihood_after == pytest.approx(gm.score(np.array(x)[:, None]) * n,
                                                        rel=1e-9)


# --------------------------------------------------------------------------- properties

@settings(max_examples=150, deadline=None)
@given(problems(), st.sampled_from([("weights",), ("means",), ("variances",),
                                    ("weights", "means"), ("means", "variances"),
                                    ("weights", "means", "variances")]))
def test_properties_of_every_run(problem, update):
    x, weights, means, variances, iterations = problem
    trace = solve(given_spec(x, weights, means, variances, iterations,
                             model={"update": list(update)}, display={"detail": "all"}))
    for it in trace.iterations:
        resp = it.estep.detail.resp
        np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)
        assert np.all(resp >= 0)
        for name, start in (("weights", weights), ("means", means), ("variances", variances)):
            if name not in update:
                assert it.mstep.params.get(name).tolist() == pytest.approx(start, rel=0, abs=0)
        if not it.mstep.events:
            # EM never decreases the log-likelihood (up to rounding).
            assert it.log_likelihood_after >= it.log_likelihood - 1e-9 * abs(it.log_likelihood)


def test_tol_stops_early_and_says_converged():
    spec = given_spec([1, 2, 5, 8, 9], [0.5, 0.5], [2, 8], [2, 2], iterations=500,
                      stop={"iterations": 500, "tol": 1e-8})
    trace = solve(spec)
    assert trace.converged and trace.stop_reason == "tol"
    assert len(trace.iterations) < 500
    assert trace.iterations[-1].gain < 1e-8
    assert all(it.gain >= 1e-8 for it in trace.iterations[:-1])


def test_only_detailed_iterations_keep_per_point_arrays():
    spec = given_spec(list(range(30)), [0.5, 0.5], [5, 20], [10, 10], iterations=6,
                      display={"detail": [2, "last"]})
    trace = solve(spec)
    assert [it.detailed for it in trace.iterations] == [False, True, False, False, False, True]
    assert trace.final.detail is not None


# --------------------------------------------------------------------------- collapse

def test_a_component_with_no_points_is_kept_and_reported():
    trace = solve(given_spec([0.0, 0.5, 1.0], [1.0, 0.0], [0.5, 100], [1, 1], iterations=2))
    ev = trace.iterations[0].mstep.events
    assert [e.kind for e in ev] == ["empty_component"]
    p = trace.iterations[0].mstep.params
    assert p.means[1] == 100 and p.variances[1] == 1 and p.weights[1] == 0
    assert np.all(np.isfinite(p.means)) and np.all(np.isfinite(p.variances))


def test_a_collapsing_variance_is_floored_and_reported():
    # Component 2 sits on the single point 10 with a tiny variance: it collapses onto it.
    trace = solve(given_spec([0.0, 1.0, 2.0, 10.0], [0.5, 0.5], [1, 10], [1, 1e-3],
                             iterations=3))
    kinds = {e.kind for e in trace.events}
    assert "variance_floor" in kinds
    floor = variance_floor(np.array([0.0, 1.0, 2.0, 10.0]))
    assert trace.final_params.variances[1] == pytest.approx(floor)
    assert np.isfinite(trace.final.log_likelihood)


def test_a_far_outlier_leaves_a_healthy_component_alone():
    # A cluster near 0-1 (variance about 0.14) beside two points near 1000: the data's
    # variance is about 2e5, so a floor of 10^-6 times it (0.2) would have raised the
    # cluster's variance. The floor is for a collapse only: scikit-learn (reg_covar=0)
    # agrees to 1e-9 in every iteration.
    x = [0.0, 0.2, 0.5, 0.9, 1.0, 1000.0, 1001.0]
    for n_iter in (1, 2, 5):
        trace = solve(given_spec(x, [0.5, 0.5], [0.5, 900], [1, 100], iterations=n_iter))
        gm = sklearn_after(x, [0.5, 0.5], [0.5, 900], [1, 100], n_iter)
        p = trace.final_params
        assert not [e for e in trace.events if e.kind == "variance_floor"]
        np.testing.assert_allclose(p.variances, gm.covariances_[:, 0, 0], rtol=1e-9)
        np.testing.assert_allclose(p.means, gm.means_[:, 0], rtol=1e-9)
    assert p.variances[0] < variance_floor_fraction_of_data_variance(x)


def variance_floor_fraction_of_data_variance(x) -> float:
    """The old floor (10^-6 times the data's variance), written out: larger than the
    cluster's variance here."""
    return 1e-6 * float(np.var(x))


# --------------------------------------------------------------------------- start

def test_random_points_start_is_seeded_data_points():
    spec = {"data": [1, 2, 5, 8, 9, 12], "components": 3, "init_method": "random_points",
            "seed": 7}
    a, b = solve(spec), solve(spec)
    assert a.start.params.means.tolist() == b.start.params.means.tolist()
    assert set(a.start.params.means.tolist()) <= {1, 2, 5, 8, 9, 12}
    assert len(set(a.start.params.means.tolist())) == 3
    assert a.start.params.variances.tolist() == pytest.approx([np.var([1, 2, 5, 8, 9, 12])] * 3)
    assert a.start.params.weights.tolist() == pytest.approx([1 / 3] * 3)
    starts = {tuple(solve({**spec, "seed": s}).start.params.means.tolist()) for s in range(8)}
    assert len(starts) > 1  # the seed matters


def test_random_responsibilities_start_is_an_m_step_of_dirichlet_draws():
    x = np.array([1.0, 2, 5, 8, 9])
    trace = solve({"data": x.tolist(), "components": 2,
                   "init_method": "random_responsibilities", "seed": 42})
    resp = np.random.default_rng(42).dirichlet([1, 1], size=5)
    nk = resp.sum(axis=0)
    means = (resp * x[:, None]).sum(axis=0) / nk
    variances = (resp * (x[:, None] - means) ** 2).sum(axis=0) / nk
    p = trace.start.params
    np.testing.assert_allclose(p.weights, nk / 5, rtol=1e-12)
    np.testing.assert_allclose(p.means, means, rtol=1e-12)
    np.testing.assert_allclose(p.variances, variances, rtol=1e-12)


def test_kmeans_start_is_a_fixed_point_of_lloyd():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(8, 1, 30), rng.normal(20, 1, 20)])
    trace = solve({"data": x.tolist(), "components": 3, "init_method": "kmeans", "seed": 1})
    means = trace.start.params.means
    labels = np.argmin(np.abs(x[:, None] - means), axis=1)
    np.testing.assert_allclose(means, [x[labels == k].mean() for k in range(3)], rtol=1e-12)
    np.testing.assert_allclose(trace.start.params.weights,
                               np.bincount(labels, minlength=3) / len(x))
    assert sorted(np.round(means).tolist()) == pytest.approx([0, 8, 20], abs=1)


def test_m_step_uses_the_new_means_for_the_variances():
    x = np.array([0.0, 1.0, 4.0])
    resp = np.array([[1.0], [1.0], [1.0]])
    step = m_step(x, resp, Params(np.ones(1), np.zeros(1), np.ones(1)),
                  ("weights", "means", "variances"), 1e-12)
    assert step.params.means[0] == pytest.approx(5 / 3)
    assert step.params.variances[0] == pytest.approx(np.var(x))


def test_a_tolerance_of_zero_runs_every_iteration_as_scikit_learn_does():
    """tol 0: a converged run's gains are float noise either side of 0 (1.8e-15, 0,
    -1.8e-15 for the lecture problem); a change must be smaller than 0 in size to stop,
    so every iteration runs, as scikit-learn's abs(change) < tol."""
    x, weights, means, variances = [1, 2, 5, 8, 9], [0.5, 0.5], [2, 8], [2, 2]
    trace = run(validate({"data": x, "init": {"weights": weights, "means": means,
                                              "variances": variances},
                          "stop": {"iterations": 300, "tol": 0}, "display": {"detail": []}}))
    gm = sklearn_after(x, weights, means, variances, 300)
    assert len(trace.iterations) == gm.n_iter_ == 300
    assert trace.stop_reason == "iterations"
    assert min(it.gain for it in trace.iterations) < 0  # the noise that used to stop it
    np.testing.assert_allclose(trace.final.params.means, gm.means_[:, 0], rtol=1e-12)
    # A tolerance above the noise still stops the run once the gains fall below it.
    early = run(validate({"data": x, "init": {"weights": weights, "means": means,
                                              "variances": variances},
                          "stop": {"iterations": 300, "tol": 1e-9}}))
    assert early.stop_reason == "tol" and len(early.iterations) < 20
