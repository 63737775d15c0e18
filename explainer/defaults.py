"""Every default and threshold of em-explainer, named once."""

from __future__ import annotations

SCHEMA = "em-explainer/trace@1"

# Spec defaults.
INIT_METHOD = "given"
INIT_METHODS = ("given", "random_points", "random_responsibilities", "kmeans")
KERNEL = "normalized"
KERNELS = ("normalized", "proportional")
PARAMETERS = ("weights", "means", "variances")
UPDATE = PARAMETERS
# The default model (model.family); every model is a plug-in of explainer/families.
FAMILY = "gaussian"
# The modules of explainer/families/ that are no family plug-in: the shared base, the
# Gaussian's model (a model of its own), the spec readers and writer (the registry and the help,
# which reads the names without importing the modules, skip them).
NOT_FAMILIES = ("base", "gaussian", "reading", "writing")
# Counts (successes, trials, Poisson counts, rates) at most this: a double holds them
# exactly, and x! stays within the reach of its logarithm.
MAX_COUNT = 1e9
MAX_CATEGORIES = 50
ITERATIONS = 1
TOL = None
DECIMALS = 3
DECIMALS_RANGE = (0, 12)
# Rows of a per-point table: every row of a problem of up to 30 points. Beyond, a table
# leaves rows out and each written-out sum writes the terms of those rows as one subtotal.
MAX_ROWS = 30
# The iterations shown in full by default: all of up to SHOW_ALL_UP_TO iterations,
# else DETAIL.
DETAIL = (1,)
SHOW_ALL_UP_TO = 3
HIGHLIGHT = "auto"
# The smallest positive number a scientific calculator shows (10^-99): a point worked
# in full by default has no weighted likelihood below it, so a student can redo it.
CALCULATOR_SMALLEST = 1e-99
COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
COVARIANCE_TYPE = "full"
CARRIES = ("full", "rounded")
CARRY = "full"
# What answers check and the exports accept: any hand calculation, or that one alone.
GRADING_CARRIES = ("any", "full", "rounded")
GRADING_CARRY = "any"
SEED = 0
# The PDF's paper: A4, as most of the world's courses print on, or US Letter.
PAPERS = ("a4", "letter")
PAPER = "a4"
# An exam's moodle.xml: one Cloze question per variant, or a numerical one per quantity.
MOODLE_KINDS = ("cloze", "numerical")

# Validation.
WEIGHT_SUM_TOL = 1e-6
# A given covariance with an eigenvalue below -PSD_TOLERANCE x its largest is refused
# (not a covariance); one between that and 0 is singular, and floored by the engine.
PSD_TOLERANCE = 1e-10

# Numerics.
# A component whose effective number of points N_k falls below this cannot
# re-estimate its mean or variance (0/0); they are kept and the document says so.
EMPTY_COMPONENT_NK = 1e-8
# 1-D: a variance may not fall below (VARIANCE_FLOOR_RESOLUTION x the data's range)^2,
# nor below the absolute floor when every point is equal: a component collapsing onto
# one point would otherwise have an infinite density. The floor touches only such a
# collapse, never a real cluster (families.gaussian.variance_floor). d >= 2: a covariance's smallest
# eigenvalue may not fall below VARIANCE_FLOOR_FRACTION x the smallest variance of the
# data's columns.
VARIANCE_FLOOR_RESOLUTION = 1e-6
VARIANCE_FLOOR_FRACTION = 1e-6
VARIANCE_FLOOR_ABSOLUTE = 1e-12
# A component whose N_k is below this while its variance shrinks is collapsing onto a
# single point: the document says so (the likelihood grows without bound there).
COLLAPSE_NK = 1.5
# exp() of a number below this underflows to 0.0 in double precision.
EXP_UNDERFLOW = -745.0

# Exact arithmetic (display.exact): its budget. The exact run stops after the last
# whole iteration when it has run EXACT_SECONDS, or before an E-step whose parameters
# are too long to work with: the terms of the means and variances times the number of
# points above EXACT_MAX_WORK (SymPy's time grows fast beyond: 1,000 takes about 2 s,
# Other families' exact values are fractions whose digits grow as powers: p^h has about
# h times the digits of p. An E-step whose probabilities would have more digits than
# this is not begun (the iterations before it stay exact).
EXACT_MAX_DIGITS = 1000
MAX_SEED = 2 ** 63 - 1  # (a JSON trace writes it as a 64-bit integer)
# The largest power (count, trials) a rounded hand calculation writes out.
HAND_MAX_POWER = 10_000
# ... and no number of an M-step's results has more digits than this (Python writes and
# reads integers of up to 4,300 digits as text).
EXACT_MAX_NUMBER_DIGITS = 4000
# 4,500 about 20 s). The document then goes on in decimals. Values up to
# EXACT_SIMPLIFY_NODES (whose exponentials are powers of one base up to
# EXACT_SIMPLIFY_DEGREE) are put over one denominator when that is shorter; an exact
# form wider than EXACT_SHOW_WIDTH symbols is named, not printed.
EXACT_SECONDS = 8.0
# Past the deadline by this much, a SymPy operation still running is interrupted.
EXACT_GRACE = 0.5
EXACT_MAX_WORK = 2000
EXACT_SIMPLIFY_NODES = 300
EXACT_SIMPLIFY_DEGREE = 24  # see exact._exp_degree
EXACT_SHOW_WIDTH = 60  # printed symbols (filters.math_width)

# Reading of responsibilities in the E-step takeaway.
CLEAR_RESPONSIBILITY = 0.9   # max_k r_nk >= this: the point clearly belongs to k
AMBIGUOUS_RESPONSIBILITY = 0.6  # max_k r_nk < this: the point is ambiguous
# A point whose r lies this close to a threshold is classed by its printed r.
THRESHOLD_MARGIN = 1e-3

# Worked responsibilities write every denominator out up to this many components;
# beyond, they divide by p(x_n), written out once per point.
FULL_DENOMINATOR_COMPONENTS = 3
# ... and while the written-out denominators of a line stay this wide (printed symbols,
# filters.math_width): wider lines would run past a page's margin.
MAX_DENOMINATOR_WIDTH = 60
# A written-out sum in a PDF is broken into lines of at most this many printed symbols
# (A4 or Letter at 11pt with 2 cm margins; 73 with scientific terms ran past A4's).
LINE_WIDTH = 64
# A fraction whose numerator, a sum written out, is wider than this (Bernoulli and
# categorical updates) writes that sum on lines of its own first.
FRACTION_WIDTH = 40

# d >= 2: the weighted outer products written out in an M-step, for at most this many
# points (the ones worked in full in the E-step); the rest are summed.
OUTER_PRODUCT_POINTS = 2

# A hand calculation's rows of responsibilities that add up to further from 1 than this
# are said to need more decimals.
CARRY_STRAY = 0.05

# Written-out sums past display.max_rows show this many terms at the start.
SUM_HEAD_TERMS = 3

# d >= 2: the grid of scatter plots over the iterations has at most this many panels
# from the iterations, plus one for the final parameters (render.plots.grid_iterations).
GRID_PANELS = 9

# LaTeX tables with more rows than this are longtables (they may break across pages).
LONG_TABLE_ROWS = 25

# Parts of a document that render alone (--part); the first four belong to one iteration.
PARTS = ("setup", "estep", "responsibilities", "mstep", "conclusion", "summary", "clustering",
         "plots")
ITERATION_PARTS = ("estep", "responsibilities", "mstep", "conclusion")

# Markdown flavours: MyST and Quarto label equations and cross-reference them.
FLAVORS = ("gfm", "myst", "quarto", "obsidian")
FLAVOR = "gfm"

# The display rule (render.shown): a computed value is printed with display.decimals
# decimals and at least SIGNIFICANT_DIGITS significant digits; one that would need more
# than max(decimals, SCI_PLACES) decimals for them is printed in scientific notation. An
# operand gets up to MAX_EXTRA_DIGITS more digits where its equation needs them to give
# the printed result. A given number longer than GIVEN_DIGITS digits that is a fraction
# with a denominator up to GIVEN_DENOMINATOR is written as that fraction (1/3).
SIGNIFICANT_DIGITS = 3
SCI_PLACES = 5
# A value from a double is never printed with more significant digits than it has.
FLOAT_SIGNIFICANT_DIGITS = 15
MAX_EXTRA_DIGITS = 10
# Within a section, every value of one quantity is printed with the same number of
# decimals (in scientific notation: of significant digits), those of the one that needs
# most, but none is given more than COLUMN_DIGITS significant digits for it.
COLUMN_DIGITS = 6
ALIGN_ROUNDS = 6
ALIGN_MOST = 60  # values in a column aligned (twice display.max_rows' default)
GIVEN_DIGITS = 6
# A given probability closer to 1 than this (but not 1) is refused: 1 - p would keep too
# few digits in a double for a page to write it (families.base.probabilities).
PROBABILITY_GAP = 1e-12
GIVEN_DENOMINATOR = 1000

# A change of the log-likelihood within this fraction of its size (at least 1) is the
# floating-point noise of the sum over points: no change, EM has converged.
LOG_LIKELIHOOD_NOISE = 1e-12
# render.shown.settle: an equation that does not hold gives one more digit to its costliest
# operand up to SETTLE_TRIES times in a row (SETTLE_STEPS in all, a bound on the work); in
# an equation with more operands, only the SETTLE_CANDIDATES with the largest rounding
# errors are weighed.
SETTLE_TRIES = 40
SETTLE_STEPS = 200_000
SETTLE_CANDIDATES = 16
# A value within this fraction of a last printed digit from a rounding tie gets one more
# digit of its own, rather than its operands many more (render.shown.settle).
NEAR_TIE = 0.02
# An equation whose operands are printed to all the digits they may have and which still
# misses its result, by at most this fraction of its largest number, meets the limits of
# double precision (an ill-conditioned inverse, a mean equal to a point but for 10^-17):
# its result is printed as its printed operands give it (render.shown).
NOISE_RELATIVE = 1e-6

# Limits: what one problem may ask for (README, "Limits"). Larger input is refused with
# exit 2 naming the field, so that no input runs for ever or fills the memory.
MAX_POINTS = 1_000_000
MAX_DATA_VALUES = 2_000_000  # points x dimensions (each number parsed and checked)
MAX_DIMENSIONS = 100
MAX_COMPONENTS = 100
MAX_ITERATIONS = 10_000
MAX_ROWS_LIMIT = 1_000  # display.max_rows at most
MAX_TEXT = 500  # characters of a title or a component name
MAX_CSV_LINE = 1 << 20  # bytes of one line of a CSV data file
# Rows of the per-point tables a document may hold: (points shown, at most max_rows) x
# (iterations shown in full); and the per-point values kept for them (points x
# components x iterations shown in full). A run's per-point values, points x components,
# are at most MAX_DETAIL_VALUES too: one E-step's arrays are always kept (about 110
# bytes a value in all: 450 MiB for a million points and four components).
MAX_DOCUMENT_ROWS = 20_000
MAX_DETAIL_VALUES = 5_000_000
# Making every written-out sum hold costs about (terms)^2 per sum, one sum per component:
# (iterations shown in full) x components x (rows per table)^2 at most this (about 10 s;
# a table of 1,000 rows with two components takes 8 s an iteration).
MAX_SUM_WORK = 3_000_000
# d >= 2: points x components x d^2 at most this (the per-point deviations and outer
# products: 840 MiB for a million points in d = 2 with four components).
MAX_MATRIX_VALUES = 16_000_000
# A rounded carry computes in exact fractions: points x components x iterations at most.
MAX_ROUNDED_WORK = 100_000
# Numbers a problem may hold: data and means at most MAX_ABS_VALUE in absolute value
# (a double holds no decimals beyond; rescale larger data), given variances (and
# covariance entries) from MIN_VARIANCE to MAX_VARIANCE.
MAX_ABS_VALUE = 1e12
MIN_VARIANCE = 1e-30
MAX_VARIANCE = 1e30
# Time limits of one LaTeX build and of one render of a user's template, in seconds;
# the environment variables EM_EXPLAINER_LATEX_TIMEOUT and EM_EXPLAINER_RENDER_TIMEOUT
# change them.
LATEX_SECONDS = 120.0
RENDER_SECONDS = 20.0


def seconds(variable: str, default: float) -> float:
    """A time limit from the environment variable *variable* (a positive number of
    seconds), else *default*."""
    import math
    import os

    try:
        value = float(os.environ.get(variable, ""))
    except ValueError:
        return default
    return value if 0 < value and math.isfinite(value) else default
