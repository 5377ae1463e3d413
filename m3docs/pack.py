"""A pack: every document an engagement's key tasks call for, written safely.

Scope -> plan -> (in parallel) template + render -> atomic writes that never
replace a document the user edited -> tracker -> manifest.
"""
from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from . import manifest as mf
from .engagement import Engagement, unlisted_roles
from .errors import Diagnostic, M3DocsError
from .manifest import MANIFEST, TRACKER, file_type, sha256  # noqa: F401  (public names)
from .paths import TMP_PREFIX as _TMP_PREFIX, atomic_write
from .playbook.model import Playbook
from .plan import PackPlan, make_plan, plan_pack, select_scope  # noqa: F401  (public names)
from .tracker import build_tracker, without_documents
from .workers import (TAIL_SHARE, Outcome, _cost, _runs, render_all,  # noqa: F401
                      render_order)


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


# -- safe writing --------------------------------------------------------------------

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
    writer = _Writer(out, mf.read_hashes(out), force, report)
    entries: dict[int, dict] = {}
    for done, outcome in enumerate(outcomes, 1):
        doc = docs[outcome.index]
        digest = writer.write(doc.path, outcome.data)
        entries[outcome.index] = mf.document_entry(doc, outcome.template, outcome.official, digest)
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
    mf.save(out, {"m3docs_version": __version__, "engagement": engagement.to_dict(),
                  "playbook": {"key_tasks": [kt.id for kt in plan.scope]},
                  "documents": report.documents, "tracker": entry})
    return report


def tracker_bytes(plan: PackPlan, playbook: Playbook, engagement: Engagement,
                  warnings: list[str] | None = None) -> bytes:
    """The pack's deliverables tracker workbook (its warnings appended to ``warnings``)."""
    return build_tracker(plan.docs, playbook, engagement, {d.path: d.path for d in plan.docs},
                         warnings, scope=plan.scope)
