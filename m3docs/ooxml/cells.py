"""Cell references and formulas, once: reading them, and moving them when rows move.

A ``RowMap`` says where a sheet's rows went: rows inserted before a row (an official
template's table that grew), or the rows a template's loop generated (one template row
becomes many, control rows vanish). Every reference to that sheet, in a formula, a range
list (``sqref``) or a defined name, is moved through the map: a reference below moves, a
range over moved rows grows to cover them all, and a reference to rows that vanished
becomes ``#REF!`` (as in a spreadsheet application that deletes rows).

Formulas are read with openpyxl's formula ``Tokenizer`` (strings, function names and
sheet names are never mistaken for references) and its ``Translator``'s reference
patterns; columns use ``openpyxl.utils.cell``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Protocol

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.formula.translate import Translator
from openpyxl.utils.exceptions import CellCoordinatesException
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, \
    get_column_letter, quote_sheetname

CELL = Translator.CELL_REF_RE      # A1, $A$1 (a whole reference: use fullmatch)
ROWS = Translator.ROW_RANGE_RE     # 3:4, $3:$4
REF_ERROR = "#REF!"


# -- references ----------------------------------------------------------------------
def col_letter(index: int) -> str:
    """1 -> 'A', 27 -> 'AA'."""
    return get_column_letter(index)


def col_index(letters: str) -> int:
    """'A' -> 1, 'AA' -> 27."""
    return column_index_from_string(letters.upper())


def split_ref(ref: str) -> tuple[int, int]:
    """'B7' or '$B$7' -> (column 2, row 7)."""
    try:
        letters, row = coordinate_from_string(ref.strip().replace("$", "").upper())
    except (CellCoordinatesException, ValueError):
        raise ValueError(f"not a cell reference: {ref!r}") from None
    return col_index(letters), row


def cell_ref(col: int, row: int) -> str:
    return f"{col_letter(col)}{row}"


def quote_sheet(name: str) -> str:
    """A sheet name as a formula prefix ('My Sheet' -> "'My Sheet'")."""
    return quote_sheetname(name)


def same_sheet(written: str, name: str) -> bool:
    """Whether a formula's sheet prefix (without '!') names sheet ``name`` (case ignored)."""
    if written.startswith("'") and written.endswith("'"):
        written = written[1:-1].replace("''", "'")
    return written.lower() == name.lower()


# -- where rows went -------------------------------------------------------------------
class RowMap(Protocol):
    """Where the rows of sheet ``sheet`` went."""

    sheet: str

    def span(self, top: int, bottom: int) -> tuple[int, int] | None:
        """The new rows of the range top..bottom; None when all its rows vanished."""
        ...

    def position(self, row: int) -> int:
        """Where a thing anchored at ``row`` now sits (a vanished row: where it was)."""
        ...


def move_row(row: int, rows: RowMap) -> int | None:
    got = rows.span(row, row)
    return got[0] if got else None


def _endpoint(text: str) -> tuple[str, str, bool, int] | None:
    """'$B$7' -> ('$B', '$', True, 7): column part, row's '$', row absolute, row."""
    m = CELL.fullmatch(text)
    if not m:
        return None
    col, row = m.group(1), m.group(2)
    return col, "$" if row.startswith("$") else "", row.startswith("$"), int(row.lstrip("$"))


def move_ref(ref: str, rows: RowMap, local: tuple[int, int, int] | None = None,
             grow: bool = False) -> str | None:
    """A cell, cell range or row range (no sheet) after the rows moved; None when every
    row it covered vanished. ``local`` (first, last, offset): relative references into
    rows first..last are that copy's rows (a formula inside a generated row). ``grow``: a
    single cell is a range of one row too (a format or validation on a repeated cell)."""
    a, colon, b = ref.partition(":")
    if not colon:
        end = _endpoint(a)
        if end is None:
            return ref
        col, dollar, absolute, r = end
        if local and not absolute and local[0] <= r <= local[1]:
            return f"{col}{r + local[2]}"
        if grow:
            got = rows.span(r, r)
            if got is None:
                return None
            if got[0] != got[1]:
                return f"{col}{dollar}{got[0]}:{col}{dollar}{got[1]}"
            return f"{col}{dollar}{got[0]}"
        new = move_row(r, rows)
        return None if new is None else f"{col}{dollar}{new}"
    m = ROWS.fullmatch(ref)
    if m:
        ea = ("", "$" if m.group(1).startswith("$") else "", m.group(1).startswith("$"),
              int(m.group(1).lstrip("$")))
        eb = ("", "$" if m.group(2).startswith("$") else "", m.group(2).startswith("$"),
              int(m.group(2).lstrip("$")))
    else:
        ea, eb = _endpoint(a), _endpoint(b)
        if ea is None or eb is None:
            return ref   # a column range, or names joined by ':'
    if local and not ea[2] and not eb[2] and local[0] <= ea[3] and eb[3] <= local[1]:
        top, bottom = ea[3] + local[2], eb[3] + local[2]
    else:
        got = rows.span(ea[3], eb[3])
        if got is None:
            return None
        top, bottom = got
    return f"{ea[0]}{ea[1]}{top}:{eb[0]}{eb[1]}{bottom}"


def move_sqref(sqref: str, rows: RowMap, grow: bool = False) -> str:
    """A space-separated range list after the rows moved ("" when all vanished)."""
    out = []
    for part in sqref.split():
        moved = move_ref(part, rows, grow=grow)
        if moved is not None:
            out.append(moved)
    return " ".join(out)


@lru_cache(maxsize=4096)
def formula_tokens(text: str) -> tuple[tuple[bool, str], ...]:
    """A formula (without '=') as (is_reference, text) pieces; one text piece when it
    cannot be read."""
    try:
        items = Tokenizer("=" + text).items
    except (TokenizerError, IndexError, ValueError):
        return ((False, text),)
    return tuple((t.type == Token.OPERAND and t.subtype == Token.RANGE, t.value) for t in items)


def move_formula(text: str, rows: RowMap, own: bool,
                 local: tuple[int, int, int] | None = None, grow: bool = False) -> str:
    """A formula's references to the moved sheet, moved. ``own``: the formula sits on
    that sheet, so references without a sheet name point there too; ``grow``: a single
    cell grows over the rows it became (a chart's series)."""
    return map_references(text, rows.sheet, own, lambda ref, bare: move_ref(
        ref, rows, local if bare else None, grow))


def map_references(text: str, sheet: str, own: bool,
                   move: Callable[[str, bool], str | None]) -> str:
    """A formula with each reference to sheet ``sheet`` replaced by ``move(reference
    without its sheet, whether it had none)`` (None: ``#REF!``). ``own``: the formula sits
    on that sheet, so references without a sheet name point there too."""
    out = []
    for is_ref, piece in formula_tokens(text):
        if is_ref:
            prefix, ref = Translator.strip_ws_name(piece)
            if same_sheet(prefix[:-1], sheet) if prefix else own:
                moved = move(ref, not prefix)
                piece = prefix + (REF_ERROR if moved is None else moved)
        out.append(piece)
    return "".join(out)


def points_at(text: str, rows: RowMap, own: bool) -> bool:
    """True when the formula refers to rows the map moves."""
    return move_formula(text, rows, own) != text


__all__ = ["CELL", "REF_ERROR", "ROWS", "RowMap", "cell_ref", "col_index", "col_letter",
           "formula_tokens", "map_references", "move_formula", "move_ref", "move_row", "move_sqref",
           "points_at", "quote_sheet", "same_sheet", "split_ref"]
