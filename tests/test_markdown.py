"""The rendered Markdown: math renders with KaTeX, tables are well formed, numbers
are right, user text is escaped, long tables are elided."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy.stats import norm

from conftest import EXAMPLES, assert_printed, given_spec, lecture_spec, rounds_from
from eqcheck import check_markdown
from explainer.engine import run
from explainer.validation import validate
from explainer.render.markdown import render_markdown
from mdcheck import (MARKDOWN_ESCAPE_IN_MATH, katex_failures, math_spans, table_count,
                     table_problems)


def markdown(spec) -> str:
    return render_markdown(run(validate(spec)))


EXAMPLE_FILES = sorted(EXAMPLES.glob("*/*.md")) + sorted(EXAMPLES.glob("exam/*/*.md"))

# Documents that exercise every branch of the templates, besides the examples.
EXTRA_SPECS = {
    "named-three-components": given_spec(
        [0.5, 1, 1.5, 4, 4.5, 5, 9, 9.5, 10], [0.3, 0.3, 0.4], [1, 4, 9], [1, 2, 0.5],
        iterations=3, names=["low", "mid | pipe", "high_$x$"], display={"detail": "all"}),
    "underflow-and-collapse": given_spec(
        [0.0, 1.0, 2.0, 10.0, 1000.0], [0.5, 0.5], [1, 10], [1, 1e-3], iterations=3,
        display={"detail": "all"}),
    "empty-component": given_spec([0.0, 0.5, 1.0], [1.0, 0.0], [0.5, 100], [1, 1],
                                  iterations=2),
    "single-component": given_spec([1, 2, 3], [1], [2], [1], iterations=2),
    "tol": given_spec([1, 2, 5, 8, 9], [0.5, 0.5], [2, 8], [2, 2], iterations=200,
                      stop={"iterations": 200, "tol": 1e-6}),
    "negative-numbers": given_spec([-3, -2.5, -1, 2], [0.5, 0.5], [-2, 1], [0.5, 2],
                                   iterations=1, display={"decimals": 2}),
    "exact-unequal-priors": given_spec(
        [0.5, 1.5, 2, 6.5, 7], [0.25, 0.75], [1, 6], [0.5, 2], iterations=2,
        display={"exact": True, "detail": "all"}),
    "exact-estep-only": {"data": [1, 2.5, 4], "init": {"weights": ["1/3", "2/3"],
                                                        "means": [1, 4], "variances": [1, 1]},
                         "stop": {"iterations": 0}, "display": {"exact": True}},
    "rounded-carry": given_spec([1.2, 1.9, 2.4, 6.1, 6.8, 7.7], [0.5, 0.5], [2, 7], [1, 1],
                                iterations=2, display={"carry": "rounded", "decimals": 2,
                                                       "detail": "all"}),
    "random-responsibilities": {"data": list(range(20)), "components": 3,
                                "init_method": "random_responsibilities", "seed": 1,
                                "stop": {"iterations": 2}, "display": {"max_rows": 5}},
    # d >= 2: each covariance type, d = 3 and 4, exact 2 x 2, floors, the E-step alone.
    "mv-diag-3d": {"data": [[0, 0, 1], [1, 0.5, 0], [0.5, 1, 2], [6, 5, 4], [5, 6, 5],
                            [6.5, 5.5, 3]],
                   "components": 2, "init_method": "kmeans", "model": {"covariance_type": "diag"},
                   "stop": {"iterations": 2}, "display": {"detail": "all"}},
    "mv-spherical-4d-named": {
        "data": [[i % 3, (i * 7) % 5, (i * 3) % 4, i / 2] for i in range(12)],
        "components": 3, "init_method": "random_points", "seed": 2,
        "names": ["a | b", "c_$d$", "e"], "model": {"covariance_type": "spherical"},
        "stop": {"iterations": 1}},
    "mv-tied": {"data": [[0, 0], [1, 2], [2, 1], [-3, 7], [5, 5], [6, 7], [7, 6]],
                "init": {"weights": [0.4, 0.6], "means": [[1, 1], [6, 6]],
                         "covariances": [[[2, 1], [1, 2]], [[2, 1], [1, 2]]]},
                "model": {"covariance_type": "tied"}, "stop": {"iterations": 2}},
    "mv-exact-2x2": {"data": [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [2, 2]],
                     "init": {"weights": ["1/2", "1/2"], "means": [[0, 0], [4, 4]],
                              "covariances": [[[1, 0], [0, 1]], [[1, "1/2"], ["1/2", 1]]]},
                     "stop": {"iterations": 1}, "display": {"exact": True, "detail": "all"}},
    "mv-estep-only": {"data": [[0, 0], [1, 0], [4, 4]],
                      "init": {"weights": [0.5, 0.5], "means": [[0, 0], [4, 4]],
                               "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]},
                      "stop": {"iterations": 0}},
    "mv-collapse": {"data": [[0, 0], [1, 0.5], [0.5, 1], [1, 1], [10, 10]],
                    "init": {"weights": [0.5, 0.5], "means": [[0.5, 0.5], [10, 10]],
                             "covariances": [[[1, 0], [0, 1]], [[1e-4, 0], [0, 1e-4]]]},
                    "stop": {"iterations": 3}},
    "mv-coincident-columns": {"data": [[float(v), float(v)] for v in (0, 1, 2, 5, 6, 7)],
                              "components": 2, "init_method": "random_points", "seed": 1,
                              "stop": {"iterations": 2}},
}


def documents():
    docs = [(p.relative_to(EXAMPLES).as_posix(), p.read_text(encoding="utf-8"))
            for p in EXAMPLE_FILES]
    docs += [(name, markdown(spec)) for name, spec in EXTRA_SPECS.items()]
    return docs


DOCUMENTS = documents()


def test_there_are_examples_to_check():
    assert len(EXAMPLE_FILES) >= 4


@pytest.mark.parametrize("name,text", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_every_math_span_renders_with_katex(name, text):
    spans = math_spans(text)
    assert len(spans) > 10  # (a question sheet is short)
    failures = katex_failures(spans)
    assert failures == [], failures[:3]


@pytest.mark.parametrize("name,text", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_math_avoids_markdown_escapes(name, text):
    for span in math_spans(text):
        assert not MARKDOWN_ESCAPE_IN_MATH.search(span["tex"]), span


@pytest.mark.parametrize("name,text", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_every_table_has_a_consistent_column_count(name, text):
    # (a question sheet's setup: a table of the starting parameters in 1-D; in the
    # plane they are vectors and matrices, displayed)
    least = 2 if not name.endswith("question.md") else 0 if "plane" in name else 1
    assert table_count(text) >= least
    assert table_problems(text) == []


def test_the_checks_catch_broken_math_and_tables():
    assert katex_failures([{"tex": r"\frac{1}{", "display": False}])
    assert table_problems("| a | b |\n| - | - |\n| $x | y$ | 2 |\n")
    with pytest.raises(AssertionError):
        math_spans("text $x and more\n")
    with pytest.raises(AssertionError):
        math_spans("- item\n\n  $$\n  x\n  $$\n")
    with pytest.raises(AssertionError, match="blank line"):
        math_spans("$$\n\nx\n$$\n")
    assert MARKDOWN_ESCAPE_IN_MATH.search(r"\{ x \}")


def test_lecture_document_shows_the_worked_numbers():
    text = markdown(lecture_spec())
    # Likelihood cells in the lecture's form, values recomputed here.
    assert_printed(text, r"$\exp\left(-\frac{(1-2)^2}{4}\right) = \exp(-0.25) \approx ",
                   math.exp(-0.25))
    assert r"\exp(0) = 1.0000" in text
    # A density below the display precision is printed with three significant digits.
    assert_printed(text, r"\exp(-12.25) \approx ", math.exp(-12.25))
    assert r"\exp(-12.25) \approx 0.000" not in text
    # x3 = 5 is worked in full, and first, as in the notes; then x1.
    assert text.index("**For $x_{3} = 5$:**") < text.index("**For $x_{1} = 1$:**")
    # The column of densities has one number of decimals: exp(-2.25) as 0.1054 beside
    # exp(-0.25) as 0.7788.
    assert r"r_{3,1} = \frac{0.5 \cdot 0.1054}{0.5 \cdot 0.1054 + 0.5 \cdot 0.1054}" in text
    assert r"= \frac{0.1054}{0.1054 + 0.1054} = 0.500" in text
    assert round(math.exp(-2.25), 4) == 0.1054
    r = [math.exp(-(x - 2) ** 2 / 4) / (math.exp(-(x - 2) ** 2 / 4) + math.exp(-(x - 8) ** 2 / 4))
         for x in (1, 2, 5, 8, 9)]
    # N_1 written out with every r_n1 printed non-zero, then mu_1 as its weighted sum.
    terms = re.search(r"N_\{1\} = (.*?) \\approx", text).group(1).split(" + ")
    assert len(terms) == 5 and all(rounds_from(t, v) for t, v in zip(terms, r))
    assert r"\sum_{n=1}^{N} r_{n1} x_n = (" in text and r"\times 10^{-6} \times 9)" in text
    mu1 = sum(rv * x for rv, x in zip(r, (1, 2, 5, 8, 9))) / sum(r)
    assert_printed(text, "\\approx ", mu1)
    assert "kept fixed" in text and "x_{3} = 5$ is **ambiguous**" in text
    # Remarks generated from the trace.
    assert "cancel in $r_{nk}$" in text
    assert "scientific notation" in text


def test_normalized_document_shows_constants_and_scipy_densities():
    text = markdown(given_spec([3.5], [0.6, 0.4], [2, 5], [1, 2], iterations=0))
    p1, p2 = norm.pdf(3.5, 2, 1), norm.pdf(3.5, 5, math.sqrt(2))
    assert_printed(text, "c_{1} = \\frac{1}{\\sqrt{2\\pi \\cdot 1}} \\approx ", norm.pdf(0, 0, 1))
    assert_printed(text, "\\approx ", p1)
    assert_printed(text, "\\approx ", p2)
    assert_printed(text, "\\approx ", 0.6 * p1 + 0.4 * p2)
    assert_printed(text, "\\approx ", 0.6 * p1 / (0.6 * p1 + 0.4 * p2))
    assert "No M-step" in text
    assert_printed(text, "\\approx ", math.log(0.6 * p1 + 0.4 * p2))


def test_user_text_is_escaped():
    title = r"\input{/etc/passwd} $x$ _#%&~^ <b>bold</b> | [link](http://x)"
    text = markdown(lecture_spec(title=title, names=["a*b*", "c|d"]))
    first = text.splitlines()[0]
    assert first == (r"# \\input\{/etc/passwd\} \$x\$ \_\#%\&\~\^ \<b\>bold\</b\> \| "
                     r"\[link\](http://x)")
    assert "(a\\*b\\*)" in text and "(c\\|d)" in text
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(first)
    assert "<b>" not in html and "<a " not in html and "$x$" in html


def test_long_tables_are_elided_with_a_note():
    x = np.linspace(0, 10, 40).round(3).tolist()
    text = markdown(given_spec(x, [0.5, 0.5], [2, 8], [2, 2], iterations=1,
                               display={"max_rows": 6}))
    assert "34 of the rows are omitted (`display.max_rows` = 6)" in text
    assert r"| $\vdots$ |" in text
    assert "x_{40} = 10$" in text
    # Written sums keep their first three terms and the last; the 36 between enter as one
    # subtotal braced with their rows, so that each line can be redone.
    assert r"+ \dots +" not in text
    r = np.array([[0.5 * norm.pdf(v, m, math.sqrt(2)) for m in (2, 8)] for v in x])
    r /= r.sum(axis=1, keepdims=True)
    text = re.sub(r" \\cr\n&\\quad", "", text)  # (a sum written over lines, as one)
    braced = r"\{\\underbrace\{\(?([-0-9.]+)\)?\}_\{n = 4, \\dots, 39\}\}"
    for k in range(2):
        found = re.search(rf"N_\{{{k + 1}\}} = [^$]*? \+ {braced} \+ ", text)
        assert found and rounds_from(found.group(1), r[3:39, k].sum()), k
    found = re.search(rf"\\sum_{{n=1}}\^{{N}} r_{{n1}} x_n = .* \+ {braced} \+ ", text)
    assert found and rounds_from(found.group(1), r[3:39, 0] @ np.array(x)[3:39])
    report = check_markdown(text)
    assert not report.failures and report.checked > 40, report.failures


def test_collapse_and_log_space_are_explained():
    text = dict(DOCUMENTS)["underflow-and-collapse"]
    assert "**Collapse:**" in text and "floor" in text
    assert "log space" in text
    assert "10^{-" in text


def test_empty_component_is_explained():
    text = dict(DOCUMENTS)["empty-component"]
    assert "**Empty component:**" in text
    assert "cannot be re-estimated" in text


def test_tol_convergence_is_reported():
    text = dict(DOCUMENTS)["tol"]
    assert re.search(r"EM stopped after iteration \d+: the log-likelihood gained only", text)
    assert "converged" in text


def test_final_clustering_follows_the_larger_responsibility():
    trace = run(validate(given_spec([0, 1, 9, 10], [0.5, 0.5], [0, 10], [1, 1], iterations=2)))
    text = render_markdown(trace)
    table = text[text.index("## Clustering"):]
    rows = [line for line in table.splitlines() if line.startswith("| $x_{")]
    best = trace.final.detail.resp.argmax(axis=1) + 1
    assert [row.rstrip(" |").split("| ")[-1] for row in rows] == [str(b) for b in best]


def test_a_collapsing_component_is_not_said_to_fit_its_points_closer():
    """Component 3 carries about one point (N_3 near 1, computed here with scipy) and its
    variance shrinks: the conclusion says it is closing in on that point, not that its
    points lie closer to its mean; the other two shrink for that reason."""
    x, w, mu = np.array([0, 0.5, 1, 5, 5.5, 6, 9]), np.array([0.4, 0.4, 0.2]), [0.5, 5.5, 9]
    weighted = w * np.array([[norm.pdf(v, m, 1) for m in mu] for v in x])
    r = weighted / weighted.sum(axis=1, keepdims=True)
    assert abs(r[:, 2].sum() - 1) < 0.01
    text = markdown(given_spec(x, w, mu, [1, 1, 1], iterations=1))
    said = {k: line for k in (1, 2, 3) for line in text.splitlines()
            if line.startswith(rf"- Variance: $\sigma_{{{k}}}^2")}
    assert "closing in on the one point" in said[3]
    assert all("lie closer to its mean" in said[k] for k in (1, 2))
