"""The display rule: which digits each printed number gets, so that every printed line holds.

A worked solution prints equations such as ``0.333 · 0.242 / 0.0806 ≈ 0.996``. A student
redoes each one with a calculator from the printed operands; the result must round to the
printed result. So the digits of a number are not a fixed format but a decision:

- a computed value is printed with ``decimals`` decimals and at least
  :data:`~explainer.defaults.SIGNIFICANT_DIGITS` significant digits (``0.0570``, not
  ``0.057``); one that would need more than ``max(decimals, SCI_PLACES)`` decimals for
  them in scientific notation (``4.79 × 10^-6``; :func:`scientific_below`), so a value
  printed as 0 is never an operand (an exact 0 is printed ``0``);
- ties round half away from zero on the decimal value (:func:`round_decimal`);
- an equation records its result and operands (:class:`Equation`); :func:`settle` checks
  each one with the printed operands in exact decimal arithmetic and, where the printed
  result is not reproduced, gives its operands more digits, until every equation holds;
- an equation is written with ``=`` only when its printed operands give its printed
  result exactly and that result is the value itself; otherwise with ``≈``.

No output syntax here: :class:`Shown` is the decision (a decimal and its notation); the
filters write it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import (MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, InvalidOperation,
                     localcontext)
from fractions import Fraction
from typing import Any, Callable, ClassVar, Sequence

from .. import defaults
from ..backend import TINY, WIDE, carried_exp, carry_decimal
from ..numbers import decimal_of, written_as_given

# Enough digits that the exact evaluation of printed operands is exact for sums and
# products of short decimals, and far beyond any printed digit for exp, sqrt and division.
_PRECISION = 60  # digits of the arithmetic that checks printed equations


def round_decimal(value: Decimal, quantum: Decimal) -> Decimal:
    """*value* rounded to a multiple of *quantum*, ties away from zero. A value with more
    digits above the quantum than WIDE's precision (an operand grown to 0.5 against a
    result printed as 10^-1500) is rounded in a context wide enough for it, or, beyond
    :data:`_MOST_DIGITS`, left as it is (no number printed with the quantum equals it)."""
    try:
        return value.quantize(quantum, rounding=ROUND_HALF_UP, context=WIDE)
    except InvalidOperation:
        digits = value.adjusted() - quantum.adjusted() + 2
        if digits > _MOST_DIGITS:
            return value
        return value.quantize(quantum, rounding=ROUND_HALF_UP,
                              context=Context(prec=digits, Emin=MIN_EMIN, Emax=MAX_EMAX))


_MOST_DIGITS = 100_000


@dataclass(frozen=True)
class Shown:
    """A number as printed: ``number`` exactly as its digits read, in fixed or scientific
    notation, with the value it stands for.

    ``equal`` says whether ``=`` may stand before it where it is a result: its equation's
    printed operands give it exactly, and it is the value itself. ``exact``: the printed
    number is the value itself.
    """

    number: Decimal
    quantum: Decimal  # the unit of its last printed digit
    sci: bool
    exact: bool
    equal: bool
    value: float  # the value (its size where it underflows: see ``log``)
    log: float | None = None
    fraction: tuple[int, int] | None = None  # a given 1/3 is written as the fraction

    @property
    def operand(self) -> Decimal:
        """The number a student calculates with: the printed decimal, or the fraction."""
        if self.fraction is not None:
            with localcontext(Context(prec=_PRECISION)):
                return Decimal(self.fraction[0]) / Decimal(self.fraction[1])
        return self.number


def scientific_below(decimals: int) -> int:
    """The power of ten below which a computed value is printed in scientific notation
    (-3 at three decimals: 0.00123, but 9.87 x 10^-4)."""
    return defaults.SIGNIFICANT_DIGITS - 1 - max(decimals, defaults.SCI_PLACES)


def _digits(number: Decimal, decimals: int, extra: int,
            most: int | None = None) -> tuple[Decimal, Decimal, bool]:
    """``(printed number, quantum, scientific)`` of *number* by the display rule, with
    *extra* digits beyond it, and at most *most* significant digits (a double carries
    no more than 15: 230766600570032.5 at one decimal would print a digit it does not
    know)."""
    if number == 0:  # exactly 0: printed as 0, never 0.000 (which reads "small")
        return Decimal(0), Decimal(1), False
    lead = number.adjusted()  # floor(log10 |number|)
    sig = defaults.SIGNIFICANT_DIGITS
    places = max(decimals, sig - 1 - lead)
    if places > max(decimals, defaults.SCI_PLACES):
        quantum = Decimal(1).scaleb(lead - (sig - 1) - extra)
        rounded = round_decimal(number, quantum)
        if rounded.adjusted() > lead:  # 9.995e-5 -> 1.00e-4: one digit fewer below
            quantum = quantum.scaleb(1)
            rounded = round_decimal(number, quantum)
        return rounded, quantum, True
    places += extra
    if most is not None and lead + 1 + places > most:
        places = max(most - lead - 1, 0)
    quantum = Decimal(1).scaleb(-places)
    return round_decimal(number, quantum), quantum, False


def places(shown: Shown) -> int:
    """How many decimals *shown* prints (in fixed notation)."""
    return max(0, -shown.quantum.as_tuple().exponent)


def significant(shown: Shown) -> int:
    """How many significant digits *shown* prints."""
    return shown.number.adjusted() - shown.quantum.adjusted() + 1


def carried(value: float, decimals: int, log: float | None = None) -> Shown:
    """A value of a hand calculation (rounded carry) as it was carried: to *decimals*
    decimals, or a value too small for them with the two significant digits it kept
    (``4.8 x 10^-6``, not ``4.80 x 10^-6``, which would claim a digit it never had);
    *log* (its natural log) gives a value too small for a double."""
    if log is not None and abs(value) < TINY and log > -math.inf:
        number = carried_exp(log, decimals)
    else:
        number = carry_decimal(decimal_of(value), decimals)
    if number == 0:  # only an exact 0 (a tiny value keeps two digits): printed 0
        return Shown(Decimal(0), Decimal(1), False, True, True, float(value))
    # Half a unit exactly is a tiny value carried with two digits (see carry_decimal).
    if abs(number) <= Decimal("0.5").scaleb(-decimals):
        quantum = Decimal(1).scaleb(number.adjusted() - 1)
        return Shown(number, quantum, True, True, True, float(value))
    quantum = Decimal(1).scaleb(-decimals)
    exact = number == decimal_of(value)
    return Shown(number, quantum, False, exact, exact, float(value))


def show(value: float | Decimal, decimals: int, extra: int = 0, log: float | None = None,
         equal: bool | None = None, compact: bool = False) -> Shown:
    """A computed *value* as printed; *log* (its natural log) sizes it where the float
    underflowed or lost digits. *compact*: a value whose decimal ends within the printed
    digits is printed as it is (an exponent of ``-0.25``, not ``-0.250``)."""
    if log is not None and (value == 0.0 or abs(value) < 1e-250) and math.isfinite(log):
        with localcontext(Context(prec=_PRECISION)):
            number = Decimal(repr(log)).exp()
        exact = False
    else:
        # A Decimal (what printed operands give, at the limits of double precision) is
        # printed from all its digits.
        number = value if isinstance(value, Decimal) else decimal_of(value)
        exact = True
    printed, quantum, sci = _digits(
        number, decimals, extra,
        None if isinstance(value, Decimal) else defaults.FLOAT_SIGNIFICANT_DIGITS)
    exact = exact and printed == number
    if compact and exact and not sci:
        printed = printed.normalize()
        if printed.as_tuple().exponent > 0:  # 1E+1 -> 10
            printed = round_decimal(printed, Decimal(1))
        quantum = Decimal(1).scaleb(min(0, printed.as_tuple().exponent))
    return Shown(printed, quantum, sci, exact, exact if equal is None else equal,
                 float(value), log)


# A given number is written in fixed notation from 10^-6 (0.000005) to below 10^15; beyond,
# in scientific notation.
GIVEN_FIXED_FROM, GIVEN_FIXED_TO = -6, 15


def given(value: float) -> Shown | None:
    """A given number (data, a given parameter) as written: its decimal when it is short
    (``0.2``, ``-2.5``), or a fraction with a small denominator (a weight of ``1/3``);
    None for a long decimal (generated data), which is printed as a computed value."""
    number = decimal_of(value)
    quantum = Decimal(1).scaleb(min(0, number.as_tuple().exponent))
    if written_as_given(value):
        if number and not GIVEN_FIXED_FROM <= number.adjusted() < GIVEN_FIXED_TO:
            # (1e-300 as 1 x 10^-300, not a decimal of 300 zeros: as it was written)
            return Shown(number, Decimal(1).scaleb(number.as_tuple().exponent), True, True,
                         True, float(value))
        return Shown(number, quantum, False, True, True, float(value))
    ratio = Fraction(value).limit_denominator(defaults.GIVEN_DENOMINATOR)
    if ratio.denominator > 1 and float(ratio) == value:
        return Shown(number, quantum, False, True, True, float(value),
                     fraction=(ratio.numerator, ratio.denominator))
    return None


def given_cell(value: float, decimals: int) -> "Cell":
    """A cell for a given number: as written, or (a long decimal) by the display rule,
    with digits added where an equation needs them."""
    fixed = given(value)
    return Cell(value, decimals, fixed=fixed)


class Cell:
    """A number being laid out: its value and how many extra digits it has been given.

    A cell is an operand of any number of equations and the result of at most one; a
    *given* cell (a data point, a given parameter) is printed as written and never
    grows.
    """

    __slots__ = ("value", "log", "decimals", "extra", "fixed", "equal", "base", "factor",
                 "compact", "source", "_cache")
    # While a column's alignment is tried (:func:`.sheet.trying`): every cell's state
    # before it grew, and no cell grows past COLUMN_DIGITS significant digits.
    journal: ClassVar[list[tuple[Cell, tuple[Any, ...]]] | None] = None

    def __init__(self, value: float, decimals: int, log: float | None = None,
                 fixed: Shown | None = None, base: "Cell | None" = None,
                 factor: Decimal = Decimal(1), compact: bool = False):
        self.value = float(value)
        self.log = log
        self.decimals = decimals
        self.extra = 0
        self.fixed = fixed
        self.equal: bool | None = None
        # Printed as exactly *factor* times *base* as printed: 2 sigma^2 beside sigma^2,
        # -c beside c, the exponent -Delta^2 / 2 beside Delta^2.
        self.base = base
        self.factor = factor
        # At the limits of double precision: the value is what these printed operands
        # give (see _settle_noise).
        self.source: Equation | None = None
        self.compact = compact
        self._cache: Shown | None = None

    def shown(self) -> Shown:
        """The number as printed, with the relation its equations set (``equal``)."""
        if self.base is None and self.source is None:
            # A plain cell's digits change only when it grows: cached.
            if self._cache is None:
                self._cache = self._printed()
            printed = self._cache
        else:
            printed = self._printed()
        if self.equal is not None and self.equal != printed.equal:
            printed = replace(printed, equal=self.equal)
        return printed

    def _printed(self) -> Shown:
        if self.source is not None:  # (a noise-settled result, also one printed as another)
            linked = self.base is not None and self.factor == 1
            return show(self.source.evaluate(), self.decimals,
                        self.base.extra if linked else self.extra,  # type: ignore[union-attr]
                        compact=self.compact)
        if self.base is not None:
            base = self.base.shown()
            if self.factor == 1:  # the same value, printed as the other cell is
                return replace(base, equal=base.exact, value=self.value, log=self.log)
            with localcontext(WIDE):
                number = base.operand * self.factor if base.fraction is None \
                    else base.number * self.factor
                number = number.normalize() if base.fraction is None else number
                if base.fraction is None and not base.sci:  # keep the printed zeros
                    places = max(-number.as_tuple().exponent, -base.quantum.as_tuple().exponent)
                    number = number.quantize(Decimal(1).scaleb(-places))
            quantum = Decimal(1).scaleb(number.as_tuple().exponent)
            fraction = None if base.fraction is None else (
                int(base.fraction[0] * self.factor), base.fraction[1]) \
                if self.factor == self.factor.to_integral_value() else None
            return Shown(number, quantum, base.sci, base.exact, base.exact, self.value,
                         fraction=fraction)
        if self.fixed is not None:
            s = self.fixed
        else:
            s = show(self.value, self.decimals, self.extra, self.log, compact=self.compact)
        return s

    def true(self) -> Decimal:
        """The value itself, as a decimal (from its log where the float underflowed)."""
        if self.source is not None:
            return self.source.evaluate()
        if self.base is not None:
            return self.factor * self.base.true()
        if self.log is not None and (self.value == 0.0 or abs(self.value) < 1e-250) \
                and math.isfinite(self.log):
            with localcontext(Context(prec=_PRECISION)):
                return Decimal(repr(self.log)).exp()
        return Decimal(self.value)

    @property
    def can_grow(self) -> bool:
        if self.base is not None:
            return self.base.can_grow
        if self.fixed is not None or self.extra >= defaults.MAX_EXTRA_DIGITS:
            return False
        shown = self.shown()
        if Cell.journal is not None and significant(shown) >= defaults.COLUMN_DIGITS:
            return False  # (a column's alignment is being tried)
        return not shown.exact

    def state(self) -> tuple[Any, ...]:
        """What settling changes (see :meth:`restore`)."""
        return self.extra, self.equal, self.source, self._cache

    def restore(self, state: tuple[Any, ...]) -> None:
        self.extra, self.equal, self.source, self._cache = state

    def reset(self) -> None:
        """Back to its digits before any equation was settled."""
        self.extra, self.equal, self.source, self._cache = 0, None, None, None

    def widen(self, digits: int) -> None:
        """*digits* more printed digits, also for a value printed exactly (its zeros
        align it with its column: 1.0000 below 0.7788)."""
        if Cell.journal is not None:
            Cell.journal.append((self, self.state()))
        self.extra += digits
        self._cache = None

    def grow(self) -> None:
        if self.base is not None:
            self.base.grow()
        elif self.can_grow:
            if Cell.journal is not None:
                Cell.journal.append((self, self.state()))
            self.extra += 1
            self._cache = None


@dataclass
class Equation:
    """``result ≈ fn(operands)`` as printed: *fn* takes the operands' printed decimals."""

    result: Cell
    operands: Sequence[Cell]
    fn: Callable[..., Decimal]
    # The last evaluation and the printed operands it was of: an equation is checked
    # again and again while other numbers grow, its own operands mostly unchanged.
    _memo: tuple[list[Decimal], Decimal] | None = field(default=None, init=False,
                                                         repr=False, compare=False)

    def evaluate(self) -> Decimal:
        printed = [c.shown().operand for c in self.operands]
        if self._memo is not None and all(a is b for a, b in zip(self._memo[0], printed)):
            return self._memo[1]  # (the same printed numbers: a cell's are kept till it grows)
        with localcontext(Context(prec=_PRECISION)):
            value = +self.fn(*printed)
        self._memo = (printed, value)
        return value

    def costliest(self) -> Cell | None:
        """The operand (that can grow) whose rounding moves the result most: the one whose
        value in place of its printed digits changes the result most. In a long sum only
        the operands with the largest rounding errors (times their size) are tried."""
        printed = [c.shown().operand for c in self.operands]
        candidates = [i for i, c in enumerate(self.operands) if c.can_grow]
        influence = getattr(self.fn, "influence", None)
        if influence is not None and candidates:
            # A sum knows each term's influence to first order without re-adding it.
            with localcontext(Context(prec=_PRECISION)):
                shifts = influence(printed, [c.true() for c in self.operands])
            return self.operands[max(candidates, key=lambda i: shifts[i])]
        if len(candidates) > defaults.SETTLE_CANDIDATES:
            def rough(i: int) -> Decimal:
                cell = self.operands[i]
                return abs(cell.true() - printed[i]) * max(Decimal(1), abs(printed[i]))
            candidates = sorted(candidates, key=rough)[-defaults.SETTLE_CANDIDATES:]
        best, best_shift = None, None
        with localcontext(Context(prec=_PRECISION)):
            try:
                base = self.fn(*printed)
            except ArithmeticError:
                # No value at the printed digits (0 / 0: every printed density of a row
                # rounds to 0): the operand printed as 0 that is not 0 grows first.
                zeros = [i for i in candidates
                         if printed[i] == 0 and self.operands[i].true() != 0]
                return self.operands[(zeros or candidates)[0]] if candidates else None
            for i in candidates:
                cell = self.operands[i]
                trial = list(printed)
                trial[i] = cell.true()
                try:
                    shift = abs(self.fn(*trial) - base)
                except ArithmeticError:
                    continue
                if best_shift is None or shift > best_shift:
                    best, best_shift = cell, shift
        return best

    def near_tie(self) -> bool:
        """Whether the value lies so close to a rounding tie of its printed digits that
        it needs a digit more of its own."""
        if not self.result.can_grow:
            return False
        quantum = self.result.shown().quantum
        with localcontext(Context(prec=_PRECISION)):
            position = (abs(self.result.true()) / quantum) % 1
        return abs(position - Decimal("0.5")) < Decimal(str(defaults.NEAR_TIE))

    def check(self) -> tuple[bool, bool]:
        """``(holds, equal)``: whether the printed operands reproduce the printed result,
        and whether they give it exactly (so that ``=`` may be written); an equation whose
        printed operands give no value (0 / 0) does not hold."""
        try:
            got = self.evaluate()
        except ArithmeticError:
            return False, False
        printed = self.result.shown()
        if got == printed.number:
            return True, printed.exact
        return round_decimal(got, printed.quantum) == printed.number, False


def settle(equations: Sequence[Equation], noise_passes: int = 10,
           grow: bool = True) -> list[Equation]:
    """Give operands more digits until every equation holds; set each result's relation.

    An equation that does not hold gives one more digit to the operand whose rounding
    costs it most, again and again until it holds, so that digits are added only where
    they matter; a value next to a rounding tie gets a digit of its own instead. The
    equations a grown number belongs to are checked again. Returns the equations that
    still do not hold (none, unless operands reached
    :data:`~explainer.defaults.MAX_EXTRA_DIGITS` extra digits). Without *grow* no digit
    is added: only the relations are set.
    """
    if grow:
        grow_until_they_hold(equations)
    failing = [eq for eq in equations if not eq.check()[0]]
    if failing and grow and noise_passes and _settle_noise(failing):
        return settle(equations, noise_passes - 1)
    relate(equations)
    return failing


def relate(equations: Sequence[Equation]) -> None:
    """Set the relation of each result of *equations* (all the equations of those
    results): a result printed by several equations (a worked r_nk over the written-out
    sum and over p(x_n)) takes '=' only when every one of them gives it exactly."""
    for eq in equations:
        eq.result.equal = None
    for eq in equations:
        holds, equal = eq.check()
        eq.result.equal = holds and equal and eq.result.equal is not False


def _cells_of(cell: "Cell") -> list["Cell"]:
    """The cells whose printed number changes when *cell* grows (itself, and the cells
    printed as a multiple of it)."""
    return [cell] if cell.base is None else [cell, *_cells_of(cell.base)]


def touching_map(equations: Sequence[Equation]) -> dict[int, list[Equation]]:
    """For each cell (by id), the equations whose printed numbers change when it grows."""
    touching: dict[int, list[Equation]] = {}
    for eq in equations:
        for cell in (eq.result, *eq.operands):
            for c in _cells_of(cell):
                touching.setdefault(id(c), []).append(eq)
    return touching


def grow_until_they_hold(equations: Sequence[Equation],
                         start: Sequence[Equation] | None = None,
                         touching: dict[int, list[Equation]] | None = None
                         ) -> list[Equation]:
    """The work of :func:`settle`: a queue of equations to check (*start*, or all), fed
    by growth. Returns every equation it checked."""
    if touching is None:
        touching = touching_map(equations)
    queue = list(equations if start is None else start)
    queued = {id(eq) for eq in queue}
    checked = {id(eq): eq for eq in queue}
    steps = 0
    while queue and steps < defaults.SETTLE_STEPS:
        eq = queue.pop()
        queued.discard(id(eq))
        grown: list[Cell] = []
        for _ in range(defaults.SETTLE_TRIES):
            steps += 1
            if eq.check()[0]:
                break
            # A value next to a tie (3.49500001 to three digits) needs its operands to
            # many digits to round the right way; one more digit of its own takes it
            # away from the tie.
            culprit = eq.result if eq.near_tie() else eq.costliest()
            if culprit is None:
                break
            culprit.grow()
            grown.append(culprit)
        for cell in grown:
            for c in _cells_of(cell):
                for other in touching.get(id(c), ()):
                    if id(other) not in queued:
                        queued.add(id(other))
                        queue.append(other)
                        checked[id(other)] = other
    return list(checked.values())


def _settle_noise(failing: Sequence[Equation]) -> bool:
    """Equations whose operands are printed to all the digits they may have and still do
    not give the printed result differ by the floating-point noise of the engine (a mean
    equal to a point but for 10^-17 gives an exponent of -10^-32 that no printed mean
    reproduces): their result becomes what the printed operands give. Returns whether
    any result changed."""
    changed = False
    for eq in failing:
        if any(c.can_grow for c in eq.operands) or eq.result.fixed is not None:
            continue
        try:
            got = eq.evaluate()
        except ArithmeticError:
            continue  # no value at all: left failing, and reported
        true = eq.result.true()
        scale = max(abs(true), max((abs(c.true()) for c in eq.operands), default=Decimal(0)))
        if abs(got - true) > Decimal(str(defaults.NOISE_RELATIVE)) * max(scale, Decimal(1)):
            continue  # more than noise: left failing, and reported
        eq.result.source = eq
        changed = True
    return changed


# The arithmetic of the printed equations, on decimals.

def d_sum(*values: Decimal) -> Decimal:
    return sum(values, Decimal(0))


def _sum_influence(printed: Sequence[Decimal], true: Sequence[Decimal]) -> list[Decimal]:
    return [abs(t - p) for p, t in zip(printed, true)]


d_sum.influence = _sum_influence  # type: ignore[attr-defined]


def sum_of_products(*values: Decimal) -> Decimal:
    """a_1 b_1 + a_2 b_2 + ...: the operands alternate (a_1, b_1, a_2, b_2, ...)."""
    return d_sum(*(values[i] * values[i + 1] for i in range(0, len(values), 2)))


def _products_influence(printed: Sequence[Decimal], true: Sequence[Decimal]) -> list[Decimal]:
    return [abs(true[i] - printed[i]) * abs(printed[i + 1 if i % 2 == 0 else i - 1])
            for i in range(len(printed))]


sum_of_products.influence = _products_influence  # type: ignore[attr-defined]


def weighted_squares(centre: Decimal, *values: Decimal) -> Decimal:
    """r_1 (x_1 - m)^2 + r_2 (x_2 - m)^2 + ...: the centre m, then (r_1, x_1, r_2, ...)."""
    return d_sum(*(values[i] * (values[i + 1] - centre) ** 2
                   for i in range(0, len(values), 2)))


def _squares_influence(printed: Sequence[Decimal], true: Sequence[Decimal]) -> list[Decimal]:
    m, values = printed[0], printed[1:]
    slope = d_sum(*(2 * values[i] * (values[i + 1] - m) for i in range(0, len(values), 2)))
    out = [abs(true[0] - m) * abs(slope)]
    for i in range(0, len(values), 2):
        r, x = values[i], values[i + 1]
        out.append(abs(true[i + 1] - r) * (x - m) ** 2)
        out.append(abs(true[i + 2] - x) * abs(2 * r * (x - m)))
    return out


weighted_squares.influence = _squares_influence  # type: ignore[attr-defined]


def plus_rest(fn: Callable[..., Decimal]) -> Callable[..., Decimal]:
    """*fn* of the operands but the last, plus the last: a written-out sum whose omitted
    terms enter as one subtotal (its influence is its own rounding)."""
    def with_rest(*values: Decimal) -> Decimal:
        return fn(*values[:-1]) + values[-1]

    influence = fn.influence  # type: ignore[attr-defined]
    with_rest.influence = lambda printed, true: [  # type: ignore[attr-defined]
        *influence(printed[:-1], true[:-1]), abs(true[-1] - printed[-1])]
    return with_rest


products_and_rest = plus_rest(sum_of_products)
squares_and_rest = plus_rest(weighted_squares)


def pi() -> Decimal:
    """pi to 60 digits."""
    return Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
