"""What a new user trips over (issue 16), the items done so far: figures that show
their peaks and plain log-likelihood ticks, CSV headers (a byte-order mark, duplicate
names), the 1/3 hint for weights, d >= 11 in a PDF, and one line saying what was
written."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from explainer.engine import run
from explainer.errors import ProblemError
from explainer.problem import problem_from, validate


def _drawn(fig) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()


def test_each_density_panel_fits_its_own_peaks():
    """Three components, means 1, 5, 10, variances 1: after two iterations the peaks are
    far higher than at the start, and no panel cuts its curves off."""
    from explainer.render.plots import fit_figure

    rng = np.random.default_rng(3)
    data = np.concatenate([rng.normal(m, 0.3, 20) for m in (1, 5, 10)]).round(2)
    trace = run(validate({"data": data.tolist(), "components": 3,
                          "init": {"weights": ["1/3", "1/3", "1/3"], "means": [1, 5, 10],
                                   "variances": [1, 1, 1]},
                          "stop": {"iterations": 2}}))
    fig = fit_figure(trace)
    _drawn(fig)
    left, right = fig.axes[:2]
    tops = []
    for ax in (left, right):
        highest = max(float(np.max(line.get_ydata())) for line in ax.get_lines())
        assert ax.get_ylim()[1] >= highest  # nothing clipped
        tops.append(highest)
    assert tops[1] > 1.5 * tops[0]  # the end's peaks are higher: a shared axis would clip
    assert right.get_ylim()[1] > 1.5 * left.get_ylim()[1]


def test_a_flat_log_likelihood_plot_reads_plainly():
    """After convergence the log-likelihood barely changes: the ticks are its values,
    distinct, with no offset text."""
    from explainer.render.plots import loglik_figure

    start = run(problem_from(None, data="1,2,5,8,9", k="2", weights=".5,.5", means="2,8",
                             variances="2,2", iterations="300"))
    params = start.iterations[-1].mstep.params
    flat = run(validate({"data": [1, 2, 5, 8, 9], "components": 2,
                         "init": {"weights": params.weights.tolist(),
                                  "means": params.means.tolist(),
                                  "variances": params.variances.tolist()},
                         "stop": {"iterations": 5}}))
    values = [it.log_likelihood for it in flat.iterations]
    assert max(values) - min(values) < 1e-6
    fig = loglik_figure(flat)
    _drawn(fig)
    ax = fig.axes[0]
    assert ax.yaxis.get_offset_text().get_text() == ""
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    low, high = ax.get_ylim()
    assert low <= min(values) and max(values) <= high


def test_a_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path):
    (tmp_path / "h.csv").write_bytes("\ufeffheight,weight\n150,50\n160,60\n170,70\n"
                                     .encode("utf-8"))
    problem = problem_from(None, data_file=str(tmp_path / "h.csv"), column="height", k="1",
                           init_method="kmeans")
    assert problem.data.tolist() == [150, 160, 170]


def test_a_header_with_a_name_twice_is_an_error_naming_it(tmp_path):
    (tmp_path / "d.csv").write_text("x,y,x\n1,2,3\n4,5,6\n")
    with pytest.raises(ProblemError, match="d.csv names two columns 'x'"):
        problem_from(None, data_file=str(tmp_path / "d.csv"), columns="x,y", k="1",
                     init_method="kmeans")


def test_weights_of_a_third_written_as_decimals_suggest_the_fraction():
    with pytest.raises(ProblemError, match="sum to 0.999; write 1/3 for a third"):
        problem_from(None, data="1,2,3,4", k="3", weights=".333,.333,.333", means="1,2,3",
                     variances="1,1,1")
    problem = problem_from(None, data="1,2,3,4", k="3", weights="1/3,1/3,1/3",
                           means="1,2,3", variances="1,1,1")
    assert problem.weights.sum() == pytest.approx(1.0)


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v latexmk"],
                                   capture_output=True).returncode != 0,
                    reason="needs latexmk")
def test_twelve_dimensions_compile_to_pdf(tmp_path):
    rng = np.random.default_rng(5)
    rows = "\n".join(",".join(f"{v:.2f}" for v in rng.normal(0, 1, 12)) for _ in range(15))
    header = ",".join(f"c{i}" for i in range(12))
    (tmp_path / "d.csv").write_text(f"{header}\n{rows}\n")
    result = subprocess.run([sys.executable, "-m", "explainer", "solve", "--data-file",
                             str(tmp_path / "d.csv"), "--columns", header, "--k", "1",
                             "--init-method", "kmeans", "-o", str(tmp_path / "d.pdf")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.pdf").read_bytes().startswith(b"%PDF")


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_one_line_says_what_was_written_unless_quiet(tmp_path):
    lecture = str(ROOT / "examples" / "lecture" / "lecture.yaml")
    assert _cli("solve", lecture, "-o", "x.md", cwd=tmp_path).stderr == "wrote x.md\n"
    assert _cli("solve", lecture, "-o", "x.md", "-q", cwd=tmp_path).stderr == ""
    assert _cli("solve", lecture, "-o", "y.md", "--plots", cwd=tmp_path).stderr == \
        "wrote y.md and 3 figures in y_files/\n"
    result = _cli("solve", lecture, cwd=tmp_path)  # standard output: nothing said
    assert result.stderr == "" and result.stdout.startswith("# ")
    assert _cli("solve", lecture, "-o", "t.json", cwd=tmp_path).stderr == "wrote t.json\n"
    assert _cli("render", "t.json", "-o", "r.md", cwd=tmp_path).stderr == "wrote r.md\n"
    assert _cli("render", "t.json", "-o", "s.md", "--quiet", cwd=tmp_path).stderr == ""
