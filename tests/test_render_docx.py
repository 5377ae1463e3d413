"""Our Word templates filled by the engine (render_document), read back with python-docx."""
from __future__ import annotations

import importlib.util
import io
import re
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from m3docs.ooxml.package import Template
from m3docs.playbook.loader import load_playbook
from m3docs.playbook.model import Activity, KeyTask, Party, Stakeholder
from m3docs.playbook.richtext import RichText, Run
from m3docs.plan import Deliverable, Document
from m3docs.content import long_date
from m3docs.errors import M3DocsError
from m3docs.renderers import render_document

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
HYPERLINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


@pytest.fixture(scope="module")
def conops_template():
    return Template(TEMPLATES / "conops.docx")


@pytest.fixture(scope="module")
def generic_template():
    return Template(TEMPLATES / "generic.docx")


def conops_deliverable() -> Deliverable:
    return Deliverable("conops-key", "Target State Concept of Operations",
                       ("Target State Concept of Operations", "Target State CONOPS"),
                       "M3-Playbook-Target-State-CONOPS-Template.docx", "conops", "docx")


def conops_doc(playbook, key_tasks=None) -> Document:
    kts = key_tasks or (playbook.key_task("3.14"),)
    return Document(conops_deliverable(), 3, "Version 1", tuple(kts), ())


def render(doc, template, engagement, playbook):
    return render_document(doc, template, engagement, playbook)


def read(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def all_text(d) -> str:
    """Every w:t in the body, headers and footers (tables and hyperlinks included)."""
    roots = [d.element.body]
    for section in d.sections:
        for hf in (section.header, section.footer, section.first_page_header,
                   section.first_page_footer):
            roots.append(hf._element)
    return "\n".join("".join(t.text or "" if t.tag == qn("w:t") else "\n"
                             for t in p.iter(qn("w:t"), qn("w:br")))
                     for root in roots for p in root.iter(qn("w:p")))


def squash(text: str) -> str:
    return " ".join(text.split())


def hyperlink_targets(d) -> set[str]:
    return {rel.target_ref for rel in d.part.rels.values() if rel.reltype == HYPERLINK_REL}


def table_with_header(d, first: str):
    for table in d.tables:
        if table.rows and table.rows[0].cells[0].text.strip() == first:
            yield table


# -- content ---------------------------------------------------------------------------------
def test_conops_has_all_key_task_content(playbook, engagement, conops_template):
    result = render(conops_doc(playbook), conops_template, engagement, playbook)
    d = read(result.data)
    text = all_text(d)
    kt = playbook.key_task("3.14")
    for act in kt.activities:
        assert act.text.plain in text
    for sh in kt.stakeholders:
        assert sh.role.plain in text
    for role, by_party in engagement.people.items():
        if any(sh.role.plain.lower() == role.lower() for sh in kt.stakeholders):
            for name in by_party.values():
                assert name in text
    for value in (engagement.agency, engagement.program, engagement.provider, "November 24, 2026",
                  kt.objective.plain, kt.activities_text.plain, "Version 1.0"):
        assert value in text
    for ref in kt.inputs + kt.outputs:
        assert ref.title.plain in text
    for bp in kt.best_practices:
        assert bp.plain in text
    assert "{{" not in text and "{%" not in text
    assert "This key task produces the Target State Concept of Operations in Phase 3." in text
    assert "Status as of November 24, 2026: " + engagement_status(playbook, engagement) in text
    assert result.warnings == []


def engagement_status(playbook, engagement) -> str:
    from m3docs.content import key_task_entry
    return key_task_entry(playbook.key_task("3.14"), playbook, engagement)["status_text"]


def test_cover_header_and_footer_fields_filled(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    section = d.sections[0]
    assert engagement.program in section.header.paragraphs[0].text
    assert "Target State Concept of Operations" in section.header.paragraphs[0].text
    footer = section.footer._element
    assert engagement.agency in "".join(t.text for t in footer.iter(qn("w:t")))
    instr = " ".join(t.text for t in footer.iter(qn("w:instrText")))
    assert "PAGE" in instr and "NUMPAGES" in instr
    assert d.paragraphs[[p.text for p in d.paragraphs].index("Target State Concept of Operations")
                        ].style.name == "Title"


def test_hyperlinks_are_real_relationships(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    targets = hyperlink_targets(d)
    kt = playbook.key_task("3.14")
    urls = {run.url for act in kt.activities for run in act.text.links}
    urls |= {run.url for run in kt.activities_text.links}
    assert urls and urls <= targets
    assert "https://ussm.gsa.gov/3.14/" in targets
    body = d.element.body
    linked = {"".join(t.text for t in h.iter(qn("w:t")))
              for h in body.iter(qn("w:hyperlink")) if h.get(qn("r:id"))}
    assert "M3 glossary" in linked
    assert "View in the M3 Playbook" in linked  # {{r kt.url|link(...) }}
    assert "<a href" not in all_text(d) and "href=" not in all_text(d)
    rels = zipfile.ZipFile(io.BytesIO(render(conops_doc(playbook), conops_template, engagement,
                                             playbook).data)).read("word/_rels/document.xml.rels")
    ids = re.findall(rb'Id="([^"]+)"', rels)
    assert len(ids) == len(set(ids))  # a link never takes the id of a header or the styles


def test_bold_runs_stay_bold(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    (table,) = table_with_header(d, "#")
    cell = table.rows[7].cells[1]
    bold = [r.text for p in cell.paragraphs for r in p.runs if r.bold]
    assert "Status Reports/Dashboards" in bold


def test_headings_and_tables_structure(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    headings = {p.text: p.style.name for p in d.paragraphs if p.style.name.startswith("Heading")}
    assert headings["Key Task 3.14: Finalize Target State Concept of Operations"] == "Heading 1"
    for name in ("Objective", "Activities", "Stakeholders", "Best Practices"):
        assert headings[name] == "Heading 2"
    assert headings["Purpose"] == "Heading 2"  # the CONOPS keeps its guidance sections
    assert any(p.style.name == "Guidance" for p in d.paragraphs)
    (acts,) = table_with_header(d, "#")
    assert [c.text for c in acts.rows[0].cells] == ["#", "Activity", "Responsible Party", "Owner"]
    assert acts.rows[1].cells[3].text == "Jordan Avery / Riley Chen"
    (people,) = table_with_header(d, "Role")
    assert [c.text for c in people.rows[0].cells] == ["Role", "Customer", "Provider", "Parties"]
    assert people.rows[1].cells[1].text == "Casey Lee"
    assert people.rows[1].cells[2].text == "Sam Patel"
    width = d.sections[0].page_width - d.sections[0].left_margin - d.sections[0].right_margin
    for table in d.tables:
        tr = table.rows[0]._tr
        if table in (acts, people):
            assert tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.iter(qn("w:gridCol"))]
        assert sum(grid) * 635 <= width  # twips to EMU


def test_history_approvals_and_toc(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    (history,) = table_with_header(d, "Version")
    assert [c.text for c in history.rows[1].cells][:2] == ["1.0", "November 24, 2026"]
    assert "Riley Chen" in history.rows[1].cells[3].text
    (approvals,) = table_with_header(d, "Name and Title")
    names = [row.cells[0].paragraphs[0].text for row in approvals.rows[1:]]
    assert names == [name for name, _ in engagement.approvers]
    assert approvals.rows[1].cells[0].paragraphs[1].text == engagement.approvers[0][1]
    body = d.element.body
    assert any("TOC" in (t.text or "") for t in body.iter(qn("w:instrText")))
    toc = [p.text.strip() for p in d.paragraphs if p.style.name.lower().startswith("toc ")]
    assert "Key Task 3.14: Finalize Target State Concept of Operations" in toc
    anchors = {h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink"))} - {None}
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert anchors and anchors <= bookmarks


def test_core_properties_from_engagement(playbook, engagement, conops_template):
    d = read(render(conops_doc(playbook), conops_template, engagement, playbook).data)
    props = d.core_properties
    assert props.title == "Target State Concept of Operations"
    assert props.author == engagement.provider
    assert props.created.date() == engagement.as_of
    assert props.modified.date() == engagement.as_of


def test_same_inputs_same_bytes(playbook, engagement, conops_template):
    doc = conops_doc(playbook)
    first = render(doc, conops_template, engagement, playbook).data
    assert render(doc, conops_template, engagement, playbook).data == first
    fresh = Template(TEMPLATES / "conops.docx")
    assert render(doc, fresh, engagement, playbook).data == first


# -- big and hostile key tasks ----------------------------------------------------------------
def big_key_task(n: int = 40) -> KeyTask:
    acts = []
    for i in range(1, n + 1):
        group = RichText.of(f"Workstream group {(i - 1) // 10 + 1}")
        text = RichText((Run(f"Activity number {i}: "), Run("reconcile", bold=True),
                         Run(" the ledger per "), Run("guide", url=f"https://example.gov/g/{i}")))
        party = (Party.CUSTOMER, Party.PROVIDER, Party.SHARED, Party.QSMO)[i % 4]
        acts.append(Activity(i, text, (party,), group))
    return KeyTask(phase=3, number=99, name="Very Large Key Task", objective=RichText.of("Scale."),
                   category="technology", parties=(Party.SHARED,), activities=tuple(acts),
                   inputs=(), outputs=(),
                   stakeholders=(Stakeholder(RichText.of("Program Manager"),
                                             (Party.CUSTOMER, Party.PROVIDER)),))


def test_forty_activities_render_fully_with_groups(playbook, engagement, conops_template):
    kt = big_key_task(40)
    d = read(render(conops_doc(playbook, (kt,)), conops_template, engagement, playbook).data)
    (acts,) = table_with_header(d, "#")
    rows = acts.rows[1:]
    assert len(rows) == 40 + 4
    group_rows = [r for r in rows if len(r._tr.findall(qn("w:tc"))) == 1]
    assert [r.cells[0].text for r in group_rows] == [f"Workstream group {g}" for g in range(1, 5)]
    activity_rows = [r for r in rows if r not in group_rows]
    assert [r.cells[0].text for r in activity_rows] == [str(i) for i in range(1, 41)]
    for i, r in enumerate(activity_rows, 1):
        assert r.cells[1].text == f"Activity number {i}: reconcile the ledger per guide"
    assert {f"https://example.gov/g/{i}" for i in range(1, 41)} <= hyperlink_targets(d)
    qsmo_row = activity_rows[2]  # activity 3 is QSMO's
    assert qsmo_row.cells[2].text == "QSMO" and qsmo_row.cells[3].text == "Morgan Diaz"


def test_xml_illegal_characters_are_removed(playbook, engagement, conops_template):
    kt = big_key_task(2)
    bad = Activity(3, RichText.of("Bad\x00 text\x0b with\ufffe controls"), (Party.SHARED,))
    kt = KeyTask(**{**kt.__dict__, "activities": kt.activities[:2] + (bad,),
                    "name": "Odd\x01 name"})
    result = render(conops_doc(playbook, (kt,)), conops_template, engagement, playbook)
    d = read(result.data)
    text = all_text(d)
    assert "Bad text with controls" in text and "Key Task 3.99: Odd name" in text
    assert result.warnings and all("cannot hold were removed" in w for w in result.warnings)


def test_playbook_text_is_never_treated_as_a_field(playbook, engagement, conops_template):
    kt = big_key_task(1)
    literal = Activity(2, RichText.of("Keep {{agency}} literal"), (Party.SHARED,))
    kt = KeyTask(**{**kt.__dict__, "activities": kt.activities + (literal,)})
    text = all_text(read(render(conops_doc(playbook, (kt,)), conops_template, engagement,
                                playbook).data))
    assert "Keep {{agency}} literal" in text


def test_no_key_tasks_leaves_no_marker(playbook, engagement, conops_template):
    doc = Document(conops_deliverable(), 3, "Version 1", (), ())
    result = render(doc, conops_template, engagement, playbook)
    d = read(result.data)
    assert "{{" not in all_text(d) and result.warnings == []
    assert not any(p.text.startswith("Key Task") for p in d.paragraphs)


CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "gsa-m3"


def test_real_playbook_key_tasks_render(engagement, conops_template):
    if not CORPUS.is_dir():
        pytest.skip("the sample playbook corpus is not available")
    book = load_playbook(str(CORPUS))
    doc = Document(conops_deliverable(), 1, "Version 1", book.key_tasks, ())
    result = render(doc, conops_template, engagement, book)
    d = read(result.data)
    text = squash(all_text(d))
    for kt in book.key_tasks:
        assert f"Key Task {kt.id}: {kt.name}" in text
        for act in kt.activities:
            assert act.text.plain in text
    assert "<a href" not in text


# -- the generic template ---------------------------------------------------------------------
def test_generic_deliverable(playbook, engagement, generic_template):
    deliverable = Deliverable("provider-agreement", "Provider Agreement", ("Provider Agreement",),
                              None, "generic", "docx")
    kt = playbook.key_task("3.14")
    doc = Document(deliverable, 3, "Updated", (), (kt,))
    d = read(render(doc, generic_template, engagement, playbook).data)
    text = all_text(d)
    assert "Provider Agreement" in text and engagement.agency in text
    assert "This key task uses the Provider Agreement as an input in Phase 3." in text
    assert "Key Task 3.14: Finalize Target State Concept of Operations" in \
        [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert "{{" not in text
    for act in kt.activities:
        assert act.text.plain in text


def _own_template(tmp_path, *paragraphs: str) -> Path:
    d = docx.Document()
    for text in paragraphs:
        d.add_paragraph(text)
    path = tmp_path / "ours.docx"
    d.save(str(path))
    return path


def test_a_users_tagged_template_goes_through_the_engine(tmp_path, playbook, engagement):
    """An engagement's own template with tags is filled from the document's context, even
    when the chain marks it official; one without tags is filled in place."""
    path = _own_template(tmp_path, "{{ document.title }} for {{ agency }}",
                         "{%p for kt in key_tasks %}", "Task {{ kt.id }}: {{r kt.objective }}",
                         "{%p endfor %}")
    result = render_document(conops_doc(playbook), Template(path), engagement, playbook,
                             official=True)
    texts = [p.text for p in read(result.data).paragraphs]
    assert texts == [f"Target State Concept of Operations for {engagement.agency}",
                     f"Task 3.14: {playbook.key_task('3.14').objective.plain}"]
    plain = _own_template(tmp_path, "Agency: [Agency Name]")
    filled = read(render_document(conops_doc(playbook), Template(plain), engagement, playbook,
                                  official=True).data)
    assert "Key Task Context" in all_text(filled)


def test_a_tagged_template_with_errors_names_each(tmp_path, playbook, engagement):
    path = _own_template(tmp_path, "{{ agency ) }}", "fine", "{%p for x in %}")
    with pytest.raises(M3DocsError) as err:
        render_document(conops_doc(playbook), Template(path), engagement, playbook)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and all("ours.docx: word/document.xml: paragraph" in x for x in lines)


def test_long_date_is_locale_free():
    import datetime as dt
    assert long_date(dt.date(2026, 11, 24)) == "November 24, 2026"
    assert long_date(dt.date(2027, 1, 5)) == "January 5, 2027"


# -- the templates themselves -------------------------------------------------------------------
def load_build_script():
    spec = importlib.util.spec_from_file_location("build_docx_templates",
                                                  REPO / "scripts" / "build_docx_templates.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["conops.docx", "generic.docx"])
def test_templates_use_real_styles_and_show_their_tags(name):
    d = docx.Document(str(TEMPLATES / name))
    styles = {p.style.name for p in d.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"} <= styles
    texts = [p.text for p in d.paragraphs]
    for loop in ("{%p for kt in key_tasks %}", "{%p if terms %}", "{%p endfor %}"):
        assert loop in texts
    assert "Key Task {{ kt.id }}: {{ kt.name }}" in [p.text for p in d.paragraphs
                                                     if p.style.name == "Heading 1"]
    assert all(t.style.name == "M3 Table" for t in d.tables)
    text = all_text(d)
    for tag in ("{{ document.title }}", "{{ agency }}", "{{ program }}", "{{ provider }}",
                "Version {{ version }}", "{{ date }}", "{%tr for h in history %}",
                "{{ h.version }}", "{%tr for a in approvers %}", "{{ a.name }}",
                "{%tr for g in kt.groups %}", "{%tr for a in g.activities %}", "{{r a.text }}",
                "{%tr for s in kt.stakeholders if s.named %}", "{{ kt.unnamed_roles }}",
                "{%tr for t in terms %}"):
        assert tag in text, tag
    assert d.core_properties.title == "{{ document.title }}"
    settings = d.settings.element
    assert settings.find(qn("w:updateFields")) is not None
    assert re.search(r"\bTOC\b", " ".join(t.text for t in d.element.body.iter(qn("w:instrText"))))


def test_templates_rebuild_to_the_same_bytes(tmp_path):
    built = load_build_script().build(tmp_path)
    for path in built:
        assert path.read_bytes() == (TEMPLATES / path.name).read_bytes(), path.name


def test_the_readme_example_template(tmp_path, playbook, engagement):
    """The README's 'Write your own template' example, filled for key task 3.14."""
    from m3docs import render_template
    from m3docs.content import key_task_context
    spec = importlib.util.spec_from_file_location("make_previews",
                                                  REPO / "scripts" / "make_previews.py")
    previews = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previews)
    template = previews.brief_template(tmp_path / "brief.docx")
    render_template(template, key_task_context(playbook, engagement, ["3.14"]),
                    tmp_path / "out.docx")
    d = docx.Document(str(tmp_path / "out.docx"))
    kt = playbook.key_task("3.14")
    assert [p.text for p in d.paragraphs if p.style.name == "Heading 1"] == [f"3.14 {kt.name}"]
    (table,) = d.tables
    assert [r.cells[0].text for r in table.rows[1:]] == [f"3.14.{a.number}"
                                                         for a in kt.activities]
    assert [r.cells[1].text for r in table.rows[1:]] == [a.text.plain for a in kt.activities]
    assert "Status Reports/Dashboards" in [r.text for r in table.rows[7].cells[1].paragraphs[0].runs
                                           if r.bold]
    urls = {run.url for a in kt.activities for run in a.text.links}
    assert urls and urls <= hyperlink_targets(d)


def test_link_filter():
    from m3docs.engine.docx import FILTERS
    link = FILTERS["link"]
    assert [(r.text, r.url) for r in link("https://x.gov/a", "A page").runs] == [
        ("A page", "https://x.gov/a")]
    assert [(r.text, r.url) for r in link("https://x.gov/a").runs] == [
        ("https://x.gov/a", "https://x.gov/a")]
    assert not link("", "")
