"""Documents filled by the one engine (m3docs.engine): the context of the document
(``content.document_context``) rendered into a tagged template, ours or a user's."""
from __future__ import annotations

from ..content import document_context
from ..engagement import Engagement
from ..engine import compiled
from ..engine.core import TemplateProblems
from ..errors import M3DocsError
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import RenderResult


def has_tags(template: Template, fmt: str) -> bool:
    """Whether the template carries any tag (one without is an official template, filled in
    place); a template whose tags have errors counts as tagged (its errors are reported)."""
    try:
        return bool(getattr(compiled(template, fmt), "parts", True))
    except TemplateProblems:
        return True


def fill_tagged(doc: Document, template: Template, engagement: Engagement,
                playbook: Playbook) -> RenderResult:
    """The document's context rendered into the template; errors raise ``M3DocsError``
    with every located problem."""
    try:
        data, warnings = compiled(template, doc.format).render(
            document_context(doc, playbook, engagement))
    except TemplateProblems as exc:
        raise M3DocsError(exc.diagnostics) from None
    return RenderResult(data, warnings)
