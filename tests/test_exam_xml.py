"""Every XML file of every exam export parses, for 1-D, the plane and each family, with
hostile titles and category names: Moodle XML (Cloze and numerical), QTI 1.2 and
QTI 2.1 (items, tests, manifests). The HTML the files carry (in CDATA, escaped into
QTI 1.2's mattext, as XHTML in QTI 2.1) says what the variant says, escaped once: the
student reads the TeX of a matrix with its ``&`` and a category named ``red & pink``,
never ``&amp;``, and a title's markup as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

import pytest
import yaml

from conftest import EXAMPLES
from explainer.exam import write_exam

TITLE = "Quiz ]]> <b>bold</b> & \"quoted\" 'single' <script>alert(1)</script>"
CATEGORY = "red & <pink>"

TEMPLATES = {
    "1-D": yaml.safe_load((EXAMPLES / "exam" / "exam.yaml").read_text()),
    "plane": yaml.safe_load((EXAMPLES / "exam" / "exam-2d.yaml").read_text()),
    "binomial": {"data": {"count": 5, "range": [0, 10], "decimals": 0}, "components": 2,
                 "model": {"family": "binomial", "trials": 10},
                 "init": {"weights": [0.5, 0.5], "p": {"range": [0.2, 0.8], "decimals": 1}},
                 "exam": {"ask": ["r", "N", "p", "assign", "moves"]}},
    "poisson": {"data": {"count": 6, "range": [0, 12], "decimals": 0}, "components": 2,
                "model": {"family": "poisson"},
                "init": {"weights": [0.5, 0.5], "rates": {"range": [1, 10], "decimals": 0}},
                "exam": {"ask": ["r", "N", "pi", "lambda", "loglik"]}},
    "bernoulli": {"data": [[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], "components": 2,
                  "model": {"family": "bernoulli"},
                  "init": {"weights": [0.5, 0.5], "p": [[0.6, 0.6, 0.4], [0.4, 0.4, 0.6]]},
                  "exam": {"ask": ["r", "p"]}},
    "categorical": {"data": [CATEGORY, "blue", CATEGORY, "green", "green", "blue"],
                    "components": 2,
                    "model": {"family": "categorical",
                              "categories": [CATEGORY, "green", "blue"]},
                    "init": {"weights": [0.5, 0.5],
                             "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
                    "exam": {"ask": ["r", "q"], "allow_tiny": True}},
}


class _Html(HTMLParser):
    """An HTML text's characters (references resolved) and its elements' names."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def read_html(html: str) -> tuple[str, list[str]]:
    parsed = _Html(html)
    return "".join(parsed.text), parsed.tags


def xml_files(out):
    """(name, parsed root) of every XML file the exam wrote, zip entries included."""
    files = [("moodle.xml", ET.fromstring((out / "moodle.xml").read_bytes()))]
    for package in ("qti-1.2.zip", "qti-2.1.zip"):
        with zipfile.ZipFile(out / package) as archive:
            for name in archive.namelist():
                assert name.endswith(".xml"), name
                try:
                    files.append((f"{package}/{name}", ET.fromstring(archive.read(name))))
                except ET.ParseError as exc:  # pragma: no cover - the failure's message
                    pytest.fail(f"{package}/{name} is not well-formed XML: {exc}")
    return files


def html_texts(files):
    """Every HTML text the files carry, as the student's browser reads it."""
    texts = []
    for name, root in files:
        if name == "moodle.xml":
            for question in root.iter("question"):
                for path in ("questiontext/text", "generalfeedback/text"):
                    text = question.findtext(path)
                    if text:
                        texts.append(read_html(text))
        for mattext in root.iter("{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}mattext"):
            if mattext.get("texttype") == "text/html":
                texts.append(read_html(mattext.text))
        body = root.find("{http://www.imsglobal.org/xsd/imsqti_v2p1}itemBody")
        if body is not None:  # XHTML: its text is the parsed XML's
            texts.append(("".join(body.itertext()), [e.tag.split("}")[1] for e in body.iter()]))
    return texts


def moodle_path(path: str) -> list[str]:
    """A question category path as Moodle's importer reads it: split at every / with no /
    beside it, each // within a name a /, each name trimmed."""
    return [name.replace("//", "/").strip() for name in re.split(r"(?<!/)/(?!/)", path)]


@pytest.mark.parametrize("title", ["EM / Fall 2026", "/start", "end/", "a//b"])
def test_a_slash_in_the_title_stays_in_one_moodle_category(tmp_path, title):
    template = {**TEMPLATES["1-D"], "title": title}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(template, allow_unicode=True), encoding="utf-8")
    out = write_exam(path, 1, 7, tmp_path / "exam")
    category = ET.parse(out / "moodle.xml").getroot().find("question/category/text").text
    assert moodle_path(category) == ["$course$", "top", title, "Variant 1"]


@pytest.mark.parametrize("moodle", ["cloze", "numerical"])
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_xml_file_parses_and_says_the_variant_literally(tmp_path, name, moodle):
    template = {**TEMPLATES[name], "title": TITLE}
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(template, allow_unicode=True), encoding="utf-8")
    out = write_exam(path, 2, 7, tmp_path / "exam", moodle_kind=moodle)
    files = xml_files(out)
    assert len(files) > 10
    named = dict(files)

    # The title, wherever it is an XML text or attribute, is the title itself.
    categories = [q.findtext("category/text") for q in named["moodle.xml"].iter("question")
                  if q.get("type") == "category"]
    # (Moodle splits a category path at each / that stands alone, reads // as a /, and
    # trims each name: the title is one category, its own slashes kept.)
    assert [moodle_path(c) for c in categories] == [["$course$", "top", TITLE, f"Variant {i}"]
                                                    for i in (1, 2)]
    titles = [e.get("title") for _, root in files for e in root.iter()
              if e.tag.endswith(("}assessment", "}assessmentTest"))]
    assert titles and {t.split(": variant ")[0] for t in titles} == {TITLE}
    manifest = named["qti-1.2.zip/imsmanifest.xml"]
    assert [e.text for e in manifest.iter("{http://www.imsglobal.org/xsd/imsmd_v1p2}string")] \
        == [TITLE]
    meta = [root for n, root in files if n.endswith("assessment_meta.xml")]
    assert [m.findtext("{http://canvas.instructure.com/xsd/cccv1p0}title").split(": variant ")[0]
            for m in meta] == [TITLE, TITLE]

    # Each HTML text is escaped once: what the student reads holds no entity, the
    # title's markup is text (the feedback's key has the title; the questions do not),
    # and the problem's own characters are there as written.
    texts = html_texts(files)
    assert len(texts) >= 4
    for text, tags in texts:
        assert "&amp;" not in text and "&lt;" not in text, text[:300]
        assert "script" not in tags and "b" not in tags
    setups = [text for text, _ in texts if "is fitted with EM" in text]
    assert setups
    if name == "plane":
        assert all(r"\begin{pmatrix} 4 & " in s or r"\begin{pmatrix} 5 & " in s
                   for s in setups)
    if name == "categorical":
        assert all(f"(categories {CATEGORY}, green, blue)" in s for s in setups)
        assert all(rf"\text{{{CATEGORY}}}" in s for s in setups)
    if moodle == "cloze":
        feedback = [text for text, _ in texts if "<script>alert(1)</script>" in text]
        assert feedback, "the worked key's title, as text"


def test_xml_and_html_templates_escape_what_they_print():
    """By construction: the XML and HTML templates autoescape, the others do not."""
    from explainer.render.environment import environment, templates_dir

    for kind in ("markdown", "latex", "html"):
        env = environment(kind)
        for path in sorted(templates_dir().rglob("*.j2")):
            name = path.relative_to(templates_dir()).as_posix()
            assert env.autoescape(name) == name.endswith((".xml.j2", ".html.j2")), name
