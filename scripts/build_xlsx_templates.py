"""Build m3docs' own Excel templates (RTM and generic workbook) with openpyxl.

Run ``python scripts/build_xlsx_templates.py`` to rebuild templates/*.xlsx. The
files are normalized through m3docs.ooxml.package with fixed document
properties, so a rebuild gives identical bytes.

Conventions the renderer relies on (m3docs/renderers/xlsx.py):
- ``{{name}}`` fields in any text cell (and in page headers/footers);
- a table is the row with the most text cells on a sheet (its header row) and
  the row under it (the example row whose cell styles every written row reuses);
  columns are recognized by their header text;
- data validations and conditional formats on the example row are stretched
  over every written row.
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
SUBTITLE = "{{agency}}   |   {{program}}   |   Version {{version}}   |   {{date}}"
FOOTER_LEFT = "{{agency}} - {{title}}"


@dataclass(frozen=True)
class Col:
    """One table column: header, width, example value, alignment and number format."""

    header: str
    width: float
    example: object = None
    center: bool = False
    number_format: str | None = None


RTM_COLUMNS = (
    Col("Requirement ID", 11, "BR-001", center=True),
    Col("Process Area", 16, "Budget Execution"),
    Col("Sub Process", 20, "Funds Control"),
    Col("Requirement Description", 44,
        "The solution records obligations against the agency's budget structure."),
    Col("Source", 14, "Agency policy"),
    Col("Requirement Type", 13, "Functional", center=True),
    Col("Federal Standard or Agency Unique", 12, "Federal Standard", center=True),
    Col("Priority", 10, "High", center=True),
    Col("Decision Maker", 16, "Jordan Avery"),
    Col("Status", 18, "Pending Approval-New", center=True),
    Col("Fit/Gap", 10, "Fit", center=True),
    Col("Fit/Gap Description", 20, None),
    Col("Test Case(s)", 12, None),
    Col("Comments", 22, None),
)
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
    Col("Key Task", 26, "3.14 Finalize Target State Concept of Operations"),
    Col("Role (produces/uses)", 12, "Produces", center=True),
    Col("Objective", 40, "Finalize the target state concept of operations."),
    Col("Inputs", 28, "\u2022 Provider Agreement"),
    Col("Outputs", 28, "\u2022 Target State Concept of Operations"),
    Col("Best Practices", 50, "\u2022 Engage stakeholders early."),
    Col("Notes", 30, None),
)
ACTIVITY_COLUMNS = (
    Col("Key Task", 26, "3.14 Finalize Target State Concept of Operations"),
    Col("Role (produces/uses)", 12, "Produces", center=True),
    Col("IMS #", 8, "3.14.1", center=True),
    Col("#", 5, 1, center=True),
    Col("Group", 18, None),
    Col("Activity", 50, "Review the Provider Agreement to determine in-scope processes."),
    Col("Responsible Party", 13, "Shared", center=True),
    Col("Owner", 20, "Jordan Avery / Riley Chen"),
    Col("Status", 14, "On track", center=True),
    Col("% Complete", 10, 0.5, center=True, number_format="0%"),
    Col("Start", 12, None, center=True, number_format="yyyy-mm-dd"),
    Col("Finish", 12, None, center=True, number_format="yyyy-mm-dd"),
)
STAKEHOLDER_COLUMNS = (
    Col("Key Task", 30, "3.14 Finalize Target State Concept of Operations"),
    Col("Role", 30, "Program Manager"),
    Col("Customer", 22, "Jordan Avery"),
    Col("Provider", 22, "Riley Chen"),
    Col("Parties", 18, "Customer, Provider", center=True),
)
LOG_COLUMNS = (
    Col("ID", 8, None, center=True),
    Col("Date", 12, None, center=True, number_format="yyyy-mm-dd"),
    Col("Description", 50, None),
    Col("Owner", 20, None),
    Col("Status", 13, None, center=True),
    Col("Due", 12, None, center=True, number_format="yyyy-mm-dd"),
    Col("Notes", 36, None),
)
GENERIC_LISTS = {
    "Status": ("Completed", "On track", "Late, not critical", "Late, critical or high risk",
               "Upcoming"),
    "Item Status": ("Open", "In Progress", "Closed", "Deferred"),
}
LOG_BLANK_ROWS = 20


# -- sheets --------------------------------------------------------------------------
def add_cover(wb: Workbook) -> Worksheet:
    """The cover: title, program, agency, version, date and an approvals table."""
    ws = wb.active
    ws.title = "Cover"
    ws.sheet_view.showGridLines = False
    for letter, width in zip("ABCDE", (3, 30, 34, 28, 16)):
        ws.column_dimensions[letter].width = width
    _text(ws, "B2", "{{agency}}", Font(name=FONT, size=11, bold=True, color=GREY))
    _text(ws, "B4", "{{title}}", Font(name=FONT, size=24, bold=True, color=NAVY),
          Alignment(vertical="bottom", wrap_text=True))
    ws.merge_cells("B4:E4")
    ws.row_dimensions[4].height = 64
    for letter in "BCDE":
        ws[f"{letter}4"].border = Border(bottom=Side(style="medium", color=NAVY))
    _text(ws, "B6", "{{program}}", Font(name=FONT, size=14, color=BLUE))
    ws.merge_cells("B6:E6")
    _text(ws, "B8", "Version {{version}}", Font(name=FONT, size=11))
    _text(ws, "B9", "{{date}}", Font(name=FONT, size=11))
    _text(ws, "B11", "This workbook is reviewed and approved by the Customer and Provider "
                     "Program Managers and signed by the Program Executive Sponsor.",
          Font(name=FONT, size=10, italic=True, color=GREY), WRAP_TOP)
    ws.merge_cells("B11:E11")
    ws.row_dimensions[11].height = 30
    _text(ws, "B13", "Approvals", Font(name=FONT, size=12, bold=True, color=NAVY))
    _table(ws, 14, (Col("Name", 30, None), Col("Title", 34, None), Col("Signature", 28, None),
                    Col("Date", 16, None, center=True)), column_widths=False, first_col=2)
    ws.row_dimensions[15].height = 30
    _page_setup(ws, landscape=False, title_rows=None)
    return ws


def add_table_sheet(wb: Workbook, name: str, title: str, columns: tuple[Col, ...],
                    blank_rows: int = 1, legal: bool = False) -> Worksheet:
    """A titled sheet holding one table: header row and example row(s)."""
    ws = wb.create_sheet(name)
    ws.sheet_view.showGridLines = False
    last = get_column_letter(len(columns))
    _text(ws, f"A{TITLE_ROW}", title, Font(name=FONT, size=16, bold=True, color=NAVY),
          Alignment(vertical="center"))
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws.row_dimensions[TITLE_ROW].height = 26
    _text(ws, f"A{SUBTITLE_ROW}", SUBTITLE, Font(name=FONT, size=10, italic=True, color=GREY))
    ws.merge_cells(f"A{SUBTITLE_ROW}:{last}{SUBTITLE_ROW}")
    _table(ws, HEADER_ROW, columns, blank_rows=blank_rows)
    ws.freeze_panes = f"B{HEADER_ROW + 1}" if len(columns) > 6 else f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + blank_rows}"
    _page_setup(ws, landscape=True, title_rows=f"{TITLE_ROW}:{HEADER_ROW}", legal=legal)
    return ws


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
             header: str, list_name: str, rows: int = 1) -> None:
    """A list validation on ``header``'s example row(s), from the Lists column ``list_name``."""
    col = get_column_letter(next(i for i, c in enumerate(columns, 1) if c.header == header))
    src = get_column_letter(list(lists).index(list_name) + 1)
    count = len(lists[list_name])
    dv = DataValidation(type="list", formula1=f"Lists!${src}$2:${src}${count + 1}",
                        allow_blank=True, showErrorMessage=True, errorStyle="warning",
                        errorTitle=header, error=f"Choose a {header} from the list.")
    first = HEADER_ROW + 1
    dv.add(f"{col}{first}:{col}{first + rows - 1}" if rows > 1 else f"{col}{first}")
    ws.add_data_validation(dv)


def highlight(ws: Worksheet, columns: tuple[Col, ...], header: str, value: str,
              color: str) -> None:
    """Shade the example-row cell of ``header`` when it equals ``value``."""
    col = get_column_letter(next(i for i, c in enumerate(columns, 1) if c.header == header))
    ws.conditional_formatting.add(
        f"{col}{HEADER_ROW + 1}",
        CellIsRule(operator="equal", formula=[f'"{value}"'],
                   fill=PatternFill("solid", fgColor=color, bgColor=color)))


def _text(ws: Worksheet, ref: str, value: str, font: Font,
          alignment: Alignment | None = None) -> None:
    cell = ws[ref]
    cell.value = value
    cell.font = font
    if alignment:
        cell.alignment = alignment


def _table(ws: Worksheet, header_row: int, columns: tuple[Col, ...], blank_rows: int = 1,
           column_widths: bool = True, first_col: int = 1) -> None:
    header_font = Font(name=FONT, size=10, bold=True, color="FFFFFF")
    body_font = Font(name=FONT, size=10)
    for i, col in enumerate(columns, first_col):
        letter = get_column_letter(i)
        if column_widths:
            ws.column_dimensions[letter].width = col.width
        head = ws[f"{letter}{header_row}"]
        head.value = col.header
        head.font, head.fill, head.border = header_font, HEADER_FILL, GRID
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for r in range(header_row + 1, header_row + 1 + blank_rows):
            cell = ws[f"{letter}{r}"]
            if r == header_row + 1 and col.example is not None:
                cell.value = col.example
            cell.font, cell.border = body_font, GRID
            cell.alignment = CENTER_TOP if col.center else WRAP_TOP
            if col.number_format:
                cell.number_format = col.number_format
    ws.row_dimensions[header_row].height = 40


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
    ws = add_table_sheet(wb, "RTM", "{{title}}", RTM_COLUMNS, legal=True)
    add_lists(wb, RTM_LISTS)
    for header in RTM_LISTS:
        validate(ws, RTM_COLUMNS, RTM_LISTS, header, header)
    highlight(ws, RTM_COLUMNS, "Priority", "High", "F8CBAD")
    highlight(ws, RTM_COLUMNS, "Fit/Gap", "Gap", "FFE699")
    highlight(ws, RTM_COLUMNS, "Status", "Approved", "C6EFCE")
    return wb


def generic_workbook() -> Workbook:
    wb = Workbook()
    add_cover(wb)
    add_table_sheet(wb, "Key Tasks", "{{title}}: Key Tasks", KEY_TASK_COLUMNS)
    ws = add_table_sheet(wb, "Activities", "{{title}}: Key Task Activities", ACTIVITY_COLUMNS)
    add_table_sheet(wb, "Stakeholders", "{{title}}: Stakeholders", STAKEHOLDER_COLUMNS)
    log = add_table_sheet(wb, "Log", "{{title}}", LOG_COLUMNS, blank_rows=LOG_BLANK_ROWS)
    add_lists(wb, GENERIC_LISTS)
    validate(ws, ACTIVITY_COLUMNS, GENERIC_LISTS, "Status", "Status")
    validate(log, LOG_COLUMNS, GENERIC_LISTS, "Status", "Item Status", rows=LOG_BLANK_ROWS)
    highlight(ws, ACTIVITY_COLUMNS, "Status", "Late, critical or high risk", "F8CBAD")
    highlight(ws, ACTIVITY_COLUMNS, "Status", "Completed", "C6EFCE")
    return wb


WORKBOOKS = {"rtm.xlsx": rtm_workbook, "generic.xlsx": generic_workbook}


def normalize(path: Path, title: str) -> None:
    """Rewrite through the package layer with fixed document properties."""
    pkg = Template(path).new()
    pkg.put("docProps/core.xml", _core_xml(title))
    path.write_bytes(pkg.to_bytes())


def _core_xml(title: str) -> bytes:
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
        el.text = FIXED_TIME
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
        normalize(path, f"m3docs {Path(name).stem} template")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build(ROOT / "templates"):
        print(p)
