"""Table filling by header, as data: which header asks for which field of which feed.

A *feed* is a list of rows the engagement and the document's key tasks can
supply (activities, milestones, requirements, risks, stakeholders, document
history). A table whose header row names a feed's key columns (and enough
columns overall) is filled with that feed's rows. The rules below are format
free; docx.py, xlsx.py and pptx.py find tables and write cells.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Callable

from ...engagement import STATUS_CODES, UNNAMED, Engagement
from ...playbook.model import KeyTask, Party, Playbook
from ...playbook.richtext import BULLET
from ...plan import Document
from ...status import ActivityStatus, in_window
from ..common import UNNAMED_LABEL, named_first, unnamed_line
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


def _fits(rule: FeedRule, cols: dict[int, str]) -> bool:
    fields = set(cols.values())
    return all(k in fields for k in rule.keys) and len(cols) >= rule.min_columns


def table_rule_fits(rule: FeedRule, headers: list[str]) -> bool:
    """Whether this header row names the rule's key columns and enough columns overall."""
    return _fits(rule, match_columns(rule, headers))


def best_feed(feeds: list[Feed], headers: list[str]) -> tuple[Feed, dict[int, str]] | None:
    """The feed whose columns this header row names best (None: not a table we fill)."""
    best = None
    for feed in feeds:
        if not feed.rows:
            continue
        cols = match_columns(feed.rule, headers)
        if _fits(feed.rule, cols):
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


# A row that closes a table rather than holding an entry: it stays below the filled rows.
SUMMARY = _rx(r"^((grand |sub-?)?totals?|sum|average|mean|count|overall)\b|"
              r"^(notes?|comments?|remarks?|legend|key|source)\s*:|"
              r"^(sign[- ]?off|approv(ed|al)|prepared by|reviewed by|signature|"
              r"date signed|certified)\b")


@dataclass(frozen=True)
class TemplateRow:
    """What the fill needs to know of a template row below the header."""

    texts: list[str]
    layout: tuple[int, ...]   # the grid span of each cell
    computed: bool = False    # holds a formula or field


def row_stays(row: TemplateRow, header_layout: tuple[int, ...], after_entry: bool) -> bool:
    """Whether a row below the header is part of the table's frame (a total, a note, a
    sign-off line) rather than an entry slot, so it stays below the filled rows."""
    words = [t.strip() for t in row.texts if t and t.strip()]
    if not words:
        return False
    if row.computed or SUMMARY.search(words[0]):
        return True
    if row_kind(row.texts) == "instruction":
        return False
    return after_entry and row.layout != header_layout


def kept_rows_start(rows: list[TemplateRow], header_layout: tuple[int, ...]) -> int:
    """Index of the first template row that stays, with all rows after it (len: none stay).

    Rows above it are entry slots (blank, example or instruction rows) the fill replaces.
    A row shaped unlike the header (merged cells) only closes the table once an entry-shaped
    row came before it, so a merged instruction row above the slots is still replaced."""
    seen_entry = False
    for i, row in enumerate(rows):
        if row_stays(row, header_layout, seen_entry):
            return i
        seen_entry = seen_entry or row.layout == header_layout
    return len(rows)


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


def activity_rows(tasks: tuple[KeyTask, ...], engagement: Engagement,
                  keep: Callable[[ActivityStatus], bool] | None = None) -> list[dict[str, str]]:
    """One row per activity with its own figures (``keep``: only the activities it takes)."""
    rows = []
    for kt in tasks:
        owner_of_task = engagement.task_status(kt.id).owner
        for act in kt.activities:
            st = engagement.activity_status(f"{kt.id}.{act.number}")
            if keep is not None and not keep(st):
                continue
            owner = engagement.owner(act) or " / ".join(p.label for p in act.parties)
            rows.append({
                "ims": f"{kt.id}.{act.number}", "activity": act.text.plain,
                "owner": owner_of_task or owner,
                "percent": f"{st.percent_complete}%" if st.percent_complete is not None else "",
                "start": _date(st.start), "finish": _date(st.finish),
                "actual_finish": _date(st.actual_finish),
                "status": st.status or "", "key_task": f"{kt.id} {kt.name}",
                "workstream": kt.workstream or "", "notes": ""})
    return rows


# A slide or table that lists a coming window of time: "Major Activities Over Next 30-45 Days"
WINDOW = _rx(r"\bnext\s+(\d+)(?:\s*(?:-|\u2013|to)\s*(\d+))?\s+days\b")


def window_days(texts: list[str]) -> int | None:
    """The days a slide's texts say it looks ahead ("next 30-45 days": 45), if any."""
    for text in texts:
        m = WINDOW.search(text)
        if m:
            return int(m.group(2) or m.group(1))
    return None


def window_rows(tasks: tuple[KeyTask, ...], engagement: Engagement,
                days: int) -> list[dict[str, str]]:
    """The activities of a "next N days" list: when dates are known, those in progress or
    starting or finishing before as_of + N days; else one row per key task."""
    numbers = [f"{kt.id}.{a.number}" for kt in tasks for a in kt.activities]
    if any(engagement.activity_status(n).dated for n in numbers):
        rows = activity_rows(tasks, engagement, lambda st: in_window(st, engagement.as_of, days))
        horizon = engagement.as_of + dt.timedelta(days=days)
        return rows or [{"activity": f"No activity in progress or due by {_date(horizon)}"}]
    out = []
    for kt in tasks:
        st = engagement.task_status(kt.id)
        out.append({"ims": kt.id, "activity": kt.name,
                    "owner": st.owner or _party_names(engagement, kt.parties),
                    "percent": f"{st.percent_complete}%" if st.percent_complete is not None
                    else "", "start": _date(st.start), "finish": _date(st.finish),
                    "actual_finish": "", "status": st.status or "",
                    "key_task": f"{kt.id} {kt.name}", "workstream": kt.workstream or "",
                    "notes": ""})
    return out


def window_feeds(feeds: list[Feed], doc: Document, engagement: Engagement,
                 days: int) -> list[Feed]:
    """The feeds with the activities cut to a "next N days" window."""
    return [Feed(f.rule, window_rows(doc.key_tasks, engagement, days))
            if f.rule.name == "activities" else f for f in feeds]


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


def requirement_rows(doc: Document, engagement: Engagement,
                     playbook: Playbook) -> list[dict[str, str]]:
    """The rows of our own RTM (the content model's ``rtm``): the engagement's requirements,
    then one row per activity of the key tasks that output or use the document."""
    from ...content import key_task_entry, rtm_rows
    tasks = [key_task_entry(kt, playbook, engagement) for kt in doc.key_tasks]
    return [{k: "" if v is None else str(v) for k, v in rec.items()}
            for rec in rtm_rows(tasks, engagement)]


def history_rows(engagement: Engagement) -> list[dict[str, str]]:
    return [{"version": engagement.version, "date": long_date(engagement.as_of),
             "author": engagement.lead(Party.CUSTOMER) or engagement.provider,
             "description": "Initial draft, prefilled from the M3 Playbook"}]


def build_feeds(doc: Document, engagement: Engagement, playbook: Playbook) -> list[Feed]:
    tasks = doc.key_tasks
    data = {"activities": activity_rows(tasks, engagement),
            "milestones": milestone_rows(tasks, engagement),
            "requirements": requirement_rows(doc, engagement, playbook),
            "risks": risk_rows(tasks, engagement),
            "highlights": highlight_rows(tasks, engagement),
            "stakeholders": stakeholder_rows(tasks, engagement),
            "history": history_rows(engagement)}
    return [Feed(rule, data[rule.name]) for rule in FEED_RULES]


def context_placed(feeds: list[Feed]) -> bool:
    """Whether the key tasks' activities found a table (else the fill adds a context section)."""
    return any(f.used for f in feeds if f.rule.name == "activities")


# -- key-task context ----------------------------------------------------------------------
@dataclass
class Block:
    """One piece of context: a heading, a paragraph, a bullet, or a small table.

    ``text`` is complete as it reads (``"Objective: ..."``); ``label`` repeats its lead-in
    (``"Objective"``) for formats that set it apart. A ``table``'s first row is its header."""

    kind: str  # "h1", "h2", "h3", "p", "bullet", "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    label: str = ""
    rank: int = 0   # what goes first when space is short: the highest rank


ACTIVITIES_PLACED = ("The activities of this key task are listed in the template's activity "
                     "table.")
ACTIVITY_HEADER = ["#", "Activity", "Owner"]


def _labelled(label: str, text: str) -> Block:
    return Block("p", f"{label}: {text}", label=label)


def _status_block(kt: KeyTask, engagement: Engagement) -> list[Block]:
    st = engagement.task_status(kt.id)
    if not st.status and st.percent_complete is None:
        return []
    code = st.status or ""
    text = (STATUS_CODES.get(code, code)
            + (f", {st.percent_complete}% complete" if st.percent_complete is not None else "")
            + (f", finish {_date(st.finish)}" if st.finish else ""))
    return [_labelled("Status", text)]


def _activity_blocks(kt: KeyTask, engagement: Engagement) -> list[Block]:
    """The activities as tables, one per group, each group's title as a sub-heading."""
    out = []
    for group in kt.groups:
        if group.title:
            out.append(Block("h3", group.title.plain))
        rows = [ACTIVITY_HEADER] + [
            [f"{kt.id}.{a.number}", a.text.plain,
             engagement.owner(a) or " / ".join(p.label for p in a.parties)]
            for a in group.activities]
        out.append(Block("table", rows=rows))
    return out


def _reference_blocks(kt: KeyTask, engagement: Engagement) -> list[Block]:
    out = []
    for label, refs in (("Inputs", kt.inputs), ("Outputs", kt.outputs)):
        if refs:
            out.append(_labelled(label, "; ".join(r.title.plain for r in refs)))
    named, unnamed = named_first(kt.stakeholders, engagement)
    people = [f"{r['role']} ({r['party']}): {r['name'] or UNNAMED}"
              for r in stakeholder_rows((replace(kt, stakeholders=tuple(named)),), engagement)]
    if people:
        out.append(_labelled("Stakeholders", "; ".join(people)))
    if unnamed:   # one line, not a "to be named" entry per role
        out.append(_labelled(f"Stakeholders {UNNAMED_LABEL.lower()}", unnamed_line(unnamed)))
    return out


def key_task_blocks(kt: KeyTask, engagement: Engagement, activities_placed: bool) -> list[Block]:
    """Everything a reader needs of one key task, in the playbook page's order."""
    out = [Block("h2", f"{kt.id} {kt.name}")]
    if kt.objective:
        out.append(_labelled("Objective", kt.objective.plain))
    out += _status_block(kt, engagement)
    if kt.activities or kt.activities_text:
        out.append(Block("p", "Activities", label="Activities"))
    if kt.activities:
        out += [Block("p", ACTIVITIES_PLACED)] if activities_placed \
            else _activity_blocks(kt, engagement)
    if kt.activities_text:
        out.append(Block("p", kt.activities_text.plain, rank=1))
    out += _reference_blocks(kt, engagement)
    if kt.best_practices:
        out.append(Block("p", "Best practices", label="Best practices", rank=2))
        out += [Block("bullet", f"{BULLET}{bp.plain}", rank=2) for bp in kt.best_practices]
    return out


def context_blocks(doc: Document, engagement: Engagement, activities_placed: bool = False,
                   slide: bool = False) -> list[Block]:
    """The key-task context of a document. ``activities_placed``: the activities filled a
    template table, so they are not repeated. ``slide``: keep what fits on one slide."""
    out = [Block("h1", "M3 Key Task Context"),
           Block("p", f"Prefilled for {engagement.agency}, {engagement.program}, as of "
                      f"{long_date(engagement.as_of)}, from the M3 Playbook key tasks that "
                      f"produce or use this document.")]
    for kt in doc.key_tasks:
        out += key_task_blocks(kt, engagement, activities_placed)
    return fit_blocks(out, DECK_LINES) if slide else out


# -- fitting the context to a slide ---------------------------------------------------------
DECK_LINES = 26        # lines of 12 pt text the deck's context box holds
DECK_LINE_CHARS = 120  # characters on one of its lines (a 16:9 slide's width, with margin)
MORE = "More on these key tasks (activities, best practices) is in the M3 Playbook."


def _lines(text: str, chars: int) -> int:
    return max(1, -(-len(text) // chars))


def block_lines(block: Block, chars: int = DECK_LINE_CHARS) -> int:
    """Lines a block takes on a slide (a table: one or more per row, header not shown)."""
    if block.kind == "h1":
        return 0
    if block.kind == "table":
        return sum(_lines("  ".join(row), chars) for row in block.rows[1:])
    return _lines(block.text, chars)


def fit_blocks(blocks: list[Block], max_lines: int, chars: int = DECK_LINE_CHARS) -> list[Block]:
    """The blocks that fit in ``max_lines``: the highest ranks go first, then the end is cut
    (a table by rows); a last line then says more is in the playbook."""
    cost = lambda bs: sum(block_lines(b, chars) for b in bs)  # noqa: E731
    if cost(blocks) <= max_lines:
        return list(blocks)
    out = list(blocks)
    for rank in sorted({b.rank for b in out if b.rank}, reverse=True):
        out = [b for b in out if b.rank != rank]
        if cost(out) < max_lines:
            return out + [Block("p", MORE)]
    return _cut(out, max_lines - 1, chars) + [Block("p", MORE)]


def _cut(blocks: list[Block], room: int, chars: int) -> list[Block]:
    """The leading blocks within ``room`` lines, a table cut by rows, no dangling heading."""
    kept: list[Block] = []
    for b in blocks:
        need = block_lines(b, chars)
        if need > room:
            if b.kind == "table" and len(rows := _rows_within(b.rows, room, chars)) > 1:
                kept.append(Block("table", rows=rows))
            break
        kept.append(b)
        room -= need
    while kept and (kept[-1].kind in ("h2", "h3") or kept[-1].text == kept[-1].label != ""):
        kept.pop()
    return kept


def _rows_within(rows: list[list[str]], room: int, chars: int) -> list[list[str]]:
    out = rows[:1]
    for row in rows[1:]:
        room -= _lines("  ".join(row), chars)
        if room < 0:
            break
        out.append(row)
    return out
