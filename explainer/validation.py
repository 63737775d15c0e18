"""Validation: a spec mapping (or file, or the command line's options) checked once
and made the frozen :class:`~explainer.problem.Problem`.

The keys every problem has are read here; a model's own keys (a Gaussian's means,
variances or covariances, a family's data and starting parameter) by its model plug-in
and the model readers (:mod:`explainer.families`, :mod:`explainer.families.reading`).
Every error is a :class:`~explainer.errors.ProblemError` naming the field.
"""

from __future__ import annotations

import copy
import difflib
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import defaults
from .backend import FLOAT
from .errors import ProblemError
from .fields import (check_keys, check_length, check_within, component_names, coordinate_names,
                     detail_of, float_array, given_values, highlight_of,
                     keyed_value, nested_tuples, number_rows, rounded_work_beyond, section_of,
                     text_rows, update_of)
from .inputs import load_spec_file, read_csv_columns
from .numbers import parse_number, parse_number_list
from .families import FAMILIES, MODELS, Family, family_of
from .families.reading import (check_weights, gaussian_components, gaussian_covariance_type,
                               gaussian_model, gaussian_parameters, gaussian_size)
from .problem import Detail, ExactInputs, Problem, dimension_of, set_path
from .spec import OPTIONS, OVERRIDES, SPEC_KEYS

# The names of the plug-in registries the spec's keys choose from (model.family).
REGISTRIES: dict[str, tuple[str, ...]] = {"models": tuple(MODELS)}


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
                raw = text_rows(raw)
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
        values = number_rows(list(raw), "data", exact)
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


def validate(spec: Mapping[str, Any], base_dir: Path | None = None) -> Problem:
    """Check a spec mapping and return the frozen :class:`Problem`.

    *base_dir* is where a relative ``data_file`` is looked up (the spec's folder).
    """
    if not isinstance(spec, Mapping):
        raise ProblemError("spec", f"expected a mapping of spec keys, but got {spec!r}")
    check_keys(spec, SPEC_KEYS, "")
    family = keyed_value(spec, "model.family", registries=REGISTRIES)
    if family in FAMILIES:
        return _family_problem(spec, base_dir, family)
    return _gaussian_problem(spec, base_dir, family)


def _gaussian_problem(spec: Mapping[str, Any], base_dir: Path | None, family: str) -> Problem:
    """A Gaussian mixture: its means, variances or covariance matrices, kernel and
    covariance type read by the model readers, the rest as for any problem."""
    init = section_of(spec, "init")
    model = section_of(spec, "model")
    for path, names in _spec_keys().items():
        section, key = path.split(".")
        if family not in names and section_of(spec, section).get(key) is not None:
            raise ProblemError(path, f"this key is for {' and '.join(names)} mixtures, not "
                                     f"for Gaussians; set model.family")

    exact = keyed_value(spec, "display.exact")
    carry = keyed_value(spec, "display.carry")

    # Data.
    values, columns = _read_data(spec, base_dir, exact)
    data = float_array(values)
    check_within(data, "data", defaults.MAX_ABS_VALUE)
    dim = dimension_of(data)
    covariance_type = keyed_value(spec, "model.covariance_type")

    # Components.
    init_method = keyed_value(spec, "init_method", "given" if init else defaults.INIT_METHOD)
    if spec.get("components") is not None:
        components = keyed_value(spec, "components")
    elif init.get("means") is not None:
        components = gaussian_components(init, dim)
    else:
        raise ProblemError("components", "missing; expected the number of components K >= 1")

    _within_detail(len(data), components)
    gaussian_size(len(data), components, dim)
    iterations = keyed_value(spec, "stop.iterations")
    _one_point_each(len(data), components, iterations, init_method)

    weights = means = variances = None
    exact_given: dict[str, tuple[Fraction, ...]] = {}
    if init_method == "given":
        weights, means, variances, exact_given = gaussian_parameters(
            init, components, dim, covariance_type, exact)
    elif init:
        raise ProblemError("init", f"init values are used only with init_method 'given', "
                                   f"but init_method is {init_method!r}")
    elif init_method in ("random_points", "kmeans") and len(
            np.unique(data, axis=0)) < components:
        raise ProblemError("init_method", f"{init_method} needs at least {components} distinct "
                                          f"data points, but the data has "
                                          f"{len(np.unique(data, axis=0))}")

    seed = keyed_value(spec, "seed")
    kernel = keyed_value(spec, "model.kernel")
    update = update_of(model.get("update"))
    gaussian_model(kernel, update, variances, init_method, dim, carry)

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
        exact_inputs=ExactInputs(nested_tuples(values), **exact_given) if exact else None,
        covariance_type=gaussian_covariance_type(covariance_type, dim),
        variables=coordinate_names(spec.get("variables"), columns, dim),
        **_shared(spec, len(data), components),
    )


def _within_detail(n_samples: int, components: int) -> None:
    """Every responsibility of an E-step within the limit of what a trace keeps."""
    if n_samples * components > defaults.MAX_DETAIL_VALUES:
        raise ProblemError("components", f"{n_samples:,} points x {components} components are "
                                         f"more than the limit of "
                                         f"{defaults.MAX_DETAIL_VALUES:,} responsibilities")


def _one_point_each(n_samples: int, components: int, iterations: int,
                    init_method: str) -> None:
    """At most one component per data point when an M-step runs."""
    if components > n_samples and (iterations > 0 or init_method != "given"):
        raise ProblemError("components", f"expected at most {n_samples} components (one per "
                                         f"data point) when an M-step runs, but got "
                                         f"{components}")


def _shared(spec: Mapping[str, Any], n_samples: int, components: int) -> dict[str, Any]:
    """The problem's keys that do not depend on its model: title and names, when to
    stop, what to show."""
    stop = section_of(spec, "stop")
    display = section_of(spec, "display")
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
    iterations = keyed_value(spec, "stop.iterations")
    return {
        "title": None if title is None else str(title),
        "names": component_names(spec.get("names"), components),
        "iterations": iterations, "tol": tol,
        "decimals": keyed_value(spec, "display.decimals"),
        "max_rows": keyed_value(spec, "display.max_rows"),
        "detail": _default_detail(iterations, tol) if display.get("detail") is None
        else detail_of(display.get("detail")),
        "highlight": highlight_of(display.get("highlight"), n_samples),
        "paper": keyed_value(spec, "display.paper"),
        "grading_carry": keyed_value(spec, "grading.carry"),
    }


def _default_detail(iterations: int, tol: float | None) -> Detail:
    """The iterations shown in full when the spec does not say: every one of a run of up
    to SHOW_ALL_UP_TO iterations, else the first; counted as run (a tolerance may stop
    the run before the iterations asked)."""
    if iterations <= defaults.SHOW_ALL_UP_TO:
        return Detail(all=True)
    if tol is not None:
        return Detail(up_to=defaults.SHOW_ALL_UP_TO)
    return Detail()


def _spec_keys() -> dict[str, list[str]]:
    """Each model plug-in's own spec keys (the Gaussian's means, variances, kernel, ...;
    a family's ``init.<parameter>`` and ``model`` keys), each with the models that have
    it, the Gaussian's first."""
    keys: dict[str, list[str]] = {}
    for name, cls in MODELS.items():
        for path in cls.spec_keys():
            keys.setdefault(path, []).append(name)
    return keys


def _family_problem(spec: Mapping[str, Any], base_dir: Path | None, family: str) -> Problem:
    """A mixture of another family than the Gaussian (:mod:`explainer.families`): its
    data and starting parameter read by the family, the rest as for any problem."""
    cls = FAMILIES[family]
    parameter = cls.parameter
    init = section_of(spec, "init")
    model = section_of(spec, "model")
    owners = _spec_keys()
    for path in owners:
        section, key = path.split(".")
        if section_of(spec, section).get(key) is None or family in owners[path]:
            continue
        if owners[path] == [defaults.FAMILY]:
            raise ProblemError(path, f"this key is for Gaussian mixtures; the components of "
                                     f"a {family} mixture have a weight and "
                                     f"init.{parameter}")
        raise ProblemError(path, f"this key is for {' and '.join(owners[path])} mixtures; a "
                                 f"{family} mixture has init.{parameter}")
    exact = keyed_value(spec, "display.exact")
    carry = keyed_value(spec, "display.carry")
    if exact and carry == "rounded":
        raise ProblemError("display.carry", "exact values and a rounded carry exclude each "
                                            "other; choose display.exact or carry: rounded")

    read, numbers, columns = _family_data(spec, base_dir, cls, exact)
    data = read["data"]
    n = len(data)

    init_method = keyed_value(spec, "init_method", "given" if init else defaults.INIT_METHOD)
    if init_method not in ("given", "random_responsibilities"):
        raise ProblemError("init_method", f"a {family} mixture starts from given parameters "
                                          f"or from random_responsibilities, but got "
                                          f"{init_method!r}")
    if spec.get("components") is not None:
        components = keyed_value(spec, "components")
    elif init.get(parameter) is not None and isinstance(init[parameter], (list, tuple)):
        components = len(init[parameter])
    elif init.get("weights") is not None:
        components = len(parse_number_list(init["weights"], "init.weights"))
    else:
        raise ProblemError("components", "missing; expected the number of components K >= 1")
    if not 1 <= components <= defaults.MAX_COMPONENTS:
        raise ProblemError("components", f"expected 1 to {defaults.MAX_COMPONENTS} "
                                         f"components, but got {components}")
    _within_detail(n, components)
    iterations = keyed_value(spec, "stop.iterations")
    _one_point_each(n, components, iterations, init_method)

    if exact and init_method == "random_responsibilities":
        raise ProblemError("display.exact", "random_responsibilities draws floating-point "
                                            "responsibilities, which have no exact form; give "
                                            "the starting parameters (init)")
    weights, theta, exact_given = _family_start(init, init_method, components, cls, read)
    update = _family_update(model.get("update"), parameter)
    problem = Problem(
        data=data, components=components, weights=weights, init_method=init_method,
        seed=keyed_value(spec, "seed"), update=update, family=family,
        parameters=("weights", parameter),
        trials=read.get("trials"), categories=read.get("categories"), exact=exact,
        carry=carry,
        exact_inputs=ExactInputs(
            nested_tuples(numbers) if not cls.whole_data else
            tuple(Fraction(int(v)) if np.ndim(v) == 0 else tuple(Fraction(int(u)) for u in v)
                  for v in data), **exact_given) if exact else None,
        variables=coordinate_names(spec.get("variables"), columns, dimension_of(data)),
        **({parameter: theta} if theta is not None else {}),
        **_shared(spec, n, components))
    if theta is not None:
        _possible(problem)
    beyond = carry == "rounded" and rounded_work_beyond(
        n * dimension_of(data), components, iterations,
        family_of(problem).exact_power(problem.data))
    if beyond:
        raise ProblemError("display.carry", f"a rounded carry computes in exact fractions: "
                                            f"{beyond}; use fewer, or carry: full")
    return problem


def _family_data(spec: Mapping[str, Any], base_dir: Path | None, cls: type[Family],
                 exact: bool) -> tuple[dict[str, Any], list[Any] | None, list[str] | None]:
    """A family's data read by the family: what it read (:meth:`Family.read_data`), the
    numbers as written (None for named data) and the CSV columns they came from."""
    raw = spec.get("data")
    if cls.named_data and raw is not None:
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, (list, tuple)) or not raw:
            raise ProblemError("data", f"expected a list of categories, but got {raw!r}")
        if len(raw) > defaults.MAX_POINTS:
            raise ProblemError("data", f"{len(raw):,} points are more than the limit of "
                                       f"{defaults.MAX_POINTS:,}")
        return cls.read_data(spec, list(raw), None), None, None
    # (Whole-number data's exact form is the whole number; other data are read as
    # written, for an exact run.)
    numbers, columns = _read_data(spec, base_dir, exact=exact and not cls.whole_data)
    check_within(float_array(numbers), "data", defaults.MAX_COUNT)
    return cls.read_data(spec, None, numbers), numbers, columns


def _family_start(init: Mapping[str, Any], init_method: str, components: int,
                  cls: type[Family], read: Mapping[str, Any]
                  ) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """A family's given starting weights and parameter (None otherwise), with their
    exact forms as written."""
    parameter = cls.parameter
    if init_method != "given":
        if init:
            raise ProblemError("init", f"init values are used only with init_method "
                                       f"'given', but init_method is {init_method!r}")
        return None, None, {}
    if not init:
        raise ProblemError("init", f"missing; give init.weights and init.{parameter}, or "
                                   f"init_method: random_responsibilities")
    written = {"weights": given_values(init, "weights", components),
               parameter: cls.read_parameter(init, components, read)}
    weights, theta = float_array(written["weights"]), float_array(written[parameter])
    check_weights(weights)
    return weights, theta, {name: nested_tuples(value) for name, value in written.items()}


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
            set_path(data, key, value.strip() if isinstance(value, str) else value)
    return validate(data, base)


def load_problem(path: str | Path) -> Problem:
    """Read and validate a spec file."""
    spec, base = load_spec_file(path)
    return validate(spec, base)


if __name__ == "__main__":  # python -m explainer.validation > explainer/schema/spec-1.schema.json
    import json

    from .spec import spec_schema

    print(json.dumps(spec_schema(REGISTRIES), indent=2, ensure_ascii=False))
