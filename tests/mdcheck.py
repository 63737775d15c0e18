"""Checks that a Markdown worked solution renders everywhere: math spans, tables."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KATEX_SCRIPT = Path(__file__).resolve().parent / "katex_check.js"

# A backslash before ASCII punctuation is a Markdown escape in renderers that do not
# protect math (the backslash disappears): \{ \, \; \| \\ and the like.
MARKDOWN_ESCAPE_IN_MATH = re.compile(r"\\[!-/:-@\[-`{-~]")
# The line closing a display formula: $$, or with a label (MyST: (label); Quarto: {#label}).
CLOSING = re.compile(r"^\$\$( \([\w-]+\)| \{#eq-[\w-]+\})?$")


def math_spans(text: str) -> list[dict]:
    """Every ``$$...$$`` block (on its own lines) and every inline ``$...$`` span."""
    spans = []
    lines = text.splitlines()
    i = 0
    prose = []
    while i < len(lines):
        if lines[i].strip() == "$$":
            if lines[i] != "$$":
                raise AssertionError(f"line {i + 1}: an indented $$ (in a list item) does not "
                                     f"render alike in GitHub, Jupyter and Obsidian")
            j = i + 1
            while not CLOSING.match(lines[j]):
                if not lines[j].strip():
                    raise AssertionError(f"line {j + 1}: a blank line inside $$...$$ ends the "
                                         f"paragraph, and the formula, in CommonMark")
                j += 1
            spans.append({"tex": "\n".join(lines[i + 1:j]), "display": True, "line": i + 1})
            i = j + 1
            continue
        prose.append((i + 1, lines[i]))
        i += 1
    for number, line in prose:
        unescaped = re.sub(r"\\\$", "", line)
        if "$$" in unescaped:
            raise AssertionError(f"line {number}: $$ must stand on its own line: {line}")
        parts = unescaped.split("$")
        if len(parts) % 2 == 0:
            raise AssertionError(f"line {number}: unbalanced $: {line}")
        for tex in parts[1::2]:
            if tex != tex.strip():
                raise AssertionError(f"line {number}: space inside $...$ breaks GitHub/"
                                     f"Obsidian inline math: ${tex}$")
            spans.append({"tex": tex, "display": False, "line": number})
    return spans


def katex_failures(spans: list[dict]) -> list[dict]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "katex").is_dir():
        raise RuntimeError("KaTeX is needed: install node and run 'npm ci' in the repository")
    result = subprocess.run([node, str(KATEX_SCRIPT)], input=json.dumps(spans), text=True,
                            capture_output=True, cwd=ROOT, check=True, timeout=300)
    return json.loads(result.stdout)


def table_problems(text: str) -> list[str]:
    """Tables whose rows do not all have the header's number of cells.

    markdown-it-py finds the tables (GFM); each source row is split on unescaped
    pipes, as GitHub does, so a bare | inside math shows up as an extra cell.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    lines = text.splitlines()
    problems = []
    for token in md.parse(text):
        if token.type != "table_open":
            continue
        start, end = token.map
        counts = [len(re.split(r"(?<!\\)\|", lines[n].strip().strip("|")))
                  for n in range(start, end)]
        if len(set(counts)) != 1:
            problems.append(f"table at line {start + 1}: cells per row {counts}")
    return problems


def table_count(text: str) -> int:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    return sum(t.type == "table_open" for t in md.parse(text))
