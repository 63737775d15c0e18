"""The Jinja2 environments: where templates are found, the filters, the compile cache.

Markdown templates use Jinja's usual delimiters; LaTeX templates use LaTeX-safe
ones (``\\VAR{...}``, ``\\BLOCK{...}``, ``\\#{...}``) so that TeX's braces and
``%`` comments never collide with the template language. Both share the filters.

A folder of the user's templates (``--templates DIR``) is searched before ours, so
any template can be replaced by one of the same name, and the user's own templates
can import ours (``{% from "em/macros.md.j2" import estep_table with context %}``).
Every template runs in Jinja's sandbox: a template can format the trace, not reach
Python's internals.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ..errors import RenderError
from .filters import FILTERS

LATEX_SYNTAX: dict[str, Any] = {
    "block_start_string": r"\BLOCK{",
    "block_end_string": "}",
    "variable_start_string": r"\VAR{",
    "variable_end_string": "}",
    "comment_start_string": r"\#{",
    "comment_end_string": "}",
    "line_statement_prefix": None,
    "line_comment_prefix": None,
}


def templates_dir() -> Path:
    """The template folder: inside the installed package, or templates/ of a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    if installed.is_dir():
        return installed
    return package.parent / "templates"


class _BestEffortCache(FileSystemBytecodeCache):
    """Compiled templates kept between runs; a cache that cannot be written is skipped.

    Compiling the templates costs more than rendering a document, so a second run
    reuses the compiled code. Entries are keyed by the template source's checksum,
    so an edited template is never served stale.
    """

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache(kind: str) -> FileSystemBytecodeCache | None:
    """``$EM_EXPLAINER_CACHE_DIR`` (empty: no cache), else the user's cache folder."""
    folder = os.environ.get("EM_EXPLAINER_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "em-explainer", f"jinja-{jinja2.__version__}")
    if not folder:
        return None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    # One cache file per (kind, template): the two syntaxes compile the same name differently.
    return _BestEffortCache(folder, pattern=f"__jinja2_{kind}_%s.cache")


@lru_cache(maxsize=None)
def environment(kind: str = "markdown", templates: str | None = None) -> jinja2.Environment:
    """The shared environment for ``markdown`` or ``latex`` templates, searching the
    folder *templates* first when given.

    A missing variable fails loudly (StrictUndefined).
    """
    syntax = LATEX_SYNTAX if kind == "latex" else {}
    ours = jinja2.FileSystemLoader(str(templates_dir()))
    loader: jinja2.BaseLoader = ours
    if templates is not None:
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(templates), ours])
    env = SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(kind),
        **syntax,
    )
    env.filters.update(FILTERS)
    return env


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """A rendered document with one blank line where template control flow left several,
    and one newline at its end."""
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


def render_template(kind: str, name: str, context: dict[str, Any],
                    templates: str | None = None) -> str:
    """Render template *name* with *context*. With the user's *templates* folder, a
    template error (their mistake, not ours) is reported as a clear RenderError."""
    env = environment(kind, None if templates is None else str(Path(templates).resolve()))
    if templates is None:
        return env.get_template(name).render(context)
    if not Path(templates).is_dir():
        raise RenderError(f"templates: not a folder: {templates}")
    try:
        return env.get_template(name).render(context)
    except SecurityError as exc:
        raise RenderError(f"templates: not allowed in a template (sandbox): {exc}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"templates: {exc.filename or exc.name}:{exc.lineno}: "
                          f"{exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"templates: template not found: {exc.name}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"templates: {type(exc).__name__}: {exc}") from None
