"""Class 2 through the renderers: text the Office formats cannot hold, in every field a pack
writes, with the project's own templates and (when ../shared is present) the official ones.

Every case builds a real pack, reopens each file with python-docx/openpyxl/python-pptx and
checks: no crash; no XML-illegal character in any part; where one was removed a warning
names the document; right-to-left and emoji text read back exactly; a 1 MB text is either
written whole or cut at Excel's 32,767-character cell limit with a warning.
"""
from __future__ import annotations

import dataclasses as dc
import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from docx.oxml.ns import qn as docx_qn
from docx.text.paragraph import Paragraph

from m3docs.engagement import Engagement, Requirement, TaskStatus, example_engagement
from m3docs.ooxml.xml import clean_text
from m3docs.pack import MANIFEST, TRACKER, PackReport, build_pack
from m3docs.playbook.loader import load_playbook
from m3docs.playbook.model import DocRef, Party, Playbook
from m3docs.playbook.richtext import RichText
from m3docs.renderers.sheetml import MAX_CELL_CHARS

from .conftest import CORPUS

OFFICIAL = CORPUS / "assets" / "files"
TEMPLATE_SETS = [
    pytest.param("own", id="own"),
    pytest.param("official", id="official", marks=pytest.mark.skipif(
        not OFFICIAL.is_dir(), reason="shared M3 corpus (official templates) not present")),
]
BAD = {"vt-x0b": "\x0b", "nul-x00": "\x00", "us-x1f": "\x1f", "nonchar-ufffe": "\ufffe",
       "high-surrogate": "\ud800", "low-surrogate": "\udfff"}
RTL_EMOJI = "مراجعة الخطة 🚀 עברית 👩🏽‍💻 ✅"
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REMOVED = re.compile(r"not allowed in XML|XML-illegal|cannot hold", re.I)  # the wordings
GENERIC_OUTPUTS = ("Plan", "Log", "Briefing")  # a generic docx, xlsx and pptx deliverable


# -- building hostile inputs -------------------------------------------------------------

def hostile_inputs(text: str, marker: str = "") -> tuple[Playbook, Engagement]:
    """The bundled playbook and example engagement with ``text`` in every field a pack writes.

    ``marker(tag)`` gives each field's value; the key task keeps its CONOPS, RTM and status
    outputs and gains a generic Plan (docx), Log (xlsx) and Briefing (pptx).
    """
    def v(tag: str) -> str:
        return f"{tag} {text}"

    def r(tag: str) -> RichText:
        return RichText.of(v(tag))

    book = load_playbook()
    kt = book.key_tasks[0]
    extra = tuple(DocRef(RichText.of(f"{v('Doc')} {kind}")) for kind in GENERIC_OUTPUTS)
    kt = dc.replace(
        kt, name=v("Name"), objective=r("Objective"),
        activities=tuple(dc.replace(a, text=r(f"Activity{a.number}"), group=r("Group"))
                         for a in kt.activities),
        stakeholders=tuple(dc.replace(s, role=r("Role")) for s in kt.stakeholders),
        best_practices=(r("Practice"),), outputs=kt.outputs + extra)
    book = dc.replace(book, key_tasks=(kt,))
    eng = dc.replace(
        example_engagement(), agency=v("Agency"), program=v("Program"), provider=v("Provider"),
        leads={Party.CUSTOMER: v("Customer"), Party.PROVIDER: v("Vendor"), Party.QSMO: v("Qsmo")},
        people={"Business Owner": {Party.CUSTOMER: v("Owner")},
                "Program Manager": {Party.CUSTOMER: v("Manager"), Party.PROVIDER: v("Pm")}},
        status={kt.id: TaskStatus(40, "Y", dt.date(2026, 10, 1), dt.date(2026, 12, 1),
                                  v("StatusOwner"), (v("Risk"),), (v("Issue"),),
                                  (v("Done"),), (v("Next"),))},
        requirements=(Requirement("BR-001", v("Requirement"), process_area=v("Area"),
                                  notes=v("Note")),))
    return book, eng


def build(tmp: Path, book: Playbook, eng: Engagement, templates: str) -> PackReport:
    return build_pack(book, eng, tmp, templates=[OFFICIAL] if templates == "official" else [])


# -- reading documents back with their libraries ---------------------------------------------

def docx_texts(path: Path) -> list[str]:
    """Every paragraph of the body (tables and text boxes too), headers and footers."""
    d = docx.Document(str(path))
    roots = [d.element.body]
    for section in d.sections:
        roots += [part._element for part in (section.header, section.footer)]
    return [Paragraph(p, d).text for root in roots for p in root.iter(docx_qn("w:p"))]


def xlsx_texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)]


def _shape_texts(shapes) -> list[str]:
    out = []
    for shape in shapes:
        if shape.shape_type == 6:  # a group
            out += _shape_texts(shape.shapes)
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            out += [p.text for p in shape.text_frame.paragraphs]
        if getattr(shape, "has_table", False) and shape.has_table:
            out += [c.text for row in shape.table.rows for c in row.cells]
    return out


def pptx_texts(path: Path) -> list[str]:
    deck = pptx.Presentation(str(path))
    return [t for slide in deck.slides for t in _shape_texts(slide.shapes)]


READERS = {".docx": docx_texts, ".xlsx": xlsx_texts, ".xlsm": xlsx_texts, ".pptx": pptx_texts}


def documents(out: Path) -> dict[str, list[str]]:
    """Relative path -> texts of every document in the pack (each one reopened)."""
    return {p.relative_to(out).as_posix(): READERS[p.suffix](p)
            for p in sorted(out.rglob("*")) if p.suffix in READERS}


def warned(report: PackReport, rel: str, pattern: re.Pattern) -> bool:
    return any(w.startswith(f"{rel}: ") and pattern.search(w) for w in report.warnings)


# -- XML-illegal characters -------------------------------------------------------------------

@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """(bad char id, template set) -> (out folder, report, documents), built once each."""
    cache: dict = {}

    def get(bad: str, templates: str):
        if (bad, templates) not in cache:
            out = tmp_path_factory.mktemp(f"text-{bad}-{templates}")
            book, eng = hostile_inputs(f"Alpha{BAD[bad]}Omega")
            report = build(out, book, eng, templates)
            cache[bad, templates] = (out, report, documents(out))
        return cache[bad, templates]
    return get


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
@pytest.mark.parametrize("bad", list(BAD))
def test_illegal_char_pack_reopens_with_every_kind(packs, bad, templates):
    out, report, docs = packs(bad, templates)
    suffixes = sorted(Path(p).suffix for p in docs)
    # CONOPS + Plan (docx), RTM + Log + tracker (xlsx), status + Briefing (pptx)
    assert suffixes == [".docx"] * 2 + [".pptx"] * 2 + [".xlsx"] * 3, sorted(docs)
    assert TRACKER in docs and all(texts for texts in docs.values())
    json.loads((out / MANIFEST).read_text(encoding="utf-8"))


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
@pytest.mark.parametrize("bad", list(BAD))
def test_illegal_char_never_reaches_a_part(packs, bad, templates):
    out, _, docs = packs(bad, templates)
    for rel in docs:
        with zipfile.ZipFile(out / rel) as z:
            for name in z.namelist():
                if name.endswith((".xml", ".rels")):
                    text = z.read(name).decode("utf-8")  # strict: no encoded surrogate either
                    assert not ILLEGAL.search(text), (rel, name)
                    assert not re.search(r"&#(x0*[0-8bcef]|x0*1[0-9a-f]|0*([0-8]|1[124-9]|"
                                         r"2[0-9]|3[01]));", text, re.I), (rel, name)


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
@pytest.mark.parametrize("bad", list(BAD))
def test_removed_char_is_warned_per_document(packs, bad, templates):
    """Wherever the text around the character was written joined ('AlphaOmega'), the
    character was removed: that document's warnings say so."""
    _, report, docs = packs(bad, templates)
    joined = [rel for rel, texts in docs.items() if any("AlphaOmega" in t for t in texts)]
    for rel in joined:
        assert warned(report, rel, REMOVED), (rel, report.warnings)
    # Engagement values reach the tracker, the RTM and the status deck whatever the template.
    assert TRACKER in joined, sorted(docs)
    rtm = next(rel for rel in docs if "Traceability" in rel)
    assert any("Requirement AlphaOmega" in t or "Requirement Alpha Omega" in t
               for t in docs[rtm]), docs[rtm][:40]
    if not BAD[bad].isspace():  # whitespace controls may be collapsed to a space instead
        assert len(joined) >= 4, joined


@pytest.mark.parametrize("bad", ["nul-x00", "high-surrogate"])
def test_manifest_keeps_the_engagement_readable(packs, bad):
    out, _, _ = packs(bad, "own")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["engagement"]["agency"] == f"Agency Alpha{BAD[bad]}Omega"


def test_tracker_warnings_reach_the_pack_report(packs):
    _, report, docs = packs("nul-x00", "own")
    assert any("Agency AlphaOmega" in t for t in docs[TRACKER])
    assert warned(report, TRACKER, REMOVED), report.warnings


@pytest.mark.parametrize("bad", list(BAD))
def test_single_document_render_warns(tmp_path, bad):
    """m3docs.render (one document) returns the warning in its manifest entry."""
    from m3docs import render
    book, eng = hostile_inputs(f"Alpha{BAD[bad]}Omega")
    entry = render("Requirements Traceability Matrix", book, eng, tmp_path / "rtm.xlsx")
    texts = xlsx_texts(tmp_path / "rtm.xlsx")
    assert any("Requirement AlphaOmega" in t or "Requirement Alpha Omega" in t for t in texts)
    if any("AlphaOmega" in t for t in texts):
        assert any(REMOVED.search(w) for w in entry["warnings"]), entry["warnings"]


# -- right-to-left and emoji ----------------------------------------------------------------

@pytest.fixture(scope="module")
def rtl_packs(tmp_path_factory):
    cache: dict = {}

    def get(templates: str):
        if templates not in cache:
            out = tmp_path_factory.mktemp(f"rtl-{templates}")
            report = build(out, *hostile_inputs(RTL_EMOJI), templates)
            cache[templates] = (report, documents(out))
        return cache[templates]
    return get


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
def test_rtl_and_emoji_written_faithfully(rtl_packs, templates):
    report, docs = rtl_packs(templates)
    assert clean_text(RTL_EMOJI) == (RTL_EMOJI, False)
    assert not [w for w in report.warnings if REMOVED.search(w)], report.warnings
    for rel, texts in docs.items():
        assert any(RTL_EMOJI in t for t in texts), rel
    # Engagement values read back exactly in the documents that carry them.
    tracker = docs[TRACKER]
    assert any(f"Agency {RTL_EMOJI}" in t for t in tracker)
    rtm = next(texts for rel, texts in docs.items() if "Traceability" in rel)
    assert f"Requirement {RTL_EMOJI}" in rtm


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
def test_rtl_and_emoji_activity_cells_exact(rtl_packs, templates):
    """An activity cell holds exactly its text: no character dropped, reordered or escaped."""
    _, docs = rtl_packs(templates)
    wanted = f"Activity1 {RTL_EMOJI}"
    holders = [rel for rel, texts in docs.items() if any(t.strip() == wanted for t in texts)]
    assert holders, {rel: [t for t in texts if "Activity1" in t][:2] for rel, texts in docs.items()}


# -- a 1 MB activity text ------------------------------------------------------------------

BIG = "Big " + ("word " * 210_000).strip()


@pytest.fixture(scope="module")
def big_packs(tmp_path_factory):
    cache: dict = {}

    def get(templates: str):
        if templates not in cache:
            out = tmp_path_factory.mktemp(f"big-{templates}")
            book, eng = hostile_inputs("x")
            kt = book.key_tasks[0]
            acts = (dc.replace(kt.activities[0], text=RichText.of(BIG)),) + kt.activities[1:]
            book = dc.replace(book, key_tasks=(dc.replace(kt, activities=acts),))
            eng = dc.replace(eng, requirements=(Requirement("BR-001", BIG),))
            cache[templates] = (build(out, book, eng, templates), documents(out))
        return cache[templates]
    return get


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
def test_one_megabyte_text_written_or_cut_with_warning(big_packs, templates):
    report, docs = big_packs(templates)
    assert len(BIG) > 1_000_000
    cut = re.compile(rf"cut to Excel's limit of {MAX_CELL_CHARS}")
    carriers = 0
    for rel, texts in docs.items():
        pieces = [t for t in texts if t.startswith("Big word word")]
        if not pieces:
            continue
        carriers += 1
        longest = max(pieces, key=len)
        assert BIG.startswith(longest), rel
        if len(longest) < len(BIG):
            assert rel.endswith((".xlsx", ".xlsm")), (rel, len(longest))
            assert len(longest) == MAX_CELL_CHARS, (rel, len(longest))
            assert warned(report, rel, cut), (rel, report.warnings)
    assert carriers >= 2, sorted(docs)


@pytest.mark.parametrize("templates", TEMPLATE_SETS)
def test_one_megabyte_text_whole_in_the_conops(big_packs, templates):
    _, docs = big_packs(templates)
    conops = next(texts for rel, texts in docs.items() if rel.endswith(".docx")
                  and "Concept of Operations" in rel)
    assert any(BIG in t for t in conops)
