"""Trace <-> JSON (schema ``em-explainer/trace@1``, keys as in DESIGN.md).

JSON is data, not a document, so it is written with the json module rather than
a template. It holds everything a document shows, so that a saved trace renders
again byte for byte without recomputing EM: the per-point arrays of the E-steps
kept in detail (``log_weighted``, ``log_mixture``, ``responsibilities``) and the
M-step's sums. Floats are written with ``repr``, which reads back exactly; a log
of 0 (``-inf``) is written as null.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import defaults
from ..errors import ProblemError
from ..trace import EStep, Event, Iteration, MStep, MStepDetail, Params, PointDetail, Start, Trace


# The published JSON Schema of the trace (shipped in the package).
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "trace-1.schema.json"


def _params(params: Params) -> dict[str, Any]:
    return {"weights": params.weights.tolist(), "means": params.means.tolist(),
            "variances": params.variances.tolist()}


def _logs(array: np.ndarray) -> Any:
    """Nested lists, -inf as None (JSON has no infinities)."""
    return [_logs(a) for a in array] if array.ndim > 1 else [
        None if v == -math.inf else v for v in array.tolist()]


def _events(events: tuple[Event, ...]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "component": e.component + 1, "value": e.value, "floor": e.floor}
            for e in events]


def _estep(estep: EStep) -> dict[str, Any]:
    out: dict[str, Any] = {"log_likelihood": estep.log_likelihood,
                           "responsibilities": None}
    if estep.detail is not None:
        out["responsibilities"] = estep.detail.resp.tolist()
        out["log_weighted"] = _logs(estep.detail.log_weighted)
        out["log_mixture"] = _logs(estep.detail.log_mixture)
    return out


def _iteration(it: Iteration) -> dict[str, Any]:
    e = _estep(it.estep)
    out = {
        "index": it.index,
        "log_likelihood": it.log_likelihood,
        "log_likelihood_after": it.log_likelihood_after,
        # Per-point arrays are kept only for the iterations shown in detail.
        "responsibilities": e.pop("responsibilities"),
        "N_k": it.mstep.nk.tolist(),
        **_params(it.mstep.params),
        "sum_rx": it.mstep.sum_rx.tolist(),
        "sum_rsq": it.mstep.sum_rsq.tolist(),
        "updated": list(it.mstep.updated),
        "events": _events(it.mstep.events),
    }
    out.update({k: v for k, v in e.items() if k != "log_likelihood"})
    return out


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    final = _estep(trace.final)
    return {
        "schema": defaults.SCHEMA,
        "problem": trace.problem.to_spec(),
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  **_params(trace.start.params)},
        "iterations": [_iteration(it) for it in trace.iterations],
        "final": {**_params(trace.final.params), **final},
        "converged": trace.converged,
        "stop_reason": trace.stop_reason,
        "events": _events(trace.events),
    }


def render_json(trace: Trace) -> str:
    return json.dumps(trace_to_dict(trace), indent=2, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- reading

def _array(values: Any) -> np.ndarray:
    array = np.array(values, dtype=object)
    array[array == None] = -math.inf  # noqa: E711 (elementwise comparison)
    result = array.astype(float)
    result.setflags(write=False)
    return result


def _read_params(data: dict[str, Any]) -> Params:
    return Params(np.array(data["weights"], dtype=float), np.array(data["means"], dtype=float),
                  np.array(data["variances"], dtype=float))


def _read_events(items: list[dict[str, Any]]) -> tuple[Event, ...]:
    return tuple(Event(e["kind"], int(e["component"]) - 1, float(e["value"]),
                       float(e["floor"])) for e in items)


def _read_estep(data: dict[str, Any], params: Params, x: np.ndarray, kernel: str) -> EStep:
    detail = None
    if data.get("responsibilities") is not None:
        detail = PointDetail(x=x, params=params, kernel=kernel,
                             log_weighted=_array(data["log_weighted"]),
                             log_mixture=_array(data["log_mixture"]),
                             resp=_array(data["responsibilities"]))
    return EStep(params=params, log_likelihood=float(data["log_likelihood"]), detail=detail)


def trace_from_dict(data: dict[str, Any]) -> Trace:
    """Rebuild the frozen trace from :func:`trace_to_dict`'s data (nothing is recomputed)."""
    from ..problem import validate

    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != defaults.SCHEMA:
        if isinstance(schema, str) and schema.startswith("em-explainer/trace@"):
            raise ProblemError("schema", f"this trace was written as {schema}, but this "
                                         f"em-explainer reads {defaults.SCHEMA}; use a newer "
                                         f"em-explainer to render it")
        raise ProblemError("schema", f"expected an em-explainer trace ({defaults.SCHEMA}), but "
                                     f"got {schema!r}")
    problem = validate(data["problem"])
    x = problem.data
    start = Start(data["start"]["method"], _read_params(data["start"]), int(data["start"]["seed"]))
    iterations = []
    params = start.params
    for item in data["iterations"]:
        estep = _read_estep(item, params, x, problem.kernel)
        after = _read_params(item)
        mdetail = None
        if estep.detail is not None:
            mdetail = MStepDetail(x=x, resp=estep.detail.resp, old_means=params.means,
                                  new_means=after.means)
        mstep = MStep(nk=_array(item["N_k"]), sum_rx=_array(item["sum_rx"]),
                      sum_rsq=_array(item["sum_rsq"]), params=after,
                      updated=tuple(item["updated"]), events=_read_events(item["events"]),
                      detail=mdetail)
        iterations.append(Iteration(int(item["index"]), estep, mstep,
                                    float(item["log_likelihood_after"])))
        params = after
    final = _read_estep(data["final"], _read_params(data["final"]), x, problem.kernel)
    return Trace(problem=problem, start=start, iterations=tuple(iterations), final=final,
                 converged=bool(data["converged"]), stop_reason=str(data["stop_reason"]),
                 events=_read_events(data.get("events", [])))


def trace_from_json(text: str) -> Trace:
    """Read a trace saved with ``--format json``; a bad file is a clear error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError("trace", f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
    try:
        return trace_from_dict(data)
    except ProblemError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProblemError("trace", f"not a complete em-explainer trace ({type(exc).__name__}: "
                                    f"{exc})") from None
