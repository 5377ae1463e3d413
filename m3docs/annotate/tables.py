"""Tables found by their header, as data: which header asks for which field of which feed.

A *feed* is a list of rows the content model supplies (activities, milestones, requirements,
risks, stakeholders, document history). A table whose header row names a feed's key columns
(and enough columns overall) becomes a loop over that feed's rows; which template rows stay
(totals, notes below the table) and which row is the prototype is decided here too. The
rules are format free; the annotators (docx.py, xlsx.py, pptx.py) find the tables and write
the tags.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..engagement import STATUS_CODES
from .blanks import rx


@dataclass(frozen=True)
class FeedRule:
    """Columns of one feed: (field, header pattern) in priority order; ``keys`` must all match."""

    name: str
    columns: tuple[tuple[str, re.Pattern], ...]
    keys: tuple[str, ...]
    min_columns: int


_OWNER = rx(r"\b(owner|responsible|lead|assigned to|poc|point of contact)\b")
_STATUS = rx(r"^status$|^(activity|task|milestone|current) status$")
_NOTES = rx(r"\b(notes?|comments?|escalation|remarks?)\b")

FEED_RULES: tuple[FeedRule, ...] = (
    FeedRule("activities", (
        ("ims", rx(r"\bims\b|\bwbs\b|^(task|activity|action item) (id|#|no\.?)$|^(id|#)$")),
        ("percent", rx(r"%|percent")),
        ("activity", rx(r"^(major |key |project )?(activit(y|ies)|tasks?|action items?)"
                         r"( name| description| title)?$")),
        ("owner", _OWNER),
        ("start", rx(r"\bstart\b")),
        ("actual_finish", rx(r"\bactual (finish|end|completion)")),
        ("finish", rx(r"\b(finish|end date|due( date)?|completion date|target date)\b")),
        ("status", _STATUS),
        ("key_task", rx(r"\bkey task\b")),
        ("workstream", rx(r"\bworkstream\b")),
        ("notes", _NOTES),
    ), ("activity",), 3),
    FeedRule("milestones", (
        ("ims", rx(r"\bims\b|\bwbs\b|^(milestone) (id|#|no\.?)$")),
        ("milestone", rx(r"^(major |key )?milestones?( name| description)?$")),
        ("owner", _OWNER),
        ("actual_finish", rx(r"\bactual (finish|end|completion)")),
        ("finish", rx(r"\b(finish|end date|due( date)?|completion date|target date)\b")),
        ("status", _STATUS),
        ("notes", _NOTES),
    ), ("milestone",), 3),
    FeedRule("requirements", (
        ("id", rx(r"requirements?\b.*(\bid|#|\bnumber|\bno\.?)$|^req(uirement)?\.? ?(id|#)")),
        ("sub_process", rx(r"sub.?process|level 2")),
        ("process_area", rx(r"^process area|level 1")),
        ("description", rx(r"^requirements? (description|definition|statement|text)|"
                            r"^(business )?requirements?$")),
        ("type", rx(r"^requirement type$|^type$")),
        ("source", rx(r"^requirement source$|^source$")),
        ("priority", rx(r"^priority$")),
        ("decision_maker", rx(r"decision maker")),
        ("status", rx(r"^(requirement )?status$")),
        ("fit_gap", rx(r"^fit ?/ ?gap$")),
        ("test_cases", rx(r"test case")),
        ("notes", rx(r"^(remarks?|notes?|comments?)\b")),
    ), ("id", "description"), 2),
    FeedRule("risks", (
        ("number", rx(r"^(#|no\.?|id|risk id|issue id|risk #)$")),
        ("risk", rx(r"^(top )?(risks?|issues?)( ?/ ?(risks?|issues?))?( description| title)?$")),
        ("mitigation", rx(r"mitigation|response|resolution")),
        ("owner", _OWNER),
        ("status", _STATUS),
    ), ("risk",), 2),
    FeedRule("highlights", (
        ("accomplishments", rx(r"\baccomplishments?\b")),
        ("upcoming", rx(r"\bupcoming\b|\bnext steps?\b|\bplanned activities\b")),
    ), ("accomplishments",), 1),
    FeedRule("stakeholders", (
        ("role", rx(r"^(stakeholder )?(roles?|positions?)$|^stakeholders?$")),
        ("name", rx(r"^(stakeholder |person'?s? )?names?$|^individual")),
        ("party", rx(r"organi[sz]ation|\bparty\b|customer ?/ ?provider")),
    ), ("role", "name"), 2),
    FeedRule("history", (
        ("version", rx(r"^(release|version|rev(ision)?)( no\.?| number| #)?$")),
        ("date", rx(r"^date$")),
        ("author", rx(r"^(author|prepared by|editor)$")),
        ("description", rx(r"description|summary of change|^changes?$")),
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


def rule_fits(rule: FeedRule, cols: dict[int, str]) -> bool:
    fields = set(cols.values())
    return all(k in fields for k in rule.keys) and len(cols) >= rule.min_columns


def table_rule_fits(rule: FeedRule, headers: list[str]) -> bool:
    """Whether this header row names the rule's key columns and enough columns overall."""
    return rule_fits(rule, match_columns(rule, headers))


def best_feed(feeds: list[Feed], headers: list[str]) -> tuple[Feed, dict[int, str]] | None:
    """The feed whose columns this header row names best (None: not a table we fill)."""
    best = None
    for feed in feeds:
        if not feed.rows:
            continue
        cols = match_columns(feed.rule, headers)
        if rule_fits(feed.rule, cols):
            if best is None or len(cols) > len(best[1]):
                best = (feed, cols)
    return best


# -- template rows -------------------------------------------------------------------------
INSTRUCTION = rx(r"^\s*(<|\[)|^\s*(insert|enter|list|name the|provide|select|indicate|describe|"
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
SUMMARY = rx(r"^((grand |sub-?)?totals?|sum|average|mean|count|overall)\b|"
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


# A slide or table that lists a coming window of time: "Major Activities Over Next 30-45 Days"
WINDOW = rx(r"\bnext\s+(\d+)(?:\s*(?:-|\u2013|to)\s*(\d+))?\s+days\b")


def window_days(texts: list[str]) -> int | None:
    """The days a slide's texts say it looks ahead ("next 30-45 days": 45), if any."""
    for text in texts:
        m = WINDOW.search(text)
        if m:
            return int(m.group(2) or m.group(1))
    return None


ACTIVITIES_PLACED = ("The activities of this key task are listed in the template's activity "
                     "table.")
ACTIVITY_HEADER = ["#", "Activity", "Owner"]


