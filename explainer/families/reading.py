"""Reading a model's spec, checked with errors that name the entry: a family's data's
whole numbers and its starting parameter (a probability or a rate per component, or a
row of them); the Gaussian's means, variances or covariance matrices (their number, form
and covariance type), its kernel and carry in d dimensions; the starting weights of
every model. :mod:`explainer.validation` reads the keys every problem has and asks
these for the model's own."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

import numpy as np

from .. import defaults
from ..errors import ProblemError
from ..fields import check_within, float_array, given_values, nested_tuples, text_rows
from ..numbers import parse_fraction_list, parse_number_list


def whole_numbers(values: np.ndarray, field: str, what: str, low: int = 0,
                  high: float = defaults.MAX_COUNT) -> None:
    """Every value a whole number from *low* to *high*, else an error naming the first."""
    bad = np.flatnonzero((values != np.floor(values)) | (values < low) | (values > high))
    if len(bad):
        n = int(bad[0])
        raise ProblemError(f"{field}[{n + 1}]", f"expected {what} (a whole number from {low} "
                                                f"to {high:,.0f}), but got "
                                                f"{values[n]:g}")


def probabilities(init: Mapping[str, Any], name: str, components: int,
                  width: int | None) -> list[Any]:
    """init.<name>: a probability per component (*width* None), or a row of *width*
    probabilities per component; each in [0, 1]; as written (Fractions)."""
    field = f"init.{name}"
    raw = init.get(name)
    if raw is None:
        shape = "a probability" if width is None else f"a row of {width} probabilities"
        raise ProblemError(field, f"missing; init_method 'given' needs {shape} per "
                                  f"component ({components})")
    if isinstance(raw, str) and ";" in raw:
        raw = [row.replace(",", " ").split() for row in raw.split(";") if row.strip()]
    if width is None:
        rows: list[Any] = parse_fraction_list(raw, field)
        if len(rows) != components:
            raise ProblemError(field, f"expected {components} probabilities (one per "
                                      f"component), but got {len(rows)}")
    else:
        if not isinstance(raw, (list, tuple)) or len(raw) != components:
            raise ProblemError(field, f"expected {components} rows (one per component) of "
                                      f"{width} probabilities, but got {raw!r}")
        rows = []
        for k, row in enumerate(raw):
            if not isinstance(row, (list, tuple, str)):
                row = [row]
            values = parse_fraction_list(row, f"{field}[{k + 1}]")
            if len(values) != width:
                raise ProblemError(f"{field}[{k + 1}]", f"expected {width} probabilities "
                                                        f"(one per {_entry(name)}), but "
                                                        f"got {len(values)}")
            rows.append(values)
    array = np.array([[float(v) for v in row] if isinstance(row, list) else float(row)
                      for row in rows])
    outside = np.argwhere((array < 0) | (array > 1))
    if len(outside):
        index = "".join(f"[{int(i) + 1}]" for i in outside[0])
        raise ProblemError(f"{field}{index}", f"expected a probability from 0 to 1, but got "
                                              f"{array[tuple(outside[0])]:g}")
    # 1 - p of a p within 10^-12 of 1 keeps four digits or fewer in a double (1 minus
    # 0.9999999999999999 is 1.1e-16, not 1e-16): refused, as no page could write p and
    # its complement truly.
    near = np.argwhere((array < 1) & (array > 1 - defaults.PROBABILITY_GAP))
    if len(near):
        index = "".join(f"[{int(i) + 1}]" for i in near[0])
        raise ProblemError(f"{field}{index}", f"expected 1 or a probability at most "
                                              f"1 - 10^-12, but got "
                                              f"{float(array[tuple(near[0])])!r} (1 - p would "
                                              f"keep too few digits in a double)")
    return rows


def rates(init: Mapping[str, Any], components: int) -> list[Any]:
    """init.rates: a rate > 0 per component (Poisson, exponential); as written
    (Fractions)."""
    if init.get("rates") is None:
        raise ProblemError("init.rates", f"missing; init_method 'given' needs "
                                         f"{components} rates (one per component)")
    given = parse_fraction_list(init["rates"], "init.rates")
    values = np.array([float(v) for v in given])
    if len(values) != components:
        raise ProblemError("init.rates", f"expected {components} rates (one per "
                                         f"component), but got {len(values)}")
    for k, rate in enumerate(values):
        if not 0 < rate <= defaults.MAX_COUNT:
            raise ProblemError(f"init.rates[{k + 1}]",
                               f"expected a rate > 0 (at most {defaults.MAX_COUNT:,.0f}), "
                               f"but got {rate:g}")
    return given


def one_per_point(numbers: list[Any] | None, what: str) -> np.ndarray:
    """The data as one number per point (a float array), else an error: *what* names
    the data (``Poisson data as one count``)."""
    assert numbers is not None
    array = np.array(numbers, dtype=float)
    if array.ndim != 1:
        raise ProblemError("data", f"expected {what} per point, but got rows")
    return array


# ------------------------------------------------------------------ the Gaussian's


def gaussian_components(init: Mapping[str, Any], dim: int) -> int:
    """K, the number of components, from init.means: K numbers (d = 1) or K rows."""
    means = init["means"]
    components = (len(means) if dim > 1 and isinstance(means, (list, tuple))
                  else len(parse_number_list(means, "init.means")))
    if not 1 <= components <= defaults.MAX_COMPONENTS:
        raise ProblemError("init.means", f"expected 1 to {defaults.MAX_COMPONENTS} means "
                                         f"(one per component), but got {components}")
    return components


def gaussian_size(n_samples: int, components: int, dim: int) -> None:
    """The d x d matrices of every point and component (d >= 2) within their limit."""
    if dim > 1 and n_samples * components * dim * dim > defaults.MAX_MATRIX_VALUES:
        raise ProblemError("components", f"{n_samples:,} points x {components} components x "
                                         f"d^2 = {dim * dim} are more than the limit of "
                                         f"{defaults.MAX_MATRIX_VALUES:,} for d >= 2")


def gaussian_covariance_type(covariance_type: str, dim: int) -> str:
    """The covariance type a Gaussian problem keeps: the spec's for d >= 2; in 1-D,
    where it means nothing, the default."""
    return covariance_type if dim > 1 else defaults.COVARIANCE_TYPE


def _mean_rows(init: Mapping[str, Any], components: int, dim: int) -> list[Any]:
    """init.means: K numbers (d = 1) or K rows of d numbers ("0,0; 4,4" in one text)."""
    if dim == 1:
        return given_values(init, "means", components)
    field = "init.means"
    raw = init.get("means")
    if isinstance(raw, str):
        raw = text_rows(raw)
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
        raw = [text_rows(matrix) for matrix in raw.split("|")]
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


def gaussian_parameters(init: Mapping[str, Any], components: int, dim: int,
                      covariance_type: str, exact: bool
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """A Gaussian mixture's given starting weights, means and variances (d >= 2:
    covariance matrices) as read-only float arrays, checked, and as written (exact)."""
    if not init:
        raise ProblemError("init", "missing; give init.weights, init.means and "
                                   "init.variances, or choose an init_method")
    if dim == 1 and init.get("covariances") is not None:
        raise ProblemError("init.covariances", "the data is 1-D (one number per point): "
                                               "give init.variances instead")
    given = {"weights": given_values(init, "weights", components),
             "means": _mean_rows(init, components, dim),
             "variances": (given_values(init, "variances", components) if dim == 1 else
                           _covariance_matrices(init, components, dim, covariance_type))}
    exact_given = {name: nested_tuples(v) for name, v in given.items()} if exact else {}
    weights, means, variances = (float_array(given[name]) for name in defaults.PARAMETERS)
    check_within(means, "init.means", defaults.MAX_ABS_VALUE)
    check_within(variances, "init.covariances" if dim > 1 else "init.variances",
                 defaults.MAX_VARIANCE)
    if dim == 1:
        for k, v in enumerate(variances):
            if 0 < v < defaults.MIN_VARIANCE:
                raise ProblemError(f"init.variances[{k + 1}]",
                                   f"expected a variance of at least "
                                   f"{defaults.MIN_VARIANCE:g}, but got {v:g}")
    check_weights(weights)
    for k, v in enumerate(variances if dim == 1 else ()):
        if v <= 0:
            raise ProblemError(f"init.variances[{k + 1}]",
                               f"expected a variance > 0, but got {v:g}")
    return weights, means, variances, exact_given


def gaussian_model(kernel: str, update: tuple[str, ...], variances: np.ndarray | None,
                   init_method: str, dim: int, carry: str) -> None:
    """The kernel and the carry a Gaussian mixture of dimension *dim* can have: the
    proportional kernel in 1-D with equal, fixed, given variances; a rounded carry up
    to d = 2."""
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


def check_weights(weights: np.ndarray) -> None:
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



def _entry(name: str) -> str:
    """What an entry of a vector parameter is one of."""
    return "category" if name == "probs" else "coordinate"
