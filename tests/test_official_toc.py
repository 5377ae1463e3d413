"""Official Word templates: the table of contents lists the added key-task section, numbers
no heading twice, and an added key-task heading is numbered once (by its id)."""
from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from m3docs.ooxml.package import Template
from m3docs.ooxml.xml import qn
from m3docs.pdf import find_soffice
from m3docs.plan import Deliverable, Document
from m3docs.renderers import render_document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = f'xmlns:w="{W}"'


def _fill(path: Path, tasks, engagement, playbook) -> bytes:
    doc = Document(Deliverable("d", "D", ("D",), path.name, "generic", path.suffix[1:]), 3,
                   "Version 1", tuple(tasks), ())
    return render_document(doc, Template(path), engagement, playbook, official=True).data


def _numbering(d) -> None:
    """One outline list (1., 1.1.) for Heading 1-2, and a second instance of it that
    restarts level 2, as an author's copy-paste leaves it."""
    numbering = d.part.numbering_part.element
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>' for i, text in enumerate(["%1.", "%1.%2."]))
    numbering.insert(0, etree.fromstring(f'<w:abstractNum {NS} w:abstractNumId="70">{levels}'
                                         f'</w:abstractNum>'))
    numbering.append(etree.fromstring(f'<w:num {NS} w:numId="71"><w:abstractNumId w:val="70"/>'
                                      f'</w:num>'))
    numbering.append(etree.fromstring(
        f'<w:num {NS} w:numId="72"><w:abstractNumId w:val="70"/><w:lvlOverride w:ilvl="1">'
        f'<w:startOverride w:val="1"/></w:lvlOverride></w:num>'))
    for level, name in enumerate(["Heading 1", "Heading 2"]):
        ppr = d.styles[name].element.get_or_add_pPr()
        ppr.append(etree.fromstring(f'<w:numPr {NS}><w:ilvl w:val="{level}"/>'
                                    f'<w:numId w:val="71"/></w:numPr>'))


def _entry(level: int, label: str, text: str, anchor: str, page: str, head: str = "") -> str:
    runs = (f'<w:r><w:t>{label}</w:t></w:r><w:r><w:tab/></w:r><w:r><w:t>{text}</w:t></w:r>'
            f'<w:r><w:tab/></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            f'<w:r><w:instrText xml:space="preserve"> PAGEREF {anchor} \\h </w:instrText></w:r>'
            f'<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>{page}</w:t></w:r>'
            f'<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    return (f'<w:p {NS}><w:pPr><w:pStyle w:val="TOC{level}"/></w:pPr>{head}'
            f'<w:hyperlink w:anchor="{anchor}">{runs}</w:hyperlink></w:p>')


def toc_plan(path: Path) -> Path:
    """A plan with numbered headings, a restart that numbers 1.1 twice, and a TOC field whose
    cached entries Word wrote before the restart was noticed."""
    import docx
    d = docx.Document()
    _numbering(d)
    for level in (1, 2):
        d.styles.add_style(f"TOC{level}", 1).name = f"toc {level}"
    d.add_paragraph("Migration Plan for [Agency Name]")
    head = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">'
            ' TOC \\o "1-2" \\h \\z \\u </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    sect = d.element.body.sectPr
    cached = [(1, "1.", "Introduction", "_Toc1", "2"), (2, "1.1.", "Scope", "_Toc2", "2"),
              (2, "1.1.", "Goals", "_Toc3", "2"), (1, "2.", "Approach", "_Toc4", "3")]
    for i, entry in enumerate(cached):
        sect.addprevious(etree.fromstring(_entry(*entry, head=head if i == 0 else "")))
    sect.addprevious(etree.fromstring(f'<w:p {NS}><w:r><w:fldChar w:fldCharType="end"/></w:r>'
                                      f'</w:p>'))
    for level, _, text, anchor, _ in cached:
        p = d.add_heading(text, level)
        p._p.insert(1, etree.fromstring(f'<w:bookmarkStart {NS} w:id="{anchor[4:]}" '
                                        f'w:name="{anchor}"/>'))
        p._p.append(etree.fromstring(f'<w:bookmarkEnd {NS} w:id="{anchor[4:]}"/>'))
        if text == "Goals":
            p._p.get_or_add_pPr().append(etree.fromstring(
                f'<w:numPr {NS}><w:ilvl w:val="1"/><w:numId w:val="72"/></w:numPr>'))
        d.add_paragraph("Text of the section.")
    d.save(path)
    return path


def _toc(data: bytes) -> tuple[list[tuple[str, str, str]], etree._Element]:
    """(label, heading, page) of each cached entry, and the document's body."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = etree.fromstring(z.read("word/document.xml")).find(qn("w:body"))
    out = []
    for p in body.iter(qn("w:p")):
        style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        if style is None or not style.get(qn("w:val")).startswith("TOC"):
            continue
        link = p.find(qn("w:hyperlink"))
        parts = "".join((t.text or "") if t.tag == qn("w:t") else "\t"
                        for t in link.iter(qn("w:t"), qn("w:tab"))).split("\t")
        out.append(tuple(parts) if len(parts) == 3 else ("", *parts))
    return out, body


def test_toc_lists_the_added_section_and_repeats_no_number(playbook, engagement, tmp_path):
    tasks = playbook.key_tasks
    data = _fill(toc_plan(tmp_path / "plan.docx"), tasks, engagement, playbook)
    entries, body = _toc(data)
    expected = [("1.", "Introduction", "2"), ("1.1.", "Scope", "2"), ("1.2.", "Goals", "2"),
                ("2.", "Approach", "3"), ("3.", "M3 Key Task Context", "")]
    expected += [("", f"{kt.id} {kt.name}", "") for kt in tasks]
    assert entries == expected
    begin = next(body.iter(qn("w:fldChar")))
    assert begin.get(qn("w:dirty")) == "true"
    assert len([f for f in body.iter(qn("w:fldChar"))
                if f.get(qn("w:fldCharType")) == "end"]) == len(expected) + 1
    anchors = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert {link.get(qn("w:anchor")) for link in body.iter(qn("w:hyperlink"))} <= anchors
    goals = [p for p in body.iter(qn("w:p")) if "".join(p.itertext()) == "Goals"][-1]
    assert goals.find(f".//{qn('w:numId')}").get(qn("w:val")) == "71"   # continues the outline
    for kt in tasks:   # a key task's heading carries its id and no list number
        heading = next(p for p in body.iter(qn("w:p")) if "".join(p.itertext()) ==
                       f"{kt.id} {kt.name}" and p.find(f".//{qn('w:pStyle')}").get(
                           qn("w:val")) == "Heading2")
        assert heading.find(f".//{qn('w:numId')}").get(qn("w:val")) == "0"


def test_official_conops_toc(official_dir, playbook, engagement, tmp_path):
    tasks = playbook.key_tasks
    data = _fill(next(official_dir.glob("*CONOPS*.docx")), tasks, engagement, playbook)
    entries, _ = _toc(data)
    labels = [label for label, _, _ in entries if label]
    assert len(labels) == len(set(labels)), labels
    headings = [text for _, text, _ in entries]
    assert headings[-1 - len(tasks):] == ["M3 Key Task Context"] + [
        f"{kt.id} {kt.name}" for kt in tasks]
    assert ("2.2.", "Major Processes and Functions") in [e[:2] for e in entries]
    soffice = find_soffice()
    if soffice is None:
        pytest.skip("LibreOffice not installed")
    src = tmp_path / "conops.docx"
    src.write_bytes(data)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                   capture_output=True, timeout=240, check=True)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "conops.pdf"), "-"],
                          capture_output=True, text=True, timeout=60).stdout
    contents = text[text.index("Contents"):text.index("1. Overview")]
    assert "M3 Key Task Context" in contents and "2.2. Major Processes" in " ".join(
        contents.split())
    assert f"4.1. {tasks[0].id}" not in " ".join(text.split())


def test_an_empty_toc_is_only_marked_for_update(playbook, engagement, tmp_path):
    """A TOC Word left without entries keeps its field whole and is marked dirty."""
    import docx
    d = docx.Document()
    d.add_paragraph("Plan for [Agency Name]")
    sect = d.element.body.sectPr
    sect.addprevious(etree.fromstring(
        f'<w:p {NS}><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText '
        f'xml:space="preserve"> TOC \\o "1-3" \\h \\z \\u </w:instrText></w:r><w:r>'
        f'<w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>No table of contents entries '
        f'found.</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'))
    d.add_heading("Scope", 1)
    d.save(tmp_path / "plan.docx")
    data = _fill(tmp_path / "plan.docx", playbook.key_tasks, engagement, playbook)
    _, body = _toc(data)
    kinds = [f.get(qn("w:fldCharType")) for f in body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert next(body.iter(qn("w:fldChar"))).get(qn("w:dirty")) == "true"
