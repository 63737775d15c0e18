"""A saved trace's structure, checked against its published JSON schema
(``explainer/schema/trace-1.schema.json``) before anything is read from it, so that a
damaged file is one line naming the JSON path of its first fault
(``iterations[2].means[1]: expected a number, but got 'x'``), entries counted from 1
as in every error of em-explainer. The shapes a problem gives (points, components,
dimensions) are the reader's to check (:mod:`.json_reader`); the values' consistency
is :mod:`.trace_check`'s.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Iterable

import numpy as np

from ..errors import ProblemError
from ..numbers import describe

# What each named part of the schema ($defs) holds, for a message.
_KINDS = {"vector": "a list of numbers", "matrix": "a list of lists of numbers",
          "logs": "a list of numbers or nulls", "numbers": "a number or a list of numbers",
          "exact_value": "an exact value (a text)", "exact_vector": "a list of exact values",
          "exact_matrix": "a list of lists of exact values",
          "exact_values": "an exact value or a list of them",
          "given_number": "a number", "given_numbers": "a number or a list of numbers",
          "params": "the parameters", "exact_params": "the parameters",
          "event": "an event", "iteration": "an iteration", "estep": "an E-step",
          "exact_iteration": "an iteration's exact values"}
_TYPES = {"number": "a number", "integer": "a whole number", "string": "a text",
          "array": "a list", "object": "a mapping", "boolean": "true or false",
          "null": "null"}


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    from .json import SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def damaged(field: str, message: str) -> ProblemError:
    """The error of a trace file whose *field* (a JSON path) is wrong: the reader's, this
    module's and :mod:`.trace_check`'s, one line each."""
    return ProblemError("trace", f"{field}: {message}; the file was changed or damaged")


def path_label(path: Iterable[Any]) -> str:
    """A JSON path as em-explainer's errors write it: keys joined by dots, list entries
    counted from 1 (``iterations[2].means[1]``)."""
    label = ""
    for part in path:
        label += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if label else part)
    return label or "the trace"


def _skeleton(value: Any) -> Any:
    """The document with each array the stream reader made (numbers only, by
    construction) cut to its first entry: the schema sees its kind, not its millions
    of numbers (the reader checks every shape)."""
    if isinstance(value, np.ndarray):
        return value[:1].tolist()
    if isinstance(value, dict):
        return {key: _skeleton(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_skeleton(item) for item in value]
    return value


def check_structure(data: dict[str, Any]) -> None:
    """Raise ProblemError("trace", ...) at the first place *data* (a trace document, its
    problem already read) departs from the trace schema."""
    document = {key: _skeleton(item) for key, item in data.items()}
    if isinstance(document.get("problem"), dict) and isinstance(
            document["problem"].get("data"), list):  # (read and checked as a spec is)
        document["problem"]["data"] = document["problem"]["data"][:1]
    errors = list(_validator().iter_errors(document))
    if not errors:
        return
    error = min(errors, key=lambda e: (-len(e.absolute_path), list(map(str, e.absolute_path))))
    error = _specific(error)
    path = list(error.absolute_path)
    if error.validator == "required":  # (the key is named in the path, as everywhere)
        path.append(next(key for key in error.validator_value if key not in error.instance))
    raise damaged(path_label(path), _message(error))


def _specific(error: Any) -> Any:
    """A choice of kinds (oneOf, anyOf) that failed: the failure inside the one kind the
    value is of (a list where a list is meant: which of its entries is wrong), else the
    choice itself."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        matching = [e for e in error.context
                    if _kind_of(error.validator_value[e.relative_schema_path[0]],
                                error.instance)]
        if not matching:
            return error
        error = min(matching, key=lambda e: -len(e.absolute_path))
    return error


def _kind_of(schema: dict[str, Any], instance: Any) -> bool:
    """Whether *instance* is of the JSON type *schema* asks for (a $ref: its part's)."""
    if "$ref" in schema:
        schema = _validator().schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    choices = schema.get("oneOf", schema.get("anyOf"))
    if choices is not None:
        return any(_kind_of(choice, instance) for choice in choices)
    kinds = schema.get("type")
    if kinds is None:
        return False
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return any(_validator().is_type(instance, kind) for kind in kinds)


def _expected(schema: Any) -> str:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _KINDS.get(schema["$ref"].rsplit("/", 1)[1], "another value")
        if "type" in schema:
            kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            return " or ".join(_TYPES.get(kind, kind) for kind in kinds)
        if "enum" in schema:
            return "one of " + ", ".join(map(repr, schema["enum"]))
        if "allOf" in schema:
            return " and ".join(_expected(part) for part in schema["allOf"])
    return "another value"


def _message(error: Any) -> str:
    got = f"but got {got_text(error.instance)}"
    kind, rule = error.validator, error.validator_value
    if kind == "required":
        return "missing"
    if kind == "dependentRequired":
        pairs = [(key, need) for key, needs in rule.items() if key in error.instance
                 for need in needs if need not in error.instance]
        return (f"has {pairs[0][0]} without {pairs[0][1]}" if pairs
                else "misses a key it needs")
    if kind == "type":
        return f"expected {_expected({'type': rule})}, {got}"
    if kind in ("enum", "const"):
        values = rule if kind == "enum" else [rule]
        return f"expected {' or '.join(map(repr, values))}, {got}"
    if kind in ("oneOf", "anyOf"):
        kinds = [_expected(part) for part in rule]
        if kind == "oneOf" and all("required" in part for part in rule):
            names = " or ".join(", ".join(part["required"]) for part in rule)
            return f"expected one model's parameters ({names})"
        return f"expected {' or '.join(dict.fromkeys(kinds))}, {got}"
    if kind == "minItems":
        return f"expected at least {rule} entr{'y' if rule == 1 else 'ies'}, {got}"
    if kind == "minimum":
        return f"expected a number from {rule}, {got}"
    if kind == "pattern":
        return f"expected a whole number or a fraction such as 1/3, {got}"
    return f"does not match the trace schema (its {kind!r} rule)"


def got_text(value: Any) -> str:
    """A value of a JSON document as an error names it (a list by its kind, not its
    contents)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, np.ndarray)):
        return "a list" if len(value) else "an empty list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return describe(value)
