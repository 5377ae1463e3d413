"""The one renderer interface: decks through the engine, the other formats' renderers, and
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
from m3docs.engine import compiled
from m3docs.renderers import ENGINE_FORMATS, render_document, renderer_for
from m3docs.templates import TemplateChain, own_templates_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "engagement.yaml"


@pytest.fixture(scope="module")
def planned():
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    chain = TemplateChain.build()
    return book, eng, {d.format: d for d in plan_pack(book, eng, chain, select_scope(book, eng))}


@pytest.mark.parametrize("fmt", sorted({"docx", "xlsx", "pptx"} - ENGINE_FORMATS))
def test_each_format_has_one_renderer(planned, fmt):
    book, eng, docs = planned
    doc = docs[fmt]
    template = Template(own_templates_dir() / f"{doc.deliverable.kind}.{fmt}")
    renderer = renderer_for(fmt)
    assert renderer.format == fmt
    data = renderer.render(doc, template, eng, book).data
    assert render_document(doc, template, eng, book).data == data
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


@pytest.mark.parametrize("fmt", sorted(ENGINE_FORMATS))
def test_engine_formats_render_the_document_context(planned, fmt):
    book, eng, docs = planned
    doc = docs[fmt]
    template = Template(own_templates_dir() / f"{doc.deliverable.kind}.{fmt}")
    data, _warnings = compiled(template, fmt).render(document_context(doc, book, eng))
    assert render_document(doc, template, eng, book).data == data
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


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


def test_official_templates_go_to_the_filler(planned):
    book, eng, docs = planned
    doc = docs["docx"]
    template = Template(own_templates_dir() / "conops.docx")
    ours = render_document(doc, template, eng, book).data
    filled = render_document(doc, template, eng, book, official=True).data
    assert filled != ours
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml").decode()
    assert "Key Task Context" in body


def test_unknown_format():
    with pytest.raises(ValueError):
        renderer_for("odt")
    with pytest.raises(ValueError):
        renderer_for("pptx")  # decks are filled by the engine
