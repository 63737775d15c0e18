"""Categorical mixtures: each point is one of C categories (an answer chosen from a
list, a blood group), and each component a vector of C probabilities summing to 1.

    f_k(x_n) = q_k,c   where c is x_n's category
    M-step:  q_k,c = sum_n r_nk [x_n = c] / N_k   (the expected share of category c)

The data are stored as category indices 0, ..., C - 1 (``problem.categories`` holds
their names as written).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .. import defaults
from ..backend import Backend
from ..errors import ProblemError
from ..fields import check_length
from ..trace import Params
from .base import Family
from .reading import probabilities

if TYPE_CHECKING:
    from ..problem import Problem


class Categorical(Family):
    name = "categorical"
    parameter = "probs"
    symbol = "q"
    model_keys = ("categories",)
    vector = True
    named_data = True
    entry = "category"
    entry_letter = "c"

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        logs = xp.log(params.probs)  # (K, C)
        return logs[:, x.astype(int)].T

    def encoded(self, x: np.ndarray) -> np.ndarray:
        # Whole numbers: exact responsibilities times them stay exact.
        return np.eye(len(self.categories), dtype=int)[x.astype(int)]

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        return xp.quotient(stats["sum_rx"], nk[:, None])

    def boundary(self, value: np.ndarray) -> np.ndarray:
        return value == 0

    def exact_power(self, x: np.ndarray) -> int:
        return 1

    @property
    def width(self) -> int | None:
        return len(self.categories)

    @classmethod
    def spec_values(cls, problem: Problem) -> dict[str, Any]:
        """The family's, and ``model.categories``."""
        assert problem.categories is not None
        return {**super().spec_values(problem), "model.categories": list(problem.categories)}

    @classmethod
    def written_data(cls, problem: Problem) -> Any:
        """The data by their categories' names."""
        assert problem.categories is not None
        return [problem.categories[int(v)] for v in problem.data]

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        values = raw if raw is not None else numbers
        assert values is not None
        labels = [_label(v, f"data[{n + 1}]") for n, v in enumerate(values)]
        given = (spec.get("model") or {}).get("categories")
        if given is not None:
            from ..fields import distinct_names

            if isinstance(given, str):
                given = [part.strip() for part in given.split(",")]
            count = len(given) if isinstance(given, (list, tuple)) else 0
            if not 2 <= count <= defaults.MAX_CATEGORIES:
                got = f"{count:,}" if count > defaults.MAX_CATEGORIES else repr(given)
                raise ProblemError("model.categories", f"expected 2 to "
                                                       f"{defaults.MAX_CATEGORIES} category "
                                                       f"names, but got {got}")
            categories = distinct_names([_label(v, "model.categories") for v in given],
                                "model.categories", count, "category")
        else:
            categories = tuple(sorted(set(labels), key=_order))
            if len(categories) > defaults.MAX_CATEGORIES:
                raise ProblemError("data", f"{len(categories)} categories are more than the "
                                           f"limit of {defaults.MAX_CATEGORIES}")
        index = {c: i for i, c in enumerate(categories)}
        for n, label in enumerate(labels):
            if label not in index:
                raise ProblemError(f"data[{n + 1}]", f"expected one of the categories "
                                                     f"{', '.join(categories)}, but got "
                                                     f"{label!r}")
        codes = np.array([index[label] for label in labels], dtype=float)
        codes.setflags(write=False)
        return {"data": codes, "categories": categories}

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        probs = probabilities(init, "probs", components, len(read["categories"]))
        for k, row in enumerate(np.array(probs, dtype=float)):
            if abs(row.sum() - 1) > defaults.WEIGHT_SUM_TOL:
                raise ProblemError(f"init.probs[{k + 1}]", f"expected probabilities summing "
                                                           f"to 1 (one per category: "
                                                           f"{', '.join(read['categories'])})"
                                                           f", but they sum to "
                                                           f"{row.sum():.10g}")
        return probs


def _label(value: Any, field: str) -> str:
    """A category as written: a name or a whole number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ProblemError(field, f"expected a category name, but got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ProblemError(field, f"expected a category name or a whole number, but "
                                      f"got {value!r}")
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ProblemError(field, "expected a category name, but got nothing")
    check_length(text, field)
    return text


def _order(label: str) -> tuple[int, float, str]:
    """Numbers in numeric order, before names in alphabetical order."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
