"""The playbook's glossary: which terms a document uses, and the Word appendix listing them."""
from __future__ import annotations

from dataclasses import replace

import pytest

from m3docs.playbook.glossary import Glossary, glossary_of, terms_used
from m3docs.playbook.model import GlossaryTerm
from test_render_docx import conops_doc, conops_template, read, render, table_with_header  # noqa: F401

TERMS = (GlossaryTerm("Abbreviations", "IT", "Information Technology"),
         GlossaryTerm("Abbreviations", "IV&V", "Independent Verification and Validation"),
         GlossaryTerm("Abbreviations", "PMO", "Program Management Office"),
         GlossaryTerm("Stakeholders", "Program Manager", "Individual(s) managing the program"),
         GlossaryTerm("General", "Go-Live", "The day the new system takes over"),
         GlossaryTerm("Abbreviations", "ZZZ", "Never used"))


@pytest.mark.parametrize("text, expected", [
    ("The PMO reviews it.", {"PMO"}),
    ("it is the pmo's job", set()),                    # abbreviations match as written
    ("IT and IV&V sign off", {"IT", "IV&V"}),
    ("the program manager and the go-live date", {"program manager", "go-live"}),
    ("PMOs, ITEMS and SubIT", set()),                   # whole words only
    ("Program  Manager", {"program manager"}),          # spacing does not matter
])
def test_find(text, expected):
    assert set(Glossary(TERMS).find([text])) == expected


def test_terms_of_a_document_by_name(playbook):
    book = replace(playbook, glossary=TERMS)
    kt = book.key_task("3.14")
    texts = " ".join([kt.name, kt.objective.plain] + [a.text.plain for a in kt.activities]
                     + [s.role.plain for s in kt.stakeholders])
    used = terms_used(book, [kt], ["PMO Charter"])
    names = [t.name for t in used]
    assert names == sorted(names, key=str.lower)
    assert "PMO" in names and "ZZZ" not in names
    assert ("Program Manager" in names) == ("program manager" in texts.lower())
    assert glossary_of(book) is glossary_of(book)       # built once per playbook


def test_same_name_in_two_sections_in_a_fixed_order(playbook):
    """A name that is an abbreviation and a general term is listed twice, always in the
    same order (whatever the order sets iterate in)."""
    twins = (GlossaryTerm("General", "QSMO", "Designated agencies that offer solutions"),
             GlossaryTerm("Abbreviations", "QSMO", "Quality Service Management Office"))
    orders = {tuple(t.section for t in Glossary(terms).used([], ["the QSMO"]))
              for terms in (twins, twins[::-1])}
    assert orders == {("Abbreviations", "General")}


def test_no_glossary_no_terms(playbook):
    assert playbook.glossary == ()
    assert terms_used(playbook, playbook.key_tasks[:3], ["PMO"]) == []


def test_word_appendix(playbook, engagement, conops_template):
    book = replace(playbook, glossary=TERMS)
    doc = conops_doc(book)
    d = read(render(doc, conops_template, engagement, book).data)
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings[-1] == "Terms and Abbreviations"
    table = next(table_with_header(d, "Term"))
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    expected = terms_used(book, doc.key_tasks, [doc.title])
    assert rows == [[t.name, t.description] for t in expected] and rows
    plain = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    assert "Terms and Abbreviations" not in [p.text for p in plain.paragraphs]


def test_public_playbook_documents_list_their_terms(corpus, engagement, tmp_path):
    """On the public playbook every Word document of a phase lists terms it really uses."""
    import docx as python_docx
    from m3docs import build_pack, load_playbook
    book = load_playbook(corpus)
    assert {t.section for t in book.glossary} >= {"Abbreviations", "Stakeholders"}
    report = build_pack(book, engagement, tmp_path / "pack", phases=[1])
    words = [e["path"] for e in report.documents if e["format"] == "docx"]
    assert words
    for path in words:
        d = python_docx.Document(str(tmp_path / "pack" / path))
        table = next(table_with_header(d, "Term"))
        body = " ".join(p.text for p in d.paragraphs[:-3])
        cells = " ".join(c.text for t in d.tables if t is not table for r in t.rows
                         for c in r.cells)
        for row in table.rows[1:]:
            name = row.cells[0].text
            assert name.lower() in (body + " " + cells).lower(), (path, name)
