"""Every kind of generated document opens in a real office suite (LibreOffice, to PDF).

Outside CI these tests skip with a message when soffice is absent; in CI (the
CI environment variable is set) a missing soffice fails them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from m3docs import build_pack, load_playbook
from m3docs.cli import main
from m3docs.engagement import example_engagement
from m3docs.pack import MANIFEST, TRACKER
from m3docs.pdf import convert_pack, find_soffice
from m3docs.templates import own_templates_dir

# One key task whose outputs reach every template of the project's own.
PAGE = """---
layout: m3/keyTask
phase: 3
keyTask: 1
permalink: /3.1/
name: Prepare Every Kind of Deliverable
objective: Exercise the <a href="https://example.gov/">office suite</a> with every document kind.
responsibleParty: shared
category: process
activities:
  - text: Draft the Target State Concept of Operations with the <b>provider</b>
    responsibleParty: shared
  - text: Trace requirements in the RTM
    responsibleParty:
      - customer
      - provider
  - text: Brief leadership on readiness
    responsibleParty: customer
inputs:
  - Scope of Services
outputs:
  - text: Target State Concept of Operations
    filename: M3-Playbook-Target-State-CONOPS-Template.docx
  - text: Requirements Traceability Matrix (RTM)
    filename: M3-Playbook-Requirements-Traceability-Matrix-Template.xlsx
  - text: Status Reports/Dashboards
    filename: M3-Playbook-Status-Report-Dashboard-Template.pptx
  - Transition Plan
  - Data Conversion Inventory
  - Readiness Review Briefing
stakeholders:
  - text: Program Manager
    responsibleParty:
      - customer
      - provider
  - text: Business Owner
    responsibleParty: customer
bestPractice:
  - Review the PDFs before sending them to the agency executive
---
"""
PHASE = """---
layout: m3/phase
phase: 3
name: Engagement
objective: Engage the provider.
---
"""


@pytest.fixture(scope="module")
def soffice() -> str:
    found = find_soffice()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI but was not found")
        pytest.skip("LibreOffice (soffice) is not installed; these tests open every generated "
                    "document in it")
    return found


def pdf_text(pdf: Path) -> str | None:
    """The PDF's text (None when pdftotext is not installed)."""
    if not shutil.which("pdftotext"):
        return None
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, timeout=60).stdout


def every_kind_playbook(root: Path) -> Path:
    for folder, name, text in (("keyTask", "3.1.md", PAGE), ("phase", "3.md", PHASE)):
        d = root / "_pages" / "m3" / folder
        d.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text, encoding="utf-8")
    return root


def check_pdfs(out: Path, agency: str) -> dict[str, str]:
    """Every document and the tracker has a real PDF; documents name the agency."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    entries = manifest["documents"] + [manifest["tracker"]]
    texts = {}
    for entry in entries:
        pdf = out / entry["pdf"]
        assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 1000, entry["path"]
        text = pdf_text(pdf)
        if text is not None:
            assert text.strip(), f"{entry['path']}: the PDF has no text"
            texts[entry["path"]] = text
            if entry is not manifest["tracker"]:
                flat = " ".join(text.split())
                assert agency in flat or entry["title"] in flat, entry["path"]
    return texts


def test_every_own_template_and_the_tracker_open_in_libreoffice(soffice, tmp_path):
    book = load_playbook(every_kind_playbook(tmp_path / "playbook"))
    eng = example_engagement()
    out = tmp_path / "pack"
    report = build_pack(book, eng, out)
    from m3docs.tracker import tracker_template
    used = {d["template"] for d in report.documents} | {Path(tracker_template().path).name}
    own = {p.name for p in own_templates_dir().iterdir() if p.suffix in (".docx", ".xlsx",
                                                                          ".pptx")}
    assert used == own, f"not every own template was exercised: {sorted(own - used)}"
    convert_pack(out, report)
    texts = check_pdfs(out, eng.agency)
    if texts:
        tracker = " ".join(texts[TRACKER].split())
        assert "Transition Plan" in tracker and "Data Conversion Inventory" in tracker


def test_official_templates_open_in_libreoffice(soffice, official_dir, tmp_path):
    book = load_playbook(every_kind_playbook(tmp_path / "playbook"))
    eng = example_engagement()
    out = tmp_path / "pack"
    report = build_pack(book, eng, out, templates=[official_dir])
    assert not report.fallbacks
    assert {d["format"] for d in report.documents if d["official"]} == {"docx", "xlsx", "pptx"}
    convert_pack(out, report)
    check_pdfs(out, eng.agency)


def test_cli_pack_pdf_with_libreoffice(soffice, tmp_path):
    out = tmp_path / "out"
    assert main(["pack", "--out", str(out), "--pdf", "--quiet"]) == 0
    documents = [p for p in out.rglob("*") if p.suffix in (".docx", ".xlsx", ".pptx")]
    assert len(documents) >= 4
    for doc in documents:
        assert doc.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
