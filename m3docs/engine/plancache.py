"""Compiled templates kept whole between runs (``m3docs.diskcache`` kind ``plans``), for the
engines whose compiled form is plain data around its Jinja code (Word's: each part's places,
run and paragraph properties, relationships, and its code).

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

from .. import diskcache
from ..ooxml.package import Template
from . import core

KIND = "plans"


def _digest(fmt: str, template: Template, name: str) -> str:
    import hashlib
    key = json.dumps([fmt, name, diskcache.code_fingerprint(),
                      diskcache.template_fingerprint(template)])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class _Pickler(pickle.Pickler):
    """Writes a compiled template without its Template (the one in hand when loaded) and
    with each Jinja template as its source."""

    def __init__(self, file: io.BytesIO, template: Template):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.template = template

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.template:
            return "template"
        if isinstance(obj, core.Compiled):
            return ("jinja", obj.source)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, template: Template, env: Any, name: str):
        super().__init__(file)
        self.template, self.env, self.name = template, env, name

    def persistent_load(self, pid: Any) -> Any:
        if pid == "template":
            return self.template
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "jinja":
            return core.compile_source(self.env, pid[1],
                                       lambda n: core.Place(self.name, "", "the cached plan"))
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


def load(fmt: str, env: Any, template: Template, name: str) -> Any | None:
    """The compiled template an earlier run kept, or None."""
    data = diskcache.read(KIND, _digest(fmt, template, name))
    if data is None:
        return None
    try:
        return _Unpickler(io.BytesIO(data), template, env, name).load()
    except Exception:   # noqa: BLE001 - a damaged entry is compiled again
        return None


def store(fmt: str, template: Template, name: str, compiled: Any) -> None:
    """Keep ``compiled`` (one that passed every check) for later runs."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, template).dump(compiled)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    diskcache.write(KIND, _digest(fmt, template, name), buffer.getvalue())
