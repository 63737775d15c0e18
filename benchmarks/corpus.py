"""A corpus of generated documents: the safety net of a change that must not change the
output (a restructuring, a faster path).

    python benchmarks/corpus.py write DIR        # every document, and DIR/SHA256SUMS
    python benchmarks/corpus.py compare DIR      # made again; lists what differs from DIR
    python benchmarks/corpus.py audit DIR        # DIR's Markdown against the display rule

Every document goes through the command line as a user runs it (``em-explainer``'s
``main``, in this process): every example spec and a few problems written here (each
family, the four covariance types in the plane), in Markdown, LaTeX (whole and
fragment), JSON and HTML (with and without study mode), at full precision, with exact
values and with the rounded carry, one part of one iteration, and a page with its
figures; JSON traces rendered again; exams of each kind of template (1-D Cloze and
numerical, the plane, each family; Markdown and LaTeX), their zip packages unpacked (a
zip's entries carry the time they were written); and ``check`` reports of right,
slipped and misnamed answers in Markdown and JSON. An input the tool refuses is a
document too: its exit status and error line.

PDF is left out: its bytes depend on the TeX installation (the tests compare its text).
It prints how many documents it made and, with ``compare``, each one that differs.
Exact arithmetic is given 600 s instead of its 8 s budget of time, so that the
documents do not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLES = ROOT / "examples"

# Problems beside the examples: each family and covariance type in a few points.
PROBLEMS = {
    "categorical": {
        "title": "Colours & shades <two groups>",
        "data": ["red", "blue", "red", "green", "green", "blue", "red", "red"],
        "components": 2,
        "model": {"family": "categorical", "categories": ["red", "green", "blue"]},
        "init": {"weights": [0.4, 0.6], "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
        "stop": {"iterations": 2}},
    "binomial-thirds": {
        "data": [[5, 10], [9, 10], [8, 10], [4, 10], [7, 10]],
        "components": 2,
        "model": {"family": "binomial"},
        "init": {"weights": ["1/3", "2/3"], "p": [0.6, 0.5]},
        "stop": {"iterations": 2}},
    "gauss-three": {
        "data": [-2.5, -1, 0, 0.5, 3, 4.25, 6, 7.5],
        "components": 3,
        "init": {"weights": ["1/3", "1/3", "1/3"], "means": [-2, 2, 6],
                 "variances": [1, 2, 1]},
        "stop": {"iterations": 2}},
    **{f"plane-{kind}": {
        "data": [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2], [3, 5]],
        "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
                 "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]] if kind == "tied"
                 else [[[1, 0], [0, 1]], [[2, 0], [0, 1.5]]] if kind == "diag"
                 else [[[1, 0], [0, 1]], [[2, 0], [0, 2]]] if kind == "spherical"
                 else [[[1, 0], [0, 1]], [[1, 0.5], [0.5, 1]]]},
        "model": {"covariance_type": kind},
        "stop": {"iterations": 2}} for kind in ("full", "tied", "diag", "spherical")},
}

# Exam templates beside the examples': each family, and a hostile title.
EXAMS = {
    "coins": {"title": "Two coins & a <table>", "data": {"count": 5, "range": [0, 10],
                                                         "decimals": 0},
              "components": 2, "model": {"family": "binomial", "trials": 10, "update": ["p"]},
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
    "categorical": {"title": "Quiz ]]> & \"shades\"",
                    "data": ["red & pink", "blue", "red & pink", "green", "green", "blue"],
                    "components": 2,
                    "model": {"family": "categorical",
                              "categories": ["red & pink", "green", "blue"]},
                    "init": {"weights": [0.5, 0.5],
                             "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]},
                    "exam": {"ask": ["r", "q"], "allow_tiny": True}},
}


def run(*argv: str) -> tuple[int, str, str]:
    """em-explainer with these arguments, in this process: (status, stdout, stderr)."""
    from explainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 1
    return status, out.getvalue(), err.getvalue()


def specs(work: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        if path.parent.name != "exam" and "variant" not in path.parent.name:
            yield path.stem, path
    for name, spec in PROBLEMS.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        yield name, path
    for path in sorted(EXAMPLES.glob("exam/*variant-001/problem.yaml")):
        yield path.parent.name, path


def documents(out: Path, work: Path) -> None:
    """Write every document of the corpus under *out*."""
    modes = {"full": [], "exact": ["--exact"], "rounded": ["--carry", "rounded"]}
    formats = {"md": [], "tex": [], "fragment.tex": ["--fragment"], "json": [],
               "html": ["--no-plots"], "study.html": ["--no-plots", "--reveal"]}
    for name, spec in specs(work):
        for mode, flags in modes.items():
            for suffix, extra in formats.items():
                if name in ("generated", "two-d") and mode == "exact" and suffix != "md":
                    continue  # (300 points in exact arithmetic: the Markdown alone)
                target = out / "solve" / name / f"{mode}.{suffix}"
                one(target, "solve", str(spec), *flags, *extra, "-o", str(target),
                    "--format", suffix.rsplit(".", 1)[-1])
            part = out / "solve" / name / f"{mode}.mstep-1.md"
            one(part, "solve", str(spec), *flags, "--part", "mstep", "--iteration", "1",
                "-o", str(part))
            trace = out / "solve" / name / f"{mode}.json"
            if trace.exists():
                again = out / "render" / name / f"{mode}.md"
                one(again, "render", str(trace), "-o", str(again))
        # The page with its figures (SVG inside the page).
        target = out / "solve" / name / "figures.html"
        one(target, "solve", str(spec), "-o", str(target))
    exams(out, work)


def exams(out: Path, work: Path) -> None:
    templates = {"exam": EXAMPLES / "exam" / "exam.yaml",
                 "plane": EXAMPLES / "exam" / "exam-2d.yaml"}
    for name, template in EXAMS.items():
        templates[name] = work / f"exam-{name}.yaml"
        templates[name].write_text(yaml.safe_dump(template, allow_unicode=True),
                                   encoding="utf-8")
    for name, template in templates.items():
        for kind, flags in {"md": [], "numerical.md": ["--moodle", "numerical"],
                            "tex": ["--format", "tex"]}.items():
            folder = out / "exam" / f"{name}.{kind}"
            folder.parent.mkdir(parents=True, exist_ok=True)
            status, _, err = run("exam", str(template), "-n", "3", "--seed", "7", "-q",
                                 "-o", str(folder), *flags)
            if status:
                write(folder / "refused.txt", f"{status}\n{err}")
                continue
            for package in sorted(folder.glob("*.zip")):
                with zipfile.ZipFile(package) as archive:
                    archive.extractall(folder / package.stem)
                package.unlink()
        reports(out / "check" / name, out / "exam" / f"{name}.md")


def reports(out: Path, exam: Path) -> None:
    """check's reports of a variant's key, of the key with slips, and of a misnamed
    quantity."""
    answers = exam / "answers.csv"
    if not answers.exists():
        return
    with open(answers, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["variant"] == "1"]
    spec = exam / "variant-001" / "problem.yaml"
    sheets = {"key": [(r["quantity"], r["value"]) for r in rows],
              "slips": [(r["quantity"], _slip(r["value"]) if i % 3 == 1 else r["value"])
                        for i, r in enumerate(rows)],
              "misnamed": [(r["quantity"].replace("[", "{"), r["value"]) for r in rows[:2]]}
    for name, lines in sheets.items():
        sheet = out / f"{name}.csv"
        write(sheet, "quantity,value\n" + "".join(f"{q},{v}\n" for q, v in lines))
        for fmt in ("md", "json"):
            target = out / f"{name}.{fmt}"
            one(target, "check", str(spec), str(sheet), "--format", fmt, "-o", str(target))


def _slip(value: str) -> str:
    try:
        return repr(round(float(value) * 1.1 + 0.01, 4))
    except ValueError:
        return value


def one(target: Path, *argv: str) -> None:
    """Run the command that writes *target*; a refusal is written in its place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    status, _, err = run(*argv)
    if status:
        write(target.with_name(target.name + ".refused"), f"{status}\n{err}")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def sums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"}


def make() -> Path:
    """Every document, made in one fixed place (a path that enters an error line must be
    the same in two runs): the folder, with its SHA256SUMS."""
    base = Path(tempfile.gettempdir()) / "em-explainer-corpus"
    shutil.rmtree(base, ignore_errors=True)
    work, out = base / "specs", base / "corpus"
    work.mkdir(parents=True)
    documents(out, work)
    shutil.rmtree(work)
    (out / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums(out).items()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["write", "compare", "audit"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("EM_EXPLAINER_CACHE_DIR", "")
    # Exact arithmetic stops at a time budget too (8 s), which a busy machine reaches
    # sooner: the corpus gives it time enough that only the size budget stops it.
    from explainer import defaults

    defaults.EXACT_SECONDS = 600.0
    start = time.monotonic()
    if args.action == "audit":
        return audit(args.folder)
    if args.action == "write":
        if args.folder.exists() and any(args.folder.iterdir()):
            parser.error(f"{args.folder} exists and is not empty")
        made = make()
        args.folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(made, args.folder, dirs_exist_ok=True)
        shutil.rmtree(made.parent)
        print(f"{len(sums(args.folder))} documents in {args.folder} "
              f"({time.monotonic() - start:.0f} s)")
        return 0
    before = _read_sums(args.folder / "SHA256SUMS")
    made = make()
    now = _read_sums(made / "SHA256SUMS")
    differ = sorted(n for n in before.keys() & now.keys() if before[n] != now[n])
    for name in differ:
        print(f"differs: {name}")
    for name in sorted(before.keys() - now.keys()):
        print(f"missing now: {name}")
    for name in sorted(now.keys() - before.keys()):
        print(f"new: {name}")
    same = len(before.keys() & now.keys()) - len(differ)
    print(f"{same} of {len(before)} documents byte-identical, {len(differ)} differ, "
          f"{len(before.keys() - now.keys())} missing, {len(now.keys() - before.keys())} "
          f"new ({time.monotonic() - start:.0f} s; this run's documents: {made})")
    return 0 if same == len(before) == len(now) else 1


# A decimal number as a page prints it, with its power of ten if in scientific notation.
_NUMBER = re.compile(r"(?<![\d.^{_])(-?\d+\.\d+)(?: \\times 10\^\{(-?\d+)\})?(?![\d])")


def audit(folder: Path) -> int:
    """The corpus's Markdown documents against the display rule: the relations the
    independent checker (tests/eqcheck.py) finds failing, and the printed decimals by
    their significant digits beyond six (a check report's answers echo what was typed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from eqcheck import check_markdown

    pages = sorted(p for p in folder.rglob("*.md") if p.is_file())
    failing, long = 0, {"computed": Counter(), "check report": Counter()}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for failure in check_markdown(text).failures:
            failing += 1
            print(f"fails: {page.relative_to(folder)}: {str(failure)[:200]}")
        kind = "check report" if page.relative_to(folder).parts[0] == "check" else "computed"
        for match in _NUMBER.finditer(text):
            digits = len(match.group(1).lstrip("-").replace(".", "").lstrip("0"))
            if digits > 6:
                long[kind][digits] += 1
    print(f"{len(pages)} Markdown documents, {failing} failing relations")
    for kind, counts in long.items():
        print(f"{kind}: {sum(counts.values())} numbers of more than six significant digits "
              f"({', '.join(f'{n} of {d}' for d, n in sorted(counts.items())) or 'none'})")
    return 1 if failing else 0


def _read_sums(path: Path) -> dict[str, str]:
    return {name: digest for digest, name in
            (line.split("  ", 1) for line in path.read_text().splitlines())}


if __name__ == "__main__":
    sys.exit(main())
