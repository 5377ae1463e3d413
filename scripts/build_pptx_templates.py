"""Build m3docs' own PowerPoint templates (templates/status.pptx, templates/generic.pptx).

The decks are 16:9 with a navy-and-white design, Arial text and styled tables, and they are
tagged templates: everything a deck shows comes from the document's context
(``m3docs.content.document_context``, the README's "The template context") through tags the
one engine fills (``m3docs/engine/pptx.py``, the README's "Tags in PowerPoint templates"):

* fields are ``{{ ... }}`` tags wherever they show (titles, subtitles, footers, tiles);
* the key-task slides sit between ``{%slide for kt in key_tasks %}`` and
  ``{%slide endfor %}`` (small notes at the slides' top right, removed when filled);
* a table's rows are a ``{%tr for ... %}`` ... ``{%tr endfor %}`` row loop (the control rows,
  tinted here, are removed); a table that grows past its slide continues on copies of the
  slide titled "(continued)";
* status cells and the status tile take the status colours with ``{% cellbg %}`` and
  ``{% textcolor %}``; an activity's text keeps its bold and links with ``{{r ... }}``.

Open one in PowerPoint, restyle or rewrite it, and name the copy in an engagement's
``templates:``. Run ``python scripts/build_pptx_templates.py`` to rebuild into templates/;
the output is normalized through m3docs.ooxml.package, so rebuilding gives identical bytes.
"""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from m3docs.content import STATUS_COLORS as STATUS  # noqa: E402
from m3docs.ooxml.package import Template  # noqa: E402
from m3docs.ooxml.xml import NS, qn, serialize  # noqa: E402
from m3docs.status import STATUS_CODES  # noqa: E402

# The palette of our own deck templates.
NAVY = "1B365D"
BLUE = "2C5A8C"
INK = "1F2A37"
GREY = "5B6675"
RULE = "C9D1DC"
BAND = "F2F5F9"
PANEL = "EEF2F7"
WHITE = "FFFFFF"
NOTE = "FFF6DC"  # the tint of a table's control rows (removed when the deck is filled)
NOTE_INK = "8A6D1F"

SLIDE_W, SLIDE_H = Emu(12192000), Emu(6858000)  # 13.333 x 7.5 in, 16:9
MARGIN = Inches(0.5)
CONTENT_W = SLIDE_W - 2 * MARGIN
FONT = "Arial"
NO_STYLE_TABLE = "{2D5ABB26-0587-4C30-8999-92F81FD0307C}"
FIXED_TIME = "2026-01-01T00:00:00Z"
CENTER = PP_ALIGN.CENTER

# -- theme, master and layouts ----------------------------------------------------------


def _theme(prs: Presentation) -> None:
    """Arial for headings and body, and a navy/blue color scheme."""
    master_part = prs.slide_master.part
    theme_part = next(r.target_part for r in master_part.rels.values()
                      if r.reltype.endswith("/theme"))
    root = etree.fromstring(theme_part.blob)
    scheme = root.find(f".//{qn('a:clrScheme')}")
    scheme.set("name", "m3docs")
    colors = {"dk2": NAVY, "lt2": BAND, "accent1": BLUE, "accent2": "3E8EC2", "accent3": "2E8540",
              "accent4": "F2C037", "accent5": "C0392B", "accent6": "7D5BA6", "hlink": "1F5FAD",
              "folHlink": "7D5BA6"}
    for name, value in colors.items():
        slot = scheme.find(qn(f"a:{name}"))
        for child in list(slot):
            slot.remove(child)
        etree.SubElement(slot, qn("a:srgbClr"), val=value)
    fonts = root.find(f".//{qn('a:fontScheme')}")
    fonts.set("name", "m3docs")
    for kind in ("a:majorFont", "a:minorFont"):
        fonts.find(f"{qn(kind)}/{qn('a:latin')}").set("typeface", FONT)
    theme_part._blob = serialize(root)


def _widen(shapes) -> None:
    """Stretch 4:3 geometry to 16:9 (x positions and widths by 4/3)."""
    for shape in shapes:
        if shape.width is not None and shape.left is not None:
            shape.left = Emu(int(shape.left * 4 / 3))
            shape.width = Emu(int(shape.width * 4 / 3))


def _master(prs: Presentation) -> None:
    """Widescreen placeholders, title style, a navy top band, a footer rule and page number."""
    master = prs.slide_master
    _widen(master.shapes)
    for layout in prs.slide_layouts:
        _widen(layout.shapes)
        for ph in layout.placeholders:
            if ph.placeholder_format.type is not None and ph.name.startswith("Title"):
                ph.left, ph.top, ph.width, ph.height = MARGIN, Inches(0.3), CONTENT_W, Inches(0.75)
    title_style = master.element.find(f".//{qn('p:titleStyle')}/{qn('a:lvl1pPr')}")
    title_style.set("algn", "l")
    rpr = title_style.find(qn("a:defRPr"))
    rpr.set("sz", "2600")
    rpr.set("b", "1")
    for child in list(rpr):
        if etree.QName(child).localname == "solidFill":
            rpr.remove(child)
    fill = etree.Element(qn("a:solidFill"))
    etree.SubElement(fill, qn("a:srgbClr"), val=NAVY)
    rpr.insert(0, fill)
    tree = master.shapes._spTree
    anchor = tree.find(qn("p:grpSpPr"))
    for xml in reversed([_rect_xml(90, "Top band", 0, 0, SLIDE_W, Inches(0.12), NAVY),
                         _rect_xml(91, "Footer rule", MARGIN, Inches(6.98), CONTENT_W,
                                   Emu(9525), RULE),
                         _page_number_xml(92)]):
        anchor.addnext(etree.fromstring(xml))


def _rect_xml(shape_id: int, name: str, x: int, y: int, w: int, h: int, color: str) -> str:
    return (f'<p:sp xmlns:p="{NS["p"]}" xmlns:a="{NS["a"]}"><p:nvSpPr><p:cNvPr id="{shape_id}" '
            f'name="{name}"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr><a:xfrm>'
            f'<a:off x="{int(x)}" y="{int(y)}"/><a:ext cx="{int(w)}" cy="{int(h)}"/></a:xfrm>'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill>'
            f'<a:srgbClr val="{color}"/>'
            f'</a:solidFill><a:ln><a:noFill/></a:ln></p:spPr></p:sp>')


def _page_number_xml(shape_id: int) -> str:
    x, y, w, h = SLIDE_W - MARGIN - Inches(1.0), Inches(7.03), Inches(1.0), Inches(0.3)
    return (f'<p:sp xmlns:p="{NS["p"]}" xmlns:a="{NS["a"]}"><p:nvSpPr><p:cNvPr id="{shape_id}" '
            f'name="Page number"/><p:cNvSpPr txBox="1"/><p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>'
            f'<a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{w}" cy="{h}"/></a:xfrm><a:prstGeom '
            f'prst="rect"><a:avLst/></a:prstGeom><a:noFill/></p:spPr><p:txBody><a:bodyPr '
            f'wrap="none" lIns="0" rIns="0" tIns="0" bIns="0" anchor="t"/><a:lstStyle/><a:p><a:pPr '
            f'algn="r"/><a:fld id="{{B7E4C2A1-5D3F-4A8B-9C61-2F0E7D3A9B10}}" '
            f'type="slidenum"><a:rPr '
            f'lang="en-US" sz="1000"><a:solidFill><a:srgbClr val="{GREY}"/></a:solidFill></a:rPr>'
            f'<a:t>‹#›</a:t></a:fld><a:endParaRPr lang="en-US" sz="1000"/></a:p></p:txBody></p:sp>')


# -- slide building blocks --------------------------------------------------------------


def _name_slide(slide, name: str) -> None:
    slide.element.find(qn("p:cSld")).set("name", name)


def _text(slide, x, y, w, h, paragraphs, size=12, color=INK, bold=False, align=None,
          anchor=MSO_ANCHOR.TOP, name=None, wrap=True):
    """A text box; ``paragraphs`` is a list of strings or of [(text, bold), ...] lists."""
    box = slide.shapes.add_textbox(x, y, w, h)
    if name:
        box.name = name
    tf = box.text_frame
    tf.word_wrap = wrap
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Inches(0.08)
    tf.margin_top = tf.margin_bottom = Inches(0.05)
    for i, para in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        if align is not None:
            p.alignment = align
        for text, run_bold in ([(para, bold)] if isinstance(para, str) else para):
            run = p.add_run()
            run.text = text
            _font(run.font, size, color, run_bold)
    return box


def _font(font, size, color, bold=False, italic=False) -> None:
    font.size = Pt(size)
    font.bold = bold
    if italic:
        font.italic = True
    font.name = FONT
    font.color.rgb = RGBColor.from_string(color)


def _rect(slide, x, y, w, h, color, shape=MSO_SHAPE.RECTANGLE):
    box = slide.shapes.add_shape(shape, x, y, w, h)
    box.fill.solid()
    box.fill.fore_color.rgb = RGBColor.from_string(color)
    box.line.fill.background()
    box.shadow.inherit = False
    return box


def _slide_tag(slide, tag: str) -> None:
    """A small note at the slide's top right holding a ``{%slide %}`` tag (the engine
    removes it): where a loop over slides opens or closes."""
    _text(slide, SLIDE_W - MARGIN - Inches(4.2), Inches(0.13), Inches(4.2), Inches(0.26),
          [tag], size=9, color=NOTE_INK, align=PP_ALIGN.RIGHT, name="Slide loop")


def _title(slide, text: str) -> None:
    slide.shapes.title.text = text


def _subtitle(slide, text: str) -> None:
    _text(slide, MARGIN, Inches(1.02), CONTENT_W, Inches(0.36), [text], size=12, color=GREY,
          name="Subtitle")


def _footer(slide) -> None:
    _text(slide, MARGIN, Inches(7.03), Inches(10.5), Inches(0.3),
          ["{{ program }}  |  {{ agency }}  |  {{ date }}"], size=10, color=GREY, name="Footer")


def _context(slide, y) -> None:
    """A tinted panel with the key task's objective, inputs and outputs; it is set to fit its
    text, so the engine grows it and moves the table below it down."""
    listed = "{{ kt.%s | map(attribute='title') | join('; ') or 'None listed' }}"
    box = _text(slide, MARGIN, y, CONTENT_W, Inches(0.8),
                [[("Objective:  ", True), ("{{r kt.objective }}", False)],
                 [("Inputs:  ", True), (listed % "inputs", False)],
                 [("Outputs:  ", True), (listed % "outputs", False)]], size=12,
                name="Key task context")
    box.fill.solid()
    box.fill.fore_color.rgb = RGBColor.from_string(PANEL)
    tf = box.text_frame
    tf.auto_size = MSO_AUTO_SIZE.SHAPE_TO_FIT_TEXT
    tf.margin_left = Inches(0.15)
    tf.margin_top = tf.margin_bottom = Inches(0.08)
    for p in tf.paragraphs:
        p.space_after = Pt(3)


def _table(slide, name, x, y, columns, rows, header_size=12, body_size=11, rows_h=0.3):
    """A table named ``name``: a header row, then ``rows``: a list of cell texts is a row
    (``columns`` give its alignment), a string is a row of one cell across the table (a
    control row such as ``{%tr for ... %}``, tinted, or a message row).

    ``columns`` is a list of (header, width in inches, alignment[, bold]).
    """
    width = sum(Inches(c[1]) for c in columns)
    n = len(columns)
    frame = slide.shapes.add_table(1 + len(rows), n, x, y, width,
                                   Inches(0.42 + rows_h * len(rows)))
    frame.name = name
    table = frame.table
    tbl_pr = table._tbl.tblPr
    tbl_pr.set("firstRow", "1")
    tbl_pr.set("bandRow", "0")
    tbl_pr.find(qn("a:tableStyleId")).text = NO_STYLE_TABLE
    for i, (header, inches, align, *_) in enumerate(columns):
        table.columns[i].width = Inches(inches)
        _cell(table.cell(0, i), header, header_size, WHITE, NAVY, True, align)
    table.rows[0].height = Inches(0.42)
    for r, row in enumerate(rows, 1):
        control = isinstance(row, str) and row.startswith(("{%tr", "{#tr"))
        texts = [row] + [""] * (n - 1) if isinstance(row, str) else row
        for i, (text, column) in enumerate(zip(texts, columns)):
            align = PP_ALIGN.LEFT if isinstance(row, str) else column[2]
            bold = len(column) > 3 and column[3] and not isinstance(row, str)
            if control:
                _cell(table.cell(r, i), text, 9, NOTE_INK, NOTE, False, align, italic=True)
            else:
                _cell(table.cell(r, i), text, body_size, INK, WHITE, bold, align)
        if isinstance(row, str):
            table.cell(r, 0).merge(table.cell(r, n - 1))
        table.rows[r].height = Inches(0.24 if control else rows_h)
    return frame


RICH_TAG = re.compile(r"(\{\{r\s.*?\}\})")  # stands for its whole run: other tags stay out


def _cell(cell, text, size, color, fill, bold, align, italic=False) -> None:
    cell.margin_left = cell.margin_right = Inches(0.08)
    cell.margin_top = cell.margin_bottom = Inches(0.05)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    tf = cell.text_frame
    tf.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.alignment = align
        for piece in (x for x in RICH_TAG.split(line) if x):  # a {{r }} tag: a run of its own
            run = p.add_run()
            run.text = piece
            _font(run.font, size, color, bold, italic)
    tc_pr = cell._tc.get_or_add_tcPr()
    for child in list(tc_pr):
        tc_pr.remove(child)
    for side in ("lnL", "lnR", "lnT", "lnB"):
        ln = etree.SubElement(tc_pr, qn(f"a:{side}"), w="9525", cap="flat", cmpd="sng")
        if side in ("lnL", "lnR"):
            etree.SubElement(ln, qn("a:noFill"))
        else:
            f = etree.SubElement(ln, qn("a:solidFill"))
            etree.SubElement(f, qn("a:srgbClr"), val=RULE)
    f = etree.SubElement(tc_pr, qn("a:solidFill"))
    etree.SubElement(f, qn("a:srgbClr"), val=fill)


def _legend(slide, y) -> None:
    """The status-code legend as a footer strip: a colored chip and label per code."""
    _text(slide, MARGIN, y, Inches(0.8), Inches(0.3), ["Status:"], size=10, color=GREY,
          bold=True, anchor=MSO_ANCHOR.MIDDLE, name="Legend")
    x = MARGIN + Inches(0.8)
    for code, label in STATUS_CODES.items():
        _, fill, ink = STATUS[code]
        chip = _rect(slide, x, y + Inches(0.04), Inches(0.26), Inches(0.22), fill)
        chip.name = f"Legend {code}"
        tf = chip.text_frame
        tf.margin_left = tf.margin_right = tf.margin_top = tf.margin_bottom = 0
        tf.paragraphs[0].alignment = CENTER
        run = tf.paragraphs[0].add_run()
        run.text = code
        _font(run.font, 9, ink, True)
        width = Inches(0.066 * len(label) + 0.05)
        box = _text(slide, x + Inches(0.32), y, width, Inches(0.3), [label], size=10, color=INK,
                    anchor=MSO_ANCHOR.MIDDLE, wrap=False, name=f"Legend {code} label")
        box.text_frame.margin_left = box.text_frame.margin_right = 0
        x += Inches(0.32) + width + Inches(0.25)


PERCENT = "{{ %s.percent_complete ~ '%%' if %s.percent_complete is not none else '—' }}"


def _tiles(slide, y) -> None:
    """Key figures of a key task as tiles; the status tile takes the status colours."""
    tiles = [("% COMPLETE", PERCENT % ("kt", "kt"), 2.2, "Percent complete"),
             ("{% cellbg kt.status_fill %}{% textcolor kt.status_text_color %}STATUS",
              "{{ kt.status ~ ' (' ~ kt.status_label ~ ')' if kt.status else 'Not reported' }}",
              4.533, "Status"),
             ("START", "{{ kt.start_text or 'Not set' }}", 2.7, "Start"),
             ("FINISH", "{{ kt.finish_text or 'Not set' }}", 2.7, "Finish")]
    gap = (CONTENT_W - sum(Inches(t[2]) for t in tiles)) // (len(tiles) - 1)
    x = MARGIN
    for label, value, inches, name in tiles:
        box = _text(slide, x, y, Inches(inches), Inches(0.85),
                    [[(label, True)], [(value, True)]], size=10, color=GREY, name=name)
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor.from_string(PANEL)
        tf = box.text_frame
        tf.margin_left = Inches(0.15)
        tf.margin_top = Inches(0.1)
        _font(tf.paragraphs[1].runs[0].font, 18, NAVY, True)
        x += Inches(inches) + gap


def _title_slide(prs, lines: list[tuple[str, int, str, bool]], name: str) -> None:
    """A navy title slide: an accent bar and stacked lines (text, size, color, bold)."""
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    _name_slide(slide, name)
    slide.element.set("showMasterSp", "0")
    bg = slide.background.fill
    bg.solid()
    bg.fore_color.rgb = RGBColor.from_string(NAVY)
    _rect(slide, 0, Inches(6.9), SLIDE_W, Inches(0.6), "16304F")
    _rect(slide, Inches(0.8), Inches(2.05), Inches(0.1), Inches(2.9), "3E8EC2")
    title, sub = slide.placeholders[0], slide.placeholders[1]
    text, size, color, bold = lines[0]
    title.left, title.top, title.width, title.height = (Inches(1.1), Inches(1.95), Inches(11.4),
                                                       Inches(1.45))
    title.text_frame.word_wrap = True
    title.text_frame.vertical_anchor = MSO_ANCHOR.BOTTOM
    title.text_frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
    p = title.text_frame.paragraphs[0]
    p.alignment = PP_ALIGN.LEFT
    run = p.add_run()
    run.text = text
    _font(run.font, size, color, bold)
    sub.left, sub.top, sub.width, sub.height = Inches(1.1), Inches(3.5), Inches(11.4), Inches(1.6)
    sub.text_frame.word_wrap = True
    sub.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    for i, (text, size, color, bold) in enumerate(lines[1:]):
        p = sub.text_frame.paragraphs[0] if i == 0 else sub.text_frame.add_paragraph()
        p.alignment = PP_ALIGN.LEFT
        p.space_after = Pt(6)
        run = p.add_run()
        run.text = text
        _font(run.font, size, color, bold)
    _text(slide, Inches(1.1), Inches(6.98), Inches(11.4), Inches(0.42), [BYLINE], size=12,
          color="C9D6E8", anchor=MSO_ANCHOR.MIDDLE, name="Byline")


BYLINE = ("{% if provider %}{{ provider }}  |  {% endif %}Phase {{ document.phase }}  |  "
          "{{ document.version_label }}{% if version %} (v{{ version }}){% endif %}")


def _content_slide(prs, name: str, title: str, subtitle: str):
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _name_slide(slide, name)
    _title(slide, title)
    _subtitle(slide, subtitle)
    _footer(slide)
    return slide


def _new_presentation() -> Presentation:
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    _theme(prs)
    _master(prs)
    return prs


# -- the two decks ---------------------------------------------------------------------
L, C = PP_ALIGN.LEFT, PP_ALIGN.CENTER
EACH_KEY_TASK = "{%slide for kt in key_tasks %}"
END_KEY_TASKS = "{%slide endfor %}"
BAND_ROW = "{%% set band = loop.cycle('%s', '%s') %%}" % (WHITE, BAND)  # rows alternate fills
BANDED = "{% cellbg band %}"
STATUS_CELL = ("{% cellbg a.status_fill or band %}{% textcolor a.status_text_color %}"
               "{{ a.status or '—' }}")


def _banded(cells: list[str]) -> list[str]:
    """A loop's row whose cells alternate white and banded fills (the first cell picks the
    fill for its row; a cell's own ``{% cellbg %}`` may use ``band`` too)."""
    return [BAND_ROW * (i == 0) + BANDED + cell for i, cell in enumerate(cells)]


def _bullets(items: str) -> str:
    """A cell's lines: one bullet paragraph per item, or "None reported."."""
    return "\n".join(("{%p for t in kt." + items + " %}", "• {{ t }}", "{%p else %}",
                      "None reported.", "{%p endfor %}"))


def status_deck() -> Presentation:
    """Status report: title, then per key task activities, risks/issues, accomplishments."""
    prs = _new_presentation()
    _title_slide(prs, [("{{ program }}", 40, WHITE, True), ("{{ agency }}", 24, "C9D6E8", False),
                       ("Status Report — {{ date }}", 20, WHITE, False)], "Title")
    slide = _content_slide(prs, "Major activities", "Major Activities — {{ kt.id }}",
                           "{{ kt.name }}  |  As of {{ date }}")
    _slide_tag(slide, EACH_KEY_TASK)
    _table(slide, "Major activities", MARGIN, Inches(1.5), [
        ("IMS Ref", 0.9, C), ("Activity", 6.08, L), ("Owner", 2.2, L), ("% Complete", 1.15, C),
        ("Finish", 1.2, C), ("Status", 0.8, C, True)], [
        "{%tr for a in kt.activities %}",
        _banded(["{{ a.number }}", "{{r a.text }}", "{{ a.owner or 'TBD' }}", PERCENT % ("a", "a"),
                 "{{ a.finish_short or '—' }}"]) + [STATUS_CELL],
        "{%tr else %}", "No activities are listed for this key task.", "{%tr endfor %}"])
    _legend(slide, Inches(6.58))
    slide = _content_slide(
        prs, "Risks and issues", "Risks and Issues — {{ kt.id }}",
        "{{ kt.name }}  |  {% if kt.percent_complete is not none %}{{ kt.percent_complete }}% "
        "complete  |  {% endif %}Status: {% if kt.status %}{{ kt.status }} "
        "({{ kt.status_label }}){% else %}not reported{% endif %}")
    _context(slide, Inches(1.5))
    _table(slide, "Risks and issues", MARGIN, Inches(2.5), [
        ("#", 0.6, C), ("Type", 1.3, C), ("Description", 10.433, L)], [
        "{%tr for r in risks_and_issues if r.key_task == kt.id %}",
        _banded(["{{ loop.index }}", "{{ r.type }}", "{{ r.text }}"]), "{%tr else %}",
        ["—", "—", "No risks or issues reported as of {{ date }}."], "{%tr endfor %}"])
    slide = _content_slide(prs, "Accomplishments and upcoming activities",
                           "Accomplishments and Upcoming Activities — {{ kt.id }}",
                           "{{ kt.name }}  |  As of {{ date }}")
    _slide_tag(slide, END_KEY_TASKS)
    _tiles(slide, Inches(1.5))
    _table(slide, "Accomplishments and upcoming activities", MARGIN, Inches(2.55), [
        ("Key Recent Accomplishments", 6.1665, L), ("Key Upcoming Activities", 6.1665, L)],
        [[_bullets("accomplishments"), _bullets("upcoming")]])
    return prs


def generic_deck() -> Presentation:
    """Briefing/dashboard starter: title, then per key task activities and stakeholders."""
    prs = _new_presentation()
    _title_slide(prs, [("{{ document.title }}", 40, WHITE, True),
                       ("{{ program }}", 24, "C9D6E8", False), ("{{ agency }}", 20, WHITE, False),
                       ("{{ date }}", 16, "C9D6E8", False)], "Title")
    slide = _content_slide(prs, "Activities", "Key Task {{ kt.id }} — Activities",
                           "{{ kt.name }}  |  {% if kt.workstream %}{{ kt.workstream }}  |  "
                           "{% endif %}Phase {{ document.phase }}")
    _slide_tag(slide, EACH_KEY_TASK)
    _context(slide, Inches(1.5))
    _table(slide, "Activities", MARGIN, Inches(2.5), [
        ("#", 0.6, C), ("Activity", 7.433, L), ("Responsible Party", 1.9, C), ("Owner", 2.4, L)], [
        "{%tr for a in kt.activities %}",
        _banded(["{{ a.index }}", "{{r a.text }}", "{{ a.party or '—' }}",
                 "{{ a.owner or 'TBD' }}"]),
        "{%tr else %}", "No activities are listed for this key task.", "{%tr endfor %}"])
    slide = _content_slide(prs, "Stakeholders", "Key Task {{ kt.id }} — Stakeholders",
                           "{{ kt.name }}  |  Who takes part for each party")
    _slide_tag(slide, END_KEY_TASKS)
    _table(slide, "Stakeholders", MARGIN, Inches(1.5), [
        ("Role", 4.733, L), ("Customer", 3.8, L), ("Provider", 3.8, L)], [
        "{%tr for s in kt.stakeholders if s.named %}",
        _banded(["{{r s.role }}", "{{ s.customer or '—' }}", "{{ s.provider or '—' }}"]),
        "{%tr endfor %}", "{%tr if kt.unnamed_roles %}", "To be named: {{ kt.unnamed_roles }}",
        "{%tr elif not kt.stakeholders %}", "No stakeholders are listed for this key task.",
        "{%tr endif %}"])
    return prs


DECKS = {"status.pptx": (status_deck, "M3 Status Report"),
         "generic.pptx": (generic_deck, "M3 Briefing")}


# -- normalization -----------------------------------------------------------------------


def _core_xml(title: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            f'xmlns:cp="{NS["cp"]}" xmlns:dc="{NS["dc"]}" xmlns:dcterms="{NS["dcterms"]}" '
            f'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="{NS["xsi"]}"><dc:title>'
            f'{title}</dc:title><dc:creator>m3docs</dc:creator><cp:lastModifiedBy>m3docs'
            f'</cp:lastModifiedBy><cp:revision>1</cp:revision><dcterms:created xsi:type='
            f'"dcterms:W3CDTF">{FIXED_TIME}</dcterms:created><dcterms:modified xsi:type='
            f'"dcterms:W3CDTF">{FIXED_TIME}</dcterms:modified></cp:coreProperties>').encode()


def _app_xml(slides: int) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://'
            'schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://'
            'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>m3docs'
            '</Application><PresentationFormat>Widescreen</PresentationFormat>'
            f'<Slides>{slides}</Slides><Notes>0</Notes><HiddenSlides>0</HiddenSlides>'
            '</Properties>').encode()


def normalize(data: bytes, title: str, slides: int) -> bytes:
    """Re-zip deterministically; fixed core/app properties; no thumbnail or printer settings."""
    pkg = Template("template.pptx", data).new()
    pkg.put("docProps/core.xml", _core_xml(title))
    pkg.put("docProps/app.xml", _app_xml(slides))
    leftovers = ("docProps/thumbnail", "ppt/printerSettings")
    for name in [n for n in pkg.names if n.startswith(leftovers)]:
        pkg.remove(name)
    for rels_part in ("_rels/.rels", "ppt/_rels/presentation.xml.rels"):
        rels = pkg.xml(rels_part)
        for rel in list(rels):
            if rel.get("Target", "").lstrip("/").startswith(("docProps/thumbnail",
                                                             "printerSettings")):
                rels.remove(rel)
    return pkg.to_bytes()


def build(out_dir: Path) -> list[Path]:
    """Build every deck template into ``out_dir``; return the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, (make, title) in DECKS.items():
        prs = make()
        buf = io.BytesIO()
        prs.save(buf)
        path = out_dir / filename
        path.write_bytes(normalize(buf.getvalue(), title, len(prs.slides)))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in build(ROOT / "templates"):
        print(written_path)
