"""The pack's deliverables tracker: an Excel workbook written at the XML level.

Sheet "Deliverables": one row per deliverable, one column per phase ("Version 1"
where it is first produced, "Updated" where a key task outputs it again, "Used"
where it is only an input), the key tasks that produce and use it, responsible
parties, status and a link to its file in the pack. Sheet "RACI": stakeholder
roles by key task, with the parties that fill each role. Sheet "Terms" (when the
playbook has a glossary): the glossary entries the pack's documents use. Everything is derived
from the documents and the playbook; the same input gives the same bytes.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import quote

from lxml import etree
from openpyxl.writer.theme import theme_xml

from .engagement import STATUS_CODES, Engagement
from .ooxml.package import write_zip
from .ooxml.xml import NS, RT, clean_text, qn, serialize
from .playbook.glossary import terms_used
from .playbook.model import KeyTask, Party, Playbook
from .plan import UPDATED, VERSION_1, Document
from .renderers import sheetml as sm
from .renderers.common import long_date

USED = "Used"
FORMAT_LABELS = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}
PARTY_CODES = {Party.CUSTOMER: "C", Party.PROVIDER: "P", Party.SHARED: "S", Party.QSMO: "Q"}
# Worst first: the status a deliverable shows when its key tasks differ.
STATUS_SEVERITY = ("R", "Y", "G", "P", "B")
HEADER_ROW = 3
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_BOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_CT_THEME = "application/vnd.openxmlformats-officedocument.theme+xml"
_CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
_RT_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_RT_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_RT_THEME = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"


class Style:
    """Cell style ids of the stylesheet below (cellXfs order)."""

    TITLE, SUBTITLE, HEADER, TEXT, CENTER = 1, 2, 3, 4, 5
    VERSION_1, UPDATED, USED, LINK, PERCENT = 6, 7, 8, 9, 10
    VERSION_1_LINK, UPDATED_LINK, NOTE, USED_LINK = 11, 12, 13, 14
    WRAPPING = frozenset({HEADER, TEXT, CENTER, LINK})


PHASE_STYLES = {VERSION_1: (Style.VERSION_1, Style.VERSION_1_LINK),
                UPDATED: (Style.UPDATED, Style.UPDATED_LINK),
                USED: (Style.USED, Style.USED_LINK)}

STYLES_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{NS['x']}">
<fonts count="10">
<font><sz val="10"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="16"/><color rgb="FF1F3864"/><name val="Calibri"/><family val="2"/></font>
<font><i/><sz val="10"/><color rgb="FF595959"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="10"/><color rgb="FFFFFFFF"/><name val="Calibri"/><family val="2"/></font>
<font><u/><sz val="10"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="10"/><color rgb="FF1F3864"/><name val="Calibri"/><family val="2"/></font>
<font><sz val="10"/><color rgb="FF375623"/><name val="Calibri"/><family val="2"/></font>
<font><b/><u/><sz val="10"/><color rgb="FF1F3864"/><name val="Calibri"/><family val="2"/></font>
<font><u/><sz val="10"/><color rgb="FF375623"/><name val="Calibri"/><family val="2"/></font>
<font><i/><u/><sz val="10"/><color rgb="FF595959"/><name val="Calibri"/><family val="2"/></font>
</fonts>
<fills count="6">
<fill><patternFill patternType="none"/></fill>
<fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FF1F3864"/><bgColor indexed="64"/></patternFill></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFE2EFDA"/><bgColor indexed="64"/></patternFill></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/><bgColor indexed="64"/></patternFill></fill>
</fills>
<borders count="2">
<border><left/><right/><top/><bottom/><diagonal/></border>
<border><left style="thin"><color rgb="FFBFBFBF"/></left><right style="thin"><color rgb="FFBFBFBF"/></right><top style="thin"><color rgb="FFBFBFBF"/></top><bottom style="thin"><color rgb="FFBFBFBF"/></bottom><diagonal/></border>
</borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="15">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="3" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top" wrapText="1"/></xf>
<xf numFmtId="0" fontId="5" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="6" fillId="4" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="2" fillId="5" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="4" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="9" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="7" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="8" fillId="4" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="9" fillId="5" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="top"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
<dxfs count="0"/>
<tableStyles count="0"/>
</styleSheet>
""".encode()


# -- what the tracker says ------------------------------------------------------------
@dataclass(frozen=True)
class TrackedDeliverable:
    """One deliverable across the pack: its documents, in phase order."""

    title: str
    format: str
    documents: tuple[Document, ...]

    @property
    def producers(self) -> tuple[KeyTask, ...]:
        return _unique(kt for d in self.documents for kt in d.outputs_of)

    @property
    def users(self) -> tuple[KeyTask, ...]:
        return _unique(kt for d in self.documents for kt in d.inputs_of)

    def phase_label(self, phase: int) -> str:
        """'Version 1' in the first phase that outputs it, 'Updated' later, else 'Used'.

        A first output the planner labelled 'Updated' (its Version 1 comes from a key
        task out of scope) stays 'Updated'.
        """
        out_phases = sorted({d.phase for d in self.documents if d.outputs_of})
        if phase in out_phases:
            first = phase == out_phases[0] and not any(
                d.phase == phase and d.version_label == UPDATED for d in self.documents)
            return VERSION_1 if first else UPDATED
        if any(d.phase == phase and d.inputs_of for d in self.documents):
            return USED
        return ""

    def document_in(self, phase: int) -> Document | None:
        docs = [d for d in self.documents if d.phase == phase]
        return next((d for d in docs if d.outputs_of), docs[0] if docs else None)


def _unique(tasks) -> tuple[KeyTask, ...]:
    seen: dict[str, KeyTask] = {}
    for kt in tasks:
        seen.setdefault(kt.id, kt)
    return tuple(sorted(seen.values(), key=lambda k: k.sort_key))


def group_deliverables(documents: list[Document]) -> list[TrackedDeliverable]:
    """Documents grouped by deliverable, ordered by first phase, then title."""
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        groups.setdefault(doc.deliverable.key, []).append(doc)
    out = []
    for docs in groups.values():
        docs.sort(key=lambda d: (d.phase, d.path))
        titles = " / ".join(dict.fromkeys(d.title for d in docs))  # as phases name it
        out.append(TrackedDeliverable(titles, docs[0].format, tuple(docs)))
    return sorted(out, key=lambda t: (t.documents[0].phase, t.title.lower(), t.title))


def responsible_parties(item: TrackedDeliverable) -> str:
    parties: list[Party] = []
    for kt in item.producers:
        for p in kt.parties:
            if p not in parties:
                parties.append(p)
    return ", ".join(p.label for p in sorted(parties, key=list(Party).index))


def status_of(item: TrackedDeliverable, engagement: Engagement) -> tuple[str, float | None]:
    """The worst reported status of the producing key tasks, and their mean % complete
    (nothing for a deliverable the pack only uses)."""
    if not item.producers:
        return "", None
    statuses = [engagement.task_status(kt.id) for kt in item.producers]
    codes = {s.status for s in statuses if s.status}
    label = next((STATUS_CODES[c] for c in STATUS_SEVERITY if c in codes), "Not reported")
    pcts = [s.percent_complete for s in statuses if s.percent_complete is not None]
    return label, (sum(pcts) / len(pcts) / 100 if pcts else None)


def phases_of(playbook: Playbook, documents: list[Document]) -> list[tuple[int, str]]:
    """(number, name) of every phase in the playbook and of every document."""
    numbers = sorted({p.number for p in playbook.phases} | {d.phase for d in documents})
    return [(n, playbook.phase(n).name) for n in numbers]


# -- the workbook -----------------------------------------------------------------------
class _Sheet:
    """A worksheet under construction: rows of cells, widths, links."""

    def __init__(self, name: str, warnings: list[str]):
        self.name = name
        self.warnings = warnings
        self.root = etree.Element(qn("x:worksheet"), nsmap={None: NS["x"], "r": NS["r"]})
        sm.child(self.root, "sheetPr")
        etree.SubElement(self.root.find(qn("x:sheetPr")), qn("x:pageSetUpPr"), fitToPage="1")
        sm.child(self.root, "dimension")
        view = etree.SubElement(sm.child(self.root, "sheetViews"), qn("x:sheetView"),
                                workbookViewId="0")
        view.set("showGridLines", "0")
        sm.child(self.root, "sheetFormatPr").set("defaultRowHeight", "13.5")
        self.data = sm.child(self.root, "sheetData")
        self.links: list[tuple[str, str]] = []
        self.rows: list[bytes] = []   # serialized as they are written: a big sheet stays small
        # what lxml declares on a row written alone (the worksheet already declares it)
        self._ns_decls = "".join(f' xmlns{":" + k if k else ""}="{v}"'
                                 for k, v in self.root.nsmap.items()).encode()
        self.last_row = self.last_col = 0
        self.first_row = 0

    def row(self, number: int, values: list[tuple[object, int]], widths: dict[int, float],
            min_height: float = 15.0) -> None:
        """Write (value, style) cells from column A; text wraps, height estimated."""
        row = sm.new_row(number)
        texts = []
        for col, (value, style) in enumerate(values, 1):
            ref = sm.cell_ref(col, number)
            if value is None or value == "":
                row.append(sm.blank_cell(ref, style))
            elif isinstance(value, (int, float)):
                row.append(sm.number_cell(ref, value, style))
            else:
                text = sm.safe_text(str(value), self.warnings, f"{self.name}!{ref}")
                row.append(sm.text_cell(ref, text, style))
                if style in Style.WRAPPING:
                    texts.append((text, widths.get(col, 8.43)))
        height = sm.row_height(texts, minimum=min_height)
        if height > 15.0:
            row.set("ht", f"{height:g}")
            row.set("customHeight", "1")
        self.data.append(row)   # in the tree only to be written with its namespaces
        self.rows.append(etree.tostring(row, encoding="UTF-8").replace(self._ns_decls, b"", 1))
        self.data.remove(row)
        self.first_row = min(self.first_row or number, number)
        self.last_row = max(self.last_row, number)
        self.last_col = max(self.last_col, len(values))

    def to_bytes(self) -> bytes:
        """The worksheet part, its rows spliced into sheetData."""
        head, sep, tail = serialize(self.root).partition(b"<sheetData/>")
        if not sep:
            raise AssertionError("worksheet without an empty sheetData")
        return head + b"<sheetData>" + b"".join(self.rows) + b"</sheetData>" + tail

    def title(self, title: str, subtitle: str, last_col: int) -> None:
        self.row(1, [(title, Style.TITLE)], {}, min_height=24)
        self.row(2, [(subtitle, Style.SUBTITLE)], {})
        merges = sm.child(self.root, "mergeCells")
        for r in (1, 2):
            etree.SubElement(merges, qn("x:mergeCell"), ref=sm.range_ref(1, r, last_col, r))
        merges.set("count", "2")

    def link(self, ref: str, target: str) -> None:
        self.links.append((ref, target))

    def finish(self, widths: dict[int, float], last_row: int, last_col: int,
               freeze_cols: int, footer: str) -> None:
        """Widths, frozen header, filter, print setup; hyperlinks get ids from the caller."""
        sm.set_widths(self.root, widths)
        sm.freeze(self.root, HEADER_ROW, freeze_cols)
        sm.child(self.root, "autoFilter").set(
            "ref", sm.range_ref(1, HEADER_ROW, last_col, max(last_row, HEADER_ROW + 1)))
        sm.child(self.root, "printOptions").set("horizontalCentered", "1")
        margins = sm.child(self.root, "pageMargins")
        for k, v in (("left", "0.4"), ("right", "0.4"), ("top", "0.6"), ("bottom", "0.6"),
                     ("header", "0.3"), ("footer", "0.3")):
            margins.set(k, v)
        setup = sm.child(self.root, "pageSetup")
        for k, v in (("paperSize", "5"), ("orientation", "landscape"), ("fitToWidth", "1"),
                     ("fitToHeight", "0")):
            setup.set(k, v)
        footer, removed = clean_text(footer)
        if removed:
            self.warnings.append(f"{self.name} footer: removed characters that are not "
                                 "allowed in XML")
        hf = sm.child(self.root, "headerFooter")
        etree.SubElement(hf, qn("x:oddFooter")).text = \
            "&L&8" + footer.replace("&", "&&") + "&R&8Page &P of &N"
        sm.child(self.root, "dimension").set("ref", sm.range_ref(
            1, self.first_row, self.last_col, self.last_row) if self.last_col else "A1")

    def hyperlinks(self) -> list[str]:
        """Write the <hyperlinks> element; returns the targets in rId order."""
        if not self.links:
            return []
        targets = sorted({t for _, t in self.links})
        ids = {t: f"rId{i}" for i, t in enumerate(targets, 1)}
        el = sm.child(self.root, "hyperlinks")
        for ref, target in self.links:
            etree.SubElement(el, qn("x:hyperlink"), {"ref": ref, qn("r:id"): ids[target]})
        return targets


def without_documents(tasks: Iterable[KeyTask], documents: list[Document]) -> list[KeyTask]:
    """The key tasks that no document of the pack comes from or is used by."""
    covered = {kt.id for d in documents for kt in d.key_tasks}
    return [kt for kt in tasks if kt.id not in covered]


def deliverables_sheet(documents: list[Document], playbook: Playbook, engagement: Engagement,
                       links: dict[str, str], warnings: list[str],
                       idle: Sequence[KeyTask] = ()) -> _Sheet:
    """The Deliverables sheet: one row per deliverable, one column per phase."""
    phases = phases_of(playbook, documents)
    heads = (["Deliverable", "Format"] + [f"Phase {n}\n{name}" for n, name in phases] +
             ["Produced by (key tasks)", "Used by (key tasks)", "Responsible Parties", "Status",
              "% Complete", "File in Pack"])
    fixed = [34.0, 11.0] + [13.0] * len(phases) + [22.0, 22.0, 18.0, 16.0, 10.0, 34.0]
    widths = dict(enumerate(fixed, 1))
    sheet = _Sheet("Deliverables", warnings)
    sheet.title("Deliverables Tracker", _subtitle(engagement), len(heads))
    sheet.row(HEADER_ROW, [(h, Style.HEADER) for h in heads], widths, min_height=30)
    items = group_deliverables(documents)
    for r, item in enumerate(items, HEADER_ROW + 1):
        status, pct = status_of(item, engagement)
        cells: list[tuple[object, int]] = [(item.title, Style.TEXT),
                                           (FORMAT_LABELS.get(item.format, item.format),
                                            Style.CENTER)]
        for col, (number, _) in enumerate(phases, 3):
            label = item.phase_label(number)
            doc = item.document_in(number) if label else None
            target = links.get(doc.path) if doc is not None and doc.path else None
            if target:
                sheet.link(sm.cell_ref(col, r), _uri(target))
            cells.append((label, PHASE_STYLES[label][bool(target)] if label else Style.CENTER))
        latest = _latest_linked(item, links)
        cells += [(", ".join(kt.id for kt in item.producers), Style.TEXT),
                  (", ".join(kt.id for kt in item.users), Style.TEXT),
                  (responsible_parties(item), Style.TEXT), (status, Style.CENTER),
                  (pct, Style.PERCENT),
                  (posixpath.basename(links[latest.path]) if latest else "",
                   Style.LINK if latest else Style.TEXT)]
        if latest:
            sheet.link(sm.cell_ref(len(heads), r), _uri(links[latest.path]))
        sheet.row(r, cells, widths)
    last = HEADER_ROW + max(len(items), 1)
    if not items:
        sheet.row(last, [("", Style.TEXT)] * len(heads), widths)
    if idle:
        sheet.row(last + 2, [("Key tasks in scope that list no deliverable (see the RACI "
                              "sheet for their stakeholders)", Style.NOTE)], {})
        for r, kt in enumerate(idle, last + 3):
            sheet.row(r, [(f"{kt.id}  {kt.name}", Style.NOTE)], {})
    sheet.finish(widths, last, len(heads), 1, f"{engagement.agency} - Deliverables Tracker")
    return sheet


def _latest_linked(item: TrackedDeliverable, links: dict[str, str]) -> Document | None:
    """The last-phase document of a deliverable that has a file in the pack."""
    linked = [d for d in item.documents if d.path and d.path in links]
    return max(linked, key=lambda d: (d.phase, bool(d.outputs_of))) if linked else None


def _uri(path: str) -> str:
    """A relative path as a relationship target (spaces and the like percent-encoded)."""
    return quote(path.replace("\\", "/"), safe="/#:-._~")


def raci_sheet(tasks: tuple[KeyTask, ...], engagement: Engagement,
               warnings: list[str]) -> _Sheet:
    """Stakeholder roles (rows) by key task (columns), parties in the cells."""
    roles: dict[str, str] = {}
    cells: dict[tuple[str, str], list[Party]] = {}
    for kt in tasks:
        for sh in kt.stakeholders:
            name = " ".join(sh.role.plain.split())
            key = name.lower()
            roles.setdefault(key, name)
            parties = cells.setdefault((key, kt.id), [])
            parties += [p for p in sh.parties if p not in parties]
    title = "Stakeholder Roles by Key Task (RACI)"
    widths = room_for_title({1: 34.0, **{c: 7.5 for c in range(2, len(tasks) + 2)}}, title,
                            _subtitle(engagement))
    sheet = _Sheet("RACI", warnings)
    sheet.title(title, _subtitle(engagement), len(tasks) + 1)
    sheet.row(HEADER_ROW, [("Stakeholder Role", Style.HEADER)] +
              [(kt.id, Style.HEADER) for kt in tasks], widths, min_height=22)
    for r, (key, name) in enumerate(roles.items(), HEADER_ROW + 1):
        row = [(name, Style.TEXT)]
        for kt in tasks:
            parties = sorted(cells.get((key, kt.id), []), key=list(Party).index)
            row.append((", ".join(PARTY_CODES[p] for p in parties), Style.CENTER))
        sheet.row(r, row, widths)
    last = HEADER_ROW + max(len(roles), 1)
    _key_task_legend(sheet, tasks, last + 2)
    sheet.finish(widths, last, len(tasks) + 1, 1, f"{engagement.agency} - Stakeholder RACI")
    return sheet


def terms_sheet(documents: list[Document], tasks: tuple[KeyTask, ...], playbook: Playbook,
                engagement: Engagement, warnings: list[str]) -> _Sheet | None:
    """The playbook glossary's terms the pack uses (None without a glossary)."""
    terms = terms_used(playbook, tasks, [d.title for d in documents])
    if not terms:
        return None
    title = "Terms and Abbreviations"
    widths = room_for_title({1: 30.0, 2: 80.0, 3: 16.0}, title, _subtitle(engagement))
    sheet = _Sheet("Terms", warnings)
    sheet.title(title, _subtitle(engagement), 3)
    sheet.row(HEADER_ROW, [("Term", Style.HEADER), ("Meaning", Style.HEADER),
                           ("Glossary Section", Style.HEADER)], widths, min_height=22)
    for r, term in enumerate(terms, HEADER_ROW + 1):
        sheet.row(r, [(term.name, Style.TEXT), (term.description, Style.TEXT),
                      (term.section, Style.TEXT)], widths)
    sheet.finish(widths, HEADER_ROW + len(terms), 3, 1,
                 f"{engagement.agency} - Terms and Abbreviations")
    return sheet


def _key_task_legend(sheet: _Sheet, tasks: tuple[KeyTask, ...], first_row: int) -> None:
    """Party codes and key task names under the matrix (the headers carry only ids)."""
    legend = ", ".join(f"{code} = {p.label}" for p, code in PARTY_CODES.items())
    sheet.row(first_row, [(f"Parties: {legend}", Style.NOTE)], {})
    sheet.row(first_row + 1, [("Key tasks", Style.NOTE)], {})
    for r, kt in enumerate(tasks, first_row + 2):
        sheet.row(r, [(f"{kt.id}  {kt.name}", Style.NOTE)], {})


def room_for_title(widths: dict[int, float], title: str, subtitle: str,
                   most: float = 16.0) -> dict[int, float]:
    """Widen the columns after the first (up to ``most``) so the title rows fit across."""
    need = max(len(title) * 1.7, len(subtitle) * 0.95)
    rest = sorted(c for c in widths if c > 1)
    while sum(widths.values()) < need and rest and any(widths[c] < most for c in rest):
        for c in rest:
            widths[c] = min(most, widths[c] + 0.5)
    if sum(widths.values()) < need:
        widths[1] += need - sum(widths.values())
    return widths


def _subtitle(engagement: Engagement) -> str:
    day = engagement.as_of
    return (f"{engagement.agency}   |   {engagement.program}   |   "
            f"As of {long_date(day)}")


def build_tracker(documents: list[Document], playbook: Playbook, engagement: Engagement,
                  links: dict[str, str], warnings: list[str] | None = None,
                  scope: Sequence[KeyTask] = ()) -> bytes:
    """The deliverables tracker workbook for a pack, as .xlsx bytes; text that had to be
    cleaned or cut is reported in ``warnings`` (when given). ``scope``: the key tasks of
    the pack, those that list no document included."""
    warnings = [] if warnings is None else warnings
    tasks = _unique(list(scope) + [kt for d in documents for kt in d.key_tasks])
    sheets = [deliverables_sheet(documents, playbook, engagement, links, warnings,
                                 without_documents(tasks, documents)),
              raci_sheet(tasks or playbook.key_tasks, engagement, warnings),
              terms_sheet(documents, tasks, playbook, engagement, warnings)]
    sheets = [sheet for sheet in sheets if sheet is not None]
    parts: dict[str, bytes] = {}
    for i, sheet in enumerate(sheets, 1):
        targets = sheet.hyperlinks()
        parts[f"xl/worksheets/sheet{i}.xml"] = sheet.to_bytes()
        if targets:
            parts[f"xl/worksheets/_rels/sheet{i}.xml.rels"] = _rels(
                [(f"rId{n}", RT["hyperlink"], t, True) for n, t in enumerate(targets, 1)])
    parts.update(_book_parts(sheets, engagement))
    return _zip(parts)


def _book_parts(sheets: list[_Sheet], engagement: Engagement) -> dict[str, bytes]:
    n = len(sheets)
    types = etree.Element(qn("ct:Types"), nsmap={None: NS["ct"]})
    etree.SubElement(types, qn("ct:Default"), Extension="rels",
                     ContentType="application/vnd.openxmlformats-package.relationships+xml")
    etree.SubElement(types, qn("ct:Default"), Extension="xml", ContentType="application/xml")
    for name, ct in ([("/xl/workbook.xml", _CT_BOOK), ("/xl/styles.xml", _CT_STYLES),
                      ("/xl/theme/theme1.xml", _CT_THEME), ("/docProps/core.xml", _CT_CORE)] +
                     [(f"/xl/worksheets/sheet{i}.xml", _CT_SHEET) for i in range(1, n + 1)]):
        etree.SubElement(types, qn("ct:Override"), PartName=name, ContentType=ct)
    book = etree.Element(qn("x:workbook"), nsmap={None: NS["x"], "r": NS["r"]})
    etree.SubElement(etree.SubElement(book, qn("x:bookViews")), qn("x:workbookView"))
    sheets_el = etree.SubElement(book, qn("x:sheets"))
    names = etree.SubElement(book, qn("x:definedNames"))
    for i, sheet in enumerate(sheets):
        etree.SubElement(sheets_el, qn("x:sheet"), {"name": sheet.name, "sheetId": str(i + 1),
                                                    qn("r:id"): f"rId{i + 1}"})
        c1, r1, c2, r2 = sm.split_range(sheet.root.find(qn("x:autoFilter")).get("ref"))
        prefix = sm.quote_sheet(sheet.name)
        for name, text, hidden in (
                ("_xlnm._FilterDatabase", f"{prefix}!{sm.abs_range(c1, r1, c2, r2)}", True),
                ("_xlnm.Print_Titles", f"{prefix}!$1:${HEADER_ROW}", False)):
            el = etree.SubElement(names, qn("x:definedName"), name=name, localSheetId=str(i))
            if hidden:
                el.set("hidden", "1")
            el.text = text
    etree.SubElement(book, qn("x:calcPr"), calcId="191029")
    book_rels = [(f"rId{i}", RT["worksheet"], f"worksheets/sheet{i}.xml", False)
                 for i in range(1, n + 1)] + [(f"rId{n + 1}", _RT_STYLES, "styles.xml", False),
                                              (f"rId{n + 2}", _RT_THEME, "theme/theme1.xml", False)]
    return {
        "[Content_Types].xml": serialize(types),
        "_rels/.rels": _rels([("rId1", _RT_DOC, "xl/workbook.xml", False),
                              ("rId2", _RT_CORE, "docProps/core.xml", False)]),
        "docProps/core.xml": _core(engagement),
        "xl/workbook.xml": serialize(book),
        "xl/_rels/workbook.xml.rels": _rels(book_rels),
        "xl/styles.xml": STYLES_XML,
        "xl/theme/theme1.xml": theme_xml.encode("utf-8"),  # openpyxl's default Office theme
    }


def _rels(items: list[tuple[str, str, str, bool]]) -> bytes:
    root = etree.Element(qn("rel:Relationships"), nsmap={None: NS["rel"]})
    for rid, rtype, target, external in items:
        el = etree.SubElement(root, qn("rel:Relationship"), Id=rid, Type=rtype, Target=target)
        if external:
            el.set("TargetMode", "External")
    return serialize(root)


def _core(engagement: Engagement) -> bytes:
    root = etree.Element(qn("cp:coreProperties"),
                         nsmap={k: NS[k] for k in ("cp", "dc", "dcterms", "xsi")})
    stamp = f"{engagement.as_of.isoformat()}T00:00:00Z"
    title, _ = clean_text(f"Deliverables Tracker - {engagement.program}")
    for tag, text in (("dc:title", title), ("dc:creator", "m3docs")):
        etree.SubElement(root, qn(tag)).text = text
    for tag in ("dcterms:created", "dcterms:modified"):
        etree.SubElement(root, qn(tag), {qn("xsi:type"): "dcterms:W3CDTF"}).text = stamp
    return serialize(root)


def _zip(parts: dict[str, bytes]) -> bytes:
    return write_zip(parts, ["_rels/.rels", "docProps/core.xml", "xl/workbook.xml",
                             "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/theme/theme1.xml"])
