"""The content model: the context every document is filled from, built without any
knowledge of formats (its schema is the README's "The template context").

Three contexts: ``document_context`` for a planned document, ``key_task_context`` for a
render of key tasks, ``tracker_context`` for the pack's deliverables tracker; ``to_json``
shows one as JSON. A context is a dict of plain values (str, int, float, bool, None,
datetime.date, list, dict) and, for text from playbook pages, the playbook's ``RichText``:
``str()`` gives its plain text and ``.runs`` its bold, italics and links.

Contexts are shared read-only: a key task's entry (``key_task_entry``) is built once per
process and the very same object appears in every context that lists the key task, and the
engagement's part is built once per engagement; an engine must never change a context
(Jinja2's ImmutableSandboxedEnvironment refuses to).

Rules chosen where the old renderers disagreed:

* ``phase`` is the phase number; ``phase_name`` its name; ``phase_title`` the two written
  out ("Phase 3: Engagement").
* Parties are written as their labels joined by " / " ("Customer / Provider").
* An activity's ``owner`` is the owner reported for it, else the engagement's leads of its
  parties, a shared party standing for the customer and the provider lead ("Jordan Avery /
  Riley Chen"); "" when no lead is named (a template writes ``a.owner or a.party``).
* A stakeholder role of a shared party is filled by the customer and the provider (not
  the QSMO); a party taking part whose person the engagement does not name reads
  ``engagement.UNNAMED``; a party not taking part reads "".
* Status comes from the engagement per key task; each activity carries the same fields,
  filled in one place (``activity_progress``) so a schedule's per-activity status plugs in.
* An engagement placeholder named like an identifier is a top-level name, and replaces a
  top-level text of that name (as official fills allowed); never a list or a mapping.
* The revision history is this version, by the provider's lead.
"""
from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Iterable

from .engagement import STATUS_CODES, UNNAMED, Engagement, TaskStatus
from .errors import M3DocsError
from .playbook.glossary import terms_used
from .playbook.model import Activity, DocRef, KeyTask, Party, Phase, Playbook, Stakeholder
from .playbook.richtext import RichText, resolve_url
from .plan import INPUT, UPDATED, VERSION_1, Document, is_template_file
from .status import WINDOW_DAYS, ActivityStatus, in_window

Context = dict[str, Any]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
PARTY_SEPARATOR = " / "
#: Status code -> (colour name, fill RGB, text RGB): the M3 status dashboard's legend.
STATUS_COLORS: dict[str, tuple[str, str, str]] = {
    "B": ("Blue", "1F5FAD", "FFFFFF"), "G": ("Green", "2E8540", "FFFFFF"),
    "Y": ("Yellow", "F2C037", "1F1F1F"), "R": ("Red", "C0392B", "FFFFFF"),
    "P": ("Purple", "7D5BA6", "FFFFFF")}
#: The status an RTM row gets when the engagement gives none.
REQUIREMENT_STATUS = "Pending Approval-New"
REQUIREMENT_FIELDS = ("id", "description", "process_area", "sub_process", "source", "type",
                      "priority", "decision_maker", "status", "fit_gap", "test_cases", "notes")
#: What a document's version label says about its lineage.
LINEAGE = {VERSION_1: "created", UPDATED: "updated", INPUT: "used"}
STAKEHOLDER_PARTIES = (Party.CUSTOMER, Party.PROVIDER, Party.QSMO)
ENTRY_CACHE_SIZE = 1024  # key-task entries kept per process (a whole playbook's worth)
_ENTRIES: "OrderedDict[tuple[int, int, int], tuple[tuple, Context]]" = OrderedDict()
_LOCK = threading.Lock()  # the caches are shared by the threads of a thread pool


# -- small rules ------------------------------------------------------------------------
def long_date(day: dt.date | None) -> str:
    """'October 7, 2026', whatever the process locale ('' for no date)."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}" if day else ""


@functools.lru_cache(maxsize=4096)
def written_dates(name: str, day: dt.date | None) -> Mapping[str, Any]:
    """A date and its written forms: ``name`` (the date or None), ``name_text``
    ('December 15, 2026'), ``name_short`` ('Dec 15, 2026') and ``name_mdyyyy``
    ('12/15/2026'); the forms are '' for no date."""
    if day is None:
        return MappingProxyType({name: None, f"{name}_text": "", f"{name}_short": "",
                                 f"{name}_mdyyyy": ""})
    return MappingProxyType({
        name: day, f"{name}_text": long_date(day),
        f"{name}_short": f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}",
        f"{name}_mdyyyy": f"{day.month:02d}/{day.day:02d}/{day.year}"})


def parties_text(parties: Iterable[Party]) -> str:
    """Party labels joined by ' / ' ('' for none)."""
    return PARTY_SEPARATOR.join(p.label for p in parties)


def phase_title(number: int, name: str) -> str:
    return f"Phase {number}: {name}"


def takes_part(party: Party, parties: tuple[Party, ...]) -> bool:
    """Whether ``party`` fills a role held by ``parties`` (shared: customer and provider)."""
    return party in parties or (Party.SHARED in parties and party is not Party.QSMO)


@functools.lru_cache(maxsize=4096)
def status_fields(code: str | None, percent: int | None, start: dt.date | None,
                  finish: dt.date | None) -> Mapping[str, Any]:
    """The status fields a key task and each activity carry (read-only: made once per
    distinct status, spread into each context)."""
    code = code or ""
    color, fill, text_color = STATUS_COLORS.get(code, ("", "", ""))
    return MappingProxyType({"status": code, "status_label": STATUS_CODES.get(code, ""),
            "status_color": color, "status_fill": fill, "status_text_color": text_color,
            "percent_complete": percent,
            "status_text": status_text(code, percent, start, finish),
            "percent": None if percent is None else percent / 100,
            "percent_text": "" if percent is None else f"{percent}%",
            **written_dates("start", start), **written_dates("finish", finish)})


def status_text(code: str, percent: int | None, start: dt.date | None,
                finish: dt.date | None) -> str:
    """'On track, 50% complete, planned October 1, 2026 to December 15, 2026' ('' when
    nothing is reported)."""
    parts = [STATUS_CODES[code]] if code in STATUS_CODES else []
    if percent is not None:
        parts.append(f"{percent}% complete")
    if start and finish:
        parts.append(f"planned {long_date(start)} to {long_date(finish)}")
    return ", ".join(parts)


def activity_progress(engagement: Engagement, number: str, task: TaskStatus) -> Context:
    """The one place an activity's status is filled: the engagement's status of the
    activity (``engagement.activity_status(number)``, when the engagement has one and
    reports on it), each field defaulting to its key task's. ``owner`` is the reported
    owner of the activity, else None (the caller then names the leads). ``status_given``
    is the label of a code someone set (the engagement's ``status:``, a schedule's Status
    cell), "" for a code the rule computed: a workbook read back as a schedule then judges
    its figures afresh."""
    report = getattr(engagement, "activity_status", None)
    own = report(number) if callable(report) else None

    def pick(name: str) -> Any:
        value = getattr(own, name, None) if own is not None else None
        return getattr(task, name) if value is None else value
    given = getattr(own, "status", None) if getattr(own, "source", "rule") != "rule" else None
    return {**status_fields(pick("status"), pick("percent_complete"), pick("start"),
                            pick("finish")),
            "status_given": STATUS_CODES.get(given or "", ""),
            **written_dates("actual_finish", getattr(own, "actual_finish", None)),
            "owner": getattr(own, "owner", None) or None}


# -- one key task (built once per process) -------------------------------------------------
def key_task_entry(kt: KeyTask, playbook: Playbook, engagement: Engagement) -> Context:
    """The context of one key task; built once per (playbook, engagement, key task) and
    the same object returned every time after."""
    owners = (playbook, engagement, kt)
    key = (id(playbook), id(engagement), id(kt))
    with _LOCK:
        hit = _ENTRIES.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], owners)):
            _ENTRIES.move_to_end(key)
            return hit[1]
    entry = _build_entry(kt, playbook, engagement)
    with _LOCK:  # another thread may have built it meanwhile: the first one stays
        hit = _ENTRIES.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], owners)):
            hit = _ENTRIES[key] = (owners, entry)
            while len(_ENTRIES) > ENTRY_CACHE_SIZE:
                _ENTRIES.popitem(last=False)
        return hit[1]


def _build_entry(kt: KeyTask, playbook: Playbook, engagement: Engagement) -> Context:
    phase = playbook.phase(kt.phase)
    st = engagement.task_status(kt.id)
    activities = [_activity(kt, act, engagement, st) for act in kt.activities]
    stakeholders = [_stakeholder(sh, engagement) for sh in kt.stakeholders]
    entry: Context = {
        "id": kt.id, "number": kt.number, "name": kt.name, "title": f"{kt.id} {kt.name}",
        "objective": kt.objective, "phase": kt.phase, "phase_name": phase.name,
        "phase_title": phase_title(phase.number, phase.name),
        "workstream": kt.workstream or "", "parties": parties_text(kt.parties),
        "url": (resolve_url(kt.permalink, playbook.base_url) or "") if kt.permalink else "",
        **status_fields(st.status, st.percent_complete, st.start, st.finish),
        "owner": st.owner or "", "leads": party_leads(engagement, kt.parties),
        "party_leads": party_leads(engagement, kt.parties) or parties_text(kt.parties),
        "risks": list(st.risks), "issues": list(st.issues),
        "accomplishments": list(st.accomplishments), "upcoming": list(st.upcoming),
        "best_practices": list(kt.best_practices),
        "activities": activities, "groups": _groups(kt, activities),
        "activities_note": kt.activities_text or RichText(),
        "stakeholders": stakeholders,
        "unnamed_roles": unnamed_line(sh for sh, s in zip(kt.stakeholders, stakeholders)
                                      if not s["named"]),
        "inputs": [_doc_ref(r) for r in kt.inputs], "outputs": [_doc_ref(r) for r in kt.outputs],
    }
    entry["named_roles"] = named_line(entry["stakeholders"])
    entry["rtm"] = _activity_rtm(entry)
    return entry


def party_leads(engagement: Engagement, parties: Iterable[Party]) -> str:
    """The engagement's leads of ``parties``, each name once, joined by ' / ' ('' when
    none is named; a shared party stands for the customer and the provider lead)."""
    names: list[str] = []
    for party in parties:
        for name in engagement.lead(party).split(PARTY_SEPARATOR):
            if name and name not in names:
                names.append(name)
    return PARTY_SEPARATOR.join(names)


def named_line(stakeholders: Iterable[Context]) -> str:
    """``Business Owner (Customer): Casey Lee; Business Owner (Provider): Sam Patel``: the
    roles someone is named for, each party taking part with its person (or UNNAMED)."""
    return "; ".join(f"{s['role']} ({party.label}): {s[party.value]}" for s in stakeholders
                     if s["named"] for party in STAKEHOLDER_PARTIES if s[party.value])


def stakeholder_rows(tasks: list[Context]) -> list[Context]:
    """One row per stakeholder role and party taking part, each once across the key tasks:
    ``role``, ``party`` (label) and ``name`` ('' when nobody is named: a table's blank)."""
    rows: list[Context] = []
    seen: set[tuple[str, str]] = set()
    for k in tasks:
        for s in k["stakeholders"]:
            for party in STAKEHOLDER_PARTIES:
                person = s[party.value]
                key = (str(s["role"]), party.value)
                if person and key not in seen:
                    seen.add(key)
                    rows.append({"role": s["role"], "party": party.label,
                                 "name": "" if person == UNNAMED else person})
    return rows


def _activity(kt: KeyTask, act: Activity, engagement: Engagement, st: TaskStatus) -> Context:
    number = f"{kt.id}.{act.number}"
    progress = activity_progress(engagement, number, st)
    return {"number": number, "index": act.number, "key_task": kt.id, "text": act.text,
            "group": act.group or RichText(), "party": parties_text(act.parties),
            "links": [{"text": r.text.strip(), "url": r.url} for r in act.text.links],
            **progress, "owner": progress["owner"] or engagement.owner(act)}


def _groups(kt: KeyTask, activities: list[Context]) -> list[Context]:
    """Activity groups in page order, holding the same activity dicts (one untitled
    group when the page has none)."""
    by_number = {a["index"]: a for a in activities}
    return [{"title": g.title, "activities": [by_number[a.number] for a in g.activities]}
            for g in kt.groups]


def _stakeholder(sh: Stakeholder, engagement: Engagement) -> Context:
    role = sh.role.plain
    by_party: dict[str, str] = {}
    named: list[str] = []
    for party in STAKEHOLDER_PARTIES:
        if not takes_part(party, sh.parties):
            by_party[party.value] = ""
            continue
        name = engagement.person(role, party)
        by_party[party.value] = name or UNNAMED
        if name and name not in named:
            named.append(name)
    return {"role": sh.role, "parties": parties_text(sh.parties),
            "people": PARTY_SEPARATOR.join(named) or UNNAMED, "named": bool(named), **by_party}


UNNAMED_LABEL = "To be named"   # how a document introduces the roles nobody is named for


def unnamed_line(stakeholders: Iterable[Stakeholder]) -> str:
    """``Business Owner (Customer); Functional Lead (Customer, Provider)``: the roles nobody
    is named for yet, gathered in one line rather than a row each."""
    return "; ".join(f"{sh.role.plain} ({', '.join(p.label for p in sh.parties)})"
                     for sh in stakeholders)


def _doc_ref(ref: DocRef) -> Context:
    return {"title": ref.title, "filename": ref.filename or "",
            "official": is_template_file(ref.filename)}


# -- the engagement's part -----------------------------------------------------------------
_PARTS: dict[int, tuple[Engagement, Context]] = {}
PART_CACHE_SIZE = 8


def _engagement_part(engagement: Engagement) -> Context:
    """What every context of an engagement shares, whatever the document: built once per
    engagement object (callers copy the top level before adding to it)."""
    with _LOCK:
        hit = _PARTS.get(id(engagement))
        if hit is None or hit[0] is not engagement:
            if len(_PARTS) >= PART_CACHE_SIZE:
                _PARTS.pop(next(iter(_PARTS)))
            hit = _PARTS[id(engagement)] = (engagement, _build_part(engagement))
        return hit[1]


def _build_part(engagement: Engagement) -> Context:
    leads = {p.value: engagement.leads.get(p, "") for p in STAKEHOLDER_PARTIES}
    leads[Party.SHARED.value] = engagement.lead(Party.SHARED)
    out: Context = {
        "agency": engagement.agency, "program": engagement.program,
        "provider": engagement.provider, "version": engagement.version,
        **_as_of(engagement.as_of),
        "leads": leads,
        "people": [{"role": role, **{p.value: by_party.get(p, "") for p in STAKEHOLDER_PARTIES}}
                   for role, by_party in engagement.people.items()],
        "approvers": [{"name": n, "title": t} for n, t in engagement.approvers],
        "requirements": [{f: getattr(r, f) for f in REQUIREMENT_FIELDS}
                         for r in engagement.requirements],
        "status_codes": [{"code": c, "label": label, "color": STATUS_COLORS[c][0],
                          "fill": STATUS_COLORS[c][1]} for c, label in STATUS_CODES.items()],
        "placeholders": dict(engagement.placeholders),
    }
    return out


def _as_of(day: dt.date) -> Context:
    """The engagement's date: ``date`` written out, ``as_of`` ISO, and the short and
    numeric forms official templates ask for."""
    forms = written_dates("day", day)
    return {"date": forms["day_text"], "as_of": day.isoformat(),
            "date_short": forms["day_short"], "date_mdyyyy": forms["day_mdyyyy"],
            "date_mdyy": f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}"}


def _with_placeholders(ctx: Context, engagement: Engagement) -> Context:
    """The engagement's placeholders named like identifiers as top-level names: a new
    name, or one that replaces a top-level text (``date: Fall 2026``, as official fills
    always allowed); the schema's lists and mappings are never replaced."""
    for name, value in engagement.placeholders.items():
        if name.isidentifier() and (name not in ctx or isinstance(ctx[name], str)):
            ctx[name] = value
    return ctx


def _status_lists(tasks: list[Context]) -> Context:
    """Risks, issues, accomplishments and upcoming work of the key tasks, in key-task
    order, numbered across the document."""
    risks = [{"type": "Risk", "text": t, "key_task": k["id"], "owner": k["owner"]}
             for k in tasks for t in k["risks"]]
    issues = [{"type": "Issue", "text": t, "key_task": k["id"], "owner": k["owner"]}
              for k in tasks for t in k["issues"]]
    return {"risks": _numbered(risks), "issues": _numbered(issues),
            "risks_and_issues": _numbered(risks + issues),
            "accomplishments": [{"text": t, "key_task": k["id"]}
                                for k in tasks for t in k["accomplishments"]],
            "upcoming": [{"text": t, "key_task": k["id"]} for k in tasks for t in k["upcoming"]]}


def _window(tasks: list[Context], engagement: Engagement) -> Context:
    """The status deck's "next 30-45 days" list (issue 17): when the engagement dates any
    activity, the activities in progress or starting or finishing by as_of + ``days`` (or one
    row saying none is); else one row per key task, with its own figures."""
    days = WINDOW_DAYS
    until = engagement.as_of + dt.timedelta(days=days)
    acts = [a for k in tasks for a in k["activities"]]
    statuses = {a["number"]: ActivityStatus(a["number"], a["percent_complete"], a["start"],
                                            a["finish"], a["actual_finish"], a["status"] or None)
                for a in acts}
    dated = any(st.dated for st in statuses.values())
    if dated:
        rows = [a for a in acts if in_window(statuses[a["number"]], engagement.as_of, days)]
        rows = rows or [_window_row("", f"No activity in progress or due by "
                                        f"{written_dates('d', until)['d_mdyyyy']}", "", {})]
    else:
        rows = [_window_row(k["id"], k["name"], k["owner"] or k["leads"] or k["parties"], k)
                for k in tasks]
    return {"days": days, **written_dates("until", until), "dated": dated, "rows": rows}


def _window_row(number: str, text: str, owner: str, task: Context) -> Context:
    """A row of the window that is not an activity: a key task, or the "none" line."""
    fields = status_fields(None, None, None, None)
    return {**fields, **{k: task[k] for k in fields if k in task},
            **written_dates("actual_finish", None), "number": number, "text": text,
            "owner": owner, "party": task.get("parties", ""), "key_task": task.get("id", "")}


class KeyTasksById(Mapping):
    """The pack's scope and the document's key tasks, by id, in that order (a schedule lists
    every key task of the programme and fills those in scope). A scope entry is looked up
    only when a template asks for it: most documents never do, and building the whole
    mapping for every document made a pack's time grow with the square of its key tasks.

    Two documents of a pack usually have the same ids here; ``same_as`` tells (a part that
    reads only this and the programme's facts is then rendered once, see engine.memo)."""

    def __init__(self, tasks: list[Context], scope: tuple[str, ...], playbook: Playbook,
                 engagement: Engagement):
        self._own = {k["id"]: k for k in tasks}
        self._scope, self._playbook, self._engagement = scope, playbook, engagement
        self._ids: dict[str, None] | None = None   # every id, in order

    def _all(self) -> dict[str, None]:
        if self._ids is None:
            known = self._playbook.key_task
            self._ids = {}
            for i in self._scope:
                try:
                    known(i)
                except KeyError:
                    continue
                self._ids[i] = None
            self._ids.update(dict.fromkeys(self._own))
        return self._ids

    def __getitem__(self, kt_id: str) -> Context:
        if kt_id in self._own:
            return self._own[kt_id]
        if kt_id in self._all():
            return key_task_entry(self._playbook.key_task(kt_id), self._playbook,
                                  self._engagement)
        raise KeyError(kt_id)

    def __contains__(self, kt_id: object) -> bool:
        return kt_id in self._own or kt_id in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._all()))

    def __len__(self) -> int:
        return len(self._all())

    def same_as(self, other: object) -> bool:
        """Whether ``other`` gives the same entries in the same order: the same ids of one
        playbook and engagement (an entry is made once from those, see key_task_entry)."""
        return isinstance(other, KeyTasksById) and other._playbook is self._playbook \
            and other._engagement is self._engagement \
            and list(other._all()) == list(self._all())


def _numbered(items: list[Context]) -> list[Context]:
    return [{"number": i, **item} for i, item in enumerate(items, 1)]


def rtm_rows(tasks: list[Context], engagement: Engagement) -> list[Context]:
    """The traceability matrix: the engagement's requirements (status defaulting to
    REQUIREMENT_STATUS), then each key task's activity rows (``kt.rtm``)."""
    out = [{**{f: getattr(r, f) for f in REQUIREMENT_FIELDS},
            "status": r.status or REQUIREMENT_STATUS, "key_task": "", "activity": ""}
           for r in engagement.requirements]
    return out + [row for k in tasks for row in k["rtm"]]


def _activity_rtm(entry: Context) -> list[Context]:
    """One RTM row per activity of a key task ('3.14-02': key task and activity number)."""
    out = []
    for a in entry["activities"]:
        notes = [f"Responsible party: {a['party']}"] if a["party"] else []
        if a["group"]:
            notes.insert(0, f"Activity group: {a['group']}")
        out.append({"id": f"{entry['id']}-{a['index']:02d}", "description": a["text"],
                    "process_area": entry["workstream"], "sub_process": entry["name"],
                    "source": f"M3 Playbook {entry['id']}", "type": "", "priority": "",
                    "decision_maker": a["owner"], "status": REQUIREMENT_STATUS,
                    "fit_gap": "", "test_cases": "", "notes": "; ".join(notes),
                    "key_task": entry["id"], "activity": a["number"]})
    return out


def _terms(playbook: Playbook, tasks: Iterable[KeyTask], texts: list[str]) -> list[Context]:
    return [{"name": t.name, "description": t.description, "section": t.section}
            for t in terms_used(playbook, tasks, texts)]


def _history(engagement: Engagement, description: str) -> list[Context]:
    """The document's revision history: this version, by the provider's lead."""
    author = engagement.lead(Party.PROVIDER) or engagement.provider or engagement.agency
    return [{"version": engagement.version, "date": long_date(engagement.as_of),
             "author": author, "description": description}]


def _assemble(base: Context, document: Context, kts: list[KeyTask], playbook: Playbook,
              engagement: Engagement, texts: list[str], scope: Iterable[str] = ()) -> Context:
    tasks = [key_task_entry(kt, playbook, engagement) for kt in kts]
    ctx = {**base, "document": document, "key_tasks": tasks}
    if len(tasks) == 1:
        ctx["key_task"] = tasks[0]
    ctx["activities"] = [a for k in tasks for a in k["activities"]]
    ctx["stakeholders"] = [s for k in tasks for s in k["stakeholders"]]
    ctx["key_tasks_by_id"] = KeyTasksById(tasks, tuple(scope), playbook, engagement)
    ctx.update(_status_lists(tasks))
    ctx["window"] = _window(tasks, engagement)
    ctx["rtm"] = rtm_rows(tasks, engagement)
    ctx["stakeholder_rows"] = stakeholder_rows(tasks)
    ctx["terms"] = _terms(playbook, kts, texts)
    return _with_placeholders(ctx, engagement)


# -- a document's and a key-task render's contexts ------------------------------------------------------------------------
def document_context(doc: Document, playbook: Playbook, engagement: Engagement) -> Context:
    """Everything one planned document is filled from."""
    phase = playbook.phase(doc.phase)
    produced = [k.id for k in doc.outputs_of]
    used = [k.id for k in doc.inputs_of]
    ptitle = phase_title(phase.number, phase.name)
    document = _document_part(
        doc.title, doc.deliverable.kind, phase, doc.key_tasks,
        titles=list(doc.deliverable.titles), version_label=doc.version_label,
        lineage=LINEAGE.get(doc.version_label, ""), format=doc.format,
        filename=doc.deliverable.filename or "",
        template_file=doc.deliverable.template_file or "", path=doc.path,
        produced_by=produced, used_by=used,
        roles={k.id: _role(k.id in produced, k.id in used) for k in doc.key_tasks})
    base = {**_engagement_part(engagement),
            "history": _history(engagement, f"{doc.version_label} for M3 {ptitle}, "
                                            f"prefilled from the M3 playbook")}
    return _assemble(base, document, list(doc.key_tasks), playbook, engagement, [doc.title],
                     doc.scope)


def _document_part(title: str, kind: str, phase: Phase | None, kts: Iterable[KeyTask],
                   **facts: Any) -> Context:
    """A context's ``document``: every name present, those that do not apply empty."""
    out: Context = {
        "title": title, "titles": [title], "phase": phase.number if phase else None,
        "phase_name": phase.name if phase else "",
        "phase_title": phase_title(phase.number, phase.name) if phase else "",
        "version_label": "", "lineage": "", "kind": kind, "format": "", "filename": "",
        "template_file": "", "path": "", "produced_by": [], "used_by": [], "roles": {},
        "key_task_ids": ", ".join(k.id for k in kts)}
    out.update(facts)
    return out


def _role(produces: bool, uses: bool) -> str:
    """What a key task does with the document: 'produces', 'uses' or 'uses and updates'."""
    if produces and uses:
        return "uses and updates"
    return "produces" if produces else "uses"


def key_task_context(playbook: Playbook, engagement: Engagement,
                     key_tasks: Iterable[str] = (), phases: Iterable[int] = ()) -> Context:
    """The context of a render for key tasks (by id) and/or whole phases, no planned
    document: ``document`` describes them; ``key_task`` is set when there is one."""
    ids, nums = list(key_tasks), list(phases)
    known = {kt.id for kt in playbook.key_tasks}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise M3DocsError(f"key task {', '.join(unknown)} is not in the playbook "
                          f"({playbook.root or 'bundled example'})")
    kts = [kt for kt in playbook.key_tasks if kt.id in ids or kt.phase in nums]
    if not kts:
        raise M3DocsError("no key task: give a key task id or a phase that has key tasks")
    first = playbook.phase(kts[0].phase)
    if len(kts) == 1:
        title = f"Key Task {kts[0].id}: {kts[0].name}"
    elif len({k.phase for k in kts}) == 1:
        title = phase_title(first.number, first.name)
    else:
        title = "M3 Key Tasks"
    document = _document_part(title, "key_task", first, kts)
    base = {**_engagement_part(engagement),
            "history": _history(engagement, "Prefilled from the M3 playbook")}
    return _assemble(base, document, kts, playbook, engagement, [])


# -- JSON ----------------------------------------------------------------------------------
def to_json(value: Any) -> Any:
    """A JSON-ready copy: rich text as its plain text, dates as ISO strings."""
    if isinstance(value, RichText):
        return value.plain
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# -- the pack's deliverables tracker -----------------------------------------------------------
FORMAT_LABELS = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}
PARTY_CODES = {Party.CUSTOMER: "C", Party.PROVIDER: "P", Party.SHARED: "S", Party.QSMO: "Q"}
USED = "Used"
#: Worst first: the status a deliverable shows when its producing key tasks differ.
STATUS_SEVERITY = ("R", "Y", "G", "P", "B")
NOT_REPORTED = "Not reported"
TRACKER_TITLE = "Deliverables Tracker"


def _unique_tasks(tasks: Iterable[KeyTask]) -> list[KeyTask]:
    seen: dict[str, KeyTask] = {}
    for kt in tasks:
        seen.setdefault(kt.id, kt)
    return sorted(seen.values(), key=lambda k: k.sort_key)


def _phase_label(docs: list[Document], phase: int) -> str:
    """'Version 1' in the first phase that outputs the deliverable, 'Updated' later (or
    when the planner labelled that first output 'Updated'), 'Used' where it is only an
    input, '' where the pack has none."""
    out_phases = sorted({d.phase for d in docs if d.outputs_of})
    if phase in out_phases:
        first = phase == out_phases[0] and not any(
            d.phase == phase and d.version_label == UPDATED for d in docs)
        return VERSION_1 if first else UPDATED
    return USED if any(d.phase == phase and d.inputs_of for d in docs) else ""


def _document_in(docs: list[Document], phase: int) -> Document | None:
    here = [d for d in docs if d.phase == phase]
    return next((d for d in here if d.outputs_of), here[0] if here else None)


def _tracked(docs: list[Document], phases: list[int], engagement: Engagement,
             files: dict[str, str] | None) -> Context:
    """One deliverable's row of the tracker (``files``: see tracker_context)."""
    def file_of(doc: Document | None) -> str:
        if doc is None or not doc.path:
            return ""
        return doc.path if files is None else files.get(doc.path, "")

    producers = _unique_tasks(kt for d in docs for kt in d.outputs_of)
    users = _unique_tasks(kt for d in docs for kt in d.inputs_of)
    cells = []
    for number in phases:
        label = _phase_label(docs, number)
        doc = _document_in(docs, number) if label else None
        cells.append({"phase": number, "label": label, "path": file_of(doc)})
    parties = sorted({p for kt in producers for p in kt.parties}, key=list(Party).index)
    statuses = [engagement.task_status(kt.id) for kt in producers]
    codes = {s.status for s in statuses if s.status}
    code = next((c for c in STATUS_SEVERITY if c in codes), "")
    pcts = [s.percent_complete for s in statuses if s.percent_complete is not None]
    linked = [d for d in docs if file_of(d)]
    latest = max(linked, key=lambda d: (d.phase, bool(d.outputs_of))) if linked else None
    return {"title": " / ".join(dict.fromkeys(d.title for d in docs)),
            "format": docs[0].format, "format_label": FORMAT_LABELS.get(docs[0].format,
                                                                        docs[0].format),
            "kind": docs[0].deliverable.kind, "phases": cells,
            "produced_by": ", ".join(kt.id for kt in producers),
            "used_by": ", ".join(kt.id for kt in users), "parties": parties_text(parties),
            "status": code,
            "status_label": (STATUS_CODES[code] if code else NOT_REPORTED) if producers else "",
            "percent": sum(pcts) / len(pcts) / 100 if producers and pcts else None,
            "path": file_of(latest),
            "file": file_of(latest).replace("\\", "/").rsplit("/", 1)[-1] if latest else ""}


def _raci(tasks: list[KeyTask]) -> list[Context]:
    """Stakeholder roles (first use first) with the party codes that fill each per key task."""
    roles: dict[str, str] = {}
    cells: dict[tuple[str, str], list[Party]] = {}
    for kt in tasks:
        for sh in kt.stakeholders:
            name = " ".join(sh.role.plain.split())
            roles.setdefault(name.lower(), name)
            parties = cells.setdefault((name.lower(), kt.id), [])
            parties += [p for p in sh.parties if p not in parties]
    return [{"role": name, "parties": [
        ", ".join(PARTY_CODES[p] for p in sorted(cells.get((key, kt.id), []),
                                                 key=list(Party).index)) for kt in tasks]}
        for key, name in roles.items()]


def tracker_context(documents: list[Document], playbook: Playbook, engagement: Engagement,
                    scope: Iterable[KeyTask] = (),
                    files: dict[str, str] | None = None) -> Context:
    """The context of a pack's deliverables tracker: one row per deliverable across the
    phases (its lineage), the stakeholder roles by key task (RACI) and the terms used.
    ``scope``: the pack's key tasks, those that list no document included. ``files``: the
    documents that have a file (document path -> the file's path from the tracker); a
    path in the context is then that file's, and "" for a document without one (default:
    every document has its file at its path)."""
    tasks = _unique_tasks(list(scope) + [kt for d in documents for kt in d.key_tasks])
    phases = sorted({p.number for p in playbook.phases} | {d.phase for d in documents})
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.deliverable.key, []).append(doc)
    ordered = [sorted(docs, key=lambda d: (d.phase, d.path)) for docs in groups.values()]
    rows = sorted(((docs[0].phase, _tracked(docs, phases, engagement, files))
                   for docs in ordered),
                  key=lambda pr: (pr[0], pr[1]["title"].lower(), pr[1]["title"]))
    covered = {kt.id for d in documents for kt in d.key_tasks}
    raci_tasks = tasks or list(playbook.key_tasks)
    ctx = {**_engagement_part(engagement),
           "document": _document_part(TRACKER_TITLE, "tracker", None, tasks, format="xlsx"),
           "phases": [{"number": n, "name": playbook.phase(n).name,
                       "title": phase_title(n, playbook.phase(n).name)} for n in phases],
           "deliverables": [row for _, row in rows],
           "idle_key_tasks": [{"id": kt.id, "name": kt.name} for kt in tasks
                              if kt.id not in covered],
           "raci_key_tasks": [{"id": kt.id, "name": kt.name} for kt in raci_tasks],
           "raci": _raci(raci_tasks),
           "party_codes": [{"code": c, "label": p.label} for p, c in PARTY_CODES.items()],
           "key_tasks": [key_task_entry(kt, playbook, engagement) for kt in tasks],
           "terms": _terms(playbook, tasks, [d.title for d in documents])}
    return _with_placeholders(ctx, engagement)
