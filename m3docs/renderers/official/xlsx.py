"""Fill an official Excel template (.xlsx or .xlsm) in place, at the XML level.

Blanks are filled in shared strings (a filled copy is appended, so other cells
keep the original), inline strings, headers/footers and drawings. A sheet whose
header row names a feed's columns gets its template rows (instructions,
examples, styled blanks) replaced by rows cloned from the first example row;
data validations, conditional formats (x14 too), tables, auto-filters and
defined names that covered the template rows are extended to the new rows. A
sheet shaped like a schedule is filled by its outline instead (outline.py decides
which rows go where; every template row stays). All text is written as inline
strings, never as formulas. What a fill needs to know of the template (its sheets,
shared strings, header rows, outlines) is read once per template.
"""
from __future__ import annotations

import copy
import datetime as dt
import posixpath
import re
from dataclasses import dataclass

from lxml import etree

from ...engagement import Engagement
from ...ooxml.package import Package, Template, part_names, resolve_target
from ...ooxml.drawingml import wrapped_lines
from ..sheetml import col_index, col_letter
from ...ooxml.placeholders import paragraph_text
from ...ooxml.xml import NS, RT, clean_text, qn
from ...playbook.model import Playbook
from ...plan import Document
from ..common import per_template
from .outline import NewRow, Outline, OutlinePlan, OutlineRow, find_outline, plan_outline, \
    schedule_columns
from .placeholders import Filler, may_hold_blank
from .rowshift import Shift, Shifts, shift_names, shift_other_sheets, shift_sheet, \
    shift_sheet_parts
from .tables import FEED_RULES, Block, Feed, TemplateRow, best_feed, context_blocks, \
    context_placed, kept_rows_start, prototype_index, row_kind, table_rule_fits

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
HEADER_SCAN_ROWS = 15
HEADER_MERGE_ROWS = 2   # rows a header cell may be merged over
MAX_CELL_CHARS = 32_767
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
# A range on the formula's own sheet: (first row, last row).
_RANGE_REF = re.compile(r"(?<![A-Za-z_!'$])\$?[A-Z]{1,3}\$?(\d+):\$?[A-Z]{1,3}\$?(\d+)(?![\d(])")
_FORMULA_REF = re.compile(r"(?<![A-Za-z_\"'!.])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\d(A-Za-z_])")
CONTEXT_SHEET = "Key Task Context"
BASE_FONT_PT = 11.0      # the font size column widths are measured in
CHARS_PER_WIDTH = 1.15   # average characters per unit of column width at that size
ROW_PAD_PT = 2.0         # added to a wrapped row so its last line is not cut
MAX_ROW_PT = 409.0       # Excel's tallest row
_CONTEXT_WIDTHS = (10, 64, 26)
HEADING_PT = 14.0        # the context sheet's headings
BOLD_WIDTH = 1.1         # bold text is about this much wider
# Built-in number formats: dates (m/d/yyyy first) and percentages (0% first).
DATE_FORMAT_IDS = ("14", "15", "16", "17", "22")
PERCENT_FORMAT_IDS = ("9", "10")


def split_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.replace("$", ""))
    if not m:
        raise ValueError(ref)
    return col_index(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class SheetShape:
    """What the fill needs to know of one sheet before deciding to edit it (read once per
    template): the shared strings its cells use, its inline strings, header/footer texts,
    the header candidates of its first rows and, for a schedule, its outline's row views."""

    name: str
    part: str
    shared: frozenset[int]
    inline: tuple[str, ...]          # inline strings that may hold a blank
    inline_all: tuple[str, ...]      # every inline string (for literal blanks)
    header_footer: tuple[str, ...]
    tables: frozenset[str]           # feeds whose columns a header row names
    schedule: tuple[int, dict[str, int], tuple[OutlineRow, ...]] | None = None

    def texts(self, literal: bool) -> tuple[str, ...]:
        """The inline and header/footer texts a fill must try."""
        return (self.inline_all if literal else self.inline) + self.header_footer


class BookShape:
    """The workbook's analysis, done once per template: sheets, shared strings, how often
    each is used, and each sheet's shape."""

    def __init__(self, pkg: Package, main: str):
        self.pkg, self.main = pkg, main
        wb = pkg.template.xml(main)
        sheets: list[tuple[str, str]] = []
        for sheet in wb.iter(qn("x:sheet")):
            rid = sheet.get(qn("r:id"))
            try:
                part = pkg.related(main, rid)
            except KeyError:
                continue
            if part in pkg:
                sheets.append((sheet.get("name", ""), part))
        self.sst_part = self._find(RT_SST)
        sst = pkg.template.xml(self.sst_part) if self.sst_part else None
        self.sst = list(sst.findall(qn("x:si"))) if sst is not None else []
        self.sst_texts = [paragraph_text(si, qn("x:t")) for si in self.sst]
        self.maybe_blank = frozenset(i for i, t in enumerate(self.sst_texts)
                                     if may_hold_blank(t))
        self.refs: dict[int, int] = {}
        self.sheets: list[SheetShape] = []
        self._reader = Book(pkg.template.new(), main, self)   # reads cells while analysing
        for name, part in sheets:
            self.sheets.append(self._sheet(name, part))

    def _find(self, rel_type: str) -> str | None:
        for rel in self.pkg.template.xml(self.pkg.rels_name(self.main)):
            if rel.get("Type") == rel_type:
                return resolve_target(self.main, rel.get("Target"))
        return None

    def _sheet(self, name: str, part: str) -> SheetShape:
        ws = self.pkg.template.xml(part)
        shared: set[int] = set()
        inline = []
        for c in ws.iter(qn("x:c")):
            t = c.get("t")
            if t == "s":
                v = c.find(qn("x:v"))
                if v is not None and (v.text or "").isdigit():
                    i = int(v.text)
                    shared.add(i)
                    self.refs[i] = self.refs.get(i, 0) + 1
            elif t == "inlineStr" and (is_ := c.find(qn("x:is"))) is not None:
                inline.append(paragraph_text(is_, qn("x:t")))
        hf = ws.find(qn("x:headerFooter"))
        texts = tuple(el.text for el in (hf if hf is not None else []) if el.text)
        _, rows = _rows(ws)
        merges = _merge_boxes(ws)
        reader = self._reader
        heads = []
        for r in sorted(rows)[:HEADER_SCAN_ROWS]:
            found = _header_texts(rows, r, reader, merges)
            if found:
                heads.append((r, tuple(found.get(i, "") for i in range(1, max(found) + 1))))
        tables = frozenset(rule.name for _, row in heads for rule in FEED_RULES
                           if table_rule_fits(rule, list(row)))
        return SheetShape(name, part, frozenset(shared),
                          tuple(t for t in inline if may_hold_blank(t)), tuple(inline), texts,
                          tables, _schedule_shape(rows, heads, reader))


@per_template
def _book_shapes(template: Template) -> dict[str, BookShape]:
    """The template's workbook analyses, by main part (filled in on first use)."""
    return {}


def book_shape(pkg: Package, main: str) -> BookShape:
    shapes = _book_shapes(pkg.template)
    if main not in shapes:
        shapes[main] = BookShape(pkg.template.new(), main)
    return shapes[main]


class Book:
    """One document's view of the workbook: the template's shape and what this fill
    repointed (shared strings filled per cell) and added (styles)."""

    def __init__(self, pkg: Package, main: str, shape: BookShape):
        self.pkg, self.main, self.shape = pkg, main, shape
        self.sheets = [(s.name, s.part) for s in shape.sheets]
        self.sst_part, self.sst, self.sst_texts = shape.sst_part, shape.sst, shape.sst_texts
        self.repointed: dict[int, etree._Element] = {}
        self.repoint_count: dict[int, int] = {}
        self.styles: _Styles | None = None   # read when a table is filled

    @property
    def refs(self) -> dict[int, int]:
        return self.shape.refs

    def _find(self, rel_type: str) -> str | None:
        return self.shape._find(rel_type)

    def text(self, c: etree._Element) -> str:
        t = c.get("t")
        if t == "s":
            v = c.find(qn("x:v"))
            try:
                return self.sst_texts[int(v.text)]
            except (AttributeError, ValueError, IndexError, TypeError):
                return ""
        if t == "inlineStr":
            is_ = c.find(qn("x:is"))
            return paragraph_text(is_, qn("x:t")) if is_ is not None else ""
        v = c.find(qn("x:v"))
        return v.text or "" if v is not None and c.find(qn("x:f")) is None else ""

    def finish_shared(self) -> None:
        """A shared string whose every reference now points at a filled copy is filled too
        (so no stale blank stays in the table)."""
        for index, filled in self.repointed.items():
            if self.repoint_count[index] == self.refs.get(index, 0):
                sst = self.pkg.xml(self.sst_part)
                old = sst.findall(qn("x:si"))[index]
                old.addprevious(copy.deepcopy(filled))
                sst.remove(old)

    def add_shared(self, si: etree._Element) -> int:
        sst = self.pkg.xml(self.sst_part)
        sst.append(si)
        n = len(sst.findall(qn("x:si")))
        sst.set("uniqueCount", str(n))
        return n - 1


RT_SST = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
RT_CALC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"


def fill(pkg: Package, main: str, doc: Document, engagement: Engagement,
         feeds: list[Feed], playbook: Playbook | None = None) -> list[str]:
    shape = book_shape(pkg, main)
    book = Book(pkg, main, shape)
    filler = Filler(engagement)
    blanks = _shared_blanks(shape, filler)
    shifts: list[Shift] = []
    formulas_dropped = False
    for index, sheet in enumerate(shape.sheets):
        name, part = sheet.name, sheet.part
        outline = _outline_of(sheet, playbook) if playbook is not None else None
        table = outline is None and _table_wanted(sheet, feeds)
        if outline or table or sheet.shared & blanks or any(
                filler.finds(t) for t in sheet.texts(filler.literal_keys)):
            ws = copy.deepcopy(pkg.template.xml(part))   # only the sheets this fill edits
            changed = _fill_cells(ws, book, filler)
            changed |= _fill_header_footer(ws, filler)
            result = None
            if outline is not None:
                result = _fill_outline(pkg, book, ws, sheet, outline, doc, engagement, feeds,
                                       shifts)
            elif table:
                result = _fill_sheet_table(pkg, book, ws, part, name, index, feeds, shifts)
            if result is not None:
                changed = True
                formulas_dropped |= result
            if changed:
                pkg.put(part, ws)
        _fill_drawings(pkg, part, filler)
    book.finish_shared()
    formulas_dropped |= shift_other_sheets(pkg, book.sheets, shifts)
    if formulas_dropped:  # formula cells changed or moved: Excel recalculates
        _drop_calc_chain(pkg, book)
        calc = pkg.xml(main).find(qn("x:calcPr"))
        if calc is not None:
            calc.set("fullCalcOnLoad", "1")
    placed = context_placed(feeds)   # the sheet either way, the activities only if not placed
    _add_context_sheet(pkg, book, context_blocks(doc, engagement, placed))
    return filler.warnings()


def _shared_blanks(shape: BookShape, filler: Filler) -> set[int]:
    """The shared strings this fill acts on (only those that may hold a blank are tried,
    unless the engagement adds literal blanks)."""
    tried = range(len(shape.sst_texts)) if filler.literal_keys else shape.maybe_blank
    return {i for i in tried if filler.finds(shape.sst_texts[i])}


def _table_wanted(sheet: SheetShape, feeds: list[Feed]) -> bool:
    """Whether a header row of the sheet names the columns of a feed with rows (the table
    fill applies)."""
    return any(feed.rows and feed.rule.name in sheet.tables for feed in feeds)


# -- blanks -------------------------------------------------------------------------------
def _fill_cells(ws: etree._Element, book: Book, filler: Filler) -> bool:
    changed = False
    for c in ws.iter(qn("x:c")):
        t = c.get("t")
        if t == "s" and book.sst_part:
            v = c.find(qn("x:v"))
            try:
                si = book.sst[int(v.text)]
            except (AttributeError, ValueError, IndexError, TypeError):
                continue
            probe = copy.deepcopy(si)
            if filler.paragraph(probe, qn("x:t")):
                index = int(v.text)
                v.text = str(book.add_shared(probe))
                book.repointed[index] = probe
                book.repoint_count[index] = book.repoint_count.get(index, 0) + 1
                changed = True
        elif t == "inlineStr":
            is_ = c.find(qn("x:is"))
            if is_ is not None and filler.paragraph(is_, qn("x:t")):
                changed = True
    return changed


def _fill_header_footer(ws: etree._Element, filler: Filler) -> bool:
    changed = False
    hf = ws.find(qn("x:headerFooter"))
    if hf is None:
        return False
    for el in hf:
        if el.text:
            new = filler.text(el.text)
            if new != el.text:
                el.text = new
                changed = True
    return changed


def _fill_drawings(pkg: Package, sheet_part: str, filler: Filler) -> None:
    rels_name = pkg.rels_name(sheet_part)
    if rels_name not in pkg:
        return
    for rel in pkg.template.xml(rels_name):
        if rel.get("Type") != RT["drawing"] or rel.get("TargetMode") == "External":
            continue
        part = resolve_target(sheet_part, rel.get("Target"))
        if part not in pkg:
            continue
        probe = copy.deepcopy(pkg.template.xml(part))
        if sum(filler.paragraph(p, qn("a:t")) for p in probe.iter(qn("a:p"))):
            pkg.put(part, probe)


# -- schedules by their outline ------------------------------------------------------------
def _schedule_shape(rows: dict[int, etree._Element], heads: list[tuple[int, tuple[str, ...]]],
                    book: "Book") -> tuple[int, dict[str, int], tuple[OutlineRow, ...]] | None:
    """(header row, columns, row views) of a sheet whose header names a schedule's columns."""
    for r, texts in heads:
        columns = schedule_columns({i: t for i, t in enumerate(texts, 1) if t})
        if columns:
            book.styles = book.styles or _Styles(book.pkg, book)
            return r, columns, tuple(_outline_row(rows[n], n, book, columns["task"])
                                     for n in sorted(rows) if n > r)
    return None


def _outline_of(sheet: SheetShape, playbook: Playbook) -> Outline | None:
    """The sheet's outline when it is shaped like a schedule of this playbook."""
    if sheet.schedule is None:
        return None
    header, columns, views = sheet.schedule
    return find_outline(header, columns, list(views), playbook)


def _fill_outline(pkg: Package, book: Book, ws: etree._Element, sheet: SheetShape,
                  outline: Outline, doc: Document, engagement: Engagement, feeds: list[Feed],
                  shifts: list[Shift]) -> bool:
    """Fill a schedule-shaped sheet by its outline (outline.py decides, this edits): every
    template row stays; activities go in beneath their key tasks. True: formulas moved."""
    data, rows = _rows(ws)
    book.styles = book.styles or _Styles(pkg, book)
    scope = set(doc.scope) or {kt.id for kt in doc.key_tasks}
    plan = plan_outline(outline, list(sheet.schedule[2]), scope, engagement)
    moved = _write_outline(pkg, book, ws, data, rows, plan, sheet.part, sheet.name, shifts)
    if all(kt.id in plan.placed for kt in doc.key_tasks if kt.activities):
        for feed in feeds:   # the context sheet need not list the activities again
            if feed.rule.name == "activities":
                feed.used = True
    return moved


def _outline_row(row: etree._Element, r: int, book: Book, task_col: int) -> OutlineRow:
    texts = _row_texts(row, book)
    style = next((c.get("s") for c in row.findall(qn("x:c"))
                  if c.get("r") and split_ref(c.get("r"))[0] == task_col), None)
    raw = texts.get(task_col, "")
    return OutlineRow(r, texts, int(row.get("outlineLevel", "0") or 0),
                      book.styles.indent(style), len(raw) - len(raw.lstrip(" ")) if raw.strip()
                      else 0)


def _write_outline(pkg: Package, book: Book, ws: etree._Element, data: etree._Element,
                   rows: dict[int, etree._Element], plan: OutlinePlan, part: str, name: str,
                   shifts: list[Shift]) -> bool:
    """The edit: the project row's blank, then the inserted rows (rows below move down with
    everything that points at them; roll-ups over a phase's rows grow). True when formulas
    moved."""
    cols = plan.outline.columns
    if plan.project_text is not None:
        cell = _cell_at(rows[plan.outline.project], plan.outline.project, cols["task"])
        write_text(cell, plan.project_text)
    if not plan.insertions:
        return False
    proto = _outline_prototype(rows, plan)
    shift = Shifts.of([Shift(name, ins.after + 1, len(ins.rows), ins.phase_top)
                       for ins in plan.insertions])
    anchors = {ins.after: rows[ins.after] for ins in plan.insertions}
    moved = shift_sheet(ws, shift)
    shift_sheet_parts(pkg, part, shift)
    shift_names(pkg, book.main, shift)
    shifts.append(shift)
    maker = _ScheduleCells(book, ws, proto, cols, _date_base(pkg, book))
    for ins in plan.insertions:
        first = shift.row(ins.after) + 1
        new = [maker.row(first + i, values) for i, values in enumerate(ins.rows)]
        for row in reversed(new):
            anchors[ins.after].addnext(row)
    _set_outline_levels(ws, plan)
    _set_dimension(ws)
    return moved


def _cell_at(row: etree._Element, r: int, col: int) -> etree._Element:
    """The row's cell in column ``col`` (added in column order when absent)."""
    for c in row.findall(qn("x:c")):
        at = split_ref(c.get("r"))[0] if c.get("r") else 0
        if at == col:
            return c
        if at > col:
            new = etree.Element(qn("x:c"), r=f"{col_letter(col)}{r}")
            c.addprevious(new)
            return new
    return etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}{r}")


def _outline_prototype(rows: dict[int, etree._Element], plan: OutlinePlan) -> etree._Element:
    """The row new activity rows look like: the first styled blank row below the outline (where
    the template has new tasks typed), else one within it (not a spacer above the first
    phase), else the first key task's row."""
    outline = plan.outline
    last = max([*outline.phases, *outline.key_tasks])
    for lowest in (last, min(outline.phases)):
        for r in sorted(rows):
            cells = rows[r].findall(qn("x:c"))
            if r > lowest and cells and any(c.get("s") for c in cells) and all(
                    c.find(qn("x:v")) is None and c.find(qn("x:is")) is None
                    and c.find(qn("x:f")) is None for c in cells):
                return rows[r]
    return rows[plan.insertions[0].after]


class _ScheduleCells:
    """Builds an inserted schedule row: the prototype's cell styles, the values in their
    columns (numbers and dates as such, with a number format that shows them)."""

    def __init__(self, book: Book, ws: etree._Element, proto: etree._Element,
                 columns: dict[str, int], base: dt.date):
        self.styles, self.columns, self.base = book.styles, columns, base
        self.proto = proto
        self.cells = {split_ref(c.get("r"))[0]: c.get("s") for c in proto.findall(qn("x:c"))
                      if c.get("r")}
        self.col_styles = _col_styles(ws)

    def row(self, r: int, new: NewRow) -> etree._Element:
        row = etree.Element(qn("x:row"), {k: v for k, v in self.proto.attrib.items()
                                         if k in ("s", "customFormat", "ht", "customHeight")})
        row.set("r", str(r))
        if new.level:
            row.set("outlineLevel", str(new.level))
        by_col = {self.columns[f]: v for f, v in new.values.items() if f in self.columns}
        for col in sorted(set(self.cells) | set(by_col)):
            c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}{r}")
            style = self.cells.get(col, self.col_styles.get(col))
            value = by_col.get(col)
            if col == self.columns["task"] and new.indent:
                style = self.styles.indented(style, new.indent)
            if isinstance(value, dt.date):
                style = self.styles.number_style(style, "date")
                etree.SubElement(c, qn("x:v")).text = str((value - self.base).days)
            elif isinstance(value, float):
                style = self.styles.number_style(style, "percent")
                etree.SubElement(c, qn("x:v")).text = f"{value:g}"
            elif value:
                lead = " " * new.spaces if col == self.columns["task"] else ""
                write_text(c, lead + str(value))
            if style:
                c.set("s", style)
        return row


def _date_base(pkg: Package, book: Book) -> dt.date:
    """Day zero of the workbook's date serials (the 1904 system on request)."""
    pr = pkg.view(book.main).find(qn("x:workbookPr"))
    return dt.date(1904, 1, 1) if pr is not None and pr.get("date1904") in ("1", "true") \
        else dt.date(1899, 12, 30)


def _set_outline_levels(ws: etree._Element, plan: OutlinePlan) -> None:
    """The sheet's deepest outline level covers the inserted rows' (Excel shows no group
    buttons past it)."""
    deepest = max((r.level for ins in plan.insertions for r in ins.rows), default=0)
    fmt = ws.find(qn("x:sheetFormatPr"))
    if deepest and fmt is not None and int(fmt.get("outlineLevelRow", "0")) < deepest:
        fmt.set("outlineLevelRow", str(deepest))


# -- tables by header -----------------------------------------------------------------------
def _rows(ws: etree._Element) -> tuple[etree._Element, dict[int, etree._Element]]:
    data = ws.find(qn("x:sheetData"))
    rows = {}
    for row in data.findall(qn("x:row")):
        if row.get("r"):
            rows[int(row.get("r"))] = row
    return data, rows


def _row_texts(row: etree._Element, book: Book) -> dict[int, str]:
    out = {}
    for c in row.findall(qn("x:c")):
        ref = c.get("r")
        if ref:
            out[split_ref(ref)[0]] = book.text(c)
    return out


def _fill_sheet_table(pkg: Package, book: Book, ws: etree._Element, part: str, name: str,
                      index: int, feeds: list[Feed], shifts: list[Shift]) -> bool | None:
    """Fill the sheet's table if its header names a feed; None when not filled."""
    data, rows = _rows(ws)
    merges = _merge_boxes(ws)
    for r in sorted(rows)[:HEADER_SCAN_ROWS]:
        texts = _header_texts(rows, r, book, merges)
        if not texts:
            continue
        width = max(texts)
        found = best_feed(feeds, [texts.get(i, "") for i in range(1, width + 1)])
        if found is None:
            continue
        feed, columns = found
        by_col = {i + 1: f for i, f in columns.items()}
        end = _header_end(merges, r, width)
        table = _Table(end, _entry_rows(rows, end, width, book, merges), by_col)
        return _write_rows(pkg, book, ws, data, rows, table, feed, part, name, index, shifts)
    return None


def _merge_boxes(ws: etree._Element) -> list[tuple[int, int, int, int]]:
    """(first col, first row, last col, last row) of each merged range."""
    mc = ws.find(qn("x:mergeCells"))
    out = []
    for el in (mc if mc is not None else []):
        m = _RANGE.match(el.get("ref", ""))
        if m and m.group(3):
            out.append((col_index(m.group(1)), int(m.group(2)), col_index(m.group(3)),
                        int(m.group(4))))
    return out


def _header_texts(rows: dict[int, etree._Element], r: int, book: Book,
                  merges: list[tuple[int, int, int, int]]) -> dict[int, str]:
    """Column -> header text of row ``r``; a label merged down from a header row just above
    (``IMS`` over two header rows) names its column here too. A band merged across columns
    above (``Activity Detail`` over Activity and Owner) covers no cell of this row, so it is
    no column's label."""
    texts = _row_texts(rows[r], book) if r in rows else {}
    for c1, r1, _, r2 in merges:
        if r1 < r <= r2 and r - r1 <= HEADER_MERGE_ROWS and r1 in rows \
                and not texts.get(c1, "").strip():
            texts[c1] = _row_texts(rows[r1], book).get(c1, "")
    return texts


def _header_end(merges: list[tuple[int, int, int, int]], r: int, width: int) -> int:
    """The header's last row: lower than ``r`` when a header cell is merged down over the
    rows below it (a header two rows tall)."""
    ends = [r2 for c1, r1, _, r2 in merges
            if r1 <= r < r2 and c1 <= width and r2 - r <= HEADER_MERGE_ROWS]
    return max([r] + ends)


def _template_rows(rows: dict[int, etree._Element], header: int) -> list[int]:
    out, r = [], header + 1
    while r in rows and rows[r].find(qn("x:c")) is not None:
        out.append(r)
        r += 1
    return out


def _entry_rows(rows: dict[int, etree._Element], header: int, width: int, book: Book,
                merges: list[tuple[int, int, int, int]]) -> list[int]:
    """The template rows below the header that the fill replaces: the run of non-empty rows,
    up to the first that closes the table (a total, a note, a sign-off), which stays."""
    tmpl = _template_rows(rows, header)
    shapes = [_row_shape(rows[r], r, header, width, book, merges) for r in tmpl]
    head = _row_shape(rows[header], header, header, width, book, merges) if header in rows \
        else TemplateRow([], tuple([1] * width))
    return tmpl[:kept_rows_start(shapes, head.layout)]


def _row_shape(row: etree._Element, r: int, header: int, width: int, book: Book,
               merges: list[tuple[int, int, int, int]]) -> TemplateRow:
    """Row ``r`` over the table's columns as the shared rule reads it: each shown cell's text
    and span (merged cells), and whether it computes over rows above it (a total)."""
    texts = _row_texts(row, book)
    spans = {c1: c2 - c1 + 1 for c1, r1, c2, r2 in merges if r1 <= r <= r2}
    covered = {c for c1, r1, c2, r2 in merges if r1 <= r <= r2 for c in range(c1 + 1, c2 + 1)}
    shown = [c for c in range(1, width + 1) if c not in covered]
    return TemplateRow([texts.get(c, "") for c in shown], tuple(spans.get(c, 1) for c in shown),
                       _sums_above(row, r, header))


def _sums_above(row: etree._Element, r: int, header: int) -> bool:
    """Whether a formula of the row runs over the table's rows above it (=SUM(D5:D9) in row
    10 under a header in row 4); an entry's formula reads its own row (=LEN(B5)) or a range
    elsewhere (a lookup list)."""
    for f in row.iter(qn("x:f")):
        for m in _RANGE_REF.finditer(f.text or ""):
            if header < int(m.group(1)) and int(m.group(2)) < r:
                return True
    return False


@dataclass(frozen=True)
class _Table:
    """A sheet table found by its header: its last header row, the template rows the fill
    replaces, and column -> field."""

    header: int
    slots: list[int]
    by_col: dict[int, str]


def _write_rows(pkg: Package, book: Book, ws: etree._Element, data: etree._Element,
                rows: dict[int, etree._Element], table: _Table, feed: Feed, part: str,
                name: str, index: int, shifts: list[Shift]) -> bool:
    header, tmpl, by_col = table.header, table.slots, table.by_col
    kinds = [row_kind(list(_row_texts(rows[r], book).values())) for r in tmpl]
    proto = rows[tmpl[prototype_index(kinds)]] if tmpl else rows[header]
    proto_r = int(proto.get("r"))
    first = header + 1
    total = max(len(feed.rows), len(tmpl))
    last = header + total
    end = tmpl[-1] if tmpl else header
    moved = False
    if last > end:  # rows are inserted after the table's: what is below moves down
        shift = Shift(name, end + 1, last - end, region_top=first)
        moved = shift_sheet(ws, shift)
        shift_sheet_parts(pkg, part, shift)
        shift_names(pkg, book.main, shift)
        shifts.append(shift)
    had_formulas = moved or any(rows[r].find(".//" + qn("x:f")) is not None for r in tmpl)
    for r in tmpl:
        data.remove(rows[r])
    proto_merges = _take_merges(ws, first, tmpl[-1] if tmpl else header, proto_r)
    book.styles = book.styles or _Styles(pkg, book)
    look = _RowLook(ws, book.styles, proto_merges)
    new_rows = []
    for n, r in enumerate(range(first, last + 1)):
        values = feed.rows[n] if n < len(feed.rows) else {}
        new_rows.append(_clone_row(proto, proto_r, r, by_col, values, look))
    _insert_rows(data, new_rows, first)
    _add_merges(ws, proto_merges, proto_r, range(first, last + 1))
    _extend_ranges(ws, first, tmpl[-1] if tmpl else header, last)
    _extend_names(pkg, book, name, index, header, tmpl[-1] if tmpl else header, last)
    _extend_tables(pkg, part, header, last)
    _set_dimension(ws)
    feed.used = True
    return had_formulas


def _col_widths(ws: etree._Element) -> dict[int, float]:
    fmt = ws.find(qn("x:sheetFormatPr"))
    default = float(fmt.get("defaultColWidth", "8.43")) if fmt is not None else 8.43
    out: dict[int, float] = {}
    cols = ws.find(qn("x:cols"))
    for col in (cols if cols is not None else []):
        lo, hi = int(col.get("min", "1")), min(int(col.get("max", "1")), 256)
        for i in range(lo, hi + 1):
            out[i] = float(col.get("width", default))
    out[0] = default
    return out


def _col_styles(ws: etree._Element) -> dict[int, str]:
    """Column -> the style a new cell in it takes (its ``<col style>``)."""
    out: dict[int, str] = {}
    cols = ws.find(qn("x:cols"))
    for col in (cols if cols is not None else []):
        if col.get("style"):
            for i in range(int(col.get("min", "1")), min(int(col.get("max", "1")), 16384) + 1):
                out[i] = col.get("style")
    return out


def _default_height(ws: etree._Element) -> float:
    fmt = ws.find(qn("x:sheetFormatPr"))
    return float(fmt.get("defaultRowHeight", "15")) if fmt is not None else 15.0


def _lines(text: str, width: float, size: float = BASE_FONT_PT) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide at ``size`` points."""
    per_line = max(width * CHARS_PER_WIDTH * BASE_FONT_PT / size, 2.0)
    return sum(wrapped_lines(part, per_line) for part in text.split("\n"))


class _Styles:
    """The workbook's cell formats: which wrap, their font size, and wrapping copies."""

    def __init__(self, pkg: Package, book: Book):
        self.pkg, self.part = pkg, book._find(RT_STYLES)
        styles = pkg.view(self.part) if self.part and self.part in pkg else None
        find = (lambda tag: styles.find(qn(tag))) if styles is not None else (lambda tag: None)
        self.xfs = list(find("x:cellXfs") if find("x:cellXfs") is not None else [])
        self.style_xfs = list(find("x:cellStyleXfs") if find("x:cellStyleXfs") is not None
                              else [])
        fonts = find("x:fonts")
        self.sizes = [self._size(f) for f in (fonts if fonts is not None else [])]
        self.added: dict[tuple[str, bool, bool], str] = {}
        fmts = find("x:numFmts")
        self.formats = {f.get("numFmtId"): f.get("formatCode", "")
                        for f in (fmts if fmts is not None else [])}
        self.derived: dict[tuple[str, str], str] = {}

    @staticmethod
    def _size(font: etree._Element) -> float:
        sz = font.find(qn("x:sz"))
        try:
            return float(sz.get("val")) if sz is not None else BASE_FONT_PT
        except (TypeError, ValueError):
            return BASE_FONT_PT

    def _xf(self, s: str | None) -> etree._Element | None:
        i = int(s) if s and s.isdigit() else 0
        return self.xfs[i] if i < len(self.xfs) else None

    def wraps(self, s: str | None) -> bool:
        """Whether cells of style ``s`` wrap their text (set on the format or its cell style)."""
        xf = self._xf(s)
        if xf is None:
            return False
        al = xf.find(qn("x:alignment"))
        if al is None and xf.get("xfId", "0").isdigit() and int(xf.get("xfId", "0")) < len(
                self.style_xfs):
            al = self.style_xfs[int(xf.get("xfId", "0"))].find(qn("x:alignment"))
        return al is not None and al.get("wrapText") in ("1", "true")

    def size(self, s: str | None) -> float:
        xf = self._xf(s)
        font = int(xf.get("fontId", "0")) if xf is not None else 0
        return self.sizes[font] if font < len(self.sizes) else BASE_FONT_PT

    def top(self, s: str | None) -> bool:
        """Whether cells of style ``s`` set their vertical alignment."""
        xf = self._xf(s)
        al = xf.find(qn("x:alignment")) if xf is not None else None
        return al is not None and al.get("vertical") is not None

    def indent(self, s: str | None) -> int:
        """The indentation (in steps) of cells of style ``s``."""
        xf = self._xf(s)
        al = xf.find(qn("x:alignment")) if xf is not None else None
        return int(al.get("indent", "0") or 0) if al is not None else 0

    def format_kind(self, s: str | None) -> str:
        """'date', 'percent' or '' for the number format of style ``s``."""
        xf = self._xf(s)
        fmt = xf.get("numFmtId", "0") if xf is not None else "0"
        if fmt in DATE_FORMAT_IDS:
            return "date"
        if fmt in PERCENT_FORMAT_IDS:
            return "percent"
        code = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", self.formats.get(fmt, ""))
        return "percent" if "%" in code else "date" if re.search(r"[dmy]", code, re.I) else ""

    def number_style(self, s: str | None, kind: str) -> str | None:
        """A style like ``s`` that shows a date or a percentage (``s`` when it does)."""
        if self.format_kind(s) == kind:
            return s
        fmt = DATE_FORMAT_IDS[0] if kind == "date" else PERCENT_FORMAT_IDS[0]
        return self._derive(s, kind, lambda xf: (xf.set("numFmtId", fmt),
                                                 xf.set("applyNumberFormat", "1")))

    def indented(self, s: str | None, steps: int) -> str | None:
        """A style like ``s`` indented ``steps`` steps (left aligned, as Excel indents)."""
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
        return self._derive(s, f"indent {steps}", edit)

    def _derive(self, s: str | None, key: str, edit) -> str | None:
        """A copy of style ``s`` changed by ``edit``, added once to cellXfs."""
        if (s or "0", key) not in self.derived:
            xf = self._xf(s)
            live = self.pkg.xml(self.part).find(qn("x:cellXfs")) if xf is not None else None
            if live is None:
                return s
            new = copy.deepcopy(xf)
            edit(new)
            live.append(new)
            live.set("count", str(len(live)))
            self.xfs.append(new)
            self.derived[(s or "0", key)] = str(len(live) - 1)
        return self.derived[(s or "0", key)]

    def variant(self, s: str | None, wrap: bool, top: bool) -> str | None:
        """A style like ``s`` that also wraps text and/or sits at the top of a tall row (added
        once to cellXfs); ``s`` itself when it already does, or when no style can be added."""
        wrap, top = wrap and not self.wraps(s), top and not self.top(s)
        key = (s or "0", wrap, top)
        if not (wrap or top):
            return s
        if key not in self.added:
            xf = self._xf(s)
            live = self.pkg.xml(self.part).find(qn("x:cellXfs")) if xf is not None else None
            if live is None:
                return s
            new = copy.deepcopy(xf)
            al = new.find(qn("x:alignment"))
            if al is None:
                al = etree.Element(qn("x:alignment"))
                new.insert(0, al)
            if wrap:
                al.set("wrapText", "1")
            if top:
                al.set("vertical", "top")
            new.set("applyAlignment", "1")
            live.append(new)
            live.set("count", str(len(live)))
            self.xfs.append(new)
            self.added[key] = str(len(live) - 1)
        return self.added[key]


def _clone_row(proto: etree._Element, proto_r: int, r: int, by_col: dict[int, str],
               values: dict[str, str], look: "_RowLook") -> etree._Element:
    """A new row ``r`` like the prototype, with the feed's values in the mapped columns."""
    row = etree.Element(qn("x:row"), {k: v for k, v in proto.attrib.items()
                                     if k not in ("ht", "customHeight")})
    row.set("r", str(r))
    cells = {split_ref(pc.get("r"))[0]: pc for pc in proto.findall(qn("x:c"))}
    needed = 0.0
    for col in sorted(set(cells) | set(by_col)):
        pc = cells.get(col)
        c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(col)}{r}")
        style = pc.get("s") if pc is not None else look.new_cell_style(proto, col)
        text = values.get(by_col.get(col, ""), "")
        if text:
            style, height = look.fit(style, col, text)
            needed = max(needed, height)
            write_text(c, text)
        elif pc is not None and by_col.get(col) is None:
            _keep_formula(pc, c, r - proto_r)
        if style:
            c.set("s", style)
    if look.set_height(row, proto, needed):   # a grown row reads from the top
        for c in row:
            style = look.styles.variant(c.get("s"), wrap=False, top=True)
            if style:
                c.set("s", style)
    return row


class _RowLook:
    """What a cloned row's cells look like: styles that wrap long text, heights that show it."""

    def __init__(self, ws: etree._Element, styles: _Styles, spans: list[tuple[int, int]]):
        self.styles, self.widths = styles, _col_widths(ws)
        self.col_styles = _col_styles(ws)
        self.default_ht = _default_height(ws)
        self.spans = {a: b for a, b in spans}

    def width(self, col: int) -> float:
        """Characters a cell shows on one line (over its merged span)."""
        last = self.spans.get(col, col)
        return sum(self.widths.get(i, self.widths[0]) for i in range(col, last + 1))

    def new_cell_style(self, proto: etree._Element, col: int) -> str | None:
        """The style Excel gives a new cell: the row's (when set), else the column's."""
        if proto.get("customFormat") in ("1", "true") and proto.get("s"):
            return proto.get("s")
        return self.col_styles.get(col)

    def fit(self, style: str | None, col: int, text: str) -> tuple[str | None, float]:
        """(style, height in points) for ``text``: a style that wraps when the text needs more
        than one line, the height its lines take."""
        size = self.styles.size(style)
        lines = _lines(text, self.width(col), size)
        if lines > 1:
            style = self.styles.variant(style, wrap=True, top=False)
        if not self.styles.wraps(style):
            lines = 1
        line_ht = self.default_ht * size / (self.styles.sizes[0] if self.styles.sizes
                                            else BASE_FONT_PT)
        return style, lines * line_ht + (ROW_PAD_PT if lines > 1 else 0.0)

    def set_height(self, row: etree._Element, proto: etree._Element, needed: float) -> bool:
        """Keep the template row's height unless the text needs more (at most Excel's 409);
        whether it grew."""
        custom = proto.get("customHeight") in ("1", "true") and proto.get("ht")
        floor = float(proto.get("ht")) if custom else self.default_ht
        if needed > floor + 0.5:
            row.set("ht", f"{min(MAX_ROW_PT, round(needed, 1)):g}")
            row.set("customHeight", "1")
            return True
        if custom:
            row.set("ht", proto.get("ht"))
            row.set("customHeight", "1")
        return False


def write_text(c: etree._Element, text: str) -> None:
    """Write ``text`` as an inline string (never a formula, whatever it starts with)."""
    for child in list(c):
        c.remove(child)
    c.set("t", "inlineStr")
    t = etree.SubElement(etree.SubElement(c, qn("x:is")), qn("x:t"))
    t.text = clean_text(text)[0][:MAX_CELL_CHARS]
    if t.text != t.text.strip() or "\n" in t.text:
        t.set(XML_SPACE, "preserve")


def _keep_formula(pc: etree._Element, c: etree._Element, delta: int) -> None:
    """A computed column keeps its formula, its relative row references moved to the new row."""
    f = pc.find(qn("x:f"))
    if f is None or not (f.text or "").strip() or f.get("t") in ("shared", "array"):
        return
    new = etree.SubElement(c, qn("x:f"))
    new.text = _FORMULA_REF.sub(lambda m: _shift(m, delta), f.text)


def _shift(m: re.Match, delta: int) -> str:
    d1, col, d2, row = m.groups()
    return f"{d1}{col}{d2}{row if d2 else int(row) + delta}"


def _insert_rows(data: etree._Element, new_rows: list[etree._Element], first: int) -> None:
    after = [row for row in data.findall(qn("x:row")) if int(row.get("r", "0")) >= first]
    if after:
        for row in new_rows:
            after[0].addprevious(row)
    else:
        data.extend(new_rows)


# -- ranges that follow the rows -----------------------------------------------------------
def _merge_cells(ws: etree._Element) -> etree._Element | None:
    return ws.find(qn("x:mergeCells"))


def _take_merges(ws: etree._Element, lo: int, hi: int, proto_r: int) -> list[tuple[int, int]]:
    """Drop merges inside the template rows; return the prototype row's (col span) merges."""
    mc = _merge_cells(ws)
    proto: list[tuple[int, int]] = []
    if mc is None:
        return proto
    for el in list(mc):
        m = _RANGE.match(el.get("ref", ""))
        if not m or not m.group(3):
            continue
        r1, r2 = int(m.group(2)), int(m.group(4))
        if lo <= r1 and r2 <= hi:
            if r1 == r2 == proto_r:
                proto.append((col_index(m.group(1)), col_index(m.group(3))))
            mc.remove(el)
    mc.set("count", str(len(mc)))
    return proto


def _add_merges(ws: etree._Element, spans: list[tuple[int, int]], proto_r: int,
                rows: range) -> None:
    mc = _merge_cells(ws)
    if mc is None or not spans:
        return
    for r in rows:
        for a, b in spans:
            etree.SubElement(mc, qn("x:mergeCell"), ref=f"{col_letter(a)}{r}:{col_letter(b)}{r}")
    mc.set("count", str(len(mc)))


def _extend_sqref(sqref: str, lo: int, hi: int, last: int) -> str:
    out = []
    for part in sqref.split():
        m = _RANGE.match(part)
        if not m:
            out.append(part)
            continue
        c1, r1 = m.group(1), int(m.group(2))
        c2, r2 = (m.group(3), int(m.group(4))) if m.group(3) else (c1, r1)
        if lo <= r1 <= hi:
            r1, r2 = min(r1, lo), max(r2, last)
            out.append(f"{c1}{r1}:{c2}{r2}")
        else:
            out.append(part)
    return " ".join(out)


def _extend_ranges(ws: etree._Element, lo: int, hi: int, last: int) -> None:
    """Data validations and conditional formats over the template rows cover the new rows."""
    for tag in ("x:conditionalFormatting", "x:dataValidation"):
        for el in ws.iter(qn(tag)):
            if el.get("sqref"):
                el.set("sqref", _extend_sqref(el.get("sqref"), lo, hi, last))
    for el in ws.iter(f"{{{NS['xm']}}}sqref"):
        if el.text:
            el.text = _extend_sqref(el.text, lo, hi, last)
    af = ws.find(qn("x:autoFilter"))
    if af is not None and af.get("ref"):
        af.set("ref", _extend_end(af.get("ref"), lo - 1, hi, last))


def _extend_end(ref: str, header: int, hi: int, last: int) -> str:
    """A range that starts at or above the header and ends in the template rows ends at ``last``."""
    m = _RANGE.match(ref)
    if not m or not m.group(3):
        return ref
    r1, r2 = int(m.group(2)), int(m.group(4))
    if r1 <= header and header <= r2 <= max(hi, header + 1) and r2 < last:
        abs1 = "$" if "$" in ref else ""
        return (f"{abs1}{m.group(1)}{abs1}{r1}:{abs1}{m.group(3)}{abs1}{last}")
    return ref


def _extend_names(pkg: Package, book: Book, sheet: str, index: int, header: int, hi: int,
                  last: int) -> None:
    wb = pkg.view(book.main)
    names = wb.find(qn("x:definedNames"))
    if names is None:
        return
    quoted = re.escape(sheet)
    pattern = re.compile(rf"^('{quoted}'|{quoted})!(\S+)$")
    edits = []
    for i, dn in enumerate(names):
        m = pattern.match((dn.text or "").strip())
        if m:
            new = _extend_end(m.group(2), header, hi, last)
            if new != m.group(2):
                edits.append((i, f"{m.group(1)}!{new}"))
    if edits:
        live = pkg.xml(book.main).find(qn("x:definedNames"))
        for i, text in edits:
            live[i].text = text


def _extend_tables(pkg: Package, sheet_part: str, header: int, last: int) -> None:
    rels_name = pkg.rels_name(sheet_part)
    if rels_name not in pkg:
        return
    for rel in pkg.template.xml(rels_name):
        if rel.get("Type") != RT["table"]:
            continue
        part = resolve_target(sheet_part, rel.get("Target"))
        if part not in pkg:
            continue
        table = pkg.view(part)
        ref = table.get("ref", "")
        m = _RANGE.match(ref)
        if not m or not m.group(3) or int(m.group(2)) != header or int(m.group(4)) >= last:
            continue
        live = pkg.xml(part)
        live.set("ref", f"{m.group(1)}{header}:{m.group(3)}{last}")
        af = live.find(qn("x:autoFilter"))
        if af is not None:
            af.set("ref", f"{m.group(1)}{header}:{m.group(3)}{last}")


def _set_dimension(ws: etree._Element) -> None:
    dim = ws.find(qn("x:dimension"))
    rows = [int(r.get("r")) for r in ws.find(qn("x:sheetData")).findall(qn("x:row"))
            if r.get("r")]
    if dim is None or not rows:
        return
    m = _RANGE.match(dim.get("ref", ""))
    if m and m.group(3):
        dim.set("ref", f"{m.group(1)}{min(rows + [int(m.group(2))])}:{m.group(3)}"
                       f"{max(rows + [int(m.group(4))])}")


def _drop_calc_chain(pkg: Package, book: Book) -> None:
    """Formula cells were replaced: drop the calculation chain (Excel rebuilds it)."""
    part = book._find(RT_CALC)
    if not part or part not in pkg:
        return
    pkg.remove(part)
    rels = pkg.xml(pkg.rels_name(book.main))
    for rel in list(rels):
        if rel.get("Type") == RT_CALC:
            rels.remove(rel)


# -- context sheet ------------------------------------------------------------------------
def _context_styles(pkg: Package, book: Book) -> tuple[str, str, str]:
    """(heading, bold, wrapped) cell style indexes, added to styles.xml."""
    part = book._find(RT_STYLES)
    if not part or part not in pkg:
        return "0", "0", "0"
    styles = pkg.xml(part)
    fonts = styles.find(qn("x:fonts"))
    xfs = styles.find(qn("x:cellXfs"))
    if fonts is None or xfs is None:
        return "0", "0", "0"
    ids = []
    for size, bold in ((f"{HEADING_PT:g}", True), ("11", True)):
        font = etree.SubElement(fonts, qn("x:font"))
        if bold:
            etree.SubElement(font, qn("x:b"))
        etree.SubElement(font, qn("x:sz"), val=size)
        etree.SubElement(font, qn("x:name"), val="Calibri")
        ids.append(len(fonts) - 1)
    fonts.set("count", str(len(fonts)))
    out = []
    for font_id, wrap in ((ids[0], True), (ids[1], True), (0, True)):
        xf = etree.SubElement(xfs, qn("x:xf"), numFmtId="0", fontId=str(font_id), fillId="0",
                              borderId="0", xfId="0", applyFont="1")
        if wrap:
            xf.set("applyAlignment", "1")
            etree.SubElement(xf, qn("x:alignment"), vertical="top", wrapText="1")
        out.append(str(len(xfs) - 1))
    xfs.set("count", str(len(xfs)))
    return out[0], out[1], out[2]


def _add_context_sheet(pkg: Package, book: Book, blocks: list[Block]) -> None:
    """A new last sheet with the key tasks' objective, activities, inputs and outputs."""
    head, bold, wrap = _context_styles(pkg, book)
    ns = NS["x"]
    ws = etree.Element(qn("x:worksheet"), nsmap={None: ns, "r": NS["r"]})
    cols = etree.SubElement(ws, qn("x:cols"))
    for i, width in enumerate(_CONTEXT_WIDTHS, 1):
        etree.SubElement(cols, qn("x:col"), min=str(i), max=str(i), width=str(width),
                         customWidth="1")
    data = etree.SubElement(ws, qn("x:sheetData"))
    r = 0
    for block in blocks:
        lines = block.rows if block.kind == "table" else [[block.text]]
        for n, cells in enumerate(lines):
            r += 1
            row = etree.SubElement(data, qn("x:row"), r=str(r))
            style = head if block.kind in ("h1", "h2") else bold if (
                block.kind == "table" and n == 0) else wrap
            height, size = 1, HEADING_PT * BOLD_WIDTH if style == head else BASE_FONT_PT
            offset = 0 if block.kind == "table" else 1
            for ci, text in enumerate(cells, 1 + offset):
                c = etree.SubElement(row, qn("x:c"), r=f"{col_letter(ci)}{r}", s=style)
                write_text(c, text)
                height = max(height, _lines(text, _CONTEXT_WIDTHS[min(ci, 3) - 1], size))
            if height > 1 or size > BASE_FONT_PT:
                ht = height * 15 * size / BASE_FONT_PT + ROW_PAD_PT
                row.set("ht", f"{min(MAX_ROW_PT, round(ht, 1)):g}")
                row.set("customHeight", "1")
        if block.kind in ("table",):
            r += 1
    etree.SubElement(ws, qn("x:pageMargins"), left="0.7", right="0.7", top="0.75",
                     bottom="0.75", header="0.3", footer="0.3")
    etree.SubElement(ws, qn("x:pageSetup"), orientation="landscape")
    folder = posixpath.dirname(book.sheets[0][1]) if book.sheets else "xl/worksheets"
    part = part_names(pkg.names, folder, "sheet", "xml")
    pkg.put(part, ws, WORKSHEET_CT)
    rid = pkg.relate(book.main, RT["worksheet"],
                     posixpath.relpath(part, posixpath.dirname(book.main)))
    wb = pkg.xml(book.main)
    sheets = wb.find(qn("x:sheets"))
    taken = {s.get("name") for s in sheets}
    name = CONTEXT_SHEET
    n = 2
    while name in taken:
        name, n = f"{CONTEXT_SHEET} {n}", n + 1
    sheet_id = max([int(s.get("sheetId", "0")) for s in sheets] + [0]) + 1
    el = etree.SubElement(sheets, qn("x:sheet"), name=name, sheetId=str(sheet_id))
    el.set(qn("r:id"), rid)
