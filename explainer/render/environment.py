"""The Jinja2 environment: where templates are found, the filters, the compile cache."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

from .filters import FILTERS


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


def _bytecode_cache() -> FileSystemBytecodeCache | None:
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
    return _BestEffortCache(folder)


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """One shared environment; a missing variable fails loudly (StrictUndefined)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(FILTERS)
    return env
