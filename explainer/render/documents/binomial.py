"""What a page writes for a binomial mixture: C(m, h) p^h (1 - p)^(m - h) per cell, and
the coin example's table of expected successes and failures."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ...trace import MStep, Params
from .. import shown as sh
from ..skeleton import gap_of, gap_term
from .base import EXACT_COUNTS, FamilyDocument, Words, exp_of_logs, log_gamma


class BinomialDocument(FamilyDocument):
    words = Words("binomial distributions", "probability of success", "p", point="of",
                  mixture="a binomial mixture", asked=r"the new probabilities of success $p_k$")
    complement = True

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """C(m, h) p^h (1 - p)^(m - h)."""
        h, m = int(self.problem.data[n]), int(self.model.trials[n])
        if m <= EXACT_COUNTS:
            comb = math.comb(m, h)

            def pmf(p: Decimal, q: Decimal) -> Decimal:
                value = Decimal(comb)
                if h:
                    value *= p ** h
                if m - h:
                    value *= q ** (m - h)
                return value
        else:  # (C(10^9, 5 x 10^8) has 3 x 10^8 digits: its log, and logs of the powers)
            log_comb = log_gamma(m + 1) - log_gamma(h + 1) - log_gamma(m - h + 1)

            def pmf(p: Decimal, q: Decimal) -> Decimal:
                return exp_of_logs(log_comb, (h, p), (m - h, q))
        p, q = cells.value[k], cells.complement[k]
        sheet.equation(key, cell, [p, q], pmf)
        return {"h": h, "m": m, "p": p, "q": q}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """The coin example's table: per point r_nk h_n expected successes and
        r_nk (m_n - h_n) expected failures credited to component k; p_k = S / (S + F)."""
        rows: list[dict[str, Any]] = []
        successes, failures = [], []
        rest = gap_of(terms)
        for n in terms:
            if n is None:  # the omitted points, as one row of subtotals
                assert mstep.detail is not None
                credit = mstep.detail.resp[rest, k]
                h, m = self.problem.data[rest], self.model.trials[rest]
                rows.append(gap_term(rest, successes=sheet.subtotal(
                    ("successes-rest", index, k), credit * h), failures=sheet.subtotal(
                    ("failures-rest", index, k), credit * (m - h))))
                successes.append(rows[-1]["successes"])
                failures.append(rows[-1]["failures"])
                continue
            h, m = int(self.problem.data[n]), int(self.model.trials[n])
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
        sheet.equation(("sum_rx", index, k), total_s, successes, sh.d_sum)
        sheet.equation(("sum_rf", index, k), total_f, failures, sh.d_sum)
        sheet.equation(("p", index, k), new, [total_s, total_f], lambda a, b: a / (a + b))
        return {"rows": rows, "successes": total_s, "failures": total_f}

    def estep_remarks(self, problem: Any) -> list[dict[str, Any]]:
        if problem.components > 1:
            return [{"kind": "binomial_coefficient"}]
        return []

    def point(self, n: int) -> dict[str, Any]:
        return {"x": int(self.problem.data[n]), "trials": int(self.model.trials[n])}

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """0, 1, ..., m when every point has the same m trials (at most 200)."""
        m = self.model.trials
        if not np.all(m == m[0]) or m[0] > 200:
            return None
        values = np.arange(int(m[0]) + 1, dtype=float)
        return values, [str(int(v)) for v in values]
