"""Builders of small templates in the style of the official M3 family (for tests only).

They mimic the conventions of the real templates: a Word plan cover with
``[Name of Customer Agency]`` / ``[Program Name]`` / ``[Day, Month, Year]`` split
across runs, an approval block, a footer ``Version 1.0 • Day, Month, Year``; an
Excel log with a ``<<Insert Date>>`` cover, a header row, an instruction row, a
data validation and an x14 conditional format; a macro workbook; a status deck.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

X14_CF = (
    '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:conditionalFormattings><x14:conditionalFormatting '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:cfRule type="expression" priority="2" id="{00000000-0000-0000-0000-000000000001}">'
    '<xm:f>$D4="R"</xm:f><x14:dxf><fill><patternFill><bgColor rgb="FFFF0000"/></patternFill>'
    '</fill></x14:dxf></x14:cfRule><xm:sqref>D4:D6</xm:sqref></x14:conditionalFormatting>'
    '</x14:conditionalFormattings></ext></extLst>')
VBA_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4


def png_bytes() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (79, 45, 127)).save(buf, "PNG")
    return buf.getvalue()


def _rewrite(data: bytes, edit) -> bytes:
    """Rewrite a zip, letting ``edit(name, bytes) -> bytes | None`` change parts."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = edit(info.filename, src.read(info.filename))
            if new is not None:
                dst.writestr(info.filename, new)
        extra = edit("", b"")
        if isinstance(extra, dict):
            for name, blob in extra.items():
                dst.writestr(name, blob)
    return out.getvalue()


def word_plan(path: Path) -> Path:
    """A plan with the family's cover (blanks split across runs), approvals and a task table."""
    import docx
    from docx.shared import Inches
    d = docx.Document()
    sec = d.sections[0]
    hp = sec.header.paragraphs[0]
    hp.add_run("Communications Plan – [Program ")
    hp.add_run("Name]")
    fp = sec.footer.paragraphs[0]
    fp.add_run("Version 1.0 • ")
    fp.add_run("Day, Month")
    fp.add_run(", Year")
    p = d.add_paragraph()
    p.add_run("[Name of Cus")
    p.add_run("tomer Agency]").bold = True
    d.add_paragraph("COMMUNICATIONS PLAN", style="Title")
    p = d.add_paragraph()
    p.add_run("[Program")
    p.add_run(" Name]").italic = True
    d.add_paragraph("Version 1.0")
    p = d.add_paragraph()
    p.add_run("[Day")
    p.add_run(", Month, Year]")
    d.add_picture(io.BytesIO(png_bytes()), width=Inches(1))
    d.add_paragraph("I have assessed the Communications Plan for the <<INSERT NAME OF PROGRAM>>.")
    for _ in range(2):
        d.add_paragraph("_______________________\t\t____________")
        p = d.add_paragraph()
        p.add_run("<<Insert ")
        p.add_run("Name>>\t\t<<Insert Date>>")
        d.add_paragraph("<<Insert Title>>")
    d.add_heading("Purpose", level=1)
    d.add_paragraph("<<Describe the communication objectives for the program.>>")
    d.add_heading("Communication Activities", level=1)
    table = d.add_table(rows=3, cols=5)
    for cell, text in zip(table.rows[0].cells, ("Task ID", "Activity", "Responsible",
                                                "Status", "Due Date")):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("Insert ID", "List the activity",
                                                "Name the owner", "Select status", "Enter date")):
        cell.text = text
    d.save(path)
    return path


def excel_log(path: Path, macro: bool = False, notes: bool = False) -> Path:
    """An action log with a ``<<Insert Date>>`` cover, a validation and an x14 format.

    With ``notes`` a sign-off block sits two rows below the log's blank rows (merged
    cells, formulas, a validation, a format, a link, a page break, a defined name), and
    a summary sheet and the cover refer to it."""
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["B3"] = "Action Item Log"
    cover["B4"] = "Version 1.0"
    cover["B5"] = "<<Insert Date>>"
    cover["B6"] = "<<INSERT NAME OF PROGRAM>>"
    cover["B8"] = "<<Describe how this log is maintained>>"
    log = wb.create_sheet("Log")
    log["A1"] = "Action Item Log"
    for col, text in enumerate(("ID", "Action Item", "Owner", "Status", "Due Date", "Comments"), 1):
        log.cell(row=2, column=col, value=text)
    for col, text in enumerate(("Enter the ID", "Describe the action", "Name the owner",
                                "Select B/G/Y/R/P", "Enter the due date", "Enter comments"), 1):
        log.cell(row=3, column=col, value=text)
    from openpyxl.styles import Font
    for r in (4, 5, 6):
        for col in range(1, 7):
            log.cell(row=r, column=col).font = Font(name="Arial", size=10)
    dv = DataValidation(type="list", formula1='"B,G,Y,R,P"', allow_blank=True)
    dv.add("D4:D6")
    log.add_data_validation(dv)
    log.print_area = "A1:F6"
    log.oddFooter.center.text = "[Program Name]"
    if notes:
        _notes_block(wb, log)
    buf = io.BytesIO()
    wb.save(buf)
    data = _rewrite(buf.getvalue(), lambda n, b: _add_x14(n, b))
    if macro:
        data = _make_macro(data)
    path.write_bytes(data)
    return path


def _notes_block(wb, log) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.pagebreak import Break
    log["A8"] = "Sign-off"
    log["A9"] = "Reviewed by"
    log["B9"] = "PMO Lead"
    log["B9"].hyperlink = "https://ussm.gsa.gov/qsmo/"
    log["A10"] = "Open items"
    from openpyxl.comments import Comment
    log["A9"].comment = Comment("Name the PMO lead who signs", "PMO")
    log["B10"] = "=COUNTA(B3:B6)"
    log["C10"] = "=B9"
    log.merge_cells("C8:E8")
    log["C8"] = "Keep this block below the log"
    dv = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True)
    dv.add("D9")
    log.add_data_validation(dv)
    log.conditional_formatting.add("A8:A10", CellIsRule(operator="equal", formula=['"Sign-off"'],
                                                        fill=PatternFill("solid", "FFFF00")))
    log.row_breaks.append(Break(id=8))
    wb.defined_names["SignOff"] = DefinedName("SignOff", attr_text="'Log'!$A$8:$E$10")
    summary = wb.create_sheet("Summary")
    summary["A1"] = "Reviewer"
    summary["B1"] = "=Log!B9"
    summary["B2"] = "='Log'!A3"
    summary["B3"] = '="Log!B9 is the reviewer"'
    summary["B4"] = "=COUNTA(Log!B3:B6)"
    wb["Cover"]["B12"] = "=Log!C8"


def _add_x14(name: str, blob: bytes) -> bytes | None:
    if name == "xl/worksheets/sheet2.xml":
        text = blob.decode()
        return text.replace("</worksheet>", X14_CF + "</worksheet>").encode()
    return blob if name else None


def _make_macro(data: bytes) -> bytes:
    def edit(name: str, blob: bytes):
        if name == "":
            return {"xl/vbaProject.bin": VBA_BYTES}
        if name == "[Content_Types].xml":
            text = blob.decode().replace(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            text = text.replace("</Types>", '<Default Extension="bin" ContentType='
                                "\"application/vnd.ms-office.vbaProject\"/></Types>")
            return text.encode()
        if name == "xl/_rels/workbook.xml.rels":
            return re.sub(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.'
                          b'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject'
                          b'.bin"/></Relationships>', blob)
        return blob
    return _rewrite(data, edit)


def status_deck(path: Path, milestones: bool = False) -> Path:
    """A one-slide deck: a title with ``xx/xx/xx``, an activities table, a status legend.

    With ``milestones`` a milestones table sits below the activities table, and the
    example rows' status cells are filled navy, as in the official deck.
    """
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "Major Activities (as of xx/xx/xx)"
    box = slide.shapes.add_textbox(Inches(0.5), Inches(6.8), Inches(6), Inches(0.4))
    para = box.text_frame.paragraphs[0]
    para.add_run().text = "[Name of Customer "
    para.add_run().text = "Agency] – [Program Name]"
    slide.shapes.add_picture(io.BytesIO(png_bytes()), Inches(12), Inches(6.8))
    rows, cols = 4, 6
    shape = slide.shapes.add_table(rows, cols, Inches(0.5), Inches(1.5), Inches(12), Inches(1.6))
    table = shape.table
    heads = ("IMS", "Activities", "Owner", "% Complete", "Projected Finish", "Status")
    guide = ("Insert IMS section", "List major project activities", "Name the activity owner",
             "Select 0%-100%", "Provide the date", "B")
    for c in range(cols):
        table.cell(0, c).text = heads[c]
        table.cell(1, c).text = guide[c]
        for r in range(1, rows):
            _font_size(table.cell(r, c), Pt(9))
    if milestones:
        shape.height = Inches(1.2)
        _navy(table.cell(1, 5))
        _milestones_table(slide)
    legend = slide.shapes.add_table(1, 2, Inches(0.5), Inches(6.2), Inches(2), Inches(0.3)).table
    legend.cell(0, 0).text = "G"
    legend.cell(0, 0).fill.solid()
    legend.cell(0, 0).fill.fore_color.rgb = RGBColor(0x00, 0xB0, 0x50)
    legend.cell(0, 1).text = "On track"
    prs.save(path)
    return path


def _font_size(cell, size) -> None:
    """Size a cell's paragraphs and their runs (runs carry the size PowerPoint shows)."""
    for p in cell.text_frame.paragraphs:
        p.font.size = size
        for run in p.runs:
            run.font.size = size


def _navy(cell) -> None:
    from pptx.dml.color import RGBColor
    cell.fill.solid()
    cell.fill.fore_color.rgb = RGBColor(0x00, 0x27, 0x76)


def _milestones_table(slide) -> None:
    """A caption row, a header and two example rows, between the activities and the legend."""
    from pptx.util import Inches, Pt
    table = slide.shapes.add_table(4, 6, Inches(0.5), Inches(3.4), Inches(12), Inches(1.2)).table
    table.cell(0, 0).merge(table.cell(0, 5))
    table.cell(0, 0).text = "MAJOR MILESTONES"
    heads = ("IMS", "Milestones", "Owner", "Projected Finish", "Status", "Notes")
    guide = ("Insert IMS section", "List major project milestones", "Name the milestone owner",
             "Provide the date", "B", "List any explanatory notes")
    for c in range(6):
        table.cell(1, c).text = heads[c]
        table.cell(2, c).text = guide[c]
        for r in range(2, 4):
            _font_size(table.cell(r, c), Pt(9))
    _navy(table.cell(2, 4))
