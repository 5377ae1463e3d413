"""Compiled templates kept between runs, as Python keeps ``__pycache__``.

Compiling a template (Jinja2 parses it and generates and compiles Python code) is most of a
small pack's time: our seven templates take about 0.5 s in a fresh process, against about
1 s for the rest of a 171-document pack (measured; docs/benchmarks.md). The code object of
each compiled part is kept in a cache folder, keyed by the sha256 of the part's Jinja source
and of everything else the code depends on (Python, Jinja2 and m3docs versions, the
environment's settings and filter names), so a later run loads it instead of compiling.

The folder is ``$M3DOCS_CACHE`` (``off`` turns the cache off), else
``$XDG_CACHE_HOME/m3docs`` or ``~/.cache/m3docs``. Writes are atomic; a missing, unreadable
or damaged entry is compiled again; a folder that cannot be written is not an error. Only
code that m3docs itself compiled from a template that passed every check is stored; the
cache is trusted as ``__pycache__`` is (see SECURITY.md).
"""
from __future__ import annotations

import hashlib
import marshal
from pathlib import Path
from types import CodeType
from typing import Any

from .. import diskcache

KIND = "templates"


def folder() -> Path | None:
    """The cache folder of this Python, Jinja2 and m3docs, or None when turned off."""
    return diskcache.folder(KIND)


def key(env: Any, source: str) -> str:
    """What the compiled code depends on: the source and the environment's settings."""
    autoescape = env.autoescape if not callable(env.autoescape) else env.autoescape.__name__
    settings = repr((type(env).__qualname__, autoescape, env.finalize is not None,
                     sorted(env.extensions), sorted(env.filters), sorted(env.tests),
                     env.keep_trailing_newline, env.trim_blocks, env.lstrip_blocks,
                     env.newline_sequence, env.block_start_string, env.variable_start_string))
    data = (settings + "\0" + source).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def load(digest: str) -> CodeType | None:
    """The code compiled earlier for ``digest``, or None."""
    data = diskcache.read(KIND, digest)
    if data is None:
        return None
    try:
        code = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def store(digest: str, code: CodeType) -> None:
    """Keep ``code`` for later runs (silently not, when the folder cannot be written)."""
    diskcache.write(KIND, digest, marshal.dumps(code))
