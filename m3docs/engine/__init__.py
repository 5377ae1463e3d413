"""The template engine: docxtpl's tag language, one engine per format behind one interface.

``core`` holds what every format shares (tags, the Jinja2 sandbox, checks, located errors);
each format module finds tags in its own XML and turns loops over paragraphs, table rows,
sheet rows and slides into Jinja source.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol

from ..ooxml.package import Template


class CompiledTemplate(Protocol):
    """A template parsed, checked and compiled once per process."""

    names: frozenset[str]  # the top-level context names the template uses

    def render(self, context: Mapping[str, Any]) -> tuple[bytes, list[str]]:
        """The document's bytes and warnings (undefined names, text cut or cleaned)."""
        ...


class Engine(Protocol):
    """One per format (docx, xlsx, pptx)."""

    format: str

    def compile(self, template: Template, name: str) -> CompiledTemplate:
        """Check and compile; raises ``core.TemplateProblems`` with every error found."""
        ...
