"""Find and replace text in paragraphs even where Word or PowerPoint split it across runs.

A paragraph-like element (``w:p``, ``a:p``, a shared-string ``si``) holds text
nodes in run order. We join their text, match on the joined string, and write
each replacement into the first text node it touches, so the replacement keeps
that run's formatting; the rest of the match is cut from the following nodes.
"""
from __future__ import annotations

import re
from typing import Callable

from lxml import etree

from .xml import clean_text, qn

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
Replacer = Callable[[re.Match], "str | None"]


def text_nodes(paragraph: etree._Element, t_tag: str) -> list[etree._Element]:
    """The text elements of a paragraph, in order, not descending into nested paragraphs."""
    p_tag = paragraph.tag
    out = []
    for el in paragraph.iter(t_tag, p_tag):
        if el.tag == t_tag and _owner(el, p_tag) is paragraph:
            out.append(el)
    return out


def _owner(el: etree._Element, p_tag: str) -> etree._Element | None:
    node = el.getparent()
    while node is not None and node.tag != p_tag:
        node = node.getparent()
    return node


def paragraph_text(paragraph: etree._Element, t_tag: str) -> str:
    return "".join(t.text or "" for t in text_nodes(paragraph, t_tag))


def replace_in_paragraph(paragraph: etree._Element, pattern: re.Pattern, repl: Replacer,
                         t_tag: str) -> int:
    """Replace every match of ``pattern``; ``repl`` returning None leaves a match as is."""
    nodes = text_nodes(paragraph, t_tag)
    if not nodes:
        return 0
    texts = [t.text or "" for t in nodes]
    joined = "".join(texts)
    matches = [(m, repl(m)) for m in pattern.finditer(joined)]
    matches = [(m, r) for m, r in matches if r is not None]
    for m, new in reversed(matches):
        _splice(nodes, texts, m.start(), m.end(), clean_text(new)[0])
    for node, text in zip(nodes, texts):
        if node.text != text:
            node.text = text
            if t_tag == qn("w:t") and text != text.strip():
                node.set(XML_SPACE, "preserve")
    return len(matches)


def _splice(nodes: list, texts: list[str], start: int, end: int, new: str) -> None:
    pos = 0
    placed = False
    for i, text in enumerate(texts):
        lo, hi = pos, pos + len(text)
        pos = hi
        if hi <= start and not (hi == start == end and not placed and lo < hi):
            continue
        if lo >= end and placed:
            break
        a, b = max(start, lo) - lo, min(end, hi) - lo
        if not placed:
            texts[i] = text[:a] + new + text[b:]
            placed = True
        else:
            texts[i] = text[:a] + text[b:]


