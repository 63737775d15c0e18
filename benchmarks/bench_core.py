"""Performance figures of issue 2, printed (not a timed test).

1. ``em-explainer solve`` on the lecture example to Markdown, whole process, against
   ``python -c "import numpy, jinja2, yaml"`` (goal: within 2x). Cold is the first run
   with an empty template cache; warm is every run after.
2. N = 100,000 points, K = 4, 100 iterations, detail for the first iteration only,
   against scikit-learn's GaussianMixture fit with the same start, in the same run
   (goals: time at most 1.0x, peak memory at most 1.5x). Peak memory is traced with
   tracemalloc (numpy reports its buffers to it) over the fit alone.

Run: python benchmarks/bench_core.py [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explainer.engine import run  # noqa: E402
from explainer.validation import validate  # noqa: E402
from versus import race, report  # noqa: E402


def wall(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup(repeat: int) -> None:
    python = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lecture.md"
        startup_in(out, python, env, repeat)


def startup_in(out: Path, python: str, env: dict[str, str], repeat: int) -> None:
    solve = [python, "-m", "explainer", "solve", "examples/lecture/lecture.yaml", "-o", str(out)]
    base = wall([python, "-c", "import numpy, jinja2, yaml"], repeat)
    with tempfile.TemporaryDirectory() as cache:
        cold = wall(solve, 1, {**env, "EM_EXPLAINER_CACHE_DIR": cache})
        warm = wall(solve, repeat, {**env, "EM_EXPLAINER_CACHE_DIR": cache})
    probe = subprocess.run(
        [python, "-c", "import sys, runpy; sys.argv = ['em-explainer', 'solve', "
         f"'examples/lecture/lecture.yaml', '-o', {str(out)!r}]\n"
         "try:\n    runpy.run_module('explainer', run_name='__main__')\n"
         "except SystemExit:\n    pass\n"
         "print(sorted(m for m in ('sympy', 'matplotlib', 'pylatex', 'scipy', 'sklearn') "
         "if m in sys.modules))"], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    print("1. lecture example to Markdown, whole process (median of %d)" % repeat)
    print(f"   python -c 'import numpy, jinja2, yaml': {base * 1000:7.1f} ms")
    print(f"   em-explainer solve, warm cache        : {warm * 1000:7.1f} ms  "
          f"ratio {warm / base:.2f} (goal <= 2)")
    print(f"   em-explainer solve, cold cache        : {cold * 1000:7.1f} ms  "
          f"ratio {cold / base:.2f}")
    print(f"   heavy modules imported                : {probe.stdout.strip()}")


def large(repeat: int) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    n, k, iterations = 100_000, 4, 100
    x = np.concatenate([rng.normal(m, s, n // k) for m, s in
                        [(-6, 1.0), (-1, 0.7), (3, 1.5), (9, 1.2)]])
    weights, means, variances = [0.25] * 4, [-5.0, 0.0, 2.0, 8.0], [2.0] * 4
    spec = {"data": x.tolist(), "components": k,
            "init": {"weights": weights, "means": means, "variances": variances},
            "stop": {"iterations": iterations}, "display": {"detail": [1]}}
    problem = validate(spec)

    def ours():
        return run(problem)

    def theirs():
        gm = GaussianMixture(n_components=k, covariance_type="full", max_iter=iterations,
                             tol=0, reg_covar=0, n_init=1, weights_init=weights,
                             means_init=np.array(means)[:, None],
                             precisions_init=(1 / np.array(variances))[:, None, None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return gm.fit(x[:, None])

    r = race(ours, theirs, repeat)
    diff = float(np.max(np.abs(r.trace.final_params.means - r.fitted.means_[:, 0])))
    print(f"2. N = {n:,}, K = {k}, {iterations} iterations, detail for iteration 1 "
          f"(median of {repeat})")
    report(r, memory_goal=1.5)
    print(f"   final means agree to {diff:.1e}; Markdown of the trace: "
          f"{r.render_seconds * 1000:.0f} ms, {r.markdown_chars:,} characters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    startup(args.repeat)
    large(args.repeat)


if __name__ == "__main__":
    main()
