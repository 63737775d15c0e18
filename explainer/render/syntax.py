"""One template tree for two syntaxes: a part of a document written once, read by the
Markdown environment as it is and by the LaTeX environment with its delimiters changed.

Markdown templates use Jinja's usual delimiters; LaTeX templates use LaTeX-safe ones
(``\\VAR{...}``, ``\\BLOCK{...}``, ``\\#{...}``). A template of the shared tree
(``parts/NAME.j2``: ``parts/gaussian/conclusion.j2``) is written with the usual ones; :func:`to_latex_syntax` rewrites its delimiters, and nothing else, so that the
LaTeX environment reads the same template with the same whitespace control. What differs
between the formats is said by the format's vocabulary (``markdown/vocabulary.md.j2``,
``latex/vocabulary.tex.j2``), which the part imports by the name the environment gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import jinja2

_ENDS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_LATEX_STARTS = {"{{": "\\VAR{", "{%": "\\BLOCK{", "{#": "\\#{"}
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def is_shared(name: str) -> bool:
    """A template of the shared tree: ``parts/NAME.j2`` (ours or a user's of that name,
    which replaces ours), no format named before ``.j2``. A user's own template of
    another name is read in its environment's syntax, as before."""
    path = PurePosixPath(name)
    parts = path.parts[1:] if path.parts[:1] == ("builtin",) else path.parts
    return parts[:1] == ("parts",) and path.suffixes == [".j2"]


def _tag_end(source: str, start: int, end: str) -> int:
    """Where the tag opened at *start* closes: the index of its *end* delimiter (with a
    ``-`` or ``+`` before it), found as Jinja's lexer finds it, outside string literals
    and with brackets balanced."""
    depth, i = 0, start
    while i < len(source):
        ch = source[i]
        if ch in "\"'":
            j = i + 1
            while j < len(source) and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            i = j + 1
            continue
        if depth == 0 and source.startswith(end, i):
            return i - 1 if source[i - 1] in "-+" and i - 1 > start else i
        if ch in _PAIRS:
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        i += 1
    raise jinja2.TemplateSyntaxError(f"a tag opened here is not closed ({end!r})",
                                     source.count("\n", 0, start) + 1)


def to_latex_syntax(source: str) -> str:
    """*source* with Jinja's usual delimiters rewritten as the LaTeX environment's.

    ``{{ e }}`` becomes ``\\VAR{ e }``, ``{% s %}`` ``\\BLOCK{ s }``, a comment an empty
    ``\\#{}`` that keeps its lines (a LaTeX comment ends at its first ``}``); the signs of
    whitespace control stay where they were, the text between tags is untouched. A raw
    block cannot be rewritten and is refused.
    """
    out: list[str] = []
    i = 0
    while True:
        found = [(source.find(start, i), start) for start in _ENDS]
        found = [(at, start) for at, start in found if at >= 0]
        if not found:
            out.append(source[i:])
            return "".join(out)
        at, start = min(found)
        out.append(source[i:at])
        body_start = at + 2
        sign = source[body_start] if source[body_start:body_start + 1] in ("-", "+") else ""
        if start == "{#":
            close = source.find("#}", body_start)
            if close < 0:
                raise jinja2.TemplateSyntaxError("a comment is not closed",
                                                 source.count("\n", 0, at) + 1)
            inner = source[body_start:close]
            end_sign = inner[-1] if inner[-1:] in ("-", "+") and len(inner) > len(sign) else ""
            out.append("\\#{" + sign + "\n" * inner.count("\n") + end_sign + "}")
            i = close + 2
            continue
        close = _tag_end(source, body_start + len(sign), _ENDS[start])
        inner = source[body_start:close]
        if start == "{%" and inner.strip(" -+").split(None, 1)[:1] == ["raw"]:
            raise jinja2.TemplateSyntaxError("a raw block cannot be read in both syntaxes",
                                             source.count("\n", 0, at) + 1)
        end_sign = source[close] if source[close] in "-+" else ""
        out.append(_LATEX_STARTS[start] + inner + end_sign + "}")
        i = close + len(end_sign) + 2


class SharedTreeLoader(jinja2.BaseLoader):
    """A loader for the LaTeX environment: *inner*'s templates, those of the shared tree
    with their delimiters rewritten (:func:`to_latex_syntax`)."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        if is_shared(template):
            source = to_latex_syntax(source)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


# The parts written once for every format (templates/parts/), by the name a document
# plug-in gives its kind of document (``parts``); the others are still each format's own,
# templates/<format>/<name>.<suffix>.j2, until they are moved to the one tree.
ONE_TREE_PARTS = {"familyparts": "parts/familyparts.j2", "parts": "parts/gaussian.j2"}
_SUFFIXES = {"markdown": "md", "latex": "tex"}


def vocabulary(kind: str) -> dict[str, Any]:
    """The globals a template reads its format from: the template of its vocabulary
    (heading, list, emphasis, code, tables, displayed formulas, the layouts of LaTeX's
    tables) and ``parts_template(parts)``, the template of a kind of document's parts."""
    kind = "latex" if kind == "latex" else "markdown"  # (an HTML page is Markdown made HTML)
    suffix = _SUFFIXES[kind]

    def parts_template(parts: str) -> str:
        """The template of a kind of document's parts (:data:`ONE_TREE_PARTS`)."""
        return ONE_TREE_PARTS.get(parts) or f"{kind}/{parts}.{suffix}.j2"

    return {"vocabulary": f"{kind}/vocabulary.{suffix}.j2", "parts_template": parts_template}
