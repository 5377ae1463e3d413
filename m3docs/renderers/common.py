"""Small pieces every renderer shares: locale-free dates and per-template caches."""
from __future__ import annotations

import datetime as dt
import weakref
from typing import Callable, TypeVar

from ..ooxml.package import Template

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
