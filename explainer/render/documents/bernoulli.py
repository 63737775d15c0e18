"""What a page writes for a Bernoulli mixture: each cell the product of p_ki or 1 - p_ki,
and p_ki as the sum of r_nk over the points with x_ni = 1, over N_k."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from ...trace import MStep
from .base import FamilyDocument, Words


class BernoulliDocument(FamilyDocument):
    words = Words("products of Bernoulli distributions", "", r"\mathbf{p}", "p",
                  point="bold", mixture="a Bernoulli mixture",
                  asked=r"the new probabilities of a 1, $p_{ki}$")
    complement = True
    figure = "coordinates"
    points_in_data_order = True
    turned_labels = True

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """The product over coordinates of p_ki (where x_ni = 1) or 1 - p_ki (where 0)."""
        x = self.problem.data[n]
        factors = [cells.value[k][i] if x[i] == 1 else cells.complement[k][i]
                   for i in range(len(x))]

        def product(*values: Decimal) -> Decimal:
            out = Decimal(1)
            for v in values:
                out *= v
            return out
        sheet.equation(key, cell, factors, product)
        return {"factors": [{"i": i + 1, "one": bool(x[i] == 1), "value": f}
                            for i, f in enumerate(factors)]}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """p_ki = (sum of r_nk over the points with x_ni = 1) / N_k."""
        data = self.problem.data
        return self.subset_terms(sheet, index, k, mstep, r, terms, nk, new,
                                 lambda n, i: data[n, i] == 1,
                                 [str(i + 1) for i in range(data.shape[1])])

    def point(self, n: int) -> dict[str, Any]:
        return {"x": [int(v) for v in self.problem.data[n]]}

    def point_label(self, x: Any) -> str:
        return "".join(str(int(v)) for v in x)
