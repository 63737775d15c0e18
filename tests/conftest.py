"""Shared helpers for the tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The examples' problem specs (the exam folder holds a template, not a problem).
EXAMPLE_SPECS = [p for p in sorted(EXAMPLES.glob("*/*.yaml")) if p.parent.name != "exam"]

# The checkout's package first, whether or not it is installed.
sys.path.insert(0, str(ROOT))


def lecture_spec(**overrides: Any) -> dict[str, Any]:
    """The lecture example as a spec mapping (the numbers of the problem, not of its answer)."""
    spec: dict[str, Any] = {
        "data": [1, 2, 5, 8, 9], "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [2, 8], "variances": [2, 2]},
        "model": {"kernel": "proportional", "update": ["weights", "means"]},
        "stop": {"iterations": 1},
    }
    spec.update(overrides)
    return spec


def given_spec(data, weights, means, variances, iterations=1, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "data": list(map(float, data)), "components": len(means),
        "init": {"weights": list(map(float, weights)), "means": list(map(float, means)),
                 "variances": list(map(float, variances))},
        "stop": {"iterations": iterations},
    }
    spec.update(extra)
    return spec


@pytest.fixture
def root() -> Path:
    return ROOT


_PRINTED = r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?"


def printed_numbers(text: str, prefix: str) -> list[str]:
    """The numbers printed right after *prefix* (``0.779``, ``4.79 \\times 10^{-6}``)."""
    import re

    return [m.group(0)[len(prefix):] for m in
            re.finditer(re.escape(prefix) + _PRINTED, text)]


def rounds_from(printed: str, value: float) -> bool:
    """Whether *printed* is *value* rounded half away from zero to its last printed
    digit, with at least three significant digits (or the value exactly)."""
    import re
    from decimal import ROUND_HALF_UP, Decimal

    match = re.fullmatch(_PRINTED, printed)
    assert match is not None, printed
    mantissa, exponent = Decimal(match.group(1)), int(match.group(2) or 0)
    number = mantissa.scaleb(exponent)
    quantum = Decimal(1).scaleb(mantissa.as_tuple().exponent + exponent)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    digits = len(str(abs(mantissa)).replace(".", "").lstrip("0"))
    return rounded == number and (digits >= 3 or Decimal(repr(float(value))) == number)


def assert_printed(text: str, prefix: str, value: float) -> None:
    """*prefix* is followed somewhere in *text* by a correct printing of *value*."""
    found = printed_numbers(text, prefix)
    assert found, f"{prefix!r} not found"
    assert any(rounds_from(p, value) for p in found), (prefix, found, value)


def printed_pattern(text: str, template: str, values: Any) -> bool:
    """Whether *text* holds *template* with each ``{}`` a correct printing of the next of
    *values* (see :func:`rounds_from`) and each ``{rel}`` either ``=`` or ``\\approx``."""
    import re

    parts = [re.escape(p).replace(re.escape("{rel}"), r"(?:=|\\approx)")
             for p in template.split("{}")]
    regex = f"({_PRINTED})".join(parts)
    values = [float(v) for v in values]
    for match in re.finditer(regex, text):
        printed = [g for g in match.groups()[::3]]
        if all(rounds_from(p, v) for p, v in zip(printed, values)):
            return True
    return False
