"""The workbook engine: templates written here with openpyxl (and raw XML where openpyxl
cannot make the case), rendered, and read back with openpyxl and lxml."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree
from openpyxl.cell.rich_text import TextBlock
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.table import Table

from m3docs.engine.core import TemplateProblems
from m3docs.engine.xlsx import ENGINE, render_xlsx
from m3docs.ooxml.package import Template
from m3docs.playbook.richtext import RichText, Run

X = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XM = "{http://schemas.microsoft.com/office/excel/2006/main}"
SEVEN = [{"name": f"Item {i}", "amount": i * 1.5, "due": dt.date(2026, 1, i + 1)}
         for i in range(7)]


def plan_book(path: Path) -> Path:
    """Title row, a header, a one-row loop (rows 3-5) and a total below it (row 6)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["A1"] = "Plan for {{ agency }}"
    ws["A2"], ws["B2"], ws["C2"], ws["D2"], ws["E2"] = "Name", "Due", "Note", "Amount", "Twice"
    ws["A3"] = "{%tr for item in items %}"
    ws["A4"], ws["B4"], ws["D4"] = "{{ item.name }}", "{{ item.due }}", "{{ item.amount }}"
    ws["C4"] = "due {{ item.due }}"
    ws["E4"] = "=D4*2"
    ws["A5"] = "{%tr endfor %}"
    ws["C6"], ws["D6"] = "Total", "=SUM(D4:D4)"
    ws["A8"] = "Signed: {{ provider }}"
    ws.merge_cells("A8:C8")
    ws.row_dimensions[4].height = 30
    other = wb.create_sheet("Summary")
    other["A1"], other["A2"], other["A3"] = "=Plan!D6", "=SUM(Plan!D4:D4)", "=Plan!A1"
    wb.create_sheet("Notes")["A1"] = "nothing to fill"
    wb.save(path)
    return path


def rendered(path: Path, context: dict) -> tuple[openpyxl.Workbook, bytes, list[str]]:
    data, warnings = render_xlsx(path, context)
    return openpyxl.load_workbook(io.BytesIO(data)), data, warnings


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read(name))


def values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def rewrite(path: Path, edit: dict) -> None:
    """Replace parts of a package (``edit``: part name -> function of its bytes)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name, fn in edit.items():
        parts[name] = fn(parts.get(name, b""))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def to_shared_strings(path: Path, rich: dict[str, list[tuple[bool, str]]] | None = None) -> None:
    """Every inline string of every sheet moved to a shared strings part, as Excel writes
    them; ``rich``: texts written as runs (bold, text) instead."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    strings: list[str] = []
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        root = etree.fromstring(parts[name])
        for c in root.iter(f"{X}c"):
            if c.get("t") == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{X}t"))
                c.remove(c.find(f"{X}is"))
                c.set("t", "s")
                etree.SubElement(c, f"{X}v").text = str(len(strings))
                strings.append(text)
        parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    sst = etree.Element(f"{X}sst", nsmap={None: X[1:-1]}, count=str(len(strings)),
                        uniqueCount=str(len(strings)))
    for text in strings:
        si = etree.SubElement(sst, f"{X}si")
        if rich and text in rich:
            for bold, piece in rich[text]:
                r = etree.SubElement(si, f"{X}r")
                if bold:
                    etree.SubElement(etree.SubElement(r, f"{X}rPr"), f"{X}b")
                t = etree.SubElement(r, f"{X}t")
                t.text = piece
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        else:
            etree.SubElement(si, f"{X}t").text = text
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


CONTEXT = {"agency": "GSA", "provider": "Acme <Federal> & Co", "items": SEVEN}


# -- loops -------------------------------------------------------------------------------------
def test_a_loop_repeats_its_rows_and_the_control_rows_vanish(tmp_path):
    wb, _, warnings = rendered(plan_book(tmp_path / "book.xlsx"), CONTEXT)
    ws = wb["Plan"]
    assert ws["A1"].value == "Plan for GSA"
    assert [ws.cell(r, 1).value for r in range(3, 10)] == [f"Item {i}" for i in range(7)]
    assert ws["C6"].value == "due 2026-01-04"
    assert ws["C10"].value == "Total"
    assert ws["A12"].value == "Signed: Acme <Federal> & Co"
    texts = [str(v) for row in values(ws) for v in row if v is not None]
    assert not any("{%" in t or "{{" in t for t in texts), texts
    assert all(ws.row_dimensions[r].height == 30 for r in range(3, 10))
    assert ws.row_dimensions[10].height != 30
    assert warnings == []


def test_a_sum_over_the_loop_row_covers_every_generated_row(tmp_path):
    wb, _, _ = rendered(plan_book(tmp_path / "book.xlsx"), CONTEXT)
    ws = wb["Plan"]
    assert ws["D10"].value == "=SUM(D3:D9)"
    assert [ws.cell(r, 5).value for r in (3, 9)] == ["=D3*2", "=D9*2"]   # each row its own


def test_formulas_on_other_sheets_and_defined_names_follow(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.defined_names["Total"] = DefinedName("Total", attr_text="Plan!$D$6")
    wb.defined_names["Amounts"] = DefinedName("Amounts", attr_text="Plan!$D$4:$D$4")
    wb["Plan"].print_area = "A1:E8"
    wb.save(path)
    wb, _, _ = rendered(path, CONTEXT)
    summary = wb["Summary"]
    assert [summary[f"A{r}"].value for r in (1, 2, 3)] == ["=Plan!D10", "=SUM(Plan!D3:D9)",
                                                           "=Plan!A1"]
    assert wb.defined_names["Total"].attr_text == "Plan!$D$10"
    assert wb.defined_names["Amounts"].attr_text == "Plan!$D$3:$D$9"
    assert wb["Plan"].print_area == "'Plan'!$A$1:$E$12"


def test_a_sheet_nothing_points_into_is_copied_untouched(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    _, data, _ = rendered(path, CONTEXT)
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(io.BytesIO(data)) as b:
        assert a.read("xl/worksheets/sheet3.xml") == b.read("xl/worksheets/sheet3.xml")
        assert a.read("xl/theme/theme1.xml") == b.read("xl/theme/theme1.xml")
    xfs = part(data, "xl/styles.xml").find(f"{X}cellXfs")   # one date style added, once
    assert [xf.get("numFmtId") for xf in xfs].count("14") == 1


def test_merges_validations_and_formats_move_and_grow(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    ws.merge_cells("B4:C4")                      # inside the loop: one per generated row
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    dv.add("D4")
    dv.add("A8")                                  # below: moves
    ws.add_data_validation(dv)
    ws.conditional_formatting.add("D4:E4", CellIsRule(operator="greaterThan", formula=["$D$6"]))
    wb.save(path)
    wb, _, _ = rendered(path, CONTEXT)
    ws = wb["Plan"]
    merges = sorted(str(m) for m in ws.merged_cells.ranges)
    assert merges == sorted([f"B{r}:C{r}" for r in range(3, 10)] + ["A12:C12"])
    assert [set(str(d.sqref).split()) for d in ws.data_validations.dataValidation] == [
        {"D3:D9", "A12"}]
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == "D3:E9"
    assert cf.rules[0].formula == ["$D$10"]


X14_CF = (
    '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:conditionalFormattings><x14:conditionalFormatting '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:cfRule type="expression" priority="2" id="{6A2B1C3D-0000-4000-8000-000000000001}">'
    '<xm:f>D4&gt;Summary!$A$1</xm:f><x14:dxf><font><b/></font></x14:dxf></x14:cfRule>'
    '<xm:sqref>D4 C6:D6</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings>'
    '</ext></extLst>')


def test_x14_formats_in_the_extension_list_grow_and_move(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    rewrite(path, {"xl/worksheets/sheet1.xml":
                   lambda b: b.replace(b"</worksheet>", X14_CF.encode() + b"</worksheet>")})
    _, data, _ = rendered(path, CONTEXT)
    ws = part(data, "xl/worksheets/sheet1.xml")
    (sqref,) = [el.text for el in ws.iter(f"{XM}sqref")]
    (formula,) = [el.text for el in ws.iter(f"{XM}f")]
    assert sqref == "D3:D9 C10:D10"
    assert formula == "D3>Summary!$A$1"


def test_a_table_over_the_loop_grows(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Plan"].add_table(Table(displayName="Items", ref="A2:E5"))
    wb.save(path)
    wb, data, _ = rendered(path, CONTEXT)
    table = wb["Plan"].tables["Items"]
    assert table.ref == "A2:E9"
    assert table.autoFilter.ref == "A2:E9"


def test_links_notes_page_breaks_and_charts_follow_their_rows(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    ws["A8"].hyperlink = "https://example.gov/sign"
    ws["C6"].comment = Comment("checked by finance", "m3")
    ws.row_breaks.append(Break(id=7))
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=4, min_row=4, max_row=4))
    ws.add_chart(chart, "G7")
    elsewhere = BarChart()                           # drawn on another sheet
    elsewhere.add_data(Reference(ws, min_col=4, min_row=2, max_row=6))
    wb["Summary"].add_chart(elsewhere, "C1")
    wb.save(path)
    wb, data, _ = rendered(path, CONTEXT)
    ws = wb["Plan"]
    assert ws["A12"].hyperlink.target == "https://example.gov/sign"
    assert ws["C10"].comment.text == "checked by finance"
    assert [b.id for b in ws.row_breaks.brk] == [11]
    anchor = part(data, "xl/drawings/drawing1.xml")
    rows = [el.text for el in anchor.iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}row")]
    assert rows[0] == "10"                                      # G7 (row index 6) -> G11
    refs = [el.text for n in (1, 2) for el in part(data, f"xl/charts/chart{n}.xml").iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/chart}f")]
    assert sorted(refs) == ["'Plan'!$D$2:$D$10", "'Plan'!$D$3:$D$9"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        vml = z.read("xl/drawings/commentsDrawing1.vml")
    assert re.search(rb"<(\w+:)?Row>9</(\w+:)?Row>", vml)            # C10, zero-based


def test_nested_control_flow_and_two_loops_on_one_sheet(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["A1"] = "{%tr for group in groups %}"
    ws["A2"] = "{{ group.name }}"
    ws["A3"] = "{%tr for x in group.xs %}"
    ws["A4"] = "{%tr if x > 1 %}"
    ws["B5"] = "{{ x }}"
    ws["A6"] = "{%tr endif %}"
    ws["A7"] = "{%tr endfor %}"
    ws["A8"] = "{%tr endfor %}"
    ws["A9"] = "between"
    ws["A10"] = "{%tr for x in tail %}"
    ws["A11"] = "{{ x }}"
    ws["A12"] = "{%tr endfor %}"
    ws["A13"], ws["B13"] = "=SUM(B1:B8)", "=COUNTA(A10:A12)"
    wb.save(tmp_path / "nested.xlsx")
    context = {"groups": [{"name": "g1", "xs": [1, 2, 3]}, {"name": "g2", "xs": [5]}],
               "tail": ["t1", "t2"]}
    wb, _, _ = rendered(tmp_path / "nested.xlsx", context)
    assert values(wb["Plan"]) == [
        ["g1", None], [None, 2], [None, 3], ["g2", None], [None, 5], ["between", None],
        ["t1", None], ["t2", None], ["=SUM(B1:B5)", "=COUNTA(A7:A8)"]]


def test_a_loop_that_makes_no_rows(tmp_path):
    """The rows vanish; a formula over nothing but them is #REF!, as when rows are deleted;
    a validation or format over nothing but them goes, one over more keeps the rest."""
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    dv = DataValidation(type="whole")
    dv.add("D4")
    wb["Plan"].add_data_validation(dv)
    wb["Plan"].conditional_formatting.add("D4 D6", CellIsRule(operator="greaterThan",
                                                              formula=["5"]))
    wb.save(path)
    wb, data, _ = rendered(path, dict(CONTEXT, items=[]))
    ws = wb["Plan"]
    assert list(ws.data_validations.dataValidation) == []
    assert [str(cf.sqref) for cf in ws.conditional_formatting] == ["D3"]
    assert ws["C3"].value == "Total" and ws["D3"].value == "=SUM(#REF!)"
    assert wb["Summary"]["A1"].value == "=Plan!D3"
    assert ws["A5"].value == "Signed: Acme <Federal> & Co"


# -- values ------------------------------------------------------------------------------------
def test_numbers_booleans_and_dates_stay_what_they_are(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    ws["G1"], ws["H1"], ws["I1"] = "{{ flag }}", "{{ when }}", "{{ count }}"
    ws["J1"] = "{{ day }}"
    ws["J1"].number_format = "yyyy-mm-dd"
    wb.save(path)
    context = dict(CONTEXT, flag=True, when=dt.datetime(2026, 10, 7, 12, 30), count=42,
                   day=dt.date(2026, 10, 7))
    wb, data, _ = rendered(path, context)
    ws = wb["Plan"]
    assert ws["D3"].value == 0 and ws["D4"].value == 1.5 and ws["D4"].data_type == "n"
    assert ws["B3"].value == dt.datetime(2026, 1, 1) and ws["B3"].is_date
    assert ws["G1"].value is True and ws["I1"].value == 42
    assert ws["H1"].value == dt.datetime(2026, 10, 7, 12, 30) and ws["H1"].is_date
    assert ws["J1"].value == dt.datetime(2026, 10, 7) and ws["J1"].number_format == "yyyy-mm-dd"
    assert ws["A1"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as z:    # J1 kept its own date style
        assert re.search(rb'<c r="J1" s="(\d+)"><v>46302</v>', z.read("xl/worksheets/sheet1.xml"))


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2-2",
                                     "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=1", "42"])
def test_text_never_becomes_a_formula(tmp_path, payload):
    wb, data, _ = rendered(plan_book(tmp_path / "book.xlsx"),
                           dict(CONTEXT, agency=payload, items=[{"name": payload,
                                                                  "amount": payload}]))
    ws = wb["Plan"]
    for cell in (ws["A3"], ws["D3"], ws["A1"]):
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert payload in cell.value
    sheet = part(data, "xl/worksheets/sheet1.xml")
    assert {f.text for f in sheet.iter(f"{X}f")} == {"D3*2", "SUM(D3:D3)"}


def test_rich_text_runs_and_the_first_link(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Plan"]["A4"] = "{{r item.note }}"
    wb.save(path)
    note = RichText((Run("See "), Run("the guide", bold=True, url="https://example.gov/g"),
                     Run(" now", italic=True), Run("also", url="https://example.gov/h")))
    script = RichText((Run("run me", url="javascript:alert(1)"),))
    wb, data, _ = rendered(path, dict(CONTEXT, items=[{"note": note, "amount": 1},
                                                      {"note": "plain <text>", "amount": 2},
                                                      {"note": script, "amount": 3}]))
    ws = wb["Plan"]
    assert ws["A3"].value == "See the guide nowalso"
    assert ws["A3"].hyperlink.target == "https://example.gov/g"
    assert ws["A4"].value == "plain <text>" and ws["A4"].hyperlink is None
    assert ws["A5"].value == "run me" and ws["A5"].hyperlink is None   # only web and mail links
    rich = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)["Plan"]["A3"].value
    bold = [str(block) for block in rich if isinstance(block, TextBlock) and block.font.b]
    assert bold == ["the guide"]


def test_shared_strings_with_tags_and_runs(tmp_path):
    """Excel keeps text in the shared strings part: tagged ones are filled per document
    (the part itself is left as it was), runs keep their bold."""
    path = plan_book(tmp_path / "book.xlsx")
    to_shared_strings(path, rich={"Plan for {{ agency }}": [(True, "Plan for "),
                                                            (False, "{{ agency }}")]})
    wb, data, _ = rendered(path, CONTEXT)
    ws = wb["Plan"]
    assert ws["A1"].value == "Plan for GSA" and ws["A2"].value == "Name"
    assert ws["A9"].value == "Item 6" and ws["D10"].value == "=SUM(D3:D9)"
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(io.BytesIO(data)) as b:
        assert a.read("xl/sharedStrings.xml") == b.read("xl/sharedStrings.xml")
    rich = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)["Plan"]["A1"].value
    assert [str(block) for block in rich if isinstance(block, TextBlock) and block.font.b] == [
        "Plan for "]


def test_headers_footers_and_document_properties(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Plan"].oddHeader.center.text = "{{ agency }} plan"
    wb["Notes"].oddFooter.left.text = "For {{ provider }}"
    wb.properties.title = "{{ agency }}: {{ items | length }} items"
    wb.save(path)
    wb, data, warnings = rendered(path, dict(CONTEXT, agency="G\x02SA"))
    assert any("Plan!oddHeader: removed characters" in w for w in warnings), warnings
    assert wb["Plan"].oddHeader.center.text == "GSA plan"
    assert wb["Notes"].oddFooter.left.text == "For Acme <Federal> & Co"
    assert wb.properties.title == "GSA: 7 items"


def test_escaped_delimiters_and_comments(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "{_{ literal }_} {# gone #}{{ x }}"
    ws["A2"] = "{#tr this row is a note to the template's author #}"
    ws["A3"] = "kept"
    wb.save(tmp_path / "e.xlsx")
    wb, _, _ = rendered(tmp_path / "e.xlsx", {"x": 1})
    assert values(wb.active) == [["{{ literal }} 1"], ["kept"]]


# -- errors and warnings ---------------------------------------------------------------------
def test_three_errors_in_three_cells_in_one_run(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["B4"], ws["C5"], ws["A7"] = "{{ agency ) }}", "{% for a in %}", "{{ 'a' ~ }}"
    ws["D9"] = "{{ fine }}"
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(TemplateProblems) as err:
        ENGINE.compile(Template(tmp_path / "book.xlsx"), "book.xlsx")
    lines = [str(d) for d in err.value.diagnostics]
    assert len(lines) == 3, lines
    assert lines[0] == ("book.xlsx: xl/worksheets/sheet1.xml: Plan!B4: error: unexpected ')' "
                        "in {{ agency ) }}")
    assert lines[1].startswith("book.xlsx: xl/worksheets/sheet1.xml: Plan!C5: error: ")
    assert lines[2].startswith("book.xlsx: xl/worksheets/sheet1.xml: Plan!A7: error: ")


def test_a_loop_never_closed_is_located(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Log"
    ws["A2"], ws["A3"] = "{%tr for x in xs %}", "{{ x }}"
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(TemplateProblems) as err:
        ENGINE.compile(Template(tmp_path / "book.xlsx"), "book.xlsx")
    (line,) = [str(d) for d in err.value.diagnostics]
    assert line.startswith("book.xlsx: xl/worksheets/sheet1.xml: Log!A2: error: ")
    assert "never closed" in line


@pytest.mark.parametrize("tag", ["{{ ''.__class__.__mro__ }}",
                                 "{{ cycler.__init__.__globals__ }}",
                                 "{{ x|attr('__class__') }}"])
def test_python_internals_are_refused_before_anything_runs(tmp_path, tag):
    wb = openpyxl.Workbook()
    wb.active["C3"] = tag
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(TemplateProblems) as err:
        ENGINE.compile(Template(tmp_path / "book.xlsx"), "book.xlsx")
    assert "Sheet!C3: error: refused" in str(err.value)


def test_undefined_names_are_warned(tmp_path):
    _, _, warnings = rendered(plan_book(tmp_path / "book.xlsx"), {"items": SEVEN})
    assert warnings == ["undefined in the context (rendered empty): agency, provider"]


def test_names_and_same_bytes_every_time(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    compiled = ENGINE.compile(Template(path), "book.xlsx")
    assert compiled.names == {"agency", "items", "provider"}
    assert compiled.render(CONTEXT)[0] == compiled.render(CONTEXT)[0]


def test_characters_xml_cannot_hold_are_removed_with_a_warning(tmp_path):
    data, warnings = render_xlsx(plan_book(tmp_path / "book.xlsx"),
                                    dict(CONTEXT, agency="G\x01SA"))
    assert openpyxl.load_workbook(io.BytesIO(data))["Plan"]["A1"].value == "Plan for GSA"
    assert any("not allowed in XML" in w for w in warnings)


# -- conformance -------------------------------------------------------------------------------
audit = pytest.importorskip("openxml_audit")
_FONT_ORDER = re.compile(r"/xl/styles\.xml:/styleSheet\[1\]/fonts\[1\]/font\[\d+\]: "
                         r"Unexpected element")


def audit_errors(path: Path) -> set[str]:
    result = audit.OpenXmlValidator().validate(str(path))
    found = {re.sub(r"\d+", "N", str(e)) for e in result.errors
             if e.severity == audit.ValidationSeverity.ERROR}
    return {e for e in found if not _FONT_ORDER.search(e.replace("N", "1"))}


def test_the_audit_finds_no_new_error(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    ws.merge_cells("B4:C4")
    dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    dv.add("D4")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add("D4:E4", CellIsRule(operator="greaterThan", formula=["5"]))
    ws.add_table(Table(displayName="Items", ref="A2:E5"))
    ws["H1"] = "{{ when }}"
    ws["A4"] = "{{r item.note }}"
    wb.save(path)
    rewrite(path, {"xl/worksheets/sheet1.xml":
                   lambda b: b.replace(b"</worksheet>", X14_CF.encode() + b"</worksheet>")})
    to_shared_strings(path)
    note = RichText((Run("See "), Run("the guide", bold=True, url="https://example.gov/g")))
    data, _ = render_xlsx(path, dict(CONTEXT, when=dt.date(2026, 10, 7),
                                     items=[dict(item, note=note) for item in SEVEN]))
    out = tmp_path / "out.xlsx"
    out.write_bytes(data)
    assert audit_errors(out) - audit_errors(path) == set()


def test_an_error_while_rendering_names_its_cell(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Plan"]["C4"] = "{{ item.amount / item.zero }}"
    wb.save(path)
    with pytest.raises(TemplateProblems) as err:
        render_xlsx(path, dict(CONTEXT, items=[{"amount": 1, "zero": 0}]))
    (line,) = [str(d) for d in err.value.diagnostics]
    assert line.startswith("book.xlsx: xl/worksheets/sheet1.xml: Plan!C4: error: cannot render")


def test_a_filter_block_that_breaks_the_markup_is_an_error_not_a_crash(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "{% filter upper %}a & b{% endfilter %}"
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(TemplateProblems) as err:
        render_xlsx(tmp_path / "book.xlsx", {})
    assert str(err.value).startswith("book.xlsx: xl/worksheets/sheet1.xml: Sheet: error: ")


def test_a_tag_split_across_runs_of_a_shared_string(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    to_shared_strings(path, rich={"Plan for {{ agency }}": [(True, "Plan for {{ age"),
                                                            (False, "ncy }}")]})
    wb, _, _ = rendered(path, CONTEXT)
    assert wb["Plan"]["A1"].value == "Plan for GSA"


def test_dates_in_a_1904_workbook(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    rewrite(path, {"xl/workbook.xml": lambda b: re.sub(
        rb"<workbookPr[^>]*/>", b'<workbookPr date1904="1"/>', b)})
    _, data, _ = rendered(path, CONTEXT)
    cell = [c for c in part(data, "xl/worksheets/sheet1.xml").iter(f"{X}c") if c.get("r") == "B3"]
    assert cell[0].findtext(f"{X}v") == str((dt.date(2026, 1, 1) - dt.date(1904, 1, 1)).days)


def test_rows_with_wrapped_text_grow_to_show_it(tmp_path):
    path = plan_book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan"]
    ws.row_dimensions[4].height = None
    ws["A4"].alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 20
    wb.save(path)
    items = [{"name": "short"}, {"name": "a much longer name " * 6}]
    wb, _, _ = rendered(path, dict(CONTEXT, items=items))
    ws = wb["Plan"]
    assert ws.row_dimensions[3].height is None
    assert ws.row_dimensions[4].height >= 4 * 12.75


def test_libreoffice_opens_a_rendered_workbook_and_computes_its_totals(tmp_path):
    """A real office suite reads what the engine writes: the loop's rows, the moved total
    (recomputed: moved formulas carry no stale cached value) and the other sheet's."""
    import shutil
    import subprocess

    from m3docs.pdf import find_soffice
    soffice = find_soffice()
    if not soffice or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice or pdftotext is not installed")
    data, _ = render_xlsx(plan_book(tmp_path / "book.xlsx"), CONTEXT)
    out = tmp_path / "out.xlsx"
    out.write_bytes(data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                   check=True, capture_output=True, timeout=240)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "out.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "Plan for GSA" in lines
    assert [line for line in lines if re.fullmatch(r"Item 6 1/7/2026 due \S+ 9 18", line)]
    assert "Total 31.5" in lines
    assert "Signed: Acme <Federal> & Co" in lines
    assert lines.count("31.5") == 2          # the summary sheet's =Plan!D10 and its SUM


def test_more_rows_than_a_sheet_holds_is_an_error(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1048570"] = "{%tr for x in xs %}"
    ws["A1048571"] = "{{ x }}"
    ws["A1048572"] = "{%tr endfor %}"
    wb.save(tmp_path / "book.xlsx")
    assert render_xlsx(tmp_path / "book.xlsx", {"xs": range(6)})[1] == []
    with pytest.raises(TemplateProblems, match="more rows than a worksheet holds"):
        render_xlsx(tmp_path / "book.xlsx", {"xs": range(8)})


def looped_book(path: Path, first: tuple, body: tuple, last: tuple = ()) -> Path:
    """A workbook: a first row, a loop over ``values`` (``v``) of a one-row body, a last row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in ((1, first), (3, body), (5, last)):
        for c, value in enumerate(row, 1):
            ws.cell(r, c, value)
    ws["A2"], ws["A4"] = "{%tr for v in values %}", "{%tr endfor %}"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def text_book(tmp_path_factory) -> Path:
    return looped_book(tmp_path_factory.mktemp("text") / "text.xlsx",
                       ("{{ value }}", "[{{ value }}]"), ("{{ v }}", "{{r v }}"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40), st.lists(st.text(max_size=20), max_size=3))
def test_any_text_comes_back_as_text(text_book, value, values):
    """Whatever a value holds (markup, quotes, formula signs, characters XML cannot hold),
    the cell shows it as text, minus only what XML cannot hold."""
    data, warnings = render_xlsx(text_book, {"value": value, "values": values})
    ws = openpyxl.load_workbook(io.BytesIO(data)).active

    def shown(text: str) -> str | None:
        cleaned = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", "", text)
        return cleaned or None

    assert ws["A1"].value == shown(value) and ws["B1"].value == shown(f"[{value}]")
    for row, v in enumerate(values, 2):   # an empty rich cell reads as "" (no runs)
        assert ws.cell(row, 1).value == shown(v) == (ws.cell(row, 2).value or None)
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row if c.value is not None)


# -- column loops --------------------------------------------------------------------------
def matrix_book(path: Path) -> Path:
    """A role-by-task matrix: a header with a column loop (B..D), then rows of a row loop
    with their own column loop, a column after the loops, a merged title across them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Matrix"
    ws["A1"] = "Roles"
    ws.merge_cells("A1:E1")
    ws["A2"], ws["B2"], ws["C2"], ws["D2"], ws["E2"] = (
        "Role", "{%tc for t in tasks %}", "{{ t }}", "{%tc endfor %}", "Note")
    ws["A3"] = "{%tr for r in roles %}"
    ws["A4"], ws["B4"], ws["C4"], ws["D4"], ws["E4"] = (
        "{{ r.name }}", "{%tc for p in r.parties %}", "{{ p }}", "{%tc endfor %}", "{{ r.note }}")
    ws["A5"] = "{%tr endfor %}"
    for letter, width in zip("ABCDE", (30, 3, 9, 3, 20)):
        ws.column_dimensions[letter].width = width
    ws.auto_filter.ref = "A2:E5"
    dv = DataValidation(type="list", formula1='"C,P"')
    dv.add("C4")
    ws.add_data_validation(dv)
    wb.save(path)
    return path


def test_column_loops_repeat_columns_and_the_sheet_follows(tmp_path):
    roles = [{"name": "Owner", "parties": ["C", "", "P"], "note": "first"},
             {"name": "Lead", "parties": ["", "Q", ""], "note": "second"}]
    wb, data, warnings = rendered(matrix_book(tmp_path / "m.xlsx"),
                                  {"tasks": ["1.1", "1.2", "1.3"], "roles": roles})
    assert warnings == []
    ws = wb["Matrix"]
    assert values(ws) == [["Roles", None, None, None, None],
                          ["Role", "1.1", "1.2", "1.3", "Note"],
                          ["Owner", "C", None, "P", "first"],
                          ["Lead", None, "Q", None, "second"]]
    cols = part(data, "xl/worksheets/sheet1.xml").find(f"{X}cols")
    widths = {c: float(col.get("width")) for col in cols
              for c in range(int(col.get("min")), int(col.get("max")) + 1)}
    assert widths == {1: 30, 2: 9, 3: 9, 4: 9, 5: 20}
    assert ws.auto_filter.ref == "A2:E4"
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:E1"]
    (dv,) = ws.data_validations.dataValidation
    assert str(dv.sqref) == "B3:D4"
    assert part(data, "xl/worksheets/sheet1.xml").find(f"{X}dimension").get("ref") == "A1:E4"


def test_an_empty_column_loop_closes_the_gap(tmp_path):
    wb, _, _ = rendered(matrix_book(tmp_path / "m.xlsx"),
                        {"tasks": [], "roles": [{"name": "Owner", "parties": [], "note": "n"}]})
    ws = wb["Matrix"]
    assert values(ws)[1:] == [["Role", "Note"], ["Owner", "n"]]
    assert ws.auto_filter.ref == "A2:B3"


def test_unpaired_column_tags_are_errors(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "{%tc for t in tasks %}", "{{ t }}"
    ws["A2"], ws["B2"] = "{%tc if x %}", "{%tc endif %}"
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(TemplateProblems) as exc:
        render_xlsx(tmp_path / "bad.xlsx", {})
    text = str(exc.value)
    assert "Sheet!A1" in text and "no {%tc endfor %}" in text
    assert "Sheet!A2" in text and "{%tc for ... %}" in text


def test_relative_links_and_the_link_filter(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "{{r name | link(path | urlencode) }}"
    ws["A2"] = "{{r name | link(bad) }}"
    wb.save(tmp_path / "links.xlsx")
    book, _, _ = rendered(tmp_path / "links.xlsx", {"name": "Plan.docx",
                                                    "path": "Phase 3/Plan.docx",
                                                    "bad": "javascript:alert(1)"})
    ws = book.active
    assert ws["A1"].value == "Plan.docx" and ws["A1"].hyperlink.target == "Phase%203/Plan.docx"
    assert ws["A2"].value == "Plan.docx" and ws["A2"].hyperlink is None


_MARKUP = st.text(alphabet=st.sampled_from(list("ab <>&\"'{}%#;/=\t")), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_MARKUP, min_size=0, max_size=4), word=_MARKUP)
def test_rows_of_well_formed_statements_stay_well_formed_unchecked(tmp_path, values, word):
    """Sheets whose statements are all of the well-formed kind (loops, conditions, sets,
    raw) are not parsed again after rendering: whatever the values hold, the rows they write
    still read back (every value is escaped by the filter that writes it)."""
    path = looped_book(
        tmp_path / "book.xlsx",
        ("{% set w = word %}{{ w }}: {% if word %}<{{ word }}>{% else %}&none{% endif %}",),
        ("{{ v }}", "{% raw %}{{ v }} & <raw>{% endraw %} {{ loop.index }}"),
        ("after & {{ values | length }}",))
    data, _ = render_xlsx(path, {"values": values, "word": word})
    out = openpyxl.load_workbook(io.BytesIO(data)).active
    assert out["A1"].value == (f"{word}: <{word}>" if word else ": &none")
    assert [out.cell(2 + i, 1).value for i in range(len(values))] == [v or None for v in values]
    assert [out.cell(2 + i, 2).value for i in range(len(values))] == \
        [f"{{{{ v }}}} & <raw> {i + 1}" for i in range(len(values))]
    assert out.cell(2 + len(values), 1).value == f"after & {len(values)}"


def test_text_holding_the_engines_private_use_mark_is_kept(tmp_path):
    """The compile marks each cell's row with a private-use character while the sheet is a
    tree; a sheet whose own text holds that character keeps it, and its rows are numbered."""
    path = looped_book(tmp_path / "book.xlsx", ("logo \uf8ff mark", "{{ agency }}"),
                       ("{{ v }}", "\uf8ff"), ("end \uf8ff",))
    data, _ = render_xlsx(path, {"agency": "GSA", "values": ["x", "y"]})
    out = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [[c.value for c in row] for row in out.iter_rows()] == [
        ["logo \uf8ff mark", "GSA"], ["x", "\uf8ff"], ["y", "\uf8ff"], ["end \uf8ff", None]]


def test_rows_with_work_past_a_chunk_are_all_finished(tmp_path):
    """Rendered rows with work to do (a height to fit, a date to style, a link to make, an
    empty text) are parsed in chunks: every one of 1,250 loop rows, across the chunks' edges,
    gets its height, its date style and its hyperlink, and the rows after the loop follow."""
    from m3docs.engine.xlsx import WORK_CHUNK
    n = 2 * WORK_CHUNK + 250
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["B"].width = 12
    ws["A2"] = "{%tr for r in rows %}"
    ws["A3"], ws["B3"], ws["C3"], ws["D3"] = ("{{ r.day }}", "{{ r.text }}",
                                              "{{r r.name | link(r.url) }}", "{{ r.none }}")
    ws["B3"].alignment = Alignment(wrap_text=True)
    ws["A4"] = "{%tr endfor %}"
    ws["A5"] = "after"
    wb.save(tmp_path / "book.xlsx")
    long = "a long line of text that needs several lines in a narrow column"
    rows = [{"day": dt.date(2027, 1, 1) + dt.timedelta(days=i),
             "text": long if i % 2 else "short", "name": f"doc {i}",
             "url": f"https://example.gov/{i}", "none": ""} for i in range(n)]
    out, data, _ = rendered(tmp_path / "book.xlsx", {"rows": rows})
    ws = out.active
    assert ws.cell(2 + n, 1).value == "after"
    assert [ws.cell(2 + i, 1).value.date() for i in (0, WORK_CHUNK - 1, WORK_CHUNK, n - 1)] == \
        [rows[i]["day"] for i in (0, WORK_CHUNK - 1, WORK_CHUNK, n - 1)]
    assert all(ws.cell(2 + i, 1).is_date for i in range(n))
    links = {c.coordinate: c.hyperlink.target for row in ws.iter_rows(min_col=3, max_col=3)
             for c in row if c.hyperlink}
    assert links == {f"C{2 + i}": f"https://example.gov/{i}" for i in range(n)}
    tall = [ws.row_dimensions[2 + i].height for i in range(n)]
    assert all(h and h > 15 for h in tall[1::2]) and not any(tall[0::2])
    assert all(ws.cell(2 + i, 4).value is None for i in range(n))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"m3link" not in sheet and b"m3d=" not in sheet and b"<is></is>" not in sheet


def grid_book(path: Path, chart: bool = False) -> Path:
    """Hours per task in a column loop (B..D), totals right of it, a formula in the loop's
    body, another sheet and a defined name pointing at the totals."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Grid"
    for r, (label, body) in enumerate((("Task", "{{ t.name }}"), ("Hours", "{{ t.hours }}"),
                                       ("Double", "=C2*2"), ("First", "=$C$2")), 1):
        ws.cell(r, 1, label)
        ws.cell(r, 2, "{%tc for t in tasks %}")
        ws.cell(r, 3, body)
        ws.cell(r, 4, "{%tc endfor %}")
    ws["E1"], ws["E2"], ws["E3"] = "Total", "=SUM(C2:C2)", "=E2*2"
    other = wb.create_sheet("Summary")
    other["A1"], other["A2"] = "=Grid!E2", "=SUM(Grid!C2:C2)+Grid!C2"
    wb.defined_names["Totals"] = DefinedName("Totals", attr_text="Grid!$E$2:$E$3")
    ws.conditional_formatting.add("C2", FormulaRule(formula=["C2>$E$2/2"], fill=PatternFill(
        "solid", fgColor="FFC7CE")))
    if chart:   # hours per task: a series over the loop's body
        bars = BarChart()
        bars.add_data(Reference(ws, min_col=3, min_row=2, max_col=3, max_row=2), from_rows=True)
        bars.set_categories(Reference(ws, min_col=3, min_row=1, max_col=3, max_row=1))
        ws.add_chart(bars, "A8")
    wb.save(path)
    return path


def test_formulas_follow_column_loops(tmp_path):
    """Two tasks: the loop's one body column becomes B and C, the totals move from E to D.
    A range over the body grows over both copies, a relative reference in the body is its
    own copy's, an absolute one the first copy, and other sheets and names follow."""
    tasks = [{"name": "1.1", "hours": 3}, {"name": "1.2", "hours": 4}]
    wb, data, warnings = rendered(grid_book(tmp_path / "g.xlsx"), {"tasks": tasks})
    assert warnings == []
    ws, summary = wb["Grid"], wb["Summary"]
    assert values(ws)[:2] == [["Task", "1.1", "1.2", "Total"], ["Hours", 3, 4, "=SUM(B2:C2)"]]
    assert [ws["B3"].value, ws["C3"].value, ws["D3"].value] == ["=B2*2", "=C2*2", "=D2*2"]
    assert [ws["B4"].value, ws["C4"].value] == ["=$B$2", "=$B$2"]
    assert [summary["A1"].value, summary["A2"].value] == ["=Grid!D2", "=SUM(Grid!B2:C2)+Grid!B2"]
    assert wb.defined_names["Totals"].attr_text == "Grid!$D$2:$D$3"
    (rule_range,) = ws.conditional_formatting
    assert str(rule_range.sqref) == "B2:C2"       # over both copies, relative to the first
    assert rule_range.rules[0].formula == ["B2>$D$2/2"]


def test_a_column_loop_that_makes_no_columns(tmp_path):
    """The columns vanish: a formula over nothing but them is #REF!, as when columns are
    deleted (and as for a row loop); what was right of them moves left."""
    wb, _, _ = rendered(grid_book(tmp_path / "g.xlsx"), {"tasks": []})
    ws, summary = wb["Grid"], wb["Summary"]
    assert [ws["A2"].value, ws["B2"].value, ws["B3"].value] == ["Hours", "=SUM(#REF!)", "=B2*2"]
    assert [summary["A1"].value, summary["A2"].value] == \
        ["=Grid!B2", "=SUM(Grid!#REF!)+Grid!#REF!"]
    assert wb.defined_names["Totals"].attr_text == "Grid!$B$2:$B$3"


def test_a_chart_over_a_column_loop_covers_every_copy(tmp_path):
    tasks = [{"name": f"1.{i}", "hours": i} for i in range(1, 4)]
    data, _ = render_xlsx(grid_book(tmp_path / "g.xlsx", chart=True), {"tasks": tasks})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (name,) = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        chart = etree.fromstring(z.read(name))
    refs = [f.text for f in chart.iter("{http://schemas.openxmlformats.org/drawingml/2006/chart}f")]
    assert refs and all("$B$" in r and ":$D$" in r for r in refs), refs


def test_libreoffice_computes_totals_over_a_column_loop(tmp_path):
    """A real office suite recomputes the moved formulas: each sheet exported as CSV."""
    import subprocess

    from m3docs.pdf import find_soffice
    soffice = find_soffice()
    if not soffice:
        pytest.skip("LibreOffice is not installed")
    tasks = [{"name": f"1.{i}", "hours": i} for i in range(1, 5)]
    data, _ = render_xlsx(grid_book(tmp_path / "g.xlsx"), {"tasks": tasks})
    (tmp_path / "out.xlsx").write_bytes(data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):"
                    "44,34,76,1,,0,false,true,false,false,false,-1", "--outdir",
                    str(tmp_path / "csv"), str(tmp_path / "out.xlsx")],
                   check=True, capture_output=True, timeout=240)
    grid = (tmp_path / "csv" / "out-Grid.csv").read_text().splitlines()
    summary = (tmp_path / "csv" / "out-Summary.csv").read_text().splitlines()
    assert grid[1].split(",") == ["Hours", "1", "2", "3", "4", "10"]
    assert grid[2].split(",") == ["Double", "2", "4", "6", "8", "20"]
    assert summary[:2] == ["10", "11"]
