"""`--phase all` asks for every phase, whatever the engagement's scope says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from m3docs import load_playbook
from m3docs.pack import MANIFEST

REPO = Path(__file__).resolve().parents[1]
ENGAGEMENT = """agency: U.S. Department of Examples
program: Financial Management Modernization
as_of: 2026-11-24
scope: {phases: [1]}
"""


def _pack(corpus: Path, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    eng = tmp_path / "engagement.yaml"
    eng.write_text(ENGAGEMENT, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "m3docs", "pack", "--playbook", str(corpus),
                           "--engagement", str(eng), "--out", str(tmp_path / "pack"), "--quiet",
                           *flags], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_phase_all_packs_every_phase(corpus, tmp_path):
    run = _pack(corpus, tmp_path, "--phase", "all")
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "pack" / MANIFEST).read_text(encoding="utf-8"))
    book = load_playbook(corpus)
    assert manifest["playbook"]["key_tasks"] == [kt.id for kt in book.key_tasks]
    assert {d["phase"] for d in manifest["documents"]} == {kt.phase for kt in book.key_tasks}
    assert len({kt.phase for kt in book.key_tasks}) > 1


def test_phase_that_is_neither_a_number_nor_all_is_a_usage_error(corpus, tmp_path):
    run = _pack(corpus, tmp_path, "--phase", "every")
    assert run.returncode == 2 and "not a phase number or 'all': 'every'" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "pack").exists()
