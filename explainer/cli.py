"""Command line: ``em-explainer solve ...`` (also ``python -m explainer``).

Exit status: 0 on success; 2 on bad input, with one line ``error: <field>: ...``
on standard error and no output file left behind; 1 for an internal fault.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from .errors import ExplainerError, ProblemError

EPILOG = """\
examples:
  em-explainer solve examples/lecture/lecture.yaml -o lecture.md
  em-explainer solve --data 1,2,5,8,9 --k 2 --weights .5,.5 --means 2,8 \\
                     --variances 2,2 --update weights,means --kernel proportional
  em-explainer solve heights.yaml --iterations 10 --detail 1,last --format json
  em-explainer solve examples/lecture/lecture.yaml -o lecture.pdf
  em-explainer solve examples/lecture/lecture.yaml -o notes.tex --fragment
  em-explainer solve --data-file heights.csv --column height --k 2 \\
                     --init-method random_points --seed 3 --iterations 20

Flags override the keys of SPEC; without SPEC, --data or --data-file is needed.
The format follows the suffix of -o (.md, .tex, .pdf, .json) unless --format is
given; without -o the output goes to standard output (PDF needs -o). Plots are on
by default for PDF; with Markdown or LaTeX, --plots writes them into NAME_files/
beside the output.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="em-explainer",
                     description="Worked solutions of the EM algorithm for Gaussian mixtures.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"em-explainer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    solve = sub.add_parser(
        "solve", help="run EM on a problem and write the worked solution",
        description="Run EM on a problem and write the worked solution.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    solve.add_argument("spec", nargs="?", metavar="SPEC", help="problem spec (YAML or JSON)")
    out = solve.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="OUT", help="output file (.md, .tex, .pdf, .json)")
    out.add_argument("--format", choices=["md", "tex", "pdf", "json"], help="output format")
    out.add_argument("--fragment", action="store_true",
                     help="LaTeX: only the body, for \\input{} in other notes")
    out.add_argument("--plots", action=argparse.BooleanOptionalAction, default=None,
                     help="draw the figures (default: on for PDF, off otherwise)")
    out.add_argument("--decimals", metavar="D", help="decimals shown (0 to 12; default 3)")
    out.add_argument("--detail", metavar="WHICH",
                     help="iterations shown in full: all, none, last, or numbers such as 1,3")
    out.add_argument("--max-rows", metavar="R", help="rows shown per table before eliding")
    out.add_argument("--highlight", metavar="POINTS",
                     help="points worked in full: auto, none, or numbers such as 1,3")
    data = solve.add_argument_group("problem (override SPEC)")
    data.add_argument("--title", help="document title")
    data.add_argument("--data", metavar="X1,X2,...", help="data points, comma-separated")
    data.add_argument("--data-file", metavar="CSV", help="CSV file with the data")
    data.add_argument("--column", help="CSV column to read")
    data.add_argument("--k", metavar="K", help="number of components")
    data.add_argument("--names", metavar="A,B,...", help="component names")
    data.add_argument("--weights", metavar="W1,W2,...", help="starting weights (1/3 allowed)")
    data.add_argument("--means", metavar="M1,M2,...", help="starting means")
    data.add_argument("--variances", metavar="V1,V2,...", help="starting variances")
    data.add_argument("--init-method", metavar="METHOD",
                      help="given, random_points, random_responsibilities or kmeans")
    data.add_argument("--seed", metavar="S", help="random seed for the init method")
    data.add_argument("--update", metavar="PARAMS",
                      help="parameters the M-step re-estimates, e.g. weights,means")
    data.add_argument("--kernel", metavar="KERNEL", help="normalized or proportional")
    data.add_argument("--iterations", metavar="N", help="EM iterations (0 = E-step only)")
    data.add_argument("--tol", metavar="T", help="stop when the log-likelihood gains less")
    return parser


def _set(spec: dict[str, Any], path: str, value: Any) -> None:
    *sections, key = path.split(".")
    node = spec
    for name in sections:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[key] = value


# Flag -> spec key; the value is given to the validator as the string typed.
_OVERRIDES = {
    "title": "title", "k": "components", "names": "names",
    "weights": "init.weights", "means": "init.means", "variances": "init.variances",
    "init_method": "init_method", "seed": "seed", "update": "model.update",
    "kernel": "model.kernel", "iterations": "stop.iterations", "tol": "stop.tol",
    "decimals": "display.decimals", "detail": "display.detail",
    "max_rows": "display.max_rows", "highlight": "display.highlight",
}


def problem_from_args(args: argparse.Namespace):  # -> Problem
    """The spec file (if any) overlaid with the flags, validated."""
    from .problem import load_spec_file, validate

    if args.spec is not None:
        spec, base = load_spec_file(args.spec)
    elif args.data is None and args.data_file is None:
        raise ProblemError("spec", "give a SPEC file, or the problem with --data or --data-file "
                                   "(see 'em-explainer solve --help')")
    else:
        spec, base = {}, Path.cwd()
    if args.data is not None:
        spec.pop("data_file", None)
        spec.pop("column", None)
        spec["data"] = args.data
    if args.data_file is not None:
        spec.pop("data", None)
        spec["data_file"] = str(Path(args.data_file).resolve())
    if args.column is not None:
        spec["column"] = args.column
    for flag, key in _OVERRIDES.items():
        value = getattr(args, flag)
        if value is not None:
            if flag == "seed":
                value = value.strip()
            _set(spec, key, value)
    return validate(spec, base)


def _progress() -> Callable[[int, int], None] | None:
    """Iteration progress on standard error, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\riteration {done}/{total}{end}")
        sys.stderr.flush()

    return report


def solve(args: argparse.Namespace) -> int:
    from .engine import run
    from .render.output import format_for, plan, write

    problem = problem_from_args(args)
    out = None if args.output is None else Path(args.output)
    output = plan(format_for(args.output, args.format), out, plots=args.plots,
                  fragment=args.fragment)
    progress = _progress() if problem.iterations * problem.n_samples >= 1_000_000 else None
    write(run(problem, progress=progress), output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return solve(args)
    except ExplainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an internal fault: say so plainly, traceback on request
        if os.environ.get("EM_EXPLAINER_DEBUG"):
            raise
        print(f"error: internal fault ({type(exc).__name__}: {exc}); set EM_EXPLAINER_DEBUG=1 "
              f"for the traceback and please report it", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
