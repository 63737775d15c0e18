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
known from its definition on. A printed zero with decimals (``0.000``) used as an operand
is a failure of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from mdcheck import math_spans

PREC = 60
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459")
_NOISE = re.compile(r"\\(left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])|\\[,;! ]|"
                    r"\\thinspace|\\quad|\\qquad|\\displaystyle")
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\\[a-zA-Z]+|[-+*/^_(){}\[\]=,<>|]|[a-zA-Z]|.)")
_SCI = re.compile(r"^(-?\d+(?:\.\d+)?)(?:\s*\\times\s*10\^\{(-?\d+)\})?$")
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

def tokens(tex: str) -> list[str]:
    tex = _NOISE.sub(" ", tex)
    out = []
    for match in _TOKEN.finditer(tex):
        token = match.group(1)
        if token.strip():
            out.append(token)
    return out


class Parser:
    """Recursive descent over the arithmetic of a printed formula; a tree of tuples."""

    def __init__(self, toks: list[str], symbols: dict[str, Decimal]):
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
        tree = self.power()
        while True:
            tok = self.peek()
            if tok in (r"\cdot", r"\times"):
                self.take()
                tree = ("mul", tree, self.power())
            elif tok is not None and tok not in ("+", "-", ")", "]", "}", "^"):
                tree = ("mul", tree, self.power())  # juxtaposition
            else:
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
        if tok == "-":  # a signed factor: 2 \cdot -3 does not occur, (-3) does
            self.take()
            return ("neg", self.power())
        if tok == r"\frac":
            self.take()
            return ("div", self.group(), self.group())
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
            value = self.symbols[name]
            return ("sym", name, value)
        raise NotNumeric(f"unknown symbol {name}")


def evaluate(tree: tuple) -> Decimal:
    with localcontext(Context(prec=PREC)):
        kind = tree[0]
        if kind == "num":
            return tree[1]
        if kind == "sym":
            return tree[2]
        if kind == "pi":
            return +_PI
        if kind == "neg":
            return -evaluate(tree[1])
        if kind == "add":
            return evaluate(tree[1]) + evaluate(tree[2])
        if kind == "sub":
            return evaluate(tree[1]) - evaluate(tree[2])
        if kind == "mul":
            return evaluate(tree[1]) * evaluate(tree[2])
        if kind == "div":
            return evaluate(tree[1]) / evaluate(tree[2])
        if kind == "pow":
            exponent = evaluate(tree[2])
            if exponent != exponent.to_integral_value():
                raise NotNumeric("fractional power")
            return evaluate(tree[1]) ** int(exponent)
        if kind == "sqrt":
            return evaluate(tree[1]).sqrt()
        if kind == "exp":
            return evaluate(tree[1]).exp()
    raise AssertionError(kind)


def literal(tex: str) -> tuple[Decimal, Decimal] | None:
    """``(value, unit of the last digit)`` of a side that is one printed number."""
    match = _SCI.match(" ".join(tex.split()))
    if match is None:
        return None
    mantissa = Decimal(match.group(1))
    exponent = int(match.group(2) or 0)
    quantum = Decimal(1).scaleb(mantissa.as_tuple().exponent + exponent)
    return mantissa.scaleb(exponent), quantum


def rounds_to(value: Decimal, printed: Decimal, quantum: Decimal) -> bool:
    with localcontext(Context(prec=PREC)):
        return value.quantize(quantum, rounding=ROUND_HALF_UP) == printed


def close(a: Decimal, b: Decimal) -> bool:
    with localcontext(Context(prec=PREC)):
        return abs(a - b) <= Decimal("1e-40") * max(Decimal(1), abs(a), abs(b))


def zero_operands(tree: tuple) -> list[str]:
    """Printed zeros with decimals (``0.000``) among a tree's numbers."""
    if tree[0] == "num":
        return [tree[2]] if tree[1] == 0 and "." in tree[2] else []
    return [z for child in tree[1:] if isinstance(child, tuple) for z in zero_operands(child)]


def diff(left: tuple, right: tuple) -> list[tuple[tuple, tuple]]:
    """The pairs (sub-expression, printed number) where *right* replaced part of *left*;
    raises NotNumeric when the two are not the same formula."""
    if left == right:
        return []
    if right[0] == "num":
        return [(left, right)]
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
    """Chains of (relation, side): a chain is cut at separators (\\rightarrow, commas);
    the first side of a chain has relation ""."""
    toks_text = _NOISE.sub(" ", tex)
    chains: list[list[tuple[str, str]]] = [[]]
    depth = 0
    current: list[str] = []
    relation = ""
    for match in _TOKEN.finditer(toks_text):
        tok = match.group(1)
        raw = match.group(0)
        if tok in "{([":
            depth += 1
        elif tok in "})]":
            depth -= 1
        if depth == 0 and tok in ("=", r"\approx"):
            chains[-1].append((relation, "".join(current).strip()))
            relation, current = tok, []
            continue
        if depth == 0 and tok in _SEPARATORS:
            chains[-1].append((relation, "".join(current).strip()))
            chains.append([])
            relation, current = "", []
            continue
        current.append(raw)
    chains[-1].append((relation, "".join(current).strip()))
    return [[s for s in chain if s[1] or s[0]] for chain in chains if chain]


def check_span(tex: str, line: int, symbols: dict[str, Decimal], report: Report) -> None:
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
                value = evaluate(left)
            except (NotNumeric, ArithmeticError):
                continue
            report.checked += 1
            lit = literal(side)
            if relation == "=":
                if not close(value, evaluate(right)):
                    report.fail(line, f"'=' does not hold: {chain[i - 1][1]} = {side} "
                                      f"(the left side is {value:.12g})")
            elif lit is not None:
                if not rounds_to(value, lit[0], lit[1]):
                    report.fail(line, f"{chain[i - 1][1]} is {value:.12g}, which does not "
                                      f"round to the printed {side}")
            else:
                try:
                    pairs = diff(left, right)
                except NotNumeric:
                    report.fail(line, f"cannot redo {chain[i - 1][1]} \\approx {side}")
                    continue
                for sub, number in pairs:
                    got = evaluate(sub)
                    quantum = Decimal(1).scaleb(number[1].as_tuple().exponent)
                    if not rounds_to(got, number[1], quantum):
                        report.fail(line, f"{got:.12g} does not round to the printed "
                                          f"{number[2]} in {side}")
        # A constant defined here (c_{1} = ... \approx 0.399) is known from now on.
        first = chain[0][1].replace(" ", "")
        if _SYMBOL_DEF.match(first) and len(chain) > 1:
            lit = literal(chain[-1][1])
            if lit is not None:
                symbols[first] = lit[0]


def check_markdown(text: str) -> Report:
    """Check every math span of a Markdown document, in document order."""
    report = Report()
    symbols: dict[str, Decimal] = {}
    for span in sorted(math_spans(text), key=lambda s: s["line"]):
        check_span(span["tex"], span["line"], symbols, report)
    return report
