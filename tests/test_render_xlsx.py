"""m3docs' own Excel templates (tagged templates) filled by the workbook engine from the
content model, read back with openpyxl."""
from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from m3docs.engagement import Requirement
from m3docs.ooxml.package import Template
from m3docs.ooxml.xml import qn
from m3docs.plan import Deliverable, Document
from m3docs.renderers import render_document
from m3docs.content import unnamed_line
from oracles import named_first
from m3docs.playbook.model import Party

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
EXAMPLE = REPO / "examples" / "engagement.yaml"
RTM = Deliverable("rtm", "Requirements Traceability Matrix (RTM)",
                  ("Requirements Traceability Matrix (RTM)",), None, "rtm", "xlsx")
LOG = Deliverable("raid log", "RAID Log", ("RAID Log",), None, "generic", "xlsx")


@pytest.fixture(scope="module")
def key_task(playbook):
    return playbook.key_tasks[0]


@pytest.fixture(scope="module")
def rtm_template():
    return Template(TEMPLATES / "rtm.xlsx")


@pytest.fixture(scope="module")
def generic_template():
    return Template(TEMPLATES / "generic.xlsx")


def render(doc, template, engagement, playbook):
    return render_document(doc, template, engagement, playbook)


def body_row(template: Template, sheet: str) -> int:
    """The template's body row on a sheet: the first row under the header without a tag
    row ({%tr %}) in its first cell."""
    ws = openpyxl.load_workbook(template.path)[sheet]
    return next(r for r in range(4, ws.max_row + 1)
                if not str(ws.cell(r, 1).value or "").startswith("{%tr"))


def load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read(name))


def header_columns(ws, row: int = 3) -> dict[str, str]:
    return {c.value: c.column_letter for c in ws[row] if c.value}


@pytest.fixture(scope="module")
def rtm_doc(key_task):
    return Document(RTM, 3, "Updated", (), (key_task,), "Phase 3/RTM.xlsx")


@pytest.fixture(scope="module")
def rtm_book(rtm_doc, rtm_template, engagement, playbook):
    result = render(rtm_doc, rtm_template, engagement, playbook)
    assert result.warnings == []
    return result.data, load(result.data)


def test_rtm_has_requirements_then_one_row_per_activity(rtm_book, engagement, key_task):
    _, wb = rtm_book
    ws = wb["RTM"]
    cols = header_columns(ws)
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    idx = {h: ord(c) - 65 for h, c in cols.items()}
    assert len(rows) == len(engagement.requirements) + len(key_task.activities)
    for req, row in zip(engagement.requirements, rows):
        assert row[idx["Requirement ID"]] == req.id
        assert row[idx["Requirement Description"]] == req.description
        assert row[idx["Priority"]] == req.priority
    for act, row in zip(key_task.activities, rows[len(engagement.requirements):]):
        assert row[idx["Requirement ID"]] == f"{key_task.id}-{act.number:02d}"
        assert row[idx["Process Area"]] == key_task.workstream
        assert row[idx["Sub Process"]] == key_task.name
        assert row[idx["Requirement Description"]] == act.text.plain
        assert row[idx["Source"]] == f"M3 Playbook {key_task.id}"
        assert row[idx["Decision Maker"]] == engagement.owner(act) == "Jordan Avery / Riley Chen"
        assert row[idx["Status"]] == "Pending Approval-New"


def test_rtm_rows_reuse_the_example_row_styles(rtm_book, rtm_template):
    _, wb = rtm_book
    ws = wb["RTM"]
    example = openpyxl.load_workbook(rtm_template.path)["RTM"]
    body = body_row(rtm_template, "RTM")
    for col in range(1, ws.max_column + 1):
        want = example.cell(body, col)
        for row in range(4, ws.max_row + 1):
            got = ws.cell(row, col)
            assert got.border.left.style == want.border.left.style == "thin"
            assert got.alignment.wrap_text == want.alignment.wrap_text
            assert got.alignment.horizontal == want.alignment.horizontal


def test_validations_cover_every_filled_row(rtm_book):
    _, wb = rtm_book
    ws = wb["RTM"]
    cols = header_columns(ws)
    last = ws.max_row
    by_col = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list" and dv.formula1.startswith("Lists!$")
        (rng,) = list(dv.sqref.ranges)
        by_col[rng.coord.split(":")[0].rstrip("0123456789")] = (str(rng.coord), dv.formula1)
    lists = wb["Lists"]
    for header in ("Priority", "Status", "Fit/Gap"):
        col = cols[header]
        coord, formula = by_col[col]
        assert coord == f"{col}4:{col}{last}"
        src = formula.split("!")[1].replace("$", "").split(":")[0][0]
        assert lists[f"{src}1"].value == header
    assert "High" in [c.value for c in lists["A"]]
    assert wb["Lists"].sheet_state == "hidden"


def test_conditional_formats_stretch_over_the_rows(rtm_book):
    _, wb = rtm_book
    ws = wb["RTM"]
    ranges = {str(cf.sqref) for cf in ws.conditional_formatting}
    assert f"H4:H{ws.max_row}" in ranges


def test_freeze_filter_dimension_and_print_setup(rtm_book):
    data, wb = rtm_book
    ws = wb["RTM"]
    last = ws.max_row
    assert ws.freeze_panes == "B4"
    assert ws.auto_filter.ref == f"A3:N{last}"
    sheet = part(data, "xl/worksheets/sheet2.xml")
    assert sheet.find(qn("x:dimension")).get("ref") == f"A1:N{last}"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$3"
    book = part(data, "xl/workbook.xml")
    names = {(n.get("name"), n.get("localSheetId")): n.text for n in book.iter(qn("x:definedName"))}
    assert names[("_xlnm._FilterDatabase", "1")].replace("'", "") == f"RTM!$A$3:$N${last}"


def test_row_heights_and_widths_fit(rtm_book, rtm_template):
    _, wb = rtm_book
    ws = wb["RTM"]
    template = openpyxl.load_workbook(rtm_template.path)["RTM"]
    cols = header_columns(ws)
    desc = cols["Requirement Description"]
    for col in cols.values():   # the template's author sets the widths
        assert ws.column_dimensions[col].width == template.column_dimensions[col].width
    long_row = max(range(4, ws.max_row + 1), key=lambda r: len(ws[f"{desc}{r}"].value or ""))
    short_row = min(range(4, ws.max_row + 1), key=lambda r: len(ws[f"{desc}{r}"].value or ""))
    assert ws.row_dimensions[long_row].height > ws.row_dimensions[short_row].height
    for r in range(4, ws.max_row + 1):
        assert ws[f"{desc}{r}"].alignment.wrap_text


def test_fields_filled_everywhere(rtm_book, engagement):
    data, wb = rtm_book
    for ws in wb:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "{{" in v for v in row)
    cover = wb["Cover"]
    values = [c for row in cover.iter_rows(values_only=True) for c in row if c]
    assert "Requirements Traceability Matrix (RTM)" in values
    assert engagement.program in values and engagement.agency in values
    assert "Version 1.0" in values and "November 24, 2026" in values
    footer = part(data, "xl/worksheets/sheet2.xml").find(f"{qn('x:headerFooter')}/{qn('x:oddFooter')}")
    assert engagement.agency in footer.text and "{{" not in footer.text


def test_cover_approvals_from_the_engagement(rtm_book, engagement):
    _, wb = rtm_book
    cover = wb["Cover"]
    rows = [r for r in cover.iter_rows(min_row=15, min_col=2, max_col=3, values_only=True) if r[0]]
    assert rows == [tuple(a) for a in engagement.approvers]
    assert cover.freeze_panes is None and not cover.auto_filter.ref


def test_text_starting_with_formula_characters_stays_text(rtm_doc, rtm_template, engagement,
                                                          playbook):
    risky = ("=SUM(A1:A3)", "+cmd|' /C calc'!A0", "-1+2", "@SUM(1)")
    reqs = tuple(Requirement(f"R-{i}", text, priority="=1") for i, text in enumerate(risky))
    eng = dataclasses.replace(engagement, requirements=reqs)
    data = render(rtm_doc, rtm_template, eng, playbook).data
    ws = load(data)["RTM"]
    for i, text in enumerate(risky):
        cell = ws.cell(4 + i, 4)
        assert cell.value == text and cell.data_type == "s"
    sheet = part(data, "xl/worksheets/sheet2.xml")
    assert sheet.find(f".//{qn('x:f')}") is None


def test_illegal_characters_removed_with_a_warning(rtm_doc, rtm_template, engagement, playbook):
    eng = dataclasses.replace(engagement, program="Modern\x01ization",
                              requirements=(Requirement("R-1", "bad\x0bchar"),))
    result = render(rtm_doc, rtm_template, eng, playbook)
    wb = load(result.data)
    assert wb["RTM"]["D4"].value == "badchar"
    assert "Modernization" in wb["RTM"]["A2"].value
    assert result.warnings and all("removed characters" in w for w in result.warnings)


def test_same_input_same_bytes(rtm_doc, engagement, playbook):
    a = render(rtm_doc, Template(TEMPLATES / "rtm.xlsx"), engagement, playbook).data
    b = render(rtm_doc, Template(TEMPLATES / "rtm.xlsx"), engagement, playbook).data
    assert a == b


def test_only_changed_parts_rewritten_and_template_untouched(rtm_doc, rtm_template, engagement,
                                                             playbook):
    before = {n: rtm_template.bytes_of(n) for n in rtm_template.order}
    render(rtm_doc, rtm_template, engagement, playbook)
    assert {n: rtm_template.bytes_of(n) for n in rtm_template.order} == before


def test_generic_workbook_activities_and_stakeholders(key_task, generic_template, engagement,
                                                      playbook):
    doc = Document(LOG, 3, "Version 1", (key_task,), (), "Phase 3/RAID Log.xlsx")
    result = render(doc, generic_template, engagement, playbook)
    assert result.warnings == []
    wb = load(result.data)
    ws = wb["Activities"]
    assert ws["A1"].value == "RAID Log: Key Task Activities"
    cols = header_columns(ws)
    status = engagement.task_status(key_task.id)
    for act, row in zip(key_task.activities, range(4, ws.max_row + 1)):
        assert ws[f"{cols['Key Task']}{row}"].value == f"{key_task.id} {key_task.name}"
        assert ws[f"{cols['Role (produces/uses)']}{row}"].value == "Produces"
        assert ws[f"{cols['#']}{row}"].value == act.number
        assert ws[f"{cols['IMS #']}{row}"].value == f"{key_task.id}.{act.number}"
        assert ws[f"{cols['Activity']}{row}"].value == act.text.plain
        assert ws[f"{cols['Owner']}{row}"].value == engagement.owner(act)
        assert ws[f"{cols['Status']}{row}"].value == "On track"
        pct = ws[f"{cols['% Complete']}{row}"]
        assert pct.value == status.percent_complete / 100 and pct.number_format == "0%"
        finish = ws[f"{cols['Finish']}{row}"]
        assert finish.value.date() == status.finish and finish.is_date
        start = ws[f"{cols['Start']}{row}"]
        assert start.value.date() == status.start and start.is_date
    assert ws.max_row == 3 + len(key_task.activities)
    assert ws.auto_filter.ref == f"A3:L{ws.max_row}"
    (dv,) = ws.data_validations.dataValidation
    assert str(dv.sqref) == f"{cols['Status']}4:{cols['Status']}{ws.max_row}"
    sh = wb["Stakeholders"]
    rows = list(sh.iter_rows(min_row=4, values_only=True))
    named, unnamed = named_first(key_task.stakeholders, engagement)
    assert len(rows) == len(named) + 1 and rows[-1][1] == f"To be named: {unnamed_line(unnamed)}"
    pm = next(r for r in rows if r[1] == "Program Manager")
    assert pm[2:] == ("Jordan Avery", "Riley Chen", "Customer / Provider")
    log = wb["Log"]
    assert log["A1"].value == "RAID Log"
    assert log.max_row == 23 and log["C4"].value is None
    (dv,) = log.data_validations.dataValidation
    assert str(dv.sqref) == "E4:E23"


def test_generic_workbook_key_tasks_sheet(key_task, generic_template, engagement, playbook):
    user = dataclasses.replace(key_task, number=99)
    doc = Document(LOG, 3, "Version 1", (key_task,), (user,), "Phase 3/RAID Log.xlsx")
    wb = load(render(doc, generic_template, engagement, playbook).data)
    assert wb.sheetnames[:3] == ["Cover", "Key Tasks", "Activities"]
    ws = wb["Key Tasks"]
    cols = header_columns(ws)
    rows = {ws[f"A{r}"].value: r for r in range(4, ws.max_row + 1)}
    assert list(rows) == [f"{key_task.id} {key_task.name}", f"3.99 {key_task.name}"]
    row = rows[f"{key_task.id} {key_task.name}"]
    value = lambda head: ws[f"{cols[head]}{row}"].value  # noqa: E731
    assert value("Role (produces/uses)") == "Produces"
    assert value("Objective") == key_task.objective.plain
    assert value("Inputs").split("\n") == [f"\u2022 {r.title.plain}" for r in key_task.inputs]
    assert value("Outputs").split("\n") == [f"\u2022 {r.title.plain}" for r in key_task.outputs]
    assert value("Best Practices").split("\n") == [f"\u2022 {b.plain}"
                                                   for b in key_task.best_practices]
    assert ws[f"{cols['Role (produces/uses)']}{rows[f'3.99 {key_task.name}']}"].value == "Uses"
    assert ws[f"{cols['Objective']}{row}"].alignment.wrap_text


def test_stakeholders_without_a_person_are_to_be_named(key_task, generic_template, playbook):
    from m3docs.engagement import Engagement
    import datetime as dt
    bare = Engagement(agency="A", program="P", as_of=dt.date(2026, 1, 1))
    doc = Document(LOG, 3, "Version 1", (key_task,), (), "Phase 3/RAID Log.xlsx")
    sh = load(render(doc, generic_template, bare, playbook).data)["Stakeholders"]
    rows = list(sh.iter_rows(min_row=4, values_only=True))
    roles = [s.role.plain for s in key_task.stakeholders]
    (row,) = rows   # nobody named: the roles in one row, not a "to be named" row each
    assert row[1].startswith("To be named: ") and \
        [r.split(" (")[0] for r in row[1].removeprefix("To be named: ").split("; ")] == roles
    one = Engagement(agency="A", program="P", as_of=dt.date(2026, 1, 1),
                     people={"Program Manager": {Party.CUSTOMER: "Jordan Avery"}})
    rows = list(load(render(doc, generic_template, one, playbook).data)["Stakeholders"]
                .iter_rows(min_row=4, values_only=True))
    assert len(rows) == 2 and rows[0][1:4] == ("Program Manager", "Jordan Avery", "to be named")


def test_shared_string_fields_become_inline_keeping_runs(rtm_doc, engagement, playbook):
    """A template whose field cell is a rich shared string is filled without touching others."""
    base = Template(TEMPLATES / "rtm.xlsx")
    pkg = base.new()
    sst = etree.fromstring(
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><r><rPr><b/></rPr><t>Doc: </t></r><r><t>{{ document.title }}</t>'
        b'</r></si></sst>')
    pkg.put("xl/sharedStrings.xml", sst, "application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sharedStrings+xml")
    pkg.relate("xl/workbook.xml", "http://schemas.openxmlformats.org/officeDocument/2006/"
                                  "relationships/sharedStrings", "sharedStrings.xml")
    sheet = pkg.xml("xl/worksheets/sheet2.xml")
    a1 = sheet.find(f".//{qn('x:c')}[@r='A1']")
    for child in list(a1):
        a1.remove(child)
    a1.set("t", "s")
    etree.SubElement(a1, qn("x:v")).text = "0"
    template = Template("shared.xlsx", pkg.to_bytes())
    data = render(rtm_doc, template, engagement, playbook).data
    assert load(data)["RTM"]["A1"].value == "Doc: Requirements Traceability Matrix (RTM)"
    cell = part(data, "xl/worksheets/sheet2.xml").find(f".//{qn('x:c')}[@r='A1']")
    assert cell.get("t") == "inlineStr"
    assert cell.find(f"{qn('x:is')}/{qn('x:r')}/{qn('x:rPr')}/{qn('x:b')}") is not None
    assert part(data, "xl/sharedStrings.xml").find(qn("x:si")) is not None


def users_workbook(path: Path, title_cell: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mine"
    ws["A1"] = title_cell
    ws["A2"] = "{%tr for r in rtm %}"
    ws["A3"], ws["B3"] = "{{ r.id }}", "{{ r.description }}"
    ws["A4"] = "{%tr endfor %}"
    wb.save(path)
    return path


def test_a_users_tagged_workbook_named_in_the_engagement(tmp_path, engagement, playbook,
                                                          key_task):
    from m3docs.api import render as render_one
    mine = users_workbook(tmp_path / "mine.xlsx", "{{ agency }}: {{ document.title }}")
    eng = dataclasses.replace(engagement, templates={"Requirements Traceability Matrix": mine})
    entry = render_one("Requirements Traceability Matrix", playbook, eng, tmp_path / "out.xlsx")
    assert entry["template"] == "mine.xlsx" and entry["warnings"] == []
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["Mine"]
    assert ws["A1"].value == f"{engagement.agency}: Requirements Traceability Matrix (RTM)"
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == \
        [r.id for r in engagement.requirements] + \
        [f"{key_task.id}-{a.number:02d}" for a in key_task.activities]


def test_a_users_workbook_whose_tags_do_not_compile_is_filled_in_place_and_said_so(
        tmp_path, engagement, playbook):
    from m3docs.api import render as render_one
    mine = users_workbook(tmp_path / "mine.xlsx", "{{ agency ) }}")
    eng = dataclasses.replace(engagement, templates={"Requirements Traceability Matrix": mine})
    entry = render_one("Requirements Traceability Matrix", playbook, eng, tmp_path / "out.xlsx")
    assert any("tags not filled" in w and "Mine!A1" in w for w in entry["warnings"])
