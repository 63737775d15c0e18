"""Exact arithmetic with SymPy: the backend, its budget, and safe reading of its values.

The exact backend serves the same E- and M-step as the float one (see backend.py),
on numpy arrays of SymPy numbers. Values are kept in readable canonical forms:
responsibilities as ``1 / (1 + sum_j c_j e^{d_j})`` (equal priors and constants
cancelled, common exponentials factored out), sums over rationals reduced, means and
variances put over one denominator when that is not longer.

Expressions grow with every iteration, so the backend has a budget (time and size);
when it is spent it raises :class:`BudgetExceeded` and the run goes on in decimals.

SymPy is imported only here, and this module only when exact values are asked for.
User text never reaches ``sympify`` or ``eval``: numbers come in as Fractions, and a
saved trace's exact values are read back by :func:`parse_exact`, which accepts only
the grammar :func:`exact_text` writes.
"""

from __future__ import annotations

import ast
import math
import signal
import threading
import time
from contextlib import contextmanager
from fractions import Fraction
from collections.abc import Iterator
from typing import Any

import numpy as np
import sympy as sp

from . import defaults
from .backend import BudgetExceeded, PlainArithmetic, as_fraction
from .errors import ProblemError


def _objects(values: Any) -> np.ndarray:
    """An object array holding *values* (a list, nested lists or one value)."""
    array = np.empty(np.shape(values), dtype=object)
    array[...] = values
    return array


def _elementwise(function, a: np.ndarray) -> np.ndarray:
    out = np.empty(np.shape(a), dtype=object)
    for index, value in np.ndenumerate(a):
        out[index] = function(value)
    return out


def _exp(value: sp.Expr) -> sp.Expr:
    """e^value, evaluated (e^0 = 1, e^{-1/4} kept) only where that is cheap: SymPy's
    evaluation of e^{long expression} asks for its sign numerically, which is slow."""
    if value.is_Rational or size(value) <= 3:
        return sp.exp(value)
    return sp.exp(value, evaluate=False)


def _exp_degree(value: sp.Expr) -> float:
    """How hard putting *value* over one denominator is: its exponentials written as
    powers t^j of one base t, the sum of the |j| (infinite when an exponent is not a
    rational number; e^{1/4} + e^{9/4} is t + t^9 of t = e^{1/4}: 10)."""
    exponents = [a.args[0] for a in value.atoms(sp.exp)]
    if not exponents:
        return 0
    if not all(e.is_Rational for e in exponents):
        return math.inf
    base = Fraction(0)
    for e in exponents:
        base = Fraction(math.gcd(base.numerator, int(e.p)),
                        math.lcm(base.denominator, int(e.q)))
    return sum(abs(Fraction(int(e.p), int(e.q)) / base) for e in set(exponents))


def exp_of(value: sp.Expr) -> sp.Expr:
    """e^value, its log terms turned into numbers (e^{log 2 - 1/4} = 2 e^{-1/4})."""
    if value == sp.S.NegativeInfinity:
        return sp.S.Zero
    rest, logs = value.as_independent(sp.log, as_Add=True)
    return sp.exp(logs) * _exp(rest)


def canonical(value: sp.Expr) -> sp.Expr:
    """*value* as SymPy builds it from its text: the form a saved trace reads back as."""
    return parse_exact(exact_text(value), "exact value")


def size(value: sp.Basic) -> int:
    """The number of nodes of *value*'s expression tree: how long it is to read."""
    return sum(1 for _ in sp.preorder_traversal(value))


def rational(value: Fraction | int) -> sp.Rational:
    value = Fraction(value)
    return sp.Rational(value.numerator, value.denominator)


class ExactBackend(PlainArithmetic):
    """SymPy numbers in numpy object arrays, within a budget of *seconds* and of
    *max_work* for an E-step (see :meth:`check_size`)."""

    name = "exact"
    budgeted = True

    def __init__(self, seconds: float | None = None, max_work: int | None = None):
        self.seconds = defaults.EXACT_SECONDS if seconds is None else seconds
        self.max_work = defaults.EXACT_MAX_WORK if max_work is None else max_work
        self.deadline = time.monotonic() + self.seconds

    # ------------------------------------------------------------------ budget
    def release(self) -> None:
        """Lift the budget: from now on only values already computed are derived from."""
        self.deadline = math.inf
        self.max_work = math.inf

    @contextmanager
    def enforced(self) -> Iterator[None]:
        """Within this block a SymPy operation that runs past the deadline is interrupted
        (a timer signal, where there is one: the main thread on POSIX); elsewhere the
        deadline is checked between operations only."""
        usable = (hasattr(signal, "setitimer")
                  and threading.current_thread() is threading.main_thread())
        if not usable:
            yield
            return

        def interrupt(signum: int, frame: Any) -> None:
            raise BudgetExceeded(f"time: more than {self.seconds:g} s")

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL,
                         max(self.deadline - time.monotonic(), 0.001) + defaults.EXACT_GRACE)
        try:
            yield
        except SystemError as exc:
            # The timer's exception raised inside C code that does not expect one (the
            # parser of ast.parse) comes out as a SystemError: it is the budget's.
            if time.monotonic() >= self.deadline:
                raise BudgetExceeded(f"time: more than {self.seconds:g} s") from exc
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def check(self, values: np.ndarray) -> np.ndarray:
        """*values*, unless time is up."""
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"time: more than {self.seconds:g} s")
        return values

    def check_size(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
        """The parameters entering an E-step must be short enough to work with: every value
        of the iteration is built from them, point by point, and SymPy's time grows
        faster than their length. Their work is the number of terms of the means and
        variances times the number of points. (An M-step's results may be long and are
        kept; the iteration after them is just not begun.)"""
        work = sum(size(v) for v in (*means.ravel(), *variances.ravel())) * len(x)
        if work > self.max_work:
            raise BudgetExceeded(f"size: the next E-step would work on {work} terms "
                                 f"(parameters' terms times points), more than "
                                 f"{self.max_work}")

    # ------------------------------------------------------------------ values
    def asarray(self, values: Any) -> np.ndarray:
        """Exact numbers of any shape: SymPy numbers kept, Fractions and floats exactly."""
        return _elementwise(lambda v: v if isinstance(v, sp.Basic) else rational(Fraction(v)),
                            _objects(values))

    def mean_var(self, x: np.ndarray) -> tuple[Any, Any]:
        if x.ndim > 1:
            mean = _elementwise(lambda v: v / len(x), x.sum(axis=0))
            centred = x - mean
            return mean, self.simplify((centred.T @ centred) / len(x))
        mean = sp.Add(*x) / len(x)
        return mean, sp.Add(*[(v - mean) ** 2 for v in x]) / len(x)

    # Matrices (d >= 2) go through SymPy's Matrix, one component at a time.
    def inverse(self, matrices: np.ndarray) -> np.ndarray:
        out = np.empty(matrices.shape, dtype=object)
        for k, m in enumerate(matrices):
            out[k] = _objects(sp.Matrix(m.tolist()).inv().applyfunc(sp.cancel).tolist())
        return self.check(out)

    def det(self, matrices: np.ndarray) -> np.ndarray:
        return self.check(_objects([sp.cancel(sp.Matrix(m.tolist()).det()) for m in matrices]))

    def eye(self, d: int) -> np.ndarray:
        return _objects(sp.eye(d).tolist())

    def constant(self, value: float) -> sp.Rational:
        return rational(as_fraction(value))

    def log(self, a: np.ndarray) -> np.ndarray:
        return _elementwise(lambda v: sp.S.NegativeInfinity if v == 0 else sp.log(v), a)

    def exp(self, a: np.ndarray) -> np.ndarray:
        return _elementwise(exp_of, a)

    def exponent(self, x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
        self.check_size(x, means, variances)
        if x.ndim > 1:
            inverse = self.inverse(variances)
            deviation = x[:, None, :] - means[None, :, :]
            quadratic = (deviation[..., None, :] @ inverse[None] @ deviation[..., None])
            return self.simplify(-quadratic[..., 0, 0] / 2)
        deviation = np.subtract.outer(x, means)
        return self.simplify(-deviation * deviation / (2 * variances))

    def log_norm_const(self, variances: np.ndarray) -> np.ndarray:
        if variances.ndim > 1:
            d = variances.shape[-1]
            return _elementwise(lambda v: sp.log(1 / ((2 * sp.pi) ** sp.Rational(d, 2)
                                                      * sp.sqrt(v))), self.det(variances))
        return _elementwise(lambda v: sp.log(1 / sp.sqrt(2 * sp.pi * v)), variances)

    def canonical(self, a: np.ndarray) -> np.ndarray:
        """A value as it is written down and read back: in SymPy's own canonical form,
        so that a saved trace reads back to the very same values. (Floats, such as
        the log-likelihood, pass unchanged.)"""
        if not (isinstance(a, np.ndarray) and a.dtype == object):
            return a
        return self.check(_elementwise(canonical, a))

    def carry(self, a: np.ndarray) -> np.ndarray:
        return self.canonical(a)

    def carry_log(self, a: np.ndarray) -> np.ndarray:
        return self.canonical(a)

    def normalize_log_rows(self, log_weighted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """r_nk = 1 / sum_j e^{a_nj - a_nk}: the common factor of numerator and denominator
        cancelled (equal priors, equal constants, the shared exponential).

        Each a_nk = log pi_k + log c_k + e_nk; the logs' difference becomes a number
        (pi_j c_j / pi_k c_k), the exponents' difference is put over one denominator.
        """
        n_samples, n_components = log_weighted.shape
        resp = np.empty((n_samples, n_components), dtype=object)
        log_rows = np.empty(n_samples, dtype=object)
        for n in range(n_samples):
            parts = [None if a == sp.S.NegativeInfinity
                     else a.as_independent(sp.log, as_Add=True) for a in log_weighted[n]]
            for k, own in enumerate(parts):
                if own is None:
                    resp[n, k] = sp.S.Zero
                    continue
                terms = [sp.exp(other[1] - own[1]) * _exp(self._cancel(other[0] - own[0]))
                         for other in parts if other is not None]
                resp[n, k] = canonical(1 / sp.Add(*terms))
            log_rows[n] = canonical(sp.log(sp.Add(*[exp_of(a) for a in log_weighted[n]])))
            self.check(resp[n])
        return resp, log_rows

    def weighted_sq_sums(self, x: np.ndarray, centres: np.ndarray,
                         resp: np.ndarray) -> np.ndarray:
        """sum_n r_nk (x_n - c_k)^2, as sum r x^2 - 2 c sum r x + c^2 sum r: the same value,
        but c (a long exact mean) appears twice instead of once per point."""
        if x.ndim > 1:
            # S_k = sum r x x^T - c (sum r x)^T - (sum r x) c^T + c c^T sum r
            s0, s1 = resp.sum(axis=0), resp.T @ x
            s2 = np.einsum("nk,ni,nj->kij", resp, x, x, optimize=False) \
                if resp.dtype != object else np.stack(
                    [(resp[:, k, None] * x).T @ x for k in range(resp.shape[1])])
            c, t = centres[:, :, None], s1[:, :, None]
            # (Exact values in object arrays: numpy's floating-point flags, which SymPy's
            # own float estimates may raise inside the products, say nothing about them.)
            with np.errstate(all="ignore"):
                cross = c @ np.swapaxes(t, 1, 2)
                scatter = s2 - cross - np.swapaxes(cross, 1, 2) \
                    + (c @ np.swapaxes(c, 1, 2)) * s0[:, None, None]
            return self.check(self.simplify(scatter))
        s0, s1, s2 = resp.sum(axis=0), x @ resp, (x * x) @ resp
        return self.check(s2 - 2 * centres * s1 + centres * centres * s0)

    def _cancel(self, value: sp.Expr) -> sp.Expr:
        """*value* over one denominator (exponentials as powers of one base) when that
        form is not longer, and cheap to find: *value* is short and its exponentials
        are powers of one base of low degree (e^{1/4} and e^{9/4} are t and t^9; e^{1/3}
        and e^{1/4} would be t^4 and t^3 of e^{1/12}, fine; e^{121/60} is t^121, not)."""
        nodes = size(value)
        if value.is_Rational or nodes > defaults.EXACT_SIMPLIFY_NODES \
                or _exp_degree(value) > defaults.EXACT_SIMPLIFY_DEGREE:
            return value
        # cancel() leaves numbers factored out (5 (1 + e^9)), a form SymPy does not build
        # itself and would not read back; canonical() rebuilds it as SymPy would.
        candidate = canonical(sp.cancel(value))
        return candidate if size(candidate) <= nodes else value

    def simplify(self, a: np.ndarray) -> np.ndarray:
        return self.check(_elementwise(self._cancel, self.check(a)))

    def to_float(self, a: Any) -> np.ndarray:
        """Double-precision values (SymPy evaluates with guard digits, so they are the
        correctly rounded doubles of the exact values)."""
        return np.array(_elementwise(lambda v: float(sp.N(v, 17)), _objects(a)), dtype=float)


# --------------------------------------------------------------------------- text

def exact_text(value: sp.Expr) -> str:
    """A SymPy value as text that ``sympy.sympify`` and :func:`parse_exact` both read."""
    return sp.sstr(value, order="none")


# exp as the backend builds it, so that a value read back is the value written.
_FUNCTIONS = {"exp": exp_of, "log": sp.log, "sqrt": sp.sqrt}
_NAMES = {"pi": sp.pi, "E": sp.E, "oo": sp.oo}
_MAX_TEXT = 1_000_000
_MAX_EXPONENT = 64


def parse_exact(text: Any, field: str) -> sp.Expr:
    """Read a value written by :func:`exact_text` without ``eval``: integers, ``pi``,
    ``E``, ``exp``/``log``/``sqrt``, ``+ - * / **`` with small exponents, parentheses.
    Anything else is a ProblemError naming *field*."""
    if not isinstance(text, str):
        raise ProblemError(field, f"expected an exact value as text, but got {text!r}")
    if len(text) > _MAX_TEXT:
        raise ProblemError(field, f"exact value longer than {_MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ProblemError(field, f"not an exact value: {text[:40]!r}") from None

    def build(node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, int) \
                and not isinstance(node.value, bool):
            return sp.Integer(node.value)
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = build(node.left), build(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                if right == 0:
                    raise ProblemError(field, "division by zero in an exact value")
                return left / right
            if isinstance(node.op, ast.Pow):
                if not (right.is_Rational and abs(right.p) <= _MAX_EXPONENT
                        and right.q <= 2):
                    raise ProblemError(field, f"exponent {right} too large in an exact value")
                return left ** right
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _FUNCTIONS and len(node.args) == 1 and not node.keywords:
            return _FUNCTIONS[node.func.id](build(node.args[0]))
        raise ProblemError(field, f"not an exact value: {text[:40]!r} "
                                  f"({type(node).__name__} is not allowed)")

    try:
        return build(tree.body)
    except RecursionError:
        raise ProblemError(field, "exact value nested too deeply") from None
