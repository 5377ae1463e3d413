"""Build m3docs' own Word templates (templates/conops.docx, templates/generic.docx).

The templates are written with python-docx, then normalized through
m3docs.ooxml.package with fixed document properties, so rebuilding them gives
identical bytes. Fields such as ``{{agency}}`` are filled by the docx renderer;
the paragraph ``{{key_tasks}}`` marks where it inserts the key-task sections;
table rows holding ``{{history_*}}`` or ``{{approver_*}}`` fields are repeated
once per document-history entry or approver.
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
TEXT_WIDTH = Inches(6.5)
FIXED_DATE = "2026-01-01T00:00:00Z"

CORE_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{{title}}</dc:title>\
<dc:subject>M3 deliverable</dc:subject><dc:creator>m3docs</dc:creator><cp:keywords>M3</cp:keywords>\
<dc:description>m3docs template: {{kind}}</dc:description><cp:lastModifiedBy>m3docs</cp:lastModifiedBy>\
<cp:revision>1</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:created>\
<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:modified></cp:coreProperties>"""


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
    _furniture_runs(head, "{{program}}", "{{title}}")
    _border(head._p.get_or_add_pPr(), "bottom", RULE, 4, 4)
    foot = section.footer.paragraphs[0]
    _furniture_runs(foot, "{{agency}}  |  Version {{version}}", None)
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
def _page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _guided(doc, heading: str, level: int, guidance: str) -> None:
    doc.add_heading(heading, level)
    doc.add_paragraph(guidance, style="Guidance")


def _cell_text(cell, text: str, style: str, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.style = style
    if text:
        p.add_run(text).bold = bold or None


def _header_row(table, labels: tuple[str, ...]) -> None:
    row = table.rows[0]
    trpr = row._tr.get_or_add_trPr()
    trpr.append(_el("w:cantSplit"))
    trpr.append(_el("w:tblHeader"))
    for cell, label in zip(row.cells, labels):
        _cell_text(cell, label, "Table Heading")
        cell._tc.get_or_add_tcPr().append(_el("w:shd", val="clear", color="auto", fill=NAVY))


def _table(doc, labels: tuple[str, ...], widths: tuple[float, ...]):
    table = doc.add_table(rows=2, cols=len(labels))
    table.style = doc.styles[TABLE_STYLE]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for col, width in zip(table.columns, widths):
        col.width = Inches(width)
        for cell in col.cells:
            cell.width = Inches(width)
    _header_row(table, labels)
    table.rows[1]._tr.get_or_add_trPr().append(_el("w:cantSplit"))
    return table


def _history(doc) -> None:
    doc.add_paragraph("Document History", style="Front Heading")
    table = _table(doc, ("Version", "Date", "Description", "Author"), (0.8, 1.45, 2.75, 1.5))
    for cell, field in zip(table.rows[1].cells, ("version", "date", "description", "author")):
        _cell_text(cell, "{{history_%s}}" % field, "Table Text")
    doc.add_paragraph()


def _approvals(doc) -> None:
    doc.add_paragraph("Approvals", style="Front Heading")
    doc.add_paragraph("By signing below, each approver confirms that this document has been reviewed "
                      "and reflects the agreed position of the organization they represent.")
    table = _table(doc, ("Name and Title", "Signature", "Date"), (2.7, 2.5, 1.3))
    row = table.rows[1]
    row.height = Inches(0.55)
    name, sign, date = row.cells
    _cell_text(name, "{{approver_name}}", "Table Text", bold=True)
    name.add_paragraph("{{approver_title}}", style="Table Text")
    for cell in (sign, date):
        _cell_text(cell, "", "Table Text")


def _toc(doc) -> None:
    doc.add_paragraph("Contents", style="TOC Heading")
    p = doc.add_paragraph(style="toc 1")
    for kind, text in (("begin", None), ("instr", ' TOC \\o "1-2" \\h \\z \\u '),
                       ("separate", None),
                       ("text", "Right-click here and choose Update Field to build the contents."),
                       ("end", None)):
        run = p.add_run()
        if kind == "instr":
            it = OxmlElement("w:instrText")
            it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            it.text = text
            run._r.append(it)
        elif kind == "text":
            run.text = text
        else:
            run._r.append(_el("w:fldChar", fldCharType=kind))


def _cover(doc, kind_line: str) -> None:
    first = doc.add_paragraph("{{agency}}", style="Cover Agency")
    first.paragraph_format.space_before = Pt(110)
    doc.add_paragraph("{{program}}", style="Cover Program")
    rule = doc.add_paragraph()
    _border(rule._p.get_or_add_pPr(), "bottom", NAVY, 18, 1)
    rule.paragraph_format.space_after = Pt(18)
    doc.add_paragraph("{{title}}", style="Title")
    doc.add_paragraph(kind_line, style="Subtitle")
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_before = Pt(170)
    for i, text in enumerate(("Prepared for {{agency}}", "Prepared by {{provider}}",
                              "Version {{version}}", "{{date}}")):
        detail = doc.add_paragraph(text, style="Cover Detail")
        if i == 0:
            _border(detail._p.get_or_add_pPr(), "top", RULE, 6, 8)
    _page_break(doc)


def _front_matter(doc, kind_line: str) -> None:
    _cover(doc, kind_line)
    _history(doc)
    _approvals(doc)
    _page_break(doc)
    _toc(doc)
    _page_break(doc)


def _marker(doc) -> None:
    doc.add_paragraph("{{key_tasks}}")


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
    _front_matter(doc, "Concept of Operations  \u2022  M3 Phase {{phase}}: {{phase_name}}")
    for heading, subsections in CONOPS_SECTIONS:
        doc.add_heading(heading, 1)
        for sub, guidance in subsections:
            _guided(doc, sub, 2, guidance)
    _marker(doc)
    _save(doc, path, "conops")


def _generic(path: Path) -> None:
    doc = _new_document()
    _front_matter(doc, "M3 Phase {{phase}}: {{phase_name}}  \u2022  {{version_label}}")
    doc.add_heading("Introduction", 1)
    _guided(doc, "Purpose", 2, "Explain what this deliverable records, the decision or milestone it "
                               "supports, and who will use it.")
    _guided(doc, "Approach", 2, "Summarize how the content was gathered and validated, and note any "
                                "open questions the reader should know about.")
    _marker(doc)
    _save(doc, path, "generic")


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


def _save(doc, path: Path, kind: str) -> None:
    """Save, then normalize through the package layer with fixed properties."""
    doc.settings.element.append(_el("w:updateFields", val="true"))
    _order_settings(doc.settings.element)
    buf = io.BytesIO()
    doc.save(buf)
    pkg = Template(path, buf.getvalue()).new()
    title = {"conops": "Concept of Operations", "generic": "M3 Deliverable"}[kind]
    core = CORE_XML.replace("{title}", title).replace("{kind}", kind)
    pkg.put("docProps/core.xml", parse_xml(core.encode()))
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
