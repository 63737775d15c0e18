"""Binomial mixtures: each point is a number of successes h_n out of m_n trials (the
coin example: heads in a set of ten tosses), and each component a probability of
success p_k.

    f_k(h_n) = C(m_n, h_n) p_k^h_n (1 - p_k)^(m_n - h_n)
    M-step:  p_k = sum_n r_nk h_n / sum_n r_nk m_n   (expected successes / expected trials)
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..backend import FLOAT, Backend
from ..errors import ProblemError
from ..trace import MStep, Params
from .base import Family, log_factorials, xlogy
from .reading import probabilities, whole_numbers

if TYPE_CHECKING:
    from ..problem import Problem


class Binomial(Family):
    name = "binomial"
    parameter = "p"
    symbol = "p"
    model_keys = ("trials",)
    sums = ("sf",)

    def _trials(self, xp: Backend) -> np.ndarray:
        """The trials m_n in *xp*'s arithmetic (exact: Python ints)."""
        return xp.asarray([int(v) for v in self.trials]) if xp.name == "exact" else self.trials

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        p = params.p
        m = self._trials(xp)
        return (xlogy(xp, x, p) + xlogy(xp, m - x, 1 - p)) + self.log_constant(x, xp)[:, None]

    def log_constant(self, x: np.ndarray, xp: Backend = FLOAT) -> np.ndarray:
        """log C(m_n, h_n)."""
        m = self._trials(xp)
        return log_factorials(xp, m) - log_factorials(xp, x) - log_factorials(xp, m - x)

    def statistics(self, xp: Backend, x: np.ndarray, resp: np.ndarray) -> dict[str, np.ndarray]:
        """Expected successes sum_n r_nk x_n and expected trials sum_n r_nk m_n. A hand
        calculation writes each point's expected successes and failures (the coin
        example's table), rounded, and adds up what it wrote."""
        if xp.name == "rounded":
            successes = xp.carry(resp * x[:, None])
            failures = xp.carry(resp * (self.trials - x)[:, None])
            sum_rx = xp.column_sums(successes)
            # p = S / (S + F) is one step: S + F of the two written sums, not rounded.
            return {"sum_rx": sum_rx, "sum_rm": sum_rx + xp.column_sums(failures)}
        return {"sum_rx": xp.column_sums(resp, x),
                "sum_rm": xp.column_sums(resp, self._trials(xp))}

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        safe = np.where(xp.to_float(stats["sum_rm"]) > 0, stats["sum_rm"], xp.constant(1.0))
        return xp.quotient(stats["sum_rx"], safe)

    def working_sums(self, stats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The expected successes S (sx) and failures F (sf) the coin example's table
        sums."""
        return {"sx": stats["sum_rx"], "sf": stats["sum_rm"] - stats["sum_rx"]}

    def with_sums(self, stats: Mapping[str, np.ndarray],
                  sums: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The expected trials are the successes plus the failures (p = S / (S + F))."""
        return {"sum_rx": sums["sx"], "sum_rm": sums["sx"] + sums["sf"]}

    def on(self, values: np.ndarray) -> "Binomial":
        other = copy.copy(self)
        other.trials = np.full(len(values), self.trials[0])
        return other

    def exact_power(self, x: np.ndarray) -> int:
        return max(1, int(np.max(self.trials)))

    def saved_sums(self, x: np.ndarray, resp: np.ndarray
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """With the expected trials sum_n r_nk m_n."""
        trials = resp.T @ self.trials
        return {**super().saved_sums(x, resp), "sum_rm": (trials, trials)}

    def sum_shapes(self, k: int) -> dict[str, tuple[int, ...]]:
        """With the expected trials sum_n r_nk m_n (``sum_rm``)."""
        return {**super().sum_shapes(k), "sum_rm": (k,)}

    def quotient(self, mstep: MStep, index: tuple[int, ...]) -> tuple[float, float, str]:
        """Expected successes over expected trials: sum_n r_nk x_n / sum_n r_nk m_n."""
        assert mstep.sum_rm is not None
        return float(mstep.sum_rx[index]), float(mstep.sum_rm[index]), "trials"

    @classmethod
    def spec_values(cls, problem: Problem) -> dict[str, Any]:
        """The family's, and ``model.trials`` where every point has the same trials."""
        values = super().spec_values(problem)
        trials = _common_trials(problem)
        if trials is not None:
            values["model.trials"] = trials
        return values

    @classmethod
    def written_data(cls, problem: Problem) -> Any:
        """Rows [successes, trials] where the trials differ, else the successes."""
        if problem.trials is not None and _common_trials(problem) is None:
            return np.stack([problem.data, problem.trials], axis=1).astype(int).tolist()
        return super().written_data(problem)

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        assert numbers is not None
        array = np.array(numbers, dtype=float)
        trials_given = (spec.get("model") or {}).get("trials")
        if array.ndim == 2:
            if array.shape[1] != 2:
                raise ProblemError("data", f"expected binomial data as numbers of successes "
                                           f"(with model.trials) or rows [successes, "
                                           f"trials], but got rows of {array.shape[1]} numbers")
            if trials_given is not None:
                raise ProblemError("model.trials", "the data's rows already give each "
                                                   "point's trials; leave model.trials out")
            successes, trials = array[:, 0].copy(), array[:, 1].copy()
            whole_numbers(trials, "data", "a number of trials", low=1)
        else:
            if trials_given is None:
                raise ProblemError("model.trials", "missing; binomial data are numbers of "
                                                   "successes out of model.trials trials "
                                                   "(or write rows [successes, trials])")
            from ..fields import keyed_value

            successes = array.copy()
            trials = np.full(len(array), float(keyed_value(spec, "model.trials")))
        whole_numbers(successes, "data", "a number of successes")
        over = np.flatnonzero(successes > trials)
        if len(over):
            n = int(over[0])
            raise ProblemError(f"data[{n + 1}]", f"expected at most {trials[n]:g} successes "
                                                 f"(the trials), but got {successes[n]:g}")
        for array_ in (successes, trials):
            array_.setflags(write=False)
        return {"data": successes, "trials": trials}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        return probabilities(init, "p", components, None)


def _common_trials(problem: Problem) -> int | None:
    """The trials every point has, where they are the same (None where they differ)."""
    trials = problem.trials
    if trials is None or not np.all(trials == trials[0]):
        return None
    return int(trials[0])
