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
from functools import lru_cache
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from .errors import ProblemError
from .memo import remembered
from .numbers import decimal_of

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

    def mixture_rows(self, log_densities: np.ndarray, weights: np.ndarray,
                     log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def column_sums(self, resp: np.ndarray, x: np.ndarray | None = None) -> np.ndarray: ...

    def quotient(self, a: np.ndarray, b: Any) -> np.ndarray: ...

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray: ...

    def simplify(self, a: np.ndarray) -> np.ndarray: ...

    def to_float(self, a: Any) -> np.ndarray: ...


class PlainArithmetic:
    """The E-step's rows and the M-step's sums and quotients as computed, with no carry
    between them: float and exact arithmetic alike (a hand calculation's differ)."""

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def mixture_rows(self, log_densities: np.ndarray, weights: np.ndarray,
                     log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Responsibilities and log p(x_n) of an E-step (the log weighted densities
        log pi_k + log N_nk are *log_weighted*)."""
        return self.normalize_log_rows(log_weighted)

    def quotient(self, a: np.ndarray, b: Any) -> np.ndarray:
        """a / b, elementwise (the M-step's N_k / N and sums / N_k)."""
        return a / b

    def precision_deviation(self, inverse: np.ndarray, deviation: np.ndarray) -> np.ndarray:
        """Sigma_k^-1 (x_n - mu_k), shape (n_samples, n_components, d) (d >= 2)."""
        return (inverse[None] @ deviation[..., None])[..., 0]

    def mahalanobis(self, exponent: np.ndarray, deviation: np.ndarray,
                    precision_deviation: np.ndarray) -> np.ndarray:
        """(x_n - mu_k)^T Sigma_k^-1 (x_n - mu_k): -2 x the E-step's *exponent*."""
        return -2 * exponent

    def column_sums(self, resp: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """sum_n r_nk, or with *x* sum_n r_nk x_n (shape (n_components,), d >= 2:
        (n_components, d))."""
        if x is None:
            return resp.sum(axis=0)
        return resp.T @ x if x.ndim > 1 else x @ resp


class FloatBackend(PlainArithmetic):
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
            # Laid out (K, N) and handed on as its (N, K) transpose: the E-step's sums
            # and maxima over the K components then run along memory, N values at a
            # time (numpy keeps the layout through the elementwise steps), not over
            # rows of K values.
            out = np.subtract.outer(means, x)
            np.square(out, out=out)
            out *= (-0.5 / variances)[:, None]
            return out.T
        out = np.empty((means.shape[0], x.shape[0]))  # (K, N), as in 1-D
        for k in range(means.shape[0]):
            whiten = np.linalg.inv(np.linalg.cholesky(variances[k])).T
            y = x @ whiten
            y -= means[k] @ whiten
            np.square(y, out=y)
            y.sum(axis=1, out=out[k])
        out *= -0.5
        return out.T

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
        work = np.subtract.outer(centres, x)  # (K, N), as the E-step's arrays
        np.square(work, out=work)
        work *= resp.T
        return work.sum(axis=1)

    def simplify(self, a: np.ndarray) -> np.ndarray:
        return a

    def to_float(self, a: Any) -> np.ndarray:
        return np.asarray(a, dtype=float)


# The context of a rounding (quantize): 400 digits hold any double in fixed decimals, and
# a sum of a million values near 10^12 at 12 decimals.
WIDE = Context(prec=400)


def carry_decimal(value: Decimal, decimals: int) -> Decimal:
    """*value* as a hand calculation carries it: rounded to *decimals* decimals, ties away
    from zero; a non-zero value that would round to 0 keeps two significant digits
    instead (at any size: 3.7 x 10^-348 is carried as written)."""
    if value == 0 or not value.is_finite():
        return value
    return _carried(value, decimals)


def _carried(value: Decimal, decimals: int) -> Decimal:
    # (Each rounding is given the WIDE context: entering a local context per number
    # cost an exam some hundredths of its time. Powers of ten and comparisons are
    # exact in any context.)
    half = _HALF_UNITS.get(decimals) or Decimal(5).scaleb(-decimals - 1)
    if abs(value) == half:
        # Exactly half a unit is what a tiny value carried with two digits can become
        # (0.0049 -> 5.0 x 10^-3): kept, so that carrying a carried value changes nothing.
        return value
    if abs(value) < half:
        quantum = Decimal(1).scaleb(value.adjusted() - 1)
        rounded = value.quantize(quantum, rounding=ROUND_HALF_UP, context=WIDE)
        if rounded.adjusted() > value.adjusted():  # 9.96e-5 -> 1.0e-4: two digits again
            rounded = value.quantize(quantum * 10, rounding=ROUND_HALF_UP, context=WIDE)
        return rounded
    return value.quantize(_UNITS.get(decimals) or Decimal(1).scaleb(-decimals),
                          rounding=ROUND_HALF_UP, context=WIDE)


# The unit of the last decimal, and half of the next, of the usual numbers of decimals.
_UNITS = {d: Decimal(1).scaleb(-d) for d in range(13)}
_HALF_UNITS = {d: Decimal(5).scaleb(-d - 1) for d in range(13)}


def round_half_up(value: float, decimals: int) -> float:
    """*value* rounded to *decimals* decimals as a calculator does (ties away from zero),
    exactly as the documents print it; a non-zero value that would round to 0 keeps two
    significant digits instead (the document prints it as ``4.8 x 10^-6``)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(carry_decimal(decimal_of(value), decimals))


_LOG_CONTEXT = Context(prec=34)


def carried_exp(log_value: float, decimals: int) -> Decimal:
    """exp(*log_value*) as a hand calculation carries it, at any size (no underflow)."""
    if log_value == -math.inf:
        return Decimal(0)
    value = _LOG_CONTEXT.exp(Decimal(log_value))
    return carry_decimal(_LOG_CONTEXT.create_decimal(f"{value:.15g}"), decimals)


def decimal_log(value: Decimal) -> float:
    """ln of a carried value, as a double (-inf for 0)."""
    return -math.inf if value == 0 else float(_LOG_CONTEXT.ln(value))


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
        """log of the rounded value exp(a). A value too small for a double is rounded as
        any other (two significant digits, at any size: exp(-800) is carried as
        3.7 x 10^-348) and kept as its log."""
        a = np.asarray(a, dtype=float)
        with np.errstate(under="ignore", divide="ignore"):
            values = np.exp(a)
            small = values < TINY
            out = np.log(np.where(small, 1.0, self.carry(values)))
        for index in zip(*np.nonzero(small)):
            out[index] = decimal_log(carried_exp(float(a[index]), self.decimals))
        return out

    # The hand calculation's sums, products and quotients of written values are exact
    # (fractions): a double's rounding, or a round trip through logs, can move a value
    # across a tie (0.75 * 5.0e-21 is 3.75e-21 on paper, 3.7499999999999e-21 from logs).

    def _rounded(self, value: Fraction) -> float:
        return float(carry_fraction(value, self.decimals))

    @remembered
    def mixture_rows(self, log_densities: np.ndarray, weights: np.ndarray,
                     log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p(x_n) = sum of pi_k N_nk, rounded; r_nk = pi_k N_nk / p(x_n), rounded; from the
        carried densities N_nk (at any size: no underflow) and the weights as written.
        An r_nk too small for a double is 0 here and printed from its log (log pi_k N_nk
        - log p(x_n)), which gives the same carried digits."""
        pis = [written_fraction(float(w)) for w in weights]
        resp = np.zeros(log_densities.shape)
        log_rows = np.empty(log_densities.shape[0])
        for n, row in enumerate(log_densities):
            dens = [carried_exp(float(a), self.decimals) for a in row]
            if not any(dens):  # every density below what a decimal holds: no r_nk to write
                raise _beyond_rounded(n, f"its density under every component is below "
                                      f"10^{_LOG_CONTEXT.Emin:,} (exponents down to "
                                      f"{min(row):.3g})")
            # Exact fractions, scaled by a power of ten so that a density of 10^-4000 is
            # no 4000-digit fraction; a term more than 10^60 below the largest cannot
            # move the rounded sum (all terms are positive) and is left out of it.
            top = max(v.adjusted() for v in dens if v)
            if top < -HAND_MAX_TINY:  # (its fractions would have that many digits)
                raise _beyond_rounded(n, f"its largest density is about 10^{top:,}, below the "
                                      f"10^-{HAND_MAX_TINY:,} a hand calculation writes")
            terms = [pi * Fraction(v.scaleb(-top)) if v and v.adjusted() > top - 60 else None
                     for pi, v in zip(pis, dens)]
            total = carry_fraction(sum(t for t in terms if t is not None)
                                   * _power_of_ten(top), self.decimals)
            scaled_total = Fraction(total.scaleb(-top))
            for k, term in enumerate(terms):
                if term is not None:
                    value = carry_fraction(term / scaled_total, self.decimals)
                else:  # two significant digits of a negligible share, exactly
                    own = dens[k].adjusted()
                    value = carry_fraction(pis[k] * Fraction(dens[k].scaleb(-own))
                                           / scaled_total, self.decimals, own - top)
                resp[n, k] = float(value)
            log_rows[n] = decimal_log(total)
        return resp, log_rows

    def quotient(self, a: np.ndarray, b: Any) -> np.ndarray:
        """a / b rounded, of written values (exactly half a unit rounds up, as any
        computed value; only a carried tiny value stays at half a unit)."""
        bs = np.broadcast_to(np.asarray(b, dtype=float), np.shape(a))
        return np.array([self._rounded(written_fraction(float(u)) / written_fraction(float(v)))
                         for u, v in zip(np.ravel(a), np.ravel(bs))]).reshape(np.shape(a))

    def _exponent_1d(self, x: np.ndarray, means: np.ndarray,
                     variances: np.ndarray) -> np.ndarray:
        """-(x_n - mu_k)^2 / (2 sigma_k^2), rounded, from the written values (a double
        loses digits in x_n - mu_k when they are close: 4 - 3.99 is 0.00999999999999979)."""
        ms = [written_fraction(float(m)) for m in means]
        twice = [2 * written_fraction(float(v)) for v in variances]
        return np.array([[self._rounded(-(written_fraction(float(xn)) - m) ** 2 / t)
                          for m, t in zip(ms, twice)] for xn in x])

    def column_sums(self, resp: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        rs = [[written_fraction(float(v)) for v in row] for row in resp]
        if x is not None and x.ndim > 1:  # sum_n r_nk x_ni, coordinate by coordinate
            xs = _written(x)
            return np.array([[self._rounded(sum(r[k] * xn[i] for r, xn in zip(rs, xs)))
                              for i in range(x.shape[1])] for k in range(resp.shape[1])])
        xs = [Fraction(1)] * len(rs) if x is None else [written_fraction(float(v)) for v in x]
        return np.array([self._rounded(sum(r[k] * xn for r, xn in zip(rs, xs)))
                         for k in range(resp.shape[1])])

    # d = 2, as a hand calculation writes it: |Sigma| = a d - b c; Sigma^-1 = adj(Sigma)
    # / |Sigma| entry by entry; c_k from the written |Sigma|; for each point x_n - mu_k,
    # Sigma^-1 (x_n - mu_k) entry by entry, the quadratic form Delta^2 of those, and the
    # exponent -Delta^2 / 2; each written value carried.

    def det(self, matrices: np.ndarray) -> np.ndarray:
        _two_by_two(matrices)
        return np.array([self._rounded(m[0][0] * m[1][1] - m[0][1] * m[1][0])
                         for m in map(_written, matrices)])

    def inverse(self, matrices: np.ndarray) -> np.ndarray:
        out = np.empty(matrices.shape)
        for k, (m, det) in enumerate(zip(map(_written, matrices), self.det(matrices))):
            adjugate = [[m[1][1], -m[0][1]], [-m[1][0], m[0][0]]]
            written = written_fraction(float(det))
            for i in range(2):
                for j in range(2):
                    out[k, i, j] = self._rounded(adjugate[i][j] / written)
        return out

    def log_norm_const(self, variances: np.ndarray) -> np.ndarray:
        """log of 1/(2 pi |Sigma_k|^(1/2)) from the written |Sigma_k| (d = 2)."""
        if variances.ndim == 1:
            return super().log_norm_const(variances)
        return -(LOG_2PI + 0.5 * np.log(self.det(variances)))

    @remembered
    def exponent(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
        if x.ndim == 1:
            return self._exponent_1d(x, means, variances)
        deviation = x[:, None, :] - means[None, :, :]
        pdev = self.precision_deviation(self.inverse(variances), deviation)
        return -self._delta_squared(deviation, pdev) / 2

    def precision_deviation(self, inverse: np.ndarray, deviation: np.ndarray) -> np.ndarray:
        """Each entry of Sigma_k^-1 (x_n - mu_k), carried, from the written entries."""
        inv = [_written(m) for m in inverse]
        out = np.empty(deviation.shape)
        for n, k in np.ndindex(*deviation.shape[:2]):
            dev = [written_fraction(float(v)) for v in deviation[n, k]]
            for i in range(deviation.shape[2]):
                out[n, k, i] = self._rounded(sum(a * b for a, b in zip(inv[k][i], dev)))
        return out

    def mahalanobis(self, exponent: np.ndarray, deviation: np.ndarray,
                    precision_deviation: np.ndarray) -> np.ndarray:
        """Delta^2 as carried (not -2 x the carried exponent, which halved it)."""
        return self._delta_squared(deviation, precision_deviation)

    def _delta_squared(self, deviation: np.ndarray,
                       precision_deviation: np.ndarray) -> np.ndarray:
        """Delta^2 = sum_i (x_n - mu_k)_i [Sigma_k^-1 (x_n - mu_k)]_i of the written
        values, carried."""
        out = np.empty(deviation.shape[:2])
        for n, k in np.ndindex(*out.shape):
            out[n, k] = self._rounded(sum(written_fraction(float(a)) * written_fraction(float(b))
                                          for a, b in zip(deviation[n, k],
                                                          precision_deviation[n, k])))
        return out

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray:
        if x.ndim > 1:  # the scatter matrices, entry by entry
            xs, d = _written(x), x.shape[1]
            out = np.empty((centres.shape[0], d, d))
            for k, centre in enumerate(_written(centres)):
                rs = [written_fraction(float(r)) for r in resp[:, k]]
                devs = [[xi - ci for xi, ci in zip(xn, centre)] for xn in xs]
                for i in range(d):
                    for j in range(d):
                        out[k, i, j] = self._rounded(sum(r * dev[i] * dev[j]
                                                         for r, dev in zip(rs, devs)))
            return out
        xs = [written_fraction(float(v)) for v in x]
        out = []
        for k, centre in enumerate(centres):
            c = written_fraction(float(centre))
            out.append(self._rounded(sum(written_fraction(float(r)) * (xn - c) ** 2
                                         for r, xn in zip(resp[:, k], xs))))
        return np.array(out)


def _written(rows: np.ndarray) -> list[list[Fraction]]:
    """A matrix's (or the points') entries as written, row by row."""
    return [[written_fraction(float(v)) for v in row] for row in rows]


def _two_by_two(matrices: np.ndarray) -> None:
    if matrices.shape[-2:] != (2, 2):
        raise ValueError("a rounded carry writes out 2 x 2 matrices only")


@lru_cache(maxsize=1 << 16)  # a hand calculation writes the same few values again and again
def written_fraction(value: float) -> Fraction:
    """The number a double stands for in a hand calculation: a fraction with a small
    denominator when it is one (a weight of 1/3), else its decimal (15 significant
    digits)."""
    ratio = Fraction(value).limit_denominator(1000)
    if ratio.denominator > 1 and ratio.denominator % 2 and ratio.denominator % 5 \
            and float(ratio) == value:
        return ratio
    return Fraction(decimal_of(value))


def carry_fraction(value: Fraction, decimals: int, scale: int = 0) -> Decimal:
    """An exact value (times 10^*scale*) as a hand calculation carries it
    (:func:`carry_decimal`), rounded exactly: 8.2155 - 8.1e-39 is no tie, however many
    digits that takes."""
    if value == 0:
        return Decimal(0)
    size = abs(value)
    num, den = size.numerator, size.denominator
    if scale == 0 and num * 10 ** (decimals + 1) >= 5 * den:
        places = -decimals  # whole units of the last decimal
    else:  # two significant digits: 10^e <= size < 10^(e + 1)
        e = _fraction_decimal(size).adjusted()
        while _power_of_ten(e) > size:
            e -= 1
        while _power_of_ten(e + 1) <= size:
            e += 1
        places = e - 1
    # size / 10^places in whole units, ties up (integers: no Fraction built)
    top, bottom = (num * 10 ** -places, den) if places <= 0 else (num, den * 10 ** places)
    whole, rest = divmod(top, bottom)
    whole += 2 * rest >= bottom
    return Decimal(whole if value > 0 else -whole).scaleb(places + scale)


def _power_of_ten(e: int) -> Fraction:
    return Fraction(10 ** e) if e >= 0 else Fraction(1, 10 ** -e)


def _fraction_decimal(value: Fraction) -> Decimal:
    """A fraction as a 40-digit decimal (exact for the short decimals of a hand
    calculation; a quotient that does not end is no tie, and 40 digits tell its side)."""
    return _LOG_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def _beyond_rounded(n: int, why: str) -> ProblemError:
    """Point *n* (from 0), whose densities no hand calculation can carry, refused."""
    return ProblemError("display.carry", f"a hand calculation cannot carry point {n + 1}: "
                                         f"{why}; use carry: full, which works in logs")


# Below this a double loses digits (subnormal numbers) and then underflows: the rounded
# carry works on such values in decimal arithmetic.
TINY = 1e-300
# A point whose every density is below 10^-HAND_MAX_TINY is refused by the rounded carry:
# its sum of densities, an exact fraction, would hold as many digits (a point 10^-987,031
# from every component ran for minutes).
HAND_MAX_TINY = 10_000
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
