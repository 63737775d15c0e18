"""What a page writes for a Gaussian mixture: its parts in one dimension
(``context.py``, the ``parts`` templates) or in d >= 2 (``context_mv.py``, ``mvparts``),
and its figures."""

from __future__ import annotations

from .base import Document, Words


class GaussianDocument(Document):
    words = Words("Gaussians", "mean", r"\mu")

    @property
    def parts(self) -> str:
        return "mvparts" if self.problem.dim > 1 else "parts"

    @property
    def figures(self) -> dict[str, str]:
        # In the plane: the points coloured by their responsibilities with each
        # component's ellipse, and those of every iteration on a grid.
        if self.problem.dim > 1:
            return {"fit": "scatter_fit", "grid": "grid"}
        return {"fit": "fit", "resp": "resp"}
