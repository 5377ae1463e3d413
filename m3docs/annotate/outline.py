"""Schedules filled by their outline, as a format-free analysis.

A sheet shaped like a schedule (an Integrated Master Schedule exported from a
project tool) has a Task Name column whose rows form an outline: a project row,
phase rows, key-task rows, each one level deeper (by outline level, by indentation
or by nothing at all). ``find_outline`` reads that shape from plain row views, and
``child_shape`` says how a row one level below a key task is indented. The workbook
annotator (xlsx.py) writes each key task's activity loop beneath its row from these.
Every template row stays where and as it was; only the project row's blank takes the
program's name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..playbook.model import STANDARD_PHASE_NAMES, KeyTask, Playbook
from .blanks import rx
from .tables import normalize_header


# Columns of a schedule, by header (normalised: lower case, single spaces).
SCHEDULE_COLUMNS: tuple[tuple[str, re.Pattern], ...] = (
    ("task", rx(r"^(task|activity|work item)( name| description| title)?$|^name$")),
    ("phase", rx(r"^(m3 )?phase( name| number| no\.?)?$")),
    ("id", rx(r"^(ims|wbs|outline number|task id|id|ims (id|#|no\.?|number))$")),
    ("percent", rx(r"%|percent")),
    ("actual_start", rx(r"^actual start")),
    ("actual_finish", rx(r"^actual (finish|end)")),
    ("start", rx(r"^(planned |baseline )?start( date)?$")),
    ("finish", rx(r"^(planned |baseline )?(finish|end)( date)?$")),
    ("duration", rx(r"^duration")),
    ("resource", rx(r"^resource( type| names?)?$")),
)
# A header that names a task column and at least this many of the others is a schedule's.
MIN_SCHEDULE_COLUMNS = 3
MIN_PHASE_ROWS = 2
_KEY_TASK_ID = re.compile(r"^(?:key task|kt)?\s*#?\s*(\d+)\.(\d+)\.?(?![\d.])\s*(.*)$",
                          re.IGNORECASE)
_ACTIVITY_ID = re.compile(r"^(\d+\.\d+\.\d+)\b")
_PHASE_NUMBER = rx(r"^phase\s*(\d+)\b")
_NUMBERED = re.compile(r"^(\d+)\s*[.:\-\u2013\u2014]?\s+(.+)$")
_BLANK = re.compile(r"^\s*(<<[^<>]*>>|<[^<>]*>|\[[^\[\]]*\])\s*$")


def name_key(text: str) -> str:
    """How names compare: case, spacing and punctuation ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


@dataclass(frozen=True)
class OutlineRow:
    """A template row as the analysis sees it: its number, texts by column (1-based), outline
    level, the task cell's indentation (style indent) and leading spaces."""

    number: int
    texts: dict[int, str]
    level: int = 0
    indent: int = 0
    spaces: int = 0


@dataclass(frozen=True)
class Outline:
    """What a schedule sheet holds: its columns, project row, phase and key-task rows."""

    header: int
    columns: dict[str, int]                 # field -> column
    project: int | None                     # the project row
    phases: dict[int, int]                  # row -> phase number
    key_tasks: dict[int, KeyTask]           # row -> key task
    activity_ids: frozenset[str] = frozenset()   # "3.14.2" rows already in the sheet


def schedule_columns(headers: dict[int, str]) -> dict[str, int]:
    """Field -> column of a header row that names a schedule's columns ({} when not one)."""
    out: dict[str, int] = {}
    for col in sorted(headers):
        head = normalize_header(headers[col])
        for name, pattern in SCHEDULE_COLUMNS:
            if name not in out and head and pattern.search(head):
                out[name] = col
                break
    if "task" not in out or len(out) - 1 < MIN_SCHEDULE_COLUMNS:
        return {}
    return out


def _phase_of(text: str, playbook: Playbook) -> int | None:
    """The phase a task text names: ``Phase 3``, ``3 - Engagement`` or ``Engagement`` (the
    playbook's phase names, and the six standard ones for phases it has no page for)."""
    m = _PHASE_NUMBER.match(text)
    if m:
        return int(m.group(1))
    numbered = _NUMBERED.match(text)
    names = {name_key(name): n for n, name in STANDARD_PHASE_NAMES.items()}
    names.update({name_key(ph.name): ph.number for ph in playbook.phases if ph.name})
    if numbered and name_key(numbered.group(2)) in names:
        return int(numbered.group(1))
    return names.get(name_key(text))


def _key_task_of(row: OutlineRow, text: str, columns: dict[str, int], playbook: Playbook,
                 phase: int | None) -> KeyTask | None:
    """The key task a row names by id (in the task or ID column) or by name (ignoring
    case, spacing and punctuation; the current phase's key tasks first)."""
    ids = [text]
    if "id" in columns:
        ids.insert(0, " ".join(row.texts.get(columns["id"], "").split()))
    for candidate in ids:
        m = _KEY_TASK_ID.match(candidate)
        if m:
            try:
                return playbook.key_task(f"{int(m.group(1))}.{int(m.group(2))}")
            except KeyError:
                return None
    wanted = name_key(text)
    named = [kt for kt in playbook.key_tasks if name_key(kt.name) == wanted]
    named.sort(key=lambda kt: kt.phase != phase)
    return named[0] if named else None


def outline_fingerprint(playbook: Playbook) -> str:
    """What ``find_outline`` reads of a playbook (phase numbers and names; key-task ids, names
    and phases), as text: a schedule's inferred tags depend on nothing else of it."""
    phases = sorted((ph.number, ph.name or "") for ph in playbook.phases)
    tasks = [(kt.id, kt.name, kt.phase) for kt in playbook.key_tasks]
    return repr((phases, tasks))


def find_outline(header: int, columns: dict[str, int], rows: list[OutlineRow],
                 playbook: Playbook) -> Outline | None:
    """The outline below a schedule header, or None when the rows are not one (too few phase
    rows, no key-task row)."""
    task_col = columns["task"]
    phases: dict[int, int] = {}
    key_tasks: dict[int, KeyTask] = {}
    activity_ids: set[str] = set()
    texts: dict[int, str] = {}
    phase: int | None = None
    for row in rows:
        text = " ".join(row.texts.get(task_col, "").split())
        if not text:
            continue
        texts[row.number] = text
        found = _ACTIVITY_ID.match(" ".join(row.texts.get(columns.get("id", 0), "").split())) \
            or _ACTIVITY_ID.match(text)
        if found:
            activity_ids.add(found.group(1))
            continue
        number = _phase_of(text, playbook)
        if number is not None:
            phases[row.number], phase = number, number
            continue
        kt = _key_task_of(row, text, columns, playbook, phase)
        if kt is not None:
            key_tasks[row.number] = kt
    if len(phases) < MIN_PHASE_ROWS or not key_tasks:
        return None
    first_phase = min(phases)
    above = [r for r in texts if r < first_phase]
    project = above[-1] if above else None
    return Outline(header, columns, project, phases, key_tasks, frozenset(activity_ids))


def _step(deeper: int, shallower: int) -> int:
    return max(deeper - shallower, 1) if deeper or shallower else 0


def child_shape(row: OutlineRow, parent: OutlineRow | None,
                 uses_levels: bool) -> tuple[int, int, int]:
    """(outline level, indent, leading spaces) of a row one level below ``row``: the sheet's
    outline level when it uses them; indentation as the template steps it from phase to key
    task (leading spaces only when the sheet has neither)."""
    level = row.level + 1 if uses_levels else 0
    indent = row.indent + _step(row.indent, parent.indent if parent else 0) \
        if row.indent or (parent and parent.indent) else 0
    spaces = 0
    if not uses_levels and not indent and parent is not None and row.spaces > parent.spaces:
        spaces = row.spaces + (row.spaces - parent.spaces)
    return level, indent, spaces


def phase_text_of(row: OutlineRow, parent: OutlineRow | None, cols: dict[str, int],
                kt: KeyTask) -> str:
    """The Phase column's text for the key task's activities: as its own row writes it, else
    as its phase row does, else the phase's number."""
    if "phase" in cols:
        for source in (row, parent):
            text = source.texts.get(cols["phase"], "").strip() if source else ""
            if text:
                return text
    return str(kt.phase)
