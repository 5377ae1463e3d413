"""Insert rows in a worksheet as a spreadsheet application does.

When a template's table needs more rows than it has and something sits below it
(notes, a sign-off block, a second table), the rows from there on move down and
everything that points at them follows: cells, merges, formulas (in every sheet),
conditional formats, validations, hyperlinks, notes, page breaks, tables, defined
names and drawing anchors. Ranges that span the insertion point grow, as in Excel,
and so do ranges over the table's rows (a total below the table keeps covering it).

``Shift`` is the row map of such an insertion; the moving itself is
``m3docs.ooxml.rowmove``'s, shared with the workbook template engine.
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

from lxml import etree

from ...ooxml import rowmove
from ...ooxml.cells import move_formula, move_ref, move_sqref, same_sheet
from ...ooxml.package import Package


@dataclass(frozen=True)
class Shift:
    """``count`` rows inserted before row ``at`` of sheet ``sheet``, at the end of a table
    whose data starts at row ``region_top`` (0: none). A ``cells.RowMap``."""

    sheet: str
    at: int
    count: int
    region_top: int = 0

    def row(self, r: int) -> int:
        return r + self.count if r >= self.at else r

    def position(self, r: int) -> int:
        return self.row(r)

    def span(self, top: int, bottom: int) -> tuple[int, int]:
        """A range's new rows: moved when below, grown when it spans the insertion point
        or covers the table's data down to its last row (a total over the table grows with it)."""
        grows = bottom >= self.at or (
            self.region_top and self.region_top <= top and bottom == self.at - 1)
        return self.row(top), (bottom + self.count if grows else bottom)

    def names(self, sheet: str) -> bool:
        return same_sheet(sheet, self.sheet)


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


def shift_range(ref: str, shift: Shift) -> str:
    """``A5``, ``A5:C9`` or ``5:9`` after the insertion."""
    return move_ref(ref, shift) or ref


def shift_sqref(sqref: str, shift: Shift) -> str:
    return move_sqref(sqref, shift)


def shift_formula(text: str, shift: Shift, own: bool) -> str:
    """Move the references to the shifted rows; ``own``: the formula is on that sheet, so
    references without a sheet name point there too."""
    return move_formula(text, shift, own)


def shift_sheet(ws: etree._Element, shift: Shift) -> bool:
    """Move rows at or below ``shift.at`` of this worksheet down, with what points at them;
    True when a formula moved or changed (the workbook must then be recalculated)."""
    return rowmove.move_sheet(ws, shift)


def shift_sheet_parts(pkg: Package, sheet_part: str, shift: Shift) -> None:
    """The sheet's tables and drawing anchors below the insertion point move with the rows."""
    rowmove.move_sheet_parts(pkg, sheet_part, shift)


def shift_names(pkg: Package, main: str, shift: Shift) -> None:
    """Defined names that point at shifted rows follow them."""
    rowmove.move_names(pkg, main, shift)


def shift_other_sheets(pkg: Package, sheets: list[tuple[str, str]], shifts: list[Shift]) -> bool:
    """After every sheet is filled: formulas of the other sheets that point at shifted rows
    follow them. True when a formula changed."""
    return rowmove.move_other_sheets(pkg, sheets, list(shifts))


_shift_notes = rowmove.move_notes
