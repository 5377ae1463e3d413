"""DrawingML helpers for slides: colors, table cells, text runs and text-height estimates.

Shared by the pptx renderer and the script that builds our deck templates, so
the two agree on status colors and on how much text fits in a table cell.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Iterable

from lxml import etree

from ..ooxml import drawingml as dml
from ..ooxml.drawingml import (DEFAULT_MARGIN_LR, DEFAULT_MARGIN_TB, EMU_PER_INCH,  # noqa: F401
                               EMU_PER_POINT, wrapped_lines)
from ..ooxml.xml import NS, clean_text, qn
from ..playbook.richtext import Run

# average advance of a proportional sans character, in ems (conservative), and line height
METRICS = dml.TextMetrics(char_em=0.54, bold_char_em=0.58, line_spacing=1.2)

# Status codes of the M3 dashboard: fill color and text color of a status cell.
STATUS_COLORS: dict[str, str] = {"B": "1F5FAD", "G": "2E8540", "Y": "F2C037", "R": "C0392B",
                                 "P": "7D5BA6"}
STATUS_TEXT_COLORS: dict[str, str] = {"Y": "1F1F1F"}
STATUS_LEGEND: dict[str, str] = {"B": "Completed", "G": "On track", "Y": "Late, not critical",
                                 "R": "Late, critical or high risk", "P": "Upcoming"}

# The palette of our own deck templates.
NAVY = "1B365D"
BLUE = "2C5A8C"
INK = "1F2A37"
GREY = "5B6675"
RULE = "C9D1DC"
BAND = "F2F5F9"
PANEL = "EEF2F7"
WHITE = "FFFFFF"

LinkFor = Callable[[str], str]
"""Maps a URL to the relationship id of an external hyperlink on the current slide."""


@dataclass
class Cell:
    """The content of one table cell: paragraphs of runs, and an optional fill."""

    paragraphs: list[list[Run]] = field(default_factory=list)
    fill: str | None = None
    color: str | None = None
    bold: bool = False

    @classmethod
    def text(cls, text: str, **kw) -> "Cell":
        return cls([[Run(text)]] if text else [], **kw)

    @property
    def plain(self) -> list[str]:
        return ["".join(r.text for r in para) for para in self.paragraphs]


def a(tag: str, **attrs: str) -> etree._Element:
    """A new DrawingML element ``a:tag``."""
    return etree.Element(qn(f"a:{tag}"), {k: v for k, v in attrs.items()}, nsmap={"a": NS["a"]})


def solid_fill(hex_color: str) -> etree._Element:
    fill = a("solidFill")
    etree.SubElement(fill, qn("a:srgbClr"), val=hex_color)
    return fill


# -- text estimates ----------------------------------------------------------------------
def text_height(paragraphs: Iterable[str], width: int, size_pt: float, bold: bool = False,
                margins: tuple[int, int, int, int] = (DEFAULT_MARGIN_LR, DEFAULT_MARGIN_LR,
                                                      DEFAULT_MARGIN_TB, DEFAULT_MARGIN_TB),
                space_after_pt: float = 0.0) -> int:
    """Estimated height in EMU of paragraphs set at ``size_pt`` in a box ``width`` EMU wide
    (the shared model of ``ooxml.drawingml``, with our decks' metrics)."""
    return dml.text_height(paragraphs, width, size_pt, bold, margins, space_after_pt, METRICS)


# -- table cells -------------------------------------------------------------------------
def cell_margins(tc: etree._Element) -> tuple[int, int, int, int]:
    pr = tc.find(qn("a:tcPr"))
    get = (lambda k, d: int(pr.get(k, d))) if pr is not None else (lambda k, d: d)
    return (get("marL", DEFAULT_MARGIN_LR), get("marR", DEFAULT_MARGIN_LR),
            get("marT", DEFAULT_MARGIN_TB), get("marB", DEFAULT_MARGIN_TB))


def first_run_props(tc_or_body: etree._Element) -> etree._Element | None:
    """The run properties a cell's text starts with (or its end-of-paragraph properties)."""
    for tag in ("a:rPr", "a:endParaRPr"):
        el = tc_or_body.find(f".//{qn(tag)}")
        if el is not None:
            return el
    return None


def font_size(tc: etree._Element, default: float = 18.0) -> float:
    rpr = first_run_props(tc)
    if rpr is not None and rpr.get("sz"):
        return int(rpr.get("sz")) / 100
    return default


def is_bold(tc: etree._Element) -> bool:
    rpr = first_run_props(tc)
    return rpr is not None and rpr.get("b") == "1"


_TCPR_AFTER_FILL = ("headers", "extLst")
_FILLS = ("noFill", "solidFill", "gradFill", "blipFill", "pattFill", "grpFill")


def set_cell_fill(tc: etree._Element, hex_color: str) -> None:
    """Give a table cell a solid fill, replacing any fill it had (schema order kept)."""
    pr = tc.find(qn("a:tcPr"))
    if pr is None:
        pr = etree.SubElement(tc, qn("a:tcPr"))
    for tag in _FILLS:
        for el in pr.findall(qn(f"a:{tag}")):
            pr.remove(el)
    fill = solid_fill(hex_color)
    after = [el for el in pr if etree.QName(el).localname in _TCPR_AFTER_FILL]
    if after:
        after[0].addprevious(fill)
    else:
        pr.append(fill)


def set_shape_fill(shape: etree._Element, hex_color: str) -> None:
    """Give a shape a solid fill (in ``p:spPr``, after its geometry)."""
    sp_pr = shape.find(qn("p:spPr"))
    for tag in _FILLS:
        for el in sp_pr.findall(qn(f"a:{tag}")):
            sp_pr.remove(el)
    geometry = [el for el in sp_pr if etree.QName(el).localname in ("xfrm", "custGeom",
                                                                    "prstGeom")]
    if geometry:
        geometry[-1].addnext(solid_fill(hex_color))
    else:
        sp_pr.insert(0, solid_fill(hex_color))


def set_run_color(rpr: etree._Element, hex_color: str) -> None:
    """Set a run's text color (solidFill goes after a:ln, before effects)."""
    for tag in _FILLS:
        for el in rpr.findall(qn(f"a:{tag}")):
            rpr.remove(el)
    fill = solid_fill(hex_color)
    ln = rpr.find(qn("a:ln"))
    if ln is not None:
        ln.addnext(fill)
    else:
        rpr.insert(0, fill)


def make_run(text: str, style: etree._Element | None, run: Run, link_for: LinkFor | None,
             color: str | None = None, bold: bool = False) -> etree._Element:
    """An ``a:r`` with the cell's run style, the run's emphasis and, for a URL, a hyperlink."""
    r = a("r")
    rpr = copy.deepcopy(style) if style is not None else a("rPr")
    rpr.tag = qn("a:rPr")
    if run.bold or bold:
        rpr.set("b", "1")
    if run.italic:
        rpr.set("i", "1")
    if color:
        set_run_color(rpr, color)
    if run.url and link_for is not None:
        for tag in _FILLS:
            for el in rpr.findall(qn(f"a:{tag}")):
                rpr.remove(el)
        rpr.set("u", "sng")
        link = etree.SubElement(rpr, qn("a:hlinkClick"))
        link.set(qn("r:id"), link_for(run.url))
    r.append(rpr)
    t = etree.SubElement(r, qn("a:t"))
    t.text = text
    return r


def set_cell_text(tc: etree._Element, cell: Cell, link_for: LinkFor | None,
                  warn: Callable[[str], None]) -> None:
    """Replace a cell's paragraphs with ``cell``'s, keeping the cell's paragraph and run style."""
    body = tc.find(qn("a:txBody"))
    old = body.findall(qn("a:p"))
    ppr = old[0].find(qn("a:pPr")) if old else None
    style = first_run_props(old[0]) if old else None
    for p in old:
        body.remove(p)
    for para in cell.paragraphs or [[]]:
        p = etree.SubElement(body, qn("a:p"))
        if ppr is not None:
            p.append(copy.deepcopy(ppr))
        for run in para:
            text, dirty = clean_text(run.text)
            if dirty:
                warn(f"removed characters not allowed in XML from {run.text[:40]!r}")
            if text:
                p.append(make_run(text, style, run, link_for, cell.color, cell.bold))
        end = copy.deepcopy(style) if style is not None else a("endParaRPr")
        end.tag = qn("a:endParaRPr")
        for child in list(end):
            if etree.QName(child).localname == "hlinkClick":
                end.remove(child)
        p.append(end)
    if cell.fill:
        set_cell_fill(tc, cell.fill)
