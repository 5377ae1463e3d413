"""Class 5: titles and file names that try to leave --out; template folders that try to be written."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import docx
import pytest

from m3docs.engagement import example_engagement
from m3docs.pack import build_pack
from m3docs.playbook.loader import load_playbook

from .conftest import snapshot

RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
            *(f"lpt{i}" for i in range(1, 10))}
BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')

HOSTILE_TITLES = [
    "../../../escape",
    "..\\..\\windows escape",
    "/etc/passwd",
    "C:\\Windows\\System32\\evil",
    "CON",
    "NUL.docx",
    "com1",
    "a/b/c slashes",
    "T" * 300,
    "Trailing dots...",
    "   ",
    "Same Name",
    "same name",
    "Same/Name",
    "Same\\Name",
    "Same:Name",
    "..",
    "tab\tand\nnewline",
]


def hostile_playbook(tmp_path: Path, titles=HOSTILE_TITLES, filename="{i}.docx",
                     phase_name="../../Phase Escape") -> Path:
    root = tmp_path / "pb" / "_pages" / "m3"
    (root / "keyTask").mkdir(parents=True)
    (root / "phase").mkdir()
    (root / "phase" / "1.md").write_text(
        f"---\nlayout: m3/phase\nphase: 1\nname: {json.dumps(phase_name)}\n---\n")
    outs = "".join(f"  - text: {json.dumps(t)}\n    filename: {json.dumps(filename.format(i=i))}\n"
                   for i, t in enumerate(titles))
    (root / "keyTask" / "1.1.md").write_text(
        "---\nlayout: m3/keyTask\nphase: 1\nkeyTask: 1\nname: Paths\nobjective: Test.\n"
        "activities:\n  - text: Write\n    responsibleParty: shared\noutputs:\n" + outs + "---\n")
    return tmp_path / "pb"


def assert_all_inside(out: Path, outside: Path, before: dict) -> list[Path]:
    files = [p for p in out.rglob("*") if p.is_file()]
    names_seen: set[str] = set()
    for p in files:
        assert out.resolve() in p.resolve().parents
        rel = p.relative_to(out)
        for part in rel.parts:
            stem = part.split(".")[0].strip().lower()
            assert stem not in RESERVED, rel
            assert not BAD_CHARS.search(part), rel
            assert not part.endswith((".", " ")), rel
            assert 0 < len(part.encode()) <= 255, rel
        assert str(rel).lower() not in names_seen, rel
        names_seen.add(str(rel).lower())
    after = {k: v for k, v in snapshot(outside).items() if not k.startswith(out.name + os.sep)}
    assert after == before, "something was written outside --out"
    return files


def test_hostile_titles_stay_inside_out_with_unique_valid_names(tmp_path):
    book = load_playbook(hostile_playbook(tmp_path))
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    report = build_pack(book, example_engagement(), out)
    files = assert_all_inside(out, tmp_path, before)
    docs = [p for p in files if p.suffix == ".docx"]
    assert len(docs) >= 10  # titles equal after the identity rule are one deliverable
    assert len(report.documents) == len(docs)
    for p in docs:
        docx.Document(str(p))  # every one reopens
    assert not (tmp_path / "escape.docx").exists() and not Path("/etc/passwd.docx").exists()


def test_collisions_after_cleaning_get_distinct_names(tmp_path):
    prefix = "Long Deliverable Title " * 5  # 115 characters: cut to the same stem
    titles = [prefix + "Alpha", prefix + "Beta", prefix + "Gamma",
              "Caf\u00e9 Plan", "Cafe\u0301 Plan"]  # NFC and NFD: same name once cleaned
    book = load_playbook(hostile_playbook(tmp_path, titles))
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    report = build_pack(book, example_engagement(), out)
    assert_all_inside(out, tmp_path, before)
    paths = [d["path"] for d in report.documents]
    assert len(paths) == 5
    assert len({p.lower() for p in paths}) == 5
    assert len(list(out.rglob("*.docx"))) == 5


def test_300_character_title_is_shortened(tmp_path):
    book = load_playbook(hostile_playbook(tmp_path, ["Word " * 60]))
    out = tmp_path / "out"
    build_pack(book, example_engagement(), out)
    docs = [p for p in out.rglob("*.docx")]
    assert len(docs) == 1 and len(docs[0].name) <= 120


@pytest.mark.parametrize("filename", [
    "../../../../tmp/escape.docx", "/etc/passwd.docx", "C:\\Windows\\evil.docx", "NUL.docx",
    "\\\\server\\share\\x.docx"], ids=["dotdot", "absolute", "drive", "reserved", "unc"])
def test_hostile_playbook_filename_never_used_as_a_path(tmp_path, filename):
    book = load_playbook(hostile_playbook(tmp_path, ["Plain Title"], filename=filename))
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    report = build_pack(book, example_engagement(), out)
    assert_all_inside(out, tmp_path, before)
    assert [Path(d["path"]).name for d in report.documents] == ["Plain Title.docx"]


def _marker_docx(path: Path, text: str) -> None:
    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))


CONOPS = "M3-Playbook-Target-State-CONOPS-Template.docx"


def test_symlink_in_templates_pointing_outside_is_not_followed(tmp_path):
    secret_dir = tmp_path / "elsewhere"
    secret_dir.mkdir()
    _marker_docx(secret_dir / "outside.docx", "OUTSIDE-MARKER {{agency}}")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / CONOPS).symlink_to(secret_dir / "outside.docx")
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    report = build_pack(load_playbook(), example_engagement(), out, templates=[templates])
    conops = [d for d in report.documents if d["path"].endswith(".docx")]
    assert conops and all(not d["official"] for d in conops)
    for p in out.rglob("*.docx"):
        text = "\n".join(par.text for par in docx.Document(str(p)).paragraphs)
        assert "OUTSIDE-MARKER" not in text
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out" + os.sep)} \
        == before


def test_symlink_inside_templates_folder_is_used(tmp_path):
    """The guard is about leaving the folder, not about symlinks as such."""
    templates = tmp_path / "templates"
    templates.mkdir()
    _marker_docx(templates / "real.docx", "INSIDE-MARKER")
    (templates / CONOPS).symlink_to(templates / "real.docx")
    report = build_pack(load_playbook(), example_engagement(), tmp_path / "out",
                        templates=[templates])
    assert any(d["official"] for d in report.documents if d["path"].endswith(".docx"))


def test_templates_folder_never_written(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    _marker_docx(templates / CONOPS, "Official {{agency}}")
    (templates / "unrelated.txt").write_text("leave me")
    before = snapshot(templates)
    os.chmod(templates, 0o555)
    try:
        for _ in range(2):
            build_pack(load_playbook(), example_engagement(), tmp_path / "out",
                       templates=[templates])
    finally:
        os.chmod(templates, 0o755)
    assert snapshot(templates) == before
    assert not list(templates.glob(".m3docs-tmp-*"))


def test_non_latin_output_title_becomes_a_document(tmp_path):
    book = load_playbook(hostile_playbook(tmp_path, ["خطة المشروع", "计划"]))
    report = build_pack(book, example_engagement(), tmp_path / "out")
    assert len(report.documents) == 2


def test_no_space_is_left_inside_brackets_of_a_file_name():
    from m3docs.paths import safe_stem
    assert safe_stem("Provider Agreement (IAA, if Federal )") == "Provider Agreement (IAA, if Federal)"
    assert safe_stem("Plan ( draft ) [ v2 ]") == "Plan (draft) [v2]"
