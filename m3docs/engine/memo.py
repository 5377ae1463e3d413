"""A part's render reused when every value it read is the same as last time.

A pack holds parts that do not depend on their document: a programme's schedule sheet reads
the programme's name and its key tasks, the same for every document made from that
template. Rendering it again gives the same text, because a render is a function of what it
reads (the tag language has no clock and no chance). So a render records the context names
it resolves and their values; the next render of the same compiled part first compares those
values with its own context, and on a match takes the text (and what the engine made of it)
instead of running the template again.

Values are compared by ``same_value``: equal plain values (text, numbers, dates), or an
object that says so through ``same_as(other)`` (the content's key-task index, whose entries
are made once per process and never changed). Anything else counts as different, even the
same list (a script may have changed it), so a miss only costs a render. The texts are kept
within ``BUDGET`` characters, the least recently used dropped first.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from jinja2.runtime import Context

BUDGET = 16_000_000   # characters kept, all parts together: a text counts twice (the
                      # engine keeps its numbered copy)
_PLAIN = (str, int, float, bool, type(None), dt.date, dt.datetime, dt.time, Decimal)
_ABSENT = object()    # the name was not in the context (a global, or undefined)


def comparable(value: Any) -> bool:
    """Whether ``same_value`` can ever find another value the same as this one."""
    return value is _ABSENT or isinstance(value, _PLAIN) \
        or callable(getattr(type(value), "same_as", None))


def same_value(a: Any, b: Any) -> bool:
    """Whether two context values render alike (see the module's docstring). A list, a
    dict or any other object without ``same_as`` never is, not even itself: a script may
    change it between two renders."""
    if a is _ABSENT or b is _ABSENT:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, _PLAIN):
        return bool(a == b)
    same = getattr(type(a), "same_as", None)
    return bool(same(a, b)) if callable(same) else False


class ReadingContext(Context):
    """A Jinja context that notes each name it resolves from the caller's context."""

    reads: dict[str, Any]
    given: Mapping[str, Any]

    def resolve_or_missing(self, key: str) -> Any:
        if key not in self.vars and key not in self.reads:
            self.reads[key] = self.given.get(key, _ABSENT)
        return super().resolve_or_missing(key)


@dataclass
class Render:
    """One render of a compiled part: what it read, wrote and noticed. ``derived`` is for
    the engine: what it made of ``text`` (kept with it, reused with it)."""

    reads: tuple[tuple[str, Any], ...]
    text: str
    undefined: tuple[str, ...]
    derived: dict[str, Any] = field(default_factory=dict)
    kept: bool = False    # another render may take it again

    def matches(self, context: Mapping[str, Any]) -> bool:
        return all(same_value(context.get(name, _ABSENT), value) for name, value in self.reads)


class Memo:
    """The last render of each compiled part, within ``BUDGET`` characters."""

    def __init__(self, budget: int = BUDGET):
        self.budget = budget
        self._renders: OrderedDict[int, tuple[Any, Render]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def find(self, compiled: Any, context: Mapping[str, Any]) -> Render | None:
        with self._lock:
            hit = self._renders.get(id(compiled))
            if hit is None or hit[0] is not compiled:
                return None
            self._renders.move_to_end(id(compiled))
        return hit[1] if hit[1].matches(context) else None

    def keep(self, compiled: Any, render: Render) -> None:
        """Keep ``render`` as the part's last one, if another render could ever match it."""
        size = 2 * len(render.text)   # with what the engine derives from it
        if size > self.budget or not all(comparable(v) for _, v in render.reads):
            return
        with self._lock:
            old = self._renders.pop(id(compiled), None)
            if old is not None:
                self._size -= 2 * len(old[1].text)
            self._renders[id(compiled)] = (compiled, render)
            render.kept = True
            self._size += size
            while self._size > self.budget:
                _, (_, dropped) = self._renders.popitem(last=False)
                self._size -= 2 * len(dropped.text)

    def clear(self) -> None:
        with self._lock:
            self._renders.clear()
            self._size = 0


MEMO = Memo()


def render_reading(template: Any, context: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Render a Jinja template as ``Template.render`` does, noting the names it read."""
    env = template.environment
    ctx = ReadingContext(env, dict(template.globals, **context), template.name,
                         template.blocks, globals=template.globals)
    ctx.reads, ctx.given = {}, context
    try:
        text = env.concat(template.root_render_func(ctx))
    except Exception:
        env.handle_exception()
    return text, ctx.reads


__all__ = ["BUDGET", "MEMO", "Memo", "comparable", "ReadingContext", "Render", "render_reading",
           "same_value"]
