"""Shared helpers for the tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# The examples' problem specs (the exam folder holds a template, not a problem).
EXAMPLE_SPECS = [p for p in sorted(EXAMPLES.glob("*/*.yaml")) if p.parent.name != "exam"]

# The checkout's package first, whether or not it is installed.
sys.path.insert(0, str(ROOT))


def lecture_spec(**overrides: Any) -> dict[str, Any]:
    """The lecture example as a spec mapping (the numbers of the problem, not of its answer)."""
    spec: dict[str, Any] = {
        "data": [1, 2, 5, 8, 9], "components": 2,
        "init": {"weights": [0.5, 0.5], "means": [2, 8], "variances": [2, 2]},
        "model": {"kernel": "proportional", "update": ["weights", "means"]},
        "stop": {"iterations": 1},
    }
    spec.update(overrides)
    return spec


def given_spec(data, weights, means, variances, iterations=1, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "data": list(map(float, data)), "components": len(means),
        "init": {"weights": list(map(float, weights)), "means": list(map(float, means)),
                 "variances": list(map(float, variances))},
        "stop": {"iterations": iterations},
    }
    spec.update(extra)
    return spec


@pytest.fixture
def root() -> Path:
    return ROOT
