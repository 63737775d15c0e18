"""Poisson mixtures: each point is a count x_n (events in an interval), and each
component a rate lambda_k.

    f_k(x_n) = lambda_k^x_n e^(-lambda_k) / x_n!
    M-step:  lambda_k = sum_n r_nk x_n / N_k
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from .. import defaults
from ..backend import Backend
from ..errors import ProblemError
from ..numbers import parse_fraction_list
from ..trace import MStep, Params
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

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """lambda^x e^(-lambda) / x!."""
        x = int(self.problem.data[n])
        factorial = math.factorial(x)

        def pmf(rate: Decimal) -> Decimal:
            value = (-rate).exp() / factorial
            return value * rate ** x if x else value
        rate = cells.value[k]
        sheet.equation(key, cell, [rate], pmf)
        return {"x": x, "factorial": factorial, "rate": rate}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any,
                     whole: bool) -> dict[str, Any]:
        """lambda_k = sum_n r_nk x_n / N_k."""
        from ..render import shown as sh

        x = {n: sheet.cell(("x", n), float(self.problem.data[n]), given=True)
             for n in terms if n is not None}
        total = sheet.cell(("sum_rx", index, k), float(mstep.sum_rx[k]))
        if whole:
            sheet.equation(("sum_rx", index, k), total,
                           [c for n in terms if n is not None for c in (r[n], x[n])],
                           sh.sum_of_products)
        sheet.equation(("rates", index, k), new, [total, nk], lambda a, b: a / b)
        return {"terms": [None if n is None else {"n": n + 1, "r": r[n], "x": x[n]}
                          for n in terms], "sum": total, "whole": whole}

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """0, 1, ... up to the largest count or four standard deviations above the
        largest rate, whichever is more (at most 200 values)."""
        top = max(float(np.max(self.problem.data)),
                  *(float(np.max(p.rates) + 4 * np.sqrt(np.max(p.rates))) for p in params))
        if top > 200:
            return None
        values = np.arange(int(math.ceil(top)) + 1, dtype=float)
        return values, [str(int(v)) for v in values]

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
