"""An independent checker of printed arithmetic: reads a rendered Markdown document (not
the render context) and redoes every displayed equation from its displayed operands.

It knows nothing of the package. Each math span is split at its top-level relations
(``=``, ``\\approx``); two neighbouring sides that both evaluate to numbers (from their
printed numbers, with exact decimal arithmetic and 60-digit exp and sqrt) are checked:

- ``A = B``: A and B are equal (to 40 digits);
- ``A \\approx b`` with b a printed number: A rounded half away from zero to b's last
  printed digit is b;
- ``A \\approx B`` with B an expression: B is A with sub-expressions replaced by printed
  numbers (``c_1 \\exp(-\\frac{(-3-8)^2}{6}) \\approx c_1 \\exp(-20.167)``); each replaced
  sub-expression rounds to its number.

A side with a symbol the checker does not know (``r_{5,1}``, ``\\mathcal{N}``) is not a
number and is skipped; a constant defined on the page (``c_{1} = ... \\approx 0.399``) is
known from its definition on (on a page that states a rounded carry, by its printed value
only: the page uses it rounded). A printed zero with decimals (``0.000``) used as an operand
is a failure of its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from mdcheck import math_spans

PREC = 60
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
_NOISE = re.compile(r"\\(left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])|\\[,;! ]|"
                    r"\\thinspace|\\quad|\\qquad|\\displaystyle")
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\\[a-zA-Z]+|[-+*/^_(){}\[\]=,<>|]|[a-zA-Z]|.)")
_SCI = re.compile(r"^(-?\d+(?:\.\d+)?)(?:\\times10\^\{(-?\d+)\})?$")
_SYMBOL_DEF = re.compile(r"^[a-zA-Z]_\{?[0-9]+\}?$")
_SEPARATORS = {r"\rightarrow", r"\leq", r"\geq", "<", ">", r"\neq", r"\mid", ",",
               r"\propto", r"\text", r"\quad", r"\in", r"\to", r"\lbrace", r"\rbrace",
               r"\cr", "&", r"\\"}


class NotNumeric(Exception):
    """The side holds something that is not a printed number."""


@dataclass
class Report:
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, line: int, message: str) -> None:
        self.failures.append(f"line {line}: {message}")


# --------------------------------------------------------------------------- parsing

def _prepare(tex: str) -> str:
    """Matrices as bracketed atoms (``\\pmatbegin a & b \\cr c & d \\pmatend``); aligned
    environments dropped (their rows are handled by :func:`split_sides`)."""
    tex = _drop_underbraces(tex)
    tex = tex.replace(r"\begin{pmatrix}", r" \pmatbegin ").replace(r"\end{pmatrix}",
                                                                   r" \pmatend ")
    tex = tex.replace(r"\begin{aligned}", " ").replace(r"\end{aligned}", " ")
    return _NOISE.sub(" ", tex)


def group_end(tex: str, start: int) -> int:
    """The index just past the brace group opening at *start* (``tex[start] == "{"``)."""
    depth = 0
    for i in range(start, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        if depth == 0:
            return i + 1
    raise ValueError(f"unbalanced braces: {tex[start:start + 40]}")


def _drop_underbraces(tex: str) -> str:
    """``\\underbrace{X}_{label}`` is X: the label only names what X stands for."""
    while (at := tex.find(r"\underbrace{")) >= 0:
        body = at + len(r"\underbrace")
        end = group_end(tex, body)
        after = end
        if tex[end:end + 2] == "_{":
            after = group_end(tex, end + 1)
        tex = f"{tex[:at]} {{{tex[body + 1:end - 1]}}} {tex[after:]}"
    return tex


def tokens(tex: str) -> list[str]:
    tex = _prepare(tex)
    out = []
    for match in _TOKEN.finditer(tex):
        token = match.group(1)
        if token.strip():
            out.append(token)
    return out


class Parser:
    """Recursive descent over the arithmetic of a printed formula; a tree of tuples."""

    def __init__(self, toks: list[str], symbols: dict[str, tuple[Decimal, Decimal | None]]):
        self.toks = toks
        self.i = 0
        self.symbols = symbols

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise NotNumeric(f"expected {expected!r}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> tuple:
        tree = self.expr()
        if self.peek() is not None:
            raise NotNumeric(f"trailing {self.peek()!r}")
        return tree

    def expr(self) -> tuple:
        if self.peek() == "-":
            self.take()
            tree: tuple = ("neg", self.term())
        else:
            if self.peek() == "+":
                self.take()
            tree = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            tree = ("add" if op == "+" else "sub", tree, self.term())
        return tree

    def term(self) -> tuple:
        # A product is folded from the right: a row times a matrix times a column is
        # row (matrix column), the form its next line writes with the product done.
        factors = [self.power()]
        while True:
            tok = self.peek()
            if tok in (r"\cdot", r"\times"):
                self.take()
                factors.append(self.power())
            elif tok is not None and tok not in ("+", "-", ")", "]", "}", "^", "&", r"\cr",
                                                 r"\pmatend"):
                factors.append(self.power())  # juxtaposition
            else:
                break
        tree = factors[-1]
        for factor in reversed(factors[:-1]):
            tree = ("mul", factor, tree)
        return tree

    def power(self) -> tuple:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            if self.peek() == "{":
                exponent = self.group()
            else:
                tok = self.take()
                if not re.fullmatch(r"\d", tok):
                    raise NotNumeric("exponent")
                exponent = ("num", Decimal(tok), tok)
            return ("pow", base, exponent)
        return base

    def group(self) -> tuple:
        self.take("{")
        tree = self.expr()
        self.take("}")
        return tree

    def atom(self) -> tuple:
        tok = self.peek()
        if tok is None:
            raise NotNumeric("end")
        if re.fullmatch(r"\d+(?:\.\d+)?", tok):
            self.take()
            # 4.79 \times 10^{-6} is one printed number, with its last digit's unit.
            tail = self.toks[self.i:self.i + 9]
            if len(tail) >= 5 and tail[:4] == [r"\times", "10", "^", "{"]:
                close_at = tail.index("}") if "}" in tail else -1
                exponent = "".join(tail[4:close_at])
                if close_at > 0 and re.fullmatch(r"-?\d+", exponent):
                    self.i += close_at + 1
                    text = f"{tok}E{exponent}"
                    return ("num", Decimal(text), text)
            if self.peek() == "!":  # a factorial: 9!
                self.take()
                return ("fact", ("num", Decimal(tok), tok))
            return ("num", Decimal(tok), tok)
        if tok == "(":
            self.take()
            tree = self.expr()
            self.take(")")
            return tree
        if tok == "[":
            self.take()
            tree = self.expr()
            self.take("]")
            return tree
        if tok == "{":
            return self.group()
        if tok == r"\pmatbegin":
            self.take()
            rows: list[list[tuple]] = [[]]
            while True:
                rows[-1].append(self.expr())
                sep = self.take()
                if sep == "&":
                    continue
                if sep == r"\cr":
                    rows.append([])
                    continue
                if sep == r"\pmatend":
                    break
                raise NotNumeric(f"in a matrix: {sep!r}")
            if len({len(r) for r in rows}) != 1:
                raise NotNumeric("ragged matrix")
            return ("mat", tuple(tuple(r) for r in rows))
        if tok == "-":  # a signed factor: 2 \cdot -3 does not occur, (-3) does
            self.take()
            return ("neg", self.power())
        if tok == r"\frac":
            self.take()
            return ("div", self.group(), self.group())
        if tok == r"\binom":  # a binomial coefficient of two whole numbers
            self.take()
            return ("binom", self.group(), self.group())
        if tok == "e" and self.i + 1 < len(self.toks) and self.toks[self.i + 1] == "^":
            self.take()  # Euler's number, raised to a power: e^{-1.5}
            return ("e",)
        if tok == r"\sqrt":
            self.take()
            return ("sqrt", self.group())
        if tok == r"\exp":
            self.take()
            return ("exp", self.atom())
        if tok == r"\pi" and (self.i + 1 >= len(self.toks) or self.toks[self.i + 1] != "_"):
            self.take()
            return ("pi",)
        # A symbol: a letter or command with a subscript (c_{1}); known if defined.
        start = self.i
        self.take()
        if self.peek() == "_":
            self.take()
            if self.peek() == "{":
                depth = 0
                while True:
                    t = self.take()
                    depth += t == "{"
                    depth -= t == "}"
                    if depth == 0:
                        break
            else:
                self.take()
        name = "".join(self.toks[start:self.i])
        if name in self.symbols:
            printed, exact = self.symbols[name]
            return ("sym", name, printed, exact)
        raise NotNumeric(f"unknown symbol {name}")


Value = "Decimal | tuple[tuple[Decimal, ...], ...]"


def _is_mat(v: object) -> bool:
    return isinstance(v, tuple)


def _elementwise(a, b, op):
    if _is_mat(a) and _is_mat(b):
        if len(a) != len(b) or len(a[0]) != len(b[0]):
            raise NotNumeric("shapes differ")
        return tuple(tuple(op(x, y) for x, y in zip(ra, rb)) for ra, rb in zip(a, b))
    if _is_mat(a) or _is_mat(b):
        raise NotNumeric("a matrix plus a number")
    return op(a, b)


def _times(a, b):
    if _is_mat(a) and _is_mat(b):
        if len(a[0]) != len(b):
            raise NotNumeric("shapes do not multiply")
        return tuple(tuple(sum((a[i][k] * b[k][j] for k in range(len(b))), Decimal(0))
                           for j in range(len(b[0]))) for i in range(len(a)))
    if _is_mat(a):
        return tuple(tuple(x * b for x in row) for row in a)
    if _is_mat(b):
        return tuple(tuple(a * x for x in row) for row in b)
    return a * b


def _one(v):
    """A 1 x 1 matrix (a row times a column) as the number it is."""
    return v[0][0] if _is_mat(v) and len(v) == 1 and len(v[0]) == 1 else v


def _scalar(v):
    if _is_mat(v):
        if len(v) == 1 and len(v[0]) == 1:  # a 1 x 1 product (a row times a column)
            return v[0][0]
        raise NotNumeric("a matrix where a number is needed")
    return v


def evaluate(tree: tuple, exact: bool = False):
    with localcontext(Context(prec=PREC)):
        kind = tree[0]
        if kind == "num":
            return tree[1]
        if kind == "mat":
            return tuple(tuple(_scalar(evaluate(e, exact)) for e in row) for row in tree[1])
        if kind == "sym":  # the printed value, or where '=' is checked its exact value
            return tree[3] if exact and tree[3] is not None else tree[2]
        if kind == "pi":
            return +_PI
        if kind == "neg":
            return _times(Decimal(-1), evaluate(tree[1], exact))
        if kind == "add":
            return _elementwise(evaluate(tree[1], exact), evaluate(tree[2], exact),
                                lambda x, y: x + y)
        if kind == "sub":
            return _elementwise(evaluate(tree[1], exact), evaluate(tree[2], exact),
                                lambda x, y: x - y)
        if kind == "mul":
            return _times(evaluate(tree[1], exact), evaluate(tree[2], exact))
        if kind == "div":
            top, bottom = evaluate(tree[1], exact), _scalar(evaluate(tree[2], exact))
            if _is_mat(top):  # entry by entry (a reciprocal would round: 1/0.09295)
                return tuple(tuple(x / bottom for x in row) for row in top)
            return top / bottom
        if kind == "pow" and tree[1] == ("e",):
            return _scalar(evaluate(tree[2], exact)).exp()
        if kind == "pow":
            exponent = _scalar(evaluate(tree[2], exact))
            if exponent != exponent.to_integral_value():
                raise NotNumeric("fractional power")
            return _scalar(evaluate(tree[1], exact)) ** int(exponent)
        if kind == "sqrt":
            return _scalar(evaluate(tree[1], exact)).sqrt()
        if kind == "exp":
            return _scalar(evaluate(tree[1], exact)).exp()
        if kind in ("binom", "fact"):
            values = [_scalar(evaluate(t, exact)) for t in tree[1:]]
            if any(v != v.to_integral_value() or v < 0 for v in values):
                raise NotNumeric(f"{kind} of a number that is not whole")
            whole = [int(v) for v in values]
            return Decimal(math.comb(*whole) if kind == "binom" else math.factorial(whole[0]))
        if kind == "e":
            return Decimal(1).exp()
    raise AssertionError(kind)


def literal(tex: str) -> tuple[Decimal, Decimal] | None:
    """``(value, unit of the last digit)`` of a side that is one printed number."""
    match = _SCI.match("".join(tex.split()))
    if match is None:
        return None
    mantissa = Decimal(match.group(1))
    exponent = int(match.group(2) or 0)
    quantum = Decimal(1).scaleb(mantissa.as_tuple().exponent + exponent)
    return mantissa.scaleb(exponent), quantum


def rounds_to(value: Decimal, printed: Decimal, quantum: Decimal) -> bool:
    """Whether *value* rounds half away from zero to *printed*. A value within 10^-45 of
    a tie is a tie as far as 60 digits tell (1/3 * 2.1e-27 / 0.08 is 8.75e-27 on paper;
    -9.465 + 9.75e-136 lies below the tie by more digits than are kept): either
    neighbour is accepted there."""
    with localcontext(Context(prec=PREC)):
        if value.quantize(quantum, rounding=ROUND_HALF_UP) == printed:
            return True
        tie = (printed + value) / 2
        return (abs(abs(printed - value) - quantum / 2) <= Decimal("1e-45") * abs(value)
                and abs(tie - value) <= quantum)


def close(a: Decimal, b: Decimal) -> bool:
    with localcontext(Context(prec=PREC)):
        return abs(a - b) <= Decimal("1e-40") * max(Decimal(1), abs(a), abs(b))


def zero_operands(tree: tuple) -> list[str]:
    """Printed zeros with decimals (``0.000``) among a tree's numbers."""
    if tree[0] == "num":
        return [tree[2]] if tree[1] == 0 and "." in tree[2] else []
    if tree[0] == "mat":
        return [z for row in tree[1] for e in row for z in zero_operands(e)]
    return [z for child in tree[1:] if isinstance(child, tuple) for z in zero_operands(child)]


def literal_matrix(tree: tuple) -> list[tuple[Decimal, Decimal]] | None:
    """The printed entries (value, unit of the last digit) of a matrix of numbers."""
    if tree[0] != "mat":
        return None
    out = []
    for row in tree[1]:
        for e in row:
            if e[0] == "neg" and e[1][0] == "num":
                e = ("num", -e[1][1], "-" + e[1][2])
            if e[0] != "num":
                return None
            out.append((e[1], Decimal(1).scaleb(e[1].as_tuple().exponent)))
    return out


def diff(left: tuple, right: tuple) -> list[tuple[tuple, tuple]]:
    """The pairs (sub-expression, printed number) where *right* replaced part of *left*;
    raises NotNumeric when the two are not the same formula."""
    if left == right:
        return []
    if right[0] == "num" or (right[0] == "mat" and left[0] != "mat"):
        return [(left, right)]
    if left[0] == "mat" and right[0] == "mat":
        if len(left[1]) != len(right[1]) or len(left[1][0]) != len(right[1][0]):
            raise NotNumeric("different shapes")
        return [p for ra, rb in zip(left[1], right[1]) for a, b in zip(ra, rb)
                for p in diff(a, b)]
    if left[0] != right[0] or len(left) != len(right):
        raise NotNumeric("different formulas")
    pairs = []
    for a, b in zip(left[1:], right[1:]):
        if isinstance(a, tuple) and isinstance(b, tuple):
            pairs.extend(diff(a, b))
        elif a != b:
            raise NotNumeric("different formulas")
    return pairs


# --------------------------------------------------------------------------- checking

def split_sides(tex: str) -> list[list[tuple[str, str]]]:
    """Chains of (relation, side): a chain is cut at separators (\\rightarrow, commas) and
    at a new row of an aligned block (``\\cr``), unless that row goes on with a relation
    (``&= ...``) or a term (``&\\quad + ...``); the first side of a chain has relation "".
    """
    text = _prepare(tex)
    toks = [(m.group(1), m.group(0)) for m in _TOKEN.finditer(text) if m.group(1).strip()]
    chains: list[list[tuple[str, str]]] = [[]]
    depth = 0
    current: list[str] = []
    relation = ""
    i = 0
    while i < len(toks):
        tok, raw = toks[i]
        i += 1
        if tok in ("{", "(", "[", r"\pmatbegin"):
            depth += 1
        elif tok in ("}", ")", "]", r"\pmatend"):
            depth -= 1
        if depth == 0 and tok == "&":
            continue
        if depth == 0 and tok == r"\cr":
            following = [t for t, _ in toks[i:i + 2]]
            if following[:1] == ["&"] and len(following) > 1 and \
                    following[1] in ("=", r"\approx", "+", "-"):
                continue  # the row goes on
            chains[-1].append((relation, " ".join(current).strip()))
            chains.append([])
            relation, current = "", []
            continue
        if depth == 0 and tok in ("=", r"\approx"):
            chains[-1].append((relation, " ".join(current).strip()))
            relation, current = tok, []
            continue
        if depth == 0 and tok in _SEPARATORS:
            chains[-1].append((relation, " ".join(current).strip()))
            chains.append([])
            relation, current = "", []
            continue
        current.append(raw.strip())
    chains[-1].append((relation, " ".join(current).strip()))
    return [[s for s in chain if s[1] or s[0]] for chain in chains if chain]


def _check_replaced(sub: tuple, number: tuple, side: str, line: int, report: Report) -> None:
    """A sub-expression replaced by a printed number (or matrix) rounds to it."""
    got = _one(evaluate(sub))
    entries = literal_matrix(number) if number[0] == "mat" else \
        [(number[1], Decimal(1).scaleb(number[1].as_tuple().exponent))]
    values = [x for row in got for x in row] if _is_mat(got) else [got]
    if entries is None or len(values) != len(entries):
        report.fail(line, f"cannot redo a part of {side}")
        return
    for v, (printed, quantum) in zip(values, entries):
        if not rounds_to(v, printed, quantum):
            report.fail(line, f"{v:.12g} does not round to the printed {printed} in {side}")


def _redo_replaced(left: tuple, right: tuple, left_text: str, side: str, line: int,
                   report: Report) -> None:
    """``left \\approx right``, right being left with parts replaced by printed numbers."""
    try:
        pairs = diff(left, right)
    except NotNumeric:
        report.fail(line, f"cannot redo {left_text} \\approx {side}")
        return
    for sub, number in pairs:
        _check_replaced(sub, number, side, line, report)


def check_span(tex: str, line: int, symbols: dict[str, tuple[Decimal, Decimal | None]],
               report: Report) -> None:
    for chain in split_sides(tex):
        if not chain:
            continue
        trees: list[tuple | None] = []
        defines = _SYMBOL_DEF.match(chain[0][1].replace(" ", "")) is not None
        for index, (_, side) in enumerate(chain):
            if index == 0 and defines:  # c_{1} = ...: being (re)defined, not used
                trees.append(None)
                continue
            try:
                trees.append(Parser(tokens(side), symbols).parse() if side else None)
            except (NotNumeric, ArithmeticError):
                trees.append(None)
        for i in range(1, len(chain)):
            relation, side = chain[i]
            left, right = trees[i - 1], trees[i]
            if left is None or right is None:
                continue
            if left[0] != "num":  # an expression: its printed zeros are operands
                for zero in zero_operands(left):
                    report.fail(line, f"a printed {zero} is an operand: {chain[i - 1][1]}")
            try:
                value = _one(evaluate(left))
            except (NotNumeric, ArithmeticError):
                continue
            report.checked += 1
            lit = literal(side)
            entries = literal_matrix(right)
            if entries is not None and _is_mat(value):
                got = [x for row in value for x in row]
                if len(got) != len(entries):
                    report.fail(line, f"shapes differ: {chain[i - 1][1]} vs {side}")
                    continue
                for v, (printed, quantum) in zip(got, entries):
                    ok = close(v, printed) if relation == "=" else \
                        rounds_to(v, printed, quantum)
                    if not ok:
                        report.fail(line, f"an entry {v:.12g} of {chain[i - 1][1]} is not the "
                                          f"printed {printed} ({relation or 'rel'}) in {side}")
                continue
            try:
                value_r = _one(evaluate(right))
            except (NotNumeric, ArithmeticError):
                value_r = None
            if _is_mat(value) or _is_mat(value_r):
                if relation == "=" and not (
                        _is_mat(value) and _is_mat(value_r) and len(value) == len(value_r)
                        and all(close(a, b) for ra, rb in zip(value, value_r)
                                for a, b in zip(ra, rb))):
                    report.fail(line, f"'=' does not hold: {chain[i - 1][1]} = {side}")
                elif relation != "=":
                    _redo_replaced(left, right, chain[i - 1][1], side, line, report)
                continue
            if relation == "=":
                # '=' holds of the values themselves: a constant stands for its exact value
                # (c_1 = 1/sqrt(2 pi)), the printed one for '\\approx'.
                try:
                    value, value_r = _one(evaluate(left, True)), _one(evaluate(right, True))
                except (NotNumeric, ArithmeticError):
                    value_r = None
                if value_r is None or not close(value, value_r):
                    report.fail(line, f"'=' does not hold: {chain[i - 1][1]} = {side} "
                                      f"(the left side is {value:.12g})")
            elif lit is not None:
                if not rounds_to(value, lit[0], lit[1]):
                    report.fail(line, f"{chain[i - 1][1]} is {value:.12g}, which does not "
                                      f"round to the printed {side}")
            else:
                _redo_replaced(left, right, chain[i - 1][1], side, line, report)
        # A constant defined here (c_{1} = ... \approx 0.399) is known from now on: by its
        # printed value and, where a side equal to it evaluates, its exact value.
        first = chain[0][1].replace(" ", "")
        if _SYMBOL_DEF.match(first) and len(chain) > 1:
            lit = literal(chain[-1][1])
            exact = None
            for (relation, _), tree in zip(chain[1:], trees[1:]):
                if relation != "=":
                    break
                if tree is not None:
                    try:
                        exact = _one(evaluate(tree, True))
                    except (NotNumeric, ArithmeticError):
                        exact = None
                    break
            if lit is not None:
                symbols[first] = (lit[0], exact)


def check_markdown(text: str) -> Report:
    """Check every math span of a Markdown document, in document order."""
    report = Report()
    symbols: dict[str, tuple[Decimal, Decimal | None]] = {}
    # A page that states a rounded carry uses each constant as written, rounded: there
    # c_1 stands for its printed value, also for '='.
    carried = "every intermediate value is rounded to" in text
    for span in sorted(math_spans(text), key=lambda s: s["line"]):
        check_span(span["tex"], span["line"], symbols, report)
        if carried:
            symbols.update({k: (v[0], None) for k, v in symbols.items()})
    return report
