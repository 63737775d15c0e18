"""Worker processes, one per core, each with a pipe of its own: an exam's variants are
made, and its PDFs compiled, on every core (see :func:`in_pool`)."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from ..errors import RenderError


def cores() -> int:
    """The processors this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def in_pool(job: Callable[[Any], Any], items: Any, chunksize: int = 1) -> Iterator[Any]:
    """job(item) of every item, in order, made by worker processes, one per core.

    Each worker has a pipe of its own and the chunks of *chunksize* items are dealt out
    in turn (two in flight per worker). No lock is shared between the workers, as it is
    in a ``multiprocessing.Pool``: a signal to the whole process group (a terminal's
    Ctrl-C, a group's SIGTERM) may kill a worker at any moment, and a pool would then
    wait forever on the lock the dead worker held, or start new workers behind our back.
    Done, the workers are told to end; closed early (``contextlib.closing``), on an
    error or a signal they are terminated (a worker in a PDF job kills its LaTeX
    process group first). The workers are gone when it returns."""
    import multiprocessing

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    workers: list[tuple[Any, Any]] = []
    done = False
    try:
        for _ in range(min(cores(), len(chunks))):
            ours, theirs = multiprocessing.Pipe()
            process = multiprocessing.Process(target=serve, args=(job, theirs), daemon=True)
            process.start()
            theirs.close()
            workers.append((process, ours))
        sent = 0

        def deal() -> None:  # the next chunk, to the worker whose turn it is
            nonlocal sent
            workers[sent % len(workers)][1].send(chunks[sent])
            sent += 1

        while sent < min(len(chunks), 2 * len(workers)):
            deal()
        for index in range(len(chunks)):
            process, pipe = workers[index % len(workers)]
            try:
                ok, value = pipe.recv()
            except EOFError:
                process.join()
                raise RenderError(f"a worker process ended unexpectedly (exit status "
                                  f"{process.exitcode})") from None
            if not ok:
                raise value
            if sent < len(chunks):
                deal()
            yield from value
        done = True
    finally:
        for process, pipe in workers:
            if done:
                try:
                    pipe.send(None)
                except OSError:  # (it has ended already)
                    pass
            elif process.is_alive():
                process.terminate()
        for process, pipe in workers:
            process.join()
            pipe.close()


def serve(job: Callable[[Any], Any], pipe: Any) -> None:
    """A worker of :func:`in_pool`: job(item) of every item of each chunk it is sent,
    until it is sent None; an error is sent back, for the command's process to raise."""
    quiet_worker()
    while True:
        try:
            chunk = pipe.recv()
        except EOFError:  # the command's process is gone
            return
        if chunk is None:
            return
        try:
            answer: tuple[bool, Any] = (True, [job(item) for item in chunk])
        except Exception as exc:  # (raised again in the command's process)
            answer = (False, exc)
        try:
            pipe.send(answer)
        except Exception as exc:  # an error that cannot be pickled: its description
            pipe.send((False, RenderError(f"in a worker process: {exc!r}")))


def quiet_worker() -> None:
    """A worker process (variants' texts, or PDFs) between jobs ends quietly on SIGTERM
    (what terminating it sends; it inherited the command's handler, which would print a
    traceback), and leaves a Ctrl-C (sent to the whole process group) to the command's
    process, which terminates the workers."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
