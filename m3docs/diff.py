"""What changed between two packs, or two documents, as a reader sees them.

Documents are matched by the manifest's title and phase (the tracker by its path);
only documents whose bytes differ are opened, and in them only the parts whose
stored checksum differs. A part's visible text becomes a sequence of items, each
with its place (Word: paragraphs and table rows under the nearest heading; Excel:
``Sheet!A1`` cells; PowerPoint: slide and shape, or table cell); the two sequences
are aligned on the text alone, so content that merely moved is not reported.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from lxml import etree

from . import manifest as mf
from .errors import M3DocsError
from .manifest import MANIFEST
from .ooxml.package import PackageError, Template
from .ooxml.xml import UnsafeXML, qn

WORD, SHEET, DECK = (".docx", ".docm"), (".xlsx", ".xlsm"), (".pptx", ".pptm")
START = "(start)"  # the place of Word text before the first heading


@dataclass(frozen=True)
class Change:
    """One line of a document diff: ``op`` is "-" (old) or "+" (new)."""

    op: str
    place: str
    text: str

    def to_dict(self) -> dict:
        return {"op": self.op, "place": self.place, "text": self.text}


@dataclass
class DocumentDiff:
    """A document present in both packs whose visible content differs."""

    path: str
    old_path: str
    changes: list[Change]

    @property
    def removed_lines(self) -> int:
        return sum(c.op == "-" for c in self.changes)

    @property
    def added_lines(self) -> int:
        return sum(c.op == "+" for c in self.changes)

    def to_dict(self) -> dict:
        return {"path": self.path, "changes": [c.to_dict() for c in self.changes]}


@dataclass
class PackDiff:
    """Documents added, removed and changed from ``old`` to ``new`` (manifest paths)."""

    old: Path
    new: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[DocumentDiff] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict:
        return {"added": list(self.added), "removed": list(self.removed),
                "changed": [d.to_dict() for d in self.changed]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def unified(self) -> Iterator[str]:
        """Lines in the manner of a unified diff: each place is an ``@@`` header."""
        for path in self.removed:
            yield f"removed: {path}"
        for path in self.added:
            yield f"added: {path}"
        for doc in self.changed:
            yield f"--- old/{doc.old_path}"
            yield f"+++ new/{doc.path}"
            place = None
            for change in doc.changes:
                if change.place != place:
                    place = change.place
                    yield f"@@ {place} @@"
                for line in change.text.split("\n"):
                    yield f"{change.op}{line}"

    def stat(self) -> Iterator[str]:
        """One line per document, then a summary, as ``git diff --stat`` prints."""
        rows = [(p, "removed") for p in self.removed] + [(p, "added") for p in self.added]
        rows += [(d.path, f"{len(d.changes)} {'+' * min(d.added_lines, 30)}"
                  f"{'-' * min(d.removed_lines, 30)}") for d in self.changed]
        width = max((len(p) for p, _ in rows), default=0)
        for path, note in rows:
            yield f" {path.ljust(width)} | {note}"
        if rows:
            yield (f" {len(self.changed)} changed, {len(self.added)} added, "
                   f"{len(self.removed)} removed")


def diff_packs(old: str | Path, new: str | Path) -> PackDiff:
    """Compare two packs (folders with a manifest.json) or two single documents."""
    old, new = Path(old).expanduser(), Path(new).expanduser()
    for p in (old, new):
        if not p.exists():
            raise M3DocsError(f"{p}: no such pack or document")
    result = PackDiff(old, new)
    if old.is_file() and new.is_file():
        changes = diff_documents(old.read_bytes(), new.read_bytes(), old, new)
        if changes:
            result.changed.append(DocumentDiff(new.name, old.name, changes))
        return result
    if not (old.is_dir() and new.is_dir()):
        raise M3DocsError(f"{old} and {new}: compare two packs or two documents, not one of each")
    before, after = _entries(old), _entries(new)
    for key in [k for k in after if k in before and  # another format: another document
                _family(before[k]["path"]) != _family(after[k]["path"])]:
        before[key + ("old",)] = before.pop(key)
    result.removed = [e["path"] for k, e in before.items() if k not in after]
    result.added = [e["path"] for k, e in after.items() if k not in before]
    for key, entry in after.items():
        if key in before:
            then = before[key]["path"]
            changes = diff_documents(_read(old, then), _read(new, entry["path"]),
                                     old / then, new / entry["path"])
            if changes:
                result.changed.append(DocumentDiff(entry["path"], then, changes))
    return result


def _entries(pack: Path) -> dict[tuple, dict]:
    """The manifest's documents keyed by (phase, title), the tracker by its path."""
    data = mf.read_pack(pack)
    out: dict[tuple, dict] = {}
    for entry in mf.entries(data):
        if not isinstance(entry.get("path"), str):
            raise M3DocsError(f"{pack / MANIFEST}: a document entry has no path")
        key: tuple = ((str(entry.get("phase")), str(entry["title"])) if "title" in entry
                      else ("file", entry["path"]))
        out[key if key not in out else key + (entry["path"],)] = entry
    return out


def _read(pack: Path, rel: str) -> bytes:
    target = pack / rel
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise M3DocsError(f"{pack / MANIFEST}: {rel!r} is not a path inside the pack")
    try:
        return target.read_bytes()
    except OSError as exc:
        raise M3DocsError(f"{target}: listed in {MANIFEST} but cannot be read: "
                          f"{exc.strerror or exc}")


# -- one document ---------------------------------------------------------------------

def diff_documents(old: bytes, new: bytes, old_name: str | Path = "old",
                   new_name: str | Path = "new") -> list[Change]:
    """The visible changes between two versions of a document (none for the same bytes)."""
    if hashlib.sha256(old).digest() == hashlib.sha256(new).digest():
        return []
    suffix = Path(str(new_name)).suffix.lower()
    if suffix not in WORD + SHEET + DECK:
        return [Change("-", "file", "(contents differ)"), Change("+", "file", "(contents differ)")]
    if _family(str(old_name)) != _family(str(new_name)):
        raise M3DocsError(f"{old_name} and {new_name}: documents of different formats")
    a, b = _package(old, old_name), _package(new, new_name)
    reader = WordReader if suffix in WORD else SheetReader if suffix in SHEET else DeckReader
    changes: list[Change] = []
    try:
        ra, rb = reader(a), reader(b)
        for section in _sections(ra.sections(), rb.sections()):
            if ra.same_part(section, rb):
                continue
            changes += ra.compare(rb, section)
    except PackageError as exc:
        raise M3DocsError(str(exc))
    except (etree.XMLSyntaxError, UnsafeXML, ValueError, KeyError) as exc:
        raise M3DocsError(f"{new_name}: cannot read the document: {exc}")
    return changes


def _family(name: str) -> str:
    """"word", "sheet", "deck" or the file's own extension."""
    suffix = Path(name).suffix.lower()
    return ("word" if suffix in WORD else "sheet" if suffix in SHEET else
            "deck" if suffix in DECK else suffix)


def _package(data: bytes, name: str | Path) -> Template:
    try:
        return Template(str(name), data)
    except PackageError as exc:
        raise M3DocsError(str(exc))


def _sections(a: list[str], b: list[str]) -> list[str]:
    """Both documents' sections, in the new one's order, then those only the old has."""
    return b + [s for s in a if s not in b]


def _align(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[Change]:
    """Align two (place, text) sequences on their text; the differing runs as changes."""
    before, after = [t for _, t in old], [t for _, t in new]
    if before == after:
        return []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    out: list[Change] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        gone = [Change("-", place, text) for place, text in old[i1:i2]]
        came = [Change("+", place, text) for place, text in new[j1:j2]]
        if len(gone) == len(came):  # line by line: each old line next to its new one
            out += [c for pair in zip(gone, came) for c in pair]
        else:
            out += gone + came
    return out


class _Reader:
    """The visible text of one package, section by section (a section is a part or a
    group of parts that is aligned as one sequence)."""

    def __init__(self, package: Template):
        self.pkg = package

    def sections(self) -> list[str]:
        raise NotImplementedError

    def items(self, section: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def parts_of(self, section: str) -> list[str]:
        return [section]

    def compare(self, other: "_Reader", section: str) -> list[Change]:
        """The changes in ``section`` from this package to ``other``."""
        return _align(self.items(section), other.items(section))

    def same_part(self, section: str, other: "_Reader") -> bool:
        """Whether the section's parts are stored identically in both (checksum and size)."""
        mine, theirs = self.parts_of(section), other.parts_of(section)
        return mine == theirs and all(
            name in self.pkg.raw and name in other.pkg.raw and
            (self.pkg.raw[name].crc, self.pkg.raw[name].size) ==
            (other.pkg.raw[name].crc, other.pkg.raw[name].size) for name in mine)

    def xml(self, name: str) -> etree._Element | None:
        return self.pkg.xml(name) if name in self.pkg.raw else None

    def related(self, part: str) -> dict[str, str]:
        """Relationship id -> part name for ``part``."""
        folder, base = posixpath.split(part)
        rels = self.xml(posixpath.join(folder, "_rels", base + ".rels"))
        out = {}
        for rel in rels if rels is not None else ():
            if rel.get("TargetMode") != "External" and rel.get("Target"):
                target = rel.get("Target")
                name = (target.lstrip("/") if target.startswith("/")
                        else posixpath.normpath(posixpath.join(folder, target)))
                out[rel.get("Id")] = name
        return out

    def main_part(self) -> str:
        rels = self.xml("_rels/.rels")
        for rel in rels if rels is not None else ():
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "").lstrip("/")
        raise PackageError(f"{self.pkg.path}: no main document part")


# -- Word -----------------------------------------------------------------------------

W_P, W_TBL, W_TR, W_TC, W_SDT = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:sdt")
W_T, W_TAB, W_BR, W_CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
MC_FALLBACK = qn("mc:Fallback")
_HEADING_STYLES: dict[tuple[int, int], dict[str, int]] = {}


class WordReader(_Reader):
    """Paragraphs and table rows under the nearest heading; headers and footers apart."""

    def sections(self) -> list[str]:
        main = self.main_part()
        notes = sorted(n for n in self.related(main).values()
                       if re.search(r"/(header|footer)\d*\.xml$", n))
        return [main] + notes

    def items(self, section: str) -> list[tuple[str, str]]:
        root = self.xml(section)
        if root is None:
            return []
        for fallback in list(root.iter(MC_FALLBACK)):
            fallback.getparent().remove(fallback)
        if section != self.main_part():
            label = posixpath.splitext(posixpath.basename(section))[0]
            return [(label, t) for t in (_paragraph_text(p) for p in root.iter(W_P)) if t]
        body = root.find(qn("w:body"))
        out: list[tuple[str, str]] = []
        self._walk(body if body is not None else root, _Outline(), self.headings(), out)
        return out

    def _walk(self, parent: etree._Element, outline: "_Outline", headings: dict[str, int],
              out: list[tuple[str, str]]) -> None:
        for child in parent:
            if child.tag == W_P:
                text = _paragraph_text(child)
                level = _heading_level(child, headings) if text else None
                if level is not None:
                    outline.enter(level, text)
                if text:
                    out.append((outline.place(), text))
            elif child.tag == W_TBL:
                outline.tables += 1
                for r, row in enumerate(child.iter(W_TR), 1):
                    if _owner_table(row) is child:
                        out.append((f"{outline.place()} / table {outline.tables} row {r}",
                                    _row_text(row)))
            elif child.tag == W_SDT:
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self._walk(content, outline, headings, out)

    def headings(self) -> dict[str, int]:
        """Heading style id -> outline level (a title -1), read once per distinct styles
        part: a style with an outline level, named "heading N", "title", or with the word
        "heading" in its name (level 0)."""
        name = next((n for n in self.related(self.main_part()).values()
                     if n.endswith("/styles.xml")), None)
        if name is None or name not in self.pkg.raw:
            return {}
        raw = self.pkg.raw[name]
        key = (raw.crc, raw.size)
        if key not in _HEADING_STYLES:
            _HEADING_STYLES[key] = _heading_styles(self.pkg.xml(name))
        return _HEADING_STYLES[key]


class _Outline:
    """The headings above the current paragraph, by outline level."""

    def __init__(self) -> None:
        self.chain: list[tuple[int, str]] = []
        self.tables = 0  # tables seen under the nearest heading

    def enter(self, level: int, text: str) -> None:
        while self.chain and self.chain[-1][0] >= level:
            self.chain.pop()
        self.chain.append((level, text))
        self.tables = 0

    def place(self) -> str:
        """The heading chain ("Key Task 1.1 > Activities"); the document's title only for
        the text between it and the first heading."""
        inner = [text for level, text in self.chain if level >= 0]
        return " > ".join(inner or [text for _, text in self.chain]) or START


def _heading_styles(styles: etree._Element) -> dict[str, int]:
    found: dict[str, int] = {}
    based: dict[str, str] = {}
    for style in styles.iter(qn("w:style")):
        sid = style.get(qn("w:styleId"), "")
        named = style.find(qn("w:name"))
        label = ((named.get(qn("w:val")) if named is not None else "") or "").strip().lower()
        level = style.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        parent = style.find(qn("w:basedOn"))
        if parent is not None:
            based[sid] = parent.get(qn("w:val"), "")
        if level is not None and level.get(qn("w:val"), "9").isdigit():
            if int(level.get(qn("w:val"))) < 9:
                found[sid] = int(level.get(qn("w:val")))
        elif m := re.fullmatch(r"heading\s*(\d)", label):
            found[sid] = max(int(m.group(1)) - 1, 0)
        elif re.search(r"\bheading\b", label):  # a template's own ("Front Heading")
            found[sid] = 0
        elif label == "title":
            found[sid] = -1
    for sid, parent in based.items():  # a style based on a heading is one
        if sid not in found and parent in found:
            found[sid] = found[parent]
    return found


def _heading_level(p: etree._Element, headings: dict[str, int]) -> int | None:
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        return None
    level = ppr.find(qn("w:outlineLvl"))
    if level is not None and level.get(qn("w:val"), "9").isdigit() and \
            int(level.get(qn("w:val"))) < 9:
        return int(level.get(qn("w:val")))
    style = ppr.find(qn("w:pStyle"))
    return headings.get(style.get(qn("w:val"), "")) if style is not None else None


def _paragraph_text(p: etree._Element) -> str:
    parts = []
    for el in p.iter(W_T, W_TAB, W_BR, W_CR):
        if el.tag == W_T:
            parts.append(el.text or "")
        elif el.tag == W_TAB:
            parts.append("\t")
        elif el.get(qn("w:type")) in (None, "textWrapping"):
            parts.append("\n")
    return "".join(parts).strip()


def _owner_table(row: etree._Element) -> etree._Element | None:
    parent = row.getparent()
    while parent is not None and parent.tag != W_TBL:
        parent = parent.getparent()
    return parent


def _row_text(row: etree._Element) -> str:
    cells = [c for c in row.iter(W_TC) if _owner_table(c) is _owner_table(row)]
    return " | ".join(" ".join(t for t in (_paragraph_text(p) for p in c.iter(W_P)) if t)
                      for c in cells)


# -- Excel ----------------------------------------------------------------------------

X_C, X_V, X_F, X_IS, X_T, X_SI, X_RPH = (qn("x:c"), qn("x:v"), qn("x:f"), qn("x:is"),
                                         qn("x:t"), qn("x:si"), qn("x:rPh"))


class SheetReader(_Reader):
    """Cells as ``Sheet!A1`` with the text they show (a formula's cached value)."""

    def __init__(self, package: Template):
        super().__init__(package)
        self.book = self.main_part()
        rels = self.related(self.book)
        self.sheets: dict[str, str] = {}
        for sheet in self.pkg.xml(self.book).iter(qn("x:sheet")):
            target = rels.get(sheet.get(qn("r:id")))
            if target:
                self.sheets[sheet.get("name", "")] = target
        self.strings_part = next((n for n in rels.values() if n.endswith("sharedStrings.xml")),
                                 None)
        self._strings: list[str] | None = None

    def sections(self) -> list[str]:
        return list(self.sheets)

    def parts_of(self, section: str) -> list[str]:
        parts = [self.sheets[section]] if section in self.sheets else []
        return parts + ([self.strings_part] if self.strings_part else [])

    def strings(self) -> list[str]:
        if self._strings is None:
            root = self.xml(self.strings_part) if self.strings_part else None
            self._strings = [] if root is None else [
                "".join(t.text or "" for t in si.iter(X_T) if t.getparent().tag != X_RPH)
                for si in root.iter(X_SI)]
        return self._strings

    def rows(self, section: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """(row number, ((column, text), ...)) for every row that shows something."""
        part = self.sheets.get(section)
        root = self.xml(part) if part else None
        if root is None:
            return []
        out = []
        number = 0
        for row in root.iter(qn("x:row")):
            number = int(row.get("r")) if (row.get("r") or "").isdigit() else number + 1
            col, cells = 0, []
            for cell in row.iter(X_C):
                ref = cell.get("r")
                col = _column(ref) if ref else col + 1
                text = self.cell_text(cell)
                if text:
                    cells.append((_col_name(col), text))
            if cells:
                out.append((str(number), tuple(cells)))
        return out

    def items(self, section: str) -> list[tuple[str, str]]:
        prefix = _sheet_ref(section)
        return [(f"{prefix}!{col}{number}", text)
                for number, cells in self.rows(section) for col, text in cells]

    def compare(self, other: "_Reader", section: str) -> list[Change]:
        """Rows are aligned on their cells (a row that only moved is no change), then the
        cells of each changed row aligned on their text."""
        assert isinstance(other, SheetReader)
        a, b = self.rows(section), other.rows(section)
        ka, kb = [cells for _, cells in a], [cells for _, cells in b]
        if ka == kb:
            return []
        prefix = _sheet_ref(section)
        out: list[Change] = []
        matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                out += _block_changes(prefix, a[i1:i2], b[j1:j2])
        return out

    def cell_text(self, cell: etree._Element) -> str:
        kind, value = cell.get("t"), cell.findtext(X_V)
        if kind == "s" and value is not None:
            index = int(value)
            strings = self.strings()
            return strings[index] if 0 <= index < len(strings) else ""
        if kind == "inlineStr":
            inline = cell.find(X_IS)
            return "" if inline is None else "".join(t.text or "" for t in inline.iter(X_T))
        if kind == "b" and value is not None:
            return "TRUE" if value.strip() == "1" else "FALSE"
        if value is None and cell.findtext(X_F):
            return "=" + cell.findtext(X_F)
        return value or ""


def _block_changes(prefix: str, a: list, b: list) -> list[Change]:
    """Changed rows: those with the same first cell (the row's label) compared cell by cell,
    or paired in order when both runs are as long; the others removed or added whole."""
    if len(a) == len(b):
        return [c for (ra, ca), (rb, cb) in zip(a, b) for c in _row_changes(prefix, ra, ca, rb, cb)]
    out: list[Change] = []
    labels = difflib.SequenceMatcher(None, [r[1][0] for r in a], [r[1][0] for r in b],
                                     autojunk=False)
    for tag, i1, i2, j1, j2 in labels.get_opcodes():
        if tag == "equal" or i2 - i1 == j2 - j1:
            out += [c for (ra, ca), (rb, cb) in zip(a[i1:i2], b[j1:j2])
                    for c in _row_changes(prefix, ra, ca, rb, cb)]
            continue
        out += [Change("-", f"{prefix}!{col}{r}", t) for r, cells in a[i1:i2] for col, t in cells]
        out += [Change("+", f"{prefix}!{col}{r}", t) for r, cells in b[j1:j2] for col, t in cells]
    return out


def _row_changes(prefix: str, ra: str, ca: tuple, rb: str, cb: tuple) -> list[Change]:
    """The cells that differ between two rows, aligned on their text as whole rows are (a
    column taken out shifts the cells after it: no change)."""
    return _align([(f"{prefix}!{col}{ra}", text) for col, text in ca],
                  [(f"{prefix}!{col}{rb}", text) for col, text in cb])


def _sheet_ref(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) else \
        "'" + name.replace("'", "''") + "'"


def _column(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + ord(ch.upper()) - 64
    return n


def _col_name(n: int) -> str:
    name = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


# -- PowerPoint -----------------------------------------------------------------------

P_SP, P_GRP, P_FRAME = qn("p:sp"), qn("p:grpSp"), qn("p:graphicFrame")
A_P, A_T, A_BR, A_TR, A_TC, A_TBL = (qn("a:p"), qn("a:t"), qn("a:br"), qn("a:tr"), qn("a:tc"),
                                     qn("a:tbl"))


class DeckReader(_Reader):
    """Each shape's paragraphs as "slide N, shape name"; tables cell by cell."""

    def __init__(self, package: Template):
        super().__init__(package)
        self.deck = self.main_part()
        rels = self.related(self.deck)
        ids = self.pkg.xml(self.deck).iter(qn("p:sldId"))
        self.slides = [rels[s.get(qn("r:id"))] for s in ids if s.get(qn("r:id")) in rels]

    def sections(self) -> list[str]:
        return ["slides"]

    def parts_of(self, section: str) -> list[str]:
        return list(self.slides)

    def items(self, section: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for number, part in enumerate(self.slides, 1):
            root = self.xml(part)
            tree = root.find(f"{qn('p:cSld')}/{qn('p:spTree')}") if root is not None else None
            if tree is not None:
                self._shapes(tree, f"slide {number}", out)
        return out

    def _shapes(self, tree: etree._Element, slide: str, out: list[tuple[str, str]]) -> None:
        for shape in tree:
            if shape.tag == P_GRP:
                self._shapes(shape, slide, out)
            elif shape.tag == P_SP:
                body = shape.find(qn("p:txBody"))
                if body is not None:
                    place = f"{slide}, {_shape_name(shape)}"
                    out += [(place, t) for t in (_drawing_text(p) for p in body.iter(A_P)) if t]
            elif shape.tag == P_FRAME:
                for table in shape.iter(A_TBL):
                    for r, row in enumerate(table.iter(A_TR), 1):
                        for c, cell in enumerate(row.iter(A_TC), 1):
                            text = "\n".join(t for t in (_drawing_text(p)
                                                         for p in cell.iter(A_P)) if t)
                            if text:
                                out.append((f"{slide}, {_shape_name(shape)} row {r} "
                                            f"column {c}", text))


def _shape_name(shape: etree._Element) -> str:
    nv = shape[0] if len(shape) else None
    props = nv.find(qn("p:cNvPr")) if nv is not None else None
    return (props.get("name") if props is not None else None) or "shape"


def _drawing_text(p: etree._Element) -> str:
    return "".join((el.text or "") if el.tag == A_T else "\n"
                   for el in p.iter(A_T, A_BR)).strip()


__all__ = ["Change", "DocumentDiff", "PackDiff", "diff_documents", "diff_packs"]

