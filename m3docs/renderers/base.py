"""The one small interface every format renderer implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document


@dataclass
class RenderResult:
    """The bytes of a rendered document and any warnings (e.g. characters removed)."""

    data: bytes
    warnings: list[str] = field(default_factory=list)


class Renderer(Protocol):
    """Fills one template with one document's content; pure: no I/O, no clock."""

    format: str

    def render(self, doc: Document, template: Template, engagement: Engagement,
               playbook: Playbook) -> RenderResult: ...
