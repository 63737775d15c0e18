"""Regenerate every example's output: ``python examples/regenerate.py``.

Writes each spec's Markdown beside it, the lecture and exact examples' PDFs (need
pdflatex and latexmk) and a PNG of each first page for the README (needs pdftoppm), and the
LaTeX fragments that course-notes/notes.tex includes, and the exam example's first
variant (`em-explainer exam examples/exam/exam.yaml -n 1 --seed 7`), and the exam in the
plane's (`examples/exam/exam-2d.yaml`, into `exam/plane-variant-001`).

``--check`` compares instead of writing, and exits 1 when an example is stale
(the test suite runs it): text files exactly, the PDF by its text (pdftotext),
since its bytes depend on the TeX and matplotlib versions. The PNG is made from
the PDF and is not compared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
# Render with this checkout's package, installed or not.
sys.path.insert(0, str(HERE.parent))


def generated_csv() -> str:
    """The notebook's 1-D data: 210 points from N(0, 1) and 90 from N(5, 1), seed 100.

    numpy's legacy RandomState stream is frozen, so the file is the same everywhere.
    """
    rng = np.random.RandomState(100)
    n_samples, w_true, mu_true, sigma_true = 300, [0.7, 0.3], [0, 5], [1, 1]
    n1 = int(n_samples * w_true[0])
    data = np.concatenate([rng.normal(mu_true[0], sigma_true[0], n1),
                           rng.normal(mu_true[1], sigma_true[1], n_samples - n1)])
    return "x\n" + "".join(f"{v!r}\n" for v in data.tolist())


def two_d_csv() -> str:
    """Seed 003's 2-D data: 210 points from N((0, 0), [[1, .5], [.5, 1]]) and 90 from
    N((4, 4), [[1, -.3], [-.3, 1]]), numpy's legacy generator with seed 1 (the notebook's
    ``np.random.seed(1)``)."""
    rng = np.random.RandomState(1)
    n_samples, pi_true = 300, [0.7, 0.3]
    mu_true = [np.array([0, 0]), np.array([4, 4])]
    cov_true = [np.array([[1, 0.5], [0.5, 1]]), np.array([[1, -0.3], [-0.3, 1]])]
    n1 = int(n_samples * pi_true[0])
    data = np.vstack([rng.multivariate_normal(mu_true[0], cov_true[0], n1),
                      rng.multivariate_normal(mu_true[1], cov_true[1], n_samples - n1)])
    return "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in data.tolist())


def render(spec: Path) -> str:
    """The Markdown worked solution of one example spec."""
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render.markdown import render_markdown

    return render_markdown(run(load_problem(spec)))


def render_pdf(spec: Path) -> bytes:
    """The PDF worked solution of one example spec, with its figures."""
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render.output import build_pdf

    return build_pdf(run(load_problem(spec)), plots=True).pdf


PDF_EXAMPLES = [HERE / "lecture" / "lecture.yaml", HERE / "exact" / "exact.yaml",
                HERE / "hand-2d" / "hand-2d.yaml", HERE / "two-d" / "two-d.yaml",
                HERE / "coins" / "coins.yaml"]


# The HTML pages in examples/ (every example's page is made and opened by the tests).
HTML_EXAMPLES = [HERE / "lecture" / "lecture.yaml", HERE / "coins" / "coins.yaml"]


def render_html_page(spec: Path) -> str:
    """The HTML page of one example spec, its figures inside it."""
    from explainer.api import run
    from explainer.validation import load_problem

    return run(load_problem(spec)).to_html()


def render_practice_page(spec: Path) -> str:
    """The practice page of one example spec (solve --practice)."""
    from explainer.api import run
    from explainer.validation import load_problem

    return run(load_problem(spec)).to_html(practice=True)


def fragment(spec: Path, part: str | None = None) -> str:
    """A LaTeX fragment (the body only) for course notes to \\input."""
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render.latex import render_latex

    return render_latex(run(load_problem(spec)), fragment=True, part=part)


EXAM_SEED = 7


def exam_file(template: str, name: str) -> str:
    """A file of an exam example's first variant (seed EXAM_SEED), as `exam` writes it."""
    import tempfile

    from explainer.exam import write_exam

    with tempfile.TemporaryDirectory() as folder:
        out = write_exam(HERE / "exam" / template, 1, EXAM_SEED, Path(folder) / "exam")
        return (out / "variant-001" / name).read_text(encoding="utf-8")


def outputs() -> dict[Path, Callable[[], str | bytes]]:
    """Every generated file and how to make it, data before the documents that read it."""
    files: dict[Path, Callable[[], str | bytes]] = {
        HERE / "generated" / "generated.csv": generated_csv,
        HERE / "two-d" / "two-d.csv": two_d_csv}
    for spec in sorted(HERE.glob("*/*.yaml")):
        if spec.parent.name != "exam":
            files[spec.with_suffix(".md")] = partial(render, spec)
    for name in ("question.md", "key.md", "problem.yaml"):
        files[HERE / "exam" / "variant-001" / name] = partial(exam_file, "exam.yaml", name)
        # (the exam in the plane: its first variant beside the 1-D one's)
        files[HERE / "exam" / "plane-variant-001" / name] = partial(exam_file,
                                                                     "exam-2d.yaml", name)
    for spec in PDF_EXAMPLES:
        files[spec.with_suffix(".pdf")] = partial(render_pdf, spec)
    for spec in HTML_EXAMPLES:
        files[spec.with_suffix(".html")] = partial(render_html_page, spec)
    files[HERE / "lecture" / "practice.html"] = partial(render_practice_page,
                                                        HERE / "lecture" / "lecture.yaml")
    notes = HERE / "course-notes"
    files[notes / "lecture-mstep.tex"] = partial(fragment, HERE / "lecture" / "lecture.yaml",
                                                 "mstep")
    files[notes / "single-point.tex"] = partial(fragment,
                                                HERE / "single-point" / "single-point.yaml")
    return files


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as pdftotext reads it."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8", errors="replace")


def first_page_png(pdf: Path) -> Path:
    """Page 1 of *pdf* as NAME-page1.png beside it (for the README)."""
    stem = pdf.with_name(f"{pdf.stem}-page1")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(stem)], check=True)
    return stem.with_suffix(".png")


def is_current(path: Path, made: str | bytes) -> bool:
    if not path.exists():
        return False
    if isinstance(made, bytes):
        return pdf_text(path.read_bytes()) == pdf_text(made)
    return path.read_text(encoding="utf-8") == made


def _shown(path: Path) -> str:
    return os.path.relpath(path, HERE.parent)


def main() -> int:
    # Reproducible PDFs: no build date or random ID in the committed file.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    os.environ.setdefault("FORCE_SOURCE_DATE", "1")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    stale = []
    for path, make in outputs().items():
        made = make()
        if args.check:
            if not is_current(path, made):
                stale.append(_shown(path))
            continue
        if isinstance(made, bytes):
            path.write_bytes(made)
            print(f"wrote {_shown(path)} and {_shown(first_page_png(path))}")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(made, encoding="utf-8")
            print(f"wrote {_shown(path)}")
    if stale:
        print("stale examples (run: python examples/regenerate.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
