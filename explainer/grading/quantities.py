"""The quantities ``check`` and the exports name (``r[n,k]``, ``it2.mu[1]``, ``cov[k][i,j]``),
parsed against a problem, and the answers files that hold them (CSV or YAML)."""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import ProblemError
from ..families import MODELS
from ..inputs import load_yaml, read_text
from ..problem import Problem

CHOICES = ("assign", "moves")  # the kinds whose answer is one of a few options
# The working a page writes on the way, which ``check`` and practice mode name too (an
# exam asks for the model's kinds alone): a point's density under a component as the
# E-step's table writes it, dens[n,k]; its mixture density p(x_n) as written, px[n]; the
# M-step's weighted sum sx[k] = sum_n r_nk x_n (a vector's entry: sx[k,i], the plane's
# sx[k][i]); and the model's own sums (its plug-in's ``sums``): a Gaussian's ss[k] =
# sum_n r_nk (x_n - mu_k)^2 around the new mean (the plane's scatter entry ss[k][i,j]),
# a binomial's expected failures sf[k].
WORKING = ("dens", "px", "sx")
E_STEP_KINDS = ("r", "assign", "loglik", "dens", "px")  # what an E-step alone answers
# What each kind is called in the spec's parameters.
PARAMETER_OF = {"pi": "weights", "mu": "means", "var": "variances", "cov": "variances"}


def kinds_of(problem: Problem) -> tuple[str, ...]:
    """The quantities a problem's answers may name: its model plug-in's (another family's
    parameter by the symbol its documents write: p, lambda, q), and the working its pages
    write (:data:`WORKING`, and the model's own sums)."""
    model = MODELS[problem.family]
    return model.kinds(problem.dim) + WORKING + model.sums


def entry_kinds(problem: Problem) -> tuple[str, ...]:
    """The kinds named entry by entry in the plane (``mu[k][i]``, ``cov[k][i,j]``, and
    the weighted sums ``sx[k][i]``, ``ss[k][i,j]``)."""
    own = MODELS[problem.family].entry_kinds(problem.dim)
    return own + (("sx", "ss") if own else ())


# The kinds with a matrix entry [i,j] in the plane (the others' second [...] is [i]).
MATRIX_KINDS = ("cov", "ss")


def family_kind(problem: Problem) -> str | None:
    """The kind that names another family's parameter (``p``, ``lambda``, ``q``); None for
    a Gaussian mixture (mu and var, or cov, name its parameters)."""
    return MODELS[problem.family].symbol


_QUANTITY = re.compile(r"^(?:it(?P<it>\d{1,9})\.)?(?P<kind>[A-Za-z]+)"
                       r"(?:\[(?P<a>\d{1,9})(?:\s*,\s*(?P<b>\d{1,9}))?\])?"
                       r"(?:\[(?P<c>\d{1,9})(?:\s*,\s*(?P<d>\d{1,9}))?\])?$")


@dataclass(frozen=True)
class Quantity:
    """One answerable quantity: iteration (1-based), kind and 0-based indices."""

    iteration: int
    kind: str
    n: int | None = None
    k: int | None = None
    # A vector parameter's entry (Bernoulli: the coordinate; categorical: the category;
    # d >= 2: a mean's coordinate, a covariance's row), and a covariance's column.
    i: int | None = None
    j: int | None = None
    # A weighted sum's entry in the plane (sx[k][i]; a vector family's is sx[k,i]).
    plane: bool = False

    @property
    def entry(self) -> tuple[int, ...]:
        """Where a component's parameter answer sits in its array: (k,), a vector's
        (k, i), a covariance's (k, i, j)."""
        return tuple(v for v in (self.k, self.i, self.j) if v is not None)

    @property
    def label(self) -> str:
        plane = self.i is not None and (self.kind == "mu" or self.plane)
        index = ("" if self.kind in ("loglik", "moves") else
                 f"[{self.n + 1}]" if self.kind in ("assign", "px") else
                 f"[{self.k + 1}][{self.i + 1}]" if plane
                 else f"[{self.k + 1}][{self.i + 1},{self.j + 1}]" if self.j is not None else
                 f"[{self.n + 1},{self.k + 1}]" if self.kind in ("r", "dens") else
                 f"[{self.k + 1},{self.i + 1}]" if self.i is not None else f"[{self.k + 1}]")
        return f"it{self.iteration}.{self.kind}{index}"


def parse_quantity(text: str, problem: Problem, field: str) -> Quantity:
    """``it2.mu[1]`` -> Quantity(2, "mu", k=0); a clear error for anything else."""
    match = _QUANTITY.match(text.strip().replace(" ", ""))
    kinds = kinds_of(problem)
    family = family_kind(problem)
    model = MODELS[problem.family]
    vector = family is not None and model.vector
    if match is None or match["kind"] not in kinds:
        name = match["kind"] if match else text
        near = difflib.get_close_matches(str(name), kinds, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        entry = f"[k,{model.entry_letter}]" if vector else "[k]"
        sums = ("sx[k][i], ss[k][i,j]" if entry_kinds(problem) else
                ", ".join([f"sx{entry}"] + [f"{s}[k]" for s in model.sums]))
        raise ProblemError(field, f"unknown quantity {text!r}{hint}; expected r[n,k], N[k], "
                                  f"pi[k], {model.quantity_names(problem.dim)}, loglik, assign[n]"
                                  f"{'' if 'moves' not in kinds else ', moves'}, or the "
                                  f"working dens[n,k], px[n], {sums}; optionally "
                                  f"prefixed itI. "
                                  f"(such as it2.{'mu' if family is None else family}[1"
                                  f"{',1' if vector else ''}])")
    kind = match["kind"]
    if kind in entry_kinds(problem):
        return _entry_quantity(text, match, problem, field)
    if match["c"] is not None:
        raise ProblemError(field, f"{text!r}: a second [...] is for a d >= 2 mean's "
                                  f"coordinate (mu[k][i]) or covariance's entry "
                                  f"(cov[k][i,j])")
    iteration = _iteration(text, match, problem, field)
    a, b = match["a"], match["b"]
    wants = (2 if kind in ("r", "dens") or (kind in (family, "sx") and vector) else
             0 if kind in ("loglik", "moves") else 1)
    given = 0 if a is None else 1 if b is None else 2
    if given != wants:
        shape = (kind if wants == 0 else
                 f"{kind}[{'n' if kind in ('assign', 'px') else 'k'}]" if wants == 1 else
                 f"{kind}[n,k]" if kind in ("r", "dens") else
                 f"{kind}[k,{model.entry_letter}]")  # (a vector family's entry)
        raise ProblemError(field, f"{text!r}: expected {shape}")
    n = k = i = None
    if kind in ("r", "dens", "assign", "px"):
        n, k = int(a) - 1, None if kind in ("assign", "px") else int(b) - 1
        if not 0 <= n < problem.n_samples:
            raise ProblemError(field, f"{text!r}: n is a point, 1 to {problem.n_samples}")
    elif wants == 2:
        k, i = int(a) - 1, int(b) - 1
        from ..families import family_of

        width = family_of(problem).width or 0
        if not 0 <= i < width:
            raise ProblemError(field, f"{text!r}: {model.entry_letter} is a "
                                      f"{model.entry}, 1 to {width}")
    elif wants == 1:
        k = int(a) - 1
    if k is not None and not 0 <= k < problem.components:
        raise ProblemError(field, f"{text!r}: k is a component, 1 to {problem.components}")
    return Quantity(iteration, kind, n, k, i)


def _iteration(text: str, match: Any, problem: Problem, field: str) -> int:
    """The quantity's iteration (itI., 1 by default), one the problem runs and, for an
    E-step only question, one of the E-step's quantities."""
    iteration = int(match["it"]) if match["it"] else 1
    last = max(problem.iterations, 1)
    if not 1 <= iteration <= last:
        raise ProblemError(field, f"{text!r}: the problem runs {problem.iterations} "
                                  f"iteration(s) (stop.iterations), so I is 1 to {last}")
    if problem.iterations == 0 and match["kind"] not in E_STEP_KINDS:
        raise ProblemError(field, f"{text!r}: the problem is an E-step only "
                                  f"(stop.iterations 0): ask r[n,k], assign[n], loglik, "
                                  f"dens[n,k] or px[n]")
    return iteration


def _entry_quantity(text: str, match: Any, problem: Problem, field: str) -> Quantity:
    """A d >= 2 mean's coordinate ``mu[k][i]``, covariance's entry ``cov[k][i,j]``, or
    such an entry of a weighted sum (``sx[k][i]``, the scatter's ``ss[k][i,j]``)."""
    kind, d = match["kind"], problem.dim
    vector = kind not in MATRIX_KINDS
    shape = f"{kind}[k][i]" if vector else f"{kind}[k][i,j]"
    if (match["a"] is None or match["b"] is not None or match["c"] is None
            or (match["d"] is None) != vector):
        what = ("a mean is a vector, a covariance a" if kind in ("mu", "cov") else
                "a weighted sum of points is a vector, a scatter matrix a")
        raise ProblemError(field, f"{text!r}: expected {shape} (d = {d}: {what} "
                                  f"{d} x {d} matrix)")
    iteration = _iteration(text, match, problem, field)
    k, i = int(match["a"]) - 1, int(match["c"]) - 1
    j = None if vector else int(match["d"]) - 1
    if not 0 <= k < problem.components:
        raise ProblemError(field, f"{text!r}: k is a component, 1 to {problem.components}")
    if not all(0 <= v < d for v in (i, j) if v is not None):
        raise ProblemError(field, f"{text!r}: {'i' if vector else 'i and j'} "
                                  f"{'is a coordinate' if vector else 'are coordinates'}"
                                  f", 1 to {d}")
    return Quantity(iteration, kind, k=k, i=i, j=j, plane=kind == "sx")


MAX_ANSWERS = 10_000  # rows of an answers file


def read_answers(path: str | Path) -> list[tuple[str, str, str]]:
    """``(where, quantity, value)`` rows of a CSV (``quantity,value``, header optional)
    or YAML (a mapping, or a list of {quantity, value}) file; value "" is missing."""
    rows = list(iter_answers(path))
    if not rows:
        raise ProblemError("answers", f"{path} holds no answers")
    return rows


def iter_answers(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """The rows of :func:`read_answers` one by one, so that a bad row is reported before
    the rest is read; more than :data:`MAX_ANSWERS` rows is an error."""
    path = Path(path)
    text = read_text(path, "answers")
    count = 0
    for row in _answer_rows(path, text):
        count += 1
        if count > MAX_ANSWERS:
            raise ProblemError("answers", f"{path} has more than {MAX_ANSWERS:,} answers, "
                                          f"the limit")
        yield row


def _answer_rows(path: Path, text: str) -> Iterator[tuple[str, str, str]]:
    if path.suffix.lower() in (".yaml", ".yml"):
        data = load_yaml(text, "answers", path)
        items = data.items() if isinstance(data, dict) else [
            (d.get("quantity"), d.get("value")) if isinstance(d, dict) else (None, None)
            for d in (data if isinstance(data, list) else [])]
        for i, (quantity, value) in enumerate(items, start=1):
            if quantity is None or isinstance(quantity, (list, dict)) or isinstance(
                    value, (list, dict)):
                raise ProblemError(f"answers (item {i})", "expected quantity: value")
            yield (f"answers (item {i})", str(quantity), "" if value is None else str(value))
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if line == 1 and row[0].strip().lower() == "quantity":
                continue
            # r[1,2],0.5 unquoted is three cells: the value is the last one.
            quantity = ",".join(row[:-1]) if len(row) > 1 else row[0]
            yield (f"answers (line {line})", quantity.strip(),
                   row[-1].strip() if len(row) > 1 else "")
    except csv.Error as exc:
        raise ProblemError(f"answers (line {reader.line_num})", f"cannot read {path}: "
                                                                f"{exc}") from None
