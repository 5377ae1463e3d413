"""Infer the tags an official Excel workbook needs (.xlsx, .xlsm, .xltx).

What the old in-place filler did, written as TAGS for the one engine instead of values:

* blanks (``[Program Name]``, ``<<Insert Date>>``, ``xx/xx/xxxx``, the engagement's literal
  placeholders) in cells, shared strings, headers/footers and document properties become
  fields over the content model's names (a tagged shared string becomes an inline cell, so
  the shared strings part stays as it was);
* a table found by its header row (requirements, activities, risks, stakeholders, history)
  gets its entry rows (instructions, examples, styled blanks) replaced by a ``{%tr for %}``
  loop, then a loop of blank rows so the table keeps at least its template rows; what is
  below stays below (totals grow);
* a sheet shaped like a schedule gets, right under each key-task row, a loop over that key
  task's activities (empty when the key task is not in the document's scope); every
  template row stays, roll-ups grow over the loops;
* the key-task context sheet is added as a tagged sheet.

Rows are inserted in the template with everything that points at them moved
(``ooxml.rowmove``), so the engine sees an ordinary tagged workbook. Sheets with nothing to
tag are copied as they are. The result is cached per template, playbook and placeholder keys.
"""
from __future__ import annotations

import bisect
import copy
import posixpath
import re
import threading
from functools import lru_cache
from dataclasses import dataclass, field

from lxml import etree
from openpyxl.formula.translate import Translator, TranslatorError

from ..ooxml import rowmove
from ..ooxml.cells import col_index, col_letter, split_ref
from ..ooxml.package import Package, Template, part_names, resolve_target
from ..ooxml.placeholders import paragraph_text, replace_in_paragraph
from ..ooxml.xml import NS, RT, parse_xml, qn, serialize
from ..playbook.model import Playbook
from ..content import UNNAMED_LABEL
from .blanks import (BARE_RULES, DATE_FIELDS, FIELDS, ORDERED, SHORT_LINE, blank_patterns,
                     classify, may_hold_blank, signing_context)
from .outline import (Outline, OutlineRow, _BLANK as PROJECT_BLANK, child_shape, find_outline,
                      outline_fingerprint, phase_text_of, schedule_columns)
from .tables import (ACTIVITIES_PLACED, ACTIVITY_HEADER, FEED_RULES, TemplateRow,
                     kept_rows_start, match_columns, prototype_index, row_kind, rule_fits)
from ..playbook.richtext import BULLET
from .cache import READS_PLAYBOOK, Made, remembered
from .fields import blank_tag, jinja_string, placeholder_tag

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
RT_SST = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
RT_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
PROPERTY_PARTS = ("docProps/core.xml", "docProps/app.xml")
HEADER_SCAN_ROWS = 15
HEADER_MERGE_ROWS = 2
CONTEXT_SHEET = "Key Task Context"
CONTEXT_WIDTHS = (10, 64, 26)
HEADING_PT = 14.0
KEEP_EXAMPLES = 50   # a table this short keeps its template rows when it gets no data
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_RANGE_REF = re.compile(r"(?<![A-Za-z_!'$])\$?[A-Z]{1,3}\$?(\d+):\$?[A-Z]{1,3}\$?(\d+)(?![\d(])")
_DELIMS = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_ESCAPED = {"{{": "{_{", "}}": "}_}", "{%": "{_%", "%}": "%_}", "{#": "{{ '{#' }}",
            "#}": "{{ '#}' }}"}
_C, _V, _IS, _F, _T = qn("x:c"), qn("x:v"), qn("x:is"), qn("x:f"), qn("x:t")
_ROW = qn("x:row")
_A_P, _A_T = qn("a:p"), qn("a:t")
_INLINE_CELLS = f".//{_C}[@t='inlineStr']"
# The rows (``r``) of a sheetData holding text or a formula, and those holding a value.
# row numbers as plain strings (lxml's default "smart" strings doubled the second's time)
_TEXT_ROWS = etree.XPath("x:row[x:c[@t and @t != 'n'] or x:c/x:f]/@r", namespaces={"x": NS["x"]},
                         smart_strings=False)
_VALUE_ROWS = etree.XPath("x:row[x:c/x:v]/@r", namespaces={"x": NS["x"]}, smart_strings=False)
PERCENT_FORMAT = "9"
DATE_FORMAT = "14"

# Feed -> (loop source, field -> expression over ``row``); the content model's names.
FEEDS: dict[str, tuple[str, dict[str, str]]] = {
    "activities": ("activities", {
        "ims": "row.number", "activity": "row.text",
        "percent": "(row.percent_complete ~ '%') if row.percent_complete is not none else ''",
        "owner": "key_tasks_by_id[row.key_task].owner or row.owner or row.party",
        "start": "row.start_mdyyyy", "finish": "row.finish_mdyyyy",
        "status": "row.status", "key_task": "key_tasks_by_id[row.key_task].title",
        "workstream": "key_tasks_by_id[row.key_task].workstream"}),
    "requirements": ("rtm", {f: f"row.{f}" for f in (
        "id", "description", "process_area", "sub_process", "source", "type", "priority",
        "decision_maker", "status", "fit_gap", "test_cases", "notes")}),
    "risks": ("risks_and_issues", {"number": "row.number", "risk": "row.text",
                                   "owner": "row.owner", "status": "'Open'"}),
    "highlights": ("([1] if accomplishments or upcoming else [])", {
        "accomplishments": "accomplishments | map(attribute='text') | join('\\n')",
        "upcoming": "upcoming | map(attribute='text') | join('\\n')"}),
    "stakeholders": ("stakeholders", {"role": "row.role", "party": "row.parties",
                                      "name": "row.people"}),
    "history": ("history", {"version": "row.version", "date": "row.date",
                            "author": "row.author", "description": "row.description"}),
}

@lru_cache(maxsize=None)
def _column(letters: str) -> int:
    return col_index(letters)


def column_of(ref: str) -> int:
    """The column number of a cell reference ("AB12" -> 28)."""
    return _column(ref.rstrip("0123456789$").replace("$", ""))


def escape_literal(text: str) -> str:
    """Template text with the tag delimiters written escaped (shown as they are)."""
    return _DELIMS.sub(lambda m: _ESCAPED[m.group(0)], text) if _DELIMS.search(text) else text


# -- blanks -------------------------------------------------------------------------------
class Blanks:
    """Turns the family's blanks into tags; approvers' blanks take turns through the book."""

    def __init__(self, placeholders: tuple[str, ...]):
        self.literal = tuple(k for k in placeholders if k not in FIELDS)
        self.turn = {k: 0 for k in ORDERED}
        self.count = 0
        self.pattern, self.short = blank_patterns(self.literal)
        self.signing = False

    def maybe(self, text: str) -> bool:
        return bool(text) and (bool(self.literal) or may_hold_blank(text))

    def _pattern(self, text: str) -> re.Pattern:
        return self.short if len(text.strip()) <= SHORT_LINE else self.pattern

    def tag(self, m: re.Match) -> str | None:
        """The tag for one blank (None: it stays, a signer's date or guidance)."""
        groups = m.groupdict()
        if groups.get("lit"):
            return placeholder_tag(m.group(0))
        if groups.get("ver"):
            return "{{ version }}"
        if groups.get("blank"):
            token = m.group(0)
            name = classify(token.strip("<>[]"))
        else:
            i = next(int(k[1:]) for k, v in groups.items()
                     if v and k[0] == "b" and k[1:].isdigit())
            token, name = m.group(0), BARE_RULES[i][1]
        if name is None or name == "signature_date" or (name in DATE_FIELDS and self.signing):
            return None
        if name in ORDERED:
            n = self.turn[name]
            self.turn[name] = n + 1
            return blank_tag(name, token, n)
        return blank_tag(name, token)

    def text(self, text: str) -> str | None:
        """A plain text with its blanks as tags, tag delimiters it holds escaped (None:
        nothing to change)."""
        if not self.maybe(text):
            return escape_literal(text) if _DELIMS.search(text or "") else None
        self.signing = signing_context(text)
        out, pos, found = [], 0, False
        for m in self._pattern(text).finditer(text):
            tag = self.tag(m)
            if tag is None:
                continue
            out += [escape_literal(text[pos:m.start()]), tag]
            pos, found = m.end(), True
        if not found:
            return escape_literal(text) if _DELIMS.search(text) else None
        self.count += 1
        return "".join(out) + escape_literal(text[pos:])

    def runs(self, si: etree._Element, t_tag: str = _T) -> etree._Element | None:
        """A copy of a rich or plain string (``<si>``/``<is>``, or a drawing's ``<a:p>``
        with ``t_tag``) with its blanks as tags, each run keeping its format (None: nothing
        to tag)."""
        text = paragraph_text(si, t_tag)
        delims = bool(_DELIMS.search(text))
        blanks = self.maybe(text) and any(self._real(m) for m in
                                          self._pattern(text).finditer(text))
        if not blanks and not delims:
            return None
        self.signing = signing_context(text)
        probe = copy.deepcopy(si)
        if delims:   # the text around the tags is shown as it is
            for t in probe.iter(t_tag):
                if t.text and _DELIMS.search(t.text):
                    t.text = escape_literal(t.text)
        if blanks and replace_in_paragraph(probe, self._pattern(paragraph_text(probe, t_tag)),
                                           self.tag, t_tag):
            self.count += 1
        elif not delims:
            return None
        return probe

    def _real(self, m: re.Match) -> bool:
        blank = m.group("blank")
        return blank is None or classify(blank.strip("<>[]")) is not None


# -- where the rows go --------------------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """Template rows ``first``..``last`` (none: ``last == first - 1``) become ``count`` rows;
    a range over rows from ``region_top`` down to ``first - 1`` grows over them."""

    first: int
    last: int
    count: int
    region_top: int = 0

    @property
    def delta(self) -> int:
        return self.count - (self.last - self.first + 1)


class RowEdits:
    """A ``cells.RowMap`` for the annotation's row edits on one sheet (applied in one pass)."""

    def __init__(self, sheet: str, edits: list[Edit]):
        self.sheet = sheet
        self.edits = sorted(edits, key=lambda e: e.first)
        self.firsts = [e.first for e in self.edits]
        self.before: list[int] = []
        total = 0
        for e in self.edits:
            self.before.append(total)
            total += e.delta

    def _at(self, r: int) -> int:
        """Index of the last edit starting at or above ``r`` (-1: none)."""
        return bisect.bisect_right(self.firsts, r) - 1

    def start(self, i: int) -> int:
        """Where edit ``i``'s new rows start."""
        return self.edits[i].first + self.before[i]

    def _top(self, r: int) -> int:
        i = self._at(r)
        if i < 0:
            return r
        e = self.edits[i]
        if r <= e.last:   # a replaced row: the first row of what replaced it (past a control row)
            return self.start(i) + min(1, e.count - 1)
        return r + self.before[i] + e.delta

    def _bottom(self, r: int) -> int:
        i = self._at(r)
        if i >= 0 and r <= self.edits[i].last:   # the last row before the closing control row
            return self.start(i) + max(self.edits[i].count - 2, 0)
        return self._top(r)

    def position(self, row: int) -> int:
        return self._top(row)

    def span(self, top: int, bottom: int) -> tuple[int, int] | None:
        new_top, new_bottom = self._top(top), self._bottom(bottom)
        i = bisect.bisect_left(self.firsts, bottom + 1)
        if i < len(self.edits) and self.edits[i].first == bottom + 1:
            e = self.edits[i]
            if e.region_top and e.region_top <= top:
                new_bottom = self.start(i) + e.count - 1
        return (new_top, new_bottom) if new_bottom >= new_top else None

    def names(self, sheet: str) -> bool:
        from ..ooxml.cells import same_sheet
        return same_sheet(sheet, self.sheet)


# -- the workbook ---------------------------------------------------------------------------
class Workbook:
    """The template's parts, as the annotation reads and edits them."""

    def __init__(self, template: Template):
        self.pkg = template.new()
        rels = template.xml("_rels/.rels")
        self.main = next(resolve_target("", r.get("Target", "")) for r in rels
                         if r.get("Type") in (RT_DOC, RT_DOC.replace(
                             "http://schemas.openxmlformats.org/officeDocument/2006",
                             "http://purl.oclc.org/ooxml/officeDocument")))
        wb_rels = {r.get("Id"): r for r in template.xml(self.pkg.rels_name(self.main))}
        self.sheets: list[tuple[str, str]] = []
        for sheet in template.xml(self.main).iter(qn("x:sheet")):
            rel = wb_rels.get(sheet.get(qn("r:id")))
            if rel is not None:
                part = resolve_target(self.main, rel.get("Target", ""))
                if part in self.pkg:
                    self.sheets.append((sheet.get("name", ""), part))
        self.sst: list[etree._Element] = []
        self.sst_part = ""
        self.refs: dict[int, int] = {}        # shared string -> cells using it
        self.converted: dict[int, int] = {}   # shared string -> cells now inline with tags
        self.styles_part = ""
        for rel in wb_rels.values():
            part = resolve_target(self.main, rel.get("Target", ""))
            if rel.get("Type") == RT_SST and part in self.pkg:
                self.sst_part = part
                self.sst = template.xml(part).findall(qn("x:si"))
            elif rel.get("Type") == RT_STYLES and part in self.pkg:
                self.styles_part = part
        self.sst_texts = [paragraph_text(si, qn("x:t")) for si in self.sst]
        self.styles = Styles(self.pkg, self.styles_part)
        self.maps: list[RowEdits] = []
        self._row_texts: dict[etree._Element, dict[int, str]] = {}

    def text(self, c: etree._Element) -> str:
        t = c.get("t")
        if t is None or t == "n":   # a number (or nothing): its value unless a formula's
            if len(c) == 1 and c[0].tag == _V:
                return c[0].text or ""
            if not len(c):
                return ""
        if t == "s":
            v = c.find(_V)
            try:
                return self.sst_texts[int(v.text)]
            except (AttributeError, TypeError, ValueError, IndexError):
                return ""
        if t == "inlineStr":
            is_ = c.find(_IS)
            return paragraph_text(is_, _T) if is_ is not None else ""
        v = c.find(_V)
        return (v.text or "") if v is not None and c.find(_F) is None else ""

    def row_texts(self, row: etree._Element) -> dict[int, str]:
        """Column -> text of a row's cells (read once per row element)."""
        found = self._row_texts.get(row)
        if found is None:
            found = self._row_texts[row] = {column_of(c.get("r")): self.text(c)
                                            for c in row.iterchildren(_C) if c.get("r")}
        return found


class Styles:
    """The workbook's cell formats, and variants added once (indented, percent, date)."""

    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part = pkg, part
        self.derived: dict[tuple[str, str], str] = {}

    def _xfs(self) -> etree._Element | None:
        if not self.part:
            return None
        return self.pkg.xml(self.part).find(qn("x:cellXfs"))

    def xf(self, s: str | None) -> etree._Element | None:
        root = self.pkg.view(self.part) if self.part else None
        xfs = root.find(qn("x:cellXfs")) if root is not None else None
        i = int(s) if s and s.isdigit() else 0
        return xfs[i] if xfs is not None and i < len(xfs) else None

    def indent(self, s: str | None) -> int:
        xf = self.xf(s)
        al = xf.find(qn("x:alignment")) if xf is not None else None
        return int(al.get("indent", "0") or 0) if al is not None else 0

    def derive(self, s: str | None, key: str, edit) -> str | None:
        """A copy of style ``s`` changed by ``edit``, added once to cellXfs."""
        if (s or "0", key) not in self.derived:
            xfs = self._xfs()
            i = int(s) if s and s.isdigit() else 0
            if xfs is None or i >= len(xfs):
                return s
            new = copy.deepcopy(xfs[i])
            edit(new)
            xfs.append(new)
            xfs.set("count", str(len(xfs)))
            self.derived[(s or "0", key)] = str(len(xfs) - 1)
        return self.derived[(s or "0", key)]

    def number(self, s: str | None, fmt: str) -> str | None:
        xf = self.xf(s)
        if xf is not None and xf.get("numFmtId") == fmt:
            return s
        return self.derive(s, f"fmt {fmt}", lambda x: (x.set("numFmtId", fmt),
                                                        x.set("applyNumberFormat", "1")))

    def indented(self, s: str | None, steps: int) -> str | None:
        if self.indent(s) == steps:
            return s

        def edit(xf: etree._Element) -> None:
            al = xf.find(qn("x:alignment"))
            if al is None:
                al = etree.Element(qn("x:alignment"))
                xf.insert(0, al)
            al.set("indent", str(steps))
            if al.get("horizontal") not in ("left", "right", "distributed"):
                al.set("horizontal", "left")
            xf.set("applyAlignment", "1")
        return self.derive(s, f"indent {steps}", edit)

    def context(self) -> tuple[str, str, str]:
        """(heading, bold, wrapped) styles for the context sheet."""
        if not self.part:
            return "0", "0", "0"
        root = self.pkg.xml(self.part)
        fonts, xfs = root.find(qn("x:fonts")), root.find(qn("x:cellXfs"))
        if fonts is None or xfs is None:
            return "0", "0", "0"
        ids = []
        for size in (f"{HEADING_PT:g}", "11"):
            font = etree.SubElement(fonts, qn("x:font"))
            etree.SubElement(font, qn("x:b"))
            etree.SubElement(font, qn("x:sz"), val=size)
            etree.SubElement(font, qn("x:name"), val="Calibri")
            ids.append(len(fonts) - 1)
        fonts.set("count", str(len(fonts)))
        out = []
        for font_id in (ids[0], ids[1], 0):
            xf = etree.SubElement(xfs, qn("x:xf"), numFmtId="0", fontId=str(font_id),
                                  fillId="0", borderId="0", xfId="0", applyFont="1",
                                  applyAlignment="1")
            etree.SubElement(xf, qn("x:alignment"), vertical="top", wrapText="1")
            out.append(str(len(xfs) - 1))
        xfs.set("count", str(len(xfs)))
        return out[0], out[1], out[2]


def write_tag(c: etree._Element, text: str) -> None:
    """The cell holds ``text`` (tags) as an inline string; no value, no formula."""
    for child in list(c):
        c.remove(child)
    c.set("t", "inlineStr")
    t = etree.SubElement(etree.SubElement(c, qn("x:is")), qn("x:t"))
    t.text = text
    t.set(XML_SPACE, "preserve")


def control_row(r: int, text: str) -> etree._Element:
    """A row holding one ``{%tr %}`` statement in its first cell."""
    row = etree.Element(qn("x:row"), r=str(r))
    write_tag(etree.SubElement(row, qn("x:c"), r=f"A{r}"), text)
    return row


# -- the sheets -------------------------------------------------------------------------------
@dataclass
class SheetWork:
    """One sheet's annotation: its tree (parsed only when it needs tags), its edits."""

    name: str
    part: str
    ws: etree._Element
    edits: list[Edit] = field(default_factory=list)
    new_rows: list[tuple[int, list[etree._Element]]] = field(default_factory=list)
    changed: bool = False
    body_merges: list[tuple[int, list[tuple[int, int]]]] = field(default_factory=list)
    kept: tuple[int, int, int, list[tuple[int, int, int, int]]] | None = None
    _rows: dict[int, etree._Element] | None = None

    def rows(self) -> dict[int, etree._Element]:
        """Row number -> row, read once (before the sheet's rows are edited)."""
        if self._rows is None:
            self._rows = _rows(self.ws)
        return self._rows


@dataclass
class Annotation:
    notes: list[str] = field(default_factory=list)
    placed: str = ""   # Jinja test of a key task ``kt`` whose activities a sheet lists
    wrap: set[str] = field(default_factory=set)   # sheets whose tagged text wraps when long
    read_playbook: bool = False   # a sheet's rows were matched to the playbook's outline


class XlsxAnnotator:
    """The official workbook's tags, inferred."""

    def annotate(self, template: Template, playbook: Playbook,
                 placeholders: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
        return annotated(template, playbook, tuple(placeholders))[:2]


_LOCK = threading.Lock()


def annotated(template: Template, playbook: Playbook,
              placeholders: tuple[str, ...]) -> tuple[bytes, list[str], Template]:
    """(tagged bytes, notes, tagged Template) made once per template, playbook and
    placeholder keys (the tagged Template carries the engine's compiled form)."""
    key = (id(playbook), placeholders)
    with _LOCK:
        cache = template.__dict__.setdefault("xlsx_annotations", {})
        hit = cache.get(key)
        if hit is not None and hit[0] is playbook:
            return hit[1]
    data, notes, extras = remembered(
        "xlsx", template, placeholders, lambda: _annotate(template, playbook, placeholders),
        lambda: outline_fingerprint(playbook))
    wrap = set(extras.get("wrap", ()))
    tagged = Template(template.path, data)
    # the engine wraps long text in the cells of table loops (styled for short examples)
    # and of the context sheet; a schedule's rows keep their one line
    tagged.wrap_long_text = frozenset(wrap)
    result = (data, notes, tagged)
    with _LOCK:
        cache[key] = (playbook, result)
    return result


def _annotate(template: Template, playbook: Playbook, placeholders: tuple[str, ...]) -> Made:
    """(tagged bytes, notes, extras): ``wrap``, the sheets whose tagged text wraps, and
    ``READS_PLAYBOOK``, whether the tags depend on the playbook (a schedule's outline)."""
    book = Workbook(template)
    blanks = Blanks(placeholders)
    note = Annotation()
    tagged_sst = _tagged_shared(book, blanks)
    placed: list[str] = []
    for name, part in book.sheets:
        work = _sheet_work(book, name, part, blanks, tagged_sst)
        if work is None:
            continue
        _tag_blanks(book, work, blanks, tagged_sst)
        header = _schedule(book, work, playbook, note, placed)
        if not header:
            _table(book, work, note, placed)
        _apply(book, work)
        book._row_texts.clear()
    _tag_properties(book, blanks)
    _tag_drawings(book, blanks)
    _clear_shared(book)
    note.placed = " or ".join(placed) if placed else "false"
    _add_context_sheet(book, note)
    if blanks.count:
        note.notes.insert(0, f"{blanks.count} text(s) with blanks become fields")
    return book.pkg.to_bytes(), note.notes, {"wrap": sorted(note.wrap),
                                             READS_PLAYBOOK: note.read_playbook}


def _tagged_shared(book: Workbook, blanks: Blanks) -> dict[int, etree._Element]:
    """Shared strings with blanks, as tagged copies (cells using them become inline)."""
    out = {}
    for i, si in enumerate(book.sst):
        if blanks.maybe(book.sst_texts[i]) or _DELIMS.search(book.sst_texts[i]):
            probe = blanks.runs(si)
            if probe is not None:
                out[i] = probe
    blanks.count = 0
    return out


def _sheet_work(book: Workbook, name: str, part: str, blanks: Blanks,
                tagged_sst: dict[int, etree._Element]) -> SheetWork | None:
    """The sheet parsed for annotation (every sheet: its header may name a table)."""
    return SheetWork(name, part, parse_xml(book.pkg.template.bytes_of(part)))


def _clear_shared(book: Workbook) -> None:
    """A shared string whose every cell now holds its tagged copy is used by no cell: its
    blank is cleared, so no stale blank stays in the workbook."""
    done = [i for i, n in book.converted.items() if n == book.refs.get(i)]
    if not done or not book.sst_part:
        return
    sis = book.pkg.xml(book.sst_part).findall(qn("x:si"))
    for i in done:
        for child in list(sis[i]):
            sis[i].remove(child)
        etree.SubElement(sis[i], qn("x:t"))


def _tag_blanks(book: Workbook, work: SheetWork, blanks: Blanks,
                tagged_sst: dict[int, etree._Element]) -> None:
    cells = work.ws.iter(_C) if tagged_sst else work.ws.iterfind(_INLINE_CELLS)
    for c in cells:
        t = c.get("t")
        if t == "s" and tagged_sst:
            v = c.find(qn("x:v"))
            try:
                index = int(v.text)
            except (AttributeError, TypeError, ValueError):
                continue
            book.refs[index] = book.refs.get(index, 0) + 1
            si = tagged_sst.get(index)
            if si is not None:
                book.converted[index] = book.converted.get(index, 0) + 1
                for child in list(c):
                    c.remove(child)
                c.set("t", "inlineStr")
                is_ = copy.deepcopy(si)
                is_.tag = qn("x:is")
                c.append(is_)
                blanks.count += 1
                work.changed = True
        elif t == "inlineStr":
            is_ = c.find(qn("x:is"))
            if is_ is not None and (blanks.literal or _DELIMS.search(
                    paragraph_text(is_, _T)) or may_hold_blank(paragraph_text(is_, _T))):
                probe = blanks.runs(is_)
                if probe is not None:
                    c.replace(is_, probe)
                    work.changed = True
    hf = work.ws.find(qn("x:headerFooter"))
    for el in (hf if hf is not None else []):
        new = blanks.text(el.text or "")
        if new is not None:
            el.text = new
            work.changed = True


def _tag_properties(book: Workbook, blanks: Blanks) -> None:
    for part in PROPERTY_PARTS:
        if part not in book.pkg:
            continue
        view = book.pkg.view(part)
        if not any(isinstance(n.tag, str) and (blanks.maybe(n.text or "") or _DELIMS.search(
                n.text or "")) for n in view.iter()):
            continue
        for node in book.pkg.xml(part).iter():
            if isinstance(node.tag, str) and node.text:
                new = blanks.text(node.text)
                if new is not None:
                    node.text = new


def _tag_drawings(book: Workbook, blanks: Blanks) -> None:
    """Blanks in the text boxes and shapes drawn on the sheets become fields too."""
    for _, sheet_part in book.sheets:
        rels = book.pkg.rels_name(sheet_part)
        if rels not in book.pkg:
            continue
        for rel in book.pkg.view(rels):
            if rel.get("Type") != RT["drawing"] or rel.get("TargetMode") == "External":
                continue
            part = resolve_target(sheet_part, rel.get("Target", ""))
            if part not in book.pkg:
                continue
            tagged = [(i, probe) for i, p in enumerate(book.pkg.view(part).iter(_A_P))
                      if (probe := blanks.runs(p, _A_T)) is not None]
            if tagged:
                live = list(book.pkg.xml(part).iter(_A_P))
                for i, probe in tagged:
                    live[i].getparent().replace(live[i], probe)


def _rows(ws: etree._Element) -> dict[int, etree._Element]:
    data = ws.find(qn("x:sheetData"))
    if data is None:
        return {}
    return {int(r.get("r")): r for r in data.iterchildren(_ROW) if r.get("r")}


def _merge_boxes(ws: etree._Element) -> list[tuple[int, int, int, int]]:
    mc = ws.find(qn("x:mergeCells"))
    out = []
    for el in (mc if mc is not None else []):
        m = _RANGE.match(el.get("ref", ""))
        if m and m.group(3):
            out.append((col_index(m.group(1)), int(m.group(2)), col_index(m.group(3)),
                        int(m.group(4))))
    return out


def _header_texts(book: Workbook, rows: dict[int, etree._Element], r: int,
                  merges: list[tuple[int, int, int, int]]) -> dict[int, str]:
    """Column -> header text of row ``r`` (a label merged down from just above counts)."""
    texts = book.row_texts(rows[r]) if r in rows else {}
    for c1, r1, _, r2 in merges:
        if r1 < r <= r2 and r - r1 <= HEADER_MERGE_ROWS and r1 in rows \
                and not texts.get(c1, "").strip():
            texts[c1] = book.row_texts(rows[r1]).get(c1, "")
    return texts


def _header_end(merges: list[tuple[int, int, int, int]], r: int, width: int) -> int:
    ends = [r2 for c1, r1, _, r2 in merges
            if r1 <= r < r2 and c1 <= width and r2 - r <= HEADER_MERGE_ROWS]
    return max([r] + ends)


def _heads(book: Workbook, rows: dict[int, etree._Element],
           merges: list[tuple[int, int, int, int]]) -> list[tuple[int, dict[int, str]]]:
    out = []
    for r in sorted(rows)[:HEADER_SCAN_ROWS]:
        texts = _header_texts(book, rows, r, merges)
        if any(t.strip() for t in texts.values()):
            out.append((r, texts))
    return out


# -- schedules --------------------------------------------------------------------------------
def _schedule(book: Workbook, work: SheetWork, playbook: Playbook, note: Annotation,
              placed: list[str]) -> bool:
    """Loops over each key task's activities right under its row; True when the sheet is a
    schedule."""
    rows = work.rows()
    merges = _merge_boxes(work.ws)
    for r, texts in _heads(book, rows, merges):
        columns = schedule_columns({c: t for c, t in texts.items() if t})
        if not columns:
            continue
        task_col = columns["task"]
        views = [_outline_row(book, rows[n], n, task_col) for n in sorted(rows) if n > r]
        note.read_playbook = True   # whatever it finds, the tags now depend on the outline
        outline = find_outline(r, columns, views, playbook)
        if outline is None:
            continue
        _tag_schedule(book, work, rows, outline, views, placed)
        note.notes.append(f"{work.name}: a schedule; activity loops under "
                          f"{len(outline.key_tasks)} key-task rows")
        return True
    return False


def _outline_row(book: Workbook, row: etree._Element, r: int, task_col: int) -> OutlineRow:
    texts = book.row_texts(row)
    style = next((c.get("s") for c in row.iter(qn("x:c"))
                  if c.get("r") and split_ref(c.get("r"))[0] == task_col), None)
    raw = texts.get(task_col, "")
    return OutlineRow(r, texts, int(row.get("outlineLevel", "0") or 0),
                      book.styles.indent(style),
                      len(raw) - len(raw.lstrip(" ")) if raw.strip() else 0)


def _tag_schedule(book: Workbook, work: SheetWork, rows: dict[int, etree._Element],
                  outline: Outline, views: list[OutlineRow], placed: list[str]) -> None:
    cols = outline.columns
    by_number = {v.number: v for v in views}
    if outline.project and PROJECT_BLANK.match(
            by_number[outline.project].texts.get(cols["task"], "")):
        write_tag(_cell_at(rows[outline.project], outline.project, cols["task"]),
                  "{{ program }}")
    uses_levels = any(v.level for v in views)
    phase_rows = sorted(outline.phases)
    proto = _outline_prototype(rows, outline)
    ids = []
    for r, kt in sorted(outline.key_tasks.items()):
        if not kt.activities:
            continue
        above = [p for p in phase_rows if p < r]
        parent = by_number[above[-1]] if above else None
        level, indent, spaces = child_shape(by_number[r], parent, uses_levels)
        phase_text = phase_text_of(by_number[r], parent, cols, kt)
        as_number = "phase" in cols and _numeric_cell(
            rows, (r, parent.number if parent else 0), cols["phase"])
        known = sorted(n for n in outline.activity_ids if n.startswith(kt.id + "."))
        work.edits.append(Edit(r + 1, r, 3, (parent.number + 1) if parent else r))
        body = _activity_row(book, proto, cols, level, indent, spaces, phase_text, as_number)
        source = "(key_tasks_by_id[%s].activities if %s in key_tasks_by_id else [])" % (
            jinja_string(kt.id), jinja_string(kt.id))
        skip = f" if a.number not in {known!r}" if known else ""
        work.new_rows.append((r + 1, [control_row(0, "{%tr for a in " + source + skip + " %}"),
                                      body, control_row(0, "{%tr endfor %}")]))
        ids.append(kt.id)
    if ids:
        placed.append(f"kt.id in {ids!r}")
    fmt = work.ws.find(qn("x:sheetFormatPr"))
    deepest = max((by_number[r].level + 1 for r in outline.key_tasks if uses_levels), default=0)
    if deepest and fmt is not None and int(fmt.get("outlineLevelRow", "0")) < deepest:
        fmt.set("outlineLevelRow", str(deepest))
    work.changed = True


def _cell_at(row: etree._Element, r: int, col: int) -> etree._Element:
    for c in row.iter(qn("x:c")):
        at = split_ref(c.get("r"))[0] if c.get("r") else 0
        if at == col:
            return c
        if at > col:
            new = etree.Element(qn("x:c"), r=f"{col_letter(col)}{r}")
            c.addprevious(new)
            return new
    return etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}{r}")


def _outline_prototype(rows: dict[int, etree._Element], outline: Outline) -> etree._Element:
    """The look of activity rows: the first styled blank row below the outline, else one
    within it, else the first key task's row."""
    last = max([*outline.phases, *outline.key_tasks])
    for lowest in (last, min(outline.phases)):
        for r in sorted(rows):
            cells = rows[r].findall(qn("x:c"))
            if r > lowest and cells and any(c.get("s") for c in cells) and all(
                    c.find(qn("x:v")) is None and c.find(qn("x:is")) is None
                    and c.find(qn("x:f")) is None for c in cells):
                return rows[r]
    return rows[min(outline.key_tasks)]


def _activity_row(book: Workbook, proto: etree._Element, cols: dict[str, int], level: int,
                  indent: int, spaces: int, phase_text: str,
                  phase_number: bool = False) -> etree._Element:
    """The loop body of a schedule: one activity's row, in the prototype's look; its Phase
    cell a number when ``phase_number`` (as the key task's row writes it)."""
    row = etree.Element(qn("x:row"), {k: v for k, v in proto.attrib.items()
                                     if k in ("s", "customFormat", "ht", "customHeight")})
    if level:
        row.set("outlineLevel", str(level))
    styles = {split_ref(c.get("r"))[0]: c.get("s") for c in proto.iter(qn("x:c"))
              if c.get("r")}
    lead = " " * spaces
    values = {"task": (f"{lead}{{{{ a.text }}}}" if "id" in cols
                       else f"{lead}{{{{ a.number }}}} {{{{ a.text }}}}"),
              "phase": escape_literal(phase_text), "resource": "{{ a.party }}",
              "percent": "{{ a.percent }}", "start": "{{ a.start }}",
              "finish": "{{ a.finish }}"}
    if "id" in cols:
        values["id"] = "{{ a.number }}"
    by_col = {cols[f]: v for f, v in values.items() if f in cols}
    for col in sorted(set(styles) | set(by_col)):
        c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}0")
        style = styles.get(col)
        if col == cols["task"] and indent:
            style = book.styles.indented(style, indent)
        if col == cols.get("percent"):
            style = book.styles.number(style, PERCENT_FORMAT)
        elif col in (cols.get("start"), cols.get("finish")):
            style = book.styles.number(style, DATE_FORMAT)
        if style:
            c.set("s", style)
        if phase_number and col == cols.get("phase"):
            etree.SubElement(c, qn("x:v")).text = phase_text
        elif col in by_col:
            write_tag(c, by_col[col])
    return row


def _numeric_cell(rows: dict[int, etree._Element], numbers: tuple[int, ...], col: int) -> bool:
    """Whether the first of rows ``numbers`` with a value in column ``col`` holds a number
    there (a schedule's Phase column written as numbers: its activity rows write numbers)."""
    for n in numbers:
        row = rows.get(n)
        for c in row.iter(qn("x:c")) if row is not None else ():
            if c.get("r") and split_ref(c.get("r"))[0] == col:
                v = c.find(qn("x:v"))
                if v is not None and (v.text or "").strip() or c.find(qn("x:is")) is not None:
                    return c.get("t", "n") == "n" and v is not None \
                        and _NUMBER.fullmatch(v.text.strip()) is not None
    return False


# -- tables by header -------------------------------------------------------------------------
def _table(book: Workbook, work: SheetWork, note: Annotation, placed: list[str]) -> None:
    """A table whose header names a feed's columns: its entry rows become loops."""
    rows = work.rows()
    merges = _merge_boxes(work.ws)
    for r, texts in _heads(book, rows, merges):
        width = max(texts)
        headers = [texts.get(i, "") for i in range(1, width + 1)]
        best = None
        for rule in FEED_RULES:
            if rule.name not in FEEDS:
                continue
            cols = match_columns(rule, headers)
            if rule_fits(rule, cols) and (best is None or len(cols) > len(best[1])):
                best = (rule.name, cols)
        if best is None:
            continue
        end = _header_end(merges, r, width)
        slots = _entry_rows(book, rows, end, width, merges)
        _tag_table(book, work, rows, end, slots, best[0],
                   {i + 1: f for i, f in best[1].items()}, merges)
        if best[0] == "activities":
            placed.append("true")
        note.wrap.add(work.name)
        note.notes.append(f"{work.name}: rows {end + 1}-{max(slots + [end])} become a loop "
                          f"over {FEEDS[best[0]][0]}")
        return


def _entry_rows(book: Workbook, rows: dict[int, etree._Element], header: int, width: int,
                merges: list[tuple[int, int, int, int]]) -> list[int]:
    """The rows below the header that data replaces, up to the first that closes the table."""
    tmpl, r = [], header + 1
    while r in rows and len(rows[r]) and (rows[r][0].tag == _C or rows[r].find(_C) is not None):
        tmpl.append(r)
        r += 1
    by_row: dict[int, list[tuple[int, int, int, int]]] = {}
    for box in merges:
        for n in range(box[1], min(box[3], header + len(tmpl)) + 1):
            by_row.setdefault(n, []).append(box)
    head = _row_shape(book, rows[header], header, header, width, merges) if header in rows \
        else TemplateRow([], tuple([1] * width))
    # rows of plain numbers (or empty cells) are read as the shared rule would, without
    # reading their texts: found for the whole sheet by one XPath, not row by row
    data = rows[header].getparent() if header in rows else None
    texty = set(_TEXT_ROWS(data)) if data is not None else set()
    valued = set(_VALUE_ROWS(data)) if data is not None else set()
    flat = (1,) * width
    plain = {True: TemplateRow([] if flat == head.layout else ["0"], flat),
             False: TemplateRow([], flat)}
    shapes = [plain[str(n) in valued] if n not in by_row and str(n) not in texty
              else _row_shape(book, rows[n], n, header, width, by_row.get(n, []))
              for n in tmpl]
    return tmpl[:kept_rows_start(shapes, head.layout)]


def _row_shape(book: Workbook, row: etree._Element, r: int, header: int, width: int,
               merges: list[tuple[int, int, int, int]]) -> TemplateRow:
    texts = book.row_texts(row)
    if not merges:
        return TemplateRow([texts.get(c, "") for c in range(1, width + 1)], (1,) * width,
                           _sums_above(row, r, header))
    spans = {c1: c2 - c1 + 1 for c1, r1, c2, r2 in merges if r1 <= r <= r2}
    covered = {c for c1, r1, c2, r2 in merges if r1 <= r <= r2 for c in range(c1 + 1, c2 + 1)}
    shown = [c for c in range(1, width + 1) if c not in covered]
    return TemplateRow([texts.get(c, "") for c in shown], tuple(spans.get(c, 1) for c in shown),
                       _sums_above(row, r, header))


def _sums_above(row: etree._Element, r: int, header: int) -> bool:
    for f in row.iter(_F):
        for m in _RANGE_REF.finditer(f.text or ""):
            if header < int(m.group(1)) and int(m.group(2)) < r:
                return True
    return False


def _tag_table(book: Workbook, work: SheetWork, rows: dict[int, etree._Element], header: int,
               slots: list[int], feed: str, by_col: dict[int, str],
               merges: list[tuple[int, int, int, int]]) -> None:
    source, exprs = FEEDS[feed]
    kinds = _kinds(book, rows, slots)
    proto = rows[slots[prototype_index(kinds)]] if slots else rows[header]
    proto_r = int(proto.get("r"))
    spans = [(c1, c2) for c1, r1, c2, r2 in merges if r1 == r2 == proto_r]
    keep = slots and len(slots) <= KEEP_EXAMPLES and any(k != "blank" for k in kinds)
    body = _table_row(proto, by_col, exprs)
    blank = _table_row(proto, {}, {})
    new = [control_row(0, "{%tr if " + source + " %}{%tr for row in " + source + " %}"),
           body, control_row(0, "{%tr endfor %}")]
    if slots:
        new += [control_row(0, "{%%tr for _ in range(%d - (%s) | length) %%}"
                            % (len(slots), source)), blank, control_row(0, "{%tr endfor %}")]
    if keep:
        new += [control_row(0, "{%tr else %}")] + [copy.deepcopy(rows[n]) for n in slots]
    new.append(control_row(0, "{%tr endif %}"))
    first = header + 1
    inside = [(c1, r1, c2, r2) for c1, r1, c2, r2 in merges
              if slots and slots[0] <= r1 and r2 <= slots[-1]]
    _drop_merges(work.ws, inside)
    work.edits.append(Edit(first, slots[-1] if slots else header, len(new), first))
    work.new_rows.append((first, new))
    if spans:
        work.body_merges += [(first + i, spans) for i, row in enumerate(new)
                             if row is body or row is blank]
    if keep:
        offset = next(i for i, row in enumerate(new) if row.get("r") == str(slots[0]))
        work.kept = (first, offset, slots[0], inside)
    work.changed = True


def _kinds(book: Workbook, rows: dict[int, etree._Element], slots: list[int]) -> list[str]:
    """The slots' kinds as far as choosing the prototype needs (up to the first blank row;
    the rest read as blank: a table of thousands of styled rows is not read twice)."""
    out: list[str] = []
    for n in slots:
        out.append(row_kind(list(book.row_texts(rows[n]).values())))
        if out[-1] == "blank" and len(slots) > KEEP_EXAMPLES:
            break
    return out + ["blank"] * (len(slots) - len(out))


def _table_row(proto: etree._Element, by_col: dict[int, str],
               exprs: dict[str, str]) -> etree._Element:
    """A loop body like the prototype: the feed's fields in their columns, formulas kept
    (moved later), other values cleared."""
    row = etree.Element(qn("x:row"), {k: v for k, v in proto.attrib.items()
                                     if k not in ("r", "ht", "customHeight")})
    if proto.get("customHeight") in ("1", "true") and proto.get("ht"):
        row.set("ht", proto.get("ht"))
        row.set("customHeight", "1")
    cells = {split_ref(c.get("r"))[0]: c for c in proto.iter(qn("x:c")) if c.get("r")}
    for col in sorted(set(cells) | set(by_col)):
        pc = cells.get(col)
        c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}0")
        if pc is not None and pc.get("s"):
            c.set("s", pc.get("s"))
        name = by_col.get(col)
        if name in exprs:
            write_tag(c, "{{ %s }}" % exprs[name])
        elif pc is not None and name is None:
            f = pc.find(qn("x:f"))
            if f is not None and (f.text or "").strip() and f.get("t") not in ("shared",
                                                                             "array"):
                etree.SubElement(c, qn("x:f"), m3from=pc.get("r")).text = f.text
    return row


def _drop_merges(ws: etree._Element, boxes: list[tuple[int, int, int, int]]) -> None:
    mc = ws.find(qn("x:mergeCells"))
    if mc is None or not boxes:
        return
    refs = {f"{col_letter(c1)}{r1}:{col_letter(c2)}{r2}" for c1, r1, c2, r2 in boxes}
    for el in list(mc):
        if el.get("ref", "").replace("$", "") in refs:
            mc.remove(el)
    mc.set("count", str(len(mc)))


# -- the edit ---------------------------------------------------------------------------------
def _apply(book: Workbook, work: SheetWork) -> None:
    """The sheet's rows inserted with everything that points at them moved; the sheet put
    back only when it changed."""
    if not work.changed:
        return
    if work.edits:
        rows = RowEdits(work.name, work.edits)
        data = work.ws.find(qn("x:sheetData"))
        replaced = {n for e in work.edits for n in range(e.first, e.last + 1)}
        if replaced:   # one rebuild, not a removal per row (each one a search of the list)
            kept = [row for row in data if row.tag != _ROW
                    or int(row.get("r", "0")) not in replaced]
            work._rows = None     # rows held from Python would each be moved to a document
            book._row_texts.clear()   # of its own when removed, and freed one by one
            del data[:]
            data.extend(kept)
        rowmove.move_sheet(work.ws, rows)
        rowmove.move_sheet_parts(book.pkg, work.part, rows)
        rowmove.move_names(book.pkg, book.main, rows)
        book.maps.append(rows)
        _insert(work, data, rows)
        _add_body_merges(work, rows)
        dim = work.ws.find(qn("x:dimension"))
        numbers = [int(r.get("r")) for r in data if r.tag == qn("x:row")]
        if dim is not None and numbers and _RANGE.match(dim.get("ref", "")):
            m = _RANGE.match(dim.get("ref"))
            if m.group(3):
                dim.set("ref", f"{m.group(1)}{min(numbers + [int(m.group(2))])}:"
                               f"{m.group(3)}{max(numbers)}")
    book.pkg.put(work.part, serialize(work.ws))   # bytes: no tree per sheet held to the end
    if work.edits:
        rowmove.move_other_sheets(book.pkg, [s for s in book.sheets if s[1] != work.part],
                                  [book.maps[-1]])


def _insert(work: SheetWork, data: etree._Element, rows: RowEdits) -> None:
    """The new rows at their places, numbered; formulas of loop bodies moved to their row."""
    existing = [(int(r.get("r")), r) for r in data if r.tag == qn("x:row")]
    numbers = [n for n, _ in existing]
    for first, new in work.new_rows:
        i = rows._at(first)
        start = rows.start(i)
        for k, row in enumerate(new):
            n = start + k
            old = row.get("r")
            row.set("r", str(n))
            for c in row.iter(qn("x:c")):
                c.set("r", c.get("r").rstrip("0123456789") + str(n))
                f = c.find(qn("x:f"))
                if f is not None and f.get("m3from"):
                    origin = f.attrib.pop("m3from")
                    try:
                        f.text = Translator("=" + f.text, origin).translate_formula(
                            c.get("r"))[1:]
                    except TranslatorError:
                        c.remove(f)
                elif f is not None and old and old != str(n):
                    try:
                        f.text = Translator("=" + f.text, c.get("r").rstrip(
                            "0123456789") + old).translate_formula(c.get("r"))[1:]
                    except TranslatorError:
                        pass
            at = bisect.bisect_left(numbers, n)
            if at < len(existing):
                existing[at][1].addprevious(row)
            else:
                data.append(row)
            existing.insert(at, (n, row))
            numbers.insert(at, n)


def _add_body_merges(work: SheetWork, rows: RowEdits) -> None:
    """Merges of a table's prototype row, on its loop bodies (the engine repeats them)."""
    extra = []
    for at, spans in work.body_merges:   # template numbering: the edit's first row + k
        i = rows._at(at)
        n = rows.start(i) + at - rows.edits[i].first
        extra += [f"{col_letter(a)}{n}:{col_letter(b)}{n}" for a, b in spans]
    if work.kept is not None:
        first, offset, old_first, boxes = work.kept
        shift = rows.start(rows._at(first)) + offset - old_first
        extra += [f"{col_letter(c1)}{r1 + shift}:{col_letter(c2)}{r2 + shift}"
                  for c1, r1, c2, r2 in boxes]
    if not extra:
        return
    mc = work.ws.find(qn("x:mergeCells"))
    if mc is None:
        mc = etree.Element(qn("x:mergeCells"))
        data = work.ws.find(qn("x:sheetData"))
        anchor = data
        for name in ("sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios",
                     "autoFilter", "sortState", "dataConsolidate", "customSheetViews"):
            found = work.ws.find(qn(f"x:{name}"))
            if found is not None:
                anchor = found
        anchor.addnext(mc)
    for ref in extra:
        etree.SubElement(mc, qn("x:mergeCell"), ref=ref)
    mc.set("count", str(len(mc)))


# -- the key-task context sheet ---------------------------------------------------------------
def _context_lines(placed: str) -> list[tuple[str, list[tuple[int, str, str]]]]:
    """The context sheet as rows: ("tr", statement) control rows or ("", cells) with cells
    (column, style kind, text)."""
    unnamed = f"Stakeholders {UNNAMED_LABEL.lower()}"
    named = ("{% for s in kt.stakeholders if s.named %}{{ s.role }} ({{ s.parties }}): "
             "{{ s.people }}{% if not loop.last %}; {% endif %}{% endfor %}")
    status = ("Status: {{ kt.status_label or kt.status }}{% if kt.percent_complete is not none "
              "%}, {{ kt.percent_complete }}% complete{% endif %}{% if kt.finish %}, finish "
              "{{ kt.finish_mdyyyy }}{% endif %}")
    return [
        ("", [(2, "head", "M3 Key Task Context")]),
        ("", [(2, "wrap", "Prefilled for {{ agency }}, {{ program }}, as of {{ date }}, from "
                          "the M3 Playbook key tasks that produce or use this document.")]),
        ("{%tr for kt in key_tasks %}", []),
        ("", [(2, "head", "{{ kt.title }}")]),
        ("{%tr if kt.objective %}", []), ("", [(2, "wrap", "Objective: {{ kt.objective }}")]),
        ("{%tr endif %}", []),
        ("{%tr if kt.status or kt.percent_complete is not none %}", []),
        ("", [(2, "wrap", status)]), ("{%tr endif %}", []),
        ("{%tr if kt.activities or kt.activities_note %}", []),
        ("", [(2, "wrap", "Activities")]), ("{%tr endif %}", []),
        ("{%tr if kt.activities %}{%tr if " + placed + " %}", []),
        ("", [(2, "wrap", ACTIVITIES_PLACED)]),
        ("{%tr else %}{%tr for g in kt.groups %}{%tr if g.title %}", []),
        ("", [(2, "wrap", "{{ g.title }}")]), ("{%tr endif %}", []),
        ("", [(i, "bold", h) for i, h in enumerate(ACTIVITY_HEADER, 1)]),
        ("{%tr for a in g.activities %}", []),
        ("", [(1, "wrap", "{{ a.number }}"), (2, "wrap", "{{ a.text }}"),
              (3, "wrap", "{{ a.owner or a.party }}")]),
        ("{%tr endfor %}", []), ("", []),
        ("{%tr endfor %}{%tr endif %}{%tr endif %}", []),
        ("{%tr if kt.activities_note %}", []), ("", [(2, "wrap", "{{ kt.activities_note }}")]),
        ("{%tr endif %}", []),
        ("{%tr if kt.inputs %}", []),
        ("", [(2, "wrap", "Inputs: {{ kt.inputs | map(attribute='title') | join('; ') }}")]),
        ("{%tr endif %}", []),
        ("{%tr if kt.outputs %}", []),
        ("", [(2, "wrap", "Outputs: {{ kt.outputs | map(attribute='title') | join('; ') }}")]),
        ("{%tr endif %}", []),
        ("{%tr if kt.stakeholders | selectattr('named') | list %}", []),
        ("", [(2, "wrap", "Stakeholders: " + named)]), ("{%tr endif %}", []),
        ("{%tr if kt.unnamed_roles %}", []),
        ("", [(2, "wrap", unnamed + ": {{ kt.unnamed_roles }}")]), ("{%tr endif %}", []),
        ("{%tr if kt.best_practices %}", []), ("", [(2, "wrap", "Best practices")]),
        ("{%tr for bp in kt.best_practices %}", []), ("", [(2, "wrap", BULLET + "{{ bp }}")]),
        ("{%tr endfor %}{%tr endif %}", []),
        ("{%tr endfor %}", []),
    ]


def _add_context_sheet(book: Workbook, note: Annotation) -> None:
    """A new last sheet with the key tasks' objective, activities, inputs and outputs."""
    head, bold, wrap = book.styles.context()
    style = {"head": head, "bold": bold, "wrap": wrap}
    ws = etree.Element(qn("x:worksheet"), nsmap={None: NS["x"], "r": NS["r"]})
    cols = etree.SubElement(ws, qn("x:cols"))
    for i, width in enumerate(CONTEXT_WIDTHS, 1):
        etree.SubElement(cols, qn("x:col"), min=str(i), max=str(i), width=str(width),
                         customWidth="1")
    data = etree.SubElement(ws, qn("x:sheetData"))
    for r, (statement, cells) in enumerate(_context_lines(note.placed), 1):
        if statement:
            data.append(control_row(r, statement))
            continue
        row = etree.SubElement(data, qn("x:row"), r=str(r))
        for col, kind, text in cells:
            c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}{r}", s=style[kind])
            write_tag(c, text)
        if any(kind == "head" for _, kind, _ in cells):
            row.set("ht", "21.1")   # a 14-point line
            row.set("customHeight", "1")
    etree.SubElement(ws, qn("x:pageMargins"), left="0.7", right="0.7", top="0.75",
                     bottom="0.75", header="0.3", footer="0.3")
    etree.SubElement(ws, qn("x:pageSetup"), orientation="landscape")
    pkg = book.pkg
    folder = posixpath.dirname(book.sheets[0][1]) if book.sheets else "xl/worksheets"
    part = part_names(pkg.names, folder, "sheet", "xml")
    pkg.put(part, ws, WORKSHEET_CT)
    rid = pkg.relate(book.main, RT["worksheet"],
                     posixpath.relpath(part, posixpath.dirname(book.main)))
    sheets = pkg.xml(book.main).find(qn("x:sheets"))
    taken = {s.get("name") for s in sheets}
    name, n = CONTEXT_SHEET, 2
    while name in taken:
        name, n = f"{CONTEXT_SHEET} {n}", n + 1
    sheet_id = max([int(s.get("sheetId", "0")) for s in sheets] + [0]) + 1
    el = etree.SubElement(sheets, qn("x:sheet"), name=name, sheetId=str(sheet_id))
    el.set(qn("r:id"), rid)
    note.notes.append(f"{name}: the key-task context, a loop over key_tasks")
    note.wrap.add(name)


ANNOTATOR = XlsxAnnotator()

__all__ = ["ANNOTATOR", "XlsxAnnotator", "annotated", "Blanks", "RowEdits"]
