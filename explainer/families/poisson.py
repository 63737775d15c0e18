"""Poisson mixtures: each point is a count x_n (events in an interval), and each
component a rate lambda_k.

    f_k(x_n) = lambda_k^x_n e^(-lambda_k) / x_n!
    M-step:  lambda_k = sum_n r_nk x_n / N_k
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import FLOAT, Backend
from ..trace import Params
from .base import Family, log_factorials, xlogy
from .reading import one_per_point, rates, whole_numbers


class Poisson(Family):
    name = "poisson"
    parameter = "rates"
    symbol = "lambda"

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        rates = params.rates
        return xlogy(xp, x, rates) - rates[None, :] + self.log_constant(x, xp)[:, None]

    def log_constant(self, x: np.ndarray, xp: Backend = FLOAT) -> np.ndarray:
        """-log x_n!."""
        return -log_factorials(xp, x)

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        return xp.quotient(stats["sum_rx"], nk)

    def boundary(self, value: np.ndarray) -> np.ndarray:
        return value == 0

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        array = one_per_point(numbers, "Poisson data as one count")
        whole_numbers(array, "data", "a count")
        array.setflags(write=False)
        return {"data": array}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        return rates(init, components)
