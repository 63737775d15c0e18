"""Practice mode: the HTML page in which the student works each iteration shown in full
and the page checks every answer, offline, as ``check`` grades it.

For each iteration shown in full the page gets two panels of inputs, put by its script
under the E-step's and the M-step's headings: every point's density under each component
and its p(x_n) (as the worked table writes them), every r_nk, and the log-likelihood of
the parameters the iteration starts from; every N_k, and the new weights and parameters
the M-step re-estimates (their entries, for a vector), each beside the weighted sum it
divides. Each input is named as ``check``'s answers file names the quantity
(``dens[3,1]``, ``r[3,1]``, ``sx[1]``, ``it2.mu[1]``). The worked section stays hidden
until the student has answered all of its panel or asks to see it; a wrong answer's
button shows the line it is compared with.

What the page grades by is :func:`practice_data`, written into the page as JSON: the
interval ``check`` accepts for each quantity (:mod:`.accepted`), the problem's data and
starting parameters (from which the page's script makes the E-step and M-step in the
student's hands for follow-through, as :class:`.check._Student` does), and the catalogue
of named mistakes (:mod:`.mistakes`). The tests hold the page's verdicts to ``check``'s.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
from markupsafe import Markup

from ..errors import ProblemError
from ..families import MODELS, model_of
from ..render.documents import document_of
from ..trace import Trace
from .check import grade
from .mistakes import MISTAKES
from .quantities import kinds_of

# The points a practice page asks about (each with a row of K inputs per iteration).
MAX_POINTS = 30


def refusal(trace: Trace) -> str | None:
    """Why this trace has no practice page (None: it has one)."""
    problem = trace.problem
    if not MODELS[problem.family].rounded_carry_written(problem.dim):
        return (f"practice mode is for a problem worked by hand: in one dimension or in "
                f"the plane, not in {problem.dim}")
    if problem.n_samples > MAX_POINTS:
        return (f"practice mode is for a problem worked by hand: at most {MAX_POINTS} "
                f"points, but this one has {problem.n_samples:,}")
    if not any(it.detailed for it in trace.iterations):
        return "practice mode needs an iteration shown in full (display.detail)"
    return None


def practice_data(trace: Trace) -> dict[str, Any]:
    """What the page's script grades by: the problem as it computes with it, the
    quantities (name, section ``e`` or ``m``) with the intervals ``check`` accepts, and
    the named mistakes; ``key``, a hash of it all (the answers a browser keeps)."""
    problem = trace.problem
    why = refusal(trace)
    if why is not None:
        raise ProblemError("--practice", why)
    shown = [i + 1 for i, it in enumerate(trace.iterations) if it.detailed]
    names = _quantities(trace, shown)
    graded = grade(problem, [("practice", name, "") for name, _ in names])
    model = model_of(problem)
    start = trace.start.params
    data: dict[str, Any] = {
        "family": problem.family, "kernel": problem.kernel, "decimals": problem.decimals,
        "N": int(problem.n_samples), "K": int(problem.components),
        "x": np.asarray(problem.data, dtype=float).tolist(),
        "trials": None if problem.trials is None else problem.trials.tolist(),
        "update": list(problem.update), "parameters": list(problem.parameters),
        "start": {name: np.asarray(start.get(name), dtype=float).tolist()
                  for name in problem.parameters},
        "log_constant": model.log_constant(problem.data).tolist(),
        "quantities": [
            {"name": name, "iteration": row["iteration"], "kind": row["kind"],
             "n": row["n"], "k": row["k"], "entry": row["entry"], "column": row["column"],
             "section": section,
             "low": row["low"], "high": row["high"], "correct": row["correct"]}
            for (name, section), row in zip(names, graded["rows"])],
        "mistakes": MISTAKES, "symbol": model.symbol, "dim": int(problem.dim),
        "covariance_type": problem.covariance_type,
        # (a mean vector and a covariance matrix per component: the plane's Gaussian)
        "plane": "cov" in kinds_of(problem),
    }
    text = json.dumps(data, sort_keys=True, allow_nan=False)
    data["key"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return data


def _quantities(trace: Trace, shown: list[int]) -> list[tuple[str, str]]:
    """Each quantity of the iterations *shown* (as ``check`` names it, the first
    iteration's without ``it1.``) and its section: ``e`` or ``m``."""
    problem = trace.problem
    model = model_of(problem)
    kinds = kinds_of(problem)
    update = problem.update
    n, k = problem.n_samples, problem.components
    width = getattr(model, "width", None)
    found = []
    for i in shown:
        prefix = "" if i == 1 else f"it{i}."
        for a in range(n):  # the table of densities, then the responsibilities
            found += [(f"{prefix}dens[{a + 1},{b + 1}]", "e") for b in range(k)]
            found.append((f"{prefix}px[{a + 1}]", "e"))
        found += [(f"{prefix}r[{a + 1},{b + 1}]", "e") for a in range(n) for b in range(k)]
        found.append((f"{prefix}loglik", "e"))
        found += [(f"{prefix}N[{b + 1}]", "m") for b in range(k)]
        if "weights" in update:
            found += [(f"{prefix}pi[{b + 1}]", "m") for b in range(k)]
        if "var" in kinds:  # one dimension: a mean and a variance per component, each
            for kind, total, name in (("mu", "sx", "means"), ("var", "ss", "variances")):
                if name in update:  # with the weighted sum it divides
                    found += [(f"{prefix}{q}[{b + 1}]", "m") for q in (total, kind)
                              for b in range(k)]
        if "cov" in kinds:  # the plane: a mean's coordinates, a covariance's entries
            if "means" in update:
                found += [(f"{prefix}{q}[{b + 1}][{i + 1}]", "m") for q in ("sx", "mu")
                          for b in range(k) for i in range(problem.dim)]
            if "variances" in update:  # (the scatter's entries the update reads)
                spread = problem.covariance_type
                found += [(f"{prefix}ss[{b + 1}][{i + 1},{j + 1}]", "m") for b in range(k)
                          for i, j in _ESTIMATED["diag" if spread == "spherical" else spread]]
                found += [(f"{prefix}cov[{b + 1}][{i + 1},{j + 1}]", "m") for b in range(k)
                          for i, j in _ESTIMATED[spread]]
        if model.symbol is not None and problem.parameters[1] in update:
            for q in ("sx", *model.sums, model.symbol):
                if width is None:
                    found += [(f"{prefix}{q}[{b + 1}]", "m") for b in range(k)]
                else:
                    found += [(f"{prefix}{q}[{b + 1},{e + 1}]", "m")
                              for b in range(k) for e in range(width)]
    return found


def _written(point: Any) -> Any:
    """A point as its row's label writes it: a whole number without ``.0`` (a row of
    them each so), another number as Python's shortest repr (``4.5``), a name as it is."""
    if isinstance(point, list):
        return [_written(v) for v in point]
    if isinstance(point, float):
        return int(point) if point.is_integer() else repr(point)
    return point


# The entries of a 2 x 2 covariance each type estimates (the others follow: a diagonal
# one's 0, a spherical one's second variance, the entry below the diagonal).
_ESTIMATED = {"full": ((0, 0), (0, 1), (1, 1)), "tied": ((0, 0), (0, 1), (1, 1)),
              "diag": ((0, 0), (1, 1)), "spherical": ((0, 0),)}


# The quantities' symbols in TeX, indexed by the component, and in words (an input's
# label); another family's parameter: its document's symbol and entry.
_TEX = {"r": "r", "N": "N_k", "pi": r"\pi_k", "mu": r"\mu_k", "var": r"\sigma^2_k",
        "loglik": r"\ell", "sx": r"\sum_n r_{nk} x_n", "ss": r"\sum_n r_{nk} (x_n - \mu_k)^2",
        "sf": r"\sum_n r_{nk} (m_n - x_n)"}
_WORDS = {"N": "N", "pi": "weight", "mu": "mean", "var": "variance",
          "sx": "weighted sum of the points", "ss": "weighted sum of squares",
          "sf": "expected failures"}
# The M-step's tables: the weights, then each parameter with the sum it divides.
_GROUPS = (("N", "pi"), ("sx", "sf", "mu"), ("ss", "var", "cov"))


def _column(q: dict[str, Any], symbol: str | None, words: Any,
            categorical: bool) -> tuple[str, str]:
    """An M-step column's header (TeX) and its inputs' label (before the component)."""
    kind, entry, column = q["kind"], q["entry"], q["column"]
    if kind == "cov":
        return (rf"\Sigma_{{k,{entry}{column}}}",
                f"covariance entry {entry},{column} of component")
    if kind == "ss" and column is not None:
        return rf"S_{{k,{entry}{column}}}", f"scatter entry {entry},{column} of component"
    if kind == "mu" and entry is not None:
        return rf"\mu_{{k,{entry}}}", f"mean coordinate {entry} of component"
    if kind == "sx" and entry is not None:
        # (a category by its number, as the parameter's column names it: q_{k,c})
        what = rf"[x_n = {entry}]" if categorical else f"x_{{n{entry}}}"
        return (rf"\sum_n r_{{nk}} {what}", f"weighted sum (entry {entry}) of component")
    if kind == symbol and entry is not None:
        return (rf"{words.entry}_{{k,{entry}}}", f"{words.entry} (entry {entry}) of component")
    if kind == symbol:
        return rf"{words.symbol}_k", f"{words.parameter or symbol} of component"
    return _TEX[kind], f"{_WORDS[kind]} of component"


def practice_context(trace: Trace) -> dict[str, Any]:
    """The panels' context (templates/html/practice.html.j2): per iteration shown in full
    the E-step's rows (a point, its densities, p(x_n) and r_nk) and log-likelihood, the
    M-step's tables (the weights; each parameter with its weighted sum), each of columns
    (a quantity's symbol and its entry per component); the named mistakes' explanations
    as HTML; and :func:`practice_data` as JSON (``<``, ``>`` and ``&`` escaped: it sits
    in a script element)."""
    from ..render.html import inline_html

    data = practice_data(trace)
    problem = trace.problem
    document = document_of(problem)
    points, _ = document.setup_values()
    words = document.words
    symbol = model_of(problem).symbol
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    iterations = []
    for i in sorted({q["iteration"] for q in data["quantities"]}):
        mine = [q for q in data["quantities"] if q["iteration"] == i]
        rows = [{"n": n + 1, "point": _written(points[n]),
                 **{kind: [q for q in mine if q["kind"] == kind and q["n"] == n + 1]
                    for kind in ("dens", "px", "r")}}
                for n in range(problem.n_samples)]
        columns: dict[tuple[str, Any], dict[str, Any]] = {}
        for q in mine:
            if q["section"] != "m":
                continue
            column = columns.get((q["kind"], q["entry"], q["column"]))
            if column is None:
                tex, label = _column(q, symbol, words,
                                      problem.categories is not None)
                column = columns[(q["kind"], q["entry"], q["column"])] = {
                    "kind": q["kind"], "header": inline_html(f"${tex}$"), "label": label,
                    "cells": []}
            column["cells"].append(q)
        groups = [[c for c in columns.values() if c["kind"] in kinds
                   or (kinds[0] == "sx" and c["kind"] == symbol)] for kinds in _GROUPS]
        iterations.append({"index": i, "rows": rows, "groups": [g for g in groups if g],
                           "loglik": next(q for q in mine if q["kind"] == "loglik")})
    gaussian = symbol is None
    plane = "cov" in kinds_of(problem)
    scaled = "" if problem.kernel == "normalized" or not gaussian else r"\propto "
    dens = (r"\mathcal{{N}}(x_n \mid \mu_{{{k}}}, \Sigma_{{{k}}})" if plane else
            r"\mathcal{{N}}(x_n \mid \mu_{{{k}}}, \sigma_{{{k}}}^2)" if gaussian
            else "f_{{{k}}}(x_n)")
    return {"data_json": Markup(text), "point": words.point, "iterations": iterations,
            "names": list(problem.names) if problem.names else None,
            "K": problem.components, "decimals": problem.decimals, "proportional": bool(scaled),
            "headers": {"r": [inline_html(f"$r_{{n{k + 1}}}$")
                              for k in range(problem.components)],
                        "dens": [inline_html(f"${scaled}{dens.format(k=k + 1)}$")
                                 for k in range(problem.components)],
                        "px": inline_html(f"${scaled}p(x_n)$"),
                        "loglik": inline_html(f"${_TEX['loglik']}$")},
            "explanations": [{"id": m["id"], "html": inline_html(m["explain"])}
                             for m in MISTAKES]}
