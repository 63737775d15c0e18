"""What a page writes for an exponential mixture: lambda e^(-lambda x) per cell, and
lambda_k = N_k / sum_n r_nk x_n."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ...trace import MStep, Params
from .base import FamilyDocument, Words


class ExponentialDocument(FamilyDocument):
    words = Words("exponential distributions", "rate", r"\lambda",
                  mixture="an exponential mixture", asked=r"the new rates $\lambda_k$")
    # Waiting times: densities over a continuous axis (the data's histogram beside them).
    figure = "density"
    likelihood, likelihoods = "density", "densities"

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """lambda e^(-lambda x)."""
        x = sheet.cell(("x", n), float(self.problem.data[n]), given=True)

        def pdf(rate: Decimal, time: Decimal) -> Decimal:
            return rate * (-(rate * time)).exp()
        rate = cells.value[k]
        sheet.equation(key, cell, [rate, x], pdf)
        return {"x": x, "rate": rate}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """lambda_k = N_k / sum_n r_nk x_n."""
        total, written = self.weighted_sum(sheet, index, k, mstep, r, terms)
        sheet.equation(("rates", index, k), new, [nk, total], lambda a, b: a / b)
        return written

    def point(self, n: int) -> dict[str, Any]:
        return {"x": float(self.problem.data[n])}

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """From 0 past the longest wait: to four mean waits of the slowest component, but
        no further than three times the longest wait (400 values: the densities are
        curves)."""
        longest = float(np.max(self.problem.data))
        slowest = max(4 / float(np.min(p.rates)) for p in params)
        top = max(longest, min(slowest, 3 * longest))
        values = np.linspace(0, top, 400)
        return values, []
