"""LaTeX and PDF: every example compiles without overflowing the margins, the numbers and
figures are in the PDF, user text is printed literally, and TeX is kept in its sandbox."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_SPECS, EXAMPLES, ROOT, given_spec, lecture_spec, rounds_from
from explainer.engine import run
from explainer.errors import RenderError
from explainer.validation import load_problem, validate
from explainer.render.latex import render_latex
from explainer.render.output import build_pdf
from explainer.render.pdf import compile_tex, log_excerpt
from test_markdown import EXTRA_SPECS

INJECTION = r"\input{/etc/passwd} $x$ _#%&~^"


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def overfull(log: str) -> list[str]:
    """Boxes sticking out by more than a point: tables or formulas past the margin, or a
    page whose content runs past its bottom."""
    return [line for line in log.splitlines()
            if (m := re.match(r"Overfull \\[hv]box \((\d+\.?\d*)pt too (wide|high)\)", line))
            and float(m.group(1)) > 1.0]


# (LaTeX is written for Gaussian mixtures so far: the other families' examples are
# Markdown and JSON; tests/test_families.py checks that LaTeX is refused clearly.)
PROBLEMS = {p.parent.name: problem for p in EXAMPLE_SPECS
            if (problem := load_problem(p)).family == "gaussian"}
PROBLEMS["exam-variant-1"] = load_problem(EXAMPLES / "exam" / "variant-001" / "problem.yaml")
PROBLEMS.update({name: validate(spec) for name, spec in EXTRA_SPECS.items()})
PROBLEMS["five-components"] = validate(given_spec(
    [0.1, 0.5, 2.1, 2.6, 4.0, 4.4, 6.2, 6.9, 8.1, 8.8, 9.5, 12.25], [0.2] * 5,
    [0.5, 2.5, 4.5, 6.5, 8.5], [0.6, 0.7, 0.8, 0.9, 1.0], iterations=2,
    names=["a", "b", "c", "d", "e"]))


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_document_compiles_within_the_margins(name):
    compiled = build_pdf(run(PROBLEMS[name]), plots=True)
    assert compiled.pdf.startswith(b"%PDF")
    assert overfull(compiled.log) == []
    text = pdf_text(compiled.pdf)
    assert "Step 0: Setup" in text and "Clustering" in text
    # A relation stays on the line of its result: no line (of a paragraph or of a table's
    # last column) ends with an approximately-equals sign (in 1-D, where no matrix sets
    # a relation on the middle one of its lines, with two components: three make cells
    # so narrow that some break there, as a last resort).
    if PROBLEMS[name].dim == 1 and PROBLEMS[name].components <= 2:
        assert [line for line in text.splitlines() if line.rstrip().endswith("≈")] == []
    # The figures are embedded: their captions and their own axis labels are there. Three
    # figures; with one iteration or none two in 1-D (fit, responsibilities), one for
    # d >= 2 (the scatter plot, which shows the responsibilities at the start and the
    # end): one iteration's log-likelihood is one segment, its grid the scatter plot's.
    problem = PROBLEMS[name]
    last = 3 if problem.iterations > 1 else 2 if problem.dim == 1 else 1
    assert f"Figure {last}" in text and f"Figure {last + 1}" not in text
    assert "responsibility" in text and "density" in text


# Eight points in the plane, the size of a problem set's question, in each covariance type
# (data with none, one and two decimals; clusters apart and overlapping).
EIGHT_POINTS = [
    ("full", [[1, 1], [0, 1], [3, 2], [1, 1], [5, 4], [6, 5], [5, 5], [4, 5]],
     [[[2, 0.2], [0.2, 2]], [[2, 0.2], [0.2, 2]]]),
    ("tied", [[1.2, 0.8], [2.1, 1.9], [0.4, 1.1], [1.6, 2.4], [3.1, 2.2], [2.4, 3.3],
              [4.0, 2.9], [3.2, 3.8]], [[[1, 0.2], [0.2, 1]], [[1, 0.2], [0.2, 1]]]),
    ("diag", [[0.12, 2.71], [1.05, 0.33], [2.48, 1.96], [0.87, 1.42], [4.61, 3.08],
              [3.37, 5.52], [5.94, 4.26], [2.95, 3.71]], [[[1, 0], [0, 1.5]], [[0.8, 0], [0, 1.2]]]),
    ("spherical", [[1.2, 0.8], [2.1, 1.9], [0.4, 1.1], [1.6, 2.4], [5.1, 4.2], [4.4, 5.3],
                   [6.0, 4.9], [5.2, 5.8]], [[[1, 0], [0, 1]], [[1.5, 0], [0, 1.5]]]),
]


@pytest.mark.parametrize("covariance_type,data,covariances", EIGHT_POINTS,
                         ids=[c for c, _, _ in EIGHT_POINTS])
def test_eight_points_in_the_plane_take_at_most_six_pages(covariance_type, data, covariances,
                                                          tmp_path):
    """The whole worked iteration of an eight-point problem in the plane, with its figures:
    blocks side by side where both fit half the line, a sum broken where the line is full,
    a relation and its result on one line where they fit."""
    problem = validate({"data": data, "components": 2,
                        "model": {"covariance_type": covariance_type},
                        "init": {"weights": [0.5, 0.5], "means": [[1, 1], [4, 4]],
                                 "covariances": covariances}})
    compiled = build_pdf(run(problem), plots=True)
    assert overfull(compiled.log) == []
    (tmp_path / "p.pdf").write_bytes(compiled.pdf)
    info = subprocess.run(["pdfinfo", str(tmp_path / "p.pdf")], capture_output=True,
                          text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 6
    text = pdf_text(compiled.pdf)
    assert "Clustering" in text and "Covariances." in text


def test_lecture_pdf_shows_the_worked_numbers():
    text = pdf_text(build_pdf(run(validate(lecture_spec())), plots=False).pdf)
    a, b = math.exp(-0.25), math.exp(-12.25)

    def printed(value: float, scale: float = 1.0) -> bool:
        """Some correct rounding of value / scale, with 3 to 8 significant digits."""
        digits = [f"{value / scale:.{p}f}" for p in range(2, 9)]
        return any(d in text and rounds_from(d, value / scale) for d in digits)

    assert printed(a) and printed(b, 1e-6) and "× 10−6" in text  # b = 4.79 × 10^-6
    r = [math.exp(-(x - 2) ** 2 / 4) / (math.exp(-(x - 2) ** 2 / 4) + math.exp(-(x - 8) ** 2 / 4))
         for x in (1, 2, 5, 8, 9)]
    mu1 = sum(rv * x for rv, x in zip(r, (1, 2, 5, 8, 9))) / sum(r)
    assert printed(mu1) and printed(sum(r))
    assert "ambiguous" in text and "Conclusion of iteration 1" in text


def test_injection_title_is_printed_literally_and_nothing_is_read():
    trace = run(validate(lecture_spec(title=INJECTION, names=["a}b", "\\c"])))
    tex = render_latex(trace)
    assert r"\input{/etc/passwd}" not in tex
    compiled = build_pdf(trace, plots=True)
    first_line = pdf_text(compiled.pdf).strip().splitlines()[0].strip()
    assert first_line == INJECTION
    assert "/etc/passwd" not in compiled.log.replace(INJECTION, "")


def test_tex_cannot_read_outside_its_folder():
    # openin_any=p: even a document that asks cannot read an absolute path.
    with pytest.raises(RenderError, match="etc/hostname"):
        compile_tex("\\documentclass{article}\\begin{document}\n\\input{/etc/hostname}\n"
                    "\\end{document}\n")


def test_shell_escape_is_off():
    tex = ("\\documentclass{article}\\begin{document}\n"
           "\\immediate\\write18{touch pwned}\\ifnum\\pdfshellescape=0 OFF\\else ON\\fi\n"
           "\\end{document}\n")
    assert "OFF" in pdf_text(compile_tex(tex).pdf)


def test_a_latex_error_shows_the_offending_lines_not_the_log():
    tex = "\\documentclass{article}\n\\begin{document}\nfine\n\\notacommand\n\\end{document}\n"
    with pytest.raises(RenderError) as err:
        compile_tex(tex)
    message = str(err.value)
    assert "Undefined control sequence" in message and "line 4: \\notacommand" in message
    assert "\n" not in message and len(message) < 400


def test_log_excerpt_without_errors():
    assert log_excerpt("This is pdfTeX\nOutput written\n", "") == "no error line in the log"


def test_fragment_is_the_body_and_compiles_inside_course_notes(tmp_path):
    trace = run(validate(lecture_spec()))
    fragment = render_latex(trace, fragment=True)
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    # Every line the header lists: the packages, and the macros the body uses.
    packages = [line[4:] for line in fragment.splitlines() if line.startswith("%   ")]
    assert any("booktabs" in p for p in packages)
    assert any("{emtable}" in p for p in packages) and "\\begin{emtable}" in fragment
    notes = ("\\documentclass{article}\n" + "\n".join(packages) +
             "\n\\begin{document}\n\\section{My notes}\nBefore.\n" + fragment +
             "\nAfter.\n\\end{document}\n")
    text = pdf_text(compile_tex(notes).pdf)
    assert "My notes" in text and "Step 0: Setup" in text and "After." in text


def cli(*args: str, env_extra: dict | None = None, cwd: Path | None = None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_cli_pdf_tex_and_markdown_with_plots(tmp_path):
    spec = str(EXAMPLES / "lecture" / "lecture.yaml")
    assert cli("solve", spec, "-o", str(tmp_path / "a.pdf")).returncode == 0
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "a_files").exists()  # the figures live inside the PDF
    assert cli("solve", spec, "-o", str(tmp_path / "b.tex")).returncode == 0
    assert (tmp_path / "b.tex").read_text().startswith("\\documentclass")
    result = cli("solve", spec, "-o", str(tmp_path / "c.md"), "--plots")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "c.md").read_text()
    for name in ("fit", "resp"):
        assert f"](c_files/{name}.png)" in text
        assert (tmp_path / "c_files" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    # One iteration: its log-likelihood would be one segment, which the conclusion states.
    assert "loglik" not in text and not (tmp_path / "c_files" / "loglik.png").exists()
    result = cli("solve", spec, "-o", str(tmp_path / "d.tex"), "--plots")
    assert result.returncode == 0
    assert "\\includegraphics[width=\\linewidth]{d_files/fit.pdf}" in (tmp_path / "d.tex").read_text()
    # A LaTeX document with figures compiles where it was written.
    done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "d.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert done.returncode == 0


@pytest.mark.parametrize("args,expected", [
    (["--format", "pdf"], "error: -o: PDF output needs an output file (-o NAME.pdf)"),
    (["--fragment"], "error: --fragment: only LaTeX output has a fragment"),
    (["--format", "json", "--plots"], "error: --plots: JSON output has no figures"),
    (["--plots"], "error: -o: --plots needs an output file"),
])
def test_bad_output_options(args, expected):
    result = cli("solve", str(EXAMPLES / "lecture" / "lecture.yaml"), *args)
    assert result.returncode == 2 and result.stderr.startswith(expected), result.stderr


def test_without_latex_the_error_names_the_debian_packages(tmp_path):
    result = cli("solve", str(EXAMPLES / "lecture" / "lecture.yaml"), "-o",
                 str(tmp_path / "x.pdf"), env_extra={"PATH": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr == ("error: pdf: PDF output needs pdflatex and latexmk; on Debian or "
                             "Ubuntu: apt-get install texlive-latex-base "
                             "texlive-latex-recommended texlive-fonts-recommended latexmk\n")
    assert list(tmp_path.iterdir()) == []


def test_plots_are_drawn_only_when_asked():
    code = ("import sys\nfrom explainer.cli import main\n"
            f"main(['solve', {str(EXAMPLES / 'lecture' / 'lecture.yaml')!r}, '--format', 'tex'])\n"
            "print('matplotlib' in sys.modules, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.stderr.strip() == "False"
