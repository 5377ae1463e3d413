"""The Excel annotator: the tags it writes into official-style workbooks built here, read back
with openpyxl (the tagged copy is an ordinary workbook a user can open and correct)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from m3docs.annotate import annotator_for
from m3docs.annotate.xlsx import ANNOTATOR, RowEdits, Edit, annotated
from m3docs.ooxml.package import Template

openpyxl = pytest.importorskip("openpyxl")


def _book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return path


def shared_strings(path: Path) -> Path:
    """The workbook with its inline strings made shared strings (as Excel saves them; the
    openpyxl here writes inline ones), the same text sharing one entry."""
    from lxml import etree
    from m3docs.ooxml.xml import qn
    parts = _parts(path.read_bytes())
    texts: list[str] = []
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        root = etree.fromstring(parts[name])
        for c in root.iter(qn("x:c")):
            if c.get("t") == "inlineStr":
                text = "".join(c.find(qn("x:is")).itertext())
                if text not in texts:
                    texts.append(text)
                c.remove(c.find(qn("x:is")))
                c.set("t", "s")
                etree.SubElement(c, qn("x:v")).text = str(texts.index(text))
        parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sst = etree.Element(f"{{{ns}}}sst", nsmap={None: ns})
    for text in texts:
        etree.SubElement(etree.SubElement(sst, f"{{{ns}}}si"), f"{{{ns}}}t").text = text
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    return _write_parts(path, parts)


def blanks_book(path: Path) -> Path:
    """A cover sheet with blanks in shared strings, a header and the title; a signing date;
    a second sheet with nothing to tag."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cover"
    ws["A1"] = "Program: [Program Name]"
    ws["A2"] = "<<Insert Date>>"
    ws["A3"] = "Approved by: <<Approver Name>>"
    ws["B3"] = "Signature date: <<Signature Date>>"
    ws["A4"] = "Program: [Program Name]"      # the same shared string twice
    ws["A5"] = "Enter {{ braces }} as written"
    ws.oddHeader.center.text = "[Agency Name]"
    other = wb.create_sheet("Notes")
    other["A1"] = "Nothing to fill here"
    wb.properties.title = "RTM for [Program Name]"
    wb.save(path)
    return shared_strings(path)


def test_blanks_become_fields(playbook, tmp_path):
    data, notes = ANNOTATOR.annotate(Template(blanks_book(tmp_path / "b.xlsx")), playbook)
    ws = _book(data)["Cover"]
    assert ws["A1"].value == "Program: {{ program }}"
    assert ws["A4"].value == "Program: {{ program }}"
    assert ws["A2"].value == "{{ date }}"
    assert ws["A3"].value == 'Approved by: {{ approvers[0].name or "<<Approver Name>>" }}'
    assert ws["B3"].value == "Signature date: <<Signature Date>>"   # the signer's, stays
    assert ws["A5"].value == "Enter {_{ braces }_} as written"      # shown as written
    assert "{{ agency }}" in ws.oddHeader.center.text
    parts = _parts(data)
    assert _book(data).properties.title == "RTM for {{ program }}"
    assert any("blanks become fields" in n for n in notes)
    # the shared string no cell uses any more holds no stale blank; the others stay
    assert b"[Program Name]" not in parts["xl/sharedStrings.xml"]
    assert b"Nothing to fill here" in parts["xl/sharedStrings.xml"]


def test_a_sheet_without_tags_is_copied_byte_for_byte(playbook, tmp_path):
    path = blanks_book(tmp_path / "b.xlsx")
    data, _ = ANNOTATOR.annotate(Template(path), playbook)
    before, after = _parts(path.read_bytes()), _parts(data)
    notes_sheet = "xl/worksheets/sheet2.xml"
    assert after[notes_sheet] == before[notes_sheet]


def table_book(path: Path) -> Path:
    """A log: header in row 3, an example row, an instruction row, a total and a note."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Log"
    ws["A1"] = "Activity Log"
    for col, text in enumerate(("IMS", "Activity", "Owner", "Score"), 1):
        ws.cell(3, col, text)
    ws["A4"], ws["B4"], ws["C4"], ws["D4"] = "x.1", "Hold the kickoff", "John Doe", "=LEN(B4)"
    ws["A5"], ws["B5"], ws["C5"], ws["D5"] = "x.2", "<Enter the activity>", "", "=LEN(B5)"
    ws["A6"], ws["D6"] = "Total", "=SUM(D4:D5)"
    ws["A7"] = "Notes: all dates are estimates."
    ws.merge_cells("A7:D7")
    wb.save(path)
    return path


def test_a_table_found_by_its_header_becomes_loops(playbook, tmp_path):
    data, notes = ANNOTATOR.annotate(Template(table_book(tmp_path / "t.xlsx")), playbook)
    ws = _book(data)["Log"]
    col_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert col_a[2] == "IMS"
    assert col_a[3] == "{%tr if activities %}{%tr for row in activities %}"
    assert [ws.cell(5, c).value for c in (1, 2)] == ["{{ row.number }}", "{{ row.text }}"]
    assert ws["D5"].value == "=LEN(B5)"                       # the row's formula, on its row
    assert col_a[5] == "{%tr endfor %}"
    assert col_a[6] == "{%tr for _ in range(2 - (activities) | length) %}"  # the 2 slots kept
    assert ws["B8"].value is None and ws["D8"].value == "=LEN(B8)"
    assert col_a[8] == "{%tr endfor %}"
    assert col_a[9] == "{%tr else %}"                         # no data: the rows as they were
    assert [ws.cell(11, c).value for c in (1, 2)] == ["x.1", "Hold the kickoff"]
    assert ws["D11"].value == "=LEN(B11)"
    assert col_a[12] == "{%tr endif %}"
    total = col_a.index("Total") + 1
    assert total == 14 and ws.cell(total, 4).value == "=SUM(D5:D12)"   # over every loop row
    assert ws.cell(total + 1, 1).value.startswith("Notes:")
    assert f"A{total + 1}:D{total + 1}" in {str(m) for m in ws.merged_cells.ranges}
    assert any("loop over activities" in n for n in notes)


def schedule_book(path: Path) -> Path:
    """An Integrated Master Schedule: project row, two phase rows with roll-ups, key-task rows
    (one of the playbook, one it does not know), a validation over the task column."""
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "IMS"
    head = ["Phase", "Task Name", "Duration", "% Complete", "Start", "Finish", "Resource Type"]
    for c, text in enumerate(head, 1):
        ws.cell(1, c, text)
    ws["B2"] = "<<Name of the Migration Project>>"
    ws["A3"], ws["B3"], ws["C3"] = "2", "Phase 2: Readiness", "=SUM(C4:C4)"
    ws["A4"], ws["B4"] = "2", "2.1 Something else"
    ws["A5"], ws["B5"], ws["C5"] = "3", "Phase 3: Engagement", "=SUM(C6:C7)"
    ws["A6"], ws["B6"] = "3", "3.14 Finalize Target State Concept of Operations"
    ws["A7"], ws["B7"] = "3", "3.99 A later key task"
    for r in (4, 6, 7):
        ws.cell(r, 2).alignment = Alignment(indent=1)
        ws.row_dimensions[r].outlineLevel = 1
    dv = DataValidation(type="list", formula1='"A,B"')
    ws.add_data_validation(dv)
    dv.add("G2:G20")
    wb.save(path)
    return path


def test_a_schedule_gets_an_activity_loop_under_each_key_task(playbook, tmp_path):
    data, notes = ANNOTATOR.annotate(Template(schedule_book(tmp_path / "s.xlsx")), playbook)
    ws = _book(data)["IMS"]
    assert ws["B2"].value == "{{ program }}"
    names = [ws.cell(r, 2).value for r in range(1, 11)]
    assert names[:6] == ["Task Name", "{{ program }}", "Phase 2: Readiness", "2.1 Something else",
                         "Phase 3: Engagement", "3.14 Finalize Target State Concept of Operations"]
    assert ws["A7"].value == ('{%tr for a in (key_tasks_by_id["3.14"].activities if "3.14" in '
                              'key_tasks_by_id else []) %}')
    assert ws["B8"].value == "{{ a.number }} {{ a.text }}"
    assert ws["A8"].value == "3" and ws["G8"].value == "{{ a.party }}"
    assert ws["D8"].value == "{{ a.percent }}" and ws["D8"].number_format == "0%"
    assert ws["E8"].value == "{{ a.start }}"
    assert ws.row_dimensions[8].outlineLevel == 2
    assert ws["B8"].alignment.indent == 2
    assert ws["A9"].value == "{%tr endfor %}"
    assert names[9] == "3.99 A later key task"              # every template row stays
    assert ws["C3"].value == "=SUM(C4:C4)"                 # a phase without a known key task
    assert ws["C5"].value == "=SUM(C6:C10)"                # the roll-up covers the loop
    assert "G2:G23" in str(ws.data_validations.dataValidation[0].sqref)
    assert any("a schedule" in n for n in notes)


def test_the_key_task_context_sheet_is_a_loop_over_key_tasks(playbook, tmp_path):
    data, _ = ANNOTATOR.annotate(Template(table_book(tmp_path / "t.xlsx")), playbook)
    wb = _book(data)
    ws = wb.worksheets[-1]
    assert ws.title == "Key Task Context"
    texts = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "{%tr for kt in key_tasks %}" in texts
    assert "{{ kt.title }}" in texts
    # the log's table lists the activities, so the context sheet points there
    assert "{%tr if kt.activities %}{%tr if true %}" in texts


def test_annotation_is_made_once_per_template(playbook, tmp_path):
    template = Template(table_book(tmp_path / "t.xlsx"))
    first = annotated(template, playbook, ())
    assert annotated(template, playbook, ()) is first
    assert annotated(template, playbook, ("Acme",)) is not first   # other literal blanks
    assert annotator_for("xlsx") is ANNOTATOR


def test_literal_placeholders_of_the_engagement_become_fields(playbook, tmp_path):
    path = tmp_path / "p.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Prepared by ACME-CORP"
    wb.save(path)
    data, _ = ANNOTATOR.annotate(Template(path), playbook, ("ACME-CORP",))
    assert _book(data).active["A1"].value == 'Prepared by {{ placeholders["ACME-CORP"] }}'


def test_row_edits_move_and_grow():
    rows = RowEdits("S", [Edit(5, 7, 6, 5), Edit(11, 10, 3, 9)])
    assert rows.position(4) == 4
    assert rows.position(6) == 6          # a replaced row: the first row past the control row
    assert rows.position(8) == 11         # below the first edit: +3
    assert rows.span(5, 7) == (6, 9)      # over the replaced rows: every row but the controls
    assert rows.span(9, 10) == (12, 16)   # ends right above an insertion in its region: grows
    assert rows.span(12, 12) == (18, 18)


DRAWING = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
           b'spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
           b'<xdr:twoCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff>'
           b'<xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>5</xdr:col>'
           b'<xdr:colOff>0</xdr:colOff><xdr:row>4</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
           b'<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="Box"/><xdr:cNvSpPr '
           b'txBox="1"/></xdr:nvSpPr><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1" cy="1"/>'
           b'</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody>'
           b'<a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr b="1"/><a:t>Prepared for [Agency</a:t></a:r>'
           b'<a:r><a:t> Name]</a:t></a:r></a:p></xdr:txBody></xdr:sp><xdr:clientData/>'
           b'</xdr:twoCellAnchor></xdr:wsDr>')


def drawing_book(path: Path) -> Path:
    """A sheet with a text box whose blank Excel split over two runs."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Cover"
    wb.save(path)
    parts = _parts(path.read_bytes())
    parts["xl/drawings/drawing1.xml"] = DRAWING
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
        b'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" '
        b'Target="../drawings/drawing1.xml"/></Relationships>')
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</worksheet>", b'<drawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships" r:id="rId1"/></worksheet>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/drawings/drawing1.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.drawing+xml"/></Types>')
    return _write_parts(path, parts)


def test_a_text_box_blank_becomes_a_field_and_is_filled(playbook, engagement, tmp_path):
    from m3docs.engine import compiled
    path = drawing_book(tmp_path / "d.xlsx")
    data, _, tagged = annotated(Template(path), playbook, ())
    drawing = _parts(data)["xl/drawings/drawing1.xml"].decode()
    assert "Prepared for {{ agency }}" in drawing and "[Agency" not in drawing
    assert '<a:rPr b="1"/>' in drawing                          # the run keeps its format
    out, _ = compiled(tagged, "xlsx").render({"agency": "Acme Agency", "key_tasks": []})
    filled = _parts(out)["xl/drawings/drawing1.xml"].decode()
    assert "Prepared for Acme Agency" in filled and "{{" not in filled
