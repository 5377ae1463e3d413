"""The template engine: docxtpl's tag language, one engine per format behind one interface.

``core`` holds what every format shares (tags, the Jinja2 sandbox, checks, located errors);
each format module finds tags in its own XML and turns loops over paragraphs, table rows,
sheet rows and slides into Jinja source.
"""
from __future__ import annotations

from pathlib import Path
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


ENGINE_MODULES = {"docx": "docx", "xlsx": "xlsx", "pptx": "pptx"}


def engine_for(fmt: str) -> Engine:
    """The engine of a format (``docx``, ``xlsx`` or ``pptx``); each module has an ``ENGINE``."""
    import importlib
    if fmt not in ENGINE_MODULES:
        raise ValueError(f"unknown format {fmt!r}")
    return importlib.import_module(f"{__name__}.{ENGINE_MODULES[fmt]}").ENGINE


def compiled(template: Template, fmt: str) -> CompiledTemplate:
    """The template compiled once per process (raises ``core.TemplateProblems``); kept on the
    Template itself, so it lives as long as the template cache keeps the template."""
    found = getattr(template, "compiled_template", None)
    if found is None:
        engine, name = engine_for(fmt), Path(template.path).name
        keeps = getattr(engine, "keeps_plans", False)   # see plancache
        if keeps:
            from . import plancache
            found = plancache.load(fmt, engine, template, name)
        if found is None:
            found = engine.compile(template, name)
            if keeps:
                plancache.store(fmt, engine, template, name, found)
        template.compiled_template = found
    return found
