"""Headings and the table of contents of a filled Word document.

Word computes a table of contents when it updates its field; until then every reader
(LibreOffice converting to PDF, a viewer) shows the entries cached in the field. Once a
key-task section is added, those entries are stale, so the field is marked dirty (Word
rebuilds it on open) and its cached entries are rewritten from the headings, numbered as
Word numbers them: one counter per abstract list, levels from the paragraph or its style.
A heading whose direct list restarts a sub-level its outline is already counting
(``2.1`` twice under section 2) continues the outline instead.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from lxml import etree

from .xml import qn

TOC_LEVELS = re.compile(r'\\o\s+"?(\d)-(\d)"?')
TOC_FIELD = re.compile(r"^\s*TOC\b")
OTHER_TOC = re.compile(r"\\[cft]\b")     # a table of figures or of custom styles: left alone
LINKED = re.compile(r"\\h\b")          # entries are hyperlinks (what Word's default TOC has)
ANCHOR_PREFIX = "_TocM3"


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""


W_PPR, W_PSTYLE, W_OUTLINE, W_NUMPR = qn("w:pPr"), qn("w:pStyle"), qn("w:outlineLvl"), \
    qn("w:numPr")
W_NUMID, W_ILVL, W_VAL, W_P = qn("w:numId"), qn("w:ilvl"), qn("w:val"), qn("w:p")
W_R, W_T, W_RPR, W_TAB = qn("w:r"), qn("w:t"), qn("w:rPr"), qn("w:tab")


@dataclass(frozen=True)
class Props:
    """What a paragraph (or a style, through its chain) says about outline and list."""

    outline: int | None = None
    num: str | None = None
    ilvl: str | None = None
    style: str | None = None

    def over(self, base: "Props") -> "Props":
        """These properties, the missing ones taken from ``base``."""
        return Props(base.outline if self.outline is None else self.outline,
                     base.num if self.num is None else self.num,
                     base.ilvl if self.ilvl is None else self.ilvl,
                     base.style if self.style is None else self.style)


def _props(ppr: etree._Element | None) -> Props:
    return Props(*_own(ppr))


def _own(ppr: etree._Element | None) -> tuple:
    """(outline, numId, ilvl, style) a pPr sets (a plain tuple: it is read per paragraph)."""
    if ppr is None:
        return (None, None, None, None)
    outline = num = ilvl = style = None
    for child in ppr:
        if child.tag == W_PSTYLE:
            style = child.get(W_VAL)
        elif child.tag == W_OUTLINE:
            outline = int(child.get(W_VAL, "9"))
        elif child.tag == W_NUMPR:
            for c in child:
                if c.tag == W_NUMID:
                    num = c.get(W_VAL)
                elif c.tag == W_ILVL:
                    ilvl = c.get(W_VAL)
    return (outline, num, ilvl, style)


@dataclass
class Numbering:
    """numbering.xml and styles.xml, as far as heading numbers need them (read once per
    template)."""

    abstract: dict[str, dict[int, Level]] = field(default_factory=dict)
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)
    styles: dict[str, Props] = field(default_factory=dict)
    default: str = "Normal"   # the paragraph style of a paragraph that names none
    resolved: dict[tuple, Props] = field(default_factory=dict)   # own props -> with style's

    @classmethod
    def read(cls, numbering: etree._Element | None, styles: etree._Element | None) -> Numbering:
        out = cls()
        for a in numbering.findall(qn("w:abstractNum")) if numbering is not None else []:
            out.abstract[a.get(qn("w:abstractNumId"))] = {
                int(lvl.get(W_ILVL, "0")): Level(int(_val(lvl, "w:start") or 1),
                                                _val(lvl, "w:numFmt") or "decimal",
                                                _val(lvl, "w:lvlText") or "")
                for lvl in a.findall(qn("w:lvl"))}
        for n in numbering.findall(qn("w:num")) if numbering is not None else []:
            overrides = {int(o.get(W_ILVL, "0")): int(_val(o, "w:startOverride"))
                         for o in n.findall(qn("w:lvlOverride")) if _val(o, "w:startOverride")}
            out.nums[n.get(W_NUMID)] = (_val(n, "w:abstractNumId") or "", overrides)
        own = {s.get(qn("w:styleId")): (_props(s.find(W_PPR)), _val(s, "w:basedOn"))
               for s in (styles.findall(qn("w:style")) if styles is not None else [])}
        for style_id in own:
            props, based, seen = Props(), style_id, 0
            while based in own and seen < 20:   # a style's chain, nearest first
                mine, based = own[based]
                props, seen = props.over(mine), seen + 1
            out.styles[style_id] = Props(props.outline, props.num, props.ilvl)
        for style in styles.findall(qn("w:style")) if styles is not None else []:
            if style.get(qn("w:type")) == "paragraph" and style.get(qn("w:default")) in ("1", "true"):
                out.default = style.get(qn("w:styleId"))
        return out

    def props(self, p: etree._Element) -> Props:
        """The paragraph's outline level and list, from itself or its style chain."""
        first = p[0] if len(p) else None   # pPr comes first (find() costs ~10x more)
        mine = _own(first if first is not None and first.tag == W_PPR else None)
        found = self.resolved.get(mine)
        if found is None:
            own = Props(*mine)
            found = self.resolved[mine] = own.over(self.styles.get(own.style or self.default,
                                                                   Props()))
        return found

    def outline_level(self, p: etree._Element) -> int | None:
        """The paragraph's outline level (0 = level 1), or None for body text."""
        level = self.props(p).outline
        return level if level is not None and level < 9 else None

    def list_of(self, p: etree._Element, props: Props | None = None) -> tuple[str, int] | None:
        """(numId, level) numbering the paragraph, or None."""
        props = props or self.props(p)
        if props.num in (None, "0") or props.num not in self.nums:
            return None
        return props.num, int(props.ilvl or 0)


def _val(el: etree._Element | None, tag: str) -> str | None:
    child = el.find(qn(tag)) if el is not None else None
    return child.get(W_VAL) if child is not None else None


def _style(p: etree._Element) -> str | None:
    return _val(p.find(W_PPR), "w:pStyle")


def _format(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        s = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        s = _roman(value)
        return s if fmt == "upperRoman" else s.lower()
    if fmt in ("none", "bullet"):
        return ""
    return str(value)


def _roman(value: int) -> str:
    out = ""
    for n, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                 (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= n:
            out, value = out + s, value - n
    return out


@dataclass
class Heading:
    paragraph: etree._Element
    level: int          # outline level, 0 = level 1
    label: str = ""     # the number Word shows before it ("2.1."), if any


def number_headings(body: etree._Element, numbering: Numbering) -> list[Heading]:
    """The headings in order, each with the label Word shows before it, after making a
    heading that restarts an already counting sub-level continue it instead."""
    counters: dict[str, list[int | None]] = {}
    used: set[str] = set()
    last_num: dict[str, str] = {}
    remap: dict[str, str] = {}
    headings: list[Heading] = []
    for p in body.iter(W_P):
        props = numbering.props(p)
        heading = props.outline is not None and props.outline < 9
        found = numbering.list_of(p, props)
        if found is None:
            if heading:
                headings.append(Heading(p, props.outline))
            continue
        num, ilvl = found
        if num in remap and heading:
            num = _renumber(p, remap[num])
        abstract, overrides = numbering.nums[num]
        levels = numbering.abstract.get(abstract, {})
        state = counters.setdefault(abstract, [None] * 9)
        if num not in used and ilvl in overrides:
            if heading and ilvl > 0 and state[ilvl] is not None and abstract in last_num:
                remap[num] = last_num[abstract]          # a restart that repeats a number
                num = _renumber(p, remap[num])
            else:
                state[ilvl] = overrides[ilvl] - 1
        used.add(num)
        last_num[abstract] = num
        level = levels.get(ilvl, Level())
        state[ilvl] = (state[ilvl] if state[ilvl] is not None else level.start - 1) + 1
        for deeper in range(ilvl + 1, 9):
            state[deeper] = None
        if heading:
            headings.append(Heading(p, props.outline, _label(level.text, state, levels)))
    return headings


def _renumber(p: etree._Element, num: str) -> str:
    """Point a paragraph's own list at ``num`` (its style's list when it names none)."""
    ppr = p.find(qn("w:pPr"))
    numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
    if numpr is not None and numpr.find(qn("w:numId")) is not None:
        numpr.find(qn("w:numId")).set(qn("w:val"), num)
    return num


def _label(text: str, state: list[int | None], levels: dict[int, Level]) -> str:
    def one(m: re.Match) -> str:
        k = int(m.group(1)) - 1
        level = levels.get(k, Level())
        return _format(state[k] if state[k] is not None else level.start, level.fmt)
    return re.sub(r"%([1-9])", one, text).strip()


# -- the table of contents ------------------------------------------------------------------
@dataclass
class TocField:
    begin: etree._Element            # the run holding fldChar begin
    levels: tuple[int, int]          # outline levels, 0-based, inclusive
    entries: list[etree._Element]    # the paragraphs holding cached entries, in order


def find_toc(body: etree._Element) -> TocField | None:
    """The first TOC field listing headings by outline level, with its cached entries."""
    for instr in body.iter(qn("w:instrText")):
        text = instr.text or ""
        if not TOC_FIELD.match(text) or OTHER_TOC.search(text) or not LINKED.search(text):
            continue
        m = TOC_LEVELS.search(text)
        if not m:
            return None
        begin = instr.getparent().getprevious()
        while begin is not None and begin.find(qn("w:fldChar")) is None:
            begin = begin.getprevious()
        first = instr.getparent().getparent()
        if begin is None or first.tag != qn("w:p"):
            return None
        entries = [first]
        node = first.getnext()
        while node is not None and node.tag == qn("w:p") and node.find(".//" + qn("w:hyperlink")) \
                is not None:
            entries.append(node)
            node = node.getnext()
        return TocField(begin, (int(m.group(1)) - 1, int(m.group(2)) - 1), entries)
    return None


def rewrite_toc(body: etree._Element, headings: list[Heading]) -> bool:
    """Mark the TOC field dirty and rewrite its cached entries from the headings."""
    toc = find_toc(body)
    if toc is None:
        return False
    entries = [h for h in toc.entries if h.find(".//" + qn("w:hyperlink")) is not None]
    if not entries:   # no cached entry to take the shape of ("No table of contents entries")
        toc.begin.find(qn("w:fldChar")).set(qn("w:dirty"), "true")
        return False
    protos = {_style(e): e for e in reversed(entries)}
    links = [(link, e) for e in entries for link in e.iter(qn("w:hyperlink"))]
    pages = {link.get(qn("w:anchor")): _page(link) for link, _ in links}
    cached = {link.get(qn("w:anchor")): e for link, e in links}
    inside = set(toc.entries)
    new = []
    anchors, made = _Anchors(body), _Entries()
    for h in headings:
        p = h.paragraph
        if not toc.levels[0] <= h.level <= toc.levels[1] or p in inside:
            continue
        text = "".join(t.text or "" for t in p.iter(qn("w:t"))).strip()
        if not text:
            continue
        anchor = anchors.of(p, pages)
        proto = next((e for e in (cached.get(anchor), protos.get(f"TOC{h.level + 1}"),
                                  entries[0] if entries else None) if e is not None), None)
        new.append(made.make(proto, h.level, h.label, text, anchor, pages.get(anchor)))
    if not new:
        return False
    toc.begin.find(qn("w:fldChar")).set(qn("w:dirty"), "true")
    _replace_entries(toc, new)
    return True


class _Anchors:
    """Bookmarks naming headings: the one a cached entry already uses, else a new one."""

    def __init__(self, body: etree._Element):
        self.starts = {b.get(qn("w:id")): b.get(qn("w:name"))
                       for b in body.iter(qn("w:bookmarkStart"))}
        ids = [int(i) for i in self.starts if i and i.lstrip("-").isdigit()]
        self.next_id = max(ids, default=0) + 1
        self.added = 0

    def of(self, p: etree._Element, known: dict[str, str | None]) -> str:
        names = [b.get(qn("w:name")) for b in p.iter(qn("w:bookmarkStart"))]
        names += [self.starts.get(b.get(qn("w:id"))) for b in p.iter(qn("w:bookmarkEnd"))]
        for name in names:
            if name in known:
                return name
        self.added += 1
        name = f"{ANCHOR_PREFIX}{self.added:04d}"
        start = etree.Element(qn("w:bookmarkStart"))
        start.set(qn("w:id"), str(self.next_id))
        start.set(qn("w:name"), name)
        end = etree.Element(qn("w:bookmarkEnd"))
        end.set(qn("w:id"), str(self.next_id))
        self.next_id += 1
        ppr = p.find(qn("w:pPr"))
        if ppr is not None:
            ppr.addnext(start)
        else:
            p.insert(0, start)
        p.append(end)
        return name


def _page(link: etree._Element) -> str | None:
    """The page number a cached entry shows (the PAGEREF field's result)."""
    texts = [t.text or "" for t in link.iter(qn("w:t"))]
    return texts[-1] if texts and texts[-1].strip().isdigit() else None


def _run(rpr: etree._Element | None, *children: etree._Element) -> etree._Element:
    r = etree.Element(qn("w:r"))
    if rpr is not None:
        r.append(copy.deepcopy(rpr))
    r.extend(children)
    return r


def _t(text: str, tag: str = "w:t") -> etree._Element:
    t = etree.Element(qn(tag))
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return t


def _fld(kind: str) -> etree._Element:
    el = etree.Element(qn("w:fldChar"))
    el.set(qn("w:fldCharType"), kind)
    return el


class _Entries:
    """Cached entries made like a prototype entry: its paragraph properties and run formats,
    built once per kind of prototype (paragraph properties, level) and copied per heading."""

    def __init__(self) -> None:
        self.shapes: dict[tuple[bytes, int, bool], etree._Element] = {}   # by pPr, level

    def make(self, proto: etree._Element | None, level: int, label: str, text: str,
             anchor: str, page: str | None) -> etree._Element:
        """One cached entry: the label, a tab, the heading, a tab, a PAGEREF field."""
        ppr = proto[0] if proto is not None and len(proto) and proto[0].tag == W_PPR else None
        key = (etree.tostring(ppr) if ppr is not None else b"", level, bool(label))
        if key not in self.shapes:
            self.shapes[key] = _shape(proto, level, bool(label))
        p = copy.deepcopy(self.shapes[key])
        link = p[-1]
        link.set(qn("w:anchor"), anchor)
        texts = list(link.iter(W_T))
        values = ([label] if label else []) + [text, page or ""]
        for t, value in zip(texts, values):
            t.text = value
        next(link.iter(qn("w:instrText"))).text = f" PAGEREF {anchor} \\h "
        return p


def _shape(proto: etree._Element | None, level: int, labelled: bool) -> etree._Element:
    """An entry paragraph with empty texts, formatted like ``proto``."""
    p = etree.Element(W_P)
    ppr = proto.find(W_PPR) if proto is not None else None
    if ppr is not None:
        p.append(copy.deepcopy(ppr))
    else:
        etree.SubElement(etree.SubElement(p, W_PPR), W_PSTYLE).set(W_VAL, f"TOC{level + 1}")
    styled = plain = None
    tab_seen = False
    for run in proto.iter(W_R) if proto is not None else ():
        kinds = {child.tag: child for child in run}
        if styled is None and W_T in kinds and W_RPR in kinds:
            styled = kinds[W_RPR]
        if not tab_seen and W_TAB in kinds:
            plain, tab_seen = kinds.get(W_RPR), True
        if styled is not None and tab_seen:
            break
    link = etree.SubElement(p, qn("w:hyperlink"))
    link.set(qn("w:history"), "1")
    tab = lambda: _run(plain, etree.Element(W_TAB))  # noqa: E731
    if labelled:
        link.extend([_run(styled, _t("")), tab()])
    link.extend([_run(styled, _t("")), tab(), _run(plain, _fld("begin")),
                 _run(plain, _t("", "w:instrText")), _run(plain, _fld("separate")),
                 _run(plain, _t("")), _run(plain, _fld("end"))])
    return p


def _replace_entries(toc: TocField, new: list[etree._Element]) -> None:
    """Put the new entries where the cached ones were; the field's own runs (begin,
    instruction, separate; end when it shares the last entry's paragraph) keep their place."""
    head = _outside_links(toc.entries[0], before=True)
    tail = _outside_links(toc.entries[-1], before=False)
    ppr = new[0].find(qn("w:pPr"))
    at = ppr
    for run in head:
        if at is None:
            new[0].insert(0, run)
        else:
            at.addnext(run)
        at = run
    new[-1].extend(tail)
    anchor = toc.entries[-1]
    for p in new:
        anchor.addnext(p)
        anchor = p
    for old in toc.entries:
        old.getparent().remove(old)


def _outside_links(p: etree._Element, before: bool) -> list[etree._Element]:
    """The children of an entry paragraph before its first (or after its last) hyperlink."""
    children = [c for c in p if c.tag != qn("w:pPr")]
    links = [i for i, c in enumerate(children) if c.tag == qn("w:hyperlink")]
    if not links:
        return children if before else []
    return children[:links[0]] if before else children[links[-1] + 1:]
