"""Compiled templates kept whole between runs (``m3docs.diskcache`` kind ``plans``): what an
engine built around a template's Jinja code (Word: each part's places, run and paragraph
properties; Excel: each sheet's skeleton, loops and places), for the engines that say so
(``keeps_plans``): a compiled form that points into its engine's own state cannot be kept.

``codecache`` keeps the Python code Jinja makes; this keeps what the engine built around it,
so a later process skips reading the template's tags as well: compiling our CONOPS took 22 ms
with the code cached, loading its plan about 4 ms (measured). An entry is named by the sha256
of the format, the template's name and bytes, and m3docs' own source; it holds no code, only
the Jinja sources, whose code comes from ``codecache`` (or is compiled again), and the
template itself is the one in hand. A missing or damaged entry is compiled again.
"""
from __future__ import annotations

import io
import json
import pickle
from typing import Any

from lxml import etree

from .. import diskcache
from ..ooxml.package import Template
from ..ooxml.xml import parse_xml
from . import core

KIND = "plans"


def _digest(fmt: str, template: Template, name: str) -> str:
    import hashlib
    key = json.dumps([fmt, name, diskcache.code_fingerprint(),
                      diskcache.template_fingerprint(template),
                      # what the annotator set on the template beside its bytes
                      sorted(getattr(template, "wrap_long_text", ()))])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class _Pickler(pickle.Pickler):
    """Writes a compiled template without what the loading process has already (the
    Template, the engine), each Jinja template as its source and each XML tree (a sheet's
    skeleton) as its bytes. An element inside a tree is refused: kept apart, it would no
    longer be part of its tree."""

    def __init__(self, file: io.BytesIO, template: Template, engine: Any):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.template, self.engine = template, engine

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.template:
            return "template"
        if obj is self.engine:
            return "engine"
        if isinstance(obj, core.Compiled):
            return ("jinja", obj.source)
        if isinstance(obj, etree._Element):
            if obj.getparent() is not None:
                raise pickle.PicklingError("an element inside a tree")
            return ("xml", etree.tostring(obj))
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, template: Template, engine: Any, name: str):
        super().__init__(file)
        self.template, self.engine, self.name = template, engine, name

    def persistent_load(self, pid: Any) -> Any:
        if pid == "template":
            return self.template
        if pid == "engine":
            return self.engine
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "jinja":
            return core.compile_source(self.engine.env, pid[1],
                                       lambda n: core.Place(self.name, "", "the cached plan"))
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "xml":
            return parse_xml(pid[1])
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def load(fmt: str, engine: Any, template: Template, name: str) -> Any | None:
    """The compiled template an earlier run kept, or None."""
    data = diskcache.read(KIND, _digest(fmt, template, name))
    if data is None:
        return None
    try:
        return _Unpickler(io.BytesIO(data), template, engine, name).load()
    except Exception:   # noqa: BLE001 - a damaged entry is compiled again
        return None


def store(fmt: str, engine: Any, template: Template, name: str, compiled: Any) -> None:
    """Keep ``compiled`` (one that passed every check) for later runs."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, template, engine).dump(compiled)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    diskcache.write(KIND, _digest(fmt, template, name), buffer.getvalue())
