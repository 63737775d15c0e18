"""A variant kept: drawn until it is hand-computable (every number the hand calculation
writes has two significant digits at the display precision, components stay apart, a
choice asked is clear), with its asked quantities and their answers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator

import numpy as np

from ..backend import FLOAT, Backend, RoundedBackend, round_half_up
from ..engine import run, run_with
from ..errors import ProblemError
from ..families import model_of
from ..fields import flag_of
from ..grading import (CHOICES, E_STEP_KINDS, PARAMETER_OF, Quantity, answer_value, location,
                       moves)
from ..grading.accepted import SLIP, key_path, table
from ..problem import Problem
from ..trace import Trace
from ..validation import validate
from .draw import MAX_DRAWS, default_ask, draw_spec


def asked(problem: Problem, kinds: list[str]) -> list[Quantity]:
    """Every quantity of the asked kinds, iteration by iteration (another family's
    parameter entry by entry for a vector)."""
    model = model_of(problem)
    out = []
    for iteration in range(1, max(problem.iterations, 1) + 1):
        for kind in kinds:
            if problem.iterations == 0 and kind not in E_STEP_KINDS:
                continue
            if kind == "r":
                out += [Quantity(iteration, "r", n, k) for n in range(problem.n_samples)
                        for k in range(problem.components)]
            elif kind == "assign":
                out += [Quantity(iteration, "assign", n) for n in range(problem.n_samples)]
            elif kind == "moves":
                if location(problem) in problem.update:
                    out.append(Quantity(iteration, "moves"))
            elif kind == "loglik":
                out.append(Quantity(iteration, "loglik"))
            elif kind in ("pi", "mu", "var", "cov") and PARAMETER_OF[kind] not in problem.update:
                continue
            elif kind in model.entry_kinds(problem.dim):  # a vector's or matrix's entries
                d = problem.dim
                out += [Quantity(iteration, kind, k=k, i=i, j=j) for k in range(problem.components)
                        for i in range(d) for j in ([None] if kind == "mu" else range(i, d))]
            elif kind == model.symbol:  # another family's parameter (the Gaussian has none)
                if model.parameter not in problem.update:
                    continue
                entries = [None] if model.width is None else range(model.width)
                out += [Quantity(iteration, kind, k=k, i=i) for k in range(problem.components)
                        for i in entries]
            else:
                out += [Quantity(iteration, kind, k=k) for k in range(problem.components)]
    return out


def hand_computable(trace: Trace, allow_tiny: bool, grid: float,
                    rounded: Trace | None = None, margin: float = 1.0,
                    kinds: tuple[str, ...] = ()) -> str | None:
    """Why a drawn variant is not hand-computable (None when it is).

    Every number a student computes or uses in the hand calculation *rounded* (rounded
    carry; default *trace*) -- densities, weighted densities, p(x_n), r_nk and the
    M-step's sums -- must have two significant digits at the display precision, at
    least 10^-(decimals - 1) (unless *allow_tiny*). With *margin* < 1 the bound is that
    much lower: a quick test on the full-precision run that refuses only what the hand
    calculation (a few units of the last decimal away) would refuse too.

    A choice asked (*kinds*: ``assign``, ``moves``) must be clear in both calculations,
    and the same: the largest responsibility of each point, or the largest move, ahead
    of the next by 10^-(decimals - 1) (a move by as much, too)."""
    problem = trace.problem
    model = model_of(problem)
    rounded = trace if rounded is None else rounded
    least = margin * 10.0 ** -(problem.decimals - 1)
    if not allow_tiny:
        esteps = [it.estep for it in rounded.iterations] or [rounded.final]
        for estep in esteps:
            detail = estep.detail
            why = _too_small((("density", detail.density),
                              ("weighted density", detail.weighted_density),
                              ("mixture density p(x_n)", detail.mixture_density),
                              ("responsibility", detail.resp)), least)
            if why is not None:
                return why
        for it in rounded.iterations:
            sums = model.worked_sums(it.mstep)
            # (A family's sum of no term may be an exact 0, written as such.)
            exact_zero = model.exact_zero_sums
            if any(np.any((np.abs(np.asarray(v, dtype=float)) < least)
                          & ~(exact_zero & (np.asarray(v, dtype=float) == 0)))
                   for v in sums):
                return f"a sum of the M-step below {least:g} (fewer than two significant digits)"
    for it in trace.iterations:
        if np.any(it.mstep.nk < 0.5):
            return "a component with less than half a point"
        why = model.too_close(it.mstep.params, least / margin, grid)
        if why is not None:
            return why
    if trace.events:
        return "a collapse or an empty component"
    return _unclear_choice(trace, rounded, kinds, least)


def _unclear_choice(trace: Trace, rounded: Trace, kinds: tuple[str, ...],
                    least: float) -> str | None:
    """Why a choice asked of the variant is not clear (see :func:`hand_computable`)."""
    problem = trace.problem
    for made in (trace,) if rounded is trace else (trace, rounded):
        esteps = [it.estep for it in made.iterations] or [made.final]
        if "assign" in kinds and problem.components > 1:
            for estep in esteps:
                top = np.sort(np.asarray(estep.detail.resp, dtype=float), axis=1)
                if np.any(top[:, -1] - top[:, -2] < least):
                    return (f"a point whose two largest responsibilities are closer than "
                            f"{least:g}")
        if "moves" in kinds and location(problem) in problem.update:
            for it in made.iterations:
                shift = np.sort(np.abs(moves(problem, it.estep.params, it.mstep.params)[1]))
                if shift[-1] < least or len(shift) > 1 and shift[-1] - shift[-2] < least:
                    return f"two moves, or a move and 0, closer than {least:g}"
    if rounded is not trace:
        for q in asked(problem, [kind for kind in kinds if kind in CHOICES]):
            if answer_value(trace, q) != answer_value(rounded, q):
                return "a choice the hand calculation answers otherwise"
    return None


def _too_small(named: Any, least: float) -> str | None:
    """Which of the (name, values) pairs *named* has a value below *least*, first."""
    for name, values in named:
        if np.any(np.asarray(values, dtype=float) < least):
            return f"a {name} below {least:g} (fewer than two significant digits)"
    return None


def _densities_too_small(problem: Problem, xp: Backend, margin: float = 1.0) -> str | None:
    """:func:`hand_computable`'s first test (with *margin*) on the model's first E-step (where
    it gives one: the Gaussian's) in *xp*'s arithmetic (the hand calculation's: the
    rounded carry), on its densities and weighted densities alone: the same answer for
    the draws it refuses, without the mixture rows and the rest of the run."""
    found = model_of(problem).first_densities(xp)
    if found is None:  # (a model without them is tested on the whole run)
        return None
    log_densities, log_weighted = found
    return _too_small((("density", xp.exp(log_densities)),
                       ("weighted density", xp.exp(log_weighted))),
                      margin * 10.0 ** -(problem.decimals - 1))


@dataclass(frozen=True)
class Variant:
    """One exam variant: its number, concrete spec, problem, trace and answers."""

    number: int
    spec: dict[str, Any]
    trace: Trace
    answers: list[dict[str, Any]]


# The quick test's bound, as a fraction of the hand calculation's: 2 units of the last
# decimal where the hand calculation needs 10. Rounded intermediates stay within a few
# units of the full-precision values in a problem of a few points, so the quick test
# refuses no draw the hand calculation would keep (the 1,000 variants of the example,
# seed 7, came out the same to the byte).
QUICK_MARGIN = 0.2


def make_variant(template: dict[str, Any], seed: int, number: int) -> Variant:
    """Variant *number* (1-based) of *template*: drawn until hand-computable."""
    exam = template.get("exam") or {}
    kinds = exam.get("ask", list(default_ask((template.get("model") or {}).get("family"))))
    grid = 10.0 ** -int((template.get("data") or {}).get("decimals", 0)) \
        if isinstance(template.get("data"), dict) else 0.0
    rng = np.random.default_rng([seed, number])
    why = None
    for _ in range(MAX_DRAWS):
        spec = draw_spec(template, rng)
        spec.setdefault("display", {})["detail"] = "all"
        title = exam.get("title") or template.get("title") or "EM by hand"
        spec["title"] = f"{title}: variant {number}"
        problem = validate(spec)
        model = model_of(problem)
        refusal = model.exam_refusal()
        if refusal is not None:
            raise ProblemError("data", refusal)
        allow_tiny = flag_of(exam.get("allow_tiny"), "exam.allow_tiny")
        # Most draws fail, most of them on their first E-step's densities: where the
        # model gives them, those are tested first, before the run.
        first = not allow_tiny
        if first and problem.carry == "full":
            why = _densities_too_small(problem, FLOAT, QUICK_MARGIN)
            if why is not None:
                continue
        trace = run(problem)
        if problem.carry == "full":
            # The hand calculation (exact fractions) is made only for the draws whose
            # full-precision numbers are clearly large enough, and whose hand-carried
            # first densities are.
            why = hand_computable(trace, allow_tiny, grid, margin=QUICK_MARGIN,
                                  kinds=tuple(kinds))
            if why is None and first:
                why = _densities_too_small(problem, RoundedBackend(problem.decimals))
            if why is not None:
                continue
        rounded = trace if problem.carry == "rounded" else run_with(
            replace(problem, carry="rounded"), RoundedBackend(problem.decimals))
        why = hand_computable(trace, allow_tiny, grid, rounded, kinds=tuple(kinds))
        if why is not None:
            continue
        answers = answers_of(problem, kinds, trace, rounded)
        if problem.grading_carry == "any" and any(a["slip"] for a in answers):
            # The calculations a student may carry out end too far apart: the questions
            # name the one to carry out (the key's), and only its answers are accepted.
            spec["grading"] = {**(spec.get("grading") or {}), "carry": problem.carry}
            problem = validate(spec)
            trace = replace(trace, problem=problem)
            answers = answers_of(problem, kinds, trace, rounded)
        why = next((f"an accepted interval of {a['quantity']} that holds a slip of "
                    f"{SLIP:.0%}" for a in answers if a["slip"]), None)
        if why is None:
            return Variant(number, spec, trace, answers)
    raise ProblemError("exam", f"no draw of variant {number} was hand-computable in "
                               f"{MAX_DRAWS} tries (the last had {why}); widen the ranges or "
                               f"set exam.allow_tiny")


def answers_of(problem: Problem, kinds: list[str], trace: Trace,
               rounded: Trace | None = None) -> list[dict[str, Any]]:
    """Every asked quantity's key (the problem's carry: its full-precision or its
    rounded-carry value), both of those values, and the answers accepted (see
    :mod:`explainer.grading.accepted`: an interval, or the options of a choice that a
    calculation without a slip gives). The rounded carry is the hand calculation from
    the question's written values (*rounded*, made when not given)."""
    full = trace if problem.carry == "full" else trace.full
    if rounded is None:
        rounded = (run_with(replace(problem, carry="rounded"), RoundedBackend(problem.decimals))
                if problem.carry == "full" else trace)
    quantities = asked(problem, kinds)
    if not quantities:
        why = ("with stop.iterations 0 there is no M-step: ask r, assign or loglik"
               if problem.iterations == 0 else
               f"the M-step re-estimates only {', '.join(problem.update)} (model.update)")
        raise ProblemError("exam.ask", f"asks for {', '.join(kinds)}, but the exam has none "
                                       f"of them: {why}")
    accepted = table(problem, quantities, full, rounded)
    by_key = key_path(problem)
    out = []
    for q in quantities:
        value, rounded_value = answer_value(full, q), answer_value(rounded, q)
        ok = accepted[q]
        key = ok.values.get(by_key, rounded_value if by_key == "carry" else value)
        choice = q.kind in CHOICES
        if choice:
            value, rounded_value, key = int(value), int(rounded_value), int(key)
        written = key if choice else round_half_up(key, problem.decimals)
        out.append({"quantity": q.label, "iteration": q.iteration, "kind": q.kind,
                    "n": None if q.n is None else q.n + 1, "k": None if q.k is None else q.k + 1,
                    "entry": None if q.i is None else q.i + 1,
                    "column": None if q.j is None else q.j + 1,
                    "value": key, "full": value, "rounded_carry": rounded_value,
                    # The accepted interval (edges included), its centre and half width
                    # (Moodle's and QTI 2.1's tolerance), and the least and the largest
                    # answer of a calculation without a slip, as written.
                    "low": ok.low, "high": ok.high, "centre": ok.centre,
                    "tolerance": 0.0 if choice else ok.half_width,
                    "lowest": ok.lowest, "highest": ok.highest,
                    "slip": ok.holds_a_slip(written),
                    # The options of a choice, in the order they are offered: the
                    # components (assign); each component's parameter up, then down (moves).
                    "options": (list(range(1, problem.components + 1)) if q.kind == "assign"
                                else [s * k for k in range(1, problem.components + 1)
                                      for s in (1, -1)] if q.kind == "moves" else None)})
    return out


def variants(template: dict[str, Any], n: int, seed: int) -> Iterator[Variant]:
    """Variants 1..n, one at a time (a batch of 1,000 is never held at once)."""
    for number in range(1, n + 1):
        yield make_variant(template, seed, number)
