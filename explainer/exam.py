"""Exam variants: ``em-explainer exam TEMPLATE -n 30 --seed 7 -o DIR``.

TEMPLATE is a problem spec in which values may be *generators*, plus an ``exam``
section saying what is asked:

    data: {count: {range: [5, 6]}, range: [0, 10], decimals: 0}   # points on a grid
    components: 2
    init:
      weights: {choice: [[0.5, 0.5], [0.4, 0.6]]}   # a whole list, or per component
      means: {range: [1, 9], decimals: 0}            # K distinct values, sorted
      variances: {choice: [1, 2, 4], same: true}     # one draw for every component
    exam: {ask: [r, N, pi, mu], allow_tiny: false}

``{range: [lo, hi], decimals: d}`` draws from the grid lo, lo + 10^-d, ..., hi;
``{choice: [...]}`` picks one item. The data's generator draws *count* distinct values,
sorted; with ``repeat: true`` independent ones (counts that may repeat, categories from
a ``choice``), with ``dims: d`` rows of d independent values (0/1 answers for a
Bernoulli mixture: ``{count: 6, dims: 3, range: [0, 1]}``; points in the plane:
``dims: 2``). For the per-component starting values a generator gives one value per
component (distinct and sorted for the means), or one for all with ``same: true``; in
the plane ``{range: [0, 6], decimals: 0, dims: 2}`` gives K distinct rows of means, and
a ``choice`` of 2 x 2 matrices a covariance per component (or one for all).

Every variant is drawn from its own random stream (seed, variant number), so
variant 7 is the same whether 10 or 1,000 are made. A draw is kept only when it is
hand-computable: points and parameters on the template's grids; every number the hand
calculation computes or uses (densities, weighted densities, p(x_n), r_nk, the M-step's
sums) with two significant digits at the display precision, at least 10^-(decimals-1)
(unless ``allow_tiny``); components that stay distinct (each keeps at least half a
point, means apart by at least a unit of the data grid), and no collapse; a choice
asked (``assign``: which component has the largest responsibility for a point;
``moves``: which mean, or a binomial's p or a Poisson's rate, moves furthest and which
way) clear by as much in both calculations; otherwise it is drawn again.

Every number is given with its tolerance, half a unit in the last displayed decimal,
and two accepted values: the full-precision one and the one a careful hand
calculation reaches by rounding every intermediate to the display precision (they
can differ by several units: a density of 0.005 written to three decimals is 10 %
off). The key's own value follows the template's ``display.carry``.
"""

from __future__ import annotations

import copy
import csv
import io
from contextlib import closing
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from . import defaults
from .backend import FLOAT, Backend, RoundedBackend, round_half_up
from .engine import first_densities, run, run_with
from .families import FAMILIES, family_or_none
from .errors import (EXIT_TERMINATED, ProblemError, RenderError, SystemRefused, Terminated,
                     raise_terminated)
from .grading import (CHOICES, E_STEP_KINDS, KINDS, KINDS_2D, PARAMETER_OF, Quantity, _value,
                      location, moves, tolerance)
from .fields import check_length, flag_of, whole_number
from .inputs import load_spec_file
from .problem import Problem
from .validation import validate
from .trace import Trace
from .unwind import staging_folder

EXAM_KEYS = ("ask", "allow_tiny", "title")
MAX_DRAWS = 500
MAX_VARIANTS = 10_000  # variants of one exam (-n)
MAX_EXAM_POINTS = 1_000  # points of a drawn data set (an exam is worked by hand)
MAX_GRID = 10 ** 15  # values of a generator's grid, (high - low) x 10^decimals + 1
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- drawing

def _grid_value(spec: dict[str, Any], rng: np.random.Generator, field: str) -> float:
    lo, hi = _bounds(spec, field)
    decimals, steps = _grid(spec, field, lo, hi)
    return round(lo + int(rng.integers(0, steps)) / 10 ** decimals, decimals)


def _grid(spec: dict[str, Any], field: str, lo: float, hi: float) -> tuple[int, int]:
    """A generator's decimals (0 to 12) and the number of values on its grid."""
    low, high = defaults.DECIMALS_RANGE
    decimals = whole_number(spec.get("decimals", 0), f"{field}.decimals", low=low, high=high)
    steps = int(round((hi - lo) * 10 ** decimals)) + 1
    if steps > MAX_GRID:
        raise ProblemError(field, f"a grid from {lo:g} to {hi:g} in steps of 10^-{decimals} "
                                  f"has more than {MAX_GRID:.0e} values; use fewer decimals")
    return decimals, steps


def _bounds(spec: dict[str, Any], field: str) -> tuple[float, float]:
    bounds = spec.get("range")
    if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            or bounds[0] > bounds[1]
            or max(abs(b) for b in bounds) > defaults.MAX_ABS_VALUE):
        raise ProblemError(field, f"expected range: [low, high] with low <= high, at most "
                                  f"{defaults.MAX_ABS_VALUE:g} in absolute value, but got "
                                  f"{bounds!r}")
    return float(bounds[0]), float(bounds[1])


def _is_generator(value: Any) -> bool:
    return isinstance(value, dict) and ("range" in value or "choice" in value)


def _draw(spec: dict[str, Any], rng: np.random.Generator, field: str) -> Any:
    """One value of a scalar generator."""
    if "choice" in spec:
        items = spec["choice"]
        if not isinstance(items, list) or not items:
            raise ProblemError(field, f"expected choice: a non-empty list, but got {items!r}")
        return copy.deepcopy(items[int(rng.integers(0, len(items)))])
    value = _grid_value(spec, rng, field)
    return int(value) if float(value).is_integer() and not spec.get("decimals") else value


def _draw_components(spec: dict[str, Any], k: int, rng: np.random.Generator, field: str,
                     distinct: bool) -> list[Any]:
    """K values of a per-component generator."""
    if "choice" in spec and spec["choice"] and isinstance(spec["choice"][0], list):
        return _draw(spec, rng, field)
    if spec.get("same"):
        return [_draw(spec, rng, field)] * k
    if not distinct:
        return [_draw(spec, rng, field) for _ in range(k)]
    if "choice" in spec:
        items = list(dict.fromkeys(spec["choice"]))
        if len(items) < k:
            raise ProblemError(field, f"needs {k} distinct choices, but has {len(items)}")
        picked = rng.choice(len(items), size=k, replace=False)
        return sorted(items[i] for i in picked)
    lo, hi = _bounds(spec, field)
    decimals, steps = _grid(spec, field, lo, hi)
    if steps < k:
        raise ProblemError(field, f"needs {k} distinct values, but its grid has {steps}")
    picked = np.sort(rng.choice(steps, size=k, replace=False))
    values = [round(lo + int(i) / 10 ** decimals, decimals) for i in picked]
    return [int(v) if not decimals else v for v in values]


def _draw_data(spec: Any, rng: np.random.Generator) -> list[Any]:
    """The points of a data generator: *count* distinct values of its grid or choices,
    sorted; with ``repeat: true`` drawn independently (counts that may repeat, categories
    from ``choice``), in the order drawn; with ``dims: d`` rows of d values drawn
    independently (a Bernoulli mixture's 0/1 answers: ``range: [0, 1]``)."""
    if not isinstance(spec, dict) or "count" in spec and "range" not in spec \
            and "choice" not in spec:
        return spec
    count = spec.get("count", 5)
    n = _draw(count, rng, "data.count") if _is_generator(count) else count
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_EXAM_POINTS:
        raise ProblemError("data.count", f"expected a whole number of points from 1 to "
                                         f"{MAX_EXAM_POINTS}, but got {n!r}")
    generator = {k: v for k, v in spec.items() if k not in ("count", "dims", "repeat")}
    if spec.get("dims") is not None:
        dims = whole_number(spec["dims"], "data.dims", low=1, high=defaults.MAX_DIMENSIONS)
        return [[_draw(generator, rng, "data") for _ in range(dims)] for _ in range(n)]
    if flag_of(spec.get("repeat"), "data.repeat"):
        return [_draw(generator, rng, "data") for _ in range(n)]
    return sorted(_draw_components(generator, n, rng, "data", distinct=True))


def _matrices(spec: dict[str, Any]) -> bool:
    """Whether a covariances generator's choices are single matrices (one per
    component, or one for all with ``same: true``), not lists of K matrices."""
    items = spec.get("choice")
    return (isinstance(items, list) and bool(items) and isinstance(items[0], list)
            and bool(items[0]) and isinstance(items[0][0], list) and bool(items[0][0])
            and not isinstance(items[0][0][0], list))


def _draw_rows(spec: dict[str, Any], k: int, rng: np.random.Generator,
               field: str) -> list[list[Any]]:
    """K distinct rows of ``dims`` values of a generator's grid, sorted (means in the
    plane: ``{range: [0, 8], decimals: 0, dims: 2}``)."""
    dims = whole_number(spec["dims"], f"{field}.dims", low=1, high=defaults.MAX_DIMENSIONS)
    generator = {key: v for key, v in spec.items() if key != "dims"}
    for _ in range(MAX_DRAWS):
        rows = sorted([_draw(generator, rng, field) for _ in range(dims)] for _ in range(k))
        if all(a != b for a, b in zip(rows, rows[1:])):
            return rows
    raise ProblemError(field, f"needs {k} distinct rows, but its grid gave the same again")


def draw_spec(template: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One concrete spec from *template* (its ``exam`` section removed)."""
    spec = {key: value for key, value in template.items() if key != "exam"}
    spec["data"] = _draw_data(spec.get("data"), rng)
    for key in ("components",):
        if _is_generator(spec.get(key)):
            spec[key] = _draw(spec[key], rng, key)
    for section in ("stop", "display", "model"):
        part = dict(spec.get(section) or {})
        for key, value in part.items():
            if _is_generator(value):
                part[key] = _draw(value, rng, f"{section}.{key}")
        if part:
            spec[section] = part
    init = dict(spec.get("init") or {})
    k = spec.get("components")
    # (Another family's p or rates are drawn distinct and sorted, as the means.)
    for name in ("weights", "means", "variances", "covariances", "p", "rates", "probs"):
        value = init.get(name)
        if _is_generator(value):
            if not isinstance(k, int):
                raise ProblemError("components", "a generated init needs components: K")
            if name == "covariances" and _matrices(value):  # a matrix per component
                init[name] = ([_draw(value, rng, f"init.{name}")] * k if value.get("same")
                              else [_draw(value, rng, f"init.{name}") for _ in range(k)])
            elif value.get("dims") is not None:  # K distinct rows (means in the plane)
                init[name] = _draw_rows(value, k, rng, f"init.{name}")
            else:
                init[name] = _draw_components(value, k, rng, f"init.{name}",
                                              distinct=name in ("means", "p", "rates"))
    if init:
        spec["init"] = init
    return spec


# --------------------------------------------------------------------------- checking

def asked(problem: Problem, kinds: list[str]) -> list[Quantity]:
    """Every quantity of the asked kinds, iteration by iteration (another family's
    parameter entry by entry for a vector)."""
    family = family_or_none(problem)
    out = []
    for iteration in range(1, max(problem.iterations, 1) + 1):
        for kind in kinds:
            if problem.iterations == 0 and kind not in E_STEP_KINDS:
                continue
            if kind == "r":
                out += [Quantity(iteration, "r", n, k) for n in range(problem.n_samples)
                        for k in range(problem.components)]
            elif kind == "assign":
                out += [Quantity(iteration, "assign", n) for n in range(problem.n_samples)]
            elif kind == "moves":
                if location(problem) in problem.update:
                    out.append(Quantity(iteration, "moves"))
            elif kind == "loglik":
                out.append(Quantity(iteration, "loglik"))
            elif kind in ("pi", "mu", "var", "cov") and PARAMETER_OF[kind] not in problem.update:
                continue
            elif kind in ("mu", "cov") and problem.dim > 1:  # a vector's or matrix's entries
                d = problem.dim
                out += [Quantity(iteration, kind, k=k, i=i, j=j) for k in range(problem.components)
                        for i in range(d) for j in ([None] if kind == "mu" else range(i, d))]
            elif family is not None and kind == family.symbol:
                if family.parameter not in problem.update:
                    continue
                entries = [None] if family.width is None else range(family.width)
                out += [Quantity(iteration, kind, k=k, i=i) for k in range(problem.components)
                        for i in entries]
            else:
                out += [Quantity(iteration, kind, k=k) for k in range(problem.components)]
    return out


def hand_computable(trace: Trace, allow_tiny: bool, grid: float,
                    hand: Trace | None = None, margin: float = 1.0,
                    kinds: tuple[str, ...] = ()) -> str | None:
    """Why a drawn variant is not hand-computable (None when it is).

    Every number a student computes or uses in the hand calculation *hand* (rounded
    carry; default *trace*) -- densities, weighted densities, p(x_n), r_nk and the
    M-step's sums -- must have two significant digits at the display precision, at
    least 10^-(decimals - 1) (unless *allow_tiny*). With *margin* < 1 the bound is that
    much lower: a quick test on the full-precision run that refuses only what the hand
    calculation (a few units of the last decimal away) would refuse too.

    A choice asked (*kinds*: ``assign``, ``moves``) must be clear in both calculations,
    and the same: the largest responsibility of each point, or the largest move, ahead
    of the next by 10^-(decimals - 1) (a move by as much, too)."""
    problem = trace.problem
    hand = trace if hand is None else hand
    least = margin * 10.0 ** -(problem.decimals - 1)
    if not allow_tiny:
        esteps = [it.estep for it in hand.iterations] or [hand.final]
        for estep in esteps:
            detail = estep.detail
            why = _too_small((("density", detail.density),
                              ("weighted density", detail.weighted_density),
                              ("mixture density p(x_n)", detail.mixture_density),
                              ("responsibility", detail.resp)), least)
            if why is not None:
                return why
        for it in hand.iterations:
            sums = [it.mstep.nk, it.mstep.sum_rx]
            if "variances" in problem.update:
                # (the plane's scatter: its diagonal; a correlation near 0 is one)
                sums.append(np.diagonal(it.mstep.sum_rsq, axis1=1, axis2=2)
                            if problem.dim > 1 else it.mstep.sum_rsq)
            # (Another family's sum of no term, a coordinate no point has a 1 in, is an
            # exact 0: written as such.)
            exact_zero = problem.family != "gaussian"
            if any(np.any((np.abs(np.asarray(v, dtype=float)) < least)
                          & ~(exact_zero & (np.asarray(v, dtype=float) == 0)))
                   for v in sums):
                return f"a sum of the M-step below {least:g} (fewer than two significant digits)"
    for it in trace.iterations:
        if np.any(it.mstep.nk < 0.5):
            return "a component with less than half a point"
        if problem.family != "gaussian":
            # Components that stay apart: their parameters differ by 10^-(decimals - 1)
            # in some entry (a binomial's p, a Poisson's rate, a vector's entries).
            value = it.mstep.params.get(problem.parameters[1]).reshape(problem.components, -1)
            apart = np.abs(value[:, None, :] - value[None, :, :]).max(axis=2)
            if np.any(apart[np.triu_indices(problem.components, 1)] < least / margin):
                return f"two components' parameters closer than {least / margin:g}"
            continue
        means = np.asarray(it.mstep.params.means, dtype=float)
        if means.ndim > 1:  # in the plane: the distance between two means
            apart = np.linalg.norm(means[:, None] - means[None], axis=2)
            if np.any(apart[np.triu_indices(len(means), 1)] < grid):
                return "two means closer than a unit of the data grid"
        elif np.any(np.diff(np.sort(means)) < grid):
            return "two means closer than a unit of the data grid"
    if trace.events:
        return "a collapse or an empty component"
    return _unclear_choice(trace, hand, kinds, least)


def _unclear_choice(trace: Trace, hand: Trace, kinds: tuple[str, ...],
                    least: float) -> str | None:
    """Why a choice asked of the variant is not clear (see :func:`hand_computable`)."""
    problem = trace.problem
    for made in (trace,) if hand is trace else (trace, hand):
        esteps = [it.estep for it in made.iterations] or [made.final]
        if "assign" in kinds and problem.components > 1:
            for estep in esteps:
                top = np.sort(np.asarray(estep.detail.resp, dtype=float), axis=1)
                if np.any(top[:, -1] - top[:, -2] < least):
                    return (f"a point whose two largest responsibilities are closer than "
                            f"{least:g}")
        if "moves" in kinds and location(problem) in problem.update:
            for it in made.iterations:
                shift = np.sort(np.abs(moves(problem, it.estep.params, it.mstep.params)[1]))
                if shift[-1] < least or len(shift) > 1 and shift[-1] - shift[-2] < least:
                    return f"two moves, or a move and 0, closer than {least:g}"
    if hand is not trace:
        for q in asked(problem, [kind for kind in kinds if kind in CHOICES]):
            if _value(trace, q) != _value(hand, q):
                return "a choice the hand calculation answers otherwise"
    return None


def _too_small(named: Any, least: float) -> str | None:
    """Which of the (name, values) pairs *named* has a value below *least*, first."""
    for name, values in named:
        if np.any(np.asarray(values, dtype=float) < least):
            return f"a {name} below {least:g} (fewer than two significant digits)"
    return None


def _densities_too_small(problem: Problem, xp: Backend, margin: float = 1.0) -> str | None:
    """:func:`hand_computable`'s first test (with *margin*) on a Gaussian mixture's
    first E-step in *xp*'s arithmetic (the hand calculation's: the rounded carry), on
    its densities and weighted densities alone: the same answer for the draws it
    refuses, without the mixture rows and the rest of the run."""
    log_densities, log_weighted = first_densities(problem, xp)
    return _too_small((("density", xp.exp(log_densities)),
                       ("weighted density", xp.exp(log_weighted))),
                      margin * 10.0 ** -(problem.decimals - 1))


@dataclass(frozen=True)
class Variant:
    """One exam variant: its number, concrete spec, problem, trace and answers."""

    number: int
    spec: dict[str, Any]
    trace: Trace
    answers: list[dict[str, Any]]


# The quick test's bound, as a fraction of the hand calculation's: 2 units of the last
# decimal where the hand calculation needs 10. Rounded intermediates stay within a few
# units of the full-precision values in a problem of a few points, so the quick test
# refuses no draw the hand calculation would keep (the 1,000 variants of the example,
# seed 7, came out the same to the byte).
QUICK_MARGIN = 0.2

D2_REFUSAL = ("exam variants are drawn for 1-D problems and for points in the plane (data "
              "{dims: 2}, 2 x 2 covariances); d >= 3 is not supported by 'exam'")


def make_variant(template: dict[str, Any], seed: int, number: int) -> Variant:
    """Variant *number* (1-based) of *template*: drawn until hand-computable."""
    exam = template.get("exam") or {}
    kinds = exam.get("ask", list(default_ask((template.get("model") or {}).get("family"))))
    grid = 10.0 ** -int((template.get("data") or {}).get("decimals", 0)) \
        if isinstance(template.get("data"), dict) else 0.0
    rng = np.random.default_rng([seed, number])
    why = None
    for _ in range(MAX_DRAWS):
        spec = draw_spec(template, rng)
        spec.setdefault("display", {})["detail"] = "all"
        title = exam.get("title") or template.get("title") or "EM by hand"
        spec["title"] = f"{title}: variant {number}"
        problem = validate(spec)
        if problem.dim > 2 and problem.family == "gaussian":
            raise ProblemError("data", D2_REFUSAL)
        allow_tiny = flag_of(exam.get("allow_tiny"), "exam.allow_tiny")
        # Most draws fail, most of them on their first E-step's densities: those are
        # tested first, before the run.
        first = problem.family == "gaussian" and not allow_tiny
        if first and problem.carry == "full":
            why = _densities_too_small(problem, FLOAT, QUICK_MARGIN)
            if why is not None:
                continue
        trace = run(problem)
        if problem.carry == "full":
            # The hand calculation (exact fractions) is made only for the draws whose
            # full-precision numbers are clearly large enough, and whose hand-carried
            # first densities are.
            why = hand_computable(trace, allow_tiny, grid, margin=QUICK_MARGIN,
                                  kinds=tuple(kinds))
            if why is None and first:
                why = _densities_too_small(problem, RoundedBackend(problem.decimals))
            if why is not None:
                continue
        hand = trace if problem.carry == "rounded" else run_with(
            replace(problem, carry="rounded"), RoundedBackend(problem.decimals))
        why = hand_computable(trace, allow_tiny, grid, hand, kinds=tuple(kinds))
        if why is None:
            return Variant(number, spec, trace, answers_of(problem, kinds, trace, hand))
    raise ProblemError("exam", f"no draw of variant {number} was hand-computable in "
                               f"{MAX_DRAWS} tries (the last had {why}); widen the ranges or "
                               f"set exam.allow_tiny")


def answers_of(problem: Problem, kinds: list[str], trace: Trace,
               hand: Trace | None = None) -> list[dict[str, Any]]:
    """Every asked quantity's value (by the problem's carry policy), its full-precision
    and rounded-carry values (both accepted), and the tolerance of each. The rounded
    carry is the hand calculation from the question's written values (*hand*, made
    when not given)."""
    full = trace if problem.carry == "full" else trace.full
    if hand is None:
        hand = (run_with(replace(problem, carry="rounded"), RoundedBackend(problem.decimals))
                if problem.carry == "full" else trace)
    out = []
    for q in asked(problem, kinds):
        value, by_hand = _value(full, q), _value(hand, q)
        key = by_hand if problem.carry == "rounded" else value
        choice = q.kind in CHOICES
        if choice:  # (a drawn variant's choices are the same in both: hand_computable)
            value, by_hand, key = int(value), int(by_hand), int(key)
        tol = 0.0 if choice else tolerance(problem, key)
        out.append({"quantity": q.label, "iteration": q.iteration, "kind": q.kind,
                    "n": None if q.n is None else q.n + 1, "k": None if q.k is None else q.k + 1,
                    "entry": None if q.i is None else q.i + 1,
                    "column": None if q.j is None else q.j + 1,
                    "value": key, "full": value, "rounded_carry": by_hand, "tolerance": tol,
                    "tolerance_text": f"{tol:.6g}",
                    "other": by_hand if problem.carry == "full" else value,
                    "differs": value != by_hand if choice else
                    round_half_up(value, problem.decimals)
                    != round_half_up(by_hand, problem.decimals),
                    # The options of a choice, in the order they are offered: the
                    # components (assign); each component's parameter up, then down (moves).
                    "options": (list(range(1, problem.components + 1)) if q.kind == "assign"
                                else [s * k for k in range(1, problem.components + 1)
                                      for s in (1, -1)] if q.kind == "moves" else None)})
    return out


# --------------------------------------------------------------------------- writing

def _setup_values(problem: Problem) -> tuple[list[Any], list[dict[str, Any]]]:
    """The data and the starting parameters as the Moodle and QTI setups write them: a
    Gaussian's weight, mean and variance per component, another family's weight and
    parameter (with the family, and a binomial's trials)."""
    if problem.family == "gaussian" and problem.dim > 1:
        return problem.data.tolist(), [
            {"k": k + 1, "weight": float(problem.weights[k]), "mean": problem.means[k].tolist(),
             "covariance": problem.variances[k].tolist()} for k in range(problem.components)]
    if problem.family == "gaussian":
        return [float(v) for v in problem.data], [
            {"k": k + 1, "weight": float(problem.weights[k]), "mean": float(problem.means[k]),
             "variance": float(problem.variances[k])} for k in range(problem.components)]
    if problem.categories is not None:
        data: list[Any] = [problem.categories[int(v)] for v in problem.data]
    elif problem.trials is not None:  # successes of trials
        data = np.stack([problem.data, problem.trials], axis=1).astype(int).tolist()
    else:
        data = problem.data.astype(int).tolist()
    value = getattr(problem, problem.parameters[1])
    return data, [{"k": k + 1, "weight": float(problem.weights[k]),
                   "value": value[k].tolist(), "family": problem.family,
                   "categories": problem.categories}
                  for k in range(problem.components)]


def default_ask(family: Any) -> tuple[str, ...]:
    """What an exam asks when its template does not say: r, N, the weights and the
    means, or another family's parameter."""
    return ("r", "N", "pi", FAMILIES[family].symbol if family in FAMILIES else "mu")


def load_template(path: str | Path) -> dict[str, Any]:
    """An exam template, its ``exam`` section checked (the rest is checked per draw)."""
    template, _ = load_spec_file(path)
    exam = template.get("exam") or {}
    if not isinstance(exam, dict):
        raise ProblemError("exam", f"expected a mapping with keys {', '.join(EXAM_KEYS)}")
    for key in exam:
        if key not in EXAM_KEYS:
            raise ProblemError(f"exam.{key}", f"unknown key; valid keys: {', '.join(EXAM_KEYS)}")
    model = template.get("model") if isinstance(template.get("model"), dict) else {}
    family = model.get("family")
    family = family if family in defaults.FAMILIES[1:] else None
    data = template.get("data")
    init = template.get("init") if isinstance(template.get("init"), dict) else {}
    plane = family is None and (isinstance(data, list) and any(isinstance(v, (list, tuple))
                                                               for v in data)
                                or isinstance(data, dict) and data.get("dims") is not None
                                or template.get("columns") is not None
                                or "covariances" in init)
    if plane and not (isinstance(data, dict) and data.get("dims") == 2
                      or isinstance(data, list) and all(isinstance(v, (list, tuple))
                                                        and len(v) == 2 for v in data)):
        raise ProblemError("data", D2_REFUSAL)
    allowed = (("r", "N", "pi", FAMILIES[family].symbol, "loglik", "assign")
               + (() if FAMILIES[family].vector else ("moves",))
               if family in FAMILIES else KINDS_2D if plane else KINDS)
    kinds = exam.get("ask", list(default_ask(family)))
    if not isinstance(kinds, list) or not kinds or any(k not in allowed for k in kinds):
        raise ProblemError("exam.ask", f"expected a list drawn from {', '.join(allowed)}, "
                                       f"but got {kinds!r}")
    flag_of(exam.get("allow_tiny"), "exam.allow_tiny")
    for field, title in (("exam.title", exam.get("title")), ("title", template.get("title"))):
        if title is not None and (not isinstance(title, (str, int, float))
                                  or isinstance(title, bool)):
            raise ProblemError(field, f"expected text, but got {title!r}")
        if title is not None:
            check_length(str(title), field)
    names = (("weights", "means", "covariances") if plane else ("weights", "means", "variances")
             ) if family is None else ("weights", FAMILIES[family].parameter)
    if not isinstance(template.get("init"), dict) or any(init.get(name) is None
                                                         for name in names):
        raise ProblemError("init", f"an exam gives its starting values: "
                                   f"{', '.join('init.' + n for n in names)}, drawn or fixed")
    if template.get("data_file") is not None:
        raise ProblemError("data_file", "an exam draws its data: give data as a generator "
                                        "({count: ..., range: [low, high], decimals: 0})")
    return template


def variants(template: dict[str, Any], n: int, seed: int) -> Iterator[Variant]:
    """Variants 1..n, one at a time (a batch of 1,000 is never held at once)."""
    for number in range(1, n + 1):
        yield make_variant(template, seed, number)


def csv_rows(variant: Variant) -> str:
    """The variant's lines of answers.csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for a in variant.answers:
        writer.writerow([variant.number, a["quantity"], repr(a["value"]),
                         f"{a['tolerance']:.6g}", repr(a["full"]), repr(a["rounded_carry"])])
    return out.getvalue()


CSV_HEADER = "variant,quantity,value,tolerance,full_precision,rounded_carry\n"


def _spec_yaml(spec: dict[str, Any]) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, where it is built
    return yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True)


def folder_name(number: int, n: int) -> str:
    return f"variant-{number:0{max(3, len(str(n)))}d}"


def _question_context(variant: Variant,
                      base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The question sheet's context: the trace's (*base*, when built already) with the
    asked quantities."""
    problem = variant.trace.problem
    if base is None:
        from .render.context import build_context

        base = build_context(variant.trace)
    context = dict(base, plots={})
    asked_kinds: list[tuple[int, str]] = []
    for a in variant.answers:
        if (a["iteration"], a["kind"]) not in asked_kinds:
            asked_kinds.append((a["iteration"], a["kind"]))
    from .render.latex import engine

    context.update(part=None, selected=None, title=problem.title, engine=engine(problem),
                   questions=[{"iteration": i, "kind": kind} for i, kind in asked_kinds],
                   example=f"{variant.answers[0]['quantity'].split('.', 1)[1]},0.123")
    return context


@dataclass(frozen=True)
class _Texts:
    """One variant's share of every output, as text (made in a worker process; the
    command's process only writes it)."""

    number: int
    spec: dict[str, Any]
    decimals: int
    csv: str  # its lines of answers.csv
    keys: str  # its rows of keys.md
    moodle: str  # its category and question(s) in moodle.xml
    qti12: list[tuple[str, str]]  # its entries of qti-1.2.zip
    qti21: list[tuple[str, str]]  # its entries of qti-2.1.zip
    qti_ident: str  # its identifier in both QTI packages
    qti21_items: list[str]  # its items' identifiers (the QTI 2.1 manifest lists them)
    batch: tuple[str, str, str, str] | None  # the batch's head, question part, key part, tail


@dataclass(frozen=True)
class _Writer:
    """What a worker needs to make variant *number*'s texts (:meth:`texts`) and write its
    folder in *work*."""

    work: str
    template: dict[str, Any]
    seed: int
    n: int
    fmt: str
    moodle_kind: str
    title: str

    def texts(self, number: int) -> _Texts:
        from .render.context import build_context
        from .render.environment import environment, render_template, tidy
        from .render.html import markdown_to_mathjax_html
        from .render.latex import latex_body, render_latex
        from .render.markdown import markdown_document

        variant = make_variant(self.template, self.seed, number)
        problem = variant.trace.problem
        base = build_context(variant.trace)
        # The question sheet's context serves its own sheet and the batch's.
        context = _question_context(variant, base)
        # The variant's folder is written here: its files (a thousand folders' opens)
        # are written by every worker at once.
        folder = Path(self.work, folder_name(number, self.n))
        folder.mkdir()
        files = {"problem.yaml": _spec_yaml(variant.spec)}
        cloze = self.moodle_kind == "cloze"
        key_md = markdown_document(dict(base), variant.trace, None, None, None, None,
                                   defaults.FLAVOR) if self.fmt == "md" or cloze else None
        if self.fmt != "pdf":  # (PDF: compiled afterwards, from the spec)
            question = render_template("markdown" if self.fmt == "md" else "latex",
                                       f"exam/question.{self.fmt}.j2", context)
            files[f"question.{self.fmt}"] = tidy(question)
            files[f"key.{self.fmt}"] = (key_md if self.fmt == "md"
                                        else render_latex(variant.trace))
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        batch = None
        if self.fmt in ("tex", "pdf"):
            module = environment("latex").get_template("exam/batch.tex.j2").make_module(
                context)
            sheet = render_template("latex", "exam/sheet.tex.j2", context)
            batch = (str(module.head()).lstrip(), str(module.part(problem.title, sheet, False)),
                     str(module.part(problem.title, latex_body(variant.trace), True)),
                     str(module.tail()))
        module = _module("exam/keys.md.j2", problem.decimals)
        keys = str(module.rows(number, variant.answers, problem.family))
        data, params = _setup_values(problem)
        module = _module("exam/moodle.xml.j2", problem.decimals)
        # The problem as the questions state it, and each quantity asked: once for the
        # variant's every question. (HTML, made by the XML templates: Markup, which they
        # print as it is.)
        stated = module.setup(data, params, list(problem.update))
        answers = [{**a, "described": module.described(a, data, problem.family)}
                   for a in variant.answers]
        setup = (stated, data, problem.family, problem.iterations, problem.decimals)
        if cloze:  # (its general feedback: the worked key, for Moodle's MathJax)
            moodle = str(module.cloze_variant(self.title, number, *setup, problem.carry,
                                              answers,
                                              markdown_to_mathjax_html(key_md)))
        else:
            moodle = str(module.variant(self.title, number, *setup, problem.carry,
                                        answers))
        ident = f"em-explainer-{self.seed}-{number}"
        v12 = _module("exam/qti12.xml.j2", problem.decimals)
        qti12 = [(f"{ident}/{ident}.xml", str(v12.assessment(
                     ident, problem.title, *setup, problem.carry, answers)).lstrip()),
                 (f"{ident}/assessment_meta.xml", str(v12.meta(
                     ident, problem.title, len(answers))).lstrip())]
        v21 = _module("exam/qti21.xml.j2", problem.decimals)
        items = [f"{ident}-{i}" for i in range(1, len(answers) + 1)]
        qti21 = [(f"{item}.xml", str(v21.item(item, answer, *setup)).lstrip())
                 for item, answer in zip(items, answers)]
        qti21.append((f"{ident}.xml", str(v21.test(ident, problem.title, items)).lstrip()))
        return _Texts(number, variant.spec, problem.decimals, csv_rows(variant), keys,
                      moodle, qti12, qti21, ident, items, batch)


# Below this many variants they are made in the command's own process: a pool's start
# (its workers import numpy, SymPy and the templates) costs more than it saves.
POOL_FROM = 24
CHUNK = 8  # variants a worker makes at a time


@lru_cache(maxsize=None)
def _module(name: str, decimals: int) -> Any:
    """An export template's macros at *decimals* decimals, made once in a process (their
    macros keep no state between calls; a thousand variants made them anew each)."""
    from .render.environment import environment

    return environment("markdown").get_template(name).make_module({"decimals": decimals})


def _texts_in_order(writer: _Writer) -> Iterator[_Texts]:
    """Every variant's texts, in order of their numbers: made by a pool of worker
    processes (one per core; each variant is drawn from its own random stream, so the
    texts are the same however they are shared out)."""
    numbers = range(1, writer.n + 1)
    if writer.n < POOL_FROM or _cores() < 2:
        yield from map(writer.texts, numbers)
    else:  # (closing this generator closes the pool's)
        yield from _in_pool(writer.texts, numbers, chunksize=CHUNK)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _in_pool(job: Callable[[Any], Any], items: Any, chunksize: int = 1) -> Iterator[Any]:
    """job(item) of every item, in order, made by worker processes, one per core.

    Each worker has a pipe of its own and the chunks of *chunksize* items are dealt out
    in turn (two in flight per worker). No lock is shared between the workers, as it is
    in a ``multiprocessing.Pool``: a signal to the whole process group (a terminal's
    Ctrl-C, a group's SIGTERM) may kill a worker at any moment, and a pool would then
    wait forever on the lock the dead worker held, or start new workers behind our back.
    Done, the workers are told to end; closed early (``contextlib.closing``), on an
    error or a signal they are terminated (a worker in a PDF job kills its LaTeX
    process group first). The workers are gone when it returns."""
    import multiprocessing

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    workers: list[tuple[Any, Any]] = []
    done = False
    try:
        for _ in range(min(_cores(), len(chunks))):
            ours, theirs = multiprocessing.Pipe()
            process = multiprocessing.Process(target=_serve, args=(job, theirs), daemon=True)
            process.start()
            theirs.close()
            workers.append((process, ours))
        sent = 0

        def deal() -> None:  # the next chunk, to the worker whose turn it is
            nonlocal sent
            workers[sent % len(workers)][1].send(chunks[sent])
            sent += 1

        while sent < min(len(chunks), 2 * len(workers)):
            deal()
        for index in range(len(chunks)):
            process, pipe = workers[index % len(workers)]
            try:
                ok, value = pipe.recv()
            except EOFError:
                process.join()
                raise RenderError(f"a worker process ended unexpectedly (exit status "
                                  f"{process.exitcode})") from None
            if not ok:
                raise value
            if sent < len(chunks):
                deal()
            yield from value
        done = True
    finally:
        for process, pipe in workers:
            if done:
                try:
                    pipe.send(None)
                except OSError:  # (it has ended already)
                    pass
            elif process.is_alive():
                process.terminate()
        for process, pipe in workers:
            process.join()
            pipe.close()


def _serve(job: Callable[[Any], Any], pipe: Any) -> None:
    """A worker of :func:`_in_pool`: job(item) of every item of each chunk it is sent,
    until it is sent None; an error is sent back, for the command's process to raise."""
    _worker()
    while True:
        try:
            chunk = pipe.recv()
        except EOFError:  # the command's process is gone
            return
        if chunk is None:
            return
        try:
            answer: tuple[bool, Any] = (True, [job(item) for item in chunk])
        except Exception as exc:  # (raised again in the command's process)
            answer = (False, exc)
        try:
            pipe.send(answer)
        except Exception as exc:  # an error that cannot be pickled: its description
            pipe.send((False, RenderError(f"in a worker process: {exc!r}")))


def _worker() -> None:
    """A worker process (variants' texts, or PDFs) between jobs ends quietly on SIGTERM
    (what terminating it sends; it inherited the command's handler, which would print a
    traceback), and leaves a Ctrl-C (sent to the whole process group) to the command's
    process, which terminates the workers."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pdf_job(job: tuple[dict[str, Any], list[str], str]) -> None:
    """Compile one variant's question and key (in a worker process). Within a job SIGTERM
    unwinds, so that the LaTeX process group it started is killed and its temporary
    folder removed; the worker then ends quietly (the pool is being terminated: a
    worker's uncaught exit would print its traceback)."""
    import os
    import signal

    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        _compile_variant(job)
    except Terminated:
        os._exit(EXIT_TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _compile_variant(job: tuple[dict[str, Any], list[str], str]) -> None:
    from .render.environment import render_template
    from .render.output import build_pdf
    from .render.pdf import compile_tex

    spec, kinds, folder = job
    problem = validate(spec)
    trace = run(problem)
    variant = Variant(0, spec, trace, answers_of(problem, kinds, trace))
    tex = render_template("latex", "exam/question.tex.j2", _question_context(variant))
    Path(folder, "question.pdf").write_bytes(compile_tex(tex).pdf)
    Path(folder, "key.pdf").write_bytes(build_pdf(trace, plots=False).pdf)


class _Zip:
    """A zip archive whose entries carry no time: the same exam, the same bytes."""

    def __init__(self, path: Path):
        import zipfile

        # Level 1: a thousand variants' items are compressed in the command's own
        # process while the workers make the next; the files are a third larger.
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def writestr(self, name: str, text: str) -> None:
        import zipfile

        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, text, compresslevel=1)

    def close(self) -> None:
        self.zip.close()


class _Qti:
    """The QTI packages, written into their zips as the variants come, the manifests at
    the end: ``qti-1.2.zip`` (as Canvas and Blackboard import it: per variant an
    assessment of numerical items, and Canvas's meta beside it) and ``qti-2.1.zip`` (as
    ILIAS, OpenOLAT and Inspera import it: per asked quantity an item, per variant a
    test of its items)."""

    def __init__(self, folder: Path, title: str, seed: int):
        self.v12 = _Zip(folder / "qti-1.2.zip")
        self.v21 = _Zip(folder / "qti-2.1.zip")
        self.title, self.seed = title, seed
        self.variants: list[dict[str, str]] = []
        self.tests: list[dict[str, Any]] = []

    def add(self, texts: _Texts) -> None:
        for name, text in texts.qti12:
            self.v12.writestr(name, text)
        self.variants.append({"ident": texts.qti_ident})
        for name, text in texts.qti21:
            self.v21.writestr(name, text)
        self.tests.append({"ident": texts.qti_ident, "items": texts.qti21_items})

    def finish(self) -> None:
        v12 = _module("exam/qti12.xml.j2", 3)
        self.v12.writestr("imsmanifest.xml", str(v12.manifest(
            f"em-explainer-{self.seed}", self.title, self.variants)).lstrip())
        self.v12.close()
        v21 = _module("exam/qti21.xml.j2", 3)
        self.v21.writestr("imsmanifest.xml", str(v21.manifest(
            f"em-explainer-{self.seed}", self.tests)).lstrip())
        self.v21.close()


class _Batch:
    """The printable batch: every question sheet in ``questions.tex`` and every answer key
    in ``keys.tex``, each variant on pages of its own, written a variant at a time; for
    PDF output compiled at the end into ``questions.pdf`` and ``keys.pdf`` (the sources
    then removed). The head and tail are the first variant's."""

    NAMES = ("questions", "keys")

    def __init__(self, folder: Path, texts: _Texts):
        assert texts.batch is not None
        self.folder = folder
        self.tail = texts.batch[3]
        self.files = {name: open(folder / f"{name}.tex", "w", encoding="utf-8")
                      for name in self.NAMES}
        for handle in self.files.values():
            handle.write(texts.batch[0])

    def add(self, texts: _Texts) -> None:
        """A variant's sheet and key."""
        assert texts.batch is not None
        self.files["questions"].write(texts.batch[1])
        self.files["keys"].write(texts.batch[2])

    def finish(self, compile_pdf: bool, n: int) -> None:
        from .render.environment import tidy
        from .render.pdf import compile_tex, latex_timeout

        for handle in self.files.values():
            handle.write(self.tail)
            handle.close()
        for name in self.NAMES:
            path = self.folder / f"{name}.tex"
            text = tidy(path.read_text(encoding="utf-8"))
            path.write_text(text, encoding="utf-8")
            if compile_pdf:
                # A batch is many documents long: its time limit grows with it.
                pdf = compile_tex(text, timeout=latex_timeout() * max(1, -(-n // 10)))
                (self.folder / f"{name}.pdf").write_bytes(pdf.pdf)
                path.unlink()


def write_exam(template_path: str | Path, n: int, seed: int, out: str | Path,
               fmt: str = "md", progress: Progress | None = None,
               moodle_kind: str = defaults.MOODLE_KINDS[0]) -> Path:
    """Write *n* variants of the template into the folder *out* (which must not exist or
    be empty): per variant ``problem.yaml``, ``question.FMT`` and ``key.FMT``; for the
    batch ``answers.csv``, ``keys.md``, ``moodle.xml`` (per variant a category with
    one Cloze question, its blanks the asked quantities, or with *moodle_kind*
    ``numerical`` a numerical question per quantity), ``qti-1.2.zip`` and
    ``qti-2.1.zip``; with
    *fmt* ``tex`` or ``pdf`` the printable batch (``questions``, ``keys``). Built in a
    temporary folder beside *out* and moved into place at the end, so a failure leaves
    nothing behind."""
    import os

    from .render.output import mkdir_mode

    template = load_template(template_path)
    if moodle_kind not in defaults.MOODLE_KINDS:
        raise ProblemError("--moodle", f"expected one of {', '.join(defaults.MOODLE_KINDS)}, "
                                       f"but got "
                                       f"{moodle_kind!r}")
    if not 1 <= n <= MAX_VARIANTS:
        raise ProblemError("-n", f"expected 1 to {MAX_VARIANTS:,} variants, but got {n}")
    if seed < 0:
        raise ProblemError("--seed", f"expected a whole number >= 0, but got {seed}")
    out = Path(os.path.realpath(out))  # a link to an empty folder: the folder is filled
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProblemError("-o", f"{out} exists and is not an empty folder")
    if not out.resolve().parent.is_dir():
        raise ProblemError("-o", f"folder does not exist: {out.resolve().parent}")
    if fmt == "pdf":
        from .render.pdf import require_latex

        require_latex()
    kinds = (template.get("exam") or {}).get("ask", list(default_ask(
        (template.get("model") or {}).get("family"))))
    batch = None  # the printable batch's two documents (LaTeX and PDF formats)
    title = (template.get("exam") or {}).get("title") or template.get("title") or "EM by hand"
    jobs = []
    try:
        with staging_folder(f".{out.name}.", out.resolve().parent) as work:
            moodle = _module("exam/moodle.xml.j2", 3)
            qti = _Qti(work, title, seed)
            writer = _Writer(str(work), template, seed, n, fmt, moodle_kind, title)
            with closing(_texts_in_order(writer)) as made, \
                    open(work / "answers.csv", "w", encoding="utf-8", newline="") as answers, \
                    open(work / "keys.md", "w", encoding="utf-8") as keys, \
                    open(work / "moodle.xml", "w", encoding="utf-8") as xml:
                answers.write(CSV_HEADER)
                xml.write(str(moodle.head()).lstrip())
                for texts in made:
                    if texts.number == 1:
                        keys.write(str(_module("exam/keys.md.j2", texts.decimals)
                                       .head(title, n, texts.decimals, seed)).lstrip())
                    if fmt == "pdf":
                        jobs.append((texts.spec, kinds, str(work / folder_name(texts.number, n))))
                    if texts.batch is not None:
                        batch = batch or _Batch(work, texts)
                        batch.add(texts)
                    answers.write(texts.csv)
                    keys.write(texts.keys)
                    xml.write(texts.moodle)
                    qti.add(texts)
                    if progress is not None:
                        progress(texts.number, n)
                xml.write(str(moodle.tail()))
                qti.finish()
            if jobs:
                with closing(_in_pool(_pdf_job, jobs)) as compiled:
                    for _ in compiled:
                        pass
            if batch is not None:
                batch.finish(fmt == "pdf", n)
            mkdir_mode(work)  # mkdtemp's 0700 would hide the exam from others
            if out.exists():
                out.rmdir()
            os.replace(work, out)
    except OSError as exc:
        raise SystemRefused("-o", out, exc) from None
    return out

