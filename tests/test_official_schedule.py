"""A schedule-shaped official workbook (the family's Master Schedule) is filled by its outline:
every template row stays, in order; each in-scope key task's activities go in beneath it,
one level deeper, with their IMS numbers; phase roll-ups grow over them."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from m3docs import load_playbook
from m3docs.engagement import Engagement, TaskStatus
from m3docs.ooxml.package import Template
from m3docs.plan import Deliverable, Document
from m3docs.renderers.official import fill_official

COLUMNS = ("Phase", "Task Name", "Duration", "% Complete", "Start", "Finish", "Actual Start",
           "Actual Finish", "Predecessors", "Successors", "Resource Type")
PROJECT = "<<Name of the Migration Project>>"
BLANK_ROWS = 990
IN_SCOPE_PHASES = (1, 2)
# Key tasks of phases 3-5 that the sample playbook lacks: rows that match nothing.
LATER = {3: ["3.1 Conduct Engagement Kickoff ", "3.14  Finalize Target State Concept of "
                                                 "Operations"],
         4: [" 4.1 Prepare for Migration"], 5: ["5.1  Operate and Improve  "]}
_IMS = re.compile(r"^\d+\.\d+\.\d+ ")


def _spaced(kt, n: int) -> str:
    """The real templates' irregular spacing: leading and trailing blanks, double spaces,
    other case, and a name without its number."""
    return (f"{kt.id}  {kt.name}", f" {kt.id} {kt.name.upper()} ", f"{kt.id} {kt.name}  ",
            f"  {kt.name.lower()}")[n % 4]


def master_schedule(path: Path, playbook) -> Path:
    """A Master Schedule in the family's shape: a project row, six phase rows with =SUM
    roll-ups over their key-task rows, key-task rows across all six phases (outline levels
    and indentation), 990 formatted blank rows below, a validation and a conditional format."""
    import openpyxl
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Master Schedule"
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, text in enumerate(COLUMNS, 1):
        cell = ws.cell(1, col, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3864")
    ws.cell(2, 2, PROJECT).font = Font(bold=True)
    r = 3
    day = dt.date(2027, 1, 4)
    for phase in range(6):
        top = r
        ws.cell(r, 1, str(phase))
        name = playbook.phase(phase).name
        ws.cell(r, 2, (f"Phase {phase}: {name}", f" Phase {phase}  -  {name} ", f"{name}",
                       f"{phase} {name}", f"PHASE {phase} {name.upper()}",
                       f"Phase {phase}: {name}  ")[phase])
        ws.cell(r, 2).font = Font(bold=True)
        ws.cell(r, 2).alignment = Alignment(indent=1)
        ws.row_dimensions[r].outline_level = 1
        tasks = [_spaced(kt, i) for i, kt in enumerate(playbook.in_phase(phase))] \
            or LATER[phase]
        for text in tasks:
            r += 1
            ws.cell(r, 1, str(phase))
            ws.cell(r, 2, text).alignment = Alignment(indent=2)
            ws.cell(r, 3, 10)
            ws.cell(r, 5, day).number_format = "m/d/yyyy"
            ws.cell(r, 6, day + dt.timedelta(days=13)).number_format = "m/d/yyyy"
            ws.cell(r, 11, "Customer")
            ws.row_dimensions[r].outline_level = 2
            day += dt.timedelta(days=14)
        ws.cell(top, 4, f"=SUM(D{top + 1}:D{r})")
        ws.cell(top, 3, f"=SUM(C{top + 1}:C{r})")
        r += 1
    for row in range(r, r + BLANK_ROWS):
        for col in range(1, len(COLUMNS) + 1):
            ws.cell(row, col).border = box
        ws.cell(row, 4).number_format = "0%"
        ws.cell(row, 5).number_format = ws.cell(row, 6).number_format = "m/d/yyyy"
    dv = DataValidation(type="list", formula1='"Customer,Provider,Shared,QSMO"')
    dv.add(f"K2:K{r + BLANK_ROWS - 1}")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add(f"D2:D{r + BLANK_ROWS - 1}", CellIsRule(
        operator="equal", formula=["1"], fill=PatternFill("solid", fgColor="C6EFCE")))
    ws.sheet_format.outlineLevelRow = 2
    ws.column_dimensions["B"].width = 60
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def sample(corpus):
    return load_playbook(corpus)


@pytest.fixture(scope="module")
def filled(sample, tmp_path_factory):
    """(template path, filled bytes, engagement, scope ids)."""
    path = master_schedule(tmp_path_factory.mktemp("ims") / "Master-Schedule.xlsx", sample)
    scope = tuple(kt.id for kt in sample.key_tasks if kt.phase in IN_SCOPE_PHASES)
    eng = Engagement("U.S. Department of Examples", "Financial Management Modernization",
                     status={"1.2": TaskStatus(percent_complete=40, status="G",
                                               start=dt.date(2027, 2, 1),
                                               finish=dt.date(2027, 3, 15))})
    owners = tuple(kt for kt in sample.key_tasks if kt.id in ("1.2", "2.3"))
    doc = Document(Deliverable("ims", "Initial Master Schedule", ("Initial Master Schedule",),
                               path.name, "generic", "xlsx"), 1, "Version 1", owners, (),
                   scope=scope)
    return path, fill_official(doc, Template(path), eng, sample).data, eng, set(scope)


def _values(ws, r: int) -> list:
    return [ws.cell(r, c).value for c in range(1, len(COLUMNS) + 1)]


def _books(filled):
    import openpyxl
    path, data, _, _ = filled
    return openpyxl.load_workbook(path).active, openpyxl.load_workbook(io.BytesIO(data)).active


def _template_rows(after) -> list[int]:
    """The filled sheet's rows that are not inserted activity rows."""
    return [r for r in range(1, after.max_row + 1)
            if not _IMS.match(str(after.cell(r, 2).value or ""))]


def test_every_template_row_stays_in_order(filled):
    before, after = _books(filled)
    kept = _template_rows(after)
    assert len(kept) == before.max_row >= BLANK_ROWS + 30
    for old, new in zip(range(1, before.max_row + 1), kept):
        want, got = _values(before, old), _values(after, new)
        if old == 2:
            assert want[1] == PROJECT and got[1] == filled[2].program
            continue
        if isinstance(want[2], str) and want[2].startswith("="):   # roll-ups: checked below
            want, got = want[:2] + want[4:], got[:2] + got[4:]
        assert got == want, (old, new)
        assert after.row_dimensions[new].outline_level == before.row_dimensions[old].outline_level


def test_activities_sit_beneath_their_key_tasks(filled, sample):
    before, after = _books(filled)
    scope = filled[3]
    seen = set()
    for r in _template_rows(after):
        text = " ".join(str(after.cell(r, 2).value or "").split()).lower()
        kt = next((k for k in sample.key_tasks if text in (f"{k.id} {k.name}".lower(),
                                                          k.name.lower())), None)
        if kt is None:
            continue
        seen.add(kt.id)
        below = [_values(after, r + 1 + i) for i in range(len(kt.activities))]
        if kt.id not in scope:   # outside the scope: the next template row follows
            assert not _IMS.match(str(after.cell(r + 1, 2).value or ""))
            continue
        assert [v[1] for v in below] == [f"{kt.id}.{a.number} {a.text.plain}"
                                         for a in kt.activities]
        assert not _IMS.match(str(after.cell(r + 1 + len(kt.activities), 2).value or ""))
        for i, act in enumerate(kt.activities):
            row = r + 1 + i
            assert below[i][0] == str(kt.phase)
            assert below[i][10] == " / ".join(p.label for p in act.parties)   # the content model's rule
            assert after.row_dimensions[row].outline_level == 3
            assert after.cell(row, 2).alignment.indent == 3
        if kt.id == "1.2":
            assert [below[0][3], below[0][4].date(), below[0][5].date()] == \
                [0.4, dt.date(2027, 2, 1), dt.date(2027, 3, 15)]
            assert after.cell(r + 1, 4).number_format == "0%"
        else:
            assert below[0][3] is None and below[0][4] is None
    assert seen == {kt.id for kt in sample.key_tasks}   # every key-task row was found


def test_phase_roll_ups_cover_their_rows(filled):
    _, after = _books(filled)
    phases = [r for r in _template_rows(after) if str(after.cell(r, 4).value or "")
              .startswith("=SUM")]
    assert len(phases) == 6
    ends = phases[1:] + [next(r for r in range(phases[-1] + 1, after.max_row + 2)
                              if not after.cell(r, 2).value)]
    for top, nxt in zip(phases, ends):
        last = max(r for r in range(top + 1, nxt) if after.cell(r, 2).value)
        assert after.cell(top, 4).value == f"=SUM(D{top + 1}:D{last})"
        assert after.cell(top, 3).value == f"=SUM(C{top + 1}:C{last})"


def test_ranges_cover_the_grown_sheet(filled, sample):
    before, after = _books(filled)
    grown = after.max_row - before.max_row
    assert grown == sum(len(kt.activities) for kt in sample.key_tasks if kt.id in filled[3])
    dv = after.data_validations.dataValidation[0]
    assert str(dv.sqref) == f"K2:K{after.max_row}"
    assert [str(r.sqref) for r in after.conditional_formatting] == [f"D2:D{after.max_row}"]


def test_schedule_opens_in_libreoffice(filled, tmp_path):
    """The filled schedule converts to a PDF that shows its outline (skipped without
    LibreOffice, except in CI)."""
    from m3docs.pdf import convert, find_soffice
    from test_libreoffice import pdf_text
    if find_soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI but was not found")
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "Master Schedule.xlsx"
    out.write_bytes(filled[1])
    (pdf,) = convert([out])
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    if text is not None:
        flat = " ".join(text.split())
        assert filled[2].program in flat and "1.2.1 " in flat and "Phase 0: Assessment" in flat


def test_a_pack_fills_the_schedule_with_its_scope(sample, corpus, tmp_path):
    """Through a pack, the schedule takes the activities of every key task in the pack's scope
    (not only the key tasks that output it); the rest of the outline stays."""
    import openpyxl

    from m3docs import build_pack
    from m3docs.engagement import example_engagement
    name = next(ref.filename for kt in sample.key_tasks for ref in kt.outputs
                if ref.filename and "Master-Schedule" in ref.filename)
    folder = tmp_path / "templates"
    folder.mkdir()
    master_schedule(folder / name, sample)
    report = build_pack(sample, example_engagement(), tmp_path / "pack", phases=[2],
                        templates=[folder])
    entry = next(d for d in report.documents if d["template"] == name)
    ws = openpyxl.load_workbook(tmp_path / "pack" / entry["path"]).active
    ims = {str(ws.cell(r, 2).value).split()[0] for r in range(1, ws.max_row + 1)
           if _IMS.match(str(ws.cell(r, 2).value or ""))}
    assert ims == {f"{kt.id}.{a.number}" for kt in sample.in_phase(2) for a in kt.activities}


def test_context_sheet_does_not_repeat_placed_activities(filled):
    import openpyxl

    from m3docs.annotate.tables import ACTIVITIES_PLACED
    wb = openpyxl.load_workbook(io.BytesIO(filled[1]))
    texts = [c for row in wb[wb.sheetnames[-1]].iter_rows(values_only=True) for c in row if c]
    assert wb.sheetnames[-1] == "Key Task Context" and ACTIVITIES_PLACED in texts
    assert "1.2.1" not in texts   # the activity tables are the schedule's rows


def test_an_id_column_takes_the_ims_numbers(playbook, tmp_path):
    """A schedule with an ID column (and no outline levels or indentation) gets the IMS
    numbers there and the activities' texts under Task Name; its header stays as it was."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    header = ["ID", "Task Name", "Start", "Finish", "% Complete", "Resource Names"]
    ws.append(header)
    kt = playbook.key_task("3.14")
    for row in (["", "[Program Name]"], ["3", "Engagement"], ["3.14", kt.name],
                ["", "Weekly status meeting"], ["4", "Migration"]):
        ws.append(row)
    path = tmp_path / "schedule.xlsx"
    wb.save(path)
    eng = Engagement("A", "Financial Management Modernization",
                     status={"3.14": TaskStatus(finish=dt.date(2027, 5, 3))})
    doc = Document(Deliverable("ims", "IMS", ("IMS",), path.name, "generic", "xlsx"), 3,
                   "Version 1", (kt,), ())
    out = openpyxl.load_workbook(io.BytesIO(fill_official(doc, Template(path), eng,
                                                          playbook).data)).active
    assert [c.value for c in out[1]] == header
    n = len(kt.activities)
    assert [out.cell(r, 1).value for r in range(5, 5 + n)] == \
        [f"3.14.{a.number}" for a in kt.activities]
    assert [out.cell(r, 2).value for r in range(5, 5 + n)] == \
        [a.text.plain for a in kt.activities]
    assert out.cell(5, 4).value.date() == dt.date(2027, 5, 3) and out.cell(5, 3).value is None
    assert out.cell(2, 2).value == "Financial Management Modernization"
    assert [out.cell(r, 2).value for r in (5 + n, 6 + n)] == ["Weekly status meeting",
                                                              "Migration"]


def test_leading_spaces_are_the_indentation_when_nothing_else_is(playbook, tmp_path):
    """A schedule that indents by leading spaces only (no outline levels, no indent style):
    the activities go in one step deeper, by spaces, with their IMS numbers; the project row's
    blank takes the program's name."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Task Name", "Start", "Finish", "Resource Type"])
    kt = playbook.key_task("3.14")
    for text in ("<<Name of the Migration Project>>", "Phase 3", f"   3.14 {kt.name}",
                 "Phase 4"):
        ws.append([text])
    path = tmp_path / "spaces.xlsx"
    wb.save(path)
    eng = Engagement("A", "Financial Management Modernization")
    doc = Document(Deliverable("ims", "IMS", ("IMS",), path.name, "generic", "xlsx"), 3,
                   "Version 1", (kt,), ())
    out = openpyxl.load_workbook(io.BytesIO(fill_official(doc, Template(path), eng,
                                                          playbook).data)).active
    n = len(kt.activities)
    assert out.cell(2, 1).value == "Financial Management Modernization"
    texts = [out.cell(r, 1).value for r in range(5, 5 + n)]
    assert texts == [f"      3.14.{a.number} {a.text.plain}" for a in kt.activities]
    assert [out.cell(r, 4).value for r in range(5, 5 + n)] == \
        [" / ".join(p.label for p in a.parties) for a in kt.activities]
    assert out.cell(5 + n, 1).value == "Phase 4"


def test_a_phase_column_of_numbers_stays_numbers(playbook, tmp_path):
    """The template writes its Phase column as numbers: the activity rows do too (a text
    "3" beside numbers sorts, filters and sums apart from them)."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Phase", "Task Name", "Start", "Finish"])
    kt = playbook.key_task("3.14")
    for phase, text in ((None, "<<Name of the Migration Project>>"), (3, "Phase 3: Engagement"),
                        (3, f"3.14 {kt.name}"), (4, "Phase 4: Migration")):
        ws.append([phase, text])
    path = tmp_path / "numbers.xlsx"
    wb.save(path)
    doc = Document(Deliverable("ims", "IMS", ("IMS",), path.name, "generic", "xlsx"), 3,
                   "Version 1", (kt,), ())
    out = openpyxl.load_workbook(io.BytesIO(fill_official(
        doc, Template(path), Engagement("A", "P"), playbook).data)).active
    n = len(kt.activities)
    assert [out.cell(r, 1).value for r in range(3, 6 + n)] == [3, 3] + [3] * n + [4]
    assert out.cell(5, 2).value.startswith("3.14.1 ")


def test_a_second_schedule_of_the_pack_is_the_same_sheet_made_once(filled, sample,
                                                                   monkeypatch):
    """Another document of the pack (another key task, same scope) reads the same programme:
    its schedule sheet is the first one's render taken again, and the same bytes as a fresh
    render (memo and deflate memory emptied)."""
    import zipfile
    from m3docs.engine import core, memo
    renders: list[int] = []

    def counted(template, context):
        renders.append(1)
        return memo.render_reading(template, context)
    monkeypatch.setattr(core, "render_reading", counted)
    path, data, eng, scope = filled
    owners = tuple(kt for kt in sample.key_tasks if kt.id == "2.1")
    doc = Document(Deliverable("ims", "Master Schedule", ("Master Schedule",), path.name,
                               "generic", "xlsx"), 2, "Version 2", owners, (),
                   scope=tuple(sorted(scope, key=lambda i: sample.key_task(i).sort_key)))
    template = Template(path)
    first = fill_official(replace(doc, outputs_of=tuple(
        kt for kt in sample.key_tasks if kt.id in ("1.2", "2.3"))), template, eng, sample).data
    done = len(renders)
    second = fill_official(doc, template, eng, sample).data
    taken_again = len(renders) - done
    renders.clear()
    memo.MEMO.clear()
    fresh = fill_official(doc, template, eng, sample).data
    assert taken_again < len(renders)     # the schedule sheet was not rendered again

    def sheet(blob: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            return z.read("xl/worksheets/sheet1.xml")
    assert sheet(second) == sheet(first) == sheet(data) == sheet(fresh)
    assert second == fresh
