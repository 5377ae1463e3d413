"""One way to render: every format through the engine from the document's context, and
official templates without tags routed to the filler."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from m3docs import load_engagement, load_playbook
from m3docs.ooxml.package import Template
from m3docs.pack import plan_pack, select_scope
from m3docs.content import document_context
from m3docs.engine import compiled, engine_for
from m3docs.renderers import render_document
from m3docs.templates import TemplateChain, own_templates_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "engagement.yaml"


@pytest.fixture(scope="module")
def planned():
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    chain = TemplateChain.build()
    return book, eng, {d.format: d for d in plan_pack(book, eng, chain, select_scope(book, eng))}


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pptx"])
def test_engine_formats_render_the_document_context(planned, fmt):
    book, eng, docs = planned
    doc = docs[fmt]
    template = Template(own_templates_dir() / f"{doc.deliverable.kind}.{fmt}")
    data, _warnings = compiled(template, fmt).render(document_context(doc, book, eng))
    engine = zipfile.ZipFile(io.BytesIO(data))
    ours = zipfile.ZipFile(io.BytesIO(render_document(doc, template, eng, book).data))
    assert engine.testzip() is None and ours.namelist() == engine.namelist()
    changed = [n for n in engine.namelist() if engine.read(n) != ours.read(n)]
    # only Word's contents differ: their cached entries are rewritten after rendering
    assert changed == (["word/document.xml"] if fmt == "docx" else [])


def test_a_tagged_deck_named_as_official_goes_through_the_engine(planned, tmp_path):
    """A user's tagged deck (the chain calls what the engagement names official) is filled
    by the engine like ours; a deck without tags is filled in place."""
    import pptx
    book, eng, docs = planned
    doc = docs["pptx"]
    tagged = Template(own_templates_dir() / "status.pptx")
    assert render_document(doc, tagged, eng, book, official=True).data == \
        render_document(doc, tagged, eng, book).data
    plain = pptx.Presentation()
    slide = plain.slides.add_slide(plain.slide_layouts[5])
    slide.shapes.title.text = "[Program Name] status"
    plain.save(str(tmp_path / "official.pptx"))
    filled = render_document(doc, Template(tmp_path / "official.pptx"), eng, book,
                             official=True).data
    titles = [s.shapes.title.text for s in pptx.Presentation(io.BytesIO(filled)).slides
              if s.shapes.title is not None]
    assert f"{eng.program} status" in titles


def test_official_templates_go_to_the_filler(planned, tmp_path):
    """An official template (no tags) is filled in place; a tagged one, even when the chain
    calls it official, goes through the engine like ours."""
    import docx
    book, eng, docs = planned
    doc = docs["docx"]
    plain = docx.Document()
    plain.add_paragraph("Prepared for [Agency Name]")
    plain.save(str(tmp_path / "official.docx"))
    filled = render_document(doc, Template(tmp_path / "official.docx"), eng, book,
                             official=True).data
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml").decode()
    assert "Key Task Context" in body
    tagged = Template(own_templates_dir() / "conops.docx")
    assert render_document(doc, tagged, eng, book, official=True).data == \
        render_document(doc, tagged, eng, book).data


def test_unknown_format():
    with pytest.raises(ValueError):
        engine_for("odt")
