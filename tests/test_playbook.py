"""The playbook model and loader on the seed, the real sample and every variant."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from m3docs import M3DocsError, Party, check_playbook, load_playbook
from m3docs.playbook.export import playbook_dict

PAGE = """---
layout: m3/keyTask
phase: 1
keyTask: {num}
name: Task {num}
objective: Do <b>the</b> thing with <A HREF="/qsmo">QSMO</A> &amp; friends.
responsibleParty: {party}
category: workforce
{body}
---
"""


def page(num=1, party="customer", body=""):
    return PAGE.format(num=num, party=party, body=textwrap.dedent(body))


def test_bundled_playbook_loads():
    book = load_playbook()
    kt = book.key_task("3.14")
    assert kt.name == "Finalize Target State Concept of Operations"
    assert len(kt.activities) == 7 and kt.activities_text
    assert {s.role.plain for s in kt.stakeholders} >= {"Business Owner", "Program Manager"}
    assert book.phase(3).name == "Engagement"


def test_seed_page_loads_as_one_file(seed_page):
    book = load_playbook(seed_page)
    (kt,) = book.key_tasks
    assert kt.id == "3.14" and kt.workstream == "Process and Service Delivery"
    assert kt.parties == (Party.SHARED,)
    assert [d.filename for d in kt.outputs] == ["M3-Playbook-Target-State-CONOPS-Template.docx",
                                                "M3-Playbook-Status-Report-Dashboard-Template.pptx"]
    assert kt.inputs[1].title.plain == "As-Is Workforce" and kt.inputs[1].filename is None
    assert all(s.parties == (Party.CUSTOMER, Party.PROVIDER) for s in kt.stakeholders)


def test_sample_playbook_loads_everything(corpus):
    book, diags = check_playbook(corpus)
    assert book is not None, [str(d) for d in diags]
    assert [p.number for p in book.phases] == [0, 1, 2, 3, 4, 5]
    pages = sorted((corpus / "_pages/m3/keyTask").glob("*.md"))
    assert len(book.key_tasks) == len(pages)
    ids = [kt.id for kt in book.key_tasks]
    assert ids.index("1.9") < ids.index("1.10")
    for kt in book.key_tasks:
        assert kt.activities and kt.stakeholders and kt.objective and (kt.inputs or kt.outputs)


def test_mis_indented_group_is_repaired_with_a_warning(corpus):
    book, diags = check_playbook(corpus)
    kt = book.key_task("2.1")
    groups = kt.groups
    assert len(groups) == 2 and len(kt.activities) == 8
    assert [len(g.activities) for g in groups] == [4, 4]
    assert groups[1].title.plain.startswith("Commercial Solutions")
    assert groups[0].title.links and groups[0].title.links[0].url.startswith("https://")
    warns = [d for d in diags if not d.is_error and d.path.endswith("2.1.md")]
    assert len(warns) == 1 and warns[0].line == 26


def test_grouped_activities_keep_their_group(corpus):
    kt = load_playbook(corpus).key_task("1.9")
    assert [g.title.plain for g in kt.groups][0] == "Understand the As-Is Systems Environment"
    assert [a.number for a in kt.activities] == list(range(1, len(kt.activities) + 1))


def test_variants(tmp_path, write_page):
    write_page(page(1, "Customer ", """
        activitiesText: Before you start, read <a href="/m3glossary/">the glossary</a>.
        activities:
          - text: Plain activity
            responsibleParty: [ customer, QSMO ]
          - text: Shared one
            responsibleParty: ' Shared'
        inputs:
          - Plain input
          - text: Templated input
            filename: M3-Playbook-Thing-Template.docx
        outputs: [Only output]
        stakeholders:
          - text: Program Manager
            responsibleParty: provider
        bestPractice: [Be <b>bold</b>]
        """))
    (tmp_path / "_pages/m3/keyTask/1.2.yaml").write_text(
        "phase: 1\nkeyTask: 2\nname: From YAML\nobjective: o\noutputs: [x]\n", encoding="utf-8")
    book = load_playbook(tmp_path)
    kt = book.key_task("1.1")
    assert kt.parties == (Party.CUSTOMER,)
    assert kt.activities[0].parties == (Party.CUSTOMER, Party.QSMO)
    assert kt.activities[1].parties == (Party.SHARED,)
    assert kt.activities_text.links[0].url == "https://ussm.gsa.gov/m3glossary/"
    assert kt.inputs[1].filename == "M3-Playbook-Thing-Template.docx"
    assert kt.objective.plain == "Do the thing with QSMO & friends."
    assert [r.bold for r in kt.objective.runs if r.text.strip() == "the"] == [True]
    assert book.key_task("1.2").name == "From YAML"
    assert kt.permalink is None and kt.workstream == "Workforce, Organization, and Stakeholders"


def test_base_url_is_configurable(write_page, tmp_path):
    write_page(page())
    kt = load_playbook(tmp_path, base_url="https://mirror.example.org/m3").key_task("1.1")
    assert kt.objective.links[0].url == "https://mirror.example.org/qsmo"


@pytest.mark.parametrize("body,line,message", [
    ("activities:\n  - text: a\n    responsibleParty: vendor\n", 11, "unknown party 'vendor'"),
    ("activities: just text\n", 9, "must be a list"),
    ("outputs: [a]\noutputs: [b]\n", 10, "duplicate key 'outputs'"),
    ("activities:\n  - text: [1, 2]\n", 10, "needs a 'text'"),
])
def test_errors_name_file_and_line(write_page, tmp_path, body, line, message):
    p = write_page(page(body=body))
    book, diags = check_playbook(tmp_path)
    errors = [d for d in diags if d.is_error]
    assert book is None and errors
    assert errors[0].path == str(p) and errors[0].line == line, errors
    assert message in errors[0].message


def test_missing_fields_and_duplicate_ids(write_page, tmp_path):
    write_page("---\nlayout: m3/keyTask\nphase: 1\nkeyTask: 1\n---\n", "a.md")
    write_page(page(), "b.md")
    write_page(page(), "c.md")
    _, diags = check_playbook(tmp_path)
    msgs = [str(d) for d in diags if d.is_error]
    assert any("a.md:2:1: error: missing required field 'name'" in m for m in msgs)
    assert any("a.md:2:1: error: missing required field 'objective'" in m for m in msgs)
    dup = [m for m in msgs if "duplicate key task id 1.1" in m]
    assert len(dup) == 1 and "b.md" in dup[0] and "c.md" in dup[0]


def test_missing_phase_page_is_a_warning(write_page, tmp_path):
    write_page(page())
    write_page("---\nlayout: m3/phase\nphase: 2\nname: Selection\n---\n", "2.md", "phase")
    book, diags = check_playbook(tmp_path)
    assert book is not None
    assert any("phase 1 has no phase page" in d.message and not d.is_error for d in diags)


def test_an_empty_activities_group_is_a_warning_with_its_line(write_page, tmp_path):
    write_page("---\nphase: 3\nkeyTask: 2\nname: N\nobjective: o\nactivitiesGroups:\n"
               "  - group: Full\n    activities:\n      - text: Do it\n"
               "        responsibleParty: customer\n"
               "  - group: Hollow\n    activities: []\n---\n", "3.2.md")
    book, diags = check_playbook(tmp_path)
    (hollow,) = [d for d in diags if "Hollow" in d.message]
    assert not hollow.is_error and hollow.line == 11
    assert "lists no activities" in hollow.message
    assert [a.text.plain for a in book.key_task("3.2").activities] == ["Do it"]


def test_load_playbook_raises_with_every_problem(write_page, tmp_path):
    write_page(page(1, "nobody"), "a.md")
    write_page("---\nphase: [\n---\n", "b.md")
    with pytest.raises(M3DocsError) as exc:
        load_playbook(tmp_path)
    paths = {d.path.rsplit("/", 1)[-1] for d in exc.value.errors}
    assert paths == {"a.md", "b.md"}


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "m3docs", *args], capture_output=True, text=True)


def test_cli_validate_exit_codes(write_page, tmp_path):
    assert _cli("validate").returncode == 0
    write_page(page(body="outputs: [a]\noutputs: [b]\n"))
    bad = _cli("validate", str(tmp_path))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert ":10:1: error: duplicate key 'outputs'" in bad.stderr
    assert _cli("validate", "--bogus").returncode == 2


def test_cli_list_json_schema(corpus):
    res = _cli("list", str(corpus), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"phases", "key_tasks"}
    kt = next(k for k in data["key_tasks"] if k["id"] == "2.1")
    assert set(kt) == {"id", "phase", "number", "name", "objective", "category", "workstream",
                       "parties", "source", "permalink", "activities_text", "activities",
                       "inputs", "outputs", "stakeholders", "best_practices"}
    act = kt["activities"][0]
    assert set(act) == {"number", "group", "text", "parties", "links"}
    assert act["parties"] == ["customer", "qsmo"] and "<" not in act["text"]
    assert all(l["url"].startswith(("https://", "http://", "mailto:"))
               for k in data["key_tasks"] for a in k["activities"] for l in a["links"])
    assert kt["activities_text"] is None
    assert any(o["filename"] is None for o in kt["outputs"])
    ids = [k["id"] for k in data["key_tasks"]]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("."))))


def test_list_table_is_readable():
    res = _cli("list")
    assert res.returncode == 0 and "3.14" in res.stdout and "Finalize Target State" in res.stdout


def test_export_matches_model():
    data = playbook_dict(load_playbook())
    kt = data["key_tasks"][0]
    assert kt["stakeholders"][0] == {"role": "Business Owner", "parties": ["customer", "provider"]}


def test_text_fields_written_as_lists_or_mappings(write_page, tmp_path):
    write_page(page(body="""
        activitiesText:
          - First line of the intro,
          - second line.
        bestPractice:
          - text: A practice written as a mapping
          - A plain practice
        """))
    kt = load_playbook(tmp_path).key_task("1.1")
    assert kt.activities_text.plain == "First line of the intro, second line."
    assert [b.plain for b in kt.best_practices] == ["A practice written as a mapping",
                                                   "A plain practice"]


def test_cli_base_url_option():
    res = _cli("--base-url", "https://mirror.example.org", "list", "--json")
    urls = [l["url"] for k in json.loads(res.stdout)["key_tasks"] for a in k["activities"]
            for l in a["links"]]
    assert urls and all(u.startswith("https://mirror.example.org/") for u in urls)


@pytest.mark.parametrize("bad", ["notaurl", "ftp://mirror.example.org", "https://"])
def test_cli_refuses_a_base_url_that_is_no_web_address(bad):
    res = _cli("--base-url", bad, "list")
    assert res.returncode == 2 and "is not an http(s) address" in res.stderr
    assert "Traceback" not in res.stderr


def test_libyaml_and_python_loaders_agree(corpus, monkeypatch):
    from m3docs import yamlsrc
    from m3docs.playbook.export import playbook_dict
    fast = check_playbook(corpus)
    monkeypatch.setattr(yamlsrc, "_Loader", yamlsrc._PyLoader)
    slow = check_playbook(corpus)
    assert playbook_dict(fast[0]) == playbook_dict(slow[0])
    assert [str(d) for d in fast[1]] == [str(d) for d in slow[1]]


@pytest.mark.parametrize("raw,key", [("programManagement", "programManagement"),
                                     ("Program Management", "programManagement"),
                                     ("organization", "workforce"), ("TECHNOLOGY", "technology")])
def test_category_spellings(write_page, tmp_path, raw, key):
    write_page(page().replace("category: workforce", f"category: {raw}"))
    book, diags = check_playbook(tmp_path)
    assert book.key_task("1.1").category == key and not diags
