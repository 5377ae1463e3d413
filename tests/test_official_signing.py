"""Official templates: a signing block's date stays the signer's blank, the document's date
is filled; judged by the blank's context, on a template built here and on the official CONOPS."""
from __future__ import annotations

import io
from pathlib import Path

from m3docs.ooxml.package import Template
from m3docs.plan import Deliverable, Document
from m3docs.renderers import render_document
from m3docs.annotate.blanks import classify

DATE = "November 24, 2026"   # examples/engagement.yaml's as_of, written out


def _fill(path: Path, engagement, playbook) -> tuple[bytes, list[str]]:
    doc = Document(Deliverable("d", "D", ("D",), path.name, "generic", path.suffix[1:]), 3,
                   "Version 1", tuple(playbook.key_tasks), ())
    out = render_document(doc, Template(path), engagement, playbook, official=True)
    return out.data, out.warnings


def signing_plan(path: Path) -> Path:
    """A cover date, a header date, and four signing blocks laid out as templates do."""
    import docx
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Status as of <<Insert Date>>"
    d.add_paragraph("Migration Plan for [Agency Name]")
    d.add_paragraph("[Day, Month, Year]")
    d.add_paragraph("Report date: <<Insert Date>>")
    d.add_paragraph("_______________________\t____________")
    d.add_paragraph("<<Insert Name>>\t\t<<Insert Date>>")             # name and date on one line
    d.add_paragraph("<<Insert Title>>")
    d.add_paragraph("Signature: ______________________")
    d.add_paragraph("Date: xx/xx/xxxx")                              # under the signature line
    d.add_paragraph("Date of approval: <<Signature Date>>")          # says so itself
    t = d.add_table(rows=2, cols=3)
    for i, text in enumerate(["Name", "Title", "Date"]):
        t.cell(0, i).text = text
    t.cell(1, 0).text, t.cell(1, 1).text, t.cell(1, 2).text = \
        "<<Insert Name>>", "<<Insert Title>>", "<<Insert Date>>"     # a row of the sign-off table
    h = d.add_table(rows=2, cols=3)
    for i, text in enumerate(["Version", "Date", "Author"]):
        h.cell(0, i).text = text
    h.cell(1, 0).text, h.cell(1, 1).text, h.cell(1, 2).text = \
        "1.0", "<<Insert Date>>", "<<Insert Name>>"                  # a history row: the document's
    d.save(path)
    return path


def test_signature_dates_stay_blank_document_dates_are_filled(playbook, engagement, tmp_path):
    import docx
    data, warnings = _fill(signing_plan(tmp_path / "plan.docx"), engagement, playbook)
    d = docx.Document(io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    (name, title), (name2, title2) = engagement.approvers[:2]
    assert d.sections[0].header.paragraphs[0].text == f"Status as of {DATE}"
    assert texts[1] == DATE and texts[2] == f"Report date: {DATE}"
    assert texts[4] == f"{name}\t\t<<Insert Date>>" and texts[5] == title
    assert texts[7] == "Date: xx/xx/xxxx"
    assert texts[8] == "Date of approval: <<Signature Date>>"
    assert [c.text for c in d.tables[0].rows[1].cells] == [name2, title2, "<<Insert Date>>"]
    assert d.tables[1].rows[1].cells[1].text == DATE
    assert not any("Date" in w for w in warnings), warnings


def test_signature_date_blank_rules():
    assert classify("Signature Date") == classify("Date of Approval") == "signature_date"
    assert classify("Date Signed") == "signature_date"
    assert classify("Insert Date") == classify("Report Date") == "date"


def test_official_conops_approval_dates_blank(official_dir, playbook, engagement):
    import docx
    path = next(official_dir.glob("*CONOPS*.docx"))
    data, _ = _fill(path, engagement, playbook)
    texts = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    names = [n for n, _ in engagement.approvers[:2]]
    signing = [t for t in texts if t.split("\t")[0] in names]
    assert len(signing) == 2 and all(t.endswith("<<Insert Date>>") for t in signing), signing
    assert DATE in texts   # the cover's date
