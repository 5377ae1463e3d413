"""Page text with HTML markup, parsed into runs (text, bold, italic, link)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urljoin, urlsplit

DEFAULT_BASE_URL = "https://ussm.gsa.gov"
SAFE_SCHEMES = ("http", "https", "mailto")
_DROP_CONTENT = {"script", "style", "template", "noscript", "iframe", "object"}
_BOLD_TAGS = {"b", "strong"}
_ITALIC_TAGS = {"i", "em"}
_BREAK_TAGS = {"br"}
_BLOCK_TAGS = {"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
               "table", "tr"}  # start on a line of their own
BULLET = "\u2022 "
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Run:
    """A stretch of text with one formatting; ``url`` set for hyperlinks."""

    text: str
    bold: bool = False
    italic: bool = False
    url: str | None = None


@dataclass(frozen=True)
class RichText:
    """Text as a tuple of runs; ``plain`` is the tag-free, collapsed view."""

    runs: tuple[Run, ...] = ()

    @property
    def plain(self) -> str:
        return _WS.sub(" ", "".join(r.text for r in self.runs)).strip()

    @property
    def links(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.url)

    def __str__(self) -> str:
        return self.plain

    def __bool__(self) -> bool:
        return bool(self.plain)

    @classmethod
    def of(cls, text: str) -> "RichText":
        return cls((Run(text),)) if text else cls()


def linked_file(text: RichText, extensions: tuple[str, ...]) -> str | None:
    """The file name a text's only link to a file of ``extensions`` points at, or None
    ('Updated <a href="/files/As-Is-Template.xlsx">As-Is Environment</a>' -> the .xlsx)."""
    names = {unquote(PurePosixPath(urlsplit(r.url).path).name) for r in text.links}
    files = [n for n in names if PurePosixPath(n.lower()).suffix in extensions]
    return files[0] if len(files) == 1 else None


def resolve_url(href: str, base_url: str = DEFAULT_BASE_URL) -> str | None:
    """Absolute URL for ``href`` if it is http, https or mailto; else None."""
    href = (href or "").strip()
    if not href or any(ord(c) < 32 for c in href):
        return None
    scheme = urlsplit(href).scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return None
    if not scheme:
        if href.startswith("//"):
            return None
        href = urljoin(base_url.rstrip("/") + "/", href)
        if urlsplit(href).scheme.lower() not in SAFE_SCHEMES:
            return None
    return quote(href, safe=":/?#[]@!$&'()*+,;=%~-._")


def _style_bold(attrs: dict[str, str]) -> bool | None:
    style = attrs.get("style", "").replace(" ", "").lower()
    m = re.search(r"font-weight:(\w+)", style)
    if not m:
        return None
    return m.group(1) in ("bold", "bolder") or m.group(1).isdigit() and int(m.group(1)) >= 600


class _Parser(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.runs: list[Run] = []
        self.stack: list[tuple[str, bool, bool, str | None]] = []
        self.bold = self.italic = False
        self.url: str | None = None
        self.dropping = 0
        self.lists: list[int] = []  # per open list: 0 for <ul>, else the next <ol> number

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k.lower(): (v or "") for k, v in attrs_list}
        if tag in _DROP_CONTENT:
            self.dropping += 1
            return
        if tag in _BREAK_TAGS:
            self._text("\n")
            return
        if tag in _BLOCK_TAGS:
            self._block(tag, attrs)
        self.stack.append((tag, self.bold, self.italic, self.url))
        if tag in _BOLD_TAGS:
            self.bold = True
        if tag in _ITALIC_TAGS:
            self.italic = True
        styled = _style_bold(attrs)
        if styled is not None:
            self.bold = styled
        if tag == "a":
            self.url = resolve_url(self._href(attrs), self.base_url)

    def _block(self, tag: str, attrs: dict[str, str]) -> None:
        """A new line; list items get a bullet, or their number in an ordered list."""
        self._line()
        if tag in ("ul", "ol"):
            start = attrs.get("start", "1")
            self.lists.append(int(start) if tag == "ol" and start.isdigit() else 0)
        elif tag == "li":
            number = self.lists[-1] if self.lists else 0
            self._text(f"{number}. " if number else BULLET)
            if number:
                self.lists[-1] += 1

    def _line(self) -> None:
        """End the current line unless the text is empty or already at a line start."""
        if self.runs and not self.runs[-1].text.endswith("\n"):
            self._text("\n")

    def _href(self, attrs: dict[str, str]) -> str:
        """The link target; a mangled ``href="href="URL`` yields the URL in the tag."""
        href = attrs.get("href", "").strip()
        if href and not href.endswith("="):
            return href
        m = re.search(r"(?:https?|mailto):[^\s\"'<>]+", self.get_starttag_text() or "")
        return m.group(0) if m else ""

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BREAK_TAGS:
            self._text("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                _, self.bold, self.italic, self.url = self.stack[i]
                del self.stack[i:]
                break
        else:
            return
        if tag in _BLOCK_TAGS:
            self._line()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self._text(data.replace("\xa0", " "))

    def _text(self, text: str) -> None:
        if not text:
            return
        run = Run(text, self.bold, self.italic, self.url)
        last = self.runs[-1] if self.runs else None
        if last and (last.bold, last.italic, last.url) == (run.bold, run.italic, run.url):
            self.runs[-1] = Run(last.text + text, run.bold, run.italic, run.url)
        else:
            self.runs.append(run)


def _tidy(runs: list[Run]) -> tuple[Run, ...]:
    """Collapse whitespace across runs (keeping explicit line breaks) and trim."""
    out: list[Run] = []
    prev_space = True
    for r in runs:
        parts = []
        for piece in re.split(r"(\n)", r.text):
            if piece == "\n":
                while parts and parts[-1].endswith(" "):
                    parts[-1] = parts[-1][:-1]
                parts.append("\n")
                prev_space = True
                continue
            piece = _WS.sub(" ", piece)
            if prev_space:
                piece = piece.lstrip(" ")
            if piece:
                prev_space = piece.endswith(" ")
                parts.append(piece)
        text = "".join(parts)
        if text:
            out.append(Run(text, r.bold, r.italic, r.url))
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        last = out[-1]
        out[-1] = Run(last.text.rstrip(), last.bold, last.italic, last.url)
    return tuple(out)


def parse_html(text: str, base_url: str = DEFAULT_BASE_URL) -> RichText:
    """Parse page text that may carry HTML into a RichText."""
    if text is None:
        return RichText()
    text = str(text)
    if "<" not in text and "&" not in text:
        return RichText(_tidy([Run(text)]))
    parser = _Parser(base_url)
    parser.feed(text)
    parser.close()
    return RichText(_tidy(parser.runs))
