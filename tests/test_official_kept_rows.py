"""Official decks and workbooks: the rows that close a template table (a total, a note, a
sign-off) stay below the filled rows; a deck's key-task context slide fits its slide size."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from m3docs.ooxml.package import Template
from m3docs.playbook.richtext import RichText
from m3docs.plan import Deliverable, Document
from m3docs.renderers import render_document

HEADER = ("Activity", "Owner", "Status", "Finish")
TOTAL = ("Total", "7 activities", "", "")
NOTE = "Notes: all dates are estimates until the baseline."


def _fill(path: Path, playbook, engagement, texts: list[str] | None) -> bytes:
    """``path`` filled for key task 3.14, its activities' texts ``texts`` when given."""
    kt = playbook.key_task("3.14")
    if texts is not None:
        kt = dataclasses.replace(kt, activities=tuple(
            dataclasses.replace(kt.activities[0], number=i + 1, text=RichText.of(t))
            for i, t in enumerate(texts)))
    doc = Document(Deliverable("r", "R", ("R",), path.name, "generic", path.suffix[1:]), 3,
                   "Version 1", (kt,), ())
    return render_document(doc, Template(path), engagement, playbook, official=True).data


# -- decks ------------------------------------------------------------------------------------
def totals_deck(path: Path) -> Path:
    """A slide whose table has a header, an example row, a Total row and a note merged across."""
    from pptx import Presentation
    from pptx.util import Inches, Pt
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "Key Activities"
    table = slide.shapes.add_table(4, 4, Inches(0.5), Inches(1.5), Inches(9),
                                   Inches(1.6)).table
    for r, texts in enumerate((HEADER, ("<<Activity>>", "<<Owner>>", "G", "xx/xx/xx"), TOTAL,
                               (NOTE, "", "", ""))):
        for c, text in enumerate(texts):
            table.cell(r, c).text = text
            for p in table.cell(r, c).text_frame.paragraphs:
                p.font.size = Pt(12)
    table.cell(3, 0).merge(table.cell(3, 3))
    prs.save(path)
    return path


def _deck_tables(data: bytes) -> tuple[object, list]:
    from pptx import Presentation
    prs = Presentation(io.BytesIO(data))
    return prs, [shape for slide in prs.slides for shape in slide.shapes
                 if shape.has_table and shape.table.cell(0, 0).text == HEADER[0]]


def _texts(frame) -> list[str]:
    return [frame.table.cell(r, 0).text for r in range(len(frame.table.rows))]


def test_deck_total_and_note_rows_stay(playbook, engagement, tmp_path):
    texts = ["Hold the kickoff", "Send the notes"]
    data = _fill(totals_deck(tmp_path / "review.pptx"), playbook, engagement, texts)
    _, frames = _deck_tables(data)
    assert len(frames) == 1
    table = frames[0].table
    assert _texts(frames[0]) == [HEADER[0], *texts, TOTAL[0], NOTE]
    assert [table.cell(3, c).text for c in range(4)] == list(TOTAL)
    assert table.cell(4, 0).is_merge_origin and table.cell(4, 0).span_width == 4


def test_deck_kept_rows_go_on_the_last_slide_of_the_table(playbook, engagement, tmp_path):
    texts = [f"Hold fit-gap workshop {n} with the process owners" for n in range(1, 41)]
    data = _fill(totals_deck(tmp_path / "review.pptx"), playbook, engagement, texts)
    prs, frames = _deck_tables(data)
    assert len(frames) > 1
    pages = [_texts(frame)[1:] for frame in frames]
    for page in pages[:-1]:
        assert TOTAL[0] not in page and NOTE not in page
    assert pages[-1][-2:] == [TOTAL[0], NOTE]
    assert [t for page in pages for t in page if t not in (TOTAL[0], NOTE)] == texts
    limit = prs.slide_height - prs.slide_height // 12
    for frame in frames:
        assert frame.top + sum(row.height for row in frame.table.rows) <= limit


# -- workbooks --------------------------------------------------------------------------------
def totals_log(path: Path) -> Path:
    """A log: header in row 3, two example rows with a per-row formula, a Total row right
    below them (no blank row between) summing that column, a note merged across below it."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Log"
    ws["A1"] = "Activity Log"
    for col, text in enumerate(("IMS", "Activity", "Owner", "Score"), 1):
        ws.cell(3, col, text)
    for r in (4, 5):
        ws.cell(r, 1, f"x.{r}")
        ws.cell(r, 2, "<<Insert activity>>")
        ws.cell(r, 3, "<<Insert Name>>")
        ws.cell(r, 4, f"=LEN(B{r})")
    ws["A6"], ws["D6"] = "Total", "=SUM(D4:D5)"
    ws["A7"] = NOTE
    ws.merge_cells("A7:D7")
    wb.save(path)
    return path


def test_workbook_total_right_below_the_rows_stays_and_grows(playbook, engagement, tmp_path):
    import openpyxl
    kt = playbook.key_task("3.14")
    data = _fill(totals_log(tmp_path / "log.xlsx"), playbook, engagement, None)
    ws = openpyxl.load_workbook(io.BytesIO(data))["Log"]
    n = len(kt.activities)
    assert n > 2
    last = 3 + n
    assert [ws.cell(r, 2).value for r in range(4, last + 1)] == [a.text.plain
                                                                 for a in kt.activities]
    assert [ws.cell(r, 4).value for r in range(4, last + 1)] == [f"=LEN(B{r})"
                                                                 for r in range(4, last + 1)]
    assert ws.cell(last + 1, 1).value == "Total"
    assert ws.cell(last + 1, 4).value == f"=SUM(D4:D{last})"
    assert ws.cell(last + 2, 1).value == NOTE
    assert f"A{last + 2}:D{last + 2}" in {str(m) for m in ws.merged_cells.ranges}


def test_workbook_total_stays_when_fewer_rows_are_filled(playbook, engagement, tmp_path):
    import openpyxl
    data = _fill(totals_log(tmp_path / "log.xlsx"), playbook, engagement, ["Hold the kickoff"])
    ws = openpyxl.load_workbook(io.BytesIO(data))["Log"]
    assert ws["B4"].value == "Hold the kickoff"
    assert ws["B5"].value is None and ws["D5"].value == "=LEN(B5)"   # the second slot, blank
    assert (ws["A6"].value, ws["D6"].value, ws["A7"].value) == ("Total", "=SUM(D4:D5)", NOTE)


# -- the context slide ------------------------------------------------------------------------
def plain_deck(path: Path, width: int) -> Path:
    """A deck with no table (so it gets the key-task context slide), ``width`` EMU wide."""
    from pptx import Presentation
    prs = Presentation()
    prs.slide_width = width
    prs.slides.add_slide(prs.slide_layouts[0]).shapes.title.text = "Review for [Agency Name]"
    prs.save(path)
    return path


def _wrapped_height(shape, em: float = 0.5) -> float:
    """Points the shape's paragraphs take, wrapped at ``em`` of their size per character."""
    import math
    width = shape.width / 12700 - 14.4   # the default insets, left and right
    total = 0.0
    for p in shape.text_frame.paragraphs:
        size = p.runs[0].font.size.pt
        total += math.ceil(len(p.text) * size * em / width) * size * 1.2
    return total


def test_context_slide_fits_a_4_3_deck(playbook, engagement, tmp_path):
    """A deck without an activity table gets a context slide per key task: its facts in a
    text box, its activities in a table that continues on "(continued)" copies, every one
    inside the slide, for a 4:3 and a 16:9 deck."""
    from pptx import Presentation
    texts = [f"Review the conversion rules for data set {n} with its business owner and "
             f"the provider's data lead, then record the decisions" for n in range(1, 30)]
    for width in (9144000, 12192000):
        data = _fill(plain_deck(tmp_path / f"deck{width}.pptx", width), playbook, engagement,
                     texts)
        prs = Presentation(io.BytesIO(data))
        added = list(prs.slides)[1:]
        assert len(added) > 1
        shown = []
        for n, slide in enumerate(added):
            boxes = {shape.name: shape for shape in slide.shapes}
            assert set(boxes) == {"Title", "Context", "Activities"}
            title = boxes["Title"].text_frame.text
            assert title == "3.14 " + playbook.key_task("3.14").name + (" (continued)" if n else "")
            assert boxes["Context"].text_frame.paragraphs[0].text.startswith("Objective: ")
            for shape in boxes.values():
                assert 0 < shape.left and shape.left + shape.width <= prs.slide_width
                assert shape.top + shape.height <= prs.slide_height
            table = boxes["Activities"].table
            assert [c.text for c in table.rows[0].cells] == ["IMS", "Activity", "Owner"]
            shown += [table.cell(r, 1).text for r in range(1, len(table.rows))]
        assert shown == texts
