"""Insert rows in a worksheet as a spreadsheet application does.

When a template's table needs more rows than it has and something sits below it
(notes, a sign-off block, a second table), the rows from there on move down and
everything that points at them follows: cells, merges, formulas (in every sheet),
conditional formats, validations, hyperlinks, notes, page breaks, tables, defined
names and drawing anchors. Ranges that span the insertion point grow, as in Excel,
and so do ranges over the table's rows (a total below the table keeps covering it).
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from ...ooxml.package import Package, resolve_target
from ...ooxml.xml import NS, RT, qn

# A string literal (left alone), or an optional sheet and a cell, cell range or row range.
_TOKEN = re.compile(r"""
    "(?:[^"]|"")*"
  | (?<![\w.$'!\]:])
    (?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
    (?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?|\$?\d+:\$?\d+)
    (?![\w(])
""", re.VERBOSE)
_CELL = re.compile(r"^(\$?[A-Z]{0,3}\$?)(\d+)$")
_SQREF_TAGS = ("x:conditionalFormatting", "x:dataValidation", "x:hyperlink", "x:mergeCell",
               "x:autoFilter", "x:selection", "x:protectedRange", "x:sortState",
               "x:sortCondition", "x:ignoredError")
# A legacy note's shape names its cell's zero-based row: <x:Row>8</x:Row> (any prefix).
_VML_ROW = re.compile(rb"(<(?:\w+:)?Row>\s*)(\d+)(\s*</(?:\w+:)?Row>)")
# ... and where its box is drawn: <x:Anchor>col, dx, row, dy, col, dx, row, dy</x:Anchor>.
_VML_ANCHOR = re.compile(rb"(<(?:\w+:)?Anchor>)([\d\s,]+)(</(?:\w+:)?Anchor>)")


@dataclass(frozen=True)
class Shift:
    """``count`` rows inserted before row ``at`` of sheet ``sheet``, at the end of a table
    whose data starts at row ``region_top`` (0: none)."""

    sheet: str
    at: int
    count: int
    region_top: int = 0

    def row(self, r: int) -> int:
        return r + self.count if r >= self.at else r

    def span(self, top: int, bottom: int) -> tuple[int, int]:
        """A range's new rows: moved when below, grown when it spans the insertion point
        or covers the table's data down to its last row (a total over the table grows with it)."""
        grows = bottom >= self.at or (
            self.region_top and self.region_top <= top and bottom == self.at - 1)
        return self.row(top), (bottom + self.count if grows else bottom)

    def names(self, sheet: str) -> bool:
        return sheet.strip("'").replace("''", "'").lower() == self.sheet.lower()


@dataclass(frozen=True)
class Shifts(Shift):
    """Several insertions in one sheet, applied in one pass (an outline fill inserts rows
    under many rows of a long sheet: one pass over it, not one per insertion). ``at`` is the
    highest insertion point, ``count`` the rows inserted in all; ``parts`` are in the
    template's row numbers."""

    parts: tuple[Shift, ...] = ()
    ats: tuple[int, ...] = ()       # insertion points, top first
    before: tuple[int, ...] = ()    # rows inserted at or above each of them

    @classmethod
    def of(cls, parts: list[Shift]) -> "Shifts":
        ordered = tuple(sorted(parts, key=lambda s: s.at, reverse=True))
        top_first = ordered[::-1]
        return cls(ordered[0].sheet, ordered[-1].at, sum(s.count for s in ordered), 0, ordered,
                   tuple(s.at for s in top_first),
                   tuple(itertools.accumulate(s.count for s in top_first)))

    def row(self, r: int) -> int:
        """Row ``r`` moves down by the rows inserted at or above it."""
        i = bisect.bisect_right(self.ats, r)
        return r + self.before[i - 1] if i else r

    def span(self, top: int, bottom: int) -> tuple[int, int]:
        for part in self.parts:
            top, bottom = part.span(top, bottom)
        return top, bottom


def _cell(ref: str, row: Callable[[int], int]) -> str:
    m = _CELL.match(ref)
    return f"{m.group(1)}{row(int(m.group(2)))}" if m else ref


def shift_range(ref: str, shift: Shift) -> str:
    """``A5``, ``A5:C9`` or ``5:9`` after the insertion."""
    if ":" not in ref:
        return _cell(ref, shift.row)
    a, b = ref.split(":", 1)
    ma, mb = _CELL.match(a), _CELL.match(b)
    if not ma or not mb:
        return ref
    top, bottom = shift.span(int(ma.group(2)), int(mb.group(2)))
    return f"{ma.group(1)}{top}:{mb.group(1)}{bottom}"


def shift_sqref(sqref: str, shift: Shift) -> str:
    return " ".join(shift_range(part, shift) for part in sqref.split())


def shift_formula(text: str, shift: Shift, own: bool) -> str:
    """Move the references to the shifted rows; ``own``: the formula is on that sheet, so
    references without a sheet name point there too."""
    def edit(m: re.Match) -> str:
        ref = m.group("ref")
        if ref is None:
            return m.group(0)
        sheet = m.group("sheet")
        if not (shift.names(sheet[:-1]) if sheet else own):
            return m.group(0)
        return (sheet or "") + shift_range(ref, shift)
    return _TOKEN.sub(edit, text)


def shift_sheet(ws: etree._Element, shift: Shift) -> bool:
    """Move rows at or below ``shift.at`` of this worksheet down, with what points at them;
    True when a formula moved or changed (the workbook must then be recalculated)."""
    formulas = False
    for row in ws.iter(qn("x:row")):
        r = int(row.get("r", "0"))
        if r >= shift.at:
            row.set("r", str(shift.row(r)))
            for c in row.iter(qn("x:c")):
                if c.get("r"):
                    c.set("r", _cell(c.get("r"), shift.row))
                formulas |= c.find(qn("x:f")) is not None
    formulas |= _points_at(ws, shift, own=True)
    _shift_formulas(ws, shift, own=True)
    for tag in _SQREF_TAGS:
        for el in ws.iter(qn(tag)):
            for attr in ("sqref", "ref", "activeCell"):
                if el.get(attr):
                    el.set(attr, shift_sqref(el.get(attr), shift))
    for el in ws.iter(f"{{{NS['xm']}}}sqref"):
        if el.text:
            el.text = shift_sqref(el.text, shift)
    for brk in ws.iterfind(f"{qn('x:rowBreaks')}/{qn('x:brk')}"):
        if int(brk.get("id", "0")) >= shift.at:
            brk.set("id", str(shift.row(int(brk.get("id")))))
    return formulas


def _formulas(root: etree._Element):
    for tag in (qn("x:f"), qn("x:formula"), qn("x:formula1"), qn("x:formula2"),
                f"{{{NS['xm']}}}f"):
        yield from root.iter(tag)


def _shift_formulas(root: etree._Element, shift: Shift, own: bool) -> None:
    """Shift the references of every formula under ``root``."""
    for el in _formulas(root):
        if el.text:
            el.text = shift_formula(el.text, shift, own)
        if el.tag == qn("x:f") and el.get("ref") and own:
            el.set("ref", shift_sqref(el.get("ref"), shift))


def _points_at(root: etree._Element, shift: Shift, own: bool = False) -> bool:
    """True when a formula under ``root`` refers to the shifted rows."""
    return any(el.text and shift_formula(el.text, shift, own) != el.text
               for el in _formulas(root))


def shift_sheet_parts(pkg: Package, sheet_part: str, shift: Shift) -> None:
    """The sheet's tables and drawing anchors below the insertion point move with the rows."""
    rels_name = pkg.rels_name(sheet_part)
    if rels_name not in pkg:
        return
    for rel in pkg.view(rels_name):
        part = resolve_target(sheet_part, rel.get("Target", ""))
        if part not in pkg or rel.get("TargetMode") == "External":
            continue
        if rel.get("Type") == RT["table"]:
            _shift_table(pkg, part, shift)
        elif rel.get("Type") == RT["drawing"]:
            _shift_anchors(pkg, part, shift)
        elif rel.get("Type") == RT["comments"]:
            _shift_comments(pkg, part, shift)
        elif rel.get("Type") == RT["vmlDrawing"]:
            _shift_notes(pkg, part, shift)


def _shift_table(pkg: Package, part: str, shift: Shift) -> None:
    ref = pkg.view(part).get("ref", "")
    if shift_sqref(ref, shift) == ref:
        return
    table = pkg.xml(part)
    for el in [table, *table.iter(qn("x:autoFilter"), qn("x:sortState"))]:
        if el.get("ref"):
            el.set("ref", shift_sqref(el.get("ref"), shift))


def _shift_comments(pkg: Package, part: str, shift: Shift) -> None:
    tag = qn("x:comment")
    if all(shift_range(c.get("ref", ""), shift) == c.get("ref", "")
           for c in pkg.view(part).iter(tag)):
        return
    for c in pkg.xml(part).iter(tag):
        if c.get("ref"):
            c.set("ref", shift_range(c.get("ref"), shift))


def _shift_notes(pkg: Package, part: str, shift: Shift) -> None:
    """Legacy VML note shapes (not always well-formed XML, so edited as text)."""
    def row(text: bytes) -> bytes:
        return str(shift.row(int(text) + 1) - 1).encode()

    def anchor(m: re.Match) -> bytes:
        values = [v.strip() for v in m.group(2).split(b",")]
        if len(values) != 8 or not all(v.isdigit() for v in values):
            return m.group(0)
        values[2], values[6] = row(values[2]), row(values[6])
        return m.group(1) + b", ".join(values) + m.group(3)

    data = pkg.read(part)
    new = _VML_ROW.sub(lambda m: m.group(1) + row(m.group(2)) + m.group(3), data)
    new = _VML_ANCHOR.sub(anchor, new)
    if new != data:
        pkg.put(part, new)


def _shift_anchors(pkg: Package, part: str, shift: Shift) -> None:
    """Anchor rows are zero-based: row ``at`` is index ``at - 1``."""
    tag = f"{{{NS['xdr']}}}row"
    if not any(int(el.text or 0) >= shift.at - 1 for el in pkg.view(part).iter(tag)):
        return
    for el in pkg.xml(part).iter(tag):
        if int(el.text or 0) >= shift.at - 1:
            el.text = str(shift.row(int(el.text) + 1) - 1)


def shift_names(pkg: Package, main: str, shift: Shift) -> None:
    """Defined names that point at shifted rows follow them (the workbook part is left
    untouched when none does)."""
    names = pkg.view(main).find(qn("x:definedNames"))
    changes = [(i, shift_formula(dn.text or "", shift, own=False))
               for i, dn in enumerate(names if names is not None else [])]
    changes = [(i, text) for i, text in changes if text != (names[i].text or "")]
    if changes:
        live = pkg.xml(main).find(qn("x:definedNames"))
        for i, text in changes:
            live[i].text = text


def shift_other_sheets(pkg: Package, sheets: list[tuple[str, str]], shifts: list[Shift]) -> bool:
    """After every sheet is filled: formulas of the other sheets that point at shifted rows
    follow them (parts that do not are left untouched). True when a formula changed."""
    changed = False
    for shift in shifts:
        for name, part in sheets:
            if name != shift.sheet and _points_at(pkg.view(part), shift):
                _shift_formulas(pkg.xml(part), shift, own=False)
                changed = True
    return changed
