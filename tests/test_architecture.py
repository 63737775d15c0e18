"""The shape of the code the design asks for: the layers of ../shared/DESIGN.md over the
whole package (import-linter's layers contract, pyproject.toml), and no circle in the
render package (a model's context imports the skeleton, never another model's); every
import counted, also those made inside functions."""

from __future__ import annotations

import ast
import contextlib
import io

from conftest import ROOT

RENDER = ROOT / "explainer" / "render"


def _imports() -> dict[str, set[str]]:
    modules = {path.stem for path in RENDER.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in RENDER.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        graph[path.stem] = found & modules
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_render_package_has_no_circle():
    graph = _imports()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    assert "context" not in graph["context_mv"] and "skeleton" in graph["context_mv"]
    assert not graph["skeleton"] & {"context", "context_mv"}  # the skeleton knows no model


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_imports_only_go_down_the_layers():
    """import-linter's layers contract (pyproject.toml) holds over the whole package."""
    from importlinter.cli import lint_imports

    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert status == 0, report.getvalue()[-3000:]


def test_every_module_is_in_a_layer():
    """A new module cannot escape the contract: each module and package directly under
    explainer/ is named in the layers."""
    text = (ROOT / "pyproject.toml").read_text()
    layers = text.split("layers = [", 1)[1].split("]", 1)[0]
    named = {name.strip(' "') for line in layers.splitlines() for name in line.split("|")
             if name.strip(' ",')}
    named = {name.rstrip('",') for name in named}
    package = ROOT / "explainer"
    modules = {f"explainer.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"explainer.{p.name}" for p in package.iterdir()
                if (p / "__init__.py").exists()}
    assert modules - {"explainer.schema"} <= named, sorted(modules - named)
    assert "ignore_imports" not in text  # no exceptions to the layers


def test_no_module_is_over_600_lines():
    """One concern per module: none of the package's modules has grown past 600 lines."""
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "explainer").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long


# Where code outside the model plug-ins (explainer/families/) and their document plug-ins
# (explainer/render/documents/) still asks which model it has: a family's name compared
# (with the Gaussian's or any other's), or the dimension branched on. The restructuring
# (the model plug-in issue) removes them; the counts per file may only fall, and a file
# that reaches 0 leaves the table. No code outside them compares a family's name.
_NAMES = "gaussian|binomial|bernoulli|poisson|exponential|categorical"
_FAMILY = (r"""family(?:\.name)?\s*[!=]=\s*["']|family\s+(?:not\s+)?in\s*[(\[]"""
           rf"""|["'](?:{_NAMES})["']\s*[!=]=""")
# (array.ndim is the rank of whatever array the JSON writer lays out, not the dimension.)
_DIMENSION = r"""(?<!\barray\.)\bn?dim\s*(?:[<>]=?|[!=]=)"""
FAMILY_TESTS_LEFT: dict[str, int] = {}
DIMENSION_TESTS_LEFT = {
    "explainer/backend.py": 9, "explainer/exact.py": 4,
    "explainer/grading/check.py": 2, "explainer/render/context_mv.py": 1,
    "explainer/render/plots.py": 1, "explainer/trace.py": 2,
    "templates/latex/mvparts.tex.j2": 7, "templates/markdown/mvparts.md.j2": 6,
}


def _asked(pattern: str) -> dict[str, int]:
    import re

    found = {}
    for path in sorted([*(ROOT / "explainer").rglob("*.py"), *(ROOT / "templates").rglob("*.j2")]):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(("explainer/families/", "explainer/render/documents/")):
            continue
        count = len(re.findall(pattern, path.read_text()))
        if count:
            found[name] = count
    return found


def test_code_asks_which_model_it_has_no_more_than_before():
    for pattern, left in ((_FAMILY, FAMILY_TESTS_LEFT), (_DIMENSION, DIMENSION_TESTS_LEFT)):
        found = _asked(pattern)
        grown = {name: (count, left.get(name, 0)) for name, count in found.items()
                 if count > left.get(name, 0)}
        assert not grown, f"asks which model it has more often (now, before): {grown}"
        assert found == left, "fewer now: lower the table to " + repr(found)


# One template tree (the model plug-in issue): a part written once in templates/parts/,
# against the formats' vocabularies. The macros still written twice, once in a Markdown
# template and once in the LaTeX template of the same name, may only become fewer; the
# vocabularies, each format's own writing, are parallel by design.
PARALLEL_MACROS_LEFT = 19


def _parallel_macros() -> set[tuple[str, str]]:
    import re

    def defined(kind: str, suffix: str, pattern: str) -> set[tuple[str, str]]:
        found = set()
        for path in (ROOT / "templates" / kind).rglob(f"*{suffix}"):
            stem = path.relative_to(ROOT / "templates" / kind).as_posix()[:-len(suffix)]
            if stem != "vocabulary":
                found |= {(stem, name) for name in re.findall(pattern, path.read_text())}
        return found

    return defined("markdown", ".md.j2", r"\{%-? macro (\w+)\(") & \
        defined("latex", ".tex.j2", r"\\BLOCK\{-? macro (\w+)\(")


def test_fewer_macros_are_written_once_per_format():
    found = _parallel_macros()
    assert len(found) <= PARALLEL_MACROS_LEFT, sorted(found)
    assert len(found) == PARALLEL_MACROS_LEFT, f"fewer now: lower the count to {len(found)}"
