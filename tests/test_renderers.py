"""The one renderer interface: each format's renderer, and official templates routed to the filler."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from m3docs import load_engagement, load_playbook
from m3docs.ooxml.package import Template
from m3docs.pack import plan_pack, select_scope
from m3docs.renderers import render_document, renderer_for
from m3docs.templates import TemplateChain, own_templates_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "engagement.yaml"


@pytest.fixture(scope="module")
def planned():
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    chain = TemplateChain.build()
    return book, eng, {d.format: d for d in plan_pack(book, eng, chain, select_scope(book, eng))}


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pptx"])
def test_each_format_has_one_renderer(planned, fmt):
    book, eng, docs = planned
    doc = docs[fmt]
    template = Template(own_templates_dir() / f"{doc.deliverable.kind}.{fmt}")
    renderer = renderer_for(fmt)
    assert renderer.format == fmt
    data = renderer.render(doc, template, eng, book).data
    assert render_document(doc, template, eng, book).data == data
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_official_templates_go_to_the_filler(planned, tmp_path):
    """An official template without tags gets its tags inferred (the key-task context
    section among them); one that has tags (ours here) is filled as it is."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fixtures_official import word_plan
    book, eng, docs = planned
    doc = docs["docx"]
    official = Template(word_plan(tmp_path / "plan.docx"))
    filled = render_document(doc, official, eng, book, official=True).data
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml").decode()
    assert "Key Task Context" in body and eng.agency in body
    tagged = Template(own_templates_dir() / "conops.docx")
    as_is = render_document(doc, tagged, eng, book, official=True).data
    body = zipfile.ZipFile(io.BytesIO(as_is)).read("word/document.xml").decode()
    assert "Key Task Context" not in body and eng.agency in body and "{{" not in body


def test_unknown_format():
    with pytest.raises(ValueError):
        renderer_for("odt")
