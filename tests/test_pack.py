"""The engagement pack: planning, manifest, reproducibility, safe reruns."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from m3docs import M3DocsError, load_engagement, load_playbook
from m3docs.engagement import example_engagement
from m3docs.pack import MANIFEST, TRACKER, build_pack

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "engagement.yaml"


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def example_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    book = load_playbook()
    report = build_pack(book, load_engagement(EXAMPLE, book), out)
    return out, report


def test_example_pack_has_the_three_core_documents(example_pack):
    out, report = example_pack
    manifest = json.loads((out / MANIFEST).read_text())
    docs = {d["title"]: d for d in manifest["documents"]}
    assert docs["Target State Concept of Operations"]["format"] == "docx"
    assert docs["Requirements Traceability Matrix (RTM)"]["format"] == "xlsx"
    assert docs["Status Reports/Dashboards"]["format"] == "pptx"
    assert docs["Status Reports/Dashboards"]["outputs_of"] == ["3.14"]
    assert docs["Requirements Traceability Matrix (RTM)"]["inputs_of"] == ["3.14"]
    for d in manifest["documents"]:
        path = out / d["path"]
        assert path.is_file() and "\\" not in d["path"] and not d["path"].startswith("/")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == d["sha256"]
        assert d["official"] is False and d["template"]
        assert d["title"] in d["titles"]
    assert manifest["engagement"]["agency"] == "U.S. Department of Examples"
    assert manifest["m3docs_version"]
    assert (out / TRACKER).is_file()


def test_rerun_is_byte_identical_and_unchanged(example_pack, tmp_path):
    out, _ = example_pack
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    report = build_pack(book, eng, tmp_path)
    assert digests(tmp_path) == digests(out)
    again = build_pack(book, eng, tmp_path)
    assert again.written == [] and len(again.unchanged) == len(report.written)


def test_edited_document_survives_and_force_replaces(tmp_path):
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    build_pack(book, eng, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    target = tmp_path / manifest["documents"][0]["path"]
    target.write_bytes(b"edited by the program office")
    changed = load_engagement(EXAMPLE, book)
    object.__setattr__(changed, "version", "2.0")
    report = build_pack(book, changed, tmp_path)
    assert manifest["documents"][0]["path"] in report.kept
    assert target.read_bytes() == b"edited by the program office"
    forced = build_pack(book, changed, tmp_path, force=True)
    assert manifest["documents"][0]["path"] in forced.written
    assert target.read_bytes() != b"edited by the program office"


def test_scope_flags_and_unknown_key_task(tmp_path):
    book = load_playbook()
    with pytest.raises(M3DocsError, match="9.99"):
        build_pack(book, example_engagement(), tmp_path, key_tasks=["9.99"])


def test_sample_playbook_pack_covers_every_output(corpus, tmp_path):
    book = load_playbook(corpus)
    build_pack(book, example_engagement(), tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    for kt in book.key_tasks:
        for ref in kt.outputs:
            assert any(ref.title.plain in d["titles"] and kt.id in d["outputs_of"]
                       for d in manifest["documents"]), (kt.id, ref.title.plain)
            if ref.filename:
                ext = ref.filename.rsplit(".", 1)[1].lower()
                fmt = {"xlsm": "xlsx"}.get(ext, ext)
                d = next(d for d in manifest["documents"] if ref.title.plain in d["titles"])
                assert d["format"] == fmt
    paths = [d["path"] for d in manifest["documents"]]
    assert len({p.lower() for p in paths}) == len(paths)


def test_jobs_give_the_same_bytes(corpus, tmp_path):
    book = load_playbook(corpus)
    eng = example_engagement()
    build_pack(book, eng, tmp_path / "one", phases=[1])
    build_pack(book, eng, tmp_path / "two", phases=[1], jobs=2)
    assert digests(tmp_path / "one") == digests(tmp_path / "two")


def test_work_is_split_in_key_task_order_by_phase(corpus):
    from m3docs.pack import _runs, make_plan, render_order
    plan = make_plan(load_playbook(corpus), example_engagement())
    order = render_order(plan.docs)
    assert sorted(order) == list(range(len(plan.docs)))
    keys = [(plan.docs[i].phase, min(kt.sort_key for kt in plan.docs[i].key_tasks))
            for i in order]
    assert keys == sorted(keys) and len({k[0] for k in keys}) > 1
    runs = _runs([plan.docs[i] for i in order], 12)
    assert sorted(k for run in runs for k in run) == list(range(len(order)))
    assert all(len({plan.docs[order[k]].phase for k in run}) == 1 for run in runs)
    # The smallest runs go last, one document each, so that the workers finish together.
    from m3docs.pack import TAIL_SHARE, _cost
    costs = [_cost(plan.docs[i]) for i in order]

    def split_at(p: int) -> bool:
        whole = [sum(costs[k] for k in r) for r in runs[:p]]
        singles = [r.start for r in runs[p:]]
        return (whole == sorted(whole, reverse=True) and len(whole) > 1
                and all(len(r) == 1 for r in runs[p:]) and singles == sorted(singles)
                and 0 < sum(costs[k] for k in singles) <= TAIL_SHARE * sum(costs)
                < sum(costs[k] for k in singles) + whole[-1])  # as many as the share holds
    assert any(split_at(p) for p in range(len(runs)))


def test_cli_pack_demo(tmp_path):
    res = subprocess.run([sys.executable, "-m", "m3docs", "pack", "--out", str(tmp_path / "p")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "written" in res.stdout and (tmp_path / "p" / MANIFEST).is_file()


def test_cli_pack_bad_engagement_is_one_line(tmp_path):
    bad = tmp_path / "e.yaml"
    bad.write_text("agency: A\nprogram: P\nstatsu: {}\n")
    res = subprocess.run([sys.executable, "-m", "m3docs", "pack", "--engagement", str(bad),
                          "--out", str(tmp_path / "p")], capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"{bad}:3:1: error: unknown key 'statsu'" in res.stderr
    assert not (tmp_path / "p").exists()


def test_render_one_document_through_the_api(tmp_path):
    import docx

    import m3docs
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    entry = m3docs.render("Target State CONOPS", book, eng, tmp_path / "conops.docx")
    assert entry["format"] == "docx" and entry["outputs_of"] == ["3.14"]
    text = "\n".join(p.text for p in docx.Document(tmp_path / "conops.docx").paragraphs)
    assert "U.S. Department of Examples" in text and "Finalize Target State" in text
    with pytest.raises(M3DocsError, match="no deliverable"):
        m3docs.render("Nonexistent Plan", book, eng, tmp_path / "x.docx")


def test_a_folder_where_a_document_goes_is_kept_then_a_clear_error(tmp_path):
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    first = build_pack(book, eng, tmp_path)
    rel = first.documents[0]["path"]
    (tmp_path / rel).unlink()
    (tmp_path / rel).mkdir()
    assert rel in build_pack(book, eng, tmp_path).kept
    with pytest.raises(M3DocsError, match="cannot replace"):
        build_pack(book, eng, tmp_path, force=True)
    assert (tmp_path / rel).is_dir()


def test_a_symlinked_phase_folder_leading_out_is_refused(tmp_path):
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    out, elsewhere = tmp_path / "pack", tmp_path / "elsewhere"
    first = build_pack(book, eng, out)
    folder = (out / first.documents[0]["path"]).parent
    assert folder != out
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    elsewhere.mkdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(M3DocsError, match="refusing to write outside"):
        build_pack(book, eng, out, force=True)
    assert list(elsewhere.iterdir()) == []


def test_a_document_replaced_by_a_symlink_is_never_written_through(tmp_path):
    book = load_playbook()
    eng = load_engagement(EXAMPLE, book)
    out, secret = tmp_path / "pack", tmp_path / "secret.txt"
    first = build_pack(book, eng, out)
    target = out / first.documents[0]["path"]
    target.unlink()
    secret.write_bytes(b"not ours")
    target.symlink_to(secret)
    assert first.documents[0]["path"] in build_pack(book, eng, out).kept
    assert target.is_symlink()
    assert first.documents[0]["path"] in build_pack(book, eng, out, force=True).written
    assert not target.is_symlink() and target.read_bytes()[:2] == b"PK"
    assert secret.read_bytes() == b"not ours"


def test_a_key_task_without_documents_is_warned_and_tracked(write_page, tmp_path):
    write_page("---\nphase: 3\nkeyTask: 1\nname: Plan It\nobjective: o\n"
               "outputs: [Vision Statement]\n---\n", "3.1.md")
    write_page("---\nphase: 3\nkeyTask: 2\nname: Meet Often\nobjective: o\n"
               "activities:\n  - text: Hold the meeting\n    responsibleParty: shared\n"
               "inputs: []\nstakeholders:\n  - text: Executive Sponsor\n"
               "    responsibleParty: customer\n---\n", "3.2.md")
    book = load_playbook(tmp_path)
    report = build_pack(book, example_engagement(), tmp_path / "out")
    idle = [w for w in report.warnings if w.startswith("key task 3.2")]
    assert idle == ["key task 3.2 Meet Often: no document (it lists no output and no input "
                    "with a template); the tracker lists it"]
    assert not any(w.startswith("key task 3.1") for w in report.warnings)
    import openpyxl
    wb = openpyxl.load_workbook(tmp_path / "out" / TRACKER)
    assert [c.value for c in wb["RACI"][3]][1:] == ["3.1", "3.2"]


def test_cli_pack_prints_the_playbook_warnings(write_page, tmp_path):
    write_page("---\nphase: 1\nkeyTask: 1\nname: N\nobjective: o\noutputs: [Vision Statement]\n"
               "activitiesGroups:\n  - group: Hollow\n    activities: []\n---\n")
    res = subprocess.run([sys.executable, "-m", "m3docs", "pack", "--playbook", str(tmp_path),
                          "--out", str(tmp_path / "p"), "--quiet"],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    (line,) = [l for l in res.stderr.splitlines() if "Hollow" in l]
    assert line.startswith(str(tmp_path / "_pages" / "m3" / "keyTask" / "1.1.md") + ":8:")
    assert ": warning: " in line


def test_the_api_expands_a_home_folder_as_the_shell_would(tmp_path, monkeypatch):
    from m3docs.playbook.loader import bundled_playbook_path
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    shutil.copytree(bundled_playbook_path(), home / "m3-playbook")
    shutil.copy(EXAMPLE, home / "eng.yaml")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    book = load_playbook("~/m3-playbook")
    eng = load_engagement("~/eng.yaml", book)
    (home / "templates").mkdir()
    report = build_pack(book, eng, "~/pack", templates=["~/templates"])
    assert report.written and (home / "pack" / MANIFEST).is_file()
    assert list(cwd.iterdir()) == []


def test_a_phase_without_its_page_takes_the_playbook_s_phase_name(corpus, tmp_path):
    page = next((corpus / "_pages" / "m3" / "keyTask").glob("1.*.md"))
    book = load_playbook(page)
    assert [(ph.number, ph.name) for ph in book.phases] == [(1, "Readiness")]
    report = build_pack(book, example_engagement(), tmp_path)
    assert {d["path"].split("/")[0] for d in report.documents} == {"Phase 1 Readiness"}


def test_cli_refuses_a_phase_without_key_tasks_and_jobs_below_one(tmp_path, capsys):
    from m3docs.cli import main
    assert main(["pack", "--out", str(tmp_path / "a"), "--phase", "9"]) == 1
    err = capsys.readouterr().err
    assert "phase 9 has no key tasks in the playbook" in err and "Traceback" not in err
    for jobs in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as stop:
            main(["pack", "--out", str(tmp_path / "b"), "--jobs", jobs])
        assert stop.value.code == 2
        assert "is not a whole number of 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_phase_folders_never_repeat_the_number():
    from m3docs.paths import folder_name
    assert folder_name(1, "Readiness") == "Phase 1 Readiness"
    assert folder_name(7, "Phase 7") == "Phase 7" and folder_name(7, " phase  7") == "Phase 7"


def test_a_misspelt_title_under_formats_or_templates_is_an_error_at_its_line(tmp_path):
    book = load_playbook()
    path = tmp_path / "eng.yaml"
    path.write_text("agency: A\nprogram: P\nformats:\n  Target State Concept of Operations: docx\n"
                    "  Concept of Operashuns: xlsx\ntemplates:\n  Status Reprots: s.pptx\n")
    eng = load_engagement(path, book)
    with pytest.raises(M3DocsError) as info:
        build_pack(book, eng, tmp_path / "out")
    assert [(d.line, d.col) for d in info.value.diagnostics] == [(5, 3), (7, 3)]
    assert "'Concept of Operashuns' names no deliverable" in str(info.value.diagnostics[0])
    assert not (tmp_path / "out").exists()
    path.write_text("agency: A\nprogram: P\nformats:\n  target state concept-of-operations: docx\n")
    assert build_pack(book, load_engagement(path, book), tmp_path / "out").written


def test_a_misspelt_people_role_is_warned_with_the_role_it_resembles(tmp_path):
    book = load_playbook()
    role = book.key_tasks[0].stakeholders[0].role.plain
    typo = role[:-2] + role[-1]  # one letter dropped
    path = tmp_path / "eng.yaml"
    path.write_text(f"agency: A\nprogram: P\npeople:\n  Chief Sign-off Officer: {{customer: Sam}}\n"
                    f"  {typo}: {{customer: Jo}}\n")
    report = build_pack(book, load_engagement(path, book), tmp_path / "out")
    hits = [str(w) for w in report.notes if "people:" in w.message]
    assert hits == [f"{path}:5:3: warning: people: {typo!r} is no stakeholder role of the playbook; "
                    f"did you mean {role!r}? (as written, its people only sign as approvers)"]


MACRO_PAGE = """---
layout: m3/keyTask
phase: 3
keyTask: 1
name: Track Action Items
objective: Keep an action item log.
responsibleParty: customer
activities:
  - text: Log every action item
    responsibleParty: customer
outputs:
  - text: Action Item Log
    filename: M3-Action-Item-Log.xlsm
---
"""


def test_manifest_format_is_the_files_own_type(write_page, tmp_path):
    """An official macro workbook is written as .xlsm and the manifest says xlsm (a consumer
    filtering by format finds it); the API's entry says the same."""
    import m3docs
    from fixtures_official import excel_log
    write_page(MACRO_PAGE, "3.1.md")
    templates = tmp_path / "templates"
    templates.mkdir()
    excel_log(templates / "M3-Action-Item-Log.xlsm", macro=True)
    book = load_playbook(tmp_path)
    eng = example_engagement()
    report = build_pack(book, eng, tmp_path / "pack", templates=[templates])
    entry = next(d for d in report.documents if d["title"] == "Action Item Log")
    assert entry["official"] and entry["path"].endswith(".xlsm") and entry["format"] == "xlsm"
    manifest = json.loads((tmp_path / "pack" / MANIFEST).read_text())
    assert {d["path"]: d["format"] for d in manifest["documents"]}[entry["path"]] == "xlsm"
    api = m3docs.render("Action Item Log", book, eng, tmp_path / "log.xlsm", [templates])
    assert api["format"] == "xlsm"
