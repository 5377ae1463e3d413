"""The playbook as JSON-ready data (the `m3docs list --json` schema)."""
from __future__ import annotations

from typing import Any

from .model import Activity, DocRef, KeyTask, Phase, Playbook


def _links(activity: Activity) -> list[dict[str, str]]:
    return [{"text": r.text.strip(), "url": r.url} for r in activity.text.links]


def _doc(ref: DocRef) -> dict[str, Any]:
    return {"title": ref.title.plain, "filename": ref.filename}


def key_task_dict(kt: KeyTask) -> dict[str, Any]:
    return {
        "id": kt.id, "phase": kt.phase, "number": kt.number, "name": kt.name,
        "objective": kt.objective.plain, "category": kt.category, "workstream": kt.workstream,
        "parties": [p.value for p in kt.parties],
        "source": str(kt.source) if kt.source else None,
        "permalink": kt.permalink,
        "activities_text": kt.activities_text.plain if kt.activities_text else None,
        "activities": [{"number": a.number, "group": a.group.plain if a.group else None,
                        "text": a.text.plain, "parties": [p.value for p in a.parties],
                        "links": _links(a)} for a in kt.activities],
        "inputs": [_doc(d) for d in kt.inputs],
        "outputs": [_doc(d) for d in kt.outputs],
        "stakeholders": [{"role": s.role.plain, "parties": [p.value for p in s.parties]}
                         for s in kt.stakeholders],
        "best_practices": [b.plain for b in kt.best_practices],
    }


def phase_dict(ph: Phase) -> dict[str, Any]:
    return {"phase": ph.number, "name": ph.name, "objective": ph.objective.plain,
            "permalink": ph.permalink,
            "documentation": [{"title": d.name.plain, "filename": d.filename}
                              for d in ph.documentation]}


def playbook_dict(book: Playbook) -> dict[str, Any]:
    return {"phases": [phase_dict(p) for p in book.phases],
            "key_tasks": [key_task_dict(k) for k in book.key_tasks]}
