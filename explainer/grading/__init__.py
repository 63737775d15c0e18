"""Grading of hand-worked answers: ``em-explainer check SPEC ANSWERS``.

Each answer is correct within the answers accepted (:mod:`.accepted`): from the least
to the largest that a calculation without a slip gives (full precision; every
intermediate rounded to the displayed decimals, ``display.carry: rounded``, or to one
more; each also with a point's last r_nk as 1 minus the others), half a unit wider,
the same interval an exam's exports state; ``grading.carry`` accepts one calculation
alone. A wrong answer that is what the student's own earlier answers lead to is
*follow-through*: the slip was earlier, and is marked there (r[n,K] = 1 - the point's
other answers, and a point's r[n,k] from the p(x_n) its earlier r[n,j] imply, too). The values the
student's answers lead to are computed with the engine's own E-step and M-step
pieces, on the student's numbers.

Quantities: ``r[n,k]``, ``N[k]``, ``pi[k]``, ``mu[k]``, ``var[k]``, ``loglik`` (the
log-likelihood of the parameters the iteration starts from), 1-based, optionally
prefixed ``itI.`` (iteration I; default 1). Two are choices (exact, no follow-through):
``assign[n]``, the component k with the largest responsibility for point n; ``moves``,
which mean (or the scalar parameter of a binomial or Poisson mixture) the M-step moves
furthest, and which way: +k where component k's goes up, -k where it goes down. With
``stop.iterations: 0`` only ``r[n,k]``, ``assign[n]`` and ``loglik`` of the given
parameters can be asked. The other families have
their parameter's symbol instead of ``mu`` and ``var``: ``p[k]`` (binomial),
``p[k,i]`` (Bernoulli, coordinate i), ``lambda[k]`` (Poisson), ``q[k,c]`` (categorical,
category c).
"""

from __future__ import annotations

from .check import grade, tolerance
from .quantities import (CHOICES, E_STEP_KINDS, PARAMETER_OF, Quantity, iter_answers, kinds_of,
                         parse_quantity, read_answers)
from .values import answer_value, location, moves

__all__ = ["CHOICES", "E_STEP_KINDS", "PARAMETER_OF", "Quantity",
           "answer_value", "grade", "iter_answers", "kinds_of", "location", "moves",
           "parse_quantity", "read_answers", "tolerance"]
