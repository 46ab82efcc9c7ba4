"""Three referrals of one boy, each closed at the gateway (modelled on the public facts of the
February 2025 Southport learning review): what today's rules catch, on which day, and who is told.

Each later referral spells the surname differently (Ashbrige, Asbridge for Ashbridge) with the
same date of birth, so it makes a new person record; nobody links the records, as at the time.
Casetrail matches each referral at intake: the earlier ones become possible earlier records that
block the gateway until resolved and count as repeat referrals although nobody linked them.
"""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.safeguards import RULES
from casetrail.replay.report import render

from .conftest import Replayed
from .reports import all_flags, assert_no_empty_section, assert_none_of_the_2014_case, told

# Each test reads the session's replay; the marker makes sure the test database is set up for it.
pytestmark = pytest.mark.django_db

GATEWAY_DAYS = [date(2020, 1, 6), date(2021, 3, 1), date(2021, 5, 4)]
OFFICER_OF = {date(2020, 1, 6): "officer", date(2021, 3, 1): "officer2", date(2021, 5, 4): "officer"}


def test_the_file_makes_three_referrals_each_a_misspelling_of_the_first(replay_repeat_referrals: Replayed) -> None:
    outcome = replay_repeat_referrals.outcome
    referrals = [e for e in outcome.replay.events if e.do == "referral"]
    assert [e.on for e in referrals] == [date(2019, 12, 9), date(2021, 2, 15), date(2021, 4, 19)]
    subject = outcome.replay.subject
    assert (subject.given_names, subject.family_name) == ("Callum", "Ashbridge")
    assert [e.values["family_name"] or subject.family_name for e in referrals] == ["Ashbridge", "Ashbrige",
                                                                                    "Asbridge"]
    assert len(outcome.cases) == 3  # a new case, and a new person record, for each
    assert [c.record.stage for c in outcome.cases] == ["closed"] * 3  # none reached a panel


def test_each_close_is_blocked_on_its_day_and_goes_ahead_as_it_did(replay_repeat_referrals: Replayed) -> None:
    outcome = replay_repeat_referrals.outcome
    assert [(b.event.on, b.event.by, set(b.rules)) for b in outcome.blocks] == [
        (GATEWAY_DAYS[0], "officer", {"gateway.no_ideology_alone"}),
        # The second and third: a possible earlier record found at intake was never resolved.
        (GATEWAY_DAYS[1], "officer2", {"gateway.unresolved_match", "gateway.no_ideology_alone"}),
        # The third is the third referral in the window, counted although nobody linked them.
        (GATEWAY_DAYS[2], "officer", {"gateway.unresolved_match", "gateway.no_ideology_alone",
                                      "gateway.repeat_needs_second_review"}),
    ]
    assert RULES["gateway.no_ideology_alone"].category == "gateway"
    assert RULES["gateway.unresolved_match"].category == "repeat referrals"
    overridden = [f for f in all_flags(outcome) if f.rule == "gate.overridden"]
    assert [f.first_visible for f in overridden] == GATEWAY_DAYS
    assert all(f.latest.who == "Channel panel chair" and not f.told for f in overridden)  # shown, not messaged


def test_each_gateway_decision_is_flagged_for_the_referrer_not_consulted_and_its_officer_told(
        replay_repeat_referrals: Replayed) -> None:
    outcome = replay_repeat_referrals.outcome
    not_consulted = [f for f in all_flags(outcome) if f.rule == "referrer.not_consulted"]
    assert [f.first_visible for f in not_consulted] == GATEWAY_DAYS
    for flag in not_consulted:
        assert told(flag) == {OFFICER_OF[flag.first_visible]}
        assert {t.queued_on for t in flag.told} == {flag.first_visible}
    referrers = [(t.queued_on, t.recipient) for t in outcome.told if t.kind == "referrer_outcome"]
    assert referrers == [(date(2020, 1, 6), "dsl"), (date(2021, 3, 1), "pru_lead"), (date(2021, 5, 4), "social_worker")]


def test_the_later_referrals_are_connected_at_intake_although_nobody_linked_them(
        replay_repeat_referrals: Replayed) -> None:
    flags = all_flags(replay_repeat_referrals.outcome)
    unresolved = [f for f in flags if f.rule == "referral.unresolved_match"]
    # One for the second referral (the first person), two for the third (both earlier records).
    assert [f.first_visible for f in unresolved] == [date(2021, 2, 15), date(2021, 4, 19), date(2021, 4, 19)]
    for flag in unresolved:
        # The gateway owner is told the day it arrives, and again on escalation three days later.
        assert [(t.queued_on - flag.first_visible).days for t in flag.told] == [0, 4]
        assert told(flag) == {"officer"}
    repeat = [f for f in flags if f.rule == "referral.repeat"]
    assert [(f.first_visible, "2 earlier referrals" in f.latest.message) for f in repeat] == [
        (date(2021, 2, 15), False), (date(2021, 4, 19), True)]


def test_the_report_says_what_matching_found_at_each_referral_and_that_none_was_resolved(
        replay_repeat_referrals: Replayed) -> None:
    report = render(replay_repeat_referrals.outcome)
    assert "## What matching found at each referral" in report
    section = report.split("## What matching found at each referral")[1].split("\n## ")[0]
    assert "**first_referral**" in section and "no possible earlier record" in section
    assert section.count("**not resolved**") == 3  # one for the second referral, two for the third
    assert "(referrals: first_referral)" in section and "(referrals: second_referral)" in section


def test_each_officer_s_search_reports_what_it_found_on_that_day(replay_repeat_referrals: Replayed) -> None:
    outcome = replay_repeat_referrals.outcome
    searches = outcome.searches
    assert [(s.event.on, s.event.values["query"]) for s in searches] == [
        (date(2021, 2, 17), "Callum Ashbrige"), (date(2021, 4, 20), "Callum Asbridge")]
    assert searches[0].found_earlier == ("first_referral",)
    assert set(searches[1].found_earlier) == {"first_referral", "second_referral"}
    # on 17 February 2021 the third referral did not exist yet
    assert [len(s.hits) for s in searches] == [2, 3]
    report = render(outcome)
    assert "## What the searches found" in report
    first_ref = searches[0].hits[1][2][0]
    assert first_ref.endswith(" (first_referral)")  # named as the file names it
    assert (f"for \u201cCallum Ashbrige\u201d: person {searches[0].hits[0][0]}, score 1.00" in report)
    assert f"referrals {first_ref}; it found the earlier referral of this person." in report


def test_the_report_is_this_case_s_own_with_no_empty_section(replay_repeat_referrals: Replayed) -> None:
    report = render(replay_repeat_referrals.outcome)
    assert "### S1: Three referrals, each closed at the gateway within weeks; none reached a panel" in report
    assert "### S2: Too much weight on \"no distinct ideology\"" in report
    assert "### S3: The surname was misspelt" in report
    assert "### Referrer: not consulted" in report  # a kind none of its findings covers
    assert_no_empty_section(report)
    assert_none_of_the_2014_case(report)


def test_the_replay_leaves_nothing_behind(replay_repeat_referrals: Replayed) -> None:
    assert replay_repeat_referrals.rows_left == 0
