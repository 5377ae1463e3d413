"""Two packs of one small playbook from two engagements, for the diff and index-page tests.

The playbook: three key tasks of phase 1 whose outputs reach Word, Excel and
PowerPoint documents, some shared between key tasks. The second engagement has
another program name, another status for key task 1.1, and key task 1.3 out of scope.
"""
from __future__ import annotations

import json
from pathlib import Path

from m3docs import build_pack, load_engagement, load_playbook

PHASE = """---
layout: m3/phase
phase: 1
name: Readiness
objective: Get ready.
---
"""
TASKS = {
    "1.1": ("Plan the Program", ["Vision Statement"],
            ["Program Charter", "Risk Register", "Status Reports/Dashboards"]),
    "1.2": ("Trace the Requirements", ["Program Charter"],
            ["Requirements Traceability Matrix (RTM)", "Status Reports/Dashboards",
             "Readiness Briefing"]),
    "1.3": ("Assess the Workforce", ["Program Charter"],
            ["Workforce Assessment", "Training Inventory"]),
}
OLD_PROGRAM, NEW_PROGRAM = "Financial Management Modernization", "Grants Management Uplift"
ENGAGEMENT = """agency: U.S. Department of Examples
program: {program}
as_of: 2026-11-24
leads: {{customer: Jordan Avery, provider: Riley Chen}}
people:
  Program Manager: {{customer: Jordan Avery, provider: Riley Chen}}
scope: {{key_tasks: [{scope}]}}
status:
  "1.1": {{percent_complete: 40, status: {status}, finish: 2026-12-15,
          accomplishments: [Charter drafted]}}
"""


def page(task_id: str) -> str:
    name, inputs, outputs = TASKS[task_id]
    lines = ["---", "layout: m3/keyTask", "phase: 1", f"keyTask: {task_id.split('.')[1]}",
             f"name: {name}", f"objective: {name} for the migration.",
             "responsibleParty: shared", "activities:",
             f"  - text: {name} with the provider", "    responsibleParty: shared",
             f"  - text: Review {name.lower()} with leadership", "    responsibleParty: customer",
             "inputs:"]
    lines += [f"  - {t}" for t in inputs] + ["outputs:"] + [f"  - {t}" for t in outputs]
    lines += ["stakeholders:", "  - text: Program Manager", "    responsibleParty:",
              "      - customer", "      - provider", "---", ""]
    return "\n".join(lines)


def write_playbook(root: Path) -> Path:
    pages = root / "_pages" / "m3"
    (pages / "keyTask").mkdir(parents=True, exist_ok=True)
    (pages / "phase").mkdir(parents=True, exist_ok=True)
    (pages / "phase" / "1.md").write_text(PHASE, encoding="utf-8")
    for task_id in TASKS:
        (pages / "keyTask" / f"{task_id}.md").write_text(page(task_id), encoding="utf-8")
    return root


def make_pack(root: Path, name: str, program: str, status: str, scope: list[str]) -> Path:
    """Write an engagement and pack it; returns the pack folder."""
    book = load_playbook(root / "playbook")
    text = ENGAGEMENT.format(program=program, status=status,
                             scope=", ".join(f'"{k}"' for k in scope))
    path = root / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    build_pack(book, load_engagement(path, book), root / name)
    return root / name


def make_packs(root: Path) -> tuple[Path, Path]:
    """The old pack (all three key tasks) and the new one (see the module's docstring)."""
    write_playbook(root / "playbook")
    old = make_pack(root, "old", OLD_PROGRAM, "G", list(TASKS))
    new = make_pack(root, "new", NEW_PROGRAM, "Y", ["1.1", "1.2"])
    return old, new


def manifest(pack: Path) -> dict:
    return json.loads((pack / "manifest.json").read_text(encoding="utf-8"))


def entries(pack: Path) -> list[dict]:
    data = manifest(pack)
    return data["documents"] + [data["tracker"]]
