"""Official workbooks: filled rows wrap long text, get heights that show it, and a header
two rows tall (a label merged down, a band merged across) is read as Excel shows it."""
from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import pytest

from m3docs.ooxml.package import Template
from m3docs.playbook.richtext import RichText
from m3docs.plan import Deliverable, Document
from m3docs.renderers.official import fill_official

WIDE, NARROW = 40, 8.43   # column widths, in characters
LONG = "Confirm the cut-over window with every business process owner and the provider. " * 80


def _task(playbook, texts: list[str] | None = None):
    """Key task 3.14, its activities' texts replaced by ``texts`` when given."""
    kt = playbook.key_task("3.14")
    if texts is None:
        return kt
    acts = tuple(dataclasses.replace(kt.activities[i % len(kt.activities)], number=i + 1,
                                     text=RichText.of(t)) for i, t in enumerate(texts))
    return dataclasses.replace(kt, activities=acts)


def _fill(path: Path, playbook, engagement, kt) -> tuple[bytes, list[str]]:
    doc = Document(Deliverable("d", "D", ("D",), path.name, "generic", path.suffix[1:]), 3,
                   "Version 1", (kt,), ())
    result = fill_official(doc, Template(path), engagement, playbook)
    return result.data, result.warnings


def plain_log(path: Path, wrap_owner: bool = False) -> Path:
    """A log whose example row's styles do not wrap: a wide Activity column and a narrow
    Owner column (wrapping only when ``wrap_owner``), a bold ID and a filled status."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Log"
    ws["A1"] = "Activity Log"
    for col, text in enumerate(("ID", "Activity", "Owner", "Status"), 1):
        ws.cell(row=3, column=col, value=text).font = Font(bold=True)
    for col, text in enumerate(("x.1", "Example: hold the kickoff", "Example: PM", "G"), 1):
        ws.cell(row=4, column=col, value=text)
    ws["A4"].font = Font(bold=True)
    ws["B4"].fill = PatternFill("solid", fgColor="DDEBF7")
    if wrap_owner:
        ws["C4"].alignment = Alignment(wrap_text=True)
    ws.column_dimensions["B"].width = WIDE
    wb.save(path)
    return path


def merged_header(path: Path) -> Path:
    """A register whose header is two rows: IMS merged down over both, Activity and Owner
    under a band merged across, a score formula per row and a total below."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws["A1"] = "Risk Register"
    ws.merge_cells("A3:A4")
    ws["A3"] = "IMS"
    ws.merge_cells("B3:C3")
    ws["B3"] = "Activity Detail"
    ws["B4"], ws["C4"] = "Activity", "Owner"
    ws.merge_cells("D3:D4")
    ws["D3"] = "Score"
    for r in (5, 6):
        ws.cell(r, 1, f"x.{r}")
        ws.cell(r, 2, "<<Insert activity>>")
        ws.cell(r, 3, "<<Insert Name>>")
        ws.cell(r, 4, f"=LEN(B{r})")
    ws["A8"] = "Total"
    ws["D8"] = "=SUM(D5:D6)"
    for col in "BC":
        ws.column_dimensions[col].width = 30
    wb.save(path)
    return path


def _sheet(data: bytes, name: str):
    import openpyxl
    return openpyxl.load_workbook(io.BytesIO(data))[name]


def _filled_rows(ws, first: int) -> list[int]:
    return [r for r in range(first, ws.max_row + 1) if ws.cell(r, 2).value]


def _line_bounds(text: str, width: float) -> tuple[int, int]:
    """Fewest and most lines ``text`` can take in a column ``width`` characters wide."""
    return math.ceil(len(text) / (width * 1.6)), math.ceil(len(text) / (width * 0.7)) + 1


def test_long_text_wraps_and_rows_show_it(playbook, engagement, tmp_path):
    kt = _task(playbook)
    data, _ = _fill(plain_log(tmp_path / "log.xlsx"), playbook, engagement, kt)
    ws = _sheet(data, "Log")
    rows = _filled_rows(ws, 4)
    assert [ws.cell(r, 2).value for r in rows] == [a.text.plain for a in kt.activities]
    grown = 0
    for r in rows:
        activity, owner = ws.cell(r, 2), ws.cell(r, 3)
        for cell, width in ((activity, WIDE), (owner, NARROW)):
            if len(cell.value) > width * 1.6:
                assert cell.alignment.wrap_text, cell.coordinate
        lo, hi = _line_bounds(activity.value, WIDE)
        height = ws.row_dimensions[r].height or 15
        assert 15 * lo <= height <= max(15 * hi + 3, 15 * _line_bounds(owner.value, NARROW)[1] + 3)
        assert height <= 409
        grown += height > 15
        # the wrapping copy keeps the example cell's look
        assert activity.fill.fgColor.rgb.endswith("DDEBF7")
        assert ws.cell(r, 1).font.b
    assert grown, "some activity needs more than one line"


def test_short_text_keeps_the_row_as_it_was(playbook, engagement, tmp_path):
    from m3docs.engagement import TaskStatus
    kt = _task(playbook, ["Hold the kickoff", "Send notes"])
    eng = dataclasses.replace(engagement, status={kt.id: TaskStatus(owner="Ann Lee")})
    data, _ = _fill(plain_log(tmp_path / "log.xlsx"), playbook, eng, kt)
    ws = _sheet(data, "Log")
    rows = _filled_rows(ws, 4)
    assert len(rows) == 2
    for r in rows:
        assert not ws.row_dimensions[r].customHeight
        assert not ws.cell(r, 2).alignment.wrap_text


def test_height_counts_only_cells_that_wrap(playbook, engagement, tmp_path):
    """An owner too long for its narrow column wraps, and the row grows for it; a text that
    fits its line raises nothing."""
    from m3docs.engagement import TaskStatus
    kt = _task(playbook, ["Hold the kickoff"])
    eng = dataclasses.replace(engagement, status={kt.id: TaskStatus(
        owner="Jordan Avery / Riley Chen / Morgan Diaz")})
    data, _ = _fill(plain_log(tmp_path / "log.xlsx", wrap_owner=True), playbook, eng, kt)
    ws = _sheet(data, "Log")
    r = _filled_rows(ws, 4)[0]
    assert ws.cell(r, 3).value == "Jordan Avery / Riley Chen / Morgan Diaz"
    assert ws.cell(r, 3).alignment.wrap_text
    assert 45 <= ws.row_dimensions[r].height <= 15 * 7
    assert not ws.cell(r, 2).alignment.wrap_text


def test_tallest_row_is_capped_and_text_kept(playbook, engagement, tmp_path):
    kt = _task(playbook, [LONG, "Short one"])
    data, _ = _fill(plain_log(tmp_path / "log.xlsx"), playbook, engagement, kt)
    ws = _sheet(data, "Log")
    rows = _filled_rows(ws, 4)
    assert ws.cell(rows[0], 2).value == LONG.strip()
    assert ws.row_dimensions[rows[0]].height == 409
    assert ws.cell(rows[0], 2).alignment.vertical == "top"   # its text starts in view


@pytest.mark.parametrize("suffix", ["xlsx", "xlsm"])
def test_label_merged_down_a_two_row_header(playbook, engagement, tmp_path, suffix):
    path = merged_header(tmp_path / f"register.{suffix}")
    if suffix == "xlsm":
        from fixtures_official import _make_macro
        path.write_bytes(_make_macro(path.read_bytes()))
    kt = _task(playbook)
    data, _ = _fill(path, playbook, engagement, kt)
    ws = _sheet(data, "Register")
    assert ws["A3"].value == "IMS" and ws["B3"].value == "Activity Detail"
    assert ws["B4"].value == "Activity" and {str(m) for m in ws.merged_cells.ranges} >= {
        "A3:A4", "B3:C3", "D3:D4"}
    rows = _filled_rows(ws, 5)
    assert rows[0] == 5
    assert [ws.cell(r, 1).value for r in rows] == [f"{kt.id}.{a.number}" for a in kt.activities]
    assert [ws.cell(r, 2).value for r in rows] == [a.text.plain for a in kt.activities]
    assert all(ws.cell(r, 3).value for r in rows)
    assert [ws.cell(r, 4).value for r in rows] == [f"=LEN(B{r})" for r in rows]
    total = rows[-1] + 2
    assert ws.cell(total, 1).value == "Total"
    assert ws.cell(total, 4).value == f"=SUM(D5:D{rows[-1]})"


def test_a_header_merged_over_two_rows_starts_the_data_below_it(playbook, engagement,
                                                                 tmp_path):
    """Every label merged down over two header rows: the rows are filled below the merge."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    for col, text in enumerate(("IMS", "Activity", "Owner"), 1):
        ws.cell(2, col, text)
        ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    ws.cell(4, 1, "x.1")
    ws.cell(4, 2, "<<Insert activity>>")
    path = tmp_path / "tall.xlsx"
    wb.save(path)
    kt = _task(playbook)
    data, _ = _fill(path, playbook, engagement, kt)
    out = _sheet(data, "Register")
    assert out["A2"].value == "IMS" and out["A3"].value is None
    assert {str(m) for m in out.merged_cells.ranges} == {"A2:A3", "B2:B3", "C2:C3"}
    assert out["A4"].value == f"{kt.id}.1" and out["B4"].value == kt.activities[0].text.plain


def test_context_sheet_rows_show_their_text(playbook, engagement, tmp_path):
    """A workbook with no table gets the key-task context sheet: headings wrap and are as tall
    as their size, long paragraphs are capped at Excel's tallest row."""
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Notes for [Agency Name]"
    path = tmp_path / "notes.xlsx"
    wb.save(path)
    kt = dataclasses.replace(_task(playbook), objective=RichText.of(LONG))
    data, _ = _fill(path, playbook, engagement, kt)
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[-1]
    heights = {r: ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)}
    assert max(h or 15 for h in heights.values()) <= 409
    heading = next(c for row in ws.iter_rows() for c in row if c.value == f"{kt.id} {kt.name}")
    assert heading.alignment.wrap_text and heading.font.sz == 14
    assert heights[heading.row] >= 19
    objective = next(c for row in ws.iter_rows() for c in row
                     if str(c.value or "").startswith("Objective: "))
    assert objective.value.endswith(LONG.strip()) and heights[objective.row] == 409
