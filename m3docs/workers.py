"""Rendering a pack's documents: in this process, in worker processes that hold the plan,
or on any concurrent.futures.Executor; documents in key-task order, the work split so that
the workers finish together."""
from __future__ import annotations

import multiprocessing
import re
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Iterator

from .engagement import Engagement
from .playbook.model import Playbook
from .plan import Document
from .renderers import RenderResult, preload, render_document
from .templates import TemplateChain, TemplateChoice


@dataclass
class Outcome:
    """What rendering one document gave (computed in a worker process)."""

    index: int
    data: bytes
    template: str
    official: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)



_STATE: dict = {}
TAIL_SHARE = 0.15  # of the estimated work, handed out last one document at a time


def _init_worker(playbook: Playbook, engagement: Engagement, chain: TemplateChain,
                 docs: list[Document] | None = None) -> None:
    _STATE.update(playbook=playbook, engagement=engagement, chain=chain, docs=docs)


def _render_index(index: int) -> Outcome:
    """Render document ``index`` of the plan the worker holds (inherited or sent once)."""
    return _render_one((index, _STATE["docs"][index]))


def render_with_fallback(doc: Document, chain: TemplateChain, engagement: Engagement,
                         playbook: Playbook) -> tuple[RenderResult, TemplateChoice, list[str]]:
    """Render one document on the first template of the chain that opens; an official
    template that opens but cannot be filled falls back to the project's own (said in the
    problems). Shared by packs and ``m3docs.render``."""
    template, choice, problems = chain.load(doc.deliverable)
    try:
        result = render_document(doc, template, engagement, playbook, official=choice.official)
    except Exception as exc:  # a template that loads but cannot be filled
        if not choice.official:
            raise
        problems.append(f"{choice.path}: cannot fill ({exc}); used the project's own template")
        template, choice, more = chain.own_only().load(doc.deliverable)
        problems += more
        result = render_document(doc, template, engagement, playbook)
    return result, choice, problems


def _render_one(job: tuple[int, Document]) -> Outcome:
    index, doc = job
    result, choice, problems = render_with_fallback(doc, _STATE["chain"], _STATE["engagement"],
                                                    _STATE["playbook"])
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
    ordered = [docs[i] for i in order]
    runs = _runs(ordered, jobs * 6, [_cost(d) + _template_cost(d, chain) for d in ordered])
    futures = [pool.submit(_render_run, [order[k] for k in run]) for run in runs]
    # Taken as they finish: a run done early is written while a longer one still renders.
    return (outcome for done in as_completed(futures) for outcome in done.result()), pool


def _render_run(indices: list[int]) -> list[Outcome]:
    return [_render_index(i) for i in indices]


def _runs(docs: list[Document], count: int, costs: list[int] | None = None) -> list[range]:
    """Split documents (in render order) into runs of neighbours, biggest first, the
    smallest runs (about TAIL_SHARE of the work) as single documents at the end.

    A document's key tasks all belong to its phase, and a worker renders a key task's
    section once and copies it: so runs never mix phases, and a phase is cut only
    where it holds more than ``1/count`` of the work.
    """
    costs = costs if costs is not None else [_cost(d) for d in docs]
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


BODY_BYTES_PER_UNIT = 3700   # of a template's body XML, as much work as one unit of content
_BODY = re.compile(r"word/document\.xml|xl/worksheets/[^/]+\.xml|ppt/slides/[^/]+\.xml")


def _template_cost(doc: Document, chain: TemplateChain) -> int:
    """The template's share of a document's work, by the size of its body XML (a 10 MB
    workbook is rendered and compressed again for every document: measured, about 21 ms per
    MB against 0.08 ms per unit of content, so one unit per 3.7 KB)."""
    try:
        template, _, _ = chain.load(doc.deliverable)
    except Exception:   # reported by the worker that renders it
        return 0
    return sum(raw.size for name, raw in template.raw.items()
               if _BODY.fullmatch(name)) // BODY_BYTES_PER_UNIT


def _drain(results: Iterator[Outcome], pool: ProcessPoolExecutor) -> Iterator[Outcome]:
    try:
        yield from results
    finally:
        pool.shutdown(cancel_futures=True)
