"""Command line: ``em-explainer solve ...`` and ``em-explainer render ...``
(also ``python -m explainer``).

Exit status: 0 on success; 2 on bad input, with one line ``error: <field>: ...``
on standard error and no output file left behind; 3 when the system refuses a write
(disk full, read-only, permission); 130 interrupted, 143 terminated (temporary files
removed, LaTeX stopped); 1 for an internal fault.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from .defaults import (FLAVORS, GRADING_CARRIES, ITERATION_PARTS, MOODLE_KINDS, NOT_FAMILIES,
                       PAPERS, PARTS)
from .errors import (EXIT_INTERRUPTED, EXIT_TERMINATED, ExplainerError, SystemRefused,
                     Terminated, raise_terminated)

EPILOG = """\
examples:
  em-explainer solve examples/heights/heights.yaml --part mstep --iteration 2
  em-explainer solve examples/lecture/lecture.yaml -o lecture.md
  em-explainer solve --data 1,2,5,8,9 --k 2 --weights .5,.5 --means 2,8 \\
                     --variances 2,2 --update weights,means --kernel proportional
  em-explainer solve heights.yaml --iterations 10 --detail 1,last --format json
  em-explainer solve examples/lecture/lecture.yaml -o lecture.pdf --paper letter
  em-explainer solve examples/lecture/lecture.yaml --title 'Mélange de gaussiennes' \\
                     --names 'α,β' -o lecture.pdf
  em-explainer solve examples/lecture/lecture.yaml --exact -o exact.md
  em-explainer solve examples/lecture/lecture.yaml --practice -o practice.html
  em-explainer solve examples/heights/heights.yaml --carry rounded --decimals 2
  em-explainer solve examples/lecture/lecture.yaml -o notes.tex --fragment
  em-explainer solve --data-file heights.csv --column height --k 2 \\
                     --init-method random_points --seed 3 --iterations 20
  em-explainer solve examples/two-d/two-d.yaml -o two-d.pdf
  em-explainer solve --data-file points.csv --columns x,y --k 3 \\
                     --init-method kmeans --covariance-type diag --iterations 10
  em-explainer solve --data "0,0; 1,0; 4,4; 5,4" --k 2 --weights .5,.5 \\
                     --means "0,0; 4,4" --covariances "1,0; 0,1 | 1,.5; .5,1"
  em-explainer solve examples/coins/coins.yaml -o coins.pdf
  em-explainer solve --data 5,9,8,4,7 --family binomial --trials 10 --k 2 \\
                     --weights .5,.5 --p .6,.5 --update p --iterations 10

Flags override the keys of SPEC; without SPEC, --data or --data-file is needed.
The format follows the suffix of -o (.md, .tex, .pdf, .json, .html) unless --format is
given; without -o the output goes to standard output (PDF needs -o). Plots are on
by default for PDF and HTML (inside the page); with Markdown or LaTeX, --plots
writes them into NAME_files/ beside the output. The limits on input (file sizes,
points, iterations, rows) are in the README.

exit status: 0 written, 2 bad input (one line naming the field), 3 the system refused
the write (disk full, read-only, permission), 1 an internal fault
"""


CHECK_EPILOG = """\
ANSWERS is a CSV of quantity,value rows (header optional) or a YAML mapping.
Quantities: r[n,k], N[k], pi[k], mu[k], var[k], loglik (of the parameters the
iteration starts from); other families: p[k] (binomial), p[k,i] (Bernoulli),
lambda[k] (Poisson), q[k,c] (categorical) instead of mu and var; d >= 2:
mu[k][i] and cov[k][i,j] (d >= 3: compared with full precision alone). Two choices:
assign[n] (the component with the largest r[n,k]) and moves (+k when the mean, p or
rate of component k moves furthest and up, -k when down). Prefix itI. for
iteration I (default 1). An empty value is a missing answer.

examples:
  em-explainer check examples/lecture/lecture.yaml answers.csv
  em-explainer check lecture.yaml answers.yaml --format json -o grade.json

exit status: 0 when graded (whatever the score), 2 for bad input
"""


EXAM_EPILOG = """\
TEMPLATE is a problem spec whose values may be generators: {range: [low, high],
decimals: d} or {choice: [...]}; data as {count: N or a generator, range: [low,
high], decimals: d}; an exam section asks quantities (r, N, pi, mu, var, loglik)
and choices (assign: a point's component; moves: which mean moves furthest, which way).
Only hand-computable draws are kept (see examples/exam/exam.yaml).

examples:
  em-explainer exam examples/exam/exam.yaml -n 30 --seed 7 -o exam-2026
  em-explainer exam examples/exam/exam.yaml -n 30 --format pdf -o exam-pdf
  em-explainer exam examples/exam/exam.yaml -n 30 --format html -o exam-practice
  em-explainer exam examples/exam/exam.yaml --variant 7-12 -o variant-12
  em-explainer check exam-2026/variant-001/problem.yaml answers-of-a-student.csv
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="OUT",
                     help="output file (.md, .tex, .pdf, .json, .html)")
    out.add_argument("--format", choices=["md", "tex", "pdf", "json", "html"],
                     help="output format")
    out.add_argument("--reveal", action="store_true",
                     help="HTML: open the page in study mode (every step hidden until asked "
                          "for; the page's own button does the same)")
    out.add_argument("--practice", action="store_true",
                     help="HTML: practice mode: an input for every quantity of the "
                          "iterations shown in full, checked in the page as 'check' grades "
                          "(right, follow-through, or wrong with the mistake named), the "
                          "worked step hidden until answered or asked for")
    out.add_argument("--fragment", action="store_true",
                     help="LaTeX: only the body, for \\input{} in other notes")
    out.add_argument("--plots", action=argparse.BooleanOptionalAction, default=None,
                     help="draw the figures (default: on for PDF and HTML, off otherwise)")
    out.add_argument("--part", choices=PARTS, metavar="PART",
                     help=f"only one part: {', '.join(PARTS)}")
    out.add_argument("--iteration", type=_whole_number, metavar="N",
                     help="the iteration of an estep, responsibilities, mstep or conclusion part")
    out.add_argument("--flavor", choices=FLAVORS,
                     help="Markdown flavour: gfm (default), myst or quarto (labelled formulas "
                          "and cross-references), obsidian")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="no line on standard error saying what was written")
    out.add_argument("--templates", metavar="DIR",
                     help="a folder of your templates, used before ours (same names replace "
                          "ours, e.g. markdown/document.md.j2)")


def _problem_options(parser: argparse.ArgumentParser) -> None:
    """A flag for each key of the spec (explainer.spec.KEYS): the display's, then the
    problem's, which override SPEC."""
    from .spec import KEYS

    groups = {"display": parser.add_argument_group("display"),
              "problem": parser.add_argument_group("problem (override SPEC)")}
    for key in sorted(KEYS, key=lambda k: k.section != "display"):
        group = groups["display" if key.section == "display" else "problem"]
        help_text = key.described(_registries())
        if key.default is not None and key.low is not None:
            help_text += (f" ({key.low} to {key.high}; default {key.default})"
                          if key.high is not None else f" (default {key.default})")
        elif key.choices_in(_registries()) and key.default is not None:
            help_text += f" (default {key.default})"
        if key.switch:
            group.add_argument(key.flag, dest=key.name, action="store_const", const=True,
                               help=help_text)
        else:
            group.add_argument(key.flag, dest=key.name, metavar=key.metavar,
                               choices=list(key.choices) if key.listed else None,
                               help=help_text)


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, but got {text!r}") from None


@functools.lru_cache(maxsize=1)
def _registries() -> dict[str, tuple[str, ...]]:
    """The plug-in registries' names for the help (``explainer.validation.REGISTRIES``),
    read from the model plug-ins' files without importing them: the help does not wait
    for numpy and every model. The order is MODELS' (the Gaussian, then by name)."""
    import importlib.util
    import pkgutil

    found = importlib.util.find_spec(f"{__package__}.families")
    assert found is not None and found.submodule_search_locations is not None
    names = sorted(m.name for m in pkgutil.iter_modules(found.submodule_search_locations)
                   if m.name not in NOT_FAMILIES)
    return {"models": ("gaussian", *names)}


def build_parser() -> argparse.ArgumentParser:
    models = _registries()["models"]
    parser = _Parser(prog="em-explainer",
                     description="Worked solutions of the EM algorithm for mixture models; "
                                 "model.family (--family) is " + ", ".join(models[:-1])
                                 + " or " + models[-1] + " (a gaussian mixture in one or "
                                 "more dimensions).")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"em-explainer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    solve = sub.add_parser(
        "solve", help="run EM on a problem and write the worked solution",
        description="Run EM on a problem and write the worked solution.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    solve.add_argument("spec", nargs="?", metavar="SPEC", help="problem spec (YAML or JSON)")
    _output_options(solve)
    _problem_options(solve)
    render = sub.add_parser(
        "render", help="render a saved JSON trace again, without recomputing",
        description="Render a trace saved with 'solve --format json' again, without "
                    "recomputing EM; the result is byte for byte what solve would write.",
        epilog="examples:\n  em-explainer solve lecture.yaml -o lecture.json\n"
               "  em-explainer render lecture.json -o lecture.md\n"
               "  em-explainer render lecture.json -o mstep.tex --part mstep --fragment\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    render.add_argument("trace", metavar="TRACE", help="a trace written by --format json")
    _output_options(render)
    render.add_argument("--paper", choices=list(PAPERS),
                        help="the PDF's paper (default: the trace's, a4 unless set)")
    check = sub.add_parser(
        "check", help="grade hand-worked answers to a problem",
        description="Grade hand-worked answers: each is correct (from the least to the "
                    "largest answer of a calculation without a slip: at full precision, or "
                    "rounding every intermediate to the displayed decimals or to one more, "
                    "each also with a point's last r_nk as 1 minus the others), "
                    "follow-through (wrong, but what the earlier answers lead to), wrong, or "
                    "missing (no value).",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("spec", metavar="SPEC", help="problem spec (YAML or JSON)")
    check.add_argument("answers", metavar="ANSWERS", help="answers (CSV or YAML)")
    check.add_argument("--format", choices=["md", "json"], default="md",
                       help="md: a report to read (default); json: for machines")
    check.add_argument("-o", "--output", metavar="OUT", help="write here, not to stdout")
    check.add_argument("-q", "--quiet", action="store_true",
                       help="no line on standard error saying what was written")
    check.add_argument("--decimals", metavar="D",
                       help="the precision answers are given to (default: the spec's)")
    check.add_argument("--grading-carry", choices=list(GRADING_CARRIES),
                       help="the calculations whose answers are correct: any (default), or "
                            "full or rounded alone (the spec's grading.carry)")
    exam = sub.add_parser(
        "exam", help="write exam variants with answer keys",
        description="Write N variants of an exam template: per variant a question sheet, "
                    "an answer key (the worked solution) and its problem.yaml; for the batch "
                    "answers.csv (keys and accepted intervals), keys.md, moodle.xml, "
                    "qti-1.2.zip (Canvas, Blackboard) and qti-2.1.zip (ILIAS, OpenOLAT); "
                    "with "
                    "--format pdf (tex) questions.pdf and keys.pdf (.tex): every sheet and "
                    "every key, ready to print.",
        epilog=EXAM_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    exam.add_argument("template", metavar="TEMPLATE", help="exam template (YAML or JSON)")
    exam.add_argument("-n", type=_whole_number, default=None, metavar="N",
                      help="number of variants (default 1)")
    exam.add_argument("--seed", type=_whole_number, default=None, metavar="S",
                      help="seed: the same seed gives the same variants (default 0)")
    exam.add_argument("--variant", metavar="ID",
                      help="one variant alone, again: its ID, SEED-NUMBER, from the batch's "
                           "overview.md (7-12: variant 12 of seed 7; no -n or --seed)")
    exam.add_argument("-o", "--output", required=True, metavar="DIR",
                      help="a new (or empty) folder for the variants")
    exam.add_argument("-q", "--quiet", action="store_true",
                      help="no line on standard error saying what was written")
    exam.add_argument("--format", choices=["md", "tex", "pdf", "html"], default="md",
                      help="question sheets and keys as Markdown (default), LaTeX or PDF; "
                           "html: Markdown and a practice page per variant (practice.html, "
                           "checked in the page as 'check' grades)")
    exam.add_argument("--moodle", choices=list(MOODLE_KINDS), default=MOODLE_KINDS[0],
                      help="moodle.xml: per variant one Cloze question with a blank per "
                           "asked quantity (default), or a numerical question per quantity")
    return parser


def problem_from_args(args: argparse.Namespace):  # -> Problem
    """The spec file (if any) overlaid with the flags, validated."""
    from .spec import OPTIONS
    from .validation import problem_from

    options = {name: getattr(args, name) for name in OPTIONS}
    if args.iteration is not None and args.part in ITERATION_PARTS and args.detail is None:
        # Asking for one iteration's part keeps that iteration in detail.
        options["detail"] = str(args.iteration)
    return problem_from(args.spec, **options)


def _plan(args: argparse.Namespace):  # -> Output
    from .render.output import format_for, plan

    out = None if args.output is None else Path(args.output)
    return plan(format_for(args.output, args.format), out, plots=args.plots,
                fragment=args.fragment, part=args.part, iteration=args.iteration,
                templates=args.templates, flavor=args.flavor, study=args.reveal,
                practice=_practice if args.practice else None)


def _practice(trace):  # -> the context of practice mode's panels
    from .grading.practice import practice_context

    return practice_context(trace)


def _progress(what: str = "iteration") -> Callable[[int, int], None] | None:
    """Progress on standard error, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None
    import time

    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done != total and now - last[0] < 0.1:  # at most ten lines a second
            return
        last[0] = now
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r{what} {done}/{total}{end}")
        sys.stderr.flush()

    return report


def solve(args: argparse.Namespace) -> int:
    from .engine import run
    from .render.output import write

    problem = problem_from_args(args)
    output = _plan(args)
    # A progress line (on a terminal only) for work that may take more than a moment.
    long_work = problem.exact or problem.iterations * max(problem.n_samples, 100) >= 200_000
    progress = _progress() if long_work else None
    _wrote(write(run(problem, progress=progress), output), args.quiet)
    return 0


def _wrote(paths: list[Path], quiet: bool) -> None:
    """One short line on standard error naming what was written to files (nothing for
    standard output, nothing with --quiet): ``wrote x.md and 3 figures in x_files/``."""
    if quiet or not paths:
        return
    figures = paths[1:]
    line = f"wrote {paths[0]}"
    if figures:
        line += (f" and {len(figures)} figure{'s' if len(figures) != 1 else ''} in "
                 f"{figures[0].parent}{os.sep}")
    print(line, file=sys.stderr)


def render(args: argparse.Namespace) -> int:
    from .render.json_reader import trace_from_file
    from .render.output import write

    output = _plan(args)
    trace = trace_from_file(args.trace)
    if args.paper is not None:  # the paper is the page's, not the run's
        trace = dataclasses.replace(
            trace, problem=dataclasses.replace(trace.problem, paper=args.paper))
    _wrote(write(trace, output), args.quiet)
    return 0


def check(args: argparse.Namespace) -> int:
    from .grading import grade, iter_answers
    from .validation import problem_from

    problem = problem_from(args.spec, decimals=args.decimals,
                           grading_carry=args.grading_carry)
    result = grade(problem, iter_answers(args.answers))
    if args.format == "json":
        import json

        from .render.shown import Shown

        def value(v: object) -> float:
            """The steps' numbers as values (the report prints them by the display rule)."""
            if isinstance(v, Shown):
                return v.value
            raise TypeError(f"{type(v).__name__} is not JSON serializable")

        text = json.dumps(result, indent=2, default=value) + "\n"
    else:
        from .render.environment import render_template

        text = render_template("markdown", "check/report.md.j2", result)
    from .render.output import emit

    _wrote(emit(text, None if args.output is None else Path(args.output)), args.quiet)
    return 0


def exam(args: argparse.Namespace) -> int:
    from .errors import ProblemError
    from .exam import parse_variant_id, write_exam

    only = None
    if args.variant is not None:
        if args.n is not None or args.seed is not None:
            raise ProblemError("--variant", "a variant's ID holds its seed and number: give "
                                            "it without -n or --seed")
        seed, only = parse_variant_id(args.variant)
    else:
        seed = 0 if args.seed is None else args.seed
    n = 1 if args.n is None else args.n
    progress = _progress("variant") if n >= 20 else None
    out = write_exam(args.template, n, seed, args.output, args.format, progress,
                     args.moodle, only)
    if not args.quiet:
        what = (f"variant {only} (ID {args.variant.strip()})" if only is not None
                else f"{n} {'variant' if n == 1 else 'variants'}")
        print(f"wrote {what} to {out}", file=sys.stderr)
    return 0


COMMANDS = {"solve": solve, "render": render, "check": check, "exam": exam}


MESSAGE_LIMIT = 400  # characters of an error line; a longer one is cut with "..."


def _say(message: str) -> None:
    """One line on standard error, however long or many-lined the message: ``error: ``
    and the message, at most :data:`MESSAGE_LIMIT` characters in all."""
    line = "error: " + " ".join(message.split())
    if len(line) > MESSAGE_LIMIT:
        line = line[:MESSAGE_LIMIT - 3] + "..."
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def _quiet_stdout() -> None:
    """After standard output failed (a closed pipe, a full disk), point it at /dev/null so
    that Python's flush at exit does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


_NEGATIVE = re.compile(r"^-(\d|\.\d)")


def _join_negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--data -3,-2.5,-1`` as ``--data=-3,-2.5,-1``: argparse takes a value that starts
    with '-' for an option unless it is one plain number."""
    takes_value = {option for action in _all_actions(parser) if action.nargs is None
                   and action.option_strings and action.const is None
                   and not isinstance(action, argparse._VersionAction)
                   for option in action.option_strings}
    joined: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in takes_value and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                actions.extend(_all_actions(sub))
    return actions


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_join_negative_values(parser, argv))
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    # SIGTERM and SIGHUP unwind like Ctrl-C: temporary folders are removed and LaTeX's
    # process group is killed on the way out.
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, raise_terminated)
    try:
        return COMMANDS[args.command](args)
    except ExplainerError as exc:
        if isinstance(exc, SystemRefused) and "stdout" == getattr(exc, "field", None):
            _quiet_stdout()
        _say(str(exc))
        return exc.exit_status
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _say("terminated")
        return EXIT_TERMINATED
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except RecursionError:
        _say("input: nested too deeply")
        return 2
    except MemoryError:
        _say("out of memory; the input is too large for this machine")
        return 1
    except Exception as exc:  # an internal fault: say so plainly, traceback on request
        if os.environ.get("EM_EXPLAINER_DEBUG"):
            raise
        _say(f"internal fault ({type(exc).__name__}: {exc}); set EM_EXPLAINER_DEBUG=1 "
             f"for the traceback and please report it")
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
