"""Performance figures of issue 3 (exact values, rounded carry), printed (not a timed test).

1. ``em-explainer solve examples/lecture/lecture.yaml --exact`` to Markdown, one
   iteration, whole process (goal: at most 1.5 s).
2. N = 10, K = 3, two iterations, ``--exact``, whole process (goal: at most 10 s).
3. The budget keeps any input under 30 s: problems made to grow (twenty iterations,
   awkward decimals, five components, forty points), whole process each; printed with
   how far exact arithmetic went and why it stopped.
4. ``--carry rounded`` on the lecture example and on 10,000 points (the rounded carry
   rounds every value through Python's decimal module; it is meant for hand-sized work).

Run: python benchmarks/bench_exact.py [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

TEN_THREE = {"title": "N = 10, K = 3", "data": [0.5, 1, 1.5, 3, 3.5, 4, 6, 6.5, 7.5, 8],
             "components": 3,
             "init": {"weights": ["1/3", "1/3", "1/3"], "means": [1, 4, 7],
                      "variances": [1, 1, 1]},
             "stop": {"iterations": 2}, "display": {"exact": True, "detail": "all"}}

HARD = {
    "twenty iterations, awkward decimals": {
        "data": [0.13, 1.7, 2.9, 3.31, 5.5, 6.25, 7.1, 8.8, 9.05, 11.2], "components": 3,
        "init": {"weights": ["1/7", "2/7", "4/7"], "means": [1.1, 5.3, 9.7],
                 "variances": [0.7, 1.3, 2.9]},
        "stop": {"iterations": 20}, "display": {"exact": True, "detail": "all"}},
    "five components, forty points": {
        "data": [round(0.37 * i + (i % 7) * 0.11, 2) for i in range(40)], "components": 5,
        "init": {"weights": [0.2] * 5, "means": [1, 4, 7, 10, 13],
                 "variances": [1.5, 2, 2.5, 3, 3.5]},
        "stop": {"iterations": 10}, "display": {"exact": True, "detail": "all"}},
    "lecture's data, variances learned too, ten iterations": {
        "data": [1, 2, 5, 8, 9], "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [2, 8], "variances": [2, 2]},
        "stop": {"iterations": 10}, "display": {"exact": True, "detail": "all"}},
}


def solve(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "explainer", "solve", *args], check=True,
                   capture_output=True, env=ENV, cwd=ROOT)
    return time.perf_counter() - start


def median(args: list[str], repeat: int) -> float:
    return statistics.median(solve(args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp), args)


def measure(work: Path, args: argparse.Namespace) -> None:

    lecture = median(["examples/lecture/lecture.yaml", "--exact", "-o", str(work / "l.md")],
                     args.repeat)
    print(f"1. lecture, --exact, one iteration, to Markdown: {lecture:.2f} s (goal 1.5 s)")

    spec = work / "ten-three.json"
    spec.write_text(json.dumps(TEN_THREE))
    seconds = median([str(spec), "-o", str(work / "t.md")], args.repeat)
    solve([str(spec), "-o", str(work / "t.json")])
    reach = json.loads((work / "t.json").read_text())["exact"]
    print(f"2. N = 10, K = 3, two iterations, --exact: {seconds:.2f} s (goal 10 s); exact for "
          f"{reach['iterations']} of 2 iterations ({reach['budget'] or 'all exact'})")

    print("3. the budget (goal: every input under 30 s):")
    for name, problem in HARD.items():
        path = work / "hard.json"
        path.write_text(json.dumps(problem))
        seconds = solve([str(path), "-o", str(work / "h.json")])
        trace = json.loads((work / "h.json").read_text())
        reach = trace["exact"]["iterations"]
        why = trace["exact"]["budget"] or "all iterations exact"
        print(f"   {name}: {seconds:.2f} s; exact for {reach} of "
              f"{len(trace['iterations'])} iterations ({why})")

    rounded = median(["examples/lecture/lecture.yaml", "--carry", "rounded", "-o",
                      str(work / "r.md")], args.repeat)
    print(f"4. lecture, --carry rounded, to Markdown: {rounded:.2f} s")
    many = work / "many.json"
    many.write_text(json.dumps({
        "data": [round((i * 7919) % 1000 / 100, 2) for i in range(10_000)], "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [2, 8], "variances": [4, 4]},
        "stop": {"iterations": 5}, "display": {"carry": "rounded", "detail": [1]}}))
    print(f"   10,000 points, 5 iterations, --carry rounded, to Markdown: "
          f"{solve([str(many), '-o', str(work / 'm.md')]):.2f} s")


if __name__ == "__main__":
    main()
