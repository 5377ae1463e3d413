"""Document planning: deliverable identity, formats, phases and version labels."""
from __future__ import annotations

import pytest

from m3docs.playbook.loader import load_playbook
from m3docs.plan import (INPUT, UPDATED, VERSION_1, format_of, identify, kind_of,
                         normalize_title, plan_documents, title_keys)

KT = """---
phase: {phase}
keyTask: {num}
name: Task {phase}.{num}
objective: o
{body}
---
"""


def book_of(tmp_path, pages):
    d = tmp_path / "keyTask"
    d.mkdir()
    for (phase, num), body in pages.items():
        (d / f"{phase}.{num}.md").write_text(KT.format(phase=phase, num=num, body=body))
    return load_playbook(tmp_path)


@pytest.mark.parametrize("a,b", [
    ("RAID Log", "Risks, Actions, Issues, and Decisions (RAID) Log"),
    ("Risks/Actions/Issues/Decisions Log", "Risks, Actions, Issues, and Decisions (RAID) Log"),
    ("Service Level Agreements (SLAs)", "Service Level Agreements"),
    ("Requirements Traceability Matrix (RTM)", "requirements traceability matrix"),
])
def test_titles_that_name_one_deliverable(a, b):
    assert title_keys(a) & title_keys(b)


def test_different_deliverables_stay_apart():
    assert not title_keys("Risk Management Plan") & title_keys("Risks, Actions, Issues, and Decisions (RAID) Log")
    assert normalize_title("Test Plan") != normalize_title("Test Plans Approved")


def test_a_file_on_any_page_joins_titles_on_every_page(tmp_path):
    book = book_of(tmp_path, {
        (1, 1): "outputs:\n  - text: Target State Concept of Operations\n    filename: C.docx\n",
        (1, 2): "inputs:\n  - text: Target State CONOPS\n    filename: C.docx\noutputs: [x]\n",
        (2, 1): "inputs: [Target State CONOPS]\noutputs: [y]\n",
    })
    cat = identify(book)
    d = cat.of(book.key_task("2.1").inputs[0])
    assert d is cat.of(book.key_task("1.1").outputs[0])
    assert d.title == "Target State Concept of Operations" and d.filename == "C.docx"
    assert d.kind == "conops" and set(d.titles) == {"Target State CONOPS",
                                                   "Target State Concept of Operations"}


@pytest.mark.parametrize("title,fmt", [
    ("RAID Log", "xlsx"), ("Stakeholder Inventory", "xlsx"), ("Investment Readiness Checklist", "xlsx"),
    ("Executive Briefing", "pptx"), ("Performance Dashboard", "pptx"), ("Vision Statement", "docx"),
    ("Business Needs Workbook", "xlsx"), ("Action Tracker", "xlsx"),
])
def test_format_rule(title, fmt):
    assert format_of(title, None, kind_of([title], None), {}) == fmt


def test_format_follows_official_file_and_overrides():
    assert format_of("Vision Statement", "M3-Vision.pptx", "generic", {}) == "pptx"
    assert format_of("Risk Tool", "M3-Risk-Tool.xlsm", "generic", {}) == "xlsx"
    assert format_of("Vision Statement", None, "generic", {"vision statement": "pptx"}) == "pptx"


def test_documents_per_phase_and_version_labels(tmp_path):
    book = book_of(tmp_path, {
        (1, 1): "outputs: [RAID Log]\n",
        (2, 1): "inputs: ['Risks, Actions, Issues, and Decisions (RAID) Log']\noutputs: [a]\n",
        (3, 1): "outputs:\n  - text: Risks/Actions/Issues/Decisions Log\n    filename: RAID.xlsx\n",
        (3, 2): "inputs: [RAID Log]\noutputs: [b]\n",
    })
    docs = [d for d in plan_documents(book, book.key_tasks) if d.deliverable.filename == "RAID.xlsx"]
    by_phase = {d.phase: d for d in docs}
    assert sorted(by_phase) == [1, 2, 3]
    assert by_phase[1].version_label == VERSION_1
    assert by_phase[2].version_label == INPUT and [k.id for k in by_phase[2].inputs_of] == ["2.1"]
    assert by_phase[3].version_label == UPDATED
    assert [k.id for k in by_phase[3].outputs_of] == ["3.1"]
    assert [k.id for k in by_phase[3].inputs_of] == ["3.2"]
    assert by_phase[3].format == "xlsx"


def test_untemplated_inputs_are_not_documents(tmp_path):
    book = book_of(tmp_path, {(1, 1): "inputs: [Provider Agreement]\noutputs: [Vision Statement]\n"})
    titles = [d.title for d in plan_documents(book, book.key_tasks)]
    assert titles == ["Vision Statement"]


def test_every_output_of_the_sample_is_planned(corpus):
    book = load_playbook(corpus)
    docs = plan_documents(book, book.key_tasks)
    cat = identify(book)
    for kt in book.key_tasks:
        for ref in kt.outputs:
            d = cat.of(ref)
            assert any(doc.deliverable == d and kt in doc.outputs_of for doc in docs), ref
        for ref in kt.inputs:
            if ref.filename:
                d = cat.of(ref)
                assert any(doc.deliverable == d and kt in doc.inputs_of for doc in docs), ref


def test_a_phase_that_renames_a_template_gets_its_own_title(tmp_path):
    book = book_of(tmp_path, {
        (1, 1): "outputs:\n  - text: Initial Master Schedule\n    filename: S.xlsx\n",
        (1, 2): "inputs: [Initial Master Schedule]\noutputs:\n  - text: RAID Log\n    filename: R.xlsx\n",
        (2, 1): "outputs:\n  - text: Initial Master Schedule\n    filename: S.xlsx\n"
                "  - text: Risks, Actions, Issues, and Decisions (RAID) Log\n",
        (3, 1): "inputs: [Initial Master Schedule, RAID Log]\noutputs:\n"
                "  - text: Integrated Master Schedule (IMS)\n    filename: S.xlsx\n",
    })
    docs = {(d.phase, d.deliverable.filename): d for d in plan_documents(book, book.key_tasks)}
    assert docs[(1, "S.xlsx")].title == docs[(2, "S.xlsx")].title == "Initial Master Schedule"
    assert docs[(3, "S.xlsx")].title == "Integrated Master Schedule (IMS)"
    # another spelling of one name keeps one title in every phase
    assert {docs[(p, "R.xlsx")].title for p in (1, 2, 3)} == {"RAID Log"}


def test_a_file_that_is_no_office_template_makes_no_starter(tmp_path):
    book = book_of(tmp_path, {
        (3, 1): "inputs:\n  - text: Phase 2 Tollgate Review\n    filename: Tollgate.pdf\n"
                "  - text: Governance Plan\n    filename: Governance.DOCX\n"
                "outputs:\n  - text: Post-Implementation Review Report\n    filename: PIR.PDF\n",
    })
    docs = plan_documents(book, book.key_tasks)
    by_title = {d.title: d for d in docs}
    assert set(by_title) == {"Governance Plan", "Post-Implementation Review Report"}
    assert by_title["Governance Plan"].deliverable.template_file == "Governance.DOCX"
    report = by_title["Post-Implementation Review Report"]
    assert report.format == "docx" and report.deliverable.template_file is None
    assert report.deliverable.filename == "PIR.PDF"


def test_the_template_chain_never_offers_a_pdf_as_template(tmp_path):
    from m3docs.templates import TemplateChain
    folder = tmp_path / "official"
    folder.mkdir()
    (folder / "PIR.PDF").write_bytes(b"%PDF-1.7\n")
    book = book_of(tmp_path, {(5, 1): "outputs:\n  - text: PIR Report\n    filename: PIR.PDF\n"})
    d = plan_documents(book, book.key_tasks)[0].deliverable
    chain = TemplateChain.build(folders=[folder])
    assert [c.origin for c in chain.candidates(d)] == ["generic"]
    assert not chain.has_template(d)


def _phase_page(tmp_path, number: int, documentation: str) -> None:
    d = tmp_path / "phase"
    d.mkdir(exist_ok=True)
    (d / f"{number}.md").write_text(f"---\nphase: {number}\nname: P{number}\n"
                                    f"documentation:\n{documentation}---\n")


def test_phase_pages_lend_a_title_its_template_file(tmp_path):
    _phase_page(tmp_path, 3, "  - name: Test Plan\n    filename: T-Template.docx\n"
                             "  - name: Lessons Learned\n"
                             "  - name: Integrated Master Schedule (IMS)\n"
                             "    filename: Schedule.xlsx\n")
    book = book_of(tmp_path, {
        (1, 1): "outputs:\n  - text: Initial Master Schedule\n    filename: Schedule.xlsx\n",
        (3, 1): "inputs: [Initial Master Schedule]\n"
                "outputs: [Test Plan, Integrated Master Schedule (IMS), Lessons Learned]\n",
    })
    docs = plan_documents(book, book.key_tasks)
    by = {(d.phase, d.title): d for d in docs}
    assert by[(3, "Test Plan")].deliverable.template_file == "T-Template.docx"
    assert by[(3, "Test Plan")].deliverable.titles == ("Test Plan",)
    assert by[(3, "Lessons Learned")].deliverable.template_file is None
    ims = by[(3, "Integrated Master Schedule (IMS)")]
    assert ims.deliverable is by[(1, "Initial Master Schedule")].deliverable
    assert len(docs) == 4  # the phase page's list makes no document of its own


def test_a_link_to_an_office_file_in_a_title_names_its_template(tmp_path):
    book = book_of(tmp_path, {(3, 1): (
        "inputs:\n"
        "  - 'Validated <a href=\"/assets/files/As-Is%20Template.xlsx\">As-Is Environment</a>'\n"
        "  - '<a href=\"https://example.gov/guide.pdf\">CPIC Guidance</a>'\n"
        "  - text: '<a href=\"/a.docx\">A</a> and <a href=\"/b.docx\">B</a>'\n"
        "outputs:\n  - text: '<a href=\"/files/Own.pptx\">Deck</a>'\n    filename: Given.pptx\n")})
    kt = book.key_task("3.1")
    assert [r.filename for r in kt.inputs] == ["As-Is Template.xlsx", None, None]
    assert kt.outputs[0].filename == "Given.pptx"


@pytest.mark.parametrize("filename", [
    "Phase%203%20Progress%20Review.pptx", "/assets/files/Phase 3 Progress Review.pptx",
    "https://ussm.gsa.gov/assets/files/Phase%203%20Progress%20Review.pptx",
    "assets\\files\\Phase 3 Progress Review.pptx"])
def test_the_chain_finds_a_named_file_by_its_last_part_decoded(tmp_path, filename):
    from m3docs.templates import TemplateChain
    folder = tmp_path / "official"
    folder.mkdir()
    (folder / "Phase 3 Progress Review.pptx").write_bytes(b"PK")
    book = book_of(tmp_path, {(3, 1): f"outputs:\n  - text: Progress Review\n"
                                      f"    filename: '{filename}'\n"})
    d = plan_documents(book, book.key_tasks)[0].deliverable
    (first, *_) = TemplateChain.build(folders=[folder]).candidates(d)
    assert first.origin == "templates" and first.path.name == "Phase 3 Progress Review.pptx"


@pytest.mark.parametrize("a,b", [
    ("Status Report", "Status Reports/Dashboards"), ("Status Reports", "Status Report"),
    ("Status Dashboard", "Status Reports/Dashboards"), ("System Inventories", "System Inventory"),
    ("Business Processes", "Business Process"),
])
def test_singular_plural_and_slash_alternatives_are_one_title(a, b):
    assert title_keys(a) & title_keys(b)


@pytest.mark.parametrize("a,b", [
    ("Status", "Statu"), ("Business Case", "Busines Case"), ("Status Report", "Status Reports Approved"),
    ("Implementation Approach/Schedule", "Implementation Plan"), ("Data Cleansing Plan",
                                                                  "Data Cleansing Scripts"),
    ("24/7 Support Plan", "7 Support Plan"),
])
def test_singular_and_slash_rules_keep_different_titles_apart(a, b):
    assert not title_keys(a) & title_keys(b)


def test_status_report_input_and_status_reports_dashboards_are_one_document(tmp_path):
    book = book_of(tmp_path, {
        (1, 2): "outputs:\n  - text: Status Reports/Dashboards\n    filename: S.pptx\n",
        (3, 1): "inputs: [Status Report]\noutputs:\n  - Status Reports/Dashboards\n",
    })
    docs = [d for d in plan_documents(book, book.key_tasks) if d.phase == 3]
    (doc,) = docs
    assert doc.deliverable.filename == "S.pptx" and doc.format == "pptx"
    assert set(doc.deliverable.titles) == {"Status Report", "Status Reports/Dashboards"}
    assert [kt.id for kt in doc.outputs_of] == [kt.id for kt in doc.inputs_of] == ["3.1"]
