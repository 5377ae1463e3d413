"""Inferred tags kept between runs: an official template is annotated once per machine, not
once per process (the 16-sheet Business Needs Workbook takes about a second to annotate).

An entry is the tagged template's bytes with the annotator's notes and extras, named by the
sha256 of what the annotation depends on: the format, the template's bytes, the playbook
facts the annotator reads (``context``, given by the caller), the engagement's placeholder
keys, and the source of m3docs itself (so a changed rule is never answered from an older
entry). Kept in ``m3docs.diskcache`` (kind ``annotations``; ``M3DOCS_CACHE=off`` turns it
off). An entry is only a tagged template: the engine checks its tags as it checks any user's.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .. import diskcache
from ..ooxml.package import PackageError, Template

KIND = "annotations"
Made = tuple[bytes, list[str], dict[str, Any]]   # tagged bytes, notes, extras (JSON-able)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The sha256 of m3docs' own source files (any change of a rule makes new entries)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


def template_fingerprint(template: Template) -> str:
    """The sha256 of a template's parts as stored (names, methods, compressed bytes)."""
    found = template.__dict__.get("fingerprint")
    if found is None:
        digest = hashlib.sha256()
        for name in template.order:
            raw = template.raw[name]
            digest.update(f"{name}\0{raw.method}\0{raw.size}\0".encode())
            digest.update(raw.compressed)
        found = template.__dict__["fingerprint"] = digest.hexdigest()
    return found


def remembered(fmt: str, template: Template, context: str, placeholders: tuple[str, ...],
               make: Callable[[], Made]) -> Made:
    """``make()``'s result for this annotation, from an earlier run when one made it."""
    key = json.dumps([fmt, code_fingerprint(), template_fingerprint(template),
                      hashlib.sha256(context.encode("utf-8", "surrogatepass")).hexdigest(),
                      list(placeholders)])
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    found = _decode(diskcache.read(KIND, digest))
    if found is not None:
        return found
    made = make()
    diskcache.write(KIND, digest, _encode(made))
    return made


def _encode(made: Made) -> bytes:
    data, notes, extras = made
    head = json.dumps({"notes": notes, "extras": extras}, ensure_ascii=True).encode()
    return head + b"\n" + data


def _decode(entry: bytes | None) -> Made | None:
    """An entry read back, or None when it is missing or damaged (it is then made again)."""
    if entry is None:
        return None
    head, sep, data = entry.partition(b"\n")
    try:
        meta = json.loads(head)
        notes, extras = meta["notes"], meta["extras"]
    except (ValueError, KeyError, TypeError):
        return None
    if not sep or not isinstance(notes, list) or not isinstance(extras, dict) \
            or not all(isinstance(n, str) for n in notes):
        return None
    try:
        Template("cached annotation", data)
    except (PackageError, ValueError, OSError):
        return None
    return data, notes, extras
