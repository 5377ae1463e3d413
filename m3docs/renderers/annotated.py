"""Official templates through the one engine: the annotator's tagged template (made once per
process), filled by the format's engine with the document's context."""
from __future__ import annotations

from .. import content, engine
from ..annotate.pptx import annotated
from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import RenderResult


def render_annotated(doc: Document, template: Template, engagement: Engagement,
                     playbook: Playbook) -> RenderResult:
    """An official deck filled through its inferred tags."""
    tagged = annotated(template, tuple(sorted(engagement.placeholders)))
    data, warnings = engine.compiled(tagged, doc.format).render(
        content.document_context(doc, playbook, engagement))
    return RenderResult(data, warnings)
