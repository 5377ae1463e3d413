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
    place: str = ""  # appended to the path verbatim: ": word/document.xml: paragraph 12", ":Plan!C5"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"

    @property
    def where(self) -> str:
        """FILE:LINE:COL, FILE followed by its place (a part and paragraph, a cell), or FILE
        alone when the problem is the whole file."""
        if self.place:
            return f"{self.path}{self.place}"
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
