"""Performance figures of issue 5 (multivariate mixtures), printed (not a timed test).

N = 100,000 points in d = 2, K = 4 components, full covariances, 100 iterations, detail
for the first iteration only, against scikit-learn's GaussianMixture fit from the same
start (precisions = inverse covariances, reg_covar = 0, tol = 0), in the same run
(goal: time at most 1.0x). Peak memory is traced with tracemalloc over each fit alone,
for information.

Run: python benchmarks/bench_mv.py [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explainer.engine import run  # noqa: E402
from explainer.validation import validate  # noqa: E402
from versus import race, report  # noqa: E402


def problem_and_reference(n: int, k: int, iterations: int):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    centres = np.array([[-6.0, 0.0], [0.0, 5.0], [4.0, -2.0], [9.0, 6.0]])
    shapes = [np.array([[1.0, 0.6], [0.6, 1.5]]), np.array([[0.7, -0.2], [-0.2, 0.5]]),
              np.array([[2.0, 0.0], [0.0, 0.8]]), np.array([[1.2, 0.9], [0.9, 1.4]])]
    x = np.concatenate([rng.multivariate_normal(c, s, n // k) for c, s in zip(centres, shapes)])
    weights = [1 / k] * k
    means = centres + np.array([[1.0, -1.0], [-1.0, 1.0], [0.5, 0.5], [-0.5, -1.0]])
    covariances = np.array([np.eye(2) * 2.0] * k)
    spec = {"data": x.tolist(), "components": k,
            "init": {"weights": weights, "means": means.tolist(),
                     "covariances": covariances.tolist()},
            "model": {"covariance_type": "full"},
            "stop": {"iterations": iterations}, "display": {"detail": [1]}}
    problem = validate(spec)

    def theirs():
        gm = GaussianMixture(n_components=k, covariance_type="full", max_iter=iterations,
                             tol=0, reg_covar=0, n_init=1, weights_init=weights,
                             means_init=means, precisions_init=np.linalg.inv(covariances))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gm.fit(x)

    return problem, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, k, iterations = 100_000, 4, 100
    problem, theirs = problem_and_reference(n, k, iterations)

    def ours():
        return run(problem)

    r = race(ours, theirs, args.repeat)
    diff_means = float(np.max(np.abs(r.trace.final_params.means - r.fitted.means_)))
    diff_cov = float(np.max(np.abs(r.trace.final_params.variances - r.fitted.covariances_)))
    print(f"N = {n:,}, d = 2, K = {k}, full covariances, {iterations} iterations, "
          f"detail for iteration 1 (median of {args.repeat})")
    report(r)
    print(f"   final means agree to {diff_means:.1e}, covariances to {diff_cov:.1e}; "
          f"Markdown of the trace: {r.render_seconds * 1000:.0f} ms, "
          f"{r.markdown_chars:,} characters")

if __name__ == "__main__":
    main()
