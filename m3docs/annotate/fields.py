"""The tags an annotator writes for a template's blanks: one rule for every format.

A blank the content model can fill becomes a field over the context's names; approvers'
blanks take turns (``approvers[0]``, ``approvers[1]``, ...) and a blank that the engagement
may leave empty keeps the template's own text then, so nothing prints empty where the template
asked for something.
"""
from __future__ import annotations

from ..renderers.official.placeholders import ORDERED

#: Blanks the engagement may leave empty: the template's text stays then.
OPTIONAL_FIELDS = ("provider",)
APPROVER_ATTRIBUTE = {"approver_name": "name", "approver_title": "title"}


def jinja_string(text: str) -> str:
    """``text`` as a Jinja string literal that no tag reader mistakes for a delimiter."""
    return '"' + "".join(f"\\x{ord(ch):02x}" if ch in '\\"{}%#\n' else ch for ch in text) + '"'


def field_tag(expr: str) -> str:
    return "{{ " + expr + " }}"


def blank_tag(field: str, token: str, turn: int = 0) -> str:
    """The tag for a blank the filler's rules name ``field`` (``token`` as written; ``turn``:
    which approver, for approvers' blanks)."""
    if field in ORDERED:
        return field_tag(f"approvers[{turn}].{APPROVER_ATTRIBUTE[field]} or "
                         f"{jinja_string(token)}")
    if field in OPTIONAL_FIELDS:
        return field_tag(f"{field} or {jinja_string(token)}")
    return field_tag(field)


def placeholder_tag(key: str) -> str:
    """The tag for one of the engagement's own ``placeholders:`` keys."""
    return field_tag(f"placeholders[{jinja_string(key)}]")
