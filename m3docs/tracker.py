"""The pack's deliverables tracker: the bundled tagged workbook ``templates/tracker.xlsx``
filled by the workbook engine from ``content.tracker_context``.

Sheet "Deliverables": one row per deliverable, one column per phase ("Version 1" where it
is first produced, "Updated" where a key task outputs it again, "Used" where it is only an
input, each linked to its document), the key tasks that produce and use it, responsible
parties, status and % complete of its producing key tasks, and a link to its file in the
pack. Sheet "RACI": stakeholder roles by key task, with the parties that fill each role.
Sheet "Terms": the playbook glossary's entries the pack's documents use. The same input
gives the same bytes.
"""
from __future__ import annotations

import threading
from typing import Iterable, Sequence

from .content import tracker_context
from .engagement import Engagement
from .engine import compiled
from .ooxml.package import Template
from .playbook.model import KeyTask, Playbook
from .plan import Document
from .templates import own_templates_dir

HEADER_ROW = 3   # the tables' header row on every sheet of the bundled tracker
TEMPLATE_NAME = "tracker.xlsx"
_TEMPLATE: list[Template] = []   # the bundled template, read once per process
_LOCK = threading.Lock()


def tracker_template() -> Template:
    """The bundled tracker template (one Template per process: compiled once)."""
    with _LOCK:
        if not _TEMPLATE:
            _TEMPLATE.append(Template(own_templates_dir() / TEMPLATE_NAME))
        return _TEMPLATE[0]


def without_documents(tasks: Iterable[KeyTask], documents: list[Document]) -> list[KeyTask]:
    """The key tasks that no document of the pack comes from or is used by."""
    covered = {kt.id for d in documents for kt in d.key_tasks}
    return [kt for kt in tasks if kt.id not in covered]


def build_tracker(documents: list[Document], playbook: Playbook, engagement: Engagement,
                  links: dict[str, str], warnings: list[str] | None = None,
                  scope: Sequence[KeyTask] = ()) -> bytes:
    """The deliverables tracker workbook for a pack, as .xlsx bytes. ``links``: document
    path -> its file's path from the tracker (documents without a file get no link); text
    that had to be cleaned or cut is reported in ``warnings`` (when given). ``scope``: the
    key tasks of the pack, those that list no document included."""
    context = tracker_context(documents, playbook, engagement, scope, files=links)
    data, notes = compiled(tracker_template(), "xlsx").render(context)
    if warnings is not None:
        warnings += notes
    return data


__all__ = ["HEADER_ROW", "build_tracker", "tracker_template", "without_documents"]
