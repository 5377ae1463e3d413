"""Independent statements of a few content rules, for tests to check documents against."""
from __future__ import annotations

import re
from typing import Iterable

from m3docs.annotate.blanks import _BLANK, BARE_RULES, classify, signing_context
from m3docs.engagement import Engagement
from m3docs.playbook.model import Party, Stakeholder


def named_first(stakeholders: Iterable[Stakeholder], engagement: Engagement
                ) -> tuple[list[Stakeholder], list[Stakeholder]]:
    """The roles someone is named for (any of their parties; a shared role is the customer's
    and the provider's), and the roles nobody is named for yet."""
    named, unnamed = [], []
    for sh in stakeholders:
        parties = set(sh.parties)
        if Party.SHARED in parties:
            parties |= {Party.CUSTOMER, Party.PROVIDER}
        people = [engagement.person(sh.role.plain, p) for p in parties]
        (named if any(people) else unnamed).append(sh)
    return named, unnamed


def leftover_fields(text: str, fields: tuple[str, ...] = ("agency", "program", "date")) -> list[str]:
    """Blanks in ``text`` still asking for one of ``fields``; a
    line that is a signing block (with the line before it) keeps its date blanks."""
    out: list[str] = []
    before = ""
    for line in text.splitlines():
        signing = "date" in fields and signing_context(before + "\n" + line)
        before = line
        wanted = tuple(f for f in fields if f != "date") if signing else fields
        out += [m.group(0) for m in re.finditer(_BLANK, line)
                if classify(m.group(0).strip("<>[]")) in wanted]
        if "date" in wanted:
            out += [m.group(0) for p, f in BARE_RULES for m in re.finditer(p, line)]
    return out
