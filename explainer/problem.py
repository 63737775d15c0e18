"""The problem spec: read (YAML, JSON, CSV), validated once, frozen.

Everything downstream trusts a :class:`Problem`; all checks live here and
raise :class:`~explainer.errors.ProblemError` naming the field.
"""

from __future__ import annotations

import copy
import csv
import difflib
import io
import math
import re
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import defaults
from .errors import ProblemError
from .inputs import load_json, load_yaml, read_text
from .numbers import (fraction_text, parse_fraction_list, parse_number, parse_number_list,
                      MAX_NUMBER_TEXT, plain_float)
from .spec import BY_PATH, KEYS, OPTIONS, OVERRIDES, SPEC_KEYS, Key


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

    data: tuple[Any, ...]  # Fractions; for d >= 2 rows (tuples) of Fractions
    weights: tuple[Fraction, ...] | None = None
    means: tuple[Any, ...] | None = None  # d >= 2: rows
    variances: tuple[Any, ...] | None = None  # d >= 2: covariance matrices (nested tuples)
    # Other families' parameter (binomial, Bernoulli: p; Poisson: rates; categorical: probs).
    p: tuple[Any, ...] | None = None
    rates: tuple[Any, ...] | None = None
    probs: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Problem:
    """A validated EM problem: a Gaussian mixture in one dimension or in d >= 2.

    Attributes
    ----------
    data : ndarray of shape (n_samples,) for d = 1, (n_samples, d) for d >= 2
        The points x_n, read-only.
    weights, means, variances : the starting parameters when ``init_method == "given"``
        (else None): weights of shape (n_components,); means (n_components,) or
        (n_components, d); variances (n_components,) or, for d >= 2, the covariance
        matrices (n_components, d, d) (also called :attr:`covariances`).
    covariance_type : ``full``, ``diag``, ``spherical`` or ``tied`` (d >= 2; see
        engine.COVARIANCE_UPDATES); ``full`` for d = 1, where all four are the same.
    exact : bool
        Also carry the iterations in exact arithmetic (SymPy), shown beside the decimals;
        ``exact_inputs`` then holds the numbers as written.
    carry : ``full`` or ``rounded``
        ``rounded``: every intermediate is rounded to the displayed decimals before it
        is used, as in a hand calculation.
    variables : the names of the coordinates (one per dimension), from the spec's
        ``variables`` or the header of the CSV columns the data came from; None when
        unnamed. They label the figures' axes and the setup's data.
    paper : ``a4`` or ``letter``, the PDF's paper.
    family : ``gaussian``, or a family of :mod:`explainer.families` (binomial,
        bernoulli, poisson, categorical); then ``p``, ``rates`` or ``probs`` is its
        starting parameter (given), ``trials`` each binomial point's number of trials,
        ``categories`` a categorical problem's categories (``data`` holds their
        indices), and means and variances are None.
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
    covariance_type: str = defaults.COVARIANCE_TYPE
    variables: tuple[str, ...] | None = None
    paper: str = defaults.PAPER
    family: str = defaults.FAMILY
    trials: np.ndarray | None = None
    categories: tuple[str, ...] | None = None
    p: np.ndarray | None = None
    rates: np.ndarray | None = None
    probs: np.ndarray | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameters of the problem's mixture, the weights first."""
        if self.family == "gaussian":
            return defaults.PARAMETERS
        from .families import FAMILIES

        return ("weights", FAMILIES[self.family].parameter)

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])

    @property
    def dim(self) -> int:
        """d, the dimension of the points."""
        return 1 if self.data.ndim == 1 else int(self.data.shape[1])

    @property
    def covariances(self) -> np.ndarray | None:
        """The starting covariance matrices (d >= 2): the same array as ``variances``."""
        return self.variances

    def component_label(self, k: int) -> str:
        """The name of component k (0-based), or its number."""
        return self.names[k] if self.names else str(k + 1)

    @property
    def variance_key(self) -> str:
        """What the spec and the JSON trace call the variances: ``variances`` (d = 1) or
        ``covariances`` (d >= 2)."""
        return "variances" if self.dim == 1 else "covariances"

    def to_spec(self) -> dict[str, Any]:
        """The validated spec as plain data (data inlined), for the JSON trace: the keys
        of :data:`explainer.spec.KEYS` in their order, those that apply.

        With exact arithmetic the numbers are written as exact texts (``"1/3"``), so
        that the spec reads back to the same exact problem."""
        spec: dict[str, Any] = {}
        for key in KEYS:
            value = _DUMPS.get(key.path, _attribute)(self, key)
            if value is not _LEFT_OUT:
                _set(spec, key.path, value)
        return spec

    def _numbers(self, name: str) -> Any:
        """The data or a starting parameter as written: exact texts, or floats."""
        if self.exact_inputs is not None:
            return _texts_of(getattr(self.exact_inputs, name))
        return getattr(self, name).tolist()


_LEFT_OUT = object()  # a key to_spec does not write


def _texts_of(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_texts_of(v) for v in value]
    return fraction_text(value)


def _attribute(problem: Problem, key: Key) -> Any:
    """A key's value: the attribute of its last name, as plain data."""
    value = getattr(problem, key.path.rsplit(".", 1)[-1])
    if isinstance(value, Detail):
        return value.to_spec()
    return list(value) if isinstance(value, tuple) else value


def _starting(name: str, dims: str = "any") -> Any:
    """A starting parameter's dump: given ones only; variances for d = 1 (*dims* "1"),
    covariances for d >= 2 ("d")."""
    def dump(problem: Problem, key: Key) -> Any:
        if problem.init_method != "given" or getattr(problem, name) is None or (
                dims == "1" and problem.dim != 1) or (dims == "d" and problem.dim == 1):
            return _LEFT_OUT
        return problem._numbers(name)
    return dump


def _family_data(problem: Problem, key: Key) -> Any:
    """The data as a spec writes it: binomial successes (rows [successes, trials] when
    the trials differ), categorical data by their categories' names."""
    if problem.family == "gaussian":
        return problem._numbers("data")
    if problem.family == "categorical":
        assert problem.categories is not None
        return [problem.categories[int(v)] for v in problem.data]
    if problem.family == "binomial" and problem.trials is not None \
            and not np.all(problem.trials == problem.trials[0]):
        return np.stack([problem.data, problem.trials], axis=1).astype(int).tolist()
    return problem.data.astype(int).tolist()


def _trials(problem: Problem, key: Key) -> Any:
    if problem.trials is None or not np.all(problem.trials == problem.trials[0]):
        return _LEFT_OUT
    return int(problem.trials[0])


def _gaussian_only(problem: Problem, key: Key) -> Any:
    return _attribute(problem, key) if problem.family == "gaussian" else _LEFT_OUT


_DUMPS = {
    "data": _family_data,
    "init.p": _starting("p"),
    "init.rates": _starting("rates"),
    "init.probs": _starting("probs"),
    # A Gaussian problem's spec has no family (the default), as before families came.
    "model.family": lambda problem, key: problem.family if problem.family != "gaussian"
    else _LEFT_OUT,
    "model.trials": _trials,
    "model.categories": lambda problem, key: list(problem.categories) if problem.categories
    else _LEFT_OUT,
    "model.kernel": _gaussian_only,
    # The data is inlined: where it came from is not the problem's.
    "data_file": lambda problem, key: _LEFT_OUT,
    "column": lambda problem, key: _LEFT_OUT,
    "columns": lambda problem, key: _LEFT_OUT,
    "variables": lambda problem, key: list(problem.variables) if problem.variables
    else _LEFT_OUT,
    "names": lambda problem, key: list(problem.names) if problem.names else _LEFT_OUT,
    "init.weights": _starting("weights"),
    "init.means": _starting("means"),
    "init.variances": _starting("variances", "1"),
    "init.covariances": _starting("variances", "d"),
    "model.covariance_type": lambda problem, key: problem.covariance_type
    if problem.dim > 1 and problem.family == "gaussian" else _LEFT_OUT,
}


# --------------------------------------------------------------------------- reading

def load_spec_file(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Read a YAML or JSON spec; return the mapping and the folder it lives in."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        spec = load_json(read_text(path, "spec (JSON)"), "spec", path)
    else:
        spec = load_yaml(read_text(path, "spec"), "spec", path)
    if spec is None:
        raise ProblemError("spec", f"{path} is empty; expected a mapping of spec keys")
    if not isinstance(spec, dict):
        raise ProblemError("spec", f"expected a mapping of spec keys in {path}, "
                                   f"but got {type(spec).__name__}")
    return spec, path.resolve().parent


def read_csv_columns(path: Path, columns: list[str] | None, field: str = "data_file",
                     exact: bool = False, single: bool = False
                     ) -> tuple[list[str] | None, list[Any]]:
    """Read numeric columns of a CSV file (header row optional): the chosen columns'
    names (None without a header) and the values, floats, or with *exact* the
    Fractions the cells spell: one list per row, or of one column the numbers
    themselves (a million one-number lists would cost 64 MB). The columns are the
    named *columns* (None: the only column when *single*, else every column).

    The rows are read one by one and only the chosen cells kept, so memory follows the
    values read, not the file's width; a line longer than ``defaults.MAX_CSV_LINE``
    bytes is refused before the csv module splits it."""
    key = "column" if single else "columns"
    text = read_text(path, "data_file")
    _check_line_lengths(text, path, field)
    if not exact:
        plain = _plain_columns(text, columns, single, path, key)
        if plain is not None:
            return plain
    reader = csv.reader(io.StringIO(text, newline=""))
    indices: list[int] | None = None
    names: list[str] | None = None
    values: list[list[Any]] = []
    name = path.name
    try:
        for row in reader:
            if not "".join(row).strip():
                continue
            if indices is None:  # the first row: a header, or already data
                header = None if _numeric(row) else [cell.strip() for cell in row]
                indices = _csv_indices(header, len(row), columns, single, path, key)
                if header is not None:
                    names = [header[i] for i in indices]
                    continue
            if len(values) >= defaults.MAX_POINTS:
                raise ProblemError(field, f"{path} has more than {defaults.MAX_POINTS:,} "
                                          f"rows, the limit of points")
            if (len(values) + 1) * len(indices) > defaults.MAX_DATA_VALUES:
                raise ProblemError(field, f"{path} has more than "
                                          f"{defaults.MAX_DATA_VALUES:,} numbers in its "
                                          f"{len(indices)} columns, the limit of points x "
                                          f"dimensions")
            cells = []
            for index in indices:
                cell = row[index].strip() if index < len(row) else ""
                if not cell:
                    raise ProblemError(field, f"{name} line {reader.line_num}: missing value")
                number = None if exact else plain_float(cell)
                if number is None:  # exact, or not a plain decimal: the full parse
                    where = f"{field} ({name} line {reader.line_num})"
                    number = (parse_fraction_list([cell], where)[0] if exact
                              else parse_number(cell, where))
                cells.append(number)
            values.append(cells if len(cells) > 1 else cells[0])
    except csv.Error as exc:
        raise ProblemError(field, f"cannot read {path} (line {reader.line_num}): {exc}") from None
    if indices is None:
        raise ProblemError(field, f"{path} holds no rows")
    return names, values


def _plain_columns(text: str, columns: list[str] | None, single: bool, path: Path,
                   key: str) -> tuple[list[str] | None, list[Any]] | None:
    """:func:`read_csv_columns` by numpy's C reader, when every chosen cell is a finite
    number no longer than a number's text may be (a million rows in a tenth of the
    time); None when any is not, or the file needs more than a plain reader (quoting
    and comments aside, missing cells, rows too short): the row-by-row reader then says
    which cell. The header is found, and the columns chosen, as the row-by-row reader
    does it."""
    if '"' in text or _LONG_CELL.search(text):  # (quoted cells: the csv module's)
        return None
    if text.count("\r") != text.count("\r\n"):  # lines ended by a lone CR
        return None
    skipped = 0  # blank lines before the first row
    for line in io.StringIO(text, newline=""):
        row = next(csv.reader([line]), [])
        if "".join(row).strip():
            break
        skipped += 1
    else:
        return None
    header = None if _numeric(row) else [cell.strip() for cell in row]
    indices = _csv_indices(header, len(row), columns, single, path, key)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (an empty file's warning: the slow path)
            data = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64,
                              skiprows=skipped + (header is not None), usecols=indices,
                              ndmin=2, comments=None)
    except (ValueError, Warning):
        return None
    if (not len(data) or len(data) > defaults.MAX_POINTS
            or data.size > defaults.MAX_DATA_VALUES or not np.isfinite(data).all()):
        return None
    names = None if header is None else [header[i] for i in indices]
    return names, data[:, 0].tolist() if len(indices) == 1 else data.tolist()


# A cell longer than a number may be (the row-by-row reader refuses it by name).
_LONG_CELL = re.compile(rf"[^,\n]{{{MAX_NUMBER_TEXT + 1},}}")


def _numeric(row: list[str]) -> bool:
    try:
        for cell in row:
            float(cell)
    except ValueError:
        return False
    return True


def _check_line_lengths(text: str, path: Path, field: str) -> None:
    """No line longer than ``defaults.MAX_CSV_LINE`` bytes (a row of ten million cells
    would take a GiB as the csv module's list)."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.concatenate([[-1], np.flatnonzero(data == 10), [len(data)]])
    lengths = np.diff(ends) - 1
    longest = int(np.argmax(lengths))
    if lengths[longest] > defaults.MAX_CSV_LINE:
        raise ProblemError(field, f"{path.name} line {longest + 1} is longer than the limit "
                                  f"of {defaults.MAX_CSV_LINE:,} bytes")


def _csv_indices(header: list[str] | None, width: int, columns: list[str] | None,
                 single: bool, path: Path, key: str) -> list[int]:
    """The positions of the columns to read."""
    if header is not None:
        seen: set[str] = set()
        for name in header:
            if name in seen and name:
                raise ProblemError(key, f"{path.name} names two columns {name!r}; give each "
                                        f"column its own name in the header")
            seen.add(name)
    if columns is not None:
        if header is None:
            raise ProblemError(key, f"{path} has no header row, so column "
                                    f"{columns[0]!r} cannot be found")
        for column in columns:
            if column not in header:
                raise ProblemError(key, f"expected one of {', '.join(map(repr, header))} "
                                        f"(the header of {path.name}), but got {column!r}")
        if len(set(columns)) != len(columns):
            raise ProblemError(key, f"expected distinct column names, but got {columns}")
        return [header.index(column) for column in columns]
    if width == 1 or not single:
        return list(range(width))
    names = ", ".join(map(repr, header)) if header else f"{width} unnamed columns"
    raise ProblemError("column", f"{path.name} has several columns ({names}); "
                                 f"name one with column (or several with columns)")


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


def check_length(text: str, field: str) -> None:
    """A title or name of at most ``defaults.MAX_TEXT`` characters, and text: a byte that
    is no UTF-8 (from the command line of a terminal in another encoding, which Python
    keeps as a lone surrogate) cannot be written into any document."""
    if len(text) > defaults.MAX_TEXT:
        raise ProblemError(field, f"{len(text):,} characters are more than the limit of "
                                  f"{defaults.MAX_TEXT}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProblemError(field, f"expected text in UTF-8, but character {exc.start + 1} is "
                                  f"an undecodable byte; check the terminal's encoding"
                           ) from None


def rounded_work_beyond(n: int, k: int, iterations: int) -> str | None:
    """What is too much for a hand calculation in exact fractions (points x components x
    iterations above ``defaults.MAX_ROUNDED_WORK``), said for an error; None if not."""
    if n * k * iterations <= defaults.MAX_ROUNDED_WORK:
        return None
    return (f"{n:,} points x {k} components x {iterations} iterations are more than the "
            f"limit of {defaults.MAX_ROUNDED_WORK:,}")


def _texts(value: Any, field: str, count: int, each: str) -> tuple[str, ...]:
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


def _names(value: Any, components: int) -> tuple[str, ...] | None:
    return None if value is None else _texts(value, "names", components, "component")


def _variables(value: Any, columns: list[str] | None, dim: int) -> tuple[str, ...] | None:
    """The coordinates' names: the spec's ``variables``, else the CSV columns' header
    (unless a name there is longer than a title may be: then none)."""
    if value is None:
        if columns is None or any(len(c) > defaults.MAX_TEXT for c in columns):
            return None
        return tuple(columns)
    return _texts(value, "variables", dim, "coordinate of the data")


def _update(value: Any) -> tuple[str, ...]:
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


def _within(array: np.ndarray, field: str, limit: float) -> None:
    """Every entry of *array* at most *limit* in absolute value, else an error naming the
    first entry beyond (``data[3]``, ``init.means[2][1]``)."""
    beyond = np.argwhere(np.abs(array) > limit)
    if len(beyond):
        index = entry_label(beyond[0])
        raise ProblemError(f"{field}{index}", f"expected a number from {-limit:g} to "
                                              f"{limit:g}, but got "
                                              f"{array[tuple(beyond[0])]:g}; rescale the "
                                              f"data (thousands, millions) for larger numbers")


def _keyed(spec: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value of a simple key of :data:`explainer.spec.KEYS`, checked as its row says
    (a whole number within its bounds, one of its choices, or a switch), or its default
    (*default* when the row's depends on the spec)."""
    key = BY_PATH[path]
    node: Any = spec
    for part in path.split("."):
        node = (node or {}).get(part)
    fallback = key.default if default is None else default
    if node is None:
        return fallback
    if key.choices is not None:
        return _choice(node, path, key.choices, fallback)
    if key.switch:
        return _flag(node, path)
    return _integer(node, path, low=key.low, high=key.high)


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false",
                                                              "no", "off"):
        return value.strip().lower() in ("true", "yes", "on")
    raise ProblemError(field, f"expected true or false, but got {value!r}")


def _rows(raw: list[Any], field: str, exact: bool = True) -> list[Any]:
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


def _read_data(spec: Mapping[str, Any], base_dir: Path | None, exact: bool
               ) -> tuple[list[Any], list[str] | None]:
    """The points as written (Fractions with *exact*, else floats): numbers, or rows; and
    the names of the CSV columns they came from (None for inline data or no header)."""
    if spec.get("data") is not None and spec.get("data_file") is not None:
        raise ProblemError("data", "give either data or data_file, not both")
    if spec.get("column") is not None and spec.get("columns") is not None:
        raise ProblemError("columns", "give either column (1-D) or columns (d >= 2), not both")
    if spec.get("data_file") is not None:
        path = Path(str(spec["data_file"]))
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        columns = spec.get("columns")
        names: list[str] | None = None
        if columns is not None:
            if isinstance(columns, str):
                columns = [part.strip() for part in columns.split(",") if part.strip()]
            if not isinstance(columns, (list, tuple)) or not columns:
                raise ProblemError("columns", f"expected a list of column names, "
                                              f"but got {columns!r}")
            names, values = read_csv_columns(path, [str(c) for c in columns], exact=exact)
        else:
            column = spec.get("column")
            names, values = read_csv_columns(path, None if column is None else [str(column)],
                                             exact=exact, single=True)
    elif spec.get("data") is not None:
        names = None
        raw = spec["data"]
        if isinstance(raw, str):
            # "1, 2, 5" or, for rows, "0 0; 4 4" / "0,0; 4,4".
            if ";" in raw:
                raw = _text_rows(raw)
            else:
                raw = [part for part in raw.split(",") if part.strip()]
        if not isinstance(raw, (list, tuple)):
            raise ProblemError("data", f"expected a list of numbers, but got {raw!r}")
        if len(raw) > defaults.MAX_POINTS:  # before a Fraction is made of each
            raise ProblemError("data", f"{len(raw):,} points are more than the limit of "
                                       f"{defaults.MAX_POINTS:,}")
        numbers = sum(len(v) if isinstance(v, (list, tuple)) else 1 for v in raw)
        if numbers > defaults.MAX_DATA_VALUES:
            raise ProblemError("data", f"{numbers:,} numbers are more than the limit of "
                                       f"{defaults.MAX_DATA_VALUES:,} (points x dimensions)")
        values = _rows(list(raw), "data", exact)
    else:
        raise ProblemError("data", "missing; give data (a list of numbers) or data_file")
    if not values:
        raise ProblemError("data", "expected at least one number, but the data is empty")
    if len(values) > defaults.MAX_POINTS:
        raise ProblemError("data", f"{len(values):,} points are more than the limit of "
                                   f"{defaults.MAX_POINTS:,}")
    if isinstance(values[0], list) and len(values[0]) > defaults.MAX_DIMENSIONS:
        raise ProblemError("data", f"{len(values[0])} numbers per point are more than the "
                                   f"limit of {defaults.MAX_DIMENSIONS} dimensions")
    if names is not None and not all(names):
        names = None  # a column without a name: the coordinates stay x_n1, x_n2, ...
    return values, names  # (without exact, already floats)


def _text_rows(text: str) -> list[list[str]]:
    """Rows written on one line, as on the command line: "0,0; 4,4" (or "0 0; 4 4")."""
    return [row.replace(",", " ").split() for row in text.split(";") if row.strip()]


def _mean_rows(init: Mapping[str, Any], components: int, dim: int) -> list[Any]:
    """init.means: K numbers (d = 1) or K rows of d numbers ("0,0; 4,4" in one text)."""
    if dim == 1:
        return _parameter(init, "means", components)
    field = "init.means"
    raw = init.get("means")
    if isinstance(raw, str):
        raw = _text_rows(raw)
    if raw is None:
        raise ProblemError(field, f"missing; init_method 'given' needs {components} means")
    if not isinstance(raw, (list, tuple)) or len(raw) != components:
        raise ProblemError(field, f"expected {components} means (one row of {dim} numbers "
                                  f"per component), but got {raw!r}")
    rows = []
    for k, row in enumerate(raw):
        where = f"{field}[{k + 1}]"
        if not isinstance(row, (list, tuple)) or len(row) != dim:
            raise ProblemError(where, f"expected a row of {dim} numbers (the data has "
                                      f"d = {dim}), but got {row!r}")
        rows.append(parse_fraction_list(row, where))
    return rows


def _covariance_matrices(init: Mapping[str, Any], components: int, dim: int,
                         covariance_type: str) -> list[list[list[Fraction]]]:
    """init.covariances: K symmetric positive semi-definite d x d matrices, of the form
    the covariance type says (a singular one is floored by the engine, not refused)."""
    field = "init.covariances"
    raw = init.get("covariances")
    if isinstance(raw, str):
        # One text, as on the command line: matrices separated by |, rows by ;.
        raw = [_text_rows(matrix) for matrix in raw.split("|")]
    if raw is None:
        hint = " (init.variances is for 1-D data)" if init.get("variances") is not None else ""
        raise ProblemError(field, f"missing; init_method 'given' needs {components} "
                                  f"covariance matrices ({dim} x {dim}) for d = {dim} data{hint}")
    if not isinstance(raw, (list, tuple)) or len(raw) != components:
        count = len(raw) if isinstance(raw, (list, tuple)) else raw
        raise ProblemError(field, f"expected {components} matrices (one {dim} x {dim} matrix "
                                  f"per component), but got {count!r}")
    matrices = []
    for k, matrix in enumerate(raw):
        where = f"{field}[{k + 1}]"
        if (not isinstance(matrix, (list, tuple)) or len(matrix) != dim
                or not all(isinstance(r, (list, tuple)) and len(r) == dim for r in matrix)):
            raise ProblemError(where, f"expected a {dim} x {dim} matrix ({dim} rows of {dim} "
                                      f"numbers, as the data has d = {dim}), but got {matrix!r}")
        m = [parse_fraction_list(r, f"{where}[{i + 1}]") for i, r in enumerate(matrix)]
        for i in range(dim):
            for j in range(i + 1, dim):
                if m[i][j] != m[j][i]:
                    raise ProblemError(where, f"expected a symmetric matrix, but entry ({i + 1}, "
                                              f"{j + 1}) is {float(m[i][j]):g} and ({j + 1}, "
                                              f"{i + 1}) is {float(m[j][i]):g}")
        eigen = np.linalg.eigvalsh(np.array(m, dtype=float))
        scale = max(1.0, float(np.max(np.abs(eigen))))
        if eigen[0] < -defaults.PSD_TOLERANCE * scale:
            raise ProblemError(where, f"expected a positive definite matrix (a covariance), but "
                                      f"its eigenvalues are "
                                      f"{', '.join(f'{v:.4g}' for v in eigen)}; a negative "
                                      f"one would be a negative variance along its direction")
        off = any(m[i][j] != 0 for i in range(dim) for j in range(dim) if i != j)
        if covariance_type in ("diag", "spherical") and off:
            raise ProblemError(where, f"expected a diagonal matrix for covariance_type "
                                      f"{covariance_type!r}, but an off-diagonal entry is not 0")
        if covariance_type == "spherical" and len({m[i][i] for i in range(dim)}) > 1:
            raise ProblemError(where, "expected sigma^2 I (equal diagonal entries) for "
                                      "covariance_type 'spherical'")
        if covariance_type == "tied" and matrices and m != matrices[0]:
            raise ProblemError(where, "expected the same matrix as init.covariances[1] for "
                                      "covariance_type 'tied' (one covariance shared by all)")
        matrices.append(m)
    return matrices


def _nested(values: Any) -> Any:
    """Lists of Fractions as tuples (hashable, frozen)."""
    return tuple(_nested(v) for v in values) if isinstance(values, list) else values


def validate(spec: Mapping[str, Any], base_dir: Path | None = None) -> Problem:
    """Check a spec mapping and return the frozen :class:`Problem`.

    *base_dir* is where a relative ``data_file`` is looked up (the spec's folder).
    """
    if not isinstance(spec, Mapping):
        raise ProblemError("spec", f"expected a mapping of spec keys, but got {spec!r}")
    _check_keys(spec, SPEC_KEYS, "")
    family = _keyed(spec, "model.family")
    if family != "gaussian":
        return _family_problem(spec, base_dir, family)
    init = _section(spec, "init")
    model = _section(spec, "model")
    for path, names in _family_keys().items():
        section, key = path.split(".")
        if _section(spec, section).get(key) is not None:
            raise ProblemError(path, f"this key is for {' and '.join(names)} mixtures, not "
                                     f"for Gaussians; set model.family")

    exact = _keyed(spec, "display.exact")
    carry = _keyed(spec, "display.carry")

    # Data.
    values, columns = _read_data(spec, base_dir, exact)
    data = _floats(values)
    _within(data, "data", defaults.MAX_ABS_VALUE)
    dim = 1 if data.ndim == 1 else data.shape[1]
    covariance_type = _keyed(spec, "model.covariance_type")

    # Components.
    init_method = _keyed(spec, "init_method", "given" if init else defaults.INIT_METHOD)
    if spec.get("components") is not None:
        components = _keyed(spec, "components")
    elif init.get("means") is not None:
        components = (len(init["means"]) if dim > 1 and isinstance(init["means"], (list, tuple))
                      else len(parse_number_list(init["means"], "init.means")))
        if not 1 <= components <= defaults.MAX_COMPONENTS:
            raise ProblemError("init.means", f"expected 1 to {defaults.MAX_COMPONENTS} means "
                                             f"(one per component), but got {components}")
    else:
        raise ProblemError("components", "missing; expected the number of components K >= 1")

    if len(data) * components > defaults.MAX_DETAIL_VALUES:
        raise ProblemError("components", f"{len(data):,} points x {components} components are "
                                         f"more than the limit of "
                                         f"{defaults.MAX_DETAIL_VALUES:,} responsibilities")
    if dim > 1 and len(data) * components * dim * dim > defaults.MAX_MATRIX_VALUES:
        raise ProblemError("components", f"{len(data):,} points x {components} components x "
                                         f"d^2 = {dim * dim} are more than the limit of "
                                         f"{defaults.MAX_MATRIX_VALUES:,} for d >= 2")
    iterations = _keyed(spec, "stop.iterations")
    if components > len(data) and (iterations > 0 or init_method != "given"):
        raise ProblemError("components", f"expected at most {len(data)} components (one per "
                                         f"data point) when an M-step runs, but got {components}")

    weights = means = variances = None
    exact_given: dict[str, tuple[Fraction, ...]] = {}
    if init_method == "given":
        if not init:
            raise ProblemError("init", "missing; give init.weights, init.means and "
                                       "init.variances, or choose an init_method")
        if dim == 1 and init.get("covariances") is not None:
            raise ProblemError("init.covariances", "the data is 1-D (one number per point): "
                                                   "give init.variances instead")
        given = {"weights": _parameter(init, "weights", components),
                 "means": _mean_rows(init, components, dim),
                 "variances": (_parameter(init, "variances", components) if dim == 1 else
                               _covariance_matrices(init, components, dim, covariance_type))}
        if exact:
            exact_given = {name: _nested(v) for name, v in given.items()}
        weights, means, variances = (_floats(given[name]) for name in defaults.PARAMETERS)
        _within(means, "init.means", defaults.MAX_ABS_VALUE)
        _within(variances, "init.covariances" if dim > 1 else "init.variances",
                defaults.MAX_VARIANCE)
        if dim == 1:
            for k, v in enumerate(variances):
                if 0 < v < defaults.MIN_VARIANCE:
                    raise ProblemError(f"init.variances[{k + 1}]",
                                       f"expected a variance of at least "
                                       f"{defaults.MIN_VARIANCE:g}, but got {v:g}")
        _check_weights(weights)
        for k, v in enumerate(variances if dim == 1 else ()):
            if v <= 0:
                raise ProblemError(f"init.variances[{k + 1}]",
                                   f"expected a variance > 0, but got {v:g}")
    elif init:
        raise ProblemError("init", f"init values are used only with init_method 'given', "
                                   f"but init_method is {init_method!r}")
    elif init_method in ("random_points", "kmeans") and len(
            np.unique(data, axis=0)) < components:
        raise ProblemError("init_method", f"{init_method} needs at least {components} distinct "
                                          f"data points, but the data has "
                                          f"{len(np.unique(data, axis=0))}")

    seed = _keyed(spec, "seed")
    kernel = _keyed(spec, "model.kernel")
    update = _update(model.get("update"))
    if dim > 1 and kernel == "proportional":
        raise ProblemError("model.kernel", "the proportional kernel is for 1-D problems (the "
                                           "lecture's exp(-(x - mu)^2 / 2 sigma^2)); d >= 2 "
                                           "uses the normalized density")
    if dim > 2 and carry == "rounded":
        raise ProblemError("display.carry", "a rounded carry is for 1-D problems and 2 x 2 "
                                            "matrices (d = 2); for d >= 3 every value is "
                                            "carried at full precision")
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


    if exact and carry == "rounded":
        raise ProblemError("display.carry", "exact values and a rounded carry exclude each "
                                            "other; choose display.exact or carry: rounded")
    if exact and init_method == "random_responsibilities":
        raise ProblemError("display.exact", "random_responsibilities draws floating-point "
                                            "responsibilities, which have no exact form; use "
                                            "init_method given, random_points or kmeans")

    beyond = carry == "rounded" and rounded_work_beyond(len(data), components, iterations)
    if beyond:
        raise ProblemError("display.carry", f"a rounded carry computes in exact fractions: "
                                            f"{beyond}; use fewer, or carry: full")

    return Problem(
        data=data, components=components,
        weights=weights, means=means, variances=variances,
        init_method=init_method, seed=seed, kernel=kernel, update=update,
        exact=exact, carry=carry,
        exact_inputs=ExactInputs(_nested(values), **exact_given) if exact else None,
        covariance_type=covariance_type if dim > 1 else defaults.COVARIANCE_TYPE,
        variables=_variables(spec.get("variables"), columns, dim),
        **_shared(spec, len(data), components),
    )


def _shared(spec: Mapping[str, Any], n_samples: int, components: int) -> dict[str, Any]:
    """The problem's keys that do not depend on its model: title and names, when to
    stop, what to show."""
    stop = _section(spec, "stop")
    display = _section(spec, "display")
    tol = None
    if stop.get("tol") is not None:
        tol = parse_number(stop["tol"], "stop.tol")
        if tol < 0:
            raise ProblemError("stop.tol", f"expected a tolerance >= 0, but got {tol:g}")
    title = spec.get("title")
    if title is not None and not isinstance(title, (str, int, float)):
        raise ProblemError("title", f"expected text, but got {title!r}")
    if title is not None:
        check_length(str(title), "title")
    iterations = _keyed(spec, "stop.iterations")
    return {
        "title": None if title is None else str(title),
        "names": _names(spec.get("names"), components),
        "iterations": iterations, "tol": tol,
        "decimals": _keyed(spec, "display.decimals"),
        "max_rows": _keyed(spec, "display.max_rows"),
        "detail": (Detail(all=True) if display.get("detail") is None
                   and iterations <= defaults.SHOW_ALL_UP_TO else _detail(display.get("detail"))),
        "highlight": _highlight(display.get("highlight"), n_samples),
        "paper": _keyed(spec, "display.paper"),
    }


def _check_weights(weights: np.ndarray) -> None:
    """Starting weights: each >= 0, summing to 1."""
    for k, w in enumerate(weights):
        if w < 0:
            raise ProblemError(f"init.weights[{k + 1}]",
                               f"expected a weight >= 0, but got {w:g}")
    if abs(weights.sum() - 1.0) > defaults.WEIGHT_SUM_TOL:
        third = any(abs(w - 1 / 3) < 0.01 for w in weights)
        hint = "; write 1/3 for a third, which is exact" if third else ""
        raise ProblemError("init.weights", f"expected weights summing to 1 (within "
                                           f"{defaults.WEIGHT_SUM_TOL:g}), but they sum "
                                           f"to {weights.sum():.10g}{hint}")


_GAUSSIAN_KEYS = ("init.means", "init.variances", "init.covariances", "model.kernel",
                  "model.covariance_type")
def _family_keys() -> dict[str, list[str]]:
    """The spec keys of the families beyond the Gaussian (``init.<parameter>`` and their
    own ``model`` keys), each with the families that have it."""
    from .families import FAMILIES

    keys: dict[str, list[str]] = {}
    for name, cls in FAMILIES.items():
        for path in (f"init.{cls.parameter}", *(f"model.{key}" for key in cls.model_keys)):
            keys.setdefault(path, []).append(name)
    return keys


def _family_problem(spec: Mapping[str, Any], base_dir: Path | None, family: str) -> Problem:
    """A mixture of another family than the Gaussian (:mod:`explainer.families`): its
    data and starting parameter read by the family, the rest as for any problem."""
    from .families import FAMILIES

    cls = FAMILIES[family]
    parameter = cls.parameter
    init = _section(spec, "init")
    model = _section(spec, "model")
    owners = _family_keys()
    for path in (*_GAUSSIAN_KEYS, *owners):
        section, key = path.split(".")
        if _section(spec, section).get(key) is None or family in owners.get(path, ()):
            continue
        if path in _GAUSSIAN_KEYS:
            raise ProblemError(path, f"this key is for Gaussian mixtures; the components of "
                                     f"a {family} mixture have a weight and "
                                     f"init.{parameter}")
        raise ProblemError(path, f"this key is for {' and '.join(owners[path])} mixtures; a "
                                 f"{family} mixture has init.{parameter}")
    exact = _keyed(spec, "display.exact")
    carry = _keyed(spec, "display.carry")
    if exact and carry == "rounded":
        raise ProblemError("display.carry", "exact values and a rounded carry exclude each "
                                            "other; choose display.exact or carry: rounded")

    raw = spec.get("data")
    columns = None
    if family == "categorical" and raw is not None:
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, (list, tuple)) or not raw:
            raise ProblemError("data", f"expected a list of categories, but got {raw!r}")
        if len(raw) > defaults.MAX_POINTS:
            raise ProblemError("data", f"{len(raw):,} points are more than the limit of "
                                       f"{defaults.MAX_POINTS:,}")
        read = cls.read_data(spec, list(raw), None)
    else:
        numbers, columns = _read_data(spec, base_dir, exact=False)
        _within(_floats(numbers), "data", defaults.MAX_COUNT)
        read = cls.read_data(spec, None, numbers)
    data = read["data"]
    n = len(data)

    init_method = _keyed(spec, "init_method", "given" if init else defaults.INIT_METHOD)
    if init_method not in ("given", "random_responsibilities"):
        raise ProblemError("init_method", f"a {family} mixture starts from given parameters "
                                          f"or from random_responsibilities, but got "
                                          f"{init_method!r}")
    if spec.get("components") is not None:
        components = _keyed(spec, "components")
    elif init.get(parameter) is not None and isinstance(init[parameter], (list, tuple)):
        components = len(init[parameter])
    elif init.get("weights") is not None:
        components = len(parse_number_list(init["weights"], "init.weights"))
    else:
        raise ProblemError("components", "missing; expected the number of components K >= 1")
    if not 1 <= components <= defaults.MAX_COMPONENTS:
        raise ProblemError("components", f"expected 1 to {defaults.MAX_COMPONENTS} "
                                         f"components, but got {components}")
    if n * components > defaults.MAX_DETAIL_VALUES:
        raise ProblemError("components", f"{n:,} points x {components} components are "
                                         f"more than the limit of "
                                         f"{defaults.MAX_DETAIL_VALUES:,} responsibilities")
    iterations = _keyed(spec, "stop.iterations")
    if components > n and (iterations > 0 or init_method != "given"):
        raise ProblemError("components", f"expected at most {n} components (one per data "
                                         f"point) when an M-step runs, but got {components}")

    if exact and init_method == "random_responsibilities":
        raise ProblemError("display.exact", "random_responsibilities draws floating-point "
                                            "responsibilities, which have no exact form; give "
                                            "the starting parameters (init)")
    weights = theta = None
    exact_given: dict[str, Any] = {}
    if init_method == "given":
        if not init:
            raise ProblemError("init", f"missing; give init.weights and init.{parameter}, or "
                                       f"init_method: random_responsibilities")
        written = {"weights": _parameter(init, "weights", components),
                   parameter: cls.read_parameter(init, components, read)}
        weights, theta = _floats(written["weights"]), _floats(written[parameter])
        _check_weights(weights)
        exact_given = {name: _nested(value) for name, value in written.items()}
    elif init:
        raise ProblemError("init", f"init values are used only with init_method 'given', "
                                   f"but init_method is {init_method!r}")
    update = _family_update(model.get("update"), parameter)
    beyond = carry == "rounded" and rounded_work_beyond(
        n * (1 if data.ndim == 1 else data.shape[1]), components, iterations)
    if beyond:
        raise ProblemError("display.carry", f"a rounded carry computes in exact fractions: "
                                            f"{beyond}; use fewer, or carry: full")
    problem = Problem(
        data=data, components=components, weights=weights, init_method=init_method,
        seed=_keyed(spec, "seed"), update=update, family=family,
        trials=read.get("trials"), categories=read.get("categories"), exact=exact,
        carry=carry,
        exact_inputs=ExactInputs(tuple(Fraction(int(v)) if np.ndim(v) == 0 else
                                       tuple(Fraction(int(u)) for u in v) for v in data),
                                 **exact_given) if exact else None,
        variables=_variables(spec.get("variables"), columns, 1 if data.ndim == 1
                             else data.shape[1]),
        **({parameter: theta} if theta is not None else {}),
        **_shared(spec, n, components))
    if theta is not None:
        _possible(problem)
    return problem


def _family_update(value: Any, parameter: str) -> tuple[str, ...]:
    """model.update of a family: drawn from weights and the family's parameter."""
    allowed = ("weights", parameter)
    if value is None:
        return allowed
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or any(item not in allowed for item in value):
        raise ProblemError("model.update", f"expected names from {', '.join(allowed)}, but "
                                           f"got {value!r}")
    return tuple(p for p in allowed if p in value)


def _possible(problem: Problem) -> None:
    """Every point has a probability above 0 under some component of weight above 0
    (else its responsibilities are 0/0)."""
    from .backend import FLOAT
    from .families import family_of

    family = family_of(problem)
    params = family.start_params(problem, FLOAT)
    with np.errstate(divide="ignore"):
        log_weighted = family.log_density(FLOAT, problem.data, params) + np.log(
            params.weights)[None, :]
    impossible = np.flatnonzero(np.all(log_weighted == -np.inf, axis=1))
    if len(impossible):
        n = int(impossible[0])
        raise ProblemError(f"data[{n + 1}]", f"this point has probability 0 under every "
                                             f"component (of weight > 0) at the start, so no "
                                             f"component can be responsible for it; start "
                                             f"init.{family.parameter} strictly between its "
                                             f"bounds")


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
    if any(options.get(key) is not None for key in ("data", "data_file", "column", "columns")):
        data.pop("variables", None)  # named for the spec's data, not these
    if options.get("data") is not None:
        data.pop("data_file", None)
        data.pop("column", None)
        data.pop("columns", None)
        data["data"] = options["data"]
    if options.get("data_file") is not None:
        data.pop("data", None)
        data["data_file"] = str(Path(options["data_file"]).resolve())
    for key in ("column", "columns"):
        if options.get(key) is not None:
            data.pop("columns" if key == "column" else "column", None)
            data[key] = options[key]
    for option, key in OVERRIDES.items():
        value = options.get(option)
        if value is not None:
            _set(data, key, value.strip() if isinstance(value, str) else value)
    return validate(data, base)


def load_problem(path: str | Path) -> Problem:
    """Read and validate a spec file."""
    spec, base = load_spec_file(path)
    return validate(spec, base)
