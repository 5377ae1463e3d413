"""Fill an official PowerPoint template in place: blanks, tables by header, continuation slides.

A table whose header names a feed's columns gets its template rows replaced by
rows cloned from the first example (or styled blank) row. Rows go on the slide
while they fit the height the template's rows took; the rest go on copies of the
slide placed right after it. A status cell takes the look (fill, text color) of
a cell of the template that shows the same status code, e.g. the legend.
"""
from __future__ import annotations

import copy
import math
import posixpath

from lxml import etree

from ...engagement import STATUS_CODES, Engagement
from ...ooxml.package import Package, part_names
from ...ooxml.placeholders import paragraph_text
from ...ooxml.xml import RT, clean_text, qn
from ...plan import Document
from .placeholders import Filler
from .tables import Block, Feed, best_feed, context_blocks, context_placed, prototype_index, \
    row_kind

SLIDE_CT = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"
EMU_PER_PT = 12700
CHAR_EM = 0.55
LINE = 1.2
DEFAULT_MARGIN_LR, DEFAULT_MARGIN_TB = 91440, 45720
CONTINUED = " (continued)"


def fill(pkg: Package, main: str, doc: Document, engagement: Engagement,
         feeds: list[Feed]) -> list[str]:
    filler = Filler(engagement)
    slides = _slides(pkg, main)
    codes = _status_cells(pkg, [part for _, part in slides])
    size = pkg.template.xml(main).find(qn("p:sldSz"))
    slide_height = int(size.get("cy")) if size is not None else 6858000
    for sld_id, part in slides:
        root = copy.deepcopy(pkg.template.xml(part))
        before = filler.filled
        for p in root.iter(qn("a:p")):
            filler.paragraph(p, qn("a:t"))
        base = copy.deepcopy(root)
        chunks = _fill_tables(root, feeds, codes, slide_height)
        if filler.filled != before or chunks:
            pkg.put(part, root)
        extra = max((len(c) for _, c in chunks), default=1) - 1
        after = sld_id
        for k in range(1, extra + 1):
            clone = copy.deepcopy(base)
            _continue_tables(clone, chunks, k, codes)
            _mark_continued(clone)
            after = _add_slide(pkg, main, part, clone, after)
    if not context_placed(feeds):
        _add_context_slide(pkg, main, slides, context_blocks(doc, engagement))
    return filler.warnings()


# -- slides -------------------------------------------------------------------------------
def _slides(pkg: Package, main: str) -> list[tuple[etree._Element, str]]:
    pres = pkg.template.xml(main)
    out = []
    lst = pres.find(qn("p:sldIdLst"))
    for sld in (lst if lst is not None else []):
        try:
            part = pkg.related(main, sld.get(qn("r:id")))
        except KeyError:
            continue
        if part in pkg:
            out.append((sld, part))
    return out


def _add_slide(pkg: Package, main: str, source: str, root: etree._Element,
               after: etree._Element) -> etree._Element:
    """Add ``root`` as a new slide (the source's relationships minus notes) after ``after``."""
    part = part_names(pkg.names, posixpath.dirname(source), "slide", "xml")
    pkg.put(part, root, SLIDE_CT)
    src_rels = pkg.rels_name(source)
    if src_rels in pkg:
        rels = copy.deepcopy(pkg.xml(src_rels) if src_rels in pkg.changed()
                             else pkg.template.xml(src_rels))
        for rel in list(rels):
            if rel.get("Type") == RT["notesSlide"]:
                rels.remove(rel)
        pkg.put(pkg.rels_name(part), rels)
    rid = pkg.relate(main, RT["slide"], posixpath.relpath(part, posixpath.dirname(main)))
    pres = pkg.xml(main)
    lst = pres.find(qn("p:sldIdLst"))
    new_id = max(int(s.get("id")) for s in lst) + 1
    sld = etree.Element(qn("p:sldId"), id=str(new_id))
    sld.set(qn("r:id"), rid)
    live_after = next((s for s in lst if s.get(qn("r:id")) == after.get(qn("r:id"))), None)
    if live_after is not None:
        live_after.addnext(sld)
    else:
        lst.append(sld)
    return sld


def _mark_continued(root: etree._Element) -> None:
    for sp in root.iter(qn("p:sp")):
        ph = sp.find(".//" + qn("p:nvPr") + "/" + qn("p:ph"))
        if ph is not None and ph.get("type") in ("title", "ctrTitle"):
            runs = sp.findall(".//" + qn("a:r") + "/" + qn("a:t"))
            if runs:
                runs[-1].text = (runs[-1].text or "") + CONTINUED
            return


# -- status look ---------------------------------------------------------------------------
def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, qn("a:t")) for p in tc.iter(qn("a:p"))).strip()


def _status_cells(pkg: Package, parts: list[str]) -> dict[str, etree._Element]:
    """Status code -> a template cell showing it with a fill (first one found)."""
    out: dict[str, etree._Element] = {}
    for part in parts:
        for tc in pkg.template.xml(part).iter(qn("a:tc")):
            text = cell_text(tc)
            tcpr = tc.find(qn("a:tcPr"))
            if text in STATUS_CODES and text not in out and tcpr is not None and \
                    tcpr.find(qn("a:solidFill")) is not None:
                out[text] = tc
    return out


# -- tables --------------------------------------------------------------------------------
class _Fed:
    """A table being filled: where it is, its columns and its rows per slide."""

    def __init__(self, index: int, feed: Feed, by_col: dict[int, str], header: int,
                 proto: etree._Element, numbers: set[int]):
        self.index, self.feed, self.by_col, self.header = index, feed, by_col, header
        self.proto, self.numbers = proto, numbers


def _frames(root: etree._Element) -> list[etree._Element]:
    return [gf for gf in root.iter(qn("p:graphicFrame")) if gf.find(".//" + qn("a:tbl")) is not None]


def _box(el: etree._Element) -> tuple[int, int, int, int] | None:
    """(x, y, cx, cy) of a shape on the slide, from its transform."""
    xfrm = el.find(qn("p:xfrm"))
    if xfrm is None:
        pr = el.find(qn("p:spPr")) if el.find(qn("p:spPr")) is not None else el.find(qn("p:grpSpPr"))
        xfrm = pr.find(qn("a:xfrm")) if pr is not None else None
    if xfrm is None or xfrm.find(qn("a:off")) is None or xfrm.find(qn("a:ext")) is None:
        return None
    off, ext = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
    return int(off.get("x")), int(off.get("y")), int(ext.get("cx")), int(ext.get("cy"))


def _free_height(root: etree._Element, frame: etree._Element, slide_height: int) -> int:
    """Height from the table's top to the next shape below it (or the slide's bottom margin)."""
    me = _box(frame)
    if me is None:
        return 0
    x, y, cx, cy = me
    limit = slide_height - slide_height // 12
    tree = root.find(qn("p:cSld") + "/" + qn("p:spTree"))
    for el in (tree if tree is not None else []):
        box = _box(el) if el is not frame else None
        if box is None:
            continue
        bx, by, bcx, bcy = box
        if by >= y + cy and bx < x + cx and bx + bcx > x and bcy > 0:
            limit = min(limit, by - EMU_PER_PT * 18)
    return max(limit - y, cy)


def _fill_tables(root: etree._Element, feeds: list[Feed], codes: dict[str, etree._Element],
                 slide_height: int) -> list[tuple[_Fed, list[list[dict]]]]:
    out = []
    for i, frame in enumerate(_frames(root)):
        tbl = frame.find(".//" + qn("a:tbl"))
        rows = tbl.findall(qn("a:tr"))
        for h, header in enumerate(rows[:3]):
            found = best_feed(feeds, [cell_text(tc) for tc in header.findall(qn("a:tc"))])
            if found is None:
                continue
            feed, columns = found
            tmpl = rows[h + 1:]
            kinds = [row_kind([cell_text(tc) for tc in tr.findall(qn("a:tc"))]) for tr in tmpl]
            proto = tmpl[prototype_index(kinds)] if tmpl else header
            numbers = {c for c, tc in enumerate(proto.findall(qn("a:tc")))
                       if c not in columns and cell_text(tc).rstrip(".").isdigit()}
            fed = _Fed(i, feed, columns, h, proto, numbers)
            head = sum(int(tr.get("h", "0")) for tr in rows[:h + 1])
            space = max(_free_height(root, frame, slide_height) - head,
                        sum(int(tr.get("h", "0")) for tr in tmpl))
            chunks = _paginate(fed, tbl, space)
            _write(frame, fed, chunks[0], 0, codes)
            feed.used = True
            out.append((fed, chunks))
            break
    return out


def _continue_tables(root: etree._Element, fed_tables: list, k: int,
                     codes: dict[str, etree._Element]) -> None:
    frames = _frames(root)
    for fed, chunks in fed_tables:
        frame = frames[fed.index]
        if k < len(chunks):
            _write(frame, fed, chunks[k], sum(len(c) for c in chunks[:k]), codes)
        else:
            frame.getparent().remove(frame)


def _paginate(fed: _Fed, tbl: etree._Element, space: int) -> list[list[dict]]:
    widths = [int(g.get("w", "0")) for g in tbl.find(qn("a:tblGrid"))]
    chunks: list[list[dict]] = [[]]
    used = 0
    for values in fed.feed.rows:
        h = _row_height(fed.proto, fed.by_col, values, widths)
        if chunks[-1] and used + h > space:
            chunks.append([])
            used = 0
        chunks[-1].append(values)
        used += h
    return chunks


def _font_pt(tc: etree._Element) -> float:
    for tag in ("a:rPr", "a:endParaRPr", "a:defRPr"):
        el = tc.find(".//" + qn(tag))
        if el is not None and el.get("sz"):
            return int(el.get("sz")) / 100
    return 18.0


def _row_height(proto: etree._Element, by_col: dict[int, str], values: dict,
                widths: list[int]) -> int:
    best = int(proto.get("h", "0"))
    for c, tc in enumerate(proto.findall(qn("a:tc"))):
        text = values.get(by_col.get(c, ""), "")
        if not text or c >= len(widths):
            continue
        pr = tc.find(qn("a:tcPr"))
        pr = pr if pr is not None else etree.Element("x")
        width = widths[c] - int(pr.get("marL", DEFAULT_MARGIN_LR)) - int(pr.get("marR", DEFAULT_MARGIN_LR))
        size = _font_pt(tc)
        per_line = max(int(width / EMU_PER_PT / (size * CHAR_EM)), 4)
        lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
        h = lines * size * LINE * EMU_PER_PT + int(pr.get("marT", DEFAULT_MARGIN_TB)) + \
            int(pr.get("marB", DEFAULT_MARGIN_TB))
        best = max(best, int(h))
    return best


def _write(frame: etree._Element, fed: _Fed, rows: list[dict], start: int,
           codes: dict[str, etree._Element]) -> None:
    """Replace the table's template rows with ``rows`` and fit the frame's height."""
    tbl = frame.find(".//" + qn("a:tbl"))
    widths = [int(g.get("w", "0")) for g in tbl.find(qn("a:tblGrid"))]
    for tr in tbl.findall(qn("a:tr"))[fed.header + 1:]:
        tbl.remove(tr)
    for n, values in enumerate(rows):
        tr = copy.deepcopy(fed.proto)
        tr.set("h", str(_row_height(fed.proto, fed.by_col, values, widths)))
        for c, tc in enumerate(tr.findall(qn("a:tc"))):
            field = fed.by_col.get(c)
            text = values.get(field, "") if field else (
                str(start + n + 1) if c in fed.numbers else "")
            if field == "status" and text in codes:
                _status_look(tc, codes[text])
            set_cell_text(tc, text)
        tbl.append(tr)
    xfrm = frame.find(qn("p:xfrm"))
    ext = xfrm.find(qn("a:ext")) if xfrm is not None else None
    if ext is not None:
        ext.set("cy", str(sum(int(tr.get("h", "0")) for tr in tbl.findall(qn("a:tr")))))


def _status_look(tc: etree._Element, source: etree._Element) -> None:
    """Give a status cell the fill and text look of the template's cell for that code."""
    pr, src_pr = tc.find(qn("a:tcPr")), source.find(qn("a:tcPr"))
    if src_pr is not None:
        new = copy.deepcopy(src_pr)
        if pr is not None:
            pr.addprevious(new)
            tc.remove(pr)
        else:
            tc.append(new)
    body, src_body = tc.find(qn("a:txBody")), source.find(qn("a:txBody"))
    if body is not None and src_body is not None:
        body.addprevious(copy.deepcopy(src_body))
        tc.remove(body)


def _run_props(body: etree._Element) -> etree._Element | None:
    rpr = body.find(".//" + qn("a:r") + "/" + qn("a:rPr"))
    if rpr is None:
        end = body.find(".//" + qn("a:endParaRPr"))
        if end is None:
            return None
        rpr = copy.deepcopy(end)
        rpr.tag = qn("a:rPr")
        return rpr
    return copy.deepcopy(rpr)


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
def _add_context_slide(pkg: Package, main: str, slides: list, blocks: list[Block]) -> None:
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
            lines.append((block.text, 1200, block.kind == "h2"))
    title = next((b.text for b in blocks if b.kind == "h1"), "Key Task Context")
    tree.append(_textbox(2, "Title", 457200, 300000, 11277600, 700000, [(title, 2400, True)]))
    tree.append(_textbox(3, "Context", 457200, 1100000, 11277600, 5400000, lines))
    etree.SubElement(root, qn("p:clrMapOvr")).append(etree.Element(qn("a:masterClrMapping")))
    _add_slide(pkg, main, last_part, root, last_id)


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
