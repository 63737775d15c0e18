"""Exam variants: determinism, hand-computable draws, keys against scikit-learn, the
answers CSV (graded full marks by check), Moodle XML, and clear errors."""

from __future__ import annotations

import csv
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import yaml
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import handcalc
from conftest import EXAMPLES, ROOT
from explainer.exam import load_template, make_variant, write_exam
from explainer.errors import ProblemError
from explainer.grading import grade, read_answers
from explainer.validation import load_problem

TEMPLATE = EXAMPLES / "exam" / "exam.yaml"

# Variances learned too, normalized kernel, two components of three means' choice:
# a template scikit-learn can check iteration for iteration.
FULL = {
    "title": "EM by hand, all parameters",
    "data": {"count": {"range": [5, 7]}, "range": [0, 8], "decimals": 1},
    "components": 2,
    "init": {"weights": {"choice": [[0.5, 0.5], [0.4, 0.6]]},
             "means": {"range": [1, 7], "decimals": 0},
             "variances": {"choice": [4, 6, 8]}},
    "stop": {"iterations": 2},
    "display": {"decimals": 3},
    "exam": {"ask": ["r", "N", "pi", "mu", "var", "loglik"]},
}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_same_seed_gives_the_same_variants(tmp_path):
    a = write_exam(TEMPLATE, 4, 7, tmp_path / "a")
    b = write_exam(TEMPLATE, 6, 7, tmp_path / "b")
    c = write_exam(TEMPLATE, 4, 8, tmp_path / "c")
    for name in ("question.md", "key.md", "problem.yaml"):
        for v in ("variant-001", "variant-004"):
            assert (a / v / name).read_text() == (b / v / name).read_text()
    rows_a, rows_c = read_csv(a / "answers.csv"), read_csv(c / "answers.csv")
    assert rows_a == [r for r in read_csv(b / "answers.csv") if int(r["variant"]) <= 4]
    assert rows_a != rows_c
    # The same exam again gives the same bytes, zips included (no times inside).
    again = write_exam(TEMPLATE, 4, 7, tmp_path / "again")
    for name in ("answers.csv", "keys.md", "moodle.xml", "qti-1.2.zip", "qti-2.1.zip"):
        assert (a / name).read_bytes() == (again / name).read_bytes(), name


def test_every_variant_is_hand_computable():
    template = load_template(TEMPLATE)
    for number in range(1, 41):
        v = make_variant(template, 3, number)
        x = v.trace.problem.data
        assert 5 <= len(x) <= 6 and np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= 12
        assert len(set(x.tolist())) == len(x)
        means = v.trace.problem.means
        assert np.all(means == np.round(means)) and means[0] < means[1]
        it = v.trace.iterations[0]
        assert it.mstep.nk.min() >= 0.5                   # both components keep points
        assert abs(np.diff(it.mstep.params.means)[0]) >= 1
        for a in v.answers:   # the key, as written, within the accepted answers
            assert a["low"] < a["lowest"] <= round(a["value"], 3) <= a["highest"] < a["high"]
            # half a unit, and a margin of 10^-9 relative (storage, a double's rounding)
            margin = 1e-9 * max(1, abs(a["lowest"]), abs(a["highest"]))
            assert 0.0005 < a["lowest"] - a["low"] <= 0.0005 + margin + 1e-12
        # The hand calculation from the question's written values (independent: exact
        # fractions): every number it computes or uses has two significant digits at
        # three decimals, and the key's rounded-carry answers are its numbers.
        init = v.spec["init"]
        problem = handcalc.Problem(
            [Fraction(str(d)) for d in v.spec["data"]],
            *[[Fraction(str(w)) for w in init[name]] for name in ("weights", "means",
                                                                   "variances")],
            3, v.spec["model"]["kernel"], set(v.spec["model"]["update"]))
        (e, m), = handcalc.hand_run(problem, 1)[0]
        used = [*sum(e.density, []), *[pi * dens for row in e.density
                                        for pi, dens in zip(problem.weights, row)],
                *e.mixture, *sum(e.resp, []), *m.nk, *m.sum_rx]
        assert min(used) >= Fraction(1, 100), v.spec
        by_hand = {"r": lambda a: e.resp[a["n"] - 1][a["k"] - 1],
                   "N": lambda a: m.nk[a["k"] - 1], "pi": lambda a: m.weights[a["k"] - 1],
                   "mu": lambda a: m.means[a["k"] - 1]}
        for a in v.answers:
            assert Fraction(repr(a["rounded_carry"])) == by_hand[a["kind"]](a), a


def sklearn_fit(x, weights, means, variances, n_iter):
    gm = GaussianMixture(n_components=len(means), covariance_type="full", max_iter=n_iter,
                         tol=0, reg_covar=0, n_init=1, weights_init=weights,
                         means_init=np.array(means)[:, None],
                         precisions_init=(1.0 / np.array(variances))[:, None, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(np.asarray(x)[:, None])
    return gm


def test_every_answer_key_agrees_with_scikit_learn():
    template = {**FULL}
    for number in range(1, 16):
        v = make_variant(template, 11, number)
        p = v.trace.problem
        values = {a["quantity"]: a["value"] for a in v.answers}
        start = (p.weights, p.means, p.variances)
        for iteration in (1, 2):
            gm = sklearn_fit(p.data, *start, iteration)
            for k in range(2):
                assert values[f"it{iteration}.pi[{k + 1}]"] == pytest.approx(gm.weights_[k])
                assert values[f"it{iteration}.mu[{k + 1}]"] == pytest.approx(gm.means_[k, 0])
                assert values[f"it{iteration}.var[{k + 1}]"] == pytest.approx(
                    gm.covariances_[k, 0, 0])
            # r and loglik of the iteration: the start of the fit with iteration - 1 steps.
            before = sklearn_fit(p.data, *start, iteration - 1) if iteration > 1 else None
            gm0 = before or GaussianMixture(2, covariance_type="full")
            if before is None:
                gm0.weights_, gm0.means_ = np.array(p.weights), np.array(p.means)[:, None]
                gm0.covariances_ = np.array(p.variances)[:, None, None]
                gm0.precisions_cholesky_ = 1 / np.sqrt(gm0.covariances_)
            resp = gm0.predict_proba(np.asarray(p.data)[:, None])
            for n in range(len(p.data)):
                for k in range(2):
                    assert values[f"it{iteration}.r[{n + 1},{k + 1}]"] == pytest.approx(
                        resp[n, k], abs=1e-12)
            assert values[f"it{iteration}.loglik"] == pytest.approx(
                gm0.score(np.asarray(p.data)[:, None]) * len(p.data))


def test_the_answers_csv_scores_full_marks_with_check(tmp_path):
    out = write_exam(TEMPLATE, 3, 7, tmp_path / "exam")
    rows = read_csv(out / "answers.csv")
    for number in (1, 2, 3):
        mine = tmp_path / f"student-{number}.csv"
        mine.write_text("".join(f'"{r["quantity"]}",{float(r["value"]):.3f}\n'
                                for r in rows if int(r["variant"]) == number))
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        result = grade(problem, read_answers(mine))
        assert result["score"] == result["out_of"] > 10
    keys = (out / "keys.md").read_text()
    assert keys.count("\n| 3 | `") == sum(int(r["variant"]) == 3 for r in rows)


def test_moodle_xml_has_the_structure_moodle_imports(tmp_path):
    out = write_exam(TEMPLATE, 3, 7, tmp_path / "exam", moodle_kind="numerical")
    rows = read_csv(out / "answers.csv")
    root = ET.parse(out / "moodle.xml").getroot()
    assert root.tag == "quiz"
    questions = root.findall("question")
    categories = [q for q in questions if q.get("type") == "category"]
    numerical = [q for q in questions if q.get("type") == "numerical"]
    assert questions[0].get("type") == "category"
    assert [c.findtext("category/text") for c in categories] == [
        f"$course$/top/EM by hand/Variant {i}" for i in (1, 2, 3)]
    assert len(numerical) == len(rows)
    for q, row in zip(numerical, rows):
        assert q.findtext("name/text") == f"Variant {row['variant']}: {row['quantity']}"
        assert q.find("questiontext").get("format") == "html"
        assert "\\(" in q.findtext("questiontext/text")
        answer, = q.findall("answer")   # the accepted interval: its centre, half width
        assert answer.get("fraction") == "100"
        centre, tol = float(answer.findtext("text")), float(answer.findtext("tolerance"))
        assert centre - tol == pytest.approx(float(row["low"]), abs=1e-12)
        assert centre + tol == pytest.approx(float(row["high"]), abs=1e-12)
        assert float(q.findtext("defaultgrade")) == 1.0


def test_latex_question_and_key(tmp_path):
    out = write_exam(TEMPLATE, 2, 7, tmp_path / "exam", fmt="tex")
    question = (out / "variant-001" / "question.tex").read_text()
    assert question.startswith("\\documentclass") and "\\section*{Questions}" in question
    assert "Name: \\rule" in question and "\\markright{EM by hand: variant 1}" in question
    assert (out / "variant-001" / "key.tex").read_text().startswith("\\documentclass")
    # The printable batch's sources: each variant's sheet and key on pages of its own.
    questions, keys = ((out / f"{name}.tex").read_text() for name in ("questions", "keys"))
    assert questions.count("\\clearpage\n\\setcounter{page}{1}") == 2
    assert questions.count("\\section*{Questions}") == 2
    assert questions.count("\\begin{document}") == 1
    assert keys.count("answer key}") == 4 and keys.count("\\section*{Iteration 1}") == 2
    assert not (out / "questions.pdf").exists()
    # The printable overview: a row per variant, its ID first, in one long table.
    overview = (out / "overview.tex").read_text()
    assert overview.count("\\begin{longtable}") == 1 and "\\end{document}" in overview
    assert [line.split("}")[0] for line in overview.splitlines()
            if line.startswith("\\texttt{7-")] == ["\\texttt{7-1", "\\texttt{7-2"]


def test_the_printed_sheet_has_answer_tables_and_no_csv_instruction(tmp_path):
    """Paper: a row per point with a cell per component for r_nk, a row per asked
    per-component quantity with a cell per component, room to work; the 'quantity,value'
    instruction only where answers are typed (the Markdown question, for check)."""
    out = write_exam(TEMPLATE, 1, 7, tmp_path / "exam", fmt="tex")
    sheet = (out / "variant-001" / "question.tex").read_text()
    answers = sheet[sheet.index("\\section*{Answers}"):]
    problem = load_problem(out / "variant-001" / "problem.yaml")
    n, k = problem.n_samples, problem.components
    assert "quantity,value" not in sheet and "\\section*{Working}" in answers
    blank_row = " & " * k
    for point in range(1, n + 1):
        assert f"$x_{{{point}}}${blank_row} \\\\ \\hline" in answers
    for label in ("$N_k$", "$\\pi_k$", "$\\mu_k$"):  # the template asks r, N, pi, mu
        assert f"{label}{blank_row} \\\\ \\hline" in answers
    assert "$\\sigma_k^2$" not in answers  # not asked
    typed = write_exam(TEMPLATE, 1, 7, tmp_path / "typed")
    assert "quantity,value" in (typed / "variant-001" / "question.md").read_text()
    # A family's vector parameter: a row per entry, a category by its name.
    family = tmp_path / "cat.yaml"
    family.write_text("data: [red, blue, red, green, green, blue]\ncomponents: 2\n"
                      "model: {family: categorical, categories: [red, green, blue]}\n"
                      "init: {weights: [0.5, 0.5], probs: [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]}\n"
                      "stop: {iterations: 2}\nexam: {ask: [r, q, loglik], allow_tiny: true}\n")
    out = write_exam(family, 1, 7, tmp_path / "cat", fmt="tex")
    sheet = (out / "variant-001" / "question.tex").read_text()
    for c, name in enumerate(("red", "green", "blue"), start=1):
        assert sheet.count(f"$q_{{k,{c}}}$ ({name}) &  &  \\\\ \\hline") == 2  # 2 iterations
    assert sheet.count("Log-likelihood $\\ell = $") == 2
    assert "\\subsection*{Iteration 2}" in sheet


def test_the_overview_and_one_variant_made_again_from_its_id(tmp_path):
    """overview.md: a row per variant, its ID first, its data and start, and the key's
    answers but the per-point ones as answers.csv has them; `--variant ID` makes that
    variant alone, the same files as in the batch."""
    out = write_exam(TEMPLATE, 4, 7, tmp_path / "batch")
    rows = list(csv.DictReader((out / "answers.csv").open()))
    overview = (out / "overview.md").read_text()
    assert overview.startswith("# EM by hand: overview of 4 variants")
    lines = [line for line in overview.splitlines() if line.startswith("| `7-")]
    assert [line.split("`")[1] for line in lines] == ["7-1", "7-2", "7-3", "7-4"]
    for number, line in enumerate(lines, start=1):
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        assert ", ".join(f"{v:g}" for v in problem.data) in line
        for r in rows:
            if r["variant"] == str(number) and not r["quantity"].split(".")[1].startswith("r["):
                value = Decimal(r["value"]).quantize(Decimal("0.001"), ROUND_HALF_UP)
                assert f"`{r['quantity']}` {value}" in line
    alone = tmp_path / "alone"
    result = cli("exam", str(TEMPLATE), "--variant", "7-3", "-o", str(alone))
    assert result.returncode == 0 and "wrote variant 3 (ID 7-3)" in result.stderr
    for name in ("question.md", "key.md", "problem.yaml"):
        assert (alone / "variant-003" / name).read_bytes() == \
            (out / "variant-003" / name).read_bytes()
    assert [r for r in csv.DictReader((alone / "answers.csv").open())] == \
        [r for r in rows if r["variant"] == "3"]
    for bad, words in ((["--variant", "7-x"], "SEED-NUMBER such as 7-12"),
                       (["--variant", "7-0"], "SEED-NUMBER such as 7-12"),
                       (["--variant", "7-3", "-n", "2"], "without -n or --seed")):
        result = cli("exam", str(TEMPLATE), *bad, "-o", str(tmp_path / "x"))
        assert result.returncode == 2 and words in result.stderr, result.stderr


def _page_texts(pdf) -> list[str]:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))
    return [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for p in range(1, pages + 1)]


def test_pdf_question_and_key_and_the_printable_batch(tmp_path):
    """--format pdf: each variant's sheet and key, and the batch: one PDF of all question
    sheets and one of all keys, a page range per variant in order, each range starting
    on a new page numbered 1 with a name and student-number line (sheets), the variant
    in every page's header."""
    out = write_exam(TEMPLATE, 3, 7, tmp_path / "exam", fmt="pdf")
    for v in ("variant-001", "variant-002", "variant-003"):
        for name in ("question.pdf", "key.pdf"):
            assert (out / v / name).read_bytes().startswith(b"%PDF")
    assert not (out / "questions.tex").exists()
    overview = _page_texts(out / "overview.pdf")
    assert "overview of 3 variants" in overview[0] and all(
        f"7-{v}" in "".join(overview) for v in (1, 2, 3))
    for name, first in (("questions", "Name:"), ("keys", "Step 0: Setup")):
        pages = _page_texts(out / f"{name}.pdf")
        owners = [int(re.search(r"variant (\d+)", page).group(1)) for page in pages]
        assert owners == sorted(owners) and set(owners) == {1, 2, 3}, owners
        for variant in (1, 2, 3):
            start = owners.index(variant)
            assert first in pages[start]
            assert re.search(r"^1$", pages[start], re.M)  # its own page 1
    single = _page_texts(out / "variant-002" / "question.pdf")
    assert "Name:" in single[0] and "Student number:" in single[0]


@pytest.mark.parametrize("change,message", [
    ({"exam": {"ask": ["mean"]}}, "exam.ask"),
    ({"exam": {"asks": ["r"]}}, "exam.asks"),
    ({"init": {"weights": [0.5, 0.5], "means": [1, 2]}}, "init"),
    ({"init": {"weights": [0.5, 0.5], "means": {"range": [3, 3]}, "variances": [1, 1]}},
     "init.means: needs 2 distinct values"),
    ({"display": {"decimals": 3}, "data": {"count": 5, "range": [10, 0]}}, "range"),
])
def test_bad_templates_are_clear_errors(tmp_path, change, message):
    template = yaml.safe_load(TEMPLATE.read_text())
    template.update(change)
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(template))
    result = cli("exam", str(path), "-n", "2", "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["t.yaml"]  # no partial folder left


def test_an_impossible_template_says_so(tmp_path):
    template = yaml.safe_load(TEMPLATE.read_text())
    template["init"]["variances"] = {"choice": [0.05], "same": True}  # every r is 0 or 1
    with pytest.raises(ProblemError, match="hand-computable"):
        make_variant(template, 0, 1)


def test_an_impossible_template_with_worker_processes_is_one_clear_line(tmp_path):
    """Made by the worker processes (-n 40): the worker's error reaches the command as
    the same one line, and nothing is left."""
    template = yaml.safe_load(TEMPLATE.read_text())
    template["init"]["variances"] = {"choice": [0.05], "same": True}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(template))
    result = cli("exam", str(tmp_path / "t.yaml"), "-n", "40", "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: exam: no draw of variant 1 was hand-computable")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["t.yaml"]


def test_worker_processes_make_the_same_exam_as_one_process(tmp_path, monkeypatch):
    """The variants are dealt out to a worker per core; the exam is the same to the byte
    as the one made in the command's own process, however many cores."""
    from explainer.exam import exports, workers

    pooled = write_exam(TEMPLATE, 30, 7, tmp_path / "pooled", fmt="tex")
    monkeypatch.setattr(exports, "POOL_FROM", 10 ** 6)
    alone = write_exam(TEMPLATE, 30, 7, tmp_path / "alone", fmt="tex")
    monkeypatch.setattr(exports, "POOL_FROM", 1)
    monkeypatch.setattr(workers, "cores", lambda: 3)  # chunks dealt out to three workers
    three = write_exam(TEMPLATE, 30, 7, tmp_path / "three", fmt="tex")
    files = sorted(p.relative_to(alone) for p in alone.rglob("*") if p.is_file())
    assert len(files) == 30 * 3 + 9  # (+ answers, keys .md/.tex, moodle, overview .md/.tex, QTI x2)
    for other in (pooled, three):
        assert sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file()) == files
        for name in files:
            assert (other / name).read_bytes() == (alone / name).read_bytes(), name


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    result = cli("exam", str(TEMPLATE), "-n", "1", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "not an empty folder" in result.stderr
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"


def test_a_missing_parent_folder_is_a_clear_error(tmp_path):
    result = cli("exam", str(TEMPLATE), "-n", "1", "-o", str(tmp_path / "no" / "such"))
    assert result.returncode == 2 and "folder does not exist" in result.stderr


# Moodle's Cloze syntax for a numerical blank, as its documentation states it:
# {weight:NUMERICAL:alternative~alternative...}, an alternative being "=" (right) or
# "%n%" (n per cent), the number, ":tolerance", and "#feedback".
_BLANK = re.compile(r"\{(\d*):(?:NUMERICAL|NM):([^}]*)\}")
_ALTERNATIVE = re.compile(r"^(=|%(-?\d+)%)?(-?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?)"
                          r"(?::(-?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?))?(?:#(.*))?$")


def _blanks(text: str) -> list[list[tuple[float, float, float]]]:
    """Each blank's alternatives: (fraction, value, tolerance)."""
    out = []
    for match in _BLANK.finditer(text):
        alternatives = []
        for alternative in match.group(2).split("~"):
            parts = _ALTERNATIVE.match(alternative)
            assert parts, alternative
            fraction = 1.0 if parts.group(1) == "=" else float(parts.group(2) or 0) / 100
            alternatives.append((fraction, float(parts.group(3)), float(parts.group(4))))
        out.append(alternatives)
    return out


def test_moodle_cloze_has_one_question_per_variant_with_the_keys_values(tmp_path):
    """The default: a category per variant holding one Cloze question, the setup and a
    numerical blank per asked quantity: its one right answer the accepted interval of
    answers.csv (as its centre and half width); the same as the numerical questions of
    --moodle numerical."""
    out = write_exam(TEMPLATE, 3, 7, tmp_path / "cloze")
    rows = read_csv(out / "answers.csv")
    root = ET.parse(out / "moodle.xml").getroot()
    questions = root.findall("question")
    assert [q.get("type") for q in questions] == ["category", "cloze"] * 3
    for number, question in enumerate(questions[1::2], start=1):
        assert question.findtext("name/text") == f"Variant {number}"
        text = question.findtext("questiontext/text")
        assert "\\(" in text and "<table>" in text
        mine = [r for r in rows if int(r["variant"]) == number]
        blanks = _blanks(text)
        assert len(blanks) == len(mine) > 10
        for alternatives, row in zip(blanks, mine):
            (fraction, centre, tol), = alternatives
            assert fraction == 1.0
            assert centre - tol == pytest.approx(float(row["low"]), abs=1e-12)
            assert centre + tol == pytest.approx(float(row["high"]), abs=1e-12)
        assert "Full precision" in question.findtext("generalfeedback/text")
    numerical = write_exam(TEMPLATE, 3, 7, tmp_path / "numerical", moodle_kind="numerical")
    single = ET.parse(numerical / "moodle.xml").getroot().findall("question[@type='numerical']")
    assert [(float(q.findtext("answer/text")), float(q.findtext("answer/tolerance")))
            for q in single] == [alternatives[0][1:] for q in questions[1::2]
                                 for alternatives in _blanks(q.findtext("questiontext/text"))]
    with pytest.raises(ProblemError, match="--moodle: expected one of cloze, numerical"):
        write_exam(TEMPLATE, 1, 7, tmp_path / "x", moodle_kind="qti")


def test_a_pdf_batch_says_one_line_and_no_worker_traceback(tmp_path):
    """The PDF workers are closed when done: nothing but the one line on standard error
    (idle workers used to print 'Terminated: 15' tracebacks as the pool was torn down)."""
    result = cli("exam", str(TEMPLATE), "-n", "3", "--format", "pdf", "-o", str(tmp_path / "x"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote 3 variants to {tmp_path / 'x'}\n"


QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def test_qti_1_2_package_has_an_assessment_per_variant_with_the_keys_values(tmp_path):
    """qti-1.2.zip, as Canvas imports it: a manifest whose resources (type imsqti_xmlv1p2)
    name files in the package; per variant a questestinterop assessment with one
    numerical item per asked quantity (render_fib Decimal), right (SCORE 100) within the
    accepted interval of answers.csv (vargte and varlte; varequal its centre). Checked
    for the structure QTI 1.2 ASI prescribes (no XSD offline)."""
    import zipfile

    out = write_exam(TEMPLATE, 3, 7, tmp_path / "exam")
    rows = read_csv(out / "answers.csv")
    package = zipfile.ZipFile(out / "qti-1.2.zip")
    names = set(package.namelist())
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    assert manifest.tag == f"{CP}manifest"
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    qti = [r for r in resources if r.get("type") == "imsqti_xmlv1p2"]
    assert len(qti) == 3
    for resource in resources:
        for file in resource.findall(f"{CP}file"):
            assert file.get("href") in names
    for number, resource in enumerate(qti, start=1):
        root = ET.fromstring(package.read(resource.find(f"{CP}file").get("href")))
        assert root.tag == f"{QTI}questestinterop"
        assessment = root.find(f"{QTI}assessment")
        assert assessment.get("title") == f"EM by hand: variant {number}"
        items = assessment.findall(f"{QTI}section/{QTI}item")
        mine = [r for r in rows if int(r["variant"]) == number]
        assert len(items) == len(mine) > 10
        for item, row in zip(items, mine):
            fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                      for f in item.iter(f"{QTI}qtimetadatafield")}
            assert fields["question_type"] == "numerical_question"
            assert item.find(f".//{QTI}response_str/{QTI}render_fib").get("fibtype") == "Decimal"
            assert "\\(" in item.findtext(f".//{QTI}mattext")
            condition, = item.findall(f"{QTI}resprocessing/{QTI}respcondition")
            assert condition.findtext(f"{QTI}setvar") == "100"
            value = float(condition.findtext(f".//{QTI}varequal"))
            low = float(condition.findtext(f".//{QTI}vargte"))
            high = float(condition.findtext(f".//{QTI}varlte"))
            assert (low, high) == (float(row["low"]), float(row["high"]))
            assert value == pytest.approx((low + high) / 2, abs=1e-12)


QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP21 = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def test_qti_2_1_package_has_an_item_per_quantity_and_a_test_per_variant(tmp_path):
    """qti-2.1.zip, as ILIAS, OpenOLAT and Inspera import it: a content package whose
    manifest lists a test (imsqti_test_xmlv2p1) per variant, depending on its items
    (imsqti_item_xmlv2p1), every file present; each item a float text entry whose
    correct response is the key's value and whose response processing sets SCORE 1
    within the accepted interval of answers.csv (its centre, an absolute tolerance of
    its half width). Checked for the structure QTI 2.1 prescribes (no XSD offline)."""
    import zipfile

    out = write_exam(TEMPLATE, 2, 7, tmp_path / "exam")
    rows = read_csv(out / "answers.csv")
    package = zipfile.ZipFile(out / "qti-2.1.zip")
    names = set(package.namelist())
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    resources = {r.get("identifier"): r for r in manifest.iter(f"{CP21}resource")}
    for resource in resources.values():
        assert resource.get("href") in names
    tests = [r for r in resources.values() if r.get("type") == "imsqti_test_xmlv2p1"]
    assert len(tests) == 2
    for number, resource in enumerate(tests, start=1):
        test = ET.fromstring(package.read(resource.get("href")))
        assert test.tag == f"{QTI21}assessmentTest"
        refs = list(test.iter(f"{QTI21}assessmentItemRef"))
        assert [d.get("identifierref") for d in resource.findall(f"{CP21}dependency")] == [
            ref.get("identifier") for ref in refs]
        mine = [r for r in rows if int(r["variant"]) == number]
        assert len(refs) == len(mine) > 10
        for ref, row in zip(refs, mine):
            assert resources[ref.get("identifier")].get("type") == "imsqti_item_xmlv2p1"
            item = ET.fromstring(package.read(ref.get("href")))
            assert item.tag == f"{QTI21}assessmentItem"
            declaration = item.find(f"{QTI21}responseDeclaration")
            assert declaration.get("baseType") == "float"
            assert float(declaration.findtext(f".//{QTI21}value")) == float(row["value"])
            entry = item.find(f".//{QTI21}textEntryInteraction")
            assert entry.get("responseIdentifier") == declaration.get("identifier")
            equal, = item.iter(f"{QTI21}equal")
            assert equal.get("toleranceMode") == "absolute"
            below, above = map(float, equal.get("tolerance").split())
            centre = float(equal.findtext(f"{QTI21}baseValue"))
            assert below == above
            assert centre - below == pytest.approx(float(row["low"]), abs=1e-12)
            assert centre + above == pytest.approx(float(row["high"]), abs=1e-12)
            score = item.find(f".//{QTI21}responseIf/{QTI21}setOutcomeValue")
            assert score.get("identifier") == "SCORE" and score.findtext(
                f"{QTI21}baseValue") == "1"


# --------------------------------------------------------------------------- choices

# Two iterations learning every parameter (normalized kernel), asking the two choices.
CHOICE = {**FULL, "title": "EM by hand, choices",
          "exam": {"ask": ["r", "assign", "mu", "moves"]}}


def _plain_em(x, weights, means, variances, iterations):
    """Responsibilities and means of each iteration, by the formulas with scipy's normal
    density (independent of the package)."""
    from scipy.stats import norm

    x, w, mu, var = (np.asarray(a, dtype=float) for a in (x, weights, means, variances))
    out = []
    for _ in range(iterations):
        weighted = w * norm.pdf(x[:, None], mu, np.sqrt(var))
        r = weighted / weighted.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0)
        new_mu = (r * x[:, None]).sum(axis=0) / nk
        var = (r * (x[:, None] - new_mu) ** 2).sum(axis=0) / nk
        out.append((r, mu, new_mu))
        w, mu = nk / len(x), new_mu
    return out


def _choice_of_moves(before, after):
    shift = np.asarray(after) - np.asarray(before)
    k = int(np.argmax(np.abs(shift)))
    return (k + 1) * (1 if shift[k] > 0 else -1), shift


def test_choices_agree_with_an_independent_em_and_are_clear(tmp_path):
    """assign[n] is the component with the largest responsibility and moves the signed
    component whose mean moves furthest, as a plain EM written here computes them; each
    choice is clear (ahead of the next by 10^-(decimals - 1) = 0.01)."""
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(CHOICE))
    template = load_template(tmp_path / "t.yaml")
    for number in range(1, 9):
        variant = make_variant(template, 11, number)
        spec = variant.spec
        runs = _plain_em([float(v) for v in spec["data"]], spec["init"]["weights"],
                         spec["init"]["means"], spec["init"]["variances"], 2)
        answers = {a["quantity"]: a for a in variant.answers}
        for iteration, (r, before, after) in enumerate(runs, start=1):
            for n, row in enumerate(r, start=1):
                a = answers[f"it{iteration}.assign[{n}]"]
                assert a["value"] == a["full"] == a["rounded_carry"] == int(np.argmax(row)) + 1
                top = np.sort(row)
                assert top[-1] - top[-2] >= 0.01
                assert a["options"] == [1, 2] and a["tolerance"] == 0
            expected, shift = _choice_of_moves(before, after)
            a = answers[f"it{iteration}.moves"]
            assert a["value"] == a["rounded_carry"] == expected
            assert a["options"] == [1, -1, 2, -2]
            sizes = np.sort(np.abs(shift))
            assert sizes[-1] - sizes[-2] >= 0.01 and sizes[-1] >= 0.01


def test_choices_are_multiple_choice_questions_in_every_export(tmp_path):
    """Cloze: a MULTICHOICE drop-down whose right option (=) is the key's; --moodle
    numerical: a multichoice question, 100 % for the key's option only; QTI 1.2: a
    multiple_choice_question whose response_lid offers every option and scores the
    key's; QTI 2.1: a choiceInteraction of every option, the key's its correct response,
    scored by match_correct. The key table and the question sheet name them."""
    import zipfile

    (tmp_path / "t.yaml").write_text(yaml.safe_dump(CHOICE))
    out = write_exam(tmp_path / "t.yaml", 3, 5, tmp_path / "exam")
    rows = read_csv(out / "answers.csv")
    choices = [r for r in rows if "assign" in r["quantity"] or "moves" in r["quantity"]]
    assert len(choices) > 3 * 2 * 5

    def words(quantity, value):
        if "assign" in quantity:
            return f"component {value}"
        way = "increases" if value > 0 else "decreases"
        return f"the mean of component {abs(value)} {way}"

    def ident(quantity, value):
        return f"c{value}" if "assign" in quantity else f"{'up' if value > 0 else 'down'}" \
                                                         f"{abs(value)}"

    def offered(quantity):
        return [1, 2] if "assign" in quantity else [1, -1, 2, -2]

    cloze = ET.parse(out / "moodle.xml").getroot().findall("question[@type='cloze']")
    drops = []
    for question in cloze:
        drops += re.findall(r"\{1:MULTICHOICE:([^}]*)\}", question.findtext("questiontext/text"))
    assert len(drops) == len(choices)
    for drop, row in zip(drops, choices):
        value = int(row["value"])
        assert drop.split("~") == [("=" if v == value else "") + words(row["quantity"], v)
                                   for v in offered(row["quantity"])]
    numerical = write_exam(tmp_path / "t.yaml", 3, 5, tmp_path / "numerical",
                           moodle_kind="numerical")
    multi = ET.parse(numerical / "moodle.xml").getroot().findall("question[@type='multichoice']")
    assert len(multi) == len(choices)
    for question, row in zip(multi, choices):
        assert question.findtext("single") == "true"
        right = [a.findtext("text") for a in question.findall("answer")
                 if a.get("fraction") == "100"]
        assert right == [words(row["quantity"], int(row["value"]))]
        assert len(question.findall("answer")) == len(offered(row["quantity"]))
    package = zipfile.ZipFile(out / "qti-1.2.zip")
    items = [item for v in (1, 2, 3) for item in ET.fromstring(package.read(
        f"em-explainer-5-{v}/em-explainer-5-{v}.xml")).iter(f"{QTI}item")
             if item.find(f".//{QTI}response_lid") is not None]
    assert len(items) == len(choices)
    for item, row in zip(items, choices):
        fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                  for f in item.iter(f"{QTI}qtimetadatafield")}
        assert fields["question_type"] == "multiple_choice_question"
        labels = [label.get("ident") for label in item.iter(f"{QTI}response_label")]
        assert labels == [ident(row["quantity"], v) for v in offered(row["quantity"])]
        assert [c.findtext(f".//{QTI}varequal") for c in item.iter(f"{QTI}respcondition")] \
            == [ident(row["quantity"], int(row["value"]))]
    package = zipfile.ZipFile(out / "qti-2.1.zip")
    found = 0
    for row in rows:
        number = int(row["variant"])
        mine = [r["quantity"] for r in rows if int(r["variant"]) == number]
        name = f"em-explainer-5-{number}-{mine.index(row['quantity']) + 1}.xml"
        item = ET.fromstring(package.read(name))
        interaction = item.find(f".//{QTI21}choiceInteraction")
        if row not in choices:
            assert interaction is None
            continue
        found += 1
        declaration = item.find(f"{QTI21}responseDeclaration")
        assert declaration.get("baseType") == "identifier"
        assert declaration.findtext(f".//{QTI21}value") == ident(row["quantity"],
                                                                 int(row["value"]))
        assert interaction.get("maxChoices") == "1"
        assert [c.get("identifier") for c in interaction.iter(f"{QTI21}simpleChoice")] == [
            ident(row["quantity"], v) for v in offered(row["quantity"])]
        assert item.find(f"{QTI21}responseProcessing").get("template").endswith(
            "/rptemplates/match_correct")
    assert found == len(choices)
    keys = (out / "keys.md").read_text()
    assert re.search(r"\| 1 \| `it1\.moves` \| \$-?[12]\$ \(\$\\mu_\{[12]\}\$ "
                     r"(in|de)creases\) \| \|", keys)
    sheet = (out / "variant-001" / "question.md").read_text()
    assert "`assign[n]`" in sheet and "`moves`: $+k$ if it increases" in sheet


def test_check_grades_choices_right_or_wrong(tmp_path):
    """answers.csv scores full marks, choices included; a wrong assign[n] is one wrong
    answer and moves the other way another, with no follow-through."""
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(CHOICE))
    out = write_exam(tmp_path / "t.yaml", 2, 5, tmp_path / "exam")
    rows = [r for r in read_csv(out / "answers.csv") if r["variant"] == "1"]
    problem = load_problem(out / "variant-001" / "problem.yaml")
    mine = tmp_path / "mine.csv"
    mine.write_text("".join(f'"{r["quantity"]}",{r["value"]}\n' for r in rows))
    assert grade(problem, read_answers(mine))["score"] == len(rows)
    wrong = {"it1.assign[1]": lambda v: 3 - int(v), "it2.moves": lambda v: -int(v)}
    mine.write_text("".join(f'"{r["quantity"]}",{wrong.get(r["quantity"], str)(r["value"])}\n'
                            for r in rows))
    result = grade(problem, read_answers(mine))
    marked = {r["quantity"]: r["status"] for r in result["rows"] if r["status"] != "correct"}
    assert marked == {"it1.assign[1]": "wrong", "it2.moves": "wrong"}
    assert result["steps"] == {}


def test_moves_of_another_family_and_where_it_has_no_meaning(tmp_path):
    """A binomial mixture's moves is its p_k's (signed, from the iteration's p before and
    after); a Bernoulli mixture's vector parameter has no one move: a clear error."""
    template = {"title": "Coins", "model": {"family": "binomial", "trials": 10},
                "data": {"count": 5, "range": [0, 10], "decimals": 0, "repeat": True},
                "components": 2,
                "init": {"weights": [0.5, 0.5], "p": {"range": [0.2, 0.8], "decimals": 1}},
                "stop": {"iterations": 1}, "display": {"decimals": 3},
                "exam": {"ask": ["assign", "moves"]}}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(template))
    variant = make_variant(load_template(tmp_path / "t.yaml"), 3, 1)
    trace = variant.trace
    before = np.array(variant.spec["init"]["p"], dtype=float)
    after = trace.iterations[0].mstep.params.p
    expected, _ = _choice_of_moves(before, after)
    assert [a["value"] for a in variant.answers if a["kind"] == "moves"] == [expected]
    template.update(model={"family": "bernoulli"}, init={"weights": [0.5, 0.5],
                                                         "p": [[0.2, 0.7], [0.8, 0.3]]},
                    data=[[0, 1], [1, 0], [1, 1], [0, 0]])
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(template))
    with pytest.raises(ProblemError, match="exam.ask: expected a list drawn from .*assign"):
        load_template(tmp_path / "b.yaml")


# --------------------------------------------------------------------------- the plane

PLANE = EXAMPLES / "exam" / "exam-2d.yaml"


def test_exam_in_the_plane_keys_are_scikit_learns_iteration(tmp_path):
    """The 2-D example template learns every parameter: each variant's weights, mean
    coordinates and covariance entries are scikit-learn's first iteration from the same
    start (reg_covar=0, tol=0, max_iter=1), its responsibilities and assign[n] scipy's
    densities' from the start; every covariance entry is asked once (i <= j); the hand
    calculation's value is the other right one; check gives answers.csv full marks."""
    import warnings

    from scipy.stats import multivariate_normal
    from sklearn.exceptions import ConvergenceWarning

    out = write_exam(PLANE, 4, 7, tmp_path / "plane")
    rows = read_csv(out / "answers.csv")
    for number in range(1, 5):
        spec = yaml.safe_load((out / f"variant-{number:03d}" / "problem.yaml").read_text())
        x = np.array(spec["data"], dtype=float)
        w, m, c = (np.array(spec["init"][k], dtype=float)
                   for k in ("weights", "means", "covariances"))
        gm = GaussianMixture(2, covariance_type="full", tol=0, reg_covar=0, max_iter=1,
                             weights_init=w, means_init=m, precisions_init=np.linalg.inv(c))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(x)
        weighted = np.column_stack([w[k] * multivariate_normal(m[k], c[k]).pdf(x)
                                    for k in range(2)])
        r = weighted / weighted.sum(axis=1, keepdims=True)
        mine = {row["quantity"]: float(row["full_precision"]) for row in rows
                if int(row["variant"]) == number}
        expected = {f"it1.pi[{k + 1}]": gm.weights_[k] for k in range(2)}
        expected.update({f"it1.mu[{k + 1}][{i + 1}]": gm.means_[k, i]
                         for k in range(2) for i in range(2)})
        expected.update({f"it1.cov[{k + 1}][{i + 1},{j + 1}]": gm.covariances_[k, i, j]
                         for k in range(2) for i in range(2) for j in range(i, 2)})
        expected.update({f"it1.r[{n + 1},{k + 1}]": r[n, k]
                         for n in range(len(x)) for k in range(2)})
        expected.update({f"it1.assign[{n + 1}]": np.argmax(r[n]) + 1 for n in range(len(x))})
        expected.update({f"it1.N[{k + 1}]": r[:, k].sum() for k in range(2)})
        assert set(mine) == set(expected)
        for name, value in expected.items():
            assert mine[name] == pytest.approx(value, abs=1e-10), name
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        # Both calculations' answers are right, unless the question names one (where
        # they end too far apart: variant 1), whose answers alone then are.
        question = (out / f"variant-{number:03d}" / "question.md").read_text()
        named = "Keep every intermediate at full precision" in question
        assert named == (problem.grading_carry == "full") == (number == 1)
        for column in ("full_precision", "rounded_carry"):
            student = tmp_path / f"student-{number}.csv"
            student.write_text("".join(f'"{row["quantity"]}",{row[column]}\n'
                                       for row in rows if int(row["variant"]) == number))
            result = grade(problem, read_answers(student))
            full_marks = result["score"] == result["out_of"] == len(expected)
            assert full_marks == (column == "full_precision" or not named), column
    cloze = ET.parse(out / "moodle.xml").getroot().findall("question[@type='cloze']")
    text = cloze[0].findtext("questiontext/text")
    assert "in the plane" in text and "\\begin{pmatrix}" in text
    assert "entry (1, 2) of the new covariance matrix" in text
    assert len(_blanks(text)) == sum(int(row["variant"]) == 1 for row in rows
                                     if "assign" not in row["quantity"])
    assert "re-estimates weights, means, covariances." in text


def test_a_printable_batch_in_the_plane(tmp_path):
    """The 2-D question sheets and keys compile (LaTeX), the sheet with its 2 x 2
    matrices and the questions of their entries."""
    import shutil

    if shutil.which("latexmk") is None:
        pytest.skip("needs latexmk")
    out = write_exam(PLANE, 2, 7, tmp_path / "plane", fmt="pdf")
    text = subprocess.run(["pdftotext", str(out / "questions.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "entry by entry (cov[k][i,j]" in text and "variant 2" in text
    assert (out / "keys.pdf").stat().st_size > 10_000


def test_an_exam_of_three_dimensions_is_refused(tmp_path):
    template = yaml.safe_load(PLANE.read_text())
    template["data"]["dims"] = 3
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(template))
    with pytest.raises(ProblemError, match="d >= 3 is not supported by 'exam'"):
        load_template(tmp_path / "t.yaml")


_FEEDBACK_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)


def test_the_cloze_general_feedback_is_the_worked_key(tmp_path):
    """Each Cloze question's general feedback: the table of answers, then the variant's
    worked key as HTML for Moodle's MathJax: every formula of key.md, in order, between
    MathJax's delimiters; headings under the page's; its responsibilities those of
    scipy's densities; every printed line of the key holding."""
    from html import unescape
    from html.parser import HTMLParser

    from scipy.stats import norm

    from eqcheck import check_markdown
    from mdcheck import math_spans

    out = write_exam(TEMPLATE, 3, 7, tmp_path / "exam")
    root = ET.parse(out / "moodle.xml").getroot()
    for number, question in enumerate(root.findall("question[@type='cloze']"), start=1):
        feedback = question.findtext("generalfeedback/text")
        table, key_html = feedback.split("</table>\n", 1)
        assert "Full precision" in table
        key = (out / f"variant-{number:03d}" / "key.md").read_text()
        assert not check_markdown(key).failures
        spans = math_spans(key)
        found = [(unescape(m.group(1) or m.group(2)), m.group(2) is not None)
                 for m in _FEEDBACK_MATH.finditer(key_html)]
        assert [tex for tex, display in found if display] == [
            s["tex"].strip() for s in spans if s["display"]]
        assert [tex for tex, display in found if not display] == [
            s["tex"].strip() for s in spans if not s["display"]]
        assert len(found) > 100 and "$" not in re.sub(_FEEDBACK_MATH, "", key_html)
        assert key_html.count("<table>") == key.count("\n| :---") + key.count("\n| ---")

        tags = []

        class Tags(HTMLParser):
            def handle_starttag(self, tag, attrs):
                tags.append(tag)

        Tags().feed(key_html)
        assert "h1" not in tags and "h2" not in tags and tags[0] == "h3"
        assert "script" not in tags and "img" not in tags
        # The table of responsibilities of the first E-step: scipy's densities'.
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        x = np.asarray(problem.data, dtype=float)
        weighted = np.array([w * norm.pdf(x, m, np.sqrt(v)) for w, m, v in
                             zip(problem.weights, problem.means, problem.variances)]).T
        resp = weighted / weighted.sum(axis=1, keepdims=True)
        cell = r'<td style="text-align:right">\\\(([\d.]+)\\\)</td>\n'
        rows = re.findall(r'<td style="text-align:left">\\\(x_\{(\d+)\} = [^<]*</td>\n'
                          + cell + cell, key_html.split("responsibilities of all points")[1]
                          .split("</table>")[0])
        assert [int(n) for n, _, _ in rows] == list(range(1, len(x) + 1))
        for n, r1, r2 in rows:
            assert [float(r1), float(r2)] == pytest.approx(resp[int(n) - 1], abs=5e-4)


def test_the_feedback_of_a_hostile_title_is_escaped(tmp_path):
    template = yaml.safe_load(TEMPLATE.read_text())
    template["title"] = "Quiz ]]> <script>x</script> & $y$"
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(template))
    out = write_exam(path, 1, 7, tmp_path / "exam")
    question = ET.parse(out / "moodle.xml").getroot().find("question[@type='cloze']")
    feedback = question.findtext("generalfeedback/text")
    assert "<script>" not in feedback and "&lt;script&gt;" in feedback
    assert "]]&gt;" in feedback
