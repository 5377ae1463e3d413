"""Our own decks (tagged templates filled by the engine): decks read back with python-pptx."""
from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from pptx import Presentation

from m3docs.ooxml.package import Template
from m3docs.playbook.loader import load_playbook
from m3docs.playbook.model import Activity, Party
from m3docs.playbook.richtext import RichText, Run
from m3docs.plan import Deliverable, Document
from m3docs.content import STATUS_COLORS
from m3docs.engine import compiled
from m3docs.renderers import render_document
from oracles import named_first

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
REAL_PLAYBOOK = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "gsa-m3"
WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return WS.sub(" ", text).strip()


@pytest.fixture(scope="module")
def status_template():
    return Template(TEMPLATES / "status.pptx")


@pytest.fixture(scope="module")
def generic_template():
    return Template(TEMPLATES / "generic.pptx")


def _doc(kind: str, key_tasks, title: str = "Status Reports/Dashboards") -> Document:
    deliverable = Deliverable("status-reports-dashboards", title, (title,), None, kind, "pptx")
    return Document(deliverable, 3, "Updated", tuple(key_tasks), ())


def _fill(doc, template, engagement, playbook):
    return render_document(doc, template, engagement, playbook)


def _fill_color(code: str) -> str:
    return STATUS_COLORS[code][1]


def _render(template, key_tasks, engagement, playbook, kind="status"):
    result = _fill(_doc(kind, key_tasks), template, engagement, playbook)
    return result, Presentation(io.BytesIO(result.data))


def _tables(prs):
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_table:
                yield slide, shape


def _column(table, header: str) -> list:
    headers = [c.text for c in table.rows[0].cells]
    i = headers.index(header)
    return [row.cells[i] for row in list(table.rows)[1:]]


def _activity_slides(prs):
    """The slides whose table lists activities (their header names an Activity column)."""
    return [(s, f) for s, f in _tables(prs) if "Activity" in [c.text for c in f.table.rows[0].cells]]


def _all_text(prs) -> str:
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


def _long_task(playbook, count: int = 40):
    filler = "coordinate migration deliverables, dependencies and sign-offs with stakeholders "
    acts = tuple(Activity(i, RichText((Run(f"Activity {i}: " + filler * (1 + i % 5)),
                                       Run("guidance", url="https://example.gov/guide"))),
                          (Party.SHARED,)) for i in range(1, count + 1))
    return dataclasses.replace(playbook.key_tasks[0], activities=acts)


def test_status_deck_content(status_template, engagement, playbook):
    result, prs = _render(status_template, playbook.key_tasks, engagement, playbook)
    kt = playbook.key_tasks[0]
    status = engagement.task_status(kt.id)
    activity_tables = [f.table for _, f in _activity_slides(prs)]
    assert activity_tables
    texts = [_norm(c.text) for t in activity_tables for c in _column(t, "Activity")]
    owners = [c.text for t in activity_tables for c in _column(t, "Owner")]
    refs = [c.text for t in activity_tables for c in _column(t, "IMS Ref")]
    assert texts == [_norm(a.text.plain) for a in kt.activities]
    assert owners == [engagement.owner(a) for a in kt.activities]
    assert refs == [f"{kt.id}.{a.number}" for a in kt.activities]
    for table in activity_tables:
        assert {c.text for c in _column(table, "% Complete")} == {f"{status.percent_complete}%"}
        for cell in _column(table, "Status"):
            assert cell.text == status.status
            assert str(cell.fill.fore_color.rgb) == _fill_color(status.status)
    title = _all_text_of(prs.slides[0])
    for expected in (engagement.agency, engagement.program, "November 24, 2026",
                     "Status Report — November 24, 2026", engagement.provider, "Updated (v1.0)"):
        assert expected in title
    text = _all_text(prs)
    assert "{{" not in text and "}}" not in text
    assert not re.search(r"<\s*/?\s*(a|b|i|em|strong|br)\b|href=", text)
    for line in status.risks + status.accomplishments + status.upcoming:
        assert line in text
    assert kt.objective.plain in text
    assert result.warnings == []


def _all_text_of(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def test_status_deck_hyperlinks_are_real(status_template, engagement, playbook):
    _, prs = _render(status_template, playbook.key_tasks, engagement, playbook)
    links = {}
    for _, frame in _activity_slides(prs):
        for cell in _column(frame.table, "Activity"):
            for para in cell.text_frame.paragraphs:
                for run in para.runs:
                    if run.hyperlink.address:
                        links[run.text] = run.hyperlink.address
    expected = {r.text: r.url for a in playbook.key_tasks[0].activities for r in a.text.links}
    assert expected and links == expected


def test_status_deck_slides_and_legend(status_template, engagement, playbook):
    _, prs = _render(status_template, playbook.key_tasks, engagement, playbook)
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    kt = playbook.key_tasks[0]
    assert any(t.startswith("Risks and Issues") and kt.id in t for t in titles)
    assert any(t.startswith("Accomplishments and Upcoming Activities") for t in titles)
    legend = _all_text_of(_activity_slides(prs)[0][0])
    for label in ("Completed", "On track", "Late, not critical", "Late, critical or high risk",
                  "Upcoming"):
        assert label in legend
    status = engagement.task_status(kt.id).status
    tiles = [sh for s in prs.slides for sh in s.shapes if sh.name == "Status"]
    assert tiles and all(str(t.fill.fore_color.rgb) == _fill_color(status) for t in tiles)
    inks = {str(r.font.color.rgb) for t in tiles for p in t.text_frame.paragraphs for r in p.runs}
    assert inks == {STATUS_COLORS[status][2]}
    names = [s.element.find(".//{*}cSld").get("name") for s in prs.slides]
    assert names.count("Title") == 1 and len(prs.slides) == 4


def test_forty_activities_continue_without_overflow(status_template, engagement, playbook):
    kt = _long_task(playbook)
    _, prs = _render(status_template, [kt], engagement, playbook)
    pages = _activity_slides(prs)
    assert len(pages) >= 3
    assert all("(continued)" in s.shapes.title.text for s, _ in pages[1:])
    assert "(continued)" not in pages[0][0].shapes.title.text
    texts = [_norm(c.text) for _, f in pages for c in _column(f.table, "Activity")]
    assert texts == [_norm(a.text.plain) for a in kt.activities]
    for slide, frame in _tables(prs):
        bottom = frame.top + sum(row.height for row in frame.table.rows)
        assert bottom <= prs.slide_height, slide.shapes.title.text
        legend_top = min((s.top for s in slide.shapes if s.name.startswith("Legend")),
                         default=prs.slide_height)
        assert bottom <= legend_top


def test_rendering_is_deterministic_and_ids_unique(status_template, engagement, playbook):
    kt = dataclasses.replace(_long_task(playbook, 25), number=99)
    doc = _doc("status", [kt, playbook.key_tasks[0]])
    one = _fill(doc, status_template, engagement, playbook).data
    two = _fill(doc, Template(TEMPLATES / "status.pptx"), engagement, playbook).data
    assert one == two
    prs = Presentation(io.BytesIO(one))
    ids = [s.slide_id for s in prs.slides]
    parts = [s.part.partname for s in prs.slides]
    assert len(set(ids)) == len(ids) and len(set(parts)) == len(parts)
    assert len(prs.slides) > 6


def test_no_key_tasks_leaves_the_title_slide_only(status_template, engagement, playbook):
    result = _fill(_doc("status", []), status_template, engagement, playbook)
    prs = Presentation(io.BytesIO(result.data))
    assert len(prs.slides) == 1
    assert engagement.program in _all_text_of(prs.slides[0])
    assert "{{" not in _all_text(prs)


@pytest.mark.parametrize("name", ["status.pptx", "generic.pptx"])
def test_templates_carry_their_loops_as_tags(name):
    """What a user sees on opening the template: the key-task slides between a slide loop's
    tags, each table's rows between a row loop's control rows, fields as tags."""
    prs = Presentation(str(TEMPLATES / name))
    text = _all_text(prs)
    assert "{%slide for kt in key_tasks %}" in text and "{%slide endfor %}" in text
    loops = [f for _, f in _tables(prs) if f.table.rows[1].cells[0].text.startswith("{%tr for ")]
    assert len(loops) == 2 and "{{r a.text }}" in text and "{{ program }}" in text
    template = Template(TEMPLATES / name)
    assert compiled(template, "pptx") is compiled(template, "pptx")  # compiled once
    assert {"key_tasks", "program", "agency", "date", "document"} <= compiled(template, "pptx").names


def test_illegal_characters_are_removed_with_a_warning(status_template, engagement, playbook):
    bad = dataclasses.replace(engagement, program="Core\x01 Financials")
    result, prs = _render(status_template, playbook.key_tasks, bad, playbook)
    assert result.warnings
    assert "Core Financials" in _all_text_of(prs.slides[0])


def test_generic_deck(generic_template, engagement, playbook):
    kt = playbook.key_tasks[0]
    doc = _doc("generic", [kt], title="Stakeholder Briefing")
    result = _fill(doc, generic_template, engagement, playbook)
    prs = Presentation(io.BytesIO(result.data))
    title = _all_text_of(prs.slides[0])
    for expected in ("Stakeholder Briefing", engagement.program, engagement.agency,
                     "November 24, 2026"):
        assert expected in title
    tables = {f.name: f.table for _, f in _tables(prs)}
    acts = tables["Activities"]
    assert [_norm(c.text) for c in _column(acts, "Activity")] == \
        [_norm(a.text.plain) for a in kt.activities]
    assert {c.text for c in _column(acts, "Responsible Party")} == {"Shared"}
    holders = tables["Stakeholders"]
    roles = [c.text for c in _column(holders, "Role")]
    named, unnamed = named_first(kt.stakeholders, engagement)
    assert unnamed and roles == [s.role.plain for s in named] + [     # nobody named: one row
        "To be named: " + "; ".join(f"{s.role.plain} ({', '.join(p.label for p in s.parties)})"
                                    for s in unnamed)]
    row = roles.index("Program Manager")
    assert _column(holders, "Customer")[row].text == "Jordan Avery"
    assert _column(holders, "Provider")[row].text == "Riley Chen"
    assert "{{" not in _all_text(prs) and result.warnings == []
    (panel,) = [s for s in prs.slides[1].shapes if s.name == "Key task context"]
    lines = panel.text_frame.text.split("\n")
    assert lines == [f"Objective:  {kt.objective.plain}",
                     "Inputs:  " + "; ".join(r.title.plain for r in kt.inputs),
                     "Outputs:  " + "; ".join(r.title.plain for r in kt.outputs)]


def test_templates_are_widescreen():
    for name in ("status.pptx", "generic.pptx"):
        prs = Presentation(str(TEMPLATES / name))
        assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)


@pytest.mark.skipif(not REAL_PLAYBOOK.is_dir(), reason="sample playbook corpus not available")
def test_real_playbook_status_deck_fits(status_template, engagement):
    real = load_playbook(str(REAL_PLAYBOOK))
    _, prs = _render(status_template, real.key_tasks, engagement, real)
    assert len(_activity_slides(prs)) >= len(real.key_tasks)
    for slide, frame in _tables(prs):
        assert frame.top + sum(r.height for r in frame.table.rows) <= prs.slide_height
    text = _all_text(prs)
    assert "<a " not in text and "{{" not in text


def test_a_restyled_copy_named_in_the_engagement_fills_the_same_way(playbook, tmp_path):
    """A user copies our status deck, rewrites a line and restyles a table in PowerPoint,
    and names the copy in the engagement's ``templates:``: the pack's deck is filled from it
    by the engine (the user's wording and style, the same facts)."""
    import json

    from pptx.dml.color import RGBColor

    from m3docs import build_pack, load_engagement
    prs = Presentation(str(TEMPLATES / "status.pptx"))
    (subtitle,) = [s for s in prs.slides[0].placeholders if "Status Report" in s.text_frame.text]
    subtitle.text_frame.paragraphs[-1].runs[0].text = "Monthly Review — {{ date }}"
    header = next(f for _, f in _tables(prs)
                  if f.table.cell(0, 0).text == "IMS Ref").table.cell(0, 0)
    header.fill.solid()
    header.fill.fore_color.rgb = RGBColor.from_string("7A1F1F")
    prs.save(str(tmp_path / "my-status.pptx"))
    (tmp_path / "engagement.yaml").write_text(
        "agency: A\nprogram: P\nas_of: 2026-11-24\nscope: {key_tasks: ['3.14']}\n"
        "templates: {Status Reports/Dashboards: my-status.pptx}\n")
    book = playbook
    eng = load_engagement(tmp_path / "engagement.yaml", book)
    build_pack(book, eng, tmp_path / "pack")
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    (entry,) = [d for d in manifest["documents"] if d["format"] == "pptx"]
    assert entry["template"] == "my-status.pptx"
    deck = Presentation(str(tmp_path / "pack" / entry["path"]))
    assert "Monthly Review — November 24, 2026" in _all_text_of(deck.slides[0])
    kt = book.key_task("3.14")
    (frame,) = [f for _, f in _activity_slides(deck)]
    assert [c.text for c in _column(frame.table, "IMS Ref")] == \
        [f"3.14.{a.number}" for a in kt.activities]
    assert str(frame.table.cell(0, 0).fill.fore_color.rgb) == "7A1F1F"
