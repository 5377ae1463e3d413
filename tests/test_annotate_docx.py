"""The Word annotator: the tags it writes for an official-style template built here, and
`m3docs tag`'s output used as a tagged template (through the engagement's templates:) giving
the same document as the official template it came from."""
from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pytest
from lxml import etree

import m3docs
from m3docs.annotate import annotator_for
from m3docs.cli import main
from m3docs.ooxml.package import Template
from m3docs.ooxml.xml import qn
from m3docs.annotate.tables import ACTIVITIES_PLACED

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONOPS_FILE = "M3-Playbook-Target-State-CONOPS-Template.docx"
TITLE = "Target State Concept of Operations"


def _control(inner: str) -> etree._Element:
    """A block content control showing its placeholder text."""
    return etree.fromstring(
        f'<w:sdt xmlns:w="{W}"><w:sdtPr><w:tag w:val="agency"/><w:showingPlcHdr/></w:sdtPr>'
        f'<w:sdtContent><w:p><w:r><w:rPr><w:rStyle w:val="PlaceholderText"/></w:rPr>'
        f"<w:t>{escape(inner)}</w:t></w:r></w:p></w:sdtContent></w:sdt>")


def official_plan(path: Path) -> Path:
    """A plan in the family's style: a cover with blanks split across runs, a control, an
    engagement-specific blank, guidance, an approval block, an activity table with an
    instruction row and a Total row, a history table, and a header blank."""
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Conversion Plan – [Program Name]"
    p = d.add_paragraph()
    p.add_run("[Name of Cus").bold = True
    p.add_run("tomer Agency]")
    d.element.body.insert(1, _control("[Agency Name]"))
    d.add_paragraph("Bureau: [Bureau Name]")
    d.add_paragraph("[Day, Month, Year]")
    d.add_paragraph("<<Describe the conversion approach>>")
    for _ in range(2):
        d.add_paragraph("_______________________\t____________")
        d.add_paragraph("<<Insert Name>>\t\t<<Insert Date>>")
        d.add_paragraph("<<Insert Title>>")
    d.add_heading("Conversion Activities", 1)
    t = d.add_table(rows=4, cols=4)
    for i, text in enumerate(("Activity", "Owner", "Status", "Finish")):
        t.cell(0, i).text = text
    t.cell(1, 0).text, t.cell(1, 1).text = "List the activity", "Name the owner"
    t.cell(2, 0).text, t.cell(2, 1).text = "Example: kickoff", "PMO"
    t.cell(3, 0).text, t.cell(3, 1).text = "Total", "all activities"
    h = d.add_table(rows=2, cols=3)
    for i, text in enumerate(("Version", "Date", "Author")):
        h.cell(0, i).text = text
    d.save(path)
    return path


def _tagged(path: Path, placeholders: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
    return annotator_for("docx").annotate(Template(path), None, placeholders)


def _rows(table) -> list[list[str]]:
    return [[c.text for c in r.cells] for r in table.rows]


def test_blanks_become_fields_in_their_runs(tmp_path):
    data, notes = _tagged(official_plan(tmp_path / "plan.docx"), ("[Bureau Name]",))
    d = docx.Document(io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    first = d.paragraphs[0].runs[0]
    assert texts[0] == "{{ agency }}" and first.text == "{{ agency }}" and first.bold
    assert texts[1] == 'Bureau: {{ placeholders["[Bureau Name]"] }}'
    assert texts[2] == "{{ date }}"
    assert texts[3] == "<<Describe the conversion approach>>"          # guidance stays
    assert texts[5] == '{{ approvers[0].name or "<<Insert Name>>" }}\t\t<<Insert Date>>'
    assert texts[6] == '{{ approvers[0].title or "<<Insert Title>>" }}'
    assert texts[8] == '{{ approvers[1].name or "<<Insert Name>>" }}\t\t<<Insert Date>>'
    assert d.sections[0].header.paragraphs[0].text == "Conversion Plan – {{ program }}"
    assert "word/header1.xml: [Program Name] -> {{ program }}" in notes
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    (sdt,) = body.iter(qn("w:sdt"))
    assert "".join(sdt.itertext()) == "{{ agency }}"
    assert sdt.find(f"{qn('w:sdtPr')}/{qn('w:showingPlcHdr')}") is None
    assert b"PlaceholderText" not in etree.tostring(sdt)


def test_tables_by_header_become_row_loops(tmp_path):
    data, notes = _tagged(official_plan(tmp_path / "plan.docx"))
    d = docx.Document(io.BytesIO(data))
    rows = _rows(d.tables[0])
    assert rows[0] == ["Activity", "Owner", "Status", "Finish"]
    assert [r[0] for r in rows[1:3]] == ["{%tr for kt in key_tasks if kt.activities %}",
                                        "{%tr for a in kt.activities %}"]
    assert rows[3] == ["{{ a.text }}", "{{ kt.owner or a.owner or a.party }}",
                       "{{ a.status }}", "{{ a.finish_mdyyyy }}"]
    assert [r[0] for r in rows[4:]] == ["{%tr endfor %}", "{%tr else %}", "List the activity",
                                       "Example: kickoff", "{%tr endfor %}", "Total"]
    history = _rows(d.tables[1])
    assert history[1][0] == "{%tr for h in history %}"
    assert history[2] == ["{{ h.version }}", "{{ h.date }}", "{{ h.author }}"]
    assert [r[0] for r in history[3:]] == ["{%tr else %}", "", "{%tr endfor %}"]
    assert any("table 1 (Activity, Owner, Status, Finish)" in n for n in notes)


def test_context_section_appended_and_untouched_parts_kept(tmp_path):
    path = official_plan(tmp_path / "plan.docx")
    data, _ = _tagged(path)
    texts = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    start = texts.index("M3 Key Task Context")
    assert texts[start + 2] == "{%p for kt in key_tasks %}"
    assert texts[start + 3] == "{{ kt.id }} {{ kt.name }}"
    assert ACTIVITIES_PLACED in texts[start:]      # the template's table took the activities
    assert texts[-1] == "{%p endfor %}"
    template = Template(path)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in template.raw:
            if name not in ("word/document.xml", "word/header1.xml"):
                assert z.read(name) == template.bytes_of(name), name
    assert m3docs.check_template(_write(tmp_path / "t.docx", data)).ok


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- m3docs tag, and the tagged copy in use -------------------------------------------------
def _official_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "official"
    folder.mkdir()
    official_plan(folder / CONOPS_FILE)
    return folder


def test_tag_output_used_as_a_tagged_template_gives_the_same_document(
        playbook, engagement, tmp_path, capsys):
    folder = _official_folder(tmp_path)
    tagged = tmp_path / "conops-tagged.docx"
    assert main(["tag", str(folder / CONOPS_FILE), "--out", str(tagged)]) == 0
    assert "{{ agency }}" in capsys.readouterr().out
    direct = m3docs.render(TITLE, playbook, engagement, tmp_path / "a.docx", [folder])
    mine = dataclasses.replace(engagement, templates={TITLE: str(tagged)})
    through = m3docs.render(TITLE, playbook, mine, tmp_path / "b.docx")
    assert direct["official"] and through["official"]
    assert direct["template"] == CONOPS_FILE and through["template"] == tagged.name
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    d = docx.Document(tmp_path / "b.docx")
    assert d.paragraphs[0].text == engagement.agency and d.paragraphs[0].runs[0].bold
    kt = playbook.key_task("3.14")
    assert [r[0] for r in _rows(d.tables[0])[1:]] == \
        [a.text.plain for a in kt.activities] + ["Total"]


def test_a_corrected_tagged_copy_is_filled_as_it_is(playbook, engagement, tmp_path):
    tagged = tmp_path / "conops-tagged.docx"
    m3docs.tag_template(official_plan(tmp_path / "plan.docx"), tagged)
    d = docx.Document(tagged)
    d.paragraphs[2].runs[0].text = "{{ date_mdyyyy }}"     # the user prefers 11/24/2026
    d.save(tagged)
    mine = dataclasses.replace(engagement, templates={TITLE: str(tagged)})
    m3docs.render(TITLE, playbook, mine, tmp_path / "out.docx")
    out = docx.Document(tmp_path / "out.docx")
    assert out.paragraphs[2].text == engagement.as_of.strftime("%m/%d/%Y")
    with pytest.raises(m3docs.M3DocsError, match="already a tagged template"):
        m3docs.tag_template(tagged, tmp_path / "again.docx")
    assert not (tmp_path / "again.docx").exists()


def test_every_format_can_be_tagged_and_a_tagged_template_is_refused(tmp_path):
    """`m3docs tag` infers tags for workbooks and decks too; a template that already holds
    tags (ours) is refused with one line, and nothing is written."""
    from openpyxl import Workbook
    from pptx import Presentation
    from m3docs.templates import own_templates_dir
    book = Workbook()
    book.active["A1"] = "Program: [Program Name]"
    book.save(tmp_path / "book.xlsx")
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "<<INSERT NAME OF PROGRAM>>"
    deck.save(tmp_path / "deck.pptx")
    for name in ("book.xlsx", "deck.pptx"):
        assert m3docs.tag_template(tmp_path / name, tmp_path / f"tagged-{name}")
        assert "program" in m3docs.check_template(tmp_path / f"tagged-{name}").names
    for ours in ("rtm.xlsx", "status.pptx", "conops.docx"):
        with pytest.raises(m3docs.M3DocsError, match="already a tagged template"):
            m3docs.tag_template(own_templates_dir() / ours, tmp_path / f"out-{ours}")
        assert not (tmp_path / f"out-{ours}").exists()
