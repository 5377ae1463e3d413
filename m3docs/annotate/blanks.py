"""The blanks of the M3 template family, as data: which blank asks for which engagement field.

A blank is a bracketed token (``[Program Name]``, ``<<Insert Date>>``, ``< enter ID >``)
or one of a few bare forms (``xx/xx/xx``, ``Day, Month, Year``, ``Version 1.0`` on a
short line). Its inner text is classified by ``BLANK_RULES`` (first match wins);
guidance blanks that ask the author to write something (``<<Describe ...>>``)
match ``GUIDANCE`` and stay. A date blank is the signer's to fill, and stays, when it
says so (``<<Signature Date>>``) or when its context is a signing block: its paragraph or
the paragraph before it holds an approver's blank, a signature line (``_____``) or a word
of signing (``signature``, ``approved by``, see ``SIGNING``); or its table row holds an
approver's title, or the row or its table's header a word of signing. The engagement's
``placeholders`` mapping overrides:
a key that is a placeholder's literal text replaces that text, a key that is a
field name (``agency``, ``program``, ``date`` ...) replaces the field's value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from lxml import etree

from ..engagement import Engagement
from ..content import long_date
from ..ooxml.placeholders import paragraph_text, replace_in_paragraph
from ..ooxml.xml import clean_text


@dataclass(frozen=True)
class BlankRule:
    """A blank whose inner text matches ``pattern`` asks for ``field``."""

    field: str
    pattern: re.Pattern


def rx(text: str) -> re.Pattern:
    """A rule's pattern: case ignored (templates write their blanks and headers in any case)."""
    return re.compile(text, re.IGNORECASE)


# Inner text of a blank that asks the author to write prose: left as it is.
GUIDANCE = rx(r"^\s*(describe|provide|identify|list|explain|summari[sz]e|based on|indicate|"
               r"document|enter|select|add|include|discuss|define|outline|specify|this document|"
               r"note|state|attach|e\.g\.|for example)\b")
MAX_BLANK_WORDS = 7

BLANK_RULES: tuple[BlankRule, ...] = (
    BlankRule("program", rx(r"\b(program|project|initiative)\b('?s)?.*\b(name|title)\b|"
                             r"\b(name|title) of (the )?(program|project|initiative)\b|"
                             r"^(insert |enter )?(the )?(program|project)$")),
    BlankRule("agency", rx(r"\bagency\b|\bdepartment name\b|^(insert |enter )?(customer|"
                            r"customer organi[sz]ation)( name)?$|\bname of (the )?customer\b")),
    BlankRule("provider", rx(r"\b(provider|vendor)\b.*\bname\b|\bname of (the )?"
                              r"(shared service |service )?provider\b|^(insert )?provider$")),
    BlankRule("signature_date", rx(r"^(insert |enter )?(the )?(approval|approved|signature|"
                                    r"signing|signed|sign-off|certification) date$|"
                                    r"^(insert |enter )?date (of )?(approval|approved|signature|"
                                    r"signing|signed|sign-off|certification)$")),
    BlankRule("date", rx(r"^(insert |enter )?(the )?(current |today'?s? |document |publication |"
                          r"report |release |submission |status )?date$|"
                          r"^(day|month|date),? ?(day|month),? ?year$|^mm/dd/yy(yy)?$|"
                          r"^(insert |enter )?date of publication$")),
    BlankRule("version", rx(r"^(insert |enter )?(the )?(document )?version( number| no\.?| #)?$|"
                             r"^v?x\.x$")),
    BlankRule("approver_title", rx(r"^(insert |enter )?((approver|signatory|signer|sponsor)'?s? )?"
                                    r"(job |position )?title$")),
    BlankRule("approver_name", rx(r"^(insert |enter )?((approver|signatory|signer|sponsor)'?s? )?"
                                   r"(full |printed )?name$")),
)

# Bare (unbracketed) blanks: pattern -> field.
BARE_RULES: tuple[tuple[str, str], ...] = (
    (r"\b[xX]{2}/[xX]{2}/[xX]{4}\b", "date_mdyyyy"),
    (r"\b[xX]{1,2}/[xX]{1,2}/[xX]{2}\b", "date_mdyy"),
    (r"\b[mM]{2}/[dD]{2}/[yY]{4}\b", "date_mdyyyy"),
    (r"\bDay, Month, Year(?![a-z])", "date"),
)
# "Version 1.0" on a short line (cover, header, footer, cover cell) carries the version.
VERSION_LINE = r"(?<=\bVersion )\d+(?:\.\d+)+\b"
SHORT_LINE = 90

_BLANK = r"<<[^<>\n]{1,120}>>|\[[^\[\]\n]{1,120}\]|<[^<>\n]{1,120}>"
ORDERED = ("approver_name", "approver_title")
FIELDS = ("agency", "program", "provider", "date", "date_mdyy", "date_mdyyyy", "version",
          "approver_name", "approver_title")
DATE_FIELDS = ("date", "date_mdyy", "date_mdyyyy")
# Words and marks of a signing block: a date blank there is the signer's, not the document's.
SIGNING = rx(r"_{5,}|\bsign(ed|ature|atures|atory|er|ers|-off)?\b|\bapproved\b|"
              r"\bapprov(al|er|ers)\b")


def classify(inner: str) -> str | None:
    """The field a blank's inner text asks for, or None (guidance, or not ours)."""
    text = " ".join(inner.replace("_", " ").split()).strip(" :")
    if not text or GUIDANCE.search(text) or len(text.split()) > MAX_BLANK_WORDS:
        return None
    for rule in BLANK_RULES:
        if rule.pattern.search(text):
            return rule.field
    return None


def signing_context(text: str) -> bool:
    """Whether ``text`` (a paragraph with its neighbours) is a signing block."""
    if SIGNING.search(text):
        return True
    return any(classify(m.group(0).strip("<>[]")) in ORDERED for m in re.finditer(_BLANK, text))


def _before(p: etree._Element) -> etree._Element | None:
    """The paragraph just before (a signature line above a name and date)."""
    before = p.getprevious()
    if before is not None and before.tag == p.tag and etree.QName(p).localname == "p":
        return before
    return None


def _row(p: etree._Element) -> tuple[list[etree._Element], list[etree._Element]]:
    """The other paragraphs of a table row holding ``p``, and those of its table's first row
    (the header saying what the columns are); empty outside tables."""
    for anc in p.iterancestors():
        if isinstance(anc.tag, str) and etree.QName(anc).localname == "tr":
            first = next((r for r in anc.getparent() if r.tag == anc.tag), anc)
            header = [q for q in first.iter(p.tag)] if first is not anc else []
            return [q for q in anc.iter(p.tag) if q is not p], header
    return [], []


def field_values(engagement: Engagement) -> dict[str, str]:
    """The default value of every non-ordered field, then the engagement's field overrides."""
    d = engagement.as_of
    values = {"agency": engagement.agency, "program": engagement.program,
              "provider": engagement.provider, "date": long_date(d),
              "date_mdyy": f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
              "date_mdyyyy": f"{d.month:02d}/{d.day:02d}/{d.year}",
              "version": engagement.version}
    for key, value in engagement.placeholders.items():
        if key in FIELDS:
            values[key] = value
    return values


def blank_patterns(literal: Iterable[str]) -> tuple[re.Pattern, re.Pattern]:
    """The patterns that find blanks in a text: the engagement's own ``literal`` blanks
    (longest first), the family's ``<<...>>``/``[...]`` blanks and bare ones, and, for a
    short text (a cell, a title), a version number alone as well."""
    parts = [re.escape(k) for k in sorted(literal, key=len, reverse=True)]
    head = f"(?P<lit>{'|'.join(parts)})|" if parts else ""
    bare = "|".join(f"(?P<b{i}>{p})" for i, (p, _) in enumerate(BARE_RULES))
    pattern = re.compile(f"{head}(?P<blank>{_BLANK})|{bare}")
    return pattern, re.compile(f"{pattern.pattern}|(?P<ver>{VERSION_LINE})")


class Filler:
    """Fills blanks in paragraphs and strings; ordered blanks (approvers) take turns."""

    def __init__(self, engagement: Engagement):
        self.values = field_values(engagement)
        approvers = engagement.approvers
        self.ordered = {"approver_name": [n for n, _ in approvers],
                        "approver_title": [t for _, t in approvers]}
        self.literal = {k: v for k, v in engagement.placeholders.items() if k not in FIELDS}
        self._prepare()

    def _prepare(self) -> None:
        """The state a fill keeps, and the patterns, once ``values``, ``ordered`` and
        ``literal`` are set (a subclass that writes tags sets them its own way)."""
        self.turn = {k: 0 for k in ORDERED}
        self.filled = 0
        self.context: Callable[[], bool] = bool
        self.signing: bool | None = None
        self.current: etree._Element | None = None
        self.approvers: dict[etree._Element, set[str]] = {}   # paragraph -> approver fields
        self.removed_chars = False
        self.unfilled: list[str] = []
        self.pattern, self.short_pattern = blank_patterns(self.literal)

    def value(self, field: str, token: str) -> str | None:
        """The value for one blank; None leaves it (no value for the field, a signer's date)."""
        if field == "signature_date" or (field in DATE_FIELDS and self._signing()):
            return None
        if field in ORDERED:
            names = self.ordered[field]
            n = self.turn[field]
            if n >= len(names):
                self.unfilled.append(token)
                return None
            self.turn[field] = n + 1
            if self.current is not None:
                self.approvers.setdefault(self.current, set()).add(field)
            return names[n]
        value = self.values.get(field) or None
        if value is None:
            self.unfilled.append(token)
        return value

    def repl(self, m: re.Match) -> str | None:
        groups = m.groupdict()
        if groups.get("lit"):
            out = self.literal[m.group(0)]
        elif groups.get("blank"):
            token = m.group(0)
            inner = token.strip("<>[]")
            field = classify(inner)
            out = self.value(field, token) if field else None
        elif groups.get("ver"):
            out = self.values["version"] if self.values["version"] != m.group(0) else None
        else:
            i = next(int(k[1:]) for k, v in groups.items() if v and k[0] == "b" and k[1:].isdigit())
            out = self.value(BARE_RULES[i][1], m.group(0))
        if out is not None:
            self.filled += 1
            cleaned, removed = clean_text(out)
            self.removed_chars |= removed
            out = cleaned
        return out

    def _signing(self) -> bool:
        if self.signing is None:
            self.signing = self.context()
        return self.signing

    def _at(self, context: Callable[[], bool], current: etree._Element | None = None) -> None:
        """Whether the text about to be filled is a signing block (asked only for a date)."""
        self.context, self.signing, self.current = context, None, current

    def _signing_paragraph(self, p: etree._Element, text: str, t_tag: str) -> bool:
        """A paragraph (as the template had it) in a signing block: it, or the paragraph
        before it, holds a signing word, a signature line or an approver's blank (filled or
        not); or its table row or the table's header holds a signing word, or the row an
        approver's title (a name alone may be a history table's author)."""
        if signing_context(text):
            return True
        before = _before(p)
        if before is not None and (before in self.approvers or
                                   signing_context(paragraph_text(before, t_tag))):
            return True
        row, header = _row(p)
        row_text = "\n".join(paragraph_text(q, t_tag) for q in row + header)
        return bool(SIGNING.search(row_text)) or \
            any("approver_title" in self.approvers.get(q, ()) for q in row) or \
            any(classify(m.group(0).strip("<>[]")) == "approver_title"
                for m in re.finditer(_BLANK, row_text))

    def pattern_for(self, text: str) -> re.Pattern:
        return self.short_pattern if len(text.strip()) <= SHORT_LINE else self.pattern

    def paragraph(self, p: etree._Element, t_tag: str) -> int:
        """Fill the blanks of one paragraph (runs keep their formatting)."""
        text = paragraph_text(p, t_tag)
        if not text or not self._maybe(text):
            return 0
        self._at(lambda: self._signing_paragraph(p, text, t_tag), p)
        return replace_in_paragraph(p, self.pattern_for(text), self.repl, t_tag)

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds something this filler would act on (a blank, a literal)."""
        if not text or not self._maybe(text):
            return False
        for m in self.pattern_for(text).finditer(text):
            blank = m.group("blank")
            if blank is None or classify(blank.strip("<>[]")) is not None:
                return True
        return False

    def text(self, text: str) -> str:
        """Fill the blanks of a plain string (a header/footer field, a cell)."""
        if not text or not self._maybe(text):
            return text
        self._at(lambda: signing_context(text))
        return self.pattern_for(text).sub(lambda m: _keep(m, self.repl(m)), text)

    def _maybe(self, text: str) -> bool:
        return bool(self.literal) or may_hold_blank(text)

    @property
    def literal_keys(self) -> bool:
        """Whether the engagement adds literal blanks (any text may then hold one)."""
        return bool(self.literal)

    def warnings(self) -> list[str]:
        out = []
        if self.unfilled:
            seen = sorted(set(self.unfilled))
            out.append("blanks left unfilled (no value in the engagement): " + ", ".join(seen))
        if self.removed_chars:
            out.append("characters not allowed in XML were removed from placeholder values")
        return out


def may_hold_blank(text: str) -> bool:
    """A quick test that ``text`` may hold a blank of the family's (no literal keys)."""
    return ("<" in text or "[" in text or "/" in text or "Version" in text
            or "Day, Month" in text)


def _keep(m: re.Match, new: str | None) -> str:
    return m.group(0) if new is None else new
