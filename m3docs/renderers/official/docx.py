"""Fill an official Word template in place: blanks, tables by header, a context section."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from ...engagement import Engagement
from ...ooxml.package import Package, Template
from ...ooxml.placeholders import paragraph_text
from ...ooxml.xml import clean_text, qn
from ...playbook.richtext import BULLET
from ...playbook.model import Playbook
from ...plan import Document
from ..common import per_template
from .placeholders import Filler
from ...ooxml.wordtoc import Numbering, number_headings, rewrite_toc
from .tables import Block, Feed, TemplateRow, best_feed, context_blocks, context_placed, \
    kept_rows_start, prototype_index, row_kind

W_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_TEXT_PART_TYPES = ("header+xml", "footer+xml", "footnotes+xml", "endnotes+xml")
PLACEHOLDER_STYLE = "PlaceholderText"   # the run style Word gives a control's placeholder


def fill(pkg: Package, main: str, doc: Document, engagement: Engagement,
         feeds: list[Feed], playbook: Playbook | None = None) -> list[str]:
    """Fill the document part, its headers/footers/notes; returns warnings."""
    filler = Filler(engagement)
    root = copy.deepcopy(pkg.template.xml(main))
    _fill_paragraphs(root, filler)
    for tbl in list(root.iter(qn("w:tbl"))):
        _fill_table(tbl, feeds)
    pkg.put(main, root)
    for part in _related_text_parts(pkg, main):
        _fill_part(pkg, part, filler)
    numbering = _numbering(pkg.template)
    _append_context(pkg, main, context_blocks(doc, engagement, context_placed(feeds)), numbering)
    _number_and_list(pkg, main, numbering)
    return filler.warnings()


def _number_and_list(pkg: Package, main: str, numbering: Numbering) -> None:
    """Heading numbers that do not repeat, and a table of contents that lists the headings
    (the added section's too), for readers that show the field's cached entries."""
    body = pkg.xml(main).find(qn("w:body"))
    rewrite_toc(body, number_headings(body, numbering))


@per_template
def _numbering(template: Template) -> Numbering:
    """The template's lists and styles, as heading numbers need them."""
    return Numbering.read(*(template.xml(name) if name in template.raw else None
                            for name in ("word/numbering.xml", "word/styles.xml")))


def _related_text_parts(pkg: Package, main: str) -> list[str]:
    out = []
    types = pkg.template.xml("[Content_Types].xml")
    overrides = {el.get("PartName").lstrip("/"): el.get("ContentType", "")
                 for el in types.findall(qn("ct:Override"))}
    for name, ctype in overrides.items():
        if ctype.startswith(W_MAIN) and ctype.endswith(_TEXT_PART_TYPES) and name in pkg:
            out.append(name)
    return sorted(out)


def _fill_part(pkg: Package, part: str, filler: Filler) -> None:
    """Fill blanks in a part, touching (re-serializing) it only when something changes."""
    source = pkg.template.xml(part)
    probe = copy.deepcopy(source)
    before = filler.filled
    _fill_paragraphs(probe, filler)
    if filler.filled != before:
        pkg.put(part, probe)


def _fill_paragraphs(root: etree._Element, filler: Filler) -> None:
    shown = _placeholder_controls(root)
    before = {id(sdt): _texts(sdt) for sdt in shown}
    for p in root.iter(qn("w:p")):
        filler.paragraph(p, qn("w:t"))
    for sdt in shown:
        if _texts(sdt) != before[id(sdt)]:
            _leave_placeholder(sdt)


# -- content controls ---------------------------------------------------------------------
def _placeholder_controls(root: etree._Element) -> list[etree._Element]:
    """Content controls (block, run, row or cell) showing their placeholder text."""
    return [sdt for sdt in root.iter(qn("w:sdt")) if _placeholder_flag(sdt) is not None]


def _placeholder_flag(sdt: etree._Element) -> etree._Element | None:
    return sdt.find(qn("w:sdtPr") + "/" + qn("w:showingPlcHdr"))


def _texts(el: etree._Element) -> list[str]:
    return [t.text or "" for t in el.iter(qn("w:t"))]


def _leave_placeholder(sdt: etree._Element) -> None:
    """Mark a filled control as holding real text: drop the flag and the placeholder look."""
    flag = _placeholder_flag(sdt)
    if flag is not None:
        flag.getparent().remove(flag)
    content = sdt.find(qn("w:sdtContent"))
    for style in (content.iter(qn("w:rStyle")) if content is not None else []):
        if style.get(qn("w:val")) == PLACEHOLDER_STYLE and style.getparent().tag == qn("w:rPr"):
            style.getparent().remove(style)


def _leave_placeholders_in(row: etree._Element) -> None:
    """A filled row: the controls in it that now hold text hold real text."""
    for sdt in row.iter(qn("w:sdt")):
        if any(_texts(sdt)):
            _leave_placeholder(sdt)


# -- tables -------------------------------------------------------------------------------
def _cells(tr: etree._Element) -> list[tuple[int, etree._Element]]:
    """(grid column, cell) for the cells of a row, honoring gridSpan and gridBefore."""
    col = 0
    before = tr.find(qn("w:trPr") + "/" + qn("w:gridBefore"))
    if before is not None:
        col = int(before.get(qn("w:val"), "0"))
    out = []
    for tc in tr.findall(qn("w:tc")):
        out.append((col, tc))
        span = tc.find(qn("w:tcPr") + "/" + qn("w:gridSpan"))
        col += int(span.get(qn("w:val"), "1")) if span is not None else 1
    return out


def _cell_paragraphs(tc: etree._Element) -> list[etree._Element]:
    """The cell's own paragraphs, also those inside content controls (not nested tables')."""
    out = []
    for p in tc.iter(qn("w:p")):
        node = p.getparent()
        while node is not tc and node.tag != qn("w:tc"):
            node = node.getparent()
        if node is tc:
            out.append(p)
    return out


def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, qn("w:t")) for p in _cell_paragraphs(tc))


def _row_shape(tr: etree._Element) -> TemplateRow:
    cells = _cells(tr)
    spans = tuple(_span(tc) for _, tc in cells)
    computed = tr.find(".//" + qn("w:fldSimple")) is not None or \
        tr.find(".//" + qn("w:instrText")) is not None
    return TemplateRow([cell_text(tc) for _, tc in cells], spans, computed)


def _span(tc: etree._Element) -> int:
    span = tc.find(qn("w:tcPr") + "/" + qn("w:gridSpan"))
    return int(span.get(qn("w:val"), "1")) if span is not None else 1


def _fill_table(tbl: etree._Element, feeds: list[Feed]) -> None:
    rows = tbl.findall(qn("w:tr"))
    for h, header in enumerate(rows[:3]):
        cells = _cells(header)
        found = best_feed(feeds, [cell_text(tc) for _, tc in cells])
        if found is None:
            continue
        feed, columns = found
        by_grid = {cells[i][0]: name for i, name in columns.items()}
        below = rows[h + 1:]
        shapes = [_row_shape(tr) for tr in below]
        stay = kept_rows_start(shapes, _row_shape(header).layout)
        slots, kept = below[:stay], below[stay:]
        kinds = [row_kind(shape.texts) for shape in shapes[:stay]]
        proto = slots[prototype_index(kinds)] if slots else header
        for tr in slots:
            tbl.remove(tr)
        for values in feed.rows:
            row = _clone_row(proto, by_grid, values, is_header=proto is header)
            if kept:
                kept[0].addprevious(row)
            else:
                tbl.append(row)
        feed.used = True
        return


def _clone_row(proto: etree._Element, by_grid: dict[int, str], values: dict[str, str],
               is_header: bool) -> etree._Element:
    row = copy.deepcopy(proto)
    if is_header:
        trpr = row.find(qn("w:trPr"))
        if trpr is not None:
            for el in trpr.findall(qn("w:tblHeader")):
                trpr.remove(el)
    for col, tc in _cells(row):
        set_cell_text(tc, values.get(by_grid.get(col, ""), ""))
    _leave_placeholders_in(row)
    return row


def _run_props(tc: etree._Element) -> etree._Element | None:
    rpr = tc.find(".//" + qn("w:r") + "/" + qn("w:rPr"))
    if rpr is not None:
        return copy.deepcopy(rpr)
    mark = tc.find(".//" + qn("w:pPr") + "/" + qn("w:rPr"))
    return copy.deepcopy(mark) if mark is not None else None


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


def make_run(text: str, rpr: etree._Element | None) -> etree._Element:
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


# -- context section ------------------------------------------------------------------------
HEADING_STYLES = {"h1": "Heading1", "h2": "Heading2"}
SPACE_BEFORE = {"h2": 360}   # a key task's heading sets it apart from the one before
OWN_NUMBER = ("h2",)         # a key task's heading carries its id: the style's number is off
HEAD_FILL, GROUP_FILL, BORDER = "D9D9D9", "F2F2F2", "A6A6A6"
TABLE_FONT = 20           # half-points: 10 pt in the context tables
DXA_PER_CHAR = 110        # a 10 pt character, with room to spare
CELL_PADDING = 260        # left and right cell margins together, in twentieths of a point


@dataclass
class _ActivityTable:
    """Activity tables of one key task merged into one: group titles become spanning rows."""

    rows: list[list[str]]
    groups: set[int] = field(default_factory=set)   # indexes of group-title rows


def _merge_groups(blocks: list[Block]) -> list[Block | _ActivityTable]:
    """Each run of ([group title,] table) blocks as one table with its group rows."""
    out: list[Block | _ActivityTable] = []
    i = 0
    while i < len(blocks):
        run: list[tuple[str, Block]] = []
        while i < len(blocks):
            b = blocks[i]
            if b.kind == "h3" and i + 1 < len(blocks) and blocks[i + 1].kind == "table":
                run.append((b.text, blocks[i + 1]))
                i += 2
            elif b.kind == "table":
                run.append(("", b))
                i += 1
            else:
                break
        if run:
            out.append(_activity_table(run))
        else:
            out.append(blocks[i])
            i += 1
    return out


def _activity_table(run: list[tuple[str, Block]]) -> _ActivityTable:
    table = _ActivityTable([run[0][1].rows[0]])
    for title, block in run:
        if title:
            table.groups.add(len(table.rows))
            table.rows.append([title])
        table.rows += block.rows[1:]
    return table


def _style_ids(pkg: Package) -> set[str]:
    name = "word/styles.xml"
    if name not in pkg:
        return set()
    return {s.get(qn("w:styleId")) for s in pkg.template.xml(name).findall(qn("w:style"))}


def _text_width(body: etree._Element) -> int:
    """Width between the margins of the document's last section, in twentieths of a point."""
    sect = body.find(qn("w:sectPr"))
    size = sect.find(qn("w:pgSz")) if sect is not None else None
    margin = sect.find(qn("w:pgMar")) if sect is not None else None
    try:
        width = int(size.get(qn("w:w"))) if size is not None else 12240
        sides = sum(int(margin.get(qn(f"w:{k}"), "1440")) for k in ("left", "right")) \
            if margin is not None else 2880
    except ValueError:
        return 9360
    return max(width - sides, 4000)


def _column_widths(rows: list[list[str]], total: int) -> list[int]:
    """Number and owner columns as wide as their text needs (within limits), the activity
    column the rest."""
    def need(col: int, floor: int, cap: int) -> int:
        longest = max((len(line) for r in rows if len(r) > col for line in
                       (r[col].split(" / ") if col == 2 else [r[col]])), default=0)
        return min(max(floor, longest * DXA_PER_CHAR + CELL_PADDING), cap)
    number = need(0, 700, total // 6)
    owner = need(2, 1400, total * 3 // 10)
    return [number, total - number - owner, owner]


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
        p.append(make_run(rest, None))
    return p


def _unnumbered(p: etree._Element) -> None:
    """Turn off the list numbering a heading style would add (numId 0 means no list, as
    Word writes it)."""
    ppr = p.find(qn("w:pPr"))
    numpr = etree.Element(qn("w:numPr"))
    etree.SubElement(numpr, qn("w:ilvl")).set(qn("w:val"), "0")
    etree.SubElement(numpr, qn("w:numId")).set(qn("w:val"), "0")
    before = [c for c in ppr if c.tag in (qn("w:pStyle"), qn("w:keepNext"))]
    (before[-1].addnext(numpr) if before else ppr.insert(0, numpr))


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
    p.append(make_run(text.removeprefix(BULLET), None))
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


def _table(table: _ActivityTable, total: int) -> etree._Element:
    """A Word table: a repeated shaded header row, spanning shaded group rows."""
    widths = _column_widths(table.rows, total)
    tbl = etree.Element(qn("w:tbl"))
    _table_props(tbl, sum(widths))
    grid = etree.SubElement(tbl, qn("w:tblGrid"))
    for w in widths:
        etree.SubElement(grid, qn("w:gridCol")).set(qn("w:w"), str(w))
    for r, cells in enumerate(table.rows):
        tr = etree.SubElement(tbl, qn("w:tr"))
        trpr = etree.SubElement(tr, qn("w:trPr"))
        etree.SubElement(trpr, qn("w:cantSplit"))
        if r == 0:
            etree.SubElement(trpr, qn("w:tblHeader"))
        if r in table.groups:
            _cell(tr, cells[0], sum(widths), span=len(widths), fill=GROUP_FILL, bold=True)
            continue
        for c, text in enumerate(cells[:len(widths)]):
            _cell(tr, text, widths[c], fill=HEAD_FILL if r == 0 else "", bold=r == 0)
    return tbl


def _context_elements(blocks: list[Block], styles: set[str], width: int,
                      numbering: Numbering | None = None) -> list[etree._Element]:
    out: list[etree._Element] = [_page_break()]
    for item in _merge_groups(blocks):
        if isinstance(item, _ActivityTable):
            out += [_table(item, width), _paragraph("")]
        elif item.kind in ("h1", "h2", "h3"):
            style = HEADING_STYLES.get(item.kind)
            style = style if style in styles else None
            p = _paragraph(item.text, style, label="" if style else item.text,
                           keep_next=True, space_before=SPACE_BEFORE.get(item.kind, 0))
            if style and item.kind in OWN_NUMBER and numbering is not None and \
                    numbering.list_of(p) is not None:
                _unnumbered(p)
            out.append(p)
        elif item.kind == "bullet":
            out.append(_bullet(item.text))
        else:
            out.append(_paragraph(item.text, label=item.label,
                                  keep_next=item.text == item.label))
    return out


def _append_context(pkg: Package, main: str, blocks: list[Block],
                    numbering: Numbering | None = None) -> None:
    """Add the key-task context as a last section, in the template's own heading styles."""
    body = pkg.xml(main).find(qn("w:body"))
    sect = body.find(qn("w:sectPr"))
    for el in _context_elements(blocks, _style_ids(pkg), _text_width(body), numbering):
        if sect is not None:
            sect.addprevious(el)
        else:
            body.append(el)
