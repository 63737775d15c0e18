"""An exam template read and checked, and a variant's spec drawn from it: each generator
(``range``, ``choice``, the data's ``count``) drawn from the variant's own random
stream."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..errors import ProblemError
from ..families import FAMILIES, MODELS
from ..families.gaussian import EXAM_D3_REFUSAL
from ..fields import check_length, flag_of, whole_number
from ..inputs import load_spec_file

MAX_VARIANTS = 10_000  # variants of one exam (-n)
# What a variant's number adds to its title, at the most.
_VARIANT_SUFFIX = f": variant {MAX_VARIANTS}"

EXAM_KEYS = ("ask", "allow_tiny", "title")
MAX_DRAWS = 500  # draws of a variant (or of distinct rows) before giving up
MAX_EXAM_POINTS = 1_000  # points of a drawn data set (an exam is worked by hand)
MAX_GRID = 10 ** 15  # values of a generator's grid, (high - low) x 10^decimals + 1


def _grid_value(spec: dict[str, Any], rng: np.random.Generator, field: str) -> float:
    lo, hi = _bounds(spec, field)
    decimals, steps = _grid(spec, field, lo, hi)
    return round(lo + int(rng.integers(0, steps)) / 10 ** decimals, decimals)


def _grid(spec: dict[str, Any], field: str, lo: float, hi: float) -> tuple[int, int]:
    """A generator's decimals (0 to 12) and the number of values on its grid."""
    low, high = defaults.DECIMALS_RANGE
    decimals = whole_number(spec.get("decimals", 0), f"{field}.decimals", low=low, high=high)
    steps = int(round((hi - lo) * 10 ** decimals)) + 1
    if steps > MAX_GRID:
        raise ProblemError(field, f"a grid from {lo:g} to {hi:g} in steps of 10^-{decimals} "
                                  f"has more than {MAX_GRID:.0e} values; use fewer decimals")
    return decimals, steps


def _bounds(spec: dict[str, Any], field: str) -> tuple[float, float]:
    bounds = spec.get("range")
    if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            or bounds[0] > bounds[1]
            or max(abs(b) for b in bounds) > defaults.MAX_ABS_VALUE):
        raise ProblemError(field, f"expected range: [low, high] with low <= high, at most "
                                  f"{defaults.MAX_ABS_VALUE:g} in absolute value, but got "
                                  f"{bounds!r}")
    return float(bounds[0]), float(bounds[1])


def _is_generator(value: Any) -> bool:
    return isinstance(value, dict) and ("range" in value or "choice" in value)


def _draw(spec: dict[str, Any], rng: np.random.Generator, field: str) -> Any:
    """One value of a scalar generator."""
    if "choice" in spec:
        items = spec["choice"]
        if not isinstance(items, list) or not items:
            raise ProblemError(field, f"expected choice: a non-empty list, but got {items!r}")
        return copy.deepcopy(items[int(rng.integers(0, len(items)))])
    value = _grid_value(spec, rng, field)
    return int(value) if float(value).is_integer() and not spec.get("decimals") else value


def _draw_components(spec: dict[str, Any], k: int, rng: np.random.Generator, field: str,
                     distinct: bool) -> list[Any]:
    """K values of a per-component generator."""
    if "choice" in spec and spec["choice"] and isinstance(spec["choice"][0], list):
        return _draw(spec, rng, field)
    if spec.get("same"):
        return [_draw(spec, rng, field)] * k
    if not distinct:
        return [_draw(spec, rng, field) for _ in range(k)]
    if "choice" in spec:
        items = list(dict.fromkeys(spec["choice"]))
        if len(items) < k:
            raise ProblemError(field, f"needs {k} distinct choices, but has {len(items)}")
        picked = rng.choice(len(items), size=k, replace=False)
        return sorted(items[i] for i in picked)
    lo, hi = _bounds(spec, field)
    decimals, steps = _grid(spec, field, lo, hi)
    if steps < k:
        raise ProblemError(field, f"needs {k} distinct values, but its grid has {steps}")
    picked = np.sort(rng.choice(steps, size=k, replace=False))
    values = [round(lo + int(i) / 10 ** decimals, decimals) for i in picked]
    return [int(v) if not decimals else v for v in values]


def _draw_data(spec: Any, rng: np.random.Generator) -> list[Any]:
    """The points of a data generator: *count* distinct values of its grid or choices,
    sorted; with ``repeat: true`` drawn independently (counts that may repeat, categories
    from ``choice``), in the order drawn; with ``dims: d`` rows of d values drawn
    independently (a Bernoulli mixture's 0/1 answers: ``range: [0, 1]``)."""
    if not isinstance(spec, dict) or "count" in spec and "range" not in spec \
            and "choice" not in spec:
        return spec
    count = spec.get("count", 5)
    n = _draw(count, rng, "data.count") if _is_generator(count) else count
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_EXAM_POINTS:
        raise ProblemError("data.count", f"expected a whole number of points from 1 to "
                                         f"{MAX_EXAM_POINTS}, but got {n!r}")
    generator = {k: v for k, v in spec.items() if k not in ("count", "dims", "repeat")}
    if spec.get("dims") is not None:
        dims = whole_number(spec["dims"], "data.dims", low=1, high=defaults.MAX_DIMENSIONS)
        return [[_draw(generator, rng, "data") for _ in range(dims)] for _ in range(n)]
    if flag_of(spec.get("repeat"), "data.repeat"):
        return [_draw(generator, rng, "data") for _ in range(n)]
    return sorted(_draw_components(generator, n, rng, "data", distinct=True))


def _matrices(spec: dict[str, Any]) -> bool:
    """Whether a covariances generator's choices are single matrices (one per
    component, or one for all with ``same: true``), not lists of K matrices."""
    items = spec.get("choice")
    return (isinstance(items, list) and bool(items) and isinstance(items[0], list)
            and bool(items[0]) and isinstance(items[0][0], list) and bool(items[0][0])
            and not isinstance(items[0][0][0], list))


def _draw_rows(spec: dict[str, Any], k: int, rng: np.random.Generator,
               field: str) -> list[list[Any]]:
    """K distinct rows of ``dims`` values of a generator's grid, sorted (means in the
    plane: ``{range: [0, 8], decimals: 0, dims: 2}``)."""
    dims = whole_number(spec["dims"], f"{field}.dims", low=1, high=defaults.MAX_DIMENSIONS)
    generator = {key: v for key, v in spec.items() if key != "dims"}
    for _ in range(MAX_DRAWS):
        rows = sorted([_draw(generator, rng, field) for _ in range(dims)] for _ in range(k))
        if all(a != b for a, b in zip(rows, rows[1:])):
            return rows
    raise ProblemError(field, f"needs {k} distinct rows, but its grid gave the same again")


def draw_spec(template: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One concrete spec from *template* (its ``exam`` section removed)."""
    spec = {key: value for key, value in template.items() if key != "exam"}
    spec["data"] = _draw_data(spec.get("data"), rng)
    for key in ("components",):
        if _is_generator(spec.get(key)):
            spec[key] = _draw(spec[key], rng, key)
    for section in ("stop", "display", "model"):
        part = dict(spec.get(section) or {})
        for key, value in part.items():
            if _is_generator(value):
                part[key] = _draw(value, rng, f"{section}.{key}")
        if part:
            spec[section] = part
    init = dict(spec.get("init") or {})
    k = spec.get("components")
    # (Another family's p or rates are drawn distinct and sorted, as the means.)
    for name in ("weights", "means", "variances", "covariances", "p", "rates", "probs"):
        value = init.get(name)
        if _is_generator(value):
            if not isinstance(k, int):
                raise ProblemError("components", "a generated init needs components: K")
            if name == "covariances" and _matrices(value):  # a matrix per component
                init[name] = ([_draw(value, rng, f"init.{name}")] * k if value.get("same")
                              else [_draw(value, rng, f"init.{name}") for _ in range(k)])
            elif value.get("dims") is not None:  # K distinct rows (means in the plane)
                init[name] = _draw_rows(value, k, rng, f"init.{name}")
            else:
                init[name] = _draw_components(value, k, rng, f"init.{name}",
                                              distinct=name in ("means", "p", "rates"))
    if init:
        spec["init"] = init
    return spec


def default_ask(family: Any) -> tuple[str, ...]:
    """What an exam asks when its template does not say: r, N, the weights and the
    means, or another family's parameter."""
    return ("r", "N", "pi", FAMILIES[family].symbol if family in FAMILIES else "mu")


def load_template(path: str | Path) -> dict[str, Any]:
    """An exam template, its ``exam`` section checked (the rest is checked per draw)."""
    template, _ = load_spec_file(path)
    exam = template.get("exam") or {}
    if not isinstance(exam, dict):
        raise ProblemError("exam", f"expected a mapping with keys {', '.join(EXAM_KEYS)}")
    for key in exam:
        if key not in EXAM_KEYS:
            raise ProblemError(f"exam.{key}", f"unknown key; valid keys: {', '.join(EXAM_KEYS)}")
    model = template.get("model") if isinstance(template.get("model"), dict) else {}
    family = model.get("family")
    family = family if family in FAMILIES else None
    data = template.get("data")
    init = template.get("init") if isinstance(template.get("init"), dict) else {}
    plane = family is None and (isinstance(data, list) and any(isinstance(v, (list, tuple))
                                                               for v in data)
                                or isinstance(data, dict) and data.get("dims") is not None
                                or template.get("columns") is not None
                                or "covariances" in init)
    if plane and not (isinstance(data, dict) and data.get("dims") == 2
                      or isinstance(data, list) and all(isinstance(v, (list, tuple))
                                                        and len(v) == 2 for v in data)):
        raise ProblemError("data", EXAM_D3_REFUSAL)
    allowed = MODELS[family or defaults.FAMILY].kinds(2 if plane else 1)
    kinds = exam.get("ask", list(default_ask(family)))
    if not isinstance(kinds, list) or not kinds or any(k not in allowed for k in kinds):
        raise ProblemError("exam.ask", f"expected a list drawn from {', '.join(allowed)}, "
                                       f"but got {kinds!r}")
    flag_of(exam.get("allow_tiny"), "exam.allow_tiny")
    for field, title in (("exam.title", exam.get("title")), ("title", template.get("title"))):
        if title is not None and (not isinstance(title, (str, int, float))
                                  or isinstance(title, bool)):
            raise ProblemError(field, f"expected text, but got {title!r}")
        if title is not None:  # (each variant's title is "<title>: variant <number>")
            check_length(str(title), field, defaults.MAX_TEXT - len(_VARIANT_SUFFIX),
                         f" for an exam's title (each variant's adds {_VARIANT_SUFFIX!r})")
    names = (("weights", "means", "covariances") if plane else ("weights", "means", "variances")
             ) if family is None else ("weights", FAMILIES[family].parameter)
    if not isinstance(template.get("init"), dict) or any(init.get(name) is None
                                                         for name in names):
        raise ProblemError("init", f"an exam gives its starting values: "
                                   f"{', '.join('init.' + n for n in names)}, drawn or fixed")
    if template.get("data_file") is not None:
        raise ProblemError("data_file", "an exam draws its data: give data as a generator "
                                        "({count: ..., range: [low, high], decimals: 0})")
    return template
