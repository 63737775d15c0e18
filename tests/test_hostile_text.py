"""One corpus of hostile strings, as a title, a component's name and a category, over
every output: Markdown, HTML, LaTeX and PDF, JSON, the figures, and an exam's sheets,
Moodle XML and QTI packages. Each output shows the string as typed (no markup of it
runs, no TeX ligature joins its characters, no text is lost), and every XML file parses.
Control characters are refused at the input (tests/test_hostile.py); everything else
a keyboard gives must come through."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from conftest import lecture_spec
from explainer import api, cli

HOSTILE = [
    "<script>alert(1)</script>",
    "]]><x>&amp;</x><![CDATA[",
    "Tom & Jerry's \"quotes\"",
    "{{ 7*7 }} {% if x %}{# c #}",
    "$x^$ costs $5",
    "\\textbf{x} \\input{/etc/passwd}",
    "a`b``c",
    "| col | # h *e* _u_ [l](javascript:alert(1))",
    "% # & _ ^ ~ \\ { }",
    "\u202eevil\u202c RTL",  # a right-to-left override
    "\ufb01 \u6570\u5b66 \U0001f600 e\u0301",  # a ligature, CJK, an emoji, a combining accent
    "</mtext><mi>x</mi>",
    "A/B // C",  # Moodle's category separator
    "--- ''quoted'' -- ?` !` <<>> ,,low",  # TeX's ligatures
    "line1\nline2\ttabbed",
    "\\\\ \\\\ \\end{document}",
    "\u00a0no-break\u200bzero-width",
    "<!-- c --> <?php ?> &#x41; &lt;",
    "x" * 60,  # one word longer than a line
]

# The page's own elements (Markdown made HTML, the HTML page with its MathML).
_MARKDOWN_TAGS = {"h1", "h2", "h3", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr",
                  "th", "td", "strong", "em", "blockquote", "code", "img", "hr", "br", "pre"}


def _plain(text: str) -> str:
    """*text* as a reader sees it: compatibility forms composed (the PDF's fi ligature
    is f, i), format characters (invisible) dropped, whitespace as single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.split())


class _Page(HTMLParser):
    """The text of each h1 and of every node, every tag, and the count of scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.h1, self.tags, self.scripts = False, [], set(), 0
        self.texts: list[str] = []  # (each text node)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.scripts += tag == "script"
        if tag == "h1":
            self.inside = True
            self.h1.append("")

    def handle_endtag(self, tag):
        if tag == "h1":
            self.inside = False

    def handle_data(self, data):
        self.texts.append(data)
        if self.inside:
            self.h1[-1] += data


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _spec(text: str) -> dict:
    return lecture_spec(title=text, names=[text, "B"])


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_title_and_name_show_as_typed_in_markdown_html_and_json(text):
    trace = api.solve(_spec(text))
    markdown = trace.to_markdown()
    page = _page(MarkdownIt("commonmark").enable("table").render(markdown))
    assert [_plain(h) for h in page.h1] == [_plain(text)]
    assert page.tags <= _MARKDOWN_TAGS, page.tags - _MARKDOWN_TAGS
    html = trace.to_html()
    page = _page(html)
    assert [_plain(h) for h in page.h1] == [_plain(text)]
    assert page.scripts == 1  # (the page's own)
    assert not page.tags & {"iframe", "object", "embed", "x", "b"}
    if "<" in text:  # (its markup is text: escaped wherever it is written)
        assert text not in html
    data = json.loads(trace.to_json())
    assert data["problem"]["title"] == text and data["problem"]["names"][0] == text
    assert api.Trace.from_json(trace.to_json()).to_markdown() == markdown


def test_hostile_titles_and_names_are_set_as_typed_in_pdf(tmp_path):
    """Each string as a title and a component's name: the PDF's text holds it (no TeX
    command of it ran, no ligature joined its dashes or quotes, a long word broke)."""
    for i, text in enumerate(HOSTILE):
        out = tmp_path / f"t{i}.pdf"
        api.solve(_spec(text)).write(out, format="pdf", plots=False)
        got = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                             check=True).stdout
        # (A word broken over lines comes back with spaces in it; LaTeX sets one ' as an
        # apostrophe.)
        squeezed = _plain(got).replace(" ", "").replace("\u2019", "'")
        assert _plain(text).replace(" ", "") in squeezed, (text, got[:300])


def test_hostile_category_names_come_through_every_figure(tmp_path):
    """The strings as categories: the page and its figures (category names on an axis,
    CJK in a font that has it) are drawn, in HTML and PDF, and each page names each
    category as typed."""
    names = [t for t in HOSTILE if "\n" not in t][:12]
    spec = {"title": "categories", "data": names + names[:3], "components": 2,
            "model": {"family": "categorical"}, "init_method": "random_responsibilities"}
    trace = api.solve(spec)
    html = tmp_path / "c.html"
    trace.write(html, format="html")
    page = _page(html.read_text())
    for name in names:
        assert any(_plain(name) == _plain(text) for text in page.texts), name
    trace.write(tmp_path / "c.pdf", format="pdf")
    got = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    # (Running text may hyphenate a word at a line's end: Jer-ry. A document that needs
    # LuaLaTeX, for the CJK, sets " as a closing double quote.)
    unbroken = re.sub(r"(?<=[A-Za-z])-\n(?=[a-z])", "", got)
    squeezed = [_plain(t).replace(" ", "").replace("\u2019", "'").replace("\u201d", '"')
                for t in (got, unbroken)]
    for name in names:  # (in the text and in formulas: no -- made a dash there either)
        assert any(_plain(name).replace(" ", "") in t for t in squeezed), name


def test_a_hostile_exam_title_comes_through_every_export(tmp_path):
    """An exam titled with each string: every XML file of moodle.xml and both QTI
    packages parses, the Moodle category is the title (its / doubled, as Moodle reads
    a path), and the sheets and keys are written."""
    for i, text in enumerate(HOSTILE):
        template = {**_spec(text), "data": {"count": 5, "range": [0, 12], "decimals": 0},
                    "init": {"weights": [0.5, 0.5], "means": {"range": [1, 11], "decimals": 0},
                             "variances": {"choice": [4], "same": True}},
                    "exam": {"ask": ["r", "N", "pi", "mu"]}}
        (tmp_path / f"e{i}.json").write_text(json.dumps(template))
        out = tmp_path / f"exam{i}"
        with contextlib.redirect_stderr(io.StringIO()) as err:
            status = cli.main(["exam", str(tmp_path / f"e{i}.json"), "-n", "1", "-o", str(out),
                               "-q"])
        assert status == 0, err.getvalue()
        moodle = ET.parse(out / "moodle.xml").getroot()
        categories = [c.findtext("text") for c in moodle.iter("category")]
        assert categories == [f"$course$/top/{text.replace('/', '//')}/Variant 1"]
        for package in ("qti-1.2.zip", "qti-2.1.zip"):
            with zipfile.ZipFile(out / package) as zipped:
                for name in zipped.namelist():
                    if name.endswith(".xml"):
                        ET.fromstring(zipped.read(name))
        key = (out / "variant-001" / "key.md").read_text()
        page = _page(MarkdownIt("commonmark").enable("table").render(key))
        assert _plain(text) in _plain(page.h1[0])


def test_an_exam_title_leaves_room_for_the_variant_number(tmp_path):
    """A variant's title is the exam's with ": variant N" after it: the exam's title is
    limited so that every variant's stays within the limit of a title, and the error
    says so (it named 511 characters for a title of 500)."""
    template = {**_spec("x" * 500), "data": {"count": 5, "range": [0, 12], "decimals": 0},
                "init": {"weights": [0.5, 0.5], "means": {"range": [1, 11], "decimals": 0},
                         "variances": {"choice": [4], "same": True}}}
    path = tmp_path / "e.json"
    path.write_text(json.dumps(template))
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["exam", str(path), "-o", str(tmp_path / "x"), "-q"])
    assert status == 2
    assert err.getvalue() == ("error: title: 500 characters are more than the limit of 485 "
                              "for an exam's title (each variant's adds ': variant 10000')\n")
    template["title"] = "x" * 485
    path.write_text(json.dumps(template))
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["exam", str(path), "-n", "2", "-o", str(tmp_path / "y"), "-q"])
    assert status == 0, err.getvalue()


def test_a_pdf_to_a_device_is_written_with_its_figures():
    """A PDF embeds its figures (built in a folder of its own): -o /dev/null is a PDF
    written and thrown away, not a refusal; Markdown's figures go beside the output, so
    there it is refused."""
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["solve", "--data", "1,2,5,8,9", "--k", "2", "--weights", ".5,.5",
                           "--means", "2,8", "--variances", "2,2", "--format", "pdf",
                           "-o", "/dev/null", "-q"])
    assert status == 0, err.getvalue()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = cli.main(["solve", "--data", "1,2,5,8,9", "--k", "2", "--weights", ".5,.5",
                           "--means", "2,8", "--variances", "2,2", "--plots", "--format",
                           "md", "-o", "/dev/null", "-q"])
    assert status == 2 and "figures go into a folder beside the output" in err.getvalue()


def test_a_tiny_given_probability_is_written_as_given():
    """p = 1e-300 is written 1 x 10^-300 (it was a decimal of 300 zeros)."""
    trace = api.solve({"data": [3, 7, 5], "components": 2,
                       "model": {"family": "binomial", "trials": 10},
                       "init": {"weights": [0.5, 0.5], "p": [1e-300, 0.9]}})
    markdown = trace.to_markdown()
    assert "1 \\times 10^{-300}" in markdown and "0.0000000000" not in markdown
