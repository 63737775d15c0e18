"""Numbers written by users are parsed, never evaluated."""

from __future__ import annotations

from fractions import Fraction

import pytest

from explainer.errors import ProblemError
from explainer.numbers import parse_fraction, parse_number, parse_number_list


@pytest.mark.parametrize("text,expected", [
    ("0.1", Fraction(1, 10)), ("1/3", Fraction(1, 3)), (" -2 / 4 ", Fraction(-1, 2)),
    (".5", Fraction(1, 2)), ("1e-3", Fraction(1, 1000)), (3, Fraction(3)), (0.5, Fraction(1, 2)),
])
def test_parse_fraction(text, expected):
    assert parse_fraction(text, "f") == expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo pwned')", "1+1", "2**8", "lambda: 1", "exp(1)", "pi",
    "1/0", "nan", "inf", "-inf", True, None, [1], "", "0x10", "1_000",
])
def test_rejects_anything_else(text):
    with pytest.raises(ProblemError) as err:
        parse_number(text, "init.means[1]")
    assert err.value.field == "init.means[1]"


def test_list_from_comma_string_names_each_position():
    assert parse_number_list("1, 2.5,1/4", "data") == [1.0, 2.5, 0.25]
    with pytest.raises(ProblemError, match=r"data\[2\]"):
        parse_number_list("1,x", "data")
