"""The PowerPoint renderer: fills our own deck templates at the XML level.

Template conventions (see scripts/build_pptx_templates.py):

* a slide whose ``p:cSld`` name starts with ``m3:task`` is a pattern, repeated
  for every key task of the document (patterns in template order); other
  slides are kept once, in place (before or after the key-task slides);
* a table frame named ``m3:<source>`` is filled from that source
  (``activities``, ``risks``, ``updates``, ``stakeholders``): its header row
  names the columns (see ``COLUMN_ROLES``), its data rows are the formatting
  new rows are cloned from (cycled, for banding); rows that do not fit above
  the next shape below the table continue on copies of the slide titled
  "(continued)";
* a text box named ``m3:context`` grows with its text and pushes the table
  below it down;
* ``{{name}}`` fields anywhere on a slide are filled (see ``_deck_values`` and
  ``_task_values``; the engagement's ``placeholders`` fill any others).
"""
from __future__ import annotations

import copy
import posixpath
import re
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from ..engagement import STATUS_CODES, Engagement, TaskStatus
from ..ooxml import drawingml as dml
from ..ooxml.drawingml import paginate
from ..ooxml.package import Package, Template
from ..ooxml.placeholders import fill_fields
from ..ooxml.xml import clean_text, qn
from ..playbook.model import KeyTask, Party, Playbook
from ..playbook.richtext import RichText, Run
from ..plan import Document
from .base import RenderResult
from .common import UNNAMED_LABEL, long_date, named_first, per_template, short_date, unnamed_line
from .drawingml import (DEFAULT_MARGIN_LR, DEFAULT_MARGIN_TB, EMU_PER_INCH, STATUS_COLORS,
                        STATUS_TEXT_COLORS, Cell, cell_margins, font_size, is_bold,
                        set_cell_text, set_run_color, set_shape_fill, text_height)

PRESENTATION = "ppt/presentation.xml"
SLIDE_CT = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"
PATTERN_PREFIX = "m3:task"
TABLE_PREFIX = "m3:"
CONTEXT_NAME = "m3:context"
STATUS_SHAPE = "m3:status"
BOTTOM_MARGIN = int(0.55 * EMU_PER_INCH)  # keep tables clear of the master's footer
GAP = int(0.08 * EMU_PER_INCH)
NONE = "—"
TBD = "TBD"

COLUMN_ROLES: dict[str, str] = {
    "ims ref": "ims", "ims": "ims", "#": "number", "no": "number", "activity": "activity",
    "activities": "activity", "owner": "owner", "% complete": "percent", "complete": "percent",
    "percent complete": "percent", "finish": "finish", "start": "start", "status": "status",
    "responsible party": "party", "party": "party", "role": "role", "customer": "customer",
    "provider": "provider", "qsmo": "qsmo", "type": "type", "description": "description",
    "risk issue": "description", "key recent accomplishments": "accomplishment",
    "accomplishments": "accomplishment", "key upcoming activities": "upcoming",
    "upcoming activities": "upcoming", "upcoming": "upcoming",
}



# -- template analysis (once per Template object) ----------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """A fillable table on a slide, with what row-height estimates need."""

    name: str
    source: str
    roles: tuple[str | None, ...]
    widths: tuple[int, ...]
    sizes: tuple[float, ...]
    margins: tuple[tuple[int, int, int, int], ...]
    header_height: int
    min_row_height: int  # the template's data-row height
    limit: int  # lowest y the table may reach


@dataclass(frozen=True)
class SlideSpec:
    part: str
    per_task: bool
    table: TableSpec | None


@dataclass(frozen=True)
class DeckSpec:
    slides: tuple[SlideSpec, ...]
    width: int
    height: int




@per_template
def analyze(template: Template) -> DeckSpec:
    pres = template.xml(PRESENTATION)
    size = pres.find(qn("p:sldSz"))
    width, height = int(size.get("cx")), int(size.get("cy"))
    targets = _rel_targets(template, PRESENTATION)
    slides = []
    for sld_id in pres.iterfind(f"{qn('p:sldIdLst')}/{qn('p:sldId')}"):
        part = targets[sld_id.get(qn("r:id"))]
        root = template.xml(part)
        name = root.find(qn("p:cSld")).get("name", "")
        slides.append(SlideSpec(part, name.startswith(PATTERN_PREFIX), _table_spec(root, height)))
    return DeckSpec(tuple(slides), width, height)


def _rel_targets(template: Template, part: str) -> dict[str, str]:
    folder, base = posixpath.split(part)
    rels = template.xml(posixpath.join(folder, "_rels", base + ".rels"))
    return {el.get("Id"): posixpath.normpath(posixpath.join(folder, el.get("Target")))
            for el in rels if el.get("TargetMode") != "External"}


def _shapes(slide: etree._Element) -> list[etree._Element]:
    tree = slide.find(f"{qn('p:cSld')}/{qn('p:spTree')}")
    return [el for el in tree if etree.QName(el).localname in ("sp", "graphicFrame", "pic",
                                                                "grpSp", "cxnSp")]


def _shape_name(shape: etree._Element) -> str:
    el = shape.find(f".//{qn('p:cNvPr')}")
    return el.get("name", "") if el is not None else ""


def _offset(shape: etree._Element) -> etree._Element | None:
    return shape.find(f".//{qn('a:off')}")


def _extent(shape: etree._Element) -> etree._Element | None:
    return shape.find(f".//{qn('a:ext')}")


def _table_frame(slide: etree._Element) -> etree._Element | None:
    for shape in _shapes(slide):
        if (etree.QName(shape).localname == "graphicFrame" and
                _shape_name(shape).startswith(TABLE_PREFIX) and
                shape.find(f".//{qn('a:tbl')}") is not None):
            return shape
    return None


def _column_role(header: str) -> str | None:
    key = re.sub(r"[^a-z0-9%#]+", " ", header.lower()).strip()
    return COLUMN_ROLES.get(key)


def _table_spec(slide: etree._Element, slide_height: int) -> TableSpec | None:
    frame = _table_frame(slide)
    if frame is None:
        return None
    tbl = frame.find(f".//{qn('a:tbl')}")
    widths = tuple(int(c.get("w")) for c in tbl.iterfind(f"{qn('a:tblGrid')}/{qn('a:gridCol')}"))
    rows = tbl.findall(qn("a:tr"))
    header = rows[0].findall(qn("a:tc"))
    sample = (rows[1] if len(rows) > 1 else rows[0]).findall(qn("a:tc"))
    headers = ["".join(t.text or "" for t in tc.iter(qn("a:t"))) for tc in header]
    header_h = max([int(rows[0].get("h", "0"))] + [
        text_height([h], w, font_size(tc), is_bold(tc), cell_margins(tc))
        for h, w, tc in zip(headers, widths, header)])
    top = int(_offset(frame).get("y"))
    below = [int(_offset(s).get("y")) for s in _shapes(slide)
             if s is not frame and _offset(s) is not None and int(_offset(s).get("y")) > top]
    limit = min(below + [slide_height - BOTTOM_MARGIN]) - GAP
    return TableSpec(_shape_name(frame), _shape_name(frame)[len(TABLE_PREFIX):],
                     tuple(_column_role(h) for h in headers), widths,
                     tuple(font_size(tc) for tc in sample),
                     tuple(cell_margins(tc) for tc in sample),
                     header_h, int((rows[1] if len(rows) > 1 else rows[0]).get("h", "0")), limit)


# -- content: field values and table rows ------------------------------------------------
Row = dict[str, Cell]


def _deck_values(doc: Document, eng: Engagement) -> dict[str, str]:
    values = dict(eng.placeholders)
    values.update(title=doc.title, agency=eng.agency, program=eng.program, provider=eng.provider,
                  version=eng.version, date=long_date(eng.as_of), phase=str(doc.phase),
                  version_label=doc.version_label)
    version = f"{doc.version_label} (v{eng.version})" if eng.version else doc.version_label
    values["byline"] = "  |  ".join(p for p in (eng.provider, f"Phase {doc.phase}", version) if p)
    return values


def _task_values(kt: KeyTask, eng: Engagement) -> dict[str, str]:
    status = eng.task_status(kt.id)
    pct = f"{status.percent_complete}%" if status.percent_complete is not None else NONE
    code = status.status
    return {
        "key_task_id": kt.id, "key_task_name": kt.name, "workstream": kt.workstream or "",
        "objective": kt.objective.plain,
        "outputs": "; ".join(o.title.plain for o in kt.outputs) or "None listed",
        "inputs": "; ".join(i.title.plain for i in kt.inputs) or "None listed",
        "percent_complete": pct,
        "status": f"{code} ({STATUS_CODES[code]})" if code else "Not reported",
        "start": long_date(status.start) or "Not set",
        "finish": long_date(status.finish) or "Not set",
        "progress": _progress(status),
        "schedule": _schedule(status),
    }


def _progress(status: TaskStatus) -> str:
    """'50% complete  |  Status: G (On track)', or what is missing."""
    parts = []
    if status.percent_complete is not None:
        parts.append(f"{status.percent_complete}% complete")
    if status.status:
        parts.append(f"Status: {status.status} ({STATUS_CODES[status.status]})")
    return "  |  ".join(parts) or "Progress not yet reported"


def _schedule(status: TaskStatus) -> str:
    """'Start October 1, 2026  |  Finish December 15, 2026', or what is missing."""
    parts = [f"{label} {long_date(day)}" for label, day in (("Start", status.start),
                                                              ("Finish", status.finish)) if day]
    return "  |  ".join(parts) or "Schedule not yet set"


def rich_paragraphs(text: RichText) -> list[list[Run]]:
    """Runs split into paragraphs at explicit line breaks."""
    paras: list[list[Run]] = [[]]
    for run in text.runs:
        for i, piece in enumerate(run.text.split("\n")):
            if i:
                paras.append([])
            if piece:
                paras[-1].append(Run(piece, run.bold, run.italic, run.url))
    return [p for p in paras if p] or [[]]


def _status_cell(code: str | None) -> Cell:
    return (Cell.text(code, fill=STATUS_COLORS[code], bold=True,
                      color=STATUS_TEXT_COLORS.get(code, "FFFFFF"))
            if code in STATUS_COLORS else Cell.text(NONE))


def _activity_rows(kt: KeyTask, eng: Engagement) -> list[Row]:
    """One row per activity, with that activity's own % complete, dates and code."""
    rows = []
    for act in kt.activities:
        status = eng.activity_status(f"{kt.id}.{act.number}")
        pct = f"{status.percent_complete}%" if status.percent_complete is not None else NONE
        status_cell = _status_cell(status.status)
        rows.append({
            "ims": Cell.text(f"{kt.id}.{act.number}"), "number": Cell.text(str(act.number)),
            "activity": Cell(rich_paragraphs(act.text)), "owner": Cell.text(eng.owner(act) or TBD),
            "party": Cell.text(" / ".join(p.label for p in act.parties) or NONE),
            "percent": Cell.text(pct), "finish": Cell.text(short_date(status.finish) or NONE),
            "start": Cell.text(short_date(status.start) or NONE), "status": copy.copy(status_cell),
        })
    if not rows:
        rows.append({"activity": Cell.text("No activities are listed for this key task.")})
    return rows


def _risk_rows(kt: KeyTask, eng: Engagement) -> list[Row]:
    status = eng.task_status(kt.id)
    items = [("Risk", r) for r in status.risks] + [("Issue", i) for i in status.issues]
    rows = [{"number": Cell.text(str(n)), "type": Cell.text(kind),
             "description": Cell.text(text)} for n, (kind, text) in enumerate(items, 1)]
    return rows or [{"number": Cell.text(NONE), "type": Cell.text(NONE), "description": Cell.text(
        f"No risks or issues reported as of {long_date(eng.as_of)}.")}]


def _update_rows(kt: KeyTask, eng: Engagement) -> list[Row]:
    status = eng.task_status(kt.id)
    done = [f"• {t}" for t in status.accomplishments] or ["None reported."]
    next_ = [f"• {t}" for t in status.upcoming] or ["None reported."]
    return [{"accomplishment": Cell.text(done[i] if i < len(done) else ""),
             "upcoming": Cell.text(next_[i] if i < len(next_) else "")}
            for i in range(max(len(done), len(next_)))]


def _stakeholder_rows(kt: KeyTask, eng: Engagement) -> list[Row]:
    rows = []
    named, unnamed = named_first(kt.stakeholders, eng)
    for holder in named:
        row: Row = {"role": Cell(rich_paragraphs(holder.role))}
        for party in (Party.CUSTOMER, Party.PROVIDER, Party.QSMO):
            takes_part = party in holder.parties or (Party.SHARED in holder.parties and
                                                     party is not Party.QSMO)
            name = eng.person(holder.role.plain, party) if takes_part else ""
            row[party.value] = Cell.text(name or (TBD if takes_part else NONE))
        rows.append(row)
    if unnamed:   # one row, not a "TBD" row per role
        rows.append({"role": Cell.text(f"{UNNAMED_LABEL}: {unnamed_line(unnamed)}")})
    return rows or [{"role": Cell.text("No stakeholders are listed for this key task.")}]


ROW_SOURCES: dict[str, Callable[[KeyTask, Engagement], list[Row]]] = {
    "activities": _activity_rows, "risks": _risk_rows, "updates": _update_rows,
    "stakeholders": _stakeholder_rows,
}


# -- layout: row heights and pages -------------------------------------------------------
def row_height(row: Row, table: TableSpec) -> int:
    """Estimated height of a row: its tallest cell."""
    heights = [text_height(row[role].plain if role in row else [""], w, size, row.get(
        role, Cell()).bold, margins) for role, w, size, margins in
        zip(table.roles, table.widths, table.sizes, table.margins)]
    return max(heights + [table.min_row_height])


# -- the deck being written --------------------------------------------------------------
class _Deck:
    """Output slides written in order as slide1.xml, slide2.xml, ..."""

    def __init__(self, template: Template, spec: DeckSpec):
        self.template = template
        self.spec = spec
        self.pkg: Package = template.new()
        self.parts: list[str] = []
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def values(self, raw: dict[str, str]) -> dict[str, str]:
        out = {}
        for key, value in raw.items():
            out[key], dirty = clean_text(value)
            if dirty:
                self.warn(f"removed characters not allowed in XML from field {key}")
        return out

    def add(self, slide: SlideSpec, root: etree._Element) -> str:
        """Write one slide (a copy of ``slide``'s part with ``root`` as XML); return its name."""
        name = f"ppt/slides/slide{len(self.parts) + 1}.xml"
        rels = dml.slide_rels_copy(self.pkg, slide.part, current=False)  # minus its notes
        self.pkg.put(name, root, SLIDE_CT)
        self.pkg.put(self.pkg.rels_name(name), rels)
        self.parts.append(name)
        return name

    def add_static(self, slide: SlideSpec, values: dict[str, str]) -> None:
        root = copy.deepcopy(self.template.xml(slide.part))
        fill_fields(root, qn("a:p"), qn("a:t"), values)
        self.add(slide, root)

    def add_task(self, slide: SlideSpec, kt: KeyTask, eng: Engagement,
                 values: dict[str, str]) -> None:
        base = copy.deepcopy(self.template.xml(slide.part))
        fill_fields(base, qn("a:p"), qn("a:t"), values)
        _color_status(base, eng.task_status(kt.id).status)
        table = slide.table
        if table is None or table.source not in ROW_SOURCES:
            self.add(slide, base)
            return
        top = _fit_context(base, self.spec.width)
        rows = ROW_SOURCES[table.source](kt, eng)
        heights = [row_height(r, table) for r in rows]
        available = table.limit - top - table.header_height
        if max(heights) > available:
            self.warn(f"a row of table {table.name} for key task {kt.id} is taller than a slide")
        for n, page in enumerate(paginate(heights, available)):
            root = copy.deepcopy(base)
            if n:
                dml.mark_continued(root)
            name = self.add(slide, root)
            _fill_table(root, table, [rows[i] for i in page], [heights[i] for i in page],
                        lambda url, part=name: self.pkg.hyperlink(part, url), self.warn)
            self.pkg.seal(name)

    def finish(self) -> bytes:
        """Point presentation.xml at the written slides; drop the template's leftovers."""
        dml.set_slide_list(self.pkg, PRESENTATION, self.parts)
        for slide in self.spec.slides:
            if slide.part not in self.parts:
                self.pkg.remove(slide.part)
                self.pkg.remove(self.pkg.rels_name(slide.part))
        dml.set_app_counts(self.pkg, len(self.parts))
        return self.pkg.to_bytes()


def _fit_context(slide: etree._Element, slide_width: int) -> int:
    """Size the context box to its text, move the table below it; return the table's top."""
    frame = _table_frame(slide)
    top = int(_offset(frame).get("y"))
    box = next((s for s in _shapes(slide) if _shape_name(s) == CONTEXT_NAME), None)
    if box is None:
        return top
    off, ext = _offset(box), _extent(box)
    box_top, box_h = int(off.get("y")), int(ext.get("cy"))
    if box_top >= top:
        return top
    gap = top - (box_top + box_h)
    body = box.find(f".//{qn('a:bodyPr')}")
    insets = tuple(int(body.get(k, d)) for k, d in (("lIns", DEFAULT_MARGIN_LR),
                   ("rIns", DEFAULT_MARGIN_LR), ("tIns", DEFAULT_MARGIN_TB),
                   ("bIns", DEFAULT_MARGIN_TB)))
    paras = ["".join(t.text or "" for t in p.iter(qn("a:t"))) for p in box.iter(qn("a:p"))]
    spacing = box.find(f".//{qn('a:spcAft')}/{qn('a:spcPts')}")
    after = int(spacing.get("val")) / 100 if spacing is not None else 0.0
    new_h = text_height(paras, int(ext.get("cx")), font_size(box, 18.0), False, insets, after)
    ext.set("cy", str(new_h))
    top = box_top + new_h + gap
    _offset(frame).set("y", str(top))
    return top


def _color_status(slide: etree._Element, code: str | None) -> None:
    """Fill shapes named ``m3:status`` with the status code's color."""
    if code not in STATUS_COLORS:
        return
    for shape in _shapes(slide):
        if _shape_name(shape) != STATUS_SHAPE:
            continue
        set_shape_fill(shape, STATUS_COLORS[code])
        for rpr in shape.iter(qn("a:rPr")):
            set_run_color(rpr, STATUS_TEXT_COLORS.get(code, "FFFFFF"))


def _fill_table(slide: etree._Element, table: TableSpec, rows: list[Row], heights: list[int],
                link_for: Callable[[str], str], warn: Callable[[str], None]) -> None:
    """Replace the table's data rows with ``rows``, cloned from the template's data rows."""
    frame = _table_frame(slide)
    tbl = frame.find(f".//{qn('a:tbl')}")
    template_rows = tbl.findall(qn("a:tr"))
    header, patterns = template_rows[0], template_rows[1:] or template_rows[:1]
    for tr in template_rows[1:]:
        tbl.remove(tr)
    header.set("h", str(table.header_height))
    for i, (row, h) in enumerate(zip(rows, heights)):
        tr = copy.deepcopy(patterns[i % len(patterns)])
        tr.set("h", str(h))
        for role, tc in zip(table.roles, tr.findall(qn("a:tc"))):
            set_cell_text(tc, row.get(role, Cell()), link_for, warn)
        tbl.append(tr)
    _extent(frame).set("cy", str(table.header_height + sum(heights)))


# -- the renderer ------------------------------------------------------------------------
class PptxRenderer:
    """Renders status decks and briefing decks from our own pptx templates."""

    format = "pptx"

    def render(self, doc: Document, template: Template, engagement: Engagement,
               playbook: Playbook) -> RenderResult:
        spec = analyze(template)
        deck = _Deck(template, spec)
        values = deck.values(_deck_values(doc, engagement))
        patterns = [s for s in spec.slides if s.per_task]
        first = spec.slides.index(patterns[0]) if patterns else len(spec.slides)
        for slide in spec.slides[:first]:
            if not slide.per_task:
                deck.add_static(slide, values)
        for kt in doc.key_tasks:
            task_values = deck.values({**values, **_task_values(kt, engagement)})
            for slide in patterns:
                deck.add_task(slide, kt, engagement, task_values)
        for slide in spec.slides[first:]:
            if not slide.per_task:
                deck.add_static(slide, values)
        return RenderResult(deck.finish(), deck.warnings)
