"""Markdown flavours checked with real parsers, and users' own templates in the sandbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

import explainer
from conftest import EXAMPLES, ROOT
from explainer.errors import ProblemError, RenderError
from mdcheck import katex_failures, math_spans, table_problems

TRACE = explainer.solve(EXAMPLES / "heights" / "heights.yaml")  # iterations 1 and 10 in full
ESTEP_ONLY = explainer.solve(EXAMPLES / "single-point" / "single-point.yaml")


@pytest.mark.parametrize("flavor", ["gfm", "myst", "quarto", "obsidian"])
def test_every_flavor_renders_its_math_and_tables(flavor):
    for trace in (TRACE, ESTEP_ONLY):
        text = trace.to_markdown(flavor=flavor)
        assert katex_failures(math_spans(text)) == []
        assert table_problems(text) == []


def test_myst_labels_and_references_parse_with_the_myst_parser():
    text = TRACE.to_markdown(flavor="myst")
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, allow_labels=True)
    tokens = md.parse(text)
    labels = [t.info for t in tokens if t.type == "math_block_label"]
    assert labels == ["eq-responsibility-1", "eq-gaussian-1",
                      "eq-responsibility-10", "eq-gaussian-10"]
    blocks = [t for t in tokens if t.type in ("math_block", "math_block_label")]
    # Every display formula is math to the MyST parser.
    assert len(blocks) == sum(span["display"] for span in math_spans(text))
    # Each reference points at a label that exists.
    refs = re.findall(r"\{eq\}`([\w-]+)`", text)
    assert refs == ["eq-responsibility-1", "eq-responsibility-10"]
    assert set(refs) <= set(labels)


def test_quarto_labels_and_references():
    text = TRACE.to_markdown(flavor="quarto")
    labels = re.findall(r"^\$\$ \{#(eq-[\w-]+)\}$", text, flags=re.M)
    assert labels == ["eq-responsibility-1", "eq-gaussian-1",
                      "eq-responsibility-10", "eq-gaussian-10"]
    assert re.findall(r"\(@(eq-[\w-]+)\)", text) == ["eq-responsibility-1",
                                                     "eq-responsibility-10"]


def test_gfm_and_obsidian_carry_no_labels():
    for flavor in ("gfm", "obsidian"):
        text = TRACE.to_markdown(flavor=flavor)
        assert "eq-" not in text and "{eq}" not in text
    assert TRACE.to_markdown(flavor="gfm") == TRACE.to_markdown()


def test_unknown_flavor():
    with pytest.raises(ProblemError, match="expected one of gfm, myst, quarto, obsidian"):
        TRACE.to_markdown(flavor="pandoc")


# --------------------------------------------------------------------------- templates

def test_a_users_template_imports_our_macros(tmp_path):
    (tmp_path / "notes.md.j2").write_text(
        '{% from "em/macros.md.j2" import estep_table, responsibilities_table, '
        'mstep_derivation, conclusion, params_table with context %}\n'
        "# My notes\n\n{{ params_table(start.params, computed=false) }}\n\n"
        "{{ estep_table(iterations[0]) }}\n\n{{ responsibilities_table(iterations[0]) }}\n\n"
        "{{ mstep_derivation(iterations[0]) }}\n{{ conclusion(iterations[0]) }}\n")
    text = TRACE.render_template("notes.md.j2", templates=tmp_path)
    full = TRACE.to_markdown()
    assert text.startswith("# My notes")
    r = TRACE.iterations[0].estep.detail.resp[0]
    row = f"| $x_{{1}} = 5.2$ | ${r[0]:.4f}$ | ${r[1]:.4f}$ |"
    for piece in ("| $x_{1} = 5.2$ | $c_{1} \\exp", row,
                  "### M-step: re-estimate the parameters", "### Conclusion of iteration 1"):
        assert piece in text and piece in full
    assert katex_failures(math_spans(text)) == []
    # The E-step-only question passes none.
    (tmp_path / "q.md.j2").write_text('{% from "em/macros.md.j2" import estep_table '
                                      'with context %}{{ estep_table(none) }}')
    assert "$x_{1} = 3.5$" in ESTEP_ONLY.render_template("q.md.j2", templates=tmp_path)


def test_our_macros_serve_a_problem_in_two_dimensions(tmp_path):
    (tmp_path / "notes.md.j2").write_text(
        '{% from "em/macros.md.j2" import estep_table, responsibilities_worked, '
        'responsibilities_table, mstep_derivation, conclusion, params_table with context %}\n'
        "# My notes\n\n{{ params_table(start.params, computed=false) }}\n\n"
        "{{ estep_table(iterations[0]) }}\n\n{{ responsibilities_worked(iterations[0]) }}\n\n"
        "{{ responsibilities_table(iterations[0]) }}\n\n"
        "{{ mstep_derivation(iterations[0]) }}\n{{ conclusion(iterations[0]) }}\n")
    trace = explainer.solve(data=[[0, 0], [2, 0], [0, 2], [1.5, 1.5], [3, 2], [2, 3]], k=2,
                            iterations=1, init_method="kmeans")
    text = trace.render_template("notes.md.j2", templates=tmp_path)
    full = trace.to_markdown()
    r = trace.iterations[0].estep.detail.resp[3]
    row = f"| $x_{{4}} = (1.5, 1.5)$ | ${r[0]:.3f}$ | ${r[1]:.3f}$ |"
    for piece in (r"\Sigma_{1} \approx \begin{pmatrix}", r"| $x_n$ | $\Delta^2_{n1}$ |", row,
                  "**E-step takeaway:**", "### M-step: re-estimate the parameters",
                  "S_{2} = \\sum", "### Conclusion of iteration 1"):
        assert piece in text and piece in full, piece
    assert katex_failures(math_spans(text)) == []


def _template(folder, name: str, text: str) -> None:
    """A template of the user's, *name* below *folder*."""
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_template_of_the_same_name_replaces_ours(tmp_path):
    """A part of the shared tree replaced once is replaced in every format."""
    _template(tmp_path, "parts/gaussian/conclusion.j2",
              "{% import vocabulary as fmt with context %}"
              "{% macro conclusion(it, h, N, labels, named, kernel) %}"
              '{{ fmt.heading(h, "What changed in iteration " ~ it.index) }}\n'
              "{% endmacro %}\n")
    text = TRACE.to_markdown(templates=tmp_path)
    assert "### What changed in iteration 1" in text
    assert "Conclusion of iteration" not in text
    assert "### M-step: re-estimate the parameters" in text  # the rest is ours
    tex = TRACE.to_latex(templates=tmp_path)
    assert "\\subsection*{What changed in iteration 1}" in tex
    assert "Conclusion of iteration" not in tex and "\\subsection*{M-step" in tex


def test_a_users_document_replaces_one_block_and_keeps_ours(tmp_path):
    """The document is a skeleton of blocks: a user's document.md.j2 extends ours (named
    builtin/...) and replaces one block, calling ours with super() where it likes."""
    _template(tmp_path, "markdown/document.md.j2",
              '{% extends "builtin/markdown/document.md.j2" %}\n'
              "{% block clustering %}## Who belongs where\n\nSee the table.\n{% endblock %}\n"
              "{% block mstep %}> Iteration {{ it.index }}, M-step:\n\n{{ super() }}"
              "{% endblock %}\n")
    ours, theirs = TRACE.to_markdown(), TRACE.to_markdown(templates=tmp_path)
    assert "## Clustering" in ours and "## Clustering" not in theirs
    assert "## Who belongs where\n\nSee the table." in theirs
    assert "> Iteration 10, M-step:\n\n### M-step: re-estimate the parameters" in theirs
    # Everything before the blocks replaced is ours, to the byte.
    cut = ours.index("### M-step")
    assert theirs.startswith(ours[:cut - 1].rstrip("\n"))
    # LaTeX: the body's blocks, the same way.
    _template(tmp_path, "latex/body.tex.j2",
              '\\BLOCK{ extends "builtin/latex/body.tex.j2" }\n'
              "\\BLOCK{ block setup }\\section*{Our problem}\n\\VAR{ super() }"
              "\\BLOCK{ endblock }\n")
    tex = TRACE.to_latex(templates=tmp_path)
    assert "\\section*{Our problem}\n\\section*{Step 0: Setup}" in tex
    assert tex.count("\\section*{Iteration") == 2


@pytest.mark.parametrize("evil", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ labels.__class__.__base__ }}",
])
def test_user_templates_cannot_reach_python_internals(tmp_path, evil):
    (tmp_path / "evil.md.j2").write_text(evil)
    with pytest.raises(RenderError, match="templates: "):
        TRACE.render_template("evil.md.j2", templates=tmp_path)


def test_user_template_mistakes_are_clear(tmp_path):
    (tmp_path / "broken.md.j2").write_text("{% for x in %}")
    with pytest.raises(RenderError, match=r"templates: .*broken.md.j2:1: "):
        TRACE.render_template("broken.md.j2", templates=tmp_path)
    (tmp_path / "typo.md.j2").write_text("{{ iteratons }}")
    with pytest.raises(RenderError,
                       match="templates: typo.md.j2:1: UndefinedError: 'iteratons' is undefined"):
        TRACE.render_template("typo.md.j2", templates=tmp_path)
    with pytest.raises(RenderError, match="templates: template not found: nope.md.j2"):
        TRACE.render_template("nope.md.j2", templates=tmp_path)
    # A filter of ours under its name before it said what it does: its name now.
    (tmp_path / "old.md.j2").write_text("{{ 0.5|fix }} {{ 0.5|fixed }}")
    with pytest.raises(RenderError, match=r"old.md.j2:1: No filter named 'fix'.* \(it is "
                                          r"now called 'fixed'\)$"):
        TRACE.render_template("old.md.j2", templates=tmp_path)
    (tmp_path / "unknown.md.j2").write_text("{{ 0.5|fixd }}")
    with pytest.raises(RenderError, match=r"No filter named 'fixd'.?$"):
        TRACE.render_template("unknown.md.j2", templates=tmp_path)


def test_em_macros_on_a_family_page_say_they_are_for_gaussians(tmp_path):
    (tmp_path / "q.md.j2").write_text('{% from "em/macros.md.j2" import estep_table '
                                      'with context %}{{ estep_table(iterations[0]) }}')
    poisson = explainer.solve(EXAMPLES / "poisson" / "poisson.yaml")
    with pytest.raises(RenderError, match=r"^templates: em/macros.md.j2's estep_table is "
                                          r"written for Gaussian mixtures; a poisson "):
        poisson.render_template("q.md.j2", templates=tmp_path)


def test_cli_templates_and_flavor(tmp_path):
    (tmp_path / "markdown").mkdir()
    (tmp_path / "markdown" / "document.md.j2").write_text(
        '{% from "em/macros.md.j2" import estep_table with context %}'
        "# Only the table\n\n{{ estep_table(iterations[0]) }}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spec = str(EXAMPLES / "lecture" / "lecture.yaml")
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", spec, "--templates",
                             str(tmp_path)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Only the table") and "\\exp(-0.25)" in result.stdout
    (tmp_path / "markdown" / "document.md.j2").write_text("{{ ''.__class__ }}")
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", spec, "--templates",
                             str(tmp_path), "-o", str(tmp_path / "x.md")], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 2 and result.stderr.startswith(
        "error: templates: document.md.j2:1: not allowed")
    assert not (tmp_path / "x.md").exists()
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", spec, "--templates",
                             str(tmp_path / "missing")], capture_output=True, text=True, env=env)
    assert result.stderr == f"error: --templates: not a folder: {tmp_path / 'missing'}\n"
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", spec, "--flavor",
                             "quarto"], capture_output=True, text=True, env=env)
    assert "$$ {#eq-responsibility-1}" in result.stdout
