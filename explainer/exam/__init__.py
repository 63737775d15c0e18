"""Exam variants: ``em-explainer exam TEMPLATE -n 30 --seed 7 -o DIR``.

TEMPLATE is a problem spec in which values may be *generators*, plus an ``exam``
section saying what is asked:

    data: {count: {range: [5, 6]}, range: [0, 10], decimals: 0}   # points on a grid
    components: 2
    init:
      weights: {choice: [[0.5, 0.5], [0.4, 0.6]]}   # a whole list, or per component
      means: {range: [1, 9], decimals: 0}            # K distinct values, sorted
      variances: {choice: [1, 2, 4], same: true}     # one draw for every component
    exam: {ask: [r, N, pi, mu], allow_tiny: false}

``{range: [lo, hi], decimals: d}`` draws from the grid lo, lo + 10^-d, ..., hi;
``{choice: [...]}`` picks one item. The data's generator draws *count* distinct values,
sorted; with ``repeat: true`` independent ones (counts that may repeat, categories from
a ``choice``), with ``dims: d`` rows of d independent values (0/1 answers for a
Bernoulli mixture: ``{count: 6, dims: 3, range: [0, 1]}``; points in the plane:
``dims: 2``). For the per-component starting values a generator gives one value per
component (distinct and sorted for the means), or one for all with ``same: true``; in
the plane ``{range: [0, 6], decimals: 0, dims: 2}`` gives K distinct rows of means, and
a ``choice`` of 2 x 2 matrices a covariance per component (or one for all).

Every variant is drawn from its own random stream (seed, variant number), so
variant 7 is the same whether 10 or 1,000 are made. A draw is kept only when it is
hand-computable: points and parameters on the template's grids; every number the hand
calculation computes or uses (densities, weighted densities, p(x_n), r_nk, the M-step's
sums) with two significant digits at the display precision, at least 10^-(decimals-1)
(unless ``allow_tiny``); components that stay distinct (each keeps at least half a
point, means apart by at least a unit of the data grid), and no collapse; a choice
asked (``assign``: which component has the largest responsibility for a point;
``moves``: which mean, or a binomial's p or a Poisson's rate, moves furthest and which
way) clear by as much in both calculations; otherwise it is drawn again.

Every number is given with the answers accepted (:mod:`explainer.grading.accepted`):
from the least to the largest that a calculation without a slip gives (at full
precision, or rounding every intermediate to the display precision or to one more,
each also with a point's last r_nk as 1 minus the others: they can differ by several
units, since a density of 0.005 written to three decimals is 10 % off), half a unit
wider either side; every export and ``check`` state the same interval. Where it would
hold an answer 5 % off the key, the questions name the key's calculation and only its
answers are accepted (``grading.carry`` in the variant's problem.yaml). The key's own
value follows the template's ``display.carry``.

The package: :mod:`.draw` reads a template and draws a variant's spec, :mod:`.variant`
keeps a hand-computable variant with its answers, :mod:`.exports` writes the exam (a
variant at a time, on every core through :mod:`.workers`).
"""

from __future__ import annotations

from .draw import MAX_EXAM_POINTS, default_ask, draw_spec, load_template
from .exports import (CSV_HEADER, MAX_VARIANTS, csv_rows, folder_name, parse_variant_id,
                      variant_id, write_exam)
from .variant import Variant, answers_of, asked, hand_computable, make_variant, variants

__all__ = ["CSV_HEADER", "MAX_EXAM_POINTS", "MAX_VARIANTS", "Variant", "answers_of",
           "asked", "csv_rows", "default_ask", "draw_spec", "folder_name",
           "hand_computable", "load_template", "make_variant", "parse_variant_id",
           "variant_id", "variants", "write_exam"]
