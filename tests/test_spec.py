"""The spec's keys, declared once (explainer/spec.py): the JSON Schema of a spec, the
command line's flags, problem_from's options, validation's bounds and choices, and
to_spec's keys all come from that one table, and agree with each other and with the
trace's schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import EXAMPLE_SPECS, EXAMPLES, ROOT
from explainer.cli import build_parser
from explainer.errors import ProblemError
from explainer.spec import OPTIONS, OVERRIDES
from explainer.validation import load_problem, problem_from, validate
from explainer.spec import BY_PATH, KEYS, SPEC_KEYS, spec_schema
from explainer.validation import REGISTRIES
from explainer.api import spec_of

SPEC_SCHEMA_FILE = ROOT / "explainer" / "schema" / "spec-1.schema.json"
TRACE_SCHEMA = json.loads((ROOT / "explainer" / "schema" / "trace-1.schema.json").read_text())
SPECS = [*EXAMPLE_SPECS, EXAMPLES / "exam" / "variant-001" / "problem.yaml"]


def test_the_shipped_spec_schema_is_the_tables():
    jsonschema.Draft202012Validator.check_schema(spec_schema(REGISTRIES))
    assert json.loads(SPEC_SCHEMA_FILE.read_text()) == spec_schema(REGISTRIES), (
        "stale: python -m explainer.validation > explainer/schema/spec-1.schema.json")


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.parent.name)
def test_every_example_spec_is_valid_by_the_schema_and_by_validation(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), spec_schema(REGISTRIES))
    load_problem(path)


def test_the_schema_refuses_what_validation_refuses():
    spec = {"data": [1, 2, 5], "components": 1, "init_method": "kmeans"}
    for bad, field in (({"display": {"decimals": 13}}, "display.decimals"),
                       ({"display": {"paper": "a5"}}, "display.paper"),
                       ({"model": {"kernel": "gauss"}}, "model.kernel"),
                       ({"stop": {"iterations": -1}}, "stop.iterations"),
                       ({"display": {"decimal": 3}}, "display.decimal")):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**spec, **bad}, spec_schema(REGISTRIES))
        with pytest.raises(ProblemError, match=f"^{field}"):
            validate({**spec, **bad})


def test_the_trace_holds_the_spec_s_keys_and_to_spec_writes_them_in_order():
    problem_schema = TRACE_SCHEMA["properties"]["problem"]["properties"]
    inlined = {"data_file", "column", "columns"}  # the trace inlines the data
    top = [k for k in SPEC_KEYS if k not in inlined]
    assert set(problem_schema) == set(top)
    for section, keys in SPEC_KEYS.items():
        if keys is not None:
            assert set(problem_schema[section]["properties"]) == set(keys), section
    # Every key a problem writes back comes in the table's order, and reads back the same.
    order = [key.path.split(".", 1)[0] for key in KEYS]
    for path in SPECS:
        problem = load_problem(path)
        written = spec_of(problem)
        assert list(written) == sorted(written, key=order.index)
        assert spec_of(validate(written)) == written


def test_how_each_key_is_written_back_is_the_table_s():
    """spec_of asks the table alone how a key every model has is written back; a key
    with an attribute of its own names one the problem has."""
    from explainer.problem import Problem
    from explainer.spec import WRITTEN

    fields = set(Problem.__dataclass_fields__)
    for key in KEYS:
        assert key.written in WRITTEN, key.path
        assert key.attribute is None or key.attribute in fields, key.path
    written = spec_of(load_problem(EXAMPLES / "generated" / "generated.yaml"))  # (a CSV)
    assert not {"data_file", "column", "columns"} & set(written)
    assert "family" not in written.get("model", {})  # the default, written as nothing


def test_every_key_has_its_flag_and_every_flag_its_key():
    parser = build_parser()
    solve = parser._subparsers._group_actions[0].choices["solve"]  # noqa: SLF001
    dests = {action.dest: action for action in solve._actions}
    for key in KEYS:
        assert key.name in dests, key.path
        assert key.flag in dests[key.name].option_strings
    assert set(OPTIONS) == {key.name for key in KEYS}
    assert OVERRIDES == {key.name: key.path for key in KEYS if key.override}
    # The bounds validation applies are the table's.
    assert "--decimals D decimals shown (0 to 12; default 3)" in " ".join(
        solve.format_help().split())
    low, high = BY_PATH["display.max_rows"].low, BY_PATH["display.max_rows"].high
    with pytest.raises(ProblemError, match=f"from {low} to {high}"):
        problem_from(None, data="1,2", k="1", init_method="kmeans", max_rows=str(high + 1))


def test_the_trace_schema_names_every_family_and_the_spec_schema_every_model():
    """A model plug-in found in explainer/families is a choice of both schemas."""
    from explainer.families import FAMILIES, MODELS

    family = TRACE_SCHEMA["properties"]["problem"]["properties"]["model"]["properties"]["family"]
    assert set(family["enum"]) == set(FAMILIES)
    assert spec_schema(REGISTRIES)["properties"]["model"]["properties"]["family"]["enum"] == \
        list(MODELS)
