"""Fill m3docs' own Excel templates at the SpreadsheetML level.

A template is read as sheets of cells. ``{{name}}`` fields are filled in every
text cell and page header/footer. On each sheet the row with the most text
cells is a table header (when its columns are recognized) and the row under it
is the example row: every written row reuses that row's cell styles, and the
data validations and conditional formats on it are stretched over the written
rows. Tables are recognized by their columns' headers: requirements (an RTM),
key-task activities, stakeholders and approvals.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Union

from lxml import etree

from ..engagement import STATUS_CODES, UNNAMED, Engagement
from ..ooxml.package import Package, Template
from ..ooxml.placeholders import fill_fields
from ..ooxml.xml import NS, qn
from ..playbook.model import KeyTask, Party, Playbook
from ..playbook.richtext import BULLET
from ..plan import Document
from . import sheetml as sm
from .base import RenderResult
from .common import UNNAMED_LABEL, long_date, named_first, per_template, unnamed_line

Value = Union[str, int, float, dt.date, None]
Record = dict[str, Value]
FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
REQUIREMENT_STATUS = "Pending Approval-New"
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
_R = "{%s}" % NS["r"]

# Header text (lowercase, '*' and extra spaces removed) -> column field; first match wins.
COLUMN_RULES: tuple[tuple[str, str | None], ...] = (
    (r"fit ?/ ?gap (description|analysis)|resolution", None),
    (r"^ims\b|^wbs\b", "ims"),
    (r"requirements? (unique )?id|^id\b|unique id", "id"),
    (r"sub ?process", "sub_process"),
    (r"process area", "process_area"),
    (r"^fit ?/ ?gap$", "fit_gap"),
    (r"produces|uses", "task_role"),
    (r"^objective", "objective"),
    (r"^inputs?$", "inputs"),
    (r"^outputs?$", "outputs"),
    (r"best practice", "best_practices"),
    (r"key task", "key_task"),
    (r"description|definition", "description"),
    (r"decision maker", "decision_maker"),
    (r"requirement type|^type$", "type"),
    (r"source", "source"),
    (r"priority", "priority"),
    (r"test case", "test_cases"),
    (r"comment|remark|^notes?$", "notes"),
    (r"^#$|^no\.?$|^number$", "number"),
    (r"^group", "group"),
    (r"^activit", "activity"),
    (r"responsible part|^part(y|ies)$", "parties"),
    (r"^owner", "owner"),
    (r"^status", "status"),
    (r"% complete|percent", "percent"),
    (r"^finish|^end date", "finish"),
    (r"^start", "start"),
    (r"^(stakeholder )?role$", "role"),
    (r"^customer", "customer"),
    (r"^provider", "provider"),
    (r"^qsmo", "qsmo"),
    (r"^name$", "name"),
    (r"^title$", "title"),
)
# Tables that are forms on a page (no filter, frozen panes or refitted widths), and how
# many rows they keep when there is nothing to write.
FORM_TABLES = {"approvals": 3}
# A table's kind: the fields it must have (all of the first set, one of the second).
TABLE_KINDS: tuple[tuple[str, frozenset, frozenset], ...] = (
    ("requirements", frozenset({"id", "description"}),
     frozenset({"process_area", "priority", "fit_gap", "decision_maker"})),
    ("activities", frozenset({"activity"}), frozenset({"key_task", "owner", "parties"})),
    ("key_tasks", frozenset({"key_task", "objective"}),
     frozenset({"inputs", "outputs", "best_practices"})),
    ("stakeholders", frozenset({"role"}), frozenset({"customer", "provider", "qsmo"})),
    ("approvals", frozenset({"name", "title"}), frozenset({"name"})),
)


# -- template analysis (cached per Template) ---------------------------------------------
@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str | None
    style: int
    width: float | None


@dataclass(frozen=True)
class Table:
    kind: str
    header_row: int
    columns: tuple[Column, ...]
    min_height: float | None

    @property
    def example_row(self) -> int:
        return self.header_row + 1

    @property
    def span(self) -> tuple[int, int]:
        return self.columns[0].index, self.columns[-1].index


@dataclass(frozen=True)
class Sheet:
    name: str
    part: str
    local_id: int
    table: Table | None
    field_cells: tuple[str, ...]
    footer_fields: bool


@dataclass(frozen=True)
class Layout:
    sheets: tuple[Sheet, ...]


@per_template
def layout_of(template: Template) -> Layout:
    """Which sheet is which in a template: analysed once per Template object."""
    book = template.xml("xl/workbook.xml")
    rels = {el.get("Id"): el.get("Target") for el in template.xml("xl/_rels/workbook.xml.rels")}
    shared = sm.shared_strings(template.xml("xl/sharedStrings.xml")
                               if "xl/sharedStrings.xml" in template.raw else None)
    sheets = []
    for i, el in enumerate(book.find(qn("x:sheets"))):
        target = rels[el.get(_R + "id")]
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        root = template.xml(part)
        if root.find(qn("x:sheetData")) is None:  # a chart sheet or dialog sheet
            continue
        texts = _texts(root, shared)
        footer = any(FIELD.search(h.text or "") for h in _header_footer(root))
        sheets.append(Sheet(el.get("name"), part, i, _find_table(root, texts),
                            tuple(r for r, t in texts.items() if FIELD.search(t)), footer))
    return Layout(tuple(sheets))


def _texts(root: etree._Element, shared: list[str]) -> dict[str, str]:
    """Cell reference -> text, for every text cell of a sheet."""
    out = {}
    for _, row in sm.rows_of(root.find(qn("x:sheetData"))):
        for c in row.findall(qn("x:c")):
            if c.get("t") in ("s", "inlineStr", "str"):
                text = sm.cell_text(c, shared)
                if text.strip():
                    out[c.get("r")] = text
    return out


def _find_table(root: etree._Element, texts: dict[str, str]) -> Table | None:
    """The sheet's table: its header is the row with the most text cells."""
    per_row: dict[int, list[tuple[int, str]]] = {}
    for ref, text in texts.items():
        col, row = sm.split_ref(ref)
        per_row.setdefault(row, []).append((col, text))
    if not per_row:
        return None
    header_row = min(per_row, key=lambda r: (-len(per_row[r]), r))
    if len(per_row[header_row]) < 2:
        return None
    styles, height = _example_styles(root, header_row + 1)
    widths = sm.column_widths(root)
    columns = tuple(Column(c, t.strip(), column_field(t), styles.get(c, 0), widths.get(c))
                    for c, t in sorted(per_row[header_row]))
    kind = table_kind({c.field for c in columns if c.field})
    return Table(kind, header_row, columns, height) if kind else None


def _example_styles(root: etree._Element, row_number: int) -> tuple[dict[int, int], float | None]:
    for r, row in sm.rows_of(root.find(qn("x:sheetData"))):
        if r == row_number:
            styles = {c: int(cell.get("s", "0")) for c, cell in sm.cells_of(row)}
            return styles, float(row.get("ht")) if row.get("ht") else None
    return {}, None


def column_field(header: str) -> str | None:
    """The field a column holds, from its header text."""
    norm = " ".join(header.replace("*", " ").lower().split())
    for pattern, field in COLUMN_RULES:
        if re.search(pattern, norm):
            return field
    return None


def table_kind(fields: set[str]) -> str | None:
    for kind, needs, any_of in TABLE_KINDS:
        if needs <= fields and fields & any_of:
            return kind
    return None


def _header_footer(root: etree._Element) -> list[etree._Element]:
    hf = root.find(qn("x:headerFooter"))
    return list(hf) if hf is not None else []


# -- what goes in the cells -----------------------------------------------------------------

def field_values(doc: Document, engagement: Engagement, playbook: Playbook) -> dict[str, str]:
    """Values of the ``{{name}}`` fields."""
    phase = playbook.phase(doc.phase)
    values = {k: v for k, v in engagement.placeholders.items() if FIELD.fullmatch(f"{{{{{k}}}}}")}
    values.update(
        title=doc.title, program=engagement.program, agency=engagement.agency,
        provider=engagement.provider, version=engagement.version,
        date=long_date(engagement.as_of), phase=f"Phase {phase.number}: {phase.name}",
        phase_name=phase.name, version_label=doc.version_label,
        key_tasks=", ".join(kt.id for kt in doc.key_tasks))
    return values


def parties_label(parties: tuple[Party, ...]) -> str:
    return ", ".join(p.label for p in parties)


def task_role(doc: Document, kt: KeyTask) -> str:
    """Whether a key task produces or uses the document."""
    roles = [name for name, tasks in (("Produces", doc.outputs_of), ("Uses", doc.inputs_of))
             if any(t.id == kt.id for t in tasks)]
    return ", ".join(roles)


def requirement_records(doc: Document, engagement: Engagement, playbook: Playbook) -> list[Record]:
    """The engagement's requirements, then one row per activity of the document's key tasks."""
    out: list[Record] = [dict(r.__dict__, status=r.status or REQUIREMENT_STATUS)
                         for r in engagement.requirements]
    for kt in doc.key_tasks:
        for act in kt.activities:
            notes = [f"Responsible party: {parties_label(act.parties)}"]
            if act.group:
                notes.insert(0, f"Activity group: {act.group.plain}")
            out.append({"id": f"{kt.id}-{act.number:02d}", "process_area": kt.workstream or "",
                        "sub_process": kt.name, "description": act.text.plain,
                        "source": f"M3 Playbook {kt.id}",
                        "decision_maker": engagement.owner(act), "status": REQUIREMENT_STATUS,
                        "notes": "; ".join(notes)})
    return out


def key_task_records(doc: Document, engagement: Engagement, playbook: Playbook) -> list[Record]:
    """One row per key task: its objective, documents, best practices and activity notes."""
    return [{"key_task": f"{kt.id} {kt.name}", "task_role": task_role(doc, kt),
             "objective": kt.objective.plain,
             "inputs": bullets(r.title.plain for r in kt.inputs),
             "outputs": bullets(r.title.plain for r in kt.outputs),
             "best_practices": bullets(b.plain for b in kt.best_practices),
             "notes": kt.activities_text.plain if kt.activities_text else ""}
            for kt in doc.key_tasks]


def bullets(items: Iterable[str]) -> str:
    """Items as lines of one cell, each with a bullet."""
    return "\n".join(f"{BULLET}{item}" for item in items if item)


def activity_records(doc: Document, engagement: Engagement, playbook: Playbook) -> list[Record]:
    """One row per activity with its IMS number and its own figures. The Status cell holds
    only a code set by hand (the engagement's, a schedule's Status column): a code the rule
    computed is left out, so that the workbook read back as a schedule is judged again."""
    out: list[Record] = []
    for kt in doc.key_tasks:
        for act in kt.activities:
            st = engagement.activity_status(f"{kt.id}.{act.number}")
            code = st.status if st.source != "rule" else None
            out.append({"key_task": f"{kt.id} {kt.name}", "task_role": task_role(doc, kt),
                        "ims": f"{kt.id}.{act.number}",
                        "number": act.number, "group": act.group.plain if act.group else "",
                        "activity": act.text.plain, "parties": parties_label(act.parties),
                        "owner": engagement.owner(act),
                        "status": STATUS_CODES.get(code or "", ""),
                        "percent": None if st.percent_complete is None
                        else st.percent_complete / 100, "start": st.start,
                        "finish": st.finish})
    return out


def stakeholder_records(doc: Document, engagement: Engagement,
                        playbook: Playbook) -> list[Record]:
    out: list[Record] = []
    for kt in doc.key_tasks:
        named, unnamed = named_first(kt.stakeholders, engagement)
        for sh in named:
            role = sh.role.plain
            rec: Record = {"key_task": f"{kt.id} {kt.name}", "role": role,
                           "parties": parties_label(sh.parties)}
            for party in (Party.CUSTOMER, Party.PROVIDER, Party.QSMO):
                takes_part = party in sh.parties or (Party.SHARED in sh.parties
                                                     and party is not Party.QSMO)
                rec[party.value] = (engagement.person(role, party) or UNNAMED) \
                    if takes_part else "\u2014"
            out.append(rec)
        if unnamed:   # one row, not a "to be named" row per role
            out.append({"key_task": f"{kt.id} {kt.name}",
                        "role": f"{UNNAMED_LABEL}: {unnamed_line(unnamed)}", "parties": ""})
    return out


def approval_records(doc: Document, engagement: Engagement, playbook: Playbook) -> list[Record]:
    return [{"name": name, "title": title} for name, title in engagement.approvers]


RECORDS: dict[str, Callable[[Document, Engagement, Playbook], list[Record]]] = {
    "requirements": requirement_records, "key_tasks": key_task_records,
    "activities": activity_records,
    "stakeholders": stakeholder_records, "approvals": approval_records,
}


# -- writing ------------------------------------------------------------------------------
class XlsxRenderer:
    """Renders a Document into one of m3docs' own Excel templates."""

    format = "xlsx"

    def render(self, doc: Document, template: Template, engagement: Engagement,
               playbook: Playbook) -> RenderResult:
        layout = layout_of(template)
        pkg = template.new()
        warnings: list[str] = []
        values = {k: sm.safe_text(v, warnings, f"field {k}")
                  for k, v in field_values(doc, engagement, playbook).items()}
        filters: dict[int, str] = {}
        for sheet in layout.sheets:
            if sheet.field_cells or sheet.footer_fields:
                _fill_sheet_fields(pkg.xml(sheet.part), sheet, values, warnings,
                                   lambda: _shared_items(template))
            if sheet.table:
                records = RECORDS[sheet.table.kind](doc, engagement, playbook)
                rng = write_table(pkg.xml(sheet.part), sheet, records, warnings)
                if rng:
                    filters[sheet.local_id] = rng
        _set_filter_names(pkg, layout, filters)
        _set_core(pkg, doc.title, engagement.as_of)
        return RenderResult(pkg.to_bytes(), warnings)


def _fill_sheet_fields(root: etree._Element, sheet: Sheet, values: dict[str, str],
                       warnings: list[str],
                       shared: Callable[[], list[etree._Element]]) -> None:
    """Fill fields in the sheet's text cells (made inline strings) and headers/footers."""
    wanted = set(sheet.field_cells)
    for _, row in sm.rows_of(root.find(qn("x:sheetData"))):
        for c in row.findall(qn("x:c")):
            if c.get("r") in wanted:
                if c.get("t") == "s":
                    _to_inline(c, shared())
                _fill_inline(c, values, warnings, f"{sheet.name}!{c.get('r')}")
    for el in _header_footer(root):
        if el.text and FIELD.search(el.text):
            el.text = FIELD.sub(lambda m: values.get(m.group(1), m.group(0)).replace("&", "&&"),
                                el.text)


def _shared_items(template: Template) -> list[etree._Element]:
    """The template's shared-string items (read-only)."""
    name = "xl/sharedStrings.xml"
    return template.xml(name).findall(qn("x:si")) if name in template.raw else []


def _to_inline(cell: etree._Element, items: list[etree._Element]) -> None:
    """Turn a shared-string cell into an inline string with the same runs."""
    v = cell.find(qn("x:v"))
    idx = int(v.text) if v is not None and (v.text or "").isdigit() else -1
    if v is not None:
        cell.remove(v)
    is_ = etree.SubElement(cell, qn("x:is"))
    if 0 <= idx < len(items):
        for part in items[idx]:
            is_.append(copy.deepcopy(part))
    cell.set("t", "inlineStr")


def _fill_inline(cell: etree._Element, values: dict[str, str], warnings: list[str],
                 where: str) -> None:
    is_ = cell.find(qn("x:is"))
    if is_ is None:
        return
    text = "".join(t.text or "" for t in is_.iter(qn("x:t")))
    unknown = sorted({m.group(1) for m in FIELD.finditer(text)} - set(values))
    if unknown:
        warnings.append(f"{where}: no value for field(s) {', '.join(unknown)}")
    fill_fields(is_, qn("x:is"), qn("x:t"), values)
    for t in is_.iter(qn("x:t")):
        if t.text and t.text != t.text.strip():
            t.set(sm.XML_SPACE, "preserve")


def write_table(root: etree._Element, sheet: Sheet, records: list[Record],
                warnings: list[str]) -> str | None:
    """Replace the rows under the header with one row per record; returns the filter range
    (None for a form table, which has none)."""
    table = sheet.table
    data = root.find(qn("x:sheetData"))
    for r, row in list(sm.rows_of(data)):
        if r > table.header_row:
            data.remove(row)
    rows = [_cells(table, rec, warnings, f"{sheet.name} row {i + table.example_row}")
            for i, rec in enumerate(records)]
    while len(rows) < FORM_TABLES.get(table.kind, 1):
        rows.append(_cells(table, {}, warnings, sheet.name))
    form = table.kind in FORM_TABLES
    widths = {c.index: c.width or 8.43 for c in table.columns} if form else fit_widths(table, rows)
    for i, cells in enumerate(rows):
        number = table.example_row + i
        texts = [(str(text), widths[col.index]) for col, (text, _) in zip(table.columns, cells)]
        row = sm.new_row(number, sm.row_height(texts, minimum=table.min_height or 15.0))
        for col, (_, cell) in zip(table.columns, cells):
            cell.set("r", sm.cell_ref(col.index, number))
            row.append(cell)
        data.append(row)
    last = table.example_row + len(rows) - 1
    _stretch(root, table, last)
    if form:
        sm.set_dimension(root)
        return None
    _finish_listing(root, table, last, widths)
    c1, c2 = table.span
    return sm.range_ref(c1, table.header_row, c2, last)


def _cells(table: Table, rec: Record, warnings: list[str],
           where: str) -> list[tuple[str, etree._Element]]:
    """(display text, cell) per column of the table."""
    out = []
    for col in table.columns:
        value = rec.get(col.field) if col.field else None
        if value is None or value == "":
            out.append(("", sm.blank_cell("A1", col.style)))
        elif isinstance(value, dt.date):
            out.append((value.isoformat(), sm.number_cell("A1", sm.excel_serial(value),
                                                          col.style)))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((f"{value:g}", sm.number_cell("A1", value, col.style)))
        else:
            text = sm.safe_text(str(value), warnings, f"{where}, {col.header}")
            out.append((text, sm.text_cell("A1", text, col.style)))
    return out


def fit_widths(table: Table, rows: list[list[tuple[str, etree._Element]]]) -> dict[int, float]:
    """Column widths that fit the content, never past the template's width for the column."""
    out = {}
    for i, col in enumerate(table.columns):
        longest = max((len(line) for cells in rows for line in cells[i][0].split("\n")),
                      default=0)
        header_word = max(max((len(w) for w in col.header.split()), default=0),
                          len(col.header) / 3) + 3
        cap = col.width or MAX_WIDTH
        out[col.index] = round(max(MIN_WIDTH, header_word, min(cap, longest + 3)), 1)
    return out


def _stretch(root: etree._Element, table: Table, last: int) -> None:
    """Validations and conditional formats of the example row over every written row;
    merged cells under the header dropped."""
    first = table.example_row
    for el in root.iter(qn("x:dataValidation"), qn("x:conditionalFormatting")):
        el.set("sqref", sm.extend_sqref(el.get("sqref", ""), first, first, last))
    merges = root.find(qn("x:mergeCells"))
    if merges is not None:
        for m in list(merges):
            if sm.split_range(m.get("ref"))[1] > table.header_row:
                merges.remove(m)
        merges.set("count", str(len(merges)))


def _finish_listing(root: etree._Element, table: Table, last: int,
                    widths: dict[int, float]) -> None:
    """Filter, frozen header, fitted widths and dimension of a listing."""
    c1, c2 = table.span
    _fit_header(root, table, widths)
    sm.child(root, "autoFilter").set("ref", sm.range_ref(c1, table.header_row, c2, last))
    view = root.find(f"{qn('x:sheetViews')}/{qn('x:sheetView')}")
    if view is None or view.find(qn("x:pane")) is None:
        sm.freeze(root, table.header_row)
    sm.set_widths(root, widths)
    sm.set_dimension(root)


def _fit_header(root: etree._Element, table: Table, widths: dict[int, float]) -> None:
    """Make the header row tall enough for its wrapped (bold) headers."""
    for r, row in sm.rows_of(root.find(qn("x:sheetData"))):
        if r == table.header_row:
            current = float(row.get("ht") or 15)
            need = sm.row_height((c.header, widths[c.index] * 0.9) for c in table.columns)
            if need > current:
                row.set("ht", f"{need:g}")
                row.set("customHeight", "1")
            return


def _set_filter_names(pkg: Package, layout: Layout, filters: dict[int, str]) -> None:
    """Point each sheet's hidden _FilterDatabase name at its new filter range."""
    if not filters:
        return
    book = pkg.xml("xl/workbook.xml")
    names = _defined_names(book)
    by_id = {s.local_id: s.name for s in layout.sheets}
    for local_id, rng in sorted(filters.items()):
        c1, r1, c2, r2 = sm.split_range(rng)
        text = f"{sm.quote_sheet(by_id[local_id])}!{sm.abs_range(c1, r1, c2, r2)}"
        for el in names.findall(qn("x:definedName")):
            if (el.get("name"), el.get("localSheetId")) == ("_xlnm._FilterDatabase",
                                                            str(local_id)):
                el.text = text
                break
        else:
            el = etree.SubElement(names, qn("x:definedName"), name="_xlnm._FilterDatabase",
                                  localSheetId=str(local_id), hidden="1")
            el.text = text


def _defined_names(book: etree._Element) -> etree._Element:
    """The workbook's definedNames, inserted after sheets (and external references)."""
    names = book.find(qn("x:definedNames"))
    if names is None:
        names = etree.Element(qn("x:definedNames"))
        anchor = book.find(qn("x:sheets"))
        for tag in ("functionGroups", "externalReferences"):
            anchor = book.find(qn(f"x:{tag}")) if book.find(qn(f"x:{tag}")) is not None \
                else anchor
        anchor.addnext(names)
    return names


def _set_core(pkg: Package, title: str, as_of: dt.date) -> None:
    """Title and dates of the document properties (dates from the engagement, not the clock)."""
    name = "docProps/core.xml"
    if name not in pkg:
        return
    core = pkg.xml(name)
    stamp = f"{as_of.isoformat()}T00:00:00Z"
    for tag, text in (("dc:title", title), ("dcterms:created", stamp),
                      ("dcterms:modified", stamp)):
        el = core.find(qn(tag))
        if el is None:
            el = etree.SubElement(core, qn(tag))
            if tag.startswith("dcterms"):
                el.set(qn("xsi:type"), "dcterms:W3CDTF")
        el.text = sm.safe_text(text, [], "title")
