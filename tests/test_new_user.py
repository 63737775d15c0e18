"""What a new user trips over (issue 16): figures that show their peaks, plain
log-likelihood ticks and the data's column names; A4 or Letter paper; titles and names in
any script in the PDF; sums and tables laid out on the page; few iterations all shown;
a worked point a student can redo; CSV headers (a byte-order mark, duplicate names), the
1/3 hint for weights, d >= 11 in a PDF, and one line saying what was written."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT, lecture_spec
from explainer.engine import run
from explainer.errors import ProblemError
from explainer.validation import load_problem, problem_from, validate
from explainer.api import spec_of


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


def test_the_fit_figure_axis_fits_the_data_and_counts_far_points():
    """5,000 points between 20 and 100 and three far ones, from a random start whose
    variances are the data's (3 standard deviations reach 50 past the data): the axis
    runs over the data's 0.1 % to 99.9 % quantiles and a twentieth more (it ran from
    -28 to 148, and with the far points from -350), and the points beyond are counted at
    its edges. A rug of few points keeps its components' curves whole."""
    from explainer.render.plots import fit_figure

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(45, 6, 2500), rng.normal(75, 5, 2500)])
    x = np.concatenate([x[(x > 20) & (x < 100)], [400, 420, -300]]).round(2)
    trace = run(validate({"data": x.tolist(), "components": 2,
                          "init_method": "random_points", "seed": 1,
                          "stop": {"iterations": 3}}))
    fig = fit_figure(trace)
    _drawn(fig)
    lo, hi = np.quantile(x, [0.001, 0.999])
    pad = 0.05 * (hi - lo)
    for ax in fig.axes[:2]:
        left, right = ax.get_xlim()
        assert lo - 3 * pad <= left <= lo and hi <= right <= hi + 3 * pad, (left, right)
        texts = [t.get_text() for t in ax.texts]
        below, above = int((x < lo - pad).sum()), int((x > hi + pad).sum())
        assert f"\u2190 {below:,} points beyond" in texts, texts
        assert f"{above:,} points beyond \u2192" in texts, texts
    lecture = fit_figure(run(validate(lecture_spec())))
    left, right = lecture.axes[0].get_xlim()
    assert left < 2 - 3 * np.sqrt(2) and right > 8 + 3 * np.sqrt(2)  # both tails whole


def test_each_component_curve_stays_visible_where_it_makes_up_the_mixture():
    """Two clusters far apart: each weighted component is p(x) near its cluster. The
    mixture's line is drawn beneath the components' dashed ones (a lower zorder, a
    wider grey line), in the Gaussian's, the waiting times' and the counts' figures."""
    from explainer.render.plots import family_fit_figure, fit_figure

    gaussian = run(validate({"data": [0, 1, 2, 1.5, 0.5, 20, 21, 22, 20.5, 21.5],
                             "components": 2, "init": {"weights": [0.5, 0.5],
                                                       "means": [1, 21], "variances": [1, 1]},
                             "stop": {"iterations": 1}}))
    waits = run(validate({"data": [0.1, 0.2, 0.15, 30, 40, 35], "components": 2,
                          "model": {"family": "exponential"},
                          "init": {"weights": [0.5, 0.5], "rates": [8, 0.03]}}))
    counts = run(validate({"data": [0, 1, 0, 30, 31, 29], "components": 2,
                           "model": {"family": "poisson"},
                           "init": {"weights": [0.5, 0.5], "rates": [0.5, 30]}}))
    for fig in (fit_figure(gaussian), family_fit_figure(waits), family_fit_figure(counts)):
        _drawn(fig)
        for ax in fig.axes:
            lines = {line.get_label(): line for line in ax.get_lines()}
            mixture = lines["$p(x)$"]
            components = [line for label, line in lines.items() if label.startswith("$\\pi")]
            assert len(components) == 2
            assert all(c.get_zorder() > mixture.get_zorder() for c in components)
            assert mixture.get_linewidth() > max(c.get_linewidth() for c in components)
            # Near each cluster one component is the whole of p(x): it is drawn over it.
            for c in components:
                y = c.get_ydata()
                assert np.any(np.isclose(y, mixture.get_ydata(), rtol=1e-2)
                              & (y > 0.1 * y.max()))


def test_a_fit_figure_legend_covers_no_data():
    """The legend stands beside the panels (a binomial's legend covered a data bar): its
    box meets no axes' box, in the coin example's figure and the lecture's."""
    from explainer.render.plots import family_fit_figure, fit_figure

    coins = run(load_problem(EXAMPLES / "coins" / "coins.yaml"))
    for fig in (family_fit_figure(coins), fit_figure(run(validate(lecture_spec())))):
        _drawn(fig)
        renderer = fig.canvas.get_renderer()
        assert not any(ax.get_legend() for ax in fig.axes)
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        labels = [t.get_text() for t in legend.get_texts()]
        assert "$p(x)$" in labels and len(labels) >= 4, labels
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()


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
        "wrote y.md and 2 figures in y_files/\n"  # one iteration: no log-likelihood figure
    result = _cli("solve", lecture, cwd=tmp_path)  # standard output: nothing said
    assert result.stderr == "" and result.stdout.startswith("# ")
    assert _cli("solve", lecture, "-o", "t.json", cwd=tmp_path).stderr == "wrote t.json\n"
    assert _cli("render", "t.json", "-o", "r.md", cwd=tmp_path).stderr == "wrote r.md\n"
    assert _cli("render", "t.json", "-o", "s.md", "--quiet", cwd=tmp_path).stderr == ""


# --------------------------------------------------------------------------- names

def _csv(tmp_path, text: str, name: str = "d.csv"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return str(tmp_path / name)


def test_csv_column_names_label_the_axes_and_the_setup(tmp_path):
    from explainer.render.markdown import render_markdown
    from explainer.render.plots import fit_figure, resp_figure, scatter_fit_figure

    two = problem_from(None, data_file=_csv(tmp_path, "id,weight,height\n1,50,1.5\n2,55,1.6\n"
                                                      "3,80,1.8\n4,85,1.9\n5,60,1.7\n"),
                       columns="weight,height", k="2", init_method="kmeans", iterations="2")
    assert two.variables == ("weight", "height")
    trace = run(two)
    fig = scatter_fit_figure(trace)
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] == [("weight", "height")] * 2
    # Kilograms against metres: each axis to its own scale, not a line of equal units.
    assert all(ax.get_aspect() == "auto" for ax in fig.axes)
    assert "- **Coordinates:** $x_{n1}$ is weight, $x_{n2}$ is height." in render_markdown(trace)

    one = run(problem_from(None, data_file=_csv(tmp_path, "height,w\n1.5,1\n1.6,2\n1.9,3\n",
                                                "h.csv"),
                           column="height", k="1", init_method="kmeans"))
    assert one.problem.variables == ("height",)
    assert {ax.get_xlabel() for ax in fit_figure(one).axes} == {"height"}
    assert resp_figure(one).axes[0].get_xlabel() == "height"
    assert "- **Data** (height, $N = 3$ points):" in render_markdown(one)


def test_variables_name_inline_data_and_travel_with_the_trace(tmp_path):
    from explainer.render.json import render_json
    from explainer.render.json_reader import trace_from_json
    from explainer.render.plots import scatter_fit_figure

    spec = {"data": [[0, 0], [1, 1], [4, 5], [5, 4]], "components": 2,
            "init_method": "kmeans", "variables": ["dose $mg$", "response"]}
    trace = run(validate(spec))
    again = trace_from_json(render_json(trace))
    assert again.problem.variables == ("dose $mg$", "response")
    ax = scatter_fit_figure(again).axes[0]
    assert ax.get_xlabel() == r"dose \$mg\$"  # a dollar is text, not matplotlib's math
    assert ax.get_aspect() == 1.0  # the same units on both axes: ellipses keep their shape
    with pytest.raises(ProblemError, match=r"expected 2 names \(one per coordinate"):
        validate({**spec, "variables": ["a"]})
    with pytest.raises(ProblemError, match="expected distinct names"):
        validate({**spec, "variables": ["a", "a"]})
    # New data on the command line: the spec's names were for other data.
    assert problem_from(spec, data="1,2,3,8", k="1").variables is None
    # A header name longer than a title may be labels nothing (x_n stays).
    long = _csv(tmp_path, "a" * 600 + "\n1\n2\n3\n", "long.csv")
    assert problem_from(None, data_file=long, k="1", init_method="kmeans").variables is None


def test_a_column_name_in_another_script_is_drawn_with_a_font_that_has_it(tmp_path):
    from explainer.render.fonts import figure_fonts
    from explainer.render.plots import write_plots

    if figure_fonts("身高") is None:
        pytest.skip("no installed font has CJK characters")
    trace = run(problem_from(None, data_file=_csv(tmp_path, "身高,体重\n1.5,50\n1.6,55\n1.8,80\n"
                                                            "1.9,85\n"),
                             columns="身高,体重", k="2", init_method="kmeans",
                             iterations="2"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of every glyph it is missing
        names = write_plots(trace, tmp_path, "png")
    assert set(names) == {"fit", "grid", "loglik"}
    # A name no installed font can draw is not drawn as boxes: the axis keeps its symbol.
    unknown = run(validate({"data": [[0, 0], [1, 1], [4, 5]], "components": 1,
                            "init_method": "kmeans", "variables": ["\U0010fffd", "y"]}))
    from explainer.render.plots import scatter_fit_figure

    assert scatter_fit_figure(unknown).axes[0].get_xlabel() == "$x_{n1}$"


# --------------------------------------------------------------------------- PDF

needs_latex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs latexmk")


def _page_size(pdf: bytes, tmp_path) -> str:
    (tmp_path / "p.pdf").write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(tmp_path / "p.pdf")], capture_output=True,
                          text=True, check=True).stdout
    return re.search(r"Page size:\s+(.*)", info).group(1)


@needs_latex
def test_the_pdf_is_a4_unless_letter_is_asked(tmp_path):
    lecture = str(ROOT / "examples" / "lecture" / "lecture.yaml")
    for args, size in (([], "595.276 x 841.89 pts (A4)"),
                       (["--paper", "letter"], "612 x 792 pts (letter)")):
        out = tmp_path / "s.pdf"
        assert _cli("solve", lecture, "-o", str(out), "--no-plots", *args).returncode == 0
        assert _page_size(out.read_bytes(), tmp_path) == size
    # The spec's display.paper, and render's --paper over a saved trace's.
    from explainer.render.output import build_pdf

    letter = run(validate({"data": [1, 2, 5], "components": 1, "init_method": "kmeans",
                           "display": {"paper": "letter"}}))
    assert _page_size(build_pdf(letter, plots=False).pdf, tmp_path).endswith("(letter)")
    assert _cli("solve", lecture, "-o", str(tmp_path / "t.json")).returncode == 0
    assert _cli("render", str(tmp_path / "t.json"), "-o", str(tmp_path / "r.pdf"),
                "--paper", "letter").returncode == 0
    assert _page_size((tmp_path / "r.pdf").read_bytes(), tmp_path).endswith("(letter)")
    with pytest.raises(ProblemError, match="display.paper: expected one of a4, letter"):
        validate({"data": [1, 2], "components": 1, "init_method": "kmeans",
                  "display": {"paper": "a5"}})


SCRIPTS = {
    "accented Latin": ("Müller, Łódź, Ørsted: déjà vu", ["Größe", "Çelik"]),
    "Greek": ("Ελληνικά: κ-μέσα και EM", ["α", "β"]),
    "Cyrillic": ("Смесь нормальных распределений", ["низкие", "высокие"]),
    "Chinese and Japanese": ("高斯混合模型 の EM", ["小", "大"]),
    "Korean": ("가우스 혼합 모형", ["작은", "큰"]),
    "Hebrew and Arabic": ("עברית والعربية", ["א", "ب"]),
    "symbols": ("Ω ✓ ≤ → ∞", ["μ₁", "μ₂"]),
}


@needs_latex
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_titles_and_names_in_any_script_compile(script, tmp_path):
    """Every title and name Markdown shows, the PDF shows: pdflatex for what it can set,
    LuaLaTeX with fallback fonts for the rest. Characters are compared as a set, since
    pdftotext gives right-to-left text in its own order."""
    from explainer.render.fonts import beyond_pdflatex, unicode_engine_available
    from explainer.render.output import build_pdf

    title, names = SCRIPTS[script]
    unicode = bool(beyond_pdflatex(title + "".join(names)))
    if unicode and not unicode_engine_available():
        pytest.skip("needs LuaLaTeX (texlive-luatex) and fontconfig")
    assert unicode == (script != "accented Latin")  # pdflatex sets accented Latin
    trace = run(validate({"title": title, "names": names, "data": [1, 2, 5, 8, 9],
                          "init": {"weights": [0.5, 0.5], "means": [2, 8],
                                   "variances": [2, 2]}}))
    (tmp_path / "u.pdf").write_bytes(build_pdf(trace, plots=False).pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "u.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for word in [title, *names]:
        assert set(word) - {" "} <= set(text), word


def test_right_to_left_runs_are_set_right_to_left_and_text_is_composed():
    from explainer.render.filters import tex_text

    assert tex_text("abc עברית חדשה 12 x") == r"abc \emrtl{עברית חדשה} 12 x"
    assert tex_text("e\u0301t\u00e9 \x07$1") == r"été \$1"  # one é; no control character


def test_a_character_no_font_has_is_named_before_latex_runs():
    from explainer.errors import RenderError
    from explainer.render.fonts import _installed, fallback_fonts

    if not _installed():
        pytest.skip("needs fontconfig")
    with pytest.raises(RenderError, match=r"no installed font has .* \(U\+10FFFD\)"):
        fallback_fonts(["Title \U0010fffd"])
    assert fallback_fonts(["Title \U0010fffd"], strict=False) == []


@needs_latex
def test_without_lualatex_the_error_names_the_character_and_the_packages(monkeypatch):
    from explainer.errors import RenderError
    from explainer.render import pdf
    from explainer.render.output import build_pdf

    monkeypatch.setattr(pdf, "unicode_engine_available", lambda: False)
    trace = run(validate({"title": "Ω", "data": [1, 2, 5], "components": 1,
                          "init_method": "kmeans"}))
    with pytest.raises(RenderError, match=r"'Ω' \(U\+03A9 GREEK CAPITAL LETTER OMEGA\), "
                                          r"which pdflatex cannot set.*texlive-luatex"):
        build_pdf(trace, plots=False)


# --------------------------------------------------------------------------- layout

def _pages(pdf: bytes, tmp_path) -> list[str]:
    (tmp_path / "l.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "l.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@needs_latex
def test_labels_stay_with_their_content_and_figures_with_their_sections(tmp_path):
    """Nine points, three components, two iterations: no label ends a page without its
    list, no table is parted from the line that introduces it, the figures stand where
    the text puts them, and the long sums break into aligned lines, never multline's
    ragged ones."""
    from explainer.render.latex import render_latex
    from explainer.render.output import build_pdf

    trace = run(validate({"data": [0.5, 1.2, 1.9, 4.4, 5.1, 5.8, 9.3, 10.2, 11.0],
                          "init": {"weights": ["1/3", "1/3", "1/3"], "means": [1, 5, 10],
                                   "variances": [1, 1, 1]},
                          "stop": {"iterations": 2}}))
    tex = render_latex(trace, plots={"fit": "f.pdf", "loglik": "l.pdf", "resp": "r.pdf"})
    assert "multline" not in tex and "[htbp]" not in tex
    assert re.search(r"&N_\{1\} = .* \\\\\n&\\quad \+ ", tex)  # the 9-term N_1 sum
    pages = _pages(build_pdf(trace, plots=True).pdf, tmp_path)
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()][:-1]  # no folio
        if lines:
            assert not re.fullmatch(r"(Component \d:|E-step takeaway:|Final parameters.*:)",
                                    lines[-1]), lines[-1]
        for k in (1, 2, 3):
            if f"Component {k}:" in page and "Conclusion" in page:
                after = page.split(f"Component {k}:", 1)[1]
                assert "Weight:" in after
    text = "\f".join(pages)
    final = text.index("Final parameters, with log-likelihood")
    assert text.index("Convergence") < text.index("Figure 2:") < final
    assert "\f" not in text[final:text.index("Component", final)]  # the table on its page
    assert text.index("Clustering") < text.index("Figure 3:")


# --------------------------------------------------------------------------- detail

def test_up_to_three_iterations_are_all_shown_in_full_unless_detail_says():
    def shown(**options):
        problem = problem_from(None, data="1,2,5,8,9", k="2", weights=".5,.5", means="2,8",
                               variances="2,2", **options)
        return [it.detailed for it in run(problem).iterations]

    assert shown(iterations="2") == [True, True]
    assert shown(iterations="3") == [True, True, True]
    assert shown(iterations="4") == [True, False, False, False]
    assert shown(iterations="3", detail="1") == [True, False, False]
    assert shown(iterations="2", detail="none") == [False, False]


def test_in_full_counts_the_iterations_run_not_those_asked():
    """--iterations 50 --tol T: a run that the tolerance stops after at most three
    iterations is shown whole, a longer one its first iteration alone (the gain of each
    iteration from a plain EM written out here decides where the run stops)."""
    from scipy.stats import norm

    x, w, mu, var = np.array([1., 2, 5, 8, 9]), np.array([.5, .5]), np.array([2., 8]), \
        np.array([2., 2])
    lls = []
    for _ in range(8):
        joint = w * norm.pdf(x[:, None], mu, np.sqrt(var))
        lls.append(np.log(joint.sum(axis=1)).sum())
        r = joint / joint.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0)
        w, mu = nk / len(x), (r.T @ x) / nk
        var = (r * (x[:, None] - mu) ** 2).sum(axis=0) / nk
    gains = np.diff(lls)
    for stop_after in (2, 3, 5):
        # a tolerance between the gain of the last iteration run and the one before
        tol = float(np.sqrt(gains[stop_after - 2] * gains[stop_after - 1]))
        problem = problem_from(None, data="1,2,5,8,9", k="2", weights=".5,.5", means="2,8",
                               variances="2,2", iterations="50", tol=str(tol))
        trace = run(problem)
        assert len(trace.iterations) == stop_after
        shown = [it.detailed for it in trace.iterations]
        assert shown == ([True] * stop_after if stop_after <= 3
                         else [True] + [False] * (stop_after - 1))
        # The spec it writes says 'auto', and reads back to the same run.
        written = spec_of(problem)
        assert written["display"]["detail"] == "auto"
        again = run(validate(written))
        assert [it.detailed for it in again.iterations] == shown
    # Where three iterations in full would pass a document's limits (1,000-row tables,
    # two components: 3 x 2 x 1,000^2 written-out terms, 3,000,000 at most), the run
    # keeps its first alone, as a long run does, and is not refused.
    from explainer.engine import _detail

    data = ",".join(str(v % 97) for v in range(1000))
    big = problem_from(None, data=data, k="2", weights=".5,.5", means="20,70",
                       variances="300,300", iterations="5", tol="1e-30", max_rows="1000")
    assert big.detail.up_to == 3 and _detail(big).up_to is None
    assert [it.detailed for it in run(big).iterations] == [True] + [False] * 4
    assert _detail(replace(big, max_rows=12)).up_to == 3
    # 'auto' asked for: the same rule without a tolerance; it stands alone.
    auto = problem_from(None, data="1,2,5,8,9", k="2", weights=".5,.5", means="2,8",
                        variances="2,2", iterations="5", detail="auto")
    assert [it.detailed for it in run(auto).iterations] == [True] + [False] * 4
    with pytest.raises(ProblemError, match="'auto' stands alone"):
        problem_from(None, data="1,2", k="1", weights="1", means="1", variances="1",
                     detail="auto,2")


def test_the_worked_point_is_one_a_calculator_can_redo():
    """x_1 = -20 is 21 and 30 standard deviations from the means: its weighted likelihoods
    (scipy: 10^-97 and 10^-196) are below what a calculator shows, so the worked points are
    the most ambiguous one and the first a student can redo."""
    from scipy.stats import norm

    from explainer.render.markdown import render_markdown

    data, means = [-20, 1, 2, 5, 9, 10, 30], [1, 5, 10]
    trace = run(problem_from(None, data=",".join(map(str, data)), weights="1/3,1/3,1/3",
                             means="1,5,10", variances="1,1,1"))
    log_weighted = np.log(1 / 3) + np.array([[norm.logpdf(x, m, 1) for m in means]
                                             for x in data])
    followable = [n for n in range(len(data)) if log_weighted[n].min() >= math.log(1e-99)]
    assert 0 not in followable and followable[0] == 1
    worked = re.findall(r"\*\*For \$x_\{(\d+)\} = ", render_markdown(trace))
    resp = np.exp(log_weighted - np.logaddexp.reduce(log_weighted, axis=1, keepdims=True))
    assert worked == [str(int(np.argmin(resp.max(axis=1))) + 1), "2"]
    # The lecture's x_1 (10^-6 for the far component) is still worked.
    lecture = render_markdown(run(problem_from(ROOT / "examples" / "lecture" /
                                               "lecture.yaml")))
    assert "**For $x_{1} = 1$:**" in lecture


def _printed(tex: str) -> Decimal:
    match = re.fullmatch(r"\s*(-?[\d.]+)(?:\s*\\times\s*10\^\{(-?\d+)\})?\s*", tex)
    assert match, tex
    return Decimal(match.group(1)).scaleb(int(match.group(2) or 0))


def test_the_sums_of_the_printed_rows_are_said_in_few_digits_and_hold():
    """0.999 + 5.53e-4 + 2.09e-14 is 0.9995530000000209: the sentence gives the smallest
    sum rounded down and the largest rounded up, at most 3 decimals beyond the display's
    and six significant digits, and every printed row of responsibilities adds up to
    within them."""
    from explainer.render.markdown import render_markdown

    text = render_markdown(run(problem_from(None, data="-20,1,2,5,9,10,30",
                                            weights="1/3,1/3,1/3", means="1,5,10",
                                            variances="1,1,1")))
    low, high = re.search(r"add up to between \$([\d.]+)\$ and \$([\d.]+)\$", text).groups()
    assert all(len(v.split(".")[1]) <= 3 + 3 for v in (low, high))
    assert all(len(v.replace(".", "").lstrip("0")) <= 6 for v in (low, high)), (low, high)
    table = text.split("Here are the responsibilities of all points", 1)[1]
    rows = re.findall(r"^\| \$x_\{\d+\} = [^$]*\$ \|(.*)\|$", table.split("\n\n")[1], re.M)
    assert len(rows) == 7
    for row in rows:
        total = sum(_printed(cell.strip().strip("$")) for cell in row.split("|"))
        assert Decimal(low) <= total <= Decimal(high)
