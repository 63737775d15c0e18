"""Performance figures of issue 6 (exam variants), printed (not a timed test).

1. 1,000 variants of examples/exam/exam.yaml, question sheet and answer key each, in
   Markdown (plus answers.csv, keys.md, moodle.xml and the QTI packages), whole process
   with its worker processes, median of 3 (goal: 10 s on this 2-core machine); peak
   memory of the largest process.
   Beside it, in the same run, scikit-learn's GaussianMixture fitting the same 1,000
   problems (their problem.yaml files) for their iterations from the same starting
   values, in one whole process: the numbers alone, no documents, no drawing (it
   learns the variances too, which the example keeps fixed).
2. 30 variants as PDF (60 documents, compiled in parallel on every core), whole
   process (goal: 60 s).

Run: python benchmarks/bench_exam.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TEMPLATE = ROOT / "examples" / "exam" / "exam.yaml"


def exam(n: int, fmt: str, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explainer", "exam", str(TEMPLATE), "-n", str(n),
                    "--seed", "7", "--format", fmt, "-o", str(out)], check=True,
                   capture_output=True, env=ENV)
    return time.perf_counter() - start


# scikit-learn on the variants' problems (a child process: its own time and memory).
SKLEARN = """
import glob, sys, warnings
import numpy as np, yaml
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
warnings.simplefilter("ignore", ConvergenceWarning)
for path in sorted(glob.glob(sys.argv[1] + "/variant-*/problem.yaml")):
    spec = yaml.safe_load(open(path))
    x = np.asarray(spec["data"], dtype=float)[:, None]
    init = spec["init"]
    GaussianMixture(len(init["means"]), covariance_type="full", tol=0, reg_covar=0,
                    max_iter=spec["stop"]["iterations"], weights_init=init["weights"],
                    means_init=np.asarray(init["means"], dtype=float)[:, None],
                    precisions_init=1 / np.asarray(init["variances"], dtype=float)[:, None, None]
                    ).fit(x)
"""


def sklearn(folder: Path) -> float:
    """Wall seconds of scikit-learn fitting the problems in *folder*, whole process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", SKLEARN, str(folder)], check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:  # (3,000 files a run: not left behind)
        measure(Path(tmp))


def measure(work: Path) -> None:
    times = sorted(exam(1000, "md", work / f"md{i}") for i in range(3))
    seconds = times[1]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = sum(1 for _ in (work / "md0").rglob("*") if _.is_file())
    print(f"1. 1,000 variants, Markdown: {seconds:.1f} s (median of "
          f"{', '.join(f'{t:.1f}' for t in times)}; goal 10 s), {files} files, "
          f"peak memory {peak:.0f} MiB")
    theirs = sorted(sklearn(work / "md0") for _ in range(3))[1]
    print(f"   scikit-learn on the same 1,000 problems (numbers only): {theirs:.1f} s; "
          f"ratio ours / theirs {seconds / theirs:.1f} (time)")
    seconds = exam(30, "pdf", work / "pdf")
    print(f"2. 30 variants, PDF (question and key each): {seconds:.1f} s (goal 60 s) on "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
