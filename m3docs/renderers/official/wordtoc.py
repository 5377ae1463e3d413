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

from ...ooxml.xml import qn

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


@dataclass
class Numbering:
    """numbering.xml and styles.xml, as far as heading numbers need them."""

    abstract: dict[str, dict[int, Level]] = field(default_factory=dict)
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)
    styles: dict[str, etree._Element] = field(default_factory=dict)

    @classmethod
    def read(cls, numbering: etree._Element | None, styles: etree._Element | None) -> Numbering:
        out = cls()
        for a in numbering.findall(qn("w:abstractNum")) if numbering is not None else []:
            out.abstract[a.get(qn("w:abstractNumId"))] = {
                int(lvl.get(qn("w:ilvl"), "0")): Level(int(_val(lvl, "w:start") or 1),
                                                      _val(lvl, "w:numFmt") or "decimal",
                                                      _val(lvl, "w:lvlText") or "")
                for lvl in a.findall(qn("w:lvl"))}
        for n in numbering.findall(qn("w:num")) if numbering is not None else []:
            overrides = {int(o.get(qn("w:ilvl"), "0")): int(_val(o, "w:startOverride"))
                         for o in n.findall(qn("w:lvlOverride")) if _val(o, "w:startOverride")}
            out.nums[n.get(qn("w:numId"))] = (_val(n, "w:abstractNumId") or "", overrides)
        for s in styles.findall(qn("w:style")) if styles is not None else []:
            out.styles[s.get(qn("w:styleId"))] = s
        return out

    def style_chain(self, style_id: str | None) -> list[etree._Element]:
        chain: list[etree._Element] = []
        while style_id and style_id in self.styles and len(chain) < 20:
            style = self.styles[style_id]
            chain.append(style)
            style_id = _val(style, "w:basedOn")
        return chain

    def outline_level(self, p: etree._Element) -> int | None:
        """The paragraph's outline level (0 = level 1), from itself or its style chain."""
        for ppr in [p.find(qn("w:pPr"))] + [s.find(qn("w:pPr")) for s in
                                            self.style_chain(_style(p))]:
            value = _val(ppr, "w:outlineLvl") if ppr is not None else None
            if value is not None:
                return int(value) if int(value) < 9 else None
        return None

    def list_of(self, p: etree._Element) -> tuple[str, int] | None:
        """(numId, level) numbering the paragraph, or None."""
        num, ilvl = None, None
        for ppr in [p.find(qn("w:pPr"))] + [s.find(qn("w:pPr")) for s in
                                            self.style_chain(_style(p))]:
            numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
            if numpr is None:
                continue
            num = num if num is not None else _val(numpr, "w:numId")
            ilvl = ilvl if ilvl is not None else _val(numpr, "w:ilvl")
            if num is not None and ilvl is not None:
                break
        if num in (None, "0") or num not in self.nums:
            return None
        return num, int(ilvl or 0)


def _val(el: etree._Element | None, tag: str) -> str | None:
    child = el.find(qn(tag)) if el is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _style(p: etree._Element) -> str | None:
    return _val(p.find(qn("w:pPr")), "w:pStyle")


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


def number_headings(body: etree._Element, numbering: Numbering) -> dict[etree._Element, str]:
    """The label Word shows before each numbered heading, after
    making a heading that restarts an already counting sub-level continue it instead."""
    counters: dict[str, list[int | None]] = {}
    used: set[str] = set()
    last_num: dict[str, str] = {}
    remap: dict[str, str] = {}
    labels: dict[etree._Element, str] = {}
    for p in body.iter(qn("w:p")):
        found = numbering.list_of(p)
        if found is None:
            continue
        num, ilvl = found
        heading = numbering.outline_level(p) is not None
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
            labels[p] = _label(level.text, state, levels)
    return labels


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


def rewrite_toc(body: etree._Element, numbering: Numbering,
                labels: dict[etree._Element, str]) -> bool:
    """Mark the TOC field dirty and rewrite its cached entries from the headings."""
    toc = find_toc(body)
    if toc is None:
        return False
    entries = [h for h in toc.entries if h.find(".//" + qn("w:hyperlink")) is not None]
    protos = {_style(e): e for e in reversed(entries)}
    pages = {link.get(qn("w:anchor")): _page(link)
             for e in entries for link in e.iter(qn("w:hyperlink"))}
    cached = {link.get(qn("w:anchor")): e for e in entries for link in e.iter(qn("w:hyperlink"))}
    new = []
    anchors = _Anchors(body)
    for p in body.iter(qn("w:p")):
        level = numbering.outline_level(p)
        if level is None or not toc.levels[0] <= level <= toc.levels[1] or p in toc.entries:
            continue
        text = "".join(t.text or "" for t in p.iter(qn("w:t"))).strip()
        if not text:
            continue
        anchor = anchors.of(p, pages)
        proto = next((e for e in (cached.get(anchor), protos.get(f"TOC{level + 1}"),
                                  entries[0] if entries else None) if e is not None), None)
        new.append(_entry(proto, level, labels.get(p, ""), text, anchor, pages.get(anchor)))
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


def _entry(proto: etree._Element | None, level: int, label: str, text: str, anchor: str,
           page: str | None) -> etree._Element:
    """One cached entry: the label, a tab, the heading, a tab, a PAGEREF field."""
    p = etree.Element(qn("w:p"))
    ppr = proto.find(qn("w:pPr")) if proto is not None else None
    if ppr is not None:
        p.append(copy.deepcopy(ppr))
    else:
        etree.SubElement(etree.SubElement(p, qn("w:pPr")), qn("w:pStyle")).set(
            qn("w:val"), f"TOC{level + 1}")
    runs = list(proto.iter(qn("w:r"))) if proto is not None else []
    styled = next((r.find(qn("w:rPr")) for r in runs if r.find(qn("w:t")) is not None and
                   r.find(qn("w:rPr")) is not None), None)
    plain = next((r.find(qn("w:rPr")) for r in runs if r.find(qn("w:tab")) is not None), None)
    link = etree.SubElement(p, qn("w:hyperlink"))
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    tab = lambda: _run(plain, etree.Element(qn("w:tab")))  # noqa: E731
    if label:
        link.extend([_run(styled, _t(label)), tab()])
    link.extend([_run(styled, _t(text)), tab(), _run(plain, _fld("begin")),
                 _run(plain, _t(f" PAGEREF {anchor} \\h ", "w:instrText")),
                 _run(plain, _fld("separate")), _run(plain, _t(page or "")),
                 _run(plain, _fld("end"))])
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
