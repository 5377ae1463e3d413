"""Diagnostics and the one exception type the library raises."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in an input file, with a 1-based position."""

    path: str
    line: int
    col: int
    severity: str  # "error" or "warning"
    message: str
    # where the problem is when it is not a line and column: "Sheet!B7" in a workbook, or
    # "12" (a line alone) in an XML file, " word/document.xml: paragraph 12" in a template;
    # shown after FILE: in place of LINE:COL
    place: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"

    @property
    def where(self) -> str:
        """FILE:LINE:COL, FILE:PLACE (a cell, an XML line), or FILE alone when the problem is
        the whole file."""
        if self.place:
            return f"{self.path}:{self.place}"
        return f"{self.path}:{self.line}:{self.col}" if self.line else self.path

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class M3DocsError(Exception):
    """Raised for bad input; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic("m3docs", 0, 0, "error", diagnostics)]  # no file
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def error(path: str, line: int, col: int, message: str) -> Diagnostic:
    return Diagnostic(str(path), line, col, "error", message)


def warning(path: str, line: int, col: int, message: str) -> Diagnostic:
    return Diagnostic(str(path), line, col, "warning", message)


def cell_error(path: str, sheet: str, cell: str, message: str) -> Diagnostic:
    """An error in one cell of a workbook: FILE:SHEET!CELL."""
    return Diagnostic(str(path), 0, 0, "error", message, f"{sheet}!{cell}")


def line_error(path: str, line: int, message: str) -> Diagnostic:
    """An error at a line of a file read without columns (XML): FILE:LINE."""
    return Diagnostic(str(path), line, 0, "error", message, str(line))
