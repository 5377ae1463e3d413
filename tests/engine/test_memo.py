"""A part's render is taken again only when every value it read is the same (engine.memo),
and big identical parts are deflated once (ooxml.package): the documents are the same bytes
as when everything is made afresh."""
from __future__ import annotations

import datetime as dt
import io
import zlib
from pathlib import Path

import openpyxl
import pytest

from m3docs.engine import core, memo
from m3docs.engine.xlsx import ENGINE
from m3docs.ooxml import package
from m3docs.ooxml.package import Template


class Same:
    """A value that says it is the same as another of its kind with the same key."""

    def __init__(self, key: str, rows: list[str]):
        self.key, self.rows = key, rows

    def same_as(self, other: object) -> bool:
        return isinstance(other, Same) and other.key == self.key


@pytest.fixture(autouse=True)
def fresh_memo():
    memo.MEMO.clear()
    yield
    memo.MEMO.clear()


def sheet_book(path: Path) -> Path:
    """A title from ``program``, a loop over ``index.rows``, and a cell that may be undefined."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Schedule of {{ program }}"
    ws["A2"] = "{%tr for r in index.rows %}"
    ws["A3"] = "{{ r }}"
    ws["A4"] = "{%tr endfor %}"
    ws["A5"] = "{{ maybe }}"
    wb.save(path)
    return path


_COMPILED: dict[Path, object] = {}


def render(path: Path, context: dict) -> tuple[bytes, list[str]]:
    """Render with the workbook compiled once per path (as a pack does: a part's memory
    belongs to its compiled template)."""
    if path not in _COMPILED:
        _COMPILED[path] = ENGINE.compile(Template(path), path.name)
    return _COMPILED[path].render(context)


def column_a(data: bytes) -> list:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return [c.value for c in ws["A"]]


def test_plain_values_compare_by_value_and_containers_never():
    assert memo.same_value("a", "a") and memo.same_value(3, 3)
    assert memo.same_value(dt.date(2026, 1, 2), dt.date(2026, 1, 2))
    assert not memo.same_value(1, True) and not memo.same_value(1, 1.0)
    rows = ["x"]
    assert not memo.same_value(rows, rows)          # a script may change it between renders
    assert not memo.same_value({"a": 1}, {"a": 1})
    assert memo.same_value(Same("k", []), Same("k", ["other"]))
    assert not memo.same_value(Same("k", []), Same("j", []))


def test_a_render_is_taken_again_only_while_what_it_read_is_the_same(tmp_path):
    compiled = core.compile_source(core.make_environment(), "{{ a }}-{{ b }}",
                                   lambda n: core.Place("t", "p", "w"))
    place, record = core.Place("t", "p", "w"), core.RenderRecord()
    first, hit_first = core.render_memoized(compiled, {"a": "x", "b": 1}, record, place)
    again, hit_again = core.render_memoized(compiled, {"a": "x", "b": 1, "unread": object()},
                                            record, place)
    other, hit_other = core.render_memoized(compiled, {"a": "x", "b": 2}, record, place,
                                            derive=lambda text: {"length": len(text)})
    assert again is first and first.text == "x-1" and (hit_first, hit_again) == (False, True)
    assert other is not first and other.text == "x-2" and not hit_other
    assert other.derived == {"length": 3}        # made before another render could take it
    assert dict(first.reads) == {"a": "x", "b": 1}


def test_a_list_changed_between_renders_is_rendered_again(tmp_path):
    path = sheet_book(tmp_path / "s.xlsx")
    rows = ["one", "two"]
    first, _ = render(path, {"program": "P", "index": {"rows": rows}, "maybe": "m"})
    assert not memo.MEMO._renders            # never the same again: not kept
    rows.append("three")
    second, _ = render(path, {"program": "P", "index": {"rows": rows}, "maybe": "m"})
    assert column_a(first)[:3] == ["Schedule of P", "one", "two"]
    assert column_a(second)[:4] == ["Schedule of P", "one", "two", "three"]


def test_a_sheet_that_read_the_same_values_is_the_same_document(tmp_path):
    path = sheet_book(tmp_path / "s.xlsx")
    ctx = {"program": "P", "index": Same("k", ["one", "two"]), "other": 1}
    first, warned = render(path, ctx)
    kept = memo.MEMO._renders.copy()
    second, warned_again = render(path, {**ctx, "other": 2})      # not read: a hit
    assert memo.MEMO._renders == kept
    memo.MEMO.clear()
    fresh, warned_fresh = render(path, {**ctx, "other": 2})
    assert first == second == fresh
    assert warned == warned_again == warned_fresh and any("maybe" in w for w in warned)
    changed, _ = render(path, {**ctx, "program": "Q"})
    assert column_a(changed)[0] == "Schedule of Q"


def test_notes_of_a_render_taken_again_are_given_again(tmp_path):
    path = sheet_book(tmp_path / "s.xlsx")
    ctx = {"program": "P\x07", "index": Same("k", ["a"]), "maybe": "m"}
    _, first = render(path, ctx)
    _, again = render(path, ctx)
    assert first == again and any("not allowed in XML" in w for w in first)


def test_key_task_indexes_of_one_pack_are_the_same(corpus):
    from m3docs import load_playbook
    from m3docs.content import KeyTasksById
    from m3docs.engagement import Engagement
    book = load_playbook(corpus)
    eng = Engagement(agency="A", program="P")
    ids = tuple(kt.id for kt in book.key_tasks)
    a = KeyTasksById([], ids, book, eng)
    b = KeyTasksById([], ids[::-1], book, eng)
    assert len(ids) > 1 and list(a) == list(ids) and a.same_as(KeyTasksById([], ids, book, eng))
    assert not a.same_as(b)                                          # another order
    assert not a.same_as(KeyTasksById([], ids, book, Engagement(agency="A", program="P")))


def test_big_parts_said_to_come_again_are_deflated_once_and_checked_whole():
    deflate = package._Deflated(budget=1 << 20)
    data = b"<row/>" * 20_000
    deflate(data)                                   # not said to come again: not kept
    assert not deflate.parts
    first = deflate(bytes(data), again=True)
    assert deflate(bytes(data)) is first
    assert zlib.decompress(first.compressed, -15) == data
    # another part that happens to share size and CRC is never given the first one's bytes
    other = b"<cow/>" * 20_000
    deflate.parts[(len(other), zlib.crc32(other) & 0xFFFFFFFF)] = (data, first)
    got = deflate(other)
    assert got is not first and zlib.decompress(got.compressed, -15) == other


def test_the_deflate_memory_stays_within_its_budget():
    deflate = package._Deflated(budget=200_000)
    for i in range(10):
        deflate(bytes([i]) * 60_000, again=True)
    assert deflate.size <= 200_000 and len(deflate.parts) == 3


def test_renders_in_threads_all_give_the_document_and_its_notes(tmp_path):
    """Threads of one process share the memory: each document is whole, notes included."""
    from concurrent.futures import ThreadPoolExecutor
    path = sheet_book(tmp_path / "s.xlsx")
    render(path, {"program": "warm", "index": Same("k", []), "maybe": "m"})   # compiled once
    ctx = {"program": "P\x07", "index": Same("k", ["a", "b"]), "maybe": "m"}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: render(path, ctx), range(20)))
    memo.MEMO.clear()
    fresh = render(path, ctx)
    assert all(r == fresh for r in results)
