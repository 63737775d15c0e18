"""One template tree: a part written once (templates/parts/) reads alike in the Markdown
environment's syntax and, its delimiters rewritten, in the LaTeX environment's; what the
formats write differently is said by their vocabularies, which define the same macros."""

from __future__ import annotations

import jinja2
import pytest
from jinja2 import nodes

import explainer
from conftest import EXAMPLES, ROOT
from explainer.render.environment import LATEX_SYNTAX, environment
from explainer.render.syntax import is_shared, to_latex_syntax

TEMPLATES = ROOT / "templates"
OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True,
           "undefined": jinja2.StrictUndefined}

SNIPPETS = [
    "a {{ x }} b\n",
    "{{- x -}}  {{ y }}\n",
    "$\\pi_{ {{- k -}} } = {{ x }}$\n",  # TeX's braces around a variable
    "{% if x %}\n  yes {{ x }}\n{% else %}\n  no\n{% endif %}\nafter\n",
    "{% for i in items -%}\n  {{ i }},\n{%- endfor %}\n",
    '{{ {"up": "rose", "down": "fell"}[d] }}\n',  # a dict: its braces balanced
    '{{ "%}" ~ "}}" ~ "{#" }} {{ \'it\\\'s\' }}\n',  # delimiters inside strings
    "{# a comment with } and {% if %} inside #}\nkept\n",
    "{#- one\n    on two lines -#}\n  next {{ x }}\n",
    "{% macro m(a, b=1) -%}\n[{{ a }}|{{ b }}]\n{%- endmacro %}{{ m(x) }} {{ m(y, 2) }}\n",
    ("{% set ns = namespace(items=[]) %}\n"
     "{% for i in items %}{% set ns.items = ns.items + [i * 2] %}{% endfor %}\n"
     "{{ ns.items|join(' + ') }}\n"),
    "{%+ if x %}  kept  {%+ endif %}\n{{ x }}{{ y }}\n",
]


@pytest.mark.parametrize("source", SNIPPETS)
def test_a_template_reads_alike_in_both_syntaxes(source):
    context = {"x": 3, "y": "b}", "k": 2, "d": "up", "items": [1, 2, 3]}
    usual = jinja2.Environment(**OPTIONS).from_string(source).render(context)
    latex = to_latex_syntax(source)
    assert latex.count("\n") == source.count("\n")  # error lines point at the source's
    ours = jinja2.Environment(**OPTIONS, **LATEX_SYNTAX).from_string(latex).render(context)
    assert ours == usual


def test_the_rewrite_touches_the_delimiters_alone():
    assert to_latex_syntax("x_{ {{- n -}} } {% if a %}{{ a }}{% endif %} {# c #}") == \
        "x_{ \\VAR{- n -} } \\BLOCK{ if a }\\VAR{ a }\\BLOCK{ endif } \\#{}"
    assert to_latex_syntax("no tags: $\\frac{a}{b}$ % 100") == "no tags: $\\frac{a}{b}$ % 100"


def test_what_cannot_be_read_in_both_syntaxes_is_refused():
    with pytest.raises(jinja2.TemplateSyntaxError, match="raw block"):
        to_latex_syntax("{% raw %}{{ x }}{% endraw %}")
    with pytest.raises(jinja2.TemplateSyntaxError, match="not closed"):
        to_latex_syntax("a {{ x ")
    with pytest.raises(jinja2.TemplateSyntaxError, match="not closed"):
        to_latex_syntax("a {# x ")


def test_shared_names():
    assert is_shared("parts/sentences.j2") and is_shared("builtin/parts/families/poisson.j2")
    assert not is_shared("markdown/vocabulary.md.j2") and not is_shared("latex/body.tex.j2")
    # A user's own LaTeX template of another name keeps the LaTeX syntax.
    assert not is_shared("mine.j2") and not is_shared("parts/mine.tex.j2")


def test_a_users_latex_template_keeps_its_syntax(tmp_path):
    (tmp_path / "mine.j2").write_text(
        "\\BLOCK{ set n = N }\\newcommand{\\half}[1]{#1/2}N = \\VAR{ n }, {{ not a tag }}\n")
    text = explainer.solve(EXAMPLES / "lecture" / "lecture.yaml").render_template(
        "mine.j2", templates=tmp_path, kind="latex")
    assert text == "\\newcommand{\\half}[1]{#1/2}N = 5, {{ not a tag }}\n"  # five points


def _shared() -> list[str]:
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.j2")
                  if is_shared(p.relative_to(TEMPLATES).as_posix()))


def test_every_shared_template_compiles_in_both_environments():
    names = _shared()
    assert "parts/sentences.j2" in names and "parts/families/poisson.j2" in names
    for kind in ("markdown", "latex"):
        for name in names:
            environment(kind).get_template(name)  # raises on a syntax error


def _macros(name: str, kind: str) -> dict[str, list[str]]:
    env = environment(kind)
    source = env.loader.get_source(env, name)[0]
    return {m.name: [a.name for a in m.args] for m in env.parse(source).find_all(nodes.Macro)}


def test_the_formats_vocabularies_define_what_the_shared_parts_ask():
    """Each macro a shared part calls as fmt.NAME is in both vocabularies, with the same
    arguments (a vocabulary may hold more: the LaTeX tables' longtable helpers)."""
    markdown = _macros("markdown/vocabulary.md.j2", "markdown")
    latex = _macros("latex/vocabulary.tex.j2", "latex")
    env = environment("markdown")
    asked = {node.attr for name in _shared()
             for node in env.parse(env.loader.get_source(env, name)[0]).find_all(nodes.Getattr)
             if isinstance(node.node, nodes.Name) and node.node.name == "fmt"}
    assert {"heading", "bold", "item", "display_open", "table_row"} <= asked
    assert {name: markdown.get(name) for name in asked} == \
        {name: latex.get(name) for name in asked}
    assert None not in {name: markdown.get(name) for name in asked}.values()
    assert all(markdown[name] == latex[name] for name in markdown.keys() & latex.keys())


def test_a_shared_part_writes_each_formats_own_markup():
    template = ('{% import vocabulary as fmt with context %}'
                '{{ fmt.heading(h, "Title") }}|{{ fmt.bold("b") }}|{{ fmt.code("--carry full") }}|'
                '{{ fmt.item() }}|{{ "a_b & c"|escaped }}')
    markdown = environment("markdown").from_string(template).render(h="###")
    latex = environment("latex").from_string(to_latex_syntax(template)).render(
        h="\\subsection*")
    assert markdown == "### Title|**b**|`--carry full`|- |a\\_b \\& c"
    assert latex == "\\subsection*{Title}|\\textbf{b}|\\texttt{-{}-carry full}|\\item |a\\_b \\& c"
