"""The document plug-ins' interface: :class:`Document`, what every model's page has (its
words, the templates of its parts, its figures), and :class:`FamilyDocument`, what a
mixture of another family than the Gaussian writes, shared by the families (with the
written-out update of a vector parameter whose entries are sums over subsets of the
points: Bernoulli, categorical).

A document plug-in knows its model (bound to the problem) and writes the model's steps
out on a sheet of printed cells (:mod:`explainer.render.skeleton`); its template
``templates/parts/families/<name>.j2`` (one for every format) writes the terms it
returns. The model knows nothing of pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import numpy as np

from ...families import Family, Gaussian
from ...trace import MStep, Params
from .. import shown as sh
from ..skeleton import gap_of, gap_term


@dataclass(frozen=True)
class Words:
    """How the questions of an exam and the reports name a model.

    distributions : the components, in the plural ("Poisson distributions").
    parameter : the parameter of a component, in words ("rate"; "" for a vector,
        which has no one move).
    symbol : its symbol in TeX, indexed by the component ("\\lambda"; bold for a
        vector).
    entry : the symbol of one entry of a vector parameter ("p" of p_{k,i}).
    point : how a point is written: ``number`` (x_n = 3, or a row in the plane),
        ``of`` (successes of trials), ``bold`` (a vector of 0s and 1s), ``name`` (a
        category).
    mixture : the mixture with its article, for a page's default title ("an
        exponential mixture").
    """

    distributions: str
    parameter: str
    symbol: str
    entry: str = ""
    point: str = "number"
    mixture: str = ""
    # How an exam's question asks for a family's parameter, in words and math ("the new
    # rates $\lambda_k$"), before the name an answer gives it.
    asked: str = ""


@dataclass(frozen=True)
class Asked:
    r"""How an exam's question asks for one kind of quantity of a model: its words with
    math (``the new means $\mu_k$``), the name an answer gives it (``mu[k][i]``; none
    where the symbol says it) and what follows that name (``, $i \le j$``)."""

    text: str
    name: str = ""
    after: str = ""


class Document:
    """What a page writes for one model's mixture: the base of every document plug-in.

    Subclasses set :attr:`words` and give :attr:`parts`, :attr:`figures` and
    :meth:`asked` (and :attr:`user_macros` where they have em/macros.md.j2's macros).
    """

    # How exams and reports name the model in words and symbols (:class:`Words`).
    words: Words
    # Whether the figure of the final responsibilities takes the points in the data's
    # order (a Bernoulli's rows of 0s and 1s have no order of x), and says so.
    points_in_data_order = False
    # Whether a figure turns its points' tick labels upright (a Bernoulli's rows of 0s
    # and 1s, which would run into each other).
    turned_labels = False
    # The template of em/macros.md.j2's macros for this kind of page (your own
    # templates' estep_table, mstep_derivation, ...): em/none.md.j2 where there are none
    # yet (each says so where it is called).
    user_macros = "em/none.md.j2"

    def __init__(self, model: Gaussian | Family):
        self.model = model
        self.problem = model.problem

    @classmethod
    def asked(cls, model: type[Gaussian] | type[Family], kind: str, dim: int
              ) -> Asked | None:
        """How an exam's question asks for the quantities of *kind* that are *model*'s
        own, in *dim* dimensions (None for a kind every model has, such as r or N)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def parts(self) -> str:
        """The templates that write the parts of its documents (the context's ``parts``:
        ``templates/parts/<parts>.j2`` for every format, or each format's own until they
        are moved there, see :data:`explainer.render.syntax.ONE_TREE_PARTS`), and the
        context builder that fills them (``render/context.py``)."""
        raise NotImplementedError

    @property
    def figures(self) -> dict[str, str]:
        """Its figures by file name (``fit``, ``resp``, ...), each the name of the maker
        in ``render/plots.py`` that draws it (the log-likelihood's is every run's)."""
        raise NotImplementedError

    def point_label(self, x: Any) -> str:
        """A point as a figure's tick label."""
        return f"{x:g}"

    def setup_values(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """The data and the starting parameters as an exam's Moodle and QTI setups state
        them: the points, and per component ``k``, ``weight`` and its parameters."""
        raise NotImplementedError


# Counts up to this enter a density's printed equation exactly (a binomial coefficient, a
# factorial); above it through their logs (log-gamma): 10^6! has 5.6 million digits,
# C(10^9, 5 x 10^8) 300 million.
EXACT_COUNTS = 10_000
# Digits of those logs: a log of 10^10 known to 10^-25, so that exp of it keeps 20.
_LOG_DIGITS = 45


def log_gamma(n: int) -> Decimal:
    """log((n - 1)!) to :data:`_LOG_DIGITS` significant digits (mpmath)."""
    import mpmath

    with mpmath.workdps(_LOG_DIGITS):
        return Decimal(mpmath.nstr(mpmath.loggamma(n), _LOG_DIGITS, strip_zeros=False))


def exp_of_logs(log_factor: Decimal, *powers: tuple[int, Decimal]) -> Decimal:
    """exp(log_factor) times each base**count of *powers*, through logs (0 when a base
    is 0 with a count above 0), in the caller's precision."""
    total = log_factor
    for count, base in powers:
        if count:
            if base == 0:
                return Decimal(0)
            total += count * base.ln()
    return total.exp()


class FamilyDocument(Document):
    """What a page writes for one family's mixture.

    Subclasses implement :meth:`density_terms` and :meth:`update_terms`, and set
    :attr:`complement` where the page writes 1 - p beside p.
    """

    model: Family
    parts = "familyparts"
    figures = {"fit": "family_fit", "resp": "resp"}

    @classmethod
    def asked(cls, model: type[Gaussian] | type[Family], kind: str, dim: int
              ) -> Asked | None:
        """The family's parameter: its words, and check's name for it (``lambda[k]``,
        ``q[k,c]``)."""
        if kind != model.symbol:
            return None
        return Asked(cls.words.asked, model.quantity_names(dim))

    # Whether the document writes 1 - p beside p (binomial, Bernoulli).
    complement = False
    # The fit figure's kind: "bars" (the data's share of each value of the support
    # beside the mixture's probabilities), "coordinates" (a vector's probabilities of a
    # 1, coordinate by coordinate) or "density" (the data's histogram beside the
    # mixture's density over the support, a continuous axis).
    figure = "bars"
    # What f_k(x_n) is of a point, in words: a probability (a count, a category, a
    # vector of 0s and 1s), or a density (a waiting time).
    likelihood, likelihoods = "probability", "probabilities"

    # The model's parameter and its shape, as the page needs them.
    @property
    def parameter(self) -> str:
        return self.model.parameter

    @property
    def vector(self) -> bool:
        return self.model.vector

    def setup_values(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """The points (a category by its name, successes with their trials, counts and
        0/1 answers as whole numbers, waiting times as numbers) and per component its
        weight and parameter ``value``, with the ``family`` and ``categories``."""
        problem = self.problem
        if problem.categories is not None:
            data: list[Any] = [problem.categories[int(v)] for v in problem.data]
        elif problem.trials is not None:  # successes of trials
            data = np.stack([problem.data, problem.trials], axis=1).astype(int).tolist()
        elif np.all(problem.data == np.floor(problem.data)):  # counts, 0/1 answers
            data = problem.data.astype(int).tolist()
        else:  # waiting times
            data = problem.data.tolist()
        value = getattr(problem, self.parameter)
        return data, [{"k": k + 1, "weight": float(problem.weights[k]),
                       "value": value[k].tolist(), "family": self.name,
                       "categories": problem.categories}
                      for k in range(problem.components)]

    # ------------------------------------------------------------------ the steps

    def density_terms(self, sheet: Any, key: tuple[Any, ...], cell: Any, n: int, k: int,
                      cells: Any) -> dict[str, Any]:
        """The operands of one density f_k(x_n) as the E-step's table writes them.

        Parameters
        ----------
        sheet : Sheet
            The sheet of printed numbers (:class:`explainer.render.sheet.Sheet`).
        key : tuple
            The key under which the equation is registered on *sheet*.
        cell : Cell
            The printed f_k(x_n).
        n, k : int
            The point and the component, counted from 0.
        cells : ParamCells
            The printed parameters of this iteration.

        Returns
        -------
        dict
            The terms ``templates/parts/families/<name>.j2``'s ``density`` writes; the
            equation that gives *cell* from them is registered on *sheet*, so that the
            display rule gives the operands the digits the result needs.
        """
        raise NotImplementedError

    def update_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any
                     ) -> dict[str, Any]:
        """The written-out sums of component *k*'s new parameter, with their equations.

        Parameters
        ----------
        sheet : Sheet
            The sheet of printed numbers.
        index : int
            The iteration, counted from 0.
        k : int
            The component, counted from 0.
        mstep : MStep
            The M-step (its sums and parameters).
        r : mapping of int to Cell
            The printed r_nk of the points in *terms*.
        terms : list of int or None
            The points each sum writes; None marks the elided ones, which enter each sum
            as one subtotal.
        nk : Cell
            The printed N_k.
        new : Cell or list of Cell
            The new parameter's printed cells.

        Returns
        -------
        dict
            The terms ``templates/parts/families/<name>.j2``'s ``update`` writes.
        """
        raise NotImplementedError

    def weighted_sum(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None]
                     ) -> tuple[Any, dict[str, Any]]:
        """sum_n r_nk x_n written out (Poisson, exponential): its printed cell, with its
        equation (the omitted rows enter as one subtotal), and the terms for the page."""
        data = np.asarray(self.problem.data, dtype=float)
        x = {n: sheet.cell(("x", n), float(data[n]), given=True)
             for n in terms if n is not None}
        total = sheet.cell(("sum_rx", index, k), float(mstep.sum_rx[k]))
        pairs = [c for n in terms if n is not None for c in (r[n], x[n])]
        rest, gap = gap_of(terms), None
        if rest:
            assert mstep.detail is not None
            gap = gap_term(rest, rx=sheet.subtotal(("sum_rx-rest", index, k),
                                                   mstep.detail.resp[rest, k] * data[rest]))
            sheet.equation(("sum_rx", index, k), total, [*pairs, gap["rx"]],
                           sh.products_and_rest)
        else:
            sheet.equation(("sum_rx", index, k), total, pairs, sh.sum_of_products)
        return total, {"terms": [gap if n is None else {"n": n + 1, "r": r[n], "x": x[n]}
                                 for n in terms], "sum": total}

    def subset_terms(self, sheet: Any, index: int, k: int, mstep: MStep,
                     r: Mapping[int, Any], terms: list[int | None], nk: Any, new: Any,
                     members: Any, labels: list[str]) -> dict[str, Any]:
        """Bernoulli and categorical updates: entry j of the parameter is the sum of
        r_nk over the points in ``members(n, j)``, divided by N_k."""
        assert mstep.detail is not None
        rest = gap_of(terms)
        entries = []
        for j, label in enumerate(labels):
            chosen = [n for n in terms if n is not None and members(n, j)]
            # The omitted points among them enter as one subtotal, braced with the rows
            # it was taken from.
            hidden = [n for n in rest if members(n, j)]
            gap = None if not hidden else gap_term(rest, r=sheet.subtotal(
                ("sum_rx-rest", index, k, j), mstep.detail.resp[hidden, k]))
            total = sheet.cell(("sum_rx", index, k, j), float(mstep.sum_rx[k, j]),
                               given=not chosen and not hidden)
            if chosen or hidden:
                sheet.equation(("sum_rx", index, k, j), total,
                               [r[n] for n in chosen] + ([gap["r"]] if gap else []), sh.d_sum)
            sheet.equation((self.parameter, index, k, j), new[j], [total, nk],
                           lambda a, b: a / b)
            entries.append({"j": j + 1, "label": label,
                            "members": [gap if n is None else {"n": n + 1, "r": r[n]}
                                        for n in terms
                                        if (n is None and gap) or n in chosen],
                            "sum": total, "new": new[j]})
        return {"entries": entries}

    def estep_remarks(self, problem: Any) -> list[dict[str, Any]]:
        """Remarks of the family's own under an E-step (named by kind)."""
        return []

    def document_remarks(self, trace: Any) -> list[dict[str, Any]]:
        """Remarks of the family's own on the whole run."""
        return []

    def point(self, n: int) -> dict[str, Any]:
        """Point n as the documents write it: ``x`` (a count; a Bernoulli vector's 0s and
        1s; a category's name), and what else belongs to it (a binomial's trials)."""
        return {"x": int(self.problem.data[n])}

    # ------------------------------------------------------------------ figures

    def support(self, params: list[Params]) -> tuple[np.ndarray, list[str]] | None:
        """The values a point can take, to draw each component's probabilities over (with
        their labels), for *params* (the start and the end); None where they are too
        many to draw (Bernoulli vectors: 2^d)."""
        return None
