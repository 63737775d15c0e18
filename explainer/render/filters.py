"""Jinja filters: number formatting and escaping, defined once for every format.

Number filters return LaTeX math (used inside ``$...$`` in Markdown and in
LaTeX alike) and read the display precision from the template context
(``decimals``). Escaping filters are the only place user text is made safe.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from typing import Any, Callable, NamedTuple, Sequence

from jinja2 import Undefined, pass_context
from jinja2.exceptions import UndefinedError
from jinja2.runtime import Context

from .. import defaults
from .shown import Shown, decimal_of, round_decimal

LN10 = math.log(10.0)


def _decimals(ctx: Context) -> int:
    """The page's ``decimals`` (display.decimals). A context without it is a mistake of
    the template's caller, said as one (StrictUndefined's way), never a default."""
    value = ctx.get("decimals")
    if value is None:
        raise UndefinedError("the number filters need 'decimals' in the template's context")
    return int(value)


def format_fixed(value: float, decimals: int) -> str:
    """*value* with exactly *decimals* decimals; never ``-0.000``.

    Ties round half away from zero on the decimal value, as a calculator does
    (-0.0625 -> -0.063, 2.675 -> 2.68): the one rounding rule (:mod:`.shown`).
    """
    text = f"{round_decimal(decimal_of(value), Decimal(1).scaleb(-decimals)):f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text


def format_sci(value: float, digits: int = 2) -> str:
    """``4.8 \\times 10^{-6}``: *digits* significant digits, for LaTeX math."""
    if value == 0:
        return "0"
    if abs(value) < 1e-300:  # subnormal: 10**exponent would underflow to 0
        sign = "-" if value < 0 else ""
        return sign + format_sci_from_log(math.log(abs(value)), digits)
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10.0 ** exponent
    if round(abs(mantissa), digits - 1) >= 10:
        mantissa /= 10
        exponent += 1
    return rf"{mantissa:.{digits - 1}f} \times 10^{{{exponent}}}"


def format_sci_from_log(log_value: float, digits: int = 2) -> str:
    """Scientific notation of exp(*log_value*), exact even where exp() underflows."""
    e10 = log_value / LN10
    exponent = math.floor(e10)
    mantissa = 10.0 ** (e10 - exponent)
    if round(mantissa, digits - 1) >= 10:
        mantissa /= 10
        exponent += 1
    return rf"{mantissa:.{digits - 1}f} \times 10^{{{exponent}}}"


def _short(value: float) -> str | None:
    """The value's exact decimal form when it is short (at most 6 significant digits)."""
    text = f"{value:.6g}"
    if "e" in text or float(text) != value:
        return None
    return "0" if text in ("-0", "0") else text


def format_compact(value: float, decimals: int) -> str:
    """A given number as written (``2``, ``5.2``, ``0.01`` whatever the precision);
    a longer one to *decimals* decimals without trailing zeros.

    A non-zero value too small for the precision is written in scientific notation.
    """
    short = _short(value)
    if short is not None:
        return short
    if value != 0 and abs(value) < 0.5 * 10.0 ** -decimals:
        return format_sci(value)
    text = format_fixed(value, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def is_exact(value: float, text: str) -> bool:
    """Whether the displayed *text* is the value itself (so ``=`` is honest, not ``≈``)."""
    try:
        return float(text) == value
    except ValueError:
        return False


def _below_precision(value: float, decimals: int) -> bool:
    return value != 0 and abs(value) < 0.5 * 10.0 ** -decimals


# --------------------------------------------------------------------------- filters

def shown_text(value: Shown) -> str:
    """A :class:`~.shown.Shown` number in LaTeX math: ``0.0570``, ``4.79 \\times 10^{-6}``,
    ``\\frac{1}{3}``; never ``-0.000``."""
    if value.fraction is not None:
        top, bottom = value.fraction
        return rf"{'-' if top < 0 else ''}\frac{{{abs(top)}}}{{{bottom}}}"
    number = value.number
    if value.sci:
        exponent = number.adjusted()
        mantissa = round_decimal(number.scaleb(-exponent), value.quantum.scaleb(-exponent))
        return rf"{mantissa:f} \times 10^{{{exponent}}}"
    text = f"{round_decimal(number, value.quantum):f}"
    return text.lstrip("-") if number == 0 else text


def _text(ctx: Context, value: Shown) -> str:
    """:func:`shown_text`; in a LaTeX document a number in scientific notation is one
    group, so that a line never breaks inside it (``4.785 \\times`` / ``10^{-6}``)."""
    text = shown_text(value)
    return "{" + text + "}" if value.sci and ctx.get("unbreakable_numbers") else text


def _relation(ctx: Context, relation: str, breakable: bool = False) -> str:
    """``=`` or ``\\approx`` before a result; in a LaTeX document no line breaks after it,
    so that a relation and its result stay on one line (*breakable*: only where the line
    cannot break anywhere else, for a table's narrow cells)."""
    if not ctx.get("unbreakable_numbers"):
        return relation
    return relation + (r"\penalty9999 " if breakable else r"\nobreak")


@pass_context
def num(ctx: Context, value: float | Shown) -> str:
    """Compact number for inputs and terms of an expression."""
    if isinstance(value, Shown):
        return _text(ctx, value)
    return format_compact(float(value), _decimals(ctx))


@pass_context
def paren(ctx: Context, value: float | Shown) -> str:
    """Compact number, in parentheses when negative: ``(1-(-2))``."""
    text = num(ctx, value)
    return f"({text})" if text.startswith("-") else text


@pass_context
def paren_sci(ctx: Context, value: float | Shown) -> str:
    """Compact number, in parentheses when it is a product (scientific notation) or
    negative: the divisor in ``a / (2.6 \\times 10^{-7})``."""
    text = num(ctx, value)
    return f"({text})" if "\\times" in text or text.startswith("-") else text


@pass_context
def fixed(ctx: Context, value: float | Shown) -> str:
    """Fixed number of decimals, for computed values (``0.779``, ``1.000``); a
    :class:`~.shown.Shown` number with the digits the display rule gave it."""
    if isinstance(value, Shown):
        return _text(ctx, value)
    return format_fixed(float(value), _decimals(ctx))


@pass_context
def relation(ctx: Context, value: float | Shown, compact: bool = False) -> str:
    """``=`` when the displayed number is exact, otherwise ``\\approx``."""
    if isinstance(value, Shown):
        return "=" if value.equal else r"\approx"
    decimals = _decimals(ctx)
    text = format_compact(value, decimals) if compact else format_fixed(value, decimals)
    return "=" if is_exact(float(value), text) else r"\approx"


class LogValue(NamedTuple):
    """A computed value with its natural log: the log keeps its size where exp() underflows."""

    value: float
    log: float


def _shown(value: float | LogValue, decimals: int) -> tuple[float, str, str]:
    """``(number, text, note)`` of a computed value: the number the text stands for, the
    text at the display precision, and the real size when that text shows 0 (else "").

    A LogValue whose value underflowed is sized from its log.
    """
    if isinstance(value, LogValue):
        if value.value == 0.0 or not math.isfinite(value.value):
            if value.log == -math.inf:
                return 0.0, "0", ""
            if value.log > defaults.EXP_UNDERFLOW + 10:
                value = math.exp(value.log)
            else:
                return 0.0, format_fixed(0.0, decimals), format_sci_from_log(value.log)
        else:
            value = value.value
    number = float(value)
    text = format_fixed(number, decimals)
    return number, text, format_sci(number) if _below_precision(number, decimals) else ""


@pass_context
def operand(ctx: Context, value: float | Shown, exact: Any = None, paren: bool = False) -> str:
    """An operand of a formula whose result is written exactly: its exact form (``exact``,
    SymPy) where the printed decimal is not the value itself and the form fits, so that
    ``=`` before the exact result holds as written; else the printed number. *paren*: in
    parentheses when negative."""
    if isinstance(exact, Undefined):  # `x if e.exact` when it is not
        exact = None
    if exact is not None and _needs_exact(value, exact) and exact_fits(exact):
        text = exact_form(exact)
    else:
        text = num(ctx, value)
    return f"({text})" if paren and text.lstrip().startswith("-") else text


def exact_ops(pairs: Any) -> bool:
    """Whether every operand of *pairs* (``[(printed, exact), ...]``) is written exactly by
    :func:`operand` (the decimal is the value, or the exact form fits), so that ``=`` may
    stand between the written formula and its exact result."""
    for value, exact in pairs:
        if isinstance(exact, Undefined) or exact is None:
            continue
        if _needs_exact(value, exact) and not exact_fits(exact):
            return False
    return True


def _needs_exact(value: Any, exact: Any) -> bool:
    """Whether a printed operand is not its exact value, so that :func:`operand` writes the
    exact form (the float may not be exact: a floor computed in floats is a long
    fraction exactly)."""
    return isinstance(value, Shown) and not _printed_is(value, exact)


def _printed_is(value: Shown, exact: Any) -> bool:
    """Whether the printed decimal is the exact value itself."""
    if value.fraction is not None:
        return True
    if not value.exact:
        return False
    import sympy

    return bool(sympy.Rational(str(value.number)) == exact)


def relation_all(values: Any) -> str:
    """``=`` when every number of a vector or matrix (:class:`~.shown.Shown`) is printed
    as the equality it is the result of, otherwise ``\\approx``."""
    def flat(v: Any) -> list[Any]:
        return [x for item in v for x in flat(item)] if isinstance(v, (list, tuple)) else [v]

    return "=" if all(isinstance(v, Shown) and v.equal for v in flat(values)) else r"\approx"


def _computed(ctx: Context, value: float | LogValue | Shown, relation: bool,
              breakable: bool = False) -> str:
    if isinstance(value, Shown):
        text = _text(ctx, value)
        return (_relation(ctx, "=" if value.equal else r"\approx", breakable) + " " + text) \
            if relation else text
    number, text, note = _shown(value, _decimals(ctx))
    out = rf"{text} \ ({note})" if note else text
    if relation:
        out = _relation(ctx, "=" if not note and is_exact(number, text) else r"\approx",
                        breakable) + " " + out
    return out


@pass_context
def relation_value(ctx: Context, value: float | LogValue, breakable: bool = False) -> str:
    """Relation and value: ``= 1.000``, ``\\approx 0.779``, or for a value below the
    display precision ``\\approx 0.000 \\ (4.8 \\times 10^{-6})``.

    A :class:`LogValue` that underflowed is written from its log. *breakable*: see
    :func:`_relation`.
    """
    return _computed(ctx, value, True, breakable)


@pass_context
def value_parts(ctx: Context, value: float | LogValue) -> tuple[str, str]:
    """``(value, real size)`` of a computed value: ``("0.000", "4.8 \\times 10^{-6}")``, or
    ``("0.779", "")``; for table cells that may wrap between the two."""
    if isinstance(value, Shown):
        return _text(ctx, value), ""
    _, text, note = _shown(value, _decimals(ctx))
    return text, note


@pass_context
def computed(ctx: Context, value: float | LogValue) -> str:
    """As :func:`relation_value` without the relation: ``0.779``,
    ``0.000 \\ (4.8 \\times 10^{-6})``."""
    return _computed(ctx, value, False)


_PRINTER: list[Any] = []


def _exact_printer() -> Any:
    """SymPy's LaTeX printer, but e^{-1/4}/2 stays ``\\frac{e^{-1/4}}{2}`` as in lecture
    notes (SymPy would write ``\\frac{1}{2 e^{1/4}}``), and a denominator's common whole
    factor is written in front: ``5 (1 + e^{9})``."""
    if _PRINTER:
        return _PRINTER[0]
    import sympy
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.precedence import PRECEDENCE

    class Printer(LatexPrinter):
        def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
            """A sum's plain number first, the other terms by rising powers:
            ``1 + e^{-12}``, ``39 + 27 e^{9} + 23 e^{12}``."""
            terms = list(super()._as_ordered_terms(expr, order=order))

            def power(term: Any) -> float:
                exps = term.atoms(sympy.exp)
                if len(exps) == 1 and next(iter(exps)).args[0].is_Rational:
                    return float(next(iter(exps)).args[0])
                return math.inf

            numbers = [t for t in terms if t.is_Number]
            return numbers + sorted((t for t in terms if not t.is_Number), key=power)

        def _print_Mul(self, expr: Any) -> str:
            if expr.could_extract_minus_sign() and (-expr).is_Mul:
                return "- " + self._print_Mul(-expr)
            numerator, denominator = [], []
            for factor in expr.args:
                if factor.is_Rational:
                    if factor.p != 1:
                        numerator.append(sympy.Integer(factor.p))
                    denominator.append(sympy.Integer(factor.q))
                elif factor.is_Pow and factor.exp.is_negative:
                    denominator.append(factor.base ** -factor.exp)
                else:
                    numerator.append(factor)
            if all(f == 1 for f in denominator):
                if any(isinstance(f, sympy.exp) for f in numerator):  # 5 e^{-7/4}
                    return " ".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in numerator)
                return super()._print_Mul(expr)
            if len(numerator) == 1:
                top = self._print(numerator[0])
            else:
                top = " ".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in numerator) or "1"
            # A whole factor common to the denominator's terms is written in front of them:
            # 5 (1 + e^{9}), not 5 + 5 e^{9}.
            bottom = self._print(sympy.factor_terms(sympy.Mul(*denominator)))
            return rf"\frac{{{top}}}{{{bottom}}}"

    _PRINTER.append(Printer({"ln_notation": True}))
    return _PRINTER[0]


def exact_form(value: Any) -> str:
    """An exact value (SymPy) in LaTeX math: ``\\frac{1}{1 + e^{-12}}``. A form wider
    than a line (``defaults.EXACT_SHOW_WIDTH`` symbols) is named by its size, not printed:
    the JSON trace holds it whole."""
    from ..exact import size

    nodes = size(value)
    if getattr(value, "is_Rational", False):
        # A fraction's digits, from its bits: a long one is named, never turned into text.
        digits = sum(int(abs(int(n)).bit_length() * 0.30103) + 1 for n in (value.p, value.q))
        if digits > defaults.EXACT_SHOW_WIDTH:
            return rf"\text{{[a fraction of about {digits:,} digits: in the JSON trace]}}"
    # A line holds at most so many symbols; a longer value is not even printed.
    if nodes > 4 * defaults.EXACT_SHOW_WIDTH or \
            math_width(text := _exact_printer().doprint(value)) > defaults.EXACT_SHOW_WIDTH:
        return rf"\text{{[{nodes} terms: in the JSON trace]}}"
    return text


def exact_fits(values: Any, parts: int = 1) -> bool:
    """Whether every exact value of *values* (one, or nested lists: a vector or matrix
    with *parts* entries to a line) prints in full, in its share of a line."""
    from ..exact import size

    if isinstance(values, (list, tuple)):
        return all(exact_fits(v, parts) for v in values)
    width = defaults.EXACT_SHOW_WIDTH // parts
    return size(values) <= 4 * width and \
        math_width(_exact_printer().doprint(values)) <= width


def plain(value: float) -> str:
    """A number as a program reads it back exactly (``0.5123``, ``4.79e-06``): Python's
    shortest round-trip text, which Moodle's and most parsers' number syntax accepts."""
    return repr(float(value))


def sci(value: float) -> str:
    """Scientific notation with two significant digits."""
    return format_sci(float(value))


# Characters that can start markup anywhere in a line (emphasis, code, links, HTML,
# math, tables, entities); CommonMark lets any of them be backslash-escaped.
def math_width(tex: Any) -> int:
    """The printed width of a math formula in symbols, roughly: a command (``\\cdot``) is
    one symbol; braces, scripts' markers and spaces are none. Used to decide whether a
    written-out formula fits a line."""
    text = re.sub(r"\\[a-zA-Z]+", "#", str(tex))
    text = re.sub(r"\\.", "", text)
    return len(re.sub(r"[{}\s^_]", "", text))


def pack(items: Sequence[Any], width: int, most: int, lead: Any = "", tail: Any = "",
         indent: int = 3) -> list[list[Any]]:
    """The terms *items* of a sum written out over lines, ``lead t1 + t2 + ... tail``: as
    few lines as fit *width* printed symbols (:func:`math_width`; the lines after the
    first begin with *indent* symbols) with at most *most* terms each, balanced (every
    line about as wide). A term wider than a line gets a line of its own."""
    widths = [math_width(item) + 1 for item in items]  # each with its " + "
    first, last = math_width(lead) + 1, math_width(tail) + 1

    def lines(limit: int) -> list[list[int]]:
        out: list[list[int]] = [[]]
        used = first
        for i, w in enumerate(widths):
            extra = last if i == len(widths) - 1 else 0
            if out[-1] and (used + w + extra > limit or len(out[-1]) >= most):
                out.append([])
                used = indent
            out[-1].append(i)
            used += w
        return out

    fewest = len(lines(width))
    # The narrowest limit that still needs no more lines: every line about as full.
    limit = next(b for b in range(1, width + 1) if len(lines(b)) <= fewest)
    return [[items[i] for i in line] for line in lines(limit)] if items else []


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~^&#!{}])")


def md_text(value: Any) -> str:
    """User text made literal in Markdown: markup characters are backslash-escaped."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


TEX_SPECIAL = {  # (html.py reads the text commands back)
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in TEX_SPECIAL))
# TeX joins -- and --- into dashes, '' into a closing double quote and ,, into a low one:
# a character followed by its twin is kept apart from it by an empty group (one ' is an
# apostrophe, as LaTeX sets it; KaTeX reads the group as nothing, and the HTML's MathML
# text drops it with the other group braces).
_TEX_LIGATURE = re.compile(r"([-',])(?=\1)")


def tex_text(value: Any) -> str:
    """User text made literal in LaTeX: every special character becomes its text command,
    so ``\\input{...}`` or ``$x$`` in a title is printed, never run.

    The text is composed (NFC: an ``e`` and a combining accent become ``é``, which
    pdflatex can set), control and format characters are dropped (invisible, and in no
    font: a right-to-left override, a zero-width space), a typographic ligature is its
    letters (``ﬁ``: ``fi``), no TeX ligature joins two of its characters (``--``,
    ``---``, ``''`` and ``,,`` stay as typed), and each right-to-left run
    (Hebrew, Arabic) is set right to left with ``\\emrtl`` (see the preamble)."""
    text = unicodedata.normalize("NFC", " ".join(str(value).split()))
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    # (A typographic ligature, U+FB00 to U+FB06, as its letters: what it draws, in every
    # face; LaTeX's bold faces have no such character.)
    text = re.sub("[\ufb00-\ufb06]", lambda m: unicodedata.normalize("NFKC", m.group()), text)
    out: list[str] = []
    for rtl, run in _direction_runs(text):
        escaped = _TEX_RE.sub(lambda m: TEX_SPECIAL[m.group(0)], run)
        out.append(f"\\emrtl{{{escaped}}}" if rtl else escaped)
    # (No TeX ligature joins the user's characters: --, ---, '' and ,, stay as typed.)
    return _TEX_LIGATURE.sub(r"\1{}", "".join(out))


def tex_document_text(value: Any) -> str:
    """:func:`tex_text` for a LaTeX document, set as typed: a backtick, which LaTeX sets
    as a left quote, is ``\\textasciigrave{}``, and a word of more than 30 characters may
    break after every 20th (a 60-character name would run off the page).
    The Markdown's math keeps its own (KaTeX has no such commands)."""
    text = str(value)
    if _BREAK not in text:  # (a user's own private-use character stays as it is)
        text = "".join(_breakable(word) for word in re.split(r"(\s+)", text))
    text = tex_text(text).replace("`", r"\textasciigrave{}")
    return text.replace(_BREAK, r"\allowbreak{}")


# A place a long word may break (a private-use character: replaced by \allowbreak once
# the text is escaped).
_BREAK = "\ue000"


def _breakable(word: str) -> str:
    if len(word) <= 30 or word.isspace():
        return word
    return _BREAK.join(word[i:i + 20] for i in range(0, len(word), 20))


def _direction_runs(text: str) -> list[tuple[bool, str]]:
    """*text* cut into runs written left to right and right to left: a right-to-left
    run starts and ends with a right-to-left letter and may hold spaces, digits and
    punctuation between them."""
    runs: list[tuple[bool, str]] = []
    i = 0
    while i < len(text):
        if unicodedata.bidirectional(text[i]) not in _RTL:
            j = i
            while j < len(text) and unicodedata.bidirectional(text[j]) not in _RTL:
                j += 1
            runs.append((False, text[i:j]))
            i = j
            continue
        end = j = i + 1
        while j < len(text) and unicodedata.bidirectional(text[j]) not in _LTR:
            j += 1
            if unicodedata.bidirectional(text[j - 1]) in _RTL:
                end = j
        runs.append((True, text[i:end]))
        i = end
    return runs


_RTL = {"R", "AL"}
_LTR = {"L", "LRE", "LRO", "LRI"}


FILTERS: dict[str, Callable[..., Any]] = {
    "num": num, "paren": paren, "paren_sci": paren_sci, "fixed": fixed, "relation": relation,
    "relation_value": relation_value, "relation_all": relation_all, "operand": operand,
    "exact_ops": exact_ops, "computed": computed, "value_parts": value_parts, "sci": sci,
    "plain": plain, "md": md_text, "tex": tex_text, "width": math_width,
    "exact_form": exact_form, "exact_fits": exact_fits, "pack": pack,
}

# The filters' names before they said what they do (2026-12): a user's template that
# still writes one is told the name it has now.
RENAMED_FILTERS = {"op": "operand", "fix": "fixed", "fixv": "computed",
                   "val": "relation_value", "rel": "relation", "rel_all": "relation_all",
                   "ex": "exact_form", "parts": "value_parts"}
