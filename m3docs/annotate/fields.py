"""The tags an annotator writes for a template's blanks: one rule for every format.

A blank the content model can fill becomes a field over the context's names; approvers'
blanks take turns (``approvers[0]``, ``approvers[1]``, ...) and a blank that the engagement
may leave empty keeps the template's own text then, so nothing prints empty where the template
asked for something.
"""
from __future__ import annotations

from .blanks import DATE_FIELDS, FIELDS, ORDERED, Filler

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


class BlankTagger(Filler):
    """The blank filler's rules (``blanks.Filler``), writing each blank's tag
    instead of its value; shared by the Word and PowerPoint annotators."""

    def __init__(self, placeholders: tuple[str, ...] = ()):  # noqa: D107 (no engagement here)
        self.values = {f: field_tag(f) for f in FIELDS if f not in ORDERED}
        self.ordered = {k: [] for k in ORDERED}
        self.literal = {k: placeholder_tag(k) for k in placeholders if k and k not in FIELDS}
        self._prepare()

    def value(self, field: str, token: str) -> str | None:
        """The tag for a blank (None: a signing date, left for the signer)."""
        if field == "signature_date" or (field in DATE_FIELDS and self._signing()):
            return None
        if field in ORDERED:
            n = self.turn[field]
            self.turn[field] = n + 1
            if self.current is not None:
                self.approvers.setdefault(self.current, set()).add(field)
            return blank_tag(field, token, n)
        return blank_tag(field, token) if field in self.values else None
