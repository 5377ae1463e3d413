"""The engagement file: who the documents are for, who owns what, and status."""
from __future__ import annotations

import datetime as dt
import difflib
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import Diagnostic, M3DocsError, error, warning
from .playbook.model import Activity, Party, Playbook
from .status import STATUS_CODES, ActivityStatus, ScheduleStatus, TaskStatus, override, \
    override_activity
from .yamlsrc import LList, LMap, Pos, YamlError, decode, parse

# STATUS_CODES and TaskStatus live in m3docs.status; importing them from here still works.
REQUIREMENT_FIELDS = ("id", "description", "process_area", "sub_process", "source", "type",
                      "priority", "decision_maker", "status", "fit_gap", "test_cases", "notes")
_TOP_KEYS = ("agency", "program", "provider", "as_of", "version", "leads", "people", "scope",
             "status", "requirements", "templates", "formats", "placeholders", "schedule")
_STATUS_KEYS = ("percent_complete", "status", "start", "finish", "owner", "risks", "issues",
                "accomplishments", "upcoming")


#: What documents say for a stakeholder role the engagement names nobody for.
UNNAMED = "to be named"

@dataclass(frozen=True)
class Requirement:
    id: str
    description: str
    process_area: str = ""
    sub_process: str = ""
    source: str = ""
    type: str = ""
    priority: str = ""
    decision_maker: str = ""
    status: str = ""
    fit_gap: str = ""
    test_cases: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Scope:
    phases: tuple[int, ...] = ()
    key_tasks: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.phases or self.key_tasks)


def role_key(role: str) -> str:
    """How stakeholder roles compare: ignoring case and spacing."""
    return " ".join(role.split()).lower()


@dataclass(frozen=True)
class Engagement:
    """One engagement: agency, program, people, scope and status."""

    agency: str
    program: str
    provider: str = ""
    as_of: dt.date = field(default_factory=dt.date.today)
    version: str = "1.0"
    leads: dict[Party, str] = field(default_factory=dict)
    people: dict[str, dict[Party, str]] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    status: dict[str, TaskStatus] = field(default_factory=dict)
    requirements: tuple[Requirement, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    # the team's schedule: as named in the file (relative to it), and as read and matched
    schedule_file: str | None = None
    schedule: ScheduleStatus | None = field(default=None, compare=False, repr=False)
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False, repr=False)
    # (line, col) in the source of each key of formats, templates and people, as "people:KEY"
    where: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)

    def lead(self, party: Party) -> str:
        """The person who owns a party's activities ("shared": both leads)."""
        if party is Party.SHARED:
            names = [self.leads.get(Party.CUSTOMER, ""), self.leads.get(Party.PROVIDER, "")]
            return " / ".join(n for n in names if n)
        return self.leads.get(party, "")

    def owner(self, activity: Activity) -> str:
        """Names of the leads of an activity's parties, joined."""
        names: list[str] = []
        for party in activity.parties:
            for name in self.lead(party).split(" / "):
                if name and name not in names:
                    names.append(name)
        return " / ".join(names)

    def person(self, role: str, party: Party) -> str:
        """Who fills a stakeholder role for a party ('' when not named: documents then
        say UNNAMED)."""
        return self._people_by_role.get(role_key(role), {}).get(party, "")

    @functools.cached_property
    def _people_by_role(self) -> dict[str, dict[Party, str]]:
        """``people`` by ``role_key`` (the first of two keys that compare alike wins)."""
        out: dict[str, dict[Party, str]] = {}
        for key, by_party in self.people.items():
            out.setdefault(role_key(key), by_party)
        return out

    def task_status(self, key_task_id: str) -> TaskStatus:
        """A key task's status: the roll-up of its activities in the schedule (if any), with
        every field the engagement's ``status:`` entry for it sets put over it."""
        given = self.status.get(key_task_id, TaskStatus())
        if self.schedule is None or key_task_id not in self.schedule.tasks:
            return given
        return override(self.schedule.tasks[key_task_id], given)

    def activity_status(self, number: str) -> ActivityStatus:
        """An activity's status by IMS number ("3.14.2"): its own schedule figures and code,
        with what the engagement's ``status:`` sets for its key task put over them. Without a
        schedule row for it, the key task's engagement figures (as before schedules)."""
        kid = number.rsplit(".", 1)[0]
        given = self.status.get(kid, TaskStatus())
        act = self.schedule.activities.get(number) if self.schedule else None
        if act is None:
            return ActivityStatus(number, given.percent_complete, given.start, given.finish,
                                  given.finish if given.status == "B" else None, given.status,
                                  "engagement")
        return override_activity(act, given)

    @property
    def has_schedule(self) -> bool:
        """Whether status comes from a schedule (activity by activity)."""
        return self.schedule is not None

    def with_schedule(self, schedule: ScheduleStatus | None) -> "Engagement":
        """This engagement with status from ``schedule``."""
        return replace(self, schedule=schedule)

    @property
    def approvers(self) -> list[tuple[str, str]]:
        """(name, title) of everyone named in ``people``, customer first."""
        out: list[tuple[str, str]] = []
        for party in (Party.CUSTOMER, Party.PROVIDER, Party.QSMO):
            for role, by_party in self.people.items():
                name = by_party.get(party)
                if name and (name, f"{role}, {party.label}") not in out:
                    out.append((name, f"{role}, {party.label}"))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for the manifest)."""
        return {
            "agency": self.agency, "program": self.program, "provider": self.provider,
            "as_of": self.as_of.isoformat(), "version": self.version,
            "leads": {p.value: n for p, n in self.leads.items()},
            "people": {r: {p.value: n for p, n in d.items()} for r, d in self.people.items()},
            "scope": {"phases": list(self.scope.phases), "key_tasks": list(self.scope.key_tasks)},
            "status": {k: _status_dict(s) for k, s in self.status.items()},
            "requirements": [r.__dict__ for r in self.requirements],
            "templates": self.templates, "formats": self.formats,
            "placeholders": self.placeholders,
            **({"schedule": Path(self.schedule.source).name} if self.schedule else {}),
        }


def _status_dict(s: TaskStatus) -> dict[str, Any]:
    d = dict(s.__dict__)
    for k in ("start", "finish"):
        d[k] = d[k].isoformat() if d[k] else None
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


class _Reader:
    def __init__(self, path: str):
        self.path = path
        self.diags: list[Diagnostic] = []

    def err(self, pos: Pos, msg: str) -> None:
        self.diags.append(error(self.path, pos.line, pos.col, msg))

    def mapping(self, value: Any, pos: Pos, what: str, keys: tuple[str, ...] | None) -> LMap:
        if value is None:
            return LMap()
        if not isinstance(value, LMap):
            self.err(pos, f"'{what}' must be a mapping")
            return LMap()
        for dup in value.duplicates:
            self.err(dup.second, f"duplicate key '{dup.key}' in '{what}' (first at line "
                                 f"{dup.first.line}); the second value would win silently")
        if keys is not None:
            for key in value:
                if key not in keys:
                    near = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.7)
                    hint = f"; did you mean '{near[0]}'?" if near else ""
                    self.err(value.key_pos[key], f"unknown key '{key}' in '{what}'{hint} "
                                                 f"(known: {', '.join(keys)})")
        return value

    def text(self, data: LMap, key: str, required: bool = False, default: str = "") -> str:
        value = data.get(key)
        if value is None:
            if required and key not in data.bad:
                self.err(data.pos, f"missing required field '{key}'")
            return default
        if isinstance(value, (dict, list)) or isinstance(value, bool):
            self.err(data.where(key), f"'{key}' must be text")
            return default
        return str(value).strip()

    def date(self, data: LMap, key: str) -> dt.date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.err(data.where(key), f"'{key}' must be a date as YYYY-MM-DD, not {value!r}")
        return None

    def party(self, key: Any, pos: Pos) -> Party | None:
        try:
            return Party(str(key).strip().lower())
        except ValueError:
            self.err(pos, f"unknown party {key!r} (expected customer, provider, shared or qsmo)")
            return None

    def by_party(self, value: Any, pos: Pos, what: str) -> dict[Party, str]:
        data = self.mapping(value, pos, what, None)
        out: dict[Party, str] = {}
        for key in data:
            party = self.party(key, data.key_pos[key])
            name = self.text(data, key)
            if party is not None and name:
                out[party] = name
        return out

    def texts(self, data: LMap, key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
            self.err(data.where(key), f"'{key}' must be a list of text")
            return ()
        return tuple(str(v) for v in value)

    def task_status(self, key: str, value: Any, pos: Pos) -> TaskStatus:
        data = self.mapping(value, pos, f"status.{key}", _STATUS_KEYS)
        pct = data.get("percent_complete")
        if pct is not None and (isinstance(pct, bool) or not isinstance(pct, (int, float))
                                or not 0 <= pct <= 100):
            self.err(data.where("percent_complete"),
                     f"percent_complete must be a number from 0 to 100, not {pct!r}")
            pct = None
        code = self.text(data, "status").upper() or None
        if code is not None and code not in STATUS_CODES:
            self.err(data.where("status"), f"status {code!r} is not one of "
                                           f"{', '.join(STATUS_CODES)} ("
                                           + "; ".join(f"{k} {v}" for k, v in STATUS_CODES.items())
                                           + ")")
            code = None
        start, finish = self.date(data, "start"), self.date(data, "finish")
        if start and finish and finish < start:
            self.err(data.where("finish"), f"'finish' {finish} is before 'start' {start}")
        return TaskStatus(int(pct) if pct is not None else None, code, start,
                          finish, self.text(data, "owner") or None,
                          self.texts(data, "risks"), self.texts(data, "issues"),
                          self.texts(data, "accomplishments"), self.texts(data, "upcoming"))

    def requirements(self, value: Any, pos: Pos) -> tuple[Requirement, ...]:
        if value is None:
            return ()
        if not isinstance(value, LList):
            self.err(pos, "'requirements' must be a list")
            return ()
        out = []
        for i, (item, ipos) in enumerate(zip(value, value.item_pos), 1):
            data = self.mapping(item, ipos, "requirements", REQUIREMENT_FIELDS)
            desc = self.text(data, "description", required=True)
            rid = self.text(data, "id") or f"BR-{i:03d}"
            out.append(Requirement(rid, desc, **{k: self.text(data, k)
                                                 for k in REQUIREMENT_FIELDS[2:]}))
        return tuple(out)

    def scope(self, value: Any, pos: Pos) -> Scope:
        data = self.mapping(value, pos, "scope", ("phases", "key_tasks"))
        phases = []
        for p in data.get("phases") or []:
            if isinstance(p, bool) or not isinstance(p, int):
                self.err(data.where("phases"), f"scope phase {p!r} must be a whole number")
            else:
                phases.append(p)
        raw = data.get("key_tasks") or []
        if not isinstance(raw, list):
            self.err(data.where("key_tasks"), "'key_tasks' must be a list")
            raw = []
        texts = getattr(raw, "item_text", None) or [None] * len(raw)
        ids = []
        places = getattr(raw, "item_pos", None) or ([data.where("key_tasks")] * len(raw)
                                                    if raw else [])
        for item, text, ipos in zip(raw, texts, places):
            if isinstance(item, (dict, list)) or isinstance(item, bool) or item is None:
                self.err(ipos, f"key task {item!r} in 'scope' must be an id such as 3.14")
            else:
                ids.append((text if text is not None else str(item)).strip())
        return Scope(tuple(phases), tuple(ids))


def parse_engagement(data: Any, path: str) -> tuple[Engagement | None, list[Diagnostic]]:
    """Build an Engagement from parsed YAML, collecting every problem (use the engagement
    only when there is none)."""
    r = _Reader(path)
    if not isinstance(data, LMap):
        return None, [error(path, 1, 1, "an engagement file must be a mapping of fields")]
    top = r.mapping(data, data.pos, "engagement", _TOP_KEYS)
    people = {}
    pmap = r.mapping(top.get("people"), top.where("people"), "people", None)
    for role in pmap:
        people[str(role)] = r.by_party(pmap[role], pmap.where(role), f"people.{role}")
    smap = r.mapping(top.get("status"), top.where("status"), "status", None)
    status = {str(k): r.task_status(str(k), smap[k], smap.where(k)) for k in smap}
    fields = dict(
        agency=r.text(top, "agency", required=True), program=r.text(top, "program", required=True),
        provider=r.text(top, "provider"), version=r.text(top, "version", default="1.0"),
        leads=r.by_party(top.get("leads"), top.where("leads"), "leads"), people=people,
        scope=r.scope(top.get("scope"), top.where("scope")), status=status,
        requirements=r.requirements(top.get("requirements"), top.where("requirements")),
        templates=_str_map(r, top, "templates"), formats=_str_map(r, top, "formats"),
        placeholders=_str_map(r, top, "placeholders"), source=path,
        where=_key_positions(top, ("formats", "templates", "people")))
    for key in ("formats",):
        for title, fmt in fields[key].items():
            if fmt not in ("docx", "xlsx", "pptx"):
                r.err(top.where(key), f"format for {title!r} must be docx, xlsx or pptx")
    as_of = r.date(top, "as_of")
    schedule = r.text(top, "schedule") or None
    # built even when there are problems, so that its key-task ids can be checked too
    eng = Engagement(**fields, as_of=as_of or dt.date.today(), schedule_file=schedule)
    return eng, r.diags


def _key_positions(top: LMap, sections: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    out = {}
    for section in sections:
        data = top.get(section)
        if isinstance(data, LMap):
            for key in data:
                pos = data.key_pos.get(key, data.pos)
                out[f"{section}:{key}"] = (pos.line, pos.col)
    return out


def _str_map(r: _Reader, top: LMap, key: str) -> dict[str, str]:
    data = r.mapping(top.get(key), top.where(key), key, None)
    return {str(k): r.text(data, k) for k in data}


def load_engagement(path: str | Path, playbook: Playbook | None = None,
                    schedule: str | Path | None = None) -> Engagement:
    """Read an engagement file; raise M3DocsError with every problem of it (FILE:LINE:COL).

    With a playbook, key-task ids are checked against it and the team's schedule is read:
    ``schedule`` if given, else the file's ``schedule:`` (relative to the engagement file).
    Every error of the engagement and of the schedule comes in one M3DocsError; warnings
    (rows of the schedule that match nothing) are on ``Engagement.warnings``."""
    path = str(Path(path).expanduser())
    data, diags = _read_yaml(path)
    eng, more = parse_engagement(data, path)
    diags += more
    if eng is not None and playbook is not None:
        diags += check_against(eng, playbook, data)
    diags.sort(key=lambda d: (d.line, d.col))
    rows, where = None, None
    if playbook is not None and eng is not None:
        rows, where, found = _schedule_rows(path, schedule, eng, data)
        diags += found
    if any(d.is_error for d in diags) or eng is None:
        raise M3DocsError(diags)
    if rows is not None and playbook is not None:
        from .schedule import match_schedule
        status, notes = match_schedule(rows, playbook, eng.as_of, str(where))
        eng = replace(eng.with_schedule(status), warnings=tuple(notes))
    return eng


def _read_yaml(path: str) -> tuple[Any, list[Diagnostic]]:
    """The parsed file and the values in it that could not be read (a syntax error raises)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise M3DocsError([error(path, 0, 0, f"cannot read engagement file: "
                                             f"{exc.strerror or exc}")])
    diags: list[Diagnostic] = []
    try:
        return parse(decode(raw, path), path, collect=diags, text_keys=True), diags
    except YamlError as exc:
        raise M3DocsError(diags + [exc.diagnostic])


def _schedule_rows(path: str, given: str | Path | None, eng: Engagement,
                   data: Any) -> tuple[list | None, str | None, list[Diagnostic]]:
    """The rows of the schedule to read (``given``, else the file's ``schedule:`` beside it),
    its path and the problems reading it; no rows when there is no schedule."""
    from .schedule import read_schedule
    if given is not None:
        where = str(Path(given).expanduser())
    elif eng.schedule_file:
        where = str(Path(path).parent / Path(eng.schedule_file).expanduser())
        if not Path(where).is_file():
            pos = data.where("schedule")
            return None, where, [error(path, pos.line, pos.col,
                                       f"schedule file {where} not found")]
    else:
        return None, None, []
    rows, found = read_schedule(where)
    return rows, where, found


def check_against(eng: Engagement, playbook: Playbook, data: Any = None) -> list[Diagnostic]:
    """Key-task ids in scope and status must exist in the playbook (the problems found)."""
    known = {kt.id for kt in playbook.key_tasks}
    path = eng.source or "engagement"
    diags = []
    for where, ids in (("scope", eng.scope.key_tasks), ("status", tuple(eng.status))):
        for kid in ids:
            if kid not in known:
                pos = _pos_of(data, where, kid)
                diags.append(error(path, pos.line, pos.col,
                                   f"key task {kid} in '{where}' is not in the playbook"
                                   + _same_number(kid, known)))
    return diags


def _same_number(kid: str, known: set[str]) -> str:
    """A hint when an id written as a number reads like key tasks of the playbook."""
    try:
        value = float(kid)
    except ValueError:
        return ""
    alike = sorted((k for k in known if _as_float(k) == value), key=lambda k: (len(k), k))
    if not alike:
        return ""
    return (f"; as a number it cannot be told apart from {' and '.join(alike)}: write the id "
            f"as the playbook does, e.g. '{alike[0]}'")


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _pos_of(data: Any, where: str, kid: str) -> Pos:
    default = Pos("", 1, 1)
    if not isinstance(data, LMap):
        return default
    sect = data.get(where)
    if where == "status" and isinstance(sect, LMap):
        return sect.key_pos.get(kid, sect.pos) if kid in sect.key_pos else sect.pos
    if isinstance(sect, LMap) and isinstance(sect.get("key_tasks"), LList):
        lst = sect["key_tasks"]
        for item, text, pos in zip(lst, lst.item_text, lst.item_pos):
            if (text if text is not None else str(item)).strip() == kid:
                return pos
    return data.where(where) if where in data else default


def example_engagement() -> Engagement:
    """The engagement used when none is given."""
    return Engagement(agency="U.S. Department of Examples",
                      program="Financial Management Modernization",
                      provider="Example Shared Service Provider", as_of=dt.date(2026, 11, 24),
                      leads={Party.CUSTOMER: "Jordan Avery", Party.PROVIDER: "Riley Chen",
                             Party.QSMO: "Morgan Diaz"},
                      people={"Program Manager": {Party.CUSTOMER: "Jordan Avery",
                                                  Party.PROVIDER: "Riley Chen"},
                              "Business Owner": {Party.CUSTOMER: "Casey Lee"}})


def unlisted_roles(playbook: Playbook, engagement: Engagement) -> list[Diagnostic]:
    """Roles under ``people`` that look like a misspelt stakeholder role of the playbook
    (a role the playbook lacks altogether may be meant for sign-off only: no warning)."""
    roles = {role_key(s.role.plain): s.role.plain
             for kt in playbook.key_tasks for s in kt.stakeholders}
    out = []
    for role in engagement.people:
        near = difflib.get_close_matches(role_key(role), list(roles), n=1, cutoff=0.85)
        if role_key(role) in roles or not near:
            continue
        out.append(warning(engagement.source or "engagement",
                           *engagement.where.get(f"people:{role}", (0, 0)),
                           f"people: {role!r} is no stakeholder role of the playbook; did you "
                           f"mean {roles[near[0]]!r}? (as written, its people only sign as "
                           f"approvers)"))
    return out
