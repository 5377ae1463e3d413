"""Class 7: engagement values that are wrong, each reported with FILE:LINE."""
from __future__ import annotations

from pathlib import Path

import pytest

from m3docs.engagement import load_engagement
from m3docs.errors import M3DocsError
from m3docs.playbook.loader import load_playbook

from .conftest import ENGAGEMENT, KEY_TASK, assert_error, page_text, snapshot

# ENGAGEMENT lines: 1 agency, 2 program, 3 provider, 4 as_of, 5 leads, 6 customer, 7 provider,
# 8 status, 9 "1.2", 10 percent_complete, 11 status, 12 start.
BAD_VALUES = [
    ("unknown-top-key", "provider: Example Provider", "provder: Example Provider", 3,
     "unknown key 'provder'"),
    ("base-url-is-no-engagement-key", "provider: Example Provider",
     "provider: Example Provider\nbase_url: https://mirror.example.org", 4, "unknown key 'base_url'"),
    ("unknown-status-key", "    percent_complete: 40", "    percent: 40", 10, "unknown key 'percent'"),
    ("status-code-X", "    status: G", "    status: X", 11, "not one of B, G, Y, R, P"),
    ("status-code-word", "    status: G", "    status: Green", 11, "not one of"),
    ("status-code-list", "    status: G", "    status: [G]", 11, "must be text"),
    ("percent-over", "percent_complete: 40", "percent_complete: 101", 10, "0 to 100"),
    ("percent-negative", "percent_complete: 40", "percent_complete: -5", 10, "0 to 100"),
    ("percent-text", "percent_complete: 40", "percent_complete: forty", 10, "0 to 100"),
    ("percent-bool", "percent_complete: 40", "percent_complete: yes", 10, "0 to 100"),
    ("percent-nan", "percent_complete: 40", "percent_complete: .nan", 10, "0 to 100"),
    ("percent-inf", "percent_complete: 40", "percent_complete: .inf", 10, "0 to 100"),
    ("impossible-date", "start: 2026-10-01", "start: 2026-02-30", 12,
     "'start': bad value '2026-02-30'"),
    ("impossible-quoted-date", "start: 2026-10-01", 'start: "2026-13-01"', 12, "YYYY-MM-DD"),
    ("date-as-number", "as_of: 2026-11-24", "as_of: 20261124", 4, "YYYY-MM-DD"),
    ("finish-before-start", "start: 2026-10-01", "start: 2026-10-01\n    finish: 2026-09-01", 13,
     "'finish' 2026-09-01 is before 'start' 2026-10-01"),
    ("unknown-party-in-leads", "  provider: Pat Provider", "  vendor: Pat Provider", 7,
     "unknown party 'vendor'"),
    ("leads-not-mapping", "leads:\n  customer: Ann Customer\n  provider: Pat Provider",
     "leads: [Ann, Pat]", 5, "'leads' must be a mapping"),
    ("agency-mapping", "agency: Department of Tests", "agency: {name: X}", 1, "must be text"),
    ("missing-agency", "agency: Department of Tests\n", "", 1, "missing required field 'agency'"),
]


@pytest.mark.parametrize("case,old,new,line,message", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_engagement_value(tmp_path, case, old, new, line, message):
    assert ENGAGEMENT.count(old) == 1
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace(old, new))
    before = snapshot(tmp_path)
    with pytest.raises(M3DocsError) as info:
        load_engagement(path)
    assert_error(info.value.diagnostics, path, line, message)
    assert snapshot(tmp_path) == before


def test_every_problem_reported_at_once(tmp_path):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace("status: G", "status: Q").replace("40", "400")
                    + "colour: blue\n")
    with pytest.raises(M3DocsError) as info:
        load_engagement(path)
    assert sorted(d.line for d in info.value.errors) == [10, 11, 13]


@pytest.fixture
def playbook(tmp_path: Path):
    root = tmp_path / "pb" / "_pages" / "m3" / "keyTask"
    root.mkdir(parents=True)
    (root / "1.2.md").write_text(page_text(KEY_TASK))
    return load_playbook(tmp_path / "pb")


def test_status_key_task_not_in_playbook(tmp_path, playbook):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT.replace('"1.2":', '"9.9":'))
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook)
    assert_error(info.value.diagnostics, path, 9, "key task 9.9")


def test_scope_key_task_not_in_playbook(tmp_path, playbook):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT + "scope:\n  key_tasks:\n    - '1.2'\n    - '7.7'\n")
    with pytest.raises(M3DocsError) as info:
        load_engagement(path, playbook)
    assert_error(info.value.diagnostics, path, 16, "key task 7.7 in 'scope'")


def test_known_key_task_passes(tmp_path, playbook):
    path = tmp_path / "engagement.yaml"
    path.write_text(ENGAGEMENT)
    eng = load_engagement(path, playbook)
    assert eng.task_status("1.2").percent_complete == 40 and eng.task_status("1.2").status == "G"


def test_missing_engagement_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(M3DocsError) as info:
        load_engagement(path)
    assert_error(info.value.diagnostics, path, 0, "cannot read")  # no line: the whole file
    assert not path.exists()
