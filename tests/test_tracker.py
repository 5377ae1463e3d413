"""The deliverables tracker (the bundled tagged workbook filled by the engine), read back
with openpyxl."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from lxml import etree

from m3docs.engagement import Engagement, TaskStatus
from m3docs.ooxml.xml import RT, qn
from m3docs.playbook.glossary import terms_used
from m3docs.playbook.model import (Activity, DocRef, KeyTask, Party, Phase, Playbook,
                                   Stakeholder)
from m3docs.playbook.richtext import RichText
from m3docs.plan import Deliverable, Document
from m3docs.tracker import build_tracker

C, P, S = Party.CUSTOMER, Party.PROVIDER, Party.SHARED


def key_task(phase: int, number: int, parties, outputs=(), inputs=(), roles=()) -> KeyTask:
    return KeyTask(phase, number, f"Task {phase}.{number}", RichText.of("Objective"), "process",
                   tuple(parties), (Activity(1, RichText.of("Do it"), tuple(parties)),),
                   tuple(DocRef(RichText.of(t)) for t in inputs),
                   tuple(DocRef(RichText.of(t)) for t in outputs),
                   tuple(Stakeholder(RichText.of(r), tuple(p)) for r, p in roles))


K11 = key_task(1, 1, (C,), outputs=("Plan",), roles=(("Program Manager", (C, P)),
                                                     ("Business Owner", (C,))))
K21 = key_task(2, 1, (P,), outputs=("=Report",), inputs=("Plan",),
               roles=(("program manager", (P,)), ("QSMO Advisor", (Party.QSMO,))))
K31 = key_task(3, 1, (S,), outputs=("Plan",), roles=(("Program Manager", (S,)),))
PLAYBOOK = Playbook(phases=tuple(Phase(n, name) for n, name in
                                 ((1, "Readiness"), (2, "Selection"), (3, "Engagement"))),
                    key_tasks=(K11, K21, K31))
PLAN = Deliverable("plan", "Plan", ("Plan",), None, "generic", "docx")
REPORT = Deliverable("report", "=Report", ("=Report",), None, "generic", "xlsx")
DOCS = [
    Document(PLAN, 1, "Version 1", (K11,), (), "Phase 1/Plan.docx"),
    Document(PLAN, 2, "Input", (), (K21,), "Phase 2/Plan.docx"),
    Document(REPORT, 2, "Version 1", (K21,), (), "Phase 2/Report.xlsx"),
    Document(PLAN, 3, "Updated", (K31,), (), "Phase 3/Plan.docx"),
]
LINKS = {d.path: d.path for d in DOCS if d.outputs_of}
ENGAGEMENT = Engagement(
    agency="Agency & Co", program="Program", as_of=dt.date(2026, 11, 24),
    status={"1.1": TaskStatus(100, "B"), "3.1": TaskStatus(40, "Y"), "2.1": TaskStatus(10, "G")})


@pytest.fixture(scope="module")
def tracker() -> bytes:
    return build_tracker(DOCS, PLAYBOOK, ENGAGEMENT, LINKS)


@pytest.fixture(scope="module")
def book(tracker):
    return openpyxl.load_workbook(io.BytesIO(tracker))


def rows_by_title(ws) -> dict[str, dict[str, object]]:
    heads = [c.value for c in ws[3]]
    return {row[0].value: {h: c for h, c in zip(heads, row)}
            for row in ws.iter_rows(min_row=4) if row[0].value}


def test_one_row_per_deliverable_with_phase_labels(book):
    ws = book["Deliverables"]
    assert [c.value for c in ws[3]][:5] == ["Deliverable", "Format", "Phase 1\nReadiness",
                                           "Phase 2\nSelection", "Phase 3\nEngagement"]
    rows = rows_by_title(ws)
    assert list(rows) == ["Plan", "=Report"]
    plan = rows["Plan"]
    assert plan["Phase 1\nReadiness"].value == "Version 1"
    assert plan["Phase 2\nSelection"].value == "Used"
    assert plan["Phase 3\nEngagement"].value == "Updated"
    assert plan["Produced by (key tasks)"].value == "1.1, 3.1"
    assert plan["Used by (key tasks)"].value == "2.1"
    assert plan["Responsible Parties"].value == "Customer / Shared"
    assert plan["Status"].value == "Late, not critical"
    assert plan["% Complete"].value == pytest.approx(0.7)
    assert plan["Format"].value == "Word"
    report = rows["=Report"]
    assert report["Phase 1\nReadiness"].value is None
    assert report["Phase 2\nSelection"].value == "Version 1"
    assert report["Phase 3\nEngagement"].value is None
    assert report["Status"].value == "On track"


def test_text_starting_with_equals_is_a_string(book, tracker):
    cell = rows_by_title(book["Deliverables"])["=Report"]["Deliverable"]
    assert cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(tracker)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert etree.fromstring(zf.read(name)).find(f".//{qn('x:f')}") is None


def test_files_are_relationship_hyperlinks(book, tracker):
    plan = rows_by_title(book["Deliverables"])["Plan"]
    assert plan["File in Pack"].value == "Plan.docx"
    assert plan["File in Pack"].hyperlink.target == "Phase%203/Plan.docx"
    assert plan["Phase 1\nReadiness"].hyperlink.target == "Phase%201/Plan.docx"
    assert plan["Phase 3\nEngagement"].hyperlink.target == "Phase%203/Plan.docx"
    assert plan["Phase 2\nSelection"].hyperlink is None
    ws = book["Deliverables"]   # each label's colour: a conditional format over the phase cells
    looks = {rule.formula[0]: rule.dxf.fill.fgColor.rgb for cf in ws.conditional_formatting
             for rule in cf.rules if plan["Phase 2\nSelection"].coordinate in cf.sqref
             and plan["Phase 1\nReadiness"].coordinate in cf.sqref}
    assert looks == {'"Version 1"': "FFDDEBF7", '"Updated"': "FFE2EFDA", '"Used"': "FFF2F2F2"}
    with zipfile.ZipFile(io.BytesIO(tracker)) as zf:
        rels = etree.fromstring(zf.read("xl/worksheets/_rels/sheet1.xml.rels"))
    targets = {r.get("Target") for r in rels}
    assert targets == {"Phase%201/Plan.docx", "Phase%202/Report.xlsx", "Phase%203/Plan.docx"}
    assert all(r.get("TargetMode") == "External" and r.get("Type") == RT["hyperlink"]
               for r in rels)


def test_raci_roles_by_key_task(book):
    ws = book["RACI"]
    assert [c.value for c in ws[3]] == ["Stakeholder Role", "1.1", "2.1", "3.1"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=4, max_row=6, values_only=True)}
    assert rows["Program Manager"] == ("C, P", "P", "S")
    assert rows["Business Owner"] == ("C", None, None)
    assert rows["QSMO Advisor"] == (None, "Q", None)
    legend = [c for row in ws.iter_rows(min_row=7, values_only=True) for c in row if c]
    assert "3.1  Task 3.1" in legend
    assert "Parties: C = Customer, P = Provider, S = Shared, Q = QSMO" in legend
    widths = [ws.column_dimensions[c].width for c in "ABCD"]
    assert sum(widths) >= len(ws["A1"].value) * 1.7


def test_frozen_panes_filter_widths_and_print_setup(book):
    for name, last_col in (("Deliverables", "K"), ("RACI", "D")):
        ws = book[name]
        assert ws.freeze_panes == "B4"
        assert ws.auto_filter.ref.startswith(f"A3:{last_col}")
        assert ws.column_dimensions["A"].width >= 30
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows == "$1:$3"
    assert book["Deliverables"].auto_filter.ref == "A3:K5"
    assert "Agency & Co" in book["Deliverables"]["A2"].value


def test_dimension_covers_every_cell(tracker):
    from m3docs.ooxml.cells import cell_ref, split_ref
    with zipfile.ZipFile(io.BytesIO(tracker)) as zf:
        for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
            root = etree.fromstring(zf.read(name))
            refs = [split_ref(c.get("r")) for c in root.iter(qn("x:c"))]
            rows = [int(r.get("r")) for r in root.iter(qn("x:row"))]
            want = f"{cell_ref(1, min(rows))}:{cell_ref(max(c for c, _ in refs), max(rows))}"
            assert root.find(qn("x:dimension")).get("ref") == want
            assert rows == sorted(rows) and len(set(rows)) == len(rows)


def test_same_input_same_bytes(tracker):
    assert build_tracker(list(DOCS), PLAYBOOK, ENGAGEMENT, dict(LINKS)) == tracker


def test_planner_updated_label_is_kept_when_version_1_is_out_of_scope():
    docs = [dataclasses.replace(DOCS[3])]
    ws = openpyxl.load_workbook(io.BytesIO(build_tracker(docs, PLAYBOOK, ENGAGEMENT, {})))[
        "Deliverables"]
    plan = rows_by_title(ws)["Plan"]
    assert plan["Phase 3\nEngagement"].value == "Updated"
    assert plan["File in Pack"].value is None


def test_a_deliverable_only_used_has_no_status():
    ws = openpyxl.load_workbook(io.BytesIO(build_tracker([DOCS[1]], PLAYBOOK, ENGAGEMENT, {})))[
        "Deliverables"]
    plan = rows_by_title(ws)["Plan"]
    assert plan["Phase 2\nSelection"].value == "Used"
    assert plan["Status"].value is None and plan["Responsible Parties"].value is None


def test_empty_pack_still_a_valid_workbook():
    wb = openpyxl.load_workbook(io.BytesIO(build_tracker([], PLAYBOOK, ENGAGEMENT, {})))
    assert wb.sheetnames == ["Deliverables", "RACI", "Terms"]
    assert [r[0] for r in wb["Terms"].iter_rows(min_row=4, values_only=True)] == [
        "No term of the playbook's glossary appears in the pack."]
    assert [c.value for c in wb["RACI"][3]][1:] == ["1.1", "2.1", "3.1"]


def test_key_tasks_without_documents_are_in_the_tracker():
    idle = key_task(3, 2, (C,), roles=(("Executive Sponsor", (C,)),))
    wb = openpyxl.load_workbook(io.BytesIO(build_tracker(
        DOCS, PLAYBOOK, ENGAGEMENT, LINKS, scope=(K11, K21, K31, idle))))
    assert [c.value for c in wb["RACI"][3]][1:] == ["1.1", "2.1", "3.1", "3.2"]
    sponsor = [r for r in wb["RACI"].iter_rows(min_row=4, values_only=True)
               if r[0] == "Executive Sponsor"]
    assert sponsor == [("Executive Sponsor", None, None, None, "C")]
    notes = [r[0] for r in wb["Deliverables"].iter_rows(min_row=6, values_only=True) if r[0]]
    assert notes[0].startswith("Key tasks in scope that list no deliverable")
    assert notes[1:] == ["3.2  Task 3.2"]
    assert wb["Deliverables"].auto_filter.ref == "A3:K5"  # the notes stay out of the table


def test_tracker_without_idle_key_tasks_has_no_note(book):
    assert not any(r[0] for r in book["Deliverables"].iter_rows(min_row=6, values_only=True))


def test_real_playbook_tracker(corpus):
    from m3docs.engagement import example_engagement
    from m3docs.playbook.loader import load_playbook
    from m3docs.plan import plan_documents
    book = load_playbook(corpus)
    docs = plan_documents(book, book.key_tasks)
    docs = [dataclasses.replace(d, path=f"Phase {d.phase}/{d.title[:40]}.docx") for d in docs]
    data = build_tracker(docs, book, example_engagement(), {d.path: d.path for d in docs})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["Deliverables"]
    assert ws.max_row - 3 == len({d.deliverable.key for d in docs})
    labels = {c.value for row in ws.iter_rows(min_row=4, min_col=3, max_col=8) for c in row}
    assert {"Version 1", "Updated"} <= labels
    assert wb["RACI"].max_column == 1 + len(book.key_tasks)
    terms = wb["Terms"]
    rows = [[c.value for c in r] for r in terms.iter_rows(min_row=4)]
    expected = terms_used(book, book.key_tasks, [d.title for d in docs])
    assert rows == [[t.name, t.description, t.section] for t in expected]
    assert {"Abbreviations", "Stakeholders"} <= {r[2] for r in rows}
    assert [c.value for c in terms[3]] == ["Term", "Meaning", "Glossary Section"]
