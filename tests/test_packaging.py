"""A non-editable install (a wheel) ships the templates and solves the lecture example."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile

from conftest import EXAMPLES, ROOT


def test_wheel_ships_templates_and_works_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(wheels), str(ROOT)], check=True, timeout=300,
                   cwd=tmp_path)
    (wheel,) = wheels.glob("em_explainer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for template in ROOT.glob("templates/**/*.j2"):
        assert f"explainer/{template.relative_to(ROOT).as_posix()}" in names
    assert "explainer/py.typed" in names
    assert "explainer/schema/trace-1.schema.json" in names
    assert "explainer/schema/spec-1.schema.json" in names
    # Install into a fresh environment that borrows this one's dependencies.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
                   check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = tmp_path / "lecture.md"
    result = subprocess.run([str(env_dir / "bin" / "em-explainer"), "solve",
                             str(EXAMPLES / "lecture" / "lecture.yaml"), "-o", str(out)],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (EXAMPLES / "lecture" / "lecture.md").read_text()
    where = subprocess.run([str(python), "-c", "import explainer; print(explainer.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    assert str(env_dir) in where.stdout  # the installed copy, not the checkout
