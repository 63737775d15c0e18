"""Bernoulli mixtures: each point is a vector of d yes/no answers (0 or 1; a row of a
binary image, a survey), and each component a vector p_k of d probabilities of 1.

    f_k(x_n) = prod_i p_ki^x_ni (1 - p_ki)^(1 - x_ni)
    M-step:  p_k = sum_n r_nk x_n / N_k   (a vector)
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from ..errors import ProblemError
from ..trace import Params
from .base import Family, xlogy
from .reading import probabilities


class Bernoulli(Family):
    name = "bernoulli"
    parameter = "p"
    symbol = "p"
    vector = True

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        p = params.p
        ones = xlogy(xp, x, p)
        zeros = xlogy(xp, 1 - x, 1 - p)
        return (ones + zeros).sum(axis=2)

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        return xp.quotient(stats["sum_rx"], nk[:, None])

    def exact_power(self, x: np.ndarray) -> int:
        return int(x.shape[1])

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        assert numbers is not None
        array = np.array(numbers, dtype=float)
        if array.ndim == 1:
            array = array[:, None]
        bad = np.argwhere((array != 0) & (array != 1))
        if len(bad):
            n, i = (int(v) for v in bad[0])
            where = f"data[{n + 1}]" + (f"[{i + 1}]" if array.shape[1] > 1 else "")
            raise ProblemError(where, f"expected 0 or 1 (Bernoulli data are yes/no "
                                      f"answers), but got {array[n, i]:g}")
        array.setflags(write=False)
        return {"data": array}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        return probabilities(init, "p", components, read["data"].shape[1])
