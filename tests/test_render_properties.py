"""Any valid problem renders: hypothesis-generated problems (magnitudes, signs, K, decimals,
detail, elision) give Markdown whose math renders and whose tables hold, and LaTeX that
compiles with nothing past the margins.

The LaTeX test covers classroom-sized problems (magnitudes up to 100, 1 to 4 decimals,
K up to 5). Known limits: with decimals 0 (every value below 0.5 in scientific notation),
K = 6, or numbers of 10^8 and more shown to 5 or more decimals, a formula or a cell of
the landscape E-step table can reach a few points into the margin."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explainer.engine import run
from explainer.validation import validate
from explainer.render.markdown import render_markdown
from explainer.render.output import build_pdf
from mdcheck import MARKDOWN_ESCAPE_IN_MATH, katex_failures, math_spans, table_problems
from test_latex import overfull


@st.composite
def specs(draw, scales=(0.01, 1.0, 100.0, 10_000.0), decimals=(0, 6), max_k=6):
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(k, 30))
    scale = draw(st.sampled_from(scales))
    places = draw(st.integers(0, 3))
    x = [round(scale * draw(st.floats(-5, 5)), places) for _ in range(n)]
    means = [round(scale * draw(st.floats(-5, 5)), places) for _ in range(k)]
    variances = [round(scale ** 2 * draw(st.floats(0.05, 4)), 6) or scale ** 2 for _ in range(k)]
    raw = [draw(st.integers(1, 9)) for _ in range(k)]
    weights = [f"{w}/{sum(raw)}" for w in raw]
    iterations = draw(st.integers(0, 4)) if n >= k else 0
    return {
        "data": x, "components": k,
        "init": {"weights": weights, "means": means, "variances": variances},
        "model": {"update": draw(st.sampled_from([["weights", "means", "variances"],
                                                  ["weights", "means"], ["means"]]))},
        "stop": {"iterations": iterations},
        "display": {"decimals": draw(st.integers(*decimals)),
                    "max_rows": draw(st.integers(3, 12)),
                    "detail": draw(st.sampled_from(["all", [1], "last", "none"]))},
        "names": draw(st.none() | st.just([f"c{i}_$|{i}" for i in range(k)])),
    }


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_any_problem_renders_valid_markdown(spec):
    text = render_markdown(run(validate(spec)))
    spans = math_spans(text)
    assert not [s for s in spans if MARKDOWN_ESCAPE_IN_MATH.search(s["tex"])]
    assert table_problems(text) == []
    assert katex_failures(spans) == []


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs(scales=(0.01, 1.0, 100.0), decimals=(1, 4), max_k=5))
def test_any_problem_compiles_within_the_margins(spec):
    compiled = build_pdf(run(validate(spec)), plots=False)
    assert overfull(compiled.log) == []
