"""A worksheet's structure, once: its children in schema order, column widths, and how tall
a row of wrapped text must be (the estimate every workbook writer shares)."""
from __future__ import annotations

import bisect
import math
from typing import Iterable

from lxml import etree

from .xml import qn

# The order of a worksheet's children (CT_Worksheet), for inserting new ones in place.
WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst")


def child(sheet: etree._Element, name: str, create: bool = True) -> etree._Element | None:
    """The worksheet's child ``name``, inserted in schema order when missing."""
    el = sheet.find(qn(f"x:{name}"))
    if el is not None or not create:
        return el
    el = etree.Element(qn(f"x:{name}"))
    rank = WORKSHEET_ORDER.index(name)
    for i, existing in enumerate(sheet):
        local = etree.QName(existing).localname
        if local in WORKSHEET_ORDER and WORKSHEET_ORDER.index(local) > rank:
            sheet.insert(i, el)
            return el
    sheet.append(el)
    return el


class ColumnWidths:
    """The widths a sheet's ``<cols>`` element sets, by column index (``get``), kept as its
    ranges: a last range often runs to column 16,384."""

    def __init__(self, ranges: list[tuple[int, int, float]]):
        self.ranges = sorted(ranges)
        self.starts = [lo for lo, _, _ in self.ranges]

    def get(self, index: int, default: float | None = None) -> float | None:
        i = bisect.bisect_right(self.starts, index) - 1
        if i >= 0 and index <= self.ranges[i][1]:
            return self.ranges[i][2]
        return default


def column_widths(sheet: etree._Element) -> ColumnWidths:
    """The widths the <cols> element sets, per column index."""
    cols = sheet.find(qn("x:cols"))
    ranges = []
    for col in cols.findall(qn("x:col")) if cols is not None else ():
        if col.get("width"):
            ranges.append((int(col.get("min")), int(col.get("max")), float(col.get("width"))))
    return ColumnWidths(ranges)


MAX_ROW_POINTS = 409.0   # Excel's tallest row


def row_height(texts: Iterable[tuple[str, float]], line_points: float = 12.75,
               pad: float = 3.0, minimum: float = 15.0) -> float:
    """An estimated height for 10-point wrapped text: (text, column width in chars) per cell."""
    lines = 1
    for text, width in texts:
        per_line = max(1.0, width * 1.2 - 2)
        n = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
        lines = max(lines, n)
    return min(max(minimum, round(lines * line_points + pad, 1)), MAX_ROW_POINTS)
