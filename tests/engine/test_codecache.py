"""Compiled templates kept between runs: loaded when the source and settings match, compiled
again when an entry is missing or damaged, never when turned off."""
from __future__ import annotations

import pytest

from m3docs.engine import codecache
from m3docs.engine.core import Place, compile_source, make_environment

ENV = make_environment()


def _compile(source: str):
    return compile_source(ENV, source, lambda n: Place("t.docx", "word/document.xml", f"line {n}"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("M3DOCS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_compiled_source_is_loaded_the_next_time(cache):
    assert _compile("{{ agency }}!").render({"agency": "A&B"}) == "A&amp;B!"
    (entry,) = list(cache.rglob("*.bin"))
    digest = entry.stem
    assert codecache.load(digest) is not None
    assert _compile("{{ agency }}!").render({"agency": "X"}) == "X!"
    assert len(list(cache.rglob("*.bin"))) == 1      # loaded, not stored again
    other = make_environment({"extra": str})         # other settings: another entry
    assert codecache.key(other, "{{ agency }}!") != digest


def test_a_damaged_entry_is_compiled_again(cache):
    _compile("{{ program }}")
    (entry,) = list(cache.rglob("*.bin"))
    entry.write_bytes(b"not marshal data")
    assert _compile("{{ program }}").render({"program": "P"}) == "P"
    assert codecache.load(entry.stem) is not None     # replaced by a good one


def test_off_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("M3DOCS_CACHE", "off")
    assert codecache.folder() is None
    assert _compile("{{ a }}").render({"a": 1}) == "1"


def test_an_unwritable_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("M3DOCS_CACHE", str(blocker / "cache"))
    assert _compile("{{ a }}").render({"a": 2}) == "2"
