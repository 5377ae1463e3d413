"""What m3docs keeps between runs, as Python keeps ``__pycache__``: one folder, entries by
kind (``templates``: compiled template code; ``annotations``: official templates' inferred
tags), each named by the sha256 of everything it was made from.

The folder is ``$M3DOCS_CACHE`` (``off`` turns it off), else ``$XDG_CACHE_HOME/m3docs`` or
``~/.cache/m3docs``; inside it, one subfolder per Python, Jinja2 and m3docs version. Writes
are atomic; a missing or unreadable entry is made again; a folder that cannot be written is
not an error (see SECURITY.md for what is trusted).
"""
from __future__ import annotations

import hashlib
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

OFF = "off"


def folder(kind: str) -> Path | None:
    """The cache folder of ``kind`` for this Python, Jinja2 and m3docs, or None when off."""
    from . import __version__
    value = os.environ.get("M3DOCS_CACHE", "").strip()
    if value.lower() == OFF:
        return None
    if value:
        base = Path(value).expanduser()
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "m3docs"
    tag = f"{sys.implementation.cache_tag}-jinja{jinja2.__version__}-m3docs{__version__}"
    return base / kind / tag


def read(kind: str, digest: str, suffix: str = ".bin") -> bytes | None:
    """The entry's bytes, or None (off, missing or unreadable)."""
    where = folder(kind)
    if where is None:
        return None
    try:
        return (where / f"{digest}{suffix}").read_bytes()
    except OSError:
        return None


def write(kind: str, digest: str, data: bytes, suffix: str = ".bin") -> None:
    """Keep ``data`` for later runs (silently not, when off or the folder cannot be written)."""
    where = folder(kind)
    if where is None:
        return
    target = where / f"{digest}{suffix}"
    tmp = where / f".{digest}.{os.getpid()}.tmp"
    try:
        where.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The sha256 of m3docs' own source files (any change of a rule makes new entries)."""
    root = Path(__file__).resolve().parent   # the m3docs package
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


def template_fingerprint(template: Any) -> str:
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
