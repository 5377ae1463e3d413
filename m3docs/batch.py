"""Many packs at once: one per engagement, spread over any concurrent.futures.Executor.

Each engagement is one task: a worker plans and renders the whole pack and
returns its bytes; this process writes every pack (so the files land where the
caller asked, even when the workers run on other machines) with the same code
as ``build_pack``, which makes the bytes identical to single runs. Works with a
ProcessPoolExecutor (the default), Dask's ``Client.get_executor()``, Ray's
executor, or any other Executor whose workers can import m3docs.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .engagement import Engagement, load_engagement
from .pack import PackReport, tracker_bytes, write_pack
from .plan import make_plan
from .workers import Outcome, render_all
from .paths import safe_stem
from .playbook.model import Playbook


@dataclass
class RenderedPack:
    """Everything a worker made for one engagement (written by the caller)."""

    outcomes: list[Outcome]
    tracker: bytes
    seconds: float
    tracker_warnings: list[str]


def pack_name(engagement: Engagement) -> str:
    """The folder name of an engagement's pack: agency and program."""
    parts = [p.strip() for p in (engagement.agency, engagement.program) if p and p.strip()]
    return safe_stem(" - ".join(parts) or "engagement")


def pack_folders(engagements: Sequence[Engagement]) -> list[str]:
    """One unique, file-system-safe folder name per engagement, in order."""
    taken: set[str] = set()
    names = []
    for engagement in engagements:
        stem, n = pack_name(engagement), 1
        name = stem
        while name.lower() in taken:
            n += 1
            name = f"{stem} ({n})"
        taken.add(name.lower())
        names.append(name)
    return names


def render_pack(playbook: Playbook, engagement: Engagement,
                templates: Sequence[str] = ()) -> RenderedPack:
    """Plan and render one engagement's pack in this process (a worker task)."""
    start = time.perf_counter()
    plan = make_plan(playbook, engagement, templates)
    outcomes = list(render_all(plan.docs, playbook, engagement, plan.chain))
    warnings: list[str] = []
    tracker = tracker_bytes(plan, playbook, engagement, warnings)
    return RenderedPack(outcomes, tracker, time.perf_counter() - start, warnings)


def generate_packs(engagements: Iterable[Engagement | str | os.PathLike[str]],
                   out: str | Path, *, playbook: Playbook | None = None,
                   templates: Iterable[str | Path] = (), jobs: int | None = None,
                   executor: Executor | None = None, force: bool = False,
                   pdf: bool = False) -> list[PackReport]:
    """Write one pack per engagement into ``out/<agency - program>/``; return their reports.

    ``engagements`` are loaded engagements or engagement files (read and checked
    against the playbook, as ``load_engagement`` does). ``executor`` may be any
    concurrent.futures.Executor; without one, ``jobs`` processes are used (default:
    one per CPU; ``jobs=1`` works in this process). ``pdf`` also writes a PDF of
    every document with one LibreOffice process.
    """
    if pdf:  # before any work
        from .pdf import require_soffice
        require_soffice()
    if playbook is None:
        from .playbook.loader import load_playbook
        playbook = load_playbook()
    engagements = [e if isinstance(e, Engagement) else load_engagement(e, playbook)
                   for e in engagements]
    folders = [str(Path(f).resolve()) for f in templates]
    out = Path(out).expanduser()
    targets = [out / name for name in pack_folders(engagements)]
    plans = [make_plan(playbook, e, folders) for e in engagements]
    reports = []
    rendered_packs = _render_packs(playbook, engagements, folders, jobs, executor)
    for target, plan, engagement, rendered in zip(targets, plans, engagements, rendered_packs):
        report = write_pack(target, plan, playbook, engagement, rendered.outcomes,
                            tracker=rendered.tracker,
                            tracker_warnings=rendered.tracker_warnings, force=force)
        report.seconds = rendered.seconds
        reports.append(report)
    if pdf:
        convert_packs(reports)
    return reports


def _render_packs(playbook: Playbook, engagements: list[Engagement], folders: list[str],
                  jobs: int | None, executor: Executor | None) -> Iterator[RenderedPack]:
    """Render every pack on the executor, yielding them in order as they are done."""
    workers = jobs or os.cpu_count() or 1
    if executor is None and (workers <= 1 or len(engagements) <= 1):
        for engagement in engagements:
            yield render_pack(playbook, engagement, folders)
        return
    own = executor is None
    pool = executor or ProcessPoolExecutor(min(workers, len(engagements)))
    try:
        futures = [pool.submit(render_pack, playbook, e, folders) for e in engagements]
        for future in futures:
            yield future.result()
    finally:
        if own:
            pool.shutdown(cancel_futures=True)


def convert_packs(reports: Sequence[PackReport]) -> None:
    """PDFs of every document of every pack, with one LibreOffice process for all of them."""
    from .pdf import convert, note_pdfs, pack_documents
    files = [(r, rel) for r in reports for rel in pack_documents(r.out, r)]
    convert([r.out / rel for r, rel in files])
    for report in reports:
        note_pdfs(report, [rel for r, rel in files if r is report])
