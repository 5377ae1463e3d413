"""The tag language every format shares: docxtpl's tags, compiled by Jinja2 in a sandbox.

A format engine finds the tags of a template part (``{{ }}``, ``{% %}``, ``{# #}`` and the
structural forms ``{%p %}``, ``{%tr %}``, ``{%tc %}``, ``{%r %}``, ``{{r }}``, ``{{p }}``) with
their place (paragraph, table cell, slide, ``Sheet!A1``), turns the part into Jinja source,
and hands it here. This module knows nothing of XML: it checks each tag on its own (so every
error of a template is reported in one run, each at its place), checks that blocks open and
close in order, refuses templates that reach for Python internals before anything runs,
compiles once, and renders with a record of the undefined names a template used.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.runtime import ChainableUndefined
from jinja2.sandbox import SandboxedEnvironment

from ..errors import Diagnostic
from . import codecache
from .memo import MEMO, Memo, Render, render_reading

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
STRUCTURAL = ("p", "tr", "tc", "r")  # the element a structural tag stands for
_HEAD = re.compile(r"^(\{[{%#])(-?)(?:(p|tr|tc|r)(?=\s))?\s*(.*?)\s*(-?)([}%#]\})$", re.S)
_BLOCKS = {"for": "endfor", "if": "endif", "macro": "endmacro", "call": "endcall",
           "filter": "endfilter", "with": "endwith", "block": "endblock",
           "autoescape": "endautoescape", "raw": "endraw"}
_MIDDLE = {"elif": "if", "else": ("if", "for")}
ESCAPES = {"{_{": "{{", "}_}": "}}", "{_%": "{%", "%_}": "%}"}
_ESCAPE = re.compile("|".join(re.escape(e) for e in ESCAPES))
_undefined: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "m3docs_undefined", default=None)


@dataclass(frozen=True)
class Place:
    """Where a tag sits: the template file, its part, and a place a reader can find."""

    file: str
    part: str
    where: str  # "paragraph 12", "table 2, row 3, cell 1", "slide 3, shape 'Title 1'", "Plan!B4"

    def diagnostic(self, severity: str, message: str) -> Diagnostic:
        return Diagnostic(self.file, 0, 0, severity, message, f" {self.part}: {self.where}")


@dataclass(frozen=True)
class Tag:
    """One tag as written (``text``) and what it means.

    ``kind`` is ``{{``, ``{%`` or ``{#``; ``level`` the structural element it stands for
    (``p``, ``tr``, ``tc``, ``r`` or ""); ``body`` the statement or expression inside;
    ``trim_left``/``trim_right`` the ``-`` markers that merge lines.
    """

    text: str
    kind: str
    level: str
    body: str
    trim_left: bool
    trim_right: bool

    @property
    def word(self) -> str:
        """The statement's first word (``for``, ``endif``, ``vm``...), or "" for ``{{ }}``."""
        return self.body.split(None, 1)[0] if self.kind == "{%" and self.body else ""

    @property
    def jinja(self) -> str:
        """The plain Jinja form of the tag (structural level dropped, trim markers kept)."""
        left = "-" if self.trim_left else ""
        right = "-" if self.trim_right else ""
        close = {"{{": "}}", "{%": "%}", "{#": "#}"}[self.kind]
        return f"{self.kind}{left} {self.body} {right}{close}"


def parse_tag(text: str) -> Tag:
    """Read one tag's text (as ``TAG`` finds it) into a ``Tag``."""
    m = _HEAD.match(text)
    if not m:  # an opening without a matching closing kind: let Jinja say what is wrong
        return Tag(text, text[:2], "", text[2:-2].strip(), False, False)
    kind, left, level, body, right, _close = m.groups()
    return Tag(text, kind, level or "", body, bool(left), bool(right))


def find_tags(text: str) -> Iterator[tuple[int, int, Tag]]:
    """Every tag in ``text`` with its start and end offsets. Between ``{% raw %}`` and
    ``{% endraw %}`` there are no tags: what looks like one is text, written as it stands."""
    raw = False
    for m in TAG.finditer(text):
        tag = parse_tag(m.group(0))
        if raw and tag.word != "endraw":
            continue
        raw = tag.word == "raw"
        yield m.start(), m.end(), tag


_RAW_OPEN = re.compile(r"\{%-?\s*raw\s*-?%\}")
_RAW_CLOSE = re.compile(r"\{%-?\s*endraw\s*-?%\}")


def raw_after(inside: bool, code: str) -> bool:
    """Whether Jinja source after ``code`` is inside a ``{% raw %}`` block, given whether
    it was before (the literal text there is written as it stands, so it is not protected)."""
    pos = 0
    while True:
        m = (_RAW_CLOSE if inside else _RAW_OPEN).search(code, pos)
        if m is None:
            return inside
        inside, pos = not inside, m.end()


def unescape(text: str) -> str:
    """Literal text for the escaped delimiters ``{_{`` ``}_}`` ``{_%`` ``%_}``."""
    return _ESCAPE.sub(lambda m: ESCAPES[m.group(0)], text)


def literal(text: str) -> str:
    """Jinja source that outputs ``text`` as written (escaped delimiters become real ones)."""
    if "{" not in text and "}" not in text and "%" not in text and "#" not in text:
        return text
    return _ESCAPE.sub(lambda m: "{{ %r }}" % ESCAPES[m.group(0)], text)


class RecordingUndefined(ChainableUndefined):
    """An undefined value renders as nothing and is recorded for a warning."""

    __slots__ = ()

    def _record(self) -> None:
        seen = _undefined.get()
        if seen is not None:
            name = self._undefined_name
            if name is None and self._undefined_hint:
                name = self._undefined_hint
            seen.append(str(name))

    def __str__(self) -> str:
        self._record()
        return ""

    def __html__(self) -> str:
        self._record()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._record()
        return iter(())


class Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, with XML escaping of every value on."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


def make_environment(filters: Mapping[str, Callable] | None = None) -> Sandbox:
    """The environment one format engine compiles with (one per engine, made once)."""
    env = Sandbox(autoescape=True, undefined=RecordingUndefined, keep_trailing_newline=True,
                  extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"])
    env.filters.update(filters or {})
    return env


def _probe_source(tag: Tag) -> str | None:
    """Jinja source that parses iff the tag is well-formed on its own (None: only the
    block check can judge it, e.g. ``endfor``)."""
    if tag.kind == "{#":
        return None
    if tag.kind == "{{":
        return "{{ %s }}" % tag.body
    word = tag.word
    if word in _BLOCKS:
        return "{%% %s %%}{%% %s %%}" % (tag.body, _BLOCKS[word])
    if word == "set" and "=" not in tag.body:
        return "{%% %s %%}{%% endset %%}" % tag.body
    if word == "elif":
        return "{%% if x %%}{%% %s %%}{%% endif %%}" % tag.body
    if word in ("else", "break", "continue") or word.startswith("end"):
        return None
    return "{%% %s %%}" % tag.body


def _unsafe_attributes(tree: nodes.Node) -> Iterator[str]:
    """Names of attributes a template reaches for that only Python internals have."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            yield node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            yield node.arg.value
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            for arg in node.args:
                if not isinstance(arg, nodes.Const) or str(arg.value).startswith("_"):
                    yield str(getattr(arg, "value", "a computed name"))


def _brief(exc: TemplateSyntaxError) -> str:
    return str(exc.message or exc).strip().rstrip(".")


def check_tag(env: Sandbox, tag: Tag) -> str | None:
    """The error message for a tag that is wrong on its own, else None."""
    source = _probe_source(tag)
    if source is None:
        return None
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return f"{_brief(exc)} in {tag.text.strip()}"
    unsafe = sorted(set(_unsafe_attributes(tree)))
    if unsafe:
        return (f"refused: {tag.text.strip()} reaches for Python internals "
                f"({', '.join(unsafe)}); templates may use only the context's values")
    return None


@dataclass
class _Open:
    tag: Tag
    place: Place


def check_blocks(tags: Iterable[tuple[Tag, Place]],
                 broken: frozenset[int] = frozenset()) -> list[Diagnostic]:
    """Blocks that close in the wrong order, never open, or never close. Openers whose
    ``id`` is in ``broken`` (already reported on their own) are not reported again."""
    stack: list[_Open] = []
    found: list[Diagnostic] = []
    for tag, place in tags:
        word = tag.word
        if word in _BLOCKS or (word == "set" and "=" not in tag.body):
            stack.append(_Open(tag, place))
        elif word in _MIDDLE:
            opener = _MIDDLE[word]
            if not stack or stack[-1].tag.word not in ((opener,) if isinstance(opener, str)
                                                        else opener):
                found.append(place.diagnostic("error", f"{tag.text.strip()} outside an "
                                              f"{{% if %}}"
                                              + (" or {% for %}" if word == "else" else "")))
        elif word.startswith("end"):
            opener = word[3:]
            if stack and stack[-1].tag.word == opener:
                stack.pop()
            elif any(o.tag.word == opener for o in stack):
                while stack and stack[-1].tag.word != opener:
                    o = stack.pop()
                    if id(o.tag) in broken:
                        continue
                    found.append(o.place.diagnostic("error", f"{o.tag.text.strip()} is never "
                                                    f"closed (expected {{% end{o.tag.word} %}} "
                                                    f"before {tag.text.strip()} at {place.where})"))
                stack.pop()
            else:
                found.append(place.diagnostic("error", f"{tag.text.strip()} closes no open "
                                              f"{{% {opener} %}}"))
    for o in stack:
        if id(o.tag) in broken:
            continue
        found.append(o.place.diagnostic("error", f"{o.tag.text.strip()} is never closed "
                                        f"(no {{% end{o.tag.word} %}})"))
    return found


def check_tags(env: Sandbox, tags: Iterable[tuple[Tag, Place]]) -> list[Diagnostic]:
    """Every error of a template's tags, each at its place: each tag on its own, then the
    blocks they form."""
    tags = list(tags)
    if all_well_formed(env, [tag for tag, _ in tags]):
        return []
    found, broken = [], set()
    known: dict[str, str | None] = {}   # a tag written many times is parsed once
    for tag, place in tags:
        if tag.text not in known:
            known[tag.text] = check_tag(env, tag)
        message = known[tag.text]
        if message:
            found.append(place.diagnostic("error", message))
            broken.add(id(tag))
    return found + check_blocks(tags, frozenset(broken))


def all_well_formed(env: Sandbox, tags: list[Tag]) -> bool:
    """Whether the tags, in order, parse as one template with no reach for Python internals:
    then none has an error of its own and their blocks close in order. One parse instead of
    one per tag (the per-tag parses were a third of compiling our CONOPS template, measured:
    38 of 107 ms); the tags are checked one by one only when this fails, to place each error."""
    try:
        tree = env.parse("".join(t.jinja for t in tags if t.kind != "{#"))
    except TemplateSyntaxError:
        return False
    return not any(True for _ in _unsafe_attributes(tree))


@dataclass
class Compiled:
    """One part's compiled Jinja template, and the names it takes from the context.

    The names are found when first asked for (``check-template`` asks; a render does not):
    finding them walks the whole template once more, a sixth of compiling a 60-page plan."""

    template: Any
    source: str = ""
    env: Any = None
    _names: frozenset[str] | None = None

    @property
    def names(self) -> frozenset[str]:
        if self._names is None:
            from jinja2 import meta
            self._names = frozenset(meta.find_undeclared_variables(self.env.parse(self.source))) \
                if self.env is not None else frozenset()
        return self._names

    def render(self, context: Mapping[str, Any]) -> str:
        return self.template.render(context)


def compile_source(env: Sandbox, source: str, locate: Callable[[int], Place]) -> Compiled:
    """Compile a part's Jinja source. ``locate`` maps a source line to a place, for the
    errors the per-tag checks cannot see. Raises ``TemplateProblems``. The code of a source
    compiled before (by this or an earlier run) is loaded from ``codecache``."""
    digest = codecache.key(env, source)
    code = codecache.load(digest)
    if code is None:
        try:
            tree = env.parse(source)
            unsafe = sorted(set(_unsafe_attributes(tree)))
            if unsafe:
                raise TemplateProblems([locate(1).diagnostic(
                    "error", f"refused: the template reaches for Python internals "
                             f"({', '.join(unsafe)})")])
            code = env.compile(tree)
        except TemplateSyntaxError as exc:
            raise TemplateProblems([locate(exc.lineno or 1).diagnostic("error", _brief(exc))])
        codecache.store(digest, code)
    template = env.template_class.from_code(env, code, env.make_globals(None))
    return Compiled(template, source, env)


@dataclass(frozen=True)
class LineLocator:
    """A compiled source's line -> the place it came from: the place of the last of
    ``lines`` (first line, place) that starts at or before it (a value, not a closure, so a
    compiled template can be kept between runs: see plancache)."""

    lines: tuple[tuple[int, Place], ...]
    default: Place

    def __call__(self, n: int) -> Place:
        found = [p for start, p in self.lines if start <= n]
        return found[-1] if found else self.default


class TemplateProblems(Exception):
    """The errors found in a template, all of them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


@dataclass
class RenderRecord:
    """What one render noticed: undefined names the template used."""

    undefined: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        names = sorted(set(self.undefined))
        if not names:
            return []
        return [f"undefined in the context (rendered empty): {', '.join(names)}"]


def render_recorded(compiled: Compiled, context: Mapping[str, Any], record: RenderRecord,
                    place: Place) -> str:
    """Render, recording undefined names into ``record``; a runtime error (a sandbox refusal,
    an undefined attribute of a value) becomes a located ``TemplateProblems``."""
    with _rendering(place, record.undefined):
        return compiled.render(context)


@contextlib.contextmanager
def _rendering(place: Place, undefined: list[str]) -> Iterator[None]:
    """Undefined names go to ``undefined``; a runtime error becomes a located problem."""
    token = _undefined.set(undefined)
    try:
        yield
    except SecurityError as exc:
        raise TemplateProblems([place.diagnostic("error", f"refused: {exc}")])
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateProblems([place.diagnostic("error", f"cannot render: {exc}")])
    finally:
        _undefined.reset(token)


def render_memoized(compiled: Compiled, context: Mapping[str, Any], record: RenderRecord,
                    place: Place, derive: Callable[[str], dict[str, Any]] | None = None,
                    memo: Memo = MEMO) -> tuple[Render, bool]:
    """``render_recorded``, but the part's last render is taken again when every value it
    read is the same in ``context`` (see ``memo``): (the render, whether it was taken
    again). The undefined names it recorded are recorded again. ``derive(text)`` gives what
    the caller makes of a new render's text, kept with it before another render can take
    it (``Render.derived``)."""
    found = memo.find(compiled, context)
    if found is not None:
        record.undefined.extend(found.undefined)
        return found, True
    undefined: list[str] = []
    with _rendering(place, undefined):
        text, reads = render_reading(compiled.template, context)
    record.undefined.extend(undefined)
    made = Render(tuple(reads.items()), text, tuple(undefined),
                  derive(text) if derive is not None else {})
    memo.keep(compiled, made)
    return made, False


__all__ = ["Compiled", "ESCAPES", "Place", "RecordingUndefined", "RenderRecord", "Sandbox",
           "STRUCTURAL", "TAG", "Tag", "TemplateProblems", "UndefinedError", "check_blocks",
           "check_tag", "check_tags", "compile_source", "find_tags", "literal", "LineLocator",
           "make_environment", "parse_tag", "render_memoized", "render_recorded", "unescape"]
