"""Figures of a trace with matplotlib (imported only here, only when plots are asked for).

- ``fit``: the data (histogram, or a rug for few points) with the mixture density and
  each weighted component, at the start and after the last iteration;
- ``loglik``: the log-likelihood after each iteration;
- ``resp``: each point's final responsibilities as a stacked bar.

The curves come from the engine's own E-step evaluated on a grid, so the figures
cannot disagree with the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engine import e_step
from ..trace import Params, Trace

RUG_BELOW = 30  # fewer points than this: a rug instead of a histogram


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(k: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(k)]


def _grid(trace: Trace) -> np.ndarray:
    x = trace.problem.data
    params = [trace.start.params, trace.final.params]
    sd = max(float(np.sqrt(p.variances.max())) for p in params)
    lo = min(float(x.min()), *(float(p.means.min()) for p in params)) - 3 * sd
    hi = max(float(x.max()), *(float(p.means.max()) for p in params)) + 3 * sd
    return np.linspace(lo, hi, 400)


def _fit_panel(ax, trace: Trace, params: Params, title: str, grid: np.ndarray) -> None:
    x = trace.problem.data
    colors = _colors(trace.problem.components)
    curve = e_step(grid, params, "normalized").detail
    assert curve is not None
    if len(x) >= RUG_BELOW:
        ax.hist(x, bins="auto", density=True, color="0.85", edgecolor="0.6", label="data")
    else:
        ax.plot(x, np.zeros_like(x), "|", color="black", markersize=14, label="data")
    for k in range(trace.problem.components):
        ax.plot(grid, curve.weighted_density[:, k], "--", color=colors[k],
                label=rf"$\pi_{k + 1} \mathcal{{N}}_{k + 1}$")
    ax.plot(grid, curve.mixture_density, color="black", linewidth=1.6, label="$p(x)$")
    ax.set_title(title)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.set_ylim(bottom=0)


def fit_figure(trace: Trace):
    grid = _grid(trace)
    if trace.iterations:
        fig = _figure(9, 3.4)
        left, right = fig.subplots(1, 2, sharey=True)
        _fit_panel(left, trace, trace.start.params, "start", grid)
        n = len(trace.iterations)
        _fit_panel(right, trace, trace.final.params,
                   f"after {n} iteration{'s' if n != 1 else ''}", grid)
        right.legend(fontsize="small")
    else:
        fig = _figure(5.5, 3.4)
        ax = fig.subplots()
        _fit_panel(ax, trace, trace.final.params, "given parameters", grid)
        ax.legend(fontsize="small")
    return fig


def loglik_figure(trace: Trace):
    values = [trace.iterations[0].log_likelihood] + [
        it.log_likelihood_after for it in trace.iterations]
    fig = _figure(5.5, 3.2)
    ax = fig.subplots()
    ax.plot(range(len(values)), values, "o-", color="black", markersize=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"log-likelihood $\ell$")
    ax.xaxis.get_major_locator().set_params(integer=True)
    return fig


def resp_figure(trace: Trace):
    detail = trace.final.detail
    assert detail is not None
    order = np.argsort(detail.x, kind="stable")
    resp = detail.resp[order]
    n = len(order)
    fig = _figure(9, 3.0)
    ax = fig.subplots()
    bottom = np.zeros(n)
    colors = _colors(trace.problem.components)
    for k in range(trace.problem.components):
        ax.bar(np.arange(n), resp[:, k], bottom=bottom, width=0.9 if n <= 60 else 1.0,
               color=colors[k], label=f"$r_{{n{k + 1}}}$")
        bottom += resp[:, k]
    if n <= 30:
        ax.set_xticks(np.arange(n), [f"{v:g}" for v in detail.x[order]])
        ax.set_xlabel("$x_n$")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"the {n} points, in order of $x$")
    ax.set_ylabel("responsibility")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def write_plots(trace: Trace, folder: Path, fmt: str) -> dict[str, str]:
    """Write the figures into *folder* as ``fmt`` (``pdf``, vector, or ``png``).

    Returns the file names by figure (``fit``, ``loglik`` when there are iterations,
    ``resp``).
    """
    import matplotlib

    matplotlib.use("Agg")
    figures = {"fit": fit_figure(trace), "resp": resp_figure(trace)}
    if trace.iterations:
        figures["loglik"] = loglik_figure(trace)
    # No dates or versions in the files, so that the same trace gives the same bytes.
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
    names = {}
    for name, fig in figures.items():
        path = folder / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, dpi=150, metadata=metadata)
        names[name] = path.name
    return names
