"""The problem spec: read (YAML, JSON, CSV), validated once, frozen.

Everything downstream trusts a :class:`Problem`; all checks live here and
raise :class:`~explainer.errors.ProblemError` naming the field.
"""

from __future__ import annotations

import copy
import csv
import difflib
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import defaults
from .errors import ProblemError
from .numbers import fraction_text, parse_fraction_list, parse_number, parse_number_list

# The keys a spec may hold, by section; None marks a leaf.
SPEC_KEYS: dict[str, Any] = {
    "title": None,
    "data": None,
    "data_file": None,
    "column": None,
    "components": None,
    "names": None,
    "init": {"weights": None, "means": None, "variances": None},
    "init_method": None,
    "seed": None,
    "model": {"kernel": None, "update": None},
    "stop": {"iterations": None, "tol": None},
    "display": {"decimals": None, "max_rows": None, "detail": None, "highlight": None,
                "exact": None, "carry": None},
}


@dataclass(frozen=True)
class Detail:
    """Which iterations are shown in full: listed ones, all, and/or the last."""

    iterations: frozenset[int] = frozenset(defaults.DETAIL)
    all: bool = False
    last: bool = False

    def shows(self, index: int, last_index: int | None = None) -> bool:
        return self.all or index in self.iterations or (self.last and index == last_index)

    def to_spec(self) -> Any:
        if self.all:
            return "all"
        items: list[Any] = sorted(self.iterations)
        if self.last:
            items.append("last")
        return items


@dataclass(frozen=True)
class ExactInputs:
    """The numbers of a problem as the user wrote them, exactly (``0.1`` is 1/10, ``1/3``
    is 1/3), for exact arithmetic; the starting parameters only when they are given."""

    data: tuple[Fraction, ...]
    weights: tuple[Fraction, ...] | None = None
    means: tuple[Fraction, ...] | None = None
    variances: tuple[Fraction, ...] | None = None


@dataclass(frozen=True)
class Problem:
    """A validated EM problem (1-D Gaussian mixture).

    Attributes
    ----------
    data : ndarray of shape (n_samples,)
        The points x_n, read-only.
    weights, means, variances : ndarray of shape (n_components,) or None
        The starting parameters when ``init_method == "given"``.
    exact : bool
        Also carry the iterations in exact arithmetic (SymPy), shown beside the decimals;
        ``exact_inputs`` then holds the numbers as written.
    carry : ``full`` or ``rounded``
        ``rounded``: every intermediate is rounded to the displayed decimals before it
        is used, as in a hand calculation.
    """

    data: np.ndarray
    components: int
    title: str | None = None
    names: tuple[str, ...] | None = None
    weights: np.ndarray | None = None
    means: np.ndarray | None = None
    variances: np.ndarray | None = None
    init_method: str = defaults.INIT_METHOD
    seed: int = defaults.SEED
    kernel: str = defaults.KERNEL
    update: tuple[str, ...] = defaults.UPDATE
    iterations: int = defaults.ITERATIONS
    tol: float | None = defaults.TOL
    decimals: int = defaults.DECIMALS
    max_rows: int = defaults.MAX_ROWS
    detail: Detail = Detail()
    highlight: str | tuple[int, ...] = defaults.HIGHLIGHT
    exact: bool = False
    carry: str = defaults.CARRY
    exact_inputs: ExactInputs | None = None

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])

    def component_label(self, k: int) -> str:
        """The name of component k (0-based), or its number."""
        return self.names[k] if self.names else str(k + 1)

    def to_spec(self) -> dict[str, Any]:
        """The validated spec as plain data (data inlined), for the JSON trace.

        With exact arithmetic the numbers are written as exact texts (``"1/3"``), so
        that the spec reads back to the same exact problem."""
        exact = self.exact_inputs

        def values(name: str) -> list[Any]:
            if exact is not None:
                return [fraction_text(v) for v in getattr(exact, name)]
            return getattr(self, name).tolist()

        spec: dict[str, Any] = {"title": self.title, "data": values("data"),
                                "components": self.components}
        if self.names:
            spec["names"] = list(self.names)
        if self.init_method == "given":
            assert self.weights is not None and self.means is not None
            assert self.variances is not None
            spec["init"] = {"weights": values("weights"), "means": values("means"),
                            "variances": values("variances")}
        spec["init_method"] = self.init_method
        spec["seed"] = self.seed
        spec["model"] = {"kernel": self.kernel, "update": list(self.update)}
        spec["stop"] = {"iterations": self.iterations, "tol": self.tol}
        spec["display"] = {
            "decimals": self.decimals, "max_rows": self.max_rows,
            "detail": self.detail.to_spec(),
            "highlight": self.highlight if isinstance(self.highlight, str)
            else list(self.highlight),
            "exact": self.exact, "carry": self.carry,
        }
        return spec


# --------------------------------------------------------------------------- reading

def read_text_file(path: str | Path, field: str) -> str:
    """The text of a UTF-8 file, or a ProblemError naming *field* (missing, unreadable)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemError(field, f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError(field, f"cannot read {path}: {exc}") from None


def load_spec_file(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Read a YAML or JSON spec; return the mapping and the folder it lives in."""
    path = Path(path)
    text = read_text_file(path, "spec")
    if path.suffix.lower() == ".json":
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProblemError(
                "spec", f"malformed JSON in {path} at line {exc.lineno}: {exc.msg}"
            ) from None
    else:
        import yaml

        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ProblemError("spec", f"malformed YAML in {path}{where}: {problem}") from None
    if spec is None:
        raise ProblemError("spec", f"{path} is empty; expected a mapping of spec keys")
    if not isinstance(spec, dict):
        raise ProblemError("spec", f"expected a mapping of spec keys in {path}, "
                                   f"but got {type(spec).__name__}")
    return spec, path.resolve().parent


def read_csv_column(path: Path, column: str | None, field: str = "data_file",
                    exact: bool = False) -> list[Any]:
    """Read one numeric column of a CSV file (header row optional): floats, or with
    *exact* the Fractions the cells spell."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise ProblemError(field, f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ProblemError(field, f"cannot read {path}: {exc}") from None
    if not rows:
        raise ProblemError(field, f"{path} holds no rows")
    header: list[str] | None = None
    try:
        for cell in rows[0]:
            float(cell)
    except ValueError:
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    width = len(header) if header is not None else len(rows[0]) if rows else 0
    if column is not None:
        if header is None:
            raise ProblemError("column", f"{path} has no header row, so column "
                                         f"{column!r} cannot be found")
        if column not in header:
            raise ProblemError("column", f"expected one of {', '.join(map(repr, header))} "
                                         f"(the header of {path.name}), but got {column!r}")
        index = header.index(column)
    elif width == 1:
        index = 0
    else:
        names = ", ".join(map(repr, header)) if header else f"{width} unnamed columns"
        raise ProblemError("column", f"{path.name} has several columns ({names}); "
                                     f"name one with column")
    values = []
    for line, row in enumerate(rows, start=2 if header is not None else 1):
        if index >= len(row) or not row[index].strip():
            raise ProblemError(field, f"{path.name} line {line}: missing value")
        cell, where = row[index].strip(), f"{field} ({path.name} line {line})"
        values.append(parse_fraction_list([cell], where)[0] if exact
                      else parse_number(cell, where))
    return values


# --------------------------------------------------------------------------- validation

def _check_keys(spec: Mapping[str, Any], allowed: Mapping[str, Any], prefix: str) -> None:
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
            _check_keys(value, sub, f"{prefix}{key}.")


def _section(spec: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return spec.get(name) or {}


def _integer(value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProblemError(field, f"expected a whole number, but got {value!r}")
    try:
        number = float(value) if not isinstance(value, int) else value
    except ValueError:
        raise ProblemError(field, f"expected a whole number, but got {value!r}") from None
    if not math.isfinite(number) or number != int(number):
        raise ProblemError(field, f"expected a whole number, but got {value!r}")
    result = int(number)
    if low is not None and high is not None and not low <= result <= high:
        raise ProblemError(field, f"expected a whole number from {low} to {high}, "
                                  f"but got {result}")
    if low is not None and result < low:
        raise ProblemError(field, f"expected a whole number >= {low}, but got {result}")
    return result


def _names(value: Any, components: int) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise ProblemError("names", f"expected a list of {components} names, but got {value!r}")
    if len(value) != components:
        raise ProblemError("names", f"expected {components} names (one per component), "
                                    f"but got {len(value)}")
    names = tuple(str(v) for v in value)
    if len(set(names)) != len(names):
        raise ProblemError("names", f"expected distinct names, but got {list(names)}")
    return names


def _update(value: Any) -> tuple[str, ...]:
    if value is None:
        return defaults.UPDATE
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
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


def _choice(value: Any, field: str, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        near = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ProblemError(field, f"expected one of {', '.join(choices)}, "
                                  f"but got {value!r}{hint}")
    return str(value)


def _detail(value: Any) -> Detail:
    if value is None:
        return Detail()
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ProblemError("display.detail", f"expected 'all', 'none', 'last' or a list of "
                                             f"iteration numbers, but got {value!r}")
    words = {str(v).lower() for v in value if isinstance(v, str) and not v.strip().isdigit()}
    if "all" in words:
        return Detail(frozenset(), all=True)
    numbers = set()
    last = False
    for item in value:
        text = str(item).strip().lower()
        if text == "last":
            last = True
        elif text == "none":
            continue
        else:
            numbers.add(_integer(item, "display.detail", low=1))
    return Detail(frozenset(numbers), last=last)


def _highlight(value: Any, n_samples: int) -> str | tuple[int, ...]:
    if value is None or value == "auto":
        return "auto"
    if isinstance(value, str):
        if value.strip().lower() == "none":
            return ()
        value = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ProblemError("display.highlight", f"expected 'auto' or a list of point numbers "
                                                f"(1 to {n_samples}), but got {value!r}")
    points = []
    for item in value:
        n = _integer(item, "display.highlight", low=1, high=n_samples)
        if n not in points:
            points.append(n)
    return tuple(points)


def _parameter(init: Mapping[str, Any], name: str, components: int) -> list[Fraction]:
    field = f"init.{name}"
    if init.get(name) is None:
        raise ProblemError(field, f"missing; init_method 'given' needs {components} {name}")
    values = parse_fraction_list(init[name], field)
    if len(values) != components:
        raise ProblemError(field, f"expected {components} values (one per component), "
                                  f"but got {len(values)}")
    return values


def _floats(values: list[Any]) -> np.ndarray:
    array = np.array([float(v) for v in values], dtype=float)
    array.setflags(write=False)
    return array


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false",
                                                              "no", "off"):
        return value.strip().lower() in ("true", "yes", "on")
    raise ProblemError(field, f"expected true or false, but got {value!r}")


def validate(spec: Mapping[str, Any], base_dir: Path | None = None) -> Problem:
    """Check a spec mapping and return the frozen :class:`Problem`.

    *base_dir* is where a relative ``data_file`` is looked up (the spec's folder).
    """
    if not isinstance(spec, Mapping):
        raise ProblemError("spec", f"expected a mapping of spec keys, but got {spec!r}")
    _check_keys(spec, SPEC_KEYS, "")
    init = _section(spec, "init")
    model = _section(spec, "model")
    stop = _section(spec, "stop")
    display = _section(spec, "display")

    exact = _flag(display.get("exact"), "display.exact")
    carry = _choice(display.get("carry"), "display.carry", defaults.CARRIES, defaults.CARRY)

    # Data.
    if spec.get("data") is not None and spec.get("data_file") is not None:
        raise ProblemError("data", "give either data or data_file, not both")
    if spec.get("data_file") is not None:
        path = Path(str(spec["data_file"]))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        column = spec.get("column")
        values = read_csv_column(path, None if column is None else str(column), exact=exact)
    elif spec.get("data") is not None:
        raw = spec["data"]
        if isinstance(raw, str):
            raw = [part for part in raw.split(",") if part.strip()]
        if not isinstance(raw, (list, tuple)):
            raise ProblemError("data", f"expected a list of numbers, but got {raw!r}")
        if any(isinstance(v, (list, tuple)) for v in raw):
            raise ProblemError("data", "expected a list of numbers (one-dimensional data); "
                                       "rows of numbers (d >= 2) are not supported yet")
        values = parse_fraction_list(raw, "data")
        if not exact:
            values = [float(v) for v in values]
    else:
        raise ProblemError("data", "missing; give data (a list of numbers) or data_file")
    if not values:
        raise ProblemError("data", "expected at least one number, but the data is empty")
    data = _floats(values)

    # Components.
    init_method = _choice(spec.get("init_method"), "init_method", defaults.INIT_METHODS,
                          "given" if init else defaults.INIT_METHOD)
    if spec.get("components") is not None:
        components = _integer(spec["components"], "components", low=1)
    elif init.get("means") is not None:
        components = len(parse_number_list(init["means"], "init.means"))
        if components < 1:
            raise ProblemError("init.means", "expected at least one mean")
    else:
        raise ProblemError("components", "missing; expected the number of components K >= 1")

    iterations = (defaults.ITERATIONS if stop.get("iterations") is None
                  else _integer(stop["iterations"], "stop.iterations", low=0))
    if components > len(data) and (iterations > 0 or init_method != "given"):
        raise ProblemError("components", f"expected at most {len(data)} components (one per "
                                         f"data point) when an M-step runs, but got {components}")

    weights = means = variances = None
    exact_given: dict[str, tuple[Fraction, ...]] = {}
    if init_method == "given":
        if not init:
            raise ProblemError("init", "missing; give init.weights, init.means and "
                                       "init.variances, or choose an init_method")
        given = {name: _parameter(init, name, components) for name in defaults.PARAMETERS}
        if exact:
            exact_given = {name: tuple(v) for name, v in given.items()}
        weights, means, variances = (_floats(given[name]) for name in defaults.PARAMETERS)
        for k, w in enumerate(weights):
            if w < 0:
                raise ProblemError(f"init.weights[{k + 1}]",
                                   f"expected a weight >= 0, but got {w:g}")
        if abs(weights.sum() - 1.0) > defaults.WEIGHT_SUM_TOL:
            raise ProblemError("init.weights", f"expected weights summing to 1 (within "
                                               f"{defaults.WEIGHT_SUM_TOL:g}), but they sum "
                                               f"to {weights.sum():.10g}")
        for k, v in enumerate(variances):
            if v <= 0:
                raise ProblemError(f"init.variances[{k + 1}]",
                                   f"expected a variance > 0, but got {v:g}")
    elif init:
        raise ProblemError("init", f"init values are used only with init_method 'given', "
                                   f"but init_method is {init_method!r}")
    elif init_method in ("random_points", "kmeans") and len(np.unique(data)) < components:
        raise ProblemError("init_method", f"{init_method} needs at least {components} distinct "
                                          f"data points, but the data has "
                                          f"{len(np.unique(data))}")

    seed = defaults.SEED if spec.get("seed") is None else _integer(spec["seed"], "seed", low=0)
    kernel = _choice(model.get("kernel"), "model.kernel", defaults.KERNELS, defaults.KERNEL)
    update = _update(model.get("update"))
    if kernel == "proportional":
        # Dropping 1/sqrt(2 pi sigma^2) is only harmless when it is one shared constant.
        if "variances" in update:
            raise ProblemError("model.kernel", "the proportional kernel drops the normalising "
                                               "constant 1/sqrt(2 pi sigma^2), which is only valid "
                                               "while the variances stay fixed; remove "
                                               "'variances' from model.update or use 'normalized'")
        if variances is not None and not np.all(variances == variances[0]):
            raise ProblemError("model.kernel", "the proportional kernel needs equal variances "
                                               "(the dropped constant must cancel in r_nk), but "
                                               f"got {variances.tolist()}")
        if init_method != "given":
            raise ProblemError("model.kernel", "the proportional kernel needs init_method "
                                               "'given' with equal variances")

    tol = None
    if stop.get("tol") is not None:
        tol = parse_number(stop["tol"], "stop.tol")
        if tol < 0:
            raise ProblemError("stop.tol", f"expected a tolerance >= 0, but got {tol:g}")

    low, high = defaults.DECIMALS_RANGE
    decimals = (defaults.DECIMALS if display.get("decimals") is None
                else _integer(display["decimals"], "display.decimals", low=low, high=high))
    max_rows = (defaults.MAX_ROWS if display.get("max_rows") is None
                else _integer(display["max_rows"], "display.max_rows", low=2))

    if exact and carry == "rounded":
        raise ProblemError("display.carry", "exact values and a rounded carry exclude each "
                                            "other; choose display.exact or carry: rounded")
    if exact and init_method == "random_responsibilities":
        raise ProblemError("display.exact", "random_responsibilities draws floating-point "
                                            "responsibilities, which have no exact form; use "
                                            "init_method given, random_points or kmeans")

    title = spec.get("title")
    if title is not None and not isinstance(title, (str, int, float)):
        raise ProblemError("title", f"expected text, but got {title!r}")

    return Problem(
        data=data, components=components,
        title=None if title is None else str(title),
        names=_names(spec.get("names"), components),
        weights=weights, means=means, variances=variances,
        init_method=init_method, seed=seed, kernel=kernel, update=update,
        iterations=iterations, tol=tol, decimals=decimals, max_rows=max_rows,
        detail=_detail(display.get("detail")),
        highlight=_highlight(display.get("highlight"), len(data)),
        exact=exact, carry=carry,
        exact_inputs=ExactInputs(tuple(values), **exact_given) if exact else None,
    )


# Keyword (CLI flag) -> spec key, for options given beside or instead of a spec file.
OVERRIDES = {
    "title": "title", "k": "components", "names": "names",
    "weights": "init.weights", "means": "init.means", "variances": "init.variances",
    "init_method": "init_method", "seed": "seed", "update": "model.update",
    "kernel": "model.kernel", "iterations": "stop.iterations", "tol": "stop.tol",
    "decimals": "display.decimals", "detail": "display.detail",
    "max_rows": "display.max_rows", "highlight": "display.highlight",
    "exact": "display.exact", "carry": "display.carry",
}
# Every option problem_from takes.
OPTIONS = (*OVERRIDES, "data", "data_file", "column")


def _set(spec: dict[str, Any], path: str, value: Any) -> None:
    *sections, key = path.split(".")
    node = spec
    for name in sections:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[key] = value


def problem_from(spec: str | Path | Mapping[str, Any] | None = None, **options: Any) -> Problem:
    """A validated problem from a spec file or mapping, overlaid with *options*.

    *options* are the command line's: ``data``, ``data_file``, ``column`` and the
    keys of :data:`OVERRIDES` (``k``, ``weights``, ``means``, ``variances``,
    ``iterations``, ...). ``None`` means "not given".
    """
    unknown = set(options) - set(OPTIONS)
    if unknown:
        name = sorted(unknown)[0]
        near = difflib.get_close_matches(name, OPTIONS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ProblemError(name, f"unknown option{hint}")
    if isinstance(spec, (str, Path)):
        data, base = load_spec_file(spec)
    elif spec is None:
        if options.get("data") is None and options.get("data_file") is None:
            raise ProblemError("spec", "give a SPEC file, or the problem with --data or "
                                       "--data-file (see 'em-explainer solve --help')")
        data, base = {}, Path.cwd()
    elif isinstance(spec, Mapping):
        data, base = copy.deepcopy(dict(spec)), Path.cwd()
    else:
        raise ProblemError("spec", f"expected a spec file name or a mapping, but got {spec!r}")
    if options.get("data") is not None:
        data.pop("data_file", None)
        data.pop("column", None)
        data["data"] = options["data"]
    if options.get("data_file") is not None:
        data.pop("data", None)
        data["data_file"] = str(Path(options["data_file"]).resolve())
    if options.get("column") is not None:
        data["column"] = options["column"]
    for option, key in OVERRIDES.items():
        value = options.get(option)
        if value is not None:
            _set(data, key, value.strip() if isinstance(value, str) else value)
    return validate(data, base)


def load_problem(path: str | Path) -> Problem:
    """Read and validate a spec file."""
    spec, base = load_spec_file(path)
    return validate(spec, base)
