"""Temporary and staging folders that a signal cannot leave behind.

A signal handler (``raise_terminated``, Ctrl-C's KeyboardInterrupt) raises wherever
the process is, and that may be inside ``mkdtemp`` before its folder is handed over,
or inside the ``rmtree`` removing one. The folder is then left, half full. Here a
folder is made and removed with the signals held back: one that arrives meanwhile is
raised again when the folder is made (and owned by a ``try``) or gone.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator

HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def hold_signals() -> Callable[[], None]:
    """Hold back SIGINT, SIGTERM and SIGHUP until the function returned is called; it
    puts back the handlers that were there and raises again, to them, each signal that
    arrived meanwhile. (Handlers run in the main thread only: elsewhere nothing is held.)"""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in HELD}

    def release() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(arrived):
            signal.raise_signal(sig)

    return release


def remove_folder(folder: str | Path) -> None:
    """``shutil.rmtree`` (errors ignored), not cut short by a signal."""
    release = hold_signals()
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        release()


@contextlib.contextmanager
def staging_folder(prefix: str, parent: str | Path | None = None,
                   keep: bool = True) -> Iterator[Path]:
    """A fresh folder (``tempfile.mkdtemp``, mode 0700) in *parent*, the temporary
    directory by default. It is removed if the block raises, and when it ends well
    unless *keep* (the block moved it into place). A signal that arrives while it is
    made is raised once the folder is made: the folder is removed, the block not run."""
    release = hold_signals()
    try:
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except BaseException:
        release()
        raise
    try:
        release()
        yield folder
    except BaseException:
        remove_folder(folder)
        raise
    if not keep:
        remove_folder(folder)


def temporary_folder(prefix: str = "em-explainer-") -> contextlib.AbstractContextManager[Path]:
    """A fresh folder in the temporary directory, removed when the block ends, however
    it ends (``tempfile.TemporaryDirectory``, without the two windows above)."""
    return staging_folder(prefix, keep=False)
