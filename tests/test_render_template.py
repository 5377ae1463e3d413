"""m3docs.render_template / check_template and `m3docs render` / `m3docs check-template`:
a user's tagged template filled from the playbook and engagement, or from a data file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest

import m3docs
from m3docs import M3DocsError

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "m3docs", *args], capture_output=True,
                          text=True, cwd=REPO)


@pytest.fixture
def key_task_doc(tmp_path) -> Path:
    d = docx.Document()
    d.add_heading("{{ key_task.id }} {{ key_task.name }}", 1)
    d.add_paragraph("{{ agency }}, {{ program }}, {{ date }}")
    d.add_paragraph("{{r key_task.objective }}")
    t = d.add_table(rows=4, cols=3)
    for c, text in enumerate(("#", "Activity", "Owner")):
        t.cell(0, c).text = text
    t.cell(1, 0).text = "{%tr for a in key_task.activities %}"
    t.cell(2, 0).text, t.cell(2, 1).text, t.cell(2, 2).text = \
        "{{ a.number }}", "{{r a.text }}", "{{ a.owner or a.party }}"
    t.cell(3, 0).text = "{%tr endfor %}"
    d.add_paragraph("{%p for s in key_task.stakeholders %}")
    d.add_paragraph("{{ s.role }}: {{ s.people }}")
    d.add_paragraph("{%p endfor %}")
    path = tmp_path / "kt.docx"
    d.save(path)
    return path


def test_render_fills_a_key_task_from_the_playbook(key_task_doc, tmp_path, playbook, engagement):
    out = tmp_path / "out.docx"
    res = _run("render", str(key_task_doc), "--engagement", "examples/engagement.yaml",
               "--key-task", "3.14", "--out", str(out))
    assert res.returncode == 0, res.stderr
    kt = playbook.key_task("3.14")
    doc = docx.Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == f"3.14 {kt.name}"
    assert texts[1].startswith(f"{engagement.agency}, {engagement.program}, ")
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert [r[0] for r in rows[1:]] == [f"3.14.{i}" for i in range(1, len(kt.activities) + 1)]
    assert rows[1][1] == kt.activities[0].text.plain
    roles = [t.split(":")[0] for t in texts if ":" in t][-len(kt.stakeholders):]
    assert roles == [s.role.plain for s in kt.stakeholders]


def test_render_from_a_data_file_and_the_api(key_task_doc, tmp_path):
    data = {"agency": "Agency & Co <x>", "program": "P", "date": "today",
            "key_task": {"id": "9.9", "name": "N", "objective": "O",
                         "activities": [{"number": "9.9.1", "text": "do", "party": "Customer"}],
                         "stakeholders": []}}
    (tmp_path / "ctx.json").write_text(json.dumps(data))
    res = _run("render", str(key_task_doc), "--data", str(tmp_path / "ctx.json"),
               "--out", str(tmp_path / "a.docx"))
    assert res.returncode == 0, res.stderr
    warnings = m3docs.render_template(key_task_doc, data, tmp_path / "b.docx")
    for name in ("a.docx", "b.docx"):
        doc = docx.Document(str(tmp_path / name))
        assert doc.paragraphs[1].text == "Agency & Co <x>, P, today"
        assert [c.text for c in doc.tables[0].rows[1].cells] == ["9.9.1", "do", "Customer"]
    assert warnings == []
    (tmp_path / "bad.yaml").write_text("agency: [unclosed\n")
    res = _run("render", str(key_task_doc), "--data", str(tmp_path / "bad.yaml"),
               "--out", str(tmp_path / "c.docx"))
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert res.stderr.startswith(f"{tmp_path / 'bad.yaml'}:") and "not valid YAML" in res.stderr
    assert not (tmp_path / "c.docx").exists()


def test_three_errors_in_three_places_in_one_run_and_no_output(tmp_path):
    d = docx.Document()
    d.add_paragraph("{{ agency ) }}")
    d.add_paragraph("fine {{ program }}")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 1).text = "{% if x %}"
    d.sections[0].header.paragraphs[0].text = "{{ ''.__class__.__mro__ }}"
    bad = tmp_path / "bad.docx"
    d.save(bad)
    res = _run("check-template", str(bad))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1 and len(lines) == 3, res.stderr
    assert lines[0] == ("bad.docx: word/document.xml: paragraph 1: error: unexpected ')' in "
                        "{{ agency ) }}")
    assert any("table 1, row 1, cell 2" in l and "{% if x %}" in l for l in lines)
    assert any(l.startswith("bad.docx: word/header") and "refused" in l for l in lines)
    with pytest.raises(M3DocsError) as info:
        m3docs.render_template(bad, {}, tmp_path / "out.docx")
    assert len(info.value.diagnostics) == 3
    assert not (tmp_path / "out.docx").exists()
    res = _run("render", str(bad), "--key-task", "3.14", "--out", str(tmp_path / "o.docx"))
    assert res.returncode == 1 and not (tmp_path / "o.docx").exists()


def test_check_template_lists_the_names_a_template_uses(key_task_doc):
    found = m3docs.check_template(key_task_doc)
    assert found.ok and found.names == ("agency", "date", "key_task", "program")


def test_a_workbook_template_through_the_same_api(tmp_path, playbook, engagement):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws.append(["{{ program }}"])
    ws.append(["{%tr for a in key_task.activities %}"])
    ws.append(["{{ a.number }}", "{{ a.text }}", "{{ a.index }}"])
    ws.append(["{%tr endfor %}"])
    ws.append(["Total", None, "=SUM(C3:C3)"])
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    ctx = m3docs.build_context(playbook, engagement, key_tasks=["3.14"])
    m3docs.render_template(path, ctx, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["Plan"]
    n = len(ctx["key_task"]["activities"])
    assert ws["A1"].value == engagement.program
    assert [ws.cell(r, 1).value for r in range(2, 2 + n)] == \
        [a["number"] for a in ctx["key_task"]["activities"]]
    assert ws.cell(2, 3).value == 1  # a number stays a number
    assert ws.cell(2 + n, 3).value == f"=SUM(C2:C{1 + n})"


def test_not_an_office_file_is_one_line(tmp_path):
    (tmp_path / "t.txt").write_text("x")
    res = _run("check-template", str(tmp_path / "t.txt"))
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "t.txt" in res.stderr
