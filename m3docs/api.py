"""The public entry points that tie the steps together."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .engagement import Engagement
from .errors import M3DocsError
from .pack import atomic_write, file_type, plan_pack, select_scope, sha256
from .playbook.model import Playbook
from .plan import Document, title_keys
from .renderers import render_document
from .templates import TemplateChain


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
    template, choice, problems = chain.load(doc.deliverable)
    result = render_document(doc, template, engagement, playbook, official=choice.official)
    atomic_write(Path(out_path).expanduser(), result.data)
    return {"path": str(out_path), "title": doc.title,
            "format": file_type(choice.path),
            "template": choice.name, "official": choice.official, "phase": doc.phase,
            "outputs_of": [k.id for k in doc.outputs_of],
            "inputs_of": [k.id for k in doc.inputs_of], "sha256": sha256(result.data),
            "warnings": problems + result.warnings}
