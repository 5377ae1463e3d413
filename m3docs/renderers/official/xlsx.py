"""An official Excel template (.xlsx, .xlsm, .xltx) filled through the one engine.

The annotator (``m3docs.annotate.xlsx``) infers the workbook's tags once per process; the
workbook engine renders the tagged copy with the document's context. There is no second
filler: what used to be filled in place here is now a tag.
"""
from __future__ import annotations

from ...content import document_context
from ...engagement import Engagement
from ...engine import compiled
from ...ooxml.package import Template
from ...playbook.model import Playbook
from ...plan import Document
from ..base import RenderResult


def render(doc: Document, template: Template, engagement: Engagement,
           playbook: Playbook) -> RenderResult:
    """The document: the template's inferred tags filled from its context."""
    from ...annotate.xlsx import annotated
    _, _, tagged = annotated(template, playbook, tuple(engagement.placeholders))
    data, warnings = compiled(tagged, "xlsx").render(document_context(doc, playbook, engagement))
    return RenderResult(data, warnings)
