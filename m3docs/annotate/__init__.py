"""The annotator: infer the tags a template without them needs (the official M3 family).

Placeholders become fields, tables found by their header become ``{%tr %}`` loops, schedule
outlines get activity loops under their key-task rows, and the key-task context becomes a
section, sheet or slide. The result is a tagged template in memory, made once per process
(and kept between runs: ``cache.py``), that the one engine fills like any other; ``m3docs
tag`` writes it out so a user can correct a guess in Word, Excel or PowerPoint and use the
corrected copy. Knows nothing of rendering.
"""
from __future__ import annotations

import importlib
from typing import Protocol

from ..ooxml.package import Template
from ..playbook.model import Playbook

ANNOTATOR_MODULES = {"docx": "docx", "xlsx": "xlsx", "pptx": "pptx"}


class Annotator(Protocol):
    """One per format: ``annotate`` returns the template with its inferred tags."""

    def annotate(self, template: Template, playbook: Playbook,
                 placeholders: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
        """The tagged template's bytes and notes on what was inferred (one line each).
        ``placeholders`` are the engagement's extra blanks (its ``placeholders:`` keys)."""
        ...


def annotator_for(fmt: str) -> Annotator:
    """The annotator of a format; each module has an ``ANNOTATOR``."""
    if fmt not in ANNOTATOR_MODULES:
        raise ValueError(f"unknown format {fmt!r}")
    return importlib.import_module(f"{__name__}.{ANNOTATOR_MODULES[fmt]}").ANNOTATOR
