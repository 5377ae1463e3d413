"""What rendering a document gives."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RenderResult:
    """The bytes of a rendered document and any warnings (e.g. characters removed)."""

    data: bytes
    warnings: list[str] = field(default_factory=list)
