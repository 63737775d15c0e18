"""Trace -> JSON (schema ``em-explainer/trace@1``, keys as in DESIGN.md).

JSON is data, not a document, so it is written with the json module rather
than a template.
"""

from __future__ import annotations

import json
from typing import Any

from .. import defaults
from ..trace import EStep, Iteration, Params, Trace


def _params(params: Params) -> dict[str, Any]:
    return {"weights": params.weights.tolist(), "means": params.means.tolist(),
            "variances": params.variances.tolist()}


def _responsibilities(estep: EStep) -> list[list[float]] | None:
    return None if estep.detail is None else estep.detail.resp.tolist()


def _iteration(it: Iteration) -> dict[str, Any]:
    return {
        "index": it.index,
        "log_likelihood": it.log_likelihood,
        "log_likelihood_after": it.log_likelihood_after,
        # Per-point arrays are kept only for the iterations shown in detail.
        "responsibilities": _responsibilities(it.estep),
        "N_k": it.mstep.nk.tolist(),
        **_params(it.mstep.params),
        "events": [{"kind": e.kind, "component": e.component + 1, "value": e.value,
                    "floor": e.floor} for e in it.mstep.events],
    }


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    return {
        "schema": defaults.SCHEMA,
        "problem": trace.problem.to_spec(),
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  **_params(trace.start.params)},
        "iterations": [_iteration(it) for it in trace.iterations],
        "final": {**_params(trace.final.params),
                  "log_likelihood": trace.final.log_likelihood,
                  "responsibilities": _responsibilities(trace.final)},
        "converged": trace.converged,
        "stop_reason": trace.stop_reason,
    }


def render_json(trace: Trace) -> str:
    return json.dumps(trace_to_dict(trace), indent=2, allow_nan=False) + "\n"
