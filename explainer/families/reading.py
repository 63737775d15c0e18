"""Reading a family's spec: its data's whole numbers, and its starting parameter (a
probability or a rate per component, or a row of them), checked with errors that name
the entry."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import defaults
from ..errors import ProblemError
from ..numbers import parse_fraction_list

def whole_numbers(values: np.ndarray, field: str, what: str, low: int = 0,
                  high: float = defaults.MAX_COUNT) -> None:
    """Every value a whole number from *low* to *high*, else an error naming the first."""
    bad = np.flatnonzero((values != np.floor(values)) | (values < low) | (values > high))
    if len(bad):
        n = int(bad[0])
        raise ProblemError(f"{field}[{n + 1}]", f"expected {what} (a whole number from {low} "
                                                f"to {high:,.0f}), but got "
                                                f"{values[n]:g}")


def probabilities(init: Mapping[str, Any], name: str, components: int,
                  width: int | None) -> list[Any]:
    """init.<name>: a probability per component (*width* None), or a row of *width*
    probabilities per component; each in [0, 1]; as written (Fractions)."""
    field = f"init.{name}"
    raw = init.get(name)
    if raw is None:
        shape = "a probability" if width is None else f"a row of {width} probabilities"
        raise ProblemError(field, f"missing; init_method 'given' needs {shape} per "
                                  f"component ({components})")
    if isinstance(raw, str) and ";" in raw:
        raw = [row.replace(",", " ").split() for row in raw.split(";") if row.strip()]
    if width is None:
        rows: list[Any] = parse_fraction_list(raw, field)
        if len(rows) != components:
            raise ProblemError(field, f"expected {components} probabilities (one per "
                                      f"component), but got {len(rows)}")
    else:
        if not isinstance(raw, (list, tuple)) or len(raw) != components:
            raise ProblemError(field, f"expected {components} rows (one per component) of "
                                      f"{width} probabilities, but got {raw!r}")
        rows = []
        for k, row in enumerate(raw):
            if not isinstance(row, (list, tuple, str)):
                row = [row]
            values = parse_fraction_list(row, f"{field}[{k + 1}]")
            if len(values) != width:
                raise ProblemError(f"{field}[{k + 1}]", f"expected {width} probabilities "
                                                        f"(one per {_entry(name)}), but "
                                                        f"got {len(values)}")
            rows.append(values)
    array = np.array([[float(v) for v in row] if isinstance(row, list) else float(row)
                      for row in rows])
    outside = np.argwhere((array < 0) | (array > 1))
    if len(outside):
        index = "".join(f"[{int(i) + 1}]" for i in outside[0])
        raise ProblemError(f"{field}{index}", f"expected a probability from 0 to 1, but got "
                                              f"{array[tuple(outside[0])]:g}")
    # 1 - p of a p within 10^-12 of 1 keeps four digits or fewer in a double (1 minus
    # 0.9999999999999999 is 1.1e-16, not 1e-16): refused, as no page could write p and
    # its complement truly.
    near = np.argwhere((array < 1) & (array > 1 - defaults.PROBABILITY_GAP))
    if len(near):
        index = "".join(f"[{int(i) + 1}]" for i in near[0])
        raise ProblemError(f"{field}{index}", f"expected 1 or a probability at most "
                                              f"1 - 10^-12, but got "
                                              f"{float(array[tuple(near[0])])!r} (1 - p would "
                                              f"keep too few digits in a double)")
    return rows


def rates(init: Mapping[str, Any], components: int) -> list[Any]:
    """init.rates: a rate > 0 per component (Poisson, exponential); as written
    (Fractions)."""
    if init.get("rates") is None:
        raise ProblemError("init.rates", f"missing; init_method 'given' needs "
                                         f"{components} rates (one per component)")
    given = parse_fraction_list(init["rates"], "init.rates")
    values = np.array([float(v) for v in given])
    if len(values) != components:
        raise ProblemError("init.rates", f"expected {components} rates (one per "
                                         f"component), but got {len(values)}")
    for k, rate in enumerate(values):
        if not 0 < rate <= defaults.MAX_COUNT:
            raise ProblemError(f"init.rates[{k + 1}]",
                               f"expected a rate > 0 (at most {defaults.MAX_COUNT:,.0f}), "
                               f"but got {rate:g}")
    return given


def one_per_point(numbers: list[Any] | None, what: str) -> np.ndarray:
    """The data as one number per point (a float array), else an error: *what* names
    the data (``Poisson data as one count``)."""
    assert numbers is not None
    array = np.array(numbers, dtype=float)
    if array.ndim != 1:
        raise ProblemError("data", f"expected {what} per point, but got rows")
    return array


def _entry(name: str) -> str:
    """What an entry of a vector parameter is one of."""
    return "category" if name == "probs" else "coordinate"
