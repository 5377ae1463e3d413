"""Fill an official Word template in place: blanks, tables by header, a context section."""
from __future__ import annotations

import copy

from lxml import etree

from ...engagement import Engagement
from ...ooxml.package import Package
from ...ooxml.placeholders import paragraph_text
from ...ooxml.xml import clean_text, qn
from ...plan import Document
from .placeholders import Filler
from .tables import Block, Feed, best_feed, context_blocks, context_placed, prototype_index, \
    row_kind

W_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_TEXT_PART_TYPES = ("header+xml", "footer+xml", "footnotes+xml", "endnotes+xml")


def fill(pkg: Package, main: str, doc: Document, engagement: Engagement,
         feeds: list[Feed]) -> list[str]:
    """Fill the document part, its headers/footers/notes; returns warnings."""
    filler = Filler(engagement)
    root = copy.deepcopy(pkg.template.xml(main))
    _fill_paragraphs(root, filler)
    for tbl in list(root.iter(qn("w:tbl"))):
        _fill_table(tbl, feeds)
    pkg.put(main, root)
    for part in _related_text_parts(pkg, main):
        _fill_part(pkg, part, filler)
    if not context_placed(feeds):
        _append_context(pkg, main, context_blocks(doc, engagement))
    return filler.warnings()


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
    for p in root.iter(qn("w:p")):
        filler.paragraph(p, qn("w:t"))


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


def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, qn("w:t")) for p in tc.findall(qn("w:p")))


def _fill_table(tbl: etree._Element, feeds: list[Feed]) -> None:
    rows = tbl.findall(qn("w:tr"))
    for h, header in enumerate(rows[:3]):
        cells = _cells(header)
        found = best_feed(feeds, [cell_text(tc) for _, tc in cells])
        if found is None:
            continue
        feed, columns = found
        by_grid = {cells[i][0]: name for i, name in columns.items()}
        template_rows = rows[h + 1:]
        kinds = [row_kind([cell_text(tc) for _, tc in _cells(tr)]) for tr in template_rows]
        proto = template_rows[prototype_index(kinds)] if template_rows else header
        for tr in template_rows:
            tbl.remove(tr)
        for values in feed.rows:
            tbl.append(_clone_row(proto, by_grid, values, is_header=proto is header))
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
    return row


def _run_props(tc: etree._Element) -> etree._Element | None:
    rpr = tc.find(".//" + qn("w:r") + "/" + qn("w:rPr"))
    if rpr is not None:
        return copy.deepcopy(rpr)
    mark = tc.find(".//" + qn("w:pPr") + "/" + qn("w:rPr"))
    return copy.deepcopy(mark) if mark is not None else None


def set_cell_text(tc: etree._Element, text: str) -> None:
    """Replace a cell's text, keeping its first paragraph's and first run's formatting."""
    paragraphs = tc.findall(qn("w:p"))
    rpr = _run_props(tc)
    p = paragraphs[0] if paragraphs else etree.SubElement(tc, qn("w:p"))
    for extra in paragraphs[1:]:
        tc.remove(extra)
    for child in list(p):
        if child.tag != qn("w:pPr"):
            p.remove(child)
    if text:
        p.append(make_run(text, rpr))


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
def _style_ids(pkg: Package) -> set[str]:
    name = "word/styles.xml"
    if name not in pkg:
        return set()
    return {s.get(qn("w:styleId")) for s in pkg.template.xml(name).findall(qn("w:style"))}


def _paragraph(text: str, style: str | None, page_break: bool = False) -> etree._Element:
    p = etree.Element(qn("w:p"))
    if style:
        ppr = etree.SubElement(p, qn("w:pPr"))
        etree.SubElement(ppr, qn("w:pStyle")).set(qn("w:val"), style)
    if page_break:
        br = etree.SubElement(etree.SubElement(p, qn("w:r")), qn("w:br"))
        br.set(qn("w:type"), "page")
    if text:
        p.append(make_run(text, None))
    return p


def _table(rows: list[list[str]], style: str | None) -> etree._Element:
    tbl = etree.Element(qn("w:tbl"))
    tblpr = etree.SubElement(tbl, qn("w:tblPr"))
    if style:
        etree.SubElement(tblpr, qn("w:tblStyle")).set(qn("w:val"), style)
    width = etree.SubElement(tblpr, qn("w:tblW"))
    width.set(qn("w:w"), "5000")
    width.set(qn("w:type"), "pct")
    borders = etree.SubElement(tblpr, qn("w:tblBorders"))
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b = etree.SubElement(borders, qn(f"w:{side}"))
        for k, v in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "A6A6A6")):
            b.set(qn(f"w:{k}"), v)
    grid = etree.SubElement(tbl, qn("w:tblGrid"))
    widths = (900, 6200, 2260)
    for w in widths:
        etree.SubElement(grid, qn("w:gridCol")).set(qn("w:w"), str(w))
    for r, cells in enumerate(rows):
        tr = etree.SubElement(tbl, qn("w:tr"))
        if r == 0:
            etree.SubElement(etree.SubElement(tr, qn("w:trPr")), qn("w:tblHeader"))
        for c, text in enumerate(cells):
            tc = etree.SubElement(tr, qn("w:tc"))
            tcpr = etree.SubElement(tc, qn("w:tcPr"))
            tcw = etree.SubElement(tcpr, qn("w:tcW"))
            tcw.set(qn("w:w"), str(widths[c % len(widths)]))
            tcw.set(qn("w:type"), "dxa")
            rpr = None
            if r == 0:
                rpr = etree.Element(qn("w:rPr"))
                etree.SubElement(rpr, qn("w:b"))
            p = etree.SubElement(tc, qn("w:p"))
            p.append(make_run(text, rpr))
    return tbl


def _append_context(pkg: Package, main: str, blocks: list[Block]) -> None:
    """Add the key-task context as a last section, in the template's own heading styles."""
    root = pkg.xml(main)
    body = root.find(qn("w:body"))
    styles = _style_ids(pkg)
    pick = {"h1": "Heading1" if "Heading1" in styles else None,
            "h2": "Heading2" if "Heading2" in styles else None,
            "p": None}
    table_style = "TableGrid" if "TableGrid" in styles else None
    sect = body.find(qn("w:sectPr"))
    new: list[etree._Element] = [_paragraph("", None, page_break=True)]
    for block in blocks:
        if block.kind == "table":
            new.append(_table(block.rows, table_style))
            new.append(_paragraph("", pick["p"]))
        else:
            new.append(_paragraph(block.text, pick[block.kind]))
    for el in new:
        if sect is not None:
            sect.addprevious(el)
        else:
            body.append(el)
