"""Figures of a trace with matplotlib (imported only here, only when plots are asked for).

- ``fit``: the data (histogram, or a rug for few points) with the mixture density and
  each weighted component, at the start and after the last iteration;
- ``loglik``: the log-likelihood after each iteration;
- ``resp``: each point's final responsibilities as a stacked bar;
- for d >= 2, ``fit`` is the points coloured by their responsibilities (seed 003's
  red-blue mixing) with each component's 1- and 2-sigma ellipses, at the start and at
  the end, and ``grid`` the same over the iterations (seed 003's grid).

The curves come from the engine's own E-step evaluated on a grid, and the colours of
the points from its responsibilities under the recorded parameters, so the figures
cannot disagree with the numbers.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..backend import FLOAT
from ..errors import SystemRefused
from ..families import family_of
from ..families.gaussian import e_step
from ..trace import EStep, Params, Trace
from .documents import FamilyDocument, document_of

# The mixture's p(x) in the fit figures: a wide grey line drawn beneath the components'
# dashed ones, so that a component that makes up p(x) alone is not hidden under it.
MIXTURE_LINE = {"color": "0.45", "linewidth": 3.2, "alpha": 0.6, "zorder": 2}
RUG_BELOW = 30  # fewer points than this: a rug instead of a histogram
# From this many points the axis fits the data's 0.1 % to 99.9 % quantiles (a few far
# points, marked at the edge, do not squeeze the rest into a corner).
ROBUST_FROM = 1000
BARS_UP_TO = 600  # more points: their responsibilities as stacked areas, not bars
AREA_POINTS = 2000  # points drawn of those areas
RASTER_ABOVE = 5000  # d >= 2: more points are drawn as an image in a PDF figure
# More components than tab10's colours: no legend of components (their colours repeat).
LEGEND_COMPONENTS = 10


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(k: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(k)]


def _data_range(x: np.ndarray) -> tuple[float, float]:
    """The data's extent on the axis: all of it, or from ROBUST_FROM points its 0.1 % to
    99.9 % quantiles."""
    if len(x) >= ROBUST_FROM:
        lo, hi = np.quantile(x, [0.001, 0.999])
        return float(lo), float(hi)
    return float(x.min()), float(x.max())


def _grid(trace: Trace) -> np.ndarray:
    """The axis of the fit figure: for a few points (a rug) each component's curve whole,
    three standard deviations around its mean at the start and the end; for more (a
    histogram) the data's extent and a twentieth more on each side, where the curves of
    a broad starting component may run off the axis."""
    x = trace.problem.data
    lo, hi = _data_range(x)
    if len(x) >= RUG_BELOW:
        pad = 0.05 * (hi - lo) or 1.0
        return np.linspace(lo - pad, hi + pad, 400)
    for p in (trace.start.params, trace.final.params):
        sd = np.sqrt(np.asarray(p.variances, dtype=float))
        lo = min(lo, float((p.means - 3 * sd).min()))
        hi = max(hi, float((p.means + 3 * sd).max()))
    return np.linspace(lo, hi, 400)


def _axis(trace: Trace, i: int, symbol: str) -> str:
    """The name of coordinate *i* (from the CSV header or the spec's ``variables``), as
    plain text, or *symbol* (mathtext) when the coordinates have no names."""
    names = trace.problem.variables
    if not names or _fonts(names) is None:  # a name no installed font can draw
        return symbol
    return _text(names[i])


def _text(text: str) -> str:
    """User text (a coordinate's or a category's name) as matplotlib draws it literally:
    each dollar sign escaped, so that no ``$...$`` pair is parsed as mathtext."""
    return text.replace("$", r"\$")


@lru_cache(maxsize=8)
def _fonts(names: tuple[str, ...] | None) -> list[str] | None:
    """The font families that draw the coordinates' *names* (matplotlib's default, then
    fallbacks for other scripts), or None when some character is in no font."""
    from .fonts import FIGURE_FONT, figure_fonts

    return figure_fonts(" ".join(names)) if names else [FIGURE_FONT]


def _fit_panel(ax, trace: Trace, params: Params, title: str, grid: np.ndarray) -> None:
    colors = _colors(trace.problem.components)
    curve = e_step(grid, params, "normalized").detail
    assert curve is not None
    _curves(ax, trace, grid, curve, colors, r"\mathcal{N}", title)


def _data_marks(ax, x: np.ndarray, grid: np.ndarray) -> None:
    """The data on a continuous axis: a histogram of densities, or a rug for few points.
    Points beyond the axis (*grid*'s extent) are counted at its edge."""
    lo, hi = float(grid[0]), float(grid[-1])
    inside = x[(x >= lo) & (x <= hi)]
    if len(x) >= RUG_BELOW:
        ax.hist(inside, bins="auto", density=True, color="0.85", edgecolor="0.6",
                label="data")
    else:
        ax.plot(inside, np.zeros_like(inside), "|", color="black", markersize=14,
                label="data")
    for count, at, text in ((int((x < lo).sum()), 0.01, "\u2190 {} beyond"),
                            (int((x > hi).sum()), 0.99, "{} beyond \u2192")):
        if count:
            ax.text(at, 0.97, text.format(f"{count:,} point{'s' if count != 1 else ''}"),
                    transform=ax.transAxes, ha="left" if at < 0.5 else "right", va="top",
                    fontsize="small", color="0.3")


def _curves(ax, trace: Trace, grid: np.ndarray, detail: Any, colors: list, density: str,
            title: str) -> None:
    """The data on a continuous axis with each weighted component's density over *grid*
    (dashed; *density*: the component density's symbol) and the mixture's (a wide grey
    line beneath them: where one component makes up p(x), both stay visible)."""
    _data_marks(ax, trace.problem.data, grid)
    named = trace.problem.components <= LEGEND_COMPONENTS
    ax.plot(grid, detail.mixture_density, **MIXTURE_LINE, label="$p(x)$")
    for k in range(trace.problem.components):
        ax.plot(grid, detail.weighted_density[:, k], "--", color=colors[k], linewidth=1.6,
                zorder=3, label=rf"$\pi_{k + 1} {density}_{k + 1}$" if named else None)
    ax.set_title(title)
    ax.set_xlabel(_axis(trace, 0, "$x$"))
    ax.set_ylabel("density")
    ax.set_ylim(bottom=0)


def fit_figure(trace: Trace):
    grid = _grid(trace)
    if trace.iterations:
        fig = _figure(9, 3.4)
        # Each panel its own scale: the peaks after EM are often far higher than at the
        # start, and a shared axis cut them off.
        left, right = fig.subplots(1, 2)
        _fit_panel(left, trace, trace.start.params, "start", grid)
        n = len(trace.iterations)
        _fit_panel(right, trace, trace.final.params,
                   f"after {n} iteration{'s' if n != 1 else ''}", grid)
    else:
        fig = _figure(5.5, 3.4)
        ax = fig.subplots()
        _fit_panel(ax, trace, trace.final.params, "given parameters", grid)
    _legend_beside(fig)
    return fig


def _legend_beside(fig) -> None:
    """The legend of the figure's last panel, to the right of the panels, where it
    covers no data (inside an axis it may hide a bar or a curve)."""
    handles, labels = fig.axes[-1].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize="small")


def loglik_figure(trace: Trace):
    values = [trace.iterations[0].log_likelihood] + [
        it.log_likelihood_after for it in trace.iterations]
    fig = _figure(5.5, 3.2)
    ax = fig.subplots()
    ax.plot(range(len(values)), values, "o-", color="black", markersize=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"log-likelihood $\ell$")
    ax.xaxis.get_major_locator().set_params(integer=True)
    # The values as they are, never as an offset ("1e-5 - 8.91038e1") when they barely
    # change; a flat stretch spans at least a unit of the third significant digit.
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    low, high = min(values), max(values)
    floor = 10.0 ** (math.floor(math.log10(max(abs(low), abs(high), 1e-300))) - 2)
    if high - low < floor:
        middle = (high + low) / 2
        ax.set_ylim(middle - floor, middle + floor)
    return fig


def resp_figure(trace: Trace):
    detail = trace.final.detail
    assert detail is not None
    page = document_of(trace.problem)
    # Points in order of x, or in the data's order where the plug-in says so.
    order = (np.arange(len(detail.x)) if page.points_in_data_order
             else np.argsort(detail.x, kind="stable"))
    resp = detail.resp[order]
    n = len(order)
    fig = _figure(9, 3.0)
    ax = fig.subplots()
    colors = _colors(trace.problem.components)
    named = trace.problem.components <= LEGEND_COMPONENTS
    labels = [f"$r_{{n{k + 1}}}$" if named else None for k in range(trace.problem.components)]
    if n > BARS_UP_TO:
        # More bars than the figure has pixels (and matplotlib takes minutes for 100,000
        # of them): the same stack as areas over the points in order.
        # At most AREA_POINTS of them, evenly spaced: a vector figure stays small.
        at = np.unique(np.linspace(0, n - 1, min(n, AREA_POINTS)).round().astype(int))
        ax.stackplot(at, resp[at].T, colors=colors, labels=labels, step="mid")
        ax.set_xlim(-0.5, n - 0.5)
    else:
        bottom = np.zeros(n)
        for k in range(trace.problem.components):
            ax.bar(np.arange(n), resp[:, k], bottom=bottom, width=0.9 if n <= 60 else 1.0,
                   color=colors[k], label=labels[k])
            bottom += resp[:, k]
    if n <= 30:
        ax.set_xticks(np.arange(n), [_text(page.point_label(v)) for v in detail.x[order]],
                      rotation=90 if page.turned_labels else 0)
        ax.set_xlabel(_axis(trace, 0, "$x_n$"))
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"the {n:,} points, in order of {_axis(trace, 0, '$x$')}")
    ax.set_ylabel("responsibility")
    ax.set_ylim(0, 1)
    if named:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


# --------------------------------------------------------------------------- d >= 2

def _mixed_colors(resp: np.ndarray) -> np.ndarray:
    """Each point's colour mixed from its components' by its responsibilities: red and
    blue for two components (seed 003), the tab10 colours beyond."""
    k = resp.shape[1]
    base = (np.array([[0.85, 0.1, 0.1], [0.1, 0.2, 0.9]]) if k == 2
            else np.array([c[:3] for c in _colors(k)]))
    return np.clip(resp @ base, 0, 1)


def _ellipses(ax, params: Params, colors: list) -> None:
    """Each component's mean and its 1- and 2-sigma ellipses (of the first two
    coordinates: the marginal covariance)."""
    from matplotlib.patches import Ellipse

    for k in range(params.means.shape[0]):
        mean = np.asarray(params.means[k, :2], dtype=float)
        cov = np.asarray(params.variances[k][:2, :2], dtype=float)
        values, vectors = np.linalg.eigh(cov)
        angle = float(np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])))
        for s, style in ((1, "-"), (2, "--")):
            ax.add_patch(Ellipse(mean, 2 * s * np.sqrt(max(values[1], 0)),
                                 2 * s * np.sqrt(max(values[0], 0)), angle=angle,
                                 fill=False, linestyle=style, linewidth=1.2,
                                 edgecolor=colors[k]))
        ax.plot(*mean, "x", color=colors[k], markersize=8, markeredgewidth=2)


def _scatter_panel(ax, trace: Trace, params: Params, resp: np.ndarray, title: str,
                   small: bool = False) -> None:
    x = trace.problem.data
    k = trace.problem.components
    colors = ([(0.85, 0.1, 0.1), (0.1, 0.2, 0.9)] if k == 2 else _colors(k))
    # Many points are drawn as an image inside a vector figure (PDF): a hundred thousand
    # markers as vectors took half a minute and 22 MB.
    ax.scatter(x[:, 0], x[:, 1], c=_mixed_colors(resp), s=12 if small else 22,
               edgecolors="black", linewidths=0.4, alpha=0.85,
               rasterized=len(x) > RASTER_ABOVE)
    _ellipses(ax, params, colors)
    ax.set_title(title, fontsize="small" if small else None)
    if _same_scale(x):
        ax.set_aspect("equal", adjustable="box")
    if small:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel(_axis(trace, 0, "$x_{n1}$"))
        ax.set_ylabel(_axis(trace, 1, "$x_{n2}$"))


SAME_SCALE = 4.0  # coordinates whose spreads differ by more are drawn each to its scale


def _same_scale(x: np.ndarray) -> bool:
    """Whether the first two coordinates spread alike (within SAME_SCALE), so that one
    unit is drawn the same length on both axes and an ellipse keeps its true shape;
    height in metres against weight in kilograms would be a line."""
    spread = np.ptp(x[:, :2], axis=0)
    low, high = float(spread.min()), float(spread.max())
    return high == 0 or (low > 0 and high / low <= SAME_SCALE)


def _limits(trace: Trace, panels: list) -> tuple[tuple[float, float], tuple[float, float]]:
    """One view for every panel: the points and every 2-sigma ellipse."""
    x = trace.problem.data[:, :2]
    lo, hi = x.min(axis=0), x.max(axis=0)
    for params, _, _ in panels:
        for k in range(params.means.shape[0]):
            sd = 2 * np.sqrt(np.maximum(np.diag(np.asarray(params.variances[k][:2, :2],
                                                           dtype=float)), 0))
            lo = np.minimum(lo, params.means[k, :2] - sd)
            hi = np.maximum(hi, params.means[k, :2] + sd)
    pad = 0.05 * (hi - lo + 1e-12)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]),
                                                            float(hi[1] + pad[1]))


def _note(trace: Trace) -> str:
    return "" if trace.problem.dim == 2 else (
        f" (first two of {trace.problem.dim} coordinates)")


def grid_iterations(iterations: int) -> list[int]:
    """The iterations of the grid over the iterations (seed 003): every step-th from the
    first, at most defaults.GRID_PANELS (the final parameters are one panel more)."""
    step = max(1, -(-iterations // defaults.GRID_PANELS))
    return list(range(1, iterations + 1, step))


def _resp(trace: Trace, estep: EStep) -> np.ndarray:
    """The responsibilities of an E-step of the run: the trace's own where it kept them
    (the iterations shown in detail: a rounded carry's as it carried them), else the
    engine's E-step again on its parameters (a trace keeps per-point arrays only for the
    iterations it shows in detail)."""
    if estep.detail is not None:
        return estep.detail.resp
    detail = e_step(trace.problem.data, estep.params, trace.problem.kernel).detail
    assert detail is not None
    return detail.resp


def scatter_fit_figure(trace: Trace):
    """Start and end: the points coloured by responsibility, with the ellipses."""
    assert trace.final.detail is not None
    n = len(trace.iterations)
    panels = [(trace.start.params, _resp(trace, trace.iterations[0].estep), "start")] if n else []
    panels.append((trace.final.params, trace.final.detail.resp,
                   f"after {n} iteration{'s' if n != 1 else ''}" if n else "given parameters"))
    fig = _figure(4.6 * len(panels), 4.4)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    xlim, ylim = _limits(trace, panels)
    for ax, (params, resp, title) in zip(axes, panels):
        _scatter_panel(ax, trace, params, resp, title + _note(trace))
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
    return fig


def grid_figure(trace: Trace):
    """Seed 003's grid: the responsibilities over the iterations (each chosen iteration's
    E-step, with the parameters it started from), and the final ones."""
    assert trace.final.detail is not None
    chosen = set(grid_iterations(len(trace.iterations)))
    panels = [(it.estep.params, _resp(trace, it.estep), f"iteration {it.index}")
              for it in trace.iterations if it.index in chosen]
    panels.append((trace.final.params, trace.final.detail.resp,
                   f"after iteration {len(trace.iterations)}"))
    columns = min(5, len(panels))
    rows = -(-len(panels) // columns)
    note = _note(trace).strip()
    fig = _figure(2.3 * columns, 2.4 * rows + (0.6 if note else 0.4))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    xlim, ylim = _limits(trace, panels)
    for ax, (params, resp, title) in zip(axes, panels):
        _scatter_panel(ax, trace, params, resp, title, small=True)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    # The note on a line of its own: with two panels the title is barely wider than them.
    fig.suptitle("Responsibilities over the EM iterations" + (f"\n{note}" if note else ""))
    return fig


def write_plots(trace: Trace, folder: Path, fmt: str) -> dict[str, str]:
    """Write the figures into *folder* as ``fmt`` (``pdf``, vector, or ``png``).

    Returns the file names by figure (``fit``, ``resp``, and ``loglik`` when there are two
    iterations or more; for d >= 2 ``fit``, and ``grid`` and ``loglik`` when there are two
    iterations or more).
    """
    import matplotlib

    matplotlib.use("Agg")
    # Text in another script (a CJK column or category name) falls back to a font that has
    # it; a character in no font (an emoji) leaves matplotlib's own.
    problem = trace.problem
    family = _fonts((*(problem.variables or ()), *(problem.categories or ()))) or \
        _fonts(problem.variables)
    # An SVG's ids from a fixed salt: the same trace gives the same bytes.
    with matplotlib.rc_context({**({"font.family": family} if family else {}),
                                "svg.hashsalt": "em-explainer"}):
        return _write_plots(trace, folder, fmt)


def _family_panel(ax, trace: Trace, params: Params, title: str, support: Any) -> None:
    """The data's share of each value (bars) beside the mixture's probability of it (a
    wide grey line beneath) and each weighted component's (dashed)."""
    family = family_of(trace.problem)
    values, labels = support
    at = family.on(values)
    with np.errstate(invalid="ignore"):
        # A value no component can produce (a category no longer drawn) has probability 0
        # and no responsibilities (0/0), which the figure does not use.
        detail = at.e_step(values, params, FLOAT).detail
    assert detail is not None
    x = trace.problem.data
    share = np.array([np.mean(x == v) for v in values])
    colors = _colors(trace.problem.components)
    named = trace.problem.components <= LEGEND_COMPONENTS
    ax.bar(values, share, width=0.8, color="0.85", edgecolor="0.6", label="data")
    ax.plot(values, detail.mixture_density, "o-", markersize=5, **MIXTURE_LINE,
            label="$p(x)$")
    for k in range(trace.problem.components):
        ax.plot(values, detail.weighted_density[:, k], "o--", markersize=3, color=colors[k],
                zorder=3, label=rf"$\pi_{k + 1} f_{k + 1}$" if named else None)
    if len(values) <= 15 or family.named_data:
        ax.set_xticks(values, [_text(label) for label in labels])
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    ax.set_xlabel(_axis(trace, 0, "$x$"))
    ax.set_ylabel("probability")
    ax.set_ylim(bottom=0)


def _density_panel(ax, trace: Trace, params: Params, title: str, support: Any) -> None:
    """The data (a histogram, or a rug for few points) beside the mixture's density over
    the support (a wide grey line beneath) and each weighted component's (dashed)."""
    grid = support[0]
    detail = family_of(trace.problem).on(grid).e_step(grid, params, FLOAT).detail
    assert detail is not None
    _curves(ax, trace, grid, detail, _colors(trace.problem.components), "f", title)


def _bernoulli_panel(ax, trace: Trace, params: Params, title: str, support: Any) -> None:
    """Each component's probabilities of a 1, coordinate by coordinate, beside the data's
    share of 1s (grey)."""
    x = trace.problem.data
    d, k = x.shape[1], trace.problem.components
    colors = _colors(k)
    width = 0.8 / (k + 1)
    coords = np.arange(1, d + 1)
    ax.bar(coords - 0.4 + width / 2, x.mean(axis=0), width=width, color="0.85",
           edgecolor="0.6", label="data")
    for j in range(k):
        ax.bar(coords - 0.4 + width * (j + 1.5), params.p[j], width=width, color=colors[j],
               label=rf"$\mathbf{{p}}_{j + 1}$" if k <= LEGEND_COMPONENTS else None)
    if d <= 30:
        ax.set_xticks(coords)
    ax.set_title(title)
    ax.set_xlabel("coordinate $i$")
    ax.set_ylabel("probability of a 1")
    ax.set_ylim(0, 1)


def family_fit_figure(trace: Trace):
    """The start and the end of another family's mixture against the data."""
    page = document_of(trace.problem)
    assert isinstance(page, FamilyDocument)
    panels = [(trace.start.params, "start")] if trace.iterations else []
    n = len(trace.iterations)
    panels.append((trace.final.params, f"after {n} iteration{'s' if n != 1 else ''}"
                   if n else "given parameters"))
    support = page.support([p for p, _ in panels])
    if support is None and page.figure != "coordinates":
        return None
    panel = _PANELS[page.figure]
    fig = _figure(9 if len(panels) == 2 else 5.5, 3.4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (params, title) in zip(axes, panels):
        panel(ax, trace, params, title, support)
    _legend_beside(fig)
    return fig


# The fit figure's panel of each kind a document plug-in names (FamilyDocument.figure).
_PANELS = {"bars": _family_panel, "coordinates": _bernoulli_panel, "density": _density_panel}


def _write_plots(trace: Trace, folder: Path, fmt: str) -> dict[str, str]:
    # Matplotlib's warnings (a layout that cannot fit a long category's name) are not the
    # user's to read: a figure drawn as well as it can be is no fault.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _drawn(trace, folder, fmt)


def _drawn(trace: Trace, folder: Path, fmt: str) -> dict[str, str]:
    # The figures of the document plug-in, each by its maker's name; none where there is
    # nothing to draw (a support too large; the grid of one iteration, whose two panels
    # are the fit figure's).
    makers = {"fit": fit_figure, "resp": resp_figure, "family_fit": family_fit_figure,
              "scatter_fit": scatter_fit_figure,
              "grid": lambda tr: grid_figure(tr) if len(tr.iterations) > 1 else None}
    figures = {}
    for name, maker in document_of(trace.problem).figures.items():
        fig = makers[maker](trace)
        if fig is not None:
            figures[name] = fig
    # One iteration's log-likelihood is a single segment from the start: the conclusion
    # states both ends and the gain.
    if len(trace.iterations) > 1:
        figures["loglik"] = loglik_figure(trace)
    # No dates or versions in the files, so that the same trace gives the same bytes.
    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt, {"Software": None})
    names = {}
    for name, fig in figures.items():
        path = folder / f"{name}.{fmt}"
        try:
            fig.savefig(path, format=fmt, dpi=150, metadata=metadata)
        except OSError as exc:  # (a full or read-only TMPDIR: the system's refusal)
            raise SystemRefused("figures", path, exc) from None
        names[name] = path.name
    return names
