"""examples/ are what regenerate.py makes from their specs today."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import EXAMPLE_SPECS, EXAMPLES
from mdcheck import math_spans


def test_examples_are_up_to_date():
    result = subprocess.run([sys.executable, str(EXAMPLES / "regenerate.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_every_spec_has_its_markdown():
    specs = EXAMPLE_SPECS
    assert {s.parent.name for s in specs} >= {"lecture", "heights", "generated", "single-point"}
    for spec in specs:
        assert spec.with_suffix(".md").is_file(), spec


def test_staleness_is_detected(tmp_path, monkeypatch):
    sys.path.insert(0, str(EXAMPLES))
    import regenerate

    target = tmp_path / "lecture.md"
    target.write_text("outdated\n")
    monkeypatch.setattr(regenerate, "outputs", lambda: {target: lambda: "current\n"})
    monkeypatch.setattr(sys, "argv", ["regenerate.py", "--check"])
    assert regenerate.main() == 1
    monkeypatch.setattr(sys, "argv", ["regenerate.py"])
    assert regenerate.main() == 0 and target.read_text() == "current\n"


def test_readme_excerpt_is_real_output():
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    lecture = (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")
    table = readme[readme.index("| $x_n$ |"):readme.index("and part of the M-step")].strip()
    means = readme[readme.index("**3. Means"):readme.index("The same solution as a PDF")].strip()
    assert table in lecture and means in lecture


def test_course_notes_that_input_fragments_compile():
    import shutil
    import subprocess

    from explainer.render.pdf import compile_pdf

    notes = EXAMPLES / "course-notes"

    def build(folder):
        for name in ("lecture-mstep.tex", "single-point.tex"):
            shutil.copy(notes / name, folder / name)
        shutil.copy(notes / "notes.tex", folder / "solution.tex")

    compiled = compile_pdf(build)
    text = subprocess.run(["pdftotext", "-", "-"], input=compiled.pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "Week 7" in text and "M-step: re-estimate the parameters" in text
    assert "Exercise: the density at one point" in text and "Step 0: Setup" in text
    assert "Overfull" not in compiled.log


def test_notebook_runs_and_shows_the_solution():
    import ast

    import nbclient
    import nbformat

    folder = EXAMPLES / "notebook"
    nb = nbformat.read(folder / "em_in_a_notebook.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    # The kernel imports this checkout's package, installed or not.
    client.execute(env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent)})
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    means = code[0].outputs[0]["data"]["text/plain"]
    assert means.startswith("array([2.20031581, 7.79968419])")
    shown = code[1].outputs[0]["data"]
    lecture = (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")
    assert shown["text/markdown"] == lecture
    # Jupyter shows the HTML display: the document's HTML, its formulas as MathML.
    assert shown["text/html"].startswith('<div class="em-explainer">')
    assert shown["text/html"].count("<math ") == len(math_spans(lecture))
    assert code[2].outputs[0]["data"]["text/markdown"].startswith(
        "## M-step: re-estimate the parameters")
    gains = ast.literal_eval(code[3].outputs[0]["data"]["text/plain"])  # three floats
    assert len(gains) == 3 and gains == sorted(gains)
    assert code[4].outputs[0]["data"]["text/plain"] == "True"
