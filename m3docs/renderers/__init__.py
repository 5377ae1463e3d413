"""One renderer per format behind one interface (see base.Renderer)."""
from __future__ import annotations

from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import Renderer, RenderResult

#: Formats whose documents are filled by the template engine from the content model: our
#: own templates are tagged templates, and so may be a user's (named in ``templates:``).
ENGINE_FORMATS = frozenset({"xlsx"})


def renderer_for(fmt: str) -> Renderer:
    """The renderer of a format: docx, xlsx or pptx."""
    if fmt == "docx":
        from .docx import DocxRenderer
        return DocxRenderer()
    if fmt == "xlsx":
        return EngineRenderer(fmt)
    if fmt == "pptx":
        from .pptx import PptxRenderer
        return PptxRenderer()
    raise ValueError(f"unknown format {fmt!r}")


class EngineRenderer:
    """A tagged template filled by the one engine from ``content.document_context``."""

    def __init__(self, fmt: str):
        self.format = fmt

    def render(self, doc: Document, template: Template, engagement: Engagement,
               playbook: Playbook) -> RenderResult:
        from .. import content
        from ..engine import compiled
        from ..engine.core import TemplateProblems
        from ..errors import M3DocsError
        try:
            data, warnings = compiled(template, self.format).render(
                content.document_context(doc, playbook, engagement))
        except TemplateProblems as exc:
            raise M3DocsError(exc.diagnostics) from None
        return RenderResult(data, warnings)


def tagged(template: Template, fmt: str) -> bool:
    """Whether a template carries tags the engine can fill (compiled once per Template);
    a template whose tags do not compile is not taken for a tagged one."""
    from ..engine import compiled
    from ..engine.core import TemplateProblems
    try:
        done = compiled(template, fmt)
    except TemplateProblems:
        return False
    return bool(done.names) or bool(getattr(done, "sheets", None))


def preload(formats: set[str], official: bool = False) -> None:
    """Import the renderers of ``formats`` now (before forking workers, so each does not
    import them again)."""
    for fmt in formats:
        renderer_for(fmt)
        if fmt in ENGINE_FORMATS:
            from .. import content as _content  # noqa: F401
            from ..engine import engine_for
            engine_for(fmt)
    if official:
        from . import official as _official  # noqa: F401


def render_document(doc: Document, template: Template, engagement: Engagement,
                    playbook: Playbook, official: bool = False) -> RenderResult:
    """Render one document: a tagged template (ours, or a user's) through the engine,
    another official template filled in place, ours of the other formats built."""
    if doc.format in ENGINE_FORMATS and (not official or tagged(template, doc.format)):
        return renderer_for(doc.format).render(doc, template, engagement, playbook)
    if official:
        from .official import fill_official
        return fill_official(doc, template, engagement, playbook)
    return renderer_for(doc.format).render(doc, template, engagement, playbook)


__all__ = ["Renderer", "RenderResult", "renderer_for", "render_document", "preload", "tagged"]
