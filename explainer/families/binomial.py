"""Binomial mixtures: each point is a number of successes h_n out of m_n trials (the
coin example: heads in a set of ten tosses), and each component a probability of
success p_k.

    f_k(h_n) = C(m_n, h_n) p_k^h_n (1 - p_k)^(m_n - h_n)
    M-step:  p_k = sum_n r_nk h_n / sum_n r_nk m_n   (expected successes / expected trials)
"""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ..backend import Backend
from ..errors import ProblemError
from ..trace import MStep, Params
from .base import Family, log_factorials, probabilities, whole_numbers, xlogy


class Binomial(Family):
    name = "binomial"
    parameter = "p"
    symbol = "p"
    model_keys = ("trials",)

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        p = params.p
        m = xp.asarray([int(v) for v in self.trials]) if xp.name == "exact" else self.trials
        log_comb = (log_factorials(xp, m) - log_factorials(xp, x)
                    - log_factorials(xp, m - x))
        return (xlogy(xp, x, p) + xlogy(xp, m - x, 1 - p)) + log_comb[:, None]

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
        trials = (xp.asarray([int(v) for v in self.trials]) if xp.name == "exact"
                  else self.trials)
        return {"sum_rx": xp.column_sums(resp, x), "sum_rm": xp.column_sums(resp, trials)}

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        safe = np.where(xp.to_float(stats["sum_rm"]) > 0, stats["sum_rm"], xp.constant(1.0))
        return xp.quotient(stats["sum_rx"], safe)

    complement = True

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """C(m, h) p^h (1 - p)^(m - h)."""
        h, m = int(self.problem.data[n]), int(self.trials[n])
        comb = math.comb(m, h)

        def pmf(p: Decimal, q: Decimal) -> Decimal:
            value = Decimal(comb)
            if h:
                value *= p ** h
            if m - h:
                value *= q ** (m - h)
            return value
        p, q = cells.value[k], cells.complement[k]
        sheet.equation(key, cell, [p, q], pmf)
        return {"h": h, "m": m, "comb": comb, "p": p, "q": q}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any,
                     whole: bool) -> dict[str, Any]:
        """The coin example's table: per point r_nk h_n expected successes and
        r_nk (m_n - h_n) expected failures credited to component k; p_k = S / (S + F)."""
        from ..render import shown as sh

        rows: list[dict[str, Any] | None] = []
        successes, failures = [], []
        for n in terms:
            if n is None:
                rows.append(None)
                continue
            h, m = int(self.problem.data[n]), int(self.trials[n])
            s = sheet.cell(("successes", index, n, k), r[n].value * h)
            f = sheet.cell(("failures", index, n, k), r[n].value * (m - h))
            sheet.equation(("successes", index, n, k), s, [r[n]], lambda v, h=h: v * h)
            sheet.equation(("failures", index, n, k), f, [r[n]], lambda v, c=m - h: v * c)
            successes.append(s)
            failures.append(f)
            rows.append({"n": n + 1, "h": h, "m": m, "r": r[n], "successes": s,
                         "failures": f})
        total_s = sheet.cell(("sum_rx", index, k), float(mstep.sum_rx[k]))
        assert mstep.sum_rm is not None
        total_f = sheet.cell(("sum_rf", index, k), float(mstep.sum_rm[k] - mstep.sum_rx[k]))
        if whole:
            sheet.equation(("sum_rx", index, k), total_s, successes, sh.d_sum)
            sheet.equation(("sum_rf", index, k), total_f, failures, sh.d_sum)
        sheet.equation(("p", index, k), new, [total_s, total_f], lambda a, b: a / (a + b))
        return {"rows": rows, "successes": total_s, "failures": total_f, "whole": whole}

    def estep_remarks(self, problem: Any) -> list[dict[str, Any]]:
        if problem.components > 1:
            return [{"kind": "binomial_coefficient"}]
        return []

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """0, 1, ..., m when every point has the same m trials (at most 200)."""
        m = self.trials
        if not np.all(m == m[0]) or m[0] > 200:
            return None
        values = np.arange(int(m[0]) + 1, dtype=float)
        return values, [str(int(v)) for v in values]

    def on(self, values: np.ndarray) -> "Binomial":
        other = copy.copy(self)
        other.trials = np.full(len(values), self.trials[0])
        return other

    def exact_power(self, x: np.ndarray) -> int:
        return max(1, int(np.max(self.trials)))

    def point(self, n: int) -> dict[str, Any]:
        return {"x": int(self.problem.data[n]), "trials": int(self.trials[n])}

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
            from ..problem import _keyed

            successes = array.copy()
            trials = np.full(len(array), float(_keyed(spec, "model.trials")))
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
