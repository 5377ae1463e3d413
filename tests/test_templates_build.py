"""The committed templates are what scripts/build_templates.py makes (they stay regenerable)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"


def _script():
    spec = importlib.util.spec_from_file_location("build_templates",
                                                  REPO / "scripts" / "build_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_templates_equal_a_fresh_build(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    script = _script()
    recorded = json.loads((TEMPLATES / "BUILT_WITH.json").read_text())
    if script.toolchain() != recorded:
        pytest.skip(f"templates were built with {recorded}, this environment has "
                    f"{script.toolchain()}: run python scripts/build_templates.py")
    built = script.build(tmp_path)
    committed = sorted(p.name for p in TEMPLATES.iterdir() if p.suffix in (".docx", ".xlsx", ".pptx"))
    assert sorted(p.name for p in built) == committed
    for path in built:
        assert path.read_bytes() == (TEMPLATES / path.name).read_bytes(), \
            f"templates/{path.name} is stale: run python scripts/build_templates.py"
