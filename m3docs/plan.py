"""Document planning: which deliverables exist, in which phase, from which key tasks.

Identity rule (documented in the README): two page entries are the same
deliverable when they name the same template file, or when their titles are
equal once case, punctuation, spacing and parenthesised parts are ignored, and
singular and plural are one ("Status Report", "Status Reports"); each
alternative of a slash title counts as the title ("Status Reports/Dashboards" is
"Status Reports" and "Status Dashboards"); a title that carries a file on any
page is that file's deliverable on every page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from typing import Callable, Iterable

from .errors import M3DocsError, error
from .manifest import MANIFEST, TRACKER
from .paths import NameBook, folder_name, safe_stem
from .playbook.model import OFFICE_EXTENSIONS, DocRef, KeyTask, Playbook

if TYPE_CHECKING:
    from .engagement import Engagement
    from .templates import TemplateChain

RESERVED_NAMES = (MANIFEST, TRACKER)  # files of a pack that no document may take

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

    @property
    def template_file(self) -> str | None:
        """The official template's file name (None when the playbook names none, or names
        a file that is no Office template, such as a PDF guide)."""
        return self.filename if is_template_file(self.filename) else None

    def named(self, name: str) -> bool:
        """Whether an engagement's ``formats`` or ``templates`` key names this deliverable:
        any of its titles (ignoring case and punctuation) or its official file's name."""
        return names_deliverable(name, self.titles, self.filename)


def names_deliverable(name: str, titles: Iterable[str], filename: str | None) -> bool:
    wanted = title_keys(name)
    return any(wanted & title_keys(t) for t in titles) or \
        bool(filename) and name.strip().lower() == filename.strip().lower()


@dataclass(frozen=True)
class Document:
    """One document of a pack: a deliverable in one phase, with its key tasks."""

    deliverable: Deliverable
    phase: int
    version_label: str
    outputs_of: tuple[KeyTask, ...]
    inputs_of: tuple[KeyTask, ...]
    path: str = ""
    phase_title: str = ""
    scope: tuple[str, ...] = ()   # ids of the pack's key tasks (a schedule fills them all)

    @property
    def title(self) -> str:
        """The title this phase's pages give the deliverable (pages of different
        phases may name one template differently)."""
        return self.phase_title or self.deliverable.title

    @property
    def format(self) -> str:
        return self.deliverable.format

    @property
    def key_tasks(self) -> tuple[KeyTask, ...]:
        """Key tasks that output or use this document, sorted, each once."""
        seen = {kt.id: kt for kt in self.outputs_of + self.inputs_of}
        return tuple(sorted(seen.values(), key=lambda k: k.sort_key))


@lru_cache(maxsize=4096)
def normalize_title(title: str) -> str:
    """Identity form of a title: no parenthesised parts, punctuation, case, spacing or 'and'
    (letters of every script count)."""
    t = re.sub(r"\([^)]*\)", " ", title.lower())
    t = re.sub(r"[\W_]+", " ", t)
    return " ".join(w for w in t.split() if w != "and")


_ACRONYM_PART = re.compile(r"\(([A-Za-z&]{2,10}?)s?\)")
_SPREADSHEET_WORDS = ("log", "logs", "matrix", "matrices", "workbook", "workbooks", "checklist",
                      "checklists", "inventory", "inventories", "tracker", "trackers", "register",
                      "spreadsheet", "tool")
_DECK_WORDS = ("dashboard", "dashboards", "briefing", "briefings", "presentation", "deck",
               "slides", "readout")
# Document kinds with a template of the project's own: (kind, words any title must contain).
KIND_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("conops", ("concept of operations", "conops"), "docx"),
    ("rtm", ("traceability matrix", "rtm"), "xlsx"),
    ("status", ("status report", "status reports"), "pptx"),
)
# .docm -> docx, .xlsm -> xlsx, ...: the format family of each Office file type.
FORMAT_OF_EXTENSION = {ext: ext[1:4] + "x" for ext in OFFICE_EXTENSIONS}


def is_template_file(filename: str | None) -> bool:
    """Whether a file the playbook names is a Word, Excel or PowerPoint file."""
    return bool(filename) and Path(filename.strip()).suffix.lower() in FORMAT_OF_EXTENSION


@lru_cache(maxsize=4096)
def title_keys(title: str) -> frozenset[str]:
    """Identity forms of a title: the normalized title; where a parenthesised acronym
    spells the words before it, the form with the acronym in their place ('Risks,
    Actions, Issues, and Decisions (RAID) Log' -> 'RAID Log'); each alternative of a
    slash title ('Status Reports/Dashboards' -> 'Status Reports', 'Status Dashboards');
    and every form with its words singular ('status report')."""
    keys = set()
    for text in _alternatives(title):
        keys.add(normalize_title(text))
        for m in _ACRONYM_PART.finditer(text):
            before = _acronym_prefix(text[:m.start()], m.group(1).upper())
            if before is not None:
                keys.add(normalize_title(f"{before} {m.group(0)[1:-1]} {text[m.end():]}"))
    keys |= {" ".join(_singular(w) for w in k.split()) for k in keys}
    return frozenset(k for k in keys if k)


_SLASHED = re.compile(r"[^\W\d_]+(?:/[^\W\d_]+)+")   # words, not dates (24/7, 1/2)
MAX_ALTERNATIVES = 16


def _alternatives(title: str) -> list[str]:
    """The title itself and, for words joined by slashes ('Reports/Dashboards'), the title
    with each of them in their place."""
    out = [title]
    for m in _SLASHED.finditer(title):
        out += [f"{t[:m.start()]}{word}{t[m.end():]}" for t in out[:1]
                for word in m.group(0).split("/")]
        if len(out) > MAX_ALTERNATIVES:
            break
    return out


def _singular(word: str) -> str:
    """An English plural's singular ('reports' -> 'report', 'inventories' -> 'inventory',
    'processes' -> 'process'); words that only end in s ('status', 'business') stay."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def _acronym_prefix(text: str, acronym: str) -> str | None:
    """``text`` without its trailing words whose initials spell ``acronym``, or None."""
    words = re.findall(r"[A-Za-z0-9&']+|[^A-Za-z0-9&'\s]+|\s+", text)
    letters = acronym.replace("&", "")
    i = len(words)
    while letters and i > 0:
        i -= 1
        w = words[i]
        if not w.strip() or not w[0].isalnum() or w.lower() in ("and", "of", "the", "&", "for"):
            continue
        if w[0].upper() != letters[-1]:
            return None
        letters = letters[:-1]
    return "".join(words[:i]) if not letters else None


def kind_of(titles: Iterable[str], filename: str | None) -> str:
    """Which of the project's own document kinds a deliverable is ("generic" if none)."""
    words = " | ".join(normalize_title(t) for t in titles)
    words += " | " + normalize_title(re.sub(r"[-_.]", " ", filename or ""))
    for kind, needles, _ in KIND_RULES:
        if any(re.search(rf"\b{re.escape(n)}\b", words) for n in needles):
            return kind
    return "generic"


def format_of(title: str, filename: str | None, kind: str, overrides: dict[str, str]) -> str:
    """docx, xlsx or pptx: the official file's type, else an override, else the title rule."""
    if filename:
        ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext in FORMAT_OF_EXTENSION:
            return FORMAT_OF_EXTENSION[ext]
    for key, fmt in overrides.items():
        if normalize_title(key) == normalize_title(title):
            return fmt
    for k, _, fmt in KIND_RULES:
        if k == kind:
            return fmt
    words = set(normalize_title(title).split())
    if words & set(_SPREADSHEET_WORDS):
        return "xlsx"
    if words & set(_DECK_WORDS):
        return "pptx"
    return "docx"


class _Groups:
    """Union-find over identity keys (title forms and template file names)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, k: str) -> str:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Entry:
    title: str
    filename: str | None
    output: bool


def _entries(playbook: Playbook) -> list[_Entry]:
    out = []
    for kt in playbook.key_tasks:
        out += [_Entry(d.title.plain, d.filename, True) for d in kt.outputs]
        out += [_Entry(d.title.plain, d.filename, False) for d in kt.inputs]
    return out


def _listed(playbook: Playbook) -> list[_Entry]:
    """The phase pages' documentation that names a template file (no key task's output
    or input: it only tells which file a title stands for)."""
    return [_Entry(d.name.plain, d.filename, False)
            for ph in playbook.phases for d in ph.documentation if is_template_file(d.filename)]


def identify(playbook: Playbook, formats: dict[str, str] | None = None) -> "Catalog":
    """Group every input and output of the playbook into deliverables; the phase pages'
    documentation lends a title its template file when no key-task page names one."""
    groups = _Groups()
    entries = _entries(playbook)
    listed = _listed(playbook)
    for e in entries + listed:
        keys = sorted(title_keys(e.title))
        if e.filename:
            keys.append("file:" + e.filename.strip().lower())
        for k in keys[1:]:
            groups.union(keys[0], k)
        if keys:
            groups.find(keys[0])
    members: dict[str, list[_Entry]] = {}
    for e in entries:
        keys = title_keys(e.title)
        if keys:
            members.setdefault(groups.find(min(keys)), []).append(e)
    files: dict[str, list[str]] = {}
    for e in listed:
        if keys := title_keys(e.title):
            files.setdefault(groups.find(min(keys)), []).append(e.filename)
    catalog = Catalog({}, groups)
    for root, ents in members.items():
        catalog.by_root[root] = _deliverable(root, ents, formats or {}, files.get(root, []))
    return catalog


def unknown_names(playbook: Playbook, names: Iterable[str]) -> list[str]:
    """The names (an engagement's formats and templates keys) that name no deliverable."""
    names = list(names)
    known = list(identify(playbook).by_root.values()) if names else []
    return [n for n in names if not any(d.named(n) for d in known)]


def _best_title(ents: list["_Entry"]) -> str:
    """The title that carries a file, then is most often an output, then most often used,
    then comes first."""
    score: dict[str, tuple[int, int, int, int]] = {}
    for i, e in enumerate(ents):
        s = score.get(e.title, (0, 0, 0, -i))
        score[e.title] = (s[0] | bool(e.filename), s[1] + e.output, s[2] + 1, s[3])
    return max(score, key=lambda t: score[t])


def _phase_title(d: Deliverable, ents: list["_Entry"]) -> str:
    """The deliverable's title in one phase ("" for the playbook-wide one).

    Pages of different phases may give one template different names (an initial
    schedule becomes an integrated one): a phase whose key tasks most often output
    another name gets it. Another spelling of the same name (an acronym, other
    case) keeps the playbook-wide title, so a deliverable reads alike in every phase.
    """
    own = title_keys(d.title)
    score: dict[str, tuple[int, int, int, int]] = {}
    for i, e in enumerate(ents):
        same = e.title == d.title or bool(title_keys(e.title) & own)
        title = d.title if same else e.title
        s = score.get(title, (0, same, 0, -i))
        score[title] = (s[0] + e.output, s[1], s[2] + 1, s[3])
    best = max(score, key=lambda t: score[t])
    return "" if best == d.title else best


def _deliverable(root: str, ents: list["_Entry"], formats: dict[str, str],
                 listed: list[str]) -> Deliverable:
    title = _best_title(ents)
    files = [e.filename for e in ents if is_template_file(e.filename)] or listed or \
        [e.filename for e in ents if e.filename]
    filename = max(set(files), key=lambda f: (files.count(f), f)) if files else None
    titles = tuple(sorted(set(e.title for e in ents)))
    kind = kind_of(titles, filename)
    chosen = {title: fmt for name, fmt in formats.items()
              if names_deliverable(name, titles, filename)}
    return Deliverable(root, title, titles, filename, kind,
                       format_of(title, filename, kind, chosen))


@dataclass
class Catalog:
    """The deliverables of a playbook, found by any of their titles."""

    by_root: dict[str, Deliverable]
    groups: _Groups

    def of(self, ref: DocRef) -> Deliverable | None:
        keys = title_keys(ref.title.plain)
        return self.by_root.get(self.groups.find(min(keys))) if keys else None


def plan_documents(playbook: Playbook, scope: Iterable[KeyTask],
                   formats: dict[str, str] | None = None,
                   has_template: Callable[[Deliverable], bool] | None = None) -> list[Document]:
    """One document per deliverable and phase for the key tasks in scope.

    Every output becomes a document; an input becomes one only when it maps to
    a template (``has_template(deliverable)``; default: it has an official file
    name or a kind of the project's own).
    """
    catalog = identify(playbook, formats)
    first_output: dict[str, int] = {}
    for kt in playbook.key_tasks:
        for ref in kt.outputs:
            d = catalog.of(ref)
            if d and d.key not in first_output:
                first_output[d.key] = kt.phase
    templated = has_template or (lambda d: bool(d.template_file) or d.kind != "generic")
    slots: dict[tuple[str, int], tuple[list[KeyTask], list[KeyTask]]] = {}
    names: dict[tuple[str, int], list[_Entry]] = {}
    by_key: dict[str, Deliverable] = {}
    for kt in sorted(scope, key=lambda k: k.sort_key):
        for refs, idx in ((kt.outputs, 0), (kt.inputs, 1)):
            for ref in refs:
                d = catalog.of(ref)
                if d is None:
                    continue
                by_key[d.key] = d
                lists = slots.setdefault((d.key, kt.phase), ([], []))
                if kt not in lists[idx]:
                    lists[idx].append(kt)
                names.setdefault((d.key, kt.phase), []).append(
                    _Entry(ref.title.plain, ref.filename, idx == 0))
    docs = []
    for (key, phase), (outs, ins) in slots.items():
        d = by_key[key]
        if not outs and not templated(d):
            continue
        first = first_output.get(key)
        label = (VERSION_1 if first == phase else UPDATED) if outs else INPUT
        docs.append(Document(d, phase, label, tuple(outs), tuple(ins),
                             phase_title=_phase_title(d, names[(key, phase)])))
    docs.sort(key=lambda doc: (doc.phase, doc.title.lower(), doc.deliverable.key))
    return docs


INPUT = "Input"


# -- a pack's scope and plan ----------------------------------------------------------

@dataclass
class PackPlan:
    """What a pack will hold: the template chain, the key tasks in scope, the documents."""

    chain: TemplateChain
    scope: list[KeyTask]
    docs: list[Document]


def make_plan(playbook: Playbook, engagement: Engagement, templates: Iterable[str | Path] = (),
              key_tasks: Iterable[str] = (), phases: Iterable[int] = ()) -> PackPlan:
    """Plan a pack (cheap and deterministic: no template is opened)."""
    from .templates import TemplateChain
    _check_names(playbook, engagement)
    base = Path(engagement.source).parent if engagement.source else None
    chain = TemplateChain.build(engagement.templates, templates, base)
    scope = select_scope(playbook, engagement, key_tasks, phases)
    return PackPlan(chain, scope, plan_pack(playbook, engagement, chain, scope))


def select_scope(playbook: Playbook, engagement: Engagement | None,
                 key_tasks: Iterable[str] = (), phases: Iterable[int] = ()) -> list[KeyTask]:
    """Key tasks in scope: the union of the flags, else the engagement's scope, else all."""
    ids, nums = list(key_tasks), list(phases)
    _check_phases(playbook, nums)
    if not ids and not nums and engagement is not None and engagement.scope:
        ids, nums = list(engagement.scope.key_tasks), list(engagement.scope.phases)
    known = {kt.id for kt in playbook.key_tasks}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise M3DocsError(f"key task {', '.join(unknown)} is not in the playbook "
                          f"({playbook.root or 'bundled example'})")
    if not ids and not nums:
        return list(playbook.key_tasks)
    return [kt for kt in playbook.key_tasks if kt.id in ids or kt.phase in nums]


def _check_names(playbook: Playbook, engagement: Engagement) -> None:
    """Every title the engagement gives a format or a template must name a deliverable:
    a misspelt one would otherwise be ignored without a word."""
    diags = []
    for section in ("formats", "templates"):
        for name in unknown_names(playbook, getattr(engagement, section)):
            line, col = engagement.where.get(f"{section}:{name}", (0, 0))
            diags.append(error(engagement.source or "engagement", line, col,
                               f"{section}: {name!r} names no deliverable of the playbook "
                               f"(a key task's input or output title, or its template file)"))
    if diags:
        raise M3DocsError(diags)


def _check_phases(playbook: Playbook, phases: list[int]) -> None:
    """Phases asked for by number must have key tasks (a typo would pack nothing)."""
    have = sorted({kt.phase for kt in playbook.key_tasks})
    missing = [str(n) for n in phases if n not in have]
    if missing:
        raise M3DocsError(f"phase {', '.join(missing)} has no key tasks in the playbook "
                          f"({playbook.root or 'bundled example'}: phases "
                          f"{', '.join(map(str, have))})")


def plan_pack(playbook: Playbook, engagement: Engagement, chain: TemplateChain,
              scope: list[KeyTask]) -> list[Document]:
    """The documents of a pack, each with its unique relative path."""
    docs = plan_documents(playbook, scope, engagement.formats, chain.has_template)
    book = NameBook()
    book.taken.update(name.lower() for name in RESERVED_NAMES)
    out = []
    ids = tuple(kt.id for kt in scope)
    for doc in docs:
        folder = folder_name(doc.phase, playbook.phase(doc.phase).name)
        ext = _extension(doc, chain)
        out.append(replace(doc, path=book.claim(folder, safe_stem(doc.title), ext), scope=ids))
    return out


def _extension(doc: Document, chain: TemplateChain) -> str:
    """The file extension: the template's (an official .xlsm stays .xlsm)."""
    for choice in chain.candidates(doc.deliverable):
        return choice.path.suffix.lstrip(".").lower()
    return doc.format
