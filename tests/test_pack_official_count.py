"""The pack says how many documents it made on official templates, and warns about a
--templates folder that holds none of the pack's templates."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from m3docs import load_playbook
from m3docs.engagement import example_engagement
from m3docs.pack import MANIFEST, build_pack

REPO = Path(__file__).resolve().parents[1]


def test_summary_counts_official_documents_and_an_unmatched_folder_warns(
        corpus, official_dir, tmp_path):
    book = load_playbook(corpus)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    (empty / "Some-Other-Template.docx").write_bytes(b"not ours")
    eng = example_engagement()
    report = build_pack(book, eng, tmp_path / "pack", templates=[official_dir, empty],
                        phases=[1, 2])
    manifest = json.loads((tmp_path / "pack" / MANIFEST).read_text(encoding="utf-8"))
    official = [d for d in manifest["documents"] if d["official"]]
    assert official, "the shared official templates serve some documents"
    assert f"{len(official)} of {len(manifest['documents'])} documents on official templates" \
        in report.summary()
    unmatched = [w for w in report.warnings if "matched no template" in w]
    assert len(unmatched) == 1 and unmatched[0].startswith(f"{empty}: ")


def test_cli_warns_about_an_unmatched_templates_folder(corpus, tmp_path):
    run = subprocess.run([sys.executable, "-m", "m3docs", "pack", "--playbook", str(corpus),
                          "--templates", str(tmp_path), "--phase", "1", "--out",
                          str(tmp_path / "pack")], capture_output=True, text=True, cwd=REPO,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"warning: {tmp_path}: --templates folder matched no template" in run.stderr
    assert "0 of " in run.stdout and "documents on official templates" in run.stdout
