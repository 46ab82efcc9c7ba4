"""A police-led case closed when the man went into custody (modelled on the public findings of the
Reading inquest, 2024): what today's rules catch, on which day, and who is told."""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.safeguards import RULES
from casetrail.replay.report import render

from .conftest import Replayed
from .reports import all_flags, assert_no_empty_section, assert_none_of_the_2014_case, told

pytestmark = pytest.mark.django_db


def _only(replayed: Replayed, rule: str) -> object:
    [flag] = [f for f in all_flags(replayed.outcome) if f.rule == rule]
    return flag


def test_the_unreviewed_police_led_case_is_flagged_then_escalated(replay_custody: Replayed) -> None:
    flag = _only(replay_custody, "police_led.review_overdue")
    assert flag.first_visible == date(2018, 5, 22) and flag.escalated_on == date(2018, 5, 29)  # type: ignore[attr-defined]
    assert flag.last_visible == date(2018, 6, 10)  # type: ignore[attr-defined]  # the day before it closed
    assert told(flag) == {"officer"}  # type: ignore[arg-type]


def test_closing_instead_of_transferring_is_flagged_to_the_last_owner(replay_custody: Replayed) -> None:
    flag = _only(replay_custody, "event.closed_not_transferred")
    assert flag.first_visible == date(2018, 6, 11) and told(flag) == {"officer"}  # type: ignore[attr-defined,arg-type]
    assert "taken into custody on 4 June 2018" in flag.latest.message  # type: ignore[attr-defined]
    assert RULES["event.closed_not_transferred"].category == "significant events"


def test_the_release_after_closure_is_put_to_the_last_owner_as_a_possible_re_referral(
        replay_custody: Replayed) -> None:
    flag = _only(replay_custody, "event.possible_rereferral")
    assert flag.first_visible == date(2019, 3, 18) and told(flag) == {"officer"}  # type: ignore[attr-defined,arg-type]
    assert "280 days after the case closed" in flag.latest.message  # type: ignore[attr-defined]


def test_the_report_is_this_case_s_own_with_no_empty_section(replay_custody: Replayed) -> None:
    report = render(replay_custody.outcome)
    assert "### R1: The case was closed, not transferred, when he went into custody" in report
    assert "### R2: His release was not connected to the closed case" in report
    assert "escalated to the panel chair" not in report  # escalations here go to the force's duty owner
    assert_no_empty_section(report)
    assert_none_of_the_2014_case(report)


def test_the_replay_leaves_nothing_behind(replay_custody: Replayed) -> None:
    assert replay_custody.rows_left == 0
