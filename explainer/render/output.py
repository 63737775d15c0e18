"""Trace -> files: the one place that decides what a format writes, and writes it safely.

Text and PDF are written through a temporary file and renamed, and figures are
made in a temporary folder and moved into place only once the document has
rendered, so a failure leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .. import defaults
from ..errors import ProblemError, SystemRefused
from ..trace import Trace
from ..unwind import hold_signals, remove_folder, staging_folder

FORMATS = ("md", "tex", "pdf", "json", "html")
SUFFIXES = {".md": "md", ".markdown": "md", ".tex": "tex", ".pdf": "pdf", ".json": "json",
            ".html": "html", ".htm": "html"}


def format_for(path: str | None, explicit: str | None) -> str:
    """The output format: *explicit*, else from the suffix of *path*, else Markdown."""
    if explicit:
        return explicit
    if path is None:
        return "md"
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ProblemError("-o", f"cannot tell the format from {suffix or 'no suffix'!r}; use a "
                                 f"{', '.join(SUFFIXES)} name, or --format")
    return SUFFIXES[suffix]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def mkdir_mode(folder: Path) -> None:
    """Give a folder made by mkdtemp (0700) the mode mkdir would: 0777 less the umask."""
    os.chmod(folder, 0o777 & ~_umask())


def _pieces(data: str | bytes | Iterable[str]) -> Iterator[bytes]:
    """*data* as bytes, in the pieces it comes in (a streamed document: many)."""
    if isinstance(data, bytes):
        yield data
    elif isinstance(data, str):
        yield data.encode("utf-8")
    else:
        for piece in data:
            yield piece.encode("utf-8")


def write_atomically(path: Path, data: str | bytes | Iterable[str], field: str = "-o") -> None:
    """Write *data* to *path* so that no partial file is left and nothing else is lost.

    A regular file (new or existing) is written through a temporary file beside it and
    renamed into place; it keeps the mode of the file it replaces (a new one gets
    0666 less the umask, as ``open()`` would). A symbolic link is written through: the
    file it points at is replaced, the link stays. A device or FIFO (``/dev/null``,
    ``/dev/stdout``, a pipe) is written in place, as the shell's ``>`` does, never
    replaced by a file; a folder or socket is refused. The system's refusals
    (read-only, disk full, no permission) are :class:`SystemRefused` (exit 3). *data*
    may come in pieces (an iterable of texts), written as they come.
    """
    target = Path(os.path.realpath(path))
    try:
        status: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise SystemRefused(field, path, exc) from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise ProblemError(field, f"cannot write {path}: it is a folder; name a file in it")
    if status is not None and not stat.S_ISREG(status.st_mode):
        _write_in_place(path, target, status, data, field)
        return
    folder = target.parent
    if not folder.is_dir():
        raise ProblemError(field, f"folder does not exist: {folder}")
    release = hold_signals()  # (until the file is in the hands of the try below)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        release()
        raise SystemRefused(field, path, exc) from None
    try:
        release()
        with os.fdopen(fd, "wb") as handle:
            for piece in _pieces(data):
                handle.write(piece)
            os.fchmod(handle.fileno(), stat.S_IMODE(status.st_mode) if status is not None
                      else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SystemRefused(field, path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_in_place(path: Path, target: Path, status: os.stat_result,
                    data: str | bytes | Iterable[str], field: str) -> None:
    """A device or FIFO: written as it is, never replaced (a socket is refused)."""
    mode = status.st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
        raise ProblemError(field, f"cannot write {path}: it is not a file, device or pipe")
    flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(mode) else 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise ProblemError(field, f"cannot write {path}: no program reads from "
                                      f"this pipe") from None
        raise SystemRefused(field, path, exc) from None
    try:
        os.set_blocking(fd, True)
        for piece in _pieces(data):
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view):]
    except OSError as exc:
        raise SystemRefused(field, path, exc) from None
    finally:
        os.close(fd)


def writable_file(path: Path, field: str = "-o") -> bool:
    """Whether *path* is (or will be) a regular file, not a device or pipe; a folder, or
    a missing folder to hold it, is an error."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise ProblemError(field, f"cannot write {path}: it is a folder; name a file in it")
    if not target.parent.is_dir():
        raise ProblemError(field, f"folder does not exist: {target.parent}")
    return not target.exists() or target.is_file()


def figures_folder(out: Path) -> Path:
    """Where the figures of *out* go: ``name_files/`` beside it."""
    return out.with_name(f"{out.stem}_files")


@dataclass(frozen=True)
class Output:
    """What to write and where, checked before any work is done."""

    fmt: str
    out: Path | None
    plots: bool
    fragment: bool
    part: str | None = None
    iteration: int | None = None
    templates: str | None = None
    flavor: str = defaults.FLAVOR
    study: bool = False
    # Practice mode: the context of its panels from the trace (made a layer above,
    # explainer.grading.practice, and handed down).
    practice: Callable[[Trace], dict[str, Any]] | None = None


def plan(fmt: str, out: Path | None, *, plots: bool | None = None, fragment: bool = False,
         part: str | None = None, iteration: int | None = None,
         templates: str | None = None, flavor: str | None = None,
         study: bool = False,
         practice: Callable[[Trace], dict[str, Any]] | None = None) -> Output:
    """Check the output options; *plots* defaults to on for PDF and HTML (an HTML page
    holds its figures) and for the plots part, and off otherwise; *study*: an HTML page
    opens in study mode."""
    if part is not None and part not in defaults.PARTS:
        raise ProblemError("--part", f"expected one of {', '.join(defaults.PARTS)}, "
                                     f"but got {part!r}")
    if part is not None and fmt == "json":
        raise ProblemError("--part", "JSON output is the whole trace; parts are for "
                                     "Markdown, LaTeX and PDF")
    if plots is None and part == "plots":
        plots = True
    if fmt not in FORMATS:
        raise ProblemError("--format", f"expected one of {', '.join(FORMATS)}, but got {fmt!r}")
    if fragment and fmt != "tex":
        raise ProblemError("--fragment", f"only LaTeX output has a fragment, but the format "
                                         f"is {fmt}")
    plots = (fmt in ("pdf", "html")) if plots is None else plots
    if plots and fmt == "json":
        raise ProblemError("--plots", "JSON output has no figures")
    if study and fmt != "html":
        raise ProblemError("--reveal", f"study mode is a feature of the HTML page, but the "
                                       f"format is {fmt}")
    if practice is not None and fmt != "html":
        raise ProblemError("--practice", f"practice mode is a feature of the HTML page, but "
                                         f"the format is {fmt}")
    if practice is not None and part is not None:
        raise ProblemError("--practice", "practice mode is a whole page; --part makes one "
                                         "part of it")
    if out is None and (fmt == "pdf" or plots and fmt != "html"):
        what = "PDF output" if fmt == "pdf" else "--plots"
        raise ProblemError("-o", f"{what} needs an output file (-o NAME.{fmt})")
    # (HTML embeds its figures, and a PDF is built with them in a folder of its own.)
    if out is not None and not writable_file(out) and plots and fmt not in ("html", "pdf"):
        raise ProblemError("--plots", f"the figures go into a folder beside the output, "
                                      f"but {out} is a device or pipe, not a file")
    if fmt == "pdf":
        from .pdf import require_latex

        require_latex()
    if flavor is not None and fmt != "md":
        raise ProblemError("--flavor", f"only Markdown has flavours, but the format is {fmt}")
    if flavor is not None and flavor not in defaults.FLAVORS:
        raise ProblemError("--flavor", f"expected one of {', '.join(defaults.FLAVORS)}, "
                                       f"but got {flavor!r}")
    if templates is not None and not Path(templates).is_dir():
        raise ProblemError("--templates", f"not a folder: {templates}")
    return Output(fmt, out, plots, fragment, part, iteration, templates,
                  flavor or defaults.FLAVOR, study, practice)


def write(trace: Trace, output: Output) -> list[Path]:
    """Render *trace* as planned; return the files written (none for standard output).

    Markdown and LaTeX with plots write the figures (PNG, resp. PDF) into
    ``name_files/`` beside the output.
    """
    fmt, out, plots, fragment = output.fmt, output.out, output.plots, output.fragment
    selection = {"part": output.part, "iteration": output.iteration,
                 "templates": output.templates}
    if fmt == "json":
        from .json import iter_json

        return emit(iter_json(trace), out)  # streamed: no whole document in memory
    if fmt == "pdf":
        assert out is not None
        write_atomically(out, build_pdf(trace, plots, **selection).pdf)
        return [out]
    if fmt == "html":  # one file: its figures inside it
        from .html import render_html, svg_figures

        panels = None if output.practice is None else output.practice(trace)
        figures = svg_figures(trace) if plots else None
        return emit(render_html(trace, plots=figures, study=output.study, practice=panels,
                                **selection), out)
    if not plots:
        text = _render_text(trace, fmt, fragment, None, selection, output.flavor)
        return emit(text, out)
    assert out is not None
    from .plots import write_plots

    final = figures_folder(out)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise ProblemError("--plots", f"the figures go into {final}, which exists and is "
                                      f"not a folder; move it or name another output")
    try:
        with staging_folder(f".{final.name}.", out.resolve().parent) as staging:
            names = write_plots(trace, staging, "png" if fmt == "md" else "pdf")
            links = {name: f"{final.name}/{file}" for name, file in names.items()}
            text = _render_text(trace, fmt, fragment, links, selection, output.flavor)
            mkdir_mode(staging)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
    except OSError as exc:
        raise SystemRefused("-o", final, exc) from None
    try:
        written = emit(text, out)
    except BaseException:
        remove_folder(final)  # no figures without their document
        raise
    return written + sorted(final.iterdir())


def build_pdf(trace: Trace, plots: bool, part: str | None = None, iteration: int | None = None,
              templates: str | None = None):  # -> pdf.Compiled
    """The PDF of *trace* (figures drawn into the build folder when *plots*), and its log."""
    from .latex import render_latex
    from .pdf import compile_pdf

    def build(folder: Path) -> None:
        names = None
        if plots:
            from .plots import write_plots

            names = write_plots(trace, folder, "pdf")
        tex = render_latex(trace, plots=names, part=part, iteration=iteration,
                           templates=templates)
        (folder / "solution.tex").write_text(tex, encoding="utf-8")

    return compile_pdf(build)


def _render_text(trace: Trace, fmt: str, fragment: bool, plots: dict[str, str] | None,
                 selection: dict, flavor: str) -> str:
    if fmt == "md":
        from .markdown import render_markdown

        return render_markdown(trace, plots=plots, flavor=flavor, **selection)
    from .latex import render_latex

    return render_latex(trace, fragment=fragment, plots=plots, **selection)


def emit(text: str | Iterable[str], out: Path | None) -> list[Path]:
    """*text* (or its pieces) to the file *out* (see :func:`write_atomically`), or to
    standard output."""
    if out is None:
        try:
            for piece in [text] if isinstance(text, str) else text:
                sys.stdout.write(piece)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise SystemRefused("stdout", "standard output", exc) from None
        return []
    write_atomically(out, text)
    return [out]
