"""A signal at the worst moment leaves no folder behind.

CI once found a temporary LaTeX folder left after a SIGTERM to ``exam --format pdf``:
the signal reached a worker while ``tempfile.TemporaryDirectory`` was removing its
folder, and the handler's exception cut the removal short. Here the signal is sent
at exactly those moments (from inside ``rmtree`` and ``mkdtemp``), so that the test
does not depend on luck.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile

import pytest

from explainer.errors import Terminated, raise_terminated
from explainer.unwind import hold_signals, remove_folder, staging_folder, temporary_folder


@pytest.fixture
def terminating():
    """raise_terminated handles SIGTERM and SIGHUP for the test, as in the command."""
    previous = {sig: signal.signal(sig, raise_terminated)
                for sig in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _signalled(function, sig=signal.SIGTERM):
    """*function*, its first call after a signal to this process (whose handler runs
    before the call: ``raise_signal`` runs it at once)."""
    sent = []

    def wrapped(*args, **kwargs):
        if not sent:
            sent.append(sig)
            signal.raise_signal(sig)
        return function(*args, **kwargs)
    return wrapped


def test_a_signal_during_the_removal_of_a_temporary_folder_waits_for_it(
        terminating, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(Terminated):
        with temporary_folder() as folder:
            for name in ("solution.tex", "solution.log", "solution.pdf"):
                (folder / name).write_text("x")
            monkeypatch.setattr(shutil, "rmtree", _signalled(shutil.rmtree))
    assert list(tmp_path.iterdir()) == []


def test_the_library_s_own_temporary_directory_would_have_left_it(
        terminating, tmp_path, monkeypatch):
    """The same moment with tempfile.TemporaryDirectory: the test above can fail."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(Terminated):
        with tempfile.TemporaryDirectory() as name:
            with open(os.path.join(name, "solution.tex"), "w") as handle:
                handle.write("x")
            monkeypatch.setattr(os, "unlink", _signalled(os.unlink))
    monkeypatch.undo()
    assert len(list(tmp_path.iterdir())) == 1


def test_a_signal_while_a_folder_is_made_is_raised_once_it_is_owned(
        terminating, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "mkdtemp", _signalled(tempfile.mkdtemp))
    entered = []
    with pytest.raises(Terminated):
        with staging_folder(".out.", tmp_path):
            entered.append(True)
    assert entered == [] and list(tmp_path.iterdir()) == []


def test_a_staging_folder_is_kept_when_the_block_ends_well_and_removed_when_not(tmp_path):
    with staging_folder(".out.", tmp_path) as folder:
        (folder / "a").write_text("x")
    assert folder.is_dir() and (folder / "a").read_text() == "x"
    with pytest.raises(KeyboardInterrupt):
        with staging_folder(".out.", tmp_path) as other:
            (other / "a").write_text("x")
            raise KeyboardInterrupt
    assert sorted(tmp_path.iterdir()) == [folder]


def test_ctrl_c_during_a_removal_is_raised_after_it(tmp_path):
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a").write_text("x")
    real = shutil.rmtree
    try:
        shutil.rmtree = _signalled(real, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            remove_folder(folder)
    finally:
        shutil.rmtree = real
    assert not folder.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_held_signals_go_back_to_their_handlers(terminating):
    release = hold_signals()
    signal.raise_signal(signal.SIGHUP)
    signal.raise_signal(signal.SIGHUP)
    assert signal.getsignal(signal.SIGHUP) is not raise_terminated
    with pytest.raises(Terminated):
        release()  # (once: the first Terminated sets both signals aside)
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def test_terminated_once_a_second_signal_cannot_cut_the_clean_up_short(terminating):
    with pytest.raises(Terminated):
        signal.raise_signal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        assert signal.getsignal(sig) is signal.SIG_IGN
    signal.raise_signal(signal.SIGTERM)  # ignored: the clean-up goes on
    signal.raise_signal(signal.SIGHUP)
