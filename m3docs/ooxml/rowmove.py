"""Everything in a workbook that points at rows follows them when they move.

Given a ``cells.RowMap`` for one sheet: that sheet's merges, conditional formats (x14 ones
too), validations, hyperlinks, selections, page breaks and formulas; its tables, drawing
anchors and notes; the workbook's defined names (print areas included); and the formulas
of every other sheet that point at it. Parts nothing points into are left untouched.
"""
from __future__ import annotations

import re
from typing import Iterator

from lxml import etree

from .cells import RowMap, move_formula, move_ref, move_row, move_sqref, points_at
from .package import Package, resolve_target
from .xml import NS, RT, qn

# Elements whose sqref/ref/activeCell list ranges of their sheet.
SQREF_TAGS = ("x:conditionalFormatting", "x:dataValidation", "x:hyperlink", "x:mergeCell",
              "x:autoFilter", "x:selection", "x:protectedRange", "x:sortState",
              "x:sortCondition", "x:ignoredError")
# Elements that are nothing once every row they cover vanished.
_DROPPABLE = {qn(t) for t in ("x:conditionalFormatting", "x:dataValidation", "x:hyperlink",
                              "x:mergeCell", "x:protectedRange", "x:ignoredError")}
_GROW = ("x:conditionalFormatting", "x:dataValidation", "x:hyperlink", "x:protectedRange",
         "x:ignoredError")
_XM_SQREF = f"{{{NS['xm']}}}sqref"
_XM_F = f"{{{NS['xm']}}}f"
_FORMULA_TAGS = (qn("x:f"), qn("x:formula"), qn("x:formula1"), qn("x:formula2"), _XM_F)
# A legacy note's shape names its cell's zero-based row: <x:Row>8</x:Row> (any prefix).
_VML_ROW = re.compile(rb"(<(?:\w+:)?Row>\s*)(\d+)(\s*</(?:\w+:)?Row>)")
# ... and where its box is drawn: <x:Anchor>col, dx, row, dy, col, dx, row, dy</x:Anchor>.
_VML_ANCHOR = re.compile(rb"(<(?:\w+:)?Anchor>)([\d\s,]+)(</(?:\w+:)?Anchor>)")


def formulas(root: etree._Element) -> Iterator[etree._Element]:
    """Every formula element under ``root`` (cells, rules, validations, x14 rules)."""
    for tag in _FORMULA_TAGS:
        yield from root.iter(tag)


def move_formulas(root: etree._Element, rows: RowMap, own: bool) -> bool:
    """Move the references of every formula under ``root``; True when one changed."""
    changed = False
    for el in formulas(root):
        if el.text:
            new = move_formula(el.text, rows, own)
            if new != el.text:
                el.text = new
                changed = True
        if own and el.tag == qn("x:f") and el.get("ref"):
            el.set("ref", move_sqref(el.get("ref"), rows) or el.get("ref"))
    return changed


def move_ranges(ws: etree._Element, rows: RowMap, grow: bool = False) -> None:
    """The sheet's range lists (merges, formats, validations, links, selections...), the
    x14 ones and its row breaks; elements left with no range are dropped. ``grow``: a
    single cell of a format, validation or link grows over the rows it became."""
    for tag in SQREF_TAGS:
        for el in list(ws.iter(qn(tag))):
            for attr in ("sqref", "ref", "activeCell"):
                if el.get(attr):
                    moved = move_sqref(el.get(attr), rows,
                                       grow and attr != "activeCell" and tag in _GROW)
                    if moved or el.tag in _DROPPABLE:   # a selection keeps its old cell
                        el.set(attr, moved)
            if el.tag in _DROPPABLE and not (el.get("sqref") or el.get("ref")):
                _drop(el)
    for el in list(ws.iter(_XM_SQREF)):
        if el.text:
            el.text = move_sqref(el.text, rows, grow)
            if not el.text:
                _drop(el.getparent())
    for brk in ws.iterfind(f"{qn('x:rowBreaks')}/{qn('x:brk')}"):
        brk.set("id", str(rows.position(int(brk.get("id", "0")))))


def _drop(el: etree._Element | None) -> None:
    if el is None or el.getparent() is None:
        return
    parent = el.getparent()
    parent.remove(el)
    if parent.get("count") is not None:
        parent.set("count", str(len(parent)))
    if not len(parent) and etree.QName(parent).localname in (
            "conditionalFormatting", "mergeCells", "hyperlinks", "dataValidations",
            "conditionalFormattings", "dataValidations", "ignoredErrors", "protectedRanges"):
        _drop(parent)


def move_sheet(ws: etree._Element, rows: RowMap) -> bool:
    """Move a whole sheet's rows and everything on it that points at rows (rows that
    vanish are not this function's: it renumbers). True when a formula moved or changed
    (the workbook must then be recalculated)."""
    changed = False
    for row in ws.iter(qn("x:row")):
        r = int(row.get("r", "0"))
        new = move_row(r, rows)
        if new is not None and new != r:
            row.set("r", str(new))
            for c in row.iter(qn("x:c")):
                if c.get("r"):
                    c.set("r", c.get("r").rstrip("0123456789") + str(new))
                changed |= c.find(qn("x:f")) is not None
    changed |= move_formulas(ws, rows, own=True)
    move_ranges(ws, rows)
    return changed


def move_sheet_parts(pkg: Package, sheet_part: str, rows: RowMap) -> None:
    """The sheet's tables, drawing anchors and notes follow its rows."""
    rels_name = pkg.rels_name(sheet_part)
    if rels_name not in pkg:
        return
    for rel in pkg.view(rels_name):
        part = resolve_target(sheet_part, rel.get("Target", ""))
        if rel.get("TargetMode") == "External" or part not in pkg:
            continue
        kind = rel.get("Type")
        if kind == RT["table"]:
            move_table(pkg, part, rows)
        elif kind == RT["drawing"]:
            move_anchors(pkg, part, rows)
        elif kind == RT["comments"]:
            move_comments(pkg, part, rows)
        elif kind == RT["vmlDrawing"]:
            move_notes(pkg, part, rows)


def move_table(pkg: Package, part: str, rows: RowMap) -> None:
    """A table's range (and its filter's and sort's) move and grow."""
    ref = pkg.view(part).get("ref", "")
    if (move_sqref(ref, rows) or ref) == ref:
        return
    table = pkg.xml(part)
    for el in [table, *table.iter(qn("x:autoFilter"), qn("x:sortState"))]:
        if el.get("ref"):
            el.set("ref", move_sqref(el.get("ref"), rows) or el.get("ref"))


def move_comments(pkg: Package, part: str, rows: RowMap) -> None:
    tag = qn("x:comment")

    def moved(ref: str) -> str:
        return move_ref(ref, rows) or ref

    if all(moved(c.get("ref", "")) == c.get("ref", "") for c in pkg.view(part).iter(tag)):
        return
    for c in pkg.xml(part).iter(tag):
        if c.get("ref"):
            c.set("ref", moved(c.get("ref")))


def move_notes(pkg, part: str, rows: RowMap) -> None:
    """Legacy VML note shapes (not always well-formed XML, so edited as text)."""
    def row(text: bytes) -> bytes:
        return str(rows.position(int(text) + 1) - 1).encode()

    def anchor(m: re.Match) -> bytes:
        values = [v.strip() for v in m.group(2).split(b",")]
        if len(values) != 8 or not all(v.isdigit() for v in values):
            return m.group(0)
        values[2], values[6] = row(values[2]), row(values[6])
        return m.group(1) + b", ".join(values) + m.group(3)

    data = pkg.read(part)
    new = _VML_ROW.sub(lambda m: m.group(1) + row(m.group(2)) + m.group(3), data)
    new = _VML_ANCHOR.sub(anchor, new)
    if new != data:
        pkg.put(part, new)


def move_anchors(pkg: Package, part: str, rows: RowMap) -> None:
    """Drawing anchors (zero-based rows) follow their rows."""
    tag = f"{{{NS['xdr']}}}row"

    def moved(text: str | None) -> str:
        return str(rows.position(int(text or 0) + 1) - 1)

    if all(moved(el.text) == (el.text or "0") for el in pkg.view(part).iter(tag)):
        return
    for el in pkg.xml(part).iter(tag):
        el.text = moved(el.text)


def move_charts(pkg: Package, rows: RowMap) -> bool:
    """The data ranges (``c:f``) of every chart of the workbook, on whatever sheet it is
    drawn, follow the moved rows (a series over a loop's row grows with it); charts that
    do not point at them are left untouched. True when one did."""
    tag = f"{{{NS['c']}}}f"
    changed = False
    for part in pkg.names:
        if not (part.startswith("xl/charts/") and part.endswith(".xml")):
            continue
        if not any(el.text and points_at(el.text, rows, own=False)
                   for el in pkg.view(part).iter(tag)):
            continue
        for el in pkg.xml(part).iter(tag):
            if el.text:
                el.text = move_formula(el.text, rows, own=False, grow=True)
        changed = True
    return changed


def move_names(pkg: Package, main: str, rows: RowMap) -> bool:
    """Defined names (print areas, titles, filters, users' names) that point at moved rows
    follow them; the workbook part is left untouched when none does. True when one did."""
    names = pkg.view(main).find(qn("x:definedNames"))
    changes = [(i, move_formula(dn.text or "", rows, own=False))
               for i, dn in enumerate(names if names is not None else [])]
    changes = [(i, text) for i, text in changes if text != (names[i].text or "")]
    if changes:
        live = pkg.xml(main).find(qn("x:definedNames"))
        for i, text in changes:
            live[i].text = text
    return bool(changes)


def move_other_sheets(pkg: Package, sheets: list[tuple[str, str]], maps: list[RowMap]) -> bool:
    """Formulas of the other sheets that point at moved rows follow them (parts that do
    not are left untouched). True when a formula changed."""
    changed = False
    for name, part in sheets:
        others = [rows for rows in maps if name != rows.sheet]
        if not others or not may_refer_out(pkg, part):
            continue
        # only a formula naming a sheet (``Log!A3``) can point at another sheet's rows;
        # gathered once per sheet, not once per map (a sheet of 5,000 rows, measured)
        cross = [el.text for el in formulas(pkg.view(part)) if el.text and "!" in el.text]
        for rows in others:
            if any(points_at(text, rows, own=False) for text in cross):
                move_formulas(pkg.xml(part), rows, own=False)
                cross = [el.text for el in formulas(pkg.view(part))
                         if el.text and "!" in el.text]
                changed = True
    return changed


def may_refer_out(pkg: Package, part: str) -> bool:
    """False when the sheet surely holds no formula naming a sheet: a part kept as bytes
    (untouched, or finished and sealed) that holds no ``!`` (checked without parsing it)."""
    if pkg.holds_tree(part) or part not in pkg:
        return True
    if part not in pkg.changed():   # the template's own bytes: looked at once per template
        seen = pkg.template.__dict__.setdefault("refers_out", {})
        if part not in seen:
            seen[part] = b"!" in pkg.template.bytes_of(part)
        return seen[part]
    return b"!" in pkg.read(part)
