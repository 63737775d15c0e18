"""What a page writes for a Poisson mixture: lambda^x e^(-lambda) / x! per cell, and
lambda_k = sum_n r_nk x_n / N_k."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ...trace import MStep, Params
from .base import EXACT_COUNTS, FamilyDocument, Words, exp_of_logs, log_gamma


class PoissonDocument(FamilyDocument):
    words = Words("Poisson distributions", "rate", r"\lambda",
                  mixture="a Poisson mixture", asked=r"the new rates $\lambda_k$")

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """lambda^x e^(-lambda) / x!."""
        x = int(self.problem.data[n])
        if x <= EXACT_COUNTS:
            factorial = math.factorial(x)

            def pmf(rate: Decimal) -> Decimal:
                value = (-rate).exp() / factorial
                return value * rate ** x if x else value
        else:  # (10^6! has 5.6 x 10^6 digits: its log, and the log of the power)
            log_factorial = log_gamma(x + 1)

            def pmf(rate: Decimal) -> Decimal:
                return exp_of_logs(-log_factorial - rate, (x, rate))
        rate = cells.value[k]
        sheet.equation(key, cell, [rate], pmf)
        return {"x": x, "rate": rate}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """lambda_k = sum_n r_nk x_n / N_k."""
        total, written = self.weighted_sum(sheet, index, k, mstep, r, terms)
        sheet.equation(("rates", index, k), new, [total, nk], lambda a, b: a / b)
        return written

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """0, 1, ... up to the largest count or four standard deviations above the
        largest rate, whichever is more (at most 200 values)."""
        top = max(float(np.max(self.problem.data)),
                  *(float(np.max(p.rates) + 4 * np.sqrt(np.max(p.rates))) for p in params))
        if top > 200:
            return None
        values = np.arange(int(math.ceil(top)) + 1, dtype=float)
        return values, [str(int(v)) for v in values]
