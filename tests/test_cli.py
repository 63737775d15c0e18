"""The command line: success paths, formats, and one clear line for each bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

LECTURE = EXAMPLES / "lecture" / "lecture.yaml"
QUICK = ["--data", "1,2,5,8,9", "--k", "2", "--weights", ".5,.5", "--means", "2,8",
         "--variances", "2,2"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("EM_EXPLAINER_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=120)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
data: [1, 2, 5, 8, 9]
components: 2
init: {weights: [0.5, 0.5], means: [2, 8], variances: [2, 2]}
"""


# --------------------------------------------------------------------------- success

def test_solve_writes_markdown_to_stdout():
    result = cli("solve", str(LECTURE))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")
    assert result.stderr == ""


def test_quick_flags_need_no_file():
    result = cli("solve", *QUICK, "--update", "weights,means", "--kernel", "proportional",
                 "--title", "Two clusters on a line")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")


def test_format_follows_the_suffix(tmp_path):
    out = tmp_path / "trace.json"
    result = cli("solve", str(LECTURE), "-o", str(out))
    assert result.returncode == 0, result.stderr
    trace = json.loads(out.read_text())
    assert trace["schema"] == "em-explainer/trace@1"
    assert set(trace) >= {"schema", "problem", "iterations", "final", "converged"}
    it = trace["iterations"][0]
    assert set(it) >= {"index", "log_likelihood", "responsibilities", "N_k", "weights",
                       "means", "variances"}
    assert set(trace["final"]) >= {"weights", "means", "variances", "log_likelihood",
                                   "responsibilities"}
    assert len(it["responsibilities"]) == 5 and len(it["responsibilities"][0]) == 2
    # The problem in the trace is complete: solving it again gives the same trace.
    spec = write(tmp_path, "again.json", json.dumps(trace["problem"]))
    again = cli("solve", str(spec), "--format", "json")
    assert json.loads(again.stdout) == trace


def test_format_flag_overrides_the_suffix(tmp_path):
    out = tmp_path / "solution.txt"
    assert cli("solve", str(LECTURE), "-o", str(out), "--format", "md").returncode == 0
    assert out.read_text().startswith("# Two clusters on a line")


def test_flags_override_the_spec(tmp_path):
    result = cli("solve", str(LECTURE), "--iterations", "3", "--decimals", "2", "--format",
                 "json")
    trace = json.loads(result.stdout)
    assert len(trace["iterations"]) == 3
    assert trace["problem"]["display"]["decimals"] == 2


def test_data_file_is_read_relative_to_the_spec(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "pts.csv", "id,x\n1,1\n2,2\n3,5\n4,8\n5,9\n")
    spec = write(tmp_path / "sub", "p.yaml", GOOD.replace("data: [1, 2, 5, 8, 9]",
                                                          "data_file: pts.csv\ncolumn: x"))
    result = cli("solve", str(spec), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["problem"]["data"] == [1, 2, 5, 8, 9]


def test_help_has_examples():
    result = cli("solve", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--data 1,2,5,8,9" in result.stdout


def test_fractions_are_accepted_for_weights():
    result = cli("solve", "--data", "1,2,3,7,8,9", "--k", "3", "--weights", "1/3,1/3,1/3",
                 "--means", "1,5,9", "--variances", "1,1,1", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["problem"]["init"]["weights"] == [1 / 3] * 3


# --------------------------------------------------------------------------- bad input

BAD_SPECS = {
    "unknown key": (GOOD + "stopp: {iterations: 2}\n", "error: stopp: unknown key; did you "
                                                       "mean 'stop'?"),
    "unknown nested key": (GOOD + "model: {kernal: normalized}\n",
                           "error: model.kernal: unknown key; did you mean 'model.kernel'?"),
    "malformed yaml": ("data: [1, 2\ncomponents: 2\n", "error: spec: malformed YAML"),
    "non-numeric data": (GOOD.replace("[1, 2, 5, 8, 9]", "[1, two, 5]"),
                         "error: data[2]: expected a number"),
    "nan data": (GOOD.replace("[1, 2, 5, 8, 9]", "[1, .nan, 5]"),
                 "error: data[2]: expected a finite number"),
    "infinite data": (GOOD.replace("[1, 2, 5, 8, 9]", "[1, .inf, 5]"),
                      "error: data[2]: expected a finite number"),
    "empty data": (GOOD.replace("[1, 2, 5, 8, 9]", "[]"), "error: data: expected at least one"),
    "no data": (GOOD.replace("data: [1, 2, 5, 8, 9]\n", ""), "error: data: missing"),
    "K < 1": (GOOD.replace("components: 2", "components: 0"),
              "error: components: expected a whole number from 1 to 100, but got 0"),
    "K > N with an M-step": (
        "data: [1]\ncomponents: 2\ninit: {weights: [.5, .5], means: [0, 1], variances: [1, 1]}\n",
        "error: components: expected at most 1 components"),
    "negative weight": (GOOD.replace("weights: [0.5, 0.5]", "weights: [1.5, -0.5]"),
                        "error: init.weights[2]: expected a weight >= 0, but got -0.5"),
    "weights not summing to 1": (GOOD.replace("weights: [0.5, 0.5]", "weights: [0.5, 0.6]"),
                                 "error: init.weights: expected weights summing to 1"),
    "zero variance": (GOOD.replace("variances: [2, 2]", "variances: [2, 0]"),
                      "error: init.variances[2]: expected a variance > 0, but got 0"),
    "negative variance": (GOOD.replace("variances: [2, 2]", "variances: [-1, 2]"),
                          "error: init.variances[1]: expected a variance > 0"),
    "length mismatch": (GOOD.replace("means: [2, 8]", "means: [2, 8, 9]"),
                        "error: init.means: expected 2 values (one per component), but got 3"),
    "negative iterations": (GOOD + "stop: {iterations: -1}\n",
                            "error: stop.iterations: expected a whole number from 0 to 10000, "
                            "but got -1"),
    "negative tol": (GOOD + "stop: {tol: -0.1}\n",
                     "error: stop.tol: expected a tolerance >= 0, but got -0.1"),
    "decimals too large": (GOOD + "display: {decimals: 13}\n",
                           "error: display.decimals: expected a whole number from 0 to 12, "
                           "but got 13"),
    "decimals negative": (GOOD + "display: {decimals: -1}\n",
                          "error: display.decimals: expected a whole number from 0 to 12"),
    "code as a number": (GOOD.replace("means: [2, 8]", "means: [\"__import__('os')\", 8]"),
                         "error: init.means[1]: expected a number such as 0.5 or 1/3"),
    "proportional kernel with variances learned": (
        GOOD + "model: {kernel: proportional}\n", "error: model.kernel: the proportional"),
    "unknown init method": (GOOD + "init_method: kmean\n",
                            "error: init_method: expected one of given, random_points, "
                            "random_responsibilities, kmeans, but got 'kmean' (did you mean "
                            "'kmeans'?)"),
    "unknown update": (GOOD + "model: {update: [mean]}\n",
                       "error: model.update: expected names from weights, means, variances, "
                       "but got 'mean' (did you mean 'means'?)"),
    "not a mapping": ("- 1\n- 2\n", "error: spec: expected a mapping of spec keys"),
}


@pytest.mark.parametrize("name", list(BAD_SPECS))
def test_bad_spec_gives_one_clear_line_and_no_file(tmp_path, name):
    text, expected = BAD_SPECS[name]
    spec = write(tmp_path, "spec.yaml", text)
    out = tmp_path / "out.md"
    result = cli("solve", str(spec), "-o", str(out))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_malformed_json(tmp_path):
    spec = write(tmp_path, "spec.json", '{"data": [1, 2,}')
    result = cli("solve", str(spec))
    assert result.returncode == 2
    assert result.stderr.startswith("error: spec: malformed JSON in ")


def test_missing_spec():
    result = cli("solve", "no/such/spec.yaml")
    assert result.returncode == 2
    assert result.stderr == "error: spec: file not found: no/such/spec.yaml\n"


def test_unreadable_spec(tmp_path):
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()
    result = cli("solve", str(folder))
    assert result.returncode == 2
    assert result.stderr == f"error: spec: {folder} is a folder, not a file\n"


def test_missing_csv(tmp_path):
    spec = write(tmp_path, "s.yaml", GOOD.replace("data: [1, 2, 5, 8, 9]", "data_file: x.csv"))
    result = cli("solve", str(spec))
    assert result.returncode == 2
    assert result.stderr.startswith("error: data_file: file not found: ")


def test_csv_with_bad_values_and_columns(tmp_path):
    write(tmp_path, "d.csv", "a,b\n1,2\n3,oops\n")
    spec = write(tmp_path, "s.yaml",
                 GOOD.replace("data: [1, 2, 5, 8, 9]", "data_file: d.csv\ncolumn: b"))
    result = cli("solve", str(spec))
    assert result.returncode == 2
    assert result.stderr.startswith("error: data_file (d.csv line 3): expected a number")
    spec = write(tmp_path, "s.yaml",
                 GOOD.replace("data: [1, 2, 5, 8, 9]", "data_file: d.csv\ncolumn: c"))
    result = cli("solve", str(spec))
    assert result.stderr.startswith("error: column: expected one of 'a', 'b'")
    spec = write(tmp_path, "s.yaml", GOOD.replace("data: [1, 2, 5, 8, 9]", "data_file: d.csv"))
    result = cli("solve", str(spec))
    assert result.stderr.startswith("error: column: d.csv has several columns")


@pytest.mark.parametrize("flags,expected", [
    (["--k", "0"], "error: components: expected a whole number from 1 to 100"),
    (["--iterations", "-2"], "error: stop.iterations: expected a whole number from 0 to"),
    (["--tol", "-1"], "error: stop.tol: expected a tolerance >= 0"),
    (["--decimals", "20"], "error: display.decimals: expected a whole number from 0 to 12"),
    (["--weights", "0.7,0.7"], "error: init.weights: expected weights summing to 1"),
    (["--variances", "1"], "error: init.variances: expected 2 values"),
    (["--data", "1,nan,3"], "error: data[2]: expected a finite number"),
    (["--data", "1,inf,3"], "error: data[2]: expected a finite number"),
    (["--means", "1,__import__('os').system('true')"], "error: init.means[2]: expected a number"),
])
def test_bad_flags(tmp_path, flags, expected):
    out = tmp_path / "o.md"
    result = cli("solve", *QUICK, *flags, "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_unknown_output_suffix_and_missing_folder(tmp_path):
    result = cli("solve", str(LECTURE), "-o", str(tmp_path / "x.docx"))
    assert result.returncode == 2 and result.stderr.startswith("error: -o: cannot tell")
    result = cli("solve", str(LECTURE), "-o", str(tmp_path / "nope" / "x.md"))
    assert result.returncode == 2 and result.stderr.startswith("error: -o: folder does not")


def test_usage_errors_are_one_line():
    result = cli("solve", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unrecognized arguments: --bogus")
    assert result.stderr.count("\n") == 1
    result = cli("solve")
    assert result.returncode == 2 and result.stderr.startswith("error: spec: give a SPEC file")


def test_an_existing_output_is_not_clobbered_by_a_failure(tmp_path):
    out = tmp_path / "keep.md"
    out.write_text("old")
    result = cli("solve", *QUICK, "--k", "0", "-o", str(out))
    assert result.returncode == 2 and out.read_text() == "old"


def test_internal_fault_exits_1(tmp_path, monkeypatch):
    from explainer import cli as cli_module

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("explainer.engine.run", boom)
    code = cli_module.main(["solve", str(LECTURE), "-o", str(tmp_path / "x.md")])
    assert code == 1
    assert not (tmp_path / "x.md").exists()


def test_markdown_path_imports_no_heavy_module(tmp_path):
    code = ("import sys\nfrom explainer.cli import main\n"
            f"main(['solve', {str(LECTURE)!r}, '-o', {str(tmp_path / 'l.md')!r}])\n"
            "print(sorted(m for m in ('sympy', 'matplotlib', 'pylatex', 'scipy', 'sklearn') "
            "if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize("cache", ["", "/dev/null/not-a-folder"])
def test_template_cache_off_or_unusable_changes_nothing(tmp_path, cache):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EM_EXPLAINER_CACHE_DIR": cache}
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", str(LECTURE)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")


def test_help_names_every_model_and_the_figures_default():
    from explainer.families import MODELS as FAMILIES

    top = cli("--help").stdout
    assert "for mixture models" in top and "Gaussian mixtures." not in top
    assert all(name in " ".join(top.split()) for name in FAMILIES)
    assert "on for PDF and HTML, off otherwise" in " ".join(cli("solve", "--help").stdout.split())


def test_the_help_lists_the_models_as_the_registry_does_without_importing_them():
    """The help reads the model plug-ins' names from their files (no numpy at --help):
    the same names in the same order as explainer.families.MODELS."""
    from explainer.cli import _registries
    from explainer.families import MODELS
    from explainer.validation import REGISTRIES

    assert _registries() == REGISTRIES == {"models": tuple(MODELS)}
    code = ("import sys; from explainer.cli import build_parser; build_parser(); "
            "print('numpy' in sys.modules, 'explainer.families' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr
