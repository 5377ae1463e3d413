"""YAML reading that keeps source positions, reports duplicates and refuses bombs.

Values come back as ``LMap`` / ``LList`` (dict and list subclasses that remember
where each key and item stands) and plain scalars. Nothing here knows M3.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from .errors import Diagnostic, error

MAX_FILE_BYTES = 5 * 1024 * 1024  # default; M3DOCS_MAX_YAML_BYTES overrides it per call
MAX_NODES = 200_000
MAX_DEPTH = 64


@dataclass(frozen=True)
class Pos:
    """A 1-based position in a file."""

    path: str
    line: int
    col: int


class LMap(dict):
    """A mapping that remembers positions of its keys and values."""

    pos: Pos
    key_pos: dict
    value_pos: dict
    duplicates: list
    key_text: dict    # key -> its scalar as written ("3.10", where the key reads 3.1)
    value_text: dict  # key -> its value's scalar as written (scalar values only)
    bad: set          # keys whose value could not be read (reported when collecting)

    def text_of(self, key: Any) -> str:
        """A scalar value as written in the file (str() of the value if not known)."""
        return self.value_text.get(key, str(self.get(key)))

    def where(self, key: str) -> Pos:
        return self.value_pos.get(key) or self.key_pos.get(key) or self.pos


class LList(list):
    """A sequence that remembers the position of each item."""

    pos: Pos
    item_pos: list
    item_text: list   # each scalar item as written (None for a mapping or a sequence)


@dataclass
class Duplicate:
    key: Any
    first: Pos
    second: Pos
    value: Any


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark):
        self.mark = mark


class _DepthGuard(Composer):
    """Composes nodes in Python, stopping past MAX_DEPTH levels (before Python's stack does)."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PyLoader(_DepthGuard, yaml.SafeLoader):
    """Pure-Python scanning and parsing."""


if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(_DepthGuard, yaml._yaml.CParser, SafeConstructor, Resolver):
        """libyaml scans and parses (about 10x faster); composing stays in Python, guarded."""

        def __init__(self, stream: str) -> None:
            yaml._yaml.CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

    _Loader: type = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = _PyLoader


_BAD = object()   # a scalar that could not be read (collecting mode)


class YamlError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


@dataclass
class _Builder:
    path: str
    line_offset: int
    nodes: int = 0
    collect: list | None = None   # a list: unreadable scalars are reported here, read as None
    text_keys: bool = False       # numeric keys read as their source text ("3.10")
    constructor: yaml.constructor.SafeConstructor = field(
        default_factory=yaml.constructor.SafeConstructor
    )

    def pos(self, node: Node) -> Pos:
        m = node.start_mark
        return Pos(self.path, m.line + 1 + self.line_offset, m.column + 1)

    def build(self, node: Node, depth: int = 0, key: Any = None) -> Any:
        """The value of ``node`` (``key``: the mapping key it is the value of, if any)."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            p = self.pos(node)
            raise YamlError(error(self.path, p.line, p.col,
                                  f"YAML expands to more than {MAX_NODES} nodes (alias bomb?)"))
        if depth > MAX_DEPTH:
            p = self.pos(node)
            raise YamlError(error(self.path, p.line, p.col,
                                  f"YAML nested deeper than {MAX_DEPTH} levels"))
        if isinstance(node, ScalarNode):
            return self.scalar(node, key)
        if isinstance(node, SequenceNode):
            return self.sequence(node, depth)
        return self.mapping(node, depth)

    def scalar(self, node: ScalarNode, key: Any = None) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            p = self.pos(node)
            why = getattr(exc, "problem", None) or " ".join(str(exc).split())
            of = f"{key!r}: " if key is not None else ""
            found = error(self.path, p.line, p.col, f"{of}bad value {node.value!r}: {why}")
            if self.collect is None:
                raise YamlError(found)
            self.collect.append(found)
            return _BAD

    def sequence(self, node: SequenceNode, depth: int) -> LList:
        out = LList()
        out.pos, out.item_pos, out.item_text = self.pos(node), [], []
        for item in node.value:
            value = self.build(item, depth + 1)
            out.append(None if value is _BAD else value)
            out.item_pos.append(self.pos(item))
            out.item_text.append(item.value if isinstance(item, ScalarNode) else None)
        return out

    def mapping(self, node: MappingNode, depth: int) -> LMap:
        out = LMap()
        out.pos, out.key_pos, out.value_pos, out.duplicates = self.pos(node), {}, {}, []
        out.key_text, out.value_text, out.bad = {}, {}, set()
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                p = self.pos(knode)
                raise YamlError(error(self.path, p.line, p.col, "merge keys (<<) are not supported"))
            key = self.build(knode, depth + 1)
            if self.text_keys and isinstance(key, (int, float)) and not isinstance(key, bool) \
                    and isinstance(knode, ScalarNode) and not knode.style:
                key = knode.value
            if key is _BAD:
                continue
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                p = self.pos(knode)
                raise YamlError(error(self.path, p.line, p.col, "mapping keys must be scalars"))
            value = self.build(vnode, depth + 1, key)
            if key in out:
                out.duplicates.append(Duplicate(key, out.key_pos[key], self.pos(knode), value))
                continue
            if value is _BAD:
                out.bad.add(key)
                value = None
            out[key] = value
            out.key_pos[key], out.value_pos[key] = self.pos(knode), self.pos(vnode)
            if isinstance(knode, ScalarNode):
                out.key_text[key] = knode.value
            if isinstance(vnode, ScalarNode):
                out.value_text[key] = vnode.value
        return out


def max_file_bytes(path: str = "m3docs") -> int:
    """The YAML size limit: M3DOCS_MAX_YAML_BYTES if set (read on each call), else the default."""
    raw = os.environ.get("M3DOCS_MAX_YAML_BYTES", "").strip()
    if not raw:
        return MAX_FILE_BYTES
    if not raw.isdigit():
        raise YamlError(error(path, 1, 1, f"M3DOCS_MAX_YAML_BYTES must be a whole number of "
                                          f"bytes, not {raw!r}"))
    return int(raw)


def decode(data: bytes, path: str) -> str:
    """Decode UTF-8 (BOM allowed), normalising line ends; errors name line and column."""
    limit = max_file_bytes(path)
    if len(data) > limit:
        raise YamlError(error(path, 1, 1, f"file is {len(data)} bytes, over the limit of "
                                          f"{limit} (set M3DOCS_MAX_YAML_BYTES)"))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(error(path, line, col, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _compose(text: str) -> Node | None:
    """Compose with the fast loader; anything it rejects is composed again by the Python
    one, so what is accepted and every message are the same with or without libyaml."""
    if _Loader is _PyLoader:
        return yaml.compose(text, Loader=_PyLoader)
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=_PyLoader)


def parse(text: str, path: str, line_offset: int = 0, *, collect: list | None = None,
          text_keys: bool = False) -> Any:
    """Parse one YAML document into LMap/LList/scalars; raise YamlError with a position.

    ``collect``: a list that receives a Diagnostic for each scalar that cannot be read (an
    impossible date), which then reads as None, instead of stopping at the first.
    ``text_keys``: numeric mapping keys come back as written ("3.10", not 3.1)."""
    try:
        node = _compose(text)
    except _TooDeep as exc:
        raise YamlError(error(path, exc.mark.line + 1 + line_offset, exc.mark.column + 1,
                              f"YAML nested deeper than {MAX_DEPTH} levels"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else 1 + line_offset
        col = (mark.column + 1) if mark else 1
        msg = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        raise YamlError(error(path, line, col, f"YAML syntax: {msg}"))
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise YamlError(error(path, line + line_offset, col,
                              f"character U+{exc.character:04X} is not allowed in YAML "
                              "(write it as an escape in a double-quoted string)"))
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise YamlError(error(path, 1 + line_offset, 1, f"YAML syntax: {msg}"))
    except RecursionError:
        raise YamlError(error(path, 1 + line_offset, 1, "YAML nested too deeply"))
    if node is None:
        return None
    builder = _Builder(path, line_offset, collect=collect, text_keys=text_keys)
    _refuse_bombs(node, builder)
    try:
        return builder.build(node)
    except RecursionError:
        raise YamlError(error(path, 1 + line_offset, 1, "YAML nested too deeply"))


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _refuse_bombs(root: Node, b: _Builder) -> None:
    """Refuse alias bombs and recursive aliases before building anything.

    Counts the nodes the document would expand to, each shared (aliased) node
    once per use, in time linear in the nodes actually written.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in _children(node))
            if size[key] > MAX_NODES:
                p = b.pos(node)
                raise YamlError(error(b.path, p.line, p.col, f"YAML expands to more than "
                                                             f"{MAX_NODES} nodes (alias bomb?)"))
            continue
        if key in size:
            continue
        if key in active:
            p = b.pos(node)
            raise YamlError(error(b.path, p.line, p.col, "an alias refers to the node that "
                                                         "contains it (recursive alias)"))
        active.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node))


def split_front_matter(text: str, path: str) -> tuple[str, int]:
    """The front matter of a Jekyll page and the line offset of its first line."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise YamlError(error(path, 1, 1, "no front matter: a page must start with a '---' line"))
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), 1
    raise YamlError(error(path, len(lines), 1, "front matter is not closed by a '---' line"))
