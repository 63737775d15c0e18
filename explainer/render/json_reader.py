"""JSON -> trace (schema ``em-explainer/trace@1``): a saved trace rebuilt without
recomputing EM, from a text (:func:`trace_from_json`) or from a file read as a stream
(:func:`trace_from_file`: its numbers go straight into arrays, bounded in size, count and
depth). :mod:`.json` writes them.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import defaults
from ..backend import FLOAT, Backend, RoundedBackend
from ..errors import ProblemError
from ..families import model_of
from ..inputs import load_json
from ..trace import (EStep, Event, FamilyDetail, Iteration, MStep, Params, PointDetail, Start,
                     Trace)
from .trace_schema import check_structure, damaged, got_text


def _array(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype == np.float64:  # (read as a stream)
        result = values.view()  # (read-only below; the caller's array is left as it is)
    else:
        objects = np.array(values, dtype=object)
        objects[objects == None] = -math.inf  # noqa: E711 (elementwise comparison)
        result = objects.astype(float)
    result.setflags(write=False)
    return result


def _read_events(items: list[dict[str, Any]]) -> tuple[Event, ...]:
    return tuple(Event(e["kind"], int(e["component"]) - 1, float(e["value"]),
                       float(e["floor"]), str(e.get("cause", "")), int(e.get("points", 0)))
                 for e in items)


class _Reader:
    """Reads one run's arrays: floats, or exact values (texts parsed without eval), each
    of the shape the problem gives it (an error names its JSON path)."""

    def __init__(self, xp: Backend, model: Any, n: int, exact: bool = False):
        self.xp = xp
        self.exact = exact
        # The model plug-in (explainer.families), bound to the problem: its records.
        self.model = model
        k = model.problem.components
        self.param_shapes = model.shapes(k)
        self.sum_shapes = {"N_k" if name == "nk" else name: shape
                           for name, shape in model.sum_shapes(k).items()}
        self.point_shapes = {"log_weighted": (n, k), "log_mixture": (n,),
                             "responsibilities": (n, k)}

    def array(self, values: Any, field: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            if not self.exact:
                result = _array(values)
            else:
                from ..exact import parse_exact

                def parse(item: Any, label: str) -> Any:
                    if isinstance(item, list):
                        return [parse(v, f"{label}[{i}]") for i, v in enumerate(item, 1)]
                    try:
                        return parse_exact(item, label)
                    except ProblemError as exc:
                        raise damaged(label, exc.message) from None

                result = self.xp.asarray(parse(values, field))
        except (ValueError, TypeError):  # (lists of unequal lengths)
            raise damaged(field, f"expected shape {shape}, but its lists differ in "
                                  f"length") from None
        if result.shape != shape:
            raise damaged(field, f"expected shape {shape}, but got {result.shape}")
        result.setflags(write=False)
        return result

    def params(self, data: dict[str, Any], where: str) -> Params:
        """The parameters, each under the name the model's saved trace gives it."""
        for name in self.model.saved_names().values():
            if name not in data:
                raise damaged(f"{where}.{name}", "missing")
        return Params(**{field: self.array(data[name], f"{where}.{name}",
                                           self.param_shapes[field]).copy()
                         for field, name in self.model.saved_names().items()})

    def points(self, data: dict[str, Any], name: str, where: str) -> np.ndarray:
        if name not in data:
            raise damaged(f"{where}.{name}", "missing (the responsibilities are given)")
        return self.array(data[name], f"{where}.{name}", self.point_shapes[name])

    def sums(self, data: dict[str, Any], name: str, where: str) -> np.ndarray | None:
        if name not in self.sum_shapes or data.get(name) is None:
            return None
        return self.array(data[name], f"{where}.{name}", self.sum_shapes[name])

    def estep(self, data: dict[str, Any], params: Params, x: np.ndarray,
              log_likelihood: float, where: str) -> EStep:
        detail: PointDetail | FamilyDetail | None = None
        if data.get("responsibilities") is not None:
            resp = self.points(data, "responsibilities", where)
            arrays = {"log_weighted": self.points(data, "log_weighted", where),
                      "log_mixture": self.points(data, "log_mixture", where), "resp": resp}
            detail = self.model.detail_of(x, params, self.xp, **arrays)
        return EStep(params=params, log_likelihood=log_likelihood, detail=detail)

    def iteration(self, item: dict[str, Any], floats: dict[str, Any], params: Params,
                  x: np.ndarray, where: str) -> Iteration:
        """*item* holds this reader's values, *floats* the float ones (log-likelihoods,
        update, events), which are the same dict but for an exact reader."""
        estep = self.estep(item, params, x, float(floats["log_likelihood"]), where)
        after = self.params(item, where)
        mdetail = None if estep.detail is None else self.model.mstep_detail_of(
            x, estep.detail.resp, params, after)
        for name in self.sum_shapes:
            if item.get(name) is None:
                raise damaged(f"{where}.{name}", "missing")
        nk = self.sums(item, "N_k", where)
        sum_rx = self.sums(item, "sum_rx", where)
        assert nk is not None and sum_rx is not None
        mstep = MStep(nk=nk, sum_rx=sum_rx, sum_rsq=self.sums(item, "sum_rsq", where),
                      params=after, updated=tuple(floats["updated"]),
                      events=_read_events(floats["events"]), detail=mdetail,
                      sum_rm=self.sums(item, "sum_rm", where))
        after_ll = floats.get("log_likelihood_after")
        return Iteration(int(floats["index"]), estep, mstep,
                         math.nan if after_ll is None else float(after_ll))


def _read_run(data: dict[str, Any], problem: Any, xp: Backend, prefix: str = "") -> Trace:
    """One float run (the trace's own, or its full-precision companion at *prefix*)."""
    reader = _Reader(xp, model_of(problem), problem.n_samples)
    x = problem.data
    start = Start(data["start"]["method"], reader.params(data["start"], f"{prefix}start"),
                  int(data["start"]["seed"]),
                  events=_read_events(data["start"].get("events", [])))
    iterations = []
    params = start.params
    for i, item in enumerate(data["iterations"], start=1):
        iterations.append(reader.iteration(item, item, params, x, f"{prefix}iterations[{i}]"))
        params = iterations[-1].mstep.params
    final = data["final"]
    return Trace(problem=problem, start=start, iterations=tuple(iterations),
                 final=reader.estep(final, reader.params(final, f"{prefix}final"), x,
                                    float(final["log_likelihood"]), f"{prefix}final"),
                 converged=bool(data["converged"]), stop_reason=str(data["stop_reason"]),
                 events=_read_events(data.get("events", [])))


def _read_exact(data: dict[str, Any], problem: Any) -> Trace | None:
    """The exact companion run, from the ``exact`` objects (None if it has none)."""
    from ..exact import ExactBackend

    section = data["exact"]
    if section.get("start") is None:
        return None
    # Reading computes nothing new (derived quantities only): no time budget.
    backend = ExactBackend()
    backend.release()
    reader = _Reader(backend, model_of(problem), problem.n_samples, exact=True)
    x = reader.xp.asarray(problem.exact_inputs.data)
    x.setflags(write=False)
    start = Start(data["start"]["method"], reader.params(section["start"], "exact.start"),
                  int(data["start"]["seed"]))
    if int(section["iterations"]) > len(data["iterations"]):
        raise damaged("exact.iterations", f"{section['iterations']} exact iterations, but "
                                           f"the trace has {len(data['iterations'])}")
    iterations = []
    params = start.params
    for i, item in enumerate(data["iterations"][:int(section["iterations"])], start=1):
        if "exact" not in item:
            raise damaged(f"iterations[{i}].exact", "missing")
        iterations.append(reader.iteration(item["exact"], item, params, x,
                                           f"iterations[{i}].exact"))
        params = iterations[-1].mstep.params
    final = section.get("final")
    return Trace(problem=problem, start=start, iterations=tuple(iterations),
                 final=None if final is None else reader.estep(
                     final, reader.params(final, "exact.final"), x,
                     float(data["final"]["log_likelihood"]), "exact.final"),
                 converged=False, stop_reason="budget" if section.get("budget") else "iterations",
                 budget=section.get("budget"))


def trace_from_dict(data: dict[str, Any]) -> Trace:
    """Rebuild the frozen trace from :func:`trace_to_dict`'s data (nothing is recomputed),
    after checking it against the trace schema (:mod:`.trace_schema`) and, once read,
    its values against each other (:mod:`.trace_check`)."""
    from ..validation import validate
    from .trace_check import check_trace

    schema = data.get("schema") if isinstance(data, dict) else None
    if not isinstance(schema, str) or schema != defaults.SCHEMA:
        if isinstance(schema, str) and schema.startswith("em-explainer/trace@"):
            raise ProblemError("schema", f"this trace was written as {schema}, but this "
                                         f"em-explainer reads {defaults.SCHEMA}; use a newer "
                                         f"em-explainer to render it")
        raise ProblemError("schema", f"expected an em-explainer trace ({defaults.SCHEMA}), but "
                                     f"got {got_text(schema)}")
    if "problem" not in data:
        raise damaged("problem", "missing")
    try:
        problem = validate(data["problem"])
    except ProblemError as exc:
        raise ProblemError("trace", f"the problem it holds: {exc}") from None
    check_structure(data)
    rounded = problem.carry == "rounded"
    if rounded and "full_precision" not in data:
        raise damaged("full_precision", "missing (a hand calculation's trace holds its run "
                                         "at full precision)")
    if problem.exact and "exact" not in data:
        raise damaged("exact", "missing (a trace of exact values holds them)")
    trace = _read_run(data, problem, RoundedBackend(problem.decimals) if rounded else FLOAT)
    if rounded:
        trace = replace(trace, full=_read_run(data["full_precision"], problem, FLOAT,
                                              "full_precision."))
    if problem.exact:
        trace = replace(trace, exact=_read_exact(data, problem),
                        exact_budget=data["exact"].get("budget"))
    check_trace(trace)
    return trace


def trace_from_json(text: str) -> Trace:
    """Read a trace saved with ``--format json``; a bad file is a clear error."""
    return _trace_of(load_json(text, "trace", depth=False, count=True))


def trace_from_file(path: str | Path) -> Trace:
    """Read the trace file *path* as a stream (:func:`read_trace_document`): what
    ``render`` does, for a trace of a million points too."""
    return _trace_of(read_trace_document(path))


def _trace_of(data: Any) -> Trace:
    try:
        return trace_from_dict(data)
    except ProblemError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ProblemError("trace", f"not a complete em-explainer trace ({type(exc).__name__}: "
                                    f"{exc})") from None


# --------------------------------------------------------------------------- reading a file

# A trace file is read as a stream: its numbers go straight into arrays (8 bytes each,
# not a Python float and a list slot, 32), so that a million points' trace (20 million
# numbers, 600 MB of text) is read in a few hundred MB.
STREAM_VALUES = 40_000_000  # numbers of a trace file
STREAM_OBJECTS = 3_000_000  # lists that are not rows of numbers, and mappings
STREAM_DEPTH = 64  # nesting of lists and mappings


class _Sequence:
    """A JSON array being read: its numbers into one flat array of doubles while its
    items are numbers (null is -inf, as a log array writes it), or rows of numbers of
    one length (a matrix); a list of its items once they are anything else, and in the
    problem (which is read as any spec is)."""

    __slots__ = ("numbers", "width", "rows", "items", "plain")

    def __init__(self, plain: bool):
        self.plain = plain
        self.numbers = array("d")
        self.width: int | None = None  # a matrix's row length
        self.rows = 0
        self.items: list[Any] | None = [] if plain else None

    def number(self, value: Any) -> None:
        if self.items is None and self.width is None and isinstance(value, float):
            self.numbers.append(value)
        else:
            self.other(value)

    def row(self, child: "_Sequence") -> None:
        """Take a finished child array: a row of this matrix, or else an item."""
        if (self.items is None and child.items is None and child.width is None
                and (self.width == len(child.numbers) or self.width is None
                     and not self.numbers)):
            self.width = len(child.numbers)
            self.numbers.extend(child.numbers)
            self.rows += 1
        else:
            self.other(child.value())

    def other(self, value: Any) -> None:
        if self.items is None:  # from now on a list: what it held so far, as items
            held = self.value()
            self.items = list(held) if self.width is not None else held.tolist()
        self.items.append(value)

    def value(self) -> Any:
        if self.items is not None:
            return self.items
        flat = np.frombuffer(self.numbers, dtype=np.float64) if self.numbers else np.empty(0)
        return flat if self.width is None else flat.reshape(self.rows, self.width)


def read_trace_document(path: str | Path) -> Any:
    """The JSON document of the trace file *path*, read as a stream: arrays of numbers
    as numpy arrays, the problem as plain values. Bounded: the file's size (the trace
    limit), :data:`STREAM_VALUES` numbers, :data:`STREAM_OBJECTS` lists and mappings
    kept as Python objects, :data:`STREAM_DEPTH` levels; duplicate keys refused."""
    import os
    import stat

    import ijson

    from ..inputs import FILE_LIMITS, open_input, read_error, size_text

    limit = FILE_LIMITS["trace"]
    with open_input(path, "trace") as opened:
        handle: Any = opened
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):  # a pipe or a device: counted as it is read
            handle = _Limited(handle, limit, path)
        elif info.st_size > limit:
            raise ProblemError("trace", f"{path} is larger than the limit of "
                                        f"{size_text(limit)} for a trace")
        try:
            head = handle.read(3)
            if head == b"\xef\xbb\xbf":  # a byte-order mark, as some editors write
                head = b""
            return _build(ijson.basic_parse(_Joined(head, handle), use_float=True), path)
        except ijson.JSONError as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else "incomplete"
            raise ProblemError("trace", f"malformed JSON in {path}: {text}") from None
        except UnicodeDecodeError:
            raise ProblemError("trace", f"cannot read {path}: not UTF-8 text") from None
        except OSError as exc:
            raise read_error(path, "trace", exc) from None


class _Joined:
    """*head* (bytes already read) and then the rest of *handle*, as one file."""

    def __init__(self, head: bytes, handle: Any):
        self.head, self.handle = head, handle

    def read(self, size: int = -1) -> bytes:
        if self.head and size != 0:  # (ijson reads 0 bytes first, to see their type)
            data, self.head = self.head, b""
            return data
        return self.handle.read(size)


class _Limited:
    """A file read at most *limit* bytes far (a pipe or a device has no size)."""

    def __init__(self, handle: Any, limit: int, path: str | Path):
        self.handle, self.left, self.limit, self.path = handle, limit, limit, path

    def read(self, size: int = -1) -> bytes:
        from ..inputs import size_text

        data = self.handle.read(self.left + 1 if size < 0 else min(size, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise ProblemError("trace", f"{self.path} is larger than the limit of "
                                        f"{size_text(self.limit)} for a trace")
        return data


class _Row:
    """A row of a matrix being read: its numbers go straight into the matrix's array
    (from *start*), no object of its own (a million points have a million rows)."""

    __slots__ = ("matrix", "start")

    def __init__(self, matrix: _Sequence):
        self.matrix, self.start = matrix, len(matrix.numbers)

    def close(self) -> None:
        """The row ends: one more row of the matrix, or (another length) an item."""
        matrix = self.matrix
        length = len(matrix.numbers) - self.start
        if matrix.width is None and matrix.rows == 0:
            matrix.width = length
        if length == matrix.width:
            matrix.rows += 1
        else:
            matrix.other(self.taken().value())

    def taken(self) -> _Sequence:
        """The row as an array of its own, its numbers taken out of the matrix."""
        row = _Sequence(plain=False)
        row.numbers = self.matrix.numbers[self.start:]
        del self.matrix.numbers[self.start:]
        return row


def _build(events: Iterator[tuple[str, Any]], path: str | Path) -> Any:
    """The document of a stream of ijson's basic events (see
    :func:`read_trace_document`)."""
    # (Longer than a function should be: one event loop over the parser's state, which
    # its helpers share as closures; it runs once per number of a trace.)
    stack: list[Any] = []  # open arrays (_Sequence, _Row) and mappings ([dict, key, plain])
    numbers = objects = 0
    root: list[Any] = []
    where = f" in {path}"
    append: Any = None  # where the numbers of the innermost open array go, while it has only
    # numbers: its array's append

    def count_object() -> None:
        nonlocal objects
        objects += 1
        if objects > STREAM_OBJECTS:
            raise ProblemError("trace", f"too large to read{where}: more than "
                                        f"{STREAM_OBJECTS:,} lists and mappings")

    def top() -> Any:
        """The innermost open value, a row made an array of its own if it must hold
        more than numbers."""
        frame = stack[-1]
        if frame.__class__ is _Row:
            frame = stack[-1] = frame.taken()
        return frame

    def target() -> Any:
        if not stack:
            return None
        frame = stack[-1]
        if frame.__class__ is _Row:
            return frame.matrix.numbers.append
        if frame.__class__ is _Sequence and frame.items is None and frame.width is None:
            return frame.numbers.append
        return None

    def add(value: Any) -> None:
        """A finished value into the array or mapping it belongs to."""
        if not stack:
            root.append(value.value() if isinstance(value, _Sequence) else value)
            return
        frame = top()
        if frame.__class__ is _Sequence:
            frame.row(value) if isinstance(value, _Sequence) else frame.other(value)
            return
        mapping, key = frame[0], frame[1]
        if key in mapping:
            raise ProblemError("trace", f"duplicate key {key!r}{where}; each key may be "
                                        f"given once")
        mapping[key] = value.value() if isinstance(value, _Sequence) else value

    def plain() -> bool:
        """Whether a value opened here lies in the problem (read as plain values)."""
        if not stack:
            return False
        frame = stack[-1]
        if frame.__class__ is not list:
            return frame.__class__ is _Sequence and frame.plain
        return frame[2] or (len(stack) == 1 and frame[1] == "problem")

    for event, value in events:
        if event == "number" or event == "null":
            numbers += 1
            if numbers > STREAM_VALUES:
                raise ProblemError("trace", f"too large to read{where}: more than "
                                            f"{STREAM_VALUES:,} values")
            if append is not None and (value.__class__ is float or value is None):
                append(-math.inf if value is None else value)
            else:
                add(value)
                append = target()
        elif event == "map_key":
            stack[-1][1] = value
        elif event == "string" or event == "boolean":
            add(value)
            append = target()
        elif event == "start_array" or event == "start_map":
            if len(stack) >= STREAM_DEPTH:
                raise ProblemError("trace", f"nested too deeply{where} (more than "
                                            f"{STREAM_DEPTH} levels)")
            if event == "start_map":
                count_object()
                if stack:
                    top()
                stack.append([{}, None, plain()])
            else:
                frame = stack[-1] if stack else None
                if (frame.__class__ is _Sequence and frame.items is None and not frame.plain
                        and (frame.width is not None or not frame.numbers)):
                    stack.append(_Row(frame))  # a row of a matrix
                else:
                    if frame is not None:
                        top()
                    stack.append(_Sequence(plain()))
            append = target()
        elif event == "end_array":
            done = stack.pop()
            if done.__class__ is _Row:
                done.close()
            else:
                if done.items is not None:
                    count_object()
                add(done)
            append = target()
        elif event == "end_map":
            add(stack.pop()[0])
            append = target()
    return root[0] if root else None
