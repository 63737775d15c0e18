"""The Python API, saved traces (JSON Schema, round trips) and parts of documents."""

from __future__ import annotations

from typing import Any

import json
import os
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

import explainer
from conftest import EXAMPLES, ROOT, lecture_spec
from explainer.api import run
from explainer.errors import ProblemError
from explainer.render.json import SCHEMA_FILE
from explainer.render.json_reader import trace_from_json
from explainer.render.latex import render_latex
from explainer.render.markdown import render_markdown
from mdcheck import katex_failures, math_spans, table_problems
from test_latex import PROBLEMS

SCHEMA = json.loads(SCHEMA_FILE.read_text())
TRACES = {name: run(problem) for name, problem in PROBLEMS.items()}


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", list(TRACES))
def test_every_trace_validates_and_renders_again_byte_for_byte(name):
    trace = TRACES[name]
    text = trace.to_json()
    jsonschema.validate(json.loads(text), SCHEMA)
    again = explainer.Trace.from_json(text)
    assert render_markdown(again) == render_markdown(trace)
    assert render_latex(again) == render_latex(trace)
    assert render_latex(again, fragment=True) == render_latex(trace, fragment=True)
    assert again.to_json() == text


def test_the_schema_rejects_a_broken_trace():
    data = json.loads(TRACES["lecture"].to_json())
    del data["iterations"][0]["N_k"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    data = json.loads(TRACES["lecture"].to_json())
    data["problem"]["model"]["kernel"] = "gaussian"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_a_newer_or_foreign_trace_is_a_clear_error():
    data = json.loads(TRACES["lecture"].to_json())
    data["schema"] = "em-explainer/trace@2"
    with pytest.raises(ProblemError, match="written as em-explainer/trace@2, but this "
                                           "em-explainer reads em-explainer/trace@1"):
        trace_from_json(json.dumps(data))
    with pytest.raises(ProblemError, match="expected an em-explainer trace"):
        trace_from_json('{"hello": 1}')
    with pytest.raises(ProblemError, match="malformed JSON"):
        trace_from_json("{")
    data = json.loads(TRACES["lecture"].to_json())
    del data["final"]
    with pytest.raises(ProblemError, match=r"^trace: final: missing; the file was changed"):
        trace_from_json(json.dumps(data))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def test_render_command_matches_solve(tmp_path):
    spec = str(EXAMPLES / "heights" / "heights.yaml")
    assert cli("solve", spec, "-o", str(tmp_path / "h.json")).returncode == 0
    for suffix in ("md", "tex"):
        assert cli("solve", spec, "-o", str(tmp_path / f"a.{suffix}")).returncode == 0
        result = cli("render", str(tmp_path / "h.json"), "-o", str(tmp_path / f"b.{suffix}"))
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()
    result = cli("render", str(tmp_path / "h.json"), "--part", "mstep", "--iteration", "10")
    assert result.stdout.startswith("## M-step: re-estimate the parameters")


def test_render_command_errors(tmp_path):
    result = cli("render", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert result.stderr == f"error: trace: file not found: {tmp_path / 'missing.json'}\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "em-explainer/trace@9"}')
    result = cli("render", str(bad))
    assert result.returncode == 2 and result.stderr.startswith("error: schema: this trace was "
                                                              "written as em-explainer/trace@9")
    assert cli("solve", str(EXAMPLES / "heights" / "heights.yaml"), "-o",
               str(tmp_path / "h.json")).returncode == 0
    result = cli("render", str(tmp_path / "h.json"), "--part", "estep", "--iteration", "5")
    assert result.returncode == 2
    assert result.stderr == ("error: --iteration: iteration 5 is not kept in detail; add it to "
                             "display.detail (--detail 5)\n")


# --------------------------------------------------------------------------- parts

PART_CASES = [(name, part) for name in ("lecture", "heights", "single-point",
                                        "five-components", "underflow-and-collapse")
              for part in ("setup", "estep", "responsibilities", "mstep", "conclusion",
                           "summary", "clustering")
              if not (name == "single-point" and part in ("mstep", "conclusion", "summary"))]


@pytest.mark.parametrize("name,part", PART_CASES, ids=[f"{n}-{p}" for n, p in PART_CASES])
def test_each_part_renders_alone(name, part):
    trace = TRACES[name]
    text = trace.to_markdown(part=part)
    assert text.strip() and text in trace.to_markdown() or part == "responsibilities"
    spans = math_spans(text)
    assert katex_failures(spans) == []
    assert table_problems(text) == []
    fragment = trace.to_latex(fragment=True, part=part)
    assert "\\documentclass" not in fragment


def test_parts_compile_as_pdf(tmp_path):
    from explainer.render.output import build_pdf

    for part in ("estep", "mstep", "clustering"):
        assert build_pdf(TRACES["heights"], plots=False, part=part).pdf.startswith(b"%PDF")


def test_part_errors():
    trace = TRACES["single-point"]
    with pytest.raises(ProblemError, match="there is no mstep: stop.iterations is 0"):
        trace.to_markdown(part="mstep")
    with pytest.raises(ProblemError, match="expected one of setup"):
        trace.to_markdown(part="everything")
    with pytest.raises(ProblemError, match="the plots part needs the figures drawn"):
        TRACES["lecture"].to_markdown(part="plots")
    with pytest.raises(ProblemError, match="expected an iteration from 1 to 10"):
        TRACES["heights"].to_markdown(part="estep", iteration=11)


def test_cli_part_of_any_iteration_keeps_it_in_detail():
    result = cli("solve", str(EXAMPLES / "heights" / "heights.yaml"), "--part", "estep",
                 "--iteration", "4")
    assert result.returncode == 0, result.stderr
    trace = explainer.solve(EXAMPLES / "heights" / "heights.yaml", detail="4")
    assert result.stdout == trace.to_markdown(part="estep", iteration=4)


def test_cli_plots_part(tmp_path):
    result = cli("solve", str(EXAMPLES / "lecture" / "lecture.yaml"), "--part", "plots",
                 "--iterations", "3", "-o", str(tmp_path / "p.md"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "p.md").read_text()
    assert text.count("](p_files/") == 3 and (tmp_path / "p_files" / "fit.png").exists()


# --------------------------------------------------------------------------- API

def test_solve_from_a_file_a_mapping_and_keywords_agree():
    a = explainer.solve(EXAMPLES / "lecture" / "lecture.yaml")
    b = explainer.solve(lecture_spec(title="Two clusters on a line"))
    c = explainer.solve(data=[1, 2, 5, 8, 9], k=2, weights=[0.5, 0.5], means=[2, 8],
                        variances=[2, 2], update="weights,means", kernel="proportional",
                        title="Two clusters on a line")
    assert a.to_markdown() == b.to_markdown() == c.to_markdown()
    it = a.iterations[0]
    assert it.index == 1 and it.estep.detail.resp.shape == (5, 2)
    np.testing.assert_allclose(it.mstep.params.weights, it.mstep.nk / 5)
    assert a._repr_markdown_() == a.to_markdown()
    assert a._repr_latex_() == a.to_latex(fragment=True)


def test_keywords_override_the_spec_and_are_checked():
    trace = explainer.solve(EXAMPLES / "lecture" / "lecture.yaml", iterations=4, decimals=2)
    assert len(trace.iterations) == 4 and trace.problem.decimals == 2
    with pytest.raises(ProblemError, match="did you mean 'iterations'"):
        explainer.solve(EXAMPLES / "lecture" / "lecture.yaml", iteration=4)
    with pytest.raises(ProblemError, match="init.weights"):
        explainer.solve(lecture_spec(), weights=[0.2, 0.2])


def test_the_spec_mapping_is_not_changed():
    spec = lecture_spec()
    before = json.dumps(spec, sort_keys=True)
    explainer.solve(spec, iterations=3, means=[1, 9])
    assert json.dumps(spec, sort_keys=True) == before


def test_trace_write(tmp_path):
    trace = explainer.solve(EXAMPLES / "lecture" / "lecture.yaml")
    written = trace.write(tmp_path / "out.md", plots=True)
    # The document and its figures (one iteration: no log-likelihood figure).
    assert written[0] == tmp_path / "out.md" and len(written) == 3
    assert (tmp_path / "out.md").read_text() == render_markdown(
        trace, plots={n: f"out_files/{n}.png" for n in ("fit", "resp")})


def test_import_is_light():
    code = ("import sys, explainer\n"
            "print(sorted(m for m in ('numpy', 'jinja2', 'yaml', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", list(TRACES))
def _as_json_dumps_writes(text: str, value: Any) -> None:
    """*text* is json.dumps(value, indent=2)'s, line for line, but for how a number is
    spelled (orjson writes 1e-05 as 0.00001): the same double, read back."""
    expected = (json.dumps(value, indent=2, allow_nan=False) + "\n").split("\n")
    lines = text.split("\n")
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected):
        if line != want:
            assert float(line.strip().rstrip(",")) == float(want.strip().rstrip(",")), \
                (line, want)
    assert json.loads(text) == json.loads(json.dumps(value))


@pytest.mark.parametrize("name", list(TRACES))
def test_the_streamed_json_is_what_json_dumps_writes(name):
    """The JSON trace is written a row at a time from the numpy arrays (a million points
    would otherwise be gigabytes of Python floats), in pieces; its text is json.dumps's
    but for the spelling of a number (the same double)."""
    from explainer.render.json import CHUNK, iter_json, trace_to_dict

    trace = TRACES[name]
    pieces = list(iter_json(trace))
    _as_json_dumps_writes("".join(pieces), trace_to_dict(trace))
    assert all(len(p) < 2 * CHUNK + 100_000 for p in pieces)


def test_every_double_is_written_as_text_that_reads_back_the_same():
    """Per-point arrays' numbers (formatted by orjson from the array) read back as the
    same double at any size, -0.0 and the least subnormal included; -inf of a log array
    is null, NaN refused."""
    from explainer.render.json import _encode_array

    rng = np.random.default_rng(5)
    values = rng.standard_normal(20_000) * 10.0 ** rng.integers(-320, 308, 20_000)
    values[:6] = [0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e-05, 0.1]
    matrix = values.reshape(-1, 4)
    for array in (values, matrix):
        text = "".join(_encode_array(array, "", False))
        assert np.array_equal(np.array(json.loads(text)), array)
        assert "-0.0" in text and "5e-324" in text
    logs = np.array([-np.inf, -1.5, 0.0])
    assert json.loads("".join(_encode_array(logs, "", True))) == [None, -1.5, 0.0]
    with pytest.raises(ValueError, match="not JSON compliant: nan"):
        "".join(_encode_array(np.array([1.0, np.nan]), "", False))


def test_a_large_trace_is_written_in_pieces(monkeypatch, tmp_path):
    from explainer.render import json as json_module
    from explainer.render.output import plan, write

    monkeypatch.setattr(json_module, "CHUNK", 4096)
    monkeypatch.setattr(json_module, "ROW_BLOCK", 7)  # vectors of 3,000 in blocks of 7
    rng = np.random.default_rng(2)
    trace = explainer.solve({"data": rng.normal(0, 1, 3000).tolist(), "components": 2,
                             "init": {"weights": [0.5, 0.5], "means": [-1, 1],
                                      "variances": [1, 1]},
                             "display": {"detail": "all"}, "stop": {"iterations": 2}})
    assert len(list(json_module.iter_json(trace))) > 20
    out = tmp_path / "t.json"
    write(trace, plan("json", out))
    assert out.read_text() == trace.to_json()
    _as_json_dumps_writes(out.read_text(), json_module.trace_to_dict(trace))
    assert render_markdown(trace_from_json(out.read_text())) == trace.to_markdown()
