"""What a page writes for a categorical mixture: each cell q_k,c of the point's category,
q_k,c as the sum of r_nk over the points in category c, over N_k, and the remark that
one M-step already gives the data's shares."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ...trace import MStep, Params
from .base import FamilyDocument, Words


class CategoricalDocument(FamilyDocument):
    words = Words("categorical distributions", "", r"\mathbf{q}", "q", point="name",
                  mixture="a categorical mixture",
                  asked=r"the new category probabilities $q_{kc}$")

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """q_k,c of x_n's category c."""
        c = int(self.problem.data[n])
        sheet.equation(key, cell, [cells.value[k][c]], lambda q: q)
        return {"k": k + 1, "c": c + 1, "category": self.model.categories[c],
                "q": cells.value[k][c]}

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """q_k,c = (sum of r_nk over the points in category c) / N_k."""
        data = self.problem.data
        return self.subset_terms(sheet, index, k, mstep, r, terms, nk, new,
                                 lambda n, c: int(data[n]) == c, list(self.model.categories))

    def document_remarks(self, trace: Any) -> list[dict[str, Any]]:
        """With one category per point and every parameter re-estimated, one M-step
        already gives each category its share of the data as its mixture probability
        (sum_k pi_k q_kc = count_c / N), the largest likelihood there is."""
        if trace.iterations and set(trace.problem.update) == {"weights", "probs"}:
            return [{"kind": "one_draw"}]
        return []

    def point(self, n: int) -> dict[str, Any]:
        return {"x": self.model.categories[int(self.problem.data[n])]}

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        categories = self.model.categories
        return np.arange(len(categories), dtype=float), list(categories)

    def point_label(self, x: Any) -> str:
        return self.model.categories[int(x)]
