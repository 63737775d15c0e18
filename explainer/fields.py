"""Reading one field of a spec: a key's value checked as the spec's table says, names,
numbers and rows, a switch, the iterations to show, the points to work; each error
names the field (``init.means[2]``) and what was expected.

These readers trust nothing and are shared by every model's validation
(:mod:`explainer.validation`, :mod:`explainer.families`).
"""

from __future__ import annotations

import difflib
import math
import re
from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from . import defaults
from .errors import ProblemError
from .numbers import describe, parse_fraction_list, parse_number_list
from .problem import Detail
from .spec import BY_PATH


def check_keys(spec: Mapping[str, Any], allowed: Mapping[str, Any], prefix: str) -> None:
    """Every key of *spec* one of *allowed* (a nested table: a key's sub-table, or None),
    else an error naming it, with the nearest valid key."""
    for key in spec:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean '{prefix}{near[0]}'?" if near else (
                f"; valid keys: {', '.join(allowed)}")
            raise ProblemError(f"{prefix}{key}", f"unknown key{hint}")
        sub = allowed[key]
        if sub is not None:
            value = spec[key]
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise ProblemError(f"{prefix}{key}", f"expected a mapping with keys "
                                                     f"{', '.join(sub)}, but got {value!r}")
            check_keys(value, sub, f"{prefix}{key}.")


def section_of(spec: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A section of the spec (``init``, ``model``, ...), empty when absent."""
    return spec.get(name) or {}


def whole_number(value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
    """*value* as a whole number (``3``, ``3.0``, ``"3"``) within [*low*, *high*]; an
    integer is compared as an integer (10^400 is no float), and quoted as written."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProblemError(field, f"expected a whole number, but got {value!r}")
    written = describe(value)
    number: int | float
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(value.strip()) if isinstance(value, str) else value
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise ProblemError(field, f"expected a whole number, but got "
                                          f"{written}") from None
    if isinstance(number, float) and (not math.isfinite(number) or not number.is_integer()):
        raise ProblemError(field, f"expected a whole number, but got {written}")
    result = int(number)
    if low is not None and high is not None and not low <= result <= high:
        raise ProblemError(field, f"expected a whole number from {low} to {high}, "
                                  f"but got {written}")
    if low is not None and result < low:
        raise ProblemError(field, f"expected a whole number >= {low}, but got {written}")
    return result


def check_length(text: str, field: str, limit: int = defaults.MAX_TEXT, why: str = "") -> None:
    """A title or name of at most *limit* characters (``defaults.MAX_TEXT``; *why* says
    why another), and text: a byte that is no UTF-8 (from the command line of a terminal
    in another encoding, which Python keeps as a lone surrogate) cannot be written into
    any document."""
    if len(text) > limit:
        raise ProblemError(field, f"{len(text):,} characters are more than the limit of "
                                  f"{limit}{why}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProblemError(field, f"expected text in UTF-8, but character {exc.start + 1} is "
                                  f"an undecodable byte; check the terminal's encoding"
                           ) from None
    bad = _NOT_TEXT.search(text)
    if bad is not None:
        raise ProblemError(field, f"character {bad.start() + 1} is the control character "
                                  f"U+{ord(bad.group()):04X}, which no document (XML, "
                                  f"LaTeX, HTML) can hold; remove it")


# Characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage return;
# U+FFFE, U+FFFF), which no export could write.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def rounded_work_beyond(n: int, k: int, iterations: int, power: int = 1) -> str | None:
    """What is too much for a hand calculation in exact fractions (points x components x
    iterations above ``defaults.MAX_ROUNDED_WORK``; a probability raised to a *power*,
    the largest count or number of trials, above ``defaults.HAND_MAX_POWER``), said for
    an error; None if not."""
    if power > defaults.HAND_MAX_POWER:
        return (f"powers of up to {power:,} factors (the largest count or number of "
                f"trials), more than the {defaults.HAND_MAX_POWER:,} a hand calculation "
                f"writes out")
    if n * k * iterations <= defaults.MAX_ROUNDED_WORK:
        return None
    return (f"{n:,} points x {k} components x {iterations} iterations are more than the "
            f"limit of {defaults.MAX_ROUNDED_WORK:,}")


def distinct_names(value: Any, field: str, count: int, each: str) -> tuple[str, ...]:
    """*count* distinct names (a list, or one comma-separated text), one per *each*."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise ProblemError(field, f"expected a list of {count} names, but got {value!r}")
    if len(value) != count:
        raise ProblemError(field, f"expected {count} name{'s' if count != 1 else ''} (one "
                                  f"per {each}), but got {len(value)}")
    names = tuple(str(v) for v in value)
    for i, name in enumerate(names):
        check_length(name, f"{field}[{i + 1}]")
        if not name.strip():
            raise ProblemError(f"{field}[{i + 1}]", "expected a name, but got nothing")
    if len(set(names)) != len(names):
        raise ProblemError(field, f"expected distinct names, but got {list(names)}")
    return names


def component_names(value: Any, components: int) -> tuple[str, ...] | None:
    """``names``: one distinct name per component, or None."""
    return None if value is None else distinct_names(value, "names", components, "component")


def coordinate_names(value: Any, columns: list[str] | None, dim: int) -> tuple[str, ...] | None:
    """The coordinates' names: the spec's ``variables``, else the CSV columns' header
    (unless a name there is longer than a title may be: then none)."""
    if value is None:
        if columns is None or any(len(c) > defaults.MAX_TEXT for c in columns):
            return None
        return tuple(columns)
    return distinct_names(value, "variables", dim, "coordinate of the data")


def update_of(value: Any) -> tuple[str, ...]:
    """``model.update`` of a Gaussian mixture, in the lecture's order (``covariances`` is
    the variances' name for d >= 2)."""
    if value is None:
        return defaults.UPDATE
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        # d >= 2 calls the variances covariances: the same parameter.
        value = ["variances" if item == "covariances" else item for item in value]
    if not isinstance(value, (list, tuple)):
        raise ProblemError("model.update", f"expected a list drawn from "
                                           f"{', '.join(defaults.PARAMETERS)}, but got {value!r}")
    for item in value:
        if item not in defaults.PARAMETERS:
            near = difflib.get_close_matches(str(item), defaults.PARAMETERS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ProblemError("model.update", f"expected names from "
                                               f"{', '.join(defaults.PARAMETERS)}, "
                                               f"but got {item!r}{hint}")
    # Keep the lecture's order whatever order the user wrote.
    return tuple(p for p in defaults.PARAMETERS if p in value)


def choice_of(value: Any, field: str, choices: tuple[str, ...], default: str) -> str:
    """One of *choices* (the nearest one suggested), or *default* when absent."""
    if value is None:
        return default
    if value not in choices:
        near = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ProblemError(field, f"expected one of {', '.join(choices)}, "
                                  f"but got {value!r}{hint}")
    return str(value)


def _items(value: Any) -> Any:
    """A list written as one comma-separated text (``"1, 3"``) or as one whole number, as
    a list; anything else as it is (the caller says what it expected)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return value


def detail_of(value: Any) -> Detail:
    """``display.detail``: ``all``, ``none``, ``last``, ``auto`` (every iteration of a run
    of up to SHOW_ALL_UP_TO, else the first, counted as run) and iteration numbers."""
    if value is None:
        return Detail()
    value = _items(value)
    if not isinstance(value, (list, tuple)):
        raise ProblemError("display.detail", f"expected 'all', 'none', 'last', 'auto' or a "
                                             f"list of iteration numbers, but got {value!r}")
    words = {str(v).strip().lower() for v in value
             if isinstance(v, str) and not v.strip().isdigit()}
    if "all" in words:
        return Detail(frozenset(), all=True)
    if words == {"auto"} and len(value) == 1:
        return Detail(up_to=defaults.SHOW_ALL_UP_TO)
    if "auto" in words:
        raise ProblemError("display.detail", f"'auto' stands alone (every iteration of a run "
                                             f"of up to {defaults.SHOW_ALL_UP_TO}, else the "
                                             f"first), but got {value!r}")
    numbers = set()
    last = False
    for item in value:
        text = str(item).strip().lower()
        if text == "last":
            last = True
        elif text == "none":
            continue
        else:
            numbers.add(whole_number(item, "display.detail", low=1,
                                     high=defaults.MAX_ITERATIONS))
    return Detail(frozenset(numbers), last=last)


def highlight_of(value: Any, n_samples: int) -> str | tuple[int, ...]:
    """``display.highlight``: ``auto``, ``none`` or point numbers from 1 to *n_samples*."""
    if value is None or value == "auto":
        return "auto"
    if isinstance(value, str) and value.strip().lower() == "none":
        return ()
    value = _items(value)
    if not isinstance(value, (list, tuple)):
        raise ProblemError("display.highlight", f"expected 'auto' or a list of point numbers "
                                                f"(1 to {n_samples}), but got {value!r}")
    points = []
    for item in value:
        n = whole_number(item, "display.highlight", low=1, high=n_samples)
        if n not in points:
            points.append(n)
    return tuple(points)


def given_values(init: Mapping[str, Any], name: str, components: int) -> list[Fraction]:
    """``init.<name>``: one number per component, exactly as written."""
    field = f"init.{name}"
    if init.get(name) is None:
        raise ProblemError(field, f"missing; init_method 'given' needs {components} {name}")
    values = parse_fraction_list(init[name], field)
    if len(values) != components:
        raise ProblemError(field, f"expected {components} values (one per component), "
                                  f"but got {len(values)}")
    return values


def float_array(values: list[Any]) -> np.ndarray:
    """Numbers, rows or matrices (nested lists) as a read-only float array."""
    def floats(value: Any) -> Any:
        return [floats(v) for v in value] if isinstance(value, (list, tuple)) else float(value)

    if all(type(v) is float for v in values):  # the data, read as floats: no copy
        array = np.array(values, dtype=float)
    else:
        array = np.array(floats(values), dtype=float)
    array.setflags(write=False)
    return array


def entry_label(index: Any) -> str:
    """The 1-based entry of an array a field names: ``[3]``, ``[2][1]``."""
    return "".join(f"[{int(i) + 1}]" for i in index)


def check_within(array: np.ndarray, field: str, limit: float) -> None:
    """Every entry of *array* at most *limit* in absolute value, else an error naming the
    first entry beyond (``data[3]``, ``init.means[2][1]``)."""
    beyond = np.argwhere(np.abs(array) > limit)
    if len(beyond):
        index = entry_label(beyond[0])
        # (The value with all the digits a double holds: 10000000000005, not 1e+13.)
        raise ProblemError(f"{field}{index}", f"expected a number from {-limit:g} to "
                                              f"{limit:g}, but got "
                                              f"{array[tuple(beyond[0])]:.15g}; rescale the "
                                              f"data (thousands, millions) for larger numbers")


def keyed_value(spec: Mapping[str, Any], path: str, default: Any = None,
                registries: Mapping[str, tuple[str, ...]] | None = None) -> Any:
    """The value of a simple key of :data:`explainer.spec.KEYS`, checked as its row says
    (a whole number within its bounds, one of its choices, or a switch), or its default
    (*default* when the row's depends on the spec). A key whose choices are a plug-in
    registry's names (``model.family``) is read with *registries* given."""
    key = BY_PATH[path]
    if key.registry is not None:
        assert registries is not None, f"{path}: its choices are the {key.registry}'"
    node: Any = spec
    for part in path.split("."):
        node = (node or {}).get(part)
    fallback = key.default if default is None else default
    if node is None:
        return fallback
    choices = key.choices_in(registries or {})
    if choices is not None:
        return choice_of(node, path, choices, fallback)
    if key.switch:
        return flag_of(node, path)
    return whole_number(node, path, low=key.low, high=key.high)


def flag_of(value: Any, field: str) -> bool:
    """A switch: true/false, yes/no, on/off."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false",
                                                              "no", "off"):
        return value.strip().lower() in ("true", "yes", "on")
    raise ProblemError(field, f"expected true or false, but got {value!r}")


def number_rows(raw: list[Any], field: str, exact: bool = True) -> list[Any]:
    """Numbers, or rows of numbers all of one length d >= 2 (a row of one number is
    a number): Fractions, or with *exact* False floats."""
    parse = parse_fraction_list if exact else parse_number_list
    if not any(isinstance(v, (list, tuple)) for v in raw):
        return parse(raw, field)
    rows = []
    for i, row in enumerate(raw):
        where = f"{field}[{i + 1}]"
        if not isinstance(row, (list, tuple)):
            raise ProblemError(where, f"expected a row of numbers like {field}[1], "
                                      f"but got {row!r}")
        rows.append(parse(row, where))
        if len(rows[-1]) != len(rows[0]):
            raise ProblemError(where, f"expected {len(rows[0])} numbers like {field}[1] "
                                      f"(every row is one point in d = {len(rows[0])}), "
                                      f"but got {len(rows[-1])}")
        if not rows[-1]:
            raise ProblemError(where, "expected a row of numbers, but it is empty")
    return [row[0] for row in rows] if len(rows[0]) == 1 else rows


def text_rows(text: str) -> list[list[str]]:
    """Rows written on one line, as on the command line: "0,0; 4,4" (or "0 0; 4 4")."""
    return [row.replace(",", " ").split() for row in text.split(";") if row.strip()]


def nested_tuples(values: Any) -> Any:
    """Lists of Fractions as tuples (hashable, frozen)."""
    return tuple(nested_tuples(v) for v in values) if isinstance(values, list) else values
