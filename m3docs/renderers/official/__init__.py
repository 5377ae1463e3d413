"""Fill an official M3 template in place, losing nothing.

``fill_official`` finds the package's main part (through ``_rels/.rels``), reads
its content type and hands the package to the Word, Excel or PowerPoint filler.
Every filler edits XML parts through ``Package``: parts it does not change are
copied byte for byte; in changed parts only the touched elements differ.
"""
from __future__ import annotations

import posixpath

from ...engagement import Engagement
from ...ooxml.package import Package, PackageError, Template
from ...ooxml.xml import clean_text, qn
from ...playbook.model import Playbook
from ...plan import Document
from ..base import RenderResult
from . import docx, pptx, xlsx
from .placeholders import BLANK_RULES, Filler, classify, leftover_fields
from .tables import FEED_RULES, Feed, build_feeds, context_blocks, context_placed
from ..sheetml import MAX_CELL_CHARS

OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STRICT_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
FILLERS = {"wordprocessingml.document.main": docx, "ms-word.document.macroEnabled.main": docx,
           "wordprocessingml.template.main": docx, "ms-word.template.macroEnabledTemplate": docx,
           "spreadsheetml.sheet.main": xlsx, "ms-excel.sheet.macroEnabled.main": xlsx,
           "spreadsheetml.template.main": xlsx, "ms-excel.template.macroEnabled.main": xlsx,
           "presentationml.presentation.main": pptx, "ms-powerpoint.presentation.macroEnabled.main": pptx,
           "presentationml.template.main": pptx, "presentationml.slideshow.main": pptx}

__all__ = ["fill_official", "main_part", "BLANK_RULES", "FEED_RULES", "Filler", "classify",
           "leftover_fields"]


def main_part(template: Template) -> tuple[str, str]:
    """(part name, content type) of the package's main document part."""
    rels = template.xml("_rels/.rels")
    target = None
    for rel in rels:
        if rel.get("Type") in (OFFICE_DOCUMENT, STRICT_DOCUMENT):
            target = rel.get("Target", "")
            break
    if target is None:
        raise PackageError(f"{template.path}: no main document part (_rels/.rels has no "
                           "officeDocument relationship)")
    name = posixpath.normpath(target.lstrip("/"))
    types = template.xml("[Content_Types].xml")
    for el in types.findall(qn("ct:Override")):
        if el.get("PartName", "").lstrip("/") == name:
            return name, el.get("ContentType", "")
    ext = name.rsplit(".", 1)[-1]
    for el in types.findall(qn("ct:Default")):
        if el.get("Extension", "").lower() == ext.lower():
            return name, el.get("ContentType", "")
    raise PackageError(f"{template.path}: main part {name} has no content type")


def _filler_for(content_type: str):
    base = content_type.split(";")[0].strip()
    for key, module in FILLERS.items():
        if base.endswith("." + key + "+xml"):
            return module
    return None


def fill_official(doc: Document, template: Template, engagement: Engagement,
                  playbook: Playbook) -> RenderResult:
    """The official template with its blanks and tables filled; everything else as it was."""
    name, ctype = main_part(template)
    module = _filler_for(ctype)
    if module is None:
        raise PackageError(f"{template.path}: main part {name} is {ctype or 'untyped'}, "
                           "not a Word, Excel or PowerPoint document")
    if module is xlsx:   # annotated, then filled by the workbook engine
        return xlsx.render(doc, template, engagement, playbook)
    pkg = template.new()
    feeds = build_feeds(doc, engagement)
    warnings = module.fill(pkg, name, doc, engagement, feeds, playbook)
    _fill_properties(pkg, engagement)
    warnings += _text_warnings(_written_texts(doc, template, engagement, feeds, module is pptx),
                               module is xlsx)
    return RenderResult(pkg.to_bytes(), warnings)


PROPERTY_TYPES = ("extended-properties+xml", "core-properties+xml")


def _fill_properties(pkg: Package, engagement: Engagement) -> None:
    """The document properties' blanks (the slide titles a deck lists in app.xml, a title
    in core.xml) filled as the text is, so file browsers show no "as of xx/xx/xx"."""
    filler = Filler(engagement)  # its own: approvers' turns and warnings stay the text's
    for el in pkg.template.xml("[Content_Types].xml").findall(qn("ct:Override")):
        part = el.get("PartName", "").lstrip("/")
        if not el.get("ContentType", "").endswith(PROPERTY_TYPES) or part not in pkg:
            continue
        if any(filler.finds(node.text or "") for node in pkg.view(part).iter()):
            for node in pkg.xml(part).iter():
                if isinstance(node.tag, str) and node.text and filler.finds(node.text):
                    node.text = filler.text(node.text)


def _written_texts(doc: Document, template: Template, engagement: Engagement,
                   feeds: list[Feed], deck: bool) -> list[str]:
    """The table rows and context text a fill wrote (the fillers clean each one): Word and
    Excel always get the context, a deck only when its tables took no activities (cut to
    what its context slide shows)."""
    texts = [v for f in feeds if f.used for row in f.rows for v in row.values()]
    placed = context_placed(feeds)
    if not deck:
        blocks = context_blocks(doc, engagement, placed)
    else:
        blocks = [] if placed else pptx.slide_context(template, doc, engagement)
    for block in blocks:
        texts += [block.text] + [cell for row in block.rows for cell in row]
    return [t for t in texts if isinstance(t, str)]


def _text_warnings(texts: list[str], spreadsheet: bool) -> list[str]:
    out = []
    if any(clean_text(t)[1] for t in texts):
        out.append("characters not allowed in XML were removed from key-task and "
                   "engagement text")
    if spreadsheet and any(len(t) > MAX_CELL_CHARS for t in texts):
        out.append(f"text cut to Excel's limit of {MAX_CELL_CHARS} characters per cell")
    return out
