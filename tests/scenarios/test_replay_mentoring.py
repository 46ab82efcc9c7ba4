"""Mentoring that petered out while nobody owned it (modelled on Lessons for Prevent, July 2025,
and the Fishmongers' Hall inquest, 2021): what fires, on which day, and who is told.

Expected days from the file and the default policy: sessions 5 Apr, 26 Apr, 17 May 2022, so
session 4 is due 21 days after the third (7 June); hand-over offered 20 June + 5 working days;
assessment 21 March + 90 days; a flag not dealt with is escalated 7 days later.
"""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.replay.report import Flag, render

from .conftest import Replayed
from .reports import all_flags, assert_no_empty_section, assert_none_of_the_2014_case, told

# Each test reads the session's replay; the marker makes sure the test database is set up for it.
pytestmark = pytest.mark.django_db


def _only(replayed: Replayed, rule: str) -> Flag:
    [flag] = [f for f in all_flags(replayed.outcome) if f.rule == rule]
    return flag


def test_the_stopped_mentoring_is_flagged_the_day_after_the_next_session_was_due_and_escalated(
        replay_mentoring: Replayed) -> None:
    flag = _only(replay_mentoring, "session.overdue")
    assert flag.first_visible == date(2022, 6, 8)
    assert "Session 4 of 6 was due by 7 June 2022" in flag.first.message
    assert told(flag) == {"coordinator", "mentor"}
    assert flag.escalated_on == date(2022, 6, 15)
    assert told(flag, "escalation") == {"chair"}
    assert flag.open  # still open at the exit: nobody dealt with it


def test_the_unanswered_hand_over_is_flagged_to_the_receiver_and_escalated_to_the_chair(
        replay_mentoring: Replayed) -> None:
    flag = _only(replay_mentoring, "handover.unanswered")
    assert flag.first_visible == date(2022, 6, 28)
    assert "coordinator2" in told(flag)
    assert flag.escalated_on == date(2022, 7, 5)
    assert told(flag, "escalation") == {"chair"}


def test_the_unrenewed_assessment_is_flagged_to_the_coordinator(replay_mentoring: Replayed) -> None:
    flag = _only(replay_mentoring, "assessment.outdated")
    assert flag.first_visible == date(2022, 6, 20)
    assert told(flag) == {"coordinator"}


def test_the_exit_is_blocked_for_the_unfinished_mentoring_and_goes_ahead_as_it_did(
        replay_mentoring: Replayed) -> None:
    outcome = replay_mentoring.outcome
    [block] = outcome.blocks
    assert (block.event.do, block.event.on) == ("exit", date(2022, 10, 19))
    assert set(block.rules) == {"exit.sessions_outstanding", "exit.assessment_outdated",
                                "exit.referrer_not_consulted"}
    assert "3 of 6 commissioned sessions" in block.message
    override = _only(replay_mentoring, "gate.overridden")
    assert override.first_visible == date(2022, 10, 19)
    assert told(override) == {"chair"}


def test_the_report_groups_by_the_file_s_findings_with_no_empty_section(replay_mentoring: Replayed) -> None:
    report = render(replay_mentoring.outcome)
    assert "### M1: Mentoring allowed to peter out" in report
    assert "### M2: Confusion over who owned the mentoring" in report
    m1 = report[report.index("### M1"):report.index("### M2")]
    assert "`session.overdue`" in m1 and "`handover.unanswered`" not in m1
    assert "## What the searches found" not in report  # nobody searched
    assert_no_empty_section(report)
    assert_none_of_the_2014_case(report)


def test_the_replay_leaves_nothing_behind(replay_mentoring: Replayed) -> None:
    assert replay_mentoring.rows_left == 0
