"""The Word annotator: the tags an official Word template needs, inferred from its text.

It reads a template as the old in-place filler did (the blank rules of
``blanks.py``, the table rules of ``tables.py``) but writes tags:

* A blank (``[Name of Customer Agency]``, ``<<INSERT NAME OF PROGRAM>>``, ``Day, Month, Year``,
  ``Version 1.0`` on a short line, the engagement's own placeholders) becomes a field over the
  context's names (``{{ agency }}``, ``{{ date }}``, ``{{ placeholders["[Bureau]"] }}``), in the
  run that held it, so it keeps that run's formatting. The approvers' ``<<Insert Name>>`` and
  ``<<Insert Title>>`` take turns (``approvers[0].name``, then ``approvers[1].name``) and keep
  the blank when the engagement names fewer people. A signing block's date and guidance
  (``<<Describe ...>>``) stay as they are.
* A content control whose placeholder became a field leaves placeholder mode.
* A table whose header names a feed's columns (``tables.FEED_RULES``) becomes a ``{%tr for %}``
  loop over the context's list, in the look of its first blank (else example) row. The example
  and instruction rows it replaces stay only in the loop's ``{%tr else %}`` (what the document
  shows when the list is empty); the rows that close the table (a total, a note, a sign-off)
  stay below the loop.
* The key-task context becomes a last section, in the template's own heading styles.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from lxml import etree

from ..ooxml.package import Template, per_template
from ..ooxml.package import main_part as package_main_part
from ..ooxml.placeholders import paragraph_text
from ..ooxml.xml import clean_text, qn
from ..playbook.model import Playbook
from .tables import (ACTIVITIES_PLACED, ACTIVITY_HEADER, FEED_RULES, Feed,
                                         TemplateRow, best_feed, kept_rows_start,
                                         prototype_index, row_kind)
from ..ooxml.wordtoc import Numbering, number_headings
from .fields import BlankTagger, field_tag

W_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
TEXT_PART_TYPES = ("header+xml", "footer+xml", "footnotes+xml", "endnotes+xml")
PROPERTY_TYPES = ("extended-properties+xml", "core-properties+xml")
MAIN_TYPES = ("document.main+xml", "document.macroEnabled.main+xml", "template.main+xml",
              "template.macroEnabledTemplate.main+xml")
PLACEHOLDER_STYLE = "PlaceholderText"   # the run style Word gives a control's placeholder
W_P, W_T, W_TC, W_TR, W_R = (qn(f"w:{x}") for x in ("p", "t", "tc", "tr", "r"))
W_TCPR, W_TRPR, W_PPR, W_RPR = (qn(f"w:{x}") for x in ("tcPr", "trPr", "pPr", "rPr"))
W_SPAN, W_BEFORE, W_VAL = qn("w:gridSpan"), qn("w:gridBefore"), qn("w:val")


class Tagger(BlankTagger):
    """The filler's reading of blanks, writing a field for each instead of its value."""

    def __init__(self, placeholders: tuple[str, ...] = ()):
        self.notes: list[str] = []
        self.where = ""
        super().__init__(placeholders)

    def repl(self, m: re.Match) -> str | None:
        """The field for one blank (None leaves it), noted for ``m3docs tag``."""
        out = super().repl(m)
        if out is not None:
            self.notes.append(f"{self.where}: {m.group(0)} -> {out}")
        return out


# -- content controls -----------------------------------------------------------------------
def _placeholder_flag(sdt: etree._Element) -> etree._Element | None:
    return sdt.find(qn("w:sdtPr") + "/" + qn("w:showingPlcHdr"))


def _texts(el: etree._Element) -> list[str]:
    return [t.text or "" for t in el.iter(qn("w:t"))]


def leave_placeholder(sdt: etree._Element) -> None:
    """Mark a control as holding real content: drop the flag and the placeholder look."""
    flag = _placeholder_flag(sdt)
    if flag is not None:
        flag.getparent().remove(flag)
    content = sdt.find(qn("w:sdtContent"))
    for style in (list(content.iter(qn("w:rStyle"))) if content is not None else []):
        if style.get(qn("w:val")) == PLACEHOLDER_STYLE and style.getparent().tag == qn("w:rPr"):
            style.getparent().remove(style)


def _tag_paragraphs(root: etree._Element, tagger: Tagger) -> None:
    """Every blank of a part as a field; the controls that now hold one leave placeholder
    mode."""
    shown = [sdt for sdt in root.iter(qn("w:sdt")) if _placeholder_flag(sdt) is not None]
    before = {id(sdt): _texts(sdt) for sdt in shown}
    for p in root.iter(qn("w:p")):
        tagger.paragraph(p, qn("w:t"))
    for sdt in shown:
        if _texts(sdt) != before[id(sdt)]:
            leave_placeholder(sdt)


# -- table cells ----------------------------------------------------------------------------
def cells(tr: etree._Element) -> list[tuple[int, etree._Element]]:
    """(grid column, cell) for the cells of a row, honoring gridSpan and gridBefore."""
    col = 0
    trpr = tr.find(W_TRPR)   # one step at a time: lxml's path search is slower
    before = trpr.find(W_BEFORE) if trpr is not None else None
    if before is not None:
        value = before.get(W_VAL, "0")
        col = int(value) if value.isdigit() else 0
    out = []
    for tc in tr.findall(W_TC):
        out.append((col, tc))
        col += _span(tc)
    return out


def _span(tc: etree._Element) -> int:
    tcpr = tc.find(W_TCPR)
    span = tcpr.find(W_SPAN) if tcpr is not None else None
    value = span.get(W_VAL, "1") if span is not None else "1"
    return int(value) if value.isdigit() else 1


def _cell_paragraphs(tc: etree._Element) -> list[etree._Element]:
    """The cell's own paragraphs, also those inside content controls (not nested tables')."""
    out = []
    for p in tc.iter(W_P):
        node = p.getparent()
        while node is not tc and node.tag != W_TC:
            node = node.getparent()
        if node is tc:
            out.append(p)
    return out


def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, W_T) for p in _cell_paragraphs(tc))


def _row_shape(tr: etree._Element) -> TemplateRow:
    found = cells(tr)
    computed = tr.find(".//" + qn("w:fldSimple")) is not None or \
        tr.find(".//" + qn("w:instrText")) is not None
    return TemplateRow([cell_text(tc) for _, tc in found], tuple(_span(tc) for _, tc in found),
                       computed)


def _run_props(tc: etree._Element) -> etree._Element | None:
    """The cell's first run's properties, else its first paragraph mark's."""
    for tag in (W_R, W_PPR):
        for el in tc.iter(tag):
            rpr = el.find(W_RPR)
            if rpr is not None:
                return copy.deepcopy(rpr)
    return None


def set_cell_text(tc: etree._Element, text: str) -> None:
    """Replace a cell's text, keeping its first paragraph's and first run's formatting (and
    the content control it sits in, if any)."""
    paragraphs = _cell_paragraphs(tc)
    rpr = _run_props(tc)
    p = paragraphs[0] if paragraphs else etree.SubElement(tc, qn("w:p"))
    for extra in paragraphs[1:]:
        _remove_block(extra, tc)
    for child in list(p):
        if child.tag != qn("w:pPr"):
            p.remove(child)
    if text:
        p.append(make_run(text, rpr))


def _remove_block(p: etree._Element, tc: etree._Element) -> None:
    """Remove a paragraph, and the content controls it leaves empty, up to the cell."""
    parent = p.getparent()
    parent.remove(p)
    while parent is not tc and parent.tag == qn("w:sdtContent") and not len(parent):
        sdt = parent.getparent()
        parent = sdt.getparent()
        parent.remove(sdt)


def make_run(text: str, rpr: etree._Element | None = None) -> etree._Element:
    run = etree.Element(qn("w:r"))
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    for i, line in enumerate(clean_text(text)[0].split("\n")):
        if i:
            etree.SubElement(run, qn("w:br"))
        t = etree.SubElement(run, qn("w:t"))
        t.text = line
        if line != line.strip():
            t.set(XML_SPACE, "preserve")
    return run


# -- tables as loops ------------------------------------------------------------------------
@dataclass(frozen=True)
class Loop:
    """How a feed's rows come from the context: the row blocks that open (outermost first;
    a ``for`` or an ``if``) and each field's expression."""

    opens: tuple[str, ...]
    cells: dict[str, str]


def _percent(var: str) -> str:
    return f'{var}.percent_complete ~ "%" if {var}.percent_complete is not none else ""'


LOOPS: dict[str, Loop] = {
    "activities": Loop(("for kt in key_tasks if kt.activities", "for a in kt.activities"), {
        "ims": "a.number", "percent": _percent("a"), "activity": "a.text",
        "owner": "kt.owner or a.owner or a.party", "start": "a.start_mdyyyy",
        "finish": "a.finish_mdyyyy", "actual_finish": "a.actual_finish_mdyyyy",
        "status": "a.status", "key_task": "kt.title", "workstream": "kt.workstream"}),
    "milestones": Loop(("for kt in key_tasks if kt.outputs", "for o in kt.outputs"), {
        "ims": "kt.id", "milestone": 'o.title ~ " complete"',
        "owner": "kt.owner or kt.party_leads", "finish": "kt.finish_mdyyyy",
        "actual_finish": 'kt.finish_mdyyyy if kt.status == "B" else ""',
        "status": "kt.status", "notes": '"Key task " ~ kt.title'}),
    "requirements": Loop(("for r in rtm",), {f: f"r.{f}" for f in (
        "id", "sub_process", "process_area", "description", "type", "source", "priority",
        "decision_maker", "status", "fit_gap", "test_cases", "notes")}),
    "risks": Loop(("for r in risks_and_issues",), {
        "number": "r.number", "risk": "r.text", "owner": "r.owner", "status": '"Open"'}),
    "highlights": Loop(("if accomplishments or upcoming",), {
        "accomplishments": 'accomplishments|join("\\n", attribute="text")',
        "upcoming": 'upcoming|join("\\n", attribute="text")'}),
    "stakeholders": Loop(("for s in stakeholder_rows",), {
        "role": "s.role", "name": "s.name", "party": "s.party"}),
    "history": Loop(("for h in history",), {
        "version": "h.version", "date": "h.date", "author": "h.author",
        "description": "h.description"}),
}
_ANY_ROWS = [{"": ""}]   # every feed may have rows: the header alone decides


def _control_row(proto: etree._Element, tag: str) -> etree._Element:
    """A row holding one structural tag (the engine removes the whole row)."""
    row = copy.deepcopy(proto)
    for i, (_, tc) in enumerate(cells(row)):
        set_cell_text(tc, tag if i == 0 else "")
    return row


def _loop_row(proto: etree._Element, by_grid: dict[int, str], loop: Loop,
              is_header: bool) -> etree._Element:
    row = copy.deepcopy(proto)
    if is_header:
        trpr = row.find(qn("w:trPr"))
        for el in (trpr.findall(qn("w:tblHeader")) if trpr is not None else []):
            trpr.remove(el)
    for col, tc in cells(row):
        expr = loop.cells.get(by_grid.get(col, ""))
        set_cell_text(tc, field_tag(expr) if expr else "")
    for sdt in row.iter(qn("w:sdt")):
        if any(_texts(sdt)):
            leave_placeholder(sdt)
    return row


def _closing(opens: tuple[str, ...]) -> list[str]:
    return ["end" + statement.split(None, 1)[0] for statement in reversed(opens)]


def tag_table(tbl: etree._Element, feeds: list[Feed]) -> tuple[str, list[str]] | None:
    """Make a table whose header names a feed's columns a row loop; returns (the feed's
    name, the header's texts), or None when the table is not one the feeds fill."""
    rows = tbl.findall(qn("w:tr"))
    for h, header in enumerate(rows[:3]):
        found_cells = cells(header)
        headers = [cell_text(tc) for _, tc in found_cells]
        found = best_feed(feeds, headers)
        if found is None:
            continue
        feed, columns = found
        loop = LOOPS[feed.rule.name]
        by_grid = {found_cells[i][0]: name for i, name in columns.items()}
        below = rows[h + 1:]
        shapes = [_row_shape(tr) for tr in below]
        stay = kept_rows_start(shapes, _row_shape(header).layout)
        slots, kept = below[:stay], below[stay:]
        kinds = [row_kind(shape.texts) for shape in shapes[:stay]]
        proto = slots[prototype_index(kinds)] if slots else header
        tags = [f"{{%tr {statement} %}}" for statement in loop.opens]
        new = [_control_row(proto, tag) for tag in tags]
        new.append(_loop_row(proto, by_grid, loop, is_header=proto is header))
        closing = _closing(loop.opens)
        new += [_control_row(proto, f"{{%tr {word} %}}") for word in closing[:-1]]
        if slots:   # the template's own rows, for a document with nothing to list
            new.append(_control_row(proto, "{%tr else %}"))
            new += slots
        new.append(_control_row(proto, f"{{%tr {closing[-1]} %}}"))
        for tr in slots:
            tbl.remove(tr)
        for row in new:
            if kept:
                kept[0].addprevious(row)
            else:
                tbl.append(row)
        return feed.rule.name, headers
    return None


# -- the key-task context section -----------------------------------------------------------
HEADING_STYLES = {"h1": "Heading1", "h2": "Heading2"}
SPACE_BEFORE = 360        # a key task's heading sets it apart from the one before
HEAD_FILL, GROUP_FILL, BORDER = "D9D9D9", "F2F2F2", "A6A6A6"
TABLE_FONT = 20           # half-points: 10 pt in the context tables
CELL_PADDING = 260        # left and right cell margins together, in twentieths of a point
NUMBER_WIDTH = 1140       # "10.12.14" on one line in 10 pt
OWNER_WIDTH = 1800        # "Jordan Avery /" on one line in 10 pt
CONTEXT_TITLE = "M3 Key Task Context"
INTRO = ("Prefilled for {{ agency }}, {{ program }}, as of {{ date }}, from the M3 Playbook key "
         "tasks that produce or use this document.")
STATUS = ("Status: {{ kt.status_label or kt.status }}{% if kt.percent_complete is not none %}, "
          "{{ kt.percent_complete }}% complete{% endif %}{% if kt.finish %}, finish "
          "{{ kt.finish_mdyyyy }}{% endif %}")


def _bold(size: int | None = None) -> etree._Element:
    rpr = etree.Element(qn("w:rPr"))
    etree.SubElement(rpr, qn("w:b"))
    if size:
        _size(rpr, size)
    return rpr


def _size(rpr: etree._Element, size: int) -> etree._Element:
    etree.SubElement(rpr, qn("w:sz")).set(qn("w:val"), str(size))
    etree.SubElement(rpr, qn("w:szCs")).set(qn("w:val"), str(size))
    return rpr


def _paragraph(text: str, style: str | None = None, label: str = "",
               keep_next: bool = False, space_before: int = 0) -> etree._Element:
    """A paragraph; ``label`` (the text's lead-in) in bold."""
    p = etree.Element(qn("w:p"))
    if style or keep_next or space_before:
        ppr = etree.SubElement(p, qn("w:pPr"))
        if style:
            etree.SubElement(ppr, qn("w:pStyle")).set(qn("w:val"), style)
        if keep_next:
            etree.SubElement(ppr, qn("w:keepNext"))
        if space_before:
            etree.SubElement(ppr, qn("w:spacing")).set(qn("w:before"), str(space_before))
    rest = text
    if label and text.startswith(label):
        p.append(make_run(text[:len(label)] + (":" if text[len(label):] else ""), _bold()))
        rest = text[len(label):].lstrip(":")
    if rest:
        p.append(make_run(rest))
    return p


def _control(statement: str) -> etree._Element:
    """A paragraph holding one ``{%p %}`` tag (the engine removes the whole paragraph)."""
    return _paragraph(f"{{%p {statement} %}}")


def _labelled(label: str, value: str, condition: str) -> list[etree._Element]:
    return [_control(f"if {condition}"), _paragraph(f"{label}: {value}", label=label),
            _control("endif")]


def _unnumbered(p: etree._Element) -> None:
    """Turn off the list numbering a heading style would add (numId 0: no list)."""
    ppr = p.find(qn("w:pPr"))
    numpr = etree.Element(qn("w:numPr"))
    etree.SubElement(numpr, qn("w:ilvl")).set(qn("w:val"), "0")
    etree.SubElement(numpr, qn("w:numId")).set(qn("w:val"), "0")
    before = [c for c in ppr if c.tag in (qn("w:pStyle"), qn("w:keepNext"))]
    (before[-1].addnext(numpr) if before else ppr.insert(0, numpr))


def _bullet(text: str) -> etree._Element:
    """A bullet with a hanging indent (no numbering part needed)."""
    p = etree.Element(qn("w:p"))
    ppr = etree.SubElement(p, qn("w:pPr"))
    etree.SubElement(ppr, qn("w:spacing")).set(qn("w:after"), "60")
    ind = etree.SubElement(ppr, qn("w:ind"))
    ind.set(qn("w:left"), "360")
    ind.set(qn("w:hanging"), "360")
    run = etree.SubElement(p, qn("w:r"))
    etree.SubElement(run, qn("w:t")).text = "\u2022"
    etree.SubElement(run, qn("w:tab"))
    p.append(make_run(text))
    return p


def _page_break() -> etree._Element:
    p = etree.Element(qn("w:p"))
    etree.SubElement(etree.SubElement(p, qn("w:r")), qn("w:br")).set(qn("w:type"), "page")
    return p


def _table_props(tbl: etree._Element, width: int) -> None:
    tblpr = etree.SubElement(tbl, qn("w:tblPr"))
    tblw = etree.SubElement(tblpr, qn("w:tblW"))
    tblw.set(qn("w:w"), str(width))
    tblw.set(qn("w:type"), "dxa")
    borders = etree.SubElement(tblpr, qn("w:tblBorders"))
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b = etree.SubElement(borders, qn(f"w:{side}"))
        for k, v in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", BORDER)):
            b.set(qn(f"w:{k}"), v)
    etree.SubElement(tblpr, qn("w:tblLayout")).set(qn("w:type"), "fixed")
    margins = etree.SubElement(tblpr, qn("w:tblCellMar"))
    for side in ("left", "right"):
        m = etree.SubElement(margins, qn(f"w:{side}"))
        m.set(qn("w:w"), str(CELL_PADDING // 2))
        m.set(qn("w:type"), "dxa")


def _cell(tr: etree._Element, text: str, width: int, span: int = 1, fill: str = "",
          bold: bool = False) -> None:
    tc = etree.SubElement(tr, qn("w:tc"))
    tcpr = etree.SubElement(tc, qn("w:tcPr"))
    tcw = etree.SubElement(tcpr, qn("w:tcW"))
    tcw.set(qn("w:w"), str(width))
    tcw.set(qn("w:type"), "dxa")
    if span > 1:
        etree.SubElement(tcpr, qn("w:gridSpan")).set(qn("w:val"), str(span))
    if fill:
        shd = etree.SubElement(tcpr, qn("w:shd"))
        for k, v in (("val", "clear"), ("color", "auto"), ("fill", fill)):
            shd.set(qn(f"w:{k}"), v)
    p = etree.SubElement(tc, qn("w:p"))
    spacing = etree.SubElement(etree.SubElement(p, qn("w:pPr")), qn("w:spacing"))
    for k, v in (("before", "40"), ("after", "40"), ("line", "240"), ("lineRule", "auto")):
        spacing.set(qn(f"w:{k}"), v)
    p.append(make_run(text, _bold(TABLE_FONT) if bold else
                      _size(etree.Element(qn("w:rPr")), TABLE_FONT)))


def _row(tbl: etree._Element, header: bool = False) -> etree._Element:
    tr = etree.SubElement(tbl, qn("w:tr"))
    trpr = etree.SubElement(tr, qn("w:trPr"))
    etree.SubElement(trpr, qn("w:cantSplit"))
    if header:
        etree.SubElement(trpr, qn("w:tblHeader"))
    return tr


def column_widths(total: int) -> list[int]:
    """Number and owner columns wide enough for an IMS number and a name per line ("Jordan
    Avery /"), the activity column the rest."""
    owner = max(1400, min(OWNER_WIDTH, total * 3 // 10))
    return [NUMBER_WIDTH, total - NUMBER_WIDTH - owner, owner]


def activity_table(total: int) -> etree._Element:
    """A key task's activities: a repeated shaded header, a spanning shaded row per titled
    group, a row per activity (the rows as loops)."""
    widths = column_widths(total)
    tbl = etree.Element(qn("w:tbl"))
    _table_props(tbl, sum(widths))
    grid = etree.SubElement(tbl, qn("w:tblGrid"))
    for w in widths:
        etree.SubElement(grid, qn("w:gridCol")).set(qn("w:w"), str(w))
    head = _row(tbl, header=True)
    for c, text in enumerate(ACTIVITY_HEADER):
        _cell(head, text, widths[c], fill=HEAD_FILL, bold=True)
    for tag in ("{%tr for g in kt.groups %}", "{%tr if g.title %}"):
        _cell(_row(tbl), tag, sum(widths), span=3)
    _cell(_row(tbl), "{{ g.title }}", sum(widths), span=3, fill=GROUP_FILL, bold=True)
    for tag in ("{%tr endif %}", "{%tr for a in g.activities %}"):
        _cell(_row(tbl), tag, sum(widths), span=3)
    row = _row(tbl)
    for c, expr in enumerate(("a.number", "a.text", "a.owner or a.party")):
        _cell(row, field_tag(expr), widths[c])
    for tag in ("{%tr endfor %}", "{%tr endfor %}"):
        _cell(_row(tbl), tag, sum(widths), span=3)
    return tbl


@dataclass(frozen=True)
class Look:
    """What the context section takes from the template: its heading styles, its text
    width, and whether the key-task heading's style numbers it (then it is turned off: the
    heading carries the key task's id)."""

    styles: frozenset[str]
    width: int
    numbering: Numbering | None


def _heading(text: str, kind: str, look: Look) -> etree._Element:
    style = HEADING_STYLES[kind] if HEADING_STYLES[kind] in look.styles else None
    p = _paragraph(text, style, label="" if style else text, keep_next=True,
                   space_before=SPACE_BEFORE if kind == "h2" else 0)
    if style and kind == "h2" and look.numbering is not None and \
            look.numbering.list_of(p) is not None:
        _unnumbered(p)
    return p


def context_section(look: Look, activities_placed: bool) -> list[etree._Element]:
    """The key-task context as tagged paragraphs: a heading, a line saying what it is, then
    per key task its objective, status, activities, inputs, outputs, stakeholders and best
    practices (each only when it has some)."""
    out = [_page_break(), _heading(CONTEXT_TITLE, "h1", look), _paragraph(INTRO),
           _control("for kt in key_tasks"), _heading("{{ kt.id }} {{ kt.name }}", "h2", look)]
    out += _labelled("Objective", "{{ kt.objective }}", "kt.objective")
    out += [_control("if kt.status or kt.percent_complete is not none"),
            _paragraph(STATUS, label="Status"), _control("endif")]
    out += [_control("if kt.activities or kt.activities_note"),
            _paragraph("Activities", label="Activities", keep_next=True), _control("endif")]
    out.append(_control("if kt.activities"))
    out += [_paragraph(ACTIVITIES_PLACED)] if activities_placed \
        else [activity_table(look.width), _paragraph("")]
    out.append(_control("endif"))
    out += [_control("if kt.activities_note"), _paragraph("{{ kt.activities_note }}"),
            _control("endif")]
    for label, name in (("Inputs", "inputs"), ("Outputs", "outputs")):
        out += _labelled(label, field_tag(f'kt.{name}|join("; ", attribute="title")'),
                         f"kt.{name}")
    out += _labelled("Stakeholders", "{{ kt.named_roles }}", "kt.named_roles")
    out += _labelled("Stakeholders to be named", "{{ kt.unnamed_roles }}", "kt.unnamed_roles")
    out += [_control("if kt.best_practices"),
            _paragraph("Best practices", label="Best practices", keep_next=True),
            _control("for bp in kt.best_practices"), _bullet("{{ bp }}"), _control("endfor"),
            _control("endif"), _control("endfor")]
    return out


def text_width(body: etree._Element) -> int:
    """Width between the margins of the document's last section, in twentieths of a point."""
    sect = body.find(qn("w:sectPr"))
    size = sect.find(qn("w:pgSz")) if sect is not None else None
    margin = sect.find(qn("w:pgMar")) if sect is not None else None
    try:
        width = int(size.get(qn("w:w"))) if size is not None else 12240
        sides = sum(int(margin.get(qn(f"w:{k}"), "1440")) for k in ("left", "right")) \
            if margin is not None else 2880
    except (TypeError, ValueError):
        return 9360
    return max(width - sides, 4000)


def _append(body: etree._Element, elements: list[etree._Element]) -> None:
    sect = body.find(qn("w:sectPr"))
    for el in elements:
        if sect is not None:
            sect.addprevious(el)
        else:
            body.append(el)


# -- the template's parts -------------------------------------------------------------------
@per_template
def numbering(template: Template) -> Numbering:
    """The template's lists and styles, as heading numbers need them."""
    return Numbering.read(*(template.xml(name) if name in template.raw else None
                            for name in ("word/numbering.xml", "word/styles.xml")))


def _overrides(template: Template) -> dict[str, str]:
    types = template.xml("[Content_Types].xml")
    return {el.get("PartName", "").lstrip("/"): el.get("ContentType", "")
            for el in types.findall(qn("ct:Override"))
            if el.get("PartName", "").lstrip("/") in template.raw}


def main_part(template: Template) -> str:
    """The main document part (through the package's relationships)."""
    return package_main_part(template)[0]


def _style_ids(template: Template) -> frozenset[str]:
    name = "word/styles.xml"
    if name not in template.raw:
        return frozenset()
    return frozenset(s.get(qn("w:styleId")) for s in template.xml(name).findall(qn("w:style")))


def _tag_properties(template: Template, tagger: Tagger) -> dict[str, etree._Element]:
    """The document properties' blanks (a title in core.xml, slide titles in app.xml) as
    fields, so file browsers show no "[Program Name]"."""
    out = {}
    for part, ctype in _overrides(template).items():
        if not ctype.endswith(PROPERTY_TYPES):
            continue
        root = template.xml(part)
        if not any(isinstance(n.tag, str) and tagger.finds(n.text or "") for n in root.iter()):
            continue
        root = copy.deepcopy(root)
        tagger.where = part
        for node in root.iter():
            if isinstance(node.tag, str) and node.text and tagger.finds(node.text):
                node.text = tagger.text(node.text)
        out[part] = root
    return out


class DocxAnnotator:
    """Tags for an official Word template (see the module's docstring)."""

    format = "docx"

    def annotate(self, template: Template, playbook: Playbook | None = None,
                 placeholders: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
        main = main_part(template)
        tagger = Tagger(placeholders)
        tagger.where = main
        root = copy.deepcopy(template.xml(main))
        _tag_paragraphs(root, tagger)
        notes = list(tagger.notes)
        tagger.notes.clear()
        feeds = [Feed(rule, _ANY_ROWS) for rule in FEED_RULES]
        placed = False
        for n, tbl in enumerate(list(root.iter(qn("w:tbl"))), 1):
            found = tag_table(tbl, feeds)
            if found is not None:
                name, headers = found
                placed |= name == "activities"
                notes.append(f"{main}: table {n} ({', '.join(h for h in headers if h)}): "
                             f"a row per item of {name}, {LOOPS[name].opens[-1]}")
        parts = {main: root}
        for part, ctype in _overrides(template).items():
            if ctype.startswith(W_MAIN) and ctype.endswith(TEXT_PART_TYPES) and part != main:
                probe = copy.deepcopy(template.xml(part))
                tagger.where = part
                before = tagger.filled
                _tag_paragraphs(probe, tagger)
                if tagger.filled != before:
                    parts[part] = probe
        body = root.find(qn("w:body"))
        if body is not None:
            look = Look(_style_ids(template), text_width(body), numbering(template))
            _append(body, context_section(look, placed))
            number_headings(body, look.numbering)   # a restart that repeats a number continues
            notes.append(f"{main}: the key-task context added as a last section"
                         + (" (the activities are in the template's table)" if placed else ""))
        properties = Tagger(placeholders)   # its own turns: approvers start again
        parts.update(_tag_properties(template, properties))
        notes += tagger.notes + properties.notes
        pkg = template.new()
        for part, el in parts.items():
            pkg.put(part, el)
        return pkg.to_bytes(), notes


ANNOTATOR = DocxAnnotator()


def has_tags(template: Template) -> bool:
    """Whether a Word template already holds tags (it is then filled as it is, never
    annotated): a tag in a paragraph of a Word part, or in a document property."""
    from ..engine.core import TAG
    for part, ctype in _overrides(template).items():
        if not (ctype.endswith(MAIN_TYPES + TEXT_PART_TYPES) or ctype.endswith(PROPERTY_TYPES)):
            continue
        if b"{" not in template.bytes_of(part):
            continue
        root = template.xml(part)
        if ctype.endswith(PROPERTY_TYPES):
            if any(TAG.search(n.text or "") for n in root.iter() if isinstance(n.tag, str)):
                return True
            continue
        for p in root.iter(qn("w:p")):
            text = paragraph_text(p, qn("w:t"))
            if "{" in text and TAG.search(text):
                return True
    return False


__all__ = ["ANNOTATOR", "DocxAnnotator", "Tagger", "has_tags"]
