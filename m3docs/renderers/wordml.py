"""Small WordprocessingML builders: paragraphs, runs, hyperlinks, tables, fields.

Text passed here must already be clean (see ``clean_text``); the builders only
shape elements, they never look at a package except through the callbacks given.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

from lxml import etree

from ..ooxml import xml

qn = lru_cache(maxsize=512)(xml.qn)

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def el(tag: str, **attrs: str) -> etree._Element:
    """A w: element; keyword attributes are w: attributes (``val``, ``w``, ``type`` ...)."""
    node = etree.Element(qn(tag))  # namespaces are reconciled when it joins the document
    _set(node, attrs)
    return node


def sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, qn(tag))
    _set(node, attrs)
    return node


def _set(node: etree._Element, attrs: dict[str, str]) -> None:
    for key, value in attrs.items():
        node.set(_attr(key), value)


@lru_cache(maxsize=256)
def _attr(key: str) -> str:
    return qn(key if ":" in key else f"w:{key}")


def run(text: str, bold: bool = False, italic: bool = False, style: str | None = None,
        color: str | None = None, size: float | None = None) -> etree._Element:
    """A run; newlines become breaks and tabs become tab characters."""
    r = el("w:r")
    props = [(style, "w:rStyle"), (bold, "w:b"), (italic, "w:i"), (color, "w:color"),
             (size, "w:sz")]
    if any(value for value, _ in props):
        rpr = sub(r, "w:rPr")
        if style:
            sub(rpr, "w:rStyle", val=style)
        if bold:
            sub(rpr, "w:b")
        if italic:
            sub(rpr, "w:i")
        if color:
            sub(rpr, "w:color", val=color)
        if size:
            sub(rpr, "w:sz", val=str(int(size * 2)))
            sub(rpr, "w:szCs", val=str(int(size * 2)))
    for i, line in enumerate(text.split("\n")):
        if i:
            sub(r, "w:br")
        for j, piece in enumerate(line.split("\t")):
            if j:
                sub(r, "w:tab")
            if piece:
                t = sub(r, "w:t")
                t.text = piece
                if piece != piece.strip():
                    t.set(XML_SPACE, "preserve")
    return r


def hyperlink(rel_id: str | None, runs: Iterable[etree._Element],
              anchor: str | None = None) -> etree._Element:
    """An external (``rel_id``) or internal (``anchor``) hyperlink around runs."""
    link = el("w:hyperlink")
    if rel_id:
        link.set(qn("r:id"), rel_id)
    if anchor:
        link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    link.extend(runs)
    return link


def paragraph(style: str | None, content: Iterable[etree._Element] = (), keep_next: bool = False,
              page_break_before: bool = False, spacing_after: int | None = None,
              keep_lines: bool = False) -> etree._Element:
    """A paragraph with an optional style and a few paragraph properties."""
    p = el("w:p")
    if style or keep_next or page_break_before or spacing_after is not None or keep_lines:
        ppr = sub(p, "w:pPr")
        if style:
            sub(ppr, "w:pStyle", val=style)
        if keep_next:
            sub(ppr, "w:keepNext")
        if keep_lines:
            sub(ppr, "w:keepLines")
        if page_break_before:
            sub(ppr, "w:pageBreakBefore")
        if spacing_after is not None:
            sub(ppr, "w:spacing", after=str(spacing_after))
    p.extend(content)
    return p


def field_start(instr: str) -> list[etree._Element]:
    return [_fld("begin"), _instr(instr), _fld("separate")]


def field_end() -> etree._Element:
    return _fld("end")


def _fld(kind: str) -> etree._Element:
    r = el("w:r")
    sub(r, "w:fldChar", fldCharType=kind)
    return r


def _instr(instr: str) -> etree._Element:
    r = el("w:r")
    t = sub(r, "w:instrText")
    t.text = instr
    t.set(XML_SPACE, "preserve")
    return r


def bookmark(paragraph_el: etree._Element, bm_id: int, name: str) -> None:
    """Wrap a paragraph's content in a bookmark."""
    start = el("w:bookmarkStart", id=str(bm_id), name=name)
    ppr = paragraph_el.find(qn("w:pPr"))
    paragraph_el.insert(0 if ppr is None else 1, start)
    paragraph_el.append(el("w:bookmarkEnd", id=str(bm_id)))


def table(style: str | None, widths: Sequence[int]) -> etree._Element:
    """A fixed-layout table of the given column widths (twips) with a header-row look."""
    tbl = el("w:tbl")
    pr = sub(tbl, "w:tblPr")
    if style:
        sub(pr, "w:tblStyle", val=style)
    sub(pr, "w:tblW", w=str(sum(widths)), type="dxa")
    sub(pr, "w:jc", val="center")
    sub(pr, "w:tblLayout", type="fixed")
    sub(pr, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0",
        lastColumn="0", noHBand="1", noVBand="1")
    grid = sub(tbl, "w:tblGrid")
    for width in widths:
        sub(grid, "w:gridCol", w=str(width))
    return tbl


def row(tbl: etree._Element, header: bool = False) -> etree._Element:
    """A row that does not split across pages; ``header`` rows repeat on every page."""
    tr = sub(tbl, "w:tr")
    trpr = sub(tr, "w:trPr")
    sub(trpr, "w:cantSplit")
    if header:
        sub(trpr, "w:tblHeader")
    return tr


def cell(tr: etree._Element, width: int, paragraphs: Iterable[etree._Element],
         fill: str | None = None, span: int = 1) -> etree._Element:
    """A cell; a cell always ends with a paragraph, so an empty one gets one."""
    tc = sub(tr, "w:tc")
    pr = sub(tc, "w:tcPr")
    sub(pr, "w:tcW", w=str(width), type="dxa")
    if span > 1:
        sub(pr, "w:gridSpan", val=str(span))
    if fill:
        sub(pr, "w:shd", val="clear", color="auto", fill=fill)
    tc.extend(paragraphs)
    if tc.find(qn("w:p")) is None:
        sub(tc, "w:p")
    return tc
