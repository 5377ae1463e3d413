"""m3docs: turn the M3 playbook into prefilled Word, Excel and PowerPoint deliverables."""
from __future__ import annotations

__version__ = "0.1.0"

from .engagement import Engagement, load_engagement  # noqa: E402
from .errors import Diagnostic, M3DocsError  # noqa: E402
from .playbook.loader import check_playbook, load_playbook  # noqa: E402
from .playbook.model import (Activity, DocRef, KeyTask, Party, Phase, Playbook,  # noqa: E402
                             Stakeholder)

__all__ = ["__version__", "Activity", "Diagnostic", "DocRef", "Engagement", "KeyTask",
           "M3DocsError", "Party", "Phase", "Playbook", "Stakeholder", "check_playbook",
           "load_engagement", "load_playbook"]
