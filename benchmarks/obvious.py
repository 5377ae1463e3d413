"""The obvious approach, for comparison: python-docx / openpyxl / python-pptx per document.

Per document: open the template with the library, fill the same content m3docs
writes (title and cover facts; per key task its objective, activities with
their owners, inputs, outputs, stakeholders with the people named, best
practices; requirements in a traceability matrix; an approvals table) through
the public API, and save.
"""
from __future__ import annotations

from pathlib import Path

from m3docs.engagement import Engagement
from m3docs.playbook.model import KeyTask


def _facts(entry: dict, eng: Engagement) -> list[tuple[str, str]]:
    return [("Agency", eng.agency), ("Program", eng.program), ("Provider", eng.provider),
            ("Version", f"{eng.version} ({entry['version']})"),
            ("Date", eng.as_of.strftime("%B %d, %Y"))]


def _activity_rows(kt: KeyTask, eng: Engagement) -> list[tuple[str, ...]]:
    return [(kt.id, a.text.plain, ", ".join(p.label for p in a.parties), eng.owner(a))
            for a in kt.activities]


def _stakeholder_rows(kt: KeyTask, eng: Engagement) -> list[tuple[str, str, str]]:
    return [(s.role.plain, p.label, eng.person(s.role.plain, p))
            for s in kt.stakeholders for p in s.parties]


def fill(entry: dict, tasks: list[KeyTask], eng: Engagement, template: Path, out: Path) -> None:
    {"docx": fill_docx, "xlsx": fill_xlsx, "pptx": fill_pptx}[entry["format"]](
        entry, tasks, eng, template, out)


def _table(doc, rows: list[tuple[str, ...]], header: tuple[str, ...]):
    table = doc.add_table(rows=1, cols=len(header))
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text
    return table


def fill_docx(entry: dict, tasks: list[KeyTask], eng: Engagement, template: Path,
              out: Path) -> None:
    import docx
    doc = docx.Document(str(template))
    doc.core_properties.title = entry["title"]
    doc.add_heading(entry["title"], 0)
    for label, value in _facts(entry, eng):
        doc.add_paragraph(f"{label}: {value}")
    for kt in tasks:
        doc.add_heading(f"{kt.id} {kt.name}", 1)
        doc.add_paragraph(kt.objective.plain)
        _table(doc, [r[1:] for r in _activity_rows(kt, eng)], ("Activity", "Party", "Owner"))
        doc.add_heading("Inputs and outputs", 2)
        for ref in kt.inputs:
            doc.add_paragraph(f"Input: {ref.title.plain}")
        for ref in kt.outputs:
            doc.add_paragraph(f"Output: {ref.title.plain}")
        _table(doc, _stakeholder_rows(kt, eng), ("Role", "Party", "Name"))
        for practice in kt.best_practices:
            doc.add_paragraph(practice.plain)
    doc.add_heading("Approvals", 1)
    _table(doc, [(name, title, "") for name, title in eng.approvers],
           ("Name", "Title", "Signature"))
    doc.save(str(out))


def fill_xlsx(entry: dict, tasks: list[KeyTask], eng: Engagement, template: Path,
              out: Path) -> None:
    import openpyxl
    wb = openpyxl.load_workbook(str(template))
    ws = wb.worksheets[0]
    ws.append([entry["title"]])
    for label, value in _facts(entry, eng):
        ws.append([label, value])
    ws.append(["Key task", "Activity", "Party", "Owner", "Status"])
    for req in eng.requirements:
        ws.append([req.id, req.description, req.process_area, req.priority])
    for kt in tasks:
        status = eng.task_status(kt.id).status or ""
        for values in _activity_rows(kt, eng):
            ws.append(list(values) + [status])
    wb.save(str(out))


def fill_pptx(entry: dict, tasks: list[KeyTask], eng: Engagement, template: Path,
              out: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches
    prs = Presentation(str(template))
    layouts = prs.slide_layouts
    title = prs.slides.add_slide(layouts[0])
    if title.shapes.title is not None:
        title.shapes.title.text = entry["title"]
    box = title.shapes.add_textbox(Inches(0.5), Inches(4), Inches(9), Inches(2)).text_frame
    box.text = "\n".join(f"{k}: {v}" for k, v in _facts(entry, eng))
    layout = layouts[min(5, len(layouts) - 1)]
    for kt in tasks:
        rows = _activity_rows(kt, eng)
        for start in range(0, max(len(rows), 1), 8):
            slide = prs.slides.add_slide(layout)
            if slide.shapes.title is not None:
                slide.shapes.title.text = f"{kt.id} {kt.name}"
            chunk = rows[start:start + 8]
            shape = slide.shapes.add_table(len(chunk) + 1, 3, Inches(0.5), Inches(1.5),
                                           Inches(9), Inches(0.4) * (len(chunk) + 1))
            for c, text in enumerate(("Activity", "Party", "Owner")):
                shape.table.cell(0, c).text = text
            for r, values in enumerate(chunk, start=1):
                for c, text in enumerate(values[1:]):
                    shape.table.cell(r, c).text = text
    prs.save(str(out))


def tracker(documents: list[dict], eng: Engagement, out: Path) -> None:
    """The deliverables tracker as a new openpyxl workbook."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deliverables"
    ws.append(["Deliverable", "Phase", "Version", "Format", "Key tasks", "File"])
    for d in documents:
        ws.append([d["title"], d["phase"], d["version"], d["format"],
                   ", ".join(d["outputs_of"] + d["inputs_of"]), d["path"]])
    ws2 = wb.create_sheet("Engagement")
    for label, value in (("Agency", eng.agency), ("Program", eng.program)):
        ws2.append([label, value])
    wb.save(str(out))
