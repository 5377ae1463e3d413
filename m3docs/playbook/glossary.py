"""Which of the playbook's glossary terms a document's key tasks use.

Abbreviations match as written (``IT`` is not "it"); roles and general terms match
in any case. Both match whole words only. A key task's terms are found once per
process and kept.
"""
from __future__ import annotations

import re
import weakref
from typing import Iterable, Iterator

from .model import GlossaryTerm, KeyTask, Playbook

ABBREVIATIONS = "abbreviations"


def key_task_texts(kt: KeyTask) -> Iterator[str]:
    """Every text a key task shows: name, objective, activities, documents, roles, practices."""
    yield kt.name
    yield kt.objective.plain
    if kt.activities_text:
        yield kt.activities_text.plain
    for act in kt.activities:
        yield act.text.plain
        if act.group:
            yield act.group.plain
    for ref in kt.inputs + kt.outputs:
        yield ref.title.plain
    for sh in kt.stakeholders:
        yield sh.role.plain
    for practice in kt.best_practices:
        yield practice.plain


def _pattern(names: Iterable[str], flags: int) -> re.Pattern | None:
    words = sorted({n for n in names if n}, key=len, reverse=True)
    if not words:
        return None
    alternatives = (r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", flags)


class Glossary:
    """A playbook's glossary, ready to find its terms in text."""

    def __init__(self, terms: Iterable[GlossaryTerm]):
        self.terms: dict[str, GlossaryTerm] = {}
        for term in terms:
            name = " ".join(term.name.split())
            if name and term.description.strip():
                self.terms.setdefault(self._key(name, term.section), term)
        exact = [k for k, t in self.terms.items() if self._exact(t.section)]
        loose = [k for k, t in self.terms.items() if not self._exact(t.section)]
        self._exact_re = _pattern(exact, 0)
        self._loose_re = _pattern(loose, re.IGNORECASE)
        self._by_task: dict[int, tuple[KeyTask, frozenset[str]]] = {}

    @staticmethod
    def _exact(section: str) -> bool:
        return section.strip().lower() == ABBREVIATIONS

    @classmethod
    def _key(cls, name: str, section: str) -> str:
        return name if cls._exact(section) else name.lower()

    def find(self, texts: Iterable[str]) -> frozenset[str]:
        """Keys of the terms the texts use."""
        found: set[str] = set()
        for text in texts:
            if self._exact_re:
                found.update(" ".join(m.group(0).split()) for m in self._exact_re.finditer(text))
            if self._loose_re:
                found.update(" ".join(m.group(0).lower().split())
                             for m in self._loose_re.finditer(text))
        return frozenset(k for k in found if k in self.terms)

    def of_key_task(self, kt: KeyTask) -> frozenset[str]:
        hit = self._by_task.get(id(kt))
        if hit is None or hit[0] is not kt:
            hit = self._by_task[id(kt)] = (kt, self.find(key_task_texts(kt)))
        return hit[1]

    def used(self, key_tasks: Iterable[KeyTask], texts: Iterable[str] = ()) -> list[GlossaryTerm]:
        """The terms the key tasks and texts use, by name."""
        keys = set(self.find(texts))
        for kt in key_tasks:
            keys |= self.of_key_task(kt)
        return sorted((self.terms[k] for k in keys),
                      key=lambda t: (t.name.lower(), t.name, t.section, t.description))


_GLOSSARIES: dict[int, tuple[weakref.ref, Glossary]] = {}


def glossary_of(playbook: Playbook) -> Glossary:
    """The playbook's Glossary, built once per process."""
    hit = _GLOSSARIES.get(id(playbook))
    if hit is None or hit[0]() is not playbook:
        for key in [k for k, (ref, _) in _GLOSSARIES.items() if ref() is None]:
            del _GLOSSARIES[key]
        hit = _GLOSSARIES[id(playbook)] = (weakref.ref(playbook), Glossary(playbook.glossary))
    return hit[1]


def terms_used(playbook: Playbook, key_tasks: Iterable[KeyTask],
               texts: Iterable[str] = ()) -> list[GlossaryTerm]:
    """The glossary terms a document about ``key_tasks`` (and ``texts``) uses."""
    if not playbook.glossary:
        return []
    return glossary_of(playbook).used(key_tasks, texts)
