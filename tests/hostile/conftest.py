"""Shared helpers for the hostile-input suite: bad files are built in tmp_path."""
from __future__ import annotations

import os
import re
import sys
import tracemalloc
from pathlib import Path
from typing import Callable, Iterable

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # let the suite run from a plain checkout
    sys.path.insert(0, str(ROOT))

from m3docs.errors import Diagnostic  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "gsa-m3"
ONE_LINE = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+):(?P<col>\d+))?: error: [^\n]+$")  # FILE[:LINE:COL]

# A valid key-task front matter. File line = front-matter line + 1 (the '---').
KEY_TASK = """\
layout: m3/keyTask
phase: 1
keyTask: 2
name: Draft Things
objective: Draft the things.
responsibleParty: customer
activities:
  - text: Do one
    responsibleParty: customer
  - text: Do two
    responsibleParty: provider
"""

ENGAGEMENT = """\
agency: Department of Tests
program: Hostile Input Program
provider: Example Provider
as_of: 2026-11-24
leads:
  customer: Ann Customer
  provider: Pat Provider
status:
  "1.2":
    percent_complete: 40
    status: G
    start: 2026-10-01
"""


def page_text(front_matter: str, body: str = "Body text.\n") -> str:
    return f"---\n{front_matter}---\n{body}"


@pytest.fixture
def playbook_dir(tmp_path: Path) -> Path:
    """An m3 tree with keyTask/ and phase/ folders (empty)."""
    root = tmp_path / "playbook" / "_pages" / "m3"
    (root / "keyTask").mkdir(parents=True)
    (root / "phase").mkdir()
    return tmp_path / "playbook"


@pytest.fixture
def write_page(playbook_dir: Path) -> Callable[..., Path]:
    """write_page(name, text_or_bytes) -> path of a key-task page in the tree."""
    def write(name: str, content: str | bytes) -> Path:
        path = playbook_dir / "_pages" / "m3" / "keyTask" / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path
    return write


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and mtime: compare to prove nothing was written."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def errors_of(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.is_error]


def assert_error(diags: Iterable[Diagnostic], path: Path | str, line: int,
                 contains: str = "", col: int | None = None, count: int | None = 1
                 ) -> Diagnostic:
    """Exactly ``count`` errors; one of them is at FILE:LINE[:COL] and mentions ``contains``."""
    errs = errors_of(diags)
    if count is not None:
        assert len(errs) == count, [str(d) for d in errs]
    for d in errs:
        text = str(d)
        assert ONE_LINE.match(text), text
        assert "Traceback" not in text
    hits = [d for d in errs if d.path == str(path) and d.line == line
            and (col is None or d.col == col) and contains.lower() in d.message.lower()]
    assert hits, (f"no error at {path}:{line}:{col} mentioning {contains!r}; got "
                  f"{[str(d) for d in errs]}")
    return hits[0]


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case starts from the documented default limits."""
    monkeypatch.delenv("M3DOCS_MAX_YAML_BYTES", raising=False)
    os.environ.pop("M3DOCS_MAX_YAML_BYTES", None)


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak memory (bytes, tracemalloc) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak
