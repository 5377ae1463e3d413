"""Rows inserted in a worksheet: references follow the rows as in a spreadsheet application
(``ooxml.cells`` and ``ooxml.rowmove``, through a ``RowMap`` of one insertion)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from m3docs.ooxml import rowmove
from m3docs.ooxml.cells import move_formula, move_sqref


@dataclass(frozen=True)
class Shift:
    """``count`` rows inserted before row ``at`` of sheet ``sheet``, at the end of a table
    whose data starts at row ``region_top`` (0: none): a ``cells.RowMap``."""

    sheet: str
    at: int
    count: int
    region_top: int = 0

    def position(self, r: int) -> int:
        return r + self.count if r >= self.at else r

    def span(self, top: int, bottom: int) -> tuple[int, int]:
        grows = bottom >= self.at or (
            self.region_top and self.region_top <= top and bottom == self.at - 1)
        return self.position(top), (bottom + self.count if grows else bottom)


def shift_formula(text: str, shift: Shift, own: bool) -> str:
    return move_formula(text, shift, own)


SHIFT = Shift("Log", at=8, count=3)


@pytest.mark.parametrize("formula, own, expected", [
    ("A8", True, "A11"),
    ("A7", True, "A7"),
    ("$B$9*2", True, "$B$12*2"),
    ("SUM(A5:A20)", True, "SUM(A5:A23)"),          # spans the insertion: grows
    ("SUM(A8:B9)", True, "SUM(A11:B12)"),          # below: moves
    ("LOG10(A9)+ATAN2(1,2)", True, "LOG10(A12)+ATAN2(1,2)"),
    ('"A9 stays"&A9', True, '"A9 stays"&A12'),
    ("Log!A9", False, "Log!A12"),
    ("'Log'!A9:C10", False, "'Log'!A12:C13"),
    ("log!A9", False, "log!A12"),                  # sheet names ignore case
    ("Other!A9", True, "Other!A9"),
    ("A9", False, "A9"),                           # another sheet's own cell
    ("[1]Log!A9", False, "[1]Log!A9"),             # another workbook
    ("SUM(Log!A:A)", False, "SUM(Log!A:A)"),       # whole columns do not move
    ("SUM(8:9)", True, "SUM(11:12)"),
    ("'It''s'!A9", False, "'It''s'!A9"),
    ("SUM(Cover:Log!A9)", False, "SUM(Cover:Log!A9)"),  # a 3-D reference is left alone
])
def test_formula(formula, own, expected):
    assert shift_formula(formula, SHIFT, own) == expected


def test_quoted_sheet_with_apostrophe():
    shift = Shift("It's", at=2, count=1)
    assert shift_formula("'It''s'!B2+B2", shift, own=False) == "'It''s'!B3+B2"


def test_sqref():
    assert move_sqref("A1:A3 B8 C5:C9", SHIFT) == "A1:A3 B11 C5:C12"


def test_a_range_over_the_table_grows_with_it():
    """Rows added after a table whose data starts at row 3: a total over rows 3-7 covers the
    new rows; a range that stops before the table's last row, or starts above it, does not."""
    shift = Shift("Log", at=8, count=3, region_top=3)
    assert shift_formula("SUM(C3:C7)", shift, True) == "SUM(C3:C10)"
    assert shift_formula("SUM(C4:C7)", shift, True) == "SUM(C4:C10)"
    assert shift_formula("SUM(C3:C6)", shift, True) == "SUM(C3:C6)"
    assert shift_formula("SUM(C1:C7)", shift, True) == "SUM(C1:C7)"
    assert shift_formula("C7", shift, True) == "C7"
    assert move_sqref("D3:D7", shift) == "D3:D10"


def test_legacy_note_shapes_move():
    """A note's VML shape: its row and its box's rows move (any prefix, spacing kept apart)."""
    class Parts:
        data = (b'<xml><v:shape><x:ClientData ObjectType="Note"><x:Anchor>1, 15, 7, 10, 3, 15, 11,'
                b' 4</x:Anchor><x:Row>8</x:Row></x:ClientData></v:shape>'
                b'<v:shape><ns2:ClientData><ns2:Row>2</ns2:Row></ns2:ClientData></v:shape></xml>')

        def read(self, name):
            return self.data

        def put(self, name, data):
            self.data = data

    parts = Parts()
    rowmove.move_notes(parts, "xl/drawings/vmlDrawing1.vml", SHIFT)   # 3 rows before row 8
    assert b"<x:Row>11</x:Row>" in parts.data                   # row 9 -> 12, zero-based
    assert b"<x:Anchor>1, 15, 10, 10, 3, 15, 14, 4</x:Anchor>" in parts.data
    assert b"<ns2:Row>2</ns2:Row>" in parts.data                # above: unchanged
