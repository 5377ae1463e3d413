"""Build m3docs' own Excel templates (RTM, generic workbook, deliverables tracker) with openpyxl.

Run ``python scripts/build_xlsx_templates.py`` to rebuild templates/*.xlsx. The
files are normalized through m3docs.ooxml.package with fixed document
properties, so a rebuild gives identical bytes.

The templates are tagged templates: the workbook engine (m3docs/engine/xlsx.py) fills
them from the template context (README, "The template context"), like any user's tagged
workbook. Fields are ``{{ name }}`` tags in cells, page footers and the document
properties; a table's rows are ``{%tr for ... %}`` ... ``{%tr endfor %}`` control rows
around one styled body row, which the engine repeats (the control rows vanish) and over
whose generated rows it grows the filter, the data validations and the conditional
formats set on the body row.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from m3docs.ooxml.package import Template  # noqa: E402
from m3docs.ooxml.xml import NS, parse_xml, qn, serialize  # noqa: E402

NAVY, BLUE, GREY, RULE = "1F3864", "2E75B6", "595959", "BFBFBF"
FONT = "Calibri"
FIXED_TIME = "2026-01-01T00:00:00Z"
THIN = Side(style="thin", color=RULE)
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor=NAVY)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER_TOP = Alignment(wrap_text=True, vertical="top", horizontal="center")
TITLE_ROW, SUBTITLE_ROW, HEADER_ROW = 1, 2, 3
SUBTITLE = "{{ agency }}   |   {{ program }}   |   Version {{ version }}   |   {{ date }}"
# "&" starts a code in a page footer: a value's own "&" is written "&&".
FOOTER_LEFT = '{{ agency | replace("&", "&&") }} - {{ document.title | replace("&", "&&") }}'
CONTROL_FONT = Font(name=FONT, size=9, italic=True, color=GREY)


@dataclass(frozen=True)
class Col:
    """One table column: header, width, the body row's tag, alignment and number format."""

    header: str
    width: float
    value: str | None = None
    center: bool = False
    number_format: str | None = None


BODY = "body"    # a table row holding each column's value
BLANK = "blank"  # a table row of empty, styled cells
# A table's rows under its header: control rows ({%tr %} tags), BODY, BLANK, or a tuple of
# cell texts (one per column).
Rows = tuple


def listing(loop: str, empty: str) -> Rows:
    """One body row per item of ``loop``; one blank row when ``empty`` holds."""
    return (f"{{%tr {loop} %}}", BODY, "{%tr endfor %}", f"{{%tr if {empty} %}}", BLANK,
            "{%tr endif %}")


def bullets(items: str, attribute: str = "") -> str:
    """A cell listing ``items`` one per line, each with a bullet."""
    mapped = f' | map(attribute="{attribute}")' if attribute else ""
    return (f'{{% if {items} %}}\u2022 {{{{ {items}{mapped} | join("\\n\u2022 ") }}}}'
            "{% endif %}")


ROLE = "{{ document.roles[kt.id] | capitalize }}"
RTM_COLUMNS = (
    Col("Requirement ID", 11, "{{ r.id }}", center=True),
    Col("Process Area", 16, "{{ r.process_area }}"),
    Col("Sub Process", 20, "{{ r.sub_process }}"),
    Col("Requirement Description", 44, "{{ r.description }}"),
    Col("Source", 14, "{{ r.source }}"),
    Col("Requirement Type", 13, "{{ r.type }}", center=True),
    Col("Federal Standard or Agency Unique", 12, None, center=True),
    Col("Priority", 10, "{{ r.priority }}", center=True),
    Col("Decision Maker", 16, "{{ r.decision_maker }}"),
    Col("Status", 18, "{{ r.status }}", center=True),
    Col("Fit/Gap", 10, "{{ r.fit_gap }}", center=True),
    Col("Fit/Gap Description", 20, None),
    Col("Test Case(s)", 12, "{{ r.test_cases }}"),
    Col("Comments", 22, "{{ r.notes }}"),
)
RTM_ROWS = listing("for r in rtm", "not rtm")
RTM_LISTS = {
    "Priority": ("High", "Medium", "Low"),
    "Status": ("Pending Approval-New", "Approved", "Approved-Implemented", "Deferred",
               "Rejected"),
    "Fit/Gap": ("Fit", "Gap", "Partial Fit", "To Be Determined"),
    "Requirement Type": ("Functional", "Technical", "Interface", "Security", "Reporting",
                         "Data Conversion"),
    "Federal Standard or Agency Unique": ("Federal Standard", "Agency Unique"),
}
KEY_TASK_COLUMNS = (
    Col("Key Task", 26, "{{ kt.title }}"),
    Col("Role (produces/uses)", 12, ROLE, center=True),
    Col("Objective", 40, "{{ kt.objective }}"),
    Col("Inputs", 28, bullets("kt.inputs", "title")),
    Col("Outputs", 28, bullets("kt.outputs", "title")),
    Col("Best Practices", 50, bullets("kt.best_practices")),
    Col("Notes", 30, "{{ kt.activities_note }}"),
)
KEY_TASK_ROWS = listing("for kt in key_tasks", "not key_tasks")
ACTIVITY_COLUMNS = (
    Col("Key Task", 26, "{{ kt.title }}"),
    Col("Role (produces/uses)", 12, ROLE, center=True),
    Col("IMS #", 8, "{{ a.number }}", center=True),
    Col("#", 5, "{{ a.index }}", center=True),
    Col("Group", 18, "{{ a.group }}"),
    Col("Activity", 50, "{{ a.text }}"),
    Col("Responsible Party", 13, "{{ a.party }}", center=True),
    Col("Owner", 20, "{{ a.owner }}"),
    Col("Status", 14, "{{ a.status_given }}", center=True),
    Col("% Complete", 10, "{{ a.percent }}", center=True, number_format="0%"),
    Col("Start", 12, "{{ a.start }}", center=True, number_format="yyyy-mm-dd"),
    Col("Finish", 12, "{{ a.finish }}", center=True, number_format="yyyy-mm-dd"),
)
ACTIVITY_ROWS = ("{%tr for kt in key_tasks %}", "{%tr for a in kt.activities %}", BODY,
                 "{%tr endfor %}", "{%tr endfor %}")
STAKEHOLDER_COLUMNS = (
    Col("Key Task", 30, "{{ kt.title }}"),
    Col("Role", 30, "{{ s.role }}"),
    Col("Customer", 22, '{{ s.customer or "\u2014" }}'),
    Col("Provider", 22, '{{ s.provider or "\u2014" }}'),
    Col("Parties", 18, "{{ s.parties }}", center=True),
)
# Roles someone is named for get a row each; the others share one line.
STAKEHOLDER_ROWS = ("{%tr for kt in key_tasks %}", "{%tr for s in kt.stakeholders if s.named %}",
                    BODY, "{%tr endfor %}", "{%tr if kt.unnamed_roles %}",
                    ("{{ kt.title }}", "To be named: {{ kt.unnamed_roles }}", None, None, None),
                    "{%tr endif %}", "{%tr endfor %}")
LOG_COLUMNS = (
    Col("ID", 8, None, center=True),
    Col("Date", 12, None, center=True, number_format="yyyy-mm-dd"),
    Col("Description", 50, None),
    Col("Owner", 20, None),
    Col("Status", 13, None, center=True),
    Col("Due", 12, None, center=True, number_format="yyyy-mm-dd"),
    Col("Notes", 36, None),
)
LOG_BLANK_ROWS = 20
APPROVAL_COLUMNS = (Col("Name", 30, "{{ a.name }}"), Col("Title", 34, "{{ a.title }}"),
                    Col("Signature", 28, None), Col("Date", 16, None, center=True))
# A form: a row per approver, and blank rows to sign on up to three.
APPROVAL_ROWS = ("{%tr for a in approvers %}", BODY, "{%tr endfor %}",
                 "{%tr for i in range(3 - approvers | length) %}", BLANK, "{%tr endfor %}")
GENERIC_LISTS = {
    "Status": ("Completed", "On track", "Late, not critical", "Late, critical or high risk",
               "Upcoming"),
    "Item Status": ("Open", "In Progress", "Closed", "Deferred"),
}


@dataclass(frozen=True)
class Placed:
    """Where a table landed: its header row, its body rows and its last row."""

    header: int
    bodies: tuple[int, ...]
    end: int

    @property
    def first(self) -> int:
        return self.bodies[0]

    @property
    def last(self) -> int:
        return self.bodies[-1]


# -- sheets --------------------------------------------------------------------------
def add_cover(wb: Workbook) -> Worksheet:
    """The cover: title, program, agency, version, date and an approvals table."""
    ws = wb.active
    ws.title = "Cover"
    ws.sheet_view.showGridLines = False
    for letter, width in zip("ABCDE", (3, 30, 34, 28, 16)):
        ws.column_dimensions[letter].width = width
    _text(ws, "B2", "{{ agency }}", Font(name=FONT, size=11, bold=True, color=GREY))
    _text(ws, "B4", "{{ document.title }}", Font(name=FONT, size=24, bold=True, color=NAVY),
          Alignment(vertical="bottom", wrap_text=True))
    ws.merge_cells("B4:E4")
    ws.row_dimensions[4].height = 64
    for letter in "BCDE":
        ws[f"{letter}4"].border = Border(bottom=Side(style="medium", color=NAVY))
    _text(ws, "B6", "{{ program }}", Font(name=FONT, size=14, color=BLUE))
    ws.merge_cells("B6:E6")
    _text(ws, "B8", "Version {{ version }}", Font(name=FONT, size=11))
    _text(ws, "B9", "{{ date }}", Font(name=FONT, size=11))
    _text(ws, "B11", "This workbook is reviewed and approved by the Customer and Provider "
                     "Program Managers and signed by the Program Executive Sponsor.",
          Font(name=FONT, size=10, italic=True, color=GREY), WRAP_TOP)
    ws.merge_cells("B11:E11")
    ws.row_dimensions[11].height = 30
    _text(ws, "B13", "Approvals", Font(name=FONT, size=12, bold=True, color=NAVY))
    placed = _table(ws, 14, APPROVAL_COLUMNS, APPROVAL_ROWS, column_widths=False, first_col=2)
    for r in placed.bodies:
        ws.row_dimensions[r].height = 30
    _page_setup(ws, landscape=False, title_rows=None)
    return ws


def add_table_sheet(wb: Workbook, name: str, title: str, columns: tuple[Col, ...],
                    rows: Rows, legal: bool = False) -> tuple[Worksheet, Placed]:
    """A titled sheet holding one table: header row, then its control and body rows."""
    ws = wb.create_sheet(name)
    ws.sheet_view.showGridLines = False
    last = get_column_letter(len(columns))
    _text(ws, f"A{TITLE_ROW}", title, Font(name=FONT, size=16, bold=True, color=NAVY),
          Alignment(vertical="center"))
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws.row_dimensions[TITLE_ROW].height = 26
    _text(ws, f"A{SUBTITLE_ROW}", SUBTITLE, Font(name=FONT, size=10, italic=True, color=GREY))
    ws.merge_cells(f"A{SUBTITLE_ROW}:{last}{SUBTITLE_ROW}")
    placed = _table(ws, HEADER_ROW, columns, rows)
    ws.freeze_panes = f"B{HEADER_ROW + 1}" if len(columns) > 6 else f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{placed.end}"
    _page_setup(ws, landscape=True, title_rows=f"{TITLE_ROW}:{HEADER_ROW}", legal=legal)
    return ws, placed


def add_lists(wb: Workbook, lists: dict[str, tuple[str, ...]]) -> Worksheet:
    """The hidden sheet holding drop-down values, one list per column."""
    ws = wb.create_sheet("Lists")
    for i, (header, values) in enumerate(lists.items(), 1):
        letter = get_column_letter(i)
        _text(ws, f"{letter}1", header, Font(name=FONT, bold=True))
        for r, value in enumerate(values, 2):
            ws[f"{letter}{r}"] = value
        ws.column_dimensions[letter].width = max(len(v) for v in values + (header,)) + 2
    ws.sheet_state = "hidden"
    return ws


def validate(ws: Worksheet, columns: tuple[Col, ...], lists: dict[str, tuple[str, ...]],
             header: str, list_name: str, placed: Placed) -> None:
    """A list validation on ``header``'s body rows, from the Lists column ``list_name``
    (the engine grows it over every row the loop makes)."""
    col = get_column_letter(next(i for i, c in enumerate(columns, 1) if c.header == header))
    src = get_column_letter(list(lists).index(list_name) + 1)
    count = len(lists[list_name])
    dv = DataValidation(type="list", formula1=f"Lists!${src}$2:${src}${count + 1}",
                        allow_blank=True, showErrorMessage=True, errorStyle="warning",
                        errorTitle=header, error=f"Choose a {header} from the list.")
    dv.add(_span(col, placed))
    ws.add_data_validation(dv)


def highlight(ws: Worksheet, columns: tuple[Col, ...], header: str, value: str,
              color: str, placed: Placed) -> None:
    """Shade a body-row cell of ``header`` when it equals ``value``."""
    col = get_column_letter(next(i for i, c in enumerate(columns, 1) if c.header == header))
    ws.conditional_formatting.add(
        _span(col, placed),
        CellIsRule(operator="equal", formula=[f'"{value}"'],
                   fill=PatternFill("solid", fgColor=color, bgColor=color)))


def header_room(header: str, width: float) -> float:
    """A column's width, at least room for its header's longest word and for the header on
    three lines (the header row is 40 points: three lines of bold 10-point text)."""
    words = max((len(w) for w in header.split()), default=0)
    return round(max(width, words + 3, len(header) / 3 + 3), 1)


def _span(col: str, placed: Placed) -> str:
    return f"{col}{placed.first}" if placed.first == placed.last else \
        f"{col}{placed.first}:{col}{placed.last}"


def _text(ws: Worksheet, ref: str, value: str, font: Font,
          alignment: Alignment | None = None) -> None:
    cell = ws[ref]
    cell.value = value
    cell.font = font
    if alignment:
        cell.alignment = alignment


def _table(ws: Worksheet, header_row: int, columns: tuple[Col, ...], rows: Rows,
           column_widths: bool = True, first_col: int = 1) -> Placed:
    """Header, then ``rows``: control rows in the first column (small grey italics, so a
    reader sees them for what they are), body rows styled as the table."""
    header_font = Font(name=FONT, size=10, bold=True, color="FFFFFF")
    for i, col in enumerate(columns, first_col):
        letter = get_column_letter(i)
        if column_widths:
            ws.column_dimensions[letter].width = header_room(col.header, col.width)
        head = ws[f"{letter}{header_row}"]
        head.value = col.header
        head.font, head.fill, head.border = header_font, HEADER_FILL, GRID
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[header_row].height = 40
    bodies = []
    for r, row in enumerate(rows, header_row + 1):
        if isinstance(row, str) and row not in (BODY, BLANK):
            _text(ws, f"{get_column_letter(first_col)}{r}", row, CONTROL_FONT)
            continue
        values = [c.value for c in columns] if row == BODY else \
            [None] * len(columns) if row == BLANK else list(row)
        _body_row(ws, r, columns, values, first_col)
        bodies.append(r)
    return Placed(header_row, tuple(bodies), header_row + len(rows))


def _body_row(ws: Worksheet, r: int, columns: tuple[Col, ...], values: list,
              first_col: int) -> None:
    body_font = Font(name=FONT, size=10)
    for i, (col, value) in enumerate(zip(columns, values), first_col):
        cell = ws.cell(r, i)
        if value is not None:
            cell.value = value
        cell.font, cell.border = body_font, GRID
        cell.alignment = CENTER_TOP if col.center else WRAP_TOP
        if col.number_format:
            cell.number_format = col.number_format


def _blank_rows(ws: Worksheet, first: int, count: int, columns: tuple[Col, ...]) -> Placed:
    """A form of ``count`` empty rows under the header (the Log)."""
    for r in range(first, first + count):
        _body_row(ws, r, columns, [None] * len(columns), 1)
    return Placed(first - 1, tuple(range(first, first + count)), first + count - 1)


def _page_setup(ws: Worksheet, landscape: bool, title_rows: str | None,
                legal: bool = False) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_LEGAL if legal else ws.PAPERSIZE_LETTER
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.left.text = FOOTER_LEFT
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8


# -- workbooks -------------------------------------------------------------------------
def rtm_workbook() -> Workbook:
    wb = Workbook()
    add_cover(wb)
    ws, placed = add_table_sheet(wb, "RTM", "{{ document.title }}", RTM_COLUMNS, RTM_ROWS,
                                 legal=True)
    add_lists(wb, RTM_LISTS)
    for header in RTM_LISTS:
        validate(ws, RTM_COLUMNS, RTM_LISTS, header, header, placed)
    highlight(ws, RTM_COLUMNS, "Priority", "High", "F8CBAD", placed)
    highlight(ws, RTM_COLUMNS, "Fit/Gap", "Gap", "FFE699", placed)
    highlight(ws, RTM_COLUMNS, "Status", "Approved", "C6EFCE", placed)
    return wb


def generic_workbook() -> Workbook:
    wb = Workbook()
    add_cover(wb)
    add_table_sheet(wb, "Key Tasks", "{{ document.title }}: Key Tasks", KEY_TASK_COLUMNS,
                    KEY_TASK_ROWS)
    ws, placed = add_table_sheet(wb, "Activities", "{{ document.title }}: Key Task Activities",
                                 ACTIVITY_COLUMNS, ACTIVITY_ROWS)
    add_table_sheet(wb, "Stakeholders", "{{ document.title }}: Stakeholders",
                    STAKEHOLDER_COLUMNS, STAKEHOLDER_ROWS)
    log, _ = add_table_sheet(wb, "Log", "{{ document.title }}", LOG_COLUMNS, ())
    logged = _blank_rows(log, HEADER_ROW + 1, LOG_BLANK_ROWS, LOG_COLUMNS)
    log.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(LOG_COLUMNS))}{logged.end}"
    add_lists(wb, GENERIC_LISTS)
    validate(ws, ACTIVITY_COLUMNS, GENERIC_LISTS, "Status", "Status", placed)
    validate(log, LOG_COLUMNS, GENERIC_LISTS, "Status", "Item Status", logged)
    highlight(ws, ACTIVITY_COLUMNS, "Status", "Late, critical or high risk", "F8CBAD", placed)
    highlight(ws, ACTIVITY_COLUMNS, "Status", "Completed", "C6EFCE", placed)
    return wb


# -- the deliverables tracker ------------------------------------------------------------
TRACKER_SUBTITLE = "{{ agency }}   |   {{ program }}   |   As of {{ date }}"
NOTE_FONT = Font(name=FONT, size=10, italic=True, color=GREY)
# Phase cells: Version 1 blue, Updated green, Used grey (a conditional format on the value).
PHASE_LOOKS = (("Version 1", "DDEBF7", Font(bold=True, color=NAVY)),
               ("Updated", "E2EFDA", Font(color="375623")),
               ("Used", "F2F2F2", Font(italic=True, color=GREY)))
LINK = '{{r %s | link(%s | urlencode) }}'
# A control column ({%tc %}) is narrow: it vanishes when the workbook is filled.
CONTROL_WIDTH = 4


@dataclass(frozen=True)
class TrackerCol:
    """One column of a tracker sheet: header, width, body tag, alignment, number format; a
    ``loop`` column stands for one column per item (the header and body tags repeat)."""

    header: str
    width: float
    value: str | None = None
    center: bool = False
    number_format: str | None = None
    loop: tuple[str, str] | None = None   # (header row's loop, body row's loop)


DELIVERABLE_COLUMNS = (
    TrackerCol("Deliverable", 34, "{{ d.title }}"),
    TrackerCol("Format", 11, "{{ d.format_label }}", center=True),
    TrackerCol("Phase {{ p.number }}\n{{ p.name }}", 13,
               "{% if c.path %}" + LINK % ("c.label", "c.path") + "{% else %}{{ c.label }}"
               "{% endif %}", center=True, loop=("for p in phases", "for c in d.phases")),
    TrackerCol("Produced by (key tasks)", 22, "{{ d.produced_by }}"),
    TrackerCol("Used by (key tasks)", 22, "{{ d.used_by }}"),
    TrackerCol("Responsible Parties", 18, "{{ d.parties }}"),
    TrackerCol("Status", 16, "{{ d.status_label }}", center=True),
    TrackerCol("% Complete", 10, "{{ d.percent }}", center=True, number_format="0%"),
    TrackerCol("File in Pack", 34, "{% if d.path %}" + LINK % ("d.file", "d.path") +
               "{% endif %}"),
)
DELIVERABLE_ROWS = listing("for d in deliverables", "not deliverables") + (
    "{%tr if idle_key_tasks %}", (), ("Key tasks in scope that list no deliverable (see the "
                                      "RACI sheet for their stakeholders)",),
    "{%tr for kt in idle_key_tasks %}", ("{{ kt.id }}  {{ kt.name }}",), "{%tr endfor %}",
    "{%tr endif %}")
RACI_COLUMNS = (
    TrackerCol("Stakeholder Role", 44, "{{ r.role }}"),
    TrackerCol("{{ kt.id }}", 9.5, "{{ p }}", center=True,
               loop=("for kt in raci_key_tasks", "for p in r.parties")),
)
RACI_ROWS = listing("for r in raci", "not raci") + (
    (), ('Parties: {% for p in party_codes %}{{ p.code }} = {{ p.label }}'
         '{% if not loop.last %}, {% endif %}{% endfor %}',), ("Key tasks",),
    "{%tr for kt in raci_key_tasks %}", ("{{ kt.id }}  {{ kt.name }}",), "{%tr endfor %}")
TERM_COLUMNS = (TrackerCol("Term", 30, "{{ t.name }}"), TrackerCol("Meaning", 80,
                                                                    "{{ t.description }}"),
                TrackerCol("Glossary Section", 16, "{{ t.section }}"))
TERM_ROWS = ("{%tr for t in terms %}", BODY, "{%tr endfor %}", "{%tr if not terms %}",
             ("No term of the playbook's glossary appears in the pack.",), "{%tr endif %}")


def tracker_columns(columns: tuple[TrackerCol, ...]) -> list[tuple[TrackerCol, str]]:
    """The sheet's template columns: a loop column between its two control columns; each
    as (column, role) with role 'open', 'body', 'close' or 'plain'."""
    out = []
    for col in columns:
        if col.loop:
            out += [(col, "open"), (col, "body"), (col, "close")]
        else:
            out.append((col, "plain"))
    return out


def add_tracker_sheet(wb: Workbook, name: str, title: str, footer: str,
                      columns: tuple[TrackerCol, ...], rows: Rows, header_height: float,
                      first: bool = False, merge_titles: bool = True
                      ) -> tuple[Worksheet, Placed]:
    """A tracker sheet: title rows, a header row (loop columns as {%tc %} cells), then the
    body rows with their control rows, and notes below."""
    ws = wb.active if first else wb.create_sheet(name)
    ws.title = name
    ws.sheet_view.showGridLines = False
    laid = tracker_columns(columns)
    last = get_column_letter(len(laid))
    _text(ws, "A1", title, Font(name=FONT, size=16, bold=True, color=NAVY))
    _text(ws, "A2", TRACKER_SUBTITLE, Font(name=FONT, size=10, italic=True, color=GREY))
    if merge_titles:
        ws.merge_cells(f"A1:{last}1")
        ws.merge_cells(f"A2:{last}2")
    else:   # a sheet that may be narrow: the title runs on, the subtitle wraps in column A
        ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 24
    header_font = Font(name=FONT, size=10, bold=True, color="FFFFFF")
    for i, (col, role) in enumerate(laid, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = CONTROL_WIDTH if role in ("open", "close") \
            else header_room(col.header, col.width)
        head = ws[f"{letter}{HEADER_ROW}"]
        if role in ("open", "close"):
            head.value = f"{{%tc {col.loop[0]} %}}" if role == "open" else "{%tc endfor %}"
            head.font = CONTROL_FONT
            continue
        head.value = col.header
        head.font, head.fill, head.border = header_font, HEADER_FILL, GRID
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[HEADER_ROW].height = header_height
    bodies = []
    for r, row in enumerate(rows, HEADER_ROW + 1):
        if isinstance(row, str) and row not in (BODY, BLANK):
            _text(ws, f"A{r}", row, CONTROL_FONT)
        elif row in (BODY, BLANK):
            _tracker_body(ws, r, laid, row == BODY)
            bodies.append(r)
        else:
            for i, text in enumerate(row, 1):
                _text(ws, f"{get_column_letter(i)}{r}", text, NOTE_FONT)
    placed = Placed(HEADER_ROW, tuple(bodies), HEADER_ROW + len(rows))
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{placed.last + 1}"
    _page_setup(ws, landscape=True, title_rows=f"1:{HEADER_ROW}", legal=True)
    ws.oddFooter.left.text = footer
    return ws, placed


def _tracker_body(ws: Worksheet, r: int, laid: list[tuple[TrackerCol, str]],
                  filled: bool) -> None:
    body_font = Font(name=FONT, size=10)
    for i, (col, role) in enumerate(laid, 1):
        cell = ws.cell(r, i)
        if role in ("open", "close"):
            if filled:
                cell.value = f"{{%tc {col.loop[1]} %}}" if role == "open" else "{%tc endfor %}"
                cell.font = CONTROL_FONT
            continue
        if filled and col.value:
            cell.value = col.value
        cell.font, cell.border = body_font, GRID
        cell.alignment = CENTER_TOP if col.center else WRAP_TOP
        if col.number_format:
            cell.number_format = col.number_format


def tracker_workbook() -> Workbook:
    """The pack's deliverables tracker: Deliverables (lineage by phase), RACI, Terms."""
    wb = Workbook()
    ws, placed = add_tracker_sheet(
        wb, "Deliverables", "Deliverables Tracker", "{{ agency | replace(\"&\", \"&&\") }} - "
        "Deliverables Tracker", DELIVERABLE_COLUMNS, DELIVERABLE_ROWS, 30, first=True)
    phase = get_column_letter(1 + [c for c, _ in tracker_columns(DELIVERABLE_COLUMNS)].index(
        DELIVERABLE_COLUMNS[2]) + 1)
    for value, fill, font in PHASE_LOOKS:
        ws.conditional_formatting.add(
            _span(phase, placed),
            CellIsRule(operator="equal", formula=[f'"{value}"'], font=font,
                       fill=PatternFill("solid", fgColor="FF" + fill, bgColor="FF" + fill)))
    add_tracker_sheet(wb, "RACI", "Stakeholder Roles by Key Task (RACI)",
                      "{{ agency | replace(\"&\", \"&&\") }} - Stakeholder RACI",
                      RACI_COLUMNS, RACI_ROWS, 22, merge_titles=False)
    add_tracker_sheet(wb, "Terms", "Terms and Abbreviations",
                      "{{ agency | replace(\"&\", \"&&\") }} - Terms and Abbreviations",
                      TERM_COLUMNS, TERM_ROWS, 22)
    return wb


# The document's title in its properties (filled by the engine); the dates stay fixed, as a
# tag is no date and readers refuse it there.
TITLE_TAG = "{{ document.title }}"
WORKBOOKS = {"rtm.xlsx": rtm_workbook, "generic.xlsx": generic_workbook,
             "tracker.xlsx": tracker_workbook}
TITLES = {"tracker.xlsx": "Deliverables Tracker - {{ program }}"}


def normalize(path: Path, title: str, stamp: str = FIXED_TIME) -> None:
    """Rewrite through the package layer with fixed (or tagged) document properties."""
    pkg = Template(path).new()
    pkg.put("docProps/core.xml", _core_xml(title, stamp))
    path.write_bytes(pkg.to_bytes())


def _core_xml(title: str, stamp: str = FIXED_TIME) -> bytes:
    ns = {k: NS[k] for k in ("cp", "dc", "dcterms", "xsi")}
    root = parse_xml(
        f'<cp:coreProperties xmlns:cp="{ns["cp"]}" xmlns:dc="{ns["dc"]}" '
        f'xmlns:dcterms="{ns["dcterms"]}" xmlns:xsi="{ns["xsi"]}"/>'.encode())
    for tag, text in (("dc:title", title), ("dc:creator", "m3docs"),
                      ("cp:lastModifiedBy", "m3docs")):
        el = root.makeelement(qn(tag), {})
        el.text = text
        root.append(el)
    for tag in ("dcterms:created", "dcterms:modified"):
        el = root.makeelement(qn(tag), {qn("xsi:type"): "dcterms:W3CDTF"})
        el.text = stamp
        root.append(el)
    return serialize(root)


def build(out_dir: Path) -> list[Path]:
    """Build every template into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in WORKBOOKS.items():
        path = out_dir / name
        make().save(path)
        normalize(path, TITLES.get(name, TITLE_TAG))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build(ROOT / "templates"):
        print(p)
