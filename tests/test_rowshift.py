"""Row insertion in a worksheet: references follow the rows as in a spreadsheet application."""
import pytest

from m3docs.renderers.official.rowshift import Shift, shift_formula, shift_sqref

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
    assert shift_sqref("A1:A3 B8 C5:C9", SHIFT) == "A1:A3 B11 C5:C12"


def test_a_range_over_the_table_grows_with_it():
    """Rows added after a table whose data starts at row 3: a total over rows 3-7 covers the
    new rows; a range that stops before the table's last row, or starts above it, does not."""
    shift = Shift("Log", at=8, count=3, region_top=3)
    assert shift_formula("SUM(C3:C7)", shift, True) == "SUM(C3:C10)"
    assert shift_formula("SUM(C4:C7)", shift, True) == "SUM(C4:C10)"
    assert shift_formula("SUM(C3:C6)", shift, True) == "SUM(C3:C6)"
    assert shift_formula("SUM(C1:C7)", shift, True) == "SUM(C1:C7)"
    assert shift_formula("C7", shift, True) == "C7"
    assert shift_sqref("D3:D7", shift) == "D3:D10"


def test_legacy_note_shapes_move():
    """A note's VML shape: its row and its box's rows move (any prefix, spacing kept apart)."""
    from m3docs.renderers.official.rowshift import _shift_notes

    class Parts:
        data = (b'<xml><v:shape><x:ClientData ObjectType="Note"><x:Anchor>1, 15, 7, 10, 3, 15, 11,'
                b' 4</x:Anchor><x:Row>8</x:Row></x:ClientData></v:shape>'
                b'<v:shape><ns2:ClientData><ns2:Row>2</ns2:Row></ns2:ClientData></v:shape></xml>')

        def read(self, name):
            return self.data

        def put(self, name, data):
            self.data = data

    parts = Parts()
    _shift_notes(parts, "xl/drawings/vmlDrawing1.vml", SHIFT)   # 3 rows before row 8
    assert b"<x:Row>11</x:Row>" in parts.data                   # row 9 -> 12, zero-based
    assert b"<x:Anchor>1, 15, 10, 10, 3, 15, 14, 4</x:Anchor>" in parts.data
    assert b"<ns2:Row>2</ns2:Row>" in parts.data                # above: unchanged


def test_several_insertions_in_one_pass():
    """Rows inserted under two key tasks at once: rows move by what is inserted above them,
    each phase's roll-up grows over its own inserted rows, a range over both grows by all."""
    from m3docs.renderers.official.rowshift import Shifts
    both = Shifts.of([Shift("S", 10, 3, region_top=8), Shift("S", 5, 2, region_top=4)])
    assert [both.row(r) for r in (1, 4, 5, 9, 10, 30)] == [1, 4, 7, 11, 15, 35]
    assert shift_formula("SUM(D4:D4)+SUM(D8:D9)+SUM(D2:D20)+D12", both, own=True) == \
        "SUM(D4:D6)+SUM(D10:D14)+SUM(D2:D25)+D17"
