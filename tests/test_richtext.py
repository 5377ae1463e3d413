"""Page text with HTML: lists, paragraphs and line breaks keep their lines."""
from __future__ import annotations

import docx
import pytest

from m3docs.playbook.richtext import BULLET, parse_html


def lines(text: str) -> list[str]:
    return "".join(r.text for r in parse_html(text).runs).split("\n")


def test_list_items_are_lines_with_bullets():
    assert lines("Update it with:<ul><li>Phase 3 milestones</li><li>Phase 4 <b>links</b></li>"
                 "</ul>then review") == ["Update it with:", f"{BULLET}Phase 3 milestones",
                                         f"{BULLET}Phase 4 links", "then review"]


def test_ordered_lists_are_numbered_and_unclosed_items_end_at_the_next():
    assert lines("Steps<ol start='3'><li>One<li>Two</ol>") == ["Steps", "3. One", "4. Two"]
    assert lines("<ol><li>a<ul><li>b</ul><li>c</ol>") == ["1. a", f"{BULLET}b", "2. c"]


@pytest.mark.parametrize("text,want", [
    ("<p>First</p><p>Second</p>", ["First", "Second"]),
    ("<div>One</div>Two", ["One", "Two"]),
    ("No <b>blocks</b> here", ["No blocks here"]),
])
def test_paragraphs_start_lines_without_empty_ones(text, want):
    assert lines(text) == want


def test_plain_view_keeps_items_apart():
    assert parse_html("with:<ul><li>A</li><li>B</li></ul>").plain == f"with: {BULLET}A {BULLET}B"


def test_list_items_reach_a_word_document_as_lines(write_page, tmp_path):
    from m3docs import build_pack, load_playbook
    from m3docs.engagement import example_engagement
    write_page("---\nphase: 1\nkeyTask: 1\nname: Task\nobjective: o\nactivities:\n"
               "  - text: 'Update the schedule with:<ul><li>Phase 3 milestones</li>"
               "<li>Phase 4 dependencies</li></ul>'\n    responsibleParty: customer\n"
               "outputs: [Vision Statement]\n---\n")
    build_pack(load_playbook(tmp_path), example_engagement(), tmp_path / "out")
    doc = docx.Document(next((tmp_path / "out").rglob("Vision Statement.docx")))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert any(c.split("\n") == ["Update the schedule with:", f"{BULLET}Phase 3 milestones",
                                 f"{BULLET}Phase 4 dependencies"] for c in cells), cells
