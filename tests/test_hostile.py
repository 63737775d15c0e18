"""Hostile and huge input through the command line (issue: bounded time, bounded
memory, one clear line, nothing destroyed).

Every case runs ``python -m explainer`` in a subprocess limited to 1 GiB of address
space (RLIMIT_AS) and 30 s, in its own folder with its own TMPDIR, and asserts: the
exit status; on failure exactly one line on standard error, starting ``error:``, with
the expected words and no traceback; the peak resident memory measured by the kernel
(wait4) under 1 GiB; no file left in the folder but the ones expected; nothing left in
TMPDIR; and no process left running in either folder (a stray pdflatex would be).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT
from explainer.errors import ProblemError

LECTURE = EXAMPLES / "lecture" / "lecture.yaml"
EXACT = EXAMPLES / "exact" / "exact.yaml"
EXAM = EXAMPLES / "exam" / "exam.yaml"
SECONDS = 30.0
MEMORY = 1 << 30

needs_latex = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v latexmk && command -v pdflatex"],
                   capture_output=True).returncode != 0, reason="needs latexmk and pdflatex")


@dataclass
class Ran:
    status: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _limit_in_a_group() -> None:
    _limit()
    os.setpgrp()


def run_cli(work: Path, *args: str, env: dict[str, str] | None = None, stdout: object = None,
            signal_after: tuple[float, int] | None = None, to_group: bool = False) -> Ran:
    """The CLI in *work*, limited to :data:`MEMORY` and :data:`SECONDS`; *signal_after*
    (seconds, signal) sends a signal while it runs: to the command's process, or with
    *to_group* to its whole process group (as a terminal's Ctrl-C: its workers too)."""
    tmp = work.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp),
                   "EM_EXPLAINER_CACHE_DIR": "", "OPENBLAS_NUM_THREADS": "1",
                   **(env or {})}
    environment.pop("EM_EXPLAINER_DEBUG", None)
    out = subprocess.PIPE if stdout is None else stdout
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "explainer", *args], cwd=work,
                               env=environment, stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.PIPE,
                               preexec_fn=_limit_in_a_group if to_group else _limit)
    timer = threading.Timer(SECONDS + 30, process.kill)
    timer.start()
    if signal_after is not None:
        send = (lambda sig: os.killpg(process.pid, sig)) if to_group else process.send_signal
        threading.Timer(signal_after[0], send, (signal_after[1],)).start()
    texts: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        texts[name] = stream.read() if stream is not None else b""

    readers = [threading.Thread(target=drain, args=(name, stream)) for name, stream in
               (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    try:
        # wait4: the peak resident memory of this process alone, measured by the kernel.
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - start
    return Ran(process.returncode, texts["out"].decode("utf-8", "replace"),
               texts["err"].decode("utf-8", "replace"), seconds, usage.ru_maxrss * 1024)


def _processes_in(folder: Path) -> list[str]:
    """Processes whose working folder is inside *folder*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ")[1][0]
        except OSError:
            continue
        if state != "Z" and (cwd == str(folder) or cwd.startswith(f"{folder}/")):
            found.append(f"{entry.name}: {command}")
    return found


def check(ran: Ran, work: Path, status: int, words: str = "", left: set[str] = frozenset()):
    """The contract: status, one error line, bounded time and memory, nothing left."""
    assert ran.status == status, (ran.status, ran.stderr[-2000:])
    assert "Traceback" not in ran.stderr, ran.stderr[-2000:]
    assert "Warning" not in ran.stderr, ran.stderr[-2000:]
    if status != 0:
        lines = ran.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr[-2000:]
        assert len(lines[0]) <= 400  # (the whole line, error: included)
        assert words in lines[0], lines[0]
    else:  # nothing, or the one line saying what was written
        lines = ran.stderr.splitlines()
        assert ran.stderr == "" or (len(lines) == 1 and lines[0].startswith("wrote ")), \
            ran.stderr[-2000:]
    assert ran.seconds < SECONDS, ran.seconds
    assert ran.peak_rss < MEMORY, ran.peak_rss
    names = {p.name for p in work.iterdir()}
    assert names - left - _inputs(work) == set(), names
    tmp = work.parent / "tmp"
    assert list(tmp.iterdir()) == []
    for _ in range(20):  # a killed group is gone within moments
        stray = _processes_in(work.parent)
        if not stray:
            break
        time.sleep(0.1)
    assert stray == []


def _inputs(work: Path) -> set[str]:
    return set((work / ".inputs").read_text().split("\n")) if (work / ".inputs").exists() \
        else set()


def setup(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """A work folder holding *files* (recorded as inputs, which may stay)."""
    work = tmp_path / "work"
    work.mkdir()
    for name, content in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (work / ".inputs").write_text("\n".join([*files, ".inputs"]))
    return work


SPEC = """\
data: [1, 2, 5, 8, 9]
components: 2
init: {weights: [0.5, 0.5], means: [2, 8], variances: [2, 2]}
"""

LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(9))


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# (name, files, arguments, status, words in the error line)
CASES = [
    ("billion laughs beside the keys", {"s.yaml": SPEC + LAUGHS},
     ["solve", "s.yaml"], 2, "YAML aliases"),
    ("billion laughs as the title", {"s.yaml": LAUGHS + "title: *l8\n"},
     ["solve", "s.yaml"], 2, "YAML aliases"),
    ("a recursive alias", {"s.yaml": "data: &a [1, *a]\n"}, ["solve", "s.yaml"], 2, "spec:"),
    ("duplicate YAML key", {"s.yaml": SPEC + "data: [3, 4]\n"},
     ["solve", "s.yaml"], 2, "duplicate key 'data'"),
    ("duplicate JSON key", {"s.json": '{"components": 2, "components": 3}'},
     ["solve", "s.json"], 2, "duplicate key 'components'"),
    ("deep JSON", {"s.json": _deep(100_000)}, ["solve", "s.json"], 2, "nested too deeply"),
    ("deep YAML", {"s.yaml": "data: " + _deep(100_000)}, ["solve", "s.yaml"], 2,
     "nested too deeply"),
    ("deep but parseable JSON", {"s.json": '{"data": ' + _deep(200) + "}"},
     ["solve", "s.json"], 2, "nested too deeply"),
    ("5000-digit integer in YAML", {"s.yaml": SPEC.replace("[1, 2,", "[" + "9" * 5000 + ",")},
     ["solve", "s.yaml"], 2, "spec:"),
    ("5000-digit integer in JSON", {"s.json": '{"data": [' + "9" * 5000 + "]}"},
     ["solve", "s.json"], 2, "spec:"),
    ("5000-digit number in CSV", {"d.csv": "x\n1\n" + "9" * 5000 + "\n"},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2, "data_file"),
    ("CSV field over the csv module's limit", {"d.csv": "x\n" + "1" * 200_000 + "\n"},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2, "data_file"),
    # A terminal in another encoding: the byte 0xff reaches Python as a lone surrogate.
    ("a title with a byte that is no UTF-8", {},
     ["solve", str(LECTURE), "--title", "ab\udcffcd", "-o", "x.md"], 2,
     "title: expected text in UTF-8"),
    ("a name with a byte that is no UTF-8", {},
     ["solve", str(LECTURE), "--names", "a\udcff,b", "-o", "x.pdf"], 2,
     "names[1]: expected text in UTF-8"),
    ("CSV of one row of ten million cells", {"d.csv": ",".join(["10"] * 10_000_000) + "\n"},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2,
     "line 1 is longer than the limit"),
    ("CSV of more than a million rows", {"d.csv": "0\n" * 1_000_002},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2,
     "the limit of points"),
    ("8,000,000 points in a JSON spec", {"s.json": '{"components": 1, "data": [' + ",".join(
        ["1"] * 8_000_000) + "]}"}, ["solve", "s.json"], 2, "more than the limit of 1,000,000"),
    ("8,000,000 numbers in rows of a JSON spec", {"s.json": '{"components": 1, "data": [' +
                                                  ",".join(["[" + ",".join(["1"] * 100) + "]"]
                                                           * 80_000) + "]}"},
     ["solve", "s.json"], 2, "8,000,000 numbers are more than the limit of 2,000,000"),
    ("spec from /dev/zero", {}, ["solve", "/dev/zero"], 2, "larger than the limit of 2 MiB"),
    ("data from /dev/zero", {}, ["solve", "--data-file", "/dev/zero", "--k", "1"], 2,
     "larger than the limit of 32 MiB"),
    ("trace from /dev/zero", {}, ["render", "/dev/zero"], 2, "malformed JSON in /dev/zero"),
    ("answers from /dev/zero", {"s.yaml": SPEC}, ["check", "s.yaml", "/dev/zero"], 2,
     "larger than the limit"),
    ("a spec that is a folder", {}, ["solve", "."], 2, "is a folder"),
    ("a billion iterations", {}, ["solve", str(LECTURE), "--iterations", "1000000000"], 2,
     "stop.iterations: expected a whole number from 0 to 10000"),
    ("a million rows per table", {}, ["solve", str(LECTURE), "--max-rows", "1000000"], 2,
     "display.max_rows"),
    ("every iteration in full, for ever", {},
     ["solve", str(LECTURE), "--iterations", "10000", "--detail", "all"], 2,
     "display.detail"),
    ("a rounded carry of too much work", {"d.csv": "x\n" + "".join(f"{i}\n" for i in range(2000))},
     ["solve", "--data-file", "d.csv", "--k", "3", "--init-method", "kmeans", "--carry",
      "rounded", "--iterations", "100"], 2, "display.carry"),
    ("a huge title", {}, ["solve", str(LECTURE), "--title", "x" * 100_000], 2, "title"),
    ("data of 1e14", {}, ["solve", "--data", "1,2,1e14", "--k", "2", "--weights", ".5,.5",
                          "--means", "1,2", "--variances", "1,1"], 2, "data[3]"),
    ("data of 1e308", {}, ["solve", "--data", "1,2,1e308", "--k", "2", "--weights", ".5,.5",
                           "--means", "1,2", "--variances", "1,1"], 2, "data[3]"),
    ("a mean of 1e308", {}, ["solve", "--data", "1,2,3", "--k", "2", "--weights", ".5,.5",
                             "--means", "1,1e308", "--variances", "1,1"], 2, "init.means[2]"),
    ("a variance of 1e-40", {}, ["solve", "--data", "1,2,3", "--k", "2", "--weights", ".5,.5",
                                 "--means", "1,2", "--variances", "1e-40,1"], 2,
     "init.variances[1]"),
    ("1e400 (infinite)", {}, ["solve", "--data", "1,2,1e400", "--k", "1", "--init-method",
                              "kmeans"], 2, "finite"),
    ("exam: 400 decimals", {"t.yaml": EXAM.read_text().replace("decimals: 0}", "decimals: 400}")},
     ["exam", "t.yaml", "-o", "out"], 2, "decimals"),
    ("exam: a billion variants", {}, ["exam", str(EXAM), "-n", "1000000000", "-o", "out"], 2,
     "-n: expected 1 to 10,000"),
    ("exam: a hundred million points", {"t.yaml": EXAM.read_text().replace(
        "count: {range: [5, 6]}", "count: 100000000")}, ["exam", "t.yaml", "-o", "out"], 2,
     "data.count"),
    ("exam: a negative seed", {}, ["exam", str(EXAM), "--seed", "-1", "-o", "out"], 2,
     "--seed"),
    ("exam: allow_tiny a list", {"t.yaml": EXAM.read_text().replace(
        "ask: [r, N, pi, mu]", "ask: [r]\n  allow_tiny: [1]")}, ["exam", "t.yaml", "-o", "out"],
     2, "exam.allow_tiny"),
    ("exam: a title that is a generator", {"t.yaml": EXAM.read_text().replace(
        "title: EM by hand", "title: {range: [1, 2]}")}, ["exam", "t.yaml", "-o", "out"], 2,
     "title: expected text"),
    ("a NUL character in a YAML spec", {"s.yaml": "data: [1, 2]\x00\n"},
     ["solve", "s.yaml"], 2, "malformed YAML"),
    ("a NUL character in a CSV", {"d.csv": "x\n1\n2\x00\n"},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2, "data_file"),
    ("Latin-1 CSV", {"d.csv": "h\u00e9ight\n1\n".encode("latin-1")},
     ["solve", "--data-file", "d.csv", "--k", "1", "--init-method", "kmeans"], 2, "not UTF-8"),
    ("answers: a 5000-digit point", {"s.yaml": SPEC, "a.csv": "r[" + "9" * 5000 + ",1],0.5\n"},
     ["check", "s.yaml", "a.csv"], 2, "unknown quantity"),
    ("-o onto a folder", {}, ["solve", str(LECTURE), "-o", ".", "--format", "md"], 2,
     "it is a folder"),
    ("-o into a missing folder", {}, ["solve", str(LECTURE), "-o", "nope/x.md"], 2,
     "folder does not exist"),
    ("answers: YAML error in one line", {"s.yaml": SPEC, "a.yaml": "r[1,1]: [0.5\n"},
     ["check", "s.yaml", "a.yaml"], 2, "malformed YAML"),
    ("answers: a list where a value goes", {"s.yaml": SPEC, "a.yaml": "r[1,1]: [0.5]\n"},
     ["check", "s.yaml", "a.yaml"], 2, "expected quantity: value"),
]

VALID = [
    ("data of 1e-320 (subnormal)", ["solve", "--data", "1,2,1e-320", "--k", "2", "--weights",
                                    ".5,.5", "--means", "1,2", "--variances", "1,1"]),
    ("data and variances at the limits", ["solve", "--data", "-1e12,1e12,0", "--k", "2",
                                          "--weights", ".5,.5", "--means", "-1e12,1e12",
                                          "--variances", "1e24,1e24", "--iterations", "3",
                                          "--decimals", "12"]),
    ("the same, carried by hand at 12 decimals",
     ["solve", "--data", "-1e12,1e12,0", "--k", "2", "--weights", ".5,.5", "--means",
      "-1e12,1e12", "--variances", "1e24,1e24", "--iterations", "3", "--decimals", "12",
      "--carry", "rounded"]),
    ("the same, exact", ["solve", "--data", "-1e12,1e12,0", "--k", "2", "--weights", ".5,.5",
                         "--means", "-1e12,1e12", "--variances", "1e24,1e24", "--exact"]),
    ("tiny data and variances", ["solve", "--data", "1e-300,2e-300,3e-300", "--k", "2",
                                 "--weights", ".5,.5", "--means", "1e-300,3e-300",
                                 "--variances", "1e-30,1e-30", "--iterations", "3"]),
    ("a variance of 1e-29 in JSON", ["solve", "--data", "1,2,3", "--k", "2", "--weights",
                                     ".5,.5", "--means", "1,2", "--variances", "1e-29,1",
                                     "--format", "json"]),
    ("10,000 iterations (the most)", ["solve", str(LECTURE), "--iterations", "10000"]),
    ("negative numbers without =", ["solve", "--data", "-3,-2.5,-1", "--k", "2", "--weights",
                                    ".5,.5", "--means", "-3,-1", "--variances", "1,1"]),
    ("d = 2 at the limits", ["solve", "--data", "0,0; 1e12,1e12; 5,5", "--k", "2", "--weights",
                             ".5,.5", "--means", "0,0; 1e12,1e12", "--covariances",
                             "1,0; 0,1 | 1e24,0; 0,1e24", "--iterations", "3"]),
]


# Round two (every model's extremes): integers past a double, counts whose factorials
# have millions of digits, control characters, and ``$`` in category names.
_BIG = "1" + "0" * 400
_GIVEN = "init: {weights: [.5, .5], means: [2, 8], variances: [2, 2]}\ndata: [1, 2, 5, 8, 9]\n"
_CATEGORIES = ("data: ['a$x^$', 'price $a_$', 'a$x^$', b]\ncomponents: 2\n"
               "model: {family: categorical}\n"
               "init: {weights: [.5, .5], probs: [[.5, .3, .2], [.2, .3, .5]]}\n")
CASES += [
    # 1 - p of 1 - 1e-16 is 1.1e-16 in a double: no page could write p and 1 - p truly.
    ("p of 1 - 1e-16", {}, ["solve", "--family", "binomial", "--trials", "10", "--data", "5,6",
                            "--k", "2", "--weights", ".5,.5", "--p", "0.3,0.9999999999999999"],
     2, "init.p[2]: expected 1 or a probability at most 1 - 10^-12, but got 0.9999999999999999"),
    *[(f"{key} of 10^400", {"s.yaml": _GIVEN + text.format(_BIG) + "\n"}, ["solve", "s.yaml"],
       2, f"{key}: expected a whole number from")
      for key, text in (("components", "components: {}"), ("seed", "seed: {}"),
                        ("stop.iterations", "stop: {{iterations: {}}}"),
                        ("display.decimals", "display: {{decimals: {}}}"),
                        ("display.max_rows", "display: {{max_rows: {}}}"),
                        ("display.highlight", "display: {{highlight: [{}]}}"),
                        ("display.detail", "display: {{detail: [{}]}}"))],
    ("binomial trials of 10^400", {"s.yaml": "data: [1, 2]\nmodel: {family: binomial, "
                                              f"trials: {_BIG}}}\ninit: {{weights: [.5, .5], "
                                              "p: [.2, .8]}\n"},
     ["solve", "s.yaml"], 2, "model.trials: expected a whole number from 1 to"),
    ("decimals past a double, as written",
     {}, ["solve", "--data", "1,2,3", "--k", "2", "--weights", ".5,.5", "--means", "1,3",
          "--variances", "1,1", "--decimals", "999999999999999999999999"], 2,
     "but got '999999999999999999999999'"),
    ("10^9 trials carried by hand", {}, ["solve", "--family", "binomial", "--trials",
                                         "1000000000", "--data", "5,500000000", "--k", "2",
                                         "--weights", ".5,.5", "--p", ".3,.6", "--carry",
                                         "rounded"], 2,
     "display.carry: a rounded carry computes in exact fractions: powers of up to "
     "1,000,000,000"),
    ("a control character in the title", {"s.yaml": _GIVEN + 'title: "Quiz \\x01"\n'},
     ["solve", "s.yaml"], 2, "title: character 6 is the control character U+0001"),
    ("an escape in a component's name", {}, ["solve", "--data", "1,2,5,8,9", "--k", "2",
                                              "--weights", ".5,.5", "--means", "2,8",
                                              "--variances", "2,2", "--names", "a\x1bb,c"],
     2, "names[1]: character 2 is the control character U+001B"),
    ("U+FFFE in a category", {"s.yaml": _CATEGORIES.replace("b]", '"b\\uFFFE"]')},
     ["solve", "s.yaml"], 2, "data[4]: character 2 is the control character U+FFFE"),
]
VALID_FILES = [
    ("a binomial of 10^9 trials", {}, ["solve", "--family", "binomial", "--trials",
                                       "1000000000", "--data", "5,500000000", "--k", "2",
                                       "--weights", ".5,.5", "--p", ".3,.6"]),
    ("the same, exact", {}, ["solve", "--family", "binomial", "--trials", "1000000000",
                             "--data", "5,500000000", "--k", "2", "--weights", ".5,.5",
                             "--p", ".3,.6", "--exact"]),
    ("a binomial of 10^6 trials as HTML", {}, ["solve", "--family", "binomial", "--trials",
                                               "1000000", "--data", "5,500000", "--k", "2",
                                               "--weights", ".5,.5", "--p", ".3,.6",
                                               "--format", "html", "-o", "out.html"]),
    ("a Poisson count of 10^6 as PDF", {}, ["solve", "--family", "poisson", "--data",
                                            "1000000,3", "--k", "2", "--weights", ".5,.5",
                                            "--rates", "1,1000000", "--format", "pdf",
                                            "-o", "out.pdf"]),
    ("a Poisson count of 10^9, exact", {}, ["solve", "--family", "poisson", "--data",
                                            "1000000000,3", "--k", "2", "--weights", ".5,.5",
                                            "--rates", "1,1000000", "--exact"]),
    ("p of 1e-300 and 1 - 1e-12", {}, ["solve", "--family", "binomial", "--trials", "10",
                                       "--data", "5,6", "--k", "2", "--weights", ".5,.5",
                                       "--p", "1e-300,0.999999999999"]),
    ("$ pairs in category names, figures drawn", {"s.yaml": _CATEGORIES},
     ["solve", "s.yaml", "--format", "pdf", "-o", "out.pdf"]),
    ("a category name too long for the figure's layout, no warning",
     {"s.yaml": _CATEGORIES.replace("b]", "'" + "x" * 450 + "']")},
     ["solve", "s.yaml", "--format", "html", "-o", "out.html"]),
    # (A fresh batch, round two: each wrote a numpy warning on success.)
    ("an exponential component emptied by a rate of 5e-324, no warning", {},
     ["solve", "--family", "exponential", "--data", "0.9,1,2", "--k", "2", "--weights",
      ".5,.5", "--rates", "5e-324,2/3", "--iterations", "1000", "-o", "out.md"]),
    ("exact values in the plane with a point at -10^9, no warning", {"s.json": json.dumps({
        "data": [[0, 1e-9], [-1e9, 5], [1e-9, 1e-9]], "components": 3,
        "init": {"weights": [1 / 3] * 3, "means": [[0, 2], [5, 2], [5, 0]],
                 "covariances": [[[2, 1], [1, 2]]] * 3},
        "display": {"exact": True}})}, ["solve", "s.json", "-o", "out.md"]),
    ("an exponential component emptied in a hand calculation, no warning", {},
     ["solve", "--family", "exponential", "--data", "1,0.5,2", "--k", "2", "--weights",
      ".5,.5", "--rates", "0.5,5e-324", "--carry", "rounded", "--decimals", "2", "-o",
      "out.md"]),
]

CASES += [
    # (A fresh batch, round two: each was an internal fault, exit 1.)
    ("a hand calculation of a point beyond every density", {},
     ["solve", "--family", "exponential", "--data", "1,1e9", "--k", "2", "--weights", ".5,.5",
      "--rates", "1000000,1", "--carry", "rounded", "--decimals", "4", "-o", "x.md"], 2,
     "display.carry: a hand calculation cannot carry point 2: its density under every "
     "component is below 10^-999,999 (exponents down to -1e+15)"),
    ("a hand calculation in the plane of a point beyond every density", {"s.json": json.dumps({
        "data": [[0, 7], [0, 2]], "components": 2, "init": {
            "weights": [0.5, 0.5], "means": [[1e9, -3], [1, 2]],
            "covariances": [[[1e-300, 0], [0, 1]], [[1e-300, 0], [0, 1]]]},
        "model": {"covariance_type": "tied"}, "display": {"carry": "rounded", "decimals": 2}})},
     ["solve", "s.json", "-o", "x.md"], 2, "a hand calculation cannot carry point 1"),
    # (An internal fault: no quantity to ask.)
    ("an exam asking only for an M-step's moves without an M-step", {"e.json": json.dumps({
        "components": 1, "stop": {"iterations": 0}, "exam": {"ask": ["moves"]},
        "model": {"family": "poisson"}, "data": {"count": 5, "range": [0, 10], "decimals": 0},
        "init": {"weights": [1.0], "rates": {"range": [1, 5], "decimals": 0}}})},
     ["exam", "e.json", "-n", "3", "-o", "out"], 2,
     "exam.ask: asks for moves, but the exam has none of them: with stop.iterations 0 there "
     "is no M-step"),
    # (It ran for minutes: a sum of densities of 10^-987,031 as an exact fraction.)
    ("a hand calculation of a point 10^-987,031 from every component", {"s.json": json.dumps({
        "data": [[1e-9, 1], [2, 1e-9], [1e-9, 1], [2, 1], [5, 1], [1e-9, 0]], "components": 3,
        "init": {"weights": [1 / 3] * 3, "means": [[5, 2], [1, 0], [1, 0]],
                 "covariances": [[[1e-300, 0], [0, 1]]] * 3},
        "model": {"covariance_type": "tied"}, "display": {"carry": "rounded", "decimals": 2}})},
     ["solve", "s.json", "-o", "x.md"], 2, "its largest density is about 10^-987,031, below "
                                           "the 10^-10,000 a hand calculation writes"),
]


CASES.append(("10,000 categories", {"s.json": json.dumps({
    "data": ["c1", "c2"], "components": 2,
    "model": {"family": "categorical", "categories": [f"c{i}" for i in range(10_000)]}})},
    ["solve", "s.json"], 2, "expected 2 to 50 category names, but got 10,000"))


def test_a_category_s_specials_are_its_characters_in_html_and_pdf(tmp_path):
    """< > | \\ ^ ~ and a backtick in category names: the HTML's MathML holds them as text
    (each an mtext of the name; they arrived as LaTeX text commands, \\textless{...), and
    the PDF sets them as typed (a backtick was a left quote)."""
    from html.parser import HTMLParser

    names = ["a<b>", "c|d\\e^f~g", "h`i"]
    work = setup(tmp_path, {"s.yaml": json.dumps({
        "data": names + names[:1], "components": 2, "model": {"family": "categorical"},
        "init": {"weights": [0.5, 0.5], "probs": [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]}})})
    check(run_cli(work, "solve", "s.yaml", "--format", "html", "-o", "x.html"), work, 0,
          left={"x.html"})

    class Texts(HTMLParser):
        inside, texts = False, []

        def handle_starttag(self, tag, attrs):
            self.inside = tag == "mtext"

        def handle_endtag(self, tag):
            self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.texts.append(data)

    parser = Texts()
    parser.feed((work / "x.html").read_text())
    assert set(names) <= set(parser.texts)
    assert not any("\\text" in t for t in parser.texts)
    check(run_cli(work, "solve", "s.yaml", "--format", "pdf", "-o", "x.pdf"), work, 0,
          left={"x.html", "x.pdf"})
    text = subprocess.run(["pdftotext", str(work / "x.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert all(name in text for name in names), text[:600]


@pytest.mark.parametrize("name, files, args", VALID_FILES, ids=[c[0] for c in VALID_FILES])
def test_every_model_s_extremes_finish_in_bounds(tmp_path, name, files, args):
    """Counts whose factorials have millions of digits, probabilities at a double's ends,
    mathtext in a category's name: each finishes within the time and memory bounds with
    exit 0 (they hung for minutes, or were internal faults)."""
    work = setup(tmp_path, files)
    out = next((a for a in args if a.startswith("out.")), None)
    check(run_cli(work, *args), work, 0, left={out} if out else set())


@pytest.mark.parametrize("name, files, args, status, words", CASES,
                         ids=[case[0] for case in CASES])
def test_hostile_input_is_one_clear_line(tmp_path, name, files, args, status, words):
    work = setup(tmp_path, files)
    check(run_cli(work, *args), work, status, words)


@pytest.mark.parametrize("name, args", VALID, ids=[case[0] for case in VALID])
def test_valid_numbers_never_crash(tmp_path, name, args):
    work = setup(tmp_path, {})
    ran = run_cli(work, *args)
    check(ran, work, 0)
    assert "NaN" not in ran.stdout and "nan" not in ran.stdout.lower().split()


def test_fifty_dimensions_from_ten_points(tmp_path):
    """d = 50, N = 10, a kmeans start: every covariance is singular and floored."""
    import random

    rng = random.Random(1)
    header = ",".join(f"c{i}" for i in range(50))
    rows = "\n".join(",".join(f"{rng.gauss(0, 1):.3f}" for _ in range(50)) for _ in range(10))
    work = setup(tmp_path, {"d.csv": f"{header}\n{rows}\n"})
    for fmt in ("md", "json"):
        ran = run_cli(work, "solve", "--data-file", "d.csv", "--columns", header, "--k", "2",
                      "--init-method", "kmeans", "--iterations", "3", "--format", fmt)
        check(ran, work, 0)


def test_a_long_run_shows_its_progress_on_a_terminal(tmp_path):
    """On a terminal, a long run prints a progress line (at most ten a second), ending
    with the last iteration; the document is written as usual."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "explainer", "solve", str(LECTURE),
                                "--iterations", "5000", "-o", str(tmp_path / "x.md")],
                               stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait() == 0
    lines = seen.decode().replace("\r\n", "\n").split("\r")
    written = f"wrote {tmp_path / 'x.md'}\n"
    assert lines[-1] == "iteration 5000/5000\n" + written and 1 <= len(lines) < 200
    assert (tmp_path / "x.md").exists()


def test_a_million_rows_of_ten_columns_read_in_bounded_memory(tmp_path):
    """Only the chosen columns are kept while the rows are read."""
    header = ",".join(f"c{i}" for i in range(10))
    work = setup(tmp_path, {"d.csv": header + "\n" + (",".join(["10"] * 10) + "\n") * 400_000})
    ran = run_cli(work, "solve", "--data-file", "d.csv", "--columns", "c0,c1", "--k", "1",
                  "--init-method", "kmeans")
    check(ran, work, 0)
    assert ran.peak_rss < 400 << 20


def test_figures_of_many_points_are_quick(tmp_path):
    """100,000 points with figures: the responsibilities as stacked areas (100,000 bars
    took minutes and 2 GiB), in bounded time and memory."""
    work = setup(tmp_path, {"d.csv": "x\n" + "".join(f"{(i * 7919) % 1000 / 10}\n"
                                                     for i in range(100_000))})
    ran = run_cli(work, "solve", "--data-file", "d.csv", "--k", "2", "--init-method",
                  "random_points", "--iterations", "3", "-o", "x.md", "--plots")
    check(ran, work, 0, left={"x.md", "x_files"})
    assert sorted(p.name for p in (work / "x_files").iterdir()) == [
        "fit.png", "loglik.png", "resp.png"]


def test_many_points_in_full_is_refused_early(tmp_path):
    """100,000 points with every one of 30 iterations in full: refused before the run,
    since the per-point values kept would pass 5,000,000 (the engine's own check, at the
    26th iteration, is for runs that tol may end early); and a table of 1,000 rows in
    full 30 times: refused for the work of its written-out sums."""
    work = setup(tmp_path, {"d.csv": "x\n" + "".join(f"{i % 997}.5\n" for i in range(100_000)),
                            "e.csv": "x\n" + "".join(f"{i % 97}.5\n" for i in range(1_000))})
    ran = run_cli(work, "solve", "--data-file", "d.csv", "--k", "2", "--init-method", "kmeans",
                  "--iterations", "30", "--detail", "all", "--max-rows", "100")
    check(ran, work, 2, "display.detail: 30 iterations in full with 100,000 points")
    ran = run_cli(work, "solve", "--data-file", "e.csv", "--k", "2", "--init-method", "kmeans",
                  "--iterations", "30", "--detail", "all", "--max-rows", "1000")
    check(ran, work, 2, "display.detail: 30 iterations in full with 2 components and tables "
                        "of 1000 rows ask for more written-out sums")
    # With a tolerance the run may end early: the engine checks as it goes.
    ran = run_cli(work, "solve", "--data-file", "d.csv", "--k", "2", "--init-method", "kmeans",
                  "--iterations", "30", "--detail", "all", "--max-rows", "100", "--tol", "0")
    check(ran, work, 2, "display.detail: 26 iterations in full with 100,000 points")


# --------------------------------------------------------------------------- outputs

def test_a_device_is_written_in_place_never_replaced(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    work = setup(tmp_path, {})
    os.mknod(work / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(work / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    check(run_cli(work, "solve", str(LECTURE), "-o", "null", "--format", "json"), work, 0,
          left={"null", "full"})
    assert stat.S_ISCHR(os.stat(work / "null").st_mode)
    check(run_cli(work, "solve", str(LECTURE), "-o", "full", "--format", "json"), work, 3,
          "-o: cannot write full: No space left on device", left={"null", "full"})
    assert stat.S_ISCHR(os.stat(work / "full").st_mode)
    check(run_cli(work, "solve", str(LECTURE), "-o", "null", "--format", "md", "--plots"),
          work, 2, "--plots", left={"null", "full"})


def test_stdout_on_a_full_disk_is_one_line_exit_3(tmp_path):
    work = setup(tmp_path, {})
    with open("/dev/full", "wb") as full:
        ran = run_cli(work, "solve", str(LECTURE), stdout=full)
    check(ran, work, 3, "stdout: cannot write standard output: No space left on device")


def test_a_fifo_without_reader_is_refused_and_kept(tmp_path):
    work = setup(tmp_path, {})
    os.mkfifo(work / "pipe")
    check(run_cli(work, "solve", str(LECTURE), "-o", "pipe", "--format", "md"), work, 2,
          "no program reads from this pipe", left={"pipe"})
    assert stat.S_ISFIFO(os.stat(work / "pipe").st_mode)


def test_a_named_pipe_without_writer_as_input_is_refused(tmp_path):
    """A FIFO given as SPEC with nothing written to it: refused after the wait, in one
    line (opening it blocked for ever); one with a writer is read as a file."""
    work = setup(tmp_path, {})
    os.mkfifo(work / "spec.yaml")
    ran = run_cli(work, "solve", "spec.yaml")
    check(ran, work, 2, "spec: spec.yaml is a named pipe that nothing was written to within "
                        "10 s", left={"spec.yaml"})
    assert 10 <= ran.seconds < 15
    writer = threading.Thread(target=lambda: (work / "spec.yaml").write_text(
        LECTURE.read_text()))
    writer.start()
    ran = run_cli(work, "solve", "spec.yaml")
    writer.join()
    check(ran, work, 0, left={"spec.yaml"})
    assert ran.stdout.startswith("# Two clusters on a line")


def test_a_full_tmpdir_during_a_pdf_build_is_exit_3(tmp_path, monkeypatch, capsys):
    """LaTeX failing because the system refused its writes (a full TMPDIR: "fwrite()
    failed") is the system's refusal, exit 3 naming the folder, not a LaTeX error (a
    full tmpfs is simulated where LaTeX runs: mounting one needs privileges)."""
    import subprocess

    import explainer.render.pdf as pdf

    def full(command, folder, env, timeout):
        raise subprocess.CalledProcessError(1, command, b"!pdfTeX error: pdflatex: fwrite() "
                                                        b"failed\n")

    monkeypatch.setattr(pdf, "_run_latex", full)
    _refused_in_process(tmp_path, capsys, "x.pdf", "pdf")


def _refused_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str,
                        field: str) -> None:
    """``solve`` of the lecture to *output*, in this process, where the system refuses a
    write: exit 3, one line naming *field* and the full disk, nothing left."""
    from explainer.cli import main

    assert main(["solve", str(LECTURE), "-o", str(tmp_path / output)]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}: cannot write ") and err.endswith(
        ": No space left on device\n") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_full_tmpdir_while_figures_are_drawn_is_exit_3(tmp_path, monkeypatch, capsys):
    """A figure that cannot be saved in the temporary folder (full, read-only) is the
    system's refusal, exit 3 naming the file (it was an internal fault); nothing left."""
    import errno

    from matplotlib.figure import Figure

    def full(self, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    _refused_in_process(tmp_path, capsys, "x.html", "figures")


def test_a_symlink_is_written_through(tmp_path):
    work = setup(tmp_path, {"real.md": "old\n"})
    os.chmod(work / "real.md", 0o640)
    (work / "link.md").symlink_to("real.md")
    check(run_cli(work, "solve", str(LECTURE), "-o", "link.md"), work, 0, left={"link.md"})
    assert (work / "link.md").is_symlink()
    assert (work / "real.md").read_text() == (EXAMPLES / "lecture" / "lecture.md").read_text()
    assert stat.S_IMODE(os.stat(work / "real.md").st_mode) == 0o640


def test_new_files_honour_the_umask(tmp_path):
    work = setup(tmp_path, {})
    old = os.umask(0o022)
    try:
        check(run_cli(work, "solve", str(LECTURE), "-o", "x.md", "--plots"), work, 0,
              left={"x.md", "x_files"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(work / "x.md").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(work / "x_files").st_mode) == 0o755


def test_the_system_refusing_a_write_is_exit_3(tmp_path, monkeypatch, capsys):
    """A read-only folder (root ignores permissions, so the refusal is simulated where
    the write happens)."""
    import tempfile

    from explainer.cli import main

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(["solve", str(LECTURE), "-o", str(tmp_path / "x.md")]) == 3
    err = capsys.readouterr().err
    assert err == f"error: -o: cannot write {tmp_path / 'x.md'}: Permission denied\n"
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_mid_write_leaves_nothing(tmp_path, monkeypatch, capsys):
    import explainer.render.output as output
    from explainer.cli import main

    real = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(28, "No space left on device")

        def fileno(self):
            return self.handle.fileno()

    monkeypatch.setattr(output.os, "fdopen", lambda fd, mode: Full(real(fd, mode)))
    assert main(["solve", str(LECTURE), "-o", str(tmp_path / "x.md")]) == 3
    assert capsys.readouterr().err.endswith(": No space left on device\n")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- processes

LOOP = "\\documentclass{article}\\begin{document}\\def\\x{\\x}\\x\\end{document}\n"


@needs_latex
def test_a_looping_latex_is_killed_with_its_group(tmp_path):
    work = setup(tmp_path, {"t/latex/document.tex.j2": ""})
    (work / "t" / "latex" / "document.tex.j2").write_text(LOOP)
    ran = run_cli(work, "solve", str(LECTURE), "-o", "x.pdf", "--templates", "t",
                  env={"EM_EXPLAINER_LATEX_TIMEOUT": "3"})
    check(ran, work, 2, "pdf: LaTeX did not finish within 3 s", left={"t"})


@needs_latex
def test_a_latex_error_leaves_nothing(tmp_path):
    work = setup(tmp_path, {"t/latex/document.tex.j2": ""})
    (work / "t" / "latex" / "document.tex.j2").write_text(
        "\\documentclass{article}\\begin{document}\\nosuchcommand\\end{document}\n")
    ran = run_cli(work, "solve", str(LECTURE), "-o", "x.pdf", "--templates", "t")
    check(ran, work, 2, "pdf: LaTeX failed: ./solution.tex:1: Undefined control sequence",
          left={"t"})


@needs_latex
@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                         (signal.SIGHUP, 143)])
def test_a_signal_during_a_pdf_build_leaves_nothing(tmp_path, sig, status):
    work = setup(tmp_path, {"t/latex/document.tex.j2": ""})
    (work / "t" / "latex" / "document.tex.j2").write_text(LOOP)
    ran = run_cli(work, "solve", str(LECTURE), "-o", "x.pdf", "--templates", "t",
                  signal_after=(4.0, sig))
    check(ran, work, status, "terminated" if status == 143 else "interrupted", left={"t"})


@needs_latex
def test_a_signal_during_an_exam_leaves_no_staging_folder(tmp_path):
    work = setup(tmp_path, {})
    ran = run_cli(work, "exam", str(EXAM), "-n", "200", "--format", "pdf", "-o", "out",
                  signal_after=(6.0, signal.SIGTERM))
    check(ran, work, 143, "terminated")


def test_an_exam_in_markdown_stopped_leaves_no_staging_folder(tmp_path):
    work = setup(tmp_path, {})
    ran = run_cli(work, "exam", str(EXAM), "-n", "5000", "-o", "out",
                  signal_after=(3.0, signal.SIGTERM))
    check(ran, work, 143, "terminated")


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_exam_stopped_with_its_workers_says_one_line(tmp_path, sig, status):
    """Ctrl-C reaches the pool's workers too (the whole process group): one line, no
    worker's traceback, no worker left, nothing written."""
    work = setup(tmp_path, {})
    ran = run_cli(work, "exam", str(EXAM), "-n", "5000", "-o", "out",
                  signal_after=(3.0, sig), to_group=True)
    check(ran, work, status, "terminated" if status == 143 else "interrupted")


@needs_latex
def test_an_exam_stopped_while_its_pdfs_compile_says_one_line(tmp_path):
    """SIGTERM to the process group while the workers run LaTeX: their LaTeX groups are
    killed and they end without a traceback."""
    work = setup(tmp_path, {})
    ran = run_cli(work, "exam", str(EXAM), "-n", "60", "--format", "pdf", "-o", "out",
                  signal_after=(4.0, signal.SIGTERM), to_group=True)
    check(ran, work, 143, "terminated")


# --------------------------------------------------------------------------- templates

TEMPLATE_ATTACKS = [
    ("a string of 10^10 characters", "{{ 'x' * 10**10 }}", "a repeated string or list"),
    ("a list of 10^9 items", "{{ ([0] * 10**9)|length }}", "a repeated string or list"),
    ("a huge power", "{{ 7 ** 1000000000 }}", "a power"),
    ("a format width of 10^9", "{{ '%1000000000d' % 1 }}", "a formatted string"),
    ("str.format width", "{{ '{:>1000000000}'.format(1) }}", "a formatted string"),
    ("center(10^9)", "{{ 'x'|center(10**9) }}", "center"),
    ("doubling by ~", "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                      "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
     "more than 512 MiB"),
    ("nested ranges", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                      "{% endfor %}", "the render took more than 3 s"),
    ("a document of 100 GB", "{% for i in range(100000) %}{{ 'y' * 1000000 }}{% endfor %}",
     "would exceed 64 MiB"),
    ("an undefined name", "{{ nope }}", "document.md.j2:1: UndefinedError"),
    ("a division by zero", "\n{{ 1 / 0 }}", "document.md.j2:2: ZeroDivisionError"),
    ("Python's internals", "{{ ''.__class__.__mro__ }}", "not allowed in a template"),
]


@pytest.mark.parametrize("name, source, words", TEMPLATE_ATTACKS,
                         ids=[case[0] for case in TEMPLATE_ATTACKS])
def test_a_user_template_is_bounded(tmp_path, name, source, words):
    work = setup(tmp_path, {})
    (work / "t" / "markdown").mkdir(parents=True)
    (work / "t" / "markdown" / "document.md.j2").write_text(source)
    ran = run_cli(work, "solve", str(LECTURE), "--templates", "t", "-o", "x.md",
                  env={"EM_EXPLAINER_RENDER_TIMEOUT": "3"})
    check(ran, work, 2, f"templates: {words}" if words.startswith("document") else words,
          left={"t"})


def test_no_cached_code_bypasses_the_bounds(tmp_path):
    """Code compiled by a sandbox without the bounds (an older version, the same cache
    folder) is never loaded; and the bounds hold when the code comes from the cache."""
    import jinja2
    from jinja2.bccache import FileSystemBytecodeCache
    from jinja2.sandbox import SandboxedEnvironment

    work = setup(tmp_path, {})
    folder = work / "t" / "markdown"
    folder.mkdir(parents=True)
    # (not 'x' * 10**10: a sandbox without the bounds folds constants when it compiles)
    (folder / "document.md.j2").write_text("{% set n = 10**10 %}{{ 'x' * n }}")
    cache = tmp_path / "cache"
    cache.mkdir()
    old = SandboxedEnvironment(loader=jinja2.FileSystemLoader(str(work / "t")),
                               bytecode_cache=FileSystemBytecodeCache(
                                   str(cache), pattern="__jinja2_markdown_%s.cache"))
    old.get_template("markdown/document.md.j2")
    assert len(list(cache.iterdir())) == 1
    for _ in range(2):  # compiled, then loaded from the cache
        ran = run_cli(work, "solve", str(LECTURE), "--templates", "t", "-o", "x.md",
                      env={"EM_EXPLAINER_CACHE_DIR": str(cache)})
        check(ran, work, 2, "a repeated string or list", left={"t"})


# --------------------------------------------------------------------------- traces

def _traces() -> dict[str, dict]:
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render.json import render_json

    specs = {"plain": LECTURE, "exact": EXACT, "two_d": EXAMPLES / "two-d" / "two-d.yaml",
             "hand": EXAMPLES / "hand" / "hand.yaml", "coins": EXAMPLES / "coins" / "coins.yaml",
             "hand_2d": EXAMPLES / "hand-2d" / "hand-2d.yaml"}
    return {name: json.loads(render_json(run(load_problem(spec))))
            for name, spec in specs.items()}


def _tampered(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """Each case: the tampered trace, and the start of the error (the JSON path of the
    first fault, entries counted from 1, and what is wrong there)."""
    traces = _traces()
    plain, exact, two_d, hand = (traces[name] for name in ("plain", "exact", "two_d", "hand"))

    def change(base, edit):
        data = json.loads(json.dumps(base))
        edit(data)
        return json.dumps(data).replace('"NaN"', "NaN")

    first = "iterations"
    cases = {
        "shape": (change(plain, lambda d: d[first][0].__setitem__("means", [1.0])),
                  "iterations[1].means: expected shape (2,), but got (1,)"),
        "nan": (change(plain, lambda d: d[first][0]["weights"].__setitem__(0, "NaN")),
                "malformed JSON in t.json"),  # (NaN is no JSON)
        "infinite": (change(plain, lambda d: d[first][0].__setitem__(
            "log_likelihood", 123456.789)).replace("123456.789", "1e400"),
            "malformed JSON in t.json: parse error: numeric (floating point) overflow"),
        "exp": (change(exact, lambda d: d[first][0]["exact"]["means"].__setitem__(
            0, "exp(10000000000)")), "iterations[1].exact.means[1]: the exact value is not"),
        "tower": (change(exact, lambda d: d[first][0]["exact"]["means"].__setitem__(
            0, "exp(exp(exp(100)))")), "iterations[1].exact.means[1]: the exact value is not"),
        "exact N_k": (change(exact, lambda d: d[first][0]["exact"]["N_k"].__setitem__(0, "7/2")),
                      "iterations[1].exact.N_k[1]: the exact value is not"),
        "row": (change(plain, lambda d: d[first][0]["responsibilities"][0].__setitem__(0, 0.3)),
                "iterations[1].responsibilities[1]: a row sums to"),
        "covariance": (change(two_d, lambda d: d[first][0]["covariances"].__setitem__(
            0, [[1, 2, 3]])), "iterations[1].covariances: expected shape (2, 2, 2), but its "
                              "lists differ in length"),
        "index": (change(plain, lambda d: d[first][0].__setitem__("index", 7)),
                  "iterations[1].index: expected 1, but got 7"),
        "strings": (change(plain, lambda d: d[first][0].__setitem__("means", ["a", "b"])),
                    "iterations[1].means[1]: expected a number or a list, but got 'a'"),
        "mapping": (change(plain, lambda d: d[first][0].__setitem__("means", {"a": 1})),
                    "iterations[1].means: expected a number or a list, but got a mapping"),
        "problem": (change(plain, lambda d: d.__setitem__("problem", 5)),
                    "the problem it holds: spec: expected a mapping"),
        "more iterations": (change(plain, lambda d: d[first].append(d[first][0])),
                            "iterations: 2 iterations, but the problem runs at most 1"),
        "negative weight": (change(plain, lambda d: d[first][0].__setitem__("weights",
                                                                            [-0.5, 1.5])),
                            "iterations[1].weights: expected weights from 0 to 1"),
        "N_k": (change(plain, lambda d: d[first][0]["N_k"].__setitem__(0, 4.0)),
                "iterations[1].N_k[1]: does not follow from the values it is computed from"),
        "mean": (change(plain, lambda d: d[first][0]["means"].__setitem__(0, 2.2)),
                 "iterations[1].means[1]: does not follow from the values it is computed"),
        "sum": (change(two_d, lambda d: d[first][0]["sum_rx"][0].__setitem__(0, 1e3)),
                "iterations[1].sum_rx[1][1]: does not follow"),
        # (Round two: each rendered false lines, or named no field.)
        "start weights summing to 1.8": (change(plain, lambda d: d["start"].__setitem__(
            "weights", [0.9, 0.9])), "start.weights: the weights sum to 1.8, not 1"),
        "a non-symmetric start covariance": (change(two_d, lambda d: d["start"][
            "covariances"].__setitem__(0, [[1, 2], [0, 1]])), "start.covariances"),
        "no iterations of the one stop.iterations asks": (change(
            plain, lambda d: d.__setitem__(first, [])),
            "iterations: 0 iterations, but the run stopped at stop.iterations, 1"),
        "a final E-step of other parameters": (change(plain, lambda d: d["final"][
            "means"].__setitem__(0, 2.5)), "final.means: expected the parameters the run"),
        "no start": (change(plain, lambda d: d.pop("start")), "start: missing"),
        "a start mean moved, the run after it left as it was": (change(
            plain, lambda d: d["start"]["means"].__setitem__(0, -46)),
            "start.means[1]: does not follow from the values before it (redone: 2)"),
        "a rounded responsibility of 10^300": (change(hand, lambda d: d[first][1][
            "responsibilities"][0].__setitem__(0, 1e300)),
            "iterations[2].responsibilities[1][1]: does not follow from the values before it"),
        "a hand calculation's p(x_n) of 0": (change(hand, lambda d: d[first][1][
            "log_mixture"].__setitem__(4, None)),
            "iterations[2].log_mixture[5]: does not follow from the values before it"),
        "a short row of responsibilities": (change(plain, lambda d: d[first][0][
            "responsibilities"][4].pop()),
            "iterations[1].responsibilities: expected shape (5, 2), but its lists differ"),
        "an empty row of logs": (change(plain, lambda d: d[first][0]["log_weighted"].__setitem__(
            1, [])), "iterations[1].log_weighted: expected shape (5, 2), but its lists"),
        "responsibilities without their logs": (change(plain, lambda d: d["final"].pop(
            "log_weighted")), "final.log_weighted: missing (the responsibilities are given)"),
        "an empty schema": (change(plain, lambda d: d.__setitem__("schema", [])),
                            "schema: expected an em-explainer trace (em-explainer/trace@1), "
                            "but got an empty list"),
        "no parameters updated": (change(plain, lambda d: d[first][0].__setitem__(
            "updated", [])), "iterations[1].updated: expected ['weights', 'means'], the "
                             "parameters the problem updates"),
        "another start method": (change(plain, lambda d: d["start"].__setitem__(
            "method", "kmeans")), "start.method: expected 'given'"),
        "an index of 10^300": (change(plain, lambda d: d[first][0].__setitem__(
            "index", 10 ** 300)), "malformed JSON in t.json: parse error: integer overflow"),
        "an index of 10^18": (change(plain, lambda d: d[first][0].__setitem__(
            "index", 10 ** 18)), "iterations[1].index: expected 1, but got "
                                 "1000000000000000000;"),
        "more exact iterations than iterations": (change(exact, lambda d: d["exact"].__setitem__(
            "iterations", 5)), "exact.iterations: 5 exact iterations, but the trace has 1"),
        "a text where an exact value is": (change(exact, lambda d: d[first][0]["exact"][
            "responsibilities"][0].__setitem__(0, "x")),
            "iterations[1].exact.responsibilities[1][1]: not an exact value"),
    }
    return cases


@pytest.mark.parametrize("method", ["kmeans", "random_points", "random_responsibilities"])
def test_a_hand_calculation_s_computed_start_renders_again(tmp_path, method):
    """A rounded carry's start found by an init method is computed and written to the
    decimals (three weights of 1/3 at one decimal: 0.3, summing to 0.9): its trace is
    whole, and render reads it (the weights' sum is checked where they are given)."""
    work = setup(tmp_path, {})
    check(run_cli(work, "solve", "--data", "1,2,5,8,9,3,7", "--k", "3", "--init-method",
                  method, "--seed", "3", "--carry", "rounded", "--decimals", "1",
                  "--format", "json", "-o", "t.json"), work, 0, left={"t.json"})
    check(run_cli(work, "render", "t.json", "-o", "t.md"), work, 0, left={"t.json", "t.md"})


def test_a_hand_calculation_stopped_by_tol_renders_again(tmp_path):
    """A hand calculation stopped by stop.tol: its companion at full precision runs as
    many iterations, whatever its own gains (render's redone stop rule is the trace's
    own run's; it refused this trace)."""
    work = setup(tmp_path, {})
    check(run_cli(work, "solve", str(EXAMPLES / "hand" / "hand.yaml"), "--iterations", "5",
                  "--tol", "100", "--format", "json", "-o", "t.json"), work, 0, left={"t.json"})
    check(run_cli(work, "render", "t.json", "-o", "t.md"), work, 0, left={"t.json", "t.md"})


def test_a_tampered_trace_is_refused(tmp_path):
    """Each tampered trace is one line naming the JSON path of its first fault (the
    process's contract: status 2, bounded, nothing left behind)."""
    for name, (text, words) in _tampered(tmp_path).items():
        work = tmp_path / name.replace(" ", "-").replace("'", "").replace("^", "")
        work.mkdir()
        (work / "t.json").write_text(text)
        (work / ".inputs").write_text("t.json\n.inputs")
        ran = run_cli(work, "render", "t.json", "-o", "x.md")
        check(ran, work, 2, words)


def _numbers(node, path=()):
    """Every number of a trace document but its problem's, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if path or key != "problem":
                yield from _numbers(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, path + (i,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def test_every_number_of_a_trace_changed_is_refused():
    """A number changed anywhere in a trace (a parameter, a log, a responsibility of
    10^-12, a sum, a log-likelihood, an event's value, a count) by 1 % (a whole number by
    1) is refused: each step is redone from the values before it, so no page prints a
    line its numbers do not give. 120 numbers of each of six traces (1-D, d = 2, a hand
    calculation in both, exact, a family), drawn with a fixed seed."""
    from explainer.render.json_reader import trace_from_json

    rng = np.random.default_rng(31)
    for name, base in _traces().items():
        numbers = list(_numbers(base))
        for i in rng.choice(len(numbers), size=min(120, len(numbers)), replace=False):
            path, value = numbers[i]
            data = json.loads(json.dumps(base))
            node = data
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = (value * 1.01 if value else 0.001) if isinstance(value, float) \
                else value + 1
            with pytest.raises(ProblemError, match=r"^(trace: .*; the file was changed or "
                                                   r"damaged|schema: )"):
                trace_from_json(json.dumps(data))
                pytest.fail(f"{name}: {path} changed from {value} was accepted")


def test_a_trace_at_its_limits_is_read_in_bounded_memory(tmp_path):
    """A trace file is read as a stream: 3,000,000 rows of four numbers become one array
    (read within 1 GiB, then refused as no trace); 3,000,000 lists that are not rows of
    numbers (each a Python list) are refused as they come; so is an endless file from a
    pipe, at the size limit."""
    from explainer.render.json_reader import STREAM_OBJECTS

    head = '{"schema": "em-explainer/trace@1", "x": ['
    work = setup(tmp_path, {"t.json": head + ",".join(["[0.5,0.5,0.5,0.5]"] * 3_000_000)
                            + "]}"})
    check(run_cli(work, "render", "t.json"), work, 2, "trace: problem: missing")
    (work / "t.json").write_text(head + ",".join(['["a"]'] * (STREAM_OBJECTS + 1)) + "]}")
    check(run_cli(work, "render", "t.json"), work, 2, "too large to read")


def test_a_trace_file_is_checked_as_it_is_read(tmp_path, monkeypatch):
    """Numbers beyond the limit, nesting beyond the limit, a duplicate key and a pipe
    beyond the size limit are clear errors; a byte-order mark is read past."""
    from explainer.render import json_reader as stream

    path = tmp_path / "t.json"
    monkeypatch.setattr(stream, "STREAM_VALUES", 1000)
    path.write_text("[" + ",".join(["1.5"] * 1001) + "]")
    with pytest.raises(ProblemError, match="too large to read in .*: more than 1,000 values"):
        stream.read_trace_document(path)
    path.write_text("[" * 100 + "]" * 100)
    with pytest.raises(ProblemError, match="nested too deeply"):
        stream.read_trace_document(path)
    path.write_text('{"a": 1, "a": 2}')
    with pytest.raises(ProblemError, match="duplicate key 'a'"):
        stream.read_trace_document(path)
    path.write_bytes(b'\xef\xbb\xbf{"a": [[1.5, -2.5], [null, 4.0]], "b": [1, "c"]}')
    document = stream.read_trace_document(path)
    assert document["a"].tolist() == [[1.5, -2.5], [-np.inf, 4.0]] and document["b"] == [1, "c"]
    from explainer.inputs import FILE_LIMITS

    monkeypatch.setitem(FILE_LIMITS, "trace", 1000)
    reader, writer = os.pipe()
    os.write(writer, b"[" + b"1.5," * 400)
    os.close(writer)
    with pytest.raises(ProblemError, match="larger than the limit of 1000 bytes"):
        stream.read_trace_document(f"/dev/fd/{reader}")
    os.close(reader)


def test_a_large_trace_renders_from_its_file_as_solve_writes_it(tmp_path):
    """render reads a JSON trace of 20,000 points (its per-point numbers as arrays) and
    writes the Markdown solve writes."""
    rng = np.random.default_rng(3)
    data = np.concatenate([rng.normal(0, 1, 10_000), rng.normal(6, 1, 10_000)])
    work = setup(tmp_path, {"d.csv": "x\n" + "".join(f"{v:.4f}\n" for v in data)})
    args = ["solve", "--data-file", "d.csv", "--k", "2", "--weights", "0.5,0.5", "--means",
            "1,5", "--variances", "1,1", "--iterations", "5", "--detail", "1", "-q"]
    check(run_cli(work, *args, "-o", "a.json"), work, 0, left={"a.json"})
    check(run_cli(work, *args, "-o", "a.md"), work, 0, left={"a.json", "a.md", "a-figures"})
    check(run_cli(work, "render", "a.json", "-o", "b.md"), work, 0,
          left={"a.json", "a.md", "a-figures", "b.md", "b-figures"})
    assert (work / "b.md").read_text() == (work / "a.md").read_text().replace(
        "a-figures", "b-figures")


def test_every_example_trace_passes_the_check(tmp_path):
    """Every example's trace, read from its text and from its file as a stream (matrices
    of rows, a d = 2 run's covariances, exact texts, a family's names), is the trace."""
    from explainer.engine import run
    from explainer.validation import load_problem
    from explainer.render.json import render_json
    from explainer.render.json_reader import trace_from_file, trace_from_json
    from explainer.render.markdown import render_markdown

    for spec in sorted(EXAMPLES.glob("*/*.yaml")):
        if spec.parent.name == "exam":
            continue
        trace = run(load_problem(spec))
        text = render_json(trace)
        assert render_json(trace_from_json(text)) == text
        (tmp_path / "t.json").write_text(text)
        streamed = trace_from_file(tmp_path / "t.json")
        assert render_json(streamed) == text, spec
        assert render_markdown(streamed) == render_markdown(trace), spec


# --------------------------------------------------------------------------- check

def test_check_reports_a_duplicate_on_line_5_at_once(tmp_path):
    rows = "quantity,value\n" + "".join(f"r[{n},1],0.5\n" for n in (1, 2, 3, 1)) + \
        "r[1,2],0.5\n" * 100_000
    work = setup(tmp_path, {"s.yaml": SPEC, "a.csv": rows})
    ran = run_cli(work, "check", "s.yaml", "a.csv")
    check(ran, work, 2, "answers (line 5): 'r[1,1]' is answered twice")


def test_check_of_a_late_iteration_runs_only_that_far(tmp_path):
    """A problem of 10,000 iterations, an answer about iteration 3,000: graded (no
    recursion 3,000 deep); one that needs too long a hand calculation is refused."""
    spec = SPEC + "stop: {iterations: 10000}\n"
    work = setup(tmp_path, {"s.yaml": spec, "a.csv": "it3000.mu[1],1.5\n",
                            "b.csv": "it10000.mu[1],1.5\n",
                            "t.yaml": spec.replace("[1, 2, 5, 8, 9]", str(list(range(20))))})
    ran = run_cli(work, "check", "s.yaml", "a.csv")
    check(ran, work, 0)
    assert "it3000.mu[1]" in ran.stdout
    check(run_cli(work, "check", "t.yaml", "b.csv"), work, 2,
          "20 points x 2 components x 10000 iterations are more than the limit")


def test_check_refuses_too_many_answers(tmp_path):
    rows = "".join(f"it{i}.loglik,{i}\n" for i in range(1, 10_002))
    work = setup(tmp_path, {"s.yaml": SPEC + "stop: {iterations: 10000}\n", "a.csv": rows})
    check(run_cli(work, "check", "s.yaml", "a.csv"), work, 2, "the limit")


# --------------------------------------------------------------------------- fuzzing

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=6),
                    st.lists(st.lists(_SCALARS, max_size=4), max_size=4),
                    st.dictionaries(st.text(max_size=8), _SCALARS, max_size=4))
_KEYS = ["title", "data", "components", "names", "init", "init_method", "seed", "model",
         "stop", "display", "column", "columns", "data_file"]
_SECTIONS = {"init": ["weights", "means", "variances", "covariances"],
             "model": ["kernel", "update", "covariance_type"],
             "stop": ["iterations", "tol"],
             "display": ["decimals", "exact", "max_rows", "detail", "highlight", "carry"]}


@st.composite
def specs(draw):
    """Spec-shaped mappings: the real keys with values of any shape, and sometimes a
    valid spec with one value replaced."""
    spec = {"data": [1, 2, 5, 8, 9], "components": 2,
            "init": {"weights": [0.5, 0.5], "means": [2, 8], "variances": [2, 2]}}
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(_KEYS))
        if key in _SECTIONS and draw(st.booleans()):
            section = dict(spec.get(key) or {}) if isinstance(spec.get(key), dict) else {}
            section[draw(st.sampled_from(_SECTIONS[key]))] = draw(_VALUES)
            spec[key] = section
        else:
            spec[key] = draw(_VALUES)
    return spec


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=specs())
def test_any_spec_is_solved_or_refused_in_one_line(tmp_path_factory, spec):
    """In-process (fast): exit 0 with a document, or 2 with one line; never a fault."""
    import contextlib
    import io

    from explainer.cli import main

    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "s.json"
    path.write_text(json.dumps(spec, allow_nan=True), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["solve", str(path), "-o", str(folder / "x.md")])
    assert status in (0, 2), err.getvalue()
    if status == 2:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()
        assert not (folder / "x.md").exists()
    else:
        assert err.getvalue() == f"wrote {folder / 'x.md'}\n" and (folder / "x.md").exists()


# --------------------------------------------------------------------------- CSV

_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-10 ** 6, 10 ** 6).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1/3", "1e400", "1e-400", "+.5", "5.",
                     "1_000", "0x10", " 2.5 ", "1e0005", "abc", "1" * 120, '"1.5"', "#3",
                     "\u0663", "1e5", "-0", "7\t"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.booleans(), rows=st.lists(st.lists(_CELLS, min_size=1, max_size=3),
                                           min_size=1, max_size=6),
       blank=st.sampled_from(["", "\n", "\r\n", " \n", ",,\n"]),
       end=st.sampled_from(["\n", "\r\n", "\r"]), column=st.sampled_from([None, "b"]))
def test_the_fast_csv_reader_reads_what_the_row_by_row_reader_reads(header, rows, blank,
                                                                      end, column):
    """numpy's reader (a million rows in a tenth of the time) gives the same names and
    values as the row-by-row reader, or leaves the file to it (which names the bad
    cell): on headers, blank lines, CRLF, short rows and cells of every odd kind."""
    import tempfile

    from explainer import inputs as module

    width = max(len(r) for r in rows)
    text = blank + ("a,b,c"[:2 * width - 1] + end if header else "") + "".join(
        ",".join(r) + end for r in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.csv"
        path.write_text(text, encoding="utf-8", newline="")
        columns = [column] if column and header and width >= 2 else None

        def read(fast: bool):
            if not fast:
                original, module._plain_columns = module._plain_columns, lambda *a: None
            try:
                return module.read_csv_columns(path, columns, single=columns is not None)
            except ProblemError as exc:
                return str(exc)
            finally:
                if not fast:
                    module._plain_columns = original

        slow, fast = read(False), read(True)
        assert repr(fast) == repr(slow)


def test_an_exam_zip_stopped_inside_an_entry_exits_quietly(tmp_path):
    """A SIGTERM or Ctrl-C that lands between opening a zip entry and writing it (CI caught
    one in an exam's QTI package) left the archive to complain on stderr at exit ("Can't
    close the ZIP file while there is an open writing handle"): the archive is abandoned
    with its staging folder instead, quietly."""
    script = f"""
import zipfile, pathlib
from explainer.exam.exports import _Zip
z = _Zip(pathlib.Path({str(tmp_path)!r}, "a.zip"))
def stopped(self, *args, **kwargs):
    raise KeyboardInterrupt
zipfile._ZipWriteFile.__init__ = stopped
try:
    z.writestr("item.xml", "<item/>")
except KeyboardInterrupt:
    print("stopped")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    assert done.stdout == "stopped\n" and done.stderr == "", done.stderr
