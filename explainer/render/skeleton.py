"""The skeleton of every document's context: what does not depend on the model.

Elided rows, the worked points and the
E-step takeaway, an iteration's head (its log-likelihood before and after and the
change in words), why EM stopped, the sums of the printed rows. The model's own parts
(one dimension in ``context``, d >= 2 in ``context_mv``) import from here, never from
each other.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any, Callable, Sequence

import numpy as np

from .. import defaults
from ..backend import round_half_up
from ..errors import ProblemError
from ..trace import Iteration, PointDetail, Trace
from . import shown as sh
from .sheet import Sheet


def elide(count: int, max_rows: int) -> list[int | None]:
    """Row indices (0-based) to show; ``None`` marks the omitted stretch.

    With more than *max_rows* rows: the first ``max_rows - 1``, a gap, the last.
    """
    if count <= max_rows:
        return list(range(count))
    return [*range(max_rows - 1), None, count - 1]

def elide_terms(count: int, max_rows: int) -> list[int | None]:
    """Terms of a written-out sum: all of them, or the first few, a gap, the last."""
    if count <= max_rows:
        return list(range(count))
    return [*range(defaults.SUM_HEAD_TERMS), None, count - 1]

def gap_of(terms: Sequence[int | None]) -> list[int]:
    """The rows (0-based) the gap of a written-out sum stands for: those between the
    terms either side of it (none when every term is written)."""
    if None not in terms:
        return []
    at = terms.index(None)
    return list(range(terms[at - 1] + 1, terms[at + 1]))  # type: ignore[operator]

def gap_term(rows: Sequence[int], **subtotals: Any) -> dict[str, Any]:
    """The gap of a written-out sum for the templates: the rows it stands for (counted
    from 1) and the subtotal of each of its sums (``t is gap`` in a template)."""
    return {"gap": {"first": rows[0] + 1, "last": rows[-1] + 1}, **subtotals}

def all_equal(values: np.ndarray) -> bool:
    return bool(np.all(values == values[0]))

def companion(trace: Trace | None, index: int) -> Iteration | None:
    """Iteration *index* of a companion run (exact or full precision), when it has it
    in detail."""
    if trace is None or index > len(trace.iterations):
        return None
    iteration = trace.iterations[index - 1]
    return iteration if iteration.detailed else None

def exact_reach(trace: Trace) -> int:
    """How many iterations the exact run computed (0 when it did not finish the first)."""
    return len(trace.exact.iterations) if trace.exact is not None else 0

def _point_list(indices: np.ndarray, limit: int, point) -> dict[str, Any]:
    """The first *limit* points of *indices* (made by *point*), and how many more there are."""
    return {"shown": [point(int(n)) for n in indices[:limit]],
            "more": max(0, len(indices) - limit), "count": len(indices)}

def highlight_points(detail: PointDetail, spec: str | tuple[int, ...]) -> list[int]:
    """0-based points worked in full: given ones, or the most ambiguous and the first
    point a student can follow on a calculator: whose weighted likelihoods pi_k N_nk are
    all at least ``defaults.CALCULATOR_SMALLEST`` (exp(-450) is 10^-196, which a
    calculator shows as 0); when no point has that, the one whose smallest is the
    largest."""
    n_samples = detail.resp.shape[0]
    if not isinstance(spec, str):
        return [n - 1 for n in spec if n - 1 < n_samples]
    log_weighted = np.asarray(detail.log_weighted, dtype=float)
    # A point whose every pi_k N_nk is below 10^-999999 (a binomial point of 10^9 trials)
    # cannot be written out: its terms would print as 0, and r_nk as 0 / 0.
    writable = np.flatnonzero(log_weighted.max(axis=1) >= _LEAST_WRITABLE_LOG)
    if not len(writable):
        return []
    most_ambiguous = int(writable[np.argmin(detail.resp[writable].max(axis=1))])
    smallest = log_weighted.min(axis=1)
    readable = np.flatnonzero(smallest >= math.log(defaults.CALCULATOR_SMALLEST))
    follow = int(readable[0]) if len(readable) else int(writable[np.argmax(
        smallest[writable])])
    return [most_ambiguous] if most_ambiguous == follow else [most_ambiguous, follow]


# The natural log of the least value a printed decimal holds (10^-999999: Decimal's).
_LEAST_WRITABLE_LOG = -999_000 * math.log(10)

def takeaway(detail: PointDetail, labels: Sequence[str], limit: int,
              value: Any = None, point_x: Any = None, point_of: Any = None) -> dict[str, Any]:
    """Which points belong clearly to which component, which lean, which are ambiguous;
    *value(n, k)* is r_nk as printed, *point_x(n)* x_n as printed (default: floats), or
    *point_of(n)* the whole point as the model writes it (``n``, ``x``, ...)."""
    resp = detail.resp
    best = resp.argmax(axis=1)
    top = resp.max(axis=1)
    if value is not None:
        # A point next to a threshold is classed by its r as printed (0.89996 printed
        # 0.900 belongs, as the reader sees it).
        close = np.flatnonzero(np.min(np.abs(top[:, None] - np.array(
            [defaults.CLEAR_RESPONSIBILITY, defaults.AMBIGUOUS_RESPONSIBILITY])), axis=1)
            < defaults.THRESHOLD_MARGIN)
        top = top.copy()
        for n in close:
            top[n] = float(value(int(n), int(best[n])).shown().number)
    clear = top >= defaults.CLEAR_RESPONSIBILITY
    ambiguous = top < defaults.AMBIGUOUS_RESPONSIBILITY

    def point(n: int) -> dict[str, Any]:
        x = detail.x[n]
        if point_x is not None:
            x = point_x(n)
        elif np.ndim(x) == 0:
            x = float(x)
        else:
            x = [float(v) for v in x]
        r = [float(v) if value is None else value(n, k) for k, v in enumerate(resp[n])]
        if point_of is not None:
            return {**point_of(n), "r": r}
        return {"n": n + 1, "x": x, "r": r}

    groups = [{"k": k + 1, "label": labels[k],
               "clearly": _point_list(np.flatnonzero((best == k) & clear), limit, point),
               "lean": _point_list(np.flatnonzero((best == k) & ~clear & ~ambiguous), limit,
                                   point)}
              for k in range(len(labels))]
    ambiguous_points = _point_list(np.flatnonzero(ambiguous), limit, point)
    return {"groups": groups, "ambiguous": ambiguous_points,
            "clear_threshold": defaults.CLEAR_RESPONSIBILITY,
            "ambiguous_threshold": defaults.AMBIGUOUS_RESPONSIBILITY,
            "single": len(labels) == 1}

def difference(kind: str, shown: float, full: float, decimals: int,
               **where: int) -> dict[str, Any] | None:
    """A quantity of the hand calculation (rounded carry) that prints differently from
    the full-precision one: which, both values and by how much; None when they agree."""
    if round_half_up(shown, decimals) == round_half_up(full, decimals):
        return None
    return {"kind": kind, **where, "rounded": shown, "full": full, "by": shown - full}


def estep_differences(detail: Any, full: Any, decimals: int) -> list[dict[str, Any]]:
    """Every density (f_k(x_n)), p(x_n) and r_nk of a hand calculation's E-step *detail*
    that prints differently from the full-precision E-step *full*, point by point."""
    other = full.detail
    assert other is not None
    found = []
    for n in range(detail.resp.shape[0]):
        for k in range(detail.resp.shape[1]):
            found.append(difference("density", float(detail.density[n, k]),
                                    float(other.density[n, k]), decimals, n=n + 1, k=k + 1))
        found.append(difference("mixture", float(detail.mixture_density[n]),
                                float(other.mixture_density[n]), decimals, n=n + 1))
        for k in range(detail.resp.shape[1]):
            found.append(difference("resp", float(detail.resp[n, k]), float(other.resp[n, k]),
                                    decimals, n=n + 1, k=k + 1))
    return [f for f in found if f is not None]


def kept_given(trace: Trace) -> frozenset[str]:
    """The given parameters a hand calculation keeps (not updated): printed as given in
    every iteration, since that is what it calculates with (a weight of 1/3)."""
    if trace.problem.carry != "rounded" or trace.start.method != "given":
        return frozenset()
    return frozenset(trace.problem.parameters) - set(trace.problem.update)


def direction(before: float, after: float, decimals: int) -> str:
    """``up``, ``down`` or ``same``: same when both are printed alike at the display
    precision, by the display rule (a probability of 4.37e-8 that falls to 6.45e-148 is
    printed so, and moved: it is not 0.000 both times)."""
    if sh.show(after, decimals).number == sh.show(before, decimals).number:
        return "same"
    return "up" if after > before else "down"

def scientific_remark(rows: Sequence[dict[str, Any] | None],
                      decimals: int) -> list[dict[str, Any]]:
    """The remark that numbers in scientific notation are small, not zero, when an E-step
    row prints one (1-D and d >= 2 alike)."""
    if any(c.shown().sci for r in rows if r is not None
           for c in [*r["density"], *r["resp"], r["mixture"]]):
        return [{"kind": "scientific", "below": sh.scientific_below(decimals)}]
    return []

def stop_context(trace: Trace, iterations: list[dict[str, Any]]) -> dict[str, Any]:
    """Why EM stopped, and what its log-likelihood did (1-D and d >= 2 alike). The last
    gain is printed as its iteration's conclusion prints it where that is shown in full,
    else by the display rule."""
    problem = trace.problem
    last = trace.iterations[-1] if trace.iterations else None
    shown = iterations[-1].get("gain_shown") if iterations else None
    if shown is None and last is not None:
        shown = sh.show(abs(last.gain), problem.decimals)
    return {"iterations": problem.iterations, "tol": problem.tol,
            "reason": trace.stop_reason, "converged": trace.converged,
            "ran": len(trace.iterations),
            "last_gain": last.gain if last else None, "last_gain_shown": shown,
            "last_change": iterations[-1]["change"] if iterations else None,
            "unchanged_since": _unchanged_since(iterations)}

def row_sums(rows: Sequence[dict[str, Any] | None], decimals: int,
             carried: np.ndarray | None = None) -> dict[str, Any]:
    """The smallest and largest sum of a row of responsibilities as printed: a row's
    values sum to 1, its printed digits only up to their rounding. The bounds are given
    to at most *decimals* + 3 places (and six significant digits), the smallest rounded
    down and the largest up, so
    that they still hold every sum (0.999 + 5.53e-4 + 2.09e-14 is 0.9995530000000209,
    said as "between 0.99955 and ..."). In a hand calculation a row need not sum to 1
    at all: its sums are given rounded to the decimals carried, over every row of the
    *carried* responsibilities, the rows a table leaves out too."""
    if carried is not None:
        sums = [sh.d_sum(*(Decimal(repr(float(v))) for v in row)) for row in carried]
    else:
        sums = [sh.d_sum(*(c.shown().number for c in r["resp"])) for r in rows if r is not None]
    exact = min(sums) == max(sums) == 1
    if carried is not None:
        quantum = Decimal(1).scaleb(-decimals)
        sums = [sh.round_decimal(v, quantum) for v in sums]
        low, high = min(sums), max(sums)
    else:
        # (to at most COLUMN_DIGITS significant digits: 1.00002, not 1.000014)
        quantum = Decimal(1).scaleb(-min(decimals + 3, defaults.COLUMN_DIGITS - 1))
        low, high = min(sums), max(sums)
        with localcontext(sh.WIDE):
            if low.as_tuple().exponent < quantum.as_tuple().exponent:
                low = low.quantize(quantum, rounding=ROUND_FLOOR)
            if high.as_tuple().exponent < quantum.as_tuple().exponent:
                high = high.quantize(quantum, rounding=ROUND_CEILING)
    # A hand calculation whose rows stray far from 1, or with a responsibility above 1,
    # is carried to too few decimals for its densities: said, with what to do.
    above = None
    if carried is not None and float(np.max(carried)) > 1:
        n, k = np.unravel_index(int(np.argmax(carried)), carried.shape)
        above = {"n": int(n) + 1, "k": int(k) + 1,
                 "value": Decimal(repr(float(carried[n, k])))}
    stray = carried is not None and max(1 - low, high - 1) > Decimal(str(defaults.CARRY_STRAY))
    return {"low": low, "high": high, "exact": exact,
            "decimals": decimals if carried is not None else None,
            "stray": stray, "above": above}

def iteration_head(iteration: Iteration, sheet: Sheet) -> dict[str, Any]:
    """What any iteration's context holds (1-D and d >= 2): the log-likelihood before and
    after, and its change in words; for an iteration shown in full, the gain as printed
    (after - before)."""
    i = iteration.index
    before = sheet.cell(("ll", i - 1), iteration.log_likelihood)
    after = sheet.cell(("ll", i), iteration.log_likelihood_after)
    change = _gain(iteration.log_likelihood, iteration.log_likelihood_after, iteration.gain)
    if change == "none" and not sheet.grow and not _repeats(iteration):
        # A hand calculation whose log-likelihood did not change while its parameters
        # still moved has not reached a fixed point: a gain of 0, no convergence.
        change = "gain"
    ctx: dict[str, Any] = {"index": i, "log_likelihood": before,
                           "log_likelihood_after": after, "gain": iteration.gain,
                           "change": change, "detailed": iteration.detailed}
    if iteration.detailed and change == "gain":
        # (A hand calculation's log-likelihoods are short decimals: their difference is.)
        gain = sheet.cell(("gain", i), iteration.gain if sheet.grow else float(
            sh.decimal_of(iteration.log_likelihood_after)
            - sh.decimal_of(iteration.log_likelihood)))
        ctx["gain_shown"] = gain
        # A gain too small to write as the difference of log-likelihoods printed to at
        # most COLUMN_DIGITS significant digits (or to the digits they print anyway) is
        # said with its value alone (the difference of the values before their rounding):
        # not -11.79967188 - (-11.79967197) = 9.00 x 10^-8.
        ctx["gain_alone"] = sheet.grow and _gain_digits(iteration, sheet.decimals) > max(
            defaults.COLUMN_DIGITS, *(sh.significant(sh.show(v, sheet.decimals)) for v in
                                      (iteration.log_likelihood, iteration.log_likelihood_after)))
        if not ctx["gain_alone"]:
            sheet.equation(("gain", i), gain, [after, before], lambda a, b: a - b)
    return ctx

def _gain_digits(iteration: Iteration, decimals: int) -> int:
    """The significant digits the log-likelihoods before and after an iteration need for
    their printed difference to give its gain to the digits the gain prints: to the
    gain's last printed decimal."""
    quantum = sh.show(iteration.gain, decimals).quantum
    size = max(abs(iteration.log_likelihood), abs(iteration.log_likelihood_after))
    return sh.decimal_of(size).adjusted() - quantum.adjusted() + 1

def _repeats(iteration: Iteration) -> bool:
    """Whether an iteration ended with the parameters it started from."""
    return all(np.array_equal(iteration.estep.params.get(p), iteration.mstep.params.get(p))
               for p in iteration.estep.params.names)

def _gain(before: float, after: float, gain: float) -> str:
    """What the change of the log-likelihood over one iteration is: ``gain``, ``none``
    (within the floating-point noise of the sum: EM has converged) or ``fall`` (more
    than the noise: only rounded intermediates can do that, never EM itself)."""
    noise = defaults.LOG_LIKELIHOOD_NOISE * max(1.0, abs(before), abs(after))
    if abs(gain) <= noise:
        return "none"
    return "gain" if gain > 0 else "fall"

def gains(iterations: list[dict[str, Any]]) -> dict[str, bool]:
    """What the gains of the iterations do, so that a sentence about them is true: whether
    each gain was smaller than the one before (they shrink), and whether any fell."""
    gains = [it["gain"] for it in iterations if it["change"] == "gain"]
    return {"shrinking": len(gains) >= 2 and all(b < a for a, b in zip(gains, gains[1:])),
            "growing": len(gains) >= 2 and any(b > a for a, b in zip(gains, gains[1:])),
            "fell": any(it["change"] == "fall" for it in iterations)}

def _unchanged_since(iterations: list[dict[str, Any]]) -> int | None:
    """The first iteration from which on the log-likelihood did not change at all (within
    its floating-point noise), when the run ends that way; else None."""
    first = None
    for it in reversed(iterations):
        if it["change"] != "none":
            break
        first = it["index"]
    return first


def document(trace: Trace, sheet: Sheet, iteration: Callable[..., dict[str, Any]],
             estep_only: Callable[[Trace, Sheet], dict[str, Any]],
             model: Callable[[Trace, Sheet, list[str]], Callable[[], dict[str, Any]]]
             ) -> dict[str, Any]:
    """The whole document's context: the skeleton's keys, filled by the model's parts.

    *iteration(it, trace, sheet)* is one iteration's context, *estep_only(trace, sheet)*
    the E-step of a run without iterations; *model(trace, sheet, labels)* makes the
    cells of the model's own keys (the data, the start and the final parameters, the
    clustering, ...) and returns what gives those keys once the sheet's digits are
    settled (``dim``, ``data``, ``updated``, ``fixed``, ``start``, ``final``,
    ``events``, and any of the model's own)."""
    problem = trace.problem
    labels = [problem.component_label(k) for k in range(problem.components)]
    iterations = [iteration(it, trace, sheet) for it in trace.iterations]
    only = estep_only(trace, sheet) if not iterations else None
    parts = model(trace, sheet, labels)
    sheet.settle()
    context = {
        "decimals": problem.decimals,
        "family": problem.family,
        "flavor": defaults.FLAVOR,
        "title": problem.title,
        "paper": problem.paper,
        "variables": list(problem.variables) if problem.variables else None,
        "N": problem.n_samples,
        "K": problem.components,
        "named": problem.names is not None,
        "labels": labels,
        "kernel": problem.kernel,
        "max_rows": problem.max_rows,
        "long_table_rows": defaults.LONG_TABLE_ROWS,
        "max_denominator": defaults.MAX_DENOMINATOR_WIDTH,
        "line_width": defaults.LINE_WIDTH,
        "fraction_width": defaults.FRACTION_WIDTH,
        "stop": stop_context(trace, iterations),
        "gains": gains(iterations),
        "iterations": iterations,
        "detailed": [it for it in iterations if it["detailed"]],
        "estep_only": only,
        "exact": {"on": problem.exact,
                  "iterations": exact_reach(trace),
                  "complete": problem.exact and trace.exact_budget is None,
                  "budget": trace.exact_budget,
                  "seconds": defaults.EXACT_SECONDS, "max_work": defaults.EXACT_MAX_WORK},
        "carry": problem.carry,
        **parts(),
    }
    frozen = sheet.freeze(context)
    frozen["unsettled"] = len(sheet.failing)
    return frozen


def wanted_summary(trace: Trace) -> bool:
    """Whether the document has the table of all iterations (its columns are the model's):
    whenever one iteration alone does not tell the story."""
    return len(trace.iterations) > 1 or any(not it.detailed for it in trace.iterations)


def select_part(context: dict[str, Any], trace: Trace, part: str | None,
                iteration: int | None) -> dict[str, Any]:
    """*context* with ``part`` and ``selected`` (the iteration context the part shows).

    An iteration part shows *iteration* (default: the first one kept in detail), or the
    E-step of an E-step-only question.
    """
    context["part"] = part
    context["selected"] = None
    if part is None:
        if iteration is not None:
            raise ProblemError("--iteration", "choose a part to show (--part) with --iteration")
        return context
    if part not in defaults.PARTS:
        raise ProblemError("--part", f"expected one of {', '.join(defaults.PARTS)}, "
                                     f"but got {part!r}")
    ran = len(trace.iterations)
    if part in defaults.ITERATION_PARTS:
        if ran == 0:
            if part in ("mstep", "conclusion"):
                raise ProblemError("--part", f"there is no {part}: stop.iterations is 0 "
                                             f"(an E-step only)")
            if iteration not in (None, 0, 1):
                raise ProblemError("--iteration", f"expected 1 (the E-step only), "
                                                  f"but got {iteration}")
            return context
        detailed = [it for it in context["iterations"] if it["detailed"]]
        if iteration is None:
            if not detailed:
                raise ProblemError("--iteration", "no iteration is kept in detail "
                                                  "(display.detail); name one")
            context["selected"] = detailed[0]
            return context
        if not 1 <= iteration <= ran:
            raise ProblemError("--iteration", f"expected an iteration from 1 to {ran}, "
                                              f"but got {iteration}")
        chosen = context["iterations"][iteration - 1]
        if not chosen["detailed"]:
            raise ProblemError("--iteration", f"iteration {iteration} is not kept in detail; "
                                              f"add it to display.detail (--detail "
                                              f"{iteration})")
        context["selected"] = chosen
    elif part == "summary" and ran == 0:
        raise ProblemError("--part", "there is no summary: stop.iterations is 0 "
                                     "(an E-step only)")
    elif part == "plots" and not context["plots"]:
        raise ProblemError("--part", "the plots part needs the figures drawn (--plots and -o)")
    elif iteration is not None:
        raise ProblemError("--iteration", f"the {part} part belongs to no single iteration")
    return context
