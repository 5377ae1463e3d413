"""SpreadsheetML at the XML level: cell references, cells, rows and worksheet children.

Every text cell is written as an inline string (``t="inlineStr"``), so no text can
ever be read as a formula, whatever character it starts with.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

from lxml import etree

from ..ooxml.cells import cell_ref, col_index, col_letter, split_ref
from ..ooxml.worksheet import WORKSHEET_ORDER, child, column_widths, row_height
from ..ooxml.xml import NS, clean_text, qn

X = NS["x"]
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
MAX_CELL_CHARS = 32_767
EXCEL_EPOCH = dt.date(1899, 12, 30)


# -- references (owned by m3docs.ooxml.cells) ------------------------------------------
def range_ref(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"{cell_ref(c1, r1)}:{cell_ref(c2, r2)}"


def split_range(rng: str) -> tuple[int, int, int, int]:
    """'A3:C9' (or 'B4') -> (c1, r1, c2, r2)."""
    a, _, b = rng.partition(":")
    c1, r1 = split_ref(a)
    c2, r2 = split_ref(b) if b else (c1, r1)
    return c1, r1, c2, r2


def abs_range(c1: int, r1: int, c2: int, r2: int) -> str:
    return f"${col_letter(c1)}${r1}:${col_letter(c2)}${r2}"


def quote_sheet(name: str) -> str:
    """A sheet name as a formula reference prefix ('My Sheet' -> "'My Sheet'")."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


# -- text ----------------------------------------------------------------------------
def safe_text(text: str, warnings: list[str], where: str) -> str:
    """Text with XML-illegal characters removed and cut to Excel's cell limit (warned)."""
    cleaned, removed = clean_text(text)
    if removed:
        warnings.append(f"{where}: removed characters that are not allowed in XML")
    if len(cleaned) > MAX_CELL_CHARS:
        warnings.append(f"{where}: text cut to Excel's limit of {MAX_CELL_CHARS} characters")
        cleaned = cleaned[:MAX_CELL_CHARS]
    return cleaned


def excel_serial(day: dt.date) -> int:
    """A date as Excel's 1900-system serial number."""
    return (day - EXCEL_EPOCH).days


# -- cells and rows --------------------------------------------------------------------
def text_cell(ref: str, text: str, style: int | None) -> etree._Element:
    """An inline-string cell (never a formula)."""
    c = _cell(ref, style)
    c.set("t", "inlineStr")
    is_ = etree.SubElement(c, qn("x:is"))
    t = etree.SubElement(is_, qn("x:t"))
    t.text = text
    if text != text.strip() or "\n" in text:
        t.set(XML_SPACE, "preserve")
    return c


def number_cell(ref: str, value: float, style: int | None) -> etree._Element:
    c = _cell(ref, style)
    v = etree.SubElement(c, qn("x:v"))
    v.text = repr(value) if isinstance(value, float) else str(value)
    return c


def blank_cell(ref: str, style: int | None) -> etree._Element:
    return _cell(ref, style)


def _cell(ref: str, style: int | None) -> etree._Element:
    c = etree.Element(qn("x:c"), r=ref)
    if style:
        c.set("s", str(style))
    return c


def new_row(number: int, height: float | None = None) -> etree._Element:
    row = etree.Element(qn("x:row"), r=str(number))
    if height:
        row.set("ht", f"{height:g}")
        row.set("customHeight", "1")
    return row


def cell_text(cell: etree._Element, shared: list[str]) -> str:
    """The text a cell shows (shared, inline or plain value; '' for formulas' results)."""
    t = cell.get("t")
    if t == "s":
        v = cell.find(qn("x:v"))
        try:
            return shared[int(v.text)] if v is not None else ""
        except (ValueError, IndexError):
            return ""
    if t == "inlineStr":
        is_ = cell.find(qn("x:is"))
        return "".join(x.text or "" for x in is_.iter(qn("x:t"))) if is_ is not None else ""
    v = cell.find(qn("x:v"))
    return v.text or "" if v is not None else ""


def shared_strings(root: etree._Element | None) -> list[str]:
    """The texts of a sharedStrings part, by index."""
    if root is None:
        return []
    out = []
    for si in root.findall(qn("x:si")):
        out.append("".join(t.text or "" for t in si.iter(qn("x:t"))
                           if t.getparent().tag != qn("x:rPh")))
    return out


def rows_of(sheet_data: etree._Element) -> Iterator[tuple[int, etree._Element]]:
    for row in sheet_data.findall(qn("x:row")):
        yield int(row.get("r")), row


def cells_of(row: etree._Element) -> Iterator[tuple[int, etree._Element]]:
    for c in row.findall(qn("x:c")):
        yield split_ref(c.get("r"))[0], c


# -- worksheet structure ---------------------------------------------------------------
def used_range(sheet_data: etree._Element) -> tuple[int, int, int, int] | None:
    """(c1, r1, c2, r2) of every cell in sheetData, or None when empty."""
    cols, rows = [], []
    for r, row in rows_of(sheet_data):
        for c, _ in cells_of(row):
            cols.append(c)
            rows.append(r)
    if not cols:
        return None
    return min(cols), min(rows), max(cols), max(rows)


def set_dimension(sheet: etree._Element) -> None:
    data = child(sheet, "sheetData")
    used = used_range(data)
    child(sheet, "dimension").set("ref", range_ref(*used) if used else "A1")


def freeze(sheet: etree._Element, below_row: int, right_of_col: int = 0) -> None:
    """Freeze the rows up to ``below_row`` (and columns up to ``right_of_col``)."""
    views = child(sheet, "sheetViews")
    view = views.find(qn("x:sheetView"))
    if view is None:
        view = etree.SubElement(views, qn("x:sheetView"), workbookViewId="0")
    for old in view.findall(qn("x:pane")) + view.findall(qn("x:selection")):
        view.remove(old)
    top_left = cell_ref(right_of_col + 1, below_row + 1)
    pane = etree.Element(qn("x:pane"))
    if right_of_col:
        pane.set("xSplit", str(right_of_col))
    if below_row:
        pane.set("ySplit", str(below_row))
    active = "bottomRight" if right_of_col and below_row else (
        "bottomLeft" if below_row else "topRight")
    pane.set("topLeftCell", top_left)
    pane.set("activePane", active)
    pane.set("state", "frozen")
    view.insert(0, pane)
    etree.SubElement(view, qn("x:selection"), pane=active, activeCell=top_left, sqref=top_left)


def set_widths(sheet: etree._Element, widths: dict[int, float]) -> None:
    """Set column widths, keeping each column's other attributes (style, hidden)."""
    cols = child(sheet, "cols")
    segments = [(int(c.get("min")), int(c.get("max")), dict(c.attrib))
                for c in cols.findall(qn("x:col"))]
    for c in cols.findall(qn("x:col")):
        cols.remove(c)
    for i, width in widths.items():
        segments = _split_segment(segments, i)
        for lo, hi, attrs in segments:
            if lo == hi == i:
                break
        else:
            attrs = {}
            segments.append((i, i, attrs))
        attrs.update(width=f"{width:g}", customWidth="1")
    for lo, hi, attrs in sorted(segments, key=lambda s: s[0]):
        etree.SubElement(cols, qn("x:col"), **dict(attrs, min=str(lo), max=str(hi)))
    if not len(cols):
        cols.getparent().remove(cols)


def _split_segment(segments: list, i: int) -> list:
    """Segments with the one covering column ``i`` split so ``i`` stands alone."""
    out = []
    for lo, hi, attrs in segments:
        if lo <= i <= hi and lo != hi:
            if lo < i:
                out.append((lo, i - 1, dict(attrs)))
            out.append((i, i, dict(attrs)))
            if i < hi:
                out.append((i + 1, hi, dict(attrs)))
        else:
            out.append((lo, hi, attrs))
    return out


def extend_sqref(sqref: str, example_row: int, first: int, last: int) -> str:
    """Ranges of ``sqref`` touching ``example_row`` stretched to rows first..last."""
    out = []
    for part in sqref.split():
        c1, r1, c2, r2 = split_range(part)
        if r1 <= example_row <= r2:
            part = cell_ref(c1, first) if (c1 == c2 and first == last) else \
                range_ref(c1, first, c2, max(last, first))
        out.append(part)
    return " ".join(out)
