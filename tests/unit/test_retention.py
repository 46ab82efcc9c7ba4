"""The retention rules: classes by outcome, review dates from closure, and when disposal is allowed."""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.retention import (
    DEFAULT_RETENTION_POLICY,
    RetentionClass,
    RetentionFacts,
    RetentionPolicy,
    ReviewState,
    add_years,
    disposal_allowed,
    disposal_unmet,
    retention_class,
    review_due_on,
    review_errors,
    review_state,
    review_unmet,
)

CLOSED = date(2020, 3, 10)
REASON = "Reviewed against the schedule; nothing requires it to be kept."


def facts(**overrides: object) -> RetentionFacts:
    values: dict[str, object] = {"closed_on": CLOSED, "outcome": "no_further_action"}
    values.update(overrides)
    return RetentionFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("outcome", "expected", "years"), [
    ("no_further_action", RetentionClass.NO_FURTHER_ACTION, 3),
    ("signposted", RetentionClass.SIGNPOSTED, 3),
    ("police_led", RetentionClass.POLICE_LED, 6),
    ("not_adopted", RetentionClass.CHANNEL_NOT_ADOPTED, 6),
    ("exited", RetentionClass.CHANNEL, 6),
    ("consent_refused", RetentionClass.CHANNEL, 6),
    ("transferred", RetentionClass.CHANNEL, 6),
    ("something_new", RetentionClass.UNCLASSIFIED, 6),
    ("", RetentionClass.UNCLASSIFIED, 6),
])
def test_each_outcome_has_a_class_and_a_default_period(outcome: str, expected: RetentionClass, years: int) -> None:
    assert retention_class(outcome) is expected
    assert DEFAULT_RETENTION_POLICY.years_for(expected) == years
    assert review_due_on(facts(outcome=outcome)) == date(2020 + years, 3, 10)


def test_every_setting_has_a_meaning_and_a_source() -> None:
    described = DEFAULT_RETENTION_POLICY.describe()
    assert {row[0] for row in described} >= {c.setting for c in RetentionClass}
    assert all(meaning and source for _, meaning, _, _, source in described)


def test_periods_are_configurable_and_bad_values_refused() -> None:
    policy = DEFAULT_RETENTION_POLICY.with_overrides({"no_further_action_years": 5})
    assert review_due_on(facts(), policy) == date(2025, 3, 10)
    for bad in ({"no_further_action_years": 0}, {"channel_years": "6"}, {"channel_years": True},
                {"retention_years": 3}, {"review_grace_days": -1}):
        with pytest.raises(ValueError):
            DEFAULT_RETENTION_POLICY.with_overrides(bad)


def test_an_open_case_has_no_review_date() -> None:
    assert review_due_on(facts(closed_on=None)) is None
    assert review_state(facts(closed_on=None), date(2030, 1, 1)) is ReviewState.OPEN


def test_a_retain_decision_moves_the_review() -> None:
    assert review_due_on(facts(next_review_on=date(2024, 1, 1))) == date(2024, 1, 1)


def test_leap_day_closures_fall_due_on_28_february() -> None:
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(("today", "state"), [
    (date(2023, 2, 7), ReviewState.NOT_DUE),
    (date(2023, 2, 8), ReviewState.UPCOMING),  # 30 days' notice
    (date(2023, 3, 10), ReviewState.DUE),
    (date(2023, 4, 7), ReviewState.DUE),  # 28 days' grace
    (date(2023, 4, 8), ReviewState.OVERDUE),
])
def test_review_state_through_time(today: date, state: ReviewState) -> None:
    assert review_state(facts(), today) is state


def test_disposal_needs_a_due_review_a_decision_and_no_hold() -> None:
    today = date(2023, 3, 10)
    assert disposal_allowed(facts(dispose_decided=True), today)
    assert [u.code for u in disposal_unmet(facts(), today)] == ["retention.no_dispose_decision"]
    assert [u.code for u in disposal_unmet(facts(dispose_decided=True), date(2023, 3, 9))] == [
        "retention.review_not_due"]
    held = facts(dispose_decided=True, holds=("Legal proceedings: a civil claim",))
    [unmet] = disposal_unmet(held, today)
    assert unmet.code == "retention.held" and "a civil claim" in unmet.message
    assert [u.code for u in disposal_unmet(facts(closed_on=None, dispose_decided=True), today)] == [
        "retention.case_open"]
    assert [u.code for u in disposal_unmet(facts(disposed=True, dispose_decided=True), today)] == [
        "retention.disposed"]


def test_a_decision_to_dispose_is_refused_while_held_but_retaining_is_not() -> None:
    held = facts(holds=("Under review: learning review",))
    today = date(2024, 1, 1)
    assert [u.code for u in review_unmet(held, decision="dispose", today=today)] == ["retention.held"]
    assert review_unmet(held, decision="retain", today=today) == []


@pytest.mark.parametrize(("decision", "reason", "next_review_on", "field"), [
    ("keep", REASON, None, "decision"),
    ("retain", "", date(2025, 1, 1), "reason"),
    ("retain", "Too short", date(2025, 1, 1), "reason"),
    ("retain", REASON, None, "next_review_on"),
    ("retain", REASON, date(2024, 1, 1), "next_review_on"),
    ("retain", REASON, date(2030, 1, 2), "next_review_on"),
    ("dispose", REASON, date(2025, 1, 1), "next_review_on"),
])
def test_review_input_errors_name_the_field(decision: str, reason: str, next_review_on: date | None,
                                            field: str) -> None:
    errors = review_errors(decision=decision, reason=reason, next_review_on=next_review_on, today=date(2024, 1, 1))
    assert list(errors) == [field]


def test_good_review_input_has_no_errors() -> None:
    today = date(2024, 1, 1)
    assert review_errors(decision="retain", reason=REASON, next_review_on=date(2030, 1, 1), today=today) == {}
    assert review_errors(decision="dispose", reason=REASON, next_review_on=None, today=today) == {}
    assert RetentionPolicy().retain_max_years == 6
