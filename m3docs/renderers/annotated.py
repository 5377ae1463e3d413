"""Official templates through the one engine: tags inferred once, then filled like ours.

An official template without tags is annotated (``m3docs.annotate``; kept between runs by
``m3docs.annotate.cache``) once per process and template, the tagged copy compiled once
(``m3docs.engine.compiled``), and every document is that copy rendered with its context
(``content.document_context``). A template that already holds tags (a user's corrected copy
of ``m3docs tag``'s output) is never annotated: it is filled as it is. A Word document's
table of contents is then refreshed from its headings, since the key-task section's headings
come from loops.
"""
from __future__ import annotations

import threading

from ..engagement import Engagement
from ..engine import compiled
from ..ooxml.package import Template
from ..playbook.model import Playbook
from ..plan import Document
from .base import RenderResult
from .tagged import fill_tagged

_LOCK = threading.Lock()


def _has_tags(template: Template, fmt: str) -> bool:
    """Whether the template already carries tags (it is then filled as it is)."""
    if fmt == "docx":
        from ..annotate.docx import has_tags
        return has_tags(template)
    from . import tag_problems
    return tag_problems(template, fmt)[0]


def tagged_template(template: Template, fmt: str, playbook: Playbook,
                    placeholders: tuple[str, ...] = ()) -> Template:
    """The template with its tags: itself when it has some, else its annotated copy (made
    once per process for these placeholders, kept on the template)."""
    known = getattr(template, "tagged_copies", None)
    if known is None:
        with _LOCK:
            known = template.__dict__.setdefault("tagged_copies", {})
    key = (fmt, placeholders)
    found = known.get(key)
    if found is None:
        if _has_tags(template, fmt):
            found = template
        else:
            found = Template(template.path, _annotated(template, fmt, playbook, placeholders))
        known[key] = found
    return found


def _annotated(template: Template, fmt: str, playbook: Playbook,
               placeholders: tuple[str, ...]) -> bytes:
    """The tagged copy's bytes (a Word document's or deck's tags do not depend on the
    playbook), from an earlier run's annotation when one made it."""
    from ..annotate import annotator_for
    from ..annotate.cache import remembered

    def make() -> tuple[bytes, list[str], dict]:
        data, notes = annotator_for(fmt).annotate(template, playbook, placeholders)
        return data, notes, {}
    return remembered(fmt, template, placeholders, make)[0]


def render_official(doc: Document, template: Template, engagement: Engagement,
                    playbook: Playbook) -> RenderResult:
    """One document on an official template: its tagged copy filled like ours."""
    tagged = tagged_template(template, doc.format, playbook, tuple(engagement.placeholders))
    return fill_tagged(doc, tagged, engagement, playbook)


def preload_formats(formats: set[str]) -> None:
    """Import the annotators and engines of ``formats`` now (before forking workers), and
    run the Word engine once on a one-tag document: Jinja builds its lexer and Python
    specializes the compile path on first use (about 40 ms, paid here once rather than by
    the first template of every worker)."""
    from ..annotate import annotator_for
    from ..engine import engine_for
    for fmt in formats:
        annotator_for(fmt)
        engine_for(fmt)
    if "docx" in formats:
        _warm_word_engine()


def _warm_word_engine() -> None:
    from ..ooxml.package import write_zip
    from ..ooxml.xml import NS
    body = (f'<w:document xmlns:w="{NS["w"]}"><w:body><w:p><w:r><w:t>{{{{ agency }}}}</w:t>'
            '</w:r></w:p></w:body></w:document>')
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.'
             'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    data = write_zip({"[Content_Types].xml": types.encode(), "word/document.xml": body.encode()})
    compiled(Template("warm-up", data), "docx").render({"agency": "x"})
