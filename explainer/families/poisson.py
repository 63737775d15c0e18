"""Poisson mixtures: each point is a count x_n (events in an interval), and each
component a rate lambda_k.

    f_k(x_n) = lambda_k^x_n e^(-lambda_k) / x_n!
    M-step:  lambda_k = sum_n r_nk x_n / N_k
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import defaults
from ..backend import Backend
from ..errors import ProblemError
from ..numbers import parse_fraction_list
from ..trace import Params
from .base import Family, log_factorials, whole_numbers, xlogy


class Poisson(Family):
    name = "poisson"
    parameter = "rates"
    symbol = "lambda"

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        rates = params.rates
        return xlogy(xp, x, rates) - rates[None, :] - log_factorials(xp, x)[:, None]

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        return xp.quotient(stats["sum_rx"], nk)

    def boundary(self, value: np.ndarray) -> np.ndarray:
        return value == 0

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        assert numbers is not None
        array = np.array(numbers, dtype=float)
        if array.ndim != 1:
            raise ProblemError("data", "expected Poisson data as one count per point, but "
                                       "got rows")
        whole_numbers(array, "data", "a count")
        array.setflags(write=False)
        return {"data": array}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        if init.get("rates") is None:
            raise ProblemError("init.rates", f"missing; init_method 'given' needs "
                                             f"{components} rates (one per component)")
        given = parse_fraction_list(init["rates"], "init.rates")
        rates = np.array([float(v) for v in given])
        if len(rates) != components:
            raise ProblemError("init.rates", f"expected {components} rates (one per "
                                             f"component), but got {len(rates)}")
        for k, rate in enumerate(rates):
            if not 0 < rate <= defaults.MAX_COUNT:
                raise ProblemError(f"init.rates[{k + 1}]",
                                   f"expected a rate > 0 (at most {defaults.MAX_COUNT:,.0f}), "
                                   f"but got {rate:g}")
        return given
