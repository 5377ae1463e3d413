"""Inferred tags are kept between runs (m3docs/annotate/cache.py): a later process reads the
annotation back instead of annotating again; anything the annotation depends on (the
template's bytes, the playbook's outline facts, the placeholder keys) makes a new entry; a
damaged entry is made again; ``M3DOCS_CACHE=off`` keeps nothing."""
from __future__ import annotations

import dataclasses

import pytest

from m3docs.annotate import cache as annotation_cache
from m3docs.annotate import xlsx as xlsx_annotator
from m3docs.ooxml.package import Template


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("M3DOCS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def schedule(tmp_path, playbook):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Task Name", "Start", "Finish", "% Complete", "Resource Names"])
    for row in (["", "[Program Name]"], ["3", "Engagement"], ["3.14", playbook.key_task("3.14").name],
                ["4", "Migration"]):
        ws.append(row)
    path = tmp_path / "schedule.xlsx"
    wb.save(path)
    return path


@pytest.fixture
def counted(monkeypatch):
    """Counts the xlsx annotator's real runs."""
    calls = []
    real = xlsx_annotator._annotate

    def annotate(*args):
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(xlsx_annotator, "_annotate", annotate)
    return calls


def _entries(folder):
    return sorted(folder.rglob("*.bin"))


def test_a_later_run_reads_the_annotation_back(folder, schedule, playbook, counted):
    first = xlsx_annotator.annotated(Template(schedule), playbook, ())
    assert len(counted) == 1 and _entries(folder / "annotations")
    again = xlsx_annotator.annotated(Template(schedule), playbook, ())   # a new process' Template
    assert len(counted) == 1
    assert again[0] == first[0] and again[1] == first[1]
    assert again[2].wrap_long_text == first[2].wrap_long_text
    assert b'key_tasks_by_id["3.14"]' in again[2].bytes_of("xl/worksheets/sheet1.xml")


def test_what_the_annotation_reads_makes_a_new_entry(folder, schedule, playbook, counted):
    xlsx_annotator.annotated(Template(schedule), playbook, ())
    xlsx_annotator.annotated(Template(schedule), playbook, ("release",))        # placeholders
    renamed = dataclasses.replace(playbook, key_tasks=tuple(
        dataclasses.replace(kt, name=kt.name + " Again") if kt.id == "3.14" else kt
        for kt in playbook.key_tasks))
    xlsx_annotator.annotated(Template(schedule), renamed, ())                   # outline facts
    import openpyxl
    wb = openpyxl.load_workbook(schedule)
    wb.active.append(["5", "Operations"])
    wb.save(schedule)
    xlsx_annotator.annotated(Template(schedule), playbook, ())                  # template bytes
    assert len(counted) == 4
    # facts the annotation does not read share the entry
    retold = dataclasses.replace(playbook, base_url="https://example.org")
    xlsx_annotator.annotated(Template(schedule), retold, ())
    assert len(counted) == 4


def test_a_workbook_that_is_no_schedule_is_annotated_once_for_every_playbook(
        folder, tmp_path, playbook, counted):
    """A table's tags do not depend on the playbook: another playbook (a renamed key task)
    reads the same entry. A schedule's do (the test above)."""
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.append(["Requirement ID", "Requirement Description", "Priority", "Source"])
    wb.active.append(["< enter requirement ID >", "", "", ""])
    path = tmp_path / "needs.xlsx"
    wb.save(path)
    renamed = dataclasses.replace(playbook, key_tasks=tuple(
        dataclasses.replace(kt, name=kt.name + " Again") for kt in playbook.key_tasks))
    first = xlsx_annotator.annotated(Template(path), playbook, ())
    again = xlsx_annotator.annotated(Template(path), renamed, ())
    assert len(counted) == 1 and again[0] == first[0]
    assert b"{%" in again[2].bytes_of("xl/worksheets/sheet1.xml")


def test_a_damaged_entry_is_made_again(folder, schedule, playbook, counted):
    good = xlsx_annotator.annotated(Template(schedule), playbook, ())[0]
    entries = _entries(folder / "annotations")
    for damage in (b"not an entry", entries[0].read_bytes()[:-40],
                   b'{"notes": [], "extras": {}}\nPK'):
        for entry in entries:
            entry.write_bytes(damage)
        assert xlsx_annotator.annotated(Template(schedule), playbook, ())[0] == good
    assert len(counted) == 4


def test_off_keeps_nothing(tmp_path, monkeypatch, schedule, playbook, counted):
    monkeypatch.setenv("M3DOCS_CACHE", "off")
    xlsx_annotator.annotated(Template(schedule), playbook, ())
    xlsx_annotator.annotated(Template(schedule), playbook, ())
    assert len(counted) == 2
    assert not list(tmp_path.rglob("*.bin"))


def test_word_and_deck_annotations_are_kept_too(folder, playbook, engagement, tmp_path,
                                                monkeypatch):
    """The Word annotator runs once for two processes' worth of templates."""
    from m3docs.annotate import docx as docx_annotator
    from m3docs.renderers.annotated import tagged_template
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("Agency: [Agency Name]")
    path = tmp_path / "plan.docx"
    d.save(path)
    runs = []
    real = docx_annotator.DocxAnnotator.annotate

    def annotate(self, *args, **kw):
        runs.append(1)
        return real(self, *args, **kw)
    monkeypatch.setattr(docx_annotator.DocxAnnotator, "annotate", annotate)
    one = tagged_template(Template(path), "docx", playbook)
    two = tagged_template(Template(path), "docx", playbook)
    assert len(runs) == 1
    assert one.bytes_of("word/document.xml") == two.bytes_of("word/document.xml")
    assert b"{{" in two.bytes_of("word/document.xml")


def test_the_code_fingerprint_covers_the_rules():
    """A change to any m3docs source file (a rule) changes the fingerprint the entries are
    named by: it is a hash of the package's sources."""
    import hashlib
    from pathlib import Path
    import m3docs
    root = Path(m3docs.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    assert annotation_cache.code_fingerprint() == digest.hexdigest()
