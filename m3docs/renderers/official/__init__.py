"""Official M3 templates: ``fill_official`` finds a package's main part (through
``_rels/.rels``) and sends it through its inferred tags (``m3docs.annotate``, which owns the
rules that recognise blanks, tables and outlines) and the one engine. Parts the tags do not
touch are copied byte for byte.
"""
from __future__ import annotations

from ...engagement import Engagement
from ...ooxml.package import PackageError, Template, main_part
from ...playbook.model import Playbook
from ...plan import Document
from ..base import RenderResult
from . import xlsx

WORD = ("wordprocessingml.document.main", "ms-word.document.macroEnabled.main",
        "wordprocessingml.template.main", "ms-word.template.macroEnabledTemplate")
DECK = ("presentationml.presentation.main", "ms-powerpoint.presentation.macroEnabled.main",
        "presentationml.template.main", "presentationml.slideshow.main")
SHEETS = ("spreadsheetml.sheet.main", "ms-excel.sheet.macroEnabled.main",
          "spreadsheetml.template.main", "ms-excel.template.macroEnabled.main")
# (official Word documents and decks go through m3docs/annotate/ and the engine:
# renderers/annotated.py)

__all__ = ["fill_official"]


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
