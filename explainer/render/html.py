"""Trace -> one self-contained HTML page, offline, with the Markdown document's content.

The page's content is the Markdown document (templates/markdown/), made HTML by
markdown-it-py, a CommonMark parser, with its math turned into MathML by latex2mathml:
browsers draw MathML Core themselves, so the page needs no maths library, no font
and no network, and a screen reader reads the formulas. The page around it (style,
study mode, Content-Security-Policy) is templates/html/. The figures are SVG, inside
the page as data URIs.

For a page that typesets formulas with MathJax (a Moodle question's feedback),
:func:`markdown_to_mathjax_html` keeps each formula's LaTeX between MathJax's
delimiters (templates/html/mathjax.html.j2) instead.

Nothing here writes markup of its own: the parser writes the document's, latex2mathml
the formulas', the templates the page's. What this module adds is which of the
parser's outputs are allowed: our own figures' ``data:image/svg+xml`` images (the
parser refuses SVG data URIs by default, against links in user text; user text is
escaped for Markdown, so it cannot make one).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from .. import defaults
from ..trace import Trace
from ..unwind import temporary_folder
from .environment import render_template
from .filters import TEX_SPECIAL

# The figure files an HTML page holds (as data URIs).
_SVG = "data:image/svg+xml;base64,"


def _parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    md.use(anchors_plugin, min_level=2, max_level=3)
    md.add_render_rule("math_inline", _math(False))
    md.add_render_rule("math_block", _math(True))
    md.add_render_rule("math_inline_double", _math(True))
    plain = md.validateLink
    md.validateLink = lambda url: url.startswith(_SVG) or plain(url)
    return md


def _math(display: bool) -> Any:
    """A render rule: the formula of a math token as MathML (display: a block)."""
    from latex2mathml.converter import convert

    def rule(renderer: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
        tex = tokens[idx].content.strip()
        formula, texts = _texts_apart(tex)
        # latex2mathml reads an aligned block as a row of symbols (its & and \cr printed);
        # align* is the same table of lines to it.
        formula = formula.replace(r"\begin{aligned}", r"\begin{align*}").replace(
            r"\end{aligned}", r"\end{align*}")
        mathml = convert(formula, display="block" if display else "inline")
        assert mathml.startswith("<math "), mathml[:20]  # (the template adds to its tag)
        for i, text in enumerate(texts):  # each \text{...} an mtext of its own characters
            # (its spaces no-break, as latex2mathml writes them: MathML trims an mtext)
            mathml = mathml.replace(f"<mtext>{_PLACE}{i}{_PLACE}</mtext>",
                                    f"<mtext>{str(escape(text)).replace(' ', '&#x000A0;')}"
                                    f"</mtext>", 1)
        return render_template("html", "html/math.html.j2",
                               {"mathml": Markup(mathml), "display": display, "tex": tex})
    return rule


# A \text{...} group of a formula is user text as tex_text wrote it (its specials as
# text commands: \textless{}, \{, \emrtl{...}). latex2mathml reads those as math
# (\textless{ becomes an mtext, b an mi) and copies a raw < into its mtext: each group
# is taken out, read back to its characters, and put in as an escaped mtext.
_PLACE = "EMXTEXTPLACE"
# (tex_text's text commands, read back; its \{, \$ and the like are a backslash and
# the character.)
_TEXT_COMMANDS = {command: char for char, command in TEX_SPECIAL.items()
                  if command.endswith("{}")}


def _texts_apart(tex: str) -> tuple[str, list[str]]:
    """*tex* with each ``\text{...}`` group a numbered placeholder, and the groups'
    characters (their text commands read back)."""
    out, texts, i = [], [], 0
    while True:
        start = tex.find("\\text{", i)
        if start < 0:
            out.append(tex[i:])
            return "".join(out), texts
        j, depth, chars = start + len("\\text{"), 1, []
        while j < len(tex) and depth:
            command = next((c for c in _TEXT_COMMANDS if tex.startswith(c, j)), None)
            if command is not None:
                chars.append(_TEXT_COMMANDS[command])
                j += len(command)
            elif tex.startswith("\\emrtl{", j):
                j += len("\\emrtl{")
                depth += 1
            elif tex[j] == "\\" and j + 1 < len(tex):  # \{ \} \$ \& \# \_ \%
                chars.append(tex[j + 1])
                j += 2
            else:  # (a raw brace is a group's: tex_text escapes the text's own)
                depth += tex[j] == "{"
                depth -= tex[j] == "}"
                if tex[j] not in "{}":
                    chars.append(tex[j])
                j += 1
        out.append(tex[i:start] + f"\\text{{{_PLACE}{len(texts)}{_PLACE}}}")
        texts.append("".join(chars))
        i = j


def markdown_to_html(text: str) -> Markup:
    """The HTML of a Markdown document of ours (its math as MathML): markup, which an
    HTML or XML template prints as it is."""
    return Markup(_parser().render(text))


def inline_html(text: str) -> Markup:
    """The HTML of one line of Markdown of ours (a label, a sentence), without a
    paragraph around it: its math as MathML."""
    return Markup(_parser().renderInline(text))


def markdown_to_mathjax_html(text: str) -> Markup:
    """The HTML of a Markdown document of ours for a page that typesets its formulas with
    MathJax (a Moodle question's feedback): each formula its LaTeX source between
    MathJax's delimiters, its headings set under the page's (html/mathjax.html.j2)."""
    return Markup(_mathjax_parser().render(text))


@lru_cache(maxsize=None)
def _mathjax_parser() -> Any:
    """The parser of :func:`markdown_to_mathjax_html`, made once (an exam's thousand
    variants each have a key)."""
    from markdown_it import MarkdownIt
    from markdown_it.common.utils import escapeHtml
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    from .environment import environment

    layout = environment("html").get_template("html/mathjax.html.j2").module
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    for token_type, (opening, closing) in (("math_inline", layout.inline),
                                           ("math_inline_double", layout.display_inline),
                                           ("math_block", layout.display)):
        md.add_render_rule(token_type, lambda renderer, tokens, idx, options, env,
                           opening=opening, closing=closing:
                           opening + escapeHtml(tokens[idx].content.strip()) + closing)

    def shift_headings(state: Any) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1:]) + layout.heading_shift)}"

    md.core.ruler.push("shift_headings", shift_headings)
    _remember_inline_html(md)
    return md


# The HTML of an inline text (a table cell, a paragraph) is a function of the text alone
# while a document defines no link references (ours define none): a thousand exam keys
# share most of their cells and sentences. (Bounded: a key has some hundreds.)
_INLINE_CACHE_SIZE = 100_000


def _remember_inline_html(md: Any) -> None:
    """Parse and render each inline text once: the parser's ``inline`` rule looks the text
    up first, and a rule after ``text_join`` renders and remembers what it parsed (a
    token of its own then stands for the HTML)."""
    from markdown_it.rules_core.inline import inline as parse
    from markdown_it.token import Token

    known: dict[str, str] = {}

    def inline(state: Any) -> None:
        if state.env.get("references"):
            parse(state)
            return
        for token in state.tokens:
            if token.type != "inline":
                continue
            html = known.get(token.content)
            if html is not None:
                token.children = [Token("remembered_inline", "", 0, content=html)]
            else:
                token.children = token.children or []
                state.md.inline.parse(token.content, state.md, state.env, token.children)
                token.meta["parsed"] = True

    def remember(state: Any) -> None:
        if state.env.get("references"):
            return
        if len(known) > _INLINE_CACHE_SIZE:
            known.clear()
        for token in state.tokens:
            if token.type == "inline" and token.meta.pop("parsed", False):
                html = md.renderer.renderInline(token.children, md.options, state.env)
                known[token.content] = html
                token.children = [Token("remembered_inline", "", 0, content=html)]

    md.core.ruler.at("inline", inline)
    md.core.ruler.after("text_join", "remember_inline", remember)
    md.add_render_rule("remembered_inline",
                       lambda renderer, tokens, idx, options, env: tokens[idx].content)


def svg_figures(trace: Trace) -> dict[str, str]:
    """The trace's figures as SVG data URIs, by name (``fit``, ``loglik``, ``resp``)."""
    from .plots import write_plots

    with temporary_folder() as folder:
        names = write_plots(trace, folder, "svg")
        return {name: _SVG + base64.b64encode((folder / file).read_bytes()).decode()
                for name, file in names.items()}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# The inline style attributes the parser writes (a table column's alignment): allowed
# by their hashes, nothing else.
_STYLE_ATTRIBUTES = ("text-align:left", "text-align:right", "text-align:center")


def render_html(trace: Trace, plots: dict[str, str] | None = None, part: str | None = None,
                iteration: int | None = None, templates: str | None = None,
                study: bool = False, fragment: bool = False,
                practice: dict[str, Any] | None = None) -> str:
    """The worked solution as one HTML page (*plots*: data URIs of the figures, see
    :func:`svg_figures`); *study*: the page opens in study mode, every step hidden until
    the reader asks for it. With *fragment* only the document, for a page of another's
    (a notebook's output): no script, no style of its own. *practice*: the context of
    practice mode's panels (made by ``explainer.grading.practice``, a layer above), whose
    script and style the page then holds too."""
    from .markdown import render_markdown

    text = render_markdown(trace, plots=plots, part=part, iteration=iteration,
                           templates=templates, flavor=defaults.FLAVOR)
    body = markdown_to_html(text)
    if fragment:
        return render_template("html", "html/fragment.html.j2", {"body": body}, templates)
    # The style and the script are the page's own (a <style> and a <script> element's
    # text is not HTML-escaped); so are their hashes, a list of quoted sources.
    style = Markup(render_template("html", "html/style.css.j2", {}))
    script = Markup(render_template("html", "html/study.js.j2", {}))
    panels = None
    if practice is not None:
        style += Markup(render_template("html", "html/practice.css.j2", {}))
        script += Markup(render_template("html", "html/practice.js.j2", {}))
        panels = Markup(render_template("html", "html/practice.html.j2", practice, templates))
    context = {
        "title": trace.problem.title or f"EM for a {trace.problem.family} mixture",
        "body": body, "style": style, "script": script, "study": study, "practice": panels,
        "style_hashes": Markup(" ".join([_sha256(style),
                                         *(_sha256(s) for s in _STYLE_ATTRIBUTES)])),
        "script_hash": Markup(_sha256(script)),
    }
    return render_template("html", "html/page.html.j2", context, templates)
