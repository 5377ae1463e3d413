"""Small pieces every renderer shares: locale-free dates, per-template caches, and the
stakeholder roles nobody is named for yet."""
from __future__ import annotations

import datetime as dt
import weakref
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from ..ooxml.package import Template
from ..content import unnamed_line  # noqa: F401  (one rule, owned by the content model)
from ..playbook.model import Party, Stakeholder

if TYPE_CHECKING:
    from ..engagement import Engagement

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
T = TypeVar("T")


def long_date(day: dt.date | None) -> str:
    """'November 24, 2026', whatever the process locale ('' for no date)."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}" if day else ""


def short_date(day: dt.date | None) -> str:
    """'Nov 24, 2026'."""
    return f"{MONTHS[day.month - 1][:3]} {day.day}, {day.year}" if day else ""


def per_template(analyse: Callable[[Template], T]) -> Callable[[Template], T]:
    """Cache ``analyse(template)`` with the Template object: template work is done once."""
    cache: "weakref.WeakKeyDictionary[Template, T]" = weakref.WeakKeyDictionary()

    def cached(template: Template) -> T:
        found = cache.get(template)
        if found is None:
            found = cache[template] = analyse(template)
        return found

    cached.__doc__ = analyse.__doc__
    cached.__name__ = getattr(analyse, "__name__", "cached")
    return cached


# -- stakeholders nobody is named for yet -------------------------------------------------
UNNAMED_LABEL = "To be named"


def takes_part(stakeholder: Stakeholder, party: Party) -> bool:
    """Whether ``party`` fills the role (a shared role is the customer's and the provider's)."""
    return party in stakeholder.parties or (Party.SHARED in stakeholder.parties
                                            and party is not Party.QSMO)


def named_first(stakeholders: Iterable[Stakeholder], engagement: Engagement
                ) -> tuple[list[Stakeholder], list[Stakeholder]]:
    """The roles someone is named for (any of their parties), and the roles nobody is named
    for yet: those are gathered in one line (``unnamed_line``) rather than a row each."""
    named, unnamed = [], []
    for sh in stakeholders:
        people = [engagement.person(sh.role.plain, p) for p in sh.parties]
        people += [engagement.person(sh.role.plain, p) for p in (Party.CUSTOMER, Party.PROVIDER)
                   if Party.SHARED in sh.parties]
        (named if any(people) else unnamed).append(sh)
    return named, unnamed
