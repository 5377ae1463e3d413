"""The Word renderer: fills m3docs' own .docx templates at the XML level.

Per template (cached): the main part, header/footer parts, style ids, the
``{{key_tasks}}`` marker, the TOC field and the repeating history/approval rows.
Per document: a deep copy of the parts that change, fields filled, key-task
sections inserted at the marker, a fresh table of contents, and core properties
dated from the engagement.
"""
from __future__ import annotations

import copy
import posixpath
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

from lxml import etree

from ..engagement import STATUS_CODES, UNNAMED, Engagement
from ..ooxml.package import Package, Template
from ..ooxml.placeholders import fill_fields, paragraph_text
from ..ooxml.xml import clean_text, qn
from ..playbook.glossary import terms_used
from ..playbook.model import DocRef, KeyTask, Party, Playbook, Stakeholder
from ..playbook.richtext import RichText, resolve_url
from ..plan import Document, is_template_file
from . import wordml as wm
from .base import RenderResult
from .common import UNNAMED_LABEL, long_date, named_first, per_template, unnamed_line

MARKER = "{{key_tasks}}"
REPEAT_PREFIXES = ("history", "approver")
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
REL_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
REL_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
REL_FOOTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
HEADER_FILL = "1F3864"
GROUP_FILL = "DCE4EF"
MUTED = "5A6472"
DEFAULT_TEXT_WIDTH = 9360  # 6.5 inches in twips
ACTIVITY_COLUMNS = (("#", 0.06), ("Activity", 0.52), ("Responsible Party", 0.16), ("Owner", 0.26))
STAKEHOLDER_COLUMNS = (("Role", 0.33), ("Customer", 0.22), ("Provider", 0.22), ("Parties", 0.23))
TERM_COLUMNS = (("Term", 0.3), ("Meaning", 0.7))
KEEP_TOGETHER_ROWS = 15  # shorter stakeholder tables are kept on one page
LINK_PREFIX = "m3docs-link:"
SECTION_CACHE_SIZE = 64  # key-task sections kept per template (documents come in key-task order)
_SECTIONS: "weakref.WeakKeyDictionary[Template, OrderedDict]" = weakref.WeakKeyDictionary()
_ROWS: "weakref.WeakKeyDictionary[Template, dict]" = weakref.WeakKeyDictionary()
_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TOC_LEVELS = re.compile(r'\\o\s+"(\d)-(\d)"')



@dataclass(frozen=True)
class _Layout:
    """What the renderer needs to know about one template, found once."""

    main: str
    furniture: tuple[str, ...]
    styles: dict[str, str]
    marker: int | None
    toc: int | None
    toc_levels: tuple[int, int]
    repeat_rows: tuple[tuple[int, int, str], ...]
    text_width: int

    def style(self, name: str) -> str | None:
        return self.styles.get(name.lower())




def _targets(template: Template, part: str, rel_type: str) -> list[str]:
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in template.raw:
        return []
    out = []
    for rel in template.xml(rels):
        if rel.get("Type") == rel_type and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            out.append(target.lstrip("/") if target.startswith("/")
                       else posixpath.normpath(posixpath.join(folder, target)))
    return out


@per_template
def layout_of(template: Template) -> _Layout:
    main = (_targets(template, "", OFFICE_DOC) or ["word/document.xml"])[0]
    furniture = tuple(_targets(template, main, REL_HEADER) + _targets(template, main, REL_FOOTER))
    styles: dict[str, str] = {}
    for part in _targets(template, main, REL_STYLES)[:1]:
        for style in template.xml(part).iter(qn("w:style")):
            name = style.find(qn("w:name"))
            if name is not None and style.get(qn("w:styleId")):
                styles.setdefault(name.get(qn("w:val"), "").lower(), style.get(qn("w:styleId")))
    body = template.xml(main).find(qn("w:body"))
    marker = toc = None
    levels = (1, 3)
    repeats: list[tuple[int, int, str]] = []
    for i, child in enumerate(body):
        if child.tag == qn("w:p"):
            if paragraph_text(child, qn("w:t")).strip() == MARKER and marker is None:
                marker = i
            instr = "".join(t.text or "" for t in child.iter(qn("w:instrText")))
            if toc is None and instr.strip().startswith("TOC") and _whole_field(child):
                toc = i
                m = _TOC_LEVELS.search(instr)
                levels = (int(m.group(1)), int(m.group(2))) if m else levels
        elif child.tag == qn("w:tbl"):
            repeats += _repeat_rows(i, child)
    return _Layout(main, furniture, styles, marker, toc, levels, tuple(repeats),
                   _text_width(body))


def _whole_field(p: etree._Element) -> bool:
    kinds = [f.get(qn("w:fldCharType")) for f in p.iter(qn("w:fldChar"))]
    return kinds.count("begin") == kinds.count("end") > 0


def _repeat_rows(index: int, tbl: etree._Element) -> list[tuple[int, int, str]]:
    out = []
    for j, tr in enumerate(tbl.findall(qn("w:tr"))):
        text = "".join(t.text or "" for t in tr.iter(qn("w:t")))
        for prefix in REPEAT_PREFIXES:
            if "{{" + prefix + "_" in text:
                out.append((index, j, prefix))
                break
    return out


def _text_width(body: etree._Element) -> int:
    sect = body.find(qn("w:sectPr"))
    try:
        width = int(sect.find(qn("w:pgSz")).get(qn("w:w")))
        mar = sect.find(qn("w:pgMar"))
        return width - int(mar.get(qn("w:left"))) - int(mar.get(qn("w:right")))
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_TEXT_WIDTH


class DocxRenderer:
    """Renders a Document into one of m3docs' own Word templates."""

    format = "docx"

    def render(self, doc: Document, template: Template, engagement: Engagement,
               playbook: Playbook) -> RenderResult:
        fill = _Fill(template.new(), layout_of(template), doc, engagement, playbook)
        fill.run()
        return RenderResult(fill.pkg.to_bytes(), fill.warnings)


@dataclass
class _Fill:
    """One document being filled."""

    pkg: Package
    layout: _Layout
    doc: Document
    eng: Engagement
    playbook: Playbook
    warnings: list[str] = field(default_factory=list)
    deferred_links: bool = False

    def run(self) -> None:
        root = self.pkg.xml(self.layout.main)
        body = root.find(qn("w:body"))
        children = list(body)
        marker = children[self.layout.marker] if self.layout.marker is not None else None
        toc = children[self.layout.toc] if self.layout.toc is not None else None
        self._repeat(children)
        values = self._values()
        fill_fields(body, qn("w:p"), qn("w:t"), values)
        for part in self.layout.furniture:
            fill_fields(self.pkg.xml(part), qn("w:p"), qn("w:t"), values)
        self._insert_key_tasks(body, marker)
        if toc is not None:
            self._contents(body, toc)
        self._core_properties()

    # -- text ------------------------------------------------------------------------------
    def clean(self, text: str, where: str) -> str:
        cleaned, removed = clean_text(text)
        if removed:
            note = f"removed XML-illegal characters from {where}"
            if note not in self.warnings:
                self.warnings.append(note)
        return cleaned

    def style(self, name: str) -> str | None:
        return self.layout.style(name)

    def rich(self, text: RichText, where: str, bold: bool = False,
             italic: bool = False) -> list[etree._Element]:
        """Runs (and real hyperlinks) for rich text."""
        out: list[etree._Element] = []
        for part in text.runs:
            value = self.clean(part.text, where)
            if not value:
                continue
            if part.url:
                rid = self.link(part.url)
                out.append(wm.hyperlink(rid, [wm.run(value, part.bold or bold, part.italic or italic,
                                                     self.style("Hyperlink"))]))
            else:
                out.append(wm.run(value, part.bold or bold, part.italic or italic))
        return out

    def para(self, style: str, content: list[etree._Element], **kw) -> etree._Element:
        return wm.paragraph(self.style(style), content, **kw)

    def plain(self, style: str, text: str, where: str, **kw) -> etree._Element:
        return self.para(style, [wm.run(self.clean(text, where))], **kw)

    # -- fields, repeating rows, properties --------------------------------------------------
    def _values(self) -> dict[str, str]:
        doc, eng = self.doc, self.eng
        values = {k: v for k, v in eng.placeholders.items() if _FIELD.fullmatch("{{%s}}" % k)}
        values.update(agency=eng.agency, program=eng.program, provider=eng.provider,
                      version=eng.version, date=long_date(eng.as_of), title=doc.title,
                      phase=str(doc.phase), phase_name=self.playbook.phase(doc.phase).name,
                      version_label=doc.version_label)
        return {k: self.clean(v, f"field {{{{{k}}}}}") for k, v in values.items()}

    def _records(self, prefix: str) -> list[dict[str, str]]:
        if prefix == "history":
            phase = self.playbook.phase(self.doc.phase)
            author = self.eng.lead(Party.PROVIDER) or self.eng.provider or self.eng.agency
            return [{"history_version": self.eng.version, "history_date": long_date(self.eng.as_of),
                     "history_description": f"{self.doc.version_label} for M3 Phase "
                                            f"{phase.number}: {phase.name}, prefilled from the "
                                            f"M3 playbook",
                     "history_author": author}]
        return [{"approver_name": name, "approver_title": title}
                for name, title in self.eng.approvers] or [{"approver_name": "",
                                                             "approver_title": ""}]

    def _repeat(self, children: list[etree._Element]) -> None:
        """Clone each repeating row once per record, then drop the pattern row."""
        for index, row_index, prefix in self.layout.repeat_rows:
            pattern = children[index].findall(qn("w:tr"))[row_index]
            for row in self._filled_rows(pattern, (index, row_index), prefix):
                pattern.addprevious(copy.deepcopy(row))
            pattern.getparent().remove(pattern)

    def _filled_rows(self, pattern: etree._Element, where: tuple[int, int],
                     prefix: str) -> list[etree._Element]:
        """The pattern row filled once per record; the same records give the same rows,
        so they are kept per template (approvals repeat in every document of a pack)."""
        records = tuple(tuple(sorted(r.items())) for r in self._records(prefix))
        cache = _ROWS.setdefault(self.pkg.template, {})
        key = (where, records)
        if key not in cache:
            before = len(self.warnings)
            rows = []
            for record in records:
                clone = copy.deepcopy(pattern)
                values = {k: self.clean(v, f"{prefix} entry") for k, v in record}
                fill_fields(clone, qn("w:p"), qn("w:t"), values)
                rows.append(clone)
            cache[key] = (rows, self.warnings[before:])
            if len(cache) > SECTION_CACHE_SIZE:
                cache.pop(next(iter(cache)))
        rows, notes = cache[key]
        self.warnings += [n for n in notes if n not in self.warnings]
        return rows

    def _core_properties(self) -> None:
        name = "docProps/core.xml"
        if name not in self.pkg:
            return
        core = self.pkg.xml(name)
        stamp = f"{self.eng.as_of.isoformat()}T00:00:00Z"
        author = self.eng.provider or self.eng.agency
        for tag, value in (("dc:title", self.doc.title), ("dc:subject", self.eng.program),
                           ("dc:creator", author), ("cp:lastModifiedBy", author),
                           ("cp:keywords", f"M3; Phase {self.doc.phase}; {self.eng.agency}"),
                           ("dc:description", f"{self.doc.version_label}, prefilled from the M3 "
                                              f"playbook for {self.eng.agency}"),
                           ("dcterms:created", stamp), ("dcterms:modified", stamp)):
            node = core.find(qn(tag))
            if node is None:
                node = etree.SubElement(core, qn(tag))
                if tag.startswith("dcterms:"):
                    node.set(qn("xsi:type"), "dcterms:W3CDTF")
            node.text = self.clean(value, "document properties")

    # -- key tasks -------------------------------------------------------------------------
    def _insert_key_tasks(self, body: etree._Element, marker: etree._Element | None) -> None:
        content: list[etree._Element] = []
        for kt in self.doc.key_tasks:
            content += self._key_task(kt)
        content += self._terms()
        if marker is None:
            if content:
                self.warnings.append(f"template has no {MARKER} marker paragraph; key tasks were "
                                     "added at the end")
            anchor = body.find(qn("w:sectPr"))
            for node in content:
                if anchor is not None:
                    anchor.addprevious(node)
                else:
                    body.append(node)
            return
        for node in content:
            marker.addprevious(node)
        body.remove(marker)

    def link(self, url: str) -> str:
        """The relationship id of a hyperlink (a placeholder while building a cached section)."""
        if self.deferred_links:
            return LINK_PREFIX + url
        return self.pkg.hyperlink(self.layout.main, url)

    def _key_task(self, kt: KeyTask) -> list[etree._Element]:
        where = f"key task {kt.id}"
        out = [self.plain("Heading 1", f"Key Task {kt.id}: {kt.name}", where,
                          page_break_before=True)]
        out += self._role_lines(kt)
        return out + self._section(kt)

    def _section(self, kt: KeyTask) -> list[etree._Element]:
        """The key task's section below its heading: the same in every document of the
        pack, so it is built once per process and copied, its links bound per document."""
        owners = (self.eng, self.playbook, kt)
        key = tuple(map(id, owners))
        cache = _SECTIONS.setdefault(self.pkg.template, OrderedDict())
        hit = cache.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], owners)):
            before = len(self.warnings)
            self.deferred_links = True
            try:
                built = self._section_body(kt)
            finally:
                self.deferred_links = False
            hit = cache[key] = (owners, built, self.warnings[before:])
            del self.warnings[before:]
            while len(cache) > SECTION_CACHE_SIZE:
                cache.popitem(last=False)
        cache.move_to_end(key)
        for note in hit[2]:
            if note not in self.warnings:
                self.warnings.append(note)
        out = [copy.deepcopy(node) for node in hit[1]]
        for node in out:
            for link in node.iter(qn("w:hyperlink")):
                rid = link.get(qn("r:id")) or ""
                if rid.startswith(LINK_PREFIX):
                    link.set(qn("r:id"), self.pkg.hyperlink(self.layout.main,
                                                            rid[len(LINK_PREFIX):]))
        return out

    def _section_body(self, kt: KeyTask) -> list[etree._Element]:
        where = f"key task {kt.id}"
        out = [self.plain("Heading 2", "Objective", where)]
        out.append(self.para("Normal", self.rich(kt.objective, f"{where} objective")))
        out.append(self.plain("Heading 2", "Activities", where))
        if kt.activities_text:
            out.append(self.para("Normal", self.rich(kt.activities_text, f"{where} activities")))
        out += [self._activities(kt), self._gap()]
        if kt.stakeholders:
            out.append(self.plain("Heading 2", "Stakeholders", where))
            named, unnamed = named_first(kt.stakeholders, self.eng)
            if named:
                out += [self._stakeholders(kt, named), self._gap()]
            if unnamed:   # one line, not a "to be named" row per role
                line = self.clean(unnamed_line(unnamed), f"{where} stakeholders")
                out += [self.para("Normal", [wm.run(f"{UNNAMED_LABEL}: ", bold=True),
                                             wm.run(line)]), self._gap()]
        out.append(self.plain("Heading 2", "Inputs and Outputs", where))
        for label, refs in (("Inputs", kt.inputs), ("Outputs", kt.outputs)):
            out.append(self.plain("Heading 3", label, where))
            out += self._doc_refs(refs, f"{where} {label.lower()}")
        if kt.best_practices:
            out.append(self.plain("Heading 2", "Best Practices", where))
            out += [self.para("List Bullet", self.rich(bp, f"{where} best practice"))
                    for bp in kt.best_practices]
        return out

    def _gap(self) -> etree._Element:
        return wm.paragraph(None, spacing_after=60)

    def _role_lines(self, kt: KeyTask) -> list[etree._Element]:
        """The facts line, whether this key task produces or uses the document, and status."""
        phase = self.playbook.phase(kt.phase)
        parties = " / ".join(p.label for p in kt.parties) or "Not specified"
        facts = [f"Phase {phase.number}: {phase.name}"]
        if kt.workstream:
            facts.append(f"Workstream: {kt.workstream}")
        facts.append(f"Responsible party: {parties}")
        meta = [wm.run(self.clean("  \u2022  ".join(facts), f"key task {kt.id}"))]
        out = [self.para("Meta Text", meta, spacing_after=80)]
        role = [wm.run(self.clean(self._role_sentence(kt), f"key task {kt.id}"), bold=True)]
        url = resolve_url(kt.permalink, self.playbook.base_url) if kt.permalink else None
        if url:
            rid = self.pkg.hyperlink(self.layout.main, url)
            role += [wm.run("  "), wm.hyperlink(rid, [wm.run("View in the M3 Playbook",
                                                             style=self.style("Hyperlink"))])]
        out.append(self.para("Normal", role))
        status = self._status_sentence(kt)
        if status:
            out.append(self.plain("Normal", status, f"status of key task {kt.id}"))
        return out

    def _role_sentence(self, kt: KeyTask) -> str:
        produces = any(k.id == kt.id for k in self.doc.outputs_of)
        uses = any(k.id == kt.id for k in self.doc.inputs_of)
        title, phase = self.doc.title, f"Phase {self.doc.phase}"
        if produces and uses:
            return f"This key task uses and updates the {title} in {phase}."
        if produces:
            return f"This key task produces the {title} in {phase}."
        return f"This key task uses the {title} as an input in {phase}."

    def _status_sentence(self, kt: KeyTask) -> str:
        st = self.eng.task_status(kt.id)
        parts = []
        if st.status:
            parts.append(STATUS_CODES[st.status])
        if st.percent_complete is not None:
            parts.append(f"{st.percent_complete}% complete")
        if st.start and st.finish:
            parts.append(f"planned {long_date(st.start)} to {long_date(st.finish)}")
        if not parts:
            return ""
        return f"Status as of {long_date(self.eng.as_of)}: " + ", ".join(parts) + "."

    def _widths(self, columns: tuple[tuple[str, float], ...]) -> list[int]:
        total = self.layout.text_width
        widths = [int(total * share) for _, share in columns]
        widths[-1] += total - sum(widths)
        return widths

    def _header(self, tbl: etree._Element, columns, widths: list[int]) -> None:
        tr = wm.row(tbl, header=True)
        for (label, _), width in zip(columns, widths):
            wm.cell(tr, width, [self.para("Table Heading", [wm.run(label, bold=True,
                                                                   color="FFFFFF")],
                                          keep_next=True)],
                    fill=HEADER_FILL)

    def _activities(self, kt: KeyTask) -> etree._Element:
        widths = self._widths(ACTIVITY_COLUMNS)
        tbl = wm.table(self.style("M3 Table"), widths)
        self._header(tbl, ACTIVITY_COLUMNS, widths)
        grouped = any(a.group for a in kt.activities)
        for group in kt.groups:
            if grouped and group.title:
                tr = wm.row(tbl)
                runs = self.rich(group.title, f"key task {kt.id} activity group", bold=True)
                wm.cell(tr, sum(widths), [self.para("Table Text", runs, keep_next=True)],
                        fill=GROUP_FILL, span=len(widths))
            for act in group.activities:
                tr = wm.row(tbl)
                where = f"key task {kt.id} activity {act.number}"
                owner = self.clean(self.eng.owner(act), where)
                cells = [[wm.run(str(act.number))], self.rich(act.text, where),
                         [wm.run(" / ".join(p.label for p in act.parties))],
                         [wm.run(owner)] if owner else [wm.run("To be assigned", italic=True,
                                                               color=MUTED)]]
                for runs, width in zip(cells, widths):
                    wm.cell(tr, width, [self.para("Table Text", runs)])
        return tbl

    def _stakeholders(self, kt: KeyTask, holders: list[Stakeholder]) -> etree._Element:
        widths = self._widths(STAKEHOLDER_COLUMNS)
        tbl = wm.table(self.style("M3 Table"), widths)
        self._header(tbl, STAKEHOLDER_COLUMNS, widths)
        together = len(holders) <= KEEP_TOGETHER_ROWS
        for i, sh in enumerate(holders, 1):
            tr = wm.row(tbl)
            where = f"key task {kt.id} stakeholder"
            cells = [self.rich(sh.role, where), self._person(sh, Party.CUSTOMER, where),
                     self._person(sh, Party.PROVIDER, where),
                     [wm.run(", ".join(p.label for p in sh.parties))]]
            keep = together and i < len(holders)
            for runs, width in zip(cells, widths):
                wm.cell(tr, width, [self.para("Table Text", runs, keep_next=keep)])
        return tbl

    def _person(self, sh: Stakeholder, party: Party, where: str) -> list[etree._Element]:
        name = self.clean(self.eng.person(sh.role.plain, party), where)
        if name:
            return [wm.run(name)]
        if party in sh.parties or Party.SHARED in sh.parties:
            return [wm.run(UNNAMED.capitalize(), italic=True, color=MUTED)]
        return [wm.run("\u2014", color=MUTED)]

    def _terms(self) -> list[etree._Element]:
        """An appendix of the playbook's glossary terms this document uses (none without)."""
        terms = terms_used(self.playbook, self.doc.key_tasks, [self.doc.title])
        if not terms:
            return []
        where = "terms and abbreviations"
        widths = self._widths(TERM_COLUMNS)
        tbl = wm.table(self.style("M3 Table"), widths)
        self._header(tbl, TERM_COLUMNS, widths)
        for term in terms:
            tr = wm.row(tbl)
            for text, width in ((term.name, widths[0]), (term.description, widths[1])):
                wm.cell(tr, width, [self.plain("Table Text", text, where)])
        return [self.plain("Heading 1", "Terms and Abbreviations", where, page_break_before=True),
                self.plain("Normal", "Terms from the M3 Playbook glossary that this document "
                                     "uses.", where), tbl]

    def _doc_refs(self, refs: tuple[DocRef, ...], where: str) -> list[etree._Element]:
        if not refs:
            return [self.plain("Normal", "None listed in the playbook.", where)]
        out = []
        for ref in refs:
            runs = self.rich(ref.title, where)
            if ref.filename:
                what = "official template" if is_template_file(ref.filename) else "see"
                runs.append(wm.run(self.clean(f"  ({what}: {ref.filename})", where),
                                   italic=True, color=MUTED))
            out.append(self.para("List Bullet", runs))
        return out

    # -- table of contents -------------------------------------------------------------------
    def _contents(self, body: etree._Element, toc: etree._Element) -> None:
        """Rebuild the TOC field's cached entries from the headings, linked by bookmarks."""
        first, last = self.layout.toc_levels
        levels = {self.style(f"Heading {n}"): n for n in range(first, last + 1)}
        levels.pop(None, None)
        instr = "".join(t.text or "" for t in toc.iter(qn("w:instrText")))
        ids = [int(b.get(qn("w:id"), "0")) for b in body.iter(qn("w:bookmarkStart"))
               if (b.get(qn("w:id")) or "").isdigit()]
        next_id = max(ids, default=0) + 1
        entries = []
        for pstyle in body.iter(qn("w:pStyle")):
            level = levels.get(pstyle.get(qn("w:val")))
            p = pstyle.getparent().getparent()
            if level is None or p.tag != qn("w:p"):
                continue
            text = paragraph_text(p, qn("w:t")).strip()
            if text:
                name = f"_Toc{next_id:08d}"
                wm.bookmark(p, next_id, name)
                entries.append((level, text, name))
                next_id += 1
        paragraphs = [self._toc_entry(level, text, name) for level, text, name in entries]
        if not paragraphs:
            return
        ppr = paragraphs[0].find(qn("w:pPr"))
        for node in reversed(wm.field_start(instr)):
            ppr.addnext(node)
        paragraphs[-1].append(wm.field_end())
        for p in paragraphs:
            toc.addprevious(p)
        toc.getparent().remove(toc)

    def _toc_entry(self, level: int, text: str, anchor: str) -> etree._Element:
        """An entry linked to its heading; page numbers come when Word updates the field
        (the template asks Word to update fields on open), since only a layout engine knows them."""
        link = wm.hyperlink(None, [wm.run(text)], anchor=anchor)
        p = wm.paragraph(self.style(f"toc {level}"), [link])
        if p.find(qn("w:pPr")) is None:
            p.insert(0, wm.el("w:pPr"))
        return p
