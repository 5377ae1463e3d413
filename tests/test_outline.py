"""The format-free outline analysis of a schedule: which rows are the project, phases and key
tasks (what the fill puts beneath them: tests/test_official_schedule.py)."""
from __future__ import annotations

from m3docs.annotate.outline import OutlineRow, find_outline, schedule_columns

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
