"""Grading answers against the run: each compared with the full-precision and the
rounded-carry values, a wrong one checked for follow-through on the student's own
earlier answers, and the steps of a wrong answer written out."""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from decimal import Decimal
from typing import Any, Iterable

import numpy as np

from ..backend import FLOAT, RoundedBackend, round_half_up
from ..engine import run_with
from ..errors import ProblemError
from ..families import MODELS, family_of, model_of
from ..fields import rounded_work_beyond
from ..numbers import as_written, parse_number
from ..problem import Detail, Problem
from ..trace import EStep, Params, Trace
from .accepted import key_path, table
from .mistakes import MISTAKES, applies, candidates, evaluate
from .quantities import CHOICES, PARAMETER_OF, Quantity, family_kind, parse_quantity
from .values import answer_value


class _Student:
    """The calculation as the student's answers make it: each quantity from the
    student's own earlier values where they gave one, the correct ones elsewhere."""

    def __init__(self, problem: Problem, answers: dict[Quantity, float],
                 places: dict[Quantity, int] | None = None):
        self.problem = problem
        self.answers = answers
        # The decimals each answer was written with (at least the asked ones): how far
        # what it leads to may be off.
        self.places = places or {}
        self.x = problem.data
        self._steps: dict[int, dict[str, Any]] = {}
        self.model = model_of(problem)

    def _given(self, iteration: int, kind: str, computed: np.ndarray) -> np.ndarray:
        """*computed* with the student's answers of this iteration put in."""
        values = np.array(computed, dtype=float)
        for q, v in self.answers.items():
            if q.iteration == iteration and q.kind == kind:
                values[(q.n, q.k) if kind in ("r", "dens") else
                       (q.n,) if kind == "px" else q.entry] = v
                if q.j is not None:  # (a covariance and a scatter matrix are symmetric:
                    values[q.k, q.j, q.i] = v  # cov[k][i,j] is [j,i] too)
        return values

    def params(self, iteration: int, start: Params) -> Params:
        """The parameters iteration *iteration* starts from, in the student's hands."""
        if iteration == 1:
            return start
        # The steps before it, in order and without recursion (10,000 iterations deep).
        done = max((i for i in self._steps if i < iteration), default=0)
        for i in range(done + 1, iteration):
            self.step(i, start)
        return self.step(iteration - 1, start)["after"]

    def step(self, iteration: int, start: Params) -> dict[str, Any]:
        """This iteration in the student's hands: ``led_to``, what their own earlier
        values give each quantity (r, N, pi, the model's sums and parameters, loglik),
        and ``after``, the parameters it ends with, their answers put in."""
        if iteration in self._steps:
            return self._steps[iteration]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # An answer of N_k = 0 or a negative variance leads to no number: NaN, and
            # then nothing is consistent with it.
            self._steps[iteration] = self._step(iteration, start)
        return self._steps[iteration]

    def _step(self, iteration: int, start: Params) -> dict[str, Any]:
        """The E-step, N_k and weights of the student's parameters, then the model's
        M-step on their responsibilities and N_k (:meth:`followed`)."""
        params = self.params(iteration, start)
        try:
            estep = self.model.e_step(self.x, params, FLOAT)
        except np.linalg.LinAlgError:  # a covariance answered that is no covariance
            return self._nothing(iteration, params)
        led_to, resp, nk = self._weights(iteration, estep, params)
        given = functools.partial(self._given, iteration)
        led_to.update(self.model.followed(self.x, params, resp, nk, given,
                                          self.problem.update))
        return {"led_to": led_to, "weighted": np.array(estep.detail.weighted_density),
                "params": params, "estep": estep, "r": resp, "N": nk,
                "after": self.model.answered(led_to, given("pi", led_to["pi"]), given)}

    def _nothing(self, iteration: int, params: Params) -> dict[str, Any]:
        """An iteration from parameters no E-step can use: nothing is what they lead
        to (NaN), the student's answers of it as given."""
        n, k = self.x.shape[0], params.weights.shape[0]
        nan = math.nan
        resp, nk = np.full((n, k), nan), np.full(k, nan)
        led_to = {"loglik": np.array([nan]), "r": resp, "dens": np.full((n, k), nan),
                  "px": np.full(n, nan), "N": nk, "pi": np.full(k, nan)}
        given = functools.partial(self._given, iteration)
        led_to.update({kind: np.full(np.shape(value), nan) for kind, value in
                       self.model.followed(self.x, params, resp, nk, lambda kind, value: value,
                                           self.problem.update).items()})
        return {"led_to": led_to, "weighted": np.full((n, k), nan),
                "after": self.model.answered(led_to, given("pi", led_to["pi"]), given)}

    def _weights(self, iteration: int, estep: EStep,
                 params: Params) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """What any model's E-step, N_k and weights give in the student's hands: the
        values their earlier answers lead to, and their r_nk and N_k put in."""
        assert estep.detail is not None
        led_to: dict[str, np.ndarray] = {"loglik": np.array([estep.log_likelihood]),
                                         "r": np.array(estep.detail.resp),
                                         "dens": np.array(estep.detail.density)}
        # p(x_n) = sum_k pi_k f_k(x_n) of their own densities
        led_to["px"] = self._given(iteration, "dens", led_to["dens"]) @ np.asarray(
            params.weights, dtype=float)
        resp = self._given(iteration, "r", led_to["r"])
        led_to["N"] = resp.sum(axis=0)
        nk = self._given(iteration, "N", led_to["N"])
        led_to["pi"] = (nk / self.x.shape[0] if "weights" in self.problem.update
                        else params.weights.copy())
        return led_to, resp, nk

    def led_to(self, q: Quantity, start: Params) -> float:
        """The value the student's own earlier answers give this quantity."""
        values = self.step(q.iteration, start)["led_to"][q.kind]
        if q.kind in ("r", "dens"):
            return float(values[q.n, q.k])
        if q.kind == "px":
            return float(values[q.n])
        return float(values[0] if q.kind == "loglik" else values[q.entry])

    def row_led_to(self, q: Quantity, start: Params) -> list[tuple[float, float]]:
        """What the student's own earlier responsibilities of the same point give r[n,k],
        each with how far it may be off (their inputs were rounded): 1 - the sum of the
        others for the last component, and pi_k N_nk / p(x_n) with the p(x_n) that an
        earlier r[n,j] = pi_j N_nj / p(x_n) implies (a slip in p(x_n) is one slip)."""
        assert q.kind == "r" and q.n is not None and q.k is not None
        tol = tolerance(self.problem, 1.0)
        earlier = {other.k: v for other, v in self.answers.items()
                   if other.kind == "r" and other.iteration == q.iteration
                   and other.n == q.n and other.k is not None and other.k < q.k}
        found = []
        last = self.problem.components - 1
        if q.k == last and len(earlier) == last:
            found.append((1.0 - sum(earlier.values()), tol * (last + 1)))
        step = self.step(q.iteration, start)
        weighted = step["weighted"][q.n]
        for j, r_j in earlier.items():
            if r_j > tol and weighted[j] > 0:
                ratio = float(weighted[q.k] / weighted[j])
                found.append((r_j * ratio, tol * (1 + ratio)))
        own = [other for other in self.answers if other.iteration == q.iteration
               and other.n == q.n and other.kind in ("dens", "px")]
        if own and "params" in step:
            # pi_k f_k(x_n) / p(x_n) of their own density and p(x_n), each off by half a
            # unit of the decimals it was written with
            dens = float(self._given(q.iteration, "dens", step["led_to"]["dens"])[q.n, q.k])
            px = float(self._given(q.iteration, "px", step["led_to"]["px"])[q.n])
            weight = float(step["params"].weights[q.k])
            if px > 0 and math.isfinite(dens):
                off_dens = self._off(Quantity(q.iteration, "dens", q.n, q.k))
                off_px = (self._off(Quantity(q.iteration, "px", q.n))
                          if Quantity(q.iteration, "px", q.n) in self.answers else
                          sum(float(w) * self._off(Quantity(q.iteration, "dens", q.n, j))
                              for j, w in enumerate(step["params"].weights)))
                found.append((weight * dens / px,
                              weight * (off_dens + dens * off_px / px) / px))
        return found

    def _off(self, q: Quantity) -> float:
        """How far an answer may be off its value as written: half a unit of its last
        decimal (0 where it was not given: the value is what their answers lead to)."""
        if q not in self.answers:
            return 0.0
        return 0.5 * 10.0 ** -max(self.places.get(q, 0), self.problem.decimals)

    def mistake(self, q: Quantity, value: float, typed: str | None, correct: float,
                accepted: Any, start: Params) -> dict[str, Any] | None:
        """The first mistake of the catalogue (:mod:`.mistakes`) that gives *value*, made
        on the student's own earlier values; None if none does. A mistake's answer that
        is accepted, or that is no number, names nothing."""
        problem = self.problem
        bound = {name: index for name, index in (("n", q.n), ("k", q.k)) if index is not None}
        answered = {"correct": correct, "decimals": problem.decimals,
                    "typed": _decimals_typed(typed, problem.decimals)}
        plain: list[dict[str, Any] | None] = []  # (the iteration's own values: made once)
        for mistake in MISTAKES:
            if not applies(mistake, q.kind, problem.family, problem.dim):
                continue
            with np.errstate(all="ignore"):
                world = mistake.get("world")
                if world is None and not plain:
                    plain.append(self._values(q, start, None))
                values = plain[0] if world is None else self._values(q, start, world)
                if values is None:
                    continue
                found = candidates(mistake, {**values, **answered}, bound)
            for candidate in found:
                if mistake.get("match") == "rounding":
                    near = abs(value - candidate) <= 1e-9 * max(1.0, abs(candidate))
                else:
                    near = abs(value - candidate) <= 2 * tolerance(problem, candidate)
                if near and not accepted.accepts(candidate):
                    return {"id": mistake["id"], "name": mistake["name"],
                            "explain": mistake["explain"], "value": candidate,
                            "match": mistake.get("match", "inputs")}
        return None

    def _values(self, q: Quantity, start: Params,
                world: dict[str, Any] | None) -> dict[str, Any] | None:
        """The names a mistake's expressions use (see :mod:`.mistakes`), of the iteration
        of *q* in the student's hands; in a *world*, the E-step's made again from the
        iteration's parameters changed so. None where there is no such E-step."""
        step = self.step(q.iteration, start)
        if "estep" not in step:  # (parameters no E-step can use)
            return None
        params, estep = step["params"], step["estep"]
        led = self.led_to(q, start)
        if world is not None:
            try:
                changed = {name: np.vectorize(lambda v, e=rule: evaluate(e, {"@": v}, {}))(
                    np.asarray(params.get(name), dtype=float))
                    for name, rule in world.items() if name != "kernel"}
                estep = self._e_step(replace(params, **changed), world.get("kernel"))
            except (np.linalg.LinAlgError, ArithmeticError, ValueError):
                return None
            assert estep.detail is not None and q.kind in ("r", "loglik", "dens", "px")
            led = (estep.log_likelihood if q.kind == "loglik" else
                   float(estep.detail.resp[q.n, q.k]) if q.kind == "r" else
                   float(estep.detail.density[q.n, q.k]) if q.kind == "dens" else
                   float(estep.detail.mixture_density[q.n]))
        assert estep.detail is not None
        weighted = np.array(estep.detail.weighted_density, dtype=float)
        model = model_of(self.problem)
        values = {"led": led, "N": self.x.shape[0], "K": weighted.shape[1], "x": self.x,
                  "pi0": np.asarray(params.weights, dtype=float), "weighted": weighted,
                  "p": weighted.sum(axis=1), "r": step["r"], "Nk": step["N"],
                  "loglik": estep.log_likelihood,
                  "log_constant": model.log_constant(self.x)}
        if params.means is not None:
            values["mu0"] = np.asarray(params.means, dtype=float)
        return values

    def _e_step(self, params: Params, kernel: str | None) -> EStep:
        """The E-step of *params* at full precision (a Gaussian's with the kernel of a
        mistake's world where it names one)."""
        model = self.model if kernel is None else model_of(replace(self.problem, kernel=kernel))
        return model.e_step(self.x, params, FLOAT)


def _decimals_typed(typed: str | None, asked: int) -> int:
    """The decimals an answer was written with (``0.44``: 2); *asked* where it was not
    written as a plain decimal."""
    if typed is None or "/" in typed:
        return asked
    try:
        exponent = Decimal(typed).as_tuple().exponent
    except ArithmeticError:
        return asked
    return max(0, -int(exponent)) if isinstance(exponent, int) else asked


def tolerance(problem: Problem, value: float) -> float:
    """Half a unit of the last displayed decimal (an answer rounded to the display
    precision is within it), and a relative 1e-9 for large values."""
    return 0.5 * 10.0 ** -problem.decimals + 1e-9 * abs(value)


def _parsed(problem: Problem, rows: Iterable[tuple[str, str, str]]
            ) -> list[tuple[Quantity, float | None, str | None]]:
    """The answer rows read: each quantity, its value (None: left empty) and its text as
    typed; checked row by row, as the rows are read."""
    parsed = []
    seen: set[Quantity] = set()
    for where, name, text in rows:
        q = parse_quantity(name, problem, where)
        value = None if text == "" else parse_number(text, f"{where} ({name})")
        if q in seen:
            raise ProblemError(where, f"{name!r} is answered twice")
        seen.add(q)
        parsed.append((q, value, as_written(text)))
    if not parsed:
        raise ProblemError("answers", "holds no answers")
    return parsed


def _not_accepted(problem: Problem, q: Quantity, value: float, typed: str | None,
                  correct: float, ok: Any, start: Params, student: "_Student",
                  right: "_Student") -> dict[str, Any]:
    """An answer outside the accepted interval: follow-through (what the student's own
    earlier values give, within rounding: a unit of the last decimal, their inputs were
    rounded too) or wrong, with the mistake that gives it where one does."""
    found: dict[str, Any] = {}
    led_to = student.led_to(q, start)
    # Earlier answers that lead to no number (N_k = 0, a negative variance) lead to nothing.
    finite = math.isfinite(led_to)
    found["led_to"] = led_to if finite else None
    follows = finite and abs(value - led_to) <= 2 * tolerance(problem, led_to) and \
        not ok.accepts(led_to)
    if not follows and q.kind == "r":
        # The same point's earlier responsibilities (1 - their sum; their p(x_n)).
        for other, off in student.row_led_to(q, start):
            if abs(value - other) <= off + tolerance(problem, other) and \
                    not ok.accepts(other):
                follows, found["led_to"] = True, other
                break
    found["status"] = "follow-through" if follows else "wrong"
    if not follows:  # which mistake gives it, made on their own earlier values
        # or on the right ones (an early slip they did not carry on with)
        found["mistake"] = (student.mistake(q, value, typed, correct, ok, start)
                            or right.mistake(q, value, typed, correct, ok, start))
    return found


def grade(problem: Problem, rows: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """Grade answer *rows* (see :func:`read_answers`) against *problem*. For d >= 3 the
    answers are compared with the full-precision run alone: a hand calculation (rounded
    carry) writes out 2 x 2 matrices only."""
    multi = not MODELS[problem.family].rounded_carry_written(problem.dim)
    by_key = key_path(problem)  # (the key's calculation: of the problem as given)
    problem = replace(problem, exact=False, exact_inputs=None, carry="full", tol=None)
    parsed = _parsed(problem, rows)
    # The runs go as far as the answers ask, keeping per-point values for the iterations
    # asked about only.
    asked = frozenset(q.iteration for q, _, _ in parsed)
    if problem.iterations > 0:
        problem = replace(problem, iterations=max(asked))
    problem = replace(problem, detail=Detail(asked))
    beyond = not multi and rounded_work_beyond(problem.n_samples, problem.components,
                                               max(problem.iterations, 1))
    if beyond:
        raise ProblemError("answers", f"grading compares with a hand calculation: {beyond}")
    full = run_with(problem, FLOAT)
    rounded = full if multi else run_with(problem, RoundedBackend(problem.decimals))
    # The answers accepted: those of every calculation without a slip that the problem's
    # grading.carry accepts, as an exam's exports state them.
    accepted = table(problem, [q for q, _, _ in parsed], full, None if multi else rounded)
    student = _Student(problem, {q: v for q, v, _ in parsed if v is not None},
                       {q: _decimals_typed(typed, 0) for q, v, typed in parsed
                        if v is not None})
    right = _Student(problem, {})
    start = full.start.params
    results = []
    for q, value, typed in parsed:
        ok = accepted[q]
        rounded_value = answer_value(rounded, q)
        correct = ok.values.get(by_key, answer_value(full, q))
        row: dict[str, Any] = {"quantity": q.label, "iteration": q.iteration, "kind": q.kind,
                               "n": None if q.n is None else q.n + 1,
                               "k": None if q.k is None else q.k + 1,
                               "entry": None if q.i is None else q.i + 1,
                               "column": None if q.j is None else q.j + 1,
                               "given": value, "given_text": typed,
                               "correct": correct, "rounded_carry": rounded_value,
                               # the accepted interval (edges included) and its least
                               # and largest answer as written (a choice: none)
                               "low": None if ok.choices else ok.low,
                               "high": None if ok.choices else ok.high,
                               "lowest": None if ok.choices else ok.lowest,
                               "highest": None if ok.choices else ok.highest,
                               "note": None, "note_value": None, "led_to": None,
                               "mistake": None}
        if value is None:
            row["status"] = "missing"
        elif ok.accepts(value):
            row["status"] = "correct"
            # Another calculation's answer than the key's: which one gives it.
            path = ok.path_of(value, problem.decimals)
            key_written = correct if ok.choices else round_half_up(correct, problem.decimals)
            if value != key_written and path is not None and path != by_key:
                row["note"], row["note_value"] = path, ok.values[path]
        elif q.kind in CHOICES:  # one of a few options: right or wrong
            row["status"] = "wrong"
        else:
            row.update(_not_accepted(problem, q, value, typed, correct, ok, start, student,
                                     right))
        results.append(row)
    counts = {s: sum(r["status"] == s for r in results)
              for s in ("correct", "follow-through", "wrong", "missing")}
    return {"problem": problem.title, "decimals": problem.decimals, "rows": results,
            "family": problem.family, "family_kind": family_kind(problem),
            "hand": not multi,  # (d >= 3: compared with full precision alone)
            "grading_carry": problem.grading_carry,
            "counts": counts, "score": counts["correct"] + counts["follow-through"],
            "out_of": len(results), "steps": _worked_steps(full, results)}


def _worked_steps(full: Trace, results: list[dict[str, Any]]) -> dict[str, Any]:
    """For each wrong answer, the correct step written out (terms and result), its numbers
    printed by the display rule (each step redone from its printed terms gives its printed
    result; see :mod:`explainer.render.shown`)."""
    from ..render import shown as sh
    from ..render.sheet import Sheet

    sheet = Sheet(full.problem.decimals)
    steps: dict[str, Any] = {}
    for row in results:
        if row["status"] != "wrong" or row["kind"] in CHOICES:
            continue
        q_kind, n, k, i = row["kind"], row["n"], row["k"], row["iteration"]
        if full.problem.iterations == 0:
            estep = full.final
        else:
            estep = full.iterations[i - 1].estep
        assert estep is not None and estep.detail is not None
        detail = estep.detail
        key = (row["quantity"],)
        result = sheet.cell(key + ("result",), float(row["correct"]))
        step: dict[str, Any] = {"kind": q_kind, "result": result}
        if q_kind in ("r", "px"):
            terms = [sheet.cell(key + ("term", j), float(v), log=float(lv)) for j, (v, lv) in
                     enumerate(zip(detail.weighted_density[n - 1], detail.log_weighted[n - 1]))]
            step.update(terms=terms, k=k)
            if q_kind == "r":
                sheet.equation(key, result, terms, lambda *t, k=k: t[k - 1] / sh.d_sum(*t))
            else:  # (p(x_n): its terms' sum, with the kernel's constant or without)
                sheet.equation(key, result, terms, sh.d_sum)
                step.update(kernel=full.problem.kernel)
        elif q_kind in ("dens", "sx", *MODELS[full.problem.family].sums):
            # (the value alone: its terms are the page's)
            step.update(kernel=full.problem.kernel, entry=row["entry"], column=row["column"])
        elif q_kind == family_kind(full.problem) and full.problem.iterations:
            step.update(_family_step(sheet, key, result, full, row))
        elif q_kind in MODELS[full.problem.family].entry_kinds(full.problem.dim):
            step.update(_entry_step(sheet, key, result, full, row))
        elif q_kind in ("N", "pi", "mu", "var") and full.problem.iterations:
            mstep = full.iterations[i - 1].mstep
            resp = [sheet.cell(key + ("r", m), float(v), log=float(lv)) for m, (v, lv) in
                    enumerate(zip(detail.resp[:, k - 1], detail.log_resp[:, k - 1]))]
            nk = sheet.cell(key + ("nk",), float(mstep.nk[k - 1]))
            # (1-D; d >= 2 asks N_k and pi_k alone here, its vectors' entries above)
            plain = detail.x.ndim == 1 and mstep.sum_rx.ndim == 1
            x = [sheet.cell(("x", m), float(v), given=True)
                 for m, v in enumerate(detail.x if plain else ())]
            sum_rx = sheet.cell(key + ("sum_rx",), float(mstep.sum_rx[k - 1])
                                if plain else math.nan)
            gaussian = mstep.sum_rsq is not None and plain
            sum_rsq = sheet.cell(key + ("sum_rsq",), float(mstep.sum_rsq[k - 1])
                                 if gaussian else math.nan)
            mean = sheet.cell(key + ("mean",), float(mstep.params.means[k - 1])
                              if gaussian else math.nan)
            n_samples = len(detail.x)
            updated = PARAMETER_OF.get(q_kind, "") in mstep.updated
            if q_kind == "N":
                sheet.equation(key, result, resp, sh.d_sum)
            elif q_kind == "pi" and updated:
                sheet.equation(key, result, [nk], lambda v: v / n_samples)
            elif q_kind == "mu" and updated:
                sheet.equation(key + ("sum",), sum_rx,
                               [c for m in range(n_samples) for c in (resp[m], x[m])],
                               sh.sum_of_products)
                sheet.equation(key, result, [sum_rx, nk], lambda a, b: a / b)
            elif q_kind == "var" and updated:
                sheet.equation(key, result, [sum_rsq, nk], lambda a, b: a / b)
            step.update(resp=resp, x=x, nk=nk, sum_rx=sum_rx, sum_rsq=sum_rsq, mean=mean,
                        n_samples=n_samples, updated=updated)
        steps[row["quantity"]] = step
    sheet.settle()
    return sheet.freeze(steps)


def _entry_step(sheet: Any, key: tuple[str, ...], result: Any, full: Trace,
                row: dict[str, Any]) -> dict[str, Any]:
    """A d >= 2 mean's coordinate, sum_n r_nk x_ni / N_k, or a full covariance's entry,
    S_k[i, j] / N_k (the scatter around the new mean); another covariance type's entry
    is named, not written out."""
    problem = full.problem
    mstep = full.iterations[row["iteration"] - 1].mstep
    k, i = row["k"] - 1, row["entry"] - 1
    if row["kind"] == "mu":
        numerator = float(mstep.sum_rx[k, i])
        updated = "means" in mstep.updated
    else:
        numerator = float(mstep.sum_rsq[k, i, row["column"] - 1])
        updated = "variances" in mstep.updated
    written = updated and (row["kind"] == "mu" or problem.covariance_type == "full")
    return {**_quotient(sheet, key, result, numerator, float(mstep.nk[k]), "nk", written),
            "updated": updated, "written": written,
            "covariance_type": problem.covariance_type}


def _quotient(sheet: Any, key: tuple[str, ...], result: Any, numerator: float,
              denominator: float, below: str, written: bool) -> dict[str, Any]:
    """A step that is a sum over a denominator (N_k, a binomial's expected trials): the
    cells of both, and its equation when it is *written*."""
    top = sheet.cell(key + ("sum",), numerator)
    bottom = sheet.cell(key + (below,), denominator)
    if written:
        sheet.equation(key, result, [top, bottom], lambda a, b: a / b)
    return {"numerator": top, "denominator": bottom}


def _family_step(sheet: Any, key: tuple[str, ...], result: Any, full: Trace,
                 row: dict[str, Any]) -> dict[str, Any]:
    """Another family's parameter as its M-step computes it: a sum over a denominator
    (binomial: expected successes over expected trials; else a sum of r_nk x_n, or of
    r_nk over the points with a 1 or of a category, over N_k)."""
    problem = full.problem
    mstep = full.iterations[row["iteration"] - 1].mstep
    k = row["k"] - 1
    family = family_of(problem)
    entry = (k, row["entry"] - 1) if family.vector else (k,)
    numerator, denominator, below = family.quotient(mstep, entry)
    updated = problem.parameters[1] in mstep.updated
    return {**_quotient(sheet, key, result, numerator, denominator, below, updated),
            "updated": updated, "family": problem.family,
            "category": None if problem.categories is None
            else problem.categories[row["entry"] - 1]}
