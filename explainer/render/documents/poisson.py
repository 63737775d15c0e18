"""What a page writes for a Poisson mixture: lambda^x e^(-lambda) / x! per cell, and
lambda_k = sum_n r_nk x_n / N_k."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ...trace import MStep, Params
from .. import shown as sh
from .base import FamilyDocument


class PoissonDocument(FamilyDocument):

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
