"""Build m3docs' own Word templates (templates/conops.docx, templates/generic.docx).

The templates are tagged templates (docxtpl's tag language, filled by m3docs.engine): the
cover, header, footer and document properties carry fields (``{{ agency }}``, ``{{
document.title }}``), the history and approval tables repeat rows with ``{%tr for %}``,
the key-task sections are one ``{%p for kt in key_tasks %}`` block (headings, facts,
objective, activities table with group rows, stakeholders, inputs and outputs, best
practices) and the glossary appendix loops over ``terms``. Paragraphs holding only a
structural tag use the "Template Tag" style; they vanish from filled documents.

They are written with python-docx, then normalized through m3docs.ooxml.package with fixed
document properties, so rebuilding them gives identical bytes.
"""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor, Twips

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from m3docs.ooxml.package import Template  # noqa: E402
from m3docs.ooxml.xml import parse_xml, serialize  # noqa: E402

FONT = "Arial"
NAVY = "1F3864"
BLUE = "2E5C8A"
GREY = "5A6472"
RULE = "A9B8CC"
GUIDE_FILL = "F2F5F9"
TABLE_STYLE = "M3 Table"
TAG_STYLE = "Template Tag"
GROUP_FILL = "DCE4EF"
TEXT_WIDTH = Inches(6.5)

CORE_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{{{{ document.title }}}}</dc:title>\
<dc:subject>{{{{ program }}}}</dc:subject><dc:creator>{{{{ provider or agency }}}}</dc:creator>\
<cp:keywords>M3; Phase {{{{ document.phase }}}}; {{{{ agency }}}}</cp:keywords>\
<dc:description>{{{{ document.version_label }}}}, prefilled from the M3 playbook for \
{{{{ agency }}}}</dc:description><cp:lastModifiedBy>{{{{ provider or agency }}}}</cp:lastModifiedBy>\
<cp:revision>1</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">{{{{ as_of }}}}T00:00:00Z\
</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{{{{ as_of }}}}T00:00:00Z\
</dcterms:modified></cp:coreProperties>"""


# -- low-level formatting helpers -------------------------------------------------------------
def _el(tag: str, **attrs: str):
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _set_fonts(rpr, size: float | None = None, color: str | None = None,
               bold: bool | None = None, italic: bool | None = None) -> None:
    """Explicit Arial (no theme fonts), and optionally size, colour, bold, italic."""
    for child in rpr.findall(qn("w:rFonts")):
        rpr.remove(child)
    rpr.insert(0, _el("w:rFonts", ascii=FONT, hAnsi=FONT, cs=FONT, eastAsia=FONT))
    for tag, on in (("w:b", bold), ("w:i", italic)):
        if on is not None:
            for child in rpr.findall(qn(tag)):
                rpr.remove(child)
            if on:
                rpr.append(_el(tag))
    if color:
        for child in rpr.findall(qn("w:color")):
            rpr.remove(child)
        rpr.append(_el("w:color", val=color))
    if size:
        for tag in ("w:sz", "w:szCs"):
            for child in rpr.findall(qn(tag)):
                rpr.remove(child)
            rpr.append(_el(tag, val=str(int(size * 2))))
    _order_rpr(rpr)


_RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
              "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish",
              "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight",
              "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang"]


def _order_rpr(rpr) -> None:
    """Put run properties in schema order."""
    def rank(el) -> int:
        local = el.tag.split("}")[1]
        return _RPR_ORDER.index(local) if local in _RPR_ORDER else len(_RPR_ORDER)
    children = sorted(rpr, key=rank)
    for child in children:
        rpr.append(child)


def _border(ppr, side: str, color: str, size: int = 6, space: int = 4) -> None:
    bdr = ppr.find(qn("w:pBdr"))
    if bdr is None:
        bdr = _el("w:pBdr")
        _insert_ppr(ppr, bdr)
    for child in bdr.findall(qn(f"w:{side}")):
        bdr.remove(child)
    bdr.append(_el(f"w:{side}", val="single", sz=str(size), space=str(space), color=color))


_PPR_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
              "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
              "snapToGrid", "spacing", "ind", "contextualSpacing", "jc", "outlineLvl", "rPr"]


def _insert_ppr(ppr, el) -> None:
    """Add a paragraph property in schema order (good enough for the ones used here)."""
    ppr.append(el)
    def rank(child) -> int:
        local = child.tag.split("}")[1]
        return _PPR_ORDER.index(local) if local in _PPR_ORDER else len(_PPR_ORDER)
    for child in sorted(ppr, key=rank):
        ppr.append(child)


def _shade(ppr, fill: str) -> None:
    _insert_ppr(ppr, _el("w:shd", val="clear", color="auto", fill=fill))


def _strip_theme(root) -> None:
    """Remove theme font/colour attributes so the explicit values win everywhere."""
    for el in root.iter(qn("w:rFonts"), qn("w:color")):
        for attr in list(el.attrib):
            if "Theme" in attr or "theme" in attr:
                del el.attrib[attr]


# -- styles ------------------------------------------------------------------------------------
def _para_style(doc, name: str, base: str = "Normal", next_style: str | None = None):
    styles = doc.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
    if next_style:
        style.next_paragraph_style = styles[next_style]
    style.quick_style = True
    return style


def _style_font(style, size=None, color=None, bold=None, italic=None) -> None:
    _set_fonts(style.element.get_or_add_rPr(), size, color, bold, italic)


def _spacing(style, before: float = 0, after: float = 6, line: float | None = 1.1) -> None:
    pf = style.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line:
        pf.line_spacing = line


def _define_styles(doc) -> None:
    """Normal, Title, headings, guidance, table text, TOC and hyperlink styles."""
    _strip_theme(doc.styles.element)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    _set_fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")), 10.5)
    normal = doc.styles["Normal"]
    _style_font(normal, 10.5, "222222")
    _spacing(normal, 0, 6, 1.15)

    title = _para_style(doc, "Title")
    ppr = title.element.get_or_add_pPr()
    for bdr in ppr.findall(qn("w:pBdr")):
        ppr.remove(bdr)
    _style_font(title, 28, NAVY, bold=True)
    _spacing(title, 6, 10, 1.0)
    subtitle = _para_style(doc, "Subtitle")
    _style_font(subtitle, 14, BLUE, italic=False)
    _spacing(subtitle, 0, 6, 1.1)

    for level, size, color, before, after in ((1, 16, NAVY, 18, 8), (2, 13, BLUE, 14, 4),
                                              (3, 11, NAVY, 10, 3)):
        heading = _para_style(doc, f"Heading {level}", next_style="Normal")
        _style_font(heading, size, color, bold=True, italic=False)
        _spacing(heading, before, after, 1.0)
        heading.paragraph_format.keep_with_next = True
    _border(doc.styles["Heading 1"].element.get_or_add_pPr(), "bottom", RULE, 6, 2)

    front = _para_style(doc, "Front Heading", next_style="Normal")
    _style_font(front, 16, NAVY, bold=True)
    _spacing(front, 0, 10, 1.0)
    front.paragraph_format.keep_with_next = True
    _border(front.element.get_or_add_pPr(), "bottom", RULE, 6, 2)
    toc_heading = _para_style(doc, "TOC Heading", next_style="Normal")
    toc_heading.base_style = front
    ppr = toc_heading.element.get_or_add_pPr()
    for el in ppr.findall(qn("w:outlineLvl")):
        ppr.remove(el)
    _style_font(toc_heading, 16, NAVY, bold=True)

    guidance = _para_style(doc, "Guidance")
    _style_font(guidance, 10, GREY, italic=True)
    _spacing(guidance, 2, 8, 1.1)
    gppr = guidance.element.get_or_add_pPr()
    _border(gppr, "left", "7F9CC0", 18, 8)
    _shade(gppr, GUIDE_FILL)
    guidance.paragraph_format.left_indent = Pt(6)
    guidance.paragraph_format.right_indent = Pt(6)

    for name, size, color, bold in (("Cover Agency", 13, GREY, True), ("Cover Program", 15, BLUE, False),
                                    ("Cover Detail", 11, "333333", False),
                                    ("Table Text", 9.5, "222222", False),
                                    ("Table Heading", 9.5, "FFFFFF", True),
                                    ("Meta Text", 9.5, GREY, False)):
        style = _para_style(doc, name)
        _style_font(style, size, color, bold=bold)
        _spacing(style, 0, 2 if name.startswith("Table") else 4, 1.0)
    doc.styles["Cover Agency"].font.all_caps = True
    doc.styles["Cover Agency"].font.size = Pt(13)
    _spacing(doc.styles["Cover Detail"], 0, 3, 1.0)
    _spacing(doc.styles["Meta Text"], 0, 8, 1.1)
    bullet = doc.styles["List Bullet"]
    _style_font(bullet, 10.5, "222222")
    _spacing(bullet, 0, 3, 1.1)

    for level in (1, 2):
        toc = _para_style(doc, f"toc {level}", next_style="Normal")
        toc.style_id = f"TOC{level}"
        _style_font(toc, 10.5 if level == 1 else 10, "222222", bold=level == 1)
        _spacing(toc, 4 if level == 1 else 0, 2, 1.0)
        toc.paragraph_format.left_indent = Pt(0 if level == 1 else 14)
        toc.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
        tabs = toc.element.pPr.find(qn("w:tabs"))
        tabs[0].set(qn("w:leader"), "dot")

    tag = _para_style(doc, TAG_STYLE)
    _style_font(tag, 8.5, "7F6A00", bold=False)
    _spacing(tag, 0, 0, 1.0)
    tag.element.get_or_add_rPr().find(qn("w:rFonts")).set(qn("w:ascii"), "Courier New")
    tag.element.get_or_add_rPr().find(qn("w:rFonts")).set(qn("w:hAnsi"), "Courier New")
    _shade(tag.element.get_or_add_pPr(), "FFF8DC")

    link = doc.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = RGBColor.from_string("1F5FAD")
    link.font.underline = True
    for name in ("Header", "Footer"):
        _furniture_style(doc.styles[name])
    _table_style(doc)


def _furniture_style(style) -> None:
    """Header/footer text: small grey, one right tab at the text edge."""
    ppr = style.element.get_or_add_pPr()
    for tabs in ppr.findall(qn("w:tabs")):
        ppr.remove(tabs)
    style.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _style_font(style, 8.5, GREY)
    _spacing(style, 0, 0, 1.0)


def _table_style(doc) -> None:
    """A table style with light rules and padded cells; header rows are shaded by the renderer."""
    style = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    style.base_style = doc.styles["Normal Table"]
    el = style.element
    tblpr = _el("w:tblPr")
    borders = _el("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_el(f"w:{side}", val="single", sz="4", space="0", color=RULE))
    tblpr.append(borders)
    margins = _el("w:tblCellMar")
    for side, width in (("top", "50"), ("left", "100"), ("bottom", "50"), ("right", "100")):
        margins.append(_el(f"w:{side}", w=width, type="dxa"))
    tblpr.append(margins)
    el.append(tblpr)
    header = _el("w:tblStylePr", type="firstRow")
    hrpr = _el("w:rPr")
    hrpr.append(_el("w:b"))
    hrpr.append(_el("w:color", val="FFFFFF"))
    header.append(hrpr)
    tcpr = _el("w:tcPr")
    tcpr.append(_el("w:shd", val="clear", color="auto", fill=NAVY))
    header.append(tcpr)
    el.append(header)


# -- page furniture ----------------------------------------------------------------------------
def _field(paragraph, instr: str, cached: str) -> None:
    """A simple complex field (PAGE, NUMPAGES) with a cached result."""
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, cached),
                       ("end", None)):
        run = paragraph.add_run()
        if kind:
            run._r.append(_el("w:fldChar", fldCharType=kind))
        elif text == instr:
            it = OxmlElement("w:instrText")
            it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            it.text = instr
            run._r.append(it)
        else:
            run.text = text


def _header_footer(section) -> None:
    """Program and title in the header; agency and page X of Y in the footer; none on the cover."""
    section.different_first_page_header_footer = True
    head = section.header.paragraphs[0]
    _furniture_runs(head, "{{ program }}", "{{ document.title }}")
    _border(head._p.get_or_add_pPr(), "bottom", RULE, 4, 4)
    foot = section.footer.paragraphs[0]
    _furniture_runs(foot, "{{ agency }}  |  Version {{ version }}", None)
    run = foot.add_run("\tPage ")
    _small(run)
    _field(foot, " PAGE ", "1")
    run = foot.add_run(" of ")
    _small(run)
    _field(foot, " NUMPAGES ", "1")
    for r in foot.runs:
        _small(r)
    _border(foot._p.get_or_add_pPr(), "top", RULE, 4, 4)


def _small(run) -> None:
    run.font.size = Pt(8.5)
    run.font.color.rgb = RGBColor.from_string(GREY)


def _furniture_runs(p, left: str, right: str | None) -> None:
    _small(p.add_run(left))
    if right:
        _small(p.add_run("\t" + right))


# -- body building blocks ----------------------------------------------------------------------
# Every run is (text, format): format letters b (bold), i (italic), m (muted grey),
# w (white), l (a link to the TOC's heading bookmark is made elsewhere).
Runs = list[tuple[str, str]]
# Column widths in twips: each table fills the 6.5-inch text width (9360 twips).
ACTIVITY_WIDTHS = (562, 4867, 1498, 2433)
STAKEHOLDER_WIDTHS = (3088, 2059, 2059, 2154)
TERM_WIDTHS = (2808, 6552)
HISTORY_WIDTHS = (1152, 2088, 3960, 2160)
APPROVAL_WIDTHS = (3888, 3600, 1872)


def _add_runs(p, runs: Runs) -> None:
    for text, fmt in runs:
        run = p.add_run(text)
        if "b" in fmt:
            run.bold = True
        if "i" in fmt:
            run.italic = True
        if "m" in fmt:
            run.font.color.rgb = RGBColor.from_string(GREY)


def _para(doc_or_cell, style: str, runs: Runs | str = (), keep_next: bool = False,
          page_break: bool = False):
    p = doc_or_cell.add_paragraph(style=style)
    _add_runs(p, [(runs, "")] if isinstance(runs, str) else runs)
    if keep_next:
        p.paragraph_format.keep_with_next = True
    if page_break:
        p.paragraph_format.page_break_before = True
    return p


def _tag(doc, text: str):
    """A paragraph that holds only a structural tag: gone from every filled document."""
    return _para(doc, TAG_STYLE, text)


def _page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _gap(doc) -> None:
    """A little space after a table."""
    doc.add_paragraph().paragraph_format.space_after = Pt(3)


def _guided(doc, heading: str, level: int, guidance: str) -> None:
    doc.add_heading(heading, level)
    doc.add_paragraph(guidance, style="Guidance")


def _cell(cell, runs: Runs | str, style: str = "Table Text", more: tuple[Runs, ...] = ()) -> None:
    p = cell.paragraphs[0]
    p.style = style
    _add_runs(p, [(runs, "")] if isinstance(runs, str) else runs)
    for extra in more:
        _add_runs(cell.add_paragraph(style=style), extra)


def _fill(cell, color: str) -> None:
    cell._tc.get_or_add_tcPr().append(_el("w:shd", val="clear", color="auto", fill=color))


def _cant_split(row, header: bool = False) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(_el("w:cantSplit"))
    if header:
        trpr.append(_el("w:tblHeader"))


def _table(doc, labels: tuple[str, ...], widths: tuple[int, ...]):
    """A table with its shaded header row (repeated on every page)."""
    table = doc.add_table(rows=1, cols=len(labels))
    table.style = doc.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for col, width in zip(table.columns, widths):
        col.width = Twips(width)
    row = table.rows[0]
    _cant_split(row, header=True)
    for cell, label, width in zip(row.cells, labels, widths):
        cell.width = Twips(width)
        _cell(cell, label, "Table Heading")
        cell.paragraphs[0].paragraph_format.keep_with_next = True
        _fill(cell, NAVY)
    return table


def _row(table, cells: list[tuple[Runs | str, tuple[Runs, ...]]] | None = None,
         tag: str | None = None, fill: str | None = None, whole: Runs | None = None,
         height: float | None = None):
    """A row of cells; a ``tag`` row (one cell across the table) holds a {%tr %} tag, a
    ``whole`` row one cell of runs across the table."""
    row = table.add_row()
    widths = [c.width for c in table.columns]
    for cell, width in zip(row.cells, widths):
        cell.width = width
    _cant_split(row)
    if tag is not None or whole is not None:
        merged = row.cells[0].merge(row.cells[-1])
        _cell(merged, tag if tag is not None else whole, TAG_STYLE if tag is not None
              else "Table Text")
        if fill:
            _fill(merged, fill)
        if whole is not None:
            merged.paragraphs[0].paragraph_format.keep_with_next = True
        return row
    for cell, (runs, more) in zip(row.cells, cells or []):
        _cell(cell, runs, more=more)
    if height:
        row.height = Inches(height)
    return row


def _history(doc) -> None:
    doc.add_paragraph("Document History", style="Front Heading")
    table = _table(doc, ("Version", "Date", "Description", "Author"), HISTORY_WIDTHS)
    _row(table, tag="{%tr for h in history %}")
    _row(table, [("{{ h.version }}", ()), ("{{ h.date }}", ()), ("{{ h.description }}", ()),
                 ("{{ h.author }}", ())])
    _row(table, tag="{%tr endfor %}")
    doc.add_paragraph()


def _approvals(doc) -> None:
    doc.add_paragraph("Approvals", style="Front Heading")
    doc.add_paragraph("By signing below, each approver confirms that this document has been reviewed "
                      "and reflects the agreed position of the organization they represent.")
    table = _table(doc, ("Name and Title", "Signature", "Date"), APPROVAL_WIDTHS)
    _row(table, tag="{%tr for a in approvers %}")
    _row(table, [([("{{ a.name }}", "b")], ([("{{ a.title }}", "")],)), ("", ()), ("", ())],
         height=0.55)
    _row(table, tag="{%tr else %}")
    _row(table, [("", ()), ("", ()), ("", ())], height=0.55)
    _row(table, tag="{%tr endfor %}")


def _toc(doc, headings: list[tuple[int, str, str]]) -> None:
    """The contents: a TOC field whose cached entries list the template's own headings
    (m3docs rewrites them from the filled document's headings; Word updates the field)."""
    doc.add_paragraph("Contents", style="TOC Heading")
    entries = [doc.add_paragraph(style=f"toc {level}") for level, _t, _a in headings]
    if not entries:
        entries = [doc.add_paragraph(style="toc 1")]
    _field_runs(entries[0], ("begin", None), ("instr", ' TOC \\o "1-2" \\h \\z \\u '),
                ("separate", None))
    for p, (_level, text, anchor) in zip(entries, headings):
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), anchor)
        link.set(qn("w:history"), "1")
        p._p.append(link)
        for kind, value in (("text", text), ("tab", None), ("begin", None),
                            ("instr", f" PAGEREF {anchor} \\h "), ("separate", None),
                            ("end", None)):
            link.append(_field_run(kind, value))
    _field_runs(entries[-1], ("end", None))


def _field_runs(p, *pieces: tuple[str, str | None]) -> None:
    for kind, value in pieces:
        p._p.append(_field_run(kind, value))


def _field_run(kind: str, value: str | None):
    run = OxmlElement("w:r")
    if kind == "instr":
        it = OxmlElement("w:instrText")
        it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        it.text = value
        run.append(it)
    elif kind == "text":
        t = OxmlElement("w:t")
        t.text = value
        run.append(t)
    elif kind == "tab":
        run.append(OxmlElement("w:tab"))
    else:
        run.append(_el("w:fldChar", fldCharType=kind))
    return run


def _cover(doc, kind_line: str) -> None:
    first = doc.add_paragraph("{{ agency }}", style="Cover Agency")
    first.paragraph_format.space_before = Pt(110)
    doc.add_paragraph("{{ program }}", style="Cover Program")
    rule = doc.add_paragraph()
    _border(rule._p.get_or_add_pPr(), "bottom", NAVY, 18, 1)
    rule.paragraph_format.space_after = Pt(18)
    doc.add_paragraph("{{ document.title }}", style="Title")
    doc.add_paragraph(kind_line, style="Subtitle")
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_before = Pt(170)
    for i, text in enumerate(("Prepared for {{ agency }}", "Prepared by {{ provider }}",
                              "Version {{ version }}", "{{ date }}")):
        detail = doc.add_paragraph(text, style="Cover Detail")
        if i == 0:
            _border(detail._p.get_or_add_pPr(), "top", RULE, 6, 8)
    _page_break(doc)


def _front_matter(doc, kind_line: str, headings: list[tuple[int, str, str]]) -> None:
    _cover(doc, kind_line)
    _history(doc)
    _approvals(doc)
    _page_break(doc)
    _toc(doc, headings)
    _page_break(doc)


# -- the key-task sections: one loop over key_tasks ------------------------------------------
def _key_tasks(doc) -> None:
    """Each key task the document lists, as a section: heading, facts, objective, activities,
    stakeholders, inputs and outputs, best practices."""
    _tag(doc, "{%p for kt in key_tasks %}")
    _para(doc, "Heading 1", "Key Task {{ kt.id }}: {{ kt.name }}", page_break=True)
    meta = _para(doc, "Meta Text", "{{ kt.phase_title }}{% if kt.workstream %}  \u2022  "
                 "Workstream: {{ kt.workstream }}{% endif %}  \u2022  Responsible party: "
                 "{{ kt.parties or 'Not specified' }}")
    meta.paragraph_format.space_after = Pt(4)
    _para(doc, "Normal", [("{% if kt.id in document.roles %}This key task "
                           "{{ document.roles[kt.id] }} the {{ document.title }}"
                           "{% if document.roles[kt.id] == 'uses' %} as an input{% endif %} in "
                           "Phase {{ document.phase }}.{% endif %}", "b"),
                          ("{% if kt.url %}  {{r kt.url|link('View in the M3 Playbook') }}"
                           "{% endif %}", "")])
    _tag(doc, "{%p if kt.status_text %}")
    _para(doc, "Normal", "Status as of {{ date }}: {{ kt.status_text }}.")
    _tag(doc, "{%p endif %}")
    doc.add_heading("Objective", 2)
    _para(doc, "Normal", "{{r kt.objective }}")
    doc.add_heading("Activities", 2)
    _tag(doc, "{%p if kt.activities_note %}")
    _para(doc, "Normal", "{{r kt.activities_note }}")
    _tag(doc, "{%p endif %}")
    _activities(doc)
    _stakeholders(doc)
    doc.add_heading("Inputs and Outputs", 2)
    for label, name in (("Inputs", "inputs"), ("Outputs", "outputs")):
        doc.add_heading(label, 3)
        _tag(doc, f"{{%p for d in kt.{name} %}}")
        _para(doc, "List Bullet", [("{{r d.title }}", ""),
                                   ("{% if d.filename %}  ({{ 'official template' if d.official "
                                    "else 'see' }}: {{ d.filename }}){% endif %}", "im")])
        _tag(doc, "{%p else %}")
        _para(doc, "Normal", "None listed in the playbook.")
        _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if kt.best_practices %}")
    doc.add_heading("Best Practices", 2)
    _tag(doc, "{%p for bp in kt.best_practices %}")
    _para(doc, "List Bullet", "{{r bp }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")


def _activities(doc) -> None:
    table = _table(doc, ("#", "Activity", "Responsible Party", "Owner"), ACTIVITY_WIDTHS)
    _row(table, tag="{%tr for g in kt.groups %}")
    _row(table, tag="{%tr if g.title %}")
    _row(table, whole=[("{{r g.title }}", "b")], fill=GROUP_FILL)
    _row(table, tag="{%tr endif %}")
    _row(table, tag="{%tr for a in g.activities %}")
    _row(table, [("{{ a.index }}", ()), ("{{r a.text }}", ()), ("{{ a.party }}", ()),
                 ([("{% if a.owner %}{{ a.owner }}{% else %}", ""),
                   ("To be assigned{% endif %}", "im")], ())])
    _row(table, tag="{%tr endfor %}")
    _row(table, tag="{%tr endfor %}")
    _gap(doc)


def _stakeholders(doc) -> None:
    """Named roles as rows; the roles nobody is named for yet in one line below."""
    _tag(doc, "{%p if kt.stakeholders %}")
    doc.add_heading("Stakeholders", 2)
    _tag(doc, "{%p if kt.stakeholders|selectattr('named')|list %}")
    table = _table(doc, ("Role", "Customer", "Provider", "Parties"), STAKEHOLDER_WIDTHS)
    _row(table, tag="{%tr for s in kt.stakeholders if s.named %}")
    person = [([(f"{{% if s.{party} and s.{party} != 'to be named' %}}{{{{ s.{party} }}}}"
                 "{% else %}", ""),
                (f"{{{{ (s.{party} or '\u2014')|capitalize }}}}{{% endif %}}", "im")], ())
              for party in ("customer", "provider")]
    _row(table, [("{{r s.role }}", ()), *person, ("{{ s.parties }}", ())])
    _row(table, tag="{%tr endfor %}")
    _gap(doc)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if kt.unnamed_roles %}")
    _para(doc, "Normal", [("To be named: ", "b"), ("{{ kt.unnamed_roles }}", "")])
    _gap(doc)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")


def _glossary(doc) -> None:
    """An appendix of the playbook's glossary terms the document uses (none without)."""
    _tag(doc, "{%p if terms %}")
    _para(doc, "Heading 1", "Terms and Abbreviations", page_break=True)
    _para(doc, "Normal", "Terms from the M3 Playbook glossary that this document uses.")
    table = _table(doc, ("Term", "Meaning"), TERM_WIDTHS)
    _row(table, tag="{%tr for t in terms %}")
    _row(table, [("{{ t.name }}", ()), ("{{ t.description }}", ())])
    _row(table, tag="{%tr endfor %}")
    _tag(doc, "{%p endif %}")


def _bookmark(paragraph, bm_id: int, name: str) -> None:
    start = _el("w:bookmarkStart", id=str(bm_id), name=name)
    end = _el("w:bookmarkEnd", id=str(bm_id))
    ppr = paragraph._p.pPr
    if ppr is not None:
        ppr.addnext(start)
    else:
        paragraph._p.insert(0, start)
    paragraph._p.append(end)


def _sections(doc, sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> None:
    """The template's own guided sections, each heading bookmarked for the contents."""
    for heading, subsections in sections:
        doc.add_heading(heading, 1)
        for sub, guidance in subsections:
            _guided(doc, sub, 2, guidance)
    headings = [p for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    for n, p in enumerate(headings, 1):
        _bookmark(p, n, f"_Toc{n:08d}")


def _toc_headings(sections) -> list[tuple[int, str, str]]:
    out = []
    for heading, subsections in sections:
        out.append((1, heading, f"_Toc{len(out) + 1:08d}"))
        for sub, _g in subsections:
            out.append((2, sub, f"_Toc{len(out) + 1:08d}"))
    return out


# -- the two templates -------------------------------------------------------------------------
CONOPS_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Introduction", (
        ("Purpose", "State in two or three sentences why this Concept of Operations exists: the "
                    "operating model it describes, the decisions it records, and who relies on it."),
        ("Scope", "List the business functions, organizations, locations and systems covered, and "
                  "name anything deliberately left out so readers know where the boundary lies."),
        ("Intended Audience", "Identify the executives, program staff, provider teams and oversight "
                              "bodies who will read and act on this document."),
    )),
    ("Current State", (
        ("Current Operating Environment", "Summarize how the in-scope services run today: who "
                                          "performs each process, with which systems, at what "
                                          "volume and cost."),
        ("Current Systems and Interfaces", "Describe the applications, data stores and interfaces "
                                           "in use today, including those that will be retired."),
        ("Challenges and Drivers for Change", "Explain the pain points, risks and mandates that "
                                              "motivate the migration; quantify them where possible."),
    )),
    ("Target State Operating Model", (
        ("Service Delivery Model", "Describe how services will be delivered after migration: which "
                                   "are delivered by the provider as a service and which are "
                                   "retained in-house, and why."),
        ("Process Ownership", "For each in-scope business process, record the agreed owner "
                              "(customer, provider or shared) and the hand-offs between them."),
        ("Systems, Data and Integration", "Describe the target applications, data flows and "
                                          "interfaces, and where authoritative data will reside."),
        ("Service Levels and Performance", "Summarize the service levels, measures and reporting "
                                           "the provider and the agency have agreed to."),
    )),
    ("Roles and Responsibilities", (
        ("Customer Agency and Retained Organization", "Describe the functions, positions and skills "
                                                      "the agency keeps, and how the retained "
                                                      "organization is structured."),
        ("Provider", "Describe the provider's responsibilities, including operations, support, "
                     "and continuous improvement."),
        ("Governance and Decision Rights", "Explain the governance bodies, escalation paths and "
                                           "who decides what once the service is in operation."),
    )),
    ("Operations and Maintenance", (
        ("Support and Incident Management", "Describe how users get help, how incidents are "
                                            "prioritized and resolved, and who communicates status."),
        ("Change and Release Management", "Describe how changes are requested, approved, tested "
                                          "and released, and how the agency takes part."),
    )),
    ("Transition Considerations", (
        ("Workforce and Organizational Impacts", "Summarize the effect on staff, roles and skills, "
                                                 "and the change-management actions planned."),
        ("Risks, Assumptions and Dependencies", "List the risks, assumptions and dependencies "
                                                "that could affect the target state, with owners."),
    )),
)


def _conops(path: Path) -> None:
    doc = _new_document()
    _front_matter(doc, "Concept of Operations  \u2022  M3 Phase {{ document.phase }}: "
                       "{{ document.phase_name }}", _toc_headings(CONOPS_SECTIONS))
    _sections(doc, CONOPS_SECTIONS)
    _key_tasks(doc)
    _glossary(doc)
    _save(doc, path)


GENERIC_SECTIONS = (
    ("Introduction", (
        ("Purpose", "Explain what this deliverable records, the decision or milestone it "
                    "supports, and who will use it."),
        ("Approach", "Summarize how the content was gathered and validated, and note any "
                     "open questions the reader should know about."),
    )),
)


def _generic(path: Path) -> None:
    doc = _new_document()
    _front_matter(doc, "M3 Phase {{ document.phase }}: {{ document.phase_name }}  \u2022  "
                       "{{ document.version_label }}", _toc_headings(GENERIC_SECTIONS))
    _sections(doc, GENERIC_SECTIONS)
    _key_tasks(doc)
    _glossary(doc)
    _save(doc, path)


def _new_document():
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.left_margin = section.right_margin = Inches(1)
    section.top_margin = section.bottom_margin = Inches(1)
    section.header_distance = section.footer_distance = Inches(0.45)
    section.start_type = WD_SECTION.NEW_PAGE
    _define_styles(doc)
    _header_footer(section)
    _drop_extras(doc)
    return doc


def _drop_extras(doc) -> None:
    """Drop the default thumbnail and custom XML that python-docx's own template carries."""
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rid]
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith(("/customXml", "/stylesWithEffects")):
            # stylesWithEffects is a Word 2010 copy of styles.xml that would go stale as
            # the styles are edited here (Word then reports unreadable content): dropped
            del doc.part.rels[rid]
    settings = doc.settings.element
    for el in settings.findall(qn("w:rsids")) + settings.findall(qn("w:savePreviewPicture")):
        settings.remove(el)


def _save(doc, path: Path) -> None:
    """Save, then normalize through the package layer; the properties carry tags."""
    doc.settings.element.append(_el("w:updateFields", val="true"))
    _order_settings(doc.settings.element)
    buf = io.BytesIO()
    doc.save(buf)
    pkg = Template(path, buf.getvalue()).new()
    pkg.put("docProps/core.xml", parse_xml(CORE_XML.encode()))
    app = pkg.xml("docProps/app.xml")
    for el in app:
        if el.tag.endswith("}Application"):
            el.text = "m3docs"
        if el.tag.endswith("}Template"):
            el.text = ""
    path.write_bytes(pkg.to_bytes())


_SETTINGS_ORDER = ["writeProtection", "view", "zoom", "removePersonalInformation", "proofState",
                   "attachedTemplate", "documentProtection", "defaultTabStop", "evenAndOddHeaders",
                   "characterSpacingControl", "updateFields", "hdrShapeDefaults", "footnotePr",
                   "endnotePr", "compat", "docVars", "rsids", "mathPr", "attachedSchema",
                   "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
                   "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
                   "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
                   "decimalSymbol", "listSeparator"]  # CT_Settings' sequence (ECMA-376 17.15.1.78)


def _order_settings(settings) -> None:
    def rank(el) -> int:
        local = el.tag.split("}")[1]
        return _SETTINGS_ORDER.index(local) if local in _SETTINGS_ORDER else len(_SETTINGS_ORDER)
    for child in sorted(settings, key=rank):
        settings.append(child)


def build(out_dir: Path) -> list[Path]:
    """Write conops.docx and generic.docx into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "conops.docx", out_dir / "generic.docx"]
    _conops(paths[0])
    _generic(paths[1])
    return paths


if __name__ == "__main__":
    for built in build(REPO / "templates"):
        print(built)
