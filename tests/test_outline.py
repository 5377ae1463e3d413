"""The format-free outline analysis of a schedule: which rows are the project, phases and key
tasks, and which rows an outline fill inserts, one level deeper, as the template indents."""
from __future__ import annotations

import datetime as dt

from m3docs.engagement import Engagement, TaskStatus
from m3docs.renderers.official.outline import OutlineRow, find_outline, plan_outline, \
    schedule_columns

HEADER = {1: "ID", 2: " Task  Name ", 3: "Duration", 4: "% Complete", 5: "Start", 6: "Finish",
          7: "Resource Names"}


def _rows(task_texts: list[str], ids: list[str] | None = None, spaces: bool = False):
    out = []
    for n, text in enumerate(task_texts, 2):
        texts = {2: text}
        if ids:
            texts[1] = ids[n - 2]
        lead = len(text) - len(text.lstrip(" ")) if spaces else 0
        out.append(OutlineRow(n, texts, spaces=lead))
    return out


def test_schedule_columns_by_header():
    cols = schedule_columns(HEADER)
    assert cols == {"id": 1, "task": 2, "duration": 3, "percent": 4, "start": 5, "finish": 6,
                    "resource": 7}
    assert schedule_columns({1: "Task Name", 2: "Owner"}) == {}   # not a schedule
    assert schedule_columns({1: "Start", 2: "Finish", 3: "Duration", 4: "% Complete"}) == {}


def test_phases_by_number_or_name_and_key_tasks_by_id_or_name(playbook):
    kt = playbook.key_task("3.14")
    rows = _rows(["[Project Name]", "Phase 2  -  Selection", "3   ENGAGEMENT ",
                  f"  {kt.name.upper()}  ", "3.99 A key task the playbook lacks",
                  "Weekly status meeting", "Migration"])
    outline = find_outline(1, schedule_columns(HEADER), rows, playbook)
    assert outline.project == 2
    assert outline.phases == {3: 2, 4: 3, 8: 4}
    assert outline.key_tasks == {5: kt}
    for text in ("Key Task 3.14: Finalize", "KT 3.14 - Finalize", "3.14.", " 3.14\tX"):
        found = find_outline(1, schedule_columns(HEADER), _rows(["Phase 3", text, "Phase 4"]),
                             playbook)
        assert found.key_tasks == {3: kt}, text


def test_too_few_phases_or_no_key_task_is_no_outline(playbook):
    cols = schedule_columns(HEADER)
    assert find_outline(1, cols, _rows(["Phase 3", "3.14 Finalize"]), playbook) is None
    assert find_outline(1, cols, _rows(["Phase 3", "Phase 4", "Kickoff"]), playbook) is None


def test_id_column_takes_the_ims_number_and_status_fills_the_rows(playbook):
    kt = playbook.key_task("3.14")
    rows = _rows(["Program", "Engagement", "Finalize the CONOPS", "Migration"],
                 ids=["", "3", "3.14", "4"])
    cols = schedule_columns(HEADER)
    outline = find_outline(1, cols, rows, playbook)
    eng = Engagement("A", "P", status={"3.14": TaskStatus(percent_complete=25,
                                                         start=dt.date(2027, 1, 4))})
    plan = plan_outline(outline, rows, {"3.14"}, eng)
    assert plan.project_text is None   # a name, not a blank: it stays
    (ins,) = plan.insertions
    assert ins.after == 4
    first = ins.rows[0].values
    assert first["id"] == "3.14.1" and first["task"] == kt.activities[0].text.plain
    assert first["percent"] == 0.25 and first["start"] == dt.date(2027, 1, 4)
    assert "finish" not in first and first["phase"] == "3"
    assert plan_outline(outline, rows, set(), eng).insertions == []   # out of scope


def test_leading_spaces_are_the_indentation_when_nothing_else_is(playbook):
    rows = _rows(["<<Name of the Migration Project>>", "Phase 3", "   3.14 Finalize",
                  "Phase 4"], spaces=True)
    cols = schedule_columns({2: "Task Name", 3: "Start", 4: "Finish", 5: "Resource Type"})
    plan = plan_outline(find_outline(1, cols, rows, playbook), rows, {"3.14"},
                        Engagement("A", "Financial Management Modernization"))
    assert plan.project_text == "Financial Management Modernization"
    new = plan.insertions[0].rows[0]
    assert (new.level, new.indent, new.spaces) == (0, 0, 6)
    assert new.values["task"].startswith("3.14.1 ")


def test_outline_levels_and_style_indents_go_one_deeper(playbook):
    rows = [OutlineRow(2, {2: "Phase 3"}, level=1, indent=1),
            OutlineRow(3, {2: "3.14 Finalize"}, level=2, indent=3),
            OutlineRow(4, {2: "Phase 4"}, level=1, indent=1)]
    cols = schedule_columns({2: "Task Name", 3: "Start", 4: "Finish", 5: "Resource Type"})
    plan = plan_outline(find_outline(1, cols, rows, playbook), rows, {"3.14"},
                        Engagement("A", "P"))
    new = plan.insertions[0].rows[0]
    assert (new.level, new.indent, new.spaces) == (3, 5, 0)
    assert plan.insertions[0].phase_top == 3
    kt = playbook.key_task("3.14")
    assert [r.values["resource"] for r in plan.insertions[0].rows] == \
        [", ".join(p.label for p in a.parties) for a in kt.activities]
