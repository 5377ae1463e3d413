"""Official M3 templates: the rules that recognise their blanks, tables and outlines (read
by the annotators in ``m3docs.annotate``), and ``fill_official``, which finds a package's
main part (through ``_rels/.rels``) and sends it through its inferred tags and the one
engine. Parts the tags do not touch are copied byte for byte.
"""
from __future__ import annotations

import posixpath

from ...engagement import Engagement
from ...ooxml.package import PackageError, Template
from ...ooxml.xml import qn
from ...playbook.model import Playbook
from ...plan import Document
from ..base import RenderResult
from . import xlsx
from .placeholders import BLANK_RULES, Filler, classify, leftover_fields
from .tables import FEED_RULES

OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STRICT_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
WORD = ("wordprocessingml.document.main", "ms-word.document.macroEnabled.main",
        "wordprocessingml.template.main", "ms-word.template.macroEnabledTemplate")
DECK = ("presentationml.presentation.main", "ms-powerpoint.presentation.macroEnabled.main",
        "presentationml.template.main", "presentationml.slideshow.main")
SHEETS = ("spreadsheetml.sheet.main", "ms-excel.sheet.macroEnabled.main",
          "spreadsheetml.template.main", "ms-excel.template.macroEnabled.main")
# (official Word documents and decks go through m3docs/annotate/ and the engine:
# renderers/annotated.py)

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


def fill_official(doc: Document, template: Template, engagement: Engagement,
                  playbook: Playbook) -> RenderResult:
    """An official template filled through its inferred tags (there is no second filler):
    Word documents and decks through ``renderers/annotated.py``, workbooks through
    ``xlsx.render``; a main part of another kind is a PackageError."""
    name, ctype = main_part(template)
    base = ctype.split(";")[0].strip()
    if any(base.endswith("." + key + "+xml") for key in WORD + DECK):
        from ..annotated import render_official
        return render_official(doc, template, engagement, playbook)
    if any(base.endswith("." + key + "+xml") for key in SHEETS):
        return xlsx.render(doc, template, engagement, playbook)
    raise PackageError(f"{template.path}: main part {name} is {ctype or 'untyped'}, "
                       "not a Word, Excel or PowerPoint document")
