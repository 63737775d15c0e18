"""The arithmetic backend the engine is written against (like scikit-learn's ``xp``).

The engine never calls numpy for arithmetic on model quantities directly; it asks
the backend, so that an exact (SymPy) backend can serve the same E- and M-step.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


class Backend(Protocol):
    """The operations the E- and M-step need."""

    name: str

    def log(self, a: np.ndarray) -> np.ndarray: ...

    def log_gaussian_kernel(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray,
                            log_scale: np.ndarray) -> np.ndarray: ...

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray: ...


class FloatBackend:
    """Double precision with numpy, in log space so that nothing underflows to 0/0."""

    name = "float"

    def log(self, a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(a)

    def log_gaussian_kernel(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray,
                            log_scale: np.ndarray) -> np.ndarray:
        """log_scale_k - (x_n - mu_k)^2 / (2 sigma_k^2), shape (n_samples, n_components)."""
        out = np.subtract.outer(x, means)
        np.square(out, out=out)
        out *= -0.5 / variances
        out += log_scale
        return out

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
        """sum_n r_nk (x_n - c_k)^2, shape (n_components,)."""
        work = np.subtract.outer(x, centres)
        np.square(work, out=work)
        work *= resp
        return work.sum(axis=0)


FLOAT = FloatBackend()
LOG_2PI = math.log(2.0 * math.pi)
