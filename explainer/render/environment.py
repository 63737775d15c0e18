"""The Jinja2 environment: where templates are found, and the filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from .filters import FILTERS


def templates_dir() -> Path:
    """The template folder: inside the installed package, or templates/ of a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    if installed.is_dir():
        return installed
    return package.parent / "templates"


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
    )
    env.filters.update(FILTERS)
    return env
