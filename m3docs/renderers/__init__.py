"""One renderer per format behind one interface (see base.Renderer)."""
from __future__ import annotations

from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import Renderer, RenderResult


#: Formats whose templates go through the one engine (``tagged.fill_tagged``): ours, and a
#: user's own tagged template; an official template without tags is filled in place.
ENGINE_FORMATS = frozenset({"pptx"})


def renderer_for(fmt: str) -> Renderer:
    """The element-by-element renderer of a format not yet on the engine (docx, xlsx)."""
    if fmt == "docx":
        from .docx import DocxRenderer
        return DocxRenderer()
    if fmt == "xlsx":
        from .xlsx import XlsxRenderer
        return XlsxRenderer()
    raise ValueError(f"unknown format {fmt!r}")


def preload(formats: set[str], official: bool = False) -> None:
    """Import the renderers of ``formats`` now (before forking workers, so each does not
    import them again)."""
    for fmt in formats:
        if fmt in ENGINE_FORMATS:
            from ..engine import engine_for
            from . import tagged as _tagged  # noqa: F401
            engine_for(fmt)
        else:
            renderer_for(fmt)
    if official:
        from . import official as _official  # noqa: F401


def render_document(doc: Document, template: Template, engagement: Engagement,
                    playbook: Playbook, official: bool = False) -> RenderResult:
    """Render one document: tagged templates through the engine, official templates without
    tags filled in place, the other formats' own templates built."""
    if doc.format in ENGINE_FORMATS:
        from .tagged import fill_tagged, has_tags
        if not official or has_tags(template, doc.format):
            return fill_tagged(doc, template, engagement, playbook)
    if official:
        from .official import fill_official
        return fill_official(doc, template, engagement, playbook)
    return renderer_for(doc.format).render(doc, template, engagement, playbook)


__all__ = ["ENGINE_FORMATS", "Renderer", "RenderResult", "renderer_for", "render_document", "preload"]
