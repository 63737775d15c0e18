"""Parsing of numbers written by users: never through eval or sympify; and the decimal a
float stands for, and whether a given one is short enough to be written as given.

Accepted: ints and floats (not booleans), and strings holding a decimal number
(``0.5``, ``-3``, ``1e-3``, ``.5``) or a fraction of two such numbers (``1/3``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from . import defaults
from .errors import ProblemError

_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
MAX_NUMBER_TEXT = 100  # characters of a number written as text
_NUMBER_RE = re.compile(rf"^\s*({_DECIMAL})\s*(?:/\s*({_DECIMAL})\s*)?$")
# The same, written in ASCII digits alone, as a report may echo it inside LaTeX math.
_WRITTEN_RE = re.compile(rf"{_DECIMAL}(?:/{_DECIMAL})?", re.ASCII)


def describe(value: object) -> str:
    """*value* as an error message quotes it: its repr, at most 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_fraction(value: object, field: str) -> Fraction:
    """Return *value* as an exact Fraction, or raise ProblemError naming *field*."""
    if isinstance(value, bool) or value is None:
        raise ProblemError(field, f"expected a number, but got {describe(value)}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProblemError(field, f"expected a finite number, but got {value}")
        # A float read from YAML or JSON stands for the decimal that was written:
        # 0.1 is 1/10, not the binary fraction nearest to it (repr round-trips).
        return Fraction(repr(value))
    if isinstance(value, str):
        match = _NUMBER_RE.match(value)
        if match is None:
            if value.strip().lower().lstrip("+-") in {"nan", "inf", "infinity", ".nan", ".inf"}:
                raise ProblemError(field, f"expected a finite number, but got {describe(value)}")
            raise ProblemError(
                field, f"expected a number such as 0.5 or 1/3, but got {describe(value)}"
            )
        if len(value) > MAX_NUMBER_TEXT:
            raise ProblemError(field, f"expected a number of at most {MAX_NUMBER_TEXT} "
                                      f"characters, but got one of {len(value):,}")
        numerator = _decimal(match.group(1), value, field)
        if match.group(2) is None:
            return numerator
        denominator = _decimal(match.group(2), value, field)
        if denominator == 0:
            raise ProblemError(field, f"division by zero in {describe(value)}")
        return numerator / denominator
    raise ProblemError(field, f"expected a number, but got {describe(value)}")


def _decimal(text: str, value: object, field: str) -> Fraction:
    """A decimal as a Fraction; an exponent beyond +-1000 is no finite double (1e-1000
    is 0 to a double, 1e1000 infinite) and would build a huge integer."""
    exponent = text.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 1000:
        raise ProblemError(field, f"expected a number with an exponent from -1000 to 1000 "
                                  f"(a double holds about 1e-308 to 1e308), but got "
                                  f"{describe(value)}")
    return Fraction(text)


def _finite(number: Fraction, value: object, field: str) -> float:
    try:
        result = float(number)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ProblemError(field, f"expected a finite number, but got {describe(value)}")
    return result


# A plain decimal with an exponent of at most three digits: float() reads it as the
# Fraction would, correctly rounded, without building one (a million CSV cells).
_PLAIN_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?\s*")


def as_written(text: str) -> str | None:
    """*text* without surrounding space when it is a number written plainly in ASCII
    digits (``6.840``, ``-0.25``, ``1/3``, ``2.5e-4``), to be echoed as the user typed it;
    else None (a number in other digits is shown by its value)."""
    text = text.strip()
    return text if _WRITTEN_RE.fullmatch(text) else None


def plain_float(text: str) -> float | None:
    """*text* as a finite float when it is a plain decimal (what :func:`parse_number`
    would give, at a tenth of the cost), else None: the full parse decides."""
    if len(text) <= MAX_NUMBER_TEXT and _PLAIN_RE.fullmatch(text):
        result = float(text)
        if math.isfinite(result):
            return result
    return None


def parse_number(value: object, field: str) -> float:
    """Return *value* as a finite float, or raise ProblemError naming *field*."""
    if isinstance(value, str):
        result = plain_float(value)
        if result is not None:
            return result
    elif isinstance(value, float) and math.isfinite(value):
        return value
    return _finite(parse_fraction(value, field), value, field)


def parse_fraction_list(values: object, field: str) -> list[Fraction]:
    """Return a list of exact Fractions; a comma-separated string is accepted too."""
    if isinstance(values, str):
        values = [part for part in values.split(",")]
    if not isinstance(values, (list, tuple)):
        raise ProblemError(field, f"expected a list of numbers, but got {describe(values)}")
    result = []
    for i, v in enumerate(values):
        number = parse_fraction(v, f"{field}[{i + 1}]")
        _finite(number, v, f"{field}[{i + 1}]")
        result.append(number)
    return result


def parse_number_list(values: object, field: str) -> list[float]:
    """Return a list of finite floats; a comma-separated string is accepted too. Floats
    and ints are taken as they are (a million of them without a Fraction each)."""
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, (list, tuple)):
        raise ProblemError(field, f"expected a list of numbers, but got {describe(values)}")
    result = []
    for i, v in enumerate(values):
        if type(v) is float and math.isfinite(v):
            result.append(v)
        elif type(v) is int and abs(v) < 1 << 1000:
            result.append(float(v))
        else:
            result.append(parse_number(v, f"{field}[{i + 1}]"))
    return result


def fraction_text(value: Fraction) -> str:
    """``"2"``, ``"-1/3"``: a Fraction as the text :func:`parse_fraction` reads back."""
    return str(value)


def decimal_of(value: float) -> Decimal:
    """The decimal a float stands for: its 15 significant digits. The values a hand
    calculation rounds are sums and products of short decimals, computed in binary
    (``0.5 * 0.209`` is 0.1045 on paper, 0.10449999999999999 in binary): fifteen
    significant digits undo the binary noise."""
    return Decimal(f"{value:.15g}")


def written_as_given(value: float) -> bool:
    """Whether a given number (a datum, a given parameter) is short enough to be written
    as given: at most ``defaults.GIVEN_DIGITS`` significant digits of its decimal. The
    display rule prints it so; a hand calculation uses a longer one (a generated data
    set's 0.34268040332750216) at its decimals."""
    return len(decimal_of(value).as_tuple().digits) <= defaults.GIVEN_DIGITS
