"""Stakeholder roles nobody is named for are gathered in one line where a key task's context
lists its stakeholders (Word here; the deck and the workbook in their renderers' tests)."""
from __future__ import annotations

import io
from pathlib import Path

import docx

from m3docs.ooxml.package import Template
from m3docs.playbook.model import Party, Stakeholder
from m3docs.playbook.richtext import RichText
from m3docs.plan import Deliverable, Document
from m3docs.content import unnamed_line
from oracles import named_first
from m3docs.renderers import render_document

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _many_roles(kt):
    """The key task with a dozen roles, two of them named in examples/engagement.yaml."""
    extra = tuple(Stakeholder(RichText.of(f"Workstream Lead {i}"), (Party.CUSTOMER, Party.PROVIDER))
                  for i in range(1, 11))
    return type(kt)(**{**kt.__dict__, "stakeholders": kt.stakeholders + extra})


def test_own_word_document_gathers_unnamed_roles(playbook, engagement):
    kt = _many_roles(playbook.key_task("3.14"))
    named, unnamed = named_first(kt.stakeholders, engagement)
    assert named and len(unnamed) >= 10
    deliverable = Deliverable("c", "Target State Concept of Operations", ("Target State Concept of "
                              "Operations",), "", "conops", "docx")
    doc = Document(deliverable, 3, "Version 1", (kt,), ())
    data = render_document(doc, Template(TEMPLATES / "conops.docx"), engagement,
                                 playbook).data
    d = docx.Document(io.BytesIO(data))
    (table,) = [t for t in d.tables if t.rows[0].cells[0].text.strip() == "Role"]
    assert [r.cells[0].text for r in table.rows[1:]] == [s.role.plain for s in named]
    lines = [p.text for p in d.paragraphs if p.text.startswith("To be named: ")]
    assert lines == [f"To be named: {unnamed_line(unnamed)}"]
    assert "Workstream Lead 10 (Customer, Provider)" in lines[0]
    text = "\n".join(p.text for p in d.paragraphs) + "".join(
        c.text for t in d.tables for r in t.rows for c in r.cells)
    assert text.lower().count("to be named") <= 1 + sum(
        1 for s in named for p in s.parties if not engagement.person(s.role.plain, p))


def test_official_context_gathers_unnamed_roles(playbook, engagement, tmp_path):
    """An official Word plan's key-task section: the named roles on one line, the roles
    nobody is named for gathered on another (not a row each)."""
    from fixtures_official import word_plan
    kt = _many_roles(playbook.key_task("3.14"))
    _, unnamed = named_first(kt.stakeholders, engagement)
    path = word_plan(tmp_path / "plan.docx")
    doc = Document(Deliverable("p", "Plan", ("Plan",), path.name, "generic", "docx"), 3,
                   "Version 1", (kt,), ())
    data = render_document(doc, Template(path), engagement, playbook, official=True).data
    d = docx.Document(io.BytesIO(data))
    lines = [p.text for p in d.paragraphs if p.text.startswith("Stakeholders")]
    assert lines[-1] == f"Stakeholders to be named: {unnamed_line(unnamed)}"
    assert "Workstream Lead" not in lines[0] and "Jordan Avery" in lines[0]
    assert len(lines) == 2
