"""The official RTM's requirements sheet gets the rows of our own RTM: the engagement's
requirements, then one row per activity of the key tasks that output or use it; the
template's instruction and example rows give way to them."""
from __future__ import annotations

import dataclasses
import io

import pytest

from m3docs.ooxml.package import Template
from m3docs.plan import Deliverable, Document
from m3docs.renderers.official import fill_official

RTM = "M3-Playbook-Requirements-Traceability-Matrix-Template.xlsx"


def _requirements_sheet(official_dir, playbook, engagement):
    import openpyxl
    path = official_dir / RTM
    kt = playbook.key_task("3.14")
    doc = Document(Deliverable("rtm", "Requirements Traceability Matrix (RTM)",
                               ("Requirements Traceability Matrix (RTM)",), RTM, "rtm", "xlsx"),
                   3, "Version 1", (kt,), ())
    data = fill_official(doc, Template(path), engagement, playbook).data
    return openpyxl.load_workbook(io.BytesIO(data))["RTM"], kt


def _column(ws, col: int) -> list:
    return [ws.cell(r, col).value for r in range(3, ws.max_row + 1)]


@pytest.mark.parametrize("with_requirements", [True, False])
def test_requirement_and_activity_rows_and_no_example(official_dir, playbook, engagement,
                                                      with_requirements):
    eng = engagement if with_requirements else dataclasses.replace(engagement, requirements=())
    ws, kt = _requirements_sheet(official_dir, playbook, eng)
    ids = [v for v in _column(ws, 1) if v]
    assert ids == [r.id for r in eng.requirements] + \
        [f"{kt.id}-{a.number:02d}" for a in kt.activities]
    descriptions = [v for v in _column(ws, 4) if v]
    assert descriptions == [r.description for r in eng.requirements] + \
        [a.text.plain for a in kt.activities]
    texts = " ".join(str(c) for row in ws.iter_rows(min_row=3, values_only=True) for c in row
                     if c is not None)
    for example in ("GL-001-001", "John Doe", "General Ledger", "Enter the project requirement"):
        assert example not in texts
    assert ws["A2"].value.startswith("Requirements Unique ID")   # the header stays
