"""The sheet of printed numbers of one document: a cell per printed quantity, the
equations that print them, and the digits each gets (:class:`Sheet`).

Every model's context lays its numbers out on a sheet; :meth:`Sheet.settle` decides
their digits by the display rule of :mod:`.shown` (every printed line holds), links
equal values of one kind so that they are printed alike, and gives each quantity's
values in a section one format; :meth:`Sheet.freeze` turns the cells into the numbers
the templates print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np

from .. import defaults
from ..backend import FLOAT, round_half_up
from ..trace import PointDetail
from . import shown as sh
from .filters import LogValue
from .shown import Cell, Equation


@contextmanager
def trying() -> Iterator[Callable[[], None]]:
    """Digits added to align a column, as a trial: within it a cell grows to at most
    :data:`~explainer.defaults.COLUMN_DIGITS` significant digits (or not at all where it
    has them already), and the function it gives undoes every digit added within."""
    changes: list[tuple[Cell, tuple[Any, ...]]] = []

    def undo() -> None:
        for cell, state in reversed(changes):
            cell.restore(state)
        changes.clear()

    Cell.journal = changes
    try:
        yield undo
    finally:
        Cell.journal = None


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
    need (see :mod:`.shown`), then gives each quantity's values in a section one number
    of decimals (:meth:`_align_columns`); :meth:`freeze` then turns every cell of the
    context into the :class:`~.shown.Shown` number the templates print.
    """

    def __init__(self, decimals: int, grow: bool = True, align: bool = True):
        self.decimals = decimals
        # Whether each quantity's values in a section are printed alike (see
        # _align_columns): not where the page prints the exact values, whose decimals
        # stand beside formulas of the data as printed, not beside these cells'
        # equations.
        self.align = align and grow
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
        self._subtotals: set[int] = set()
        self._given: set[int] = set()  # data and given parameters: printed as they need

    def cell(self, key: tuple[Any, ...], value: float, log: float | None = None,
             given: bool = False, compact: bool = False) -> Cell:
        """The cell of *key*, made on first use from *value* (a given number is printed
        as written; *compact*: see :func:`.shown.show`)."""
        found = self.cells.get(key)
        if found is None:
            if given:
                found = sh.given_cell(value, self.decimals)
                self._given.add(id(found))
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

    def subtotal(self, key: tuple[Any, ...], terms: np.ndarray) -> Cell:
        """The sum of the *terms* a written-out sum leaves out, printed as one term of it
        so that its line can be redone. It gets the digits its sum needs, also in a hand
        calculation: it is not a carried value but a sum of carried ones."""
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = Cell(math.fsum(np.asarray(terms, dtype=float).ravel()),
                                           self.decimals)
            self._subtotals.add(id(found))
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
                         log=float(detail.log_resp_of(n)[k]))

    def worked_resp(self, version: int, n: int, k: int, resp: Cell, weight: Cell,
                    density: Cell, pairs: Sequence[Cell] | None = None,
                    mixture: Cell | None = None) -> None:
        """A worked r_nk's equations: pi_k N_nk / sum_j pi_j N_nj written out (with
        *pairs*: every pi_j and N_nj in turn), and pi_k N_nk / p(x_n) (with *mixture*,
        the printed p(x_n)); the document writes the one or the other."""
        if pairs is not None:
            self.equation(("resp", version, n, k), resp, [weight, density, *pairs],
                          lambda w, dens, *ps: w * dens / sh.sum_of_products(*ps))
        if mixture is not None:
            self.equation(("resp-p", version, n, k), resp, [weight, density, mixture],
                          lambda w, dens, mix: w * dens / mix)

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

    def _link_equals(self) -> list[Cell]:
        """One value, one spelling: the cells of one kind of quantity in one section (the
        first two parts of their keys: ``("density", version)``, ``("mstep-resp",
        iteration)``) that hold the same value are printed alike, each with the digits
        the most demanding of them needs (exp(-2) in two rows of a table, c_1 and c_2 of
        equal variances, equal r_nk in a sum). Returns the cells linked to another."""
        first: dict[tuple[Any, ...], Cell] = {}
        linked = []
        for key, cell in self.cells.items():
            if len(key) < 2 or cell.fixed is not None or cell.base is not None \
                    or id(cell) in self._subtotals or not math.isfinite(cell.value):
                continue
            found = first.setdefault((key[0], key[1], cell.value, cell.log, cell.compact),
                                     cell)
            if found is not cell:
                cell.base = found
                linked.append(cell)
        return linked

    # The kinds of cells keyed by a point after the section (``("density", version, n,
    # k)``): a table's rows. Their columns are the rest of the key.
    ROWS = frozenset(("density", "exponent", "resp", "mstep-resp", "mixture", "maha", "dev",
                      "pdev", "mstep-dev", "outer", "successes", "failures"))

    def _columns(self) -> dict[tuple[Any, ...], list[Cell]]:
        """The computed cells of each quantity in one section: a table's column (a kind
        of :data:`ROWS` with the rest of its key: the densities of component k), the
        values of one kind (the first two parts of the key; a key of two parts, such as
        ``("ll", i)``, names its quantity by the first alone: a parameter table's
        column, a matrix's entries). A cell printed as another (one value, one
        spelling) is in its own column, and grows as the other. A column of more than
        :data:`~explainer.defaults.ALIGN_MOST` values (a table of every row of a long
        data set) is left as it is: trying it costs more than a page of it is read."""
        groups: dict[tuple[Any, ...], list[Cell]] = {}
        for key, cell in self.cells.items():
            if cell.fixed is not None or cell.compact or cell.source is not None \
                    or id(cell) in self._subtotals or id(cell) in self._given \
                    or not math.isfinite(cell.value) \
                    or (cell.base is not None and cell.factor != 1):
                continue
            shown = cell.shown()
            if shown.number == 0 or shown.fraction is not None:
                continue
            name = (key[:1] if len(key) < 3 else
                    (key[0], key[1], *key[3:]) if key[0] in self.ROWS else key[:2])
            groups.setdefault(name, []).append(cell)
        return {name: cells for name, cells in groups.items()
                if 1 < len(cells) <= defaults.ALIGN_MOST}

    def _align(self, cells: Sequence[Cell]) -> list[Cell]:
        """*cells* printed alike: those of 0.1 or more with the decimals of the one
        that prints most, those in scientific notation with the significant digits of
        the one that prints most, none with more than
        :data:`~explainer.defaults.COLUMN_DIGITS` significant digits for it (a column
        reads 0.7788, 1.0000, 0.1054, not 0.7788, 1.000, 0.105). Returns the cells that
        got digits."""
        shown = [c.shown() for c in cells]
        fixed = [s for s in shown if not s.sci]
        # The decimals of the one of 0.1 or more that prints most, as far as the largest
        # can take them; a smaller value's decimals, which it has for its significant
        # digits, set no column's (1.000, 0.997 and 0.00341 in one column).
        places = min(max((sh.places(s) for s in fixed if s.number.adjusted() >= -1),
                         default=0),
                     min((defaults.COLUMN_DIGITS - 1 - s.number.adjusted() for s in fixed),
                         default=0))
        digits = min(max((sh.significant(s) for s in shown if s.sci), default=0),
                     defaults.COLUMN_DIGITS)
        widened: dict[int, Cell] = {}
        for cell, s in zip(cells, shown):
            more = digits - sh.significant(s) if s.sci else places - sh.places(s)
            while cell.base is not None:  # (printed as the cell it is linked to)
                cell = cell.base
            if more > 0 and id(cell) not in widened:
                cell.widen(more)
                widened[id(cell)] = cell
        return list(widened.values())

    def _align_columns(self) -> None:
        """One quantity, one format within a section (:meth:`_align`), column by column.
        The digits added may ask more of an equation's operands (a density with a decimal
        more needs its exponent to one more); they get it, up to COLUMN_DIGITS
        significant digits. A column whose alignment would need more, or would leave a
        line that held not holding, keeps its digits as they were. Columns are aligned
        again while one's digits have unaligned another's."""
        touching = sh.touching_map(self.equations)
        failing = {id(eq) for eq in self.failing}
        blocked: set[tuple[Any, ...]] = set()
        for _ in range(defaults.ALIGN_ROUNDS):
            aligned = False
            for name, cells in self._columns().items():
                if name in blocked:
                    continue
                with trying() as undo:
                    widened = self._align(cells)
                    if not widened:
                        continue
                    start = {id(eq): eq for c in widened for eq in touching.get(id(c), ())}
                    checked = sh.grow_until_they_hold(self.equations, start=list(
                        start.values()), touching=touching)
                    if any(id(eq) not in failing and not eq.check()[0] for eq in checked):
                        undo()
                        blocked.add(name)
                        continue
                aligned = True
                results = {id(eq.result): eq.result for eq in checked}
                sh.relate(list({id(eq): eq for r in results.values()
                                for eq in touching.get(id(r), ()) if eq.result is r}.values()))
            if not aligned:
                break
        self.failing = [eq for eq in self.failing if not eq.check()[0]]

    def settle(self) -> None:
        self._settle()
        if self.align:
            self._align_columns()

    def _settle(self) -> None:
        linked = self._link_equals() if self.grow else []
        if not self.grow and self._subtotals:
            # Only the subtotals grow in a hand calculation (its other cells are fixed).
            sh.settle([eq for eq in self.equations
                       if any(id(c) in self._subtotals for c in eq.operands)], noise_passes=0)
        self.failing = sh.settle(self.equations, grow=self.grow)
        ids = {id(c) for c in linked}
        if any(id(c) in ids for eq in self.failing for c in (eq.result, *eq.operands)):
            # At the limits of double precision equal values printed alike may leave a
            # line that does not hold: then each is printed as its own equations need.
            for cell in self.cells.values():
                cell.reset()
            for cell in linked:
                cell.base = None
            self.failing = sh.settle(self.equations, grow=self.grow)

    def freeze(self, value: Any) -> Any:
        """*value* (a context) with every cell replaced by its printed number."""
        if type(value) in _PLAIN:  # (most of a context: its texts and numbers)
            return value
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

_PLAIN = frozenset((str, int, float, bool, type(None)))
