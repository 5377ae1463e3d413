"""Documents filled by the one engine (m3docs.engine): the context of the document
(``content.document_context``) rendered into a tagged template, ours or a user's.

Word: headings that come from loops are only known once the template is filled, so the table
of contents' cached entries (what a reader shows until Word updates the field) are rewritten
from the filled document's headings (``ooxml.wordtoc``).
"""
from __future__ import annotations

from typing import Callable

from ..content import document_context
from ..engagement import Engagement
from ..engine import compiled
from ..engine.core import TemplateProblems
from ..errors import M3DocsError
from ..ooxml.package import Package, Template, main_part_name, per_template
from ..ooxml.wordtoc import Numbering, find_toc, number_headings, rewrite_toc
from ..ooxml.xml import qn
from ..playbook.model import Playbook
from ..plan import Document
from .base import RenderResult



def fill_tagged(doc: Document, template: Template, engagement: Engagement,
                playbook: Playbook) -> RenderResult:
    """The document's context rendered into the template; errors raise ``M3DocsError``
    with every located problem."""
    try:
        engine = compiled(template, doc.format)
        context = document_context(doc, playbook, engagement)
        finish = _contents_refresh(template) if doc.format == "docx" else None
        data, warnings = engine.render(context, finish) if finish else engine.render(context)
    except TemplateProblems as exc:
        raise M3DocsError(exc.diagnostics) from None
    return RenderResult(data, warnings)


# -- Word: the table of contents -------------------------------------------------------------
@per_template
def _word_layout(template: Template) -> tuple[str, bool, Numbering]:
    """(main part, whether it has a table of contents, its lists and styles)."""
    main = main_part_name(template, "word/document.xml")
    body = template.xml(main).find(qn("w:body")) if main in template.raw else None
    numbering = Numbering.read(*(template.xml(name) if name in template.raw else None
                                 for name in ("word/numbering.xml", "word/styles.xml")))
    return main, body is not None and find_toc(body) is not None, numbering


def _contents_refresh(template: Template) -> Callable[[Package], None] | None:
    """The edit that rewrites the filled document's contents (None without a TOC field)."""
    main, has_toc, numbering = _word_layout(template)
    if not has_toc:
        return None

    def refresh(package: Package) -> None:
        body = package.xml(main).find(qn("w:body"))
        rewrite_toc(body, number_headings(body, numbering))
    return refresh
