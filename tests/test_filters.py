"""Number formatting and escaping filters."""

from __future__ import annotations

import math

import pytest
from jinja2 import Environment

from explainer.render.filters import (FILTERS, LogValue, format_compact, format_fixed,
                                      format_sci, format_sci_from_log, md_text)


def render(expr: str, decimals: int = 3, **values) -> str:
    env = Environment()
    env.filters.update(FILTERS)
    return env.from_string(expr).render(decimals=decimals, **values)


@pytest.mark.parametrize("value,decimals,expected", [
    (0.7788007830714049, 3, "0.779"), (1.0, 3, "1.000"), (-0.0001, 3, "0.000"),
    (-0.5625, 3, "-0.563"), (0.5625, 3, "0.563"), (2.675, 2, "2.68"), (-0.0625, 3, "-0.063"),
    (-0.1875, 3, "-0.188"), (-5.3125, 3, "-5.313"), (12.5, 0, "13"),
])
def test_format_fixed(value, decimals, expected):
    assert format_fixed(value, decimals) == expected


@pytest.mark.parametrize("value,expected", [
    (2.0, "2"), (5.2, "5.2"), (2.2003158, "2.2"), (-0.25, "-0.25"), (0.0, "0"),
    (-1e-5, r"-1.0 \times 10^{-5}"), (1234.5, "1234.5"), (-0.5625, "-0.5625"),
    (2.20031581, "2.2"), (1 / 3, "0.333"),
])
def test_format_compact(value, expected):
    assert format_compact(value, 3) == expected


def test_given_numbers_are_not_rounded_away_at_low_precision():
    assert format_compact(0.01, 0) == "0.01"
    assert format_compact(0.25, 1) == "0.25"
    assert format_compact(1 / 3, 0) == r"3.3 \times 10^{-1}"


def test_scientific_notation_including_past_underflow():
    assert format_sci(4.78511739e-06) == r"4.8 \times 10^{-6}"
    assert format_sci(9.96e-3) == r"1.0 \times 10^{-2}"
    assert format_sci_from_log(math.log(4.78511739e-06)) == r"4.8 \times 10^{-6}"
    # Subnormal doubles: 10**exponent underflows, the log does not.
    assert format_sci(1.5e-320) == r"1.5 \times 10^{-320}"
    assert format_sci(-5e-324) == r"-4.9 \times 10^{-324}"
    # exp(-1000) underflows a double; its size is still known from the log.
    assert format_sci_from_log(-1000.0) == r"5.1 \times 10^{-435}"


def test_value_filters_choose_equals_or_approx():
    assert render("{{ v|relation_value }}", v=0.5) == "= 0.500"
    assert render("{{ v|relation_value }}", v=1 / 3) == r"\approx 0.333"
    assert render("{{ v|relation_value }}", v=4.785e-6) == r"\approx 0.000 \ (4.8 \times 10^{-6})"
    assert render("{{ v|relation_value }}", v=LogValue(0.0, -1000.0)) == \
        r"\approx 0.000 \ (5.1 \times 10^{-435})"
    assert render("{{ v|relation_value }}", v=LogValue(0.5, math.log(0.5) + 1e-17)) == "= 0.500"
    assert render("{{ v|computed }}", v=LogValue(0.0, -math.inf)) == "0"
    assert render("{{ v|relation(true) }}", v=-0.25) == "="
    assert render("{{ v|relation(true) }}", v=-0.1234567) == r"\approx"  # 7 digits: rounded
    assert render("{{ v|relation(true) }}", v=-0.5625) == "="  # short: written exactly
    assert render("{{ v|paren }}", v=-2.0) == "(-2)"
    assert render("{{ v|paren }}", v=2.0) == "2"
    assert render("{{ v|fixed }}", decimals=5, v=0.1) == "0.10000"


def test_md_text_escapes_markup_only():
    assert md_text("Heights, short and tall (m)") == "Heights, short and tall (m)"
    assert md_text("a*b_c|d$e`f<g>[h]") == r"a\*b\_c\|d\$e\`f\<g\>\[h\]"
    assert md_text("two\nlines") == "two lines"
