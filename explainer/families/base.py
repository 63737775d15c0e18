"""What every family of a mixture beyond the Gaussian shares: the E-step and M-step
written against the arithmetic backend, and the reading of a family's spec.

A family supplies its log density f_k(x_n), the sums of its M-step (its sufficient
statistics) and its update, and reads its data and its starting parameter. The
E-step (r_nk = pi_k f_k(x_n) / sum_j pi_j f_j(x_n), in log space) and the weights'
update (pi_k = N_k / N) are the Gaussian's, through the same backend.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from .. import backend
from .. import defaults
from ..backend import FLOAT, Backend, BudgetExceeded
from ..trace import EStep, Event, FamilyDetail, FamilyMStepDetail, MStep, Params, Start

if TYPE_CHECKING:
    from ..problem import Problem


class Family:
    """One family of component distributions, bound to a problem's data.

    Subclasses set :attr:`name`, :attr:`parameter` (the spec's init key and the
    :class:`~explainer.trace.Params` field) and :attr:`vector` (whether the parameter is
    a vector per component), and implement :meth:`log_density`, :meth:`statistics`,
    :meth:`estimate`, :meth:`read_data` and :meth:`read_parameter`.
    """

    name = ""
    parameter = ""
    # How the documents write the parameter, and the answers to 'check' name it.
    symbol = ""
    vector = False
    # The sums its page writes beyond sum_n r_nk x_n, as check names them (a binomial's
    # expected failures: sf).
    sums: tuple[str, ...] = ()
    # Whether every point is whole numbers (counts, indices of categories): their exact
    # form is the whole number. Otherwise (waiting times) the data are read as written.
    whole_data = True
    # Whether the data are names (a categorical's categories): a spec's data are read as
    # words, and a figure labels each one on its axis.
    named_data = False
    # What an entry of a vector parameter is one of, and the letter that indexes it in
    # check's names (``q[k,c]``, a category; ``p[k,i]``, a coordinate).
    entry = "coordinate"
    entry_letter = "i"
    # The family's own model keys (model.<key> of explainer.spec.KEYS).
    model_keys: tuple[str, ...] = ()

    # An exam's M-step sum of no term (a coordinate no point has a 1 in) is an exact 0,
    # written as such: not a sum too small to write.
    exact_zero_sums = True

    def __init__(self, problem: "Problem"):
        self.problem = problem
        self.trials = problem.trials
        self.categories = problem.categories

    # ------------------------------------------------------------------ a saved run

    def saved_names(self) -> dict[str, str]:
        """The name a saved trace gives each parameter (by its Params field): the weights
        and the family's, by their own names."""
        return {"weights": "weights", self.parameter: self.parameter}

    # An M-step has no scatter sum (a Gaussian's sum_rsq).
    has_scatter = False

    def shapes(self, k: int) -> dict[str, tuple[int, ...]]:
        """The shape of each parameter of *k* components (by its Params field)."""
        return {"weights": (k,), self.parameter: (k,) if self.width is None else (k, self.width)}

    def sum_shapes(self, k: int) -> dict[str, tuple[int, ...]]:
        """The shape of each of an M-step's sums (by its MStep field)."""
        return {"nk": (k,), "sum_rx": self.shapes(k)[self.parameter]}

    def saved_sums(self, x: np.ndarray, resp: np.ndarray
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The M-step's sums that a saved trace's responsibilities give (float), each with
        the scale its rounding error is measured against: sum_n r_nk x_n of the data as
        the sums weigh them."""
        values = np.asarray(self.encoded(x), dtype=float)
        return {"sum_rx": (resp.T @ values, resp.T @ np.abs(values))}

    def updated_from_sums(self, mstep: MStep) -> tuple[str, np.ndarray, float] | None:
        """The parameter an M-step's saved sums give, with its scale (None when the step
        does not update it)."""
        if self.parameter not in mstep.updated:
            return None
        stats = {"sum_rx": mstep.sum_rx}
        if mstep.sum_rm is not None:
            stats["sum_rm"] = mstep.sum_rm
        full = mstep.nk >= defaults.EMPTY_COMPONENT_NK
        return self.parameter, self.estimate(stats, np.where(full, mstep.nk, 1.0),
                                             backend.FLOAT), 1.0

    def out_of_range(self, params: Params) -> tuple[str, str] | None:
        """The parameter outside its range, and what it should be (None when none is):
        rates >= 0, probabilities from 0 to 1."""
        value = params.get(self.parameter)
        if self.parameter == "rates":
            return ("rates", "expected rates >= 0") if np.any(value < 0) else None
        if np.any(value < 0) or np.any(value > 1):
            return (self.parameter, "expected probabilities from 0 to 1")
        return None

    def detail_of(self, x: np.ndarray, params: Params, xp: Backend,
                  **arrays: np.ndarray) -> FamilyDetail:
        """An E-step's per-point record from its saved arrays (``log_weighted``,
        ``log_mixture``, ``resp``); each point's log density is derived on demand."""
        return FamilyDetail(x=x, params=params, family=self, xp=xp, **arrays)

    def mstep_detail_of(self, x: np.ndarray, resp: np.ndarray, before: Params,
                        after: Params) -> FamilyMStepDetail:
        """An M-step's per-point record: the E-step's r_nk and the data."""
        return FamilyMStepDetail(x=x, resp=resp)

    # ------------------------------------------------------------------ check

    @classmethod
    def rounded_carry_written(cls, dim: int) -> bool:
        """A hand calculation (rounded carry) writes every family out: ``check`` also
        accepts its values."""
        return True

    @classmethod
    def entry_kinds(cls, dim: int) -> tuple[str, ...]:
        """The kinds ``check`` names as a d >= 2 Gaussian's entries (none: a vector
        parameter's entries are p[k,i] and q[k,c])."""
        return ()

    # ------------------------------------------------------------------ exam draws

    def exam_refusal(self) -> str | None:
        """Why an exam cannot be drawn of this problem (None: it can)."""
        return None

    def worked_sums(self, mstep: MStep) -> list[np.ndarray]:
        """The M-step's sums a hand calculation works out, each of which must have two
        significant digits at the display precision: N_k and sum_n r_nk x_n."""
        return [mstep.nk, mstep.sum_rx]

    def first_densities(self, xp: Backend) -> tuple[np.ndarray, np.ndarray] | None:
        """No quick first test of an exam draw (None): a family's draws are tested on
        the whole run."""
        return None

    def too_close(self, params: Params, least: float, grid: float) -> str | None:
        """Why an exam draw's components do not stay apart after an M-step (None when
        they do): their parameters must differ by *least* in some entry (a binomial's
        p, a Poisson's rate, a vector's entries)."""
        k = self.problem.components
        value = params.get(self.parameter).reshape(k, -1)
        apart = np.abs(value[:, None, :] - value[None, :, :]).max(axis=2)
        if np.any(apart[np.triu_indices(k, 1)] < least):
            return f"two components' parameters closer than {least:g}"
        return None

    # ------------------------------------------------------------------ the model

    def log_density(self, xp: Backend, x: np.ndarray, params: Params) -> np.ndarray:
        """Each point's log density under each component.

        Parameters
        ----------
        xp : Backend
            The arithmetic (float, rounded carry or exact): every operation goes
            through it, so that a hand calculation rounds and an exact run stays exact.
        x : ndarray of shape (n_samples,) or (n_samples, d)
            The data as read (:meth:`read_data`).
        params : Params
            The parameters; ``params.get(self.parameter)`` has shape (n_components,) or
            (n_components, d).

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            log f_k(x_n), with :meth:`log_constant` included.
        """
        raise NotImplementedError

    def log_constant(self, x: np.ndarray, xp: Backend = FLOAT) -> np.ndarray:
        """Each point's term of the log-density that no parameter changes (a binomial's
        log C(m_n, x_n), a Poisson's -log x_n!; 0 where there is none), in *xp*'s
        arithmetic: the log density adds it, a named mistake leaves it out of the
        log-likelihood."""
        return np.zeros(x.shape[0])

    def statistics(self, xp: Backend, x: np.ndarray, resp: np.ndarray) -> dict[str, np.ndarray]:
        """The M-step's sums (the family's sufficient statistics).

        Parameters
        ----------
        xp : Backend
            The arithmetic.
        x : ndarray of shape (n_samples,) or (n_samples, d)
            The data.
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities r_nk.

        Returns
        -------
        dict of str to ndarray
            ``sum_rx``, sum_n r_nk x_n of shape (n_components,) or (n_components, d)
            (of the :meth:`encoded` data), and any sums of the family's own (a
            binomial's ``sum_rm``, sum_n r_nk m_n), each of the same leading shape.
        """
        values = self.encoded(x)
        if values.ndim > 1 and xp.name == "rounded":
            # A hand calculation's sums, column by column (its sums are of 1-D columns).
            return {"sum_rx": np.stack([xp.column_sums(resp, values[:, i])
                                        for i in range(values.shape[1])], axis=1)}
        return {"sum_rx": xp.column_sums(resp, values)}

    def estimate(self, stats: Mapping[str, np.ndarray], nk: np.ndarray,
                 xp: Backend) -> np.ndarray:
        """The M-step's update: every component's new parameter from the sums.

        Parameters
        ----------
        stats : mapping of str to ndarray
            :meth:`statistics`'s sums.
        nk : ndarray of shape (n_components,)
            N_k = sum_n r_nk, none of them 0 (an empty component's is replaced by 1 and
            its result discarded).
        xp : Backend
            The arithmetic.

        Returns
        -------
        ndarray of shape (n_components,) or (n_components, d)
            The new parameter.
        """
        raise NotImplementedError

    def working_sums(self, stats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The M-step's sums as its page writes them, by the names ``check`` gives them:
        ``sx`` (sum_n r_nk x_n) and the family's own :attr:`sums`."""
        return {"sx": stats["sum_rx"]}

    def with_sums(self, stats: Mapping[str, np.ndarray],
                  sums: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The M-step's sums made from written ones (:meth:`working_sums`'s, a student's
        for follow-through)."""
        return {**stats, "sum_rx": sums["sx"]}

    def encoded(self, x: np.ndarray) -> np.ndarray:
        """The data as the sums weigh them (a categorical point as its indicator row)."""
        return x

    def boundary(self, value: np.ndarray) -> np.ndarray:
        """Which entries of a parameter are on the edge of their range (p of 0 or 1, a
        rate of 0), where some points get probability 0."""
        return (value == 0) | (value == 1)

    # (What a page writes for the family is its document plug-in's:
    # explainer/render/documents/.)

    def on(self, values: np.ndarray) -> "Family":
        """This family for other points *values* (a binomial's keep its trials)."""
        return self

    @property
    def width(self) -> int | None:
        """The entries of a vector parameter per component (None for a number)."""
        return self.problem.dim if self.vector else None

    # ------------------------------------------------------------------ the steps

    def e_step(self, x: np.ndarray, params: Params, xp: Backend) -> EStep:
        """The E-step of *params*: r_nk = pi_k f_k(x_n) / sum_j pi_j f_j(x_n), in log space.

        Parameters
        ----------
        x : ndarray of shape (n_samples,) or (n_samples, d)
            The data.
        params : Params
            The weights, shape (n_components,), and the family's parameter.
        xp : Backend
            The arithmetic.

        Returns
        -------
        EStep
            The log-likelihood of *params* and the detail every document reads: the
            responsibilities, shape (n_samples, n_components), each point's log p(x_n)
            and its weighted log densities.
        """
        if xp.budgeted:  # exact: the parameters must be short enough to work with
            self.check_digits(x, params)
        log_densities = self.log_density(xp, x, params)
        log_weighted = backend.log_weighted(xp, log_densities, params.weights)
        resp, log_mixture = xp.mixture_rows(log_densities, params.weights, log_weighted)
        # (A hand calculation writes each log p(x_n), rounded, and adds them up.)
        log_likelihood = float(xp.carry(np.sum(xp.carry(xp.to_float(log_mixture)))))
        for array in (log_weighted, log_mixture, resp):
            array.setflags(write=False)
        detail = FamilyDetail(x=x, params=params, family=self, log_weighted=log_weighted,
                              log_mixture=log_mixture, resp=resp, xp=xp)
        return EStep(params=params, log_likelihood=log_likelihood, detail=detail)

    def check_digits(self, x: np.ndarray, params: Params) -> None:
        """Exact arithmetic: refuse an E-step whose probabilities would be too long to work
        with (and to print): a fraction raised to the largest count has about that many
        times its digits."""
        import sympy as sp

        def digits(value: Any) -> int:
            """The digits of every number in *value* (a fraction, or an expression with
            e^...), counted from their bits: no text of a 10,000-digit number is made."""
            return sum(int(abs(int(n)).bit_length() * 0.30103) + 1
                       for atom in sp.preorder_traversal(value) if atom.is_Rational
                       for n in (atom.p, atom.q))
        power = self.exact_power(x)
        longest = max(digits(v) for v in (*params.weights.ravel(),
                                          *params.get(self.parameter).ravel()))
        if longest * power > defaults.EXACT_MAX_DIGITS:
            raise BudgetExceeded(f"size: the next E-step's probabilities would have about "
                                 f"{longest * power:,} digits (parameters of about "
                                 f"{longest} digits to the power {power}), more than "
                                 f"{defaults.EXACT_MAX_DIGITS:,}")

    def exact_power(self, x: np.ndarray) -> int:
        """How many factors of a parameter a point's probability multiplies at most: the
        largest count (a Poisson's lambda^x); the trials of a binomial, the coordinates
        of a Bernoulli vector, one for a categorical point."""
        return max(1, int(np.max(x)))

    def check_result(self, params: Params) -> None:
        """Exact arithmetic: an M-step's parameters must stay writable (every whole number
        in them below Python's 4,300 digits of text, with room)."""
        import sympy as sp

        longest = max((int(abs(int(n)).bit_length() * 0.30103) + 1
                       for v in (*params.weights.ravel(), *params.get(self.parameter).ravel())
                       for atom in sp.preorder_traversal(v) if atom.is_Rational
                       for n in (atom.p, atom.q)), default=0)
        if longest > defaults.EXACT_MAX_NUMBER_DIGITS:
            raise BudgetExceeded(f"size: the M-step's parameters would hold a number of "
                                 f"about {longest:,} digits, more than "
                                 f"{defaults.EXACT_MAX_NUMBER_DIGITS:,}")

    def m_step(self, x: np.ndarray, resp: np.ndarray, current: Params,
               update: tuple[str, ...], xp: Backend) -> MStep:
        """Re-estimate the parameters named in *update*.

        An empty component (N_k ~ 0) keeps its parameter, and a parameter reaching the
        edge of its range (:meth:`boundary`) is an event the document explains.

        Parameters
        ----------
        x : ndarray of shape (n_samples,) or (n_samples, d)
            The data.
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities of the E-step before.
        current : Params
            The parameters the iteration started from (what is not re-estimated stays).
        update : tuple of str
            The parameters to re-estimate: ``weights`` and/or :attr:`parameter`.
        xp : Backend
            The arithmetic.

        Returns
        -------
        MStep
            N_k, shape (n_components,), the sums, the new parameters and the events.
        """
        nk = xp.simplify(xp.carry(xp.column_sums(resp)))
        nk_float = xp.to_float(nk)
        empty = nk_float < defaults.EMPTY_COMPONENT_NK
        events = [Event("empty_component", int(k), float(nk_float[k]))
                  for k in np.flatnonzero(empty)]
        # (The sums as the family makes them: a hand calculation's column sums are
        # already rounded, and the binomial's S + F must not be rounded again.)
        stats = {name: xp.simplify(xp.canonical(value))
                 for name, value in self.statistics(xp, x, resp).items()}
        self.check_sums(stats, empty, xp)
        weights = (xp.simplify(xp.carry(xp.quotient(nk, x.shape[0]))) if "weights" in update
                   else current.weights.copy())
        old = current.get(self.parameter)
        if self.parameter in update:
            safe = np.where(empty, xp.constant(1.0), nk)
            fresh = xp.simplify(xp.carry(self.estimate(stats, safe, xp)))
            by_k = (slice(None), None) if old.ndim > 1 else (slice(None),)
            new = np.where(empty[by_k], old, fresh)
            edge_before = self.boundary(xp.to_float(old))
            edge_now = self.boundary(xp.to_float(new))
            for index in zip(*np.nonzero(edge_now & ~edge_before)):
                k = int(index[0])
                if not empty[k]:
                    events.append(Event("boundary", k, float(xp.to_float(new)[index]),
                                        cause=str(int(index[1]) + 1) if len(index) > 1
                                        else ""))
        else:
            new = old.copy()
        params = Params(weights=weights, **{self.parameter: new})
        if xp.budgeted:
            self.check_result(params)
        for array in (nk, *stats.values()):
            array.setflags(write=False)
        return MStep(nk=nk, sum_rx=stats["sum_rx"], sum_rsq=None, params=params,
                     updated=update, events=tuple(events),
                     detail=FamilyMStepDetail(x=x, resp=resp), sum_rm=stats.get("sum_rm"))

    def followed(self, x: np.ndarray, params: Params, resp: np.ndarray, nk: np.ndarray,
                 given: Callable[[str, np.ndarray], np.ndarray],
                 update: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The M-step as a student's answers make it (``check``'s follow-through): the
        sums their own responsibilities *resp* lead to (by the kind ``check`` names
        them, :meth:`working_sums`), and the parameter (by its :attr:`symbol`) from
        their answers to those sums and their N_k *nk* where they gave them (*given(kind,
        computed)* puts their answers in)."""
        stats = self.statistics(FLOAT, x, resp)
        led = self.working_sums(stats)
        stats = self.with_sums(stats, {kind: given(kind, value) for kind, value in led.items()})
        led[self.symbol] = (self.estimate(stats, nk, FLOAT) if self.parameter in update
                            else params.get(self.parameter).copy())
        return led

    def answered(self, led: dict[str, np.ndarray], weights: np.ndarray,
                 given: Callable[[str, np.ndarray], np.ndarray]) -> Params:
        """The parameters an iteration ends with in a student's hands: *weights* and the
        parameter their answer gives, else what :meth:`followed` led to."""
        return Params(weights=weights,
                      **{self.parameter: given(self.symbol, led[self.symbol])})

    def check_sums(self, stats: Mapping[str, np.ndarray], empty: np.ndarray,
                   xp: Backend) -> None:
        """Refuse an M-step whose update has no value for a component that is not empty
        (none here: a family whose update divides by a sum says when)."""

    def quotient(self, mstep: MStep, index: tuple[int, ...]) -> tuple[float, float, str]:
        """The M-step's update of one entry of the parameter (*index*: the component, and
        the entry of a vector) as a quotient of its sums: the numerator, the denominator
        and the denominator's name (``nk``: N_k). Here sum_n r_nk x_n / N_k."""
        return float(mstep.sum_rx[index]), float(mstep.nk[index[0]]), "nk"

    @classmethod
    def spec_keys(cls) -> tuple[str, ...]:
        """The spec keys that are the family's own: ``init.<parameter>`` and its ``model``
        keys (another model's spec refuses them)."""
        return (f"init.{cls.parameter}", *(f"model.{key}" for key in cls.model_keys))

    @classmethod
    def quantity_names(cls, dim: int) -> str:
        """How ``check`` names the parameter's quantities, for its help: ``lambda[k]``, or
        ``q[k,c]`` of a vector."""
        return f"{cls.symbol}[k,{cls.entry_letter}]" if cls.vector else f"{cls.symbol}[k]"

    @classmethod
    def kinds(cls, dim: int) -> tuple[str, ...]:
        """The quantities ``check`` and the exports name: the parameter by its symbol, and
        ``moves`` where the parameter is a number (a vector has no one move)."""
        return ("r", "N", "pi", cls.symbol, "loglik", "assign") + (
            () if cls.vector else ("moves",))

    def start(self, xp: Backend) -> Start:
        """The start: given, or one M-step from random responsibilities (Dirichlet(1, ...,
        1), as for Gaussians)."""
        problem = self.problem
        if problem.init_method == "given":
            return Start("given", self.start_params(problem, xp), problem.seed)
        rng = np.random.default_rng(problem.seed)
        resp = rng.dirichlet(np.ones(problem.components), size=problem.n_samples)
        resp.setflags(write=False)
        fallback = self.fallback(problem.data, problem.components, xp)
        mstep = self.m_step(problem.data, resp, fallback, problem.parameters, xp)
        return Start(problem.init_method, mstep.params, problem.seed, mstep)

    def start_params(self, problem: "Problem", xp: Backend) -> Params:
        """The given starting parameters in *xp*'s arithmetic (exact: as written)."""
        source: Any = problem.exact_inputs if xp.name == "exact" else problem
        assert source is not None
        return Params(weights=xp.asarray(source.weights),
                      **{self.parameter: xp.asarray(getattr(source, self.parameter))})

    def fallback(self, x: np.ndarray, k: int, xp: Backend) -> Params:
        """What a component keeps when random responsibilities leave it empty: equal
        weights and the parameter of the whole data."""
        ones = np.ones((x.shape[0], 1))
        stats = self.statistics(xp, x, xp.asarray(ones))
        whole = self.estimate(stats, xp.asarray([x.shape[0]]), xp)
        return Params(weights=xp.asarray([1] * k) / k,
                      **{self.parameter: np.concatenate([whole] * k)})

    # ------------------------------------------------------------------ the spec

    @classmethod
    def spec_values(cls, problem: Problem) -> dict[str, Any]:
        """The data and the family's own spec keys as the spec writes them back
        (:func:`explainer.families.writing.spec_of`), by path; a key left out is absent.
        Here the data (whole numbers as such) and the given ``init.<parameter>``."""
        values = {"data": cls.written_data(problem)}
        start = problem.given_as_written(cls.parameter)
        if start is not None:
            values[f"init.{cls.parameter}"] = start
        return values

    @classmethod
    def written_data(cls, problem: Problem) -> Any:
        """The data as the spec writes it: counts as whole numbers, other data (waiting
        times) as written."""
        if not np.all(problem.data == np.floor(problem.data)):
            return problem.as_written("data")
        return problem.data.astype(int).tolist()

    @classmethod
    def read_data(cls, spec: Mapping[str, Any], raw: list[Any] | None,
                  numbers: list[Any] | None) -> dict[str, Any]:
        """The family's data from the spec, checked (an error names the entry).

        Parameters
        ----------
        spec : mapping
            The whole spec (for the family's ``model`` keys).
        raw : list or None
            The spec's own ``data`` list, as written (categories as words).
        numbers : list or None
            The points as the Gaussian's reader reads them (floats, or rows of floats).

        Returns
        -------
        dict
            ``data``, a float array of shape (n_samples,) or (n_samples, d), and
            ``trials`` or ``categories`` where the family has them.
        """
        raise NotImplementedError

    @classmethod
    def read_parameter(cls, init: Mapping[str, Any], components: int,
                       read: Mapping[str, Any]) -> list[Any]:
        """The starting parameter, ``init.<parameter>``, checked (an error names the entry).

        Parameters
        ----------
        init : mapping
            The spec's ``init`` section.
        components : int
            K, the number of components.
        read : mapping
            What :meth:`read_data` returned (a binomial's trials, the categories).

        Returns
        -------
        list
            The parameter as written, exact (Fractions): K numbers, or K rows.
        """
        raise NotImplementedError


def xlogy(xp: Backend, counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """counts_n * log(values_k), shape (n_samples, n_components[, d]), with 0 log 0 = 0
    (a count of 0 gets no factor, whatever the value)."""
    logs = xp.log(values)
    counts = counts.reshape(counts.shape[0], 1, *counts.shape[1:])
    with np.errstate(invalid="ignore"):
        product = counts * logs[None]
    return np.where(counts == 0, xp.constant(0.0), product)


def log_factorials(xp: Backend, counts: np.ndarray) -> np.ndarray:
    """log(c!) of each count."""
    if xp.name == "exact":
        return xp.log(xp.asarray([math.factorial(int(c)) for c in counts]))
    values, inverse = np.unique(counts, return_inverse=True)
    logs = np.array([math.lgamma(v + 1.0) for v in values.tolist()])
    return logs[inverse.reshape(-1)]


def data_in(problem: Problem, xp: Backend) -> np.ndarray:
    """The points in *xp*'s arithmetic (exact: as the user wrote them)."""
    if xp.name == "exact":
        assert problem.exact_inputs is not None
        x = xp.asarray(problem.exact_inputs.data)
        x.setflags(write=False)
        return x
    return problem.data
