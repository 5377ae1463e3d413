"""The blanks of the M3 template family, as data: which blank asks for which engagement field.

A blank is a bracketed token (``[Program Name]``, ``<<Insert Date>>``, ``< enter ID >``)
or one of a few bare forms (``xx/xx/xx``, ``Day, Month, Year``, ``Version 1.0`` on a
short line). Its inner text is classified by ``BLANK_RULES`` (first match wins);
guidance blanks that ask the author to write something (``<<Describe ...>>``)
match ``GUIDANCE`` and stay. The engagement's ``placeholders`` mapping overrides:
a key that is a placeholder's literal text replaces that text, a key that is a
field name (``agency``, ``program``, ``date`` ...) replaces the field's value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from ...engagement import Engagement
from ..common import long_date
from ...ooxml.placeholders import paragraph_text, replace_in_paragraph
from ...ooxml.xml import clean_text


@dataclass(frozen=True)
class BlankRule:
    """A blank whose inner text matches ``pattern`` asks for ``field``."""

    field: str
    pattern: re.Pattern


def _rx(text: str) -> re.Pattern:
    return re.compile(text, re.IGNORECASE)


# Inner text of a blank that asks the author to write prose: left as it is.
GUIDANCE = _rx(r"^\s*(describe|provide|identify|list|explain|summari[sz]e|based on|indicate|"
               r"document|enter|select|add|include|discuss|define|outline|specify|this document|"
               r"note|state|attach|e\.g\.|for example)\b")
MAX_BLANK_WORDS = 7

BLANK_RULES: tuple[BlankRule, ...] = (
    BlankRule("program", _rx(r"\b(program|project|initiative)\b('?s)?.*\b(name|title)\b|"
                             r"\b(name|title) of (the )?(program|project|initiative)\b|"
                             r"^(insert |enter )?(the )?(program|project)$")),
    BlankRule("agency", _rx(r"\bagency\b|\bdepartment name\b|^(insert |enter )?(customer|"
                            r"customer organi[sz]ation)( name)?$|\bname of (the )?customer\b")),
    BlankRule("provider", _rx(r"\b(provider|vendor)\b.*\bname\b|\bname of (the )?"
                              r"(shared service |service )?provider\b|^(insert )?provider$")),
    BlankRule("date", _rx(r"^(insert |enter )?(the )?(current |today'?s? |document |publication |"
                          r"report |release |approval |signature |submission |status )?date$|"
                          r"^(day|month|date),? ?(day|month),? ?year$|^mm/dd/yy(yy)?$|"
                          r"^(insert |enter )?date of (approval|signature|publication)$")),
    BlankRule("version", _rx(r"^(insert |enter )?(the )?(document )?version( number| no\.?| #)?$|"
                             r"^v?x\.x$")),
    BlankRule("approver_title", _rx(r"^(insert |enter )?((approver|signatory|signer|sponsor)'?s? )?"
                                    r"(job |position )?title$")),
    BlankRule("approver_name", _rx(r"^(insert |enter )?((approver|signatory|signer|sponsor)'?s? )?"
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


def classify(inner: str) -> str | None:
    """The field a blank's inner text asks for, or None (guidance, or not ours)."""
    text = " ".join(inner.replace("_", " ").split()).strip(" :")
    if not text or GUIDANCE.search(text) or len(text.split()) > MAX_BLANK_WORDS:
        return None
    for rule in BLANK_RULES:
        if rule.pattern.search(text):
            return rule.field
    return None




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


class Filler:
    """Fills blanks in paragraphs and strings; ordered blanks (approvers) take turns."""

    def __init__(self, engagement: Engagement):
        self.values = field_values(engagement)
        approvers = engagement.approvers
        self.ordered = {"approver_name": [n for n, _ in approvers],
                        "approver_title": [t for _, t in approvers]}
        self.turn = {k: 0 for k in ORDERED}
        self.literal = {k: v for k, v in engagement.placeholders.items() if k not in FIELDS}
        self.filled = 0
        self.removed_chars = False
        self.unfilled: list[str] = []
        parts = [re.escape(k) for k in sorted(self.literal, key=len, reverse=True)]
        head = f"(?P<lit>{'|'.join(parts)})|" if parts else ""
        bare = "|".join(f"(?P<b{i}>{p})" for i, (p, _) in enumerate(BARE_RULES))
        self.pattern = re.compile(f"{head}(?P<blank>{_BLANK})|{bare}")
        self.short_pattern = re.compile(f"{self.pattern.pattern}|(?P<ver>{VERSION_LINE})")

    def value(self, field: str, token: str) -> str | None:
        """The value for one blank; None leaves it (no value for the field)."""
        if field in ORDERED:
            names = self.ordered[field]
            n = self.turn[field]
            if n >= len(names):
                self.unfilled.append(token)
                return None
            self.turn[field] = n + 1
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

    def pattern_for(self, text: str) -> re.Pattern:
        return self.short_pattern if len(text.strip()) <= SHORT_LINE else self.pattern

    def paragraph(self, p: etree._Element, t_tag: str) -> int:
        """Fill the blanks of one paragraph (runs keep their formatting)."""
        text = paragraph_text(p, t_tag)
        if not text or not self._maybe(text):
            return 0
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


def leftover_fields(text: str, fields: tuple[str, ...] = ("agency", "program", "date")) -> list[str]:
    """Blanks in ``text`` still asking for one of ``fields`` (used by checks and tests)."""
    out = [m.group(0) for m in re.finditer(_BLANK, text) if classify(m.group(0).strip("<>[]"))
           in fields]
    if "date" in fields:
        out += [m.group(0) for p, f in BARE_RULES for m in re.finditer(p, text)]
    return out


Replacer = Callable[[re.Match], "str | None"]
