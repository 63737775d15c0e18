"""LaTeX -> PDF with pdflatex through latexmk, locked down.

The document is compiled in a fresh temporary directory, with shell escape off,
``openin_any=p`` / ``openout_any=p`` (TeX may read and write only below that
directory, plus its own distribution) and a time limit. On failure the error
lines of the log are reported, not the whole log.

PyLaTeX's ``generate_pdf`` is not used: it has no time limit, runs with the
caller's environment, and prints the whole log on error; and building the
document with PyLaTeX would move LaTeX syntax out of the templates.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Callable, NamedTuple

from .. import defaults
from ..errors import RenderError, SystemRefused
from ..unwind import temporary_folder
from .fonts import DEBIAN_PACKAGES as FONT_PACKAGES
from .fonts import beyond_pdflatex, describe, fallback_fonts, unicode_engine_available

DEBIAN_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended",
                   "texlive-fonts-recommended", "latexmk")


def latex_timeout() -> float:
    """The time limit of one LaTeX build, in seconds."""
    return defaults.seconds("EM_EXPLAINER_LATEX_TIMEOUT", defaults.LATEX_SECONDS)


_ERROR_LINE = re.compile(r"^(!.*|.*:\d+: .*)$")
_SOURCE_LINE = re.compile(r"^l\.(\d+) (.*)$")


def latex_available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def require_latex() -> None:
    if not latex_available():
        raise RenderError(
            "pdf: PDF output needs pdflatex and latexmk; on Debian or Ubuntu: apt-get install "
            + " ".join(DEBIAN_PACKAGES))


def log_excerpt(log: str, tex: str, limit: int = 6) -> str:
    """The error lines of a LaTeX log and the source lines they point at, joined by ' | '."""
    lines = log.splitlines()
    source = tex.splitlines()
    found: list[str] = []
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line) and "==> Fatal error" not in line:
            found.append(line.strip())
            for follow in lines[i + 1:i + 8]:
                match = _SOURCE_LINE.match(follow)
                if match:
                    number = int(match.group(1))
                    text = source[number - 1].strip() if 0 < number <= len(source) else ""
                    found.append(f"line {number}: {text[:120]}")
                    break
        if len(found) >= limit:
            break
    return " | ".join(found) if found else "no error line in the log"


class Compiled(NamedTuple):
    """A compiled document: the PDF's bytes and pdflatex's log (for warnings)."""

    pdf: bytes
    log: str


def compile_pdf(build: Callable[[Path], None], timeout: float | None = None) -> Compiled:
    """Compile a standalone LaTeX document.

    *build* is called with a fresh temporary directory and writes ``solution.tex``
    there, with any figures it includes beside it.
    """
    require_latex()
    timeout = latex_timeout() if timeout is None else timeout
    with temporary_folder() as folder:
        build(folder)
        engine = _engine(_read(folder / "solution.tex"))
        env = {**os.environ, "openin_any": "p", "openout_any": "p", "TEXMFOUTPUT": str(folder)}
        command = ["latexmk", engine, "-no-shell-escape", "-interaction=nonstopmode",
                   "-halt-on-error", "-file-line-error", "solution.tex"]
        try:
            _run_latex(command, folder, env, timeout)
        except subprocess.TimeoutExpired:
            raise RenderError(f"pdf: LaTeX did not finish within {timeout:g} s") from None
        except subprocess.CalledProcessError as failed:
            log = _read(folder / "solution.log")
            _refused_write(folder, log + (failed.output or b"").decode("utf-8", "replace"))
            missing = _MISSING_CHARACTER.search(log)
            if missing:
                raise RenderError(f"pdf: the font has no {describe(missing.group(1))}; install "
                                  f"a font that has it (Debian: fonts-noto-core, "
                                  f"fonts-noto-cjk)") from None
            excerpt = log_excerpt(log, _read(folder / "solution.tex"))
            raise RenderError(f"pdf: LaTeX failed: {excerpt}") from None
        return Compiled((folder / "solution.pdf").read_bytes(), _read(folder / "solution.log"))


_MISSING_CHARACTER = re.compile(r"Missing character: There is no (.)")
# What TeX and latexmk say when the system refuses a write (a full or read-only TMPDIR).
_REFUSED_WRITE = re.compile(r"fwrite\(\) failed|No space left on device|Read-only file "
                            r"system|Disk quota exceeded")


def _refused_write(folder: Path, said: str) -> None:
    """A build that failed because the system refused a write in *folder* (full, read-only,
    over quota: what LaTeX said, or no room left) is exit 3, naming the folder."""
    try:
        room = os.statvfs(folder)
        full = room.f_bavail * room.f_frsize < (1 << 20)
    except OSError:
        full = False
    if full or _REFUSED_WRITE.search(said):
        reason = (errno.ENOSPC if full or "space" in said or "fwrite" in said else
                  errno.EDQUOT if "quota" in said else errno.EROFS)
        raise SystemRefused("pdf", folder, OSError(reason, os.strerror(reason))) from None


def _engine(tex: str) -> str:
    """latexmk's option for the engine *tex* needs: ``-pdf`` (pdflatex), or ``-lualatex``
    when it has characters pdflatex cannot set, for which an installed font is found
    first (else an error names the character)."""
    beyond = beyond_pdflatex(tex)
    if not beyond:
        return "-pdf"
    if not unicode_engine_available():
        raise RenderError(f"pdf: the text has {describe(beyond[0])}, which pdflatex cannot "
                          f"set; it needs LuaLaTeX with fontspec and luaotfload, and "
                          f"fontconfig (Debian or Ubuntu: apt-get install "
                          f"{' '.join(FONT_PACKAGES)})")
    fallback_fonts([tex])  # raises for a character that no installed font has
    return "-lualatex"


def _run_latex(command: list[str], folder: Path, env: dict[str, str], timeout: float) -> None:
    """Run latexmk in its own process group and kill the whole group (pdflatex too) on
    time-out, interruption or termination: ``subprocess.run(timeout=)`` kills latexmk
    only, and a looping pdflatex would outlive us."""
    process = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:  # done, timed out, failed or interrupted: nothing of its group may stay
        _kill_group(process)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, output)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.returncode is None:
        process.kill()
        process.wait()


def compile_tex(tex: str, timeout: float | None = None) -> Compiled:
    """Compile the standalone document *tex*, which includes no other file."""
    return compile_pdf(lambda folder: (folder / "solution.tex").write_text(tex, encoding="utf-8"),
                       timeout)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
