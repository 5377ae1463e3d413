"""What the official workbook filler still takes from here: Excel's cell text limit and the
column letters (owned by m3docs.ooxml.cells). Our own workbooks and the tracker are tagged
templates filled by the workbook engine (m3docs.engine.xlsx)."""
from __future__ import annotations

from ..ooxml.cells import col_index, col_letter

MAX_CELL_CHARS = 32_767

__all__ = ["MAX_CELL_CHARS", "col_index", "col_letter"]
