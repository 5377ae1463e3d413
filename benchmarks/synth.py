"""A synthetic M3 playbook of N key tasks in the real pages' shape (for benchmarks).

Pages are Jekyll front matter like the public playbook: key tasks with
``activities`` lists or ``activitiesGroups``, inputs and outputs as plain
strings and as ``{text, filename}``, deliverable titles that recur across key
tasks (status reports, RAID log, CONOPS, RTM...) next to key-task specific ones,
stakeholders owned by one or several parties, inline HTML links, phases 0-5
with phase pages. Same N, seed and recurrence, same files.

Recurrence: in the public playbook a recurring deliverable (a phase's status
reports, its RAID log) is shared by the key tasks of one phase, 2 to 19 of them.
``recurrence="block"`` (the default) keeps that shape as N grows: a phase of
more key tasks than the public one is cut into blocks of the public phase's size,
each block has its own recurring deliverables ("Block 2 Status
Reports/Dashboards", without the official file name, which would make them one
deliverable again), and a key task takes its inputs from the earlier key tasks of
its block number across the phases: N / 67 programmes of the public playbook's
shape side by side. A key task's random draws depend only on its position in its
programme, so every programme is a copy of the first (titles aside) and a document
carries the same content, in the same mix of formats, at every N.
``recurrence="phase"`` shares the recurring deliverables across the whole phase
however large: a stress case where one status deck lists hundreds of key tasks.

    python benchmarks/synth.py OUT_DIR N [block|phase]
"""
from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

PHASES = {0: "Assessment", 1: "Readiness", 2: "Selection", 3: "Engagement",
          4: "Migration", 5: "Operations and Maintenance"}
# Share of key tasks per phase in the public playbook (2 / 14 / 9 / 19 / 13 / 10 of 67).
PHASE_WEIGHTS = {0: 2, 1: 14, 2: 9, 3: 19, 4: 13, 5: 10}
CATEGORIES = ("programManagement", "workforce", "technology", "process")
PARTIES = ("customer", "provider", "shared", "qsmo")

# Deliverables that recur across key tasks; some carry the official template file name.
RECURRING = [
    ("Status Reports/Dashboards", "M3-Playbook-Status-Report-Dashboard-Template.pptx"),
    ("Target State Concept of Operations", "M3-Playbook-Target-State-CONOPS-Template.docx"),
    ("Requirements Traceability Matrix (RTM)",
     "M3-Playbook-Requirements-Traceability-Matrix-Template.xlsx"),
    ("Risks, Actions, Issues, and Decisions (RAID) Log", "M3-Playbook-RAID-Log-Template.xlsx"),
    ("Integrated Master Schedule (IMS)", "M3-Playbook-Master-Schedule-Template.xlsx"),
    ("Communications Plan", "M3-Playbook-Communications-Plan-Template.docx"),
    ("Business Needs Workbook", "M3-Playbook-Business-Needs-Workbook-Template.xlsx"),
    ("Project Business Case", None),
    ("Lessons Learned", "M3-Playbook-Lessons-Learned-Template.docx"),
    ("Stakeholder Analysis", "M3-Playbook-Stakeholder-Analysis-Template.xlsx"),
    ("Change Management Plan", None),
    ("Data Quality Assessment Results", None),
    ("Phase Progress Review Briefing", None),
]
# The family-sized templates benchmarks/family.py writes: (title, file, shape).
FAMILY = [
    ("Status Reports/Dashboards", "M3-Playbook-Status-Report-Dashboard-Template.pptx", "deck"),
    ("Target State Concept of Operations", "M3-Playbook-Target-State-CONOPS-Template.docx",
     "word:40"),
    ("Business Needs Workbook", "M3-Playbook-Business-Needs-Workbook-Template.xlsx", "workbook"),
    ("Integrated Master Schedule (IMS)", "M3-Playbook-Master-Schedule-Template.xlsx", "schedule"),
    ("Lessons Learned", "M3-Playbook-Lessons-Learned-Template.docx", "word:30"),
    ("Communications Plan", "M3-Playbook-Communications-Plan-Template.docx", "word:60"),
]
SUBJECTS = ["Data Conversion", "Interface", "Cutover", "Training", "Security Authorization",
            "Workforce Transition", "Service Level", "Testing", "Process Design",
            "Knowledge Transfer", "Release Management", "Records Retention", "Help Desk",
            "Budget Formulation", "Payroll Integration", "Grants Closeout", "Fixed Asset",
            "Procurement Workflow", "Reporting", "Access Management"]
KINDS = ["Plan", "Strategy", "Checklist", "Inventory", "Assessment Report", "Approach",
         "Readiness Review Briefing", "Decision Memo", "Tracker", "Playbook", "Matrix",
         "Roles and Responsibilities", "Lessons Learned Log", "Schedule", "Dashboard"]
ROLES = ["Executive Sponsor", "Business Owner", "Program Manager", "PMO Lead", "Functional Lead",
         "Technical Lead/Solution Architect", "Change Management Lead", "Data Lead",
         "Contracting Officer", "Functional SME", "Technical SME", "Training Lead"]
VERBS = ["Review", "Develop", "Validate", "Document", "Confirm", "Brief", "Update", "Identify",
         "Define", "Coordinate", "Assess", "Finalize"]
LINKS = ["https://ussm.gsa.gov/qsmo/", "https://ussm.gsa.gov/fibf/",
         "https://ussm.gsa.gov/marketplace/", "https://www.whitehouse.gov/omb/"]


# Where each phase's key tasks start in a programme of the public playbook's shape.
_OFFSETS = {p: sum(w for q, w in PHASE_WEIGHTS.items() if q < p) for p in PHASE_WEIGHTS}


def _q(text: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + text.replace("'", "''") + "'"


def _parties(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        return "\n" + "".join(f"      - {p}\n" for p in ("customer", "provider")).rstrip("\n")
    if roll < 0.16:
        return "\n      - customer\n      - qsmo"
    return " " + rng.choice(("customer",) * 6 + ("provider", "shared", "shared", "qsmo"))


def _activity(rng: random.Random, subject: str, indent: str) -> str:
    verb, other = rng.choice(VERBS), rng.choice(SUBJECTS)
    text = f"{verb} the {subject.lower()} {rng.choice(KINDS).lower()} with the {other} team"
    if rng.random() < 0.25:
        text += f' (see the <a href="{rng.choice(LINKS)}">guidance</a>)'
    if rng.random() < 0.1:
        text = f"<b>{text}</b>; report in leadership meetings"
    parties = _parties(rng).replace("\n      ", "\n" + indent + "    ")
    return f"{indent}- text: {_q(text)}\n{indent}  responsibleParty:{parties}\n"


def _docref(title: str, filename: str | None) -> str:
    if filename:
        return f"  - text: {_q(title)}\n    filename: {filename}\n"
    return f"  - {_q(title)}\n"


def _phase_of(index: int, n: int) -> int:
    """Spread N key tasks over phases 0-5 like the public playbook."""
    total, acc = sum(PHASE_WEIGHTS.values()), 0
    for phase, weight in PHASE_WEIGHTS.items():
        acc += weight
        if index < n * acc / total:
            return phase
    return 5


def _own_title(i: int, copy: int) -> str:
    """The i-th key-task specific deliverable title of programme ``copy`` (all distinct);
    every kind of deliverable comes up within a programme's first titles."""
    pairs = len(SUBJECTS) * len(KINDS)
    subject, kind = SUBJECTS[(i // len(KINDS)) % len(SUBJECTS)], KINDS[i % len(KINDS)]
    wave = f"Wave {i // pairs + 1} " if i >= pairs else ""
    return f"{_label(copy)}{wave}{subject} {kind}"


def _label(copy: int) -> str:
    return f"Block {copy + 1} " if copy else ""


def recurring(block: int) -> list[tuple[str, str | None]]:
    """The recurring deliverables of a block of key tasks (block 0: the playbook's own)."""
    if block == 0:
        return RECURRING
    return [(f"{_label(block)}{title}", None) for title, _ in RECURRING]


def key_task_page(phase: int, number: int, index: int, rng: random.Random,
                  earlier: list[tuple[str, str | None]], block: int = 0,
                  copy: int = 0) -> tuple[str, list]:
    """One key-task page and the deliverables it outputs; ``index`` is its position in
    its programme, ``copy`` the programme's number."""
    subject = SUBJECTS[index % len(SUBJECTS)]
    own = [(_own_title(index * 2 + k, copy), None) for k in range(rng.randint(1, 2))]
    shared = recurring(block)
    outputs = own + rng.sample(shared, rng.randint(1, 2))
    pool = earlier[-40:] + shared
    inputs = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
    name = f"{rng.choice(VERBS)} {subject} {rng.choice(KINDS)}"
    objective = (f"Ensure the {subject.lower()} work is planned, owned and tracked so the "
                 "migration stays on schedule and within scope.")
    lines = ["---", "layout: m3/keyTask", f"phase: {phase}", f"keyTask: {number}",
             f"permalink: /{phase}.{number}/", f"name: {_q(name)}", "",
             f"objective: {_q(objective)}",
             f"responsibleParty: {rng.choice(PARTIES[:3])}",
             f"category: {CATEGORIES[index % len(CATEGORIES)]}", ""]
    body = "\n".join(lines) + "\n"
    if rng.random() < 0.15:
        body += "activitiesGroups:\n"
        for g in range(2):
            group = (f'Option {g + 1}: <font style="font-weight: normal;">'
                     f'{rng.choice(SUBJECTS)} path</font>')
            body += f"  - group: {_q(group)}\n    activities:\n"
            body += "".join(_activity(rng, subject, "    ") for _ in range(rng.randint(2, 4)))
    else:
        body += "activities:\n"
        body += "".join(_activity(rng, subject, "  ") for _ in range(rng.randint(4, 9)))
    body += "\ninputs:\n" + "".join(_docref(t, f) for t, f in inputs)
    body += "\noutputs:\n" + "".join(_docref(t, f) for t, f in outputs)
    body += "\nstakeholders:\n"
    for role in rng.sample(ROLES, rng.randint(3, 6)):
        body += f"  - text: {_q(role)}\n    responsibleParty:{_parties(rng)}\n"
    body += "\nbestPractice:\n"
    for _ in range(rng.randint(2, 5)):
        practice = (f"{rng.choice(VERBS)} {rng.choice(SUBJECTS).lower()} decisions early and "
                    f'record them in the <a href="{rng.choice(LINKS)}">RAID log</a>')
        body += f"  - {_q(practice)}\n"
    return body + "---\n", own


def phase_page(phase: int, tasks: list[tuple[int, str]]) -> str:
    """The phase page: objective, activities by workstream, documentation."""
    objective = f"Complete the {PHASES[phase].lower()} phase of the migration."
    body = (f"---\nlayout: m3/phase\npermalink: /m3phase{phase}/\n\nphase: {phase}\n\n"
            f"name: {PHASES[phase]}\n\nobjective: {_q(objective)}\n\nactivities:\n")
    for i, category in enumerate(CATEGORIES):
        mine = [name for j, (_, name) in enumerate(tasks) if j % len(CATEGORIES) == i]
        if mine:
            body += f"  {category}:\n" + "".join(
                f"    - name: {_q(name)}\n      responsibleParty: customer\n" for name in mine)
    body += "\ndocumentation:\n"
    for title, filename in RECURRING[:4]:
        body += f"  - name: {_q(title)}\n" + (f"    filename: {filename}\n" if filename else "")
    return body + "---\n"


def write_playbook(root: str | Path, n: int, seed: int = 7, recurrence: str = "block") -> Path:
    """Write a playbook of ``n`` key tasks under ``root/_pages/m3``; return ``root``.

    ``recurrence``: "block" or "phase" (see the module's docstring)."""
    if recurrence not in ("block", "phase"):
        raise ValueError(f"recurrence must be 'block' or 'phase', not {recurrence!r}")
    root = Path(root)
    kt_dir, ph_dir = root / "_pages" / "m3" / "keyTask", root / "_pages" / "m3" / "phase"
    kt_dir.mkdir(parents=True, exist_ok=True)
    ph_dir.mkdir(parents=True, exist_ok=True)
    earlier: dict[int, list[tuple[str, str | None]]] = {}   # by block
    by_phase: dict[int, list[tuple[int, str]]] = {p: [] for p in PHASES}
    for index in range(n):
        phase = _phase_of(index, n)
        number = len(by_phase[phase]) + 1
        copy, place = divmod(number - 1, PHASE_WEIGHTS[phase])
        position = _OFFSETS[phase] + place          # the same in every programme
        block = copy if recurrence == "block" else 0
        mine = earlier.setdefault(block, [])
        rng = random.Random(seed * 1000 + position)
        page, outputs = key_task_page(phase, number, position, rng, mine, block, copy)
        mine += outputs
        (kt_dir / f"{phase}.{number}.md").write_text(page, encoding="utf-8")
        name = page.split("\nname: ", 1)[1].split("\n", 1)[0].strip("'")
        by_phase[phase].append((number, name))
    for phase, tasks in by_phase.items():
        (ph_dir / f"{phase}.md").write_text(phase_page(phase, tasks), encoding="utf-8")
    return root


def synthetic_engagement(playbook, seed: int = 7):
    """An engagement over every key task, with leads, people and a status for most tasks."""
    from m3docs.engagement import Engagement, TaskStatus
    from m3docs.playbook.model import Party
    rng = random.Random(seed)
    as_of = dt.date(2026, 11, 24)
    people = {role: {Party.CUSTOMER: f"{role.split()[0]} Customer{i}",
                     Party.PROVIDER: f"{role.split()[0]} Provider{i}"}
              for i, role in enumerate(ROLES)}
    status = {}
    for i, kt in enumerate(playbook.key_tasks):
        if rng.random() < 0.8:
            start = as_of - dt.timedelta(days=rng.randint(10, 200))
            status[kt.id] = TaskStatus(
                percent_complete=rng.choice((0, 25, 50, 75, 100)),
                status=rng.choice(("B", "G", "G", "Y", "R", "P")), start=start,
                finish=start + dt.timedelta(days=rng.randint(30, 150)),
                risks=(f"{SUBJECTS[i % len(SUBJECTS)]} dependencies may slip",),
                issues=(), accomplishments=(f"Kick-off held for {kt.name}",),
                upcoming=(f"Review draft {SUBJECTS[(i + 3) % len(SUBJECTS)].lower()} outputs",))
    return Engagement(agency="U.S. Department of Benchmarks", program="Core Financial System "
                      "Modernization", provider="Example Shared Service Provider", as_of=as_of,
                      version="1.0", leads={Party.CUSTOMER: "Jordan Avery",
                                            Party.PROVIDER: "Riley Chen",
                                            Party.QSMO: "Morgan Diaz"},
                      people=people, status=status)


if __name__ == "__main__":
    out = write_playbook(sys.argv[1], int(sys.argv[2]),
                         recurrence=sys.argv[3] if len(sys.argv) > 3 else "block")
    print(f"wrote {sys.argv[2]} key tasks under {out}")
