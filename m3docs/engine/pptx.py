"""The PowerPoint engine: docxtpl's tags in any text frame of a deck, compiled once.

Where tags may sit: any paragraph of a text frame (shapes, group shapes, placeholders, table
cells) on a slide or its notes; slide layouts and masters when they carry tags (they are
filled once, with the context's top-level names).

The tag forms (docxtpl's, see ``core``):

* ``{{ expr }}`` and ``{% ... %}`` inside a paragraph's text (tags PowerPoint split across
  runs work: a tag is gathered into the run it starts in);
* ``{%p ... %}``, ``{%tr ... %}``, ``{%tc ... %}``, ``{%r ... %}`` stand for their whole
  paragraph, table row, cell or run; ``{#p #}``, ``{#tr #}``, ``{#tc #}``, ``{#r #}`` remove
  it. A ``{%tc %}`` tag in the first row of a table that has any also stands for that cell's
  column of the table grid (a column loop repeats the column, at its width), so every row
  must put its ``{%tc %}`` tags in the same columns, and a column loop's list must be known
  outside the rows (a top-level name, or a slide loop's variable);
* ``{%- ... %}`` / ``{% ... -%}`` alone in a paragraph join it to the previous / next
  paragraph (docxtpl's way to write one line over several);
* ``{% cellbg expr %}`` in a table cell fills the cell with the hex colour ``expr`` gives,
  and in a shape's text fills that shape; ``{% textcolor expr %}`` colours the text of the
  cell or shape (the runs written in the template); an empty value keeps the template's
  colours (``vm``, ``hm`` and ``colspan`` are refused: PowerPoint merges are made in the
  template);
* ``{{r expr }}`` writes rich runs (bold, italic, hyperlinks with a relationship of the slide
  they land on) in the style of the run that held the tag; ``{{p expr }}`` writes paragraphs;
* **slide loops**: a paragraph holding ``{%slide for kt in key_tasks %}`` opens a loop over
  slides at the slide it sits on; ``{%slide endfor %}`` (on that slide or a later one) closes
  it after its slide. The slides from the opener's to the closer's repeat per item, in
  order; their notes repeat with them. Any statement works the same way
  (``{%slide if x %}`` ... ``{%slide endif %}`` keeps or drops slides). The control
  paragraphs are removed; a shape holding only control paragraphs is removed.

A text box above such a table that is set to "resize shape to fit text" (``a:spAutoFit``)
is sized to its filled text, and the table moves down by as much.

A table with a ``{%tr for %}`` loop that grows past its slide (past the shape below it, or
the slide's bottom margin) continues on copies of the slide placed right after it, each
titled "... (continued)": the rows above the loop (a header) repeat on every copy, the rows
below it (a total) close the last one. Output slides are named
``slide1.xml`` ... in show order, notes ``notesSlide1.xml`` ... likewise.

The whole deck (slides and notes) is one Jinja template, so a slide loop's variable is seen
by every slide and note inside it; the rendered text is cut back into parts at markers.
"""
from __future__ import annotations

import contextvars
import copy
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping
from xml.sax.saxutils import escape as xml_escape

from jinja2.utils import markupsafe
from lxml import etree
from pptx.oxml import parse_xml as pptx_parse_xml

from ..ooxml import drawingml as dml
from ..ooxml.package import Package, Template, main_part_name
from ..ooxml.xml import NS, RT, clean_text, parse_xml, qn
from . import core
from .core import Place, Tag, TemplateProblems

METRICS = dml.TextMetrics(char_em=0.55, bold_char_em=0.58, line_spacing=1.2,
                          min_padding=4 * dml.EMU_PER_POINT)
GAP = 18 * dml.EMU_PER_POINT  # kept between a grown table and the shape below it (text sets
# taller in LibreOffice than the row estimate: 12 pt let a full table touch a legend)
BOTTOM_MARGIN = int(0.5 * dml.EMU_PER_INCH)  # kept clear of the master's footer
_SLIDE_TAG = re.compile(r"^\{%(-?)\s*slide\s+(.*?)\s*(-?)%\}$", re.S)
# Marks in a part's XML while it is turned into Jinja source and cut back into parts: Unicode
# noncharacters (U+FDD0-FDD7), which no text holds; values have them removed (``_clean``).
_MARK = "\ufdd0{}\ufdd1"  # a Jinja snippet's place in a part's XML while it is serialized
_MARK_RE = re.compile("\ufdd0(\\d+)\ufdd1")
_PART_RE = re.compile("\ufdd6([SN])(\\d+)\ufdd7")  # where a slide (S) or notes (N) begins
_LINK_RE = re.compile("\ufdd2(\\d+)\ufdd3")  # a hyperlink's relationship, allotted per part
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
_LEVEL_RANK = {"tr": 0, "tc": 1, "p": 2, "r": 3, "slide": 4}
_STRAIGHT = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")  # curly quotes in tags
_CELL_WORDS = ("cellbg", "textcolor", "vm", "hm", "colspan")
_COLOUR_WORDS = ("cellbg", "textcolor")
_AFTER_TEXT_FILL = ("effectLst", "effectDag", "highlight", "uLnTx", "uLn", "uFillTx", "uFill",
                    "latin", "ea", "cs", "sym", "hlinkClick", "hlinkMouseOver", "rtl", "extLst")
_FILLS = ("noFill", "solidFill", "gradFill", "blipFill", "pattFill", "grpFill")
_HEX = re.compile(r"#?[0-9A-Fa-f]{6}")
_CONTAINER = {"p": "text box", "r": "paragraph", "tr": "table", "tc": "table row"}
_HOLDER = {"p": "a:p", "r": "a:r", "tr": "a:tr", "tc": "a:tc"}
_PROPERTY_TYPES = ("extended-properties+xml", "core-properties+xml")


@dataclass
class _RenderState:
    urls: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    styles: list = field(default_factory=list)   # the deck's run styles (_RunStyle)


_state: contextvars.ContextVar[_RenderState | None] = contextvars.ContextVar(
    "m3docs_pptx_render", default=None)


def _warn(message: str) -> None:
    state = _state.get()
    if state is not None and message not in state.warnings:
        state.warnings.append(message)


_NO_MARKS = dict.fromkeys(range(0xFDD0, 0xFDD8))


def _clean(text: str) -> str:
    """A value's text as XML can hold it, without the engine's marks (a warning if cut)."""
    cleaned, _ = clean_text(text.translate(_NO_MARKS))
    if len(cleaned) != len(text):  # both only remove characters
        _warn(f"removed characters not allowed in XML from {text[:40]!r}")
    return cleaned


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` value: text XML cannot hold is cleaned (with a warning)."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return _clean(value)
    return value


# -- rich runs -----------------------------------------------------------------------------
_TEXT, _LINK = "\ufdd4", "\ufdd5"  # where a run's text and link id go in a run's XML


@dataclass(frozen=True)
class _RunStyle:
    """The run a ``{{r }}``/``{{p }}`` tag sat in, as XML to write runs with: for each of
    (bold, italic, linked), the run's XML before and after its text (the run's own
    properties kept, emphasis and a link id added), and the paragraph properties around
    it.

    The variants are built once per template with python-pptx's oxml classes; a render
    only joins strings. Building each run with them measured 43 us a run on a quiet host
    (116 us under load; 260 rich runs were about half of a 25-slide deck's render), joining
    strings 0.6 us (docs/benchmarks.md)."""

    variants: dict[tuple[bool, bool, bool], tuple[str, str]]
    paragraph_props: str
    prefix: str

    @classmethod
    def of(cls, run: etree._Element, p: etree._Element, root: etree._Element) -> "_RunStyle":
        proto = pptx_parse_xml(etree.tostring(run))  # a python-pptx CT_RegularTextRun
        for child in list(proto):
            if child.tag != qn("a:rPr"):
                proto.remove(child)
        etree.SubElement(proto, qn("a:t"))
        strip = [f' xmlns:{k}="{v}"' for k, v in root.nsmap.items()
                 if k and proto.nsmap.get(k) == v]
        variants = {}
        for bold in (False, True):
            for italic in (False, True):
                for link in (False, True):
                    xml = _strip(etree.tostring(_emphasis(proto, bold, italic, link),
                                                encoding="unicode"), strip)
                    head, _, tail = xml.partition(_TEXT)
                    variants[bold, italic, link] = (head, tail)
        ppr = p.find(qn("a:pPr"))
        props = _strip(etree.tostring(ppr, encoding="unicode"), strip) if ppr is not None else ""
        return cls(variants, props, run.prefix or "")

    def run(self, text: str, bold: bool, italic: bool, url: str | None) -> str:
        head, tail = self.variants[bold, italic, bool(url)]
        if url:
            state = _state.get()
            if state is not None:
                head = head.replace(_LINK, f"\ufdd2{len(state.urls)}\ufdd3")
                state.urls.append(url)
        return head + xml_escape(text) + tail

    def tag(self, name: str) -> str:
        return f"{self.prefix}:{name}" if self.prefix else name


def _emphasis(proto: etree._Element, bold: bool, italic: bool, link: bool) -> etree._Element:
    run = copy.deepcopy(proto)
    rpr = run.get_or_add_rPr()
    if bold:
        rpr.b = True
    if italic:
        rpr.i = True
    if link:
        rpr.set("u", "sng")
        rpr.add_hlinkClick(_LINK)
    run.t.text = _TEXT
    return run


def _strip(xml: str, declarations: list[str]) -> str:
    """XML without namespace declarations its part's root already makes."""
    for decl in declarations:
        xml = xml.replace(decl, "")
    return xml


def _runs_of(value: Any) -> "list[RunTuple]":
    """(text, bold, italic, url) of a value: RichText-like ``.runs``, else its text."""
    runs = getattr(value, "runs", None)
    if runs is None:
        return [(str(value), False, False, None)] if value is not None and str(value) else []
    return [(str(getattr(r, "text", "")), bool(getattr(r, "bold", False)),
             bool(getattr(r, "italic", False)), getattr(r, "url", None)) for r in runs]


RunTuple = tuple[str, bool, bool, "str | None"]  # text, bold, italic, url


def _write_runs(style: _RunStyle, runs: list[RunTuple]) -> str:
    """Runs in a paragraph; line breaks inside a run become ``a:br``."""
    pieces = []
    for text, bold, italic, url in runs:
        for i, line in enumerate(_clean(text).split("\n")):
            if i:
                pieces.append(f"<{style.tag('br')}/>")
            if line:
                pieces.append(style.run(line, bold, italic, url))
    return "".join(pieces)


def _rich_runs(style: _RunStyle, value: Any) -> str:
    """``{{r value }}``: the value's runs, in the style of the run the tag sat in."""
    if isinstance(value, core.RecordingUndefined):
        str(value)  # records the name
        return ""
    return _write_runs(style, _runs_of(value))


def _rich_paragraphs(style: _RunStyle, value: Any) -> str:
    """``{{p value }}``: one paragraph per line of the value, in the tag paragraph's
    properties."""
    lines: list[list[RunTuple]] = [[]]
    if isinstance(value, core.RecordingUndefined):
        str(value)  # records the name; one empty paragraph is written
        value = None
    for text, bold, italic, url in _runs_of(value):
        for i, line in enumerate(text.split("\n")):
            if i:
                lines.append([])
            if line:
                lines[-1].append((line, bold, italic, url))
    p = style.tag("p")
    return "".join(f"<{p}>{style.paragraph_props}{_write_runs(style, runs)}</{p}>"
                   for runs in lines)


def _cell_fill(value: Any, template_fill: str, prefix: str) -> markupsafe.Markup:
    """A table cell's fill for ``{% cellbg %}``: a hex colour ("1F5FAD"), or the cell's own
    fill for an empty value (and for anything else, with a warning)."""
    if isinstance(value, core.RecordingUndefined):
        str(value)
        value = ""
    text = str(value or "").strip()
    if text and _HEX.fullmatch(text):
        a = f"{prefix}:" if prefix else ""
        return markupsafe.Markup(f'<{a}solidFill><{a}srgbClr val="{text.lstrip("#").upper()}"/>'
                                 f'</{a}solidFill>')
    if text:
        _warn(f"cellbg {text[:20]!r} is not a hex colour such as 1F5FAD; the cell keeps its fill")
    return markupsafe.Markup(template_fill)


# -- finding tags in a part ----------------------------------------------------------------
@dataclass
class _Found:
    """One part's tags: what the checks see, what replaces which element, slide-level tags."""

    tags: list[tuple[Tag, Place]] = field(default_factory=list)
    slide_open: list[tuple[Tag, Place]] = field(default_factory=list)
    slide_close: list[tuple[Tag, Place]] = field(default_factory=list)
    errors: list = field(default_factory=list)
    loop_tables: list[tuple[str, int, int]] = field(default_factory=list)  # frame id, head, tail


class _Marks:
    """Jinja snippets waiting for their place in the serialized XML."""

    def __init__(self) -> None:
        self.snippets: list[str] = []

    def add(self, jinja: str) -> str:
        self.snippets.append(jinja)
        return _MARK.format(len(self.snippets) - 1)

    def source(self, xml: str) -> str:
        """The serialized part as Jinja source: literal text protected, snippets in place."""
        pieces, last, raw = [], 0, False
        for m in _MARK_RE.finditer(xml):
            pieces.append(xml[last:m.start()] if raw else _protect(xml[last:m.start()]))
            pieces.append(self.snippets[int(m.group(1))])
            raw = core.raw_after(raw, pieces[-1])
            last = m.end()
        pieces.append(xml[last:] if raw else _protect(xml[last:]))
        return "".join(pieces)


def _protect(text: str) -> str:
    """Literal XML as Jinja source: a ``{`` that would open a tag is written by Jinja."""
    return _JINJA_OPEN.sub("{{ '{' }}", text) if "{" in text else text


def _read_tag(text: str) -> Tag:
    m = _SLIDE_TAG.match(text)
    if m:
        return Tag(text, "{%", "slide", m.group(2), bool(m.group(1)), bool(m.group(3)))
    return core.parse_tag(text)


class _PartReader:
    """Finds the tags of one part (a slide, its notes, a layout), cleans them into single
    runs, and turns the part's XML into Jinja source."""

    def __init__(self, engine: "PptxEngine", file: str, part: str, where: str,
                 root: etree._Element, styles: list):
        self.engine, self.file, self.part, self.where = engine, file, part, where
        self.styles = styles   # the deck's run styles, which its code indexes
        self.root = root
        self.found = _Found()
        self.marks = _Marks()
        self.replace: list[tuple[int, int, etree._Element, str]] = []  # rank, order, el, jinja
        self.needs_body_fix = False
        self.blocks: list[tuple[str, Tag, etree._Element, Place]] = []  # open structural blocks
        self.column_rows: dict[etree._Element, etree._Element] = {}  # table: 1st row with {%tc
        self.row_depth: dict[str, int] = {}  # table (frame id) -> open row blocks
        self.original: dict[etree._Element, str] = {}  # each paragraph's text as written
        self.text_colours: list[tuple[etree._Element, str]] = []  # cell or shape, expression

    def place(self, p: etree._Element) -> Place:
        shape = next((a for a in p.iterancestors() if etree.QName(a).localname in
                      ("sp", "graphicFrame", "cxnSp", "pic")), None)
        where = self.where
        if shape is not None:
            where += f", shape '{dml.shape_name(shape)}'"
        tc = next(p.iterancestors(qn("a:tc")), None)
        if tc is not None:
            tr = tc.getparent()
            row = tr.getparent().findall(qn("a:tr")).index(tr) + 1
            where += f", row {row}, cell {tr.findall(qn('a:tc')).index(tc) + 1}"
        return Place(self.file, self.part, where)

    def read(self) -> str | None:
        """The part's Jinja source, or None when it has no tags."""
        for body in self.root.iter(qn("p:txBody"), qn("a:txBody")):
            _merge_paragraphs(body)
        paragraphs = list(self.root.iter(qn("a:p")))
        self.original = {p: "".join(t.text or "" for t in p.iter(qn("a:t"))).strip()
                         for p in paragraphs}
        for p in paragraphs:
            self.paragraph(p)
        if not self.found.tags and not self.found.slide_open and not self.found.slide_close:
            return None
        self.apply()
        xml = etree.tostring(self.root, encoding="unicode")
        return self.marks.source(xml)

    # -- one paragraph ---------------------------------------------------------------------
    def paragraph(self, p: etree._Element) -> None:
        runs = [r for r in p if r.tag == qn("a:r") and r.find(qn("a:t")) is not None]
        text = "".join(r.find(qn("a:t")).text or "" for r in runs)
        if "{" not in text:
            return
        found = [(m.start(), m.end()) for m in core.TAG.finditer(text)]
        if not found and not any(e in text for e in core.ESCAPES):
            return
        place = self.place(p)
        owners = _gather(runs, found)
        text = "".join(r.find(qn("a:t")).text or "" for r in runs)  # quotes straightened
        spans = [(s, e, _read_tag(text[s:e])) for s, e in found]
        self._check_inline(spans, place)
        for s, e, tag in spans:
            self.tag(p, owners[s], tag, place)
        for run in runs:
            if run.getparent() is not None:
                self.mark_text(run.find(qn("a:t")))

    def tag(self, p: etree._Element, run: etree._Element, tag: Tag, place: Place) -> None:
        """Record one tag: checked, and put in place of its element or in its run's text."""
        if tag.level == "slide":
            if tag.kind != "{%":
                self.found.errors.append(place.diagnostic(
                    "error", f"{tag.text.strip()}: only statements ({{%slide ... %}}) "
                             "repeat or keep slides"))
                return
            target = self.found.slide_close if tag.word.startswith("end") else \
                self.found.slide_open
            target.append((tag, place))
            self.remove_control(p)
            return
        if tag.kind == "{%" and tag.word in _CELL_WORDS:
            self.cell_tag(p, tag, place)
            return
        if tag.kind != "{#":
            self.found.tags.append((tag, place))
        if not tag.level:
            return
        holder = p if tag.level == "p" else run if tag.level == "r" else \
            next(p.iterancestors(qn(_HOLDER[tag.level])), None)
        if holder is None:
            self.found.errors.append(place.diagnostic(
                "error", f"{tag.text.strip()} is not in a table "
                         f"{'row' if tag.level == 'tr' else 'cell'}"))
            return
        if tag.kind == "{#":
            jinja = ""
        elif tag.kind == "{{" and tag.level == "r":
            jinja = "{{ _m3_runs(%d, %s) }}" % (self.style(run, p), tag.body)
        elif tag.kind == "{{" and tag.level == "p":
            jinja = "{{ _m3_paragraphs(%d, %s) }}" % (self.style(run, p), tag.body)
        else:
            jinja = tag.jinja
        if tag.kind == "{%":
            self.nest(tag, holder, place)
        if tag.level == "tr":
            self.note_loop_row(holder, tag)
        if tag.level == "tc":
            self.note_column(holder, jinja)
        if tag.level == "p" and tag.kind != "{{":
            self.needs_body_fix = True  # a loop over nothing may leave a body empty
        self.replace.append((_LEVEL_RANK[tag.level], len(self.replace), holder, jinja))

    def _check_inline(self, spans: list[tuple[int, int, Tag]], place: Place) -> None:
        """A block opened by a plain ``{% %}`` must close in the same paragraph (else the
        XML between would be cut in two); structural forms exist for that."""
        depth = 0
        for _, _, tag in spans:
            if tag.level or tag.kind != "{%":
                continue
            word = tag.word
            if word in ("for", "if", "with", "macro", "call", "filter") or (
                    word == "set" and "=" not in tag.body):
                depth += 1
            elif word.startswith("end") and depth:
                depth -= 1
            elif word.startswith("end"):
                self.found.errors.append(place.diagnostic(
                    "error", f"{tag.text.strip()} closes a block opened in another paragraph; "
                             "use {%p %}, {%tr %} or {%slide %} for blocks that span "
                             "paragraphs, rows or slides"))
                return
        if depth:
            opener = next(t for _, _, t in spans if not t.level and t.kind == "{%")
            self.found.errors.append(place.diagnostic(
                "error", f"{opener.text.strip()} is not closed in its paragraph; use "
                         "{%p %}, {%tr %} or {%slide %} for blocks that span paragraphs, rows "
                         "or slides"))

    def style(self, run: etree._Element, p: etree._Element) -> int:
        """Register the style of the run a rich tag sat in; return its index."""
        self.styles.append(_RunStyle.of(run, p, self.root))
        return len(self.styles) - 1

    def note_loop_row(self, tr: etree._Element, tag: Tag) -> None:
        """Remember a table with a row loop: rows above the loop and below it. The rows
        below are those after the row closing the outermost row block that holds the loop
        (a ``{%tr if %}`` around it, with a ``{%tr else %}`` branch, included)."""
        word = tag.word
        opens = word in ("for", "if", "with")
        if not opens and not word.startswith("end"):
            return
        tbl = tr.getparent()
        frame = next(tbl.iterancestors(qn("p:graphicFrame")), None)
        if frame is None:
            return
        rows = tbl.findall(qn("a:tr"))
        index = rows.index(tr)
        key = frame.find(".//" + qn("p:cNvPr")).get("id", "")
        depth = self.row_depth.get(key, 0) + (1 if opens else -1)
        self.row_depth[key] = max(depth, 0)
        known = {k: (h, t) for k, h, t in self.found.loop_tables}
        if word != "for" and key not in known:
            return
        head, tail = known.get(key, (0, 0))
        if word == "for" and key not in known:
            head = index
        elif not opens and depth <= 0:
            tail = len(rows) - index - 1
        self.found.loop_tables = [x for x in self.found.loop_tables if x[0] != key]
        self.found.loop_tables.append((key, head, tail))

    def cell_tag(self, p: etree._Element, tag: Tag, place: Place) -> None:
        """``{% cellbg expr %}``: the fill of the table cell the tag sits in, or outside a
        table of its shape, a hex colour the expression gives; ``{% textcolor expr %}``: the
        colour of that cell's or shape's text (the tags' text is dropped; an empty value keeps
        the template's). Merges (``vm``, ``hm``, ``colspan``) are Word's: refused here."""
        tc = next(p.iterancestors(qn("a:tc")), None)
        holder = tc if tc is not None else next(p.iterancestors(qn("p:sp")), None)
        if tag.word not in _COLOUR_WORDS or holder is None:
            where = "in a table cell" if tc is None else "in PowerPoint tables"
            self.found.errors.append(place.diagnostic(
                "error", f"{tag.text.strip()} is not supported {where}"
                         + ("" if tc is None else "; merge the cells in the template")))
            return
        expr = tag.body[len(tag.word):].strip()
        probe = Tag("{{ %s }}" % expr, "{{", "", expr, False, False)
        self.found.tags.append((probe, place))
        if tag.word == "textcolor":
            self.text_colours.append((holder, expr))  # marked in ``apply``, runs all known
            return
        if tc is not None:
            pr = tc.find(qn("a:tcPr"))
            if pr is None:
                pr = etree.SubElement(tc, qn("a:tcPr"))
            after = ("headers", "extLst")
        else:  # a shape: its fill follows its geometry
            pr = holder.find(qn("p:spPr"))
            after = ("ln", "effectLst", "effectDag", "scene3d", "sp3d", "extLst")
        self.fill_marker(pr, after, expr, _drawing_prefix(pr))

    def fill_marker(self, pr: etree._Element, after: tuple[str, ...], expr: str,
                    prefix: str) -> None:
        """Put a mark for ``expr``'s fill in ``pr`` in place of its fill (before the first
        child named in ``after``); the template's fill is kept for an empty value."""
        fills = [el for el in pr if etree.QName(el).localname in _FILLS]
        old = "".join(etree.tostring(el, encoding="unicode") for el in fills)
        for el in fills:
            pr.remove(el)
        slot = next((el for el in pr if etree.QName(el).localname in after), None)
        marker = etree.Element(qn("a:noFill"))
        (slot.addprevious if slot is not None else pr.append)(marker)
        self.replace.append((_LEVEL_RANK["r"], len(self.replace), marker,
                             "{{ _m3_fill(%s, %r, %r) }}" % (expr, old, prefix)))

    def mark_text_colours(self) -> None:
        """``{% textcolor %}``: every run of the cell or shape (and its paragraphs' ends)
        takes the colour (runs written by ``{{r }}`` keep the style they were given)."""
        for holder, expr in self.text_colours:
            for run in holder.iter(qn("a:r"), qn("a:fld")):
                if run.find(qn("a:rPr")) is None:
                    run.insert(0, etree.Element(qn("a:rPr"), lang="en-US"))
            for rpr in holder.iter(qn("a:rPr"), qn("a:endParaRPr")):
                self.fill_marker(rpr, _AFTER_TEXT_FILL, expr, _drawing_prefix(rpr))

    def nest(self, tag: Tag, holder: etree._Element, place: Place) -> None:
        """A structural block must open and close in one container (a {%p %} block in one
        text body, a {%tr %} block in one table...), else its XML would be cut in two."""
        word, container = tag.word, holder.getparent()
        if word in ("for", "if", "with", "macro", "call", "filter") or (
                word == "set" and "=" not in tag.body):
            self.blocks.append((word, tag, container, place))
        elif word.startswith("end") and self.blocks and self.blocks[-1][0] == word[3:]:
            _, opener, where, at = self.blocks.pop()
            if where is not container or opener.level != tag.level:
                kind = _CONTAINER[opener.level]
                self.found.errors.append(place.diagnostic(
                    "error", f"{tag.text.strip()} closes {opener.text.strip()} ({at.where}) "
                             f"from another {_CONTAINER[tag.level]}: a block must open and close "
                             f"in the same {kind}, with tags of the same level"))

    def note_column(self, tc: etree._Element, jinja: str) -> None:
        """A cell-level tag in the first row of its table that has any also stands for the
        cell's grid column, so the table's grid keeps as many columns as its rows have
        cells (a column loop repeats the column's width)."""
        tr = tc.getparent()
        tbl = tr.getparent()
        first = self.column_rows.setdefault(tbl, tr)  # the key keeps the proxy alive
        if first is not tr:
            return
        col = 0
        for cell in tr.findall(qn("a:tc")):
            if cell is tc:
                break
            col += int(cell.get("gridSpan", "1"))
        grid = tbl.find(qn("a:tblGrid"))
        cols = grid.findall(qn("a:gridCol")) if grid is not None else []
        if col < len(cols):
            self.replace.append((_LEVEL_RANK["tc"], len(self.replace), cols[col], jinja))

    def remove_control(self, p: etree._Element) -> None:
        """Drop a slide-level control paragraph (its shape, if nothing else is in it)."""
        body = p.getparent()
        shape = body.getparent()
        others = [q for q in body.findall(qn("a:p")) if q is not p and self.original[q]
                  and not _SLIDE_TAG.match(self.original[q])]
        if not others and etree.QName(shape).localname == "sp":
            self.replace.append((-1, len(self.replace), shape, ""))
        else:
            self.replace.append((_LEVEL_RANK["p"], len(self.replace), p, ""))
            if len(body.findall(qn("a:p"))) == 1:
                self.needs_body_fix = True

    def mark_text(self, t: etree._Element) -> None:
        """Tags and escaped delimiters left in a run's text become marks."""
        text = t.text or ""
        if "{" not in text and "}" not in text:
            return
        pieces, last = [], 0
        pattern = re.compile("|".join([core.TAG.pattern] + [re.escape(e) for e in core.ESCAPES]),
                             re.S)
        for m in pattern.finditer(text):
            pieces.append(text[last:m.start()])
            found = m.group(0)
            if found in core.ESCAPES:
                pieces.append(self.marks.add("{{ %r }}" % core.ESCAPES[found]))
            else:
                tag = _read_tag(found)
                if not tag.level and tag.kind != "{#" and tag.word not in _CELL_WORDS:
                    pieces.append(self.marks.add(tag.jinja))
            last = m.end()
        pieces.append(text[last:])
        t.text = "".join(pieces)

    def apply(self) -> None:
        """Put each structural tag's Jinja in place of its element (rows before cells
        before paragraphs before runs; an element already gone takes its tags with it)."""
        self.mark_text_colours()
        by_element: dict[int, tuple[int, etree._Element, list[str]]] = {}
        for rank, order, el, jinja in sorted(self.replace, key=lambda x: (x[0], x[1])):
            entry = by_element.setdefault(id(el), (rank, el, []))
            entry[2].append(jinja)
        for rank, el, snippets in sorted(by_element.values(), key=lambda x: x[0]):
            if not _attached(el, self.root):
                continue
            _replace_with_text(el, "".join(self.marks.add(s) for s in snippets if s))


def _drawing_prefix(el: etree._Element) -> str:
    """The prefix DrawingML elements take where ``el`` sits ("" when it is the default)."""
    return next((k or "" for k, v in el.nsmap.items() if v == NS["a"]), "a")


def _lone_trimmed(p: etree._Element) -> tuple[bool, bool]:
    """Whether a paragraph holds only a plain ``{%- ... %}`` (merge with the previous
    paragraph) and/or ``{% ... -%}`` (merge the next one in)."""
    text = "".join(p.itertext(qn("a:t"))).strip()
    if not text.startswith("{%") or not text.endswith("%}") or core.TAG.fullmatch(text) is None:
        return False, False
    tag = _read_tag(text)
    if tag.level:
        return False, False
    return tag.trim_left, tag.trim_right


def _merge_paragraphs(body: etree._Element) -> None:
    """docxtpl's ``{%-`` and ``-%}``: a paragraph holding only such a tag joins the previous
    paragraph, and with ``-%}`` the next paragraph joins it too (runs kept in order)."""
    target, pull = None, False
    for p in body.findall(qn("a:p")):
        left, right = _lone_trimmed(p)
        if target is not None and (left or pull):
            end = target.find(qn("a:endParaRPr"))
            for run in [c for c in p if c.tag in (qn("a:r"), qn("a:br"), qn("a:fld"))]:
                if end is not None:
                    end.addprevious(run)
                else:
                    target.append(run)
            body.remove(p)
        else:
            target = p
        pull = right


def _gather(runs: list[etree._Element], spans: list[tuple[int, int]]) -> dict[int, etree._Element]:
    """Move each tag's text into the run it starts in (PowerPoint splits text into runs at
    will), with the curly quotes PowerPoint's autocorrect types straightened inside tags;
    return the run each tag now sits in, by its start offset."""
    texts = [r.find(qn("a:t")).text or "" for r in runs]
    owner_of: list[int] = []
    for i, t in enumerate(texts):
        owner_of += [i] * len(t)
    for s, e in spans:
        for k in range(s, e):
            owner_of[k] = owner_of[s]
    full = list("".join(texts))
    for s, e in spans:
        full[s:e] = "".join(full[s:e]).translate(_STRAIGHT)
    new: list[list[str]] = [[] for _ in runs]
    for k, ch in enumerate(full):
        new[owner_of[k]].append(ch)
    for run, chars, old in zip(runs, new, texts):
        t = run.find(qn("a:t"))
        t.text = "".join(chars)
        if not chars and old:
            run.getparent().remove(run)
    return {s: runs[owner_of[s]] for s, _ in spans}


def _attached(el: etree._Element, root: etree._Element) -> bool:
    node = el
    while node.getparent() is not None:
        node = node.getparent()
    return node is root


def _replace_with_text(el: etree._Element, text: str) -> None:
    """Put ``text`` where ``el`` was (in the previous sibling's tail or the parent's text)."""
    parent = el.getparent()
    text = text + (el.tail or "")
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(el)


# -- the deck ------------------------------------------------------------------------------
@dataclass
class _SlideSource:
    """One template slide: its part, notes part, whether either has tags, its loop tables."""

    number: int
    part: str
    notes: str | None
    slide_jinja: str | None
    notes_jinja: str | None
    loop_tables: list[tuple[str, int, int]]
    fix_slide: bool = False
    fix_notes: bool = False


def main_part(template: Template) -> str:
    return main_part_name(template, "ppt/presentation.xml")


class CompiledDeck:
    """A deck template compiled once; ``render`` fills a copy per context."""

    def __init__(self, engine: "PptxEngine", template: Template, name: str):
        self.engine, self.template, self.name = engine, template, name
        self.main = main_part(template)
        self.width, self.height = dml.slide_size(template, self.main)
        self.slides: list[_SlideSource] = []
        self.designs: dict[str, core.Compiled] = {}
        self.fix_designs: set[str] = set()
        self.compiled: core.Compiled | None = None
        self.styles: list[_RunStyle] = []   # the runs rich tags sat in (indexed by the code)
        self._compile()
        #: the parts that carry tags (none: a deck to fill in place, such as an official one)
        self.parts = tuple([s.part for s in self.slides if s.slide_jinja is not None]
                           + [s.notes for s in self.slides if s.notes_jinja is not None]
                           + list(self.designs))

    @property
    def names(self) -> frozenset[str]:
        """The context names the deck uses (found when asked: a render does not ask)."""
        names = set(self.compiled.names if self.compiled else ())
        for c in self.designs.values():
            names |= c.names
        return frozenset(n for n in names if not n.startswith("_m3_"))

    # -- compile ---------------------------------------------------------------------------
    def _compile(self) -> None:
        pkg = self.template.new()
        errors: list = []
        tags: list[tuple[Tag, Place]] = []
        chunks: list[str] = []
        for number, (_, part) in enumerate(dml.deck_slides(pkg, self.main), 1):
            chunks.append(self._read_slide(pkg, number, part, tags, errors))
        errors += core.check_tags(self.engine.env, tags)
        self._compile_designs(errors)
        if errors:
            raise TemplateProblems(errors)
        self.locate = self._locator(chunks)
        self.compiled = core.compile_source(self.engine.env, "".join(chunks), self.locate)

    def _read_slide(self, pkg: Package, number: int, part: str,
                    tags: list[tuple[Tag, Place]], errors: list) -> str:
        """Read one slide and its notes: their tags and errors are added to ``tags`` and
        ``errors`` in deck order; return the slide's chunk of the deck's Jinja source."""
        slide = _PartReader(self.engine, self.name, part, f"slide {number}",
                            copy.deepcopy(self.template.xml(part)), self.styles)
        slide_jinja = slide.read()
        notes = _notes_of(pkg, part)
        notes_reader, notes_jinja = None, None
        if notes is not None:
            notes_reader = _PartReader(self.engine, self.name, notes, f"notes of slide {number}",
                                       copy.deepcopy(self.template.xml(notes)), self.styles)
            notes_jinja = notes_reader.read()
            errors += notes_reader.found.errors
            errors += [at.diagnostic("error", "{%slide %} tags belong on slides, not in notes")
                       for _, at in notes_reader.found.slide_open + notes_reader.found.slide_close]
        found = slide.found
        errors += found.errors
        tags += found.slide_open + found.tags
        tags += notes_reader.found.tags if notes_reader else []
        tags += found.slide_close
        self.slides.append(_SlideSource(number, part, notes, slide_jinja, notes_jinja,
                                        found.loop_tables, slide.needs_body_fix,
                                        bool(notes_reader and notes_reader.needs_body_fix)))
        notes_chunk = f"\ufdd6N{number}\ufdd7{notes_jinja}" if notes_jinja else ""
        return ("".join(t.jinja for t, _ in found.slide_open)
                + f"\ufdd6S{number}\ufdd7{slide_jinja or ''}{notes_chunk}"
                + "".join(t.jinja for t, _ in found.slide_close)
                + "\n")  # a slide a line: an error's line number names its slide

    def _locator(self, chunks: list[str]) -> core.LineLocator:
        """A source line's slide (each chunk is a slide's source)."""
        lines, line = [], 1
        for n, chunk in enumerate(chunks):
            lines.append((line, Place(self.name, self.slides[n].part if n < len(self.slides)
                                      else self.main, f"slide {n + 1}")))
            line += chunk.count("\n")
        first = Place(self.name, self.slides[0].part if self.slides else self.main, "slide 1")
        return core.LineLocator(tuple(lines), lines[0][1] if lines else first)

    def _compile_designs(self, errors: list) -> None:
        """Slide layouts and masters that carry tags: each its own small template; so are
        the document properties (the slide titles app.xml lists, core.xml's title)."""
        types = self.template.xml("[Content_Types].xml")
        for el in types.findall(qn("ct:Override")):
            kind = el.get("ContentType", "")
            part = el.get("PartName", "").lstrip("/")
            if kind.endswith(_PROPERTY_TYPES) and part in self.template.raw:
                self._compile_properties(part, errors)
                continue
            if not kind.endswith(("slideLayout+xml", "slideMaster+xml")):
                continue
            if part not in self.template.raw:
                continue
            label = "slide layout" if "Layout" in kind else "slide master"
            reader = _PartReader(self.engine, self.name, part,
                                 f"{label} {posixpath.basename(part)}",
                                 copy.deepcopy(self.template.xml(part)), self.styles)
            jinja = reader.read()
            if jinja is None:
                continue
            found = reader.found
            errors += found.errors
            errors += [p.diagnostic("error", "{%slide %} tags belong on slides, not in "
                                    "layouts or masters")
                       for _, p in found.slide_open + found.slide_close]
            problems = core.check_tags(self.engine.env, found.tags)
            errors += problems
            if not problems and not found.errors:
                try:
                    self.designs[part] = core.compile_source(
                        self.engine.env, jinja, lambda _n, p=part, w=reader.where:
                        Place(self.name, p, w))
                except TemplateProblems as exc:
                    errors += exc.diagnostics
            if reader.needs_body_fix:
                self.fix_designs.add(part)

    def _compile_properties(self, part: str, errors: list) -> None:
        """A document-properties part whose texts hold tags (``{{ }}`` only: no blocks)."""
        root = copy.deepcopy(self.template.xml(part))
        marks, tags = _Marks(), []
        for node in root.iter():
            text = node.text if isinstance(node.tag, str) else None
            if not text or "{" not in text or not core.TAG.search(text):
                continue
            place = Place(self.name, part, etree.QName(node).localname)
            pieces, last = [], 0
            for start, end, tag in core.find_tags(text):
                pieces.append(text[last:start])
                if tag.kind != "{{" or tag.level:
                    errors.append(place.diagnostic(
                        "error", f"{tag.text.strip()}: document properties take {{{{ }}}} "
                                 "fields only"))
                else:
                    tags.append((tag, place))
                    pieces.append(marks.add(tag.jinja))
                last = end
            node.text = "".join(pieces + [text[last:]])
        if not tags:
            return
        problems = core.check_tags(self.engine.env, tags)
        errors += problems
        if not problems:
            source = marks.source(etree.tostring(root, encoding="unicode"))
            try:
                self.designs[part] = core.compile_source(
                    self.engine.env, source, lambda _n: Place(self.name, part, "properties"))
            except TemplateProblems as exc:
                errors += exc.diagnostics

    # -- render ----------------------------------------------------------------------------
    def render(self, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
        record = core.RenderRecord()
        state = _RenderState(styles=self.styles)
        token = _state.set(state)
        try:
            text = self._render_deck(context, record)
            designs = {part: core.render_recorded(c, context, record,
                                                  Place(self.name, part, "layout"))
                       for part, c in self.designs.items()}
        finally:
            _state.reset(token)
        writer = _DeckWriter(self, state)
        for part, xml in designs.items():
            writer.design(part, xml)
        for source, slide_xml, notes_xml in self._cut(text):
            writer.slide(source, slide_xml, notes_xml)
        data = writer.finish()
        return data, record.warnings() + state.warnings + writer.warnings

    def _render_deck(self, context: Mapping[str, Any], record: core.RenderRecord) -> str:
        """The deck's text; an error while rendering is located at its slide."""
        try:
            return core.render_recorded(self.compiled, context, record,
                                        Place(self.name, self.main, "slides"))
        except TemplateProblems as exc:
            line = _template_line(exc.__context__)
            if line is None:
                raise
            place = self.locate(line)
            raise TemplateProblems([place.diagnostic(d.severity, d.message)
                                    for d in exc.diagnostics]) from None

    def _cut(self, text: str) -> Iterator[tuple[_SlideSource, str, str | None]]:
        """The rendered deck text cut back into slides (and their notes), in show order."""
        marks = list(_PART_RE.finditer(text))
        for i, m in enumerate(marks):
            if m.group(1) != "S":
                continue
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            notes = None
            if i + 1 < len(marks) and marks[i + 1].group(1) == "N" and \
                    marks[i + 1].group(2) == m.group(2):
                nxt = marks[i + 2].start() if i + 2 < len(marks) else len(text)
                notes = _strip_outside(text[marks[i + 1].end():nxt])
            yield (self.slides[int(m.group(2)) - 1], _strip_outside(text[m.end():end]), notes)


def _template_line(exc: BaseException | None) -> int | None:
    """The line of the compiled template an exception was raised at (Jinja's frames)."""
    tb, line = exc.__traceback__ if exc is not None else None, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _strip_outside(xml: str) -> str:
    """A part's rendered text without what a slide-level statement left after it."""
    return xml[:xml.rfind(">") + 1]


def _notes_of(pkg: Package, slide: str) -> str | None:
    name = pkg.rels_name(slide)
    if name not in pkg:
        return None
    for rel in pkg.template.xml(name):
        if rel.get("Type") == RT["notesSlide"]:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(slide),
                                                       rel.get("Target", "")))
            return target if target in pkg else None
    return None


# -- writing the deck ----------------------------------------------------------------------
class _DeckWriter:
    """Writes output slides as slide1.xml ... and notes as notesSlide1.xml ... in show order."""

    def __init__(self, deck: CompiledDeck, state: _RenderState):
        self.deck, self.state = deck, state
        self.pkg = deck.template.new()
        self.warnings: list[str] = []
        self.parts: list[str] = []
        self.made_from: dict[str, str] = {}
        self.notes_count = 0
        self.slide_folder = posixpath.dirname(deck.slides[0].part) if deck.slides \
            else "ppt/slides"
        self.notes_folder = "ppt/notesSlides"
        for source in deck.slides:
            self.pkg.remove(source.part)
            self.pkg.remove(self.pkg.rels_name(source.part))
            if source.notes:
                self.notes_folder = posixpath.dirname(source.notes)
                self.pkg.remove(source.notes)
                self.pkg.remove(self.pkg.rels_name(source.notes))

    def design(self, part: str, xml: str) -> None:
        data = _links(self, part, dml.drop_empty_runs(xml))
        if part in self.deck.fix_designs:
            data = _fix_empty_bodies(data)
        self.pkg.put(part, _xml_bytes(data))

    def slide(self, source: _SlideSource, slide_xml: str, notes_xml: str | None) -> None:
        pages = [slide_xml]
        if source.slide_jinja is not None:
            slide_xml = dml.drop_empty_runs(slide_xml)
            if source.fix_slide:
                slide_xml = _fix_empty_bodies(slide_xml)
            pages = self.continued(source, slide_xml) if source.loop_tables else [slide_xml]
        for n, page in enumerate(pages):
            self.write_slide(source, page, notes_xml if n == 0 else None, keep_notes=n == 0)

    def write_slide(self, source: _SlideSource, xml: str | None, notes_xml: str | None,
                    keep_notes: bool) -> None:
        part = f"{self.slide_folder}/slide{len(self.parts) + 1}.xml"
        repeated = source.part in self.made_from.values()
        self.parts.append(part)
        self.made_from[part] = source.part
        rels_name = self.pkg.rels_name(source.part)  # the template's: output names reuse it
        rels = copy.deepcopy(self.deck.template.xml(rels_name)) \
            if rels_name in self.deck.template.raw else None
        if repeated and rels is not None:
            dml.own_charts(self.pkg, source.part, rels)
        notes_rel = None
        if rels is not None:
            for rel in list(rels):
                if rel.get("Type") == RT["notesSlide"]:
                    notes_rel = rel
                    if not (keep_notes and source.notes):
                        rels.remove(rel)
        if source.slide_jinja is None and xml == "":
            self.pkg.copy_raw(source.part, part, dml.SLIDE_CT)
        else:
            self.pkg.put(part, _xml_bytes(_links_in(self, rels, xml)), dml.SLIDE_CT)
        if keep_notes and source.notes and notes_rel is not None:
            notes_rel.set("Target", posixpath.relpath(self.write_notes(source, part, notes_xml),
                                                      posixpath.dirname(part)))
        if rels is not None:
            self.pkg.put(self.pkg.rels_name(part), rels)
        self.pkg.seal(part)

    def write_notes(self, source: _SlideSource, slide_part: str, xml: str | None) -> str:
        self.notes_count += 1
        part = f"{self.notes_folder}/notesSlide{self.notes_count}.xml"
        rels = copy.deepcopy(self.deck.template.xml(self.pkg.rels_name(source.notes))) \
            if self.pkg.rels_name(source.notes) in self.deck.template.raw else None
        moved = False
        if rels is not None:
            for rel in rels:
                if rel.get("Type") == RT["slide"]:
                    target = posixpath.relpath(slide_part, posixpath.dirname(part))
                    moved |= rel.get("Target") != target
                    rel.set("Target", target)
        if xml is None:
            self.pkg.copy_raw(source.notes, part, dml.NOTES_CT)
        else:
            if source.fix_notes:
                xml = _fix_empty_bodies(xml)
            self.pkg.put(part, _xml_bytes(_links_in(self, rels, xml)), dml.NOTES_CT)
        source_rels = self.pkg.rels_name(source.notes)
        if rels is not None and not moved and self.pkg.rels_name(part) == source_rels:
            self.pkg.copy_raw(source_rels, source_rels)  # unchanged: the template's bytes
        elif rels is not None:
            self.pkg.put(self.pkg.rels_name(part), rels)
        self.pkg.seal(part)
        return part

    # -- tables that continue ----------------------------------------------------------------
    def continued(self, source: _SlideSource, xml: str) -> list[str]:
        """The slide, and copies marked "(continued)" for the rows of its looped tables that
        do not fit under them. Every table shows its next rows on each copy; a table whose
        rows are all shown is left off the copies that follow."""
        root = parse_xml(xml.encode("utf-8"))
        tables = [t for t in (self.measure(root, key, head, tail, source)
                              for key, head, tail in source.loop_tables) if t is not None]
        if len(tables) > 1 and max(len(t.pages) for t in tables) > 1 and \
                _stacked(root, tables):
            self.share(root, tables)
        count = max((len(t.pages) for t in tables), default=1)
        if count == 1:
            return [etree.tostring(root, encoding="unicode")]
        out = []
        for n in range(count):
            page = copy.deepcopy(root) if n < count - 1 else root
            for t in tables:
                t.show(page, n)
            if n:
                dml.mark_continued(page)
            out.append(etree.tostring(page, encoding="unicode"))
        return out

    def measure(self, root: etree._Element, key: str, head: int, tail: int,
                source: _SlideSource) -> "_LoopTable | None":
        """A looped table's rows fitted to their text, and the pages they take."""
        frame = _frame(root, key)
        tbl = frame.find(".//" + qn("a:tbl")) if frame is not None else None
        if tbl is None:
            return None
        widths = [int(g.get("w", "0")) for g in tbl.find(qn("a:tblGrid"))]
        rows = tbl.findall(qn("a:tr"))
        heights = [dml.fit_row_height(tr, widths, int(tr.get("h", "0")), METRICS)
                   for tr in rows]
        top = _below_growing_boxes(root, frame)
        limit = dml.lowest_edge(root, frame, self.deck.height, GAP, BOTTOM_MARGIN)
        template_height = dml.shape_box(frame)[3] if dml.shape_box(frame) else 0
        _set_frame_height(frame, sum(heights))
        body = list(range(head, len(rows) - tail))
        table = _LoopTable(key, heights, head, tail, [body], top, template_height)
        if top + sum(heights) <= limit or not body:
            return table
        room = limit - top - sum(heights[:head])
        tail_h = sum(heights[len(rows) - tail:])
        table.pages = [[body[i] for i in page] for page in dml.paginate(
            [heights[i] for i in body[:-1]] + [heights[body[-1]] + tail_h], room)]
        if any(heights[i] > room for i in body):
            self.warn(f"a row of the table {dml.shape_name(frame)!r} on slide {source.number} "
                      "is taller than the room the slide has for it")
        return table

    def share(self, root: etree._Element, tables: "list[_LoopTable]") -> None:
        """Tables one above the other share a slide's copies: a copy shows the next rows of
        every table that has rows left, and a table whose rows are all shown leaves its
        place to the table above it, which grows down into it."""
        frames = {t.key: _frame(root, t.key) for t in tables}
        grown = {t.key: frames[t.key].find(qn("p:xfrm") + "/" + qn("a:ext")).get("cy")
                 for t in tables}
        for t in tables:  # the limits are those of the template's frames
            _set_frame_height(frames[t.key], t.template_height)
        pos = {t.key: 0 for t in tables}
        pages: dict[str, list[list[int]]] = {t.key: [] for t in tables}
        boxes = {t.key: dml.shape_box(frames[t.key]) for t in tables}
        tops: dict[str, list[int]] = {t.key: [] for t in tables}
        while not any(pages.values()) or any(pos[t.key] < len(t.body) for t in tables):
            first = not any(pages.values())
            shown = [t for t in tables if first or pos[t.key] < len(t.body)]
            limits = self.limits(root, frames, shown, tables)
            for t in shown:
                top = t.top if first else _moved_up(t, shown, tables, boxes)
                room = limits[t.key] - top - sum(t.heights[:t.head])
                end = t.take(pos[t.key], room) if t.body else 0
                pages[t.key].append(t.body[pos[t.key]:end])
                tops[t.key].append(top)
                pos[t.key] = end
        for t in tables:
            t.pages, t.tops = pages[t.key], tops[t.key]
            frames[t.key].find(qn("p:xfrm") + "/" + qn("a:ext")).set("cy", grown[t.key])

    def limits(self, root: etree._Element, frames: dict, shown: "list[_LoopTable]",
               tables: "list[_LoopTable]") -> dict[str, int]:
        """How far down each shown table may grow when the others are off the slide."""
        gone = [frames[t.key] for t in tables if t not in shown]
        return {t.key: dml.lowest_edge(root, frames[t.key], self.deck.height, GAP,
                                       BOTTOM_MARGIN, ignore=gone) for t in shown}

    def relink_slides(self) -> None:
        """A link from one slide to another (a "go to slide" action) points at the first slide
        made from its target; at its own slide when the target was left out."""
        first: dict[str, str] = {}
        for part in self.parts:
            first.setdefault(self.made_from[part], part)
        for part in self.parts:
            rels_name = self.pkg.rels_name(part)
            if rels_name not in self.pkg.changed():
                continue
            for rel in self.pkg.xml(rels_name):
                if rel.get("Type") != RT["slide"] or rel.get("TargetMode") == "External":
                    continue
                target = posixpath.normpath(posixpath.join(
                    posixpath.dirname(self.made_from[part]), rel.get("Target", "")))
                new = first.get(target, part)
                if new == part and target not in first:
                    self.warn(f"a link on slide {self.parts.index(part) + 1} went to a slide "
                              "the deck no longer has; it now goes to its own slide")
                rel.set("Target", posixpath.relpath(new, posixpath.dirname(part)))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def finish(self) -> bytes:
        self.relink_slides()
        dml.set_slide_list(self.pkg, self.deck.main, self.parts, self.made_from)
        dml.set_app_counts(self.pkg, len(self.parts), self.notes_count)
        return self.pkg.to_bytes()


def _below_growing_boxes(root: etree._Element, frame: etree._Element) -> int:
    """Grow the text boxes above a table that are set to fit their text, move the table
    down by as much, and return its top."""
    box = dml.shape_box(frame)
    if box is None:
        return 0
    x, y, cx, _ = box
    top = y
    tree = root.find(qn("p:cSld") + "/" + qn("p:spTree"))
    for shape in (tree.iterchildren(qn("p:sp")) if tree is not None else ()):
        other = dml.shape_box(shape)  # (a grouped shape's box is in its group's frame)
        if other is None or other[1] + other[3] > y or other[0] >= x + cx or \
                other[0] + other[2] <= x:
            continue  # not above the table, or beside it
        grew = dml.grow_to_text(shape, METRICS)
        top = max(top, y + grew)
    if top != y:
        frame.find(qn("p:xfrm") + "/" + qn("a:off")).set("y", str(top))
    return top


def _xml_bytes(xml: str) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml.encode("utf-8")


@dataclass
class _LoopTable:
    """A table with a row loop on a rendered slide: its rows' heights, how many rows head
    and close it, and the body rows each page shows."""

    key: str  # the frame's shape id
    heights: list[int]
    head: int
    tail: int
    pages: list[list[int]]
    top: int = 0              # where the table starts on the slide
    template_height: int = 0  # the frame's height in the template (before its rows grew)
    tops: list[int] = field(default_factory=list)  # per page, when tables share the slide

    @property
    def body(self) -> list[int]:
        return list(range(self.head, len(self.heights) - self.tail))

    def take(self, first: int, room: int) -> int:
        """End (in ``body``) of the rows from ``first`` that one slide shows in ``room``
        below the header: every row left with the closing rows when they fit, else as many
        as fit (at least one), leaving room for the closing rows under the last."""
        body, heights = self.body, self.heights
        tail = sum(heights[len(heights) - self.tail:])
        left = [heights[i] for i in body[first:]]
        if sum(left) + tail <= room:
            return len(body)
        end, used = first, 0
        while end < len(body) and (end == first or used + heights[body[end]] <= room):
            used += heights[body[end]]
            end += 1
        if end == len(body):   # the last rows fit, but not with the closing rows below them
            return max(first + 1, end - 1)
        return end

    def show(self, page: etree._Element, n: int) -> None:
        """Keep the rows of page ``n`` in the table on ``page`` (drop it past its pages)."""
        frame = _frame(page, self.key)
        if n >= len(self.pages):   # removed by position, no proxy of it alive (see below)
            parent = frame.getparent()
            at = parent.index(frame)
            del frame
            del parent[at]
            return
        rows = len(self.heights)
        shown = set(range(self.head)) | set(self.pages[n])
        if n == len(self.pages) - 1:
            shown |= set(range(rows - self.tail, rows))
        tbl = frame.find(".//" + qn("a:tbl"))
        # removed by position, with no Python proxy alive for them (lxml moves a removed
        # element it holds a proxy for into a document of its own first: a walk of each row)
        rows_at = [k for k, child in enumerate(tbl) if child.tag == _A_TR]
        for k in reversed([k for i, k in enumerate(rows_at) if i not in shown]):
            del tbl[k]
        _set_frame_height(frame, sum(self.heights[i] for i in shown))
        off = frame.find(qn("p:xfrm") + "/" + qn("a:off"))
        if n < len(self.tops) and off is not None:
            off.set("y", str(self.tops[n]))


_A_TR = qn("a:tr")


def _moved_up(t: "_LoopTable", shown: "list[_LoopTable]", tables: "list[_LoopTable]",
              boxes: dict) -> int:
    """Where ``t`` starts on a copy: in the place of the tables above it (sharing its
    columns) that are off this copy, when no table shown on it is above ``t``."""
    me = boxes[t.key]
    above = [u for u in tables if u is not t and boxes[u.key] and me and
             boxes[u.key][1] < me[1] and boxes[u.key][0] < me[0] + me[2] and
             me[0] < boxes[u.key][0] + boxes[u.key][2]]
    if not above or any(u in shown for u in above):
        return t.top
    return min(t.top, *(u.top for u in above))


def _stacked(root: etree._Element, tables: "list[_LoopTable]") -> bool:
    """Whether one looped table sits below another, sharing columns of the slide."""
    boxes = [dml.shape_box(_frame(root, t.key)) for t in tables]
    return any(a and b and a[1] < b[1] and a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
               for a in boxes for b in boxes if a is not b)


def _frame(root: etree._Element, key: str) -> etree._Element | None:
    """The graphic frame with shape id ``key`` (found by its cNvPr: one walk, no search
    inside every frame)."""
    for el in root.iter(_P_CNVPR):
        if el.get("id") == key:
            frame = el.getparent().getparent()
            if frame is not None and frame.tag == _P_FRAME:
                return frame
    return None


_P_CNVPR, _P_FRAME = qn("p:cNvPr"), qn("p:graphicFrame")


def _set_frame_height(frame: etree._Element, height: int) -> None:
    ext = frame.find(qn("p:xfrm") + "/" + qn("a:ext"))
    if ext is not None:
        ext.set("cy", str(height))


def _links_in(writer: _DeckWriter, rels: etree._Element | None, xml: str) -> str:
    """Give each rich run's hyperlink a relationship of the part it landed in."""
    if "\ufdd2" not in xml:
        return xml
    if rels is None:
        rels = etree.Element(qn("rel:Relationships"), nsmap={None: NS["rel"]})
    urls = writer.state.urls

    def rid(m: re.Match) -> str:
        return _relate(rels, urls[int(m.group(1))])
    return _LINK_RE.sub(rid, xml)


def _links(writer: _DeckWriter, part: str, xml: str) -> str:
    if "\ufdd2" not in xml:
        return xml
    rels = writer.pkg.rels(part)
    return _LINK_RE.sub(lambda m: _relate(rels, writer.state.urls[int(m.group(1))]), xml)


def _relate(rels: etree._Element, url: str) -> str:
    """The id of an external hyperlink relationship to ``url`` (added if new)."""
    ids = set()
    for el in rels:
        ids.add(el.get("Id"))
        if el.get("Type") == RT["hyperlink"] and el.get("Target") == url and \
                el.get("TargetMode") == "External":
            return el.get("Id")
    n = len(ids) + 1
    while f"rId{n}" in ids:
        n += 1
    etree.SubElement(rels, qn("rel:Relationship"), Id=f"rId{n}", Type=RT["hyperlink"],
                     Target=url, TargetMode="External")
    return f"rId{n}"


def _fix_empty_bodies(xml: str) -> str:
    """A text body left without paragraphs (a loop over nothing) gets an empty one."""
    root = parse_xml(xml.encode("utf-8"))
    changed = False
    for body in list(root.iter(qn("p:txBody"), qn("a:txBody"))):
        if body.find(qn("a:p")) is None:
            etree.SubElement(body, qn("a:p"))
            changed = True
    return etree.tostring(root, encoding="unicode") if changed else xml


# -- the engine ----------------------------------------------------------------------------
class PptxEngine:
    """Compiles PowerPoint templates (one Jinja environment per engine)."""

    format = "pptx"
    keeps_plans = True   # a compiled deck can be kept between runs (plancache)

    def __init__(self) -> None:
        self.env = core.make_environment()
        self.env.finalize = _finalize
        # a rich tag's run style is the rendering deck's (its code holds the index)
        self.env.globals["_m3_runs"] = lambda i, v: markupsafe.Markup(
            _rich_runs(_state.get().styles[i], v))
        self.env.globals["_m3_fill"] = _cell_fill
        self.env.globals["_m3_paragraphs"] = lambda i, v: markupsafe.Markup(
            _rich_paragraphs(_state.get().styles[i], v))

    def compile(self, template: Template, name: str) -> CompiledDeck:
        return CompiledDeck(self, template, name)


ENGINE = PptxEngine()  # the one engine of the format (``engine.engine_for("pptx")``)


def render_pptx(template_path: str | Path, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """Fill a PowerPoint template file with ``context``: (the deck's bytes, warnings).
    Raises ``core.TemplateProblems`` with every error of the template."""
    path = Path(template_path)
    return ENGINE.compile(Template(path), path.name).render(context)


__all__ = ["CompiledDeck", "ENGINE", "PptxEngine", "render_pptx"]
