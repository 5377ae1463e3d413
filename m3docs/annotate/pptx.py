"""The deck annotator: the tags an official PowerPoint template needs, inferred once.

What it writes (the one engine then fills the deck; ``m3docs tag`` shows the guesses):

* **Blanks** anywhere a deck holds text (slides, layouts, masters, and the slide titles
  ``docProps/app.xml`` lists) become fields over the context's names, by the family's blank
  rules (``blanks.py``): ``<<INSERT NAME OF PROGRAM>>`` becomes
  ``{{ program }}``, ``xx/xx/xx`` ``{{ date_mdyy }}``, ``<<Insert Name>>`` the next approver,
  an engagement placeholder's text ``{{ placeholders["..."] }}``. A signer's date stays.
* **Tables found by their header** (``tables.py``: activities,
  milestones, risks, highlights, stakeholders, history, requirements) get one row loop in
  place of their instruction and example rows: ``{%tr for a in ... %}``, a row cloned from
  the template's first styled blank or example row holding the fields, ``{%tr else %}`` with
  the template's rows (kept when the list is empty), ``{%tr endfor %}``. Rows that close
  the table (a total, a note) stay below; the engine continues a table that outgrows its
  slide on "(continued)" copies, its closing rows on the last. A slide that speaks of the
  "next 30-45 days" lists ``window.rows`` (the content model's window). A status cell takes
  the fill and text colour the template shows for each code (a coded cell or a legend shape).
* **The key-task context**: when no table takes the activities, a slide per key task
  (``{%slide for kt in key_tasks %}``) with its objective, inputs, outputs, stakeholders and
  an activity table that continues like any other.
"""
from __future__ import annotations

import copy
import re
import weakref
from dataclasses import dataclass, field

from lxml import etree

from ..ooxml import drawingml as dml
from ..ooxml.package import Package, Template, main_part_name
from ..ooxml.placeholders import paragraph_text
from ..ooxml.xml import qn
from ..playbook.model import Playbook
from . import fields
from .tables import FEED_RULES, FeedRule, TemplateRow, kept_rows_start, \
    match_columns, prototype_index, row_kind, table_rule_fits, window_days
from ..status import STATUS_CODES, WINDOW_DAYS

DESIGN_TYPES = (".presentationml.slideLayout+xml", ".presentationml.slideMaster+xml")
PROPERTY_TYPES = ("extended-properties+xml", "core-properties+xml")
FILLS = frozenset(qn(f) for f in ("a:solidFill", "a:gradFill", "a:blipFill", "a:pattFill",
                                  "a:grpFill", "a:noFill"))
# -- blanks -> fields ------------------------------------------------------------------------
class BlankTagger(fields.BlankTagger):
    """The blank filler's rules, writing tags instead of values; the tags are noted."""

    def __init__(self, placeholders: tuple[str, ...] = ()):  # noqa: D107 (no engagement here)
        self.tags: list[tuple[str, str]] = []   # (blank as written, the tag put there)
        super().__init__(placeholders)

    def value(self, field: str, token: str) -> str | None:
        tag = super().value(field, token)
        if tag is not None:
            self.tags.append((token, tag))
        return tag

    def repl(self, m: re.Match) -> str | None:
        out = super().repl(m)
        if out is not None and not m.groupdict().get("blank") and not any(
                k.startswith("b") and k[1:].isdigit() and v for k, v in m.groupdict().items()):
            self.tags.append((m.group(0), out))   # a literal or a version number
        return out


# -- cells -------------------------------------------------------------------------------------
def cell_text(tc: etree._Element) -> str:
    return "\n".join(paragraph_text(p, qn("a:t")) for p in tc.iter(qn("a:p"))).strip()


def _run_props(body: etree._Element) -> etree._Element | None:
    """Run properties for new text: the first run's, else the end mark's, else the paragraph
    default's; the size taken from the later ones when the first has none."""
    found = [el for el in (body.find(".//" + qn("a:r") + "/" + qn("a:rPr")),
                           body.find(".//" + qn("a:endParaRPr")),
                           body.find(".//" + qn("a:pPr") + "/" + qn("a:defRPr"))) if el is not None]
    if not found:
        return None
    rpr = copy.deepcopy(found[0])
    rpr.tag = qn("a:rPr")
    size = next((el.get("sz") for el in found if el.get("sz")), None)
    if size and not rpr.get("sz"):
        rpr.set("sz", size)
    return rpr


def _paragraph_proto(body: etree._Element, rpr: etree._Element | None) -> etree._Element:
    """An empty paragraph in the formatting of the body's first one (an end mark sized like
    its text, so an empty line keeps the text's size)."""
    paragraphs = body.findall(qn("a:p"))
    proto = copy.deepcopy(paragraphs[0]) if paragraphs else etree.Element(qn("a:p"))
    for child in list(proto):
        if child.tag not in (qn("a:pPr"), qn("a:endParaRPr")):
            proto.remove(child)
    if proto.find(qn("a:endParaRPr")) is None and rpr is not None:
        end = copy.deepcopy(rpr)
        end.tag = qn("a:endParaRPr")
        proto.append(end)
    return proto


def _run(text: str, rpr: etree._Element | None) -> etree._Element:
    run = etree.Element(qn("a:r"))
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    etree.SubElement(run, qn("a:t")).text = text
    return run


def _add_runs(p: etree._Element, runs: list[etree._Element]) -> None:
    end = p.find(qn("a:endParaRPr"))
    for run in runs:
        (end.addprevious if end is not None else p.append)(run)


def _emptied(tc: etree._Element) -> tuple[etree._Element, etree._Element | None,
                                          etree._Element] | None:
    """A cell's text body with its paragraphs taken out: (body, run properties and a
    paragraph to write new text with, both its first paragraph's); None without a body."""
    body = tc.find(qn("a:txBody"))
    if body is None:
        return None
    rpr = _run_props(body)
    proto = _paragraph_proto(body, rpr)
    for p in body.findall(qn("a:p")):
        body.remove(p)
    return body, rpr, proto


def set_cell_lines(tc: etree._Element, lines: list[str]) -> None:
    """Replace a cell's text by ``lines``, one paragraph each, in its first paragraph's
    formatting."""
    emptied = _emptied(tc)
    if emptied is None:
        return
    body, rpr, proto = emptied
    for line in lines or [""]:
        p = copy.deepcopy(proto)
        if line:
            _add_runs(p, [_run(line, rpr)])
        body.append(p)


def _clear_fill(tc: etree._Element) -> None:
    """A cell without its example's status colour (its borders and margins kept)."""
    pr = tc.find(qn("a:tcPr"))
    if pr is None:
        return
    fills = [el for el in pr if el.tag in FILLS]
    for el in fills:
        pr.remove(el)
    if fills:
        for rpr in tc.iter(qn("a:rPr"), qn("a:endParaRPr")):
            for el in rpr.findall(qn("a:solidFill")):
                rpr.remove(el)


@dataclass
class StatusLook:
    """How the template shows a status code: a fill colour and the text's run properties."""

    fill: str | None
    rpr: etree._Element | None


def _hex_fill(parent: etree._Element | None) -> str | None:
    """The RGB of a plain solid fill under ``parent`` (None for theme or other fills)."""
    fill = parent.find(qn("a:solidFill")) if parent is not None else None
    rgb = fill.find(qn("a:srgbClr")) if fill is not None else None
    return rgb.get("val") if rgb is not None and len(rgb) == 0 else None


def status_looks(template: Template, parts: list[str]) -> dict[str, StatusLook]:
    """Status code -> its look in the template: a table cell showing it with a fill, else a
    legend shape showing it."""
    out: dict[str, StatusLook] = {}
    for part in parts:
        for tc in template.xml(part).iter(qn("a:tc")):
            text = cell_text(tc)
            fill = _hex_fill(tc.find(qn("a:tcPr")))
            if text in STATUS_CODES and text not in out and fill:
                out[text] = StatusLook(fill, tc.find(".//" + qn("a:r") + "/" + qn("a:rPr")))
    for part in parts:
        for sp in template.xml(part).iter(qn("p:sp")):
            body = sp.find(qn("p:txBody"))
            text = cell_text(body) if body is not None else ""
            fill = _hex_fill(sp.find(qn("p:spPr")))
            if text in STATUS_CODES and text not in out and fill:
                out[text] = StatusLook(fill, body.find(".//" + qn("a:r") + "/" + qn("a:rPr")))
    return out


FILLS_NAME = "status_fills"   # the table's code -> fill colour map, set in its loop row


def status_fills(looks: dict[str, StatusLook]) -> str:
    """The ``{%tr set %}`` tag naming each code's fill colour ("" when none is shown)."""
    pairs = ", ".join(f'"{c}": "{look.fill}"' for c, look in looks.items())
    return "{%%tr set %s = {%s} %%}" % (FILLS_NAME, pairs) if pairs else ""


def set_status_cell(tc: etree._Element, expr: str, looks: dict[str, StatusLook]) -> None:
    """A status cell: its fill and text colour by the code ``expr`` gives (the template's look
    for that code), no status colour without one. Codes whose text looks alike share a
    branch; the largest group is the ``else``."""
    _clear_fill(tc)
    emptied = _emptied(tc)
    if emptied is None:
        return
    body, rpr, p = emptied
    runs = []
    if looks:
        runs.append(_run('{%% cellbg %s.get(%s, "") %%}' % (FILLS_NAME, expr), rpr))
    groups: dict[bytes, list[str]] = {}
    styles: dict[bytes, etree._Element] = {}
    for code, look in looks.items():
        if look.rpr is not None:
            style = _with_size(look.rpr, rpr)
            key = etree.tostring(style)
            groups.setdefault(key, []).append(code)
            styles[key] = style
    ordered = sorted(groups, key=lambda k: -len(groups[k]))
    if len(ordered) > 1:
        for n, key in enumerate(ordered[1:]):
            codes = ", ".join(f'"{c}"' for c in groups[key])
            runs += [_run("{%%r %s %s in [%s] %%}" % ("if" if n == 0 else "elif", expr, codes),
                          rpr), _run("{{ %s }}" % expr, styles[key])]
        runs += [_run("{%r else %}", rpr), _run("{{ %s }}" % expr, styles[ordered[0]]),
                 _run("{%r endif %}", rpr)]
    else:
        runs.append(_run("{{ %s }}" % expr, styles[ordered[0]] if ordered else rpr))
    _add_runs(p, runs)
    body.append(p)


def _with_size(look: etree._Element, cell: etree._Element | None) -> etree._Element:
    """The code's run properties at the cell's text size."""
    rpr = copy.deepcopy(look)
    if cell is not None and cell.get("sz"):
        rpr.set("sz", cell.get("sz"))
    return rpr


# -- what a table's rows show -------------------------------------------------------------------
@dataclass(frozen=True)
class Loop:
    """How a table kind is filled: the list it loops over (and its item name), each field's
    expression, and whether the loop nests over key tasks."""

    items: str
    var: str
    fields: dict[str, str]
    nested: str = ""          # a loop over key tasks around it: its items' list on ``kt``
    single: bool = False      # one row when ``items`` holds anything (not a loop)


ACTIVITY_FIELDS = {"ims": "a.number", "percent": "a.percent_text", "activity": "a.text",
                   "owner": "a.owner or a.party", "start": "a.start_mdyyyy",
                   "actual_finish": "a.actual_finish_mdyyyy", "finish": "a.finish_mdyyyy",
                   "status": "a.status", "key_task": "a.key_task", "workstream": '""',
                   "notes": '""'}
LOOPS: dict[str, Loop] = {
    "activities": Loop('key_tasks|sum(attribute="activities", start=[])', "a", ACTIVITY_FIELDS),
    "milestones": Loop("kt.outputs", "o", {
        "ims": "kt.id", "milestone": 'o.title ~ " complete"',
        "owner": "kt.owner or kt.leads or kt.parties", "finish": "kt.finish_mdyyyy",
        "actual_finish": 'kt.finish_mdyyyy if kt.status == "B" else ""',
        "status": "kt.status", "notes": '"Key task " ~ kt.title'}, nested="outputs"),
    "risks": Loop("risks_and_issues", "r", {"number": "r.number", "risk": "r.text",
                                            "mitigation": '""', "owner": "r.owner",
                                            "status": '"Open"'}),
    "highlights": Loop("accomplishments or upcoming", "", {
        "accomplishments": "accomplishments", "upcoming": "upcoming"}, single=True),
    "stakeholders": Loop('key_tasks|sum(attribute="stakeholders", start=[])', "s", {
        "role": "s.role", "name": "s.people", "party": "s.parties"}),
    "history": Loop("history", "h", {"version": "h.version", "date": "h.date",
                                     "author": "h.author", "description": "h.description"}),
    "requirements": Loop("rtm", "r", {f: f"r.{f}" for f in (
        "id", "sub_process", "process_area", "description", "type", "source", "priority",
        "decision_maker", "status", "fit_gap", "test_cases", "notes")}),
}
WINDOW_LOOP = Loop("window.rows", "a", ACTIVITY_FIELDS)


def _rule_for(headers: list[str]) -> tuple[FeedRule, dict[int, str]] | None:
    """The table kind whose columns this header row names best (None: not one we fill)."""
    best = None
    for rule in FEED_RULES:
        if rule.name in LOOPS and table_rule_fits(rule, headers):
            cols = match_columns(rule, headers)
            if best is None or len(cols) > len(best[1]):
                best = (rule, cols)
    return best


def _row_shape(tr: etree._Element) -> TemplateRow:
    cells = [tc for tc in tr.findall(qn("a:tc")) if tc.get("hMerge") != "1"]
    return TemplateRow([cell_text(tc) for tc in cells],
                       tuple(int(tc.get("gridSpan", "1")) for tc in cells),
                       tr.find(".//" + qn("a:fld")) is not None)


def _control_row(proto: etree._Element, tags: list[str]) -> etree._Element:
    """A row whose first cell holds only loop tags (the engine removes it)."""
    tr = copy.deepcopy(proto)
    for n, tc in enumerate(tr.findall(qn("a:tc"))):
        set_cell_lines(tc, ["".join(tags)] if n == 0 else [])
        _clear_fill(tc)
    return tr


def tag_table(frame: etree._Element, looks: dict[str, StatusLook],
              days: int | None) -> tuple[str, str] | None:
    """Give a table found by its header its row loop; return (kind, caption) or None."""
    tbl = frame.find(".//" + qn("a:tbl"))
    rows = tbl.findall(qn("a:tr"))
    for h, header in enumerate(rows[:3]):
        found = _rule_for([cell_text(tc) for tc in header.findall(qn("a:tc"))])
        if found is None:
            continue
        rule, by_col = found
        loop = WINDOW_LOOP if rule.name == "activities" and days else LOOPS[rule.name]
        below = rows[h + 1:]
        stay = kept_rows_start([_row_shape(tr) for tr in below], _row_shape(header).layout)
        slots = below[:stay]
        kinds = [row_kind([cell_text(tc) for tc in tr.findall(qn("a:tc"))]) for tr in slots]
        proto = slots[prototype_index(kinds)] if slots else header
        data = _data_row(proto, by_col, loop, looks)
        for tr in slots:
            tbl.remove(tr)
        anchor = header
        prelude = status_fills(looks) if "status" in by_col.values() else ""
        for tr in _loop_rows(proto, data, loop, slots, prelude):
            anchor.addnext(tr)
            anchor = tr
        caption = " | ".join(t for t in map(cell_text, header.findall(qn("a:tc"))) if t)
        return rule.name, caption
    return None


_LITERAL = re.compile(r'"([^"]*)"')


def _data_row(proto: etree._Element, by_col: dict[int, str], loop: Loop,
              looks: dict[str, StatusLook]) -> etree._Element:
    tr = copy.deepcopy(proto)
    cells = tr.findall(qn("a:tc"))
    numbers = {c for c, tc in enumerate(cells)
               if c not in by_col and cell_text(tc).rstrip(".").isdigit()}
    for c, tc in enumerate(cells):
        name = by_col.get(c)
        expr = loop.fields.get(name, '""') if name else None
        if loop.single and name:
            set_cell_lines(tc, ["{%%p for x in %s %%}" % expr, "{{ x.text }}", "{%p endfor %}"])
            _clear_fill(tc)
        elif name == "status" and not expr.startswith('"'):
            set_status_cell(tc, expr, looks)
        elif expr and expr != '""':
            literal = _LITERAL.fullmatch(expr)
            set_cell_lines(tc, [literal.group(1) if literal else "{{ %s }}" % expr])
            if name == "status":
                _clear_fill(tc)
        elif c in numbers:
            set_cell_lines(tc, ["{{ loop.index }}"])
        else:
            set_cell_lines(tc, [])
    return tr


def _loop_rows(proto: etree._Element, data: etree._Element, loop: Loop,
               slots: list[etree._Element], prelude: str = "") -> list[etree._Element]:
    """Control rows around the data row, the template's rows kept for an empty list;
    ``prelude`` (a ``{%tr set %}``) opens the first control row."""
    rows = _loop_rows_of(proto, data, loop, slots)
    if prelude:
        first = rows[0].find(qn("a:tc"))
        set_cell_lines(first, [prelude + cell_text(first)])
    return rows


def _loop_rows_of(proto: etree._Element, data: etree._Element, loop: Loop,
                  slots: list[etree._Element]) -> list[etree._Element]:
    kept = [copy.deepcopy(tr) for tr in slots]
    if loop.single:
        return [_control_row(proto, ["{%%tr if %s %%}" % loop.items]), data,
                _control_row(proto, ["{%tr else %}"]), *kept, _control_row(proto, ["{%tr endif %}"])]
    if loop.nested:
        wanted = 'key_tasks|sum(attribute="%s", start=[])' % loop.nested
        return [_control_row(proto, ["{%%tr if %s %%}" % wanted, "{%tr for kt in key_tasks %}",
                                     "{%%tr for %s in %s %%}" % (loop.var, loop.items)]),
                data, _control_row(proto, ["{%tr endfor %}", "{%tr endfor %}", "{%tr else %}"]),
                *kept, _control_row(proto, ["{%tr endif %}"])]
    opener = ["{%%tr for %s in %s %%}" % (loop.var, loop.items)]
    if not kept:
        return [_control_row(proto, opener), data, _control_row(proto, ["{%tr endfor %}"])]
    return [_control_row(proto, opener), data, _control_row(proto, ["{%tr else %}"]), *kept,
            _control_row(proto, ["{%tr endfor %}"])]


# -- the key-task context slides ---------------------------------------------------------------
Box = tuple[int, int, int, int]
CONTEXT_SIDE = 0.0375                 # the slide's left and right margins, of its width
CONTEXT_TITLE = (0.044, 0.102)        # the title box's top and height, of the slide's height
CONTEXT_TEXT = (0.16, 0.1)            # the text box's top and (grown to fit) height
CONTEXT_TABLE_GAP = 0.02              # between the text box and the activity table
CONTEXT_PT, TABLE_PT = 12, 11
_STATUS = ('kt.status_label ~ (", " ~ kt.percent_text ~ " complete" if kt.percent_text else "")'
           ' ~ (", finish " ~ kt.finish_mdyyyy if kt.finish_mdyyyy else "")')
_INPUTS = 'kt.inputs|map(attribute="title")|join("; ")'
_OUTPUTS = 'kt.outputs|map(attribute="title")|join("; ")'
_NAMED = ('{% for s in kt.stakeholders if s.named %}{{ s.role }} ({{ s.people }})'
          '{{ "; " if not loop.last else "" }}{% endfor %}')
#: The context slide's lines: (label, when it shows, its text).
CONTEXT_LINES = (
    ("Objective: ", "kt.objective", "{{ kt.objective }}"),
    ("Status: ", _STATUS, "{{ %s }}" % _STATUS),
    ("Inputs: ", "kt.inputs", "{{ %s }}" % _INPUTS),
    ("Outputs: ", "kt.outputs", "{{ %s }}" % _OUTPUTS),
    ("Stakeholders: ", 'kt.stakeholders|selectattr("named")|list', _NAMED),
    ("Stakeholders to be named: ", "kt.unnamed_roles", "{{ kt.unnamed_roles }}"),
)
MORE = "More on this key task (activity notes, best practices) is in the M3 Playbook: "


def _boxes(width: int, height: int) -> tuple[Box, Box, Box]:
    x = int(width * CONTEXT_SIDE)
    cx = width - 2 * x
    ty, th = int(height * CONTEXT_TITLE[0]), int(height * CONTEXT_TITLE[1])
    by, bh = int(height * CONTEXT_TEXT[0]), int(height * CONTEXT_TEXT[1])
    table_y = by + bh + int(height * CONTEXT_TABLE_GAP)
    return (x, ty, cx, th), (x, by, cx, bh), (x, table_y, cx, 0)


def context_slide(width: int, height: int, nsmap: dict) -> etree._Element:
    """A slide (in a ``{%slide for kt in key_tasks %}`` loop) with a key task's title, its
    facts in a text box that grows to fit, and its activities in a table that continues."""
    root = etree.Element(qn("p:sld"), nsmap=nsmap)
    tree = etree.SubElement(etree.SubElement(root, qn("p:cSld")), qn("p:spTree"))
    group = etree.SubElement(tree, qn("p:nvGrpSpPr"))
    etree.SubElement(group, qn("p:cNvPr"), id="1", name="")
    etree.SubElement(group, qn("p:cNvGrpSpPr"))
    etree.SubElement(group, qn("p:nvPr"))
    etree.SubElement(tree, qn("p:grpSpPr"))
    title_box, text_box, table_box = _boxes(width, height)
    tree.append(_textbox(2, "Title", title_box, [
        ["{%slide for kt in key_tasks %}"], ["{{ kt.title }}"]], 24, bold=True, title=True))
    lines = []
    for label, test, text in CONTEXT_LINES:
        lines += [["{%%p if %s %%}" % test], [label, text], ["{%p endif %}"]]
    lines += [[MORE, "{{ kt.url }}"]]
    tree.append(_textbox(3, "Context", text_box, lines, CONTEXT_PT, grow=True))
    tree.append(_activity_table(4, table_box))
    end = _textbox(5, "End", (0, 0, 1, 1), [["{%slide endfor %}"]], CONTEXT_PT)
    tree.append(end)
    etree.SubElement(root, qn("p:clrMapOvr")).append(etree.Element(qn("a:masterClrMapping")))
    return root


def _textbox(shape_id: int, name: str, box: Box, lines: list[list[str]], size_pt: int,
             bold: bool = False, grow: bool = False, title: bool = False) -> etree._Element:
    x, y, cx, cy = box
    sp = etree.Element(qn("p:sp"))
    nv = etree.SubElement(sp, qn("p:nvSpPr"))
    etree.SubElement(nv, qn("p:cNvPr"), id=str(shape_id), name=name)
    if title:   # the title placeholder: a continued copy is marked in it
        etree.SubElement(etree.SubElement(nv, qn("p:cNvSpPr")), qn("a:spLocks"), noGrp="1")
        etree.SubElement(etree.SubElement(nv, qn("p:nvPr")), qn("p:ph"), type="title")
    else:
        etree.SubElement(nv, qn("p:cNvSpPr"), txBox="1")
        etree.SubElement(nv, qn("p:nvPr"))
    sppr = etree.SubElement(sp, qn("p:spPr"))
    xfrm = etree.SubElement(sppr, qn("a:xfrm"))
    etree.SubElement(xfrm, qn("a:off"), x=str(x), y=str(y))
    etree.SubElement(xfrm, qn("a:ext"), cx=str(cx), cy=str(cy))
    etree.SubElement(etree.SubElement(sppr, qn("a:prstGeom"), prst="rect"), qn("a:avLst"))
    body = etree.SubElement(sp, qn("p:txBody"))
    pr = etree.SubElement(body, qn("a:bodyPr"), wrap="square")
    etree.SubElement(pr, qn("a:spAutoFit") if grow else qn("a:normAutofit"))
    etree.SubElement(body, qn("a:lstStyle"))
    for pieces in lines:
        p = etree.SubElement(body, qn("a:p"))
        for n, text in enumerate(pieces):
            rpr = etree.Element(qn("a:rPr"), lang="en-US", sz=str(size_pt * 100))
            if bold or (len(pieces) > 1 and n == 0):
                rpr.set("b", "1")
            p.append(_run(text, rpr))
    return sp


TABLE_STYLE = "{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}"  # PowerPoint's built-in Medium Style 2
TABLE_COLUMNS = (("IMS", "a.number", 0.1), ("Activity", "a.text", 0.65),
                 ("Owner", "a.owner or a.party", 0.25))


def _activity_table(shape_id: int, box: Box) -> etree._Element:
    """The context slide's activity table: a header and a row loop over the activities."""
    x, y, cx, _ = box
    widths = [int(cx * share) for _, _, share in TABLE_COLUMNS]
    row_h = int(TABLE_PT * 1.2 * dml.EMU_PER_POINT) + 2 * dml.DEFAULT_MARGIN_TB
    frame = etree.Element(qn("p:graphicFrame"))
    nv = etree.SubElement(frame, qn("p:nvGraphicFramePr"))
    etree.SubElement(nv, qn("p:cNvPr"), id=str(shape_id), name="Activities")
    etree.SubElement(etree.SubElement(nv, qn("p:cNvGraphicFramePr")), qn("a:graphicFrameLocks"),
                     noGrp="1")
    etree.SubElement(nv, qn("p:nvPr"))
    xfrm = etree.SubElement(frame, qn("p:xfrm"))
    etree.SubElement(xfrm, qn("a:off"), x=str(x), y=str(y))
    etree.SubElement(xfrm, qn("a:ext"), cx=str(sum(widths)), cy=str(4 * row_h))
    data = etree.SubElement(etree.SubElement(frame, qn("a:graphic")), qn("a:graphicData"),
                            uri="http://schemas.openxmlformats.org/drawingml/2006/table")
    tbl = etree.SubElement(data, qn("a:tbl"))
    etree.SubElement(etree.SubElement(tbl, qn("a:tblPr"), firstRow="1", bandRow="1"),
                     qn("a:tableStyleId")).text = TABLE_STYLE
    grid = etree.SubElement(tbl, qn("a:tblGrid"))
    for w in widths:
        etree.SubElement(grid, qn("a:gridCol"), w=str(w))
    texts = [[h for h, _, _ in TABLE_COLUMNS], ["{%tr for a in kt.activities %}", "", ""],
             ["{{ %s }}" % e for _, e, _ in TABLE_COLUMNS], ["{%tr endfor %}", "", ""]]
    for n, row in enumerate(texts):
        tr = etree.SubElement(tbl, qn("a:tr"), h=str(row_h))
        for text in row:
            tc = etree.SubElement(tr, qn("a:tc"))
            body = etree.SubElement(tc, qn("a:txBody"))
            etree.SubElement(body, qn("a:bodyPr"))
            etree.SubElement(body, qn("a:lstStyle"))
            p = etree.SubElement(body, qn("a:p"))
            rpr = etree.Element(qn("a:rPr"), lang="en-US", sz=str(TABLE_PT * 100))
            if n == 0:
                rpr.set("b", "1")
            if text:
                p.append(_run(text, rpr))
            end = copy.deepcopy(rpr)
            end.tag = qn("a:endParaRPr")
            p.append(end)
            etree.SubElement(tc, qn("a:tcPr"))
    return frame


# -- the deck -------------------------------------------------------------------------------------
def main_part(template: Template) -> str:
    return main_part_name(template, "ppt/presentation.xml")


def _parts_of_type(template: Template, suffixes: tuple[str, ...]) -> list[str]:
    parts = [el.get("PartName", "").lstrip("/")
             for el in template.xml("[Content_Types].xml").findall(qn("ct:Override"))
             if el.get("ContentType", "").endswith(suffixes)]
    return [p for p in parts if p in template.raw]


def _frames(root: etree._Element) -> list[etree._Element]:
    return [gf for gf in root.iter(qn("p:graphicFrame"))
            if gf.find(".//" + qn("a:tbl")) is not None]


def _tag_blanks(root: etree._Element, tagger: BlankTagger) -> int:
    before = len(tagger.tags)
    for p in root.iter(qn("a:p")):
        tagger.paragraph(p, qn("a:t"))
    return len(tagger.tags) - before


@dataclass
class Annotation:
    """What the annotator inferred, one line a guess."""

    notes: list[str] = field(default_factory=list)
    activities_placed: bool = False


class DeckAnnotator:
    """The annotator of decks (``annotate.annotator_for("pptx")``)."""

    format = "pptx"

    def annotate(self, template: Template, playbook: Playbook | None = None,
                 placeholders: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
        """The tagged deck and notes on what was inferred (the playbook is not needed: the
        rules read the template only)."""
        pkg = template.new()
        main = main_part(template)
        tagger = BlankTagger(tuple(placeholders))
        found = Annotation()
        slides = dml.deck_slides(pkg, main)
        parts = [part for _, part in slides]
        looks = status_looks(template, parts)
        for number, (_, part) in enumerate(slides, 1):
            self._slide(pkg, part, number, tagger, looks, found)
        for part in _parts_of_type(template, DESIGN_TYPES):
            root = copy.deepcopy(template.xml(part))
            if _tag_blanks(root, tagger):
                pkg.put(part, root)
                found.notes.append(f"{part}: blanks became fields")
        self._properties(pkg, tagger, found)
        if not found.activities_placed and slides:
            self._context_slides(pkg, main, slides, found)
        found.notes[:0] = [f"blank {token!r} -> {tag}" for token, tag in
                           dict.fromkeys(tagger.tags)]
        return pkg.to_bytes(), found.notes

    def _slide(self, pkg: Package, part: str, number: int, tagger: BlankTagger,
               looks: dict[str, StatusLook], found: Annotation) -> None:
        source = pkg.template.xml(part)
        frames = _frames(source)
        texts = [paragraph_text(p, qn("a:t")) for p in source.iter(qn("a:p"))]
        if not frames and not any(tagger.finds(t) for t in texts):
            return   # nothing to tag: the slide stays as it is
        root = copy.deepcopy(source)
        changed = _tag_blanks(root, tagger) > 0
        days = window_days(texts)
        for frame in _frames(root):
            done = tag_table(frame, looks, days)
            if done is None:
                continue
            kind, caption = done
            changed = True
            found.activities_placed |= kind == "activities"
            how = f" (the next {WINDOW_DAYS} days: window.rows)" if kind == "activities" \
                and days else ""
            found.notes.append(f"slide {number}, table {dml.shape_name(frame)!r} "
                               f"[{caption}]: a row per {kind}{how}")
            if days and kind == "activities" and days != WINDOW_DAYS:
                found.notes.append(f"slide {number} speaks of the next {days} days; the "
                                   f"context's window is {WINDOW_DAYS} days")
        if changed:
            pkg.put(part, root)

    def _properties(self, pkg: Package, tagger: BlankTagger, found: Annotation) -> None:
        """The slide titles app.xml lists and core.xml's title, tagged as the slides are."""
        for part in _parts_of_type(pkg.template, PROPERTY_TYPES):
            if not any(tagger.finds(node.text or "") for node in pkg.view(part).iter()):
                continue
            for node in pkg.xml(part).iter():
                if isinstance(node.tag, str) and node.text and tagger.finds(node.text):
                    node.text = tagger.text(node.text)
            found.notes.append(f"{part}: blanks became fields")

    def _context_slides(self, pkg: Package, main: str, slides: list, found: Annotation) -> None:
        last_id, last_part = slides[-1]
        width, height = dml.slide_size(pkg.template, main)
        root = context_slide(width, height, pkg.template.xml(last_part).nsmap)
        dml.insert_slide_copy(pkg, main, last_part, root, last_id)
        found.notes.append("no table takes the activities: a key-task context slide per key "
                           "task is added at the end")


ANNOTATOR = DeckAnnotator()
_CACHE: "weakref.WeakKeyDictionary[Template, dict]" = weakref.WeakKeyDictionary()


def annotated(template: Template, placeholders: tuple[str, ...] = ()) -> Template:
    """The tagged deck of an official template, annotated once per process (per set of the
    engagement's placeholder keys)."""
    by_keys = _CACHE.setdefault(template, {})
    found = by_keys.get(placeholders)
    if found is None:
        data, _ = ANNOTATOR.annotate(template, None, placeholders)
        found = by_keys[placeholders] = Template(template.path, data)
    return found


__all__ = ["ANNOTATOR", "DeckAnnotator", "annotated"]
