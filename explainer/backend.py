"""The arithmetic backends the engine is written against (like scikit-learn's ``xp``).

The engine never does arithmetic on model quantities with numpy directly; it asks
a backend, so that one E- and M-step serves three kinds of arithmetic:

- :class:`FloatBackend`: double precision, in log space so nothing underflows to 0/0;
- :class:`RoundedBackend`: the same, but every intermediate a student writes down is
  rounded to the displayed decimals before it is used (``display.carry: rounded``);
- :class:`explainer.exact.ExactBackend`: SymPy, every value exact.

The textbook formulas themselves (the exponent, the normalising constant, the
weighted density) are the module functions below; the engine and the trace's
derived quantities both call them, so what a document shows is what was used.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Protocol

import numpy as np


class Backend(Protocol):
    """The operations the E- and M-step need (arrays are numpy arrays; the exact
    backend's hold SymPy numbers, dtype object)."""

    name: str
    budgeted: bool

    def mean_var(self, x: np.ndarray) -> tuple[Any, Any]: ...

    def asarray(self, values: Any) -> np.ndarray: ...

    def constant(self, value: float) -> Any: ...

    def log(self, a: np.ndarray) -> np.ndarray: ...

    def exp(self, a: np.ndarray) -> np.ndarray: ...

    def exponent(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray: ...

    def log_norm_const(self, variances: np.ndarray) -> np.ndarray: ...

    def inverse(self, matrices: np.ndarray) -> np.ndarray: ...

    def det(self, matrices: np.ndarray) -> np.ndarray: ...

    def eye(self, d: int) -> np.ndarray: ...

    def carry(self, a: np.ndarray) -> np.ndarray: ...

    def carry_log(self, a: np.ndarray) -> np.ndarray: ...

    def canonical(self, a: np.ndarray) -> np.ndarray: ...

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray: ...

    def simplify(self, a: np.ndarray) -> np.ndarray: ...

    def to_float(self, a: Any) -> np.ndarray: ...


class FloatBackend:
    """Double precision with numpy, in log space so that nothing underflows to 0/0."""

    name = "float"
    budgeted = False  # never raises BudgetExceeded

    def asarray(self, values: Any) -> np.ndarray:
        return np.array(values, dtype=float)

    def mean_var(self, x: np.ndarray) -> tuple[Any, Any]:
        """The data's mean and variance; for d >= 2 the mean vector and the covariance
        matrix (divided by N, as the M-step's)."""
        if x.ndim == 1:
            return float(np.mean(x)), float(np.var(x))
        mean = x.mean(axis=0)
        centred = x - mean
        return mean, centred.T @ centred / x.shape[0]

    def constant(self, value: float) -> float:
        return float(value)

    def log(self, a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(a)

    def exp(self, a: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):
            return np.exp(a)

    def exponent(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
        """-(x_n - mu_k)^2 / (2 sigma_k^2), shape (n_samples, n_components); for d >= 2
        -(x_n - mu_k)^T Sigma_k^-1 (x_n - mu_k) / 2 (through the Cholesky factor
        Sigma_k = L L^T: the squared length of L^-1 (x_n - mu_k))."""
        if x.ndim == 1:
            out = np.subtract.outer(x, means)
            np.square(out, out=out)
            out *= -0.5 / variances
            return out
        out = np.empty((x.shape[0], means.shape[0]))
        for k in range(means.shape[0]):
            whiten = np.linalg.inv(np.linalg.cholesky(variances[k])).T
            y = x @ whiten
            y -= means[k] @ whiten
            np.square(y, out=y)
            out[:, k] = y.sum(axis=1)
        out *= -0.5
        return out

    def log_norm_const(self, variances: np.ndarray) -> np.ndarray:
        """log of 1/sqrt(2 pi sigma_k^2); for d >= 2 of 1/((2 pi)^(d/2) |Sigma_k|^(1/2))."""
        if variances.ndim == 1:
            return -0.5 * (LOG_2PI + np.log(variances))
        return -0.5 * (variances.shape[-1] * LOG_2PI + np.linalg.slogdet(variances)[1])

    def inverse(self, matrices: np.ndarray) -> np.ndarray:
        """Sigma_k^-1 of each matrix, shape (n_components, d, d)."""
        return np.linalg.inv(matrices)

    def det(self, matrices: np.ndarray) -> np.ndarray:
        """|Sigma_k|, shape (n_components,)."""
        return np.linalg.det(matrices)

    def eye(self, d: int) -> np.ndarray:
        return np.eye(d)

    def carry(self, a: np.ndarray) -> np.ndarray:
        """A value as it is carried to the next step: here, unchanged."""
        return a

    def carry_log(self, a: np.ndarray) -> np.ndarray:
        """The log of a value carried to the next step: here, unchanged."""
        return a

    def canonical(self, a: np.ndarray) -> np.ndarray:
        """A value kept in the trace, in its one written form: here, unchanged (the
        rounded carry leaves it too; exact values take SymPy's canonical form)."""
        return a

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Responsibilities and log row sums: r_nk = exp(a_nk - logsumexp_j a_nj).

        Subtracting the row maximum first keeps exp() in range, so a point 40
        standard deviations from every mean still gets responsibilities.
        """
        row_max = log_weighted.max(axis=1)
        resp = log_weighted - row_max[:, None]
        with np.errstate(under="ignore"):
            np.exp(resp, out=resp)
        row_sum = resp.sum(axis=1)
        resp /= row_sum[:, None]
        log_rows = np.log(row_sum)
        log_rows += row_max
        return resp, log_rows

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray:
        """sum_n r_nk (x_n - c_k)^2, shape (n_components,); for d >= 2 the scatter
        matrices sum_n r_nk (x_n - c_k)(x_n - c_k)^T, shape (n_components, d, d)."""
        if x.ndim > 1:
            out = np.empty((centres.shape[0], x.shape[1], x.shape[1]))
            for k in range(centres.shape[0]):
                diff = x - centres[k]
                out[k] = (resp[:, k, None] * diff).T @ diff
            return out
        work = np.subtract.outer(x, centres)
        np.square(work, out=work)
        work *= resp
        return work.sum(axis=0)

    def simplify(self, a: np.ndarray) -> np.ndarray:
        return a

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=float)


def round_half_up(value: float, decimals: int) -> float:
    """*value* rounded to *decimals* decimals as a calculator does (ties away from zero),
    exactly as the documents print it; a non-zero value that would round to 0 keeps two
    significant digits instead (the document prints it as ``4.8 x 10^-6``)."""
    if value == 0 or not math.isfinite(value):
        return value
    if abs(value) < 0.5 * 10.0 ** -decimals:
        return float(f"{value:.1e}")
    # The values rounded are sums and products of short decimals, computed in binary:
    # 0.5 * 0.209 is 0.10449999999999999 in a double, a tie (0.1045) on paper, and paper
    # rounds it up. Fifteen significant digits undo the binary noise first.
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(f"{value:.15g}").quantize(quantum, rounding=ROUND_HALF_UP))


class BudgetExceeded(Exception):
    """A backend with a budget (exact arithmetic) would take longer or grow larger
    than the budget allows; *reason* says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RoundedBackend(FloatBackend):
    """Floats, but each value a student writes down is rounded to *decimals* decimals
    before it is used: the exponent, exp() of it, the constant, each density and
    weighted density, p(x_n), each r_nk, N_k, the sums and the new parameters."""

    name = "rounded"

    def __init__(self, decimals: int):
        self.decimals = decimals
        self._round = np.frompyfunc(lambda v: round_half_up(float(v), decimals), 1, 1)

    def carry(self, a: Any) -> Any:
        result = self._round(a)
        return result.astype(float) if isinstance(result, np.ndarray) else float(result)

    def carry_log(self, a: np.ndarray) -> np.ndarray:
        """log of the rounded value exp(a); a value too small for a double keeps its log
        (two significant digits of a number below 1e-300 change nothing a student sees)."""
        a = np.asarray(a, dtype=float)
        with np.errstate(under="ignore", divide="ignore"):
            values = np.exp(a)
            small = values < 1e-300
            return np.where(small, a, np.log(np.where(small, 1.0, self.carry(values))))

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p(x_n) = sum of pi_k N_nk, rounded; r_nk = pi_k N_nk / p(x_n), rounded.

        Where a whole row is too small for a double the float computation (in log space)
        is used: no student works with numbers below 1e-300.
        """
        resp, log_rows = super().normalize_log_rows(log_weighted)
        with np.errstate(under="ignore"):
            weighted = np.exp(log_weighted)
        mixture = self.carry(weighted.sum(axis=1))
        fine = mixture > 0
        resp[fine] = self.carry(weighted[fine] / mixture[fine, None])
        log_rows[fine] = np.log(mixture[fine])
        return resp, log_rows


FLOAT = FloatBackend()
LOG_2PI = math.log(2.0 * math.pi)


def as_fraction(value: float) -> Fraction:
    """A float constant as the decimal it was written as (1e-6 -> 1/1000000)."""
    return Fraction(repr(float(value)))


# --------------------------------------------------------------------------- formulas
# The textbook's intermediates, in the order a hand calculation produces them. The
# engine's E-step and the trace's derived per-point quantities both use these.

def exponent(xp: Backend, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """-(x_n - mu_k)^2 / (2 sigma_k^2), as carried."""
    return xp.carry(xp.exponent(x, means, variances))


def log_norm(xp: Backend, variances: np.ndarray) -> np.ndarray:
    """log c_k, c_k = 1/sqrt(2 pi sigma_k^2) as carried."""
    return xp.carry_log(xp.log_norm_const(variances))


def log_density(xp: Backend, exponents: np.ndarray, log_norms: np.ndarray,
                kernel: str) -> np.ndarray:
    """log N(x_n | mu_k, sigma_k^2) as carried: c_k exp(exponent), or exp(exponent)
    alone for the proportional kernel (the document writes ``c_1 exp(-0.25) = 0.220``:
    exp(-0.25) itself is not written down, so it is not rounded)."""
    if kernel == "proportional":
        return xp.carry_log(exponents)
    return xp.carry_log(exponents + log_norms)


def log_weighted(xp: Backend, log_densities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """log pi_k N(x_n | mu_k, sigma_k^2). Not rounded: the document writes the product
    into p(x_n) = 0.5 * 0.105 + 0.5 * 0.105 and into r_nk, never on its own."""
    return xp.canonical(log_densities + xp.log(weights))
