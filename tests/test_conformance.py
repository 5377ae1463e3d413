"""Word is stricter than LibreOffice: check what m3docs writes against the Open XML SDK's
rules (openxml-audit, a test-only port). Nothing written may carry an error its template did
not already have; the bundled templates carry none, but for the font child order openpyxl
writes (which Excel reads)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from m3docs import build_pack, load_playbook
from m3docs.engagement import example_engagement
from m3docs.templates import own_templates_dir

audit = pytest.importorskip("openxml_audit")
_FONT_ORDER = re.compile(r"/xl/styles\.xml:/styleSheet\[1\]/fonts\[1\]/font\[\d+\]: Unexpected element")


def errors(path: Path) -> set[str]:
    """The audit's errors (not warnings), as comparable lines."""
    result = audit.OpenXmlValidator().validate(str(path))
    found = {str(e) for e in result.errors if e.severity == audit.ValidationSeverity.ERROR}
    return {e for e in found if not _FONT_ORDER.search(e)}


@pytest.mark.parametrize("name", sorted(p.name for p in own_templates_dir().iterdir()
                                        if p.suffix in (".docx", ".xlsx", ".pptx")))
def test_bundled_templates_have_no_error(name):
    assert errors(own_templates_dir() / name) == set()


def _pack_adds_nothing(out: Path, template_dirs: list[Path]) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    own = {p.name: p for p in own_templates_dir().iterdir()}
    official = {p.name: p for d in template_dirs for p in d.iterdir()}
    checked: dict[str, int] = {}
    for entry in manifest["documents"]:
        if checked.get(entry["template"], 0) >= 2:  # documents of one template share a shape
            continue
        template = official.get(entry["template"]) or own.get(entry["template"])
        before = errors(template) if template else set()
        added = errors(out / entry["path"]) - before
        assert not added, f"{entry['path']}: {sorted(added)[:3]}"
        checked[entry["template"]] = checked.get(entry["template"], 0) + 1
    assert checked
    assert errors(out / "Deliverables Tracker.xlsx") == set()


def test_a_pack_on_our_templates_adds_no_error(tmp_path, playbook, engagement):
    build_pack(playbook, engagement, tmp_path / "pack")
    _pack_adds_nothing(tmp_path / "pack", [])


def test_a_pack_on_official_templates_adds_no_error(tmp_path, corpus, official_dir):
    build_pack(load_playbook(corpus), example_engagement(), tmp_path / "pack",
               templates=[official_dir])
    _pack_adds_nothing(tmp_path / "pack", [official_dir])
