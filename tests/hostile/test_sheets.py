"""Class 4: values starting with = + - @ tab or CR are written as text in every sheet."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from m3docs.engagement import load_engagement
from m3docs.pack import build_pack
from m3docs.playbook.loader import load_playbook

from .conftest import CORPUS

PAYLOADS = ["=HYPERLINK(\"http://evil.example\",\"INJ1\")", "+INJ2+1", "-INJ3-1", "@SUM(INJ4)",
            "\t=INJ5", "\r=INJ6", "=cmd|' /C calc'!INJ7"]


def hostile_engagement(tmp_path: Path) -> Path:
    lines = [
        'agency: "=INJ8()"', 'program: "+INJ9"', 'provider: "@INJ10"', "as_of: 2026-11-24",
        "leads:", '  customer: "=INJ11"', '  provider: "-INJ12"',
        "status:", '  "3.14":', "    percent_complete: 50", "    status: G",
        '    owner: "=INJ13"', "    risks:", '      - "=INJ14"', "    issues:", '      - "+INJ15"',
        "requirements:"]
    path = tmp_path / "engagement.yaml"
    text = "\n".join(lines) + "\n"
    for i, p in enumerate(PAYLOADS):
        esc = p.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
        text += (f'  - id: "{esc}"\n    description: "{esc}"\n    process_area: "{esc}"\n'
                 f'    notes: "{esc}"\n')
    path.write_text(text)
    return path


def sheet_cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws.title, cell


@pytest.fixture(scope="module")
def hostile_pack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sheets")
    eng = load_engagement(hostile_engagement(tmp), load_playbook())
    out = tmp / "out"
    build_pack(load_playbook(), eng, out)
    return out


def test_engagement_payloads_survive_loading(tmp_path):
    eng = load_engagement(hostile_engagement(tmp_path))
    assert [r.description for r in eng.requirements] == [p.strip() for p in PAYLOADS]


def test_workbooks_were_written(hostile_pack):
    books = sorted(p.name for p in hostile_pack.rglob("*.xlsx"))
    assert len(books) >= 2, books  # the RTM and the deliverables tracker


def test_no_payload_is_a_formula_in_any_sheet(hostile_pack):
    seen = set()
    for book in hostile_pack.rglob("*.xlsx"):
        for title, cell in sheet_cells(book):
            value = cell.value
            if isinstance(value, str) and "INJ" in value:
                assert cell.data_type == "s", (book.name, title, cell.coordinate, value)
                seen.update(re.findall(r"INJ\d+", value))
    # The requirements land in the RTM and the engagement names somewhere in the workbooks.
    assert {"INJ1", "INJ2", "INJ3", "INJ4", "INJ5", "INJ6", "INJ7"} <= seen, seen


def test_no_formula_element_carries_a_payload(hostile_pack):
    for book in hostile_pack.rglob("*.xlsx"):
        with zipfile.ZipFile(book) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = z.read(name).decode("utf-8")
                    for formula in re.findall(r"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", xml, re.S):
                        assert "INJ" not in formula, (book.name, name, formula)
                if name == "xl/sharedStrings.xml" or name.startswith("xl/worksheets/"):
                    assert "<f>=" not in z.read(name).decode("utf-8")


@pytest.mark.skipif(not (CORPUS / "assets/files").is_dir(), reason="shared M3 corpus not present")
def test_official_rtm_template_also_gets_text_only(tmp_path):
    eng = load_engagement(hostile_engagement(tmp_path), load_playbook())
    out = tmp_path / "out"
    build_pack(load_playbook(), eng, out, templates=[CORPUS / "assets/files"])
    found = 0
    for book in out.rglob("*.xlsx"):
        for _, cell in sheet_cells(book):
            if isinstance(cell.value, str) and "INJ" in cell.value:
                assert cell.data_type == "s"
                found += 1
    assert found >= len(PAYLOADS)
