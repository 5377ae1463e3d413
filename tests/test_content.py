"""The content model: the context every document is filled from (m3docs/content.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from pptx import Presentation

from m3docs import (M3DocsError, build_context, document_context, key_task_context,
                    load_engagement, load_playbook, render, to_json)
from m3docs import content
from m3docs.cli import main
from m3docs.engagement import UNNAMED, TaskStatus
from m3docs.pack import plan_pack, select_scope
from m3docs.playbook.glossary import terms_used
from m3docs.playbook.model import Party, Stakeholder
from m3docs.playbook.richtext import RichText
from m3docs.plan import plan_documents
from m3docs.templates import TemplateChain

REPO = Path(__file__).resolve().parent.parent
ENGAGEMENT = REPO / "examples" / "engagement.yaml"
ACTIVITY_FIELDS = {"number": str, "index": int, "key_task": str, "text": RichText,
                   "group": RichText, "party": str, "owner": str, "links": list,
                   "status": str, "status_label": str, "status_color": str}
KEY_TASK_FIELDS = {"id": str, "name": str, "objective": RichText, "phase": int,
                   "phase_name": str, "workstream": str, "parties": str, "url": str,
                   "status": str, "best_practices": list, "activities": list,
                   "stakeholders": list, "inputs": list, "outputs": list, "groups": list,
                   "activities_note": RichText}


@pytest.fixture(scope="module")
def documents(playbook, engagement):
    return plan_pack(playbook, engagement, TemplateChain.build(),
                     select_scope(playbook, engagement))


def _doc(documents, kind: str):
    return next(d for d in documents if d.deliverable.kind == kind)


def _fresh(engagement, **changes):
    """Another engagement object (so key-task entries are built for it anew)."""
    return dataclasses.replace(engagement, **changes)


def test_top_level_names(playbook, engagement, documents):
    ctx = document_context(_doc(documents, "conops"), playbook, engagement)
    assert (ctx["agency"], ctx["program"], ctx["provider"], ctx["version"]) == (
        "U.S. Department of Examples", "Financial Management Modernization",
        "Example Shared Service Provider", "1.0")
    assert ctx["date"] == "November 24, 2026" and ctx["as_of"] == "2026-11-24"
    assert (ctx["date_short"], ctx["date_mdyyyy"], ctx["date_mdyy"]) == (
        "Nov 24, 2026", "11/24/2026", "11/24/26")
    october = _fresh(engagement, as_of=dt.date(2026, 10, 7))
    assert document_context(_doc(documents, "conops"), playbook, october)["date"] == \
        "October 7, 2026"
    for name, kind in (("key_tasks", list), ("people", list), ("leads", dict),
                       ("requirements", list), ("risks", list), ("issues", list),
                       ("accomplishments", list), ("upcoming", list), ("approvers", list),
                       ("rtm", list), ("terms", list), ("history", list)):
        assert isinstance(ctx[name], kind), name


def test_document_names(playbook, engagement, documents):
    doc = _doc(documents, "conops")
    d = document_context(doc, playbook, engagement)["document"]
    assert d["title"] == "Target State Concept of Operations"
    assert "Target State CONOPS" in d["titles"] and d["titles"] == sorted(d["titles"])
    assert (d["phase"], d["phase_name"], d["phase_title"]) == (3, "Engagement",
                                                               "Phase 3: Engagement")
    assert (d["version_label"], d["lineage"], d["kind"], d["format"]) == (
        "Version 1", "created", "conops", "docx")
    assert d["produced_by"] == ["3.14"] and d["roles"] == {"3.14": "uses and updates"}
    rtm = document_context(_doc(documents, "rtm"), playbook, engagement)["document"]
    assert (rtm["version_label"], rtm["lineage"], rtm["roles"]) == ("Input", "used",
                                                                   {"3.14": "uses"})


def test_key_task_names_and_types(playbook, engagement, documents):
    ctx = document_context(_doc(documents, "status"), playbook, engagement)
    kt = playbook.key_task("3.14")
    entry = ctx["key_task"]
    assert ctx["key_tasks"] == [entry]
    for name, kind in KEY_TASK_FIELDS.items():
        assert isinstance(entry[name], kind), name
    assert (entry["id"], entry["name"], entry["phase"], entry["phase_name"]) == (
        "3.14", kt.name, 3, "Engagement")
    assert entry["workstream"] == "Process and Service Delivery"
    assert entry["parties"] == "Shared"
    assert entry["url"].startswith("https://ussm.gsa.gov/") and "3.14" in entry["url"]
    assert entry["best_practices"] == list(kt.best_practices)
    assert [str(r["title"]) for r in entry["outputs"]] == [o.title.plain for o in kt.outputs]
    assert [r["filename"] for r in entry["inputs"]] == [i.filename or "" for i in kt.inputs]
    assert str(entry["activities_note"]) == kt.activities_text.plain
    for act in entry["activities"]:
        for name, kind in ACTIVITY_FIELDS.items():
            assert isinstance(act[name], kind), name


def test_status_fields(playbook, engagement, documents):
    entry = document_context(_doc(documents, "status"), playbook, engagement)["key_task"]
    assert (entry["status"], entry["status_label"], entry["status_color"]) == (
        "G", "On track", "Green")
    assert (entry["percent_complete"], entry["percent"]) == (50, 0.5)
    assert (entry["start"], entry["finish"]) == (dt.date(2026, 10, 1), dt.date(2026, 12, 15))
    assert (entry["finish_text"], entry["finish_short"], entry["finish_mdyyyy"]) == (
        "December 15, 2026", "Dec 15, 2026", "12/15/2026")
    assert entry["risks"] == ["Retained-organization design depends on the workforce "
                              "assessment"]
    assert entry["status_text"] == ("On track, 50% complete, planned October 1, 2026 to "
                                    "December 15, 2026")
    for act in entry["activities"]:
        assert (act["status"], act["percent_complete"], act["finish"]) == (
            "G", 50, dt.date(2026, 12, 15))
    silent = _fresh(engagement, status={})
    quiet = document_context(_doc(documents, "status"), playbook, silent)["key_task"]
    assert (quiet["status"], quiet["status_label"], quiet["percent_complete"],
            quiet["start"], quiet["start_text"], quiet["start_short"]) == ("", "", None, None,
                                                                          "", "")
    assert quiet["status_text"] == ""


def test_activity_status_plugs_in_per_activity(playbook, engagement):
    class Scheduled(type(engagement)):
        def activity_status(self, number: str) -> TaskStatus | None:
            return TaskStatus(percent_complete=100, status="B", owner="Kim Lee") \
                if number == "3.14.2" else None

    eng = Scheduled(**{f.name: getattr(engagement, f.name)
                       for f in dataclasses.fields(engagement)})
    acts = key_task_context(playbook, eng, ["3.14"])["key_task"]["activities"]
    assert (acts[1]["status"], acts[1]["status_color"], acts[1]["percent_complete"]) == (
        "B", "Blue", 100)
    assert acts[1]["finish"] == dt.date(2026, 12, 15)  # not reported: the key task's
    assert (acts[0]["status"], acts[0]["percent_complete"]) == ("G", 50)
    assert (acts[1]["owner"], acts[0]["owner"]) == ("Kim Lee", "Jordan Avery / Riley Chen")


def test_activity_numbers_are_the_ims_numbers_of_the_status_deck(playbook, engagement,
                                                                 documents, tmp_path):
    doc = _doc(documents, "status")
    acts = document_context(doc, playbook, engagement)["key_task"]["activities"]
    kt = playbook.key_task("3.14")
    assert [a["number"] for a in acts] == [f"3.14.{i}" for i in range(1, len(kt.activities) + 1)]
    assert [str(a["text"]) for a in acts] == [a.text.plain for a in kt.activities]
    out = tmp_path / "status.pptx"
    render(doc, playbook, engagement, out)
    deck_numbers = []
    for slide in Presentation(io.BytesIO(out.read_bytes())).slides:
        for shape in slide.shapes:
            if shape.has_table:
                rows = list(shape.table.rows)
                heads = [c.text.strip().lower() for c in rows[0].cells]
                if heads and heads[0].startswith("ims"):
                    deck_numbers += [r.cells[0].text.strip() for r in rows[1:]]
    assert deck_numbers == [a["number"] for a in acts]


def test_owners_come_from_the_leads(playbook, engagement):
    acts = key_task_context(playbook, engagement, ["3.14"])["key_task"]["activities"]
    assert all(a["party"] == "Shared" for a in acts)
    assert {a["owner"] for a in acts} == {"Jordan Avery / Riley Chen"}
    customer_only = _fresh(engagement, leads={Party.CUSTOMER: "Pat Quinn"})
    acts = key_task_context(playbook, customer_only, ["3.14"])["key_task"]["activities"]
    assert {a["owner"] for a in acts} == {"Pat Quinn"}
    nobody = _fresh(engagement, leads={})
    assert {a["owner"] for a in
            key_task_context(playbook, nobody, ["3.14"])["key_task"]["activities"]} == {""}


def test_stakeholders_people_come_from_the_engagement(playbook, engagement):
    holders = key_task_context(playbook, engagement, ["3.14"])["key_task"]["stakeholders"]
    kt = playbook.key_task("3.14")
    assert any(h["people"] != UNNAMED for h in holders)
    _assert_people(holders, kt, engagement)
    nobody = _fresh(engagement, people={})
    holders = key_task_context(playbook, nobody, ["3.14"])["key_task"]["stakeholders"]
    assert {h["people"] for h in holders} == {UNNAMED}


def _assert_people(holders, kt, engagement) -> None:
    """Each stakeholder's people are the engagement's names for its role (no shared roles
    here: those have their own test)."""
    assert [str(h["role"]) for h in holders] == [s.role.plain for s in kt.stakeholders]
    for h, sh in zip(holders, kt.stakeholders):
        if Party.SHARED in sh.parties:
            continue
        named = next((by for role, by in engagement.people.items()
                      if role.lower() == sh.role.plain.lower()), {})
        expected = [named[p] for p in (Party.CUSTOMER, Party.PROVIDER, Party.QSMO)
                    if p in named and p in sh.parties]
        assert h["people"] == (" / ".join(dict.fromkeys(expected)) or UNNAMED)
        for p in (Party.CUSTOMER, Party.PROVIDER, Party.QSMO):
            assert h[p.value] == ((named.get(p) or UNNAMED) if p in sh.parties else "")


def test_a_shared_role_is_filled_by_customer_and_provider(playbook, engagement):
    kt = dataclasses.replace(playbook.key_task("3.14"), stakeholders=(
        Stakeholder(RichText.of("Program Manager"), (Party.SHARED,)),))
    h = content.key_task_entry(kt, playbook, engagement)["stakeholders"][0]
    assert (h["parties"], h["customer"], h["provider"], h["qsmo"], h["people"]) == (
        "Shared", "Jordan Avery", "Riley Chen", "", "Jordan Avery / Riley Chen")


def test_rtm_rows_are_requirements_then_activities(playbook, engagement, documents):
    ctx = document_context(_doc(documents, "rtm"), playbook, engagement)
    rows = ctx["rtm"]
    reqs = [r.id for r in engagement.requirements]
    acts = ctx["key_task"]["activities"]
    assert [r["id"] for r in rows] == reqs + [f"3.14-{i:02d}" for i in range(1, len(acts) + 1)]
    assert [r["id"] for r in ctx["requirements"]] == reqs
    assert rows[0]["priority"] == "High" and rows[0]["status"] == content.REQUIREMENT_STATUS
    assert ctx["requirements"][0]["status"] == ""
    first = rows[len(reqs)]
    assert (first["activity"], first["key_task"], first["source"]) == ("3.14.1", "3.14",
                                                                      "M3 Playbook 3.14")
    assert str(first["description"]) == str(acts[0]["text"])
    assert first["decision_maker"] == acts[0]["owner"]
    assert first["process_area"] == "Process and Service Delivery"


def test_rtm_rows_are_what_the_rtm_workbook_lists(playbook, engagement, documents, tmp_path):
    from openpyxl import load_workbook
    doc = _doc(documents, "rtm")
    rows = document_context(doc, playbook, engagement)["rtm"]
    render(doc, playbook, engagement, tmp_path / "rtm.xlsx")
    ws = load_workbook(tmp_path / "rtm.xlsx")["RTM"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(values) if r[0] == "Requirement ID")
    columns = {name: values[head].index(name) for name in (
        "Requirement ID", "Process Area", "Sub Process", "Requirement Description", "Source",
        "Priority", "Decision Maker", "Status", "Comments")}
    listed = [r for r in values[head + 1:] if r[0]]
    assert [r[columns["Requirement ID"]] for r in listed] == [r["id"] for r in rows]
    for row, cells in zip(rows, listed):
        for field, name in (("process_area", "Process Area"), ("sub_process", "Sub Process"),
                            ("description", "Requirement Description"), ("source", "Source"),
                            ("priority", "Priority"), ("decision_maker", "Decision Maker"),
                            ("status", "Status"), ("notes", "Comments")):
            assert (cells[columns[name]] or "") == str(row[field]), (row["id"], field)


def test_conops_tables_come_from_the_context(playbook, engagement, documents, tmp_path):
    import docx
    doc = _doc(documents, "conops")
    ctx = document_context(doc, playbook, engagement)
    render(doc, playbook, engagement, tmp_path / "conops.docx")
    tables = {t.rows[0].cells[0].text: [[c.text for c in r.cells] for r in t.rows[1:]]
              for t in docx.Document(str(tmp_path / "conops.docx")).tables}
    assert tables["#"] == [[str(a["index"]), str(a["text"]), a["party"], a["owner"]]
                           for a in ctx["key_task"]["activities"]]
    cell = lambda name: UNNAMED.capitalize() if name == UNNAMED else name  # noqa: E731
    assert [r[:3] for r in tables["Role"]] == [
        [str(s["role"]), cell(s["customer"]), cell(s["provider"])]
        for s in ctx["key_task"]["stakeholders"] if s["named"]]
    unnamed = ctx["key_task"]["unnamed_roles"]
    assert unnamed and any(unnamed in p.text for p in
                           docx.Document(str(tmp_path / "conops.docx")).paragraphs)
    h = ctx["history"][0]
    assert tables["Version"] == [[h["version"], h["date"], h["description"], h["author"]]]
    assert tables["Name and Title"] == [[f"{a['name']}\n{a['title']}", "", ""]
                                        for a in ctx["approvers"]]


def test_people_leads_approvers_and_updates(playbook, engagement, documents):
    ctx = document_context(_doc(documents, "status"), playbook, engagement)
    assert ctx["leads"] == {"customer": "Jordan Avery", "provider": "Riley Chen",
                            "qsmo": "Morgan Diaz", "shared": "Jordan Avery / Riley Chen"}
    assert ctx["people"][0] == {"role": "Executive Sponsor", "customer": "Alex Morgan",
                                "provider": "", "qsmo": ""}
    assert ctx["approvers"][0] == {"name": "Alex Morgan", "title": "Executive Sponsor, Customer"}
    assert [(r["number"], r["type"], r["key_task"]) for r in ctx["risks"]] == [(1, "Risk", "3.14")]
    assert ctx["accomplishments"] == [{"text": "Provider Agreement reviewed; in-scope "
                                               "processes agreed", "key_task": "3.14"}]
    assert ctx["history"][0]["author"] == "Riley Chen"


def test_rich_text_keeps_its_links(playbook, engagement):
    acts = key_task_context(playbook, engagement, ["3.14"])["key_task"]["activities"]
    linked = [a for a in acts if a["links"]]
    assert linked, "the bundled 3.14 page links the M3 glossary from an activity"
    a = linked[0]
    assert isinstance(a["text"], RichText)
    assert any(r.url == "https://ussm.gsa.gov/m3glossary/" for r in a["text"].runs)
    assert a["links"] == [{"text": "M3 glossary", "url": "https://ussm.gsa.gov/m3glossary/"}]
    assert "<a" not in str(a["text"]) and "M3 glossary" in str(a["text"])
    assert to_json(a)["text"] == str(a["text"])


def test_placeholders_join_the_top_level_and_replace_only_text(playbook, engagement):
    eng = _fresh(engagement, placeholders={"contract_number": "GS-123", "date": "Fall 2026",
                                           "key_tasks": "none", "[Program Name]": "FMM"})
    ctx = key_task_context(playbook, eng, ["3.14"])
    assert ctx["contract_number"] == "GS-123" and ctx["date"] == "Fall 2026"
    assert [k["id"] for k in ctx["key_tasks"]] == ["3.14"]
    assert ctx["placeholders"]["[Program Name]"] == "FMM" and "[Program Name]" not in ctx


def test_a_shared_key_task_is_built_once(playbook, engagement, documents, monkeypatch):
    calls = []
    build = content._build_entry
    monkeypatch.setattr(content, "_build_entry",
                        lambda *a: calls.append(a[0].id) or build(*a))
    eng = _fresh(engagement)
    contexts = [document_context(d, playbook, eng) for d in documents]
    assert len(contexts) >= 2
    assert calls == ["3.14"]
    first = contexts[0]["key_tasks"][0]
    assert all(c["key_tasks"][0] is first for c in contexts)
    assert key_task_context(playbook, eng, ["3.14"])["key_task"] is first
    assert key_task_context(playbook, _fresh(engagement), ["3.14"])["key_task"] is not first


def test_contexts_share_parts_but_not_their_top_level(playbook, engagement, documents):
    conops, rtm = (document_context(_doc(documents, k), playbook, engagement)
                   for k in ("conops", "rtm"))
    assert conops["people"] is rtm["people"]  # the engagement's part is built once
    assert conops["history"][0]["description"].startswith("Version 1 for M3 Phase 3")
    assert rtm["history"][0]["description"].startswith("Input for M3 Phase 3")
    conops["agency"] = "changed"
    again = document_context(_doc(documents, "rtm"), playbook, engagement)
    assert again["agency"] == rtm["agency"] == engagement.agency
    assert rtm["rtm"][len(engagement.requirements):] == rtm["key_task"]["rtm"]


def test_key_task_context_errors_and_phases(playbook, engagement):
    with pytest.raises(M3DocsError, match="key task 9.99 is not in the playbook"):
        key_task_context(playbook, engagement, ["9.99"])
    ctx = key_task_context(playbook, engagement, phases=[3])
    assert [k["id"] for k in ctx["key_tasks"]] == [k.id for k in playbook.in_phase(3)]
    assert ctx["document"]["kind"] == "key_task"
    one = key_task_context(playbook, engagement, ["3.14"])["document"]
    assert (one["title"], one["phase"], one["phase_title"]) == (
        f"Key Task 3.14: {playbook.key_task('3.14').name}", 3, "Phase 3: Engagement")


def test_every_context_has_the_same_document_names(playbook, engagement, documents):
    from m3docs.pack import make_plan
    plan = make_plan(playbook, engagement)
    names = set(document_context(documents[0], playbook, engagement)["document"])
    assert {"title", "titles", "phase", "phase_name", "version_label"} <= names
    assert set(key_task_context(playbook, engagement, ["3.14"])["document"]) == names
    tracker = content.tracker_context(plan.docs, playbook, engagement, plan.scope)
    assert set(tracker["document"]) == names and tracker["document"]["phase"] is None


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["context", "--engagement", str(ENGAGEMENT), *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_prints_what_to_json_gives(capsys, playbook, engagement):
    rc, out, err = _cli(capsys, "--key-task", "3.14", "--json")
    assert rc == 0, err
    expected = to_json(build_context(playbook, engagement, key_tasks=["3.14"]))
    assert json.loads(out) == expected
    assert _cli(capsys, "--key-task", "3.14", "--json")[1] == out  # same inputs, same text
    rc, doc_out, err = _cli(capsys, "--document", "Target State CONOPS", "--json")
    assert rc == 0, err
    data = json.loads(doc_out)
    assert data["document"]["title"] == "Target State Concept of Operations"
    assert data == to_json(build_context(playbook, engagement, document="Target State CONOPS"))


def test_cli_errors_are_one_line(capsys):
    for args, words in ((("--key-task", "9.99"), "9.99 is not in the playbook"),
                        (("--document", "No Such Thing"), "no deliverable titled")):
        rc, out, err = _cli(capsys, *args, "--json")
        assert rc == 1 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in err


def test_same_inputs_give_identical_json(engagement):
    texts = []
    for _ in range(2):
        book = load_playbook()
        eng = load_engagement(ENGAGEMENT, book)
        docs = plan_pack(book, eng, TemplateChain.build(), select_scope(book, eng))
        texts.append(json.dumps([to_json(document_context(d, book, eng)) for d in docs],
                                ensure_ascii=False))
    assert texts[0] == texts[1]


# -- the public playbook sample -------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_contexts(corpus, engagement):
    book = load_playbook(corpus)
    docs = plan_documents(book, book.key_tasks)
    return book, docs, [document_context(d, book, engagement) for d in docs]


def test_corpus_every_document_has_the_schema(corpus_contexts, engagement):
    book, docs, contexts = corpus_contexts
    for doc, ctx in zip(docs, contexts):
        assert [k["id"] for k in ctx["key_tasks"]] == [k.id for k in doc.key_tasks]
        assert ("key_task" in ctx) == (len(doc.key_tasks) == 1)
        for entry, kt in zip(ctx["key_tasks"], doc.key_tasks):
            for name, kind in KEY_TASK_FIELDS.items():
                assert isinstance(entry[name], kind), (kt.id, name)
            assert [a["number"] for a in entry["activities"]] == [
                f"{kt.id}.{i}" for i in range(1, len(kt.activities) + 1)]
            assert [a for g in entry["groups"] for a in g["activities"]] == entry["activities"]
            _assert_people(entry["stakeholders"], kt, engagement)
        acts = sum(len(k.activities) for k in doc.key_tasks)
        assert len(ctx["rtm"]) == len(engagement.requirements) + acts
        json.dumps(to_json(ctx))


def test_corpus_groups_links_and_terms(corpus_contexts):
    book, docs, contexts = corpus_contexts
    entries = {k["id"]: k for ctx in contexts for k in ctx["key_tasks"]}
    grouped = [k for k in entries.values() if any(g["title"] for g in k["groups"])]
    assert grouped, "the sample has key tasks whose activities come in groups"
    for k in grouped:
        for g in k["groups"]:
            assert all(a["group"] == g["title"] for a in g["activities"])
    linked = [a for k in entries.values() for a in k["activities"] if a["links"]]
    assert linked and all(a["links"][0]["url"].startswith(("http", "mailto"))
                          for a in linked)
    with_terms = [(d, c) for d, c in zip(docs, contexts) if c["terms"]]
    assert with_terms
    for d, c in with_terms:
        assert [t["name"] for t in c["terms"]] == [
            t.name for t in terms_used(book, d.key_tasks, [d.title])]


# -- the deliverables tracker ----------------------------------------------------------------
def _tracker_sheets(docs, book, eng, scope):
    from openpyxl import load_workbook
    from m3docs.tracker import HEADER_ROW, build_tracker
    data = build_tracker(docs, book, eng, {d.path: d.path for d in docs}, scope=scope)
    wb = load_workbook(io.BytesIO(data))
    rows = lambda ws: [[c.value for c in r] for r in ws.iter_rows(min_row=HEADER_ROW + 1)]  # noqa
    return rows(wb["Deliverables"]), rows(wb["RACI"])


def _assert_tracker_matches(docs, book, eng, scope):
    ctx = content.tracker_context(docs, book, eng, scope)
    sheet, raci = _tracker_sheets(docs, book, eng, scope)
    rows = ctx["deliverables"]
    assert rows, "a pack with documents tracks deliverables"
    assert len(sheet) >= len(rows) and len(raci) >= len(ctx["raci"])
    assert len(sheet) == len(rows) or not any(sheet[len(rows)][1:])  # then notes, if any
    for row, cells in zip(rows, sheet):
        n = len(ctx["phases"])
        expected = [row["title"], row["format_label"]] + [c["label"] or None
                                                          for c in row["phases"]]
        expected += [row["produced_by"] or None, row["used_by"] or None,
                     row["parties"] or None, row["status_label"] or None,
                     row["percent"], row["file"] or None]
        assert cells[:len(expected)] == expected
        assert len(cells) >= 2 + n + 6
    for role, cells in zip(ctx["raci"], raci):
        assert cells[:1 + len(role["parties"])] == [role["role"]] + [
            p or None for p in role["parties"]]
    return ctx


def test_tracker_context_says_what_the_tracker_shows(playbook, engagement):
    from m3docs.pack import make_plan
    plan = make_plan(playbook, engagement)
    ctx = _assert_tracker_matches(plan.docs, playbook, engagement, plan.scope)
    conops = next(r for r in ctx["deliverables"] if r["kind"] == "conops")
    assert (conops["status"], conops["status_label"], conops["percent"]) == ("G", "On track",
                                                                             0.5)
    assert [c["label"] for c in conops["phases"]] == ["Version 1"]


def test_corpus_tracker_context(corpus, engagement):
    book = load_playbook(corpus)
    scope = list(book.key_tasks)
    docs = plan_pack(book, engagement, TemplateChain.build(), scope)
    ctx = _assert_tracker_matches(docs, book, engagement, scope)
    labels = {c["label"] for r in ctx["deliverables"] for c in r["phases"]}
    assert {"Version 1", "Updated", "Used"} <= labels
    assert len(ctx["phases"]) >= 3 and ctx["terms"]


def test_threads_share_one_entry_per_key_task(playbook, engagement):
    from concurrent.futures import ThreadPoolExecutor
    eng = _fresh(engagement)
    kt = playbook.key_task("3.14")
    with ThreadPoolExecutor(8) as pool:
        entries = list(pool.map(lambda _: content.key_task_entry(kt, playbook, eng), range(64)))
    assert all(e is entries[0] for e in entries)


def test_a_jinja2_template_reads_the_context(playbook, engagement):
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(autoescape=True)
    ctx = key_task_context(playbook, engagement, ["3.14"])
    text = env.from_string(
        "{{ key_task.id }} {{ document.phase }}|{% for a in key_task.activities %}"
        "{{ a.number }}={{ a.owner }};{% endfor %}|{% for a in key_task.activities %}"
        "{% for r in a.text.runs if r.url %}{{ r.text }}<{{ r.url }}>{% endfor %}{% endfor %}"
        "|{{ key_task.activities[-1].text }}|{{ key_task.finish_text }}").render(ctx)
    head, acts, links, last, finish = text.split("|")
    assert head == "3.14 3"
    assert acts.split(";")[0] == "3.14.1=Jordan Avery / Riley Chen"
    assert links == "M3 glossary<https://ussm.gsa.gov/m3glossary/>"  # values, not tags, escaped
    assert last == str(ctx["key_task"]["activities"][-1]["text"]).replace("'", "&#39;")
    assert finish == "December 15, 2026"
    with pytest.raises(SecurityError):
        env.from_string("{{ key_tasks.append(1) }}").render(ctx)
    assert len(ctx["key_tasks"]) == 1


def test_key_tasks_by_id_reaches_the_scope_when_asked(corpus, engagement):
    """``key_tasks_by_id`` holds the document's key tasks and the rest of the pack's scope (a
    schedule fills every key task in scope), in that order; ids the playbook lacks are not
    in it; a scope entry is the same key-task context the document's own would be."""
    from m3docs import load_playbook
    playbook = load_playbook(corpus)
    doc = plan_pack(playbook, engagement, TemplateChain.build(),
                    select_scope(playbook, None))[0]
    own = [kt.id for kt in doc.key_tasks]
    other = next(kt for kt in playbook.key_tasks if kt.id not in own)
    scoped = dataclasses.replace(doc, scope=(*own, "99.99", other.id, other.id))
    ctx = document_context(scoped, playbook, engagement)
    by_id = ctx["key_tasks_by_id"]
    assert list(by_id) == [*own, other.id] and len(by_id) == len(own) + 1
    assert other.id in by_id and "99.99" not in by_id
    assert by_id[other.id] is content.key_task_entry(other, playbook, engagement)
    assert by_id[own[0]] is ctx["key_tasks"][0]
    with pytest.raises(KeyError):
        by_id["99.99"]
    assert list(content.to_json(ctx)["key_tasks_by_id"]) == [*own, other.id]
