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


_TAG_OPENERS = (b"{{", b"{%", b"{#")


def tagged(template: Template, fmt: str) -> bool:
    """Whether a template carries tags the engine can fill (see ``tag_problems``)."""
    found, problems = tag_problems(template, fmt)
    return found and not problems


def tag_problems(template: Template, fmt: str) -> tuple[bool, list[str]]:
    """Whether a template carries tags, and the errors that keep the engine from filling
    it (compiled once per Template). Parts without a tag opener anywhere are not compiled
    at all (an official template, read once, as bytes)."""
    from ..engine import compiled
    from ..engine.core import TemplateProblems
    if not any(any(o in template.bytes_of(name) for o in _TAG_OPENERS)
               for name in template.order if name.endswith(".xml")):
        return False, []
    try:
        done = compiled(template, fmt)
    except TemplateProblems as exc:
        return True, [str(d) for d in exc.diagnostics]
    return bool(done.names) or bool(getattr(done, "sheets", None)), []


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
    problems: list[str] = []
    if doc.format in ENGINE_FORMATS:
        found, problems = tag_problems(template, doc.format) if official else (True, [])
        if found and not problems:
            return renderer_for(doc.format).render(doc, template, engagement, playbook)
    if official:
        from .official import fill_official
        result = fill_official(doc, template, engagement, playbook)
        if problems:   # tags that do not compile: filled as an official template, said so
            result.warnings[:0] = [f"tags not filled ({len(problems)} error(s), first: "
                                   f"{problems[0]}); filled in place as an official template"]
        return result
    return renderer_for(doc.format).render(doc, template, engagement, playbook)


__all__ = ["Renderer", "RenderResult", "renderer_for", "render_document", "preload", "tagged",
           "tag_problems"]
