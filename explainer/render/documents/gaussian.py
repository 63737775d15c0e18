"""What a page writes for a Gaussian mixture: its parts in one dimension
(``context.py``, the ``parts`` templates) or in d >= 2 (``context_mv.py``, ``mvparts``),
and its figures."""

from __future__ import annotations

from typing import Any

from ...families import Family, Gaussian
from .base import Asked, Document, Words


class GaussianDocument(Document):
    words = Words("Gaussians", "mean", r"\mu",
                  mixture="a Gaussian mixture")

    @classmethod
    def asked(cls, model: type[Gaussian] | type[Family], kind: str, dim: int
              ) -> Asked | None:
        """The means and variances, or in d >= 2 the means' coordinates and the
        covariances' entries, named as check names them."""
        if dim > 1:
            return {"mu": Asked(r"the new means $\mu_k$, coordinate by coordinate",
                                "mu[k][i]"),
                    "cov": Asked(r"the new covariance matrices $\Sigma_k$, entry by entry",
                                 "cov[k][i,j]", r", $i \le j$")}.get(kind)
        return {"mu": Asked(r"the new means $\mu_k$"),
                "var": Asked(r"the new variances $\sigma_k^2$")}.get(kind)

    @property
    def user_macros(self) -> str:  # type: ignore[override]
        """em/macros.md.j2's macros for a page in one dimension, or in the plane."""
        return "em/plane.md.j2" if self.problem.dim > 1 else "em/gaussian.md.j2"

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

    def setup_values(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """The points, and per component its weight, mean and variance (in the plane its
        mean vector and covariance matrix)."""
        problem = self.problem
        if problem.dim > 1:
            return problem.data.tolist(), [
                {"k": k + 1, "weight": float(problem.weights[k]),
                 "mean": problem.means[k].tolist(), "covariance": problem.variances[k].tolist()}
                for k in range(problem.components)]
        return [float(v) for v in problem.data], [
            {"k": k + 1, "weight": float(problem.weights[k]), "mean": float(problem.means[k]),
             "variance": float(problem.variances[k])} for k in range(problem.components)]
