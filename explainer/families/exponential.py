"""Exponential mixtures: each point is a waiting time x_n > 0, and each component a
rate lambda_k (events per unit of time; its mean waiting time is 1 / lambda_k).

    f_k(x_n) = lambda_k e^(-lambda_k x_n)
    M-step:  lambda_k = N_k / sum_n r_nk x_n
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import defaults
from ..backend import Backend
from ..errors import ProblemError
from ..trace import MStep, Params
from .base import Family
from .reading import one_per_point, rates


class Exponential(Family):
    name = "exponential"
    parameter = "rates"
    symbol = "lambda"
    whole_data = False

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        rates = params.rates
        return xp.log(rates)[None, :] - x[:, None] * rates[None, :]

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        sums = stats["sum_rx"]
        # (A sum of 0, or one so small that 1 / it overflows, is an empty component's,
        # whose rate is kept and this quotient not used: check_sums. A component with N_k
        # of 10^-8 or more has a sum of at least 10^-17, every wait being 10^-9 or more.)
        with np.errstate(over="ignore", divide="ignore"):
            return xp.quotient(nk, np.where(xp.to_float(sums) == 0, xp.constant(1.0), sums))

    def check_sums(self, stats: Mapping[str, np.ndarray], empty: np.ndarray,
                   xp: Backend) -> None:
        """lambda_k = N_k / sum_n r_nk x_n: a hand calculation whose weighted waits of a
        component all round to 0 has no rate to write."""
        zero = (xp.to_float(stats["sum_rx"]) == 0) & ~empty
        # (At full precision a component with N_k >= 10^-8 has a sum above 0: every wait
        # is at least 10^-9.)
        if xp.name == "rounded" and np.any(zero):
            k = int(np.flatnonzero(zero)[0]) + 1
            raise ProblemError("display.decimals", f"carried to {xp.decimals} decimals, "
                                                   f"every r_n{k} x_n of component {k} rounds "
                                                   f"to 0, so lambda_{k} = N_{k} / 0 has no "
                                                   f"value; carry more decimals, or carry: full")

    def quotient(self, mstep: MStep, index: tuple[int, ...]) -> tuple[float, float, str]:
        """N_k / sum_n r_nk x_n."""
        return float(mstep.nk[index[0]]), float(mstep.sum_rx[index]), "sum_rx"

    def boundary(self, value: np.ndarray) -> np.ndarray:
        # A rate has no edge an M-step reaches: N_k / sum_n r_nk x_n is finite and positive,
        # every wait being above 0.
        return np.zeros(np.shape(value), dtype=bool)

    def exact_power(self, x: np.ndarray) -> int:
        # lambda e^(-lambda x): the rate once, and once in the exponent.
        return 1

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        array = one_per_point(numbers, "exponential data as one waiting time")
        # (A wait of 0 would let a component on it alone grow its rate, and the
        # likelihood, without bound: lambda e^(-lambda 0) = lambda. A rate, one over a
        # weighted average wait, is at most one over the shortest: waits from 10^-9 keep
        # every rate within the counts' and rates' limit.)
        shortest = 1 / defaults.MAX_COUNT
        bad = np.flatnonzero((array < shortest) | (array > defaults.MAX_COUNT))
        if len(bad):
            n = int(bad[0])
            raise ProblemError(f"data[{n + 1}]", f"expected a waiting time above 0, from "
                                                 f"{shortest:g} to {defaults.MAX_COUNT:,.0f}, "
                                                 f"but got {array[n]:g}")
        array.setflags(write=False)
        return {"data": array}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        return rates(init, components)
