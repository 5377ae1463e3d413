"""Status per activity and per key task, and the rule that gives a status code.

Format free: the figures come from the team's schedule (see ``m3docs.schedule``) or from the
engagement's ``status:`` block; nothing here knows a file format.

The rule, with ``as_of`` from the engagement (the README's "Status from your schedule"):

- **B** (completed) if % complete is 100 or an actual finish is set;
- **P** (upcoming) if % complete is 0 and the start is after as_of, or there is no start;
- **R** (late, critical) if the finish is before as_of and % complete is below 100;
- **Y** (late, not critical) if start <= as_of <= finish and % complete is more than 25
  points below planned, planned = 100 x (days from start to as_of) / (days start to finish);
- **G** (on track) otherwise.

A key task rolls up from its activities: earliest start, latest finish, mean % complete;
R if any activity is R, else Y if any is Y, else B if all are B, else P if all are P, else G.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Iterable

STATUS_CODES: dict[str, str] = {
    "B": "Completed",
    "G": "On track",
    "Y": "Late, not critical",
    "R": "Late, critical or high risk",
    "P": "Upcoming",
}
BEHIND_POINTS = 25      # Y when this many points behind plan
WINDOW_DAYS = 45        # the status deck's "next 30-45 days"


@dataclass(frozen=True)
class TaskStatus:
    """Progress of one key task, as the M3 status dashboard reports it."""

    percent_complete: int | None = None
    status: str | None = None
    start: dt.date | None = None
    finish: dt.date | None = None
    owner: str | None = None
    risks: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    accomplishments: tuple[str, ...] = ()
    upcoming: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivityStatus:
    """Progress of one activity, keyed by its IMS number ("3.14.2").

    ``source`` says where the code came from: "rule" (computed), "schedule" (the schedule's
    Status column), "engagement" (the engagement's ``status:`` for its key task)."""

    number: str
    percent_complete: int | None = None
    start: dt.date | None = None
    finish: dt.date | None = None
    actual_finish: dt.date | None = None
    status: str | None = None
    source: str = "rule"

    @property
    def dated(self) -> bool:
        return self.start is not None or self.finish is not None


@dataclass(frozen=True)
class ScheduleStatus:
    """What a schedule says, matched to the playbook: activities by IMS number, key-task
    roll-ups by id, and the file it came from."""

    source: str
    activities: dict[str, ActivityStatus] = field(default_factory=dict)
    tasks: dict[str, TaskStatus] = field(default_factory=dict)


def status_code(percent: float | None, start: dt.date | None, finish: dt.date | None,
                actual_finish: dt.date | None, as_of: dt.date) -> str:
    """The status code the rule gives one activity's figures on ``as_of``."""
    pct = percent or 0
    if pct >= 100 or actual_finish is not None:
        return "B"
    if start is None or (pct == 0 and start > as_of):
        return "P"
    if finish is not None and finish < as_of:
        return "R"
    if finish is not None and start <= as_of <= finish and pct < planned(start, finish, as_of) \
            - BEHIND_POINTS:
        return "Y"
    return "G"


def planned(start: dt.date, finish: dt.date, as_of: dt.date) -> float:
    """The % complete a straight line from start to finish expects on ``as_of``."""
    span = (finish - start).days
    if span <= 0:
        return 100.0 if as_of >= finish else 0.0
    return max(0.0, min(100.0, 100 * (as_of - start).days / span))


def roll_up_code(codes: Iterable[str]) -> str | None:
    """A key task's code from its activities' codes (None: no activity has one)."""
    seen = [c for c in codes if c]
    if not seen:
        return None
    for worst in ("R", "Y"):
        if worst in seen:
            return worst
    for same in ("B", "P"):
        if all(c == same for c in seen):
            return same
    return "G"


def roll_up(activities: Iterable[ActivityStatus]) -> TaskStatus:
    """A key task's figures from its activities: earliest start, latest finish, mean %."""
    acts = list(activities)
    starts = [a.start for a in acts if a.start]
    finishes = [a.finish for a in acts if a.finish]
    pcts = [a.percent_complete for a in acts if a.percent_complete is not None]
    return TaskStatus(percent_complete=round(sum(pcts) / len(pcts)) if pcts else None,
                      status=roll_up_code(a.status or "" for a in acts),
                      start=min(starts) if starts else None,
                      finish=max(finishes) if finishes else None)


def override(base: TaskStatus, given: TaskStatus) -> TaskStatus:
    """``base`` with every field ``given`` sets (the engagement over the schedule)."""
    changes = {k: v for k, v in given.__dict__.items() if v not in (None, ())}
    return replace(base, **changes)


def override_activity(act: ActivityStatus, given: TaskStatus) -> ActivityStatus:
    """An activity with the figures its key task's engagement entry sets."""
    changes: dict = {}
    if given.percent_complete is not None:
        changes["percent_complete"] = given.percent_complete
    if given.start is not None:
        changes["start"] = given.start
    if given.finish is not None:
        changes["finish"] = given.finish
    if given.status is not None:
        changes.update(status=given.status, source="engagement")
    return replace(act, **changes) if changes else act


def in_window(act: ActivityStatus, as_of: dt.date, days: int = WINDOW_DAYS) -> bool:
    """Whether an activity belongs on the "next 30-45 days" list: not completed, and in
    progress, or starting or finishing before ``as_of`` + ``days``."""
    if act.status == "B" or (act.percent_complete or 0) >= 100 or act.actual_finish:
        return False
    horizon = as_of + dt.timedelta(days=days)
    return any(d is not None and d <= horizon for d in (act.start, act.finish))
