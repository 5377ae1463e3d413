"""Family-sized official templates for the benchmarks (the real family is not all public here).

The official M3 family holds big files the three shared samples do not show: a Business Needs
Workbook of 16 sheets and about 10 MB of sheet XML (styled rows, data validations, x14
conditional formats), a Master Schedule of about 1,000 rows with roll-up formulas, a 13-slide
status deck (major activities, a Gantt-style table, a legend) and Word plans of 30-60 pages
(headers, footers, a table of contents, tables). This script writes templates of those shapes
under the file names ``synth.FAMILY`` gives them, so a synthetic playbook names them.

    python benchmarks/family.py OUT_DIR
"""
from __future__ import annotations

import io
import random
import re
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pptx import Presentation
from pptx.util import Inches, Pt as PPt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import FAMILY, PHASES  # noqa: E402

X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
WORDS = ("system interface data conversion payroll vendor ledger grant obligation report "
         "workflow approval account budget reconciliation access training cutover").split()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


# -- workbooks -------------------------------------------------------------------------------
def business_needs(path: Path, sheets: int = 16, rows: tuple[int, int] = (3000, 6000),
                   cols: int = 30) -> None:
    """16 sheets of 3,000-6,000 styled rows x 30 columns, validations and x14 formats; the
    first sheet's header names requirement columns (a table the fill recognises)."""
    rng = random.Random(16)
    wb = Workbook()
    thin = Side(style="thin", color="A6A6A6")
    head = ["Requirement ID", "Requirement Description", "Process Area", "Priority",
            "Source", "Decision Maker"] + [f"Attribute {i}" for i in range(7, cols + 1)]
    counts = []
    for s in range(sheets):
        ws = wb.active if s == 0 else wb.create_sheet()
        ws.title = f"Process Area {s + 1:02d}"
        for c, label in enumerate(head, 1):
            cell = ws.cell(1, c, label)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F3864")
            cell.border = Border(thin, thin, thin, thin)
            ws.column_dimensions[get_column_letter(c)].width = 18 if c > 2 else 40
        cell = ws.cell(2, 1, "< enter requirement ID >")
        cell.border = Border(thin, thin, thin, thin)
        dv = DataValidation(type="list", formula1='"High,Medium,Low"', allow_blank=True)
        ws.add_data_validation(dv)
        counts.append(rng.randint(*rows))
        dv.add(f"D2:D{counts[-1]}")
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    _big_sheets(buf.getvalue(), path, counts, cols, rng)


def _big_sheets(data: bytes, path: Path, counts: list[int], cols: int,
                rng: random.Random) -> None:
    """Rewrite each sheet's data with its styled rows (raw XML: openpyxl would take minutes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m:
                body = _fill_sheet(body.decode(), counts[int(m.group(1)) - 1], cols, rng).encode()
            out.writestr(info, body)


def _fill_sheet(xml: str, count: int, cols: int, rng: random.Random) -> str:
    header = re.search(r"<row r=\"1\".*?</row>", xml, re.S).group(0)
    style = re.search(r'<c r="A2" s="(\d+)"', xml).group(1)
    rows = [header]
    for r in range(2, count + 1):  # styled rows (row style), a few filled cells each
        cells = []
        if r == 2:
            cells.append(f'<c r="A2" s="{style}" t="inlineStr"><is><t>'
                         f'&lt; enter requirement ID &gt;</t></is></c>')
        for c in range(10, cols + 1, 10):
            cells.append(f'<c r="{get_column_letter(c)}{r}" s="{style}">'
                         f'<v>{rng.randint(0, 999)}</v></c>')
        rows.append(f'<row r="{r}" s="{style}" customFormat="1">{"".join(cells)}</row>')
    data = "<sheetData>" + "".join(rows) + "</sheetData>"
    xml = re.sub(r"<sheetData>.*?</sheetData>|<sheetData/>", data, xml, count=1, flags=re.S)
    last = get_column_letter(cols)
    ext = (f'<extLst><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" '
           f'xmlns:x14="{X14}"><x14:conditionalFormattings>'
           f'<x14:conditionalFormatting xmlns:xm="{XM}"><x14:cfRule type="dataBar" '
           f'id="{{00000000-0000-0000-0000-00000000000{count % 10}}}"><x14:dataBar minLength="0" '
           f'maxLength="100"><x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/>'
           f'</x14:dataBar></x14:cfRule><xm:sqref>E2:E{count}</xm:sqref>'
           f'</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>')
    xml = xml.replace(f'<dimension ref="A1:{last}2"/>', f'<dimension ref="A1:{last}{count}"/>')
    return xml.replace("</worksheet>", ext + "</worksheet>")


def master_schedule(path: Path, blank_rows: int = 990) -> None:
    """The Integrated Master Schedule's shape: a project row, six phase rows with roll-ups,
    a row per key task of a 67-key-task programme, then formatted blank rows."""
    from synth import PHASE_WEIGHTS
    wb = Workbook()
    ws = wb.active
    ws.title = "Master Schedule"
    head = ["Phase", "Task Name", "Duration", "% Complete", "Start", "Finish", "Actual Start",
            "Actual Finish", "Predecessors", "Successors", "Resource Type"]
    for c, label in enumerate(head, 1):
        cell = ws.cell(1, c, label)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
    for c, width in enumerate((8, 60, 10, 12, 12, 12, 13, 13, 14, 14, 16), 1):
        ws.column_dimensions[get_column_letter(c)].width = width   # dates show whole
    ws.cell(2, 2, "<<Name of the Migration Project>>").font = Font(bold=True)
    row = 3
    for phase, weight in PHASE_WEIGHTS.items():
        ws.cell(row, 1, phase)
        ws.cell(row, 2, f"Phase {phase}: {PHASES[phase]}").font = Font(bold=True)
        first, phase_row = row + 1, row
        for k in range(1, weight + 1):
            row += 1
            ws.cell(row, 1, phase)
            ws.cell(row, 2, f"  {phase}.{k}  Key task {phase}.{k} ").alignment = \
                Alignment(indent=1)
            ws.row_dimensions[row].outlineLevel = 1
        ws.cell(phase_row, 3, f"=SUM(C{first}:C{row})")
        row += 1
    for r in range(row, row + blank_rows):
        for c in range(1, len(head) + 1):
            ws.cell(r, c).border = Border(bottom=Side(style="hair", color="BFBFBF"))
    wb.save(path)


# -- deck ------------------------------------------------------------------------------------
def status_deck(path: Path, slides: int = 13) -> None:
    """A 13-slide status deck: title, a major-activities table, a Gantt-style table, a legend."""
    rng = random.Random(13)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title = prs.slides.add_slide(prs.slide_layouts[0])
    title.shapes.title.text = "<<INSERT NAME OF PROGRAM>> Status Report"
    title.placeholders[1].text = "<<Insert Date>>"
    for s in range(1, slides):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        if s == 1:
            slide.shapes.title.text = "Major Activities Over Next 30-45 Days"
            _table(slide, ["Activity", "Owner", "% Complete", "Finish", "Status"], 6, rng)
        elif s == 2:
            slide.shapes.title.text = "Schedule"
            _table(slide, ["Task"] + [f"W{w}" for w in range(1, 13)], 8, rng)
        elif s == slides - 1:
            slide.shapes.title.text = "Legend"
            box = slide.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(6), Inches(3))
            for code, meaning in (("B", "Completed"), ("G", "On track"), ("Y", "Late"),
                                  ("R", "Critical"), ("P", "Upcoming")):
                para = box.text_frame.add_paragraph()
                para.text = f"{code}: {meaning}"
        else:
            slide.shapes.title.text = f"Workstream {s}: {_words(rng, 3).title()}"
            box = slide.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(12), Inches(5))
            for _ in range(6):
                box.text_frame.add_paragraph().text = _words(rng, 12)
    prs.save(path)


def _table(slide, head: list[str], rows: int, rng: random.Random) -> None:
    shape = slide.shapes.add_table(rows + 1, len(head), Inches(0.5), Inches(1.5), Inches(12.3),
                                   Inches(0.4) * (rows + 1))
    for c, label in enumerate(head):
        shape.table.cell(0, c).text = label
    for r in range(1, rows + 1):
        for c in range(len(head)):
            cell = shape.table.cell(r, c)
            cell.text = "" if c else f"<<Insert activity>>"
            for para in cell.text_frame.paragraphs:
                for run in para.runs:
                    run.font.size = PPt(11)


# -- Word plans ------------------------------------------------------------------------------
def word_plan(path: Path, title: str, pages: int) -> None:
    """A plan of about ``pages`` pages: header, footer, a TOC field, headings, tables."""
    rng = random.Random(pages)
    doc = Document()
    sec = doc.sections[0]
    sec.header.paragraphs[0].text = f"[Program Name] {title}"
    sec.footer.paragraphs[0].text = "[Name of Customer Agency] | Version [x.x]"
    doc.add_heading(title, 0)
    doc.add_paragraph("Prepared for [Name of Customer Agency]  |  [Day, Month, Year]")
    toc = doc.add_paragraph()
    toc._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=\'TOC \\o "1-3" \\h \\z \\u\'>'
        f'<w:r><w:t>Table of contents</w:t></w:r></w:fldSimple>'))
    approvals = doc.add_table(rows=3, cols=3, style="Table Grid")
    for c, label in enumerate(("Name and Title", "Signature", "Date")):
        approvals.cell(0, c).text = label
    approvals.cell(1, 0).text = "<<Insert Name>>, <<Insert Title>>"
    for section in range(1, pages // 2 + 1):
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(f"{section}. {_words(rng, 3).title()}", 1)
        for _ in range(4):
            doc.add_paragraph(_words(rng, 60)).runs[0].font.size = Pt(11)
        doc.add_heading(f"{section}.1 {_words(rng, 2).title()}", 2)
        table = doc.add_table(rows=8, cols=4, style="Table Grid")
        for c, label in enumerate(("Activity", "Owner", "Finish", "Status")):
            table.cell(0, c).text = label
        for r in range(1, 8):
            for c in range(4):
                table.cell(r, c).text = _words(rng, 4)
        doc.add_paragraph(_words(rng, 80))
    doc.save(path)


def build(out: Path) -> list[Path]:
    """Write every family-sized template into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    makers = {"workbook": business_needs, "schedule": master_schedule, "deck": status_deck}
    written = []
    for title, filename, shape in FAMILY:
        path = out / filename
        if shape.startswith("word"):
            word_plan(path, title, int(shape.split(":")[1]))
        else:
            makers[shape](path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build(Path(sys.argv[1] if len(sys.argv) > 1 else "family")):
        print(p, p.stat().st_size)
