"""The Jinja2 environments: where templates are found, the filters, the compile cache.

Markdown templates use Jinja's usual delimiters; LaTeX templates use LaTeX-safe
ones (``\\VAR{...}``, ``\\BLOCK{...}``, ``\\#{...}``) so that TeX's braces and
``%`` comments never collide with the template language. Both share the filters. The
parts written once for every format (``templates/parts/``) use the usual delimiters and
are read by the LaTeX environment with its own (:mod:`explainer.render.syntax`).

A folder of the user's templates (``--templates DIR``) is searched before ours, so
any template can be replaced by one of the same name, and the user's own templates
can import ours (``{% from "em/macros.md.j2" import estep_table with context %}``).
With the user's templates, every template runs in Jinja's sandbox: a template can
format the trace, not reach Python's internals.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .. import defaults
from ..errors import RenderError, Terminated
from .documents import asked_of, words_of
from .filters import FILTERS, RENAMED_FILTERS, md_text, tex_document_text
from .syntax import SharedTreeLoader, vocabulary

# What a user's template may make (``--templates``): strings and lists built by one
# expression, the rendered document, the time and the memory of a render.
MAX_TEMPLATE_ITEMS = 1_000_000  # characters of a string, or items of a list
MAX_DOCUMENT_CHARS = 64 << 20
RENDER_MEMORY = 512 << 20  # bytes a user template's render may add
_NUMBER_IN_FORMAT = re.compile(r"\d+")
BUILTIN = "builtin"  # the prefix that names our templates whatever the user's replace


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} would exceed {MAX_TEMPLATE_ITEMS:,} characters or items")


def _check_format(text: Any) -> None:
    """A format string may not ask for a width or precision above the item limit."""
    if isinstance(text, str) and any(int(m) > MAX_TEMPLATE_ITEMS
                                     for m in _NUMBER_IN_FORMAT.findall(text)):
        raise _too_big("a formatted string")


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with the operators that can build a huge value bounded:
    ``'x' * 10**10``, ``[0] * 10**9``, ``10 ** 10**9``, a format width of 10**9."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _size(sequence)
                if size is not None and isinstance(times, int) and \
                        size * times > MAX_TEMPLATE_ITEMS:
                    raise _too_big("a repeated string or list")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and \
                    right * abs(left).bit_length() > 4 * MAX_TEMPLATE_ITEMS:
                raise _too_big("a power")
        elif operator == "+":
            if (_size(left) or 0) + (_size(right) or 0) > MAX_TEMPLATE_ITEMS:
                raise _too_big("a joined string or list")
        elif operator == "%":
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # str.format and format_map, wrapped when looked up
            _check_format(value.__self__)
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__self__", None).__class__ is str:
            name = getattr(__obj, "__name__", "")
            numbers = [a for a in (*args, *kwargs.values())
                       if isinstance(a, int) and not isinstance(a, bool)]
            if any(n > MAX_TEMPLATE_ITEMS for n in numbers) or (
                    name == "replace" and len(args) >= 2 and _size(args[1]) and
                    len(__obj.__self__) * len(args[1]) > MAX_TEMPLATE_ITEMS):
                raise _too_big(f"str.{name}")
        return super().call(__context, __obj, *args, **kwargs)


def _bounded_filters() -> dict[str, Any]:
    """Jinja's filters that pad or repeat, bounded like the operators."""
    from jinja2 import filters as jf

    def center(value: Any, width: int = 80) -> str:
        if isinstance(width, int) and width > MAX_TEMPLATE_ITEMS:
            raise _too_big("center")
        return jf.do_center(value, width)

    def indent(s: str, width: Any = 4, *args: Any, **kwargs: Any) -> str:
        if isinstance(width, int) and width > MAX_TEMPLATE_ITEMS or (
                isinstance(width, str) and len(width) > MAX_TEMPLATE_ITEMS):
            raise _too_big("indent")
        return jf.do_indent(s, width, *args, **kwargs)

    def format(value: str, *args: Any, **kwargs: Any) -> str:
        _check_format(value)
        return jf.do_format(value, *args, **kwargs)

    def replace(eval_ctx: Any, s: str, old: str, new: str, count: Any = None) -> str:
        if len(str(s)) * max(len(str(new)), 1) > MAX_TEMPLATE_ITEMS and str(old) in str(s):
            raise _too_big("replace")
        return jf.do_replace(eval_ctx, s, old, new, count)

    replace.jinja_pass_arg = jf.do_replace.jinja_pass_arg  # type: ignore[attr-defined]
    return {"center": center, "indent": indent, "format": format, "replace": replace}

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


def _bytecode_cache(kind: str, sandboxed: bool) -> FileSystemBytecodeCache | None:
    """``$EM_EXPLAINER_CACHE_DIR`` (empty: no cache), else the user's cache folder."""
    folder = os.environ.get("EM_EXPLAINER_CACHE_DIR")
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "em-explainer", f"jinja-{jinja2.__version__}")
    if not folder:
        return None
    # The compiled code depends on the sandbox's intercepted operators: code compiled
    # by another version (without them), or for our own templates alone (no sandbox),
    # must never be loaded in the sandbox.
    intercepted = ",".join(sorted(_BoundedSandbox.intercepted_binops)) if sandboxed \
        else "trusted"
    # So does the environment's autoescaping (code compiled without it prints markup raw).
    compiled_with = f"{intercepted};autoescape={','.join(AUTOESCAPED)}"
    folder = os.path.join(folder, hashlib.sha256(compiled_with.encode()).hexdigest()[:12])
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    # One cache file per (kind, template): the two syntaxes compile the same name differently.
    return _BestEffortCache(folder, pattern=f"__jinja2_{kind}_%s.cache")


# The templates that escape what they print, by the ends of their names.
AUTOESCAPED = ("xml", "html", "xml.j2", "html.j2")


@lru_cache(maxsize=None)
def environment(kind: str = "markdown", templates: str | None = None) -> jinja2.Environment:
    """The shared environment for ``markdown`` or ``latex`` templates, searching the
    folder *templates* first when given.

    A missing variable fails loudly (StrictUndefined).
    """
    syntax = LATEX_SYNTAX if kind == "latex" else {}
    ours = jinja2.FileSystemLoader(str(templates_dir()))
    # Ours are also "builtin/NAME", so that a template of the user's that replaces ours
    # can extend it: {% extends "builtin/markdown/document.md.j2" %}.
    builtin = jinja2.PrefixLoader({BUILTIN: ours})
    loaders: list[jinja2.BaseLoader] = [ours, builtin]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(templates))
    loader: jinja2.BaseLoader = jinja2.ChoiceLoader(loaders)
    if kind == "latex":  # the shared tree's parts, read in the LaTeX syntax
        loader = SharedTreeLoader(loader)
    # The sandbox is for a user's templates. Ours alone run as they are: they are our
    # code, the data they print never becomes template code, and the sandbox's checks
    # of every attribute and call cost a twentieth of an exam's time.
    env = (_BoundedSandbox if templates is not None else jinja2.Environment)(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # XML and HTML templates escape what they print: a value is text unless it was
        # made as markup (markupsafe.Markup: a macro's output, our own HTML); Markdown,
        # LaTeX and the rest have escaping filters of their own.
        autoescape=jinja2.select_autoescape(AUTOESCAPED, default_for_string=False,
                                            default=False),
        bytecode_cache=_bytecode_cache(kind, templates is not None),
        # Ours do not change while a process runs: no stat of every template file at
        # every render (a thousand exam variants made a hundred thousand). A user's
        # templates may be edited between renders (in a notebook): looked at again.
        auto_reload=templates is not None,
        **syntax,
    )
    env.filters.update(_bounded_filters())
    env.filters.update(FILTERS)
    env.tests["gap"] = is_gap
    env.globals.update(vocabulary(kind))
    # User text as the format writes it (a label, a title): what a shared part prints.
    env.filters["escaped"] = md_text
    if kind == "latex":
        env.filters["tex"] = tex_document_text
        env.filters["escaped"] = tex_document_text
        # A number in scientific notation is one group, and a result stays with its
        # relation: TeX breaks a line after a relation or a binary operator.
        env.globals["unbreakable_numbers"] = True
    # How a model is named in words and symbols, from its document plug-in.
    env.globals["model_words"] = words_of
    # How an exam's question asks for a model's own quantities, from the same plug-in.
    env.globals["model_asked"] = asked_of
    env.globals["no_user_macros"] = _no_user_macros
    return env


@jinja2.pass_context
def _no_user_macros(context: Any, name: str) -> str:
    """em/macros.md.j2's *name* called on a page whose model has none: a clear error."""
    raise RenderError(f"templates: em/macros.md.j2's {name} is written for Gaussian "
                      f"mixtures; a {context.get('family')} mixture's page has no such "
                      f"macro yet: import its parts from parts/familyparts.j2 instead")


def _renamed(message: str | None) -> str:
    """For a filter of ours that was renamed, the name it has now."""
    found = re.fullmatch(r"No filter named '(\w+)'\.?", message or "")
    if found and found[1] in RENAMED_FILTERS:
        return f" (it is now called '{RENAMED_FILTERS[found[1]]}')"
    return ""


def is_gap(term: Any) -> bool:
    """``t is gap``: the omitted terms of a written-out sum (``skeleton.gap_term``)."""
    return isinstance(term, dict) and "gap" in term


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """A rendered document with one blank line where template control flow left several,
    and one newline at its end."""
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


def render_template(kind: str, name: str, context: dict[str, Any],
                    templates: str | None = None) -> str:
    """Render template *name* with *context*. With the user's *templates* folder, a
    template error (their mistake, not ours) is reported as a clear RenderError, and
    the render is bounded in time, memory and size (:func:`_isolated`)."""
    env = environment(kind, None if templates is None else str(Path(templates).resolve()))
    if templates is None:
        return env.get_template(name).render(context)
    if not Path(templates).is_dir():
        raise RenderError(f"templates: not a folder: {templates}")
    return _isolated(lambda: _render_user(env, name, context))


def _render_user(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        template = env.get_template(name)
        parts, size = [], 0
        for part in template.generate(context):
            size += len(part)
            if size > MAX_DOCUMENT_CHARS:
                raise RenderError(f"templates: {name}: the document would exceed "
                                  f"{MAX_DOCUMENT_CHARS >> 20} MiB")
            parts.append(part)
        return "".join(parts)
    except SecurityError as exc:
        raise RenderError(f"templates: {_where(exc)}not allowed in a template (sandbox): "
                          f"{exc}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"templates: {exc.filename or exc.name}:{exc.lineno}: "
                          f"{exc.message}{_renamed(exc.message)}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"templates: template not found: {exc.name}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"templates: {_where(exc)}{type(exc).__name__}: {exc}") from None
    except (RenderError, KeyboardInterrupt, Terminated):
        raise
    except MemoryError:
        raise RenderError(f"templates: {_where(None)}the render used more than "
                          f"{RENDER_MEMORY >> 20} MiB") from None
    except RecursionError:
        raise RenderError(f"templates: {_where(None)}recursion too deep") from None
    except Exception as exc:  # the user's template failed: their fault, not an internal one
        raise RenderError(f"templates: {_where(exc)}{type(exc).__name__}: {exc}") from None


def _where(exc: BaseException | None) -> str:
    """``file.j2:LINE: `` of the user's template frame the error came from, if any."""
    tb = exc.__traceback__ if exc is not None else None
    found = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") and not filename.startswith(str(templates_dir())):
            found = f"{Path(filename).name}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return found


def _isolated(render: Any) -> str:
    """Run *render* (a user's template) in a forked child limited to
    ``defaults.RENDER_SECONDS`` and :data:`RENDER_MEMORY`; its RenderError comes back as one.
    Without fork (Windows) it runs here, bounded by the sandbox's operators only."""
    import pickle
    import resource
    import select
    import signal
    import time

    if not hasattr(os, "fork"):
        return render()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: render, send (ok, text or message), leave at once
        status = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            used = _address_space()
            if used is not None:
                soft, hard = resource.getrlimit(resource.RLIMIT_AS)
                limit = used + RENDER_MEMORY
                if hard != resource.RLIM_INFINITY:
                    limit = min(limit, hard)
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            try:
                result = (True, render())
            except RenderError as exc:
                result = (False, str(exc))
            except MemoryError:
                result = (False, f"templates: the render used more than "
                                 f"{RENDER_MEMORY >> 20} MiB")
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    chunks = []
    limit = defaults.seconds("EM_EXPLAINER_RENDER_TIMEOUT", defaults.RENDER_SECONDS)
    deadline = time.monotonic() + limit
    try:
        with os.fdopen(read_end, "rb") as pipe:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RenderError(f"templates: the render took more than {limit:g} s")
                ready, _, _ = select.select([pipe], [], [], left)
                if ready:
                    chunk = os.read(pipe.fileno(), 1 << 20)
                    if not chunk:
                        break
                    chunks.append(chunk)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    try:
        ok, value = pickle.loads(b"".join(chunks))
    except Exception:
        raise RenderError("templates: the render failed (it ran out of memory or "
                          "crashed)") from None
    if not ok:
        raise RenderError(value)
    return value


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
