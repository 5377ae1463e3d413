"""The workbook engine: docxtpl's tags in any cell, sheet header/footer and document property.

Compile (once per template): each sheet's ``sheetData`` becomes one Jinja template. Cells
without tags stay as their XML text; a cell with tags becomes Jinja that writes an inline
string (so no text can ever be read as a formula, and the shared strings part is never
rewritten per document); a cell that is exactly one ``{{ expr }}`` writes a number, a
boolean, a date or text according to the value. A row holding a ``{%tr ... %}`` tag is a
control row: it is replaced by its statement, so the rows between ``{%tr for %}`` and
``{%tr endfor %}`` repeat and the control rows vanish. Within a row, a cell holding
``{%tc for ... %}`` and one holding ``{%tc endfor %}`` make a column loop: the cells between
repeat, the two vanish, the cells to the right move over; the sheet's columns (widths, merges,
filter, validations, formats, selection, dimension, defined names) follow the first row that
has column loops. Formulas do not follow column loops.

Render (per document): the Jinja output is parsed, its rows are numbered (each generated
row after the one before, the rows below moved by what the loops added), and a
``LoopRows`` map of where every template row went moves everything else that points at
rows, through ``m3docs.ooxml.rowmove``: formulas on every sheet, merges, validations,
conditional formats (x14 too), defined names and print areas, tables, hyperlinks, drawing
anchors, notes and page breaks. Ranges over a loop's rows grow to cover every generated row.
"""
from __future__ import annotations

import bisect
import contextvars
import copy
import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping
from xml.sax.saxutils import escape as xml_escape, quoteattr, unescape as xml_unescape

from lxml import etree
from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from ..ooxml import rowmove
from ..ooxml.cells import (col_index, col_letter, map_references, move_formula, move_sqref,
                           same_sheet, split_ref)
from ..ooxml.package import Package, Template, resolve_target
from ..ooxml.xml import NS, RT, parse_xml, qn, serialize
from ..ooxml.worksheet import child as sheet_child, column_widths, row_height
from . import core
from .core import Compiled, Place, RenderRecord, Tag, TemplateProblems

MAX_CELL_CHARS = 32_767
MAX_ROWS = 1_048_576
WORK_CHUNK = 500   # rendered rows parsed together at most (memory stays flat as sheets grow)
# What a rendered row may hold that only its parsed form can resolve (see mark_cells).
_ROW_MARKS = ('m3d="', "<m3link", "<is></is>", '<t xml:space="preserve"></t>')
RT_SST = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
RT_CALC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
RT_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
DOC_PROPS = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")
HEADER_FOOTER = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader",
                 "firstFooter")
LINK_COLOR = "FF0563C1"  # the colour of Excel's Hyperlink cell style
# Statements that cannot make a sheet's rows ill-formed: the literal XML between tags is
# well-formed (it comes from a parsed worksheet), a cell's blocks close within the cell and a
# row tag's within whole rows (checked), and every value is escaped by the filter that writes
# it (m3_text, m3_value...). Any other statement (``filter``, which can rewrite the markup,
# and whatever else) has the rendered rows checked by a parser before they are used.
_WELL_FORMED_WORDS = frozenset({"for", "endfor", "if", "elif", "else", "endif", "set",
                                "endset", "raw", "endraw", "break", "continue"})
LINK_SCHEMES = ("http:", "https:", "mailto:")  # what a cell's hyperlink may open
_MARK = re.compile(r"<\?m3 (\d+)\?>")
# A cell's row number is written where this mark stands, after its column (``r="B\0"``):
# a character XML cannot hold, so no text carries it (values are cleaned of it).
ROW_MARK = "\x00"
_CELL_COLUMN = re.compile('(<c r="[A-Z]{1,3})\uf8ff"')
_CELL_MARK = "\uf8ff"   # stands for ROW_MARK while a sheet's cells are a tree (see _compile)
_LOOP_COLUMN = re.compile(r'r="TC(\d+)"')
# In a row with column loops, a cell's column is written ``\x01N`` (its template column),
# each pass of a loop starts with ``\x02open,close\x02`` and the loop ends with
# ``\x03open,close\x03``: the render numbers the columns from these (see Numbering).
_COLUMN_MARKS = re.compile("\x01(\\d+)|\x02(\\d+),(\\d+)\x02|\x03(\\d+),(\\d+)\x03")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TAGGED = re.compile(r"\{\{|\{%|\{#|\{_\{|\}_\}|\{_%|%_\}")
_XMLNS = re.compile(r' xmlns(?::\w+)?="[^"]*"')
_EPOCH = {False: dt.datetime(1899, 12, 30), True: dt.datetime(1904, 1, 1)}
_notes: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("m3docs_xlsx_notes",
                                                                         default=None)
_UNESCAPE = {"&#34;": '"', "&#39;": "'", "&#13;": "\r"}
_CR = {"\r": "&#13;"}


# -- values written by the template (Jinja filters) -----------------------------------------
def _xml(text: str) -> str:
    """Text as XML character data: characters XML cannot hold removed (noted), markup
    escaped. Every value a sheet writes passes here (the sheet is rendered without
    autoescape: Markup objects cost a third of a 5,000-row render, measured)."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
        _note("removed characters that are not allowed in XML")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text  # XML reads a bare CR as LF


def _note(message: str) -> None:
    notes = _notes.get()
    if notes is not None:
        notes.append(message)


def m3_text(value: Any) -> str:
    """A value written into a cell's text (``None`` and undefined as nothing)."""
    return "" if value is None else _xml(str(value))


def m3_value(value: Any, style: int, date_style: int, date1904: int) -> str:
    """The rest of a ``<c r="B">`` cell for a value: a number, a boolean, a date (serial,
    with a date style) or an inline string. Never a formula."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'{s} t="b"><v>{int(value)}</v>'
    if isinstance(value, (int, float, Decimal)) and math.isfinite(value):
        return f"{s}><v>{_number(value)}</v>"
    if isinstance(value, (dt.date, dt.time)):
        serial, kind = _serial(value, bool(date1904))
        mark = "" if date_style else f' m3d="{kind}"'
        return f"{s}{mark}><v>{_number(serial)}</v>"
    text = "" if value is None else _xml(_fit(str(value)))
    if not text:
        return f"{s}>"
    return f'{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is>'


def m3_rich(value: Any) -> str:
    """Inline rich runs for ``{{r x }}``: ``x.runs`` (text, bold, italic, url) or text. The
    first link is marked for the cell's hyperlink."""
    runs = getattr(value, "runs", None)
    if runs is None:
        runs = [(str(value), False, False, None)]
    else:
        runs = [(str(getattr(r, "text", "")), getattr(r, "bold", False),
                 getattr(r, "italic", False), getattr(r, "url", None)) for r in runs]
    out, link = [], None
    for text, bold, italic, url in runs:
        if not text:
            continue
        props = ("<b/>" if bold else "") + ("<i/>" if italic else "")
        if url:
            url = _ILLEGAL.sub("", str(url)).strip()
            if url.lower().startswith(LINK_SCHEMES) or _relative(url):
                link = link or url
            props += f'<u/><color rgb="{LINK_COLOR}"/>'
        props = f"<rPr>{props}</rPr>" if props else ""
        out.append(f'<r>{props}<t xml:space="preserve">{_xml(_fit(text))}</t></r>')
    if link:
        out.append(f"<m3link u={quoteattr(str(link))}/>")
    return "".join(out)


def _relative(url: str) -> bool:
    """A relative reference (``Phase%203/Plan.docx``): a file beside the workbook, never a
    scheme (``file:``, ``javascript:``), a drive or an absolute or network path."""
    head = url.split("/", 1)[0]
    return bool(url) and ":" not in head and not url.startswith(("/", "\\"))


@dataclass(frozen=True)
class _Run:
    text: str
    url: str | None = None
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Linked:
    """Text that links to ``url`` (``{{r x | link(url) }}``): one run."""

    text: str
    url: str

    @property
    def runs(self) -> list[_Run]:
        return [_Run(self.text, self.url or None)]

    def __str__(self) -> str:
        return self.text


def m3_link(value: Any, url: Any) -> Linked:
    """``{{r d.file | link(d.path | urlencode) }}``: the value's text as a hyperlink (a web
    or mail address, or a path relative to the workbook); no link when ``url`` is empty."""
    return Linked("" if value is None else str(value), "" if url is None else str(url))


def _number(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def _serial(value: dt.date | dt.time, date1904: bool) -> tuple[float, str]:
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400, "time"
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - _EPOCH[date1904]
        return delta.days + delta.seconds / 86400, "datetime"
    return (value - _EPOCH[date1904].date()).days, "date"


def _fit(text: str) -> str:
    if len(text) <= MAX_CELL_CHARS:
        return text
    _note(f"text cut to Excel's limit of {MAX_CELL_CHARS} characters")
    return text[:MAX_CELL_CHARS]


# -- the workbook's structure ----------------------------------------------------------------
@dataclass
class Book:
    """Where a workbook's parts are, read from its relationships."""

    template: Template
    main: str = ""
    sheets: list[tuple[str, str]] = field(default_factory=list)   # (name, part)
    sst: list[etree._Element] = field(default_factory=list)
    styles: str = ""
    calc: str = ""
    date1904: bool = False

    def __reduce__(self) -> tuple:
        """Kept as its template: read again from it when loaded (see plancache)."""
        return (Book, (self.template,))

    def __post_init__(self) -> None:
        t = self.template
        for rel in t.xml("_rels/.rels"):
            if rel.get("Type") == RT_DOC:
                self.main = resolve_target("", rel.get("Target", ""))
        wb = t.xml(self.main)
        rels = {r.get("Id"): r for r in t.xml(_rels_name(self.main))}
        for sheet in wb.iter(qn("x:sheet")):
            rel = rels.get(sheet.get(qn("r:id")))
            if rel is not None:
                self.sheets.append((sheet.get("name"), resolve_target(self.main,
                                                                      rel.get("Target"))))
        for rel in rels.values():
            part = resolve_target(self.main, rel.get("Target", ""))
            kind = rel.get("Type")
            if kind == RT_SST and part in t.raw:
                self.sst = t.xml(part).findall(qn("x:si"))
            elif kind == RT_STYLES:
                self.styles = part
            elif kind == RT_CALC:
                self.calc = part
        pr = wb.find(qn("x:workbookPr"))
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")

    @cached_property
    def tagged_shared(self) -> frozenset[int]:
        """The shared strings whose text holds a tag (or an escaped delimiter)."""
        t = qn("x:t")
        return frozenset(i for i, si in enumerate(self.sst)
                         if _TAGGED.search("".join(x.text or "" for x in si.iter(t))))

    def wrap_styles(self) -> set[int]:
        """The cell styles (cellXfs indexes) that wrap their text."""
        if not self.styles or self.styles not in self.template.raw:
            return set()
        xfs = self.template.xml(self.styles).find(qn("x:cellXfs"))
        return {i for i, xf in enumerate(xfs if xfs is not None else [])
                if (al := xf.find(qn("x:alignment"))) is not None
                and al.get("wrapText") in ("1", "true")}

    def date_styles(self) -> set[int]:
        """The cell styles (cellXfs indexes) that show dates."""
        if not self.styles or self.styles not in self.template.raw:
            return set()
        root = self.template.xml(self.styles)
        codes = dict(BUILTIN_FORMATS)
        for fmt in root.iter(qn("x:numFmt")):
            codes[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        xfs = root.find(qn("x:cellXfs"))
        return {i for i, xf in enumerate(xfs if xfs is not None else [])
                if is_date_format(codes.get(int(xf.get("numFmtId", "0")), ""))}


def _drawings(template: Template, book: Book) -> tuple[str, ...]:
    """The drawing parts of the workbook's sheets (their text may hold tags)."""
    out = []
    for _, sheet in book.sheets:
        rels = _rels_name(sheet)
        if rels not in template.raw:
            continue
        for rel in template.xml(rels):
            if rel.get("Type") == RT["drawing"] and rel.get("TargetMode") != "External":
                part = resolve_target(sheet, rel.get("Target", ""))
                if part not in out:
                    out.append(part)
    return tuple(out)


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


# -- where the rows went -----------------------------------------------------------------------
@dataclass
class Block:
    """Template rows ``top``..``bottom`` (control rows included) that a render may repeat
    or drop; ``start`` and ``made`` are filled per render."""

    top: int
    bottom: int
    start: int = 0
    made: int = 0


class LoopRows:
    """A ``cells.RowMap``: where each template row of a sheet went in one render."""

    def __init__(self, sheet: str, blocks: list[Block], out: dict[int, list[int]]):
        self.sheet = sheet
        self.blocks = blocks
        self.out = out          # template row -> [first, last] generated row
        self.tops = [b.top for b in blocks]
        self.after: list[int] = []  # the row shift below each block
        shift = 0
        for b in blocks:
            shift += b.made - (b.bottom - b.top + 1)
            self.after.append(shift)

    def _block(self, r: int) -> int:
        i = bisect.bisect_right(self.tops, r) - 1
        return i

    def _first_last(self, r: int) -> tuple[int, int]:
        i = self._block(r)
        if i < 0 or r > self.blocks[i].bottom:
            new = r + (self.after[i] if i >= 0 else 0)
            return new, new
        if r in self.out:
            first, last = self.out[r]
            return first, last
        block = self.blocks[i]
        before = [self.out[u][1] for u in range(block.top, r) if u in self.out]
        pos = max(before) + 1 if before else block.start
        return pos, pos - 1

    def span(self, top: int, bottom: int) -> tuple[int, int] | None:
        first = self._first_last(top)[0]
        last = self._first_last(bottom)[1]
        return (first, last) if last >= first else None

    def position(self, row: int) -> int:
        return self._first_last(row)[0]


# -- where the columns went (column loops) ----------------------------------------------------
@dataclass(frozen=True)
class ColumnLoop:
    """A row's ``{%tc for %}`` (column ``open``) ... ``{%tc endfor %}`` (column ``close``):
    the columns between repeat, the two control cells vanish."""

    open: int
    close: int
    jinja: str
    open_el: int
    close_el: int


class ColumnMap:
    """Where each template column of sheet ``sheet`` went: ``loops`` are (open, close,
    passes) of the first row with column loops, which the sheet's columns follow (widths,
    merges, filter, validations, formats, selection, dimension, defined names, and the
    formulas of every sheet that point at them)."""

    def __init__(self, loops: list[tuple[int, int, int]], sheet: str = ""):
        self.loops = sorted(loops)
        self.sheet = sheet

    def first_last(self, c: int) -> tuple[int, int]:
        shift = 0
        for a, b, n in self.loops:
            width = b - a - 1
            if c < a:
                break
            start = a + shift
            if c == a:
                return start, start - 1
            if c < b:
                first = start + c - a - 1
                return (first, first + (n - 1) * width) if n else (start, start - 1)
            if c == b:
                return start + n * width, start + n * width - 1
            shift += n * width - (b - a + 1)
        return c + shift, c + shift

    def span(self, c1: int, c2: int) -> tuple[int, int] | None:
        first, last = self.first_last(c1)[0], self.first_last(c2)[1]
        return (first, last) if last >= first else None

    def copies(self, c: int) -> list[int]:
        """The columns a template column became (none for a control column)."""
        for a, b, n in self.loops:
            if a < c < b:
                first = self.first_last(c)[0]
                return [first + k * (b - a - 1) for k in range(n)]
            if c in (a, b):
                return []
        return [self.first_last(c)[0]]

    def copy_of(self, new: int) -> tuple[int, int, int] | None:
        """(open, close, pass) of the loop copy that column ``new`` of the output lies in."""
        shift = 0
        for a, b, n in self.loops:
            width, start = b - a - 1, a + shift
            if width > 0 and start <= new < start + n * width:
                return a, b, (new - start) // width
            shift += n * width - (b - a + 1)
        return None

    def ref(self, ref: str, local: tuple[int, int, int] | None = None,
            grow: bool = True) -> str | None:
        """A cell or range (``$`` kept; column and row ranges as they are) after the move.
        ``local`` (open, close, pass): the reference is in a formula of that copy of a loop's
        body, so a relative column inside the same body is that copy's column. ``grow``: a
        single cell in a loop's body grows over its copies (a range list); else it is the
        first copy (a formula's cell)."""
        a, colon, b = ref.partition(":")
        ma, mb = _COLUMN_REF.fullmatch(a), _COLUMN_REF.fullmatch(b or a)
        if not ma or not mb:
            return ref
        c1, c2 = col_index(ma.group(2)), col_index(mb.group(2))
        got = self.span(c1, c2)
        first = self._local(c1, ma.group(1), local)
        last = self._local(c2, mb.group(1), local)
        if first is not None or last is not None:
            got = (first or self.first_last(c1)[0], last or self.first_last(c2)[1])
        if got is None or got[1] < got[0]:
            return None
        if not colon and not grow:
            got = (got[0], got[0])
        left = f"{ma.group(1)}{col_letter(got[0])}{ma.group(3)}"
        if not colon and got[0] == got[1]:
            return left
        return f"{left}:{mb.group(1)}{col_letter(got[1])}{mb.group(3)}"

    def _local(self, c: int, dollar: str, local: tuple[int, int, int] | None) -> int | None:
        if local is None or dollar or not local[0] < c < local[1]:
            return None
        return self.first_last(c)[0] + local[2] * (local[1] - local[0] - 1)

    def formula(self, text: str, own: bool, at: int | None = None, grow: bool = False) -> str:
        """A formula's references to the sheet after the move; ``at``: the output column of
        the formula's own cell (its relative references into its loop copy stay in it);
        ``grow``: a single cell in a loop's body grows over its copies (a chart's series)."""
        local = self.copy_of(at) if at is not None else None
        return map_references(text, self.sheet, own, lambda ref, bare: self.ref(
            ref, local if bare else None, grow=grow))

    def sqref(self, sqref: str) -> str:
        return " ".join(m for m in (self.ref(part) for part in sqref.split()) if m)


_COLUMN_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?\d+)")
_CELL_F = qn("x:f")


def move_columns(ws: etree._Element, cols: ColumnMap) -> None:
    """The sheet's column widths and ranges follow its column loops."""
    for tag in ("x:mergeCell", "x:autoFilter", "x:dimension", "x:dataValidation",
                "x:conditionalFormatting", "x:selection", "x:pane", "x:hyperlink"):
        for el in list(ws.iter(qn(tag))):
            for attr in ("ref", "sqref", "activeCell", "topLeftCell"):
                if el.get(attr):
                    el.set(attr, cols.sqref(el.get(attr)) or el.get(attr))
    holder = ws.find(qn("x:cols"))
    if holder is None:
        return
    widths: dict[int, dict[str, str]] = {}
    for col in list(holder):
        attrs = {k: v for k, v in col.attrib.items() if k not in ("min", "max")}
        for c in range(int(col.get("min", "1")), int(col.get("max", "1")) + 1):
            for new in cols.copies(c):
                widths[new] = attrs
        holder.remove(col)
    runs: list[list] = []
    for c in sorted(widths):
        if runs and runs[-1][1] == c - 1 and runs[-1][2] == widths[c]:
            runs[-1][1] = c
        else:
            runs.append([c, c, widths[c]])
    for lo, hi, attrs in runs:
        el = etree.SubElement(holder, qn("x:col"), min=str(lo), max=str(hi))
        for k, v in attrs.items():
            el.set(k, v)


def move_column_names(pkg: Package, main: str, cols: ColumnMap) -> None:
    """Defined names over the sheet's cells (filter, print area) follow its column loops."""
    names = pkg.xml(main).find(qn("x:definedNames"))
    for dn in names if names is not None else []:
        if dn.text and "!" in dn.text:
            dn.text = cols.formula(dn.text, own=False)


def move_column_formulas(root: etree._Element, cols: ColumnMap, own: bool) -> bool:
    """The formulas of the cells under ``root`` follow the sheet's column loops: on the
    sheet itself (``own``: each at its own output column) or naming it from another sheet.
    True when one changed."""
    changed = False
    for c in root.iter(qn("x:c")):
        f = c.find(qn("x:f"))
        if f is None or not f.text or (not own and "!" not in f.text):
            continue
        new = cols.formula(f.text, own, split_ref(c.get("r"))[0] if own and c.get("r")
                           else None)
        if own and f.get("ref"):
            f.set("ref", cols.sqref(f.get("ref")) or f.get("ref"))
        if new != f.text:
            f.text, changed = new, True
    return changed


# -- one compiled sheet ----------------------------------------------------------------------
@dataclass
class TextField:
    """A text with tags outside the cells: a header or footer, a document property."""

    index: int                 # the element's position in its part's ``iter()`` order
    compiled: Compiled
    place: Place

    def render(self, root_items: list[etree._Element], context: Mapping[str, Any],
               record: RenderRecord) -> None:
        out = xml_unescape(core.render_recorded(self.compiled, context, record, self.place),
                           _UNESCAPE)
        if _ILLEGAL.search(out):
            out = _ILLEGAL.sub("", out)
            _note(f"{self.place.where}: removed characters that are not allowed in XML")
        root_items[self.index].text = out


@dataclass
class SheetPlan:
    name: str
    part: str
    skeleton: etree._Element                     # the worksheet without its rows
    compiled: Compiled | None = None
    locate: Callable[[int], Place] | None = None   # a source line's cell
    blocks: list[Block] = field(default_factory=list)
    formula_rows: set[int] = field(default_factory=set)
    body_merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    fit_rows: dict[int, dict[str, float]] = field(default_factory=dict)
    may_wrap: dict[int, set[str]] = field(default_factory=dict)   # cells that wrap when long
    refers_out: bool = True    # may hold a formula naming a sheet (moved by other sheets' loops)
    fields: list[TextField] = field(default_factory=list)
    col_loops: dict = field(default_factory=dict)   # row -> [ColumnLoop]
    # whether its statements may write what is not XML (see _WELL_FORMED_WORDS)
    may_break_xml: bool = False


@dataclass
class _Cell:
    """A tagged cell's text, as runs (rPr XML or "", text)."""

    el: etree._Element
    ref: str
    runs: list[tuple[str, str]]

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.runs)


class SheetCompiler:
    """Turns one worksheet into a ``SheetPlan`` (errors collected, not raised)."""

    def __init__(self, engine: "XlsxEngine", book: Book, file: str, name: str, part: str,
                 date_styles: set[int], thorough: bool = False):
        """``thorough``: every tag is also checked on its own, to place each error at its
        cell (else the sheet's whole source is compiled, or loaded from the code cache, and
        a compile that fails is made again thoroughly)."""
        self.env = engine.env
        self.thorough = thorough
        self.book, self.file, self.name, self.part = book, file, name, part
        self.date_styles = date_styles
        self.errors: list = []

    def place(self, where: str) -> Place:
        return Place(self.file, self.part, where)

    def compile(self) -> SheetPlan | None:
        # parsed here, not through the template's cache: a big sheet's tree is not kept for
        # the life of the process (its rows live on as the compiled Jinja)
        source = parse_xml(self.book.template.bytes_of(self.part))
        if not self._has_tags(source):   # untouched: copied as it is
            return None
        ws = source   # a private parse (see above)
        data = ws.find(qn("x:sheetData"))
        plan = SheetPlan(self.name, self.part, ws)
        plan.refers_out = b"!" in self.book.template.bytes_of(self.part)
        tagged = self._tagged_cells(data) if data is not None else {}
        if tagged:
            self._plan_rows(ws, data, tagged, plan)
        plan.fields = self._header_fields(ws)   # indexes into the worksheet without its rows
        return plan if tagged or plan.fields else None

    # -- finding tags -------------------------------------------------------------------
    def _has_tags(self, ws: etree._Element) -> bool:
        hf = ws.find(qn("x:headerFooter"))
        if hf is not None and any(el.text and _TAGGED.search(el.text) for el in hf):
            return True
        data = ws.find(qn("x:sheetData"))
        return data is not None and any(
            (runs := self._runs(c)) and _TAGGED.search("".join(t for _, t in runs))
            for c in data.iter(qn("x:c")) if c.get("t") in ("s", "inlineStr"))

    def _tagged_cells(self, data: etree._Element) -> dict[int, list[_Cell]]:
        """Cells whose text holds a tag, by row: inline strings, and shared strings among
        those that hold one (when none does, only the inline strings are visited)."""
        out: dict[int, list[_Cell]] = {}
        hot = self.book.tagged_shared
        cells = (c for c in data.iter(qn("x:c")) if c.get("t") in ("s", "inlineStr")) if hot \
            else (i.getparent() for i in data.iter(qn("x:is")))
        for c in cells:
            if c.get("t") == "s" and _shared_index(c) not in hot:
                continue
            runs = self._runs(c)
            if runs and _TAGGED.search("".join(t for _, t in runs)):
                out.setdefault(int(c.getparent().get("r")), []).append(
                    _Cell(c, c.get("r"), runs))
        return out

    def _runs(self, c: etree._Element) -> list[tuple[str, str]] | None:
        t = c.get("t")
        if t == "s":
            v = c.find(qn("x:v"))
            try:
                si = self.book.sst[int(v.text)]
            except (AttributeError, TypeError, ValueError, IndexError):
                return None
        elif t == "inlineStr":
            si = c.find(qn("x:is"))
            if si is None:
                return None
        else:
            return None
        runs = si.findall(qn("x:r"))
        if not runs:
            return [("", "".join(x.text or "" for x in si.findall(qn("x:t"))))]
        out = []
        for r in runs:
            props = r.find(qn("x:rPr"))
            xml = _XMLNS.sub("", etree.tostring(props, encoding="unicode")) \
                if props is not None else ""
            out.append((xml, "".join(x.text or "" for x in r.findall(qn("x:t")))))
        return out

    def _check(self, tags: list[tuple[Tag, Place]]) -> list[tuple[Tag, Place]]:
        """Each tag on its own; returns the tags (broken ones marked)."""
        for tag, place in tags:
            if tag.kind == "{%" and tag.word not in _WELL_FORMED_WORDS:
                self.may_break_xml = True
            message = _check_tag(self.env, tag) if self.thorough else None
            if message:
                self.errors.append(place.diagnostic("error", message))
                self.broken.add(id(tag))
            elif tag.level == "tc" and tag.word not in ("for", "endfor"):
                self.errors.append(place.diagnostic(
                    "error", f"{tag.text.strip()}: a workbook's column tags are "
                             f"{{%tc for ... %}} and {{%tc endfor %}}"))
                self.broken.add(id(tag))
        return tags

    # -- rows and loops -----------------------------------------------------------------
    def _plan_rows(self, ws: etree._Element, data: etree._Element,
                   tagged: dict[int, list[_Cell]], plan: SheetPlan) -> None:
        self.broken: set[int] = set()
        self.may_break_xml = False
        self.control_place: dict[int, Place] = {}
        control: dict[int, list[Tag]] = {}
        row_tags: list[tuple[Tag, Place]] = []
        cell_source: dict[int, str] = {}
        plain: list[tuple[int, _Cell]] = []
        found = [(r, cell, [(tag, self.place(f"{self.name}!{cell.ref}"))
                            for _, _, tag in core.find_tags(cell.text)])
                 for r in sorted(tagged) for cell in tagged[r]]
        for r, cell, tags in found:
            self._check(tags)
            tr = [(tag, p) for tag, p in tags if tag.level == "tr"]
            if tr:
                control.setdefault(r, []).extend(tag for tag, _ in tr)
                self.control_place.setdefault(r, tr[0][1])
                row_tags.extend(tr)
                continue
            if any(tag.level == "tc" for tag, _ in tags):
                self._column_control(r, cell, tags, plan)
                continue
            self.errors += core.check_blocks(tags, frozenset(self.broken))
            plain.append((r, cell))
        self.errors += core.check_blocks(row_tags, frozenset(self.broken))
        plan.col_loops = self._pair_columns(plan.col_loops)
        for r, cell in plain:
            column = f"\x01{col_index(cell.ref.rstrip('0123456789'))}" \
                if r in plan.col_loops else None
            cell_source[id(cell.el)] = self._cell_source(cell, column)
        plan.blocks = _blocks(control)
        if plan.blocks:
            _fill_gaps(data, plan.blocks)
            _expand_shared_formulas(data)
            plan.body_merges = _take_body_merges(ws, plan.blocks)
        plan.formula_rows = {int(row.get("r")) for row in data.iter(qn("x:row"))
                             if row.find(f"{qn('x:c')}/{qn('x:f')}") is not None}
        self.may_wrap: dict[int, set[str]] = {}
        plan.fit_rows = self._fit_rows(ws, data, tagged, control, plan.col_loops)
        plan.may_wrap = self.may_wrap
        plan.compiled = self._compile(data, control, cell_source, plan.col_loops)
        plan.locate = getattr(self, "locate", None)
        plan.may_break_xml = self.may_break_xml
        data.clear()   # the skeleton keeps an empty sheetData (a replace moved the whole
        # tree to a new document first: a third of compiling a 1,000-row schedule, measured)

    # -- column loops -------------------------------------------------------------------
    def _column_control(self, r: int, cell: _Cell, tags: list[tuple[Tag, Place]],
                        plan: "SheetPlan") -> None:
        """A cell holding ``{%tc for %}`` or ``{%tc endfor %}``: a column loop's edge."""
        place = tags[0][1]
        if len(tags) != 1 or core.literal(cell.text).strip() != core.literal(
                tags[0][0].text).strip():
            self.errors.append(place.diagnostic(
                "error", f"{cell.text.strip()}: a {{%tc %}} cell holds its tag alone"))
            return
        tag = tags[0][0]
        if id(tag) not in self.broken:
            col = col_index(cell.ref.rstrip("0123456789"))
            plan.col_loops.setdefault(r, []).append((col, tag, place, id(cell.el)))

    def _pair_columns(self, found: dict) -> dict[int, list["ColumnLoop"]]:
        """Each row's ``{%tc for %}`` cells paired with their ``{%tc endfor %}`` (left to
        right, not nested)."""
        out: dict[int, list[ColumnLoop]] = {}
        for r, edges in found.items():
            loops, opened = [], None
            for col, tag, place, el in sorted(edges, key=lambda e: e[0]):
                if tag.word == "for" and opened is None:
                    opened = (col, tag, place, el)
                elif tag.word == "endfor" and opened is not None:
                    loops.append(ColumnLoop(opened[0], col, opened[1].jinja, opened[3], el))
                    opened = None
                else:
                    self.errors.append(place.diagnostic(
                        "error", f"{tag.text.strip()}: column loops ({{%tc for %}} ... "
                                 f"{{%tc endfor %}}) pair up in one row and do not nest"))
            if opened is not None:
                self.errors.append(opened[2].diagnostic(
                    "error", f"{opened[1].text.strip()}: no {{%tc endfor %}} to its right"))
            out[r] = loops
        return out

    def _fit_rows(self, ws: etree._Element, data: etree._Element,
                  tagged: dict[int, list[_Cell]], control: dict[int, list[Tag]],
                  col_loops: dict | None = None) -> dict[int, dict[str, float]]:
        """Rows whose height follows their text: tagged cells that wrap, in a row whose
        height the author did not fix; per row, column -> width (characters). A template
        whose ``wrap_long_text`` names this sheet (an annotated official one: its example
        rows' styles were not made for our text) also fits tagged cells that do not wrap:
        they wrap when their text needs more than one line (``may_wrap``)."""
        wrap = self.book.wrap_styles()
        long_text = self.name in getattr(self.book.template, "wrap_long_text", ())
        if not wrap and not long_text:
            return {}
        widths = column_widths(ws)
        pr = ws.find(qn("x:sheetFormatPr"))
        default = float(pr.get("defaultColWidth", "0") or 0) if pr is not None else 0.0
        default = default or 8.43
        rows = {int(row.get("r")): row for row in data.iter(qn("x:row"))}
        out: dict[int, dict[str, float]] = {}
        for r, cells in tagged.items():
            if r in control or rows[r].get("customHeight") in ("1", "true"):
                continue
            for cell in cells:
                col = cell.ref.rstrip("0123456789")
                wraps = int(cell.el.get("s", "0") or 0) in wrap
                if wraps or long_text:
                    out.setdefault(r, {})[col] = widths.get(col_index(col), default)
                if long_text and not wraps:
                    self.may_wrap.setdefault(r, set()).add(col)
        return out

    def _compile(self, data: etree._Element, control: dict[int, list[Tag]],
                 cell_source: dict[int, str], col_loops: dict | None = None
                 ) -> Compiled | None:
        """The sheetData as Jinja source: literal XML, cells and control rows as marks."""
        fragments: list[tuple[str, Place]] = []
        edges = {}
        for loops in (col_loops or {}).values():
            for lp in loops:
                edges[lp.open_el] = f"{lp.jinja}\x02{lp.open},{lp.close}\x02"
                edges[lp.close_el] = f"{{% endfor %}}\x03{lp.open},{lp.close}\x03"
        # a cell's row number is left to the render: its ``r`` is its column and a mark (a
        # private-use character) swapped for ROW_MARK once serialized, by one replace when
        # the sheet's own text cannot hold the mark (a regular expression over every cell
        # took a tenth of compiling a schedule)
        for row in list(data.iter(qn("x:row"))):
            r = int(row.get("r"))
            _r_first(row, row.get("r"))
            looped = r in (col_loops or {})
            for c in list(row.iter(qn("x:c"))):
                col = (c.get("r") or "").rstrip("0123456789")
                if looped and col:
                    _r_first(c, f"TC{col_index(col)}")
                else:
                    _r_first(c, col + _CELL_MARK if col else col)
                if id(c) in edges:
                    fragments.append((edges[id(c)], self.place(f"{self.name}!{col}{r}")))
                    c.addprevious(etree.ProcessingInstruction("m3", str(len(fragments) - 1)))
                    c.getparent().remove(c)
                elif id(c) in cell_source:
                    fragments.append((cell_source[id(c)],
                                      self.place(f"{self.name}!{col}{r}")))
                    c.addprevious(etree.ProcessingInstruction("m3", str(len(fragments) - 1)))
                    c.getparent().remove(c)
            if r in control:
                body = "".join(t.jinja for t in control[r] if t.kind == "{%")
                fragments.append((body, self.control_place[r]))
                row.addprevious(etree.ProcessingInstruction("m3", str(len(fragments) - 1)))
                row.getparent().remove(row)
        if self.errors:
            return None
        text = etree.tostring(data, encoding="unicode")
        own = self.book.template.bytes_of(self.part)
        text = _CELL_COLUMN.sub("\\1" + ROW_MARK + '"', text) if _CELL_MARK.encode() in own \
            or b"&#xf8ff;" in own.lower() or b"&#63743;" in own else \
            text.replace(_CELL_MARK, ROW_MARK)
        if col_loops:
            text = _LOOP_COLUMN.sub('r="\x01\\1' + ROW_MARK + '"', text)
        pieces = _MARK.split(text)
        source, lines, line = [], [(1, self.place(self.name))], 1
        for i, piece in enumerate(pieces):
            if i % 2:
                jinja, place = fragments[int(piece)]
                source.append("\n" + jinja)
                line += 1
                lines.append((line, place))
                line += jinja.count("\n")
            else:
                source.append(_raw(piece))
                line += piece.count("\n")

        locate = self.locate = core.LineLocator(tuple(lines), lines[0][1])
        try:   # values are escaped by the filters that write them (see _xml)
            return core.compile_source(self.env, "{% autoescape false %}" + "".join(source)
                                       + "{% endautoescape %}", locate)
        except TemplateProblems as exc:
            self.errors += exc.diagnostics
            return None

    def _cell_source(self, cell: _Cell, column: str | None = None) -> str:
        """Jinja for one tagged cell (the whole ``<c>``, its ``r`` the column only, or
        ``column``: a mark the render numbers, in a row with column loops)."""
        c = cell.el
        col = column or cell.ref.rstrip("0123456789")
        style = int(c.get("s", "0") or 0)
        tags = list(core.find_tags(cell.text))
        text = cell.text
        if len(tags) == 1 and tags[0][2].kind == "{{" and tags[0][2].level in ("", "p") \
                and not text[:tags[0][0]].strip() and not text[tags[0][1]:].strip():
            date = int(style in self.date_styles)
            return (f'<c r="{col}{ROW_MARK}"{{{{ ({tags[0][2].body}) | m3_value('
                    f'{style}, {date}, {int(self.book.date1904)}) }}}}</c>')
        s = f' s="{style}"' if style else ""
        head = f'<c r="{col}{ROW_MARK}"{s} t="inlineStr"><is>'
        if any(tag.kind == "{{" and tag.level == "r" for _, _, tag in tags):
            return head + _rich_source(text) + "</is></c>"
        runs = cell.runs
        if len(runs) > 1 and _tags_within_runs(runs):
            body = "".join(f'<r>{props}<t xml:space="preserve">{_text_source(t, True)}</t></r>'
                           for props, t in runs)
        else:
            body = f'<t xml:space="preserve">{_text_source(text, True)}</t>'
        return head + body + "</is></c>"

    def _header_fields(self, ws: etree._Element) -> list[TextField]:
        hf = ws.find(qn("x:headerFooter"))
        if hf is None:
            return []
        items = list(ws.iter())
        out = []
        for el in hf:
            local = etree.QName(el).localname
            if local in HEADER_FOOTER and el.text and _TAGGED.search(el.text):
                field_ = text_field(self, items.index(el), el.text,
                                    self.place(f"{self.name}!{local}"))
                if field_:
                    out.append(field_)
        return out


_CHECKED: dict[tuple[int, str], str | None] = {}
CHECK_CACHE = 4096


def _shared_index(c: etree._Element) -> int:
    try:
        return int(c.findtext(qn("x:v")) or "")
    except ValueError:
        return -1


def _check_tag(env: Any, tag: Tag) -> str | None:
    """``core.check_tag``, once per tag text: an annotated schedule repeats the same few
    tags under every key task (its compile checked 218 tags, 10 of them distinct)."""
    key = (id(env), tag.text)
    if key not in _CHECKED:
        if len(_CHECKED) >= CHECK_CACHE:
            _CHECKED.clear()
        _CHECKED[key] = core.check_tag(env, tag)
    return _CHECKED[key]


def text_field(compiler: Any, index: int, text: str, place: Place) -> TextField | None:
    """A header, footer or property text as a small Jinja template (errors collected)."""
    tags = [(tag, place) for _, _, tag in core.find_tags(text)]
    before = len(compiler.errors)
    for tag, p in tags:
        message = _check_tag(compiler.env, tag)
        if message:
            compiler.errors.append(p.diagnostic("error", message))
    if len(compiler.errors) == before:
        compiler.errors += core.check_blocks(tags)
    if len(compiler.errors) != before:
        return None
    try:
        return TextField(index, core.compile_source(compiler.env, _text_source(text),
                                                    lambda n: place), place)
    except TemplateProblems as exc:
        compiler.errors += exc.diagnostics
        return None


def _r_first(el: etree._Element, value: str) -> None:
    """``r`` set to ``value`` and written as the element's first attribute."""
    keys = el.keys()
    if keys and keys[0] == "r":   # already first (most rows and cells): keeps its place
        el.set("r", value)
        return
    attrs = [(k, v) for k, v in el.attrib.items() if k != "r"]
    el.attrib.clear()
    el.set("r", value)
    for k, v in attrs:
        el.set(k, v)


def _raw(xml: str) -> str:
    """Literal XML as Jinja source."""
    if "{{" in xml or "{%" in xml or "{#" in xml:
        return "{% raw %}" + xml + "{% endraw %}"
    return xml


def _text_source(text: str, in_sheet: bool = False) -> str:
    """Cell or field text with tags as Jinja source writing XML text (``in_sheet``: its
    values are escaped by ``m3_text``, the sheet being rendered without autoescape)."""
    out, pos = [], 0
    for start, end, tag in core.find_tags(text):
        out.append(core.literal(xml_escape(text[pos:start], _CR)))
        if tag.kind == "{{" and in_sheet:
            out.append(_escaped(tag))
        elif tag.kind != "{#":
            out.append(tag.jinja)
        pos = end
    out.append(core.literal(xml_escape(text[pos:], _CR)))
    return "".join(out)


def _rich_source(text: str) -> str:
    """A cell with ``{{r }}``: literal text and plain tags as plain runs, rich tags as runs."""
    out, pos = [], 0

    def plain(piece: str) -> None:
        if piece:
            out.append(f'<r><t xml:space="preserve">{piece}</t></r>')

    for start, end, tag in core.find_tags(text):
        plain(core.literal(xml_escape(text[pos:start], _CR)))
        if tag.kind == "{{" and tag.level == "r":
            out.append("{{ (%s) | m3_rich }}" % tag.body)
        elif tag.kind == "{{":
            plain(_escaped(tag))
        elif tag.kind == "{%":
            out.append(tag.jinja)
        pos = end
    plain(core.literal(xml_escape(text[pos:], _CR)))
    return "".join(out)


def _escaped(tag: Tag) -> str:
    """A ``{{ }}`` tag whose value is escaped by ``m3_text`` (trim markers kept)."""
    left, right = "-" if tag.trim_left else "", "-" if tag.trim_right else ""
    return "{{%s (%s) | m3_text %s}}" % (left, tag.body, right)


def _tags_within_runs(runs: list[tuple[str, str]]) -> bool:
    text, bounds, pos = "".join(t for _, t in runs), [], 0
    for _, t in runs:
        pos += len(t)
        bounds.append(pos)
    for start, end, _ in core.find_tags(text):
        if any(start < b < end for b in bounds):
            return False
    return True


def _blocks(control: dict[int, list[Tag]]) -> list[Block]:
    """Top-level spans of control rows: from a row opening a ``{%tr %}`` block to the row
    that closes it (a row with only a comment or a ``set`` is a block of its own)."""
    blocks, depth, top = [], 0, 0
    for r in sorted(control):
        if depth == 0:
            top = r
        for tag in control[r]:
            word = tag.word
            if word in core._BLOCKS or (word == "set" and "=" not in tag.body):
                depth += 1
            elif word.startswith("end") and depth:
                depth -= 1
        if depth == 0:
            blocks.append(Block(top, r))
    if depth:
        blocks.append(Block(top, max(control)))
    return blocks


def _fill_gaps(data: etree._Element, blocks: list[Block]) -> None:
    """Empty rows inside a loop are repeated too: give each one an element."""
    rows = {int(row.get("r")): row for row in data.findall(qn("x:row"))}
    for block in blocks:
        for r in range(block.top + 1, block.bottom):
            if r not in rows:
                new = etree.Element(qn("x:row"), r=str(r))
                later = [n for n in rows if n > r]
                if later:
                    rows[min(later)].addprevious(new)
                else:
                    data.append(new)
                rows[r] = new


def _expand_shared_formulas(data: etree._Element) -> None:
    """Shared formulas written out in each cell (their rows may repeat or move)."""
    masters: dict[str, tuple[str, str]] = {}
    for f in data.iter(qn("x:f")):
        c = f.getparent()
        if f.get("t") != "shared" or c.tag != qn("x:c"):
            continue
        si = f.get("si", "")
        if f.text:
            masters[si] = (f.text, c.get("r"))
        elif si in masters:
            text, origin = masters[si]
            try:
                f.text = Translator("=" + text, origin).translate_formula(c.get("r"))[1:]
            except TranslatorError:
                continue
        for attr in ("t", "si", "ref"):
            f.attrib.pop(attr, None)


def _take_body_merges(ws: etree._Element, blocks: list[Block]) -> list[tuple[int, int, int, int]]:
    """Merges inside a loop's body repeat with its rows: taken out here, added per render."""
    out = []
    merges = ws.find(qn("x:mergeCells"))
    for el in list(merges if merges is not None else []):
        a, _, b = el.get("ref", "").partition(":")
        try:
            (c1, r1), (c2, r2) = split_ref(a), split_ref(b or a)
        except ValueError:
            continue
        if any(blk.top < r1 and r2 < blk.bottom for blk in blocks):
            out.append((c1, r1, c2, r2))
            merges.remove(el)
    return out


# -- the engine ------------------------------------------------------------------------------
class XlsxEngine:
    """docxtpl's tags in workbooks."""

    format = "xlsx"
    keeps_plans = True   # a compiled workbook can be kept between runs (plancache)

    def __init__(self) -> None:
        # filters, not globals: Jinja calls filters directly, while every call of a global
        # goes through the sandbox's checks (0.7 s of 2 s for 25,000 typed cells, measured)
        self.env = core.make_environment({"m3_value": m3_value, "m3_rich": m3_rich,
                                          "m3_text": m3_text, "link": m3_link})

    def compile(self, template: Template, name: str) -> "CompiledWorkbook":
        book = Book(template)
        date_styles = book.date_styles()
        errors, sheets, props = [], [], []
        for sheet, part in book.sheets:
            compiler = SheetCompiler(self, book, name, sheet, part, date_styles)
            plan = compiler.compile()
            if compiler.errors:   # again, each tag checked on its own: every error placed
                compiler = SheetCompiler(self, book, name, sheet, part, date_styles, True)
                plan = compiler.compile()
            errors += compiler.errors
            if plan is not None and not compiler.errors:
                sheets.append(plan)
        for part in DOC_PROPS + _drawings(template, book):   # drawings: text boxes, shapes
            if part in template.raw:
                found, problems = self._prop_fields(template, name, part)
                errors += problems
                if found:
                    props.append((part, found))
        if errors:
            raise TemplateProblems(errors)
        return CompiledWorkbook(template, name, book, sheets, props)

    def _prop_fields(self, template: Template, name: str, part: str):
        holder = _Collector(self.env)
        items = list(template.xml(part).iter())
        found = []
        for i, el in enumerate(items):
            if isinstance(el.tag, str) and el.text and _TAGGED.search(el.text):
                where = etree.QName(el).localname
                made = text_field(holder, i, el.text, Place(name, part, where))
                if made:
                    found.append(made)
        return found, holder.errors


@dataclass
class _Collector:
    env: Any
    errors: list = field(default_factory=list)


class CompiledWorkbook:
    """A workbook template, checked and compiled; ``render`` fills one document."""

    def __init__(self, template: Template, name: str, book: Book, sheets: list[SheetPlan],
                 props: list[tuple[str, list[TextField]]]):
        self.name = name
        self.template, self.book, self.sheets, self.props = template, book, sheets, props

    @property
    def names(self) -> frozenset[str]:
        """The context names the workbook uses (found when asked: a render does not ask)."""
        names: set[str] = set()
        for plan in self.sheets:
            if plan.compiled:
                names |= plan.compiled.names
            for f in plan.fields:
                names |= f.compiled.names
        for _, fields in self.props:
            for f in fields:
                names |= f.compiled.names
        return frozenset(names)

    def render(self, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
        pkg = self.template.new()
        record, notes = RenderRecord(), []
        token = _notes.set(notes)
        try:
            job = _Render(self, pkg, context, record, notes)
            job.run()
        finally:
            _notes.reset(token)
        return pkg.to_bytes(), record.warnings() + sorted(set(notes))


class _Render:
    """One document's render of a compiled workbook."""

    def __init__(self, wb: CompiledWorkbook, pkg: Package, context: Mapping[str, Any],
                 record: RenderRecord, notes: list[str]):
        self.wb, self.pkg, self.context, self.record, self.notes = wb, pkg, context, record, notes
        self.maps: list[LoopRows] = []
        self.column_maps: list[ColumnMap] = []
        self.date_xf: dict[tuple[int, str], int] = {}
        self.formulas_moved = False

    def run(self) -> None:
        for plan in self.wb.sheets:
            self.sheet(plan)
        for part, fields in self.wb.props:
            root = self.pkg.xml(part)
            items = list(root.iter())
            for f in fields:
                f.render(items, self.context, self.record)
        book = self.wb.book
        for rows in self.maps:
            rowmove.move_names(self.pkg, book.main, rows)
            rowmove.move_charts(self.pkg, rows)
        if self.maps:
            self.formulas_moved |= rowmove.move_other_sheets(self.pkg, book.sheets, self.maps)
        for cols in self.column_maps:
            self.formulas_moved |= self.other_sheets_follow(cols)
        if self.formulas_moved:
            self._recalculate()

    def sheet(self, plan: SheetPlan) -> None:
        ws = copy.deepcopy(plan.skeleton)
        items = list(ws.iter())
        for f in plan.fields:
            f.render(items, self.context, self.record)
        if plan.compiled is None:
            self.pkg.put(plan.part, ws)
            return
        place = Place(self.wb.name, plan.part, plan.name)
        text, numbering, again = self.numbered_rows(plan, place)
        if numbering.order and max(new for _, new in numbering.order) > MAX_ROWS:
            raise TemplateProblems([place.diagnostic(
                "error", f"the loops make more rows than a worksheet holds ({MAX_ROWS:,})")])
        rows = numbering.map()
        if self.streamable(plan, ws, text, numbering.order):
            if plan.may_break_xml:
                _check_xml(text, place)
            if rows is not None:
                self.follow(plan, ws, None, rows, numbering.order)
            if numbering.columns is not None:
                self.follow_columns(ws, numbering.columns)
            self.pkg.put(plan.part, self.spliced(plan, ws, text, numbering.order, rows,
                                                 numbering.columns))
        else:
            try:
                data = parse_xml(text.encode("utf-8"))
            except etree.XMLSyntaxError as exc:  # e.g. {% filter upper %} over escaped text
                raise TemplateProblems([place.diagnostic(
                    "error", f"the template wrote cells that are not well-formed XML ({exc})")])
            if rows is not None:
                self.follow(plan, ws, data, rows, numbering.order)
            if plan.fit_rows:
                self.fit_heights(plan, data, numbering.order, numbering.columns)
            if numbering.columns is not None:
                self.formulas_moved |= move_column_formulas(data, numbering.columns, own=True)
            ws.replace(ws.find(qn("x:sheetData")), data)
            if numbering.columns is not None:
                self.follow_columns(ws, numbering.columns)
            self.marks(plan, ws, data, text)
            self.pkg.put(plan.part, ws)
        if not plan.refers_out:   # finished: kept compressed, not as a tree (big workbooks)
            self.pkg.seal(plan.part, again)

    @staticmethod
    def streamable(plan: SheetPlan, ws: etree._Element, text: str,
                   order: list[tuple[int, int]]) -> bool:
        """Whether the rendered rows can go into the sheet as text, never parsed into a whole
        tree (a sheet of thousands of rows: parsing and serializing them again was a third
        of its render, and its tree the peak of a large pack's memory, measured): a
        worksheet whose rows sit in its default namespace. Rows with work to do are parsed
        in chunks (see ``spliced``)."""
        return ws.nsmap.get(None) == NS["x"] and text.startswith("<sheetData") \
            and text.endswith("</sheetData>")

    def spliced(self, plan: SheetPlan, ws: etree._Element, text: str,
                order: list[tuple[int, int]], rows: LoopRows | None,
                columns: ColumnMap | None = None) -> bytes:
        """The worksheet's bytes with the rendered rows in its (empty) sheetData; the rows
        whose formulas move, whose height follows their text or that hold a date or link
        mark or an empty text are parsed, WORK_CHUNK at a time."""
        start = text[:text.index(">") + 1]
        body = text[len(start):-len("</sheetData>")]
        formulas = plan.formula_rows if rows is not None or columns is not None else set()
        marked = any(m in body for m in _ROW_MARKS)
        if plan.fit_rows or formulas or marked:
            pieces = body.split("<row r=\"")
            work = [i for i, (t, _) in enumerate(order, 1) if t in plan.fit_rows
                    or t in formulas or (marked and any(m in pieces[i] for m in _ROW_MARKS))]
            links: list[tuple[str, str]] = []
            for k in range(0, len(work), WORK_CHUNK):
                chunk = work[k:k + WORK_CHUNK]
                links += self.worked_pieces(plan, start, pieces, chunk,
                                            [order[i - 1] for i in chunk], rows, columns)
            if links:   # before the worksheet is serialized below
                self.add_links(plan, ws, links)
            body = "<row r=\"".join(pieces)
        skeleton = serialize(ws)
        hole = skeleton.index(b"<sheetData/>")
        return b"".join((skeleton[:hole], b"<sheetData>", body.encode("utf-8"),
                         b"</sheetData>", skeleton[hole + len(b"<sheetData/>"):]))

    def worked_pieces(self, plan: SheetPlan, start: str, pieces: list[str], work: list[int],
                      ats: list[tuple[int, int]], rows: LoopRows | None,
                      columns: ColumnMap | None = None) -> list[tuple[str, str]]:
        """The rendered rows ``pieces[i]`` (each the text after ``<row r="``) for ``i`` in
        ``work`` with their formulas moved, their heights fitted and their marks resolved:
        parsed together (one parse per row cost a third of a small workbook's sheets,
        measured), written back one by one. Returns their cells' links (ref, url)."""
        source = start + "".join('<row r="' + pieces[i] for i in work) + "</sheetData>"
        mini = parse_xml(source.encode("utf-8"))
        if rows is not None:
            self.formulas(plan, mini, rows, ats)
        if columns is not None:
            self.formulas_moved |= move_column_formulas(mini, columns, own=True)
        self.fit_heights(plan, mini, ats, columns)
        links = self.mark_cells(mini, source)
        for i, row in zip(work, mini):
            out = etree.tostring(row, encoding="unicode")
            head, _, rest = out.partition(">")
            pieces[i] = (_XMLNS.sub("", head) + ">" + rest)[len('<row r="'):]
        return links

    def numbered_rows(self, plan: SheetPlan, place: Place) -> tuple[str, "Numbering", bool]:
        """The sheet's rows as Jinja writes them, numbered, and whether a later document may
        take them again; an error is placed at its cell. A render that read the same values
        as the sheet's last one is that one again (see ``memo``: a programme-wide schedule
        is the same in every document), numbering and notes included."""
        start = len(self.notes)

        def derive(text: str) -> dict[str, Any]:
            numbering = Numbering(plan)
            return {"numbered": numbering.apply(text), "numbering": numbering,
                    "notes": self.notes[start:]}   # what its filters noted
        try:
            done, again = core.render_memoized(plan.compiled, self.context, self.record,
                                               place, derive)
        except TemplateProblems as exc:
            raise TemplateProblems([_relocate(d, exc, plan.locate) for d in exc.diagnostics])
        if again:
            self.notes.extend(done.derived["notes"])
        return done.derived["numbered"], done.derived["numbering"], done.kept

    def follow_columns(self, ws: etree._Element, cols: ColumnMap) -> None:
        """What points at the sheet's columns follows its column loops: its ranges and
        widths, the workbook's defined names, and (once every sheet is done) the formulas
        of the other sheets."""
        move_columns(ws, cols)
        move_column_names(self.pkg, self.wb.book.main, cols)
        for f in rowmove.formulas(ws):   # rules' and validations' formulas (cells: rendered)
            if f.text and f.tag != _CELL_F:
                f.text = cols.formula(f.text, own=True)
        self.column_maps.append(cols)

    def other_sheets_follow(self, cols: ColumnMap) -> bool:
        """Formulas of the other sheets and the charts' series that name a sheet with column
        loops follow them (parts that do not are left untouched). True when one changed."""
        series = f"{{{NS['c']}}}f"
        for part in self.pkg.names:
            if part.startswith("xl/charts/") and part.endswith(".xml") and any(
                    f.text and cols.formula(f.text, False, grow=True) != f.text
                    for f in self.pkg.view(part).iter(series)):
                for f in self.pkg.xml(part).iter(series):
                    if f.text:
                        f.text = cols.formula(f.text, False, grow=True)
        changed = False
        for name, part in self.wb.book.sheets:
            if same_sheet(name, cols.sheet) or not rowmove.may_refer_out(self.pkg, part):
                continue
            view = self.pkg.view(part)
            if any(f.text and "!" in f.text and cols.formula(f.text, own=False) != f.text
                   for f in view.iter(qn("x:f"))):
                changed |= move_column_formulas(self.pkg.xml(part), cols, own=False)
        return changed

    def follow(self, plan: SheetPlan, ws: etree._Element, data: etree._Element,
               rows: LoopRows, order: list[tuple[int, int]]) -> None:
        """What points at the sheet's rows follows them: its formulas and ranges, merges
        repeated with the loop's rows, its dimension, tables, drawings and notes."""
        self.formulas_moved |= rowmove.move_formulas(ws, rows, own=True)
        rowmove.move_ranges(ws, rows, grow=True)
        self.repeat_merges(plan, ws, rows, order)
        dim = ws.find(qn("x:dimension"))
        if dim is not None and dim.get("ref"):
            dim.set("ref", move_sqref(dim.get("ref"), rows) or "A1")
        rowmove.move_sheet_parts(self.pkg, plan.part, rows)
        self.maps.append(rows)
        if plan.formula_rows and data is not None:   # None: moved row by row (spliced)
            self.formulas(plan, data, rows, order)

    def formulas(self, plan: SheetPlan, data: etree._Element, rows: LoopRows,
                 order: list[tuple[int, int]]) -> None:
        """Formulas of the rendered rows follow the rows; in a generated row, relative
        references into the loop's body are that copy's rows."""
        bodies = [(b.top + 1, b.bottom - 1) for b in plan.blocks]
        path = f"{qn('x:c')}/{qn('x:f')}"
        for row, (t, new) in zip(data.iterchildren(qn("x:row")), order):
            if t in plan.formula_rows:
                local = next(((lo, hi, new - t) for lo, hi in bodies if lo <= t <= hi), None)
                for f in row.iterfind(path):
                    self.formula(f, t, new, rows, local)

    def fit_heights(self, plan: SheetPlan, data: etree._Element,
                    order: list[tuple[int, int]], columns: "ColumnMap | None" = None) -> None:
        """A row whose wrapped text needs more lines than its height shows grows to fit
        (the estimate of ``ooxml.worksheet.row_height``)."""
        tag_c, plain = qn("x:c"), f"{qn('x:is')}/{qn('x:t')}"
        for row, (t, _) in zip(data.iterchildren(qn("x:row")), order):
            widths = plan.fit_rows.get(t)
            if not widths:
                continue
            if t in plan.col_loops:   # its cells sit where the column loops put them
                widths = _moved_widths(widths, columns)
            texts = []
            may_wrap = plan.may_wrap.get(t, ())
            for c in row.iterchildren(tag_c):
                col = c.get("r", "").rstrip("0123456789")
                width = widths.get(col)
                if width is None or c.get("t") != "inlineStr":
                    continue
                text = c.findtext(plain)
                if text is None:  # rich runs
                    text = "".join(c.itertext())
                if len(text) > width * 1.2 - 2 or "\n" in text:  # else one line (the model)
                    texts.append((text, width))
                    if col in may_wrap:
                        c.set("s", str(self.wrap_style(int(c.get("s", "0") or 0))))
            if not texts:
                continue
            base = float(row.get("ht") or 15)
            height = row_height(texts, minimum=base)
            if height > row_height([], minimum=base):   # more than one line
                row.set("ht", f"{height:g}")
                row.set("customHeight", "1")
                if may_wrap:   # a grown row of an annotated template reads from the top
                    for c in row.iterchildren(tag_c):
                        c.set("s", str(self.wrap_style(int(c.get("s", "0") or 0), top=True)))

    def marks(self, plan: SheetPlan, ws: etree._Element, data: etree._Element,
              text: str) -> None:
        """Dates in cells whose style shows no date get a date style; a rich text's first
        link becomes its cell's hyperlink."""
        links = self.mark_cells(data, text)
        if links:
            self.add_links(plan, ws, links)

    def mark_cells(self, data: etree._Element, text: str) -> list[tuple[str, str]]:
        """The marks of ``data``'s rows resolved (``text`` is their source, to tell quickly
        which kinds it holds): empty texts blanked, dates styled; returns each cell's first
        link (ref, url), the marks removed."""
        tag_c = qn("x:c")
        if "<is></is>" in text or '<t xml:space="preserve"></t>' in text:
            _blank_empty_text(data)
        if 'm3d="' in text:
            for c in data.iterfind(f".//{tag_c}[@m3d]"):
                kind = c.attrib.pop("m3d")
                c.set("s", str(self.date_style(int(c.get("s", "0")), kind)))
        links: dict[str, str] = {}
        if "<m3link" in text:
            for mark in list(data.iter(qn("x:m3link"))):
                links.setdefault(mark.getparent().getparent().get("r"), mark.get("u"))
                mark.getparent().remove(mark)
        return list(links.items())

    def formula(self, f: etree._Element, t: int, new: int, rows: LoopRows,
                local: tuple[int, int, int] | None) -> None:
        if f.text:
            text = move_formula(f.text, rows, own=True, local=local)
            if text != f.text or new != t:
                f.text = text
                self.formulas_moved = True
                v = f.getnext()
                if v is not None and v.tag == qn("x:v"):
                    v.getparent().remove(v)
        if f.get("ref"):
            f.set("ref", f.get("ref").rstrip("0123456789") + str(new)
                  if ":" not in f.get("ref") else move_sqref(f.get("ref"), rows))

    def wrap_style(self, base: int, top: bool = False) -> int:
        """A cell style like ``base`` that wraps its text, or (``top``) sits at the top of a
        tall row (added to styles.xml once per render)."""
        key = (base, "top" if top else "wrap")
        if key not in self.date_xf:
            part = self.wb.book.styles
            xfs = self.pkg.xml(part).find(qn("x:cellXfs")) if part and part in self.pkg \
                else None
            if xfs is None or base >= len(xfs):
                return base
            xf = copy.deepcopy(xfs[base])
            al = xf.find(qn("x:alignment"))
            if al is None:
                al = etree.Element(qn("x:alignment"))
                xf.insert(0, al)
            if top:
                if al.get("vertical") is None:
                    al.set("vertical", "top")
            else:
                al.set("wrapText", "1")
            xf.set("applyAlignment", "1")
            xfs.append(xf)
            xfs.set("count", str(len(xfs)))
            self.date_xf[key] = len(xfs) - 1
        return self.date_xf[key]

    def date_style(self, base: int, kind: str) -> int:
        """A cell style like ``base`` showing a date (added to styles.xml once per render)."""
        key = (base, kind)
        if key not in self.date_xf:
            part = self.wb.book.styles
            if not part or part not in self.pkg:
                return base
            xfs = self.pkg.xml(part).find(qn("x:cellXfs"))
            if xfs is None or base >= len(xfs):
                return base
            xf = copy.deepcopy(xfs[base])
            xf.set("numFmtId", {"date": "14", "datetime": "22", "time": "21"}[kind])
            xf.set("applyNumberFormat", "1")
            xfs.append(xf)
            xfs.set("count", str(len(xfs)))
            self.date_xf[key] = len(xfs) - 1
        return self.date_xf[key]

    def repeat_merges(self, plan: SheetPlan, ws: etree._Element, rows: LoopRows,
                      order: list[tuple[int, int]]) -> None:
        """Merges of a loop's body, once per generated copy of their first row."""
        if not plan.body_merges:
            return
        merges = sheet_child(ws, "mergeCells")
        for c1, r1, c2, r2 in plan.body_merges:
            for t, new in order:
                if t == r1:
                    ref = f"{col_letter(c1)}{new}:{col_letter(c2)}{new + r2 - r1}"
                    etree.SubElement(merges, qn("x:mergeCell"), ref=ref)
        merges.set("count", str(len(merges)))

    def add_links(self, plan: SheetPlan, ws: etree._Element,
                  links: list[tuple[str, str]]) -> None:
        """Each rich cell's first link becomes its hyperlink (one relationship per URL)."""
        rels = self.pkg.rels(plan.part)
        ids = {el.get("Id") for el in rels}
        by_url: dict[str, str] = {}
        n = len(ids)
        holder = sheet_child(ws, "hyperlinks")
        for ref, url in links:
            if url not in by_url:
                n += 1
                while f"rId{n}" in ids:
                    n += 1
                etree.SubElement(rels, qn("rel:Relationship"), Id=f"rId{n}",
                                 Type=RT["hyperlink"], Target=url, TargetMode="External")
                by_url[url] = f"rId{n}"
            etree.SubElement(holder, qn("x:hyperlink"), {"ref": ref,
                                                         qn("r:id"): by_url[url]})

    def _recalculate(self) -> None:
        """Formulas moved: Excel recalculates on opening and rebuilds its calculation chain."""
        book, pkg = self.wb.book, self.pkg
        if book.calc and book.calc in pkg:
            pkg.remove(book.calc)
            rels = pkg.xml(_rels_name(book.main))
            for rel in list(rels):
                if rel.get("Type") == RT_CALC:
                    rels.remove(rel)
        wb = pkg.xml(book.main)
        calc = wb.find(qn("x:calcPr"))
        if calc is None:
            calc = etree.Element(qn("x:calcPr"))
            anchor = next((el for el in wb if etree.QName(el).localname in (
                "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")), None)
            if anchor is not None:
                anchor.addprevious(calc)
            else:
                wb.append(calc)
        calc.set("fullCalcOnLoad", "1")


class Numbering:
    """Numbers the rendered rows and their cells, in the text, as they come: a row outside
    a loop moves by what the loops above it added; the rows a loop made follow one another
    from where the loop began. Done on the text (a split and one replace per row) because
    setting each cell's reference in the tree cost a third of a 5,000-row render (measured),
    and a regular expression per cell as much."""

    def __init__(self, plan: SheetPlan):
        self.sheet = plan.name
        self.blocks = [Block(b.top, b.bottom) for b in plan.blocks]
        self.tops = [b.top for b in self.blocks]
        self.out: dict[int, list[int]] = {}
        self.order: list[tuple[int, int]] = []      # (template row, new row) in order
        self.shift, self.done, self.current = 0, 0, -1
        self.columns: ColumnMap | None = None   # from the first row with column loops

    def apply(self, text: str) -> str:
        """The rendered rows with their numbers (every ``<row`` has ``r`` first)."""
        pieces = text.split("<row r=\"")
        last, span, block = -1, [0, 0], None
        i, count = 1, len(pieces)
        while i < count:
            piece = pieces[i]
            end = piece.index('"')
            t = int(piece[:end])
            if t == last and block is not None:   # a loop's one-row body again: the next row
                if "\x01" not in piece:
                    i = self._repeat(pieces, i, t, end, block, span)
                    continue
                block.made += 1
                number = span[1] = block.start + block.made - 1
                self.order.append((t, number))
            else:
                number = self._number(t)
                last, span = t, self.out[t]
                block = self.blocks[self.current] if self.current >= 0 and \
                    self.blocks[self.current].top <= t <= self.blocks[self.current].bottom \
                    else None
            new = str(number)
            rest = self._columns(piece[end:]) if "\x01" in piece else piece[end:]
            pieces[i] = new + rest.replace(ROW_MARK, new)
            i += 1
        while self.done < len(self.blocks):
            self._close()
        return "<row r=\"".join(pieces)

    def _repeat(self, pieces: list[str], i: int, t: int, end: int, block: Block,
                span: list[int]) -> int:
        """A loop's one-row body written again and again with the same text (the blank
        rows a table keeps, thousands per sheet): numbered together; returns the next index."""
        piece, j = pieces[i], i + 1
        while j < len(pieces) and pieces[j] == piece:
            j += 1
        first = block.start + block.made
        block.made += j - i
        span[1] = first + j - i - 1
        numbers = range(first, span[1] + 1)
        parts = ["", *piece[end:].split(ROW_MARK)]
        pieces[i:j] = [str(n).join(parts) for n in numbers]
        self.order.extend(zip(itertools.repeat(t), numbers))
        return j

    def _columns(self, row: str) -> str:
        """A row's cells numbered across its column loops (see _COLUMN_MARKS)."""
        state = {"shift": 0, "pass": -1, "loops": []}

        def number(m: re.Match) -> str:
            if m.group(1) is not None:
                t = int(m.group(1))
                if state["pass"] >= 0:
                    a, b = state["open"]
                    t = a + state["shift"] + state["pass"] * (b - a - 1) + (t - a - 1)
                else:
                    t += state["shift"]
                return col_letter(t)
            if m.group(2) is not None:
                state["open"] = (int(m.group(2)), int(m.group(3)))
                state["pass"] += 1
                return ""
            a, b = int(m.group(4)), int(m.group(5))
            passes = state["pass"] + 1
            state["loops"].append((a, b, passes))
            state["shift"] += passes * (b - a - 1) - (b - a + 1)
            state["pass"] = -1
            return ""
        out = _COLUMN_MARKS.sub(number, row)
        if self.columns is None and state["loops"]:
            self.columns = ColumnMap(state["loops"], self.sheet)
        return out

    def map(self) -> LoopRows | None:
        return LoopRows(self.sheet, self.blocks, self.out) if self.blocks else None

    def _close(self) -> None:
        block = self.blocks[self.done]
        if self.done != self.current:
            block.start = block.top + self.shift
        self.shift += block.made - (block.bottom - block.top + 1)
        self.done += 1

    def _number(self, t: int) -> int:
        new = self._place(t)
        self.order.append((t, new))
        span = self.out.setdefault(t, [new, new])
        span[1] = new
        return new

    def _place(self, t: int) -> int:
        while self.done < len(self.blocks) and self.blocks[self.done].bottom < t:
            self._close()
        i = bisect.bisect_right(self.tops, t) - 1
        if i < 0 or t > self.blocks[i].bottom:
            return t + self.shift
        block = self.blocks[i]
        if self.current != i:
            self.current = i
            block.start = block.top + self.shift
        block.made += 1
        return block.start + block.made - 1


def _moved_widths(widths: dict[str, float], columns: ColumnMap | None) -> dict[str, float]:
    """A row's column widths by the columns its cells went to (none: the columns moved
    by another row's loops cannot be told)."""
    if columns is None:
        return {}
    return {col_letter(new): w for col, w in widths.items()
            for new in columns.copies(col_index(col))}


def _blank_empty_text(data: etree._Element) -> None:
    """A text cell whose tags wrote nothing is a blank cell (its style kept), as a cell
    that is one ``{{ }}`` of an empty value is."""
    tag_is, tag_t = qn("x:is"), qn("x:t")
    for c in data.iter(qn("x:c")):
        if c.get("t") == "inlineStr":
            is_ = c.find(tag_is)
            if is_ is not None and not "".join(x.text or "" for x in is_.iter(tag_t)):
                c.remove(is_)
                del c.attrib["t"]


def _check_xml(text: str, place: Place) -> None:
    """Rendered rows that are not well-formed XML are a located error (parsed by libxml2
    with a target that builds nothing: about a sixth of building the tree, measured)."""
    try:
        etree.fromstring(text.encode("utf-8"), etree.XMLParser(target=_NoTree(),
                                                               resolve_entities=False))
    except etree.XMLSyntaxError as exc:   # e.g. {% filter upper %} over escaped text
        raise TemplateProblems([place.diagnostic(
            "error", f"the template wrote cells that are not well-formed XML ({exc})")])


class _NoTree:
    """A parser target that keeps nothing (a well-formedness check)."""

    def close(self) -> None:
        return None


def _relocate(diagnostic: Any, exc: TemplateProblems,
              locate: Callable[[int], Place] | None) -> Any:
    """A render error placed at its cell: the template line Jinja's traceback names."""
    cause = exc.__cause__ or exc.__context__
    tb, line = getattr(cause, "__traceback__", None), 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    if not line or locate is None:
        return diagnostic
    return locate(line).diagnostic(diagnostic.severity, diagnostic.message)


ENGINE = XlsxEngine()


def render_xlsx(template_path: str | Path, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """Fill a workbook template: its bytes and the warnings."""
    template = Template(template_path)
    return ENGINE.compile(template, Path(template_path).name).render(context)


__all__ = ["ENGINE", "CompiledWorkbook", "LoopRows", "XlsxEngine", "render_xlsx"]
