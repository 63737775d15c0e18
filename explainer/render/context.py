"""Trace -> render context: plain data (numbers, indices, flags) for the templates.

No output syntax here: numbers stay numbers (templates format them with the
filters), and remarks are named by kind (templates hold their wording).
Nothing here recomputes EM; it selects, orders and classifies what the trace holds.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any, Sequence

import numpy as np

from .. import defaults
from ..backend import FLOAT, round_half_up
from ..errors import ProblemError
from . import shown as sh
from .filters import LogValue
from .shown import Cell, Equation
from ..trace import EStep, Iteration, MStep, Params, PointDetail, Trace


class Later:
    """A part of the context made only when the sheet's digits are settled (it reads
    printed numbers)."""

    def __init__(self, make: Any):
        self.make = make


class Sheet:
    """The numbers of one document being laid out: a cell per printed quantity, keyed by
    what it is (``("resp", version, n, k)``), and the equations that print them.

    The same quantity is one cell wherever one section prints it (a density in the table
    and in a worked r_nk; a new mean in the M-step and the conclusion), so it has the
    same digits there. A section that uses another's results as operands has cells of
    its own for them (the next E-step's parameters, the M-step's r_nk), so that digits it
    needs do not travel back. :meth:`settle` gives operands the digits their equations
    need (see :mod:`.shown`); :meth:`freeze` then turns every cell of the context into
    the :class:`~.shown.Shown` number the templates print.
    """

    def __init__(self, decimals: int, grow: bool = True):
        self.decimals = decimals
        # A hand calculation (rounded carry) prints the values it carried: no digits are
        # added to them (issue 14 makes its printed lines hold).
        self.grow = grow
        self.cells: dict[tuple[Any, ...], Cell] = {}
        self.equations: list[Equation] = []
        self._keys: set[tuple[Any, ...]] = set()
        self.failing: list[Equation] = []
        # Given parameters the M-step keeps, printed as given in every iteration where
        # they are what the calculation uses (a hand calculation's weight of 1/3).
        self.kept_given: frozenset[str] = frozenset()

    def cell(self, key: tuple[Any, ...], value: float, log: float | None = None,
             given: bool = False, compact: bool = False) -> Cell:
        """The cell of *key*, made on first use from *value* (a given number is printed
        as written; *compact*: see :func:`.shown.show`)."""
        found = self.cells.get(key)
        if found is None:
            if given:
                found = sh.given_cell(value, self.decimals)
            elif not self.grow:  # a hand calculation: printed as carried
                shown = sh.carried(value, self.decimals, log)
                if compact and shown.exact and not shown.sci and shown.number:
                    # Its decimal ends early (2 sigma^2 = 4, an exponent of -0.25): as
                    # short as that, no digits added (-0.0009 stays -0.0009).
                    places = min(0, shown.number.normalize().as_tuple().exponent)
                    quantum = Decimal(1).scaleb(places)
                    shown = replace(shown, number=sh.round_decimal(shown.number, quantum),
                                    quantum=quantum)
                found = Cell(value, self.decimals, fixed=shown)
            else:
                found = Cell(value, self.decimals, log=log, compact=compact)
            self.cells[key] = found
        return found

    def scaled(self, key: tuple[Any, ...], base: Cell, factor: str) -> Cell:
        """A cell printed as exactly *factor* times *base* as printed (``"-1"``: an entry
        of an adjugate matrix, -b beside b). Only for factors that keep a correct rounding
        correct: twice a rounded number need not be twice the number, rounded."""
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = Cell(float(factor) * base.value, self.decimals,
                                           base=base, factor=Decimal(factor))
        return found

    def equation(self, key: tuple[Any, ...], result: Cell, operands: Sequence[Cell],
                 fn: Any) -> None:
        """Record ``result = fn(operands)`` as printed (once per *key*)."""
        if key not in self._keys:
            self._keys.add(key)
            self.equations.append(Equation(result, tuple(operands), fn))

    # The E-step's cells that 1-D and d >= 2 documents print alike.

    def density(self, version: int, n: int, k: int, detail: PointDetail, norm: Cell | None,
                exponent: Cell) -> Cell:
        """N_nk = c_k exp(exponent) (without c_k for the proportional kernel)."""
        cell = self.cell(("density", version, n, k), float(detail.density[n, k]),
                         log=float(detail.log_density[n, k]))
        if norm is not None:
            self.equation(("density", version, n, k), cell, [norm, exponent],
                          lambda c, e: c * e.exp())
        else:
            self.equation(("density", version, n, k), cell, [exponent], lambda e: e.exp())
        return cell

    def resp(self, version: int, n: int, k: int, detail: PointDetail) -> Cell:
        """r_nk as the E-step prints it (sized from its log where it underflowed)."""
        return self.cell(("resp", version, n, k), float(detail.resp[n, k]),
                         log=float(detail.log_resp[n, k]))

    def mixture(self, version: int, n: int, detail: PointDetail, weights: Sequence[Cell],
                density: Sequence[Cell]) -> Cell:
        """p(x_n) = sum_k pi_k N_nk."""
        cell = self.cell(("mixture", version, n), float(detail.mixture_density[n]),
                         log=float(detail.log_mixture[n]))
        self.equation(("mixture", version, n), cell,
                      [c for k in range(len(weights)) for c in (weights[k], density[k])],
                      sh.sum_of_products)
        return cell

    def log_column(self, key: Any, total: Cell, rows: Sequence[dict[str, Any] | None],
                   log_mixture: np.ndarray, variance: Cell | None) -> Cell | None:
        """A hand calculation's log-likelihood *total* as the sum of a column of log
        p(x_n): each printed row (``n``, its p(x_n) cell ``mixture``; None where rows are
        elided) gets its ``log_mixture`` cell. With the proportional kernel (*variance*:
        the cell of sigma^2, whose p(x_n) lacks c) the sum adds N log c, log c =
        -log(2 pi sigma^2) / 2 rounded once. The sum is an equation when no row is
        elided. Returns log c's cell (None for the normalized kernel)."""
        column = []
        for row in rows:
            if row is None:
                continue
            n = row["n"] - 1
            cell = self.cell((key, "log", n), round_half_up(float(log_mixture[n]),
                                                              self.decimals))
            self.equation((key, "log", n), cell, [row["mixture"]], lambda v: v.ln())
            row["log_mixture"] = cell
            column.append(cell)
        whole = None not in rows
        if variance is None:
            if whole:
                self.equation((key, "ll"), total, column, sh.d_sum)
            return None
        log_c = self.cell((key, "log_c"), round_half_up(
            float(FLOAT.log_norm_const(np.array([variance.value]))[0]), self.decimals))
        self.equation((key, "log_c"), log_c, [variance],
                      lambda v: -(2 * sh.pi() * v).ln() / 2)
        if whole:
            self.equation((key, "ll"), total, [log_c, *column],
                          lambda c, *t: len(t) * c + sh.d_sum(*t))
        return log_c

    def settle(self) -> None:
        self.failing = sh.settle(self.equations, grow=self.grow)

    def freeze(self, value: Any) -> Any:
        """*value* (a context) with every cell replaced by its printed number."""
        if isinstance(value, Cell):
            return value.shown()
        if isinstance(value, Later):
            return self.freeze(value.make())
        if isinstance(value, dict):
            return {k: self.freeze(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.freeze(v) for v in value]
        if isinstance(value, tuple) and not isinstance(value, LogValue):
            return tuple(self.freeze(v) for v in value)
        return value


def _params_cells(sheet: Sheet, params: Params, version: Any, given: bool,
                  labels: Sequence[str]) -> dict[str, list[Cell]]:
    """The cells of one version of the parameters (0: the start; i: after iteration i;
    a tuple such as ``("estep", i)``: version i as one section uses it)."""
    return {name: [sheet.cell((name, version, k), float(params.get(name)[k]),
                              given=given or name in sheet.kept_given)
                   for k in range(len(labels))] for name in defaults.PARAMETERS}


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


def _all_equal(values: np.ndarray) -> bool:
    return bool(np.all(values == values[0]))


_PARAM_NAMES = (("weight", "weights"), ("mean", "means"), ("variance", "variances"))


def _companion(trace: Trace | None, index: int) -> Iteration | None:
    """Iteration *index* of a companion run (exact or full precision), when it has it
    in detail."""
    if trace is None or index > len(trace.iterations):
        return None
    iteration = trace.iterations[index - 1]
    return iteration if iteration.detailed else None


def _exact_reach(trace: Trace) -> int:
    """How many iterations the exact run computed (0 when it did not finish the first)."""
    return len(trace.exact.iterations) if trace.exact is not None else 0


def _differs(shown: float, full: float, decimals: int) -> bool:
    """Whether two values print differently at the display precision."""
    return round_half_up(shown, decimals) != round_half_up(full, decimals)


def _difference(kind: str, shown: float, full: float, decimals: int,
                **where: int) -> dict[str, Any] | None:
    """A quantity of the hand calculation (rounded carry) that prints differently from
    the full-precision one: which, both values and by how much; None when they agree."""
    if not _differs(shown, full, decimals):
        return None
    return {"kind": kind, **where, "rounded": shown, "full": full, "by": shown - full}


def _point_list(indices: np.ndarray, limit: int, point) -> dict[str, Any]:
    """The first *limit* points of *indices* (made by *point*), and how many more there are."""
    return {"shown": [point(int(n)) for n in indices[:limit]],
            "more": max(0, len(indices) - limit), "count": len(indices)}


def _highlight(detail: PointDetail, spec: str | tuple[int, ...]) -> list[int]:
    """0-based points worked in full: given ones, or the most ambiguous and the first
    point a student can follow on a calculator: whose weighted likelihoods pi_k N_nk are
    all at least ``defaults.CALCULATOR_SMALLEST`` (exp(-450) is 10^-196, which a
    calculator shows as 0); when no point has that, the one whose smallest is the
    largest."""
    n_samples = detail.resp.shape[0]
    if not isinstance(spec, str):
        return [n - 1 for n in spec if n - 1 < n_samples]
    most_ambiguous = int(np.argmin(detail.resp.max(axis=1)))
    smallest = np.asarray(detail.log_weighted, dtype=float).min(axis=1)
    readable = np.flatnonzero(smallest >= math.log(defaults.CALCULATOR_SMALLEST))
    follow = int(readable[0]) if len(readable) else int(np.argmax(smallest))
    return [most_ambiguous] if most_ambiguous == follow else [most_ambiguous, follow]


def _takeaway(detail: PointDetail, labels: Sequence[str], limit: int,
              value: Any = None, point_x: Any = None) -> dict[str, Any]:
    """Which points belong clearly to which component, which lean, which are ambiguous;
    *value(n, k)* is r_nk as printed, *point_x(n)* x_n as printed (default: floats)."""
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
        return {"n": n + 1, "x": x, "r": [float(v) if value is None else value(n, k)
                                          for k, v in enumerate(resp[n])]}

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


def _exact_row(detail: PointDetail, n: int, cancel: str) -> dict[str, Any]:
    """The exact values of point n's E-step row; *cancel* names the terms a worked r_nk
    divides (``kernel`` when priors and constants cancel, ``density`` when the priors
    do, else ``weighted``)."""
    terms = {"kernel": detail.kernel_value, "density": detail.density,
             "weighted": detail.weighted_density}[cancel]
    return {"x": detail.x[n], "exponent": list(detail.exponent[n]),
            "density": list(detail.density[n]), "weighted": list(detail.weighted_density[n]),
            "mixture": detail.mixture_density[n], "resp": list(detail.resp[n]),
            "terms": list(terms[n])}


def estep_context(estep: EStep, trace: Trace, index: int = 0, exact: EStep | None = None,
                  full: EStep | None = None, sheet: Sheet | None = None) -> dict[str, Any]:
    """Everything the E-step section shows, for one E-step kept in detail; *exact* and
    *full* are the same E-step in a companion run (exact values, full precision).

    Its parameters are version ``index - 1`` of the sheet (the start for iteration 1 and
    for the E-step-only question, *index* 0)."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    detail = estep.detail
    assert detail is not None
    params = estep.params
    version = max(index - 1, 0)
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    equal_weights = _all_equal(params.weights)
    equal_variances = _all_equal(params.variances)
    exact_detail = exact.detail if exact is not None else None
    cancel = ("weighted" if not equal_weights or n_components == 1 else
              "kernel" if detail.kernel == "proportional" or equal_variances else "density")
    normalized = detail.kernel == "normalized"
    # A hand calculation (rounded carry) divides by its rounded p(x_n): it writes that
    # denominator, not the sum it was rounded from.
    full_denominators = (n_components <= defaults.FULL_DENOMINATOR_COMPONENTS
                         and problem.carry == "full")
    # The parameters as this E-step uses them: cells of their own, so that digits the
    # E-step needs do not travel back into the M-step that computed them.
    cells = _params_cells(sheet, params, ("estep", version),
                          version == 0 and trace.start.method == "given", labels)
    weights, means, variances = cells["weights"], cells["means"], cells["variances"]
    if equal_weights:
        # Equal weights cancel in a worked r_nk: one printed number, so that they do.
        weights = [weights[0]] * n_components
    two_var = []
    for k in range(n_components):
        # 2 sigma_k^2, a number of its own: twice a rounded sigma^2 need not be 2 sigma^2
        # rounded.
        tv = sheet.cell(("two_var", version, k), 2 * float(params.variances[k]),
                        compact=True)
        sheet.equation(("two_var", version, k), tv, [variances[k]], lambda v: 2 * v)
        two_var.append(tv)
    norm = []
    for k in range(n_components):
        c = sheet.cell(("norm", version, k), float(detail.norm_const[k]),
                       log=float(detail.log_norm_const[k]))
        if normalized:
            # c_k = 1 / sqrt(2 pi sigma_k^2)
            sheet.equation(("norm", version, k), c, [variances[k]],
                           lambda v: 1 / (2 * sh.pi() * v).sqrt())
        norm.append(c)

    def point_cells(n: int) -> dict[str, Any]:
        """The cells of point n's row, with the equations that print them."""
        x = sheet.cell(("x", n), float(detail.x[n]), given=True)
        exponent, density, resp = [], [], []
        for k in range(n_components):
            e = sheet.cell(("exponent", version, n, k), float(detail.exponent[n, k]),
                           compact=True)
            # -(x_n - mu_k)^2 / (2 sigma_k^2)
            sheet.equation(("exponent", version, n, k), e, [x, means[k], two_var[k]],
                           lambda xv, m, tv: -((xv - m) ** 2) / tv)
            exponent.append(e)
            density.append(sheet.density(version, n, k, detail, norm[k] if normalized else None,
                                         e))
            resp.append(sheet.resp(version, n, k, detail))
        mixture = sheet.mixture(version, n, detail, weights, density)
        return {"n": n + 1, "x": x, "exponent": exponent, "density": density,
                "mixture": mixture, "resp": resp,
                "exponent_min": float(np.min(detail.exponent[n])),
                "exact": None if exact_detail is None else _exact_row(exact_detail, n, cancel)}

    def worked(n: int) -> dict[str, Any]:
        """A highlighted point: its row, and the equations of its worked r_nk."""
        row = point_cells(n)
        pairs = [c for k in range(n_components) for c in (weights[k], row["density"][k])]
        for k in range(n_components):
            # The template writes every term out, or divides by p(x_n) where that line
            # would be too wide: both forms hold.
            if full_denominators:  # pi_k N_nk / sum_j pi_j N_nj
                sheet.equation(("resp", version, n, k), row["resp"][k],
                               [weights[k], row["density"][k], *pairs],
                               lambda w, dens, *ps: w * dens / sh.sum_of_products(*ps))
            # pi_k N_nk / p(x_n)
            sheet.equation(("resp-p", version, n, k), row["resp"][k],
                           [weights[k], row["density"][k], row["mixture"]],
                           lambda w, dens, mix: w * dens / mix)
        return row

    rows = [None if n is None else point_cells(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [worked(n) for n in _highlight(detail, problem.highlight)]
    log_likelihood = sheet.cell(("ll", version), estep.log_likelihood)
    log_c = None
    if problem.carry == "rounded":
        # A hand calculation writes its log-likelihood as the sum of a log p(x_n) column.
        log_c = sheet.log_column(("estep", version), log_likelihood, rows,
                                 detail.log_mixture, None if normalized else variances[0])
    underflow = np.flatnonzero(np.any(detail.log_density < defaults.EXP_UNDERFLOW, axis=1))
    remarks = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": weights[0]})
    if n_components > 1 and equal_variances and normalized:
        remarks.append({"kind": "equal_variances", "norm_const": norm[0]})
    if detail.kernel == "proportional":
        remarks.append({"kind": "proportional", "norm_const": norm[0]})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    remarks.extend(scientific_remark(rows + highlight, problem.decimals))
    if underflow.size:
        remarks.append({"kind": "log_space", "point": point_cells(int(underflow[0])),
                        "count": int(underflow.size)})
    resp_cell = lambda n, k: sheet.resp(version, n, k, detail)
    return {
        "index": index,  # the iteration; 0 for the E-step-only question
        "kernel": detail.kernel,
        "components": [{"k": k + 1, "label": labels[k], "weight": weights[k],
                        "mean": means[k], "variance": variances[k],
                        "two_var": two_var[k], "norm_const": norm[k],
                        "exact": None if exact_detail is None else {
                            "norm_const": exact_detail.norm_const[k],
                            "weight": exact_detail.params.weights[k],
                            "mean": exact_detail.params.means[k],
                            "variance": exact_detail.params.variances[k],
                            "two_var": 2 * exact_detail.params.variances[k]}}
                       for k in range(n_components)],
        # Exact values: shown for this E-step, or asked for but past the budget.
        "exact": exact_detail is not None,
        # The first E-step past the exact run's reach, where the document says so.
        "exact_missing": problem.exact and index == _exact_reach(trace) + 1,
        "exact_cancel": cancel,
        "differences": [] if full is None else _estep_differences(detail, full, problem.decimals),
        # Past a few components the worked r_nk divide by p(x_n), written out once.
        "full_denominators": full_denominators,
        "equal_weights": equal_weights,
        "equal_variances": equal_variances,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        # After the digits are settled: a point is classed as its r is printed.
        "takeaway": Later(lambda: _takeaway(
            detail, labels, problem.max_rows, resp_cell,
            lambda n: sheet.cell(("x", n), float(detail.x[n]), given=True))),
        "row_sums": Later(lambda: row_sums(rows, problem.decimals,
                                           carried=problem.carry == "rounded")),
        "remarks": remarks,
        "log_likelihood": log_likelihood,
        "log_c": log_c,
    }


def _estep_differences(detail: PointDetail, full: EStep, decimals: int) -> list[dict[str, Any]]:
    """Every density, p(x_n) and r_nk of the hand calculation that prints differently
    from full precision, point by point."""
    other = full.detail
    assert other is not None
    found = []
    for n in range(detail.resp.shape[0]):
        for k in range(detail.resp.shape[1]):
            found.append(_difference("density", float(detail.density[n, k]),
                                     float(other.density[n, k]), decimals, n=n + 1, k=k + 1))
        found.append(_difference("mixture", float(detail.mixture_density[n]),
                                 float(other.mixture_density[n]), decimals, n=n + 1))
        for k in range(detail.resp.shape[1]):
            found.append(_difference("resp", float(detail.resp[n, k]),
                                     float(other.resp[n, k]), decimals, n=n + 1, k=k + 1))
    return [f for f in found if f is not None]


def _direction(before: float, after: float, decimals: int) -> str:
    """``up``, ``down`` or ``same`` (same when equal at the display precision)."""
    if round(after, decimals) == round(before, decimals):
        return "same"
    return "up" if after > before else "down"


def mstep_context(mstep: MStep, before: Params, trace: Trace, index: int,
                  exact: MStep | None = None, full: MStep | None = None,
                  sheet: Sheet | None = None,
                  log_resp: np.ndarray | None = None) -> dict[str, Any]:
    """The written-out sums of one M-step, and why each parameter moved; *exact* and
    *full* are the same M-step in a companion run (exact values, full precision);
    *log_resp* sizes the responsibilities that underflowed.

    It turns version ``index - 1`` of the parameters into version *index*."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    d = problem.decimals
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    labels = [problem.component_label(k) for k in range(problem.components)]
    terms = elide_terms(n_samples, problem.max_rows)
    whole = None not in terms  # every term written out: the sums can be redone
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    floored = {e.component: e.value for e in mstep.events if e.kind == "variance_floor"}
    old = _params_cells(sheet, before, ("before", index - 1),
                        index == 1 and trace.start.method == "given", labels)
    new = _params_cells(sheet, mstep.params, index, False, labels)
    resp = detail.resp
    # Cells only for the points the sums write out (all of them when none is elided).
    shown_points = [n for n in terms if n is not None]
    x = {n: sheet.cell(("x", n), float(detail.x[n]), given=True) for n in shown_points}
    # The responsibilities as the M-step's sums use them (their own cells: see above).

    def r_cell(n: int, k: int) -> Cell:
        return sheet.cell(("mstep-resp", index - 1, n, k), float(resp[n, k]),
                          log=None if log_resp is None else float(log_resp[n, k]))
    comps = []
    for k in range(problem.components):
        params = mstep.params
        pull = detail.mean_pull[:, k]
        shift = float(params.means[k] - before.means[k])
        # The point that pulled mean k hardest in the direction it moved.
        puller = int(np.argmax(pull * np.sign(shift))) if shift else None
        nk = sheet.cell(("nk", index, k), float(mstep.nk[k]))
        sum_rx = sheet.cell(("sum_rx", index, k), float(mstep.sum_rx[k]))
        sum_rsq = sheet.cell(("sum_rsq", index, k), float(mstep.sum_rsq[k]))
        rk = {n: r_cell(n, k) for n in shown_points}
        if whole:
            sheet.equation(("nk", index, k), nk, list(rk.values()), sh.d_sum)
            # sum_n r_nk x_n
            sheet.equation(("sum_rx", index, k), sum_rx, [c for n in range(n_samples)
                                                            for c in (rk[n], x[n])],
                           sh.sum_of_products)
        if "weights" in mstep.updated:
            sheet.equation(("weights", index, k), new["weights"][k], [nk],
                           lambda v: v / n_samples)
        if "means" in mstep.updated and k not in empty:
            sheet.equation(("means", index, k), new["means"][k], [sum_rx, nk],
                           lambda a, b: a / b)
        variance = new["variances"][k]
        if "variances" in mstep.updated and k not in empty:
            if whole:
                # sum_n r_nk (x_n - mu_k^new)^2
                sheet.equation(("sum_rsq", index, k), sum_rsq,
                               [new["means"][k], *[c for n in range(n_samples)
                                                   for c in (rk[n], x[n])]],
                               sh.weighted_squares)
            if k in floored:  # the ratio before the floor raised it
                variance = sheet.cell(("raw_variance", index, k), float(floored[k]))
            sheet.equation(("variances", index, k), variance, [sum_rsq, nk],
                           lambda a, b: a / b)
        share = sheet.cell(("share", index, k), float(before.weights[k]) * n_samples)
        sheet.equation(("share", index, k), share, [old["weights"][k]],
                       lambda w: w * n_samples)
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": nk,
            "sum_rx": sum_rx, "sum_rsq": sum_rsq,
            "empty": k in empty,
            "floored": None if k not in floored else variance,
            "terms": [None if n is None else {
                "n": n + 1, "x": x[n], "r": rk[n], "mean": new["means"][k]} for n in terms],
            "before": {"weight": old["weights"][k], "mean": old["means"][k],
                       "variance": old["variances"][k], "share": share},
            "after": {"weight": new["weights"][k], "mean": new["means"][k],
                      "variance": new["variances"][k]},
            "moved": {name: _direction(float(before.get(p)[k]), float(params.get(p)[k]),
                                       problem.decimals)
                      for name, p in (("weight", "weights"), ("mean", "means"),
                                      ("variance", "variances"))},
            "puller": None if puller is None else {
                "n": puller + 1, "x": float(detail.x[puller]), "r": r_cell(puller, k)},
            "exact": None if exact is None else {
                "nk": exact.nk[k], "sum_rx": exact.sum_rx[k], "sum_rsq": exact.sum_rsq[k],
                **{name: exact.params.get(p)[k] for name, p in _PARAM_NAMES}},
            "full": None if full is None else {
                "nk": float(full.nk[k]),
                **{name: float(full.params.get(p)[k]) for name, p in _PARAM_NAMES}},
        })
    # A component that carries about one point and whose variance shrinks is collapsing
    # onto that point (before any floor is reached): said, with the variance's size.
    collapsing = [{"k": k + 1, "nk": comps[k]["nk"], "variance": comps[k]["after"]["variance"],
                   "point": {"n": int(np.argmax(resp[:, k])) + 1,
                             "x": float(detail.x[int(np.argmax(resp[:, k]))])}}
                  for k in range(problem.components)
                  if "variances" in mstep.updated and k not in empty and k not in floored
                  and float(mstep.nk[k]) < defaults.COLLAPSE_NK
                  and float(mstep.params.variances[k]) < float(before.variances[k])]
    differences: list[dict[str, Any] | None] = []
    if full is not None:
        for k in range(problem.components):
            differences.append(_difference("nk", float(mstep.nk[k]), float(full.nk[k]), d,
                                           k=k + 1))
            differences.extend(_difference(name, float(mstep.params.get(p)[k]),
                                           float(full.params.get(p)[k]), d, k=k + 1)
                               for name, p in _PARAM_NAMES if p in mstep.updated)
    return {
        "index": index,
        "components": comps,
        "updated": list(mstep.updated),
        "fixed": [p for p in defaults.PARAMETERS if p not in mstep.updated],
        "events": [{"kind": e.kind, "k": e.component + 1,
                    "value": (comps[e.component]["floored"] if e.kind == "variance_floor"
                              else sheet.cell(("nk", index, e.component), e.value)),
                    "floor": e.floor,
                    "weight": new["weights"][e.component]}
                   for e in mstep.events],
        "collapsing": collapsing,
        "exact": exact is not None,
        "differences": [f for f in differences if f is not None],
    }


def iteration_context(iteration: Iteration, trace: Trace,
                      sheet: Sheet | None = None) -> dict[str, Any]:
    sheet = sheet if sheet is not None else Sheet(trace.problem.decimals)
    i = iteration.index
    ctx = iteration_head(iteration, sheet)
    if iteration.detailed:
        exact = _companion(trace.exact, i)
        full = _companion(trace.full, i)
        ctx["estep"] = estep_context(iteration.estep, trace, i,
                                     exact=exact.estep if exact else None,
                                     full=full.estep if full else None, sheet=sheet)
        estep_detail = iteration.estep.detail
        assert estep_detail is not None
        ctx["mstep"] = mstep_context(iteration.mstep, iteration.estep.params, trace, i,
                                     exact=exact.mstep if exact else None,
                                     full=full.mstep if full else None, sheet=sheet,
                                     log_resp=estep_detail.log_resp)
        if full is not None:
            ctx["log_likelihood_difference"] = _difference(
                "log_likelihood", iteration.log_likelihood_after, full.log_likelihood_after,
                trace.problem.decimals)
    return ctx


def scientific_remark(rows: Sequence[dict[str, Any] | None],
                      decimals: int) -> list[dict[str, Any]]:
    """The remark that numbers in scientific notation are small, not zero, when an E-step
    row prints one (1-D and d >= 2 alike)."""
    if any(c.shown().sci for r in rows if r is not None
           for c in [*r["density"], *r["resp"], r["mixture"]]):
        return [{"kind": "scientific", "below": sh.scientific_below(decimals)}]
    return []


def stop_context(trace: Trace, iterations: list[dict[str, Any]]) -> dict[str, Any]:
    """Why EM stopped, and what its log-likelihood did (1-D and d >= 2 alike)."""
    problem = trace.problem
    last = trace.iterations[-1] if trace.iterations else None
    return {"iterations": problem.iterations, "tol": problem.tol,
            "reason": trace.stop_reason, "converged": trace.converged,
            "ran": len(trace.iterations),
            "last_gain": last.gain if last else None,
            "last_change": iterations[-1]["change"] if iterations else None,
            "unchanged_since": _unchanged_since(iterations)}


def row_sums(rows: Sequence[dict[str, Any] | None], decimals: int,
             carried: bool = False) -> dict[str, Any]:
    """The smallest and largest sum of a row of responsibilities as printed: a row's
    values sum to 1, its printed digits only up to their rounding. The bounds are given
    to at most *decimals* + 3 places, the smallest rounded down and the largest up, so
    that they still hold every sum (0.999 + 5.53e-4 + 2.09e-14 is 0.9995530000000209,
    said as "between 0.999553 and ..."). In a hand calculation (*carried*) a row need not sum to 1
    at all: its sums are given rounded to the decimals carried."""
    sums = [sh.d_sum(*(c.shown().number for c in r["resp"])) for r in rows if r is not None]
    exact = min(sums) == max(sums) == 1
    if carried:
        quantum = Decimal(1).scaleb(-decimals)
        sums = [sh.round_decimal(v, quantum) for v in sums]
        low, high = min(sums), max(sums)
    else:
        quantum = Decimal(1).scaleb(-(decimals + 3))
        low, high = min(sums), max(sums)
        with localcontext(sh.WIDE):
            if low.as_tuple().exponent < quantum.as_tuple().exponent:
                low = low.quantize(quantum, rounding=ROUND_FLOOR)
            if high.as_tuple().exponent < quantum.as_tuple().exponent:
                high = high.quantize(quantum, rounding=ROUND_CEILING)
    return {"low": low, "high": high, "exact": exact,
            "decimals": decimals if carried else None}


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
        sheet.equation(("gain", i), gain, [after, before], lambda a, b: a - b)
        ctx["gain_shown"] = gain
    return ctx


def _repeats(iteration: Iteration) -> bool:
    """Whether an iteration ended with the parameters it started from."""
    return all(np.array_equal(iteration.estep.params.get(p), iteration.mstep.params.get(p))
               for p in defaults.PARAMETERS)


def _gain(before: float, after: float, gain: float) -> str:
    """What the change of the log-likelihood over one iteration is: ``gain``, ``none``
    (within the floating-point noise of the sum: EM has converged) or ``fall`` (more
    than the noise: only rounded intermediates can do that, never EM itself)."""
    noise = defaults.LOG_LIKELIHOOD_NOISE * max(1.0, abs(before), abs(after))
    if abs(gain) <= noise:
        return "none"
    return "gain" if gain > 0 else "fall"


def kept_given(trace: Trace) -> frozenset[str]:
    """The given parameters a hand calculation keeps (not updated): printed as given in
    every iteration, since that is what it calculates with (a weight of 1/3)."""
    if trace.problem.carry != "rounded" or trace.start.method != "given":
        return frozenset()
    return frozenset(defaults.PARAMETERS) - set(trace.problem.update)


def _summary_rows(trace: Trace) -> list[dict[str, Any] | None]:
    its = trace.iterations
    rows: list[dict[str, Any] | None] = []
    d = trace.problem.decimals
    # A hand calculation's values as carried (a tiny variance keeps its two digits).
    hand = trace.problem.carry == "rounded"
    kept = kept_given(trace)

    def value(name: str, v: float) -> Any:
        if name in kept:  # as given (a weight of 1/3), as the calculation uses it
            return sh.given(float(v)) or sh.carried(float(v), d)
        return sh.carried(float(v), d) if hand else float(v)
    for i in elide(len(its), trace.problem.max_rows):
        if i is None:
            rows.append(None)
            continue
        it = its[i]
        p = it.mstep.params
        rows.append({"index": it.index, "log_likelihood": it.log_likelihood,
                     "log_likelihood_after": it.log_likelihood_after, "gain": it.gain,
                     **{name: [value(name, v) for v in p.get(name)]
                        for name in defaults.PARAMETERS},
                     "detailed": it.detailed})
    return rows


def _clustering(trace: Trace, sheet: Sheet, variance: Cell) -> dict[str, Any]:
    """The final E-step's responsibilities and clusters; a hand calculation adds its
    p(x_n) and log p(x_n), whose sum is the final log-likelihood (*variance*: the cell
    of the final sigma_1^2, from which the proportional kernel's log c is computed)."""
    detail = trace.final.detail
    assert detail is not None
    problem = trace.problem
    hand = problem.carry == "rounded"
    resp = detail.resp
    best = resp.argmax(axis=1)
    ties = np.isclose(resp, resp.max(axis=1, keepdims=True), rtol=0, atol=1e-12).sum(axis=1) > 1
    labels = [trace.problem.component_label(k) for k in range(trace.problem.components)]
    log_resp = detail.log_resp
    rows = []
    for n in elide(resp.shape[0], trace.problem.max_rows):
        if n is None:
            rows.append(None)
            continue
        tied = [k + 1 for k in np.flatnonzero(
            np.isclose(resp[n], resp[n].max(), rtol=0, atol=1e-12))]
        row = {"n": n + 1, "x": float(detail.x[n]),
               "resp": [(sh.carried(float(v), problem.decimals, float(lv)) if hand else
                         sh.show(float(v), problem.decimals, log=float(lv)))
                        for v, lv in zip(resp[n], log_resp[n])],
               "cluster": int(best[n]) + 1, "tie": tied if ties[n] else None}
        if hand:
            row["mixture"] = sheet.cell(("final-mixture", n),
                                        float(detail.mixture_density[n]),
                                        log=float(detail.log_mixture[n]))
        rows.append(row)
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    omitted = resp.shape[0] - sum(r is not None for r in rows)
    total = sheet.cell(("ll", len(trace.iterations)), trace.final.log_likelihood)
    log_c = None
    if hand:
        log_c = sheet.log_column(("final",), total, rows, detail.log_mixture,
                                 variance if problem.kernel == "proportional" else None)
    return {"rows": rows, "counts": counts, "ties": int(ties.sum()),
            "omitted": omitted, "hand": hand, "log_c": log_c, "log_likelihood": total}


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context."""
    if trace.problem.dim > 1:
        from .context_mv import build_context as build_multivariate

        return build_multivariate(trace)
    problem = trace.problem
    sheet = Sheet(problem.decimals, grow=problem.carry == "full")
    sheet.kept_given = kept_given(trace)
    labels = [problem.component_label(k) for k in range(problem.components)]
    final = trace.final
    iterations = [iteration_context(it, trace, sheet) for it in trace.iterations]
    ran = len(trace.iterations)
    given = trace.start.method == "given"
    events = [{"kind": e.kind, "k": e.component + 1, "value": e.value, "floor": e.floor}
              for e in trace.events]
    estep_only = estep_context(
        final, trace, exact=trace.exact.final if trace.exact else None,
        full=trace.full.final if trace.full else None, sheet=sheet) if not ran else None
    start = _params_cells(sheet, trace.start.params, 0, given, labels)
    end = _params_cells(sheet, final.params, ran, given and not ran, labels)
    clustering = _clustering(trace, sheet, end["variances"][0])
    sheet.settle()
    context = {
        "dim": 1,
        "decimals": problem.decimals,
        "flavor": defaults.FLAVOR,
        "title": problem.title,
        "paper": problem.paper,
        "variables": list(problem.variables) if problem.variables else None,
        "N": problem.n_samples,
        "K": problem.components,
        "named": problem.names is not None,
        "labels": labels,
        "data": [None if n is None else {"n": n + 1, "x": sheet.cell(
                    ("x", n), float(problem.data[n]), given=True)}
                 for n in elide(problem.n_samples, problem.max_rows)],
        "kernel": problem.kernel,
        "updated": list(problem.update),
        "fixed": [p for p in defaults.PARAMETERS if p not in problem.update],
        "max_rows": problem.max_rows,
        "long_table_rows": defaults.LONG_TABLE_ROWS,
        "max_denominator": defaults.MAX_DENOMINATOR_WIDTH,
        "line_width": defaults.LINE_WIDTH,
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  "params": _cell_rows(start, labels,
                                       trace.exact.start.params if trace.exact else None),
                  "equal_variances": _all_equal(trace.start.params.variances)},
        "stop": stop_context(trace, iterations),
        "gains": _gains(iterations),
        "iterations": iterations,
        "detailed": [it for it in iterations if it["detailed"]],
        # The table of all iterations, whenever one iteration alone does not tell the story.
        "summary": (_summary_rows(trace) if len(trace.iterations) > 1
                    or any(not it.detailed for it in trace.iterations) else []),
        "estep_only": estep_only,
        "final": {"params": _cell_rows(end, labels),
                  "log_likelihood": sheet.cell(("ll", ran), final.log_likelihood),
                  "clustering": clustering,
                  "differences": _final_differences(trace)},
        "events": events,
        "exact": {"on": problem.exact,
                  "iterations": _exact_reach(trace),
                  "complete": problem.exact and trace.exact_budget is None,
                  "budget": trace.exact_budget,
                  "seconds": defaults.EXACT_SECONDS, "max_work": defaults.EXACT_MAX_WORK},
        "carry": problem.carry,
    }
    frozen = sheet.freeze(context)
    frozen["unsettled"] = len(sheet.failing)
    return frozen


def _cell_rows(cells: dict[str, list[Cell]], labels: Sequence[str],
               exact: Params | None = None) -> list[dict[str, Any]]:
    """The rows of a parameter table: one per component, its printed cells."""
    return [{"k": k + 1, "label": labels[k],
             **{name: cells[p][k] for name, p in _PARAM_NAMES},
             "exact": None if exact is None else {
                 name: exact.get(p)[k] for name, p in _PARAM_NAMES}}
            for k in range(len(labels))]


def _gains(iterations: list[dict[str, Any]]) -> dict[str, bool]:
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


def _final_differences(trace: Trace) -> list[dict[str, Any]]:
    """With a rounded carry: the final parameters and log-likelihood that print
    differently from the full-precision run."""
    if trace.full is None:
        return []
    assert trace.full.final is not None
    d = trace.problem.decimals
    mine, full = trace.final.params, trace.full.final.params
    found = [_difference(name, float(mine.get(p)[k]), float(full.get(p)[k]), d, k=k + 1)
             for k in range(trace.problem.components) for name, p in _PARAM_NAMES]
    found.append(_difference("log_likelihood", trace.final.log_likelihood,
                             trace.full.final.log_likelihood, d))
    return [f for f in found if f is not None]


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
