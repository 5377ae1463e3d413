"""Table filling by header, as data: which header asks for which field of which feed.

A *feed* is a list of rows the engagement and the document's key tasks can
supply (activities, milestones, requirements, risks, stakeholders, document
history). A table whose header row names a feed's key columns (and enough
columns overall) is filled with that feed's rows. The rules below are format
free; docx.py, xlsx.py and pptx.py find tables and write cells.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...engagement import STATUS_CODES, Engagement
from ...playbook.model import KeyTask, Party
from ...plan import Document
from .placeholders import long_date


def _rx(text: str) -> re.Pattern:
    return re.compile(text, re.IGNORECASE)


@dataclass(frozen=True)
class FeedRule:
    """Columns of one feed: (field, header pattern) in priority order; ``keys`` must all match."""

    name: str
    columns: tuple[tuple[str, re.Pattern], ...]
    keys: tuple[str, ...]
    min_columns: int


_OWNER = _rx(r"\b(owner|responsible|lead|assigned to|poc|point of contact)\b")
_STATUS = _rx(r"^status$|^(activity|task|milestone|current) status$")
_NOTES = _rx(r"\b(notes?|comments?|escalation|remarks?)\b")

FEED_RULES: tuple[FeedRule, ...] = (
    FeedRule("activities", (
        ("ims", _rx(r"\bims\b|\bwbs\b|^(task|activity|action item) (id|#|no\.?)$|^(id|#)$")),
        ("percent", _rx(r"%|percent")),
        ("activity", _rx(r"^(major |key |project )?(activit(y|ies)|tasks?|action items?)"
                         r"( name| description| title)?$")),
        ("owner", _OWNER),
        ("start", _rx(r"\bstart\b")),
        ("actual_finish", _rx(r"\bactual (finish|end|completion)")),
        ("finish", _rx(r"\b(finish|end date|due( date)?|completion date|target date)\b")),
        ("status", _STATUS),
        ("key_task", _rx(r"\bkey task\b")),
        ("workstream", _rx(r"\bworkstream\b")),
        ("notes", _NOTES),
    ), ("activity",), 3),
    FeedRule("milestones", (
        ("ims", _rx(r"\bims\b|\bwbs\b|^(milestone) (id|#|no\.?)$")),
        ("milestone", _rx(r"^(major |key )?milestones?( name| description)?$")),
        ("owner", _OWNER),
        ("actual_finish", _rx(r"\bactual (finish|end|completion)")),
        ("finish", _rx(r"\b(finish|end date|due( date)?|completion date|target date)\b")),
        ("status", _STATUS),
        ("notes", _NOTES),
    ), ("milestone",), 3),
    FeedRule("requirements", (
        ("id", _rx(r"requirements?\b.*(\bid|#|\bnumber|\bno\.?)$|^req(uirement)?\.? ?(id|#)")),
        ("sub_process", _rx(r"sub.?process|level 2")),
        ("process_area", _rx(r"^process area|level 1")),
        ("description", _rx(r"^requirements? (description|definition|statement|text)|"
                            r"^(business )?requirements?$")),
        ("type", _rx(r"^requirement type$|^type$")),
        ("source", _rx(r"^requirement source$|^source$")),
        ("priority", _rx(r"^priority$")),
        ("decision_maker", _rx(r"decision maker")),
        ("status", _rx(r"^(requirement )?status$")),
        ("fit_gap", _rx(r"^fit ?/ ?gap$")),
        ("test_cases", _rx(r"test case")),
        ("notes", _rx(r"^(remarks?|notes?|comments?)\b")),
    ), ("id", "description"), 2),
    FeedRule("risks", (
        ("number", _rx(r"^(#|no\.?|id|risk id|issue id|risk #)$")),
        ("risk", _rx(r"^(top )?(risks?|issues?)( ?/ ?(risks?|issues?))?( description| title)?$")),
        ("mitigation", _rx(r"mitigation|response|resolution")),
        ("owner", _OWNER),
        ("status", _STATUS),
    ), ("risk",), 2),
    FeedRule("highlights", (
        ("accomplishments", _rx(r"\baccomplishments?\b")),
        ("upcoming", _rx(r"\bupcoming\b|\bnext steps?\b|\bplanned activities\b")),
    ), ("accomplishments",), 1),
    FeedRule("stakeholders", (
        ("role", _rx(r"^(stakeholder )?(roles?|positions?)$|^stakeholders?$")),
        ("name", _rx(r"^(stakeholder |person'?s? )?names?$|^individual")),
        ("party", _rx(r"organi[sz]ation|\bparty\b|customer ?/ ?provider")),
    ), ("role", "name"), 2),
    FeedRule("history", (
        ("version", _rx(r"^(release|version|rev(ision)?)( no\.?| number| #)?$")),
        ("date", _rx(r"^date$")),
        ("author", _rx(r"^(author|prepared by|editor)$")),
        ("description", _rx(r"description|summary of change|^changes?$")),
    ), ("version", "date"), 3),
)


def normalize_header(text: str) -> str:
    return " ".join(text.replace("*", " ").split()).strip(" :").lower()


def match_columns(rule: FeedRule, headers: list[str]) -> dict[int, str]:
    """Header cell index -> field, each field taken by its first matching header."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for i, raw in enumerate(headers):
        head = normalize_header(raw)
        if not head:
            continue
        for name, pattern in rule.columns:
            if name not in taken and pattern.search(head):
                out[i] = name
                taken.add(name)
                break
    return out


@dataclass
class Feed:
    """Rows one table kind can take."""

    rule: FeedRule
    rows: list[dict[str, str]]
    used: bool = False


def best_feed(feeds: list[Feed], headers: list[str]) -> tuple[Feed, dict[int, str]] | None:
    """The feed whose columns this header row names best (None: not a table we fill)."""
    best = None
    for feed in feeds:
        if not feed.rows:
            continue
        cols = match_columns(feed.rule, headers)
        fields = set(cols.values())
        if all(k in fields for k in feed.rule.keys) and len(cols) >= feed.rule.min_columns:
            if best is None or len(cols) > len(best[1]):
                best = (feed, cols)
    return best


# -- template rows -------------------------------------------------------------------------
INSTRUCTION = _rx(r"^\s*(<|\[)|^\s*(insert|enter|list|name the|provide|select|indicate|describe|"
                  r"document|identify|track|estimate|add|include|explain|summari[sz]e|record|"
                  r"specify|note|e\.g\.|for example|type|fill)\b")


def row_kind(texts: list[str]) -> str:
    """'blank', 'instruction' or 'example' for a template row's cell texts."""
    words = [t.strip() for t in texts if t and t.strip()]
    words = [t for t in words if t not in STATUS_CODES and not re.fullmatch(r"\d+\.?", t)]
    if not words:
        return "blank"
    hits = sum(1 for t in words if INSTRUCTION.search(t))
    return "instruction" if hits * 2 >= len(words) else "example"


def prototype_index(kinds: list[str]) -> int:
    """The template row to clone: the first styled blank row (the look real entries get),
    else the first example row, else the first row."""
    for want in ("blank", "example"):
        if want in kinds:
            return kinds.index(want)
    return 0


# -- feeds ---------------------------------------------------------------------------------
def _date(d) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}" if d else ""


def _party_names(engagement: Engagement, parties: tuple[Party, ...]) -> str:
    names: list[str] = []
    for party in parties:
        for name in engagement.lead(party).split(" / "):
            if name and name not in names:
                names.append(name)
    return " / ".join(names) or " / ".join(p.label for p in parties)


def activity_rows(tasks: tuple[KeyTask, ...], engagement: Engagement) -> list[dict[str, str]]:
    rows = []
    for kt in tasks:
        st = engagement.task_status(kt.id)
        for act in kt.activities:
            owner = engagement.owner(act) or " / ".join(p.label for p in act.parties)
            rows.append({
                "ims": f"{kt.id}.{act.number}", "activity": act.text.plain,
                "owner": st.owner or owner,
                "percent": f"{st.percent_complete}%" if st.percent_complete is not None else "",
                "start": _date(st.start), "finish": _date(st.finish),
                "actual_finish": _date(st.finish) if st.status == "B" else "",
                "status": st.status or "", "key_task": f"{kt.id} {kt.name}",
                "workstream": kt.workstream or "", "notes": ""})
    return rows


def milestone_rows(tasks: tuple[KeyTask, ...], engagement: Engagement) -> list[dict[str, str]]:
    rows = []
    for kt in tasks:
        st = engagement.task_status(kt.id)
        for out in kt.outputs:
            rows.append({
                "ims": kt.id, "milestone": f"{out.title.plain} complete",
                "owner": st.owner or _party_names(engagement, kt.parties),
                "finish": _date(st.finish),
                "actual_finish": _date(st.finish) if st.status == "B" else "",
                "status": st.status or "", "notes": f"Key task {kt.id} {kt.name}"})
    return rows


def risk_rows(tasks: tuple[KeyTask, ...], engagement: Engagement) -> list[dict[str, str]]:
    items = []
    for kt in tasks:
        st = engagement.task_status(kt.id)
        items += [(text, st) for text in st.risks + st.issues]
    return [{"number": str(i), "risk": text, "mitigation": "", "owner": st.owner or "",
             "status": "Open"} for i, (text, st) in enumerate(items, 1)]


def highlight_rows(tasks: tuple[KeyTask, ...], engagement: Engagement) -> list[dict[str, str]]:
    done = [t for kt in tasks for t in engagement.task_status(kt.id).accomplishments]
    upcoming = [t for kt in tasks for t in engagement.task_status(kt.id).upcoming]
    if not done and not upcoming:
        return []
    return [{"accomplishments": "\n".join(done), "upcoming": "\n".join(upcoming)}]


def stakeholder_rows(tasks: tuple[KeyTask, ...], engagement: Engagement) -> list[dict[str, str]]:
    rows, seen = [], set()
    for kt in tasks:
        for sh in kt.stakeholders:
            for party in sh.parties:
                key = (sh.role.plain, party)
                if key in seen:
                    continue
                seen.add(key)
                rows.append({"role": sh.role.plain, "party": party.label,
                             "name": engagement.person(sh.role.plain, party)})
    return rows


def requirement_rows(engagement: Engagement) -> list[dict[str, str]]:
    return [dict(r.__dict__) for r in engagement.requirements]


def history_rows(engagement: Engagement) -> list[dict[str, str]]:
    return [{"version": engagement.version, "date": long_date(engagement.as_of),
             "author": engagement.lead(Party.CUSTOMER) or engagement.provider,
             "description": "Initial draft, prefilled from the M3 Playbook"}]


def build_feeds(doc: Document, engagement: Engagement) -> list[Feed]:
    tasks = doc.key_tasks
    data = {"activities": activity_rows(tasks, engagement),
            "milestones": milestone_rows(tasks, engagement),
            "requirements": requirement_rows(engagement),
            "risks": risk_rows(tasks, engagement),
            "highlights": highlight_rows(tasks, engagement),
            "stakeholders": stakeholder_rows(tasks, engagement),
            "history": history_rows(engagement)}
    return [Feed(rule, data[rule.name]) for rule in FEED_RULES]


def context_placed(feeds: list[Feed]) -> bool:
    """Whether the key tasks' activities found a table (else the fill adds a context section)."""
    return any(f.used for f in feeds if f.rule.name == "activities")


# -- key-task context, for templates with nowhere to put it ---------------------------------
@dataclass
class Block:
    """One piece of context: a heading, paragraphs, or a small table."""

    kind: str  # "h1", "h2", "p", "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


def context_blocks(doc: Document, engagement: Engagement) -> list[Block]:
    out = [Block("h1", "M3 Key Task Context"),
           Block("p", f"Prefilled for {engagement.agency}, {engagement.program}, as of "
                      f"{long_date(engagement.as_of)}, from the M3 Playbook key tasks that "
                      f"produce or use this document.")]
    for kt in doc.key_tasks:
        st = engagement.task_status(kt.id)
        out.append(Block("h2", f"{kt.id} {kt.name}"))
        if kt.objective:
            out.append(Block("p", f"Objective: {kt.objective.plain}"))
        if st.status or st.percent_complete is not None:
            code = st.status or ""
            out.append(Block("p", f"Status: {STATUS_CODES.get(code, code)}"
                                  + (f", {st.percent_complete}% complete"
                                     if st.percent_complete is not None else "")
                                  + (f", finish {_date(st.finish)}" if st.finish else "")))
        rows = [["#", "Activity", "Owner"]] + [
            [f"{kt.id}.{a.number}", a.text.plain,
             engagement.owner(a) or " / ".join(p.label for p in a.parties)]
            for a in kt.activities]
        out.append(Block("table", rows=rows))
        for label, refs in (("Inputs", kt.inputs), ("Outputs", kt.outputs)):
            if refs:
                out.append(Block("p", f"{label}: " + "; ".join(r.title.plain for r in refs)))
        people = [f"{r['role']} ({r['party']}): {r['name'] or 'to be named'}"
                  for r in stakeholder_rows((kt,), engagement)]
        if people:
            out.append(Block("p", "Stakeholders: " + "; ".join(people)))
    return out
