"""m3docs diff: two packs of two engagements compared by what a reader sees."""
from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook
from pptx import Presentation

from m3docs import M3DocsError, build_pack, diff_packs, load_engagement, load_playbook
from m3docs.cli import main
from m3docs.diff import diff_documents
from review_packs import (ENGAGEMENT, NEW_PROGRAM, OLD_PROGRAM, TASKS, entries, make_pack,
                          make_packs, write_playbook)


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> tuple[Path, Path]:
    return make_packs(tmp_path_factory.mktemp("review"))


@pytest.fixture(scope="module")
def status_only(packs) -> Path:
    """The old engagement with only key task 1.1's status changed."""
    root = packs[0].parent
    return make_pack(root, "status", OLD_PROGRAM, "Y", list(TASKS))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def visible_text(path: Path) -> Counter:
    """Every text a reader sees, read back with python-docx, openpyxl or python-pptx."""
    texts: list[str] = []
    if path.suffix == ".docx":
        doc = WordDocument(str(path))
        texts += [p.text for p in doc.paragraphs]
        texts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
        for section in doc.sections:
            texts += [p.text for part in (section.header, section.footer) for p in part.paragraphs]
    elif path.suffix == ".xlsx":
        book = load_workbook(path)
        texts += [f"{ws.title}:{c.value}" for ws in book for row in ws.iter_rows() for c in row
                  if c.value is not None]
    elif path.suffix == ".pptx":
        for slide in Presentation(str(path)).slides:
            for shape in slide.shapes:
                if shape.has_text_frame:
                    texts.append(shape.text_frame.text)
                if shape.has_table:
                    texts += [c.text for r in shape.table.rows for c in r.cells]
    return Counter(t.strip() for t in texts if t.strip())


def changed_by_reading(old: Path, new: Path) -> set[str]:
    """The documents of both packs (matched by phase and title) whose visible text differs."""
    before = {(e.get("phase"), e.get("title", e["path"])): e["path"] for e in entries(old)}
    after = {(e.get("phase"), e.get("title", e["path"])): e["path"] for e in entries(new)}
    return {after[k] for k in after if k in before
            and visible_text(old / before[k]) != visible_text(new / after[k])}


def test_diff_reports_exactly_the_documents_that_changed(packs, capsys):
    old, new = packs
    result = diff_packs(old, new)
    expected = changed_by_reading(old, new)
    assert {d.path for d in result.changed} == expected
    assert len(expected) == len(entries(new))  # the program name is on every document
    code, out, _ = run(capsys, old, new)
    assert code == 1 and out


def test_a_status_change_reports_only_the_documents_that_show_it(packs, status_only):
    old = packs[0]
    result = diff_packs(old, status_only)
    expected = changed_by_reading(old, status_only)
    assert {d.path for d in result.changed} == expected
    assert 0 < len(expected) < len(entries(old))
    assert not result.added and not result.removed
    lines = [c for d in result.changed for c in d.changes]
    assert any(c.op == "-" and "On track" in c.text for c in lines)
    assert any(c.op == "+" and "Late, not critical" in c.text for c in lines)


def test_the_program_name_appears_as_minus_and_plus_lines_with_their_place(packs, capsys):
    code, out, _ = run(capsys, *packs)
    lines = out.splitlines()
    places_by_format: dict[str, set[str]] = {}
    path = place = None
    for i, line in enumerate(lines):
        if line.startswith("+++ new/"):
            path = line[len("+++ new/"):]
        elif line.startswith("@@ "):
            place = line[3:-3]
        elif line == f"-{OLD_PROGRAM}" and lines[i + 1] == f"+{NEW_PROGRAM}":
            places_by_format.setdefault(Path(path).suffix, set()).add(place)
    assert set(places_by_format) == {".docx", ".xlsx", ".pptx"}
    assert all(re.fullmatch(r"('[^']+'|\w+)![A-Z]+\d+", p) for p in places_by_format[".xlsx"])
    assert all(re.match(r"slide \d+, ", p) for p in places_by_format[".pptx"])
    assert all(p for p in places_by_format[".docx"])


def test_word_changes_are_placed_under_their_heading_and_table_row(packs, status_only):
    result = diff_packs(packs[0], status_only)
    word = [c for d in result.changed if d.path.endswith(".docx") for c in d.changes]
    assert word, "the status is shown in the Word documents of key task 1.1"
    name = TASKS["1.1"][0]
    assert all(name in c.place for c in word), [c.place for c in word]


def test_the_removed_key_task_s_documents_are_listed_as_removed(packs, capsys):
    old, new = packs
    only_13 = sorted(e["path"] for e in entries(old) if "title" in e and
                     set(e["outputs_of"] + e["inputs_of"]) == {"1.3"})
    assert only_13
    result = diff_packs(old, new)
    assert sorted(result.removed) == only_13 and result.added == []
    code, out, _ = run(capsys, old, new)
    assert [l for l in out.splitlines() if l.startswith("removed: ")] == \
        [f"removed: {p}" for p in result.removed]


def test_identical_packs_give_no_output_and_exit_0(packs, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(packs[0], copy)
    assert run(capsys, packs[0], copy) == (0, "", "")
    assert run(capsys, "--json", packs[0], copy)[0] == 0


def rezip(path: Path) -> None:
    """The same parts in another order and compression: other bytes, same content."""
    with zipfile.ZipFile(path) as z:
        parts = [(i.filename, z.read(i)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in [parts[0]] + parts[:0:-1]:
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())


def test_same_content_in_other_bytes_is_not_reported(packs, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(packs[0], copy)
    for entry in entries(copy):
        before = (copy / entry["path"]).read_bytes()
        rezip(copy / entry["path"])
        assert (copy / entry["path"]).read_bytes() != before
    assert run(capsys, packs[0], copy) == (0, "", "")


def test_json_parses_with_the_documented_shape(packs, capsys):
    code, out, _ = run(capsys, "--json", *packs)
    data = json.loads(out)
    assert code == 1 and set(data) == {"added", "removed", "changed"}
    assert data["removed"] == diff_packs(*packs).removed
    paths = {e["path"] for e in entries(packs[1])}
    for doc in data["changed"]:
        assert set(doc) == {"path", "changes"} and doc["path"] in paths
        assert {c["op"] for c in doc["changes"]} <= {"-", "+"}
        assert all(c["place"] and c["text"] for c in doc["changes"])


def test_stat_counts_each_document(packs, capsys):
    code, out, _ = run(capsys, "--stat", *packs)
    result = diff_packs(*packs)
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == len(result.changed) + len(result.removed) + len(result.added) + 1
    assert lines[-1].strip() == (f"{len(result.changed)} changed, 0 added, "
                                 f"{len(result.removed)} removed")
    for doc in result.changed:
        row = next(l for l in lines if l.startswith(f" {doc.path} "))
        assert row.split("|")[1].split()[0] == str(len(doc.changes))


def test_two_single_documents(packs, capsys):
    rel = next(e["path"] for e in entries(packs[1]) if e["path"].endswith(".pptx"))
    code, out, _ = run(capsys, packs[0] / rel, packs[1] / rel)
    assert code == 1 and f"-{OLD_PROGRAM}" in out.splitlines()
    assert run(capsys, packs[0] / rel, packs[0] / rel) == (0, "", "")
    assert diff_documents(b"same", b"same", "a.docx", "b.docx") == []


def test_trouble_is_exit_2_with_one_line(packs, tmp_path, capsys):
    code, out, err = run(capsys, packs[0], tmp_path / "missing")
    assert code == 2 and not out and len(err.splitlines()) == 1 and "missing" in err
    code, _, err = run(capsys, packs[0], packs[0] / entries(packs[0])[0]["path"])
    assert code == 2 and "two packs or two documents" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, packs[0], tmp_path / "empty")
    assert code == 2 and "manifest.json" in err and len(err.splitlines()) == 1
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK not a zip")
    code, _, err = run(capsys, packs[0] / entries(packs[0])[0]["path"], broken)
    assert code == 2 and "broken.docx" in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exc:
        main(["diff", str(packs[0])])
    assert exc.value.code == 2


def test_the_public_playbook_sample(corpus, tmp_path):
    """Two packs of the real sample: another program, another status, one key task fewer
    (the one with the most documents of its own)."""
    book = load_playbook(corpus)
    ids = [kt.id for kt in book.key_tasks]

    def pack(name: str, program: str, status: str, scope: list[str]) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"agency: U.S. Department of Examples\nprogram: {program}\n"
                        f"as_of: 2026-11-24\nscope: {{key_tasks: [{', '.join(scope)}]}}\n"
                        f"status: {{'{ids[0]}': {{status: {status}}}}}\n", encoding="utf-8")
        build_pack(book, load_engagement(path, book), tmp_path / name)
        return tmp_path / name

    old = pack("old", OLD_PROGRAM, "G", ids)
    own = Counter(e["outputs_of"][0] for e in entries(old) if "title" in e and
                  len(set(e["outputs_of"] + e["inputs_of"])) == 1 and e["outputs_of"])
    dropped = own.most_common(1)[0][0]
    new = pack("new", NEW_PROGRAM, "Y", [i for i in ids if i != dropped])
    result = diff_packs(old, new)
    only_dropped = sorted(e["path"] for e in entries(old) if "title" in e and
                          set(e["outputs_of"] + e["inputs_of"]) == {dropped})
    assert only_dropped and sorted(result.removed) == only_dropped and not result.added
    assert {d.path for d in result.changed} == changed_by_reading(old, new)
    assert all(any(c.op == "+" and NEW_PROGRAM in c.text for c in d.changes)
               for d in result.changed)


def test_a_document_in_another_format_is_removed_and_added(tmp_path):
    write_playbook(tmp_path / "playbook")
    old = make_pack(tmp_path, "old", OLD_PROGRAM, "G", list(TASKS))
    book = load_playbook(tmp_path / "playbook")
    path = tmp_path / "formats.yaml"   # the same engagement, one workbook asked for in Word
    path.write_text(ENGAGEMENT.format(program=OLD_PROGRAM, status="G",
                                      scope=", ".join(f'"{k}"' for k in TASKS))
                    + "formats: {Risk Register: docx}\n", encoding="utf-8")
    build_pack(book, load_engagement(path, book), tmp_path / "new")
    result = diff_packs(old, tmp_path / "new")
    assert result.removed == ["Phase 1 Readiness/Risk Register.xlsx"]
    assert result.added == ["Phase 1 Readiness/Risk Register.docx"]
    with pytest.raises(M3DocsError, match="different formats"):
        diff_packs(old / result.removed[0], tmp_path / "new" / result.added[0])


@pytest.mark.parametrize("body", [b"<w:document", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY'
                                  b' e SYSTEM "file:///etc/passwd">]><x>&e;</x>'])
def test_a_damaged_part_is_one_line_and_exit_2(packs, tmp_path, capsys, body):
    rel = next(e["path"] for e in entries(packs[0]) if e["path"].endswith(".docx"))
    bad = tmp_path / Path(rel).name
    with zipfile.ZipFile(packs[0] / rel) as src, zipfile.ZipFile(bad, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, body if info.filename == "word/document.xml"
                         else src.read(info))
    code, out, err = run(capsys, packs[0] / rel, bad)
    assert code == 2 and not out and len(err.splitlines()) == 1 and bad.name in err
    assert "root:" not in err


def test_sheet_rows_that_only_moved_are_no_change(packs, status_only):
    """The tracker without key task 1.3's rows: its other rows move up, unreported; in the
    status-only pair each changed cell is a -/+ pair at its own address."""
    result = diff_packs(packs[0], packs[1])
    tracker = next(d for d in result.changed if d.path == entries(packs[1])[-1]["path"])
    removed_titles = {e["title"] for e in entries(packs[0]) if "title" in e
                      and e["path"] in result.removed}
    gone = {c.text for c in tracker.changes if c.op == "-"}
    assert removed_titles <= gone
    kept_titles = {e["title"] for e in entries(packs[1]) if "title" in e}
    assert not kept_titles & {c.text for c in tracker.changes}
    status = next(d for d in diff_packs(packs[0], status_only).changed
                  if d.path == entries(status_only)[-1]["path"])
    pairs = list(zip(status.changes[::2], status.changes[1::2]))
    assert len(status.changes) % 2 == 0
    assert all(a.op == "-" and b.op == "+" and a.place == b.place for a, b in pairs)
