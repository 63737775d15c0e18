"""Regenerate every example's output: ``python examples/regenerate.py``.

``--check`` compares instead of writing, and exits 1 when an example is stale
(the test suite runs it).
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
# Render with this checkout's package, installed or not.
sys.path.insert(0, str(HERE.parent))


def generated_csv() -> str:
    """The notebook's 1-D data: 210 points from N(0, 1) and 90 from N(5, 1), seed 100.

    numpy's legacy RandomState stream is frozen, so the file is the same everywhere.
    """
    rng = np.random.RandomState(100)
    n_samples, w_true, mu_true, sigma_true = 300, [0.7, 0.3], [0, 5], [1, 1]
    n1 = int(n_samples * w_true[0])
    data = np.concatenate([rng.normal(mu_true[0], sigma_true[0], n1),
                           rng.normal(mu_true[1], sigma_true[1], n_samples - n1)])
    return "x\n" + "".join(f"{v!r}\n" for v in data.tolist())


def render(spec: Path) -> str:
    """The Markdown worked solution of one example spec."""
    from explainer.engine import run
    from explainer.problem import load_problem
    from explainer.render.markdown import render_markdown

    return render_markdown(run(load_problem(spec)))


def outputs() -> dict[Path, Callable[[], str]]:
    """Every generated file and how to make it, data before the documents that read it."""
    files: dict[Path, Callable[[], str]] = {HERE / "generated" / "generated.csv": generated_csv}
    for spec in sorted(HERE.glob("*/*.yaml")):
        files[spec.with_suffix(".md")] = partial(render, spec)
    return files


def _shown(path: Path) -> str:
    return os.path.relpath(path, HERE.parent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    stale = []
    for path, make in outputs().items():
        text = make()
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(_shown(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {_shown(path)}")
    if stale:
        print("stale examples (run: python examples/regenerate.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
