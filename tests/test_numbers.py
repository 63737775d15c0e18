"""Numbers written by users are parsed, never evaluated."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@given(st.floats(min_value=-1e307, max_value=1e307),
       st.sampled_from(["{!r}", "{:.3e}", "{:.17g}", " {!r} ", "{:.0f}"]))
def test_the_fast_path_reads_a_decimal_as_the_fraction_does(value, form):
    """Plain decimals (a million CSV cells, inline data) are read by float() instead of
    a Fraction each: the same number, correctly rounded, and the same errors."""
    from explainer.numbers import plain_float

    text = form.format(value)
    exact = float(Fraction(text.strip()))
    if len(text) > 100:  # too long to be a number written by hand, either way
        assert plain_float(text) is None
        with pytest.raises(ProblemError, match="at most 100 characters"):
            parse_number(text, "f")
        return
    assert plain_float(text) == exact
    assert parse_number(text, "f") == exact
    assert parse_number_list([value, int(exact) if abs(exact) < 1e300 else 1, text], "f") == \
        [value, float(int(exact)) if abs(exact) < 1e300 else 1.0, exact]


def test_the_fast_path_keeps_the_errors():
    from explainer.numbers import plain_float

    for text in ("1e999", "nan", "inf", "1/3", "1_000", "0x10", "1e-2000", "--1"):
        assert plain_float(text) is None, text
    assert parse_number("1/3", "f") == 1 / 3
    for bad, message in (([1.0, float("nan")], r"f\[2\]: expected a finite number"),
                         ([True], r"f\[1\]: expected a number, but got True"),
                         ([10 ** 400], r"f\[1\]: expected a finite number"),
                         (["1_000"], r"f\[1\]: expected a number such as 0.5 or 1/3")):
        with pytest.raises(ProblemError, match=message):
            parse_number_list(bad, "f")


def test_a_number_as_written_is_plain_ascii_decimal_or_fraction():
    from explainer.numbers import as_written

    assert [as_written(t) for t in ("6.840", " 1/3 ", "2.5e-4", "-.5", "+1")] == [
        "6.840", "1/3", "2.5e-4", "-.5", "+1"]
    # Python reads these as numbers, but they are not echoed into LaTeX as typed.
    assert [as_written(t) for t in ("\u0661.5", "1_000", "1 / 3", "inf", "0x10")] == [None] * 5
