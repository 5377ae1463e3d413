"""A pack: every document an engagement's key tasks call for, written safely.

Scope -> plan -> (in parallel) template + render -> atomic writes that never
replace a document the user edited -> tracker -> manifest.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from . import __version__
from .engagement import Engagement, role_key
from .errors import Diagnostic, M3DocsError, error, warning
from .paths import NameBook, folder_name, safe_stem
from .playbook.model import KeyTask, Playbook
from .plan import Document, plan_documents, unknown_names
from .renderers import preload, render_document
from .templates import TemplateChain
from .tracker import build_tracker, without_documents

MANIFEST = "manifest.json"
TRACKER = "Deliverables Tracker.xlsx"
_TMP_PREFIX = ".m3docs-tmp-"


@dataclass
class Outcome:
    """What rendering one document gave (computed in a worker process)."""

    index: int
    data: bytes
    template: str
    official: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PackReport:
    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # warnings about an input file at a place (FILE:LINE:COL: warning: ...)
    notes: list[Diagnostic] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    pdfs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.written)} written", f"{len(self.unchanged)} unchanged",
                 f"{len(self.kept)} kept (changed by hand)"]
        if self.pdfs:
            parts.append(f"{len(self.pdfs)} PDFs")
        official = sum(1 for d in self.documents if d.get("official"))
        parts.append(f"{official} of {len(self.documents)} documents on official templates")
        return f"{self.out}: {', '.join(parts)} in {self.seconds:.1f}s"


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


def unlisted_roles(playbook: Playbook, engagement: Engagement) -> list[Diagnostic]:
    """Roles under ``people`` that look like a misspelt stakeholder role of the playbook
    (a role the playbook lacks altogether may be meant for sign-off only: no warning)."""
    roles = {role_key(s.role.plain): s.role.plain
             for kt in playbook.key_tasks for s in kt.stakeholders}
    out = []
    for role in engagement.people:
        near = difflib.get_close_matches(role_key(role), list(roles), n=1, cutoff=0.85)
        if role_key(role) in roles or not near:
            continue
        out.append(warning(engagement.source or "engagement",
                           *engagement.where.get(f"people:{role}", (0, 0)),
                           f"people: {role!r} is no stakeholder role of the playbook; did you "
                           f"mean {roles[near[0]]!r}? (as written, its people only sign as "
                           f"approvers)"))
    return out


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
    book.taken.update({MANIFEST.lower(), TRACKER.lower()})
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


# -- rendering in workers ----------------------------------------------------------

_STATE: dict = {}
TAIL_SHARE = 0.15  # of the estimated work, handed out last one document at a time


def _init_worker(playbook: Playbook, engagement: Engagement, chain: TemplateChain,
                 docs: list[Document] | None = None) -> None:
    _STATE.update(playbook=playbook, engagement=engagement, chain=chain, docs=docs)


def _render_index(index: int) -> Outcome:
    """Render document ``index`` of the plan the worker holds (inherited or sent once)."""
    return _render_one((index, _STATE["docs"][index]))


def _render_one(job: tuple[int, Document]) -> Outcome:
    index, doc = job
    template, choice, problems = _STATE["chain"].load(doc.deliverable)
    try:
        result = render_document(doc, template, _STATE["engagement"], _STATE["playbook"],
                                 official=choice.official)
    except Exception as exc:  # a template that loads but cannot be filled
        if not choice.official:
            raise
        problems.append(f"{choice.path}: cannot fill ({exc}); used the project's own template")
        template, choice, more = _STATE["chain"].own_only().load(doc.deliverable)
        problems += more
        result = render_document(doc, template, _STATE["engagement"], _STATE["playbook"])
    return Outcome(index, result.data, choice.name, choice.official, problems, result.warnings)


def _render_chunk(context: tuple[Playbook, Engagement, TemplateChain],
                  chunk: list[tuple[int, Document]]) -> list[Outcome]:
    """Render a run of documents on any executor (the context travels with the work)."""
    _init_worker(*context)
    return [_render_one(job) for job in chunk]


def render_all(docs: list[Document], playbook: Playbook, engagement: Engagement,
               chain: TemplateChain, jobs: int = 1,
               executor: Executor | None = None) -> Iterator[Outcome]:
    """Render every document in this process, in ``jobs`` processes, or on ``executor``
    (any concurrent.futures.Executor: its workers need no initializer).

    Documents are rendered in key-task order (see render_order); parallel work is
    submitted at once (the caller can do other work meanwhile). Each Outcome carries
    its document's index, and they may arrive in any order.
    """
    order = render_order(docs)
    if executor is None and jobs <= 1:
        _init_worker(playbook, engagement, chain)
        return (_render_one((i, docs[i])) for i in order)
    if executor is not None:
        size = -(-len(order) // (max(jobs, 2) * 4)) or 1
        chunks = [[(i, docs[i]) for i in order[k:k + size]] for k in range(0, len(order), size)]
        context = (playbook, engagement, chain)
        results = executor.map(_render_chunk, [context] * len(chunks), chunks)
        return (outcome for outcomes in results for outcome in outcomes)
    return _drain(*_local_pool(docs, order, playbook, engagement, chain, jobs))


def render_order(docs: list[Document]) -> list[int]:
    """Document indices by phase, then by their first key task: documents that share key
    tasks come together, so a key task's section, built once, is reused from a small cache
    (and a worker given a run of them builds it alone)."""
    def key(i: int) -> tuple:
        d = docs[i]
        return d.phase, min((kt.sort_key for kt in d.key_tasks), default=()), i
    return sorted(range(len(docs)), key=key)


def _local_pool(docs: list[Document], order: list[int], playbook: Playbook,
                engagement: Engagement, chain: TemplateChain,
                jobs: int) -> tuple[Iterator[Outcome], ProcessPoolExecutor]:
    """Worker processes that hold the plan: forked with it on Linux, else sent it once;
    each task is then a run of document indices (see _runs)."""
    if sys.platform.startswith("linux"):
        preload({d.format for d in docs}, official=chain.has_user_templates)
        _init_worker(playbook, engagement, chain, docs)
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
    else:  # pragma: no cover - Windows and macOS spawn their workers
        pool = ProcessPoolExecutor(jobs, initializer=_init_worker,
                                   initargs=(playbook, engagement, chain, docs))
    runs = _runs([docs[i] for i in order], jobs * 6)
    futures = [pool.submit(_render_run, [order[k] for k in run]) for run in runs]
    # Taken as they finish: a run done early is written while a longer one still renders.
    return (outcome for done in as_completed(futures) for outcome in done.result()), pool


def _render_run(indices: list[int]) -> list[Outcome]:
    return [_render_index(i) for i in indices]


def _runs(docs: list[Document], count: int) -> list[range]:
    """Split documents (in render order) into runs of neighbours, biggest first, the
    smallest runs (about TAIL_SHARE of the work) as single documents at the end.

    A document's key tasks all belong to its phase, and a worker renders a key task's
    section once and copies it: so runs never mix phases, and a phase is cut only
    where it holds more than ``1/count`` of the work.
    """
    costs = [_cost(d) for d in docs]
    limit = sum(costs) / max(count, 1)
    runs: list[range] = []
    start, acc = 0, 0
    for i, cost in enumerate(costs):
        if i > start and (docs[i].phase != docs[start].phase or acc + cost > limit):
            runs.append(range(start, i))
            start, acc = i, 0
        acc += cost
    runs.append(range(start, len(docs)))
    runs = sorted((r for r in runs if len(r)), key=lambda r: -sum(costs[i] for i in r))
    keep = len(runs) - _tail(runs, costs)
    singles = sorted(i for r in runs[keep:] for i in r)
    return runs[:keep] + [range(i, i + 1) for i in singles]


def _tail(runs: list[range], costs: list[int]) -> int:
    """How many of the last runs (the smallest) to hand out one document at a time: the
    estimate of a document's cost is rough, so the workers even out on single documents."""
    share, count = sum(costs) * TAIL_SHARE, 0
    while count < len(runs) and (share := share - sum(costs[i] for i in runs[-1 - count])) >= 0:
        count += 1
    return count


def _cost(doc: Document) -> int:
    """A rough measure of a document's rendering work: the content it carries."""
    return sum(len(kt.activities) + len(kt.stakeholders) + len(kt.inputs) + len(kt.outputs) + 8
               for kt in doc.key_tasks)


def _drain(results: Iterator[Outcome], pool: ProcessPoolExecutor) -> Iterator[Outcome]:
    try:
        yield from results
    finally:
        pool.shutdown(cancel_futures=True)


# -- safe writing --------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write to a temporary name in the same folder, then rename over the target.

    The rename alone means no reader ever sees a half-written file, even if the
    process dies; ``durable`` also flushes the data to disk before the rename
    (against power loss). Pack documents, which can always be regenerated, skip
    that flush; the manifest keeps it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise M3DocsError(f"{path}: cannot write: {exc.strerror or exc}")


def read_manifest(out: Path) -> dict[str, str]:
    """path -> sha256 of what m3docs last wrote ({} when there is no readable manifest)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        entries = data.get("documents", []) + [data.get("tracker") or {}]
        return {e["path"]: e["sha256"] for e in entries if "path" in e and "sha256" in e}
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return {}


def _clean_temporaries(out: Path) -> None:
    if out.is_dir():
        for tmp in out.rglob(_TMP_PREFIX + "*"):
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()


@dataclass
class _Writer:
    """Decides per file: write, leave unchanged, or keep the user's edit."""

    out: Path
    previous: dict[str, str]
    force: bool
    report: PackReport

    def __post_init__(self) -> None:
        self.root = self.out.resolve()
        self.folders: dict[Path, bool] = {}  # folder -> inside the output folder

    def inside(self, folder: Path) -> bool:
        """Whether ``folder`` (resolved once per folder: a pack has a few) is in the output."""
        if folder not in self.folders:
            real = folder.resolve()
            self.folders[folder] = real == self.root or self.root in real.parents
        return self.folders[folder]

    def write(self, rel: str, data: bytes) -> str:
        target = self.out / rel
        if not self.inside(target.parent):
            raise M3DocsError(f"{rel}: refusing to write outside {self.out}")
        new = sha256(data)
        if target.is_file() and not target.is_symlink():
            current = sha256(target.read_bytes())
            if current == new:
                self.report.unchanged.append(rel)
                return new
            if current != self.previous.get(rel) and not self.force:
                self.report.kept.append(rel)
                return new
        elif target.exists() or target.is_symlink():
            if not self.force:
                self.report.kept.append(rel)
                return new
            try:
                target.unlink()
            except OSError as exc:
                raise M3DocsError(f"{target}: cannot replace: {exc.strerror or exc}")
        atomic_write(target, data, durable=False)
        self.report.written.append(rel)
        return new


def file_type(path: str | Path) -> str:
    """A file's own type, as the manifest gives it: its extension (an official macro workbook
    is ``xlsm``, a Word template ``dotx``)."""
    return PurePosixPath(str(path)).suffix.lstrip(".").lower()


def _doc_entry(doc: Document, outcome: Outcome, digest: str) -> dict:
    return {"path": doc.path, "title": doc.title, "titles": list(doc.deliverable.titles),
            "format": file_type(doc.path), "kind": doc.deliverable.kind,
            "template": outcome.template,
            "official": outcome.official, "phase": doc.phase, "version": doc.version_label,
            "outputs_of": [k.id for k in doc.outputs_of], "inputs_of": [k.id for k in doc.inputs_of],
            "sha256": digest}


@dataclass
class PackPlan:
    """What a pack will hold: the template chain, the key tasks in scope, the documents."""

    chain: TemplateChain
    scope: list[KeyTask]
    docs: list[Document]


def make_plan(playbook: Playbook, engagement: Engagement, templates: Iterable[str | Path] = (),
              key_tasks: Iterable[str] = (), phases: Iterable[int] = ()) -> PackPlan:
    """Plan a pack (cheap and deterministic: no template is opened)."""
    _check_names(playbook, engagement)
    base = Path(engagement.source).parent if engagement.source else None
    chain = TemplateChain.build(engagement.templates, templates, base)
    scope = select_scope(playbook, engagement, key_tasks, phases)
    return PackPlan(chain, scope, plan_pack(playbook, engagement, chain, scope))


def build_pack(playbook: Playbook, engagement: Engagement, out: str | Path, *,
               templates: Iterable[str | Path] = (), key_tasks: Iterable[str] = (),
               phases: Iterable[int] = (), jobs: int = 1, force: bool = False,
               executor: Executor | None = None,
               progress: Callable[[int, int, str], None] | None = None) -> PackReport:
    """Write a starter deliverable pack into ``out``; see the README for the layout."""
    start = time.perf_counter()
    plan = make_plan(playbook, engagement, templates, key_tasks, phases)
    outcomes = render_all(plan.docs, playbook, engagement, plan.chain, jobs, executor)
    parallel = executor is not None or jobs > 1
    # While workers render, this process builds the tracker.
    tracker_warnings: list[str] = []
    tracker = tracker_bytes(plan, playbook, engagement, tracker_warnings) \
        if parallel else None
    report = write_pack(out, plan, playbook, engagement, outcomes, tracker=tracker,
                        tracker_warnings=tracker_warnings, force=force, progress=progress)
    report.seconds = time.perf_counter() - start
    return report


def write_pack(out: str | Path, plan: PackPlan, playbook: Playbook, engagement: Engagement,
               outcomes: Iterable[Outcome], *, tracker: bytes | None = None,
               tracker_warnings: Iterable[str] = (), force: bool = False,
               progress: Callable[[int, int, str], None] | None = None) -> PackReport:
    """Write rendered documents as they arrive, then the tracker and the manifest."""
    out = Path(out).expanduser()
    docs = plan.docs
    try:
        out.mkdir(parents=True, exist_ok=True)
        _clean_temporaries(out)
    except OSError as exc:
        raise M3DocsError(f"{out}: cannot create output folder: {exc.strerror or exc}")
    report = PackReport(out)
    writer = _Writer(out, read_manifest(out), force, report)
    entries: dict[int, dict] = {}
    for done, outcome in enumerate(outcomes, 1):
        doc = docs[outcome.index]
        digest = writer.write(doc.path, outcome.data)
        entries[outcome.index] = _doc_entry(doc, outcome, digest)
        report.fallbacks += [f"{doc.path}: {p}" for p in outcome.problems]
        report.warnings += [f"{doc.path}: {w}" for w in outcome.warnings]
        if progress:
            progress(done, len(docs), doc.path)
    report.documents = [entries[i] for i in sorted(entries)]
    for names in (report.written, report.unchanged, report.kept, report.fallbacks,
                  report.warnings):
        names.sort()
    tracker_warnings = list(tracker_warnings)
    if tracker is None:
        tracker = tracker_bytes(plan, playbook, engagement, tracker_warnings)
    report.warnings += [f"{TRACKER}: {w}" for w in tracker_warnings]
    report.warnings += [f"key task {kt.id} {kt.name}: no document (it lists no output and no "
                        f"input with a template); the tracker lists it"
                        for kt in without_documents(plan.scope, docs)]
    report.notes += list(engagement.warnings) + unlisted_roles(playbook, engagement)
    report.warnings += plan.chain.unmatched_folders(d.deliverable for d in docs)
    entry = {"path": TRACKER, "sha256": writer.write(TRACKER, tracker)}
    manifest = {"m3docs_version": __version__, "engagement": engagement.to_dict(),
                "playbook": {"key_tasks": [kt.id for kt in plan.scope]},
                "documents": report.documents, "tracker": entry}
    # A lone surrogate (from an escape in a YAML file) stays a JSON \uXXXX escape.
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write(out / MANIFEST, text.encode("utf-8", "backslashreplace"))
    return report


def tracker_bytes(plan: PackPlan, playbook: Playbook, engagement: Engagement,
                  warnings: list[str] | None = None) -> bytes:
    """The pack's deliverables tracker workbook (its warnings appended to ``warnings``)."""
    return build_tracker(plan.docs, playbook, engagement, {d.path: d.path for d in plan.docs},
                         warnings, scope=plan.scope)
