"""Independent statements of a few content rules, for tests to check documents against."""
from __future__ import annotations

from typing import Iterable

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
