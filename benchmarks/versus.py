"""Our engine against scikit-learn's fit, in the same run: the part the benchmarks share."""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explainer.render.markdown import render_markdown  # noqa: E402


@dataclass
class Race:
    ours: float          # median seconds
    theirs: float
    peak_ours: int       # bytes, traced by tracemalloc (numpy reports its buffers to it)
    peak_theirs: int
    trace: Any           # our Trace, and scikit-learn's fitted GaussianMixture
    fitted: Any
    render_seconds: float
    markdown_chars: int


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    result = fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return top


def race(ours: Callable[[], Any], theirs: Callable[[], Any], repeat: int) -> Race:
    """Median times of *repeat* interleaved runs (so that machine noise hits both alike),
    after a warm-up of each (imports, caches); then each one's peak memory, and the time
    to render our trace as Markdown."""
    ours(), theirs()
    t_ours, t_theirs = [], []
    for _ in range(repeat):
        t_ours.append(_timed(ours))
        t_theirs.append(_timed(theirs))
    trace, fitted = ours(), theirs()
    peak_ours, peak_theirs = _peak(ours), _peak(theirs)
    start = time.perf_counter()
    text = render_markdown(trace)
    render_seconds = time.perf_counter() - start
    return Race(statistics.median(t_ours), statistics.median(t_theirs), peak_ours,
                peak_theirs, trace, fitted, render_seconds, len(text))


def report(r: Race, memory_goal: float | None = None) -> None:
    """The figures, as the benchmarks print them."""
    mib = 2 ** 20
    print(f"   scikit-learn GaussianMixture.fit : {r.theirs * 1000:8.1f} ms   "
          f"peak {r.peak_theirs / mib:6.1f} MiB")
    print(f"   em-explainer engine (trace)      : {r.ours * 1000:8.1f} ms   "
          f"peak {r.peak_ours / mib:6.1f} MiB")
    goal = f" (goal <= {memory_goal})" if memory_goal is not None else ""
    print(f"   time ratio {r.ours / r.theirs:.2f} (goal <= 1.0)   "
          f"memory ratio {r.peak_ours / r.peak_theirs:.2f}{goal}")
