"""Inferred tags kept between runs: an official template is annotated once per machine, not
once per process (the 16-sheet Business Needs Workbook takes about a second to annotate).

An entry is the tagged template's bytes with the annotator's notes and extras, named by the
sha256 of what the annotation depends on: the format, the template's bytes, the engagement's
placeholder keys, the source of m3docs itself (so a changed rule is never answered from an
older entry), and, when the annotator read them, the playbook facts it reads (``context``,
given by the caller: a schedule's tags follow the playbook's outline; a table's do not). Kept in ``m3docs.diskcache`` (kind ``annotations``; ``M3DOCS_CACHE=off`` turns it
off). An entry is only a tagged template: the engine checks its tags as it checks any user's.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from .. import diskcache
from ..diskcache import code_fingerprint, template_fingerprint
from ..ooxml.package import PackageError, Template

KIND = "annotations"
READS_PLAYBOOK = "reads_playbook"   # an extra: the tags depend on the playbook's facts
Made = tuple[bytes, list[str], dict[str, Any]]   # tagged bytes, notes, extras (JSON-able)


def remembered(fmt: str, template: Template, placeholders: tuple[str, ...],
               make: Callable[[], Made], context: Callable[[], str] | None = None) -> Made:
    """``make()``'s result for this annotation, from an earlier run when one made it.

    ``context`` gives the playbook facts the annotator may read, as text. An annotation whose
    extras say it did not read them (``READS_PLAYBOOK`` false: no sheet was a schedule) is kept
    for every playbook; one that did is kept for that playbook's facts only."""
    base = [fmt, code_fingerprint(), template_fingerprint(template), list(placeholders)]
    general = _digest(base)
    found = _decode(diskcache.read(KIND, general))
    if found is not None and not found[2].get(READS_PLAYBOOK):
        return found
    specific = _digest(base + [_digest(context())]) if context is not None else None
    if specific is not None:
        found = _decode(diskcache.read(KIND, specific))
        if found is not None:
            return found
    made = make()
    entry = _encode(made)
    if made[2].get(READS_PLAYBOOK) and specific is not None:
        diskcache.write(KIND, specific, entry)
    diskcache.write(KIND, general, entry)   # says, for the next run, which kind it is
    return made


def _digest(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
