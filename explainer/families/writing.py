"""Writing a problem back as its spec, for the JSON trace: the keys of
:data:`explainer.spec.KEYS` in their order, those that apply. The keys every problem has
come from the problem record; the data and the keys that are a model's own (its
starting parameter, its ``model`` keys) come from the problem's model plug-in
(``spec_values``), and another model's keys are left out. With exact arithmetic the
numbers are written as exact texts (``"1/3"``), so that the spec reads back to the same
exact problem."""

from __future__ import annotations

from typing import Any

from ..problem import Detail, Problem, set_path
from ..spec import KEYS, Key
from . import MODELS


def spec_of(problem: Problem) -> dict[str, Any]:
    """The validated spec of *problem* as plain data (data inlined)."""
    model = MODELS[problem.family]
    own = model.spec_values(problem)
    models_keys = {"data", *(path for cls in MODELS.values() for path in cls.spec_keys())}
    spec: dict[str, Any] = {}
    for key in KEYS:
        if key.path in own:
            set_path(spec, key.path, own[key.path])
        elif key.path not in models_keys:
            value = _shared_value(problem, key)
            if value is not _OMITTED:
                set_path(spec, key.path, value)
    return spec


_OMITTED = object()  # a key the spec leaves out


def _shared_value(problem: Problem, key: Key) -> Any:
    """A key every model has, as its problem holds it (its ``attribute``, else the
    attribute of the path's last name); ``_OMITTED`` where the spec leaves it out (as
    ``key.written`` says)."""
    name = key.attribute or key.path.rsplit(".", 1)[-1]
    if key.written == "never":
        return _OMITTED
    if key.written == "when given":
        given = problem.given_as_written(name)
        return _OMITTED if given is None else given
    value = getattr(problem, name)
    if (key.written == "unless default" and value == key.default) or (
            key.written == "unless empty" and not value):
        return _OMITTED
    if isinstance(value, Detail):
        return value.to_spec()
    return list(value) if isinstance(value, tuple) else value
