"""The public entry points that tie the steps together."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .content import Context, document_context, key_task_context
from .engagement import Engagement
from .engine import compiled
from .engine.core import TemplateProblems
from .errors import Diagnostic, M3DocsError, error
from .ooxml.package import PackageError, Template
from .ooxml.xml import UnsafeXML
from .manifest import document_entry, file_type, sha256
from .paths import atomic_write
from .plan import plan_pack, select_scope
from .playbook.model import Playbook
from .plan import FORMAT_OF_EXTENSION, Document, title_keys
from .templates import TemplateChain, open_template
from .workers import render_with_fallback


def find_document(playbook: Playbook, engagement: Engagement, title: str,
                  chain: TemplateChain | None = None) -> Document:
    """The planned document whose deliverable goes by ``title`` (first phase it appears in)."""
    chain = chain or TemplateChain.build(engagement.templates)
    wanted = title_keys(title)
    scope = select_scope(playbook, engagement)
    for doc in plan_pack(playbook, engagement, chain, scope):
        if any(title_keys(t) & wanted for t in doc.deliverable.titles):
            return doc
    raise M3DocsError(f"no deliverable titled {title!r} in the key tasks in scope")


def render(document: Document | str, playbook: Playbook, engagement: Engagement,
           out_path: str | Path, templates: Iterable[str | Path] = ()) -> dict:
    """Render one document to ``out_path``; returns its manifest entry."""
    base = Path(engagement.source).parent if engagement.source else None
    chain = TemplateChain.build(engagement.templates, templates, base)
    doc = find_document(playbook, engagement, document, chain) if isinstance(document, str) \
        else document
    result, choice, problems = render_with_fallback(doc, chain, engagement, playbook)
    atomic_write(Path(out_path).expanduser(), result.data)
    entry = document_entry(doc, choice.name, choice.official, sha256(result.data))
    return entry | {"path": str(out_path), "format": file_type(choice.path),
                    "warnings": problems + result.warnings}


@dataclass(frozen=True)
class TemplateCheck:
    """What ``check_template`` found: the context names a template uses, and its problems."""

    names: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _open_tagged(template: str | Path) -> tuple[Template, str]:
    path = Path(template).expanduser()
    fmt = FORMAT_OF_EXTENSION.get(path.suffix.lower())
    if fmt is None:
        raise M3DocsError([error(str(path), 0, 0, "not a Word, Excel or PowerPoint file "
                                 "(.docx, .xlsx, .pptx and their macro and template kinds)")])
    try:
        return open_template(path), fmt
    except OSError as exc:
        raise M3DocsError([error(str(path), 0, 0, f"cannot read: {exc.strerror or exc}")])
    except (PackageError, UnsafeXML) as exc:
        raise M3DocsError([error(str(path), 0, 0, str(exc).removeprefix(f"{path}: "))])


def check_template(template: str | Path) -> TemplateCheck:
    """Every error of a tagged template, and the context names it uses (nothing rendered)."""
    tpl, fmt = _open_tagged(template)
    try:
        done = compiled(tpl, fmt)
    except TemplateProblems as exc:
        return TemplateCheck((), tuple(exc.diagnostics))
    return TemplateCheck(tuple(sorted(done.names)), ())


def render_template(template: str | Path, context: Mapping[str, Any],
                    out: str | Path) -> list[str]:
    """Fill a tagged template with ``context`` (any mapping) and write ``out``; returns the
    warnings (undefined names, text cleaned). Errors raise ``M3DocsError`` with every
    diagnostic, and nothing is written."""
    tpl, fmt = _open_tagged(template)
    try:
        data, warnings = compiled(tpl, fmt).render(context)
    except TemplateProblems as exc:
        raise M3DocsError(exc.diagnostics)
    atomic_write(Path(out).expanduser(), data)
    return warnings


def build_context(playbook: Playbook, engagement: Engagement, *, document: str | None = None,
                  key_tasks: Iterable[str] = (), phases: Iterable[int] = (),
                  templates: Iterable[str | Path] = ()) -> Context:
    """The context a template sees: the planned document titled ``document``, else a
    render for ``key_tasks`` and/or ``phases`` (see m3docs.content)."""
    if document is not None:
        base = Path(engagement.source).parent if engagement.source else None
        chain = TemplateChain.build(engagement.templates, templates, base)
        return document_context(find_document(playbook, engagement, document, chain),
                                playbook, engagement)
    return key_task_context(playbook, engagement, key_tasks, phases)


# -- m3docs tag: the tags an official template needs, written out --------------------------
FORMAT_NAMES = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}


def tag_template(template: str | Path, out: str | Path, playbook: Playbook | None = None,
                 placeholders: Iterable[str] = ()) -> list[str]:
    """Write the tagged template m3docs infers for an official template (what it fills it
    through): open ``out`` in Word, correct a guess, and name the copy in the engagement's
    ``templates:``. ``placeholders`` are extra blanks (an engagement's ``placeholders:``
    keys). Returns the notes, one line per inference. A template that already has tags, or
    a format without an annotator, raises ``M3DocsError``; nothing is written then."""
    from .annotate import annotator_for
    tpl, fmt = _open_tagged(template)
    name = str(Path(template).expanduser())
    try:
        annotator = annotator_for(fmt)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("m3docs.annotate."):
            raise
        raise M3DocsError([error(name, 0, 0, f"m3docs cannot infer the tags of "
                                 f"{FORMAT_NAMES.get(fmt, fmt)} templates yet")])
    if _already_tagged(tpl, fmt):
        raise M3DocsError([error(name, 0, 0, "already a tagged template (it holds tags): "
                                 "m3docs fills it as it is; nothing to infer")])
    if playbook is None:
        from .playbook.loader import load_playbook
        playbook = load_playbook()
    try:
        data, notes = annotator.annotate(tpl, playbook, tuple(placeholders))
    except (PackageError, UnsafeXML) as exc:
        raise M3DocsError([error(name, 0, 0, str(exc).removeprefix(f"{tpl.path}: "))])
    atomic_write(Path(out).expanduser(), data)
    return notes


def _already_tagged(template: Template, fmt: str) -> bool:
    if fmt == "docx":
        from .annotate.docx import has_tags
        return has_tags(template)
    from .renderers import tag_problems
    return tag_problems(template, fmt)[0]
