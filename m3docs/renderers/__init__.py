"""Rendering one document: its context (``content.document_context``) through its template's
engine; official templates without tags are still filled in place (``official/``)."""
from __future__ import annotations

from ..engagement import Engagement
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import RenderResult

_TAG_OPENERS = (b"{{", b"{%", b"{#")
#: Official templates of these formats get their tags inferred (m3docs.annotate) and go
#: through the engine; the others are still filled in place by ``official/``.
ANNOTATED_FORMATS = ("docx", "pptx")


def tagged(template: Template, fmt: str) -> bool:
    """Whether a template carries tags the engine can fill (see ``tag_problems``)."""
    found, problems = tag_problems(template, fmt)
    return found and not problems


def tag_problems(template: Template, fmt: str) -> tuple[bool, list[str]]:
    """Whether a template carries tags, and the errors that keep the engine from filling
    it (found once per Template and format). Parts without a tag opener anywhere are not compiled
    at all (an official template, read once, as bytes)."""
    known = template.__dict__.setdefault("tag_problems", {})
    if fmt not in known:
        known[fmt] = _tag_problems(template, fmt)
    return known[fmt]


def _tag_problems(template: Template, fmt: str) -> tuple[bool, list[str]]:
    from ..engine import compiled
    from ..engine.core import TemplateProblems
    if not any(any(o in template.bytes_of(name) for o in _TAG_OPENERS)
               for name in template.order if name.endswith(".xml")):
        return False, []
    try:
        done = compiled(template, fmt)
    except TemplateProblems as exc:
        return True, [str(d) for d in exc.diagnostics]
    return bool(getattr(done, "sheets", None)) or bool(getattr(done, "parts", None)) or \
        bool(done.names), []


def preload(formats: set[str], official: bool = False) -> None:
    """Import the renderers of ``formats`` now (before forking workers, so each does not
    import them again)."""
    from .. import content as _content  # noqa: F401
    from ..engine import engine_for
    from . import tagged as _tagged  # noqa: F401
    for fmt in formats:
        engine_for(fmt)
    if official:
        from . import official as _official  # noqa: F401
        from .annotated import preload_formats
        preload_formats(set(formats) & set(ANNOTATED_FORMATS))
        if "xlsx" in formats:
            from ..annotate import annotator_for
            annotator_for("xlsx")


def render_document(doc: Document, template: Template, engagement: Engagement,
                    playbook: Playbook, official: bool = False) -> RenderResult:
    """Render one document: a tagged template (ours, or a user's) through the engine; an
    official template without tags annotated first (or, for the formats without an
    annotator yet, filled in place)."""
    if official and doc.format in ANNOTATED_FORMATS:
        from .annotated import render_official
        return render_official(doc, template, engagement, playbook)
    found, problems = tag_problems(template, doc.format) if official else (True, [])
    if found and not problems:
        from .tagged import fill_tagged
        return fill_tagged(doc, template, engagement, playbook)
    from .official import fill_official
    result = fill_official(doc, template, engagement, playbook)
    if problems:   # tags that do not compile: filled as an official template, said so
        result.warnings[:0] = [f"tags not filled ({len(problems)} error(s), first: "
                               f"{problems[0]}); filled in place as an official template"]
    return result


__all__ = ["ANNOTATED_FORMATS", "RenderResult", "preload", "render_document", "tag_problems", "tagged"]
