"""Document planning: which deliverables exist, in which phase, from which key tasks.

Identity rule (documented in the README): two page entries are the same
deliverable when they name the same template file, or when their titles are
equal once case, punctuation, spacing and parenthesised parts are ignored; a
title that carries a file on any page is that file's deliverable on every page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .playbook.model import DocRef, KeyTask, Playbook

VERSION_1, UPDATED = "Version 1", "Updated"


@dataclass(frozen=True)
class Deliverable:
    """One deliverable, however the pages title it."""

    key: str
    title: str
    titles: tuple[str, ...]
    filename: str | None
    kind: str  # "conops", "rtm", "status" or "generic"
    format: str  # "docx", "xlsx" or "pptx"


@dataclass(frozen=True)
class Document:
    """One document of a pack: a deliverable in one phase, with its key tasks."""

    deliverable: Deliverable
    phase: int
    version_label: str
    outputs_of: tuple[KeyTask, ...]
    inputs_of: tuple[KeyTask, ...]
    path: str = ""

    @property
    def title(self) -> str:
        return self.deliverable.title

    @property
    def format(self) -> str:
        return self.deliverable.format

    @property
    def key_tasks(self) -> tuple[KeyTask, ...]:
        """Key tasks that output or use this document, sorted, each once."""
        seen = {kt.id: kt for kt in self.outputs_of + self.inputs_of}
        return tuple(sorted(seen.values(), key=lambda k: k.sort_key))


def normalize_title(title: str) -> str:
    """Identity form of a title: no parenthesised parts, punctuation, case or spacing."""
    t = re.sub(r"\([^)]*\)", " ", title.lower())
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(t.split())
