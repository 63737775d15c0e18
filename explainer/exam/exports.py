"""Writing an exam: each variant's folder (problem, question, key) and its share of the
batch's files (answers.csv, keys.md, moodle.xml, the QTI 1.2 and 2.1 packages, the
printable batch), made a variant at a time, by worker processes when there are many."""

from __future__ import annotations

import csv
import io
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import defaults
from ..engine import run
from ..errors import EXIT_TERMINATED, ProblemError, SystemRefused, Terminated, raise_terminated
from ..render.documents import document_of, words_of
from ..unwind import staging_folder
from ..validation import validate
from . import workers
from .draw import MAX_VARIANTS, default_ask, load_template
from .variant import Variant, answers_of, make_variant

Progress = Callable[[int, int], None]


def csv_rows(variant: Variant) -> str:
    """The variant's lines of answers.csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for a in variant.answers:
        choice = a["options"] is not None  # (its accepted answers: the key alone)
        writer.writerow([variant.number, a["quantity"], repr(a["value"]),
                         *((a["value"],) * 2 if choice else (repr(a["low"]), repr(a["high"]))),
                         repr(a["full"]), repr(a["rounded_carry"])])
    return out.getvalue()


# low and high: the accepted interval, edges included (a choice: the key).
CSV_HEADER = "variant,quantity,value,low,high,full_precision,rounded_carry\n"


def _spec_yaml(spec: dict[str, Any]) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, where it is built
    return yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True)


def variant_id(seed: int, number: int) -> str:
    """A variant's ID: what makes it again alone (``exam TEMPLATE --variant ID``)."""
    return f"{seed}-{number}"


def parse_variant_id(text: str) -> tuple[int, int]:
    """The seed and the number of a variant's ID (``7-12``), else an error naming it."""
    seed, dash, number = text.strip().partition("-")
    if not (dash and seed.isdigit() and number.isdigit() and seed.isascii()
            and number.isascii()) or not 1 <= int(number) <= MAX_VARIANTS:
        raise ProblemError("--variant", f"expected a variant's ID, SEED-NUMBER such as 7-12 "
                                        f"(the overview's first column; a number from 1 to "
                                        f"{MAX_VARIANTS:,}), but got {text!r}")
    return int(seed), int(number)


def folder_name(number: int, n: int) -> str:
    return f"variant-{number:0{max(3, len(str(n)))}d}"


def _question_context(variant: Variant,
                      base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The question sheet's context: the trace's (*base*, when built already) with the
    asked quantities."""
    problem = variant.trace.problem
    if base is None:
        from ..render.context import build_context

        base = build_context(variant.trace)
    context = dict(base, plots={})
    asked_kinds: list[tuple[int, str]] = []
    for a in variant.answers:
        if (a["iteration"], a["kind"]) not in asked_kinds:
            asked_kinds.append((a["iteration"], a["kind"]))
    from ..render.latex import engine

    context.update(part=None, selected=None, title=problem.title, engine=engine(problem),
                   grading_carry=problem.grading_carry,
                   questions=[{"iteration": i, "kind": kind} for i, kind in asked_kinds],
                   example=f"{variant.answers[0]['quantity'].split('.', 1)[1]},0.123",
                   blanks=_blanks(variant.answers))
    return context


def _blanks(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The printed sheet's answer tables, iteration by iteration, from the asked
    quantities (never their values): ``points``, the points with a cell per component
    for r_nk (``r``) and one for the component it goes to (``assign``); ``rows``, each
    per-component quantity (its kind, and the entry of a vector or matrix) with a cell
    per component; ``single``, the one-value answers (``loglik``, ``moves``)."""
    out: list[dict[str, Any]] = []
    for a in answers:
        if not out or out[-1]["iteration"] != a["iteration"]:
            out.append({"iteration": a["iteration"], "points": [], "r": False,
                        "assign": False, "rows": [], "single": []})
        table = out[-1]
        if a["n"] is not None:
            table[a["kind"]] = True
            if a["n"] not in table["points"]:
                table["points"].append(a["n"])
        elif a["k"] is not None:
            row = {"kind": a["kind"], "entry": a["entry"], "column": a["column"]}
            if row not in table["rows"]:
                table["rows"].append(row)
        elif a["kind"] not in table["single"]:
            table["single"].append(a["kind"])
    return out


@dataclass(frozen=True)
class _Texts:
    """One variant's share of every output, as text (made in a worker process; the
    command's process only writes it)."""

    number: int
    spec: dict[str, Any]
    decimals: int
    csv: str  # its lines of answers.csv
    keys: str  # its rows of keys.md
    moodle: str  # its category and question(s) in moodle.xml
    qti12: list[tuple[str, str]]  # its entries of qti-1.2.zip
    qti21: list[tuple[str, str]]  # its entries of qti-2.1.zip
    qti_ident: str  # its identifier in both QTI packages
    qti21_items: list[str]  # its items' identifiers (the QTI 2.1 manifest lists them)
    batch: tuple[str, str, str, str] | None  # the batch's head, question part, key part, tail
    overview: str  # its row of overview.md
    overview_tex: str | None  # its row of the printable overview (LaTeX and PDF formats)


@dataclass(frozen=True)
class _Writer:
    """What a worker needs to make variant *number*'s texts (:meth:`texts`) and write its
    folder in *work*."""

    work: str
    template: dict[str, Any]
    seed: int
    n: int
    fmt: str
    moodle_kind: str
    title: str

    def texts(self, number: int) -> _Texts:
        from ..render.context import build_context
        from ..render.environment import environment, render_template, tidy
        from ..render.html import markdown_to_mathjax_html
        from ..render.latex import latex_body, render_latex
        from ..render.markdown import markdown_document

        variant = make_variant(self.template, self.seed, number)
        problem = variant.trace.problem
        base = build_context(variant.trace)
        # The question sheet's context serves its own sheet and the batch's.
        context = _question_context(variant, base)
        # The variant's folder is written here: its files (a thousand folders' opens)
        # are written by every worker at once.
        folder = Path(self.work, folder_name(number, self.n))
        folder.mkdir()
        files = {"problem.yaml": _spec_yaml(variant.spec)}
        cloze = self.moodle_kind == "cloze"
        # (HTML: the Markdown question and key, and a practice page beside them)
        sheets = "md" if self.fmt == "html" else self.fmt
        key_md = markdown_document(dict(base), variant.trace, None, None, None, None,
                                   defaults.FLAVOR) if sheets == "md" or cloze else None
        if sheets != "pdf":  # (PDF: compiled afterwards, from the spec)
            question = render_template("markdown" if sheets == "md" else "latex",
                                       f"exam/question.{sheets}.j2", context)
            files[f"question.{sheets}"] = tidy(question)
            files[f"key.{sheets}"] = (key_md if sheets == "md"
                                      else render_latex(variant.trace))
        if self.fmt == "html":
            from ..grading.practice import practice_context
            from ..render.html import render_html

            files["practice.html"] = render_html(variant.trace,
                                                 practice=practice_context(variant.trace))
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        batch = None
        if self.fmt in ("tex", "pdf"):
            module = environment("latex").get_template("exam/batch.tex.j2").make_module(
                context)
            sheet = render_template("latex", "exam/sheet.tex.j2", context)
            batch = (str(module.head()).lstrip(), str(module.part(problem.title, sheet, False)),
                     str(module.part(problem.title, latex_body(variant.trace), True)),
                     str(module.tail()))
        module = _module("exam/keys.md.j2", problem.decimals)
        keys = str(module.rows(number, variant.answers, problem.family, problem.grading_carry))
        data, params = document_of(problem).setup_values()
        module = _module("exam/moodle.xml.j2", problem.decimals)
        # The problem as the questions state it, and each quantity asked: once for the
        # variant's every question. (HTML, made by the XML templates: Markup, which they
        # print as it is.)
        stated = module.setup(data, params, list(problem.update), problem.family,
                              problem.grading_carry, problem.decimals)
        answers = [{**a, "described": module.described(a, data, problem.family)}
                   for a in variant.answers]
        setup = (stated, data, problem.family, problem.iterations, problem.decimals)
        if cloze:  # (its general feedback: the worked key, for Moodle's MathJax)
            moodle = str(module.cloze_variant(self.title, number, *setup, answers,
                                              markdown_to_mathjax_html(key_md)))
        else:
            moodle = str(module.variant(self.title, number, *setup, answers))
        ident = f"em-explainer-{self.seed}-{number}"
        v12 = _module("exam/qti12.xml.j2", problem.decimals)
        qti12 = [(f"{ident}/{ident}.xml", str(v12.assessment(
                     ident, problem.title, *setup, answers)).lstrip()),
                 (f"{ident}/assessment_meta.xml", str(v12.meta(
                     ident, problem.title, len(answers))).lstrip())]
        v21 = _module("exam/qti21.xml.j2", problem.decimals)
        items = [f"{ident}-{i}" for i in range(1, len(answers) + 1)]
        qti21 = [(f"{item}.xml", str(v21.item(item, answer, *setup)).lstrip())
                 for item, answer in zip(items, answers)]
        qti21.append((f"{ident}.xml", str(v21.test(ident, problem.title, items)).lstrip()))
        row = (variant_id(self.seed, number), data, params, variant.answers,
               words_of(problem.family))
        overview = str(_module("exam/overview.md.j2", problem.decimals).row(*row))
        overview_tex = None
        if self.fmt in ("tex", "pdf"):
            overview_tex = str(environment("latex").get_template("exam/batch.tex.j2")
                               .make_module(context).overview_row(*row))
        return _Texts(number, variant.spec, problem.decimals, csv_rows(variant), keys,
                      moodle, qti12, qti21, ident, items, batch, overview, overview_tex)


# Below this many variants they are made in the command's own process: a pool's start
# (its workers import numpy, SymPy and the templates) costs more than it saves.
POOL_FROM = 24
CHUNK = 8  # variants a worker makes at a time


@lru_cache(maxsize=None)
def _module(name: str, decimals: int) -> Any:
    """An export template's macros at *decimals* decimals, made once in a process (their
    macros keep no state between calls; a thousand variants made them anew each)."""
    from ..render.environment import environment

    return environment("markdown").get_template(name).make_module({"decimals": decimals})


def _texts_in_order(writer: _Writer, numbers: range) -> Iterator[_Texts]:
    """The texts of variants *numbers*, in order: made by a pool of worker processes
    (one per core; each variant is drawn from its own random stream, so the texts are
    the same however they are shared out)."""
    if len(numbers) < POOL_FROM or workers.cores() < 2:
        yield from map(writer.texts, numbers)
    else:  # (closing this generator closes the pool's)
        yield from workers.in_pool(writer.texts, numbers, chunksize=CHUNK)


def _pdf_job(job: tuple[dict[str, Any], list[str], str]) -> None:
    """Compile one variant's question and key (in a worker process). Within a job SIGTERM
    unwinds, so that the LaTeX process group it started is killed and its temporary
    folder removed; the worker then ends quietly (the pool is being terminated: a
    worker's uncaught exit would print its traceback)."""
    import os
    import signal

    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        _compile_variant(job)
    except Terminated:
        os._exit(EXIT_TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _compile_variant(job: tuple[dict[str, Any], list[str], str]) -> None:
    from ..render.environment import render_template
    from ..render.output import build_pdf
    from ..render.pdf import compile_tex

    spec, kinds, folder = job
    problem = validate(spec)
    trace = run(problem)
    variant = Variant(0, spec, trace, answers_of(problem, kinds, trace))
    tex = render_template("latex", "exam/question.tex.j2", _question_context(variant))
    Path(folder, "question.pdf").write_bytes(compile_tex(tex).pdf)
    Path(folder, "key.pdf").write_bytes(build_pdf(trace, plots=False).pdf)


class _Zip:
    """A zip archive whose entries carry no time: the same exam, the same bytes."""

    def __init__(self, path: Path):
        import zipfile

        # Level 1: a thousand variants' items are compressed in the command's own
        # process while the workers make the next; the files are a third larger.
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def writestr(self, name: str, text: str) -> None:
        import zipfile

        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        try:
            self.zip.writestr(info, text, compresslevel=1)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Stopped in the middle of an entry (Ctrl-C, SIGTERM): the archive goes with its
        staging folder. Its file is closed now, so that the half-written entry does not
        make the archive complain when the process exits ("Can't close the ZIP file
        while there is an open writing handle")."""
        fp, self.zip.fp = self.zip.fp, None
        if fp is not None:
            fp.close()

    def close(self) -> None:
        self.zip.close()


class _Qti:
    """The QTI packages, written into their zips as the variants come, the manifests at
    the end: ``qti-1.2.zip`` (as Canvas and Blackboard import it: per variant an
    assessment of numerical items, and Canvas's meta beside it) and ``qti-2.1.zip`` (as
    ILIAS, OpenOLAT and Inspera import it: per asked quantity an item, per variant a
    test of its items)."""

    def __init__(self, folder: Path, title: str, seed: int):
        self.v12 = _Zip(folder / "qti-1.2.zip")
        self.v21 = _Zip(folder / "qti-2.1.zip")
        self.title, self.seed = title, seed
        self.variants: list[dict[str, str]] = []
        self.tests: list[dict[str, Any]] = []

    def add(self, texts: _Texts) -> None:
        for name, text in texts.qti12:
            self.v12.writestr(name, text)
        self.variants.append({"ident": texts.qti_ident})
        for name, text in texts.qti21:
            self.v21.writestr(name, text)
        self.tests.append({"ident": texts.qti_ident, "items": texts.qti21_items})

    def finish(self) -> None:
        v12 = _module("exam/qti12.xml.j2", 3)
        self.v12.writestr("imsmanifest.xml", str(v12.manifest(
            f"em-explainer-{self.seed}", self.title, self.variants)).lstrip())
        self.v12.close()
        v21 = _module("exam/qti21.xml.j2", 3)
        self.v21.writestr("imsmanifest.xml", str(v21.manifest(
            f"em-explainer-{self.seed}", self.tests)).lstrip())
        self.v21.close()


class _Batch:
    """The printable batch: every question sheet in ``questions.tex`` and every answer key
    in ``keys.tex``, each variant on pages of its own, written a variant at a time; for
    PDF output compiled at the end into ``questions.pdf`` and ``keys.pdf`` (the sources
    then removed). The head and tail are the first variant's."""

    NAMES = ("questions", "keys", "overview")

    def __init__(self, folder: Path, texts: _Texts, overview_head: str, overview_tail: str):
        assert texts.batch is not None
        self.folder = folder
        self.tail = texts.batch[3]
        self.overview_tail = overview_tail
        self.files = {name: open(folder / f"{name}.tex", "w", encoding="utf-8")
                      for name in self.NAMES}
        for handle in self.files.values():
            handle.write(texts.batch[0])
        self.files["overview"].write(overview_head)

    def add(self, texts: _Texts) -> None:
        """A variant's sheet, key and row of the overview."""
        assert texts.batch is not None and texts.overview_tex is not None
        self.files["questions"].write(texts.batch[1])
        self.files["keys"].write(texts.batch[2])
        self.files["overview"].write(texts.overview_tex)

    def finish(self, compile_pdf: bool, n: int) -> None:
        from ..render.environment import tidy
        from ..render.pdf import compile_tex, latex_timeout

        self.files["overview"].write(self.overview_tail)
        for handle in self.files.values():
            handle.write(self.tail)
            handle.close()
        for name in self.NAMES:
            path = self.folder / f"{name}.tex"
            text = tidy(path.read_text(encoding="utf-8"))
            path.write_text(text, encoding="utf-8")
            if compile_pdf:
                # A batch is many documents long: its time limit grows with it.
                pdf = compile_tex(text, timeout=latex_timeout() * max(1, -(-n // 10)))
                (self.folder / f"{name}.pdf").write_bytes(pdf.pdf)
                path.unlink()


def _check_request(n: int, seed: int, moodle_kind: str, only: int | None) -> None:
    """The batch asked for: its Moodle kind, its number of variants (or one variant's
    number alone) and its seed, each within bounds."""
    if moodle_kind not in defaults.MOODLE_KINDS:
        raise ProblemError("--moodle", f"expected one of {', '.join(defaults.MOODLE_KINDS)}, "
                                       f"but got "
                                       f"{moodle_kind!r}")
    if not 1 <= n <= MAX_VARIANTS:
        raise ProblemError("-n", f"expected 1 to {MAX_VARIANTS:,} variants, but got {n}")
    if only is not None and not (n == 1 and 1 <= only <= MAX_VARIANTS):
        raise ProblemError("--variant", f"expected one variant's number from 1 to "
                                        f"{MAX_VARIANTS:,} alone (no -n), but got {only}")
    if seed < 0:
        raise ProblemError("--seed", f"expected a whole number >= 0, but got {seed}")


def write_exam(template_path: str | Path, n: int, seed: int, out: str | Path,
               fmt: str = "md", progress: Progress | None = None,
               moodle_kind: str = defaults.MOODLE_KINDS[0], only: int | None = None) -> Path:
    """Write *n* variants of the template into the folder *out* (which must not exist or
    be empty): per variant ``problem.yaml``, ``question.FMT`` and ``key.FMT``; for the
    batch ``answers.csv``, ``keys.md``, ``moodle.xml`` (per variant a category with
    one Cloze question, its blanks the asked quantities, or with *moodle_kind*
    ``numerical`` a numerical question per quantity), ``qti-1.2.zip`` and
    ``qti-2.1.zip``, and ``overview.md`` (a row per variant: its ID, data, start and
    answers); with *fmt* ``tex`` or ``pdf`` the printable batch (``questions``,
    ``keys``). With *only*, variant number *only* alone (*n* is then 1), the same as in
    any batch of that seed (its folder named by its own number). Built in a
    temporary folder beside *out* and moved into place at the end, so a failure leaves
    nothing behind."""
    import os

    from ..render.environment import environment
    from ..render.output import mkdir_mode

    template = load_template(template_path)
    _check_request(n, seed, moodle_kind, only)
    numbers = range(1, n + 1) if only is None else range(only, only + 1)
    out = Path(os.path.realpath(out))  # a link to an empty folder: the folder is filled
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProblemError("-o", f"{out} exists and is not an empty folder")
    if not out.resolve().parent.is_dir():
        raise ProblemError("-o", f"folder does not exist: {out.resolve().parent}")
    if fmt == "pdf":
        from ..render.pdf import require_latex

        require_latex()
    kinds = (template.get("exam") or {}).get("ask", list(default_ask(
        (template.get("model") or {}).get("family"))))
    batch = None  # the printable batch's two documents (LaTeX and PDF formats)
    title = (template.get("exam") or {}).get("title") or template.get("title") or "EM by hand"
    jobs = []
    try:
        with staging_folder(f".{out.name}.", out.resolve().parent) as work:
            moodle = _module("exam/moodle.xml.j2", 3)
            qti = _Qti(work, title, seed)
            writer = _Writer(str(work), template, seed, numbers[-1], fmt, moodle_kind, title)
            with closing(_texts_in_order(writer, numbers)) as made, \
                    open(work / "answers.csv", "w", encoding="utf-8", newline="") as answers, \
                    open(work / "keys.md", "w", encoding="utf-8") as keys, \
                    open(work / "overview.md", "w", encoding="utf-8") as overview, \
                    open(work / "moodle.xml", "w", encoding="utf-8") as xml:
                answers.write(CSV_HEADER)
                xml.write(str(moodle.head()).lstrip())
                for texts in made:
                    if texts.number == numbers[0]:
                        keys.write(str(_module("exam/keys.md.j2", texts.decimals)
                                       .head(title, n, texts.decimals, seed)).lstrip())
                        overview.write(str(_module("exam/overview.md.j2", texts.decimals)
                                           .head(title, n, seed)).lstrip())
                    if fmt == "pdf":
                        jobs.append((texts.spec, kinds,
                                     str(work / folder_name(texts.number, numbers[-1]))))
                    if texts.batch is not None:
                        if batch is None:
                            module = environment("latex").get_template(
                                "exam/batch.tex.j2").make_module({"engine": None})
                            batch = _Batch(work, texts, str(module.overview_head(title, n, seed)),
                                           str(module.overview_tail()))
                        batch.add(texts)
                    answers.write(texts.csv)
                    keys.write(texts.keys)
                    overview.write(texts.overview)
                    xml.write(texts.moodle)
                    qti.add(texts)
                    if progress is not None:
                        progress(texts.number - numbers[0] + 1, n)
                xml.write(str(moodle.tail()))
                qti.finish()
            if jobs:
                with closing(workers.in_pool(_pdf_job, jobs)) as compiled:
                    for _ in compiled:
                        pass
            if batch is not None:
                batch.finish(fmt == "pdf", n)
            mkdir_mode(work)  # mkdtemp's 0700 would hide the exam from others
            if out.exists():
                out.rmdir()
            os.replace(work, out)
    except OSError as exc:
        raise SystemRefused("-o", out, exc) from None
    return out
