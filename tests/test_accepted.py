"""One table of accepted answers per variant: every export of an exam (Moodle Cloze and
numerical, QTI 1.2, QTI 2.1, answers.csv) and ``check`` accept the same answers.

The calculations a student may carry out without a slip are redone here, independently
of the package: at full precision with numpy, and with every written value rounded
(to the exam's 3 decimals, and to 4) with the exact fractions of tests/handcalc.py; each
also with a point's last responsibility written as 1 minus the others. Every answer of
every such calculation, as the student writes it, must be accepted by every export's
rule (parsed from the files) and marked correct by ``check``; a slip of 10 % must be
rejected by all of them.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

import handcalc
from explainer.exam import write_exam
from explainer.grading import grade
from explainer.validation import load_problem

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "exam" / "exam.yaml"
PLANE = ROOT / "examples" / "exam" / "exam-2d.yaml"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
_BLANK = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}#~]+)\}")


def _rules(cloze: Path, numerical: Path) -> dict[tuple[int, str], dict[str, tuple]]:
    """Each export's accepted interval of each (variant, quantity), read from its files:
    answers.csv's low and high, the Cloze blank's and the numerical answer's centre and
    tolerance, QTI 1.2's vargte and varlte, QTI 2.1's baseValue and tolerance."""
    rows = [r for r in csv.DictReader(open(cloze / "answers.csv", encoding="utf-8"))
            if not r["quantity"].split(".")[-1].startswith(("assign", "moves"))]
    keys = [(int(r["variant"]), r["quantity"]) for r in rows]
    rules: dict[tuple[int, str], dict[str, tuple]] = {
        key: {"answers.csv": (float(r["low"]), float(r["high"]))} for key, r in zip(keys, rows)}
    blanks = []
    for question in ET.parse(cloze / "moodle.xml").getroot().iter("question"):
        if question.get("type") == "cloze":
            blanks += [(float(c), float(t)) for c, t in
                       _BLANK.findall(question.findtext("questiontext/text"))]
    numbers = [(float(q.findtext("answer/text")), float(q.findtext("answer/tolerance")))
               for q in ET.parse(numerical / "moodle.xml").getroot().iter("question")
               if q.get("type") == "numerical"]
    qti12, qti21 = [], []
    with zipfile.ZipFile(cloze / "qti-1.2.zip") as package:
        for name in sorted((n for n in package.namelist() if n.count("/") == 1
                            and not n.endswith("assessment_meta.xml")),
                           key=lambda n: int(n.split("/")[0].rsplit("-", 1)[1])):
            root = ET.fromstring(package.read(name))
            for item in root.iter(f"{QTI12}item"):
                if item.find(f".//{QTI12}vargte") is not None:
                    qti12.append((item.get("title"), float(item.findtext(f".//{QTI12}vargte")),
                                  float(item.findtext(f".//{QTI12}varlte"))))
    with zipfile.ZipFile(cloze / "qti-2.1.zip") as package:
        for name in package.namelist():
            root = ET.fromstring(package.read(name))
            equal = root.find(f".//{QTI21}equal")
            if equal is not None:
                below, above = map(float, equal.get("tolerance").split())
                centre = float(equal.findtext(f"{QTI21}baseValue"))
                qti21.append((root.get("identifier"), centre - below, centre + above))
    assert len(blanks) == len(numbers) == len(qti12) == len(qti21) == len(keys)
    # (QTI 2.1's items by identifier: em-explainer-SEED-VARIANT-ITEM, items in order)
    qti21.sort(key=lambda t: tuple(int(v) for v in t[0].split("-")[-2:]))
    for key, (c, t), (n, u), (title, low, high), (_, low21, high21) in zip(
            keys, blanks, numbers, qti12, qti21):
        assert title == key[1]
        rules[key].update({"cloze": (c - t, c + t), "numerical": (n - u, n + u),
                           "qti-1.2": (low, high), "qti-2.1": (low21, high21)})
    return rules


def _as_written(value, decimals: int = 3) -> Decimal:
    exact = (Decimal(value.numerator) / Decimal(value.denominator)
             if isinstance(value, Fraction) else Decimal(repr(float(value))))
    return exact.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _quantities(r, nk, weights, means) -> dict[str, object]:
    out = {f"it1.r[{n + 1},{k + 1}]": r[n][k] for n in range(len(r)) for k in range(len(r[0]))}
    for k in range(len(nk)):
        out.update({f"it1.N[{k + 1}]": nk[k], f"it1.pi[{k + 1}]": weights[k],
                    f"it1.mu[{k + 1}]": means[k]})
    return out


def _full(spec: dict, rest: bool) -> dict[str, object]:
    """One iteration at full precision (numpy; the proportional kernel, weights and means
    re-estimated), with a point's last r as 1 minus its others as written when *rest*."""
    x = np.asarray(spec["data"], dtype=float)
    w, mu, var = (np.asarray(spec["init"][k], dtype=float)
                  for k in ("weights", "means", "variances"))
    weighted = w * np.exp(-(x[:, None] - mu) ** 2 / (2 * var))
    r = weighted / weighted.sum(axis=1, keepdims=True)
    if rest:
        for row in r:
            row[-1] = float(1 - sum(_as_written(v) for v in row[:-1]))
    nk = r.sum(axis=0)
    return _quantities(r.tolist(), nk, nk / len(x), (r.T @ x) / nk)


def _by_hand(spec: dict, decimals: int, rest: bool) -> dict[str, object]:
    """One iteration with every written value rounded to *decimals* (handcalc's exact
    fractions), with a point's last r as 1 minus its others when *rest*."""
    init = spec["init"]
    problem = handcalc.Problem([Fraction(str(v)) for v in spec["data"]],
                               *[[Fraction(str(v)) for v in init[name]]
                                 for name in ("weights", "means", "variances")],
                               decimals, spec["model"]["kernel"], set(spec["model"]["update"]))
    start = (problem.weights, problem.means, problem.variances)
    e = handcalc.e_step(problem, *start)
    if rest:
        for row in e.resp:
            row[-1] = 1 - sum(row[:-1])
    m = handcalc.m_step(problem, e, *start)
    return _quantities(e.resp, m.nk, m.weights, m.means)


def _calculations(spec: dict) -> dict[str, dict[str, object]]:
    return {"full precision": _full(spec, False), "full precision, last r": _full(spec, True),
            "3 decimals": _by_hand(spec, 3, False), "3 decimals, last r": _by_hand(spec, 3, True),
            "4 decimals": _by_hand(spec, 4, False), "4 decimals, last r": _by_hand(spec, 4, True)}


def _verdicts(rules: dict[str, tuple], value: Decimal) -> set[bool]:
    return {low <= float(value) <= high for low, high in rules.values()}


def test_every_export_and_check_accept_every_calculation_without_a_slip(tmp_path):
    """The acceptance of one accepted-answers table: for each of 30 variants, the answers
    of each calculation without a slip are accepted by every export and by check; the
    Cloze and numerical questions accept the same intervals; a 10 % slip is rejected by
    all."""
    out = write_exam(TEMPLATE, 30, 7, tmp_path / "cloze")
    numerical = write_exam(TEMPLATE, 30, 7, tmp_path / "numerical", moodle_kind="numerical")
    rules = _rules(out, numerical)
    for key, by_export in rules.items():
        low, high = by_export["answers.csv"]
        for export, (a, b) in by_export.items():
            assert a == pytest.approx(low, abs=1e-12) and b == pytest.approx(high, abs=1e-12), (
                key, export)
    apart = 0
    for number in range(1, 31):
        folder = out / f"variant-{number:03d}"
        spec = yaml.safe_load((folder / "problem.yaml").read_text())
        problem = load_problem(folder / "problem.yaml")
        assert problem.grading_carry == "any"  # (the 1-D example's calculations stay close)
        keys = {}
        for name, answers in _calculations(spec).items():
            rows = []
            for quantity, value in answers.items():
                text = _as_written(value)
                assert _verdicts(rules[(number, quantity)], text) == {True}, (
                    number, name, quantity, text, rules[(number, quantity)])
                rows.append(("test", quantity, str(text)))
                keys.setdefault(quantity, set()).add(text)
            result = grade(problem, rows)
            assert result["score"] == result["out_of"] == len(rows), (number, name)
            assert {r["status"] for r in result["rows"]} == {"correct"}
        apart += sum(len(texts) > 1 for texts in keys.values())
        # A slip of 10 % either way: rejected by every export and by check.
        full = _calculations(spec)["full precision"]
        for quantity, value in full.items():
            for factor in ("1.1", "0.9"):
                slip = _as_written(_as_written(value) * Decimal(factor))
                assert _verdicts(rules[(number, quantity)], slip) == {False}, (
                    number, quantity, slip)
                row, = grade(problem, [("test", quantity, str(slip))])["rows"]
                assert row["status"] == "wrong", (number, quantity, slip)
    # The calculations do end apart, as written, for many quantities (else the test
    # would show nothing): the key alone would fail those students.
    assert apart > 100


def _exam_rules(tmp_path: Path, template: Path, n: int) -> tuple[Path, dict]:
    out = write_exam(template, n, 7, tmp_path / "cloze")
    numerical = write_exam(template, n, 7, tmp_path / "numerical", moodle_kind="numerical")
    return out, _rules(out, numerical)


FAMILY_TEMPLATES = {
    "poisson": "data: {count: 6, range: [0, 12], decimals: 0}\ncomponents: 2\n"
               "model: {family: poisson}\n"
               "init: {weights: [0.5, 0.5], rates: {range: [1, 10], decimals: 0}}\n"
               "exam: {ask: [r, N, pi, lambda, loglik]}\n",
    "exponential": "data: {count: 6, range: [0.1, 8], decimals: 1}\ncomponents: 2\n"
                   "model: {family: exponential}\n"
                   "init: {weights: [0.5, 0.5], rates: {range: [0.2, 2], decimals: 1}}\n"
                   "exam: {ask: [r, N, pi, lambda]}\n",
    "binomial": "data: {count: 5, range: [0, 10], decimals: 0}\ncomponents: 2\n"
                "model: {family: binomial, trials: 10, update: [p]}\n"
                "init: {weights: [0.5, 0.5], p: {range: [0.2, 0.8], decimals: 1}}\n"
                "exam: {ask: [r, N, p]}\n",
    "plane": PLANE.read_text(encoding="utf-8"),
}


@pytest.mark.parametrize("name", sorted(FAMILY_TEMPLATES))
def test_exports_and_check_accept_the_same_intervals(tmp_path, name):
    """For the plane and the other families: every export states answers.csv's interval,
    and check marks an answer correct exactly where they accept it (the least and the
    largest accepted answer as written, and not a unit beyond)."""
    template = tmp_path / f"{name}.yaml"
    template.write_text(FAMILY_TEMPLATES[name], encoding="utf-8")
    out, rules = _exam_rules(tmp_path, template, 3)
    decimals = 4 if name == "plane" else 3
    unit = Decimal(1).scaleb(-decimals)
    for (number, quantity), by_export in rules.items():
        low, high = by_export["answers.csv"]
        for export, (a, b) in by_export.items():
            assert a == pytest.approx(low, abs=1e-12) and b == pytest.approx(high, abs=1e-12)
        problem = load_problem(out / f"variant-{number:03d}" / "problem.yaml")
        least = _as_written(low, decimals) if _as_written(low, decimals) >= Decimal(repr(low)) \
            else _as_written(low, decimals) + unit
        largest = _as_written(high, decimals) if _as_written(high, decimals) <= Decimal(
            repr(high)) else _as_written(high, decimals) - unit
        for value, accepted in ((least, True), (largest, True), (least - unit, False),
                                (largest + unit, False)):
            assert _verdicts(by_export, value) == {accepted}
            row, = grade(problem, [("test", quantity, str(value))])["rows"]
            assert (row["status"] == "correct") == accepted, (number, quantity, value)


def test_a_variant_whose_calculations_end_far_apart_names_the_one_to_carry_out(tmp_path):
    """Where the calculations end so far apart that one interval would hold a 5 % slip
    (the plane's variant 1 of seed 7: its densities at 4 decimals have two or three
    significant digits), the questions name the key's calculation and every export and
    check accept its answers alone; its problem.yaml says so (grading.carry), so that
    check grades it the same way."""
    out, rules = _exam_rules(tmp_path, PLANE, 1)
    folder = out / "variant-001"
    assert "grading:\n  carry: full\n" in (folder / "problem.yaml").read_text()
    sentence = "Keep every intermediate at full precision (your calculator's memory)"
    assert sentence in (folder / "question.md").read_text()
    assert sentence in (out / "moodle.xml").read_text()
    assert "(full precision alone)" in (out / "keys.md").read_text()
    problem = load_problem(folder / "problem.yaml")
    rows = list(csv.DictReader(open(out / "answers.csv", encoding="utf-8")))
    rejected = 0
    for row in rows:
        if (1, row["quantity"]) not in rules:
            continue
        full, hand = (_as_written(float(row[c]), 4) for c in ("full_precision",
                                                               "rounded_carry"))
        assert _verdicts(rules[(1, row["quantity"])], full) == {True}
        verdicts = _verdicts(rules[(1, row["quantity"])], hand)
        assert len(verdicts) == 1
        line, = grade(problem, [("test", row["quantity"], str(hand))])["rows"]
        assert (line["status"] == "correct") == verdicts.pop()
        rejected += line["status"] != "correct"
    assert rejected > 0
