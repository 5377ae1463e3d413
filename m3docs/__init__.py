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
from .api import (TemplateCheck, build_context, check_template, render,  # noqa: E402
                  render_template, tag_template)
from .batch import generate_packs  # noqa: E402
from .content import (document_context, key_task_context, to_json,  # noqa: E402
                      tracker_context)
from .diff import DocumentDiff, PackDiff, diff_packs  # noqa: E402
from .preview import IndexReport, write_index  # noqa: E402


__all__ = ["__version__", "Activity", "Diagnostic", "DocRef", "Engagement", "KeyTask",
           "M3DocsError", "PackReport", "Party", "Phase", "Playbook", "Stakeholder",
           "DocumentDiff", "IndexReport", "PackDiff", "TemplateCheck", "build_context",
           "build_pack", "check_playbook", "check_template", "diff_packs", "document_context",
           "generate_packs", "key_task_context", "load_engagement", "load_playbook", "render",
           "render_template", "tag_template", "to_json", "tracker_context", "write_index"]
