"""One renderer per format behind one interface (see base.Renderer)."""
from __future__ import annotations

from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import Renderer, RenderResult


ANNOTATED = {"pptx"}  # formats whose official templates go through annotator and engine


def renderer_for(fmt: str) -> Renderer:
    """The renderer of a format: docx, xlsx or pptx."""
    if fmt == "docx":
        from .docx import DocxRenderer
        return DocxRenderer()
    if fmt == "xlsx":
        from .xlsx import XlsxRenderer
        return XlsxRenderer()
    if fmt == "pptx":
        from .pptx import PptxRenderer
        return PptxRenderer()
    raise ValueError(f"unknown format {fmt!r}")


def preload(formats: set[str], official: bool = False) -> None:
    """Import the renderers of ``formats`` now (before forking workers, so each does not
    import them again)."""
    for fmt in formats:
        renderer_for(fmt)
    if official:
        from . import official as _official  # noqa: F401
        if formats & ANNOTATED:   # the annotator and the format's engine
            from .. import engine
            from . import annotated as _annotated  # noqa: F401
            for fmt in formats & ANNOTATED:
                engine.engine_for(fmt)


def render_document(doc: Document, template: Template, engagement: Engagement,
                    playbook: Playbook, official: bool = False) -> RenderResult:
    """Render one document: official templates are filled in place, ours are built."""
    if official and doc.format in ANNOTATED:
        from .annotated import render_annotated
        return render_annotated(doc, template, engagement, playbook)
    if official:
        from .official import fill_official
        return fill_official(doc, template, engagement, playbook)
    return renderer_for(doc.format).render(doc, template, engagement, playbook)


__all__ = ["Renderer", "RenderResult", "renderer_for", "render_document", "preload"]
