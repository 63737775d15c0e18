"""What the display rule costs (issue 13), printed (not a timed test).

Every printed equation is checked with its printed operands, and operands get digits
until it holds (render/shown.py). This measures the whole process as a user runs it
(`em-explainer solve ... -o out.md`: wall time and peak RSS from /usr/bin/time -v),
beside a process that fits scikit-learn's GaussianMixture on the same data, and, in
process, the share of the time the display rule (settling the digits) takes.

Documents: the lecture example; the generated example (300 points, 20 iterations, the
first and last in full, long tables elided); and the worst case a user can ask for, the
same 300 points with every row and every term written out (max_rows 400) for 3
iterations in full.

Run: python benchmarks/bench_display.py [--repeat R]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORST = """data_file: {csv}
column: x
components: 4
init_method: random_points
seed: 3
stop: {{iterations: 3}}
display: {{detail: all, max_rows: 400}}
"""

SKLEARN = """
import numpy as np
from sklearn.mixture import GaussianMixture
x = np.loadtxt({csv!r}, skiprows=1)[:, None]
GaussianMixture(n_components={k}, max_iter={iterations}, tol=0, reg_covar=0,
                random_state=0).fit(x)
"""


def measured(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process, from /usr/bin/time -v."""
    done = subprocess.run(["/usr/bin/time", "-v", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    assert wall is not None, done.stderr
    hours, minutes, seconds = wall.groups()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert rss is not None
    return (int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
            int(rss.group(1)) / 1024)


def median_run(args: list[str], repeat: int) -> tuple[float, float]:
    runs = [measured(args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def settle_share(spec: Path) -> tuple[float, float, int]:
    """In process: seconds to render Markdown, of which settling the digits, and the
    number of printed equations."""
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render import context
    from explainer.render.markdown import render_markdown

    trace = run(load_problem(spec))
    spent = [0.0]
    count = [0]
    original = context.Sheet.settle

    def timed(self: context.Sheet) -> None:
        start = time.perf_counter()
        original(self)
        spent[0] += time.perf_counter() - start
        count[0] += len(self.equations)

    context.Sheet.settle = timed  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        render_markdown(trace)
        total = time.perf_counter() - start
    finally:
        context.Sheet.settle = original  # type: ignore[method-assign]
    return total, spent[0], count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    csv = ROOT / "examples" / "generated" / "generated.csv"
    with tempfile.TemporaryDirectory() as tmp:
        worst = Path(tmp) / "worst.yaml"
        worst.write_text(WORST.format(csv=csv), encoding="utf-8")
        cases = [("lecture (5 points, 1 iteration)", ROOT / "examples/lecture/lecture.yaml",
                  2, 1),
                 ("generated (300 points, 20 iterations)",
                  ROOT / "examples/generated/generated.yaml", 2, 20),
                 ("worst case (300 points, every row, 3 iterations)", worst, 4, 3)]
        for name, spec, k, iterations in cases:
            ours = median_run([sys.executable, "-m", "explainer", "solve", str(spec), "-o",
                               str(Path(tmp) / "out.md")], args.repeat)
            theirs = median_run([sys.executable, "-c",
                                 SKLEARN.format(csv=str(csv), k=k, iterations=iterations)],
                                args.repeat)
            total, settle, equations = settle_share(spec)
            print(name)
            print(f"   em-explainer solve -o out.md : {ours[0]:7.2f} s   peak {ours[1]:6.1f} MiB")
            print(f"   scikit-learn fit (process)   : {theirs[0]:7.2f} s   "
                  f"peak {theirs[1]:6.1f} MiB")
            print(f"   ratio {ours[0] / theirs[0]:.2f} in time, {ours[1] / theirs[1]:.2f} "
                  f"in memory; rendering {total:.2f} s, of which settling {equations} "
                  f"printed equations {settle:.2f} s")


if __name__ == "__main__":
    main()
