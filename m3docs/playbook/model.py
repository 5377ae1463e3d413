"""The typed, immutable model of an M3 playbook."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from .richtext import RichText


class Party(str, Enum):
    """Who owns an activity or a stakeholder role."""

    CUSTOMER = "customer"
    PROVIDER = "provider"
    SHARED = "shared"
    QSMO = "qsmo"

    @property
    def label(self) -> str:
        return {"customer": "Customer", "provider": "Provider",
                "shared": "Shared", "qsmo": "QSMO"}[self.value]


#: File types of Word, Excel and PowerPoint documents (what can be an official template).
OFFICE_EXTENSIONS = (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm")

WORKSTREAMS: dict[str, str] = {
    "programManagement": "Program Management",
    "workforce": "Workforce, Organization, and Stakeholders",
    "technology": "Technology",
    "process": "Process and Service Delivery",
}
# Phase pages file key-task names under "organization" for the workforce workstream.
WORKSTREAM_ALIASES: dict[str, str] = {"organization": "workforce"}


def canonical_category(value: str | None) -> str | None:
    """A page's category as a WORKSTREAMS key, whatever its case or spacing
    ('Program Management' -> 'programManagement', 'organization' -> 'workforce')."""
    if value is None:
        return None
    squashed = "".join(value.split()).lower()
    squashed = WORKSTREAM_ALIASES.get(squashed, squashed)
    for key in WORKSTREAMS:
        if key.lower() == squashed:
            return key
    return value.strip()


@dataclass(frozen=True)
class Source:
    """Where an item stands: file and 1-based line and column."""

    path: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Activity:
    """One activity of a key task, numbered from 1 across groups."""

    number: int
    text: RichText
    parties: tuple[Party, ...]
    group: RichText | None = None
    source: Source | None = None


@dataclass(frozen=True)
class ActivityGroup:
    title: RichText
    activities: tuple[Activity, ...]


@dataclass(frozen=True)
class DocRef:
    """An input or output document; ``filename`` names its official template."""

    title: RichText
    filename: str | None = None
    source: Source | None = None


@dataclass(frozen=True)
class Stakeholder:
    role: RichText
    parties: tuple[Party, ...]
    source: Source | None = None


@dataclass(frozen=True)
class KeyTask:
    """A key task ("P.K") with everything its page says."""

    phase: int
    number: int
    name: str
    objective: RichText
    category: str | None
    parties: tuple[Party, ...]
    activities: tuple[Activity, ...]
    inputs: tuple[DocRef, ...]
    outputs: tuple[DocRef, ...]
    stakeholders: tuple[Stakeholder, ...]
    best_practices: tuple[RichText, ...] = ()
    activities_text: RichText | None = None
    permalink: str | None = None
    source: Source | None = None

    @property
    def id(self) -> str:
        return f"{self.phase}.{self.number}"

    @property
    def workstream(self) -> str | None:
        return WORKSTREAMS.get(self.category or "", self.category)

    @property
    def groups(self) -> tuple[ActivityGroup, ...]:
        """Activities split into their groups, in page order (one untitled group if none)."""
        out: list[tuple[RichText | None, list[Activity]]] = []
        for act in self.activities:
            if not out or out[-1][0] != act.group:
                out.append((act.group, []))
            out[-1][1].append(act)
        return tuple(ActivityGroup(t or RichText(), tuple(a)) for t, a in out)

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.phase, self.number)


@dataclass(frozen=True)
class PhaseDocument:
    name: RichText
    filename: str | None = None


# The playbook's six phases: the name of a phase whose own page is absent or unnamed.
STANDARD_PHASE_NAMES = {0: "Assessment", 1: "Readiness", 2: "Selection", 3: "Engagement",
                        4: "Migration", 5: "Operations"}


def default_phase_name(number: int) -> str:
    return STANDARD_PHASE_NAMES.get(number, f"Phase {number}")


@dataclass(frozen=True)
class Phase:
    number: int
    name: str
    objective: RichText = field(default_factory=RichText)
    permalink: str | None = None
    documentation: tuple[PhaseDocument, ...] = ()
    exit_criteria: tuple[str, ...] = ()
    source: Source | None = None


@dataclass(frozen=True)
class GlossaryTerm:
    section: str
    name: str
    description: str


@dataclass(frozen=True)
class Playbook:
    """Phases and key tasks, sorted; ``warnings`` found while loading."""

    phases: tuple[Phase, ...]
    key_tasks: tuple[KeyTask, ...]
    glossary: tuple[GlossaryTerm, ...] = ()
    base_url: str = "https://ussm.gsa.gov"
    root: str | None = None
    warnings: tuple = ()

    @cached_property
    def _by_id(self) -> dict[str, KeyTask]:
        out: dict[str, KeyTask] = {}
        for kt in self.key_tasks:
            out.setdefault(kt.id, kt)
        return out

    def key_task(self, task_id: str) -> KeyTask:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise KeyError(task_id) from None

    def phase(self, number: int) -> Phase:
        for ph in self.phases:
            if ph.number == number:
                return ph
        return Phase(number, default_phase_name(number))

    def in_phase(self, number: int) -> tuple[KeyTask, ...]:
        return tuple(kt for kt in self.key_tasks if kt.phase == number)
