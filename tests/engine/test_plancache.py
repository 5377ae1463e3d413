"""Word templates' compiled plans are kept between runs (m3docs/engine/plancache.py): a later
process loads the plan instead of reading the template's tags again, and fills the same
bytes; a damaged entry is compiled again; a template with errors is never kept."""
from __future__ import annotations

import pytest
from docx import Document

from m3docs.engine import compiled, plancache
from m3docs.engine.core import TemplateProblems
from m3docs.engine.docx import DocxEngine
from m3docs.ooxml.package import Template

CONTEXT = {"agency": "GSA & Co", "items": ["one", "two"]}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("M3DOCS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / plancache.KIND


def _template(tmp_path, *lines: str) -> str:
    d = Document()
    for line in lines:
        d.add_paragraph(line)
    path = tmp_path / "plan.docx"
    d.save(path)
    return str(path)


def _no_compiling(monkeypatch, engine: type = DocxEngine) -> None:
    def refuse(self, template, name):
        raise AssertionError("compiled again")
    monkeypatch.setattr(engine, "compile", refuse)


def _kept_and_loaded(folder, monkeypatch, engine: type, path, fmt: str, context: dict) -> None:
    """Compiled once (its plan kept), then loaded in a 'later process' that may not compile:
    the same bytes."""
    first = compiled(Template(str(path)), fmt).render(context)
    assert len(list(folder.rglob("*.bin"))) == 1
    _no_compiling(monkeypatch, engine)
    assert compiled(Template(str(path)), fmt).render(context) == first


def test_a_later_process_loads_the_plan_and_fills_the_same_bytes(folder, tmp_path, monkeypatch):
    path = _template(tmp_path, "For {{ agency }}", "{%p for i in items %}", "- {{ i }}",
                     "{%p endfor %}")
    first = compiled(Template(path), "docx").render(CONTEXT)
    assert len(list(folder.rglob("*.bin"))) == 1
    _no_compiling(monkeypatch)
    again = compiled(Template(path), "docx")    # a new process' Template
    assert again.render(CONTEXT) == first
    assert again.names == {"agency", "items"}


def test_a_damaged_plan_is_compiled_again(folder, tmp_path):
    path = _template(tmp_path, "For {{ agency }}")
    good = compiled(Template(path), "docx").render(CONTEXT)
    (entry,) = folder.rglob("*.bin")
    entry.write_bytes(b"\x80\x05not a pickle")
    assert compiled(Template(path), "docx").render(CONTEXT) == good


def test_a_template_with_errors_is_never_kept(folder, tmp_path):
    path = _template(tmp_path, "For {{ agency", "{% if %}")
    for _ in range(2):
        with pytest.raises(TemplateProblems):
            compiled(Template(path), "docx")
    assert not list(folder.rglob("*.bin"))


def test_another_name_or_other_bytes_is_another_plan(folder, tmp_path):
    path = _template(tmp_path, "For {{ agency }}")
    compiled(Template(path), "docx")
    data = open(path, "rb").read()
    compiled(Template(str(tmp_path / "other-name.docx"), data), "docx")   # places name files
    _template(tmp_path, "By {{ agency }}")
    compiled(Template(path), "docx")
    assert len(list(folder.rglob("*.bin"))) == 3


def test_off_keeps_no_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("M3DOCS_CACHE", "off")
    path = _template(tmp_path, "For {{ agency }}")
    compiled(Template(path), "docx")
    assert not list(tmp_path.rglob("*.bin"))


def test_a_workbook_plan_is_loaded_and_fills_the_same_bytes(folder, tmp_path, monkeypatch):
    import openpyxl
    from m3docs.engine.xlsx import XlsxEngine
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "For {{ agency }}"
    ws["A2"], ws["A3"], ws["A4"] = "{%tr for i in items %}", "{{ i }}", "{%tr endfor %}"
    ws["A5"] = "=COUNTA(A3:A3)"
    ws.oddFooter.center.text = "{{ agency }}"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    _kept_and_loaded(folder, monkeypatch, XlsxEngine, path, "xlsx", CONTEXT)


def test_a_deck_plan_is_loaded_and_fills_the_same_bytes(folder, tmp_path, monkeypatch):
    """A deck's rich tags write runs in the style of the run they sat in: the styles travel
    with the kept plan (its code indexes them), so a later process fills the same bytes."""
    from pptx import Presentation
    from m3docs.engine.pptx import PptxEngine
    from m3docs.playbook.richtext import RichText, Run
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "{{r agency }} status"
    box = slide.shapes.add_textbox(0, 0, 914400, 914400)
    box.text_frame.text = "{{p note }}"
    path = tmp_path / "deck.pptx"
    prs.save(path)
    context = {"agency": RichText((Run("GSA", bold=True), Run(" site", url="https://gsa.gov"))),
               "note": RichText((Run("first"),))}
    _kept_and_loaded(folder, monkeypatch, PptxEngine, path, "pptx", context)
