"""Performance figures of issue 4 (LaTeX and PDF), printed (not a timed test).

1. Lecture example to PDF with plots, whole process (goal: at most 5 s). The first
   run also builds matplotlib's font cache on a new machine; it is shown apart.
2. matplotlib is imported only when plots are asked for.

Run: python benchmarks/bench_latex.py [--repeat R]
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

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explainer", *args], check=True, env=env, cwd=ROOT,
                   capture_output=True)
    return time.perf_counter() - start


def imports_matplotlib(args: list[str], env: dict[str, str]) -> bool:
    code = ("import sys\nfrom explainer.cli import main\n"
            f"main({args!r})\nprint('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spec = "examples/lecture/lecture.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        pdf = str(Path(tmp) / "lecture.pdf")
        first = run(["solve", spec, "-o", pdf], env)
        times = [run(["solve", spec, "-o", pdf], env) for _ in range(args.repeat)]
        no_plots = statistics.median(
            run(["solve", spec, "-o", pdf, "--no-plots"], env) for _ in range(args.repeat))
        md = str(Path(tmp) / "l.md")
        tex = str(Path(tmp) / "l.tex")
        print(f"1. lecture example to PDF with plots, whole process (median of {args.repeat})")
        print(f"   first run              : {first:5.2f} s")
        print(f"   with plots             : {statistics.median(times):5.2f} s  (goal <= 5 s)")
        print(f"   without plots          : {no_plots:5.2f} s")
        print("2. matplotlib imported?")
        for label, argv in [("Markdown", ["solve", spec, "-o", md]),
                            ("LaTeX", ["solve", spec, "-o", tex]),
                            ("LaTeX --plots", ["solve", spec, "-o", tex, "--plots"]),
                            ("PDF", ["solve", spec, "-o", pdf])]:
            print(f"   {label:<22} : {imports_matplotlib(argv, env)}")


if __name__ == "__main__":
    main()
