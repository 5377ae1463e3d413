"""Status from the team's schedule: a Master Schedule workbook or MS Project XML in; the rule,
the overrides and the roll-up; every input error in one run; the round trip through a pack."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from openpyxl.styles import Alignment

from m3docs import M3DocsError, load_engagement, load_playbook
from m3docs.cli import main
from m3docs.pack import MANIFEST, build_pack
from m3docs.schedule import load_schedule, read_schedule
from m3docs.status import ActivityStatus, in_window, roll_up, status_code

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "m3docs" / "data" / "playbook" / "_pages" / "m3"
AS_OF = dt.date(2026, 11, 24)
D = dt.date
M3_COLUMNS = ["Phase", "Task Name", "Duration", "% Complete", "Start", "Finish", "Actual Start",
              "Actual Finish", "Predecessors", "Successors", "Resource Type"]

# (% complete, start, finish, actual finish, Status column, the code expected) for activities
# 3.14.1 to 3.14.7 on AS_OF
CASES = [
    (100, D(2026, 10, 1), D(2026, 11, 1), None, None, "B"),     # 100%
    (60, D(2026, 10, 1), D(2026, 11, 30), D(2026, 11, 20), None, "B"),   # actual finish set
    (0, D(2026, 12, 1), D(2026, 12, 20), None, None, "P"),      # not started, starts later
    (50, D(2026, 10, 1), D(2026, 11, 15), None, None, "R"),     # finish passed, not done
    (10, D(2026, 11, 1), D(2026, 12, 1), None, None, "Y"),      # planned 77%: 67 behind
    (60, D(2026, 11, 1), D(2026, 12, 1), None, None, "G"),      # planned 77%: 17 behind
    (60, D(2026, 11, 1), D(2026, 12, 1), None, "R", "R"),       # the Status column decides
]


def _engagement(playbook, **changes):
    from m3docs.engagement import example_engagement
    return dataclasses.replace(example_engagement(), **changes)


def master_schedule(path: Path, playbook, cases=CASES, status_column: bool = True,
                    extra: list[tuple] = (), key_task_row: bool = True) -> Path:
    """A workbook in the M3 Master Schedule layout: a phase row, the key-task row, then its
    activities indented under it, named "3.14.N text" as the official fill writes them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Master Schedule"
    ws.append(M3_COLUMNS + (["Status"] if status_column else []))
    kt = playbook.key_task("3.14")
    ws.append(["3", "Phase 3: Migration and Testing"])
    if key_task_row:
        ws.append(["3", f"{kt.id} {kt.name}"])
    for act, (pct, start, finish, actual, code, _) in zip(kt.activities, cases):
        row = ["3", f"{kt.id}.{act.number} {act.text.plain}", "", pct / 100, start, finish, None,
               actual, None, None, None]
        ws.append(row + ([code] if status_column else []))
        ws.cell(ws.max_row, 2).alignment = Alignment(indent=2)
        ws.cell(ws.max_row, 4).number_format = "0%"
    for row in extra:
        ws.append(list(row))
    wb.save(path)
    return path


MSPDI_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n' \
             '<Project xmlns="http://schemas.microsoft.com/project">\n<Name>IMS</Name>\n<Tasks>\n'


def _task(uid: int, level: int, name: str, pct: int | None = None, start: str = "",
          finish: str = "", actual: str = "", wbs: str = "") -> str:
    parts = [f"<UID>{uid}</UID>", f"<Name>{escape(name)}</Name>",
             f"<OutlineLevel>{level}</OutlineLevel>"]
    parts += [f"<WBS>{wbs}</WBS>"] if wbs else []
    parts += [f"<Start>{start}T08:00:00</Start>"] if start else []
    parts += [f"<Finish>{finish}T17:00:00</Finish>"] if finish else []
    parts += [f"<PercentComplete>{pct}</PercentComplete>"] if pct is not None else []
    parts += [f"<ActualFinish>{actual}T17:00:00</ActualFinish>"] if actual else []
    return "<Task>\n" + "\n".join(parts) + "\n</Task>\n"


def mspdi(path: Path, playbook, cases=CASES, extra: str = "") -> Path:
    """MS Project XML: the project summary, the key task at level 1 (by name, with an
    unrelated WBS), its activities at level 2, matched by text."""
    kt = playbook.key_task("3.14")
    body = _task(0, 0, "IMS") + _task(1, 1, kt.name, wbs="1")
    for n, (act, (pct, start, finish, actual, _, _)) in enumerate(zip(kt.activities, cases), 2):
        body += _task(n, 2, act.text.plain, pct, start.isoformat(), finish.isoformat(),
                      actual.isoformat() if actual else "", wbs=f"1.{n - 1}")
    path.write_text(MSPDI_HEAD + body + extra + "</Tasks>\n</Project>\n", encoding="utf-8")
    return path


# -- the rule ---------------------------------------------------------------------------
@pytest.mark.parametrize("pct,start,finish,actual,_,code", CASES[:6])
def test_each_code_of_the_rule(pct, start, finish, actual, _, code):
    assert status_code(pct, start, finish, actual, AS_OF) == code


def test_no_start_is_upcoming_and_the_roll_up_order():
    assert status_code(None, None, None, None, AS_OF) == "P"
    acts = [ActivityStatus("3.14.1", 100, D(2026, 1, 1), D(2026, 2, 1), status="B"),
            ActivityStatus("3.14.2", 20, D(2026, 3, 1), D(2027, 1, 1), status="G")]
    up = roll_up(acts)
    assert (up.percent_complete, up.start, up.finish, up.status) == \
        (60, D(2026, 1, 1), D(2027, 1, 1), "G")
    assert roll_up([dataclasses.replace(a, status="B") for a in acts]).status == "B"
    assert roll_up([dataclasses.replace(a, status="P") for a in acts]).status == "P"
    assert roll_up(acts + [ActivityStatus("3.14.3", status="Y")]).status == "Y"
    assert roll_up(acts + [ActivityStatus("3.14.3", status="Y"),
                           ActivityStatus("3.14.4", status="R")]).status == "R"


# -- reading and matching -------------------------------------------------------------------
def _check_cases(eng, cases=CASES):
    for n, (pct, start, finish, _, _, code) in enumerate(cases, 1):
        st = eng.activity_status(f"3.14.{n}")
        assert (st.percent_complete, st.start, st.finish, st.status) == \
            (pct, start, finish, code), n


def test_workbook_gives_each_activity_its_figures_and_code(playbook, tmp_path):
    path = master_schedule(tmp_path / "ims.xlsx", playbook, extra=[
        ("3", "Team offsite"), ("3", "Order badges"), ("", "Renew licences"), ("", "Phase 4")])
    status, notes = load_schedule(path, playbook, AS_OF)
    eng = _engagement(playbook).with_schedule(status)
    _check_cases(eng)
    assert eng.activity_status("3.14.7").source == "schedule"   # the Status column's R
    assert eng.activity_status("3.14.6").source == "rule"
    up = eng.task_status("3.14")
    assert (up.status, up.start, up.finish, up.percent_complete) == \
        ("R", D(2026, 10, 1), D(2026, 12, 20), round((100 + 60 + 0 + 50 + 10 + 60 + 60) / 7))
    (note,) = notes   # the rows that match nothing, in one warning; the phase rows are known
    assert str(note) == (f"{path}:Master Schedule!B11: warning: 4 rows match no key task or "
                         "activity of the playbook: 'Team offsite', 'Order badges', "
                         "'Renew licences' and 1 more")


def test_mspdi_gives_each_activity_its_figures_and_code(playbook, tmp_path):
    path = mspdi(tmp_path / "ims.xml", playbook, CASES[:6])
    status, notes = load_schedule(path, playbook, AS_OF)
    eng = _engagement(playbook).with_schedule(status)
    _check_cases(eng, CASES[:6])
    assert eng.activity_status("3.14.7").status is None   # not in the schedule
    assert eng.task_status("3.14").status == "R" and notes == []


def test_engagement_status_overrides_the_schedule(playbook, tmp_path):
    from m3docs.engagement import TaskStatus
    status, _ = load_schedule(master_schedule(tmp_path / "ims.xlsx", playbook), playbook, AS_OF)
    eng = _engagement(playbook, status={"3.14": TaskStatus(status="Y", owner="Pat")})
    eng = eng.with_schedule(status)
    up = eng.task_status("3.14")
    assert (up.status, up.owner, up.finish) == ("Y", "Pat", D(2026, 12, 20))
    act = eng.activity_status("3.14.1")
    assert (act.status, act.source, act.percent_complete) == ("Y", "engagement", 100)


def test_key_task_row_without_activities_gives_its_figures_to_all(playbook, tmp_path):
    kt = playbook.key_task("3.14")
    path = tmp_path / "ims.xml"
    path.write_text(MSPDI_HEAD + _task(1, 1, f"{kt.id} {kt.name}", 60, "2026-11-01",
                                       "2026-12-01") + "</Tasks>\n</Project>\n")
    status, notes = load_schedule(path, playbook, AS_OF)
    eng = _engagement(playbook).with_schedule(status)
    for act in kt.activities:
        st = eng.activity_status(f"{kt.id}.{act.number}")
        assert (st.percent_complete, st.finish, st.status) == (60, D(2026, 12, 1), "G")
    assert eng.task_status(kt.id).percent_complete == 60 and notes == []


def test_three_bad_cells_three_located_errors_and_nothing_written(playbook, tmp_path, capsys):
    bad = list(CASES)
    path = master_schedule(tmp_path / "ims.xlsx", playbook, bad)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["D4"].value, ws["D4"].number_format = 150, "General"   # 3.14.1's % complete
    ws["E5"] = "soon"                                          # 3.14.2's start
    ws["L6"] = "X"                                             # 3.14.3's status
    wb.save(path)
    eng = tmp_path / "engagement.yaml"
    eng.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\n")
    out = tmp_path / "out"
    code = main(["pack", "--engagement", str(eng), "--schedule", str(path), "--out", str(out),
                 "--quiet"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and not out.exists()
    assert err == [f"{path}:Master Schedule!D4: error: % Complete 150 is outside 0-100",
                   f"{path}:Master Schedule!E5: error: Start 'soon' is not a date",
                   f"{path}:Master Schedule!L6: error: status 'X' is not one of B, G, Y, R, P "
                   "(B Completed; G On track; Y Late, not critical; R Late, critical or high "
                   "risk; P Upcoming)"]


def test_mspdi_errors_name_their_line(playbook, tmp_path):
    path = tmp_path / "ims.xml"
    path.write_text(MSPDI_HEAD + "<Task>\n<Name>A</Name>\n<OutlineLevel>1</OutlineLevel>\n"
                    "<Start>someday</Start>\n<PercentComplete>101</PercentComplete>\n</Task>\n"
                    "</Tasks>\n</Project>\n")
    rows, diags = read_schedule(path)
    assert [str(d) for d in diags] == [f"{path}:8: error: Start 'someday' is not a date",
                                       f"{path}:9: error: % Complete 101 is outside 0-100"]


def test_mpp_and_broken_files_get_a_clear_error(playbook, tmp_path):
    mpp = tmp_path / "plan.mpp"
    mpp.write_bytes(b"\xd0\xcf\x11\xe0 not for us")
    (diag,) = read_schedule(mpp)[1]
    assert str(diag).startswith(f"{mpp}: error: an MS Project .mpp file cannot be read")
    assert "Save As > XML" in str(diag)
    broken = tmp_path / "ims.xlsx"
    broken.write_bytes(b"PK not a zip")
    assert str(read_schedule(broken)[1][0]).startswith(f"{broken}: error: cannot read")
    other = tmp_path / "ims.xlsx"
    openpyxl.Workbook().save(other)
    assert "no sheet has a header row" in str(read_schedule(other)[1][0])


# -- the engagement ---------------------------------------------------------------------
ENGAGEMENT = """agency: Department of Tests
program: Core Financials
as_of: 2026-02-30
status:
  "3.14":
    percent_complete: 140
scheduel: ims.xlsx
"""


def test_engagement_problems_all_in_one_run(playbook, tmp_path, capsys):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT)
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook)
    lines = [str(d) for d in info.value.diagnostics]
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}:3:8: error: 'as_of': bad value '2026-02-30'")
    assert lines[1] == (f"{path}:6:23: error: percent_complete must be a number from 0 to "
                        "100, not 140")
    assert lines[2].startswith(f"{path}:7:1: error: unknown key 'scheduel' in 'engagement'; "
                               "did you mean 'schedule'?")
    assert main(["validate", "--engagement", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == lines


PAGE_FIELDS = ("keyTask: 14\n", "permalink: /3.14/\n",
               "name: Finalize Target State Concept of Operations\n")


def two_key_tasks(root: Path) -> Path:
    """A playbook with key tasks 3.1 and 3.10 (the bundled 3.14 page, renumbered)."""
    pages = root / "_pages" / "m3"
    shutil.copytree(BUNDLED / "phase", pages / "phase")
    text = (BUNDLED / "keyTask" / "3.14.md").read_text()
    assert all(f in text for f in PAGE_FIELDS)
    (pages / "keyTask").mkdir(parents=True)
    for number, name in ((1, "Plan the Migration"), (10, "Rehearse the Cutover")):
        page = text.replace(PAGE_FIELDS[0], f"keyTask: {number}\n")
        page = page.replace(PAGE_FIELDS[1], f"permalink: /3.{number}/\n")
        page = page.replace(PAGE_FIELDS[2], f"name: {name}\n")
        (pages / "keyTask" / f"3.{number}.md").write_text(page)
    return root


def test_unquoted_3_10_packs_key_task_3_10(tmp_path):
    book = load_playbook(two_key_tasks(tmp_path / "book"))
    assert sorted(kt.id for kt in book.key_tasks) == ["3.1", "3.10"]
    path = tmp_path / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\nscope: {key_tasks: [3.10]}\n"
                    "status:\n  3.10: {status: R}\n")
    eng = load_engagement(path, book)
    assert eng.scope.key_tasks == ("3.10",) and eng.task_status("3.10").status == "R"
    out = tmp_path / "out"
    build_pack(book, eng, out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["engagement"]["scope"]["key_tasks"] == ["3.10"]
    assert {k for d in manifest["documents"] for k in d["outputs_of"] + d["inputs_of"]} == \
        {"3.10"}


def test_a_number_that_reads_like_two_key_tasks_is_an_error_at_its_line(tmp_path):
    book = load_playbook(two_key_tasks(tmp_path / "book"))
    path = tmp_path / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nscope:\n  key_tasks:\n    - 3.100\n")
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, book)
    (diag,) = info.value.diagnostics
    assert str(diag) == (f"{path}:5:7: error: key task 3.100 in 'scope' is not in the "
                         "playbook; as a number it cannot be told apart from 3.1 and 3.10: "
                         "write the id as the playbook does, e.g. '3.1'")


def test_schedule_key_is_relative_to_the_engagement_file(playbook, tmp_path, capsys):
    folder = tmp_path / "team"
    folder.mkdir()
    master_schedule(folder / "ims.xlsx", playbook)
    path = folder / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\nschedule: ims.xlsx\n")
    eng = load_engagement(path, playbook)
    _check_cases(eng)
    assert main(["validate", "--engagement", str(path)]) == 0
    assert "7 activities of 1 key tasks matched" in capsys.readouterr().out


# -- where it shows ---------------------------------------------------------------------
def _deck_rows(path: Path) -> dict[str, tuple[str, ...]]:
    """IMS number -> the row's cell texts, over every table of a deck."""
    from pptx import Presentation
    rows = {}
    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_table:
                for row in shape.table.rows:
                    texts = tuple(c.text for c in row.cells)
                    if texts and texts[0].startswith("3.14."):
                        rows[texts[0]] = texts
    return rows


def _pack(tmp_path: Path, playbook, schedule: Path | None, templates=()) -> tuple[Path, dict]:
    eng_path = tmp_path / "engagement.yaml"
    eng_path.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\nscope: {key_tasks: ['3.14']}\n")
    eng = load_engagement(eng_path, playbook, schedule)
    out = tmp_path / ("out2" if schedule else "out")
    build_pack(playbook, eng, out, templates=list(templates))
    manifest = json.loads((out / MANIFEST).read_text())
    return out, {d["title"]: out / d["path"] for d in manifest["documents"]}


def test_status_deck_rows_carry_each_activity_figures(playbook, tmp_path):
    schedule = master_schedule(tmp_path / "ims.xlsx", playbook)
    _, docs = _pack(tmp_path, playbook, schedule)
    rows = _deck_rows(docs["Status Reports/Dashboards"])
    assert len(rows) == 7
    for n, (pct, _, finish, _, _, code) in enumerate(CASES, 1):
        cells = rows[f"3.14.{n}"]
        assert f"{pct}%" in cells and code in cells, cells
        assert f"{finish:%b} {finish.day}, {finish.year}" in cells, cells


def test_official_deck_lists_the_next_45_days(playbook, official_dir, tmp_path):
    """Activities in progress or starting or finishing before as_of + 45 days (2027-01-08);
    not the completed ones, not one starting later."""
    from pptx import Presentation
    later = (0, D(2027, 2, 1), D(2027, 3, 1), None, None, "P")
    cases = CASES[:6] + [later]
    schedule = master_schedule(tmp_path / "ims.xlsx", playbook, cases, status_column=False)
    _, docs = _pack(tmp_path, playbook, schedule, templates=[official_dir])
    prs = Presentation(docs["Status Reports/Dashboards"])
    shown = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_table and shape.table.cell(0, 0).text == "MAJOR ACTIVITIES":
                for row in list(shape.table.rows)[2:]:
                    shown += [c.text for c in row.cells if c.text.startswith("3.14.")]
    assert shown == ["3.14.3", "3.14.4", "3.14.5", "3.14.6"]
    assert in_window(ActivityStatus("x", 0, D(2027, 1, 8)), AS_OF)
    assert not in_window(ActivityStatus("x", 0, D(2027, 1, 9)), AS_OF)


def test_tracker_and_conops_use_the_roll_up(playbook, tmp_path):
    import docx
    schedule = master_schedule(tmp_path / "ims.xlsx", playbook)
    out, docs = _pack(tmp_path, playbook, schedule)
    text = "\n".join(p.text for p in docx.Document(
        docs["Target State Concept of Operations"]).paragraphs)
    assert "Status as of November 24, 2026: Late, critical or high risk, 49% complete, " \
           "planned October 1, 2026 to December 20, 2026." in text
    wb = openpyxl.load_workbook(next(out.glob("*.xlsx")))
    found = [tuple(c.value for c in row) for ws in wb for row in ws.iter_rows()
             if any(c.value == "Late, critical or high risk" for c in row)]
    assert found and any(0.49 in r for r in found)


# -- the round trip ---------------------------------------------------------------------
MASTER_PAGE_OUTPUT = """outputs:
  - text: Master Schedule
    filename: M3-Playbook-Master-Schedule-Template.xlsx
"""


def test_round_trip_pack_edit_pack_again(tmp_path):
    """Pack; the team edits % complete and dates in the written schedule; pack again with
    --schedule: the deck's rows show the edits and the codes the rule gives them."""
    root = tmp_path / "book"
    shutil.copytree(BUNDLED.parent.parent, root)
    page = root / "_pages" / "m3" / "keyTask" / "3.14.md"
    page.write_text(page.read_text().replace("outputs:\n", MASTER_PAGE_OUTPUT, 1))
    book = load_playbook(root)
    _, docs = _pack(tmp_path, book, None)
    written = docs["Master Schedule"]
    wb = openpyxl.load_workbook(written)
    ws = wb["Activities"]
    head = {c.value: c.column_letter for c in ws[3]}
    edits = {"3.14.1": (1.0, D(2026, 10, 1), D(2026, 11, 1)),
             "3.14.4": (0.5, D(2026, 10, 1), D(2026, 11, 15)),
             "3.14.6": (0.6, D(2026, 11, 1), D(2026, 12, 1))}
    for row in range(4, ws.max_row + 1):
        ims = ws[f"{head['IMS #']}{row}"].value
        if ims in edits:
            pct, start, finish = edits[ims]
            ws[f"{head['% Complete']}{row}"] = pct
            ws[f"{head['Start']}{row}"] = start
            ws[f"{head['Finish']}{row}"] = finish
    wb.save(written)
    assert read_schedule(written)[1] == []
    _, again = _pack(tmp_path, book, written)
    rows = _deck_rows(again["Status Reports/Dashboards"])
    assert "100%" in rows["3.14.1"] and "B" in rows["3.14.1"]
    assert "50%" in rows["3.14.4"] and "R" in rows["3.14.4"]
    assert "60%" in rows["3.14.6"] and "G" in rows["3.14.6"]
    assert "P" in rows["3.14.2"]   # no start: upcoming
    # what the second pack wrote reads back too, the edits kept
    status, notes = load_schedule(again["Master Schedule"], book, AS_OF)
    assert status.activities["3.14.4"].percent_complete == 50 and notes == []


def test_ms_project_wbs_codes_are_not_taken_for_key_task_ids(tmp_path):
    """MS Project numbers rows 3.1, 3.2, ... on its own: such a WBS names no key task unless
    the schedule's names agree with its ids somewhere; then an id alone is enough."""
    book = load_playbook(two_key_tasks(tmp_path / "book"))
    path = tmp_path / "ims.xml"

    def write(*tasks: tuple[str, str]) -> None:
        path.write_text(MSPDI_HEAD + "".join(
            _task(n, 1, name, 40, "2026-11-01", "2026-12-01", wbs=wbs)
            for n, (name, wbs) in enumerate(tasks, 1)) + "</Tasks>\n</Project>\n")

    write(("Contract modification", "3.1"), ("Rehearse the Cutover", "3.2"))
    status, notes = load_schedule(path, book, AS_OF)
    assert set(status.tasks) == {"3.10"}   # by its name
    assert [n.message for n in notes] == ["1 row matches no key task or activity of the "
                                          "playbook: 'Contract modification'"]
    write(("Cutover plan", "3.1"), ("Rehearse the Cutover", "3.10"))
    status, notes = load_schedule(path, book, AS_OF)
    assert set(status.tasks) == {"3.1", "3.10"} and notes == []


def test_activities_found_by_text_alone_when_no_key_task_row_is_above(playbook, tmp_path):
    """A flat list of activity names (no key-task rows, no numbers) still matches each
    activity whose text the playbook has once."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Task Name", "% Complete", "Start", "Finish"])
    kt = playbook.key_task("3.14")
    for act in kt.activities[:3]:
        ws.append([act.text.plain.upper(), 100, D(2026, 10, 1), D(2026, 11, 1)])
    wb.save(tmp_path / "flat.xlsx")
    status, notes = load_schedule(tmp_path / "flat.xlsx", playbook, AS_OF)
    assert list(status.activities) == ["3.14.1", "3.14.2", "3.14.3"] and notes == []
    assert all(a.status == "B" and a.percent_complete == 100
               for a in status.activities.values())


def official_master_schedule(folder: Path) -> Path:
    """A Master Schedule template in the M3 layout: a title, the header, two example rows."""
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Master Schedule"
    ws.append(["[Agency Name] Master Schedule"])
    ws.append(M3_COLUMNS)
    ws.append(["0", "Example task", "5 days", 0, "10/01/2026", "10/07/2026", "", "", "", "", ""])
    ws.append(["", "", "", None, "", "", "", "", "", "", ""])
    path = folder / "M3-Playbook-Master-Schedule-Template.xlsx"
    wb.save(path)
    return path


def test_round_trip_through_the_official_master_schedule(tmp_path):
    """The official Master Schedule as a pack fills it reads back as a schedule."""
    root = tmp_path / "book"
    shutil.copytree(BUNDLED.parent.parent, root)
    page = root / "_pages" / "m3" / "keyTask" / "3.14.md"
    page.write_text(page.read_text().replace("outputs:\n", MASTER_PAGE_OUTPUT, 1))
    book = load_playbook(root)
    official_master_schedule(tmp_path / "official")
    _, docs = _pack(tmp_path, book, None, templates=[tmp_path / "official"])
    written = docs["Master Schedule"]
    rows, diags = read_schedule(written)
    assert diags == [] and rows
    wb = openpyxl.load_workbook(written)
    ws = wb["Master Schedule"]
    head = {c.value: c.column_letter for c in ws[2]}
    edited = 0
    for row in range(3, ws.max_row + 1):
        name = str(ws[f"{head['Task Name']}{row}"].value or "")
        if "Validate updated CONOPS" in name:
            ws[f"{head['% Complete']}{row}"] = 50
            ws[f"{head['Start']}{row}"] = D(2026, 10, 1)
            ws[f"{head['Finish']}{row}"] = D(2026, 11, 15)
            edited += 1
    assert edited == 1
    wb.save(written)
    _pack(tmp_path, book, written, templates=[tmp_path / "official"])
    st = load_engagement(tmp_path / "engagement.yaml", book, written).activity_status("3.14.4")
    assert (st.percent_complete, st.finish, st.status) == (50, D(2026, 11, 15), "R")


def test_unknown_key_task_reported_with_the_other_problems(playbook, tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nas_of: 2026-13-01\nscope: {key_tasks: [9.9]}\n")
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook)
    assert [(d.line, d.col) for d in info.value.diagnostics] == [(3, 8), (4, 21)]
    assert "key task 9.9 in 'scope' is not in the playbook" in str(info.value)


def test_mspdi_entities_are_refused(tmp_path):
    """An XML schedule cannot make m3docs read another file, nor expand an entity bomb."""
    secret = tmp_path / "secret.txt"
    secret.write_text("Validate updated CONOPS with key stakeholders")
    path = tmp_path / "ims.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY s SYSTEM '
                    f'"{secret.as_uri()}">]>\n<Project xmlns="http://schemas.microsoft.com/'
                    'project"><Tasks>\n<Task><Name>&s;</Name><OutlineLevel>1</OutlineLevel>'
                    '<PercentComplete>50</PercentComplete></Task>\n</Tasks></Project>\n')
    rows, diags = read_schedule(path)
    assert rows == [] and [str(d) for d in diags] == [
        f"{path}:2: error: a DOCTYPE or ENTITY declaration is not allowed in a schedule"]


def test_a_workbook_that_is_no_workbook_or_a_zip_bomb_is_refused(tmp_path, monkeypatch):
    import docx

    from m3docs.ooxml import package
    doc = tmp_path / "ims.xlsx"
    docx.Document().save(doc)   # a Word file named .xlsx
    assert "not a .xlsx file" in str(read_schedule(doc)[1][0])
    book = tmp_path / "big.xlsx"
    ws = openpyxl.Workbook()
    ws.active.append(["Task Name", "% Complete", "Start", "Finish"])
    ws.active.append(["x" * 5000, 10, None, None])
    ws.save(book)
    monkeypatch.setattr(package, "MAX_PART_BYTES", 4000)
    (diag,) = read_schedule(book)[1]
    assert str(diag).startswith(f"{book}: error: cannot read the workbook: part ")
    assert "zip bomb" in str(diag)


def test_engagement_and_schedule_errors_come_together(playbook, tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\nformat: {}\nschedule: gone.xlsx\n")
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{path}:4:1: error: unknown key 'format' in 'engagement'; did you mean 'formats'? "
        "(known: agency, program, provider, as_of, version, leads, people, scope, status, "
        "requirements, templates, formats, placeholders, schedule)",
        f"{path}:5:11: error: schedule file {tmp_path / 'gone.xlsx'} not found"]
    ims = master_schedule(tmp_path / "ims.xlsx", playbook)
    wb = openpyxl.load_workbook(ims)
    wb.active["F4"] = "tomorrow"
    wb.save(ims)
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook, schedule=ims)
    assert [d.where for d in info.value.diagnostics] == [f"{path}:4:1",
                                                         f"{ims}:Master Schedule!F4"]


def test_every_activity_of_the_sample_playbook_matches_by_name(corpus, tmp_path):
    """The real sample: key-task rows by name, activity rows by text under them (one key task
    lists the same text twice: each row takes its own activity)."""
    book = load_playbook(corpus)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Task Name", "% Complete", "Start", "Finish"])
    for kt in book.key_tasks:
        ws.append([kt.name.upper()])
        for act in kt.activities:
            ws.append([act.text.plain, 60, D(2026, 11, 1), D(2026, 12, 1)])
            ws.cell(ws.max_row, 1).alignment = Alignment(indent=1)
    wb.save(tmp_path / "ims.xlsx")
    status, notes = load_schedule(tmp_path / "ims.xlsx", book, AS_OF)
    assert list(status.activities) == [f"{kt.id}.{a.number}" for kt in book.key_tasks
                                       for a in kt.activities]
    assert set(status.tasks) == {kt.id for kt in book.key_tasks} and notes == []
    assert {a.status for a in status.activities.values()} == {"G"}


def test_validate_checks_the_schedule_given_beside_the_engagement(playbook, tmp_path, capsys):
    """`validate --engagement E --schedule S` reads S with E (not E alone)."""
    master_schedule(tmp_path / "ims.xlsx", playbook)
    path = tmp_path / "engagement.yaml"
    path.write_text("agency: A\nprogram: P\nas_of: 2026-11-24\n")
    assert main(["validate", "--engagement", str(path), "--schedule",
                 str(tmp_path / "ims.xlsx")]) == 0
    assert "7 activities of 1 key tasks matched" in capsys.readouterr().out
    (tmp_path / "plan.mpp").write_bytes(b"\xd0\xcf\x11\xe0")
    assert main(["validate", "--engagement", str(path), "--schedule",
                 str(tmp_path / "plan.mpp")]) == 1
    assert "XML" in capsys.readouterr().err
