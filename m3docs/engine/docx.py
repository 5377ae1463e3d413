"""The Word engine: docxtpl's tags in WordprocessingML, compiled once, rendered per document.

Compile (once per template) reads every part that can hold tags (the main document, headers,
footers, footnotes, endnotes, and the core, app and custom document properties), mends tags
that Word split across runs (the whole tag moves into its first run, keeping that run's
formatting), checks every tag at its place, and turns each part's XML into one Jinja template:
a tag in a text becomes a processing instruction in the tree, a structural tag (``{%p %}``,
``{%tr %}``, ``{%tc %}``, ``{%r %}``, ``{{p }}``, ``{{r }}``) replaces its whole element with one,
and the serialized XML with each instruction swapped for its Jinja code is compiled.

Render (per document) is a Jinja render per tagged part, plus hyperlink relationships for the
links rich text wrote. Parts without tags are copied untouched.

Elements are built with python-docx's oxml classes (``CT_TcPr`` for merges and backgrounds,
``CT_RPr`` for the bold, italic and link forms of a run's properties), at compile time. At
render time runs are written as text from those prebuilt pieces: building each run as a
python-docx element and serializing it measured 152 us a run against 0.3 us for the string
(a 30-page document renders in about 3 ms in all, so elements per run would dominate it).

Values follow docxtpl's rules for text: in ``{{ value }}`` a ``\\n`` is a line break, ``\\t`` a
tab, ``\\a`` a new paragraph and ``\\f`` a page break (a paragraph of its own).
"""
from __future__ import annotations

import contextvars
import copy
import posixpath
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from docx.enum.text import WD_UNDERLINE
from docx.oxml.parser import parse_xml as docx_parse_xml
from docx.shared import RGBColor
from jinja2 import Undefined
from markupsafe import Markup, escape as _escape
from lxml import etree

from ..errors import Diagnostic
from ..ooxml.package import Package, Template
from ..ooxml.xml import NS, RT, clean_text, qn
from ..playbook.richtext import SAFE_SCHEMES, RichText, Run
from . import core
from .core import Place, Tag, TemplateProblems


W = NS["w"]
R_NS = NS["r"]
_T, _R, _P, _TC, _TR, _TBL = (qn(f"w:{x}") for x in ("t", "r", "p", "tc", "tr", "tbl"))
_PROOF = qn("w:proofErr")
_LINK = qn("w:hyperlink")
_PI = "m3j"
_GRID = "m3grid"
_PI_RE = re.compile(r"<\?m3j (\d+)\?>")
_RAW_OPEN = re.compile(r"\{(?=[{%#])")
_UNCLOSED = re.compile(r"\{\{|\{%|\{#")
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CELL_WORDS = ("vm", "hm", "cellbg", "colspan")
_LEVEL_ELEMENT = {"p": _P, "tr": _TR, "tc": _TC, "r": _R}
_LEVEL_NAME = {"p": "paragraph", "tr": "table row", "tc": "table cell", "r": "run"}
# w:tcPr children after w:shd, in schema order (CT_TcPr): where a background goes.
_AFTER_SHD = tuple(f"w:{x}" for x in ("noWrap", "tcMar", "textDirection", "tcFitText",
                                          "vAlign", "hideMark", "headers", "cellIns", "cellDel",
                                          "cellMerge", "tcPrChange"))
_WORD_TYPES = ("document.main+xml", "document.macroEnabled.main+xml", "template.main+xml",
               "template.macroEnabledTemplate.main+xml", "wordprocessingml.header+xml",
               "wordprocessingml.footer+xml", "wordprocessingml.footnotes+xml",
               "wordprocessingml.endnotes+xml")
_PROPS_TYPES = ("core-properties+xml", "extended-properties+xml", "custom-properties+xml")
_HYPERLINK_COLOR = "0563C1"


# -- per-render state -----------------------------------------------------------------------
@dataclass
class _Render:
    """What one part's render collects: its hyperlinks (url -> rId) and cleaned text."""

    part: "_Part"
    links: dict[str, str] = field(default_factory=dict)
    cleaned: bool = False
    unsafe_links: list[str] = field(default_factory=list)


_STATE: contextvars.ContextVar[_Render] = contextvars.ContextVar("m3docs_docx_render")


# Text with none of docxtpl's control characters (\n \t \a \f \r) nor any XML cannot hold.
_PLAIN_TEXT = re.compile("[^\n\t\a\f\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]*")


# -- compiled pieces ------------------------------------------------------------------------
@dataclass(frozen=True)
class _TextSite:
    """Where a ``{{ }}`` value lands: its run and paragraph properties (for ``\\a``/``\\f``)."""

    reopen_run: str      # '<w:r><w:rPr>..</w:rPr>' of the run holding the tag
    reopen_para: str     # '<w:p><w:pPr>..</w:pPr>' of its paragraph


@dataclass(frozen=True)
class _RunSite:
    """Where rich runs land: the template run's properties, in each bold/italic/link form."""

    rpr: dict[tuple[bool, bool, bool], str]
    para: str            # '<w:p><w:pPr>..</w:pPr>' of the paragraph ({{p }})
    r_prefix: str        # the part's prefix for the relationships namespace ('' if none)
    keep_one: bool = False  # the paragraph is its cell's only one: an empty value keeps it
    in_link: bool = False   # the run is inside a hyperlink already (links cannot nest)


@dataclass
class _Part:
    """One tagged part, compiled."""

    name: str
    compiled: core.Compiled
    places: list[Place]
    texts: list[_TextSite] = field(default_factory=list)
    runs: list[_RunSite] = field(default_factory=list)
    rels_name: str = ""
    rels_bytes: bytes | None = None
    next_rid: int = 1
    regrid: bool = False  # a column loop: table grids are rebuilt after rendering


# -- filters (registered once on the engine's environment) ---------------------------------
def _text_xml(text: str) -> str:
    return str(_escape(text))


def _f_text(value: Any, k: int) -> Markup:
    """A plain value inside a ``w:t``: escaped, with docxtpl's control characters."""
    state = _STATE.get()
    text = str(value)
    if _PLAIN_TEXT.fullmatch(text):   # no control character to turn into XML (the usual)
        return _escape(text)          # (a Markup already: wrapping it again cost a copy)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    site = state.part.texts[k]
    out: list[str] = []
    for i, para in enumerate(text.split("\a")):
        if i:
            out.append("</w:t></w:r></w:p>" + site.reopen_para + site.reopen_run
                       + '<w:t xml:space="preserve">')
        for j, page in enumerate(para.split("\f")):
            if j:
                out.append("</w:t></w:r></w:p>" + site.reopen_para
                           + '<w:r><w:br w:type="page"/></w:r></w:p>' + site.reopen_para
                           + site.reopen_run + '<w:t xml:space="preserve">')
            out.append(_line_xml(page, site.reopen_run, state))
    return Markup("".join(out))


def _line_xml(text: str, reopen_run: str, state: _Render) -> str:
    """Text with ``\\n`` as line breaks and ``\\t`` as tabs (each tab in a run of its own)."""
    text, cut = clean_text(text)
    state.cleaned |= cut
    pieces = []
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append('</w:t><w:br/><w:t xml:space="preserve">')
        for j, cell in enumerate(line.split("\t")):
            if j:
                pieces.append('</w:t></w:r>' + reopen_run + '<w:tab/></w:r>' + reopen_run
                              + '<w:t xml:space="preserve">')
            pieces.append(_text_xml(cell))
    return "".join(pieces)


def _f_attr(value: Any) -> Markup:
    """A value inside an attribute (a cell's fill colour, a span)."""
    text, cut = clean_text(str(value))
    if cut:
        _STATE.get().cleaned = True
    return _escape(text)


def _runs_of(value: Any) -> list[tuple[str, bool, bool, str | None]]:
    """(text, bold, italic, url) for each run of a rich value; a plain value is one run."""
    if isinstance(value, Undefined):
        return [(str(value), False, False, None)]
    runs = getattr(value, "runs", None)
    if runs is None or isinstance(value, str):
        return [(str(value), False, False, None)]
    return [(str(getattr(r, "text", "")), bool(getattr(r, "bold", False)),
             bool(getattr(r, "italic", False)), str(getattr(r, "url", None) or "") or None)
            for r in runs]


def _rich_runs(value: Any, site: _RunSite, state: _Render) -> str:
    """Runs (and hyperlinks) for a rich value, in the template run's formatting."""
    out: list[str] = []
    for text, bold, italic, url in _runs_of(value):
        if url is not None and not _safe_url(url):
            state.unsafe_links.append(url)
            url = None
        if site.in_link:
            url = None
        rpr = site.rpr[(bold, italic, url is not None)]
        body = _run_body(text, rpr, state)
        if url is None:
            out.append(body)
            continue
        rid = state.links.get(url)
        if rid is None:
            rid = state.links[url] = f"rId{state.part.next_rid + len(state.links)}"
        attr = f'{site.r_prefix}:id' if site.r_prefix else "r:id"
        xmlns = "" if site.r_prefix else f' xmlns:r="{R_NS}"'
        out.append(f'<w:hyperlink{xmlns} {attr}="{rid}" w:history="1">{body}</w:hyperlink>')
    return "".join(out)


_BREAKS = re.compile(r"([\n\t\a\f])")


def _run_body(text: str, rpr: str, state: _Render) -> str:
    """One run's XML: ``\n`` (and ``\a``, which cannot open a paragraph inside a run) a line
    break, ``\t`` a tab, ``\f`` a page break."""
    parts = [f"<w:r>{rpr}"]
    for piece in _BREAKS.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        if piece in ("\n", "\a"):
            parts.append("<w:br/>")
        elif piece == "\t":
            parts.append("<w:tab/>")
        elif piece == "\f":
            parts.append('<w:br w:type="page"/>')
        elif piece:
            piece, cut = clean_text(piece)
            state.cleaned |= cut
            parts.append(f'<w:t xml:space="preserve">{_text_xml(piece)}</w:t>')
    parts.append("</w:r>")
    return "".join(parts)


def _safe_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in SAFE_SCHEMES


def _f_runs(value: Any, k: int) -> Markup:
    """``{{r value }}``: the run is closed, rich runs written, and the run reopened."""
    state = _STATE.get()
    site = state.part.runs[k]
    return Markup(_rich_runs(value, site, state))


def _f_paragraph(value: Any, k: int) -> Markup:
    """``{{p value }}``: paragraphs (one per ``\\a``) in the template paragraph's style."""
    state = _STATE.get()
    site = state.part.runs[k]
    texts = value.split("\a") if isinstance(value, str) else [value]
    texts = [t for t in texts if any(text for text, *_rest in _runs_of(t))]
    if not texts and site.keep_one:  # a table cell needs a paragraph
        return Markup(site.para + "</w:p>")
    return Markup("".join(site.para + _rich_runs(t, site, state) + "</w:p>" for t in texts))


def _f_link(url: Any, text: Any = None) -> RichText:
    """``{{r kt.url|link('View in the M3 Playbook') }}``: a hyperlink to ``url`` reading
    ``text`` (the url itself when no text is given); plain text when ``url`` is empty."""
    target = "" if isinstance(url, Undefined) or url is None else str(url)
    label = target if text is None or isinstance(text, Undefined) else str(text)
    return RichText((Run(label, url=target or None),)) if label else RichText()


FILTERS: dict[str, Callable[..., Any]] = {"m3t": _f_text, "m3a": _f_attr, "m3r": _f_runs,
                                          "m3p": _f_paragraph, "link": _f_link}
ENV = core.make_environment(FILTERS)


# -- compile: reading a Word part ------------------------------------------------------------
@dataclass
class _Found:
    """One tag in a part, with its text element and place."""

    tag: Tag
    t: etree._Element
    place: Place


class _PartReader:
    """Finds, mends and places the tags of one Word part (compile time only)."""

    def __init__(self, file: str, part: str, root: etree._Element):
        self.file, self.part, self.root = file, part, root
        self.where: dict[etree._Element, str] = {}
        self._number()

    def _number(self) -> None:
        """Places: 'paragraph N' outside tables, 'table T, row R, cell C' inside them."""
        cell_where: dict[etree._Element, str] = {}
        for t, tbl in enumerate(self.root.iter(_TBL), 1):
            rows = [r for r in tbl.iter(_TR) if next(r.iterancestors(_TBL)) is tbl]
            for r, tr in enumerate(rows, 1):
                for c, tc in enumerate((c for c in tr.iter(_TC) if c.getparent() is tr), 1):
                    cell_where[tc] = f"table {t}, row {r}, cell {c}"
        n = 0
        for p in self.root.iter(_P):
            tc = next(p.iterancestors(_TC), None)
            if tc is None:
                n += 1
                self.where[p] = f"paragraph {n}"
            else:
                self.where[p] = cell_where.get(tc, "a table cell")

    def place(self, p: etree._Element) -> Place:
        return Place(self.file, self.part, self.where.get(p, "paragraph ?"))

    def texts(self, p: etree._Element) -> list[etree._Element]:
        """The paragraph's own text elements (not those of a text box inside it)."""
        return [t for t in p.iter(_T) if next(t.iterancestors(_P)) is p]

    def mend(self, p: etree._Element) -> list[str]:
        """Move every tag split across text elements into its first one; drop the runs
        emptied and the proofing marks. Returns unclosed-tag texts (errors)."""
        ts = self.texts(p)
        if not ts:
            return []
        whole = "".join(t.text or "" for t in ts)
        if "{" not in whole:
            return []
        spans = [(m.start(), m.end()) for m in core.TAG.finditer(whole)]
        problems = [whole[m.start():m.start() + 40] for m in _UNCLOSED.finditer(
            _blank(whole, spans))]
        bounds, pos = [], 0
        for t in ts:
            bounds.append((pos, pos + len(t.text or "")))
            pos += len(t.text or "")
        if all(any(a <= s and e <= b for a, b in bounds) for s, e in spans):
            return problems
        emptied = []
        for t, (a, b) in zip(ts, bounds):
            new = _own_text(whole, a, b, spans)
            if new != (t.text or ""):
                t.text = new
                if not new:
                    emptied.append(t)
        for t in emptied:
            run = t.getparent()
            if run.tag == _R and all(c.tag in (_T, qn("w:rPr")) and not (c.text or "")
                                     for c in run if c.tag != qn("w:rPr")):
                run.getparent().remove(run)
        for proof in p.findall(f".//{_PROOF}"):
            proof.getparent().remove(proof)
        return problems

    def tags(self) -> tuple[list[_Found], list[Diagnostic]]:
        """Every tag of the part (mended), in document order, and the unclosed ones."""
        found: list[_Found] = []
        problems: list[Diagnostic] = []
        for p in list(self.root.iter(_P)):
            place = self.place(p)
            for text in self.mend(p):
                problems.append(place.diagnostic("error", f"unclosed tag: {text.strip()}"))
            for t in self.texts(p):
                if t.text and "{" in t.text:
                    t.text = _straighten(t.text)
                    for _s, _e, tag in core.find_tags(t.text):
                        found.append(_Found(tag, t, place))
        return found, problems


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _straighten(text: str) -> str:
    """Word's typographic quotes inside tags become the quotes Jinja reads (as docxtpl does);
    quotes outside tags stay as typed."""
    return core.TAG.sub(lambda m: m.group(0).translate(_QUOTES), text)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with its tags blanked out (what is left may hold an unclosed tag)."""
    chars = list(text)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars).replace("{_{", "   ").replace("{_%", "   ")


def _own_text(whole: str, a: int, b: int, spans: list[tuple[int, int]]) -> str:
    """The new text of the element that held ``whole[a:b]``: its own characters, a tag that
    starts in it whole, and nothing of a tag that started before it."""
    out, pos = [], a
    for s, e in spans:
        if e <= a or s >= b:
            continue
        if s >= a:
            out.append(whole[pos:s])
            out.append(whole[s:e])
        pos = max(pos, e)
    if pos < b:
        out.append(whole[pos:b])
    return "".join(out)


# -- compile: turning a part into Jinja ------------------------------------------------------
class _Builder:
    """Replaces tags with processing instructions and collects their Jinja code."""

    def __init__(self, root: etree._Element, styles: "_Styles"):
        self.root = root
        self.styles = styles
        self.code: list[str] = []
        self.place_of: list[Place] = []
        self.texts: list[_TextSite] = []
        self.runs: list[_RunSite] = []
        self.errors: list[Diagnostic] = []
        self.trims: list[tuple[int, Tag]] = []
        self._closing: dict[etree._Element, list[etree._Element]] = {}
        self.mark = _free_mark(root)
        self.regrid = False
        self.r_prefix = next((k for k, v in root.nsmap.items() if v == R_NS and k), "")

    def pi(self, code: str, place: Place) -> etree._Element:
        self.code.append(code)
        self.place_of.append(place)
        return etree.ProcessingInstruction(_PI, str(len(self.code) - 1))

    def apply(self, found: list[_Found]) -> None:
        by_t: dict[etree._Element, list[_Found]] = {}
        for f in found:
            by_t.setdefault(f.t, []).append(f)
        structural = [f for f in found if f.tag.level and not _in_text(f.tag)]
        # Text tags first (their text elements stay), then elements replaced, outermost first.
        for t, items in by_t.items():
            if len(items) == 1 and self._whole_rich_run(t, items[0]):
                continue
            self._split_text(t, [f for f in items if _in_text(f.tag)])
        order = {"tr": 0, "tc": 1, "p": 2, "r": 3}
        for f in sorted(structural, key=lambda f: order.get(f.tag.level, 4)):
            self._replace(f)

    # text tags -----------------------------------------------------------------------------
    def _split_text(self, t: etree._Element, items: list[_Found]) -> None:
        """The element's text with each of ``items`` (its tags that stay in text, in text
        order) as an instruction; structural tags keep their text (their element is replaced
        whole afterwards)."""
        if not items:
            return
        text, pos, queue = t.text or "", 0, list(items)
        t.text = None
        last: etree._Element | None = None
        for start, end, tag in core.find_tags(text):
            if not queue or tag.text != queue[0].tag.text:
                continue
            last = _add_text(t, last, text[pos:start])
            for node in self._text_tag(t, queue.pop(0)):
                t.append(node)
                last = node
            pos = end
        last = _add_text(t, last, text[pos:])
        for node in self._closing.pop(t, []):
            t.append(node)
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")

    def _text_tag(self, t: etree._Element, f: _Found) -> list[etree._Element]:
        tag = f.tag
        if tag.kind == "{#":
            return [self.pi("", f.place)]
        if tag.kind == "{{" and tag.level == "r":
            return self._rich_run(t, f)
        if tag.kind == "{{":
            self.texts.append(self._text_site(t))
            left, right = ("-" if tag.trim_left else ""), ("-" if tag.trim_right else "")
            return [self.pi(f"{{{{{left} ({_one_line(tag.body)})|m3t({len(self.texts) - 1}) "
                            f"{right}}}}}", f.place)]
        word = tag.word
        if word in _CELL_WORDS:
            return self._cell_tag(t, f)
        node = self.pi(_one_line(tag.jinja), f.place)
        if tag.trim_left or tag.trim_right:
            self.trims.append((len(self.code) - 1, tag))
        return [node]

    def _text_site(self, t: etree._Element) -> _TextSite:
        run = t.getparent()
        p = next(t.iterancestors(_P), None)
        return _TextSite(_open(run, "w:rPr"), _open(p, "w:pPr") if p is not None else "<w:p>")

    # cell tags: vm, hm, cellbg, colspan ----------------------------------------------------
    def _cell_tag(self, t: etree._Element, f: _Found) -> list[etree._Element]:
        tag = f.tag
        tc = next(t.iterancestors(_TC), None)
        if tc is None:
            self.errors.append(f.place.diagnostic("error", f"{tag.text.strip()} is not in a "
                                                           "table cell"))
            return [self.pi("", f.place)]
        tcpr = tc.get_or_add_tcPr()
        word, expr = tag.word, tag.body[len(tag.word):].strip()
        if word == "cellbg":
            for old in tcpr.findall(qn("w:shd")):
                tcpr.remove(old)
            shd = etree.SubElement(tcpr, qn("w:shd"))
            tcpr.remove(shd)
            tcpr.insert_element_before(shd, *_AFTER_SHD)
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:color"), "auto")
            shd.set(qn("w:fill"), self._token(f"{{{{ ({_one_line(expr)})|m3a }}}}", f.place))
            return [self.pi("", f.place)]
        if word == "colspan":
            tcpr.get_or_add_gridSpan().set(qn("w:val"), self._token(
                f"{{{{ ({_one_line(expr)})|m3a }}}}", f.place))
            return [self.pi("", f.place)]
        if word == "vm":
            tcpr.get_or_add_vMerge().set(qn("w:val"), self._token(
                "{% if loop.first %}restart{% else %}continue{% endif %}", f.place))
            # docxtpl's meaning: the text after the tag shows in the loop's first row only.
            self._closing.setdefault(t, []).append(self.pi("{% endif %}", f.place))
            return [self.pi("{% if loop.first %}", f.place)]
        # hm: the first cell of the column loop spans the loop's columns, the others go.
        span = tcpr.get_or_add_gridSpan()
        width = int(span.get(qn("w:val")) or 1)
        span.set(qn("w:val"), self._token(f"{{{{ loop.length * {width} }}}}", f.place))
        tc.addprevious(self.pi("{% if loop.first %}", f.place))
        tc.addnext(self.pi("{% endif %}", f.place))
        return [self.pi("", f.place)]

    def _token(self, code: str, place: Place) -> str:
        """An attribute value standing for Jinja code (swapped after serializing)."""
        self.code.append(code)
        self.place_of.append(place)
        return f"{self.mark}{len(self.code) - 1}_"

    # structural tags -----------------------------------------------------------------------
    def _replace(self, f: _Found) -> None:
        tag = f.tag
        if tag.kind == "{{" and tag.level not in ("p", "r"):
            self.errors.append(f.place.diagnostic("error", f"{{{{{tag.level} }}}} is not a tag "
                                                  f"form (only {{{{p }}}} and {{{{r }}}}) in "
                                                  f"{tag.text.strip()}"))
            return
        element = next((a for a in f.t.iterancestors(_LEVEL_ELEMENT[tag.level])), None)
        if element is None:
            self.errors.append(f.place.diagnostic(
                "error", f"{tag.text.strip()} is not in a {_LEVEL_NAME[tag.level]}"))
            return
        if not _attached(element, self.root):
            if tag.kind == "{%":
                self.errors.append(f.place.diagnostic(
                    "error", f"{tag.text.strip()} is lost: the element holding it is replaced "
                             f"by another structural tag"))
            return
        if tag.level == "tc":
            self._regrid(element)
        if tag.kind == "{#":
            element.getparent().remove(element)
            return
        if tag.kind == "{%":
            _swap(element, self.pi(_one_line(tag.jinja), f.place))
            return
        self.runs.append(self._run_site(f.t, element))
        k = len(self.runs) - 1
        _swap(element, self.pi(f"{{{{ ({_one_line(tag.body)})|m3p({k}) }}}}", f.place))

    def _regrid(self, tc: etree._Element) -> None:
        """A column loop changes its table's column count: the grid is rebuilt after each
        render (as docxtpl does: the table's width shared equally by its columns)."""
        grid = next(tc.iterancestors(_TBL)).find(qn("w:tblGrid"))
        if grid is None or any(not isinstance(c.tag, str) for c in grid):
            return
        grid.append(etree.ProcessingInstruction(_GRID))
        self.regrid = True

    def _whole_rich_run(self, t: etree._Element, f: _Found) -> bool:
        """A ``{{r }}`` that is all its run holds: the run is replaced by the rich runs."""
        run = t.getparent()
        if not (f.tag.kind == "{{" and f.tag.level == "r" and run is not None
                and run.tag == _R and (t.text or "").strip() == f.tag.text.strip()
                and all(c is t or c.tag == qn("w:rPr") for c in run)):
            return False
        self.runs.append(self._run_site(t, run))
        code = f"{{{{ ({_one_line(f.tag.body)})|m3r({len(self.runs) - 1}) }}}}"
        _swap(run, self.pi(code, f.place))
        return True

    def _rich_run(self, t: etree._Element, f: _Found) -> list[etree._Element]:
        """``{{r }}``: the run closes, rich runs follow, and the run reopens for the text
        after the tag (as docxtpl keeps the run's other text)."""
        run = t.getparent()
        if run is None or run.tag != _R:
            self.errors.append(f.place.diagnostic("error", f"{f.tag.text.strip()} is not in a "
                                                           "run"))
            return [self.pi("", f.place)]
        self.runs.append(self._run_site(t, run))
        reopen = _open(run, "w:rPr") + '<w:t xml:space="preserve">'
        return [self.pi(f"</w:t></w:r>{{{{ ({_one_line(f.tag.body)})|m3r({len(self.runs) - 1})"
                        f" }}}}{reopen}", f.place)]

    def _run_site(self, t: etree._Element, element: etree._Element) -> _RunSite:
        run = t.getparent()
        p = next(t.iterancestors(_P), None)
        base = run.find(qn("w:rPr")) if run is not None and run.tag == _R else None
        forms = {}
        for bold in (False, True):
            for italic in (False, True):
                for link in (False, True):
                    forms[(bold, italic, link)] = self.styles.rpr(base, bold, italic, link)
        cell = next(p.iterancestors(_TC), None) if p is not None else None
        alone = cell is not None and len(cell.findall(_P)) == 1
        in_link = run is not None and any(a.tag == _LINK for a in run.iterancestors())
        return _RunSite(forms, _open(p, "w:pPr") if p is not None else "<w:p>", self.r_prefix,
                        alone, in_link)


def _add_text(parent: etree._Element, last: etree._Element | None, text: str
              ) -> etree._Element | None:
    """Append ``text`` after ``last`` (or to ``parent``'s own text); returns ``last``."""
    if text:
        if last is None:
            parent.text = (parent.text or "") + text
        else:
            last.tail = (last.tail or "") + text
    return last


def _in_text(tag: Tag) -> bool:
    """Tags that stay in their text element: plain ones and ``{{r }}``."""
    return not tag.level or (tag.kind == "{{" and tag.level == "r")


def _drop(node: etree._Element) -> None:
    """Remove a node, keeping its tail text."""
    parent = node.getparent()
    if node.tail:
        prev = node.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + node.tail
        else:
            etree._Element.text.__set__(parent, (etree._Element.text.__get__(parent) or "")
                                        + node.tail)
    parent.remove(node)


def _attached(element: etree._Element, root: etree._Element) -> bool:
    return element is root or any(a is root for a in element.iterancestors())


def _swap(old: etree._Element, new: etree._Element) -> None:
    new.tail = old.tail
    old.getparent().replace(old, new)


def _one_line(code: str) -> str:
    return code.replace("\r", " ").replace("\n", " ")


def _open(element: etree._Element | None, props: str) -> str:
    """'<w:r><w:rPr>..</w:rPr>' (or '<w:p><w:pPr>..</w:pPr>'): the element opened again with
    its properties, in the w: prefix the engine writes."""
    name = "w:r" if props == "w:rPr" else "w:p"
    if element is None:
        return f"<{name}>"
    pr = element.find(qn(props))
    return f"<{name}>" + (_xml(pr) if pr is not None else "")


def _xml(element: etree._Element) -> str:
    """An element's XML with the w: namespace declared where the output needs it: nowhere
    (the engine writes inside parts whose root declares w:)."""
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    return re.sub(r' xmlns:\w+="[^"]*"', "", text)


class _Styles:
    """Run properties for rich text, built with python-docx's rPr class once per template."""

    def __init__(self, has_hyperlink_style: bool):
        self.has_hyperlink_style = has_hyperlink_style

    def rpr(self, base: etree._Element | None, bold: bool, italic: bool, link: bool) -> str:
        rpr = copy.deepcopy(base) if base is not None else docx_parse_xml(
            f'<w:rPr xmlns:w="{W}"/>')
        if bold:
            rpr._set_bool_val("b", True)
        if italic:
            rpr._set_bool_val("i", True)
        if link:
            if self.has_hyperlink_style:
                rpr.style = "Hyperlink"
            else:
                rpr.get_or_add_color().val = RGBColor.from_string(_HYPERLINK_COLOR)
                rpr.u_val = WD_UNDERLINE.SINGLE
        return _xml(rpr) if len(rpr) else ""


def _jinja_source(root: etree._Element, builder: _Builder) -> tuple[str, list[Place]]:
    """The part's XML as Jinja source: literal text protected, instructions swapped for code,
    each instruction on a line of its own (so a compile error finds its place)."""
    text_of = etree._Element.text  # python-docx's classes give CT_P/CT_R a text of their own
    for el in root.iter(tag=etree.Element):  # layout whitespace between elements goes
        if el.tail is not None and not el.tail.strip():
            el.tail = None
        own = text_of.__get__(el)
        if len(el) and own is not None and not own.strip() \
                and all(isinstance(c.tag, str) for c in el):
            text_of.__set__(el, None)
    xml = etree.tostring(root, encoding="unicode").replace("\n", "&#10;")
    xml = _trim(xml, builder)
    out, places, pos, raw = [], [], 0, False
    for m in _PI_RE.finditer(xml):
        out.append(xml[pos:m.start()] if raw else _protect(xml[pos:m.start()]))
        n = int(m.group(1))
        out.append("\n" + builder.code[n])
        raw = core.raw_after(raw, builder.code[n])
        places.append(builder.place_of[n])
        pos = m.end()
    out.append(xml[pos:] if raw else _protect(xml[pos:]))
    source = "".join(out)
    source = re.sub(re.escape(builder.mark) + r"(\d+)_", lambda m: builder.code[int(m.group(1))],
                    source)
    return _DECL.replace("\n", "") + source, places


def _trim(xml: str, builder: _Builder) -> str:
    """docxtpl's ``{%-`` and ``-%}``: when no other tag stands between the tag and the end of
    the previous text (or the start of the next), the XML between goes, so the tag's line
    merges with the one before (or after), and the ``-`` is spent (spaces stay); otherwise
    the ``-`` is Jinja's and trims the whitespace beside the tag."""
    for n, tag in builder.trims:
        token = f"<?m3j {n}?>"
        at = xml.find(token)
        if at < 0:
            continue
        left, right = tag.trim_left, tag.trim_right
        if left:
            prev = xml.rfind("</w:t>", 0, at)
            if prev >= 0 and not _other_tag(xml, prev, at, builder.mark) \
                    and _mergeable(xml[prev:at]):
                xml, at, left = xml[:prev] + xml[at:], prev, False
        if right:
            end = at + len(token)
            nxt = _T_OPEN.search(xml, end)
            if nxt and not _other_tag(xml, end, nxt.start(), builder.mark) \
                    and _mergeable(xml[end:nxt.end()]):
                xml, right = xml[:end] + xml[nxt.end():], False
        builder.code[n] = _one_line(replace(tag, trim_left=left, trim_right=right).jinja)
    return xml


_MARKUP = re.compile(r"<(/?)([\w:]+)[^>]*?(/?)>")


def _mergeable(chunk: str) -> bool:
    """Whether removing ``chunk`` (XML between two texts) leaves the part well-formed: the
    elements it closes are the ones it opens again (``</w:t></w:r></w:p><w:p><w:r><w:t>``),
    not a table's end and a paragraph's start, where docxtpl would break the document. Only
    lines merge: the XML may close and reopen paragraphs and what holds text inside them,
    never a cell, a note or a text box."""
    closed, opened = [], []
    for end, name, empty in _MARKUP.findall(chunk):
        if empty:
            continue
        if end:
            if opened:
                opened.pop()
            else:
                closed.append(name)
        else:
            opened.append(name)
    return closed == opened[::-1] and all(name in _LINE for name in closed)


_LINE = {"w:t", "w:r", "w:p", "w:hyperlink", "w:ins", "w:smartTag", "w:fldSimple"}


def _other_tag(xml: str, start: int, end: int, mark: str) -> bool:
    """Whether another tag's instruction or attribute code stands in ``xml[start:end]``."""
    return xml.find("<?m3j ", start, end) >= 0 or xml.find(mark, start, end) >= 0


def _free_mark(root: etree._Element) -> str:
    """A marker for code in attribute values that the part's own text never holds."""
    text = etree.tostring(root, encoding="unicode")
    mark = "_M3J"
    while mark in text:
        mark += "J"
    return mark
_T_OPEN = re.compile(r"<w:t(?: [^>]*)?>")


def _protect(text: str) -> str:
    """Literal XML as Jinja source: raw delimiters output as written, escaped ones unescaped."""
    if "{" not in text and "}" not in text and "%" not in text:
        return text
    return core.literal(_RAW_OPEN.sub("{{ '{' }}", text))


# -- compile: document properties ------------------------------------------------------------
def _props_tags(file: str, part: str, root: etree._Element
                ) -> tuple[list[tuple[etree._Element, Tag, Place]], list[Diagnostic]]:
    """Every tag in a properties part's texts, each at its property; structural forms and
    unclosed tags are errors."""
    found: list[tuple[etree._Element, Tag, Place]] = []
    problems: list[Diagnostic] = []
    for el in root.iter():
        if len(el) or not el.text or "{" not in el.text or not isinstance(el.tag, str):
            continue
        place = Place(file, part, f"property {_prop_name(el, root)}")
        el.text = _straighten(el.text)
        spans = [(s, e) for s, e, _t in core.find_tags(el.text)]
        for m in _UNCLOSED.finditer(_blank(el.text, spans)):
            problems.append(place.diagnostic("error", "unclosed tag: "
                                             + el.text[m.start():m.start() + 40].strip()))
        for _s, _e, tag in core.find_tags(el.text):
            if tag.level:
                problems.append(place.diagnostic("error", f"{tag.text.strip()}: a structural "
                                                 "tag cannot be used in a document property"))
            found.append((el, tag, place))
    return found, problems


def _prop_name(el: etree._Element, root: etree._Element) -> str:
    """'dc:title', 'Company', or a custom property's quoted name."""
    node = el
    while node.getparent() is not None and node.getparent() is not root:
        node = node.getparent()
    if node.get("name"):
        return f"'{node.get('name')}'"
    local = etree.QName(node).localname
    return f"{node.prefix}:{local}" if node.prefix else local


# -- the engine ------------------------------------------------------------------------------
class CompiledDocx:
    """A Word template compiled: per-part Jinja templates; ``render`` fills one document."""

    def __init__(self, template: Template, name: str, parts: list[_Part]):
        self.template = template
        self.name = name
        self.parts = parts

    @property
    def names(self) -> frozenset[str]:
        """The context names the template uses (found when asked: see core.Compiled)."""
        return frozenset().union(*(p.compiled.names for p in self.parts)) - {"loop"}

    def render(self, context: Mapping[str, Any],
               finish: Callable[[Package], None] | None = None) -> tuple[bytes, list[str]]:
        """The filled document's bytes and warnings; ``finish`` (optional) edits the filled
        package before it is written (m3docs refreshes a table of contents there)."""
        package, warnings = self.render_package(context)
        if finish is not None:
            finish(package)
        return package.to_bytes(), warnings

    def render_package(self, context: Mapping[str, Any]) -> tuple[Package, list[str]]:
        """The document as a package not yet zipped, and the warnings."""
        package = self.template.new()
        record = core.RenderRecord()
        cleaned, unsafe = False, []
        for part in self.parts:
            state = _Render(part)
            token = _STATE.set(state)
            try:
                text = core.render_recorded(part.compiled, context, record,
                                            Place(self.name, part.name, "part"))
            except TemplateProblems as exc:
                raise _located(exc, part) from None
            finally:
                _STATE.reset(token)
            data = text.replace("\n", "").encode("utf-8")
            package.put(part.name, _regrid(data) if part.regrid else data)
            if state.links:
                package.put(part.rels_name, _with_links(part.rels_bytes, state.links))
            cleaned |= state.cleaned
            unsafe += state.unsafe_links
        warnings = record.warnings()
        if cleaned:
            warnings.append("characters that a Word document cannot hold were removed from "
                            "the values")
        if unsafe:
            warnings.append("links that are not http, https or mailto were written as plain "
                            f"text: {', '.join(sorted(set(unsafe)))}")
        return package, warnings


def _regrid(data: bytes) -> bytes:
    """Each marked table grid rebuilt for the columns its widest row has now, sharing the
    table's width equally (only parts with column loops pay for this parse)."""
    root = etree.fromstring(data)
    for pi in list(root.iter(etree.ProcessingInstruction)):
        if pi.target != _GRID:
            continue
        grid = pi.getparent()
        grid.remove(pi)
        rows = grid.getparent().findall(qn("w:tr"))
        count = max((sum(_span(tc) for tc in tr.findall(qn("w:tc"))) for tr in rows),
                    default=0)
        widths = [int(c.get(qn("w:w"), "0")) for c in grid.findall(qn("w:gridCol"))]
        if not count or count == len(widths):
            continue
        for col in grid.findall(qn("w:gridCol")):
            grid.remove(col)
        for _ in range(count):
            etree.SubElement(grid, qn("w:gridCol")).set(qn("w:w"), str(sum(widths) // count))
    return (_DECL + etree.tostring(root, encoding="unicode")).encode("utf-8")


def _span(tc: etree._Element) -> int:
    span = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
    value = span.get(qn("w:val"), "1") if span is not None else "1"
    return int(value) if value.isdigit() else 1


def _located(exc: TemplateProblems, part: _Part) -> TemplateProblems:
    """A render-time error moved to the place of the tag that raised it (the template line
    in the traceback names it: each tag's code starts a line of its own)."""
    line, tb = None, getattr(exc.__context__, "__traceback__", None)
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None or not part.places:
        return exc
    place = part.places[max(0, min(line - 2, len(part.places) - 1))]
    return TemplateProblems([place.diagnostic(d.severity, d.message) for d in exc.diagnostics])


def _with_links(rels: bytes | None, links: dict[str, str]) -> bytes:
    """The part's relationships with one external hyperlink per url (ids in first-use order)."""
    items = "".join(f'<Relationship Id="{rid}" Type="{RT["hyperlink"]}" '
                    f'Target={_quote_attr(url)} TargetMode="External"/>'
                    for url, rid in links.items())
    if rels is None:
        return (f'{_DECL}<Relationships xmlns="{NS["rel"]}">{items}</Relationships>'
                ).encode("utf-8")
    text = rels.decode("utf-8")
    end = text.rfind("</Relationships>")
    if end < 0:  # an empty <Relationships .../> element
        text = re.sub(r"<Relationships([^>]*)/>", r"<Relationships\1></Relationships>", text)
        end = text.rfind("</Relationships>")
    return (text[:end] + items + text[end:]).encode("utf-8")


def _quote_attr(value: str) -> str:
    return '"' + str(_escape(value)) + '"'


class DocxEngine:
    """docxtpl's tag language for Word documents."""

    format = "docx"
    env = ENV
    keeps_plans = True   # its compiled form is plain data around Jinja code (plancache)

    def compile(self, template: Template, name: str) -> CompiledDocx:
        parts: list[_Part] = []
        problems: list[Diagnostic] = []
        styles = _Styles(_has_hyperlink_style(template))
        for part, kind in _tagged_parts(template):
            try:
                try:
                    compiled = _compile_props(template, name, part, styles) \
                        if kind == "props" else _compile_word(template, name, part, styles)
                except Exception:   # noqa: BLE001 - whatever failed, the thorough pass says
                    if kind == "props":
                        raise
                    # again, each tag checked on its own: every error placed
                    compiled = _compile_word(template, name, part, styles, thorough=True)
            except TemplateProblems as exc:
                problems += exc.diagnostics
                continue
            if compiled is not None:
                parts.append(compiled)
        if problems:
            raise TemplateProblems(problems)
        return CompiledDocx(template, name, parts)


def _tagged_parts(template: Template) -> list[tuple[str, str]]:
    """Parts that may hold tags, main document first, then the others by name."""
    found = []
    for el in template.xml("[Content_Types].xml").findall(qn("ct:Override")):
        kind = el.get("ContentType", "")
        name = el.get("PartName", "").lstrip("/")
        if name not in template.raw:
            continue
        if any(kind.endswith(t) for t in _WORD_TYPES):
            found.append((0 if "main+xml" in kind else 1, name, "word"))
        elif any(kind.endswith(t) for t in _PROPS_TYPES):
            found.append((2, name, "props"))
    return [(name, kind) for _o, name, kind in sorted(found)]


def _has_hyperlink_style(template: Template) -> bool:
    name = "word/styles.xml"
    if name not in template.raw:
        return False
    return any(s.get(qn("w:styleId")) == "Hyperlink"
               for s in template.xml(name).iter(qn("w:style")))


def _compile_word(template: Template, file: str, part: str, styles: _Styles,
                  thorough: bool = False) -> _Part | None:
    """The part compiled. Its tags are parsed one by one only when ``thorough`` (the caller
    asks after a first try fails): else the part's whole source is compiled (or its code
    loaded from the cache, made from a source that passed every check), one parse at most."""
    data = template.bytes_of(part)
    if b"{" not in data:
        return None
    template.xml(part)  # the safe parser's checks (no DTD, well-formed)
    root = docx_parse_xml(data)
    if root.nsmap.get("w") != W:
        raise TemplateProblems([Place(file, part, "part").diagnostic(
            "error", "the part does not write WordprocessingML with the usual w: prefix; "
                     "save it again from Word")])
    for pi in list(root.iter(etree.ProcessingInstruction)):  # meaningless to Word
        _drop(pi)
    reader = _PartReader(file, part, root)
    found, problems = reader.tags()
    if not found and not problems:
        return None
    problems += _check(found, thorough)
    builder = _Builder(root, styles)
    builder.apply(found)
    problems += builder.errors
    if problems:
        order = {f": {part}: {w}": i for i, w in enumerate(dict.fromkeys(reader.where.values()))}
        raise TemplateProblems(sorted(problems, key=lambda d: order.get(d.place, len(order))))
    source, places = _jinja_source(root, builder)
    compiled = _compile(source, places, file, part)
    rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    rels = template.bytes_of(rels_name) if rels_name in template.raw else None
    return _Part(part, compiled, places, builder.texts, builder.runs, rels_name, rels,
                 next_rid=_next_rid(rels), regrid=builder.regrid)


def _check(found: Iterable[_Found], thorough: bool = True) -> list[Diagnostic]:
    """core's per-tag and block checks; cell words are checked as the expressions they hold.
    Not ``thorough``: the blocks and cell words' forms only (no parse)."""
    tags: list[tuple[Tag, Place]] = []
    problems: list[Diagnostic] = []
    for f in found:
        tag = f.tag
        if tag.kind == "{%" and not tag.level and tag.word in _CELL_WORDS:
            expr = tag.body[len(tag.word):].strip()
            if tag.word in ("vm", "hm"):
                if expr:
                    problems.append(f.place.diagnostic("error", f"{tag.text.strip()}: "
                                                       f"{tag.word} takes no value"))
            elif not expr:
                problems.append(f.place.diagnostic("error", f"{tag.text.strip()} needs a value"))
            elif thorough:
                message = core.check_tag(ENV, Tag(tag.text, "{{", "", expr, False, False))
                if message:
                    problems.append(f.place.diagnostic("error", message))
            continue
        tags.append((tag, f.place))
    return (core.check_tags(ENV, tags) if thorough else core.check_blocks(tags)) + problems


def _compile(source: str, places: list[Place], file: str, part: str) -> core.Compiled:
    def locate(line: int) -> Place:
        if not places:
            return Place(file, part, "part")
        return places[max(0, min(line - 2, len(places) - 1))]
    return core.compile_source(ENV, source, locate)


def _next_rid(rels: bytes | None) -> int:
    if not rels:
        return 1
    numbers = [int(n) for n in re.findall(rb'Id="rId(\d+)"', rels)]
    return max(numbers, default=0) + 1


def _compile_props(template: Template, file: str, part: str, styles: _Styles) -> _Part | None:
    """A document-properties part: each property's text may hold plain tags and blocks."""
    if b"{" not in template.bytes_of(part):
        return None
    root = copy.deepcopy(template.xml(part))
    found, problems = _props_tags(file, part, root)
    if not found and not problems:
        return None
    problems += core.check_tags(ENV, [(tag, place) for _el, tag, place in found])
    if problems:
        raise TemplateProblems(problems)
    builder = _Builder(root, styles)
    places = {el: place for el, _tag, place in found}
    for el, place in places.items():
        _property_instructions(el, place, builder)
    source, line_places = _jinja_source(root, builder)
    return _Part(part, _compile(source, line_places, file, part), line_places)


def _property_instructions(el: etree._Element, place: Place, builder: _Builder) -> None:
    """A property's text with each tag as an instruction (values escaped, nothing else)."""
    text, pos = el.text, 0
    el.text = None
    last: etree._Element | None = None
    for start, end, tag in core.find_tags(text):
        last = _add_text(el, last, text[pos:start])
        code = ("" if tag.kind == "{#" else f"{{{{ ({_one_line(tag.body)})|m3a }}}}"
                if tag.kind == "{{" else _one_line(tag.jinja))
        last = builder.pi(code, place)
        el.append(last)
        pos = end
    _add_text(el, last, text[pos:])


ENGINE = DocxEngine()


def render_docx(template_path: str | Path, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """Compile the Word template at ``template_path`` and fill it from ``context``: the
    document's bytes and the warnings. Raises ``core.TemplateProblems`` with every error."""
    path = Path(template_path)
    return ENGINE.compile(Template(path), path.name).render(context)


__all__ = ["CompiledDocx", "DocxEngine", "ENGINE", "render_docx"]
