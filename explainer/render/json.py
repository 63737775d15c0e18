"""Trace <-> JSON (schema ``em-explainer/trace@1``, keys as in DESIGN.md).

JSON is data, not a document, so it is written as json.dumps(indent=2) lays it out
rather than from a template. It holds everything a document shows, so that a saved
trace renders again byte for byte without recomputing EM: the per-point arrays of the
E-steps kept in detail (``log_weighted``, ``log_mixture``, ``responsibilities``) and
the M-step's sums. Floats are written as the shortest text that reads back as the same
double (``repr`` for single values, orjson from the numpy arrays); a log of 0
(``-inf``) is written as null. Both ways are streams: the writer formats a block of
rows at a time (:func:`iter_json`), the file reader
(:func:`.json_reader.trace_from_file`) puts the numbers straight into arrays.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import orjson

from .. import defaults
from ..families import model_of
from ..families.writing import spec_of
from ..trace import (EStep, Event, Iteration, Params, Trace)


# The published JSON Schema of the trace (shipped in the package).
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "trace-1.schema.json"


def _params(params: Params, names: dict[str, str]) -> dict[str, Any]:
    """The parameters under the keys the model plug-in saves them by (*names*: its
    ``saved_names``, a Gaussian's covariance matrices as ``covariances``)."""
    return {names[name]: params.get(name) for name in params.names}


class _Logs:
    """A float array written with -inf (the log of 0) as null: JSON has no infinities."""

    def __init__(self, array: np.ndarray):
        self.array = array


def _events(events: tuple[Event, ...]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "component": e.component + 1, "value": e.value, "floor": e.floor,
             **({"cause": e.cause, "points": e.points} if e.cause else {})}
            for e in events]


def _estep(estep: EStep) -> dict[str, Any]:
    out: dict[str, Any] = {"log_likelihood": estep.log_likelihood,
                           "responsibilities": None}
    if estep.detail is not None:
        out["responsibilities"] = estep.detail.resp
        out["log_weighted"] = _Logs(estep.detail.log_weighted)
        out["log_mixture"] = _Logs(estep.detail.log_mixture)
    return out


def _iteration(it: Iteration, names: dict[str, str]) -> dict[str, Any]:
    e = _estep(it.estep)
    out = {
        "index": it.index,
        "log_likelihood": it.log_likelihood,
        "log_likelihood_after": it.log_likelihood_after,
        # Per-point arrays are kept only for the iterations shown in detail.
        "responsibilities": e.pop("responsibilities"),
        "N_k": it.mstep.nk,
        **_params(it.mstep.params, names),
        "sum_rx": it.mstep.sum_rx,
        "sum_rsq": it.mstep.sum_rsq,
        **({} if it.mstep.sum_rm is None else {"sum_rm": it.mstep.sum_rm}),
        "updated": list(it.mstep.updated),
        "events": _events(it.mstep.events),
    }
    out.update({k: v for k, v in e.items() if k != "log_likelihood"})
    return out


def _run(trace: Trace, names: dict[str, str]) -> dict[str, Any]:
    """What one run computed: its start, iterations and final E-step (*names*: the
    model's ``saved_names``)."""
    assert trace.final is not None
    return {
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  **_params(trace.start.params, names),
                  **({"events": _events(trace.start.events)} if trace.start.events else {})},
        "iterations": [_iteration(it, names) for it in trace.iterations],
        "final": {**_params(trace.final.params, names), **_estep(trace.final)},
        "converged": trace.converged,
        "stop_reason": trace.stop_reason,
        "events": _events(trace.events),
    }


def _texts(array: np.ndarray) -> Any:
    """Exact values as SymPy-parsable texts, nested as the array."""
    from ..exact import exact_text

    return [_texts(a) for a in array] if array.ndim > 1 else [exact_text(v) for v in array]


def _exact_params(params: Params, names: dict[str, str]) -> dict[str, Any]:
    return {names[name]: _texts(params.get(name)) for name in params.names}


def _exact_estep(estep: EStep) -> dict[str, Any]:
    detail = estep.detail
    if detail is None:
        return {"responsibilities": None}
    return {"responsibilities": _texts(detail.resp), "log_weighted": _texts(detail.log_weighted),
            "log_mixture": _texts(detail.log_mixture)}


def _exact_iteration(it: Iteration, names: dict[str, str]) -> dict[str, Any]:
    """An iteration's exact values, under the keys of its float ones."""
    out = _exact_estep(it.estep)
    responsibilities = out.pop("responsibilities")
    mstep = it.mstep
    return {"responsibilities": responsibilities, "N_k": _texts(mstep.nk),
            **_exact_params(mstep.params, names), "sum_rx": _texts(mstep.sum_rx),
            "sum_rsq": None if mstep.sum_rsq is None else _texts(mstep.sum_rsq),
            **({} if mstep.sum_rm is None else {"sum_rm": _texts(mstep.sum_rm)}), **out}


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON-ready data: with exact values, an ``exact`` object in each
    iteration the exact run reached (and ``exact`` at the top: its start, its final
    E-step for an E-step-only question, and why it stopped short); with a rounded carry,
    the full-precision run as ``full_precision``."""
    return _plain(_document(trace))


def _plain(value: Any) -> Any:
    """The document's arrays as nested lists (log arrays with None for -inf)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, _Logs):
        return _plain_logs(value.array)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _plain_logs(array: np.ndarray) -> Any:
    return [_plain_logs(a) for a in array] if array.ndim > 1 else [
        None if v == -math.inf else v for v in array.tolist()]


def _document(trace: Trace) -> dict[str, Any]:
    """The trace's JSON document, its arrays still numpy arrays (see :func:`iter_json`)."""
    problem = spec_of(trace.problem)
    if "data" in problem:  # (a million points: formatted as an array, not one by one)
        problem["data"] = _float_array(problem["data"])
    names = model_of(trace.problem).saved_names()
    out = {"schema": defaults.SCHEMA, "problem": problem, **_run(trace, names)}
    if trace.problem.exact:
        exact = trace.exact
        out["exact"] = {"iterations": 0 if exact is None else len(exact.iterations),
                        "budget": trace.exact_budget,
                        "start": (None if exact is None
                                  else _exact_params(exact.start.params, names)),
                        # Only an E-step-only question has an exact final E-step (the
                        # exact run has no final E-step after iterations: the document
                        # does not show one; a run stopped by its budget keeps an E-step
                        # of an iteration, which is not the final one).
                        "final": None if exact is None or exact.final is None
                        or trace.problem.iterations > 0
                        else {**_exact_params(exact.final.params, names),
                              **_exact_estep(exact.final)}}
        for item, it in zip(out["iterations"], exact.iterations if exact else ()):
            item["exact"] = _exact_iteration(it, names)
    if trace.full is not None:
        out["full_precision"] = _run(trace.full, names)
    return out


def _float_array(values: Any) -> Any:
    """A list of floats, or of equal rows of floats, as a numpy array (the same JSON);
    anything else as it is (whole numbers, names)."""
    if not isinstance(values, list) or not values:
        return values
    rows = values if isinstance(values[0], list) else [values]
    width = len(rows[0])
    if all(isinstance(row, list) and len(row) == width and all(type(v) is float for v in row)
           for row in rows):
        return np.array(values, dtype=np.float64)
    return values


def render_json(trace: Trace) -> str:
    return "".join(iter_json(trace))


CHUNK = 1 << 20  # characters of JSON text handed on at a time


def iter_json(trace: Trace) -> Iterator[str]:
    """The trace's JSON text in pieces of about :data:`CHUNK` characters: the text of
    ``json.dumps(trace_to_dict(trace), indent=2) + "\\n"`` but for the spelling of some
    numbers (orjson writes 1e-05 as 0.00001: the same double), written from the numpy
    arrays a block of rows at a time: no list of Python floats for the whole trace, no
    string of the whole document (a million points' responsibilities are 3 GB as
    Python objects)."""
    pending: list[str] = []
    size = 0
    for piece in _encode(_document(trace), ""):
        pending.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(pending)
            pending, size = [], 0
    pending.append("\n")
    yield "".join(pending)


_STRING = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _scalar(value: Any) -> str:
    """A number, text, boolean or null as json.dumps writes it (no NaN, no infinity)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _STRING(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode(value: Any, indent: str) -> Iterator[str]:
    """*value* as json.dumps(indent=2) writes it at the depth of *indent*."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            yield "{}"
            return
        yield "{\n"
        for i, (key, item) in enumerate(value.items()):
            yield f"{',' if i else ''}{chr(10) if i else ''}{inner}{_STRING(key)}: "
            yield from _encode(item, inner)
        yield f"\n{indent}}}"
    elif isinstance(value, list):
        if not value:
            yield "[]"
            return
        yield "[\n"
        for i, item in enumerate(value):
            yield f",\n{inner}" if i else inner
            yield from _encode(item, inner)
        yield f"\n{indent}]"
    elif isinstance(value, (np.ndarray, _Logs)):
        yield from _encode_array(value.array if isinstance(value, _Logs) else value,
                                 indent, isinstance(value, _Logs))
    else:
        yield _scalar(value)


def _encode_array(array: np.ndarray, indent: str, logs: bool) -> Iterator[str]:
    """A numpy array as json.dumps(indent=2) lays out the nested lists of its .tolist(),
    in blocks of about :data:`ROW_BLOCK` values, each number the shortest text that
    reads back as the same double (:func:`_float_block`)."""
    if array.size == 0 or array.ndim == 0 or array.dtype.kind != "f":
        yield from _encode(_plain_logs(array) if logs and array.ndim else array.tolist(),
                           indent)
        return
    inner = indent + "  "
    if array.ndim > 2:
        yield "[\n"
        for i, row in enumerate(array):
            yield f",\n{inner}" if i else inner
            yield from _encode_array(row, inner, logs)
        yield f"\n{indent}]"
        return
    if array.ndim == 1:
        separator = f",\n{inner}"
        yield "[\n" + inner
        for start in range(0, len(array), ROW_BLOCK):  # a long vector (N values) in blocks
            text = _float_block(array[start:start + ROW_BLOCK], logs)[1:-1]
            yield (separator if start else "") + text.replace(",", separator)
        yield f"\n{indent}]"
        return
    # A matrix (N points x K components): whole rows a block at a time.
    cell = inner + "  "
    between, row_break = f",\n{cell}", f"\n{inner}],\n{inner}[\n{cell}"
    rows_per_block = max(1, ROW_BLOCK // array.shape[1])
    yield "[\n"
    for start in range(0, len(array), rows_per_block):
        # [[a,b],[c,d]] -> its rows' values, one a line; the rows, one bracket pair each
        text = _float_block(array[start:start + rows_per_block], logs)[2:-2]
        text = text.replace("],[", "\0").replace(",", between).replace("\0", row_break)
        yield (f",\n{inner}" if start else inner) + f"[\n{cell}{text}\n{inner}]"
    yield f"\n{indent}]"


def _float_block(values: np.ndarray, logs: bool) -> str:
    """The floats of *values* as one compact JSON array (``[0.5,1e-7]``; a matrix's rows
    nested), each the shortest text that reads back as the same double, written by
    orjson from the array itself (Python's repr takes half a microsecond a number:
    minutes for a million points' trace); -inf as null in a log array. NaN and other
    infinities are refused, as json.dumps(allow_nan=False) refuses them."""
    finite = np.isfinite(values)
    if not finite.all():
        bad = ~finite & ~(logs & (values == -np.inf))
        if bad.any():
            value = float(values.ravel()[np.flatnonzero(bad)[0]])
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    # (orjson writes -inf as null.)
    return orjson.dumps(np.ascontiguousarray(values, dtype=np.float64),
                        option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")


ROW_BLOCK = 10_000  # values of a vector formatted at a time
