"""The deck annotator: the tags it writes into official-style decks built here, and what the
engine makes of them."""
from __future__ import annotations

import io
from pathlib import Path

from m3docs.annotate import annotator_for
from m3docs.annotate.pptx import annotated
from m3docs.engine import compiled
from m3docs.ooxml.package import Template

from fixtures_official import status_deck
from test_official_kept_rows import HEADER, NOTE, TOTAL, plain_deck, totals_deck


def _official_deck() -> Path:
    import pytest
    from conftest import OFFICIAL
    path = OFFICIAL / "M3-Playbook-Status-Report-Dashboard-Template.pptx"
    if not path.exists():
        pytest.skip("the shared official templates are not present")
    return path


def _tagged(path: Path, placeholders: tuple[str, ...] = ()):
    """(the tagged deck opened with python-pptx, the annotator's notes)."""
    from pptx import Presentation
    data, notes = annotator_for("pptx").annotate(Template(path), None, placeholders)
    return Presentation(io.BytesIO(data)), notes, data


def _table(prs, first: str):
    return next(s.table for slide in prs.slides for s in slide.shapes
                if s.has_table and s.table.cell(0, 0).text == first)


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_blanks_become_fields(tmp_path):
    prs, notes, _ = _tagged(status_deck(tmp_path / "deck.pptx"))
    slide = prs.slides[0]
    assert slide.shapes.title.text == "Major Activities (as of {{ date_mdyy }})"
    boxes = [s.text_frame.text for s in slide.shapes if s.has_text_frame and "–" in
             s.text_frame.text]
    assert boxes == ["{{ agency }} – {{ program }}"]
    assert "blank 'xx/xx/xx' -> {{ date_mdyy }}" in notes


def test_activity_table_gets_a_row_loop_and_keeps_its_rows_for_an_empty_list(tmp_path):
    prs, notes, _ = _tagged(status_deck(tmp_path / "deck.pptx"))
    rows = _rows(_table(prs, "IMS"))
    assert rows[0] == ["IMS", "Activities", "Owner", "% Complete", "Projected Finish", "Status"]
    assert rows[1][0] == ('{%tr set status_fills = {"G": "00B050"} %}'   # the legend's colour
                          '{%tr for a in key_tasks|sum(attribute="activities", start=[]) %}')
    assert rows[2][:5] == ["{{ a.number }}", "{{ a.text }}", "{{ a.owner or a.party }}",
                           "{{ a.percent_text }}", "{{ a.finish_mdyyyy }}"]
    status = rows[2][5]
    assert status == '{% cellbg status_fills.get(a.status, "") %}{{ a.status }}'
    assert rows[3][0] == "{%tr else %}"
    assert rows[4][0] == "Insert IMS section"   # the template's rows, for no activities
    assert rows[-1][0] == "{%tr endfor %}"
    assert any("a row per activities" in n for n in notes)


def test_status_text_looks_branch_by_code(tmp_path):
    """Codes whose text looks differ (white on navy, black on yellow) get a branch each:
    the official deck's status cells."""
    prs, _, _ = _tagged(_official_deck())
    status = _rows(_table(prs, "MAJOR ACTIVITIES"))[3][6]
    assert status == ('{% cellbg status_fills.get(a.status, "") %}{%r if a.status in ["B"] %}'
                      '{{ a.status }}{%r elif a.status in ["R"] %}{{ a.status }}{%r else %}'
                      '{{ a.status }}{%r endif %}')


def test_window_slide_lists_the_window(tmp_path):
    from pptx import Presentation
    path = status_deck(tmp_path / "deck.pptx")
    prs = Presentation(path)
    prs.slides[0].shapes.title.text = "Major Activities Over Next 30-45 Days (as of xx/xx/xx)"
    prs.save(path)
    tagged, notes, _ = _tagged(path)
    rows = _rows(_table(tagged, "IMS"))
    assert rows[1][0].endswith("{%tr for a in window.rows %}")
    assert any("window.rows" in n for n in notes)


def test_milestones_loop_over_each_key_task_s_outputs(tmp_path):
    prs, _, _ = _tagged(status_deck(tmp_path / "deck.pptx", milestones=True))
    rows = _rows(_table(prs, "MAJOR MILESTONES"))
    assert rows[2][0].endswith('{%tr if key_tasks|sum(attribute="outputs", start=[]) %}'
                               "{%tr for kt in key_tasks %}{%tr for o in kt.outputs %}")
    assert rows[2][0].startswith('{%tr set status_fills = {"B": "002776", "G": "00B050"} %}')
    # the codes' texts look alike here: no text branch
    assert rows[3][4] == '{% cellbg status_fills.get(kt.status, "") %}{{ kt.status }}'
    assert rows[3][:4] == ["{{ kt.id }}", '{{ o.title ~ " complete" }}',
                           "{{ kt.owner or kt.leads or kt.parties }}", "{{ kt.finish_mdyyyy }}"]
    assert rows[3][5] == '{{ "Key task " ~ kt.title }}'
    assert rows[4][0] == "{%tr endfor %}{%tr endfor %}{%tr else %}"
    assert rows[-1][0] == "{%tr endif %}"


def test_closing_rows_stay_below_the_loop(tmp_path):
    prs, _, _ = _tagged(totals_deck(tmp_path / "review.pptx"))
    rows = _rows(_table(prs, HEADER[0]))
    assert [r[0] for r in rows[-3:]] == ["{%tr endfor %}", TOTAL[0], NOTE]


def test_no_activity_table_adds_a_context_slide_loop(tmp_path):
    prs, notes, _ = _tagged(plain_deck(tmp_path / "deck.pptx", 12192000))
    assert len(prs.slides) == 2
    shapes = {s.name: s for s in prs.slides[1].shapes}
    assert shapes["Title"].text_frame.paragraphs[0].text == "{%slide for kt in key_tasks %}"
    assert shapes["Title"].text_frame.paragraphs[1].text == "{{ kt.title }}"
    assert _rows(shapes["Activities"].table)[1][0] == "{%tr for a in kt.activities %}"
    assert shapes["End"].text_frame.text == "{%slide endfor %}"
    assert prs.slides[0].shapes.title.text == "Review for {{ agency }}"
    assert any("context slide" in n for n in notes)


def test_placeholders_and_properties(tmp_path):
    from pptx import Presentation
    path = status_deck(tmp_path / "deck.pptx")
    prs = Presentation(path)
    prs.core_properties.title = "Status for [Program Name]"
    prs.slides[0].shapes.add_textbox(0, 0, 100000, 100000).text_frame.text = "[Bureau Name]"
    prs.save(path)
    tagged, _, data = _tagged(path, ("[Bureau Name]",))
    assert tagged.core_properties.title == "Status for {{ program }}"
    texts = [s.text_frame.text for s in tagged.slides[0].shapes if s.has_text_frame]
    assert '{{ placeholders["[Bureau Name]"] }}' in texts


def test_the_tagged_deck_compiles_and_renders(tmp_path, playbook, engagement):
    """The engine takes the tags (no error, no undefined name), and a document with no
    activities keeps the template's rows."""
    from pptx import Presentation
    from m3docs import content
    template = Template(status_deck(tmp_path / "deck.pptx", milestones=True))
    tagged = annotated(template)
    assert annotated(template) is tagged   # once per process
    ctx = content.key_task_context(playbook, engagement, ["3.14"])
    data, warnings = compiled(tagged, "pptx").render(ctx)
    assert [w for w in warnings if "taller than the room" not in w] == []   # no undefined name
    rows = _rows(_table(Presentation(io.BytesIO(data)), "IMS"))
    assert rows[1][0] == "3.14.1" and rows[1][5] == "G"
    empty = dict(ctx, key_tasks=[dict(ctx["key_tasks"][0], activities=[], outputs=[])])
    data, _ = compiled(tagged, "pptx").render(empty)
    prs = Presentation(io.BytesIO(data))
    assert _rows(_table(prs, "IMS"))[1][0] == "Insert IMS section"
    assert _rows(_table(prs, "MAJOR MILESTONES"))[2][0] == "Insert IMS section"
