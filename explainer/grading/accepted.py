"""The answers a correct student may reach: for each asked quantity one interval, made
from the calculations a student without a slip may carry out, which every export of an
exam states and ``check`` grades by.

The paths (:func:`paths`): full precision; every written value rounded to the display's
decimals (the rounded carry), and to one more; and each of those with a point's last
responsibility written as 1 minus its others (the others as written). A path's value of
a quantity is rounded to the display's decimals as the student writes it; the interval
runs from the least of those to the largest, widened by half a unit of the last decimal
either side (an answer rounded differently by a calculator stays inside) and by a margin
for storage (Moodle keeps 14 significant digits of an answer and its tolerance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ..backend import FLOAT, FloatBackend, RoundedBackend, round_half_up
from ..engine import run_with
from ..families import MODELS
from ..problem import Problem
from ..trace import Trace
from .quantities import CHOICES, Quantity
from .values import answer_value


@dataclass(frozen=True)
class Path:
    """One calculation a student may carry out: its name and its run."""

    name: str  # full, carry, carry+1, and each with ", rest" (the last r_nk as the rest)
    trace: Trace


@dataclass(frozen=True)
class Accepted:
    """The answers accepted for one quantity: a number in [low, high] (a choice: one of
    *choices*); the least and the largest value the paths give as written (*lowest*,
    *highest*); and each path's value, unrounded."""

    low: float
    high: float
    lowest: float
    highest: float
    values: dict[str, float]
    choices: tuple[int, ...] = ()

    # The centre and half width, in decimals (printed short: 0.2225 and 0.001000001, not
    # a double's 0.22250000000000003).

    @property
    def centre(self) -> float:
        return float((_decimal(self.low) + _decimal(self.high)) / 2)

    @property
    def half_width(self) -> float:
        return float((_decimal(self.high) - _decimal(self.low)) / 2)

    def accepts(self, value: float) -> bool:
        if self.choices:
            return value in self.choices
        return self.low <= value <= self.high

    def path_of(self, value: float, decimals: int) -> str | None:
        """The first path whose value, as written at *decimals*, is within half a unit of
        *value* (None: accepted between the paths' values, or not at all)."""
        half = 0.5 * 10.0 ** -decimals
        for name, v in self.values.items():
            if (value == v) if self.choices else \
                    abs(value - round_half_up(v, decimals)) <= half + _margin(v, decimals):
                return name
        return None

    def holds_a_slip(self, key: float) -> bool:
        """Whether the interval holds a value :data:`SLIP` or more away from *key* (as
        written): it would accept a wrong answer. A choice: two of its options."""
        if self.choices:
            return len(self.choices) > 1
        spread = max(key - self.lowest, self.highest - key)
        return spread > 0 and spread >= SLIP * abs(key)


# A value this far from the key, relatively, is a slip that no accepted interval may hold.
SLIP = 0.05


class _LastAsRest:
    """A backend whose E-step writes each point's last responsibility as 1 minus the
    others as written (at *written* decimals), where that is above 0."""

    written: int

    def mixture_rows(self, log_densities: np.ndarray, weights: np.ndarray,
                     log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        resp, log_rows = super().mixture_rows(  # type: ignore[misc]
            log_densities, weights, log_weighted)
        resp = np.array(resp, dtype=float)
        for row in resp:
            if not np.all(np.isfinite(row)):
                continue
            others = sum(Fraction(repr(round_half_up(float(v), self.written)))
                         for v in row[:-1])
            rest = float(1 - others)
            if rest > 0:
                row[-1] = rest
        return resp, log_rows


class _FullRest(_LastAsRest, FloatBackend):
    def __init__(self, written: int):
        self.written = written


class _CarryRest(_LastAsRest, RoundedBackend):
    def __init__(self, decimals: int):
        super().__init__(decimals)
        self.written = decimals


# The paths of each grading.carry (any: all of them).
CHOSEN = {"full": ("full", "full, rest"), "rounded": ("carry", "carry, rest")}


def key_path(problem: Problem) -> str:
    """The path an exam's key gives: the problem's grading.carry where it names one, else
    its display.carry (full precision alone where no hand calculation is written)."""
    carry = problem.carry if problem.grading_carry == "any" else problem.grading_carry
    rounded = MODELS[problem.family].rounded_carry_written(problem.dim)
    return "carry" if carry == "rounded" and rounded else "full"


def paths(problem: Problem, full: Trace | None = None,
          rounded: Trace | None = None) -> list[Path]:
    """The calculations a student may carry out on *problem* that its grading.carry
    accepts (full precision alone where no hand calculation is written: d >= 3). *full*
    and *rounded* (the full-precision run and the rounded carry at the display's decimals)
    are used where given."""
    problem = replace(problem, carry="full", exact=False, exact_inputs=None)
    d = problem.decimals
    rounded_problem = replace(problem, carry="rounded")
    runs = {"full": lambda: full or run_with(problem, FLOAT),
            "carry": lambda: rounded or run_with(rounded_problem, RoundedBackend(d)),
            "carry+1": lambda: run_with(rounded_problem, RoundedBackend(d + 1)),
            "full, rest": lambda: run_with(problem, _FullRest(d)),
            "carry, rest": lambda: run_with(rounded_problem, _CarryRest(d)),
            "carry+1, rest": lambda: run_with(rounded_problem, _CarryRest(d + 1))}
    names = list(CHOSEN.get(problem.grading_carry, runs))
    if not MODELS[problem.family].rounded_carry_written(problem.dim):
        names = ["full"]
    if problem.components == 1:  # (its one responsibility is 1 on every path)
        names = [name for name in names if not name.endswith("rest")]
    return [Path(name, runs[name]()) for name in names]


def table(problem: Problem, asked: list[Quantity], full: Trace | None = None,
          rounded: Trace | None = None) -> dict[Quantity, Accepted]:
    """The answers accepted for each of the *asked* quantities of *problem*."""
    found = paths(problem, full, rounded)
    return {q: accepted(q, found, problem.decimals) for q in asked}


def _margin(value: float, decimals: int) -> float:
    """What an interval's edge is widened by beyond half a unit: a relative 10^-9 (a
    value stored with 14 significant digits, a double's rounding of a large value), at
    most a tenth of the half unit."""
    return min(1e-9 * max(1.0, abs(value)), 0.05 * 10.0 ** -decimals)


def accepted(q: Quantity, found: list[Path], decimals: int) -> Accepted:
    """The answers accepted for *q*, from the paths *found*."""
    values = {}
    for path in found:
        value = answer_value(path.trace, q)
        if math.isfinite(value):
            values[path.name] = value
    if q.kind in CHOICES:
        choices = tuple(dict.fromkeys(int(v) for v in values.values()))
        return Accepted(math.nan, math.nan, math.nan, math.nan, values, choices)
    written = [round_half_up(v, decimals) for v in values.values()]
    if not written:  # (no calculation gives a number: nothing is accepted)
        return Accepted(math.nan, math.nan, math.nan, math.nan, values)
    low, high = min(written), max(written)
    # Half a unit and the margin either side, in decimals (0.749499999, not a double's
    # 0.7494999990000001).
    wider = Decimal(5).scaleb(-decimals - 1) + _decimal(_margin(max(abs(low), abs(high)),
                                                                decimals))
    return Accepted(float(_decimal(low) - wider), float(_decimal(high) + wider), low, high,
                    values)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


__all__ = ["Accepted", "CHOSEN", "Path", "SLIP", "accepted", "key_path", "paths", "table"]
