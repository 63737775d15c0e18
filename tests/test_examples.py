"""examples/ are what regenerate.py makes from their specs today."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES


def test_examples_are_up_to_date():
    result = subprocess.run([sys.executable, str(EXAMPLES / "regenerate.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_every_spec_has_its_markdown():
    specs = sorted(EXAMPLES.glob("*/*.yaml"))
    assert {s.parent.name for s in specs} >= {"lecture", "heights", "generated", "single-point"}
    for spec in specs:
        assert spec.with_suffix(".md").is_file(), spec


def test_staleness_is_detected(tmp_path, monkeypatch):
    sys.path.insert(0, str(EXAMPLES))
    import regenerate

    target = tmp_path / "lecture.md"
    target.write_text("outdated\n")
    monkeypatch.setattr(regenerate, "outputs", lambda: {target: lambda: "current\n"})
    monkeypatch.setattr(sys, "argv", ["regenerate.py", "--check"])
    assert regenerate.main() == 1
    monkeypatch.setattr(sys, "argv", ["regenerate.py"])
    assert regenerate.main() == 0 and target.read_text() == "current\n"


def test_readme_excerpt_is_real_output():
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    lecture = (EXAMPLES / "lecture" / "lecture.md").read_text(encoding="utf-8")
    table = readme[readme.index("| $x_n$ |"):readme.index("and part of the M-step")].strip()
    means = readme[readme.index("**3. Means"):readme.index("The same solution as a PDF")].strip()
    assert table in lecture and means in lecture
