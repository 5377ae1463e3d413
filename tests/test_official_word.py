"""Official Word templates: rows below a filled table stay, filled content controls leave
placeholder mode, and the key-task context carries the whole key task."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from m3docs.ooxml.package import Template
from m3docs.ooxml.xml import qn
from m3docs.plan import Deliverable, Document
from m3docs.playbook.model import Activity, DocRef, KeyTask, Party, Stakeholder
from m3docs.playbook.richtext import RichText
from m3docs.renderers import render_document
from m3docs.annotate.tables import ACTIVITIES_PLACED, TemplateRow, kept_rows_start

from fixtures_official import excel_log, word_plan

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PLACEHOLDER_RPR = f'<w:rPr xmlns:w="{W}"><w:rStyle w:val="PlaceholderText"/></w:rPr>'


# -- templates ------------------------------------------------------------------------------
def _sdt(inner: str, tag: str, block: bool = True) -> etree._Element:
    """A content control showing its placeholder: a paragraph (block) or a run (inline)."""
    run = f"<w:r>{PLACEHOLDER_RPR}<w:t>{escape(inner)}</w:t></w:r>"
    content = f"<w:p>{run}</w:p>" if block else run
    return etree.fromstring(
        f'<w:sdt xmlns:w="{W}"><w:sdtPr><w:tag w:val="{tag}"/><w:showingPlcHdr/></w:sdtPr>'
        f"<w:sdtContent>{content}</w:sdtContent></w:sdt>")


def _cell_control(cell, inner: str, tag: str) -> None:
    """Put the cell's text inside a block content control."""
    tc = cell._tc
    for p in tc.findall(qn("w:p")):
        tc.remove(p)
    tc.append(_sdt(inner, tag))


def totals_plan(path: Path) -> Path:
    """A table with a merged title row, a header, one example row and a Total row; a second
    with a merged instruction row above the slots and a merged note and sign-off below."""
    import docx
    d = docx.Document()
    d.add_paragraph("Conversion plan for [Agency Name]")
    t = d.add_table(rows=4, cols=4)
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(0, 3)).text = "Conversion Activities"
    for i, text in enumerate(["Activity", "Owner", "Status", "Finish"]):
        t.cell(1, i).text = text
    t.cell(2, 0).text, t.cell(2, 1).text = "[Activity]", "[Owner]"
    t.cell(3, 0).text = "Total"
    t.cell(3, 1).text = "7 activities"
    d.add_paragraph("Between the tables")
    m = d.add_table(rows=6, cols=3)
    for i, text in enumerate(["Milestone", "Owner", "Finish"]):
        m.cell(0, i).text = text
    m.cell(1, 0).merge(m.cell(1, 2)).text = "Enter one milestone per row"
    m.cell(2, 0).text = "Example: Kickoff held"
    m.cell(4, 0).merge(m.cell(4, 2)).text = "All dates are estimates until the baseline."
    m.cell(5, 0).text, m.cell(5, 1).text = "Reviewed by", "PMO Lead"
    d.add_paragraph("End of template")
    d.save(path)
    return path


def controls_plan(path: Path) -> Path:
    """Content controls showing placeholders: in the body (a paragraph, a run), the header,
    a plain table's cell and the activity table's example row; one holds guidance."""
    import docx
    d = docx.Document()
    body = d.element.body
    body.insert(0, _sdt("[Agency Name]", "agency"))
    body.insert(1, _sdt("<<Describe the scope of the conversion>>", "scope"))
    p = d.add_paragraph("Program: ")
    p._p.append(_sdt("[Program Name]", "program", block=False))
    d.sections[0].header.paragraphs[0]._p.append(_sdt("[Program Name]", "hprogram", block=False))
    info = d.add_table(rows=1, cols=2)
    info.cell(0, 0).text = "Agency"
    _cell_control(info.cell(0, 1), "[Agency Name]", "cellagency")
    t = d.add_table(rows=2, cols=3)
    for i, text in enumerate(["Activity", "Owner", "Status"]):
        t.cell(0, i).text = text
    _cell_control(t.cell(1, 0), "[Activity]", "rowactivity")
    _cell_control(t.cell(1, 2), "[Status]", "rowstatus")
    d.save(path)
    return path


def bare_plan(path: Path) -> Path:
    """A plan with no table a feed can fill."""
    import docx
    d = docx.Document()
    d.add_heading("Training Plan", 0)
    d.add_paragraph("Body text the agency wrote.")
    d.save(path)
    return path


# -- helpers --------------------------------------------------------------------------------
def grouped_task() -> KeyTask:
    """A key task with two activity groups, free activity text and best practices."""
    def act(n: int, group: str) -> Activity:
        return Activity(n, RichText.of(f"Activity number {n} of {group}"), (Party.CUSTOMER,),
                        RichText.of(group))
    acts = tuple(act(n, "Plan the conversion") for n in range(1, 4)) + \
        tuple(act(n, "Run the mock conversions") for n in range(4, 15))
    return KeyTask(5, 12, "Convert the Data", RichText.of("Move the data to the provider."),
                   "technology", (Party.CUSTOMER,), acts,
                   (DocRef(RichText.of("Data Conversion Plan")),),
                   (DocRef(RichText.of("Converted Data")),),
                   (Stakeholder(RichText.of("Program Manager"), (Party.CUSTOMER,)),),
                   (RichText.of("Reconcile record counts after every mock run"),
                    RichText.of("Freeze the legacy data before the final load")),
                   RichText.of("Both parties sign off each mock conversion before the next."))


def _fill(path: Path, tasks: tuple[KeyTask, ...], engagement, playbook) -> bytes:
    doc = Document(Deliverable("d", "D", ("D",), path.name, "generic", path.suffix[1:]), 5,
                   "Version 1", tasks, ())
    return render_document(doc, Template(path), engagement, playbook, official=True).data


def _xml(data: bytes, part: str = "word/document.xml") -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read(part))


def _rows(table) -> list[list[str]]:
    return [[c.text for c in r.cells] for r in table.rows]


def _controls(root: etree._Element) -> dict[str, etree._Element]:
    return {s.find(f"{{{W}}}sdtPr/{{{W}}}tag").get(qn("w:val")): s
            for s in root.iter(qn("w:sdt"))}


def _showing(sdt: etree._Element) -> bool:
    return sdt.find(qn("w:sdtPr") + "/" + qn("w:showingPlcHdr")) is not None


def _text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(qn("w:t")))


def _context(document) -> list:
    """The paragraphs after the context heading."""
    paragraphs = document.paragraphs
    start = next(i for i, p in enumerate(paragraphs) if p.text == "M3 Key Task Context")
    return paragraphs[start:]


# -- rows below the table -------------------------------------------------------------------
def test_total_row_stays_below_the_filled_rows(playbook, engagement, tmp_path):
    import docx
    kt = playbook.key_task("3.14")
    data = _fill(totals_plan(tmp_path / "plan.docx"), (kt,), engagement, playbook)
    d = docx.Document(io.BytesIO(data))
    rows = _rows(d.tables[0])
    assert rows[0] == ["Conversion Activities"] * 4
    assert rows[1] == ["Activity", "Owner", "Status", "Finish"]
    assert [r[0] for r in rows[2:-1]] == [a.text.plain for a in kt.activities]
    assert rows[-1] == ["Total", "7 activities", "", ""]
    assert "[Activity]" not in str(rows)


def test_note_and_sign_off_rows_stay_instruction_rows_go(playbook, engagement, tmp_path):
    import docx
    data = _fill(totals_plan(tmp_path / "plan.docx"), playbook.in_phase(3)[:1], engagement,
                 playbook)
    rows = _rows(docx.Document(io.BytesIO(data)).tables[1])
    assert rows[0] == ["Milestone", "Owner", "Finish"]
    assert rows[-2] == ["All dates are estimates until the baseline."] * 3
    assert rows[-1] == ["Reviewed by", "PMO Lead", ""]
    filled = rows[1:-2]
    assert filled and all(r[0].endswith(" complete") for r in filled)
    assert not any("Enter one milestone" in r[0] or "Example" in r[0] for r in rows)


@pytest.mark.parametrize("texts,layouts,computed,start", [
    ([["[Activity]", "[Owner]"], ["Total", ""]], [(1, 1), (1, 1)], [False, False], 1),
    ([["", ""], ["", ""]], [(1, 1), (1, 1)], [False, False], 2),
    ([["Plan", "Lead"], ["", "=SUM"]], [(1, 1), (1, 1)], [False, True], 1),
    ([["Enter rows below"], ["", ""], ["Dates are estimates"]], [(2,), (1, 1), (2,)],
     [False] * 3, 2),
    ([["Enter rows below"], ["Example: plan", ""]], [(2,), (1, 1)], [False] * 2, 2),
    ([["Approved by", ""]], [(1, 1)], [False], 0),
])
def test_kept_rows_start(texts, layouts, computed, start):
    rows = [TemplateRow(t, lay, c) for t, lay, c in zip(texts, layouts, computed)]
    assert kept_rows_start(rows, (1, 1)) == start


# -- content controls -----------------------------------------------------------------------
def test_filled_controls_leave_placeholder_mode(playbook, engagement, tmp_path):
    kt = playbook.key_task("3.14")
    data = _fill(controls_plan(tmp_path / "plan.docx"), (kt,), engagement, playbook)
    body = _controls(_xml(data))
    header = _controls(_xml(data, "word/header1.xml"))
    for tag, text in (("agency", engagement.agency), ("program", engagement.program),
                      ("cellagency", engagement.agency)):
        assert _text(body[tag]) == text
        assert not _showing(body[tag]), tag
        assert b"PlaceholderText" not in etree.tostring(body[tag])
    assert _text(header["hprogram"]) == engagement.program and not _showing(header["hprogram"])
    scope = body["scope"]   # guidance: not filled, still a placeholder
    assert _text(scope).startswith("<<Describe") and _showing(scope)
    assert b"PlaceholderText" in etree.tostring(scope)


def test_controls_in_the_cloned_rows(playbook, engagement, tmp_path):
    kt = playbook.key_task("3.14")
    data = _fill(controls_plan(tmp_path / "plan.docx"), (kt,), engagement, playbook)
    table = _xml(data).findall(".//" + qn("w:tbl"))[1]
    rows = table.findall(qn("w:tr"))[1:]
    assert len(rows) == len(kt.activities)
    for tr, act in zip(rows, kt.activities):
        first, status = tr.findall(qn("w:tc"))[0], tr.findall(qn("w:tc"))[2]
        activity = first.find(qn("w:sdt"))
        assert activity is not None and _text(activity) == act.text.plain
        assert not _showing(activity)
        assert _text(status) == "G" and not _showing(status.find(qn("w:sdt")))


# -- the context section --------------------------------------------------------------------
def test_context_when_the_table_took_the_activities(playbook, engagement, tmp_path):
    import docx
    kt = playbook.key_task("3.14")
    template = word_plan(tmp_path / "plan.docx")
    data = _fill(template, (kt,), engagement, playbook)
    d = docx.Document(io.BytesIO(data))
    assert len(d.tables) == len(docx.Document(template).tables)   # no activity table added
    texts = [p.text for p in _context(d)]
    assert ACTIVITIES_PLACED in texts
    assert kt.activities_text.plain in texts
    assert all(f"\u2022\t{bp.plain}" in texts for bp in kt.best_practices)
    assert f"Objective: {kt.objective.plain}" in texts
    assert not any(kt.activities[0].text.plain in t for t in texts)


def test_context_with_activity_groups(playbook, engagement, tmp_path):
    import docx
    kt = grouped_task()
    data = _fill(bare_plan(tmp_path / "plan.docx"), (kt,), engagement, playbook)
    d = docx.Document(io.BytesIO(data))
    context = _context(d)
    texts = [p.text for p in context]
    assert "5.12 Convert the Data" in texts
    assert kt.activities_text.plain in texts and ACTIVITIES_PLACED not in texts
    assert "\u2022\tFreeze the legacy data before the final load" in texts
    for label in ("Objective", "Inputs", "Outputs", "Stakeholders"):
        p = next(p for p in context if p.text.startswith(label + ":"))
        assert p.runs[0].text == label + ":" and p.runs[0].bold
        assert not any(r.bold for r in p.runs[1:])
    assert "Stakeholders: Program Manager (Customer): " in "\n".join(texts)
    (table,) = d.tables
    rows = _rows(table)
    assert rows[0] == ["#", "Activity", "Owner"]
    assert rows[1] == ["Plan the conversion"] * 3      # a group row spans the table
    assert rows[5] == ["Run the mock conversions"] * 3
    assert [r[0] for r in rows if r[0].startswith("5.12.")] == \
        [f"5.12.{n}" for n in range(1, 15)]
    grid = [int(g.get(qn("w:w"))) for g in table._tbl.find(qn("w:tblGrid"))]
    assert grid[1] > grid[2] > grid[0]
    assert grid[0] >= len("5.12.14") * 110 + 200     # the longest id fits on one line
    assert sum(grid) <= 9360


def test_excel_context_sheet_without_the_activity_table(playbook, engagement, tmp_path):
    import openpyxl
    kt = playbook.key_task("3.14")
    data = _fill(excel_log(tmp_path / "log.xlsx"), (kt,), engagement, playbook)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["Log"]["B3"].value == kt.activities[0].text.plain
    cells = [c for row in wb.worksheets[-1].iter_rows(values_only=True) for c in row if c]
    assert wb.sheetnames[-1] == "Key Task Context"
    assert ACTIVITIES_PLACED in cells and kt.activities_text.plain in cells
    assert "3.14.1" not in cells and kt.activities[0].text.plain not in cells
    assert f"\u2022 {kt.best_practices[0].plain}" in cells


def test_context_text_cleaned_with_a_warning_when_the_table_took_the_activities(
        playbook, engagement, tmp_path):
    import dataclasses
    kt = dataclasses.replace(playbook.key_task("3.14"),
                             objective=RichText.of("Finish the plan\x01 today"))
    doc = Document(Deliverable("d", "D", ("D",), "plan.docx", "generic", "docx"), 3,
                   "Version 1", (kt,), ())
    result = render_document(doc, Template(word_plan(tmp_path / "plan.docx")), engagement,
                             playbook, official=True)
    assert any(re.search("not allowed in XML|cannot hold", w) for w in result.warnings), \
        result.warnings
    assert "Finish the plan today" in _text(_xml(result.data))
