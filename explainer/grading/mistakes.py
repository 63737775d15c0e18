"""Named mistakes: the slips a student makes working EM by hand, as data that any grader
evaluates (``check`` here; a page's script with the same catalogue), and its evaluator.

The catalogue, :data:`MISTAKES`, holds only lists, strings and numbers (it is written to
JSON as it is). Each mistake has

- ``id`` and ``name`` (what a verdict says: "wrong: forgot to normalise"), and
  ``explain``, one line of Markdown with TeX math saying what the right step does;
- ``kinds``, the quantities it can explain, as ``check``'s answers name them (``r``,
  ``N``, ``pi``, ``mu``, ``var``, ``cov``, ``loglik``, a family's ``p``, ``lambda``,
  ``q``, and the working ``dens``, ``px``, ``sx``, ``ss``), or ``"*"`` for every number;
- ``models``, the model plug-ins' names it belongs to, or ``"*"``; ``dims``, the
  dimensions it belongs to (absent: all);
- ``values``, the expressions of the answers the mistake gives; ``each: "m"`` evaluates
  them once for every other point m (m != n);
- ``world`` (optional): the E-step made again from the iteration's parameters with a
  parameter changed (``{"variances": ["sqrt", "@"]}``, ``@`` being each entry) or with
  the normal constant left out (``{"kernel": "proportional"}``); ``led`` and the E-step's
  values are then those of that E-step;
- ``match``: ``"rounding"`` (the answer as written equals the value) or, by default,
  ``"inputs"`` (within the rounding of the student's own inputs, as follow-through is).

An expression is a number, a name (a value of the iteration, below), or a list: an
operator and its operands (``["/", a, b]``, ``["sqrt", a]``, ``["sum", "m", body]`` over
the points m or the components j), or an array and its indices (``["r", "m", "k"]``).

The names, each the iteration's as the student's answers make it (their own earlier
answers where they gave one, the right values from them elsewhere):
``led`` (what their earlier answers give the quantity answered), ``correct`` (the key's
value), ``decimals`` (asked), ``typed`` (the answer's own decimals), ``N`` (points),
``K`` (components), ``x[n]`` (1-D data), ``pi0[k]`` and ``mu0[k]`` (the weights and
means the iteration starts from), ``weighted[n,k]`` (pi_k f_k(x_n)), ``p[n]`` (p(x_n)),
``r[n,k]``, ``Nk[k]``, ``loglik``, ``log_constant[n]`` (a point's log-density term that no
parameter changes: a binomial's log C(m_n, x_n), a Poisson's -log x_n!).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from ..backend import round_half_up
from ..numbers import decimal_of

_ONE = {"sqrt": math.sqrt, "log": math.log, "log10": math.log10, "exp": math.exp}
_TWO = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a / b, "pow": lambda a, b: a ** b}
# Rounding at a number of decimals: as a calculator does (ties away from zero), down, up.
_ROUND = {"round": lambda a, d: round_half_up(a, d),
          "down": lambda a, d: _directed(a, d, ROUND_FLOOR),
          "up": lambda a, d: _directed(a, d, ROUND_CEILING)}
# The indices a sum runs over: the points (m) or the components (j).
_RANGE = {"m": "N", "j": "K"}


def _directed(value: float, decimals: int, rounding: str) -> float:
    unit = Decimal(1).scaleb(-int(decimals))
    return float(decimal_of(value).quantize(unit, rounding=rounding))


_R = r"r_{nk}"
MISTAKES: list[dict[str, Any]] = [
    {"id": "not-normalised", "name": "forgot to normalise", "kinds": ["r"], "models": "*",
     "explain": rf"$\pi_k f_k(x_n)$ is only the numerator of ${_R}$: divide it by "
                r"$p(x_n) = \sum_j \pi_j f_j(x_n)$, so that the point's row adds up to 1.",
     "values": [["weighted", "n", "k"]]},
    {"id": "not-normalised-with-constant", "name": "forgot to normalise", "kinds": ["r"],
     "models": ["gaussian"], "dims": [1], "world": {"kernel": "normalized"},
     "explain": rf"$\pi_k \mathcal{{N}}(x_n \mid \mu_k, \sigma_k^2)$ is only the numerator of "
                rf"${_R}$: divide it by $p(x_n)$, the sum of the point's row of numerators.",
     "values": [["weighted", "n", "k"]]},
    {"id": "weight-dropped", "name": "the weight left out of the numerator", "kinds": ["r"],
     "models": "*",
     "explain": rf"the numerator of ${_R}$ is $\pi_k f_k(x_n)$, the component's density "
                r"times its weight $\pi_k$, as in each term of the denominator.",
     "values": [["/", ["/", ["weighted", "n", "k"], ["pi0", "k"]], ["p", "n"]]]},
    {"id": "weights-dropped", "name": "the weights left out", "kinds": ["r"], "models": "*",
     "explain": rf"${_R} = \pi_k f_k(x_n) / \sum_j \pi_j f_j(x_n)$: each density is "
                r"multiplied by its component's weight $\pi_j$.",
     "values": [["/", ["/", ["weighted", "n", "k"], ["pi0", "k"]],
                 ["sum", "j", ["/", ["weighted", "n", "j"], ["pi0", "j"]]]]]},
    {"id": "weights-dropped-mixture", "name": "the weights left out", "kinds": ["px"],
     "models": "*",
     "explain": r"$p(x_n) = \sum_k \pi_k f_k(x_n)$: each density is multiplied by its "
                r"component's weight $\pi_k$.",
     "values": [["sum", "j", ["/", ["weighted", "n", "j"], ["pi0", "j"]]]]},
    {"id": "other-point", "name": "the mixture density of another point", "kinds": ["r"],
     "models": "*", "each": "m",
     "explain": rf"the denominator of ${_R}$ is $p(x_n)$, the mixture density of the same "
                r"point $x_n$ as the numerator.",
     "values": [["/", ["weighted", "n", "k"], ["p", "m"]]]},
    {"id": "sd-for-variance", "name": "σ used for σ²", "kinds": ["r", "loglik", "dens", "px"],
     "models": ["gaussian"], "dims": [1], "world": {"variances": ["sqrt", "@"]},
     "explain": r"the density $\mathcal{N}(x \mid \mu_k, \sigma_k^2)$ takes the variance "
                r"$\sigma_k^2$ (as given) in $\frac{1}{\sqrt{2\pi\sigma_k^2}}$ and in "
                r"$\frac{(x - \mu_k)^2}{2\sigma_k^2}$, not the standard deviation.",
     "values": ["led"]},
    {"id": "constant-dropped", "name": "the normal constant dropped with unequal variances",
     "kinds": ["r", "dens", "px"], "models": ["gaussian"], "dims": [1],
     "world": {"kernel": "proportional"},
     "explain": r"$c_k = \frac{1}{\sqrt{2\pi\sigma_k^2}}$ cancels only when the variances "
                r"are equal; here each density keeps its own $c_k$.",
     "values": ["led"]},
    {"id": "constant-kept", "name": "the normal constant kept", "kinds": ["dens", "px"],
     "models": ["gaussian"], "dims": [1], "world": {"kernel": "normalized"},
     "explain": r"with equal variances the table drops $c_k = \frac{1}{\sqrt{2\pi\sigma^2}}$"
                r": it is the same for every component and cancels in $r_{nk}$, so each "
                r"entry is $\exp\left(-\frac{(x_n - \mu_k)^2}{2\sigma^2}\right)$ alone.",
     "values": ["led"]},
    {"id": "constant-left-out", "name": "the normal constant left out of the log-likelihood",
     "kinds": ["loglik"], "models": ["gaussian"], "dims": [1],
     "world": {"kernel": "proportional"},
     "explain": r"the log-likelihood is that of the densities themselves: "
                r"$\sum_n \ln p(x_n)$ with each $c_k = \frac{1}{\sqrt{2\pi\sigma_k^2}}$ kept "
                r"(even where it cancels in $r_{nk}$).",
     "values": [["sum", "m", ["log", ["p", "m"]]]]},
    {"id": "p-swapped", "name": "p and 1 − p swapped",
     "kinds": ["r", "loglik", "dens", "px"],
     "models": ["binomial", "bernoulli"], "world": {"p": ["-", 1, "@"]},
     "explain": r"a success has probability $p_k$ and a failure $1 - p_k$: the successes "
                r"are the exponent of $p_k$.",
     "values": ["led"]},
    {"id": "rate-inverted", "name": "λ for 1/λ", "kinds": ["r", "loglik", "dens", "px"],
     "models": ["exponential"], "world": {"rates": ["/", 1, "@"]},
     "explain": r"the density is $\lambda_k e^{-\lambda_k x}$ with the rate $\lambda_k$ "
                r"(events per unit), whose mean wait is $1/\lambda_k$.",
     "values": ["led"]},
    {"id": "rate-inverted-update", "name": "λ for 1/λ", "kinds": ["lambda"],
     "models": ["exponential"],
     "explain": r"$\sum_n r_{nk} x_n / N_k$ is the mean wait $1/\lambda_k$; the rate is "
                r"$\lambda_k = N_k / \sum_n r_{nk} x_n$.",
     "values": [["/", 1, "led"]]},
    {"id": "coefficient-dropped", "name": "the binomial coefficient dropped",
     "kinds": ["loglik"], "models": ["binomial"],
     "explain": r"$\binom{m_n}{x_n}$ cancels in $r_{nk}$ but not in $p(x_n)$: the "
                r"log-likelihood keeps it.",
     "values": [["-", "led", ["sum", "m", ["log_constant", "m"]]]]},
    {"id": "factorial-dropped", "name": "the x! dropped", "kinds": ["loglik"],
     "models": ["poisson"],
     "explain": r"$x_n!$ cancels in $r_{nk}$ but not in $p(x_n)$: the log-likelihood "
                r"keeps it.",
     "values": [["-", "led", ["sum", "m", ["log_constant", "m"]]]]},
    {"id": "log10", "name": "log base 10 for the natural log", "kinds": ["loglik"],
     "models": "*",
     "explain": r"the log-likelihood is $\sum_n \ln p(x_n)$, with the natural logarithm.",
     "values": [["/", "led", ["log", 10]]]},
    {"id": "not-divided", "name": "N_k not divided by N", "kinds": ["pi"], "models": "*",
     "explain": r"$\pi_k = N_k / N$: the weights add up to 1.",
     "values": [["Nk", "k"]]},
    {"id": "divided-by-n", "name": "divided by N instead of N_k",
     "kinds": ["mu", "var", "cov", "lambda", "p", "q"],
     "models": ["gaussian", "poisson", "bernoulli", "categorical"],
     "explain": r"the weighted sum is divided by $N_k = \sum_n r_{nk}$, the points the "
                r"component is responsible for, not by all $N$ points.",
     "values": [["/", ["*", "led", ["Nk", "k"]], "N"]]},
    {"id": "old-mean", "name": "the old mean used in the variance", "kinds": ["var"],
     "models": ["gaussian"], "dims": [1],
     "explain": r"$\sigma_k^2 = \sum_n r_{nk} (x_n - \mu_k)^2 / N_k$ with the new mean "
                r"$\mu_k$ of this M-step.",
     "values": [["/", ["sum", "m", ["*", ["r", "m", "k"],
                                     ["pow", ["-", ["x", "m"], ["mu0", "k"]], 2]]],
                 ["Nk", "k"]]]},
    {"id": "old-mean-scatter", "name": "the old mean used in the variance", "kinds": ["ss"],
     "models": ["gaussian"], "dims": [1],
     "explain": r"the weighted sum of squares is $\sum_n r_{nk} (x_n - \mu_k)^2$ around the "
                r"new mean $\mu_k$ of this M-step.",
     "values": [["sum", "m", ["*", ["r", "m", "k"],
                             ["pow", ["-", ["x", "m"], ["mu0", "k"]], 2]]]]},
    {"id": "sd-for-variance-update", "name": "σ used for σ²", "kinds": ["var"],
     "models": ["gaussian"], "dims": [1],
     "explain": r"the M-step gives the variance $\sigma_k^2$ itself, not its square root.",
     "values": [["sqrt", "led"]]},
    {"id": "rounding", "name": "a rounding slip", "kinds": "*", "models": "*",
     "match": "rounding",
     "explain": "round the value at full precision, half away from zero, to the decimals "
                "asked.",
     "values": [["round", "correct", "typed"], ["down", "correct", "decimals"],
                ["up", "correct", "decimals"]]},
]


def applies(mistake: Mapping[str, Any], kind: str, model: str, dim: int) -> bool:
    """Whether *mistake* can explain an answer of *kind* in a *model* of dimension *dim*."""
    return ((mistake["kinds"] == "*" or kind in mistake["kinds"])
            and (mistake["models"] == "*" or model in mistake["models"])
            and dim in mistake.get("dims", (dim,)))


def evaluate(expression: Any, values: Mapping[str, Any],
             bound: Mapping[str, int]) -> float:
    """The value of *expression* (see the module's docstring) with the iteration's
    *values* and the indices *bound* (``n``, ``k``, ``m``, ...)."""
    if isinstance(expression, bool):
        raise TypeError(f"not an expression: {expression!r}")
    if isinstance(expression, (int, float)):
        return float(expression)
    if isinstance(expression, str):
        return float(values[expression])
    head, *args = expression
    if head == "sum":
        index, body = args
        return math.fsum(evaluate(body, values, {**bound, index: i})
                         for i in range(int(values[_RANGE[index]])))
    if head in _ONE:
        return _ONE[head](evaluate(args[0], values, bound))
    if head in _TWO:
        return _TWO[head](*(evaluate(a, values, bound) for a in args))
    if head in _ROUND:
        value, decimals = (evaluate(a, values, bound) for a in args)
        return _ROUND[head](value, int(decimals))
    array = values[head]
    return float(array[tuple(bound[index] for index in args)])


def candidates(mistake: Mapping[str, Any], values: Mapping[str, Any],
               bound: Mapping[str, int]) -> list[float]:
    """The answers *mistake* gives (several where it is made with every other point);
    those that are no number are left out."""
    if "each" in mistake:
        others = [{**bound, mistake["each"]: m} for m in range(int(values["N"]))
                  if m != bound.get("n")]
    else:
        others = [dict(bound)]
    found = []
    for where in others:
        for expression in mistake["values"]:
            try:
                value = evaluate(expression, values, where)
            except (ArithmeticError, ValueError, KeyError, IndexError, TypeError):
                continue
            if math.isfinite(value):
                found.append(value)
    return found
