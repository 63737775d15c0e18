"""Large data, as a user meets it (issue 20): whole processes, printed (not a timed test).

For each size, one data file, one start, 100 iterations with the first in detail:

- ``em-explainer solve`` to Markdown and to JSON, as separate processes;
- a process that reads the same CSV with numpy and fits scikit-learn's GaussianMixture
  from the same start (reg_covar=0, tol=0: every iteration);

each run ``--repeat`` times, interleaved; the medians of wall time and of peak RSS
(the kernel's, from wait4), and our ratios to scikit-learn's. Then our engine's loop
alone (per iteration) against the machine's copy bandwidth: the floor is the bytes an
iteration must at least read and write, about 26 passes over N x K doubles.

Run: python benchmarks/bench_scale.py [--repeat R] [--sizes 1e4,1e5,1e6] [--dims 2,5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
K = 4
ITERATIONS = 100

SKLEARN = r"""
import sys, warnings
import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.exceptions import ConvergenceWarning
path, k, iterations, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
means = np.array([[float(v) for v in row.split()] for row in sys.argv[5].split(";")])
gm = GaussianMixture(k, covariance_type="full", tol=0, reg_covar=0, max_iter=iterations,
                     weights_init=np.full(k, 1 / k), means_init=means,
                     precisions_init=np.array([np.eye(d)] * k), random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    gm.fit(x)
print(gm.n_iter_)
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def data(n: int, d: int, folder: Path) -> tuple[Path, np.ndarray]:
    """N points from K well-apart Gaussians, written as a CSV; the starting means."""
    rng = np.random.default_rng(20)
    centres = rng.uniform(-10, 10, (K, d))
    x = centres[rng.integers(0, K, n)] + rng.normal(0, 1, (n, d))
    path = folder / f"data-{n}-{d}.csv"
    header = ",".join(f"x{i}" for i in range(d))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.6f")
    return path, centres + rng.normal(0, 0.5, (K, d))


def ours(path: Path, means: np.ndarray, d: int, out: Path) -> list[str]:
    columns = ",".join(f"x{i}" for i in range(d))
    start = (["--means", ",".join(f"{m:.6f}" for m in means[:, 0]),
              "--variances", ",".join(["1"] * K)] if d == 1 else
             ["--means", "; ".join(",".join(f"{v:.6f}" for v in row) for row in means),
              "--covariances", " | ".join(["; ".join(",".join("1" if i == j else "0"
                                                               for j in range(d))
                                                      for i in range(d))] * K)])
    return [sys.executable, "-m", "explainer", "solve", "--data-file", str(path),
            "--column" if d == 1 else "--columns", columns, "--k", str(K),
            "--weights", ",".join(["1/4"] * K), *start, "--iterations", str(ITERATIONS),
            "--detail", "1", "-q", "-o", str(out)]


def theirs(path: Path, means: np.ndarray, d: int) -> list[str]:
    return [sys.executable, "-c", SKLEARN, str(path), str(K), str(ITERATIONS), str(d),
            ";".join(" ".join(f"{v:.6f}" for v in row) for row in means)]


def copy_bandwidth() -> float:
    """Bytes a second this machine copies (a 200 MB array, best of five)."""
    a = np.ones(25_000_000)
    b = np.empty_like(a)
    best = min(_timed(lambda: np.copyto(b, a)) for _ in range(5))
    return 2 * a.nbytes / best  # read and write


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def engine_loop(n: int) -> float:
    """Seconds per iteration of our float engine alone (1-D, K = 4, no detail kept)."""
    sys.path.insert(0, str(ROOT))
    from explainer.engine import run
    from explainer.validation import validate

    rng = np.random.default_rng(20)
    x = rng.integers(0, K, n) * 5.0 + rng.normal(0, 1, n)
    spec = {"data": x.tolist(), "components": K,
            "init": {"weights": [0.25] * K, "means": [0, 5, 10, 15], "variances": [1] * K},
            "stop": {"iterations": 20}, "display": {"detail": []}}
    problem = validate(spec)
    run(problem)  # warm
    return min(_timed(lambda: run(problem)) for _ in range(3)) / 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--dims", default="2,5")
    args = parser.parse_args()
    cases = [(int(float(n)), 1) for n in args.sizes.split(",") if n]
    cases += [(100_000, int(d)) for d in args.dims.split(",") if d]
    print(f"K = {K}, {ITERATIONS} iterations, medians of {args.repeat} interleaved runs; "
          f"wall seconds / peak RSS MiB; ratio = ours / scikit-learn's")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n, d in cases:
            path, means = data(n, d, folder)
            runs: dict[str, list[tuple[float, float]]] = {"md": [], "json": [], "sk": []}
            for _ in range(args.repeat):
                runs["md"].append(measure(ours(path, means, d, folder / "out.md")))
                runs["json"].append(measure(ours(path, means, d, folder / "out.json")))
                runs["sk"].append(measure(theirs(path, means, d)))
            med = {key: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v))
                   for key, v in runs.items()}
            sk_t, sk_m = med["sk"]
            line = f"N = {n:>9,}, d = {d}: scikit-learn {sk_t:6.2f} s {sk_m:6.0f} MiB"
            for key in ("md", "json"):
                t, m = med[key]
                line += (f" | to {key:4} {t:6.2f} s {m:6.0f} MiB"
                         f" (x{t / sk_t:.2f} time, x{m / sk_m:.2f} RSS)")
            print(line, flush=True)
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s")
    for n in (100_000, 1_000_000):
        per_iteration = engine_loop(n)
        floor = 26 * n * K * 8 / bandwidth
        print(f"engine loop, 1-D, N = {n:,}: {per_iteration * 1000:.1f} ms an iteration, "
              f"{per_iteration / floor:.1f}x the floor of {floor * 1000:.1f} ms")


if __name__ == "__main__":
    main()
