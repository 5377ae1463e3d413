"""Filling official M3 templates in place: the three shared ones and family-style ones."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from m3docs.ooxml.package import Template
from m3docs.plan import Deliverable, Document
from m3docs.playbook.loader import load_playbook
from m3docs.renderers import render_document
from m3docs.ooxml.package import main_part
from m3docs.annotate.blanks import classify

from oracles import leftover_fields
from fixtures_official import VBA_BYTES, excel_log, status_deck, word_plan

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "corpus" / "gsa-m3" / "assets" / "files"
CONOPS = "M3-Playbook-Target-State-CONOPS-Template.docx"
RTM = "M3-Playbook-Requirements-Traceability-Matrix-Template.xlsx"
DECK = "M3-Playbook-Status-Report-Dashboard-Template.pptx"
# Parts a fill may rewrite; every other part must come out byte-identical.
EDITABLE = re.compile(r"^(\[Content_Types\]\.xml|docProps/(app|core)\.xml|word/(document|header\d*|footer\d*|footnotes|"
                      r"endnotes)\.xml|xl/(workbook|sharedStrings|styles)\.xml|xl/worksheets/"
                      r"sheet\d+\.xml|xl/_rels/workbook\.xml\.rels|xl/tables/table\d+\.xml|"
                      r"ppt/presentation\.xml|ppt/_rels/presentation\.xml\.rels|ppt/slides/"
                      r"slide\d+\.xml|ppt/slides/_rels/slide\d+\.xml\.rels|"
                      # the engine names slides in show order: a notes part's link to a
                      # slide that moved down (after continuation slides) follows it
                      r"ppt/notesSlides/_rels/notesSlide\d+\.xml\.rels)$")


def _doc(playbook, fmt: str, name: str) -> Document:
    kt = playbook.key_task("3.14")
    return Document(Deliverable("d", "D", ("D",), name, "generic", fmt), 3, "Version 1",
                    (kt,), ())


def _fill(path: Path, playbook, engagement) -> tuple[Template, bytes, list[str]]:
    template = Template(path)
    result = render_document(_doc(playbook, path.suffix[1:], path.name), template, engagement,
                             playbook, official=True)
    return template, result.data, result.warnings


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _all_text(parts: dict[str, bytes]) -> str:
    out = []
    for name, blob in parts.items():
        if name.endswith(".xml") and not name.startswith("customXml"):
            root = etree.fromstring(blob)
            out += [t.text or "" for t in root.iter() if isinstance(t.tag, str)
                    and etree.QName(t).localname == "t"]
            out += [el.text or "" for el in root.iter() if isinstance(el.tag, str)
                    and etree.QName(el).localname in ("oddHeader", "oddFooter")]
    return "\n".join(out)


def _paragraph_texts(parts: dict[str, bytes]) -> str:
    """Text joined per paragraph, so blanks split across runs are seen whole."""
    out = []
    for name, blob in parts.items():
        if not name.endswith(".xml") or name.startswith("customXml"):
            continue
        root = etree.fromstring(blob)
        for el in root.iter():
            if isinstance(el.tag, str) and etree.QName(el).localname in ("p", "si", "is"):
                out.append("".join(t.text or "" for t in el.iter() if isinstance(t.tag, str)
                                   and etree.QName(t).localname == "t"))
    return "\n".join(out)


def _assert_untouched_identical(template: Template, data: bytes) -> None:
    out = _parts(data)
    for name in template.raw:
        assert name in out, f"part {name} lost"
        if not EDITABLE.match(name):
            assert out[name] == template.bytes_of(name), f"part {name} changed"


def _count(blob: bytes, tag: str) -> int:
    return len(re.findall(rb"<(?:\w+:)?" + tag.encode() + rb"[\s/>]", blob))


def _counts(parts: dict[str, bytes], tags: tuple[str, ...],
            only: dict | None = None) -> dict[str, int]:
    """Tag counts over the parts (only those also in ``only``, when given)."""
    return {t: sum(_count(b, t) for n, b in parts.items()
                   if n.endswith(".xml") and (only is None or n in only)) for t in tags}


def _no_blanks_left(parts: dict[str, bytes]) -> None:
    text = _paragraph_texts(parts)
    assert leftover_fields(text) == []


def _libreoffice_opens(data: bytes, suffix: str, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / f"filled{suffix}"
    src.write_bytes(data)
    run = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                         capture_output=True, timeout=240)
    pdf = tmp_path / "filled.pdf"
    assert run.returncode == 0 and pdf.exists() and pdf.stat().st_size > 1000, run.stderr


# -- the rules --------------------------------------------------------------------------------
@pytest.mark.parametrize("inner,field", [
    ("Name of Customer Agency", "agency"), ("Agency Name", "agency"),
    ("Program Name", "program"), ("INSERT NAME OF PROGRAM", "program"),
    ("Insert Program/Project Name", "program"), ("Project Title", "program"),
    ("Day, Month, Year", "date"), ("Insert Date", "date"), ("Insert Name", "approver_name"),
    ("Insert Title", "approver_title"), ("Version Number", "version"),
    (" Describe the purpose of the program name change", None), ("< enter CR ID >", None),
    ("Target Go-Live Date", None), ("Insert the program mission statement", None)])
def test_blank_rules(inner, field):
    assert classify(inner) == field


def test_main_part_of_shared_templates():
    if not SHARED.exists():
        pytest.skip("shared corpus absent")
    assert main_part(Template(SHARED / CONOPS))[0] == "word/document.xml"
    assert main_part(Template(SHARED / RTM))[0] == "xl/workbook.xml"
    assert main_part(Template(SHARED / DECK))[0] == "ppt/presentation.xml"


# -- the three shared templates ---------------------------------------------------------------
def _shared(name: str) -> Path:
    if not (SHARED / name).exists():
        pytest.skip("shared corpus absent")
    return SHARED / name


def test_conops(playbook, engagement, tmp_path):
    import docx
    template, data, warnings = _fill(_shared(CONOPS), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    assert parts["word/media/image1.png"] == template.bytes_of("word/media/image1.png")
    before = {n: template.bytes_of(n) for n in template.raw}
    tags = ("sectPr", "headerReference", "footerReference", "drawing", "sdt")
    assert _counts(parts, tags, before) == _counts(before, tags)
    names = lambda blob: set(re.findall(rb'w:bookmarkStart [^>]*w:name="([^"]+)"', blob))  # noqa
    main = "word/document.xml"
    assert names(before[main]) < names(parts[main])   # kept, and the added headings' anchors
    d = docx.Document(io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    assert texts[1] == engagement.agency
    assert engagement.program in texts
    assert "November 24, 2026" in texts
    assert any("the Financial Management Modernization." in t for t in texts)
    names = [n for n, _ in engagement.approvers[:2]]
    assert [t for t in texts if t.split("\t")[0] in names] != []
    assert any(t.startswith("<<Describe") or t.startswith("<< Describe") for t in texts)
    footer = d.sections[0].footer.paragraphs[0].text
    assert "November 24, 2026" in footer and "Day, Month" not in footer
    history = d.tables[0]
    assert [c.text for c in history.rows[1].cells][:2] == ["1.0", "November 24, 2026"]
    assert texts[-1] or True
    body = "\n".join(texts)
    assert "M3 Key Task Context" in body and "3.14 Finalize Target State" in body
    activities = d.tables[-1]
    assert activities.rows[1].cells[0].text == "3.14.1"
    assert len(activities.rows) == 1 + len(playbook.key_task("3.14").activities)
    assert warnings == []


def test_rtm(playbook, engagement):
    import openpyxl
    template, data, _ = _fill(_shared(RTM), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    for name in template.raw:
        if name.startswith(("xl/externalLinks/", "xl/printerSettings/", "customXml/")):
            assert parts[name] == template.bytes_of(name)
    before = {n: template.bytes_of(n) for n in template.raw}
    tags = ("conditionalFormatting", "cfRule", "dataValidation", "definedName", "pageSetup",
            "headerFooter", "mergeCell", "externalReference", "sheetProtection")
    assert _counts(parts, tags, before) == _counts(before, tags)
    rtm = etree.fromstring(parts["xl/worksheets/sheet2.xml"])
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    acts = playbook.key_task("3.14").activities
    last = 2 + len(engagement.requirements) + len(acts)   # header in row 2
    sqrefs = {dv.get("sqref") for dv in rtm.iterfind(".//x:dataValidation", ns)}
    assert f"J3:J{last}" in sqrefs and f"M3:M{last}" in sqrefs
    assert all(c.get("t") != "str" and c.find("x:f", ns) is None
               for c in rtm.iterfind(".//x:c", ns))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["RTM"]
    assert ws["A3"].value == "BR-001" and ws["A4"].value == "BR-002"
    assert ws["D3"].value == engagement.requirements[0].description
    assert ws["B3"].value == "Budget Execution" and ws["J4"].value == "Medium"
    assert ws["L3"].value is None  # template example cleared: requirements, then activities
    assert [ws.cell(r, 1).value for r in range(5, last + 1)] == \
        [f"3.14-{a.number:02d}" for a in acts]
    assert ws.cell(5, 4).value == acts[0].text.plain and ws.cell(last + 1, 1).value is None
    assert wb["Cover"]["B5"].value == "November 24, 2026"
    assert wb["CR"]["A2"].value == "< enter Requirements ID >"  # not a requirements table
    assert wb.sheetnames[-1] == "Key Task Context"
    context = [c for row in wb["Key Task Context"].iter_rows(values_only=True) for c in row if c]
    assert "3.14.1" in context and any(str(c).startswith("Review Provider Agreement")
                                       for c in context)


def test_status_deck(playbook, engagement):
    from pptx import Presentation
    template, data, _ = _fill(_shared(DECK), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    before = {n: template.bytes_of(n) for n in template.raw}
    for tag in ("pic", "sldLayoutId", "sldMasterId"):
        assert _counts(parts, (tag,)) == _counts(before, (tag,))
    prs = Presentation(io.BytesIO(data))
    slides = list(prs.slides)
    assert len(slides) == 5  # the activities continue on a copy of slide 1
    acts = [a.text.plain for a in playbook.key_task("3.14").activities]
    seen: list[str] = []
    for slide in slides[:2]:
        table = next(s.table for s in slide.shapes if s.has_table and
                     s.table.cell(0, 0).text == "MAJOR ACTIVITIES")
        for r in range(2, len(table.rows)):
            seen.append(table.cell(r, 1).text)
            assert table.cell(r, 2).text == "Jordan Avery / Riley Chen"
            assert table.cell(r, 3).text == "50%"
            assert table.cell(r, 6).text == "G"
    assert seen == acts
    assert "(as of 11/24/26)" in slides[0].shapes.title.text
    assert slides[1].shapes.title.text.endswith("(continued)")
    # The slide titles the deck's properties list are filled as the slides are.
    assert "as of xx/xx/xx" in template.bytes_of("docProps/app.xml").decode()
    app = parts["docProps/app.xml"].decode()
    assert "xx/xx/xx" not in app and "as of 11/24/26" in app
    notes_before = [n for n in template.raw if n.startswith("ppt/notesSlides/notesSlide")]
    assert all(parts[n] == template.bytes_of(n) for n in notes_before)
    texts = _all_text(parts)
    assert "Retained-organization design depends on the workforce assessment" in texts
    assert "Provider Agreement reviewed; in-scope processes agreed" in texts


def test_shared_open_in_libreoffice(playbook, engagement, tmp_path):
    for name in (CONOPS, RTM, DECK):
        path = _shared(name)
        _, data, _ = _fill(path, playbook, engagement)
        _libreoffice_opens(data, path.suffix, tmp_path / path.suffix[1:])


# -- family-style templates built here ------------------------------------------------------
def test_word_plan_family(playbook, engagement, tmp_path):
    import docx
    template, data, _ = _fill(word_plan(tmp_path / "plan.docx"), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    media = [n for n in template.raw if n.startswith("word/media/")]
    assert media and all(parts[n] == template.bytes_of(n) for n in media)
    d = docx.Document(io.BytesIO(data))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == engagement.agency and texts[2] == engagement.program
    assert d.paragraphs[0].runs[1].bold  # the run that held the blank keeps its format
    assert "November 24, 2026" in texts
    assert d.sections[0].header.paragraphs[0].text.endswith(engagement.program)
    assert d.sections[0].footer.paragraphs[0].text == "Version 1.0 • November 24, 2026"
    names = [t for t in texts if t.split("\t")[0] in dict(engagement.approvers)]
    assert len(names) == 2
    assert engagement.approvers[0][1] in texts and engagement.approvers[1][1] in texts
    assert "<<Describe the communication objectives for the program.>>" in texts
    table = d.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["Task ID", "Activity", "Responsible", "Status", "Due Date"]
    assert rows[1] == ["3.14.1", playbook.key_task("3.14").activities[0].text.plain,
                       "Jordan Avery / Riley Chen", "G", "12/15/2026"]
    assert len(rows) == 1 + 7
    assert "M3 Key Task Context" in texts and len(d.tables) == 1  # the table took the activities


@pytest.mark.parametrize("macro", [False, True])
def test_excel_log_family(playbook, engagement, tmp_path, macro):
    import openpyxl
    suffix = ".xlsm" if macro else ".xlsx"
    template, data, _ = _fill(excel_log(tmp_path / f"log{suffix}", macro), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    if macro:
        assert parts["xl/vbaProject.bin"] == VBA_BYTES
        assert b"macroEnabled.main+xml" in parts["[Content_Types].xml"]
        assert b"vbaProject" in parts["xl/_rels/workbook.xml.rels"]
    before = {n: template.bytes_of(n) for n in template.raw}
    tags = ("x14:conditionalFormatting", "x14:cfRule", "dataValidation", "definedName",
            "pageMargins", "headerFooter")
    assert _counts(parts, tags, before) == _counts(before, tags)
    sheet = parts["xl/worksheets/sheet2.xml"].decode()
    assert "<xm:sqref>D3:D9</xm:sqref>" in sheet
    assert 'sqref="D3:D9"' in sheet
    wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=macro)
    assert wb["Cover"]["B5"].value == "November 24, 2026"
    assert wb["Cover"]["B6"].value == engagement.program
    assert wb["Cover"]["B8"].value == "<<Describe how this log is maintained>>"
    log = wb["Log"]
    acts = playbook.key_task("3.14").activities
    assert [log.cell(r, 2).value for r in range(3, 3 + len(acts))] == [a.text.plain for a in acts]
    assert log["A3"].value == "3.14.1" and log["D3"].value == "G" and log["E3"].value == "12/15/2026"
    assert log["B3"].font.name == "Arial"  # cloned from the styled blank row
    assert "'Log'!$A$1:$F$9" in parts["xl/workbook.xml"].decode()
    assert engagement.program in log.oddFooter.center.text


def test_excel_rows_below_move_down(playbook, engagement, tmp_path):
    """A log with too few blank rows and a block below: every row is written, and the block
    and all that points at it move down (nothing is cut, nothing is overwritten)."""
    import openpyxl
    template, data, warnings = _fill(excel_log(tmp_path / "log.xlsx", notes=True),
                                     playbook, engagement)
    assert not [w for w in warnings if "fit" in w]
    parts = _parts(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    log = wb["Log"]
    acts = playbook.key_task("3.14").activities
    last = 2 + len(acts)
    assert [log.cell(r, 2).value for r in range(3, last + 1)] == [a.text.plain for a in acts]
    first = last + 2              # the block kept its blank row above it
    moved = first - 8
    assert moved > 0
    assert [log.cell(first + i, 1).value for i in range(3)] == ["Sign-off", "Reviewed by",
                                                                "Open items"]
    assert log.cell(first + 1, 2).value == "PMO Lead"
    assert log.cell(first + 1, 2).hyperlink.target == "https://ussm.gsa.gov/qsmo/"
    assert log.cell(first + 1, 1).comment.text == "Name the PMO lead who signs"
    vml = next(v for k, v in parts.items() if k.endswith(".vml")).decode()
    assert re.search(rf"<(\w+:)?Row>{first}</(\w+:)?Row>", vml)   # the note's shape: zero-based
    assert log.cell(first + 2, 3).value == f"=B{first + 1}"
    assert log.cell(first + 2, 2).value == f"=COUNTA(B3:B{last})"   # a total grows with the log
    assert f"C{first}:E{first}" in {str(m) for m in log.merged_cells.ranges}
    assert log.cell(first, 3).value == "Keep this block below the log"
    assert [str(r.sqref) for r in log.conditional_formatting] == [f"A{first}:A{first + 2}"]
    assert f"D{first + 1}" in {str(v.sqref) for v in log.data_validations.dataValidation}
    assert [b.id for b in log.row_breaks.brk] == [first]
    assert wb.defined_names["SignOff"].attr_text == f"'Log'!$A${first}:$E${first + 2}"
    summary = wb["Summary"]
    assert summary["B1"].value == f"=Log!B{first + 1}"
    assert summary["B2"].value == "='Log'!A3"
    assert summary["B3"].value == '="Log!B9 is the reviewer"'   # text, not a reference
    assert summary["B4"].value == f"=COUNTA(Log!B3:B{last})"
    assert wb["Cover"]["B12"].value == f"=Log!C{first}"
    assert b"calcChain" not in parts["[Content_Types].xml"]
    sheet = parts["xl/worksheets/sheet2.xml"].decode()
    assert f'<dimension ref="A1:F{first + 2}"/>' in sheet


def test_deck_family(playbook, engagement, tmp_path):
    from pptx import Presentation
    template, data, _ = _fill(status_deck(tmp_path / "deck.pptx"), playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    _assert_untouched_identical(template, data)
    media = [n for n in template.raw if n.startswith("ppt/media/")]
    assert media and all(parts[n] == template.bytes_of(n) for n in media)
    prs = Presentation(io.BytesIO(data))
    slides = list(prs.slides)
    assert len(slides) >= 2
    rows = []
    for slide in slides:
        assert "(as of 11/24/26)" in slide.shapes.title.text
        for shape in slide.shapes:
            if shape.has_table and shape.table.cell(0, 0).text == "IMS":
                table = shape.table
                rows += [[table.cell(r, c).text for c in range(6)]
                         for r in range(1, len(table.rows))]
                status = table.cell(1, 5)
                assert status.fill.fore_color.rgb == (0x00, 0xB0, 0x50)
    acts = playbook.key_task("3.14").activities
    assert [r[1] for r in rows] == [a.text.plain for a in acts]
    assert rows[0] == ["3.14.1", acts[0].text.plain, "Jordan Avery / Riley Chen", "50%",
                       "12/15/2026", "G"]
    box = [s.text_frame.text for s in slides[0].shapes if s.has_text_frame and "–" in
           s.text_frame.text]
    assert box == [f"{engagement.agency} – {engagement.program}"]


# -- tables stay on their slides; status colours only for a status ----------------------------
def _deck_doc(tasks, name: str) -> Document:
    return Document(Deliverable("status", "Status Report", ("Status Report",), name, "generic",
                                "pptx"), 1, "Version 1", tuple(tasks), ())


def _grown_tables(slide, captions: set[str]) -> list:
    return [s for s in slide.shapes if s.has_table and s.table.cell(0, 0).text in captions]


def _assert_tables_fit(prs, captions: set[str]) -> None:
    """Every filled table ends inside the slide and above every shape below its top."""
    for n, slide in enumerate(prs.slides, 1):
        for table in _grown_tables(slide, captions):
            bottom = table.top + sum(row.height for row in table.table.rows)
            assert table.height == bottom - table.top
            for row in table.table.rows:   # a row's height is what it will show
                shown = [tc for tc in row._tr.tc_lst if not (tc.get("hMerge") or tc.get("vMerge"))]
                assert row.height >= max(_text_floor(tc) for tc in shown), n
            assert bottom <= prs.slide_height, n
            for other in slide.shapes:
                below = other.shape_id != table.shape_id and other.top >= table.top
                if below and other.left < table.left + table.width and \
                        table.left < other.left + other.width:
                    assert bottom <= other.top, (n, table.table.cell(0, 0).text, other.name)


def _text_floor(tc) -> int:
    """Least height a cell's text takes: one line per paragraph at its size (18 pt if unsized)."""
    ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    pr = tc.find("a:tcPr", ns)
    total = sum(int(pr.get(m, "45720")) if pr is not None else 45720 for m in ("marT", "marB"))
    for p in tc.findall("a:txBody/a:p", ns):
        sizes = [el.get("sz") for el in p.findall("a:r/a:rPr", ns) + p.findall("a:endParaRPr", ns)
                 if el.get("sz")]
        total += int(int(sizes[0] if sizes else 1800) / 100 * 1.2 * 12700)
    return total


def _column(table, header: str) -> int:
    heads = [table.table.cell(r, c).text.strip() for r in range(2)
             for c in range(len(table.table.columns))]
    return heads.index(header) % len(table.table.columns)


def _rows(prs, caption: str, first: int, header: str, key: str) -> list[tuple[str, str, object]]:
    """(key column text, header column text, status cell) of a table's rows, over all slides."""
    out = []
    for slide in prs.slides:
        for table in _grown_tables(slide, {caption}):
            k, c, st = _column(table, key), _column(table, header), _column(table, "Status")
            out += [(table.table.cell(r, k).text, table.table.cell(r, c).text,
                     table.table.cell(r, st)) for r in range(first, len(table.table.rows))]
    return out


def _status_rgb(cell) -> str | None:
    return str(cell.fill.fore_color.rgb) if cell.fill.type is not None else None


def test_blanks_in_a_layout_or_master_are_filled(playbook, engagement, tmp_path):
    from pptx import Presentation
    path = status_deck(tmp_path / "deck.pptx")
    prs = Presentation(path)
    slide, layout = prs.slides[0], prs.slides[0].slide_layout
    for target, text in ((layout, "[Agency Name] draft"),
                         (prs.slide_master, "Prepared for [Program Name]")):
        box = slide.shapes.add_textbox(0, 0, 2000000, 300000)   # moved onto the design
        box.text_frame.text = text
        target.shapes._spTree.append(box._element)
    prs.save(path)
    template, data, _ = _fill(path, playbook, engagement)
    parts = _parts(data)
    _no_blanks_left(parts)
    layout_part = layout.part.partname.lstrip("/")
    master_part = prs.slide_master.part.partname.lstrip("/")
    assert all(parts[n] == template.bytes_of(n) for n in template.raw
               if not EDITABLE.match(n) and n not in (layout_part, master_part))
    assert f"{engagement.agency} draft".encode() in parts[layout_part]
    assert f"Prepared for {engagement.program}".encode() in parts[master_part]
    others = [n for n in template.raw if n.startswith("ppt/slideLayouts/slideLayout")
              and n.endswith(".xml") and n != layout_part]
    assert others and all(parts[n] == template.bytes_of(n) for n in others)


def test_status_deck_many_key_tasks(engagement):
    """All 25 key tasks of the sample: both slide-1 tables paginate together, inside the slide.
    No dates are known, so the "next 30-45 days" activities table has one row per key task."""
    import dataclasses
    from pptx import Presentation
    from m3docs.engagement import TaskStatus
    path = _shared(DECK)
    sample = load_playbook(SHARED.parent.parent)
    tasks = sample.key_tasks
    first, second = tasks[0], tasks[1]
    eng = dataclasses.replace(engagement, status={first.id: TaskStatus(status="G"),
                                                  second.id: TaskStatus(status="R")})
    result = render_document(_deck_doc(tasks, path.name), Template(path), eng, sample,
                             official=True)
    prs = Presentation(io.BytesIO(result.data))
    _assert_tables_fit(prs, {"MAJOR ACTIVITIES", "MAJOR MILESTONES"})
    acts = _rows(prs, "MAJOR ACTIVITIES", 2, "Activities", "IMS")
    miles = _rows(prs, "MAJOR MILESTONES", 2, "Milestones", "IMS")
    assert [a for _, a, _ in acts] == [kt.name for kt in tasks]
    assert [m for _, m, _ in miles] == [f"{o.title.plain} complete" for kt in tasks
                                        for o in kt.outputs]
    assert len(miles) > 25
    colours = {first.id: "00B050", second.id: "FF0000"}
    for ims, _, cell in acts + miles:
        task = next(kt.id for kt in tasks if ims == kt.id or ims.startswith(kt.id + "."))
        assert _status_rgb(cell) == colours.get(task), (ims, cell.text)
        assert cell.text == {first.id: "G", second.id: "R"}.get(task, "")
    titles = [s.shapes.title.text for s in prs.slides]
    continued = sum(t.endswith("(continued)") for t in titles)
    assert continued >= 1 and len(titles) - continued == 4   # the template's four slides


def test_deck_family_many_outputs(playbook, engagement, tmp_path):
    """30 milestones under an activities table: paginated together, above the legend."""
    import dataclasses
    from pptx import Presentation
    from m3docs.playbook.model import DocRef
    from m3docs.playbook.richtext import RichText, Run
    kt = playbook.key_task("3.14")
    outputs = tuple(DocRef(RichText((Run(f"Deliverable {i}"),))) for i in range(15))
    tasks = (dataclasses.replace(kt, outputs=outputs),
             dataclasses.replace(kt, number=99, outputs=outputs))
    path = status_deck(tmp_path / "deck.pptx", milestones=True)
    result = render_document(_deck_doc(tasks, path.name), Template(path), engagement,
                             playbook, official=True)
    prs = Presentation(io.BytesIO(result.data))
    _assert_tables_fit(prs, {"IMS", "MAJOR MILESTONES"})
    slides = list(prs.slides)
    assert len(slides) >= 3
    assert all(s.shapes.title.text.endswith("(continued)") for s in slides[1:])
    acts = _rows(prs, "IMS", 1, "Activities", "IMS")
    miles = _rows(prs, "MAJOR MILESTONES", 2, "Milestones", "IMS")
    assert [m for _, m, _ in miles] == [f"Deliverable {i} complete" for i in range(15)] * 2
    assert len(acts) == 2 * len(kt.activities)
    for ims, _, cell in acts + miles:
        coded = ims.startswith("3.14")
        assert cell.text == ("G" if coded else "")
        assert _status_rgb(cell) == ("00B050" if coded else None), ims
        borders = cell._tc.tcPr  # the example row's borders and margins stay
        assert borders is not None
    for slide in slides:   # a table is on a continuation slide only while it has rows
        for table in _grown_tables(slide, {"IMS", "MAJOR MILESTONES"}):
            assert len(table.table.rows) > (1 if table.table.cell(0, 0).text == "IMS" else 2)


def test_family_opens_in_libreoffice(playbook, engagement, tmp_path):
    for path in (word_plan(tmp_path / "plan.docx"), excel_log(tmp_path / "log.xlsm", True),
                 excel_log(tmp_path / "notes.xlsx", notes=True),
                 status_deck(tmp_path / "deck.pptx")):
        _, data, _ = _fill(path, playbook, engagement)
        _libreoffice_opens(data, path.suffix, tmp_path / path.stem)
