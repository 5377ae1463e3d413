"""The team's schedule: a Master Schedule workbook or an MS Project XML (MSPDI) file.

Two steps. *Reading* turns a file into ``ScheduleRow`` values (a name, an outline level,
figures, and the place each came from); a workbook is read as cells, nothing more. Every
bad cell is a ``Diagnostic`` (``FILE:SHEET!CELL`` or, in XML, ``FILE:LINE``), all of them
collected. *Matching* finds the playbook's key tasks and activities among the rows and gives
each activity its figures and code (``m3docs.status``).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import Diagnostic, M3DocsError, cell_error, error, line_error
from .playbook.model import Activity, KeyTask, Playbook
from .status import STATUS_CODES, ActivityStatus, ScheduleStatus, roll_up, status_code

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SCAN_ROWS = 30
SHOWN_UNMATCHED = 3

# header text (lowercase, punctuation as spaces) -> column role
_HEADERS: tuple[tuple[str, str], ...] = (
    (r"^(task|activity) name$|^name$|^activity$|^task$", "name"),
    (r"^key task$", "key_task"),
    (r"^(#|no|number)$", "number"),
    (r"^(ims|wbs|outline number|ims #|ims number|id|task id)$", "id"),
    (r"^outline level$|^level$", "level"),
    (r"^% complete$|^percent complete$|^% done$", "percent"),
    (r"^actual start$", "actual_start"),
    (r"^actual finish$", "actual_finish"),
    (r"^(start|start date|planned start)$", "start"),
    (r"^(finish|finish date|end|end date|planned finish)$", "finish"),
    (r"^status$", "status"),
    (r"^phase$", "phase"),
)
_NEEDED = ("name", "percent", "start", "finish")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)+)\.?(?=\s|$)")


@dataclass(frozen=True)
class ScheduleRow:
    """One task row of a schedule, as read."""

    place: str                  # "Sheet!B7" or "12" (an XML line): where it was read
    name: str
    level: int | None = None    # outline level or indent (None: not known)
    id: str = ""                # an ID / WBS / IMS column
    key_task: str = ""          # a Key Task column (m3docs' own starter workbook)
    number: str = ""            # a "#" column: the activity's number in its key task
    percent: float | None = None
    start: dt.date | None = None
    finish: dt.date | None = None
    actual_finish: dt.date | None = None
    status: str | None = None


@dataclass
class _Read:
    path: str
    rows: list[ScheduleRow] = field(default_factory=list)
    diags: list[Diagnostic] = field(default_factory=list)


def read_schedule(path: str | Path) -> tuple[list[ScheduleRow], list[Diagnostic]]:
    """The task rows of a schedule file and every problem found reading it."""
    path = str(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".mpp":
        return [], [error(path, 0, 0, "an MS Project .mpp file cannot be read: in MS Project "
                                      "use File > Save As > XML (*.xml) and give that file")]
    if not Path(path).is_file():
        return [], [error(path, 0, 0, "schedule file not found")]
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path)
    if suffix == ".xml":
        return _read_mspdi(path)
    return [], [error(path, 0, 0, f"a schedule must be an Excel workbook (.xlsx, .xlsm) or MS "
                                  f"Project XML (.xml), not {suffix or 'a file without suffix'}")]


# -- the workbook -------------------------------------------------------------------------
def _header_key(text: Any) -> str:
    return " ".join(re.sub(r"[^a-z0-9%#]+", " ", str(text or "").lower()).split())


def _columns(cells: Iterable[Any]) -> dict[str, int]:
    """Column role -> index for a header row (first match of each role)."""
    out: dict[str, int] = {}
    for i, value in enumerate(cells):
        key = _header_key(value)
        for pattern, role in _HEADERS:
            if key and role not in out and re.search(pattern, key):
                out[role] = i
                break
    return out


def _read_workbook(path: str) -> tuple[list[ScheduleRow], list[Diagnostic]]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    from .ooxml.package import PackageError, Template
    try:   # the package checks first: a zip, inside the size limits, a workbook
        Template(path)
    except PackageError as exc:
        return [], [error(path, 0, 0, "cannot read the workbook: "
                                      + str(exc).removeprefix(f"{path}: "))]
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, InvalidFileException) as exc:
        return [], [error(path, 0, 0, f"cannot read the workbook: {exc}")]
    try:
        for sheet in book.worksheets:
            found = _find_header(sheet)
            if found:
                read = _Read(path)
                _read_sheet(read, sheet, *found)
                return read.rows, read.diags
    finally:
        book.close()
    return [], [error(path, 0, 0, "no sheet has a header row naming Task Name, % Complete, "
                                  "Start and Finish")]


def _find_header(sheet: Any) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True), 1):
        cols = _columns(row)
        if all(k in cols for k in _NEEDED):
            return r, cols
    return None


@dataclass(frozen=True)
class _Cells:
    """One row of a sheet, its cells found by column role."""

    read: _Read
    sheet: str
    row: int
    cells: tuple
    cols: dict[str, int]

    def cell(self, role: str) -> Any:
        i = self.cols.get(role)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def value(self, role: str) -> Any:
        return getattr(self.cell(role), "value", None)

    def at(self, role: str) -> str:
        from openpyxl.utils import get_column_letter
        return f"{get_column_letter(self.cols[role] + 1)}{self.row}"

    def bad(self, role: str) -> Callable[[str], None]:
        """Report a problem of this row's cell in a column."""
        return lambda message: self.read.diags.append(
            cell_error(self.read.path, self.sheet, self.at(role), message))


def _read_sheet(read: _Read, sheet: Any, header: int, cols: dict[str, int]) -> None:
    sheet.reset_dimensions()   # a file's own <dimension> may be wrong: read every row
    for r, cells in enumerate(sheet.iter_rows(min_row=header + 1), header + 1):
        row = _row_of(_Cells(read, sheet.title, r, cells, cols))
        if row is not None:
            read.rows.append(row)


def _row_of(c: _Cells) -> ScheduleRow | None:
    """The task row of a sheet row (None: no task name), its bad cells reported."""
    raw = c.value("name")
    if raw is None or not str(raw).strip():
        return None
    text = str(raw)
    level = _int(c.value("level"))
    if level is None:   # the name's indent, or its leading spaces (two a level)
        indent = getattr(getattr(c.cell("name"), "alignment", None), "indent", 0) or 0
        level = int(indent) + (len(text) - len(text.lstrip(" "))) // 2
    return ScheduleRow(
        place=f"{c.sheet}!{c.at('name')}", name=" ".join(text.split()), level=level,
        id=_text(c.value("id")), key_task=_text(c.value("key_task")),
        number=_text(c.value("number")), percent=_percent(c.cell("percent"), c.bad("percent")),
        start=_date(c.value("start"), "Start", c.bad("start")),
        finish=_date(c.value("finish"), "Finish", c.bad("finish")),
        actual_finish=_date(c.value("actual_finish"), "Actual Finish", c.bad("actual_finish")),
        status=_code(c.value("status"), c.bad("status")))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _percent(cell: Any, bad: Callable[[str], None]) -> float | None:
    value = getattr(cell, "value", None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        bad(f"% Complete must be a number from 0 to 100, not {value!r}")
        return None
    if isinstance(value, (int, float)):
        fmt = str(getattr(cell, "number_format", "") or "")
        pct = float(value) * 100 if "%" in fmt else float(value)
    else:
        try:
            pct = float(str(value).strip().rstrip("%").strip())
        except ValueError:
            bad(f"% Complete must be a number from 0 to 100, not {value!r}")
            return None
    if not 0 <= pct <= 100:
        bad(f"% Complete {pct:g} is outside 0-100")
        return None
    return pct


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y",
                 "%d %b %Y")


def _date(value: Any, what: str, bad: Callable[[str], None]) -> dt.date | None:
    """A date from a cell: a date value, an Excel serial number, or text in a common form
    (a leading weekday, as MS Project writes it, is allowed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        from openpyxl.utils.datetime import from_excel
        return from_excel(value).date()
    if isinstance(value, str):
        text = re.sub(r"^[A-Za-z]{3,9},?\s+(?=\d)", "", value.strip())
        text = text.split("T")[0] if re.match(r"^\d{4}-\d\d-\d\dT", text) else text
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    bad(f"{what} {value!r} is not a date")
    return None


def _code(value: Any, bad: Callable[[str], None]) -> str | None:
    """A status code from a Status cell: B/G/Y/R/P or its label ("On track")."""
    text = _text(value)
    if not text:
        return None
    if text.upper() in STATUS_CODES:
        return text.upper()
    for code, label in STATUS_CODES.items():
        if text.lower() == label.lower():
            return code
    bad(f"status {text!r} is not one of " + ", ".join(STATUS_CODES)
        + " (" + "; ".join(f"{k} {v}" for k, v in STATUS_CODES.items()) + ")")
    return None


# -- MS Project XML -----------------------------------------------------------------------
_MSPDI = "{http://schemas.microsoft.com/project}"


def _read_mspdi(path: str) -> tuple[list[ScheduleRow], list[Diagnostic]]:
    from lxml import etree
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return [], [error(path, 0, 0, f"cannot read the file: {exc.strerror or exc}")]
    dtd = re.search(rb"<!(DOCTYPE|ENTITY)", data)
    if dtd:   # MS Project writes none; entities could read other files or explode
        line = data.count(b"\n", 0, dtd.start()) + 1
        return [], [line_error(path, line, "a DOCTYPE or ENTITY declaration is not allowed in "
                                           "a schedule")]
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        return [], [line_error(path, line, f"not well-formed XML: {exc.msg}") if line
                    else error(path, 0, 0, f"not well-formed XML: {exc.msg}")]
    ns = _MSPDI if root.tag.startswith(_MSPDI) else ""
    if root.tag != f"{ns}Project":
        return [], [error(path, 0, 0, "not an MS Project XML file (its root is not <Project>)")]
    read = _Read(path)
    for task in root.iterfind(f"{ns}Tasks/{ns}Task"):
        _read_task(read, task, ns)
    return read.rows, sorted(read.diags, key=lambda d: d.line)


def _read_task(read: _Read, task: Any, ns: str) -> None:
    def child(tag: str) -> Any:
        return task.find(f"{ns}{tag}")

    def value(tag: str) -> str:
        el = child(tag)
        return (el.text or "").strip() if el is not None else ""

    def bad_at(tag: str) -> Callable[[str], None]:
        el = child(tag)
        line = el.sourceline if el is not None else task.sourceline
        return lambda m: read.diags.append(line_error(read.path, line, m))

    name, level = value("Name"), _int(value("OutlineLevel"))
    if not name or level == 0 or value("IsNull") == "1":
        return   # the project's summary task, or an empty row
    pct_text = value("PercentComplete")
    percent = _percent(_Value(pct_text), bad_at("PercentComplete")) if pct_text else None
    read.rows.append(ScheduleRow(
        place=str(task.sourceline), name=" ".join(name.split()), level=level,
        id=value("WBS") or value("OutlineNumber"), percent=percent,
        start=_date(value("Start") or None, "Start", bad_at("Start")),
        finish=_date(value("Finish") or None, "Finish", bad_at("Finish")),
        actual_finish=_date(value("ActualFinish") or None, "ActualFinish",
                            bad_at("ActualFinish"))))


@dataclass(frozen=True)
class _Value:
    value: Any
    number_format: str = ""


# -- matching -----------------------------------------------------------------------------
def _words(text: str) -> str:
    """Text compared ignoring case, spacing and punctuation."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _leading_number(text: str) -> tuple[str, str]:
    """("3.14.2", rest) when a name starts with a dotted number, else ("", text)."""
    m = _NUMBER.match(text)
    return (m.group(1), text[m.end():].strip()) if m else ("", text)


@dataclass
class _Index:
    """The playbook's key tasks and activities by what a row may call them."""

    by_id: dict[str, KeyTask]
    by_name: dict[str, KeyTask]
    acts: dict[str, tuple[KeyTask, Activity]]
    phases: set[str]   # phase numbers: a row "Phase 3: ..." is a phase, not unmatched
    unique_texts: dict[str, str]   # an activity text found once in the playbook -> its number
    trust_ids: bool = False   # whether the ID/WBS column holds the playbook's numbers

    def names_agree(self, row: ScheduleRow) -> bool:
        """Whether a row's ID and its name point at the same key task or activity (MS
        Project's own WBS codes, 1.1, 1.2, ..., would otherwise read as key tasks)."""
        number, rest = _leading_number(row.name)
        if number and number == row.id:
            return True
        if row.id in self.by_id:
            return _words(rest) == _words(self.by_id[row.id].name)
        if row.id in self.acts:
            return _words(rest) == _words(self.acts[row.id][1].text.plain)
        return False

    def is_phase(self, row: ScheduleRow) -> bool:
        m = re.match(r"phase\s+(\d+)\b", _words(row.name))
        return bool(m) and m.group(1) in self.phases

    @classmethod
    def of(cls, playbook: Playbook) -> "_Index":
        acts = {f"{kt.id}.{a.number}": (kt, a) for kt in playbook.key_tasks
                for a in kt.activities}
        texts: dict[str, list[str]] = {}
        for number, (_, act) in acts.items():
            texts.setdefault(_words(act.text.plain), []).append(number)
        phases = {str(p.number) for p in playbook.phases}
        return cls({kt.id: kt for kt in playbook.key_tasks},
                   {_words(kt.name): kt for kt in playbook.key_tasks}, acts, phases,
                   {t: ns[0] for t, ns in texts.items() if len(ns) == 1})

    def key_task(self, row: ScheduleRow) -> KeyTask | None:
        number, _ = _leading_number(row.name)
        if number:
            return self.by_id.get(number)
        return self.by_name.get(_words(row.name)) or (
            self.by_id.get(row.id) if self.trust_ids and row.id else None)

    def activity(self, row: ScheduleRow, current: KeyTask | None,
                 taken: dict[str, ScheduleRow]) -> str | None:
        """The IMS number of the activity a row is, if any (by text: the first such activity
        of the key task no row took yet, as a key task may list one text twice)."""
        number, rest = _leading_number(row.name)
        for candidate in (number, row.id if self.trust_ids else "", _ims_of(row)):
            if candidate in self.acts:
                return candidate
        if current is not None:
            wanted = _words(rest)
            alike = [f"{current.id}.{act.number}" for act in current.activities
                     if wanted == _words(act.text.plain) or
                     (len(wanted) >= 20 and _words(act.text.plain).startswith(wanted))]
            if alike:
                return next((n for n in alike if n not in taken), alike[0])
        return self.unique_texts.get(_words(rest))


def _ims_of(row: ScheduleRow) -> str:
    """An IMS number from a Key Task column ("3.14 Finalize ...") and a "#" column."""
    kid, _ = _leading_number(row.key_task + " ")
    return f"{kid}.{row.number}" if kid and row.number.isdigit() else ""


def match_schedule(rows: list[ScheduleRow], playbook: Playbook, as_of: dt.date,
                   source: str) -> tuple[ScheduleStatus, list[Diagnostic]]:
    """Each playbook activity's figures and code from the rows, each key task's roll-up, and
    a warning naming the rows that match nothing."""
    index = _Index.of(playbook)
    index.trust_ids = any(row.id and index.names_agree(row) for row in rows)
    found, task_rows, unmatched = _walk(rows, index)
    activities = {n: _activity(n, r, as_of) for n, r in found.items()}
    for kid, row in task_rows.items():
        if not any(_key_task_of(n) == kid for n in activities):
            for act in index.by_id[kid].activities:   # its figures go to every activity
                n = f"{kid}.{act.number}"
                activities[n] = _activity(n, row, as_of)
    by_task: dict[str, list[ActivityStatus]] = {}
    for n, act in sorted(activities.items(), key=_ims_key):
        by_task.setdefault(_key_task_of(n), []).append(act)
    tasks = {kid: roll_up(acts) for kid, acts in by_task.items()}
    notes = [_unmatched_warning(source, unmatched)] if unmatched else []
    return ScheduleStatus(source, dict(sorted(activities.items(), key=_ims_key)), tasks), notes


def _walk(rows: list[ScheduleRow], index: _Index) -> tuple[
        dict[str, ScheduleRow], dict[str, ScheduleRow], list[ScheduleRow]]:
    """The rows in order: activity rows by IMS number, key-task rows by id, the rest."""
    found: dict[str, ScheduleRow] = {}
    task_rows: dict[str, ScheduleRow] = {}
    unmatched: list[ScheduleRow] = []
    current: KeyTask | None = None
    outlined = len({r.level for r in rows if r.level is not None}) > 1
    for row in rows:
        kt = index.key_task(row)
        if kt is not None:
            current = kt
            task_rows.setdefault(kt.id, row)
            continue
        if current is not None and outlined and row.level is not None and \
                row.level <= (task_rows[current.id].level or 0):
            current = None   # a row no deeper than the key task closes its outline
        number = index.activity(row, current, found)
        if number is not None:
            found.setdefault(number, row)
        elif not index.is_phase(row):
            unmatched.append(row)
    return found, task_rows, unmatched


def _key_task_of(number: str) -> str:
    """"3.14" of "3.14.2"."""
    return number.rsplit(".", 1)[0]


def _ims_key(item: tuple[str, Any]) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in item[0].split("."))


def _activity(number: str, row: ScheduleRow, as_of: dt.date) -> ActivityStatus:
    pct = None if row.percent is None else round(row.percent)
    code = row.status or status_code(row.percent, row.start, row.finish, row.actual_finish,
                                     as_of)
    return ActivityStatus(number, pct, row.start, row.finish, row.actual_finish, code,
                          "schedule" if row.status else "rule")


def _unmatched_warning(source: str, rows: list[ScheduleRow]) -> Diagnostic:
    names = ", ".join(repr(r.name[:60]) for r in rows[:SHOWN_UNMATCHED])
    more = f" and {len(rows) - SHOWN_UNMATCHED} more" if len(rows) > SHOWN_UNMATCHED else ""
    count = f"{len(rows)} rows match" if len(rows) != 1 else "1 row matches"
    return Diagnostic(source, 0, 0, "warning", f"{count} no key task or activity of the "
                                               f"playbook: {names}{more}", rows[0].place)


def load_schedule(path: str | Path, playbook: Playbook,
                  as_of: dt.date) -> tuple[ScheduleStatus, list[Diagnostic]]:
    """Read and match a schedule; raise M3DocsError with every error of the file."""
    rows, diags = read_schedule(path)
    if diags:
        raise M3DocsError(diags)
    return match_schedule(rows, playbook, as_of, str(path))
