"""Fill an official PowerPoint template in place: blanks, tables by header, continuation slides.

A table whose header names a feed's columns gets its template rows replaced by
rows cloned from the first example (or styled blank) row, each row as tall as
its text needs. Every filled table stays above the shapes below it (legend,
footer, the next table); the rows that do not fit go on copies of the slide
placed right after it, all the slide's tables paginated together. A status cell
takes the fill and text look of a cell (or legend shape) of the template that
shows the same status code; with no code it shows no status colour.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from ...engagement import STATUS_CODES, Engagement
from ...ooxml import drawingml as dml
from ...ooxml.drawingml import DEFAULT_MARGIN_LR, DEFAULT_MARGIN_TB, SLIDE_CX, SLIDE_CY
from ...ooxml.package import Package, Template
from ...ooxml.placeholders import paragraph_text
from ...ooxml.xml import clean_text, qn
from ...playbook.model import Playbook
from ...plan import Document
from ..common import per_template
from .placeholders import Filler
from .tables import DECK_LINES, Block, Feed, TemplateRow, best_feed, context_blocks, \
    context_placed, fit_blocks, kept_rows_start, prototype_index, row_kind, window_days, \
    window_feeds

DESIGN_TYPES = (".presentationml.slideLayout+xml", ".presentationml.slideMaster+xml")
EMU_PER_PT = dml.EMU_PER_POINT
CHAR_EM = 0.55
LINE = 1.2
GAP = EMU_PER_PT * 18   # kept between a grown table and the shape below it
# the shared text model with this filler's metrics; rows get at least 4 pt of padding, so
# lines of neighbouring rows do not touch
METRICS = dml.TextMetrics(char_em=CHAR_EM, bold_char_em=CHAR_EM, line_spacing=LINE,
                          min_padding=EMU_PER_PT * 4)


def fill(pkg: Package, main: str, doc: Document, engagement: Engagement,
         feeds: list[Feed], playbook: Playbook | None = None) -> list[str]:
    filler = Filler(engagement)
    deck = _deck(pkg.template)
    warnings: list[str] = []
    for number, (sld_id, part) in enumerate(deck.slides, 1):
        if part not in deck.tables and not any(filler.finds(t) for t in deck.texts[part]):
            continue   # nothing to fill: the slide is copied as it is
        root = copy.deepcopy(pkg.template.xml(part))
        before = filler.filled
        for p in root.iter(qn("a:p")):
            filler.paragraph(p, qn("a:t"))
        days = window_days(deck.texts[part])
        shown = window_feeds(feeds, doc, engagement, days) if days else feeds
        tables = _fill_tables(root, shown, deck.codes, deck.slide_height) \
            if part in deck.tables else []
        for mine, given in zip(feeds, shown):
            mine.used = mine.used or given.used
        pages = _layout(tables) if tables else []
        warnings += [_too_tall(t, number) for t in tables if t.too_tall]
        # the continuation slides start from the slide as filled so far (tables untouched)
        base = copy.deepcopy(root) if len(pages) > 1 else None
        if pages:
            _place(root, tables, pages[0])
        if filler.filled != before or tables:
            pkg.put(part, root)
        after = sld_id
        for page in pages[1:]:
            clone = copy.deepcopy(base)
            _place(clone, tables, page)
            dml.mark_continued(clone)
            after = dml.insert_slide_copy(pkg, main, part, clone, after)
    for part in deck.designs:   # blanks in a layout or master show on every slide using it
        if any(filler.finds(t) for t in deck.texts[part]):
            root, before = copy.deepcopy(pkg.template.xml(part)), filler.filled
            for p in root.iter(qn("a:p")):
                filler.paragraph(p, qn("a:t"))
            if filler.filled != before:
                pkg.put(part, root)
    if not context_placed(feeds):
        title, body = _context_boxes(deck.slide_width, deck.slide_height)
        _add_context_slide(pkg, main, deck.slides, slide_context(pkg.template, doc, engagement),
                           title, body)
    return filler.warnings() + warnings


def slide_context(template: Template, doc: Document, engagement: Engagement) -> list[Block]:
    """The key-task context cut to what the deck's context slide shows."""
    deck = _deck(template)
    _, body = _context_boxes(deck.slide_width, deck.slide_height)
    return fit_blocks(context_blocks(doc, engagement), *_context_budget(body))


@dataclass
class _Deck:
    """What a template deck offers, found once: its slides, layouts and masters, which slides
    hold tables, the texts of each part's paragraphs, the cells showing status codes, the
    slide height."""

    slides: list[tuple[etree._Element, str]]
    designs: list[str]       # slide layouts and masters
    tables: set[str]
    texts: dict[str, list[str]]
    codes: dict[str, etree._Element]
    slide_height: int
    slide_width: int


@per_template
def _deck(template: Template) -> _Deck:
    from . import main_part   # the package imports this module
    main = main_part(template)[0]
    slides = dml.deck_slides(template.new(), main)
    parts = [part for _, part in slides]
    size = template.xml(main).find(qn("p:sldSz"))
    designs = [el.get("PartName", "").lstrip("/")
               for el in template.xml("[Content_Types].xml").findall(qn("ct:Override"))
               if el.get("ContentType", "").endswith(DESIGN_TYPES)]
    designs = [d for d in designs if d in template.raw]
    return _Deck(slides, designs, {p for p in parts if _frames(template.xml(p))},
                 {p: [paragraph_text(x, qn("a:t")) for x in template.xml(p).iter(qn("a:p"))]
                  for p in parts + designs},
                 _status_cells(template, parts),
                 int(size.get("cy")) if size is not None else SLIDE_CY,
                 int(size.get("cx")) if size is not None else SLIDE_CX)


# -- slides -------------------------------------------------------------------------------
# -- status look ---------------------------------------------------------------------------
def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, qn("a:t")) for p in tc.iter(qn("a:p"))).strip()


def _status_cells(template: Template, parts: list[str]) -> dict[str, etree._Element]:
    """Status code -> a cell showing it with a fill: a template table cell, else a legend shape."""
    out: dict[str, etree._Element] = {}
    for part in parts:
        for tc in template.xml(part).iter(qn("a:tc")):
            text = cell_text(tc)
            tcpr = tc.find(qn("a:tcPr"))
            if text in STATUS_CODES and text not in out and tcpr is not None and \
                    tcpr.find(qn("a:solidFill")) is not None:
                out[text] = tc
    for part in parts:
        for sp in template.xml(part).iter(qn("p:sp")):
            body, fill = sp.find(qn("p:txBody")), sp.find(qn("p:spPr") + "/" + qn("a:solidFill"))
            text = cell_text(body) if body is not None else ""
            if text in STATUS_CODES and text not in out and fill is not None:
                out[text] = _legend_cell(body, fill)
    return out


def _legend_cell(body: etree._Element, fill: etree._Element) -> etree._Element:
    """A table cell with a legend shape's fill and text look."""
    tc = etree.Element(qn("a:tc"))
    txbody = etree.SubElement(tc, qn("a:txBody"))
    etree.SubElement(txbody, qn("a:bodyPr"))
    etree.SubElement(txbody, qn("a:lstStyle"))
    for p in body.findall(qn("a:p")):
        txbody.append(copy.deepcopy(p))
    etree.SubElement(tc, qn("a:tcPr")).append(copy.deepcopy(fill))
    return tc


# -- tables --------------------------------------------------------------------------------
class _Fed:
    """A table being filled: its frame, columns, built rows and the room it has on a slide."""

    def __init__(self, index: int, frame: etree._Element, feed: Feed, by_col: dict[int, str],
                 header: int):
        self.index, self.feed, self.by_col, self.header = index, feed, by_col, header
        x, y, cx, _ = dml.shape_box(frame) or (0, 0, 0, 0)
        self.left, self.right, self.top = x, x + cx, y
        self.bottom = y          # lowest edge the table may reach (set from the shapes below)
        self.head = 0            # height of the header rows kept on every slide
        self.head_rows: list[str] = []   # their fitted heights
        self.rows: list[etree._Element] = []
        self.kept: list[etree._Element] = []   # template rows that close the table (a total)
        self.too_tall = False    # a row is taller than the room the table has on a slide
        self.caption = ""        # the header's texts, to name the table in a warning

    def heights(self) -> list[int]:
        return [int(tr.get("h", "0")) for tr in self.rows]

    def kept_height(self) -> int:
        return sum(int(tr.get("h", "0")) for tr in self.kept)


class _Page:
    """Where each table sits on one slide and which of its rows it shows."""

    def __init__(self) -> None:
        self.spans: dict[int, tuple[int, int, int]] = {}   # table index -> (first, end, top)


def _frames(root: etree._Element) -> list[etree._Element]:
    return [gf for gf in root.iter(qn("p:graphicFrame")) if gf.find(".//" + qn("a:tbl")) is not None]


def _lowest_edge(root: etree._Element, frame: etree._Element, slide_height: int) -> int:
    """How far down the table may grow: above the next shape below it, or the bottom margin."""
    if dml.shape_box(frame) is None:
        return 0
    return dml.lowest_edge(root, frame, slide_height, GAP, slide_height // 12)


def _fill_tables(root: etree._Element, feeds: list[Feed], codes: dict[str, etree._Element],
                 slide_height: int) -> list[_Fed]:
    """Find the tables a feed fills, build their rows, and note the room each one has."""
    out = []
    for i, frame in enumerate(_frames(root)):
        tbl = frame.find(".//" + qn("a:tbl"))
        widths = [int(g.get("w", "0")) for g in tbl.find(qn("a:tblGrid"))]
        rows = tbl.findall(qn("a:tr"))
        for h, header in enumerate(rows[:3]):
            found = best_feed(feeds, [cell_text(tc) for tc in header.findall(qn("a:tc"))])
            if found is None:
                continue
            fed = _Fed(i, frame, found[0], found[1], h)
            fed.caption = " | ".join(t for t in map(cell_text, header.findall(qn("a:tc"))) if t)
            fed.bottom = _lowest_edge(root, frame, slide_height)
            for tr in rows[:h + 1]:
                dml.fit_row_height(tr, widths, int(tr.get("h", "0")), METRICS)
            fed.head_rows = [tr.get("h", "0") for tr in rows[:h + 1]]
            fed.head = sum(int(x) for x in fed.head_rows)
            below = rows[h + 1:]
            stay = kept_rows_start([_row_shape(tr) for tr in below], _row_shape(header).layout)
            fed.rows = _build_rows(fed, below[:stay], header, widths, codes)
            fed.kept = [copy.deepcopy(tr) for tr in below[stay:]]
            for tr in fed.kept:
                dml.fit_row_height(tr, widths, int(tr.get("h", "0")), METRICS)
            fed.feed.used = True
            out.append(fed)
            break
    return out


def _row_shape(tr: etree._Element) -> TemplateRow:
    """A table row as the shared rule reads it: texts, the grid span of each shown cell, and
    whether it holds a field."""
    cells = [tc for tc in tr.findall(qn("a:tc")) if tc.get("hMerge") != "1"]
    return TemplateRow([cell_text(tc) for tc in cells],
                       tuple(int(tc.get("gridSpan", "1")) for tc in cells),
                       tr.find(".//" + qn("a:fld")) is not None)


def _build_rows(fed: _Fed, template_rows: list[etree._Element], header: etree._Element,
                widths: list[int], codes: dict[str, etree._Element]) -> list[etree._Element]:
    """One row per feed row, cloned from the example row, its height fitted to its text."""
    kinds = [row_kind([cell_text(tc) for tc in tr.findall(qn("a:tc"))]) for tr in template_rows]
    proto = template_rows[prototype_index(kinds)] if template_rows else header
    numbers = {c for c, tc in enumerate(proto.findall(qn("a:tc")))
               if c not in fed.by_col and cell_text(tc).rstrip(".").isdigit()}
    floor = min((int(tr.get("h", "0")) for tr in template_rows), default=int(proto.get("h", "0")))
    out = []
    for n, values in enumerate(fed.feed.rows):
        tr = copy.deepcopy(proto)
        for c, tc in enumerate(tr.findall(qn("a:tc"))):
            field = fed.by_col.get(c)
            text = values.get(field, "") if field else (str(n + 1) if c in numbers else "")
            if field == "status":
                _status_look(tc, codes.get(text))
            set_cell_text(tc, text)
        dml.fit_row_height(tr, widths, floor, METRICS)
        out.append(tr)
    return out


def _layout(tables: list[_Fed]) -> list[_Page]:
    """Share the slides out: each slide shows the next rows of every table that has rows left.

    The first slide keeps every table where the template put it. On a continuation
    slide a table with no rows left is dropped and the table below moves up into
    its place (or, if none follows, the table above grows down into it).
    """
    order = sorted(tables, key=lambda t: t.top)
    pos = {t.index: 0 for t in order}
    pages: list[_Page] = []
    while not pages or any(pos[t.index] < len(t.rows) for t in order):
        shown = order if not pages else [t for t in order if pos[t.index] < len(t.rows)]
        page = _Page()
        for t in shown:
            top, bottom = _room(order, shown, t)
            end = _take_page(t, pos[t.index], bottom - top - t.head)
            page.spans[t.index] = (pos[t.index], end, top)
            pos[t.index] = end
        pages.append(page)
    return pages


def _room(order: list[_Fed], shown: list[_Fed], t: _Fed) -> tuple[int, int]:
    """Top and lowest edge for ``t`` when only ``shown`` tables are on the slide."""
    i = order.index(t)
    top, bottom = t.top, t.bottom
    j = i - 1
    while j >= 0 and order[j] not in shown and _stacked(order[j], order[j + 1]):
        top = order[j].top
        j -= 1
    k = i + 1
    while k < len(order) and order[k] not in shown and _stacked(order[k - 1], order[k]):
        k += 1
    if k == len(order) or order[k] not in shown or not _stacked(order[k - 1], order[k]):
        bottom = max(bottom, order[k - 1].bottom)
    return top, bottom


def _stacked(upper: _Fed, lower: _Fed) -> bool:
    """Whether two tables share columns of the slide, one above the other."""
    return upper.left < lower.right and lower.left < upper.right


def _take_page(t: _Fed, first: int, room: int) -> int:
    """End of the rows of ``t`` one slide shows from ``first``; the kept rows (a total) go
    below the table's last rows, so the slide that ends the table leaves room for them."""
    heights = t.heights()
    if sum(heights[first:]) + t.kept_height() <= room:
        return len(heights)
    end = _take(heights, first, room)
    if end == len(heights):   # the last rows fit, but not with the kept rows below them
        end = _take(heights, first, room - t.kept_height())
        room -= t.kept_height() if end == len(heights) else 0
    t.too_tall |= any(h > room for h in heights[first:end])
    return end


def _take(heights: list[int], first: int, room: int) -> int:
    """End of the run of rows from ``first`` that fits ``room`` (at least one row)."""
    end, used = first, 0
    while end < len(heights) and (end == first or used + heights[end] <= room):
        used += heights[end]
        end += 1
    return end


def _too_tall(t: _Fed, slide: int) -> str:
    return (f"a row of table {t.caption} on slide {slide} is taller than a slide: its text "
            "runs past the bottom of the slide")


def _place(root: etree._Element, tables: list[_Fed], page: _Page) -> None:
    """Put each table's rows for this page in its frame; drop the tables not on it."""
    frames = _frames(root)
    for t in tables:
        frame = frames[t.index]
        if t.index not in page.spans:
            frame.getparent().remove(frame)
            continue
        first, end, top = page.spans[t.index]
        tbl = frame.find(".//" + qn("a:tbl"))
        for n, tr in enumerate(tbl.findall(qn("a:tr"))):
            if n > t.header:
                tbl.remove(tr)
            else:
                tr.set("h", t.head_rows[n])
        tbl.extend(t.rows[first:end])   # each row is shown on one slide only
        if end == len(t.rows):   # the slide that ends the table shows what closes it
            tbl.extend(t.kept)
        xfrm = frame.find(qn("p:xfrm"))
        if xfrm is not None and xfrm.find(qn("a:ext")) is not None:
            xfrm.find(qn("a:off")).set("y", str(top))
            xfrm.find(qn("a:ext")).set("cy", str(sum(int(tr.get("h", "0"))
                                                     for tr in tbl.findall(qn("a:tr")))))


def _status_look(tc: etree._Element, source: etree._Element | None) -> None:
    """Give a status cell the fill and text look of the template's cell for its code.

    Without a code (or one the template shows nowhere) the example row's status
    colour is cleared instead; the cell keeps its borders and margins either way.
    """
    pr = tc.find(qn("a:tcPr"))
    if pr is None:
        pr = etree.SubElement(tc, qn("a:tcPr"))
    fills = [el for el in pr if el.tag in FILLS]
    for el in fills:
        pr.remove(el)
    src_pr = source.find(qn("a:tcPr")) if source is not None else None
    fill = next((el for el in (src_pr if src_pr is not None else []) if el.tag in FILLS), None)
    if fill is not None:
        for el in pr.findall(qn("a:noFill")):
            pr.remove(el)
        after = [el for el in pr if el.tag in (qn("a:headers"), qn("a:extLst"))]
        (after[0].addprevious if after else pr.append)(copy.deepcopy(fill))
    body = tc.find(qn("a:txBody"))
    src_body = source.find(qn("a:txBody")) if source is not None else None
    if body is not None and src_body is not None:
        body.addprevious(copy.deepcopy(src_body))
        tc.remove(body)
    elif fills:
        for rpr in tc.iter(qn("a:rPr"), qn("a:endParaRPr")):
            for el in rpr.findall(qn("a:solidFill")):
                rpr.remove(el)


FILLS = frozenset(qn(f) for f in ("a:solidFill", "a:gradFill", "a:blipFill", "a:pattFill",
                                  "a:grpFill"))


def _run_props(body: etree._Element) -> etree._Element | None:
    """Run properties for new text: the first run's, else the end mark's, else the paragraph
    default's; the size taken from the later ones when the first has none."""
    found = [el for el in (body.find(".//" + qn("a:r") + "/" + qn("a:rPr")),
                           body.find(".//" + qn("a:endParaRPr")),
                           body.find(".//" + qn("a:pPr") + "/" + qn("a:defRPr"))) if el is not None]
    if not found:
        return None
    rpr = copy.deepcopy(found[0])
    rpr.tag = qn("a:rPr")
    size = next((el.get("sz") for el in found if el.get("sz")), None)
    if size and not rpr.get("sz"):
        rpr.set("sz", size)
    return rpr


def set_cell_text(tc: etree._Element, text: str) -> None:
    """Replace a cell's text, one paragraph per line, in its first paragraph's formatting."""
    body = tc.find(qn("a:txBody"))
    if body is None:
        return
    rpr = _run_props(body)
    paragraphs = body.findall(qn("a:p"))
    proto = copy.deepcopy(paragraphs[0]) if paragraphs else etree.Element(qn("a:p"))
    for p in paragraphs:
        body.remove(p)
    for child in list(proto):
        if child.tag not in (qn("a:pPr"), qn("a:endParaRPr")):
            proto.remove(child)
    if proto.find(qn("a:endParaRPr")) is None and rpr is not None:
        end = copy.deepcopy(rpr)   # an empty line keeps the text's size, not the 18 pt default
        end.tag = qn("a:endParaRPr")
        proto.append(end)
    for line in (clean_text(text)[0].split("\n") if text else [""]):
        p = copy.deepcopy(proto)
        if line:
            run = etree.Element(qn("a:r"))
            if rpr is not None:
                run.append(copy.deepcopy(rpr))
            etree.SubElement(run, qn("a:t")).text = line
            end = p.find(qn("a:endParaRPr"))
            if end is not None:
                end.addprevious(run)
            else:
                p.append(run)
        body.append(p)


# -- context slide -------------------------------------------------------------------------
Box = tuple[int, int, int, int]   # x, y, cx, cy in EMU
CONTEXT_SIDE = 0.0375             # the context slide's left and right margins, of its width
CONTEXT_TITLE = (0.044, 0.102)    # the title box's top and height, of the slide's height
CONTEXT_BODY = (0.16, 0.787)      # the text box's top and height
CONTEXT_PT = 12                   # the size of its text (table rows are 11 pt)
WRAP_SLACK = 0.9                  # of a line's characters, the rest lost to breaking at words


def _context_boxes(width: int, height: int) -> tuple[Box, Box]:
    """The title and text boxes of the context slide, placed for the deck's slide size."""
    x = int(width * CONTEXT_SIDE)
    cx = width - 2 * x
    (ty, th), (by, bh) = ((int(height * a), int(height * b)) for a, b in (CONTEXT_TITLE,
                                                                           CONTEXT_BODY))
    return (x, ty, cx, th), (x, by, cx, bh)


def _context_budget(box: Box) -> tuple[int, int]:
    """(lines, characters per line) of 12 pt text the box shows, its insets left out;
    never more lines than the playbook context is cut to for a slide."""
    _, _, cx, cy = box
    line = CONTEXT_PT * LINE * EMU_PER_PT
    lines = min(DECK_LINES, int((cy - 2 * DEFAULT_MARGIN_TB) // line))
    chars = (cx - 2 * DEFAULT_MARGIN_LR) / EMU_PER_PT / (CONTEXT_PT * CHAR_EM) * WRAP_SLACK
    return lines, int(chars)


def _add_context_slide(pkg: Package, main: str, slides: list, blocks: list[Block],
                       title_box: Box, body_box: Box) -> None:
    """A last slide listing the key tasks' objective, activities and owners."""
    if not slides:
        return
    last_id, last_part = slides[-1]
    source = pkg.template.xml(last_part)
    root = etree.Element(qn("p:sld"), nsmap=source.nsmap)
    tree = etree.SubElement(etree.SubElement(root, qn("p:cSld")), qn("p:spTree"))
    group = etree.SubElement(tree, qn("p:nvGrpSpPr"))
    etree.SubElement(group, qn("p:cNvPr"), id="1", name="")
    etree.SubElement(group, qn("p:cNvGrpSpPr"))
    etree.SubElement(group, qn("p:nvPr"))
    etree.SubElement(tree, qn("p:grpSpPr"))
    lines: list[tuple[str, int, bool]] = []
    for block in blocks:
        if block.kind == "table":
            lines += [(f"{r[0]}  {r[1]} ({r[2]})", 1100, False) for r in block.rows[1:]]
        elif block.kind != "h1":
            lines.append((block.text, CONTEXT_PT * 100, block.kind == "h2"))
    title = next((b.text for b in blocks if b.kind == "h1"), "Key Task Context")
    tree.append(_textbox(2, "Title", *title_box, [(title, 2400, True)]))
    tree.append(_textbox(3, "Context", *body_box, lines))
    etree.SubElement(root, qn("p:clrMapOvr")).append(etree.Element(qn("a:masterClrMapping")))
    dml.insert_slide_copy(pkg, main, last_part, root, last_id)


def _textbox(shape_id: int, name: str, x: int, y: int, cx: int, cy: int,
             lines: list[tuple[str, int, bool]]) -> etree._Element:
    sp = etree.Element(qn("p:sp"))
    nv = etree.SubElement(sp, qn("p:nvSpPr"))
    etree.SubElement(nv, qn("p:cNvPr"), id=str(shape_id), name=name)
    etree.SubElement(nv, qn("p:cNvSpPr"), txBox="1")
    etree.SubElement(nv, qn("p:nvPr"))
    sppr = etree.SubElement(sp, qn("p:spPr"))
    xfrm = etree.SubElement(sppr, qn("a:xfrm"))
    etree.SubElement(xfrm, qn("a:off"), x=str(x), y=str(y))
    etree.SubElement(xfrm, qn("a:ext"), cx=str(cx), cy=str(cy))
    etree.SubElement(etree.SubElement(sppr, qn("a:prstGeom"), prst="rect"), qn("a:avLst"))
    body = etree.SubElement(sp, qn("p:txBody"))
    pr = etree.SubElement(body, qn("a:bodyPr"), wrap="square")
    etree.SubElement(pr, qn("a:normAutofit"))
    etree.SubElement(body, qn("a:lstStyle"))
    for text, size, bold in lines:
        p = etree.SubElement(body, qn("a:p"))
        run = etree.SubElement(p, qn("a:r"))
        rpr = etree.SubElement(run, qn("a:rPr"), lang="en-US", sz=str(size))
        if bold:
            rpr.set("b", "1")
        etree.SubElement(run, qn("a:t")).text = clean_text(text)[0]
    return sp
