"""Class 9: property tests. Random playbook pages and engagement files always give a pack
whose every document reopens with its library, whose files all stay inside --out, and
in which no spreadsheet cell is a formula.

Bounded for CI on 2 cores: few examples, no deadline, derandomized (reproducible).
Each example writes its pages, engagement file and pack in a fresh temporary folder.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from lxml import etree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m3docs.engagement import STATUS_CODES, load_engagement
from m3docs.ooxml.xml import NS
from m3docs.pack import MANIFEST, build_pack
from m3docs.playbook.loader import load_playbook

from .conftest import CORPUS

BOUNDED = settings(max_examples=20, deadline=None, derandomize=True, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OFFICIAL = CORPUS / "assets" / "files"
PARTIES = ("customer", "provider", "shared", "qsmo")
# YAML's printable set (YAML 1.1, 5.1) less its line breaks: everything else is escaped.
_YAML_RAW = re.compile("[\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_str(text: str) -> str:
    """``text`` as a double-quoted YAML scalar that loads back to exactly ``text``."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _YAML_RAW.fullmatch(ch):
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


# -- strategies ---------------------------------------------------------------------------

# Any character but surrogates: controls, RTL, emoji, combining marks, private use.
CHARS = st.characters(blacklist_categories=("Cs",))
WORDS = st.text(CHARS, max_size=30)
MARKUP = st.sampled_from([
    "<b>", "</b>", "<i>", "</i>", "<strong>", "<em>", "</a>", "<br>", "<br/>", "<p>", "</p>",
    '<a href="https://ussm.gsa.gov/m3/">', '<a href="/assets/files/x.docx">',
    "<a href='javascript:alert(1)'>", '<a href="file:///etc/passwd">', '<a href="mailto:a@b.gov">',
    "<script>steal()</script>", "<style>p{}</style>", "<script>", "<iframe src=x>",
    '<span style="font-weight:bold">', "</span>", "&amp;", "&lt;", "&gt;", "&nbsp;", "&#0;",
    "&#x1F680;", "&#xD800;", "&bogus;", "<", ">", "<!--", "-->", "<![CDATA[", "<?php ?>",
    "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n", "  "])
RICH = st.lists(st.one_of(WORDS, MARKUP), min_size=1, max_size=6).map("".join)
NAME = st.tuples(st.text(CHARS, min_size=1, max_size=25), st.sampled_from(
    ["", " Plan", " Log", " Briefing", " Concept of Operations",
     " Requirements Traceability Matrix", " Status Report", " (RTM)", "/Dashboards"])
).map("".join)
FILENAME = st.one_of(st.none(), st.tuples(
    st.one_of(st.text(CHARS, min_size=1, max_size=20),
              st.sampled_from(["../../escape", "/etc/passwd", "C:\\evil", "CON", "NUL", "a/b"])),
    st.sampled_from([".docx", ".xlsx", ".pptx", ".xlsm", ".pdf", ""])).map("".join))
PARTY_LIST = st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3, unique=True)


@st.composite
def key_task_page(draw, phase: int, number: int) -> str:
    """One key-task page: every text field random, markup included."""
    def items(key: str, strategy, fmt) -> str:
        values = draw(st.lists(strategy, max_size=4))
        return f"{key}:\n" + "".join(fmt(v) for v in values) if values else ""

    def party_block(parties: list[str]) -> str:
        return "".join(f"      - {p}\n" for p in parties)

    def doc_ref(ref: tuple[str, str | None]) -> str:
        title, filename = ref
        line = f"  - text: {yaml_str(title)}\n"
        return line + (f"    filename: {yaml_str(filename)}\n" if filename is not None else "")

    # name and objective are required (an empty one is an error with FILE:LINE, by design)
    lines = (f"layout: m3/keyTask\nphase: {phase}\nkeyTask: {number}\n"
             f"name: {yaml_str(draw(NAME))}\nobjective: {yaml_str(draw(RICH.filter(bool)))}\n"
             f"responsibleParty: {draw(st.sampled_from(PARTIES))}\n"
             f"activitiesText: {yaml_str(draw(RICH))}\n")
    acts = draw(st.lists(st.tuples(RICH, PARTY_LIST), min_size=1, max_size=5))
    lines += "activities:\n" + "".join(
        f"  - text: {yaml_str(t)}\n    responsibleParty:\n{party_block(p)}" for t, p in acts)
    lines += items("inputs", st.tuples(NAME, FILENAME), doc_ref)
    lines += items("outputs", st.tuples(NAME, FILENAME), doc_ref)
    lines += items("stakeholders", st.tuples(RICH, PARTY_LIST),
                   lambda v: f"  - text: {yaml_str(v[0])}\n    responsibleParty:\n"
                             f"{party_block(v[1])}")
    lines += items("bestPractice", RICH, lambda v: f"  - {yaml_str(v)}\n")
    return f"---\n{lines}---\n{draw(WORDS)}\n"


@st.composite
def playbook_pages(draw) -> dict[str, str]:
    """Pages of one to three key tasks (phase 0-5), with the phase pages they belong to."""
    ids = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 30)), min_size=1,
                        max_size=3, unique=True))
    pages = {f"keyTask/{p}.{n}.md": draw(key_task_page(p, n)) for p, n in ids}
    for p in sorted({p for p, _ in ids}):
        pages[f"phase/{p}.md"] = (f"---\nlayout: m3/phase\nphase: {p}\n"
                                  f"name: {yaml_str(draw(NAME))}\n---\n")
    return pages


PERCENT = st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False))
DATES = st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31))
CODES = st.sampled_from([c for code in STATUS_CODES for c in (code, code.lower())])


@st.composite
def engagement_file(draw, task_ids: list[str]) -> str:
    """An engagement file with random names, dates, status and requirements."""
    def text_list(key: str) -> str:
        values = draw(st.lists(RICH, max_size=3))
        return (f"    {key}:\n" + "".join(f"      - {yaml_str(v)}\n" for v in values)
                if values else "")

    out = (f"agency: {yaml_str(draw(RICH))}\nprogram: {yaml_str(draw(RICH))}\n"
           f"provider: {yaml_str(draw(WORDS))}\nas_of: {draw(DATES).isoformat()}\n"
           f"version: {yaml_str(draw(st.text(CHARS, min_size=1, max_size=8)))}\nleads:\n")
    for party in draw(st.lists(st.sampled_from(PARTIES), unique=True)):
        out += f"  {party}: {yaml_str(draw(WORDS))}\n"
    roles = draw(st.dictionaries(st.text(CHARS, min_size=1, max_size=20),
                                 st.dictionaries(st.sampled_from(PARTIES), WORDS, max_size=3),
                                 max_size=3))
    out += "people:\n" + "".join(
        f"  {yaml_str(role)}:\n" + "".join(f"    {p}: {yaml_str(n)}\n" for p, n in names.items())
        for role, names in roles.items()) if roles else ""
    out += "status:\n"
    for tid in draw(st.lists(st.sampled_from(task_ids), unique=True)):
        start, finish = sorted((draw(DATES), draw(DATES)))  # finish before start is an error
        out += (f"  {yaml_str(tid)}:\n    percent_complete: {draw(PERCENT)}\n"
                f"    status: {draw(CODES)}\n    start: {start.isoformat()}\n"
                f"    finish: {finish.isoformat()}\n    owner: {yaml_str(draw(WORDS))}\n"
                + "".join(text_list(k) for k in ("risks", "issues", "accomplishments",
                                                 "upcoming")))
    reqs = draw(st.lists(st.tuples(WORDS, RICH, WORDS, WORDS), max_size=4))
    out += "requirements:\n" + "".join(
        f"  - id: {yaml_str(i)}\n    description: {yaml_str(d)}\n    process_area: "
        f"{yaml_str(a)}\n    notes: {yaml_str(n)}\n" for i, d, a, n in reqs) if reqs else ""
    return out


# -- the properties ---------------------------------------------------------------------------

def reopen(path: Path) -> None:
    """Open a document with its library and touch its content."""
    if path.suffix == ".docx":
        d = docx.Document(str(path))
        assert d.paragraphs or d.tables
    elif path.suffix in (".xlsx", ".xlsm"):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
    elif path.suffix == ".pptx":
        assert len(pptx.Presentation(str(path)).slides) >= 1
    else:
        raise AssertionError(f"unexpected file in the pack: {path}")


def no_formula_elements(path: Path) -> None:
    """No cell of any sheet carries an <f> (a template's conditional formats may)."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                root = etree.fromstring(z.read(name))
                assert not root.findall(f".//{{{NS['x']}}}c/{{{NS['x']}}}f"), (path.name, name)


def check_pack(work: Path, out: Path, templates: list[Path] | None = None) -> None:
    """Playbook and engagement in ``work`` -> a pack in ``out`` that satisfies the properties."""
    root = work / "playbook" if (work / "playbook").is_dir() else None
    book = load_playbook(root)
    eng = load_engagement(work / "engagement.yaml", book)
    before = set(work.rglob("*"))
    report = build_pack(book, eng, out, templates=templates or [])
    assert {p for p in work.rglob("*") if p != out and out not in p.parents} == before
    files = [p for p in out.rglob("*") if p.is_file()]
    resolved = out.resolve()
    for path in files:
        assert resolved in path.resolve().parents, path
        assert not path.is_symlink()
    docs = [p for p in files if p.name != MANIFEST]
    assert len(docs) == len(report.documents) + 1  # and the tracker
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert {d["path"] for d in manifest["documents"]} | {manifest["tracker"]["path"]} == \
        {p.relative_to(out).as_posix() for p in docs}
    for path in docs:
        reopen(path)
        if path.suffix in (".xlsx", ".xlsm"):
            no_formula_elements(path)


def write_playbook(work: Path, pages: dict[str, str]) -> list[str]:
    base = work / "playbook" / "_pages" / "m3"
    for rel, text in pages.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text, encoding="utf-8")
    return [Path(rel).stem for rel in pages if rel.startswith("keyTask/")]


@BOUNDED
@given(data=st.data())
def test_random_playbook_pages_give_a_sound_pack(data):
    pages = data.draw(playbook_pages(), "pages")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ids = write_playbook(work, pages)
        (work / "engagement.yaml").write_text(
            data.draw(engagement_file(ids), "engagement"), encoding="utf-8")
        check_pack(work, work / "out")


@BOUNDED
@given(data=st.data())
def test_random_engagement_values_give_a_sound_pack(data):
    ids = [kt.id for kt in load_playbook().key_tasks]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "engagement.yaml").write_text(
            data.draw(engagement_file(ids), "engagement"), encoding="utf-8")
        check_pack(work, work / "out")


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="shared M3 corpus (official templates) "
                                                  "not present")
@settings(BOUNDED, max_examples=8)
@given(data=st.data())
def test_random_engagement_values_fill_official_templates_soundly(data):
    ids = [kt.id for kt in load_playbook().key_tasks]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "engagement.yaml").write_text(
            data.draw(engagement_file(ids), "engagement"), encoding="utf-8")
        check_pack(work, work / "out", [OFFICIAL])


def test_yaml_str_round_trips():
    """The helper itself: any text (controls, line separators, astral) loads back exactly."""
    import yaml
    for text in ["", "a\"b\\c", "\x00\x0b\x85\u2028\u2029\ufeff\ufffe", "مراجعة 🚀\t", "\r\n"]:
        assert yaml.safe_load(f"k: {yaml_str(text)}")["k"] == text
