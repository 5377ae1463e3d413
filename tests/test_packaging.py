"""The wheel carries the templates and the bundled playbook (users never see the source tree)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_and_bundled_playbook(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(tmp_path), str(REPO)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = tmp_path.glob("m3docs-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    own = {p.name for p in (REPO / "templates").iterdir() if p.suffix in (".docx", ".xlsx", ".pptx")}
    assert own and {f"m3docs/_templates/{n}" for n in own} <= names
    assert "m3docs/data/playbook/_pages/m3/keyTask/3.14.md" in names
    assert any(n.endswith("entry_points.txt") for n in names)
