"""m3docs: turn the M3 playbook into prefilled Word, Excel and PowerPoint deliverables.

The flow: playbook -> engagement -> document plan -> template chain -> renderer -> pack.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .engagement import Engagement, load_engagement  # noqa: E402
from .errors import Diagnostic, M3DocsError  # noqa: E402
from .playbook.loader import check_playbook, load_playbook  # noqa: E402
from .playbook.model import (Activity, DocRef, KeyTask, Party, Phase, Playbook,  # noqa: E402
                             Stakeholder)
from .pack import PackReport, build_pack  # noqa: E402
from .api import render  # noqa: E402
from .diff import DocumentDiff, PackDiff, diff_packs  # noqa: E402
from .preview import IndexReport, write_index  # noqa: E402


def generate_packs(*args, **kwargs):
    """One pack per engagement, on any concurrent.futures.Executor (see m3docs.batch)."""
    from .batch import generate_packs as run
    return run(*args, **kwargs)


__all__ = ["__version__", "Activity", "Diagnostic", "DocRef", "Engagement", "KeyTask",
           "M3DocsError", "PackReport", "Party", "Phase", "Playbook", "Stakeholder",
           "build_pack", "check_playbook", "generate_packs", "load_engagement", "load_playbook",
           "render", "DocumentDiff", "PackDiff", "diff_packs", "IndexReport", "write_index"]
