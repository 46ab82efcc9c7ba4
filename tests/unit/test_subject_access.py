"""The statutory clock for subject access requests, redaction grounds and rectification rules."""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.subject_access import (
    MAX_EXTENSION_MONTHS,
    RedactionReason,
    RequestTimes,
    corrected_value_errors,
    extension_errors,
    next_working_day,
    received_errors,
    rectification_errors,
    redacted,
    redaction_errors,
    response_due,
)

GOOD_REASON = "Hundreds of records across four cases must be reviewed for third parties."


def fields(errors: list[tuple[str, str]]) -> set[str]:
    return {name for name, _ in errors}


def test_the_answer_is_due_on_the_same_date_next_month() -> None:
    assert response_due(date(2026, 3, 3)) == date(2026, 4, 3)  # a Friday


def test_with_no_such_date_next_month_the_answer_is_due_on_its_last_day() -> None:
    assert response_due(date(2025, 8, 31)) == date(2025, 9, 30)  # a Tuesday
    # 28 February 2026 is a Saturday, so the deadline moves to Monday 2 March.
    assert response_due(date(2026, 1, 31)) == date(2026, 3, 2)


def test_a_deadline_on_a_weekend_or_given_holiday_moves_to_the_next_working_day() -> None:
    assert response_due(date(2026, 4, 3)) == date(2026, 5, 4)  # 3 May 2026 is a Sunday
    assert response_due(date(2026, 4, 3), holidays={date(2026, 5, 4)}) == date(2026, 5, 5)  # bank holiday
    assert response_due(date(2026, 2, 7)) == date(2026, 3, 9)  # 7 March 2026 is a Saturday
    assert next_working_day(date(2026, 3, 9)) == date(2026, 3, 9)


def test_an_extension_adds_whole_calendar_months_up_to_two() -> None:
    assert response_due(date(2026, 3, 3), 1) == date(2026, 5, 4)  # 3 May is a Sunday
    assert response_due(date(2026, 3, 3), 2) == date(2026, 6, 3)
    with pytest.raises(ValueError):
        response_due(date(2026, 3, 3), 3)


def test_overdue_is_a_question_of_the_date_asked_or_the_date_answered() -> None:
    times = RequestTimes(date(2026, 3, 3))
    assert not times.is_overdue(date(2026, 4, 3))
    assert times.is_overdue(date(2026, 4, 4))
    assert times.days_left(date(2026, 4, 1)) == 2
    answered_late = RequestTimes(date(2026, 3, 3), completed_on=date(2026, 4, 10))
    assert answered_late.is_overdue(date(2026, 5, 1))
    assert not RequestTimes(date(2026, 3, 3), completed_on=date(2026, 4, 2)).is_overdue(date(2026, 9, 1))


def test_a_received_date_must_be_given_and_not_in_the_future() -> None:
    today = date(2026, 3, 10)
    assert received_errors(None, today=today)
    assert received_errors(date(2026, 3, 11), today=today)
    assert received_errors(date(2026, 3, 10), today=today) == []


def test_an_extension_needs_a_reason_within_the_first_month_and_at_most_two_months_in_all() -> None:
    times = RequestTimes(date(2026, 3, 3))
    assert extension_errors(times, months=2, reason=GOOD_REASON, on=date(2026, 3, 20)) == []
    assert "reason" in fields(extension_errors(times, months=1, reason="busy", on=date(2026, 3, 20)))
    assert "months" in fields(extension_errors(times, months=3, reason=GOOD_REASON, on=date(2026, 3, 20)))
    assert "months" in fields(extension_errors(times, months=None, reason=GOOD_REASON, on=date(2026, 3, 20)))
    late = extension_errors(times, months=1, reason=GOOD_REASON, on=date(2026, 4, 6))
    assert any("within the first month" in message for _, message in late)
    used = RequestTimes(date(2026, 3, 3), extension_months=MAX_EXTENSION_MONTHS)
    assert any("as far as the law allows" in m for _, m in extension_errors(used, months=1, reason=GOOD_REASON,
                                                                           on=date(2026, 3, 20)))
    one_left = RequestTimes(date(2026, 3, 3), extension_months=1)
    assert "months" in fields(extension_errors(one_left, months=2, reason=GOOD_REASON, on=date(2026, 3, 20)))
    answered = RequestTimes(date(2026, 3, 3), completed_on=date(2026, 3, 10))
    assert "" in fields(extension_errors(answered, months=1, reason=GOOD_REASON, on=date(2026, 3, 20)))


def test_a_redaction_needs_a_listed_ground_and_reasons() -> None:
    assert redaction_errors("third_party", "Names the referrer's colleague who saw it.") == []
    assert fields(redaction_errors("because", "Names the referrer's colleague who saw it.")) == {"reason"}
    assert fields(redaction_errors("police_source", "")) == {"rationale"}
    other = redaction_errors("other", "Exempt under a schedule.")
    assert fields(other) == {"rationale"}
    assert redaction_errors("other", "Exempt under DPA 2018 Schedule 2 para 2 (crime and taxation) because...") == []


def test_a_redacted_value_is_replaced_by_its_ground() -> None:
    assert redacted("secret", RedactionReason.POLICE_SOURCE) == "[Redacted: sensitive police source or intelligence]"
    assert redacted("kept", None) == "kept"
    assert "s.45(4)" in RedactionReason.CRIME_PREVENTION.placeholder


def test_corrected_values_are_checked_by_kind() -> None:
    today = date(2026, 3, 10)
    assert corrected_value_errors("birth", "2008-05-17", today=today) == []
    assert corrected_value_errors("birth", "2008", today=today) == []
    assert corrected_value_errors("birth", "17/05/2008", today=today)
    assert corrected_value_errors("birth", "2008-02-30", today=today)
    assert corrected_value_errors("birth", "2027-01-01", today=today)
    assert corrected_value_errors("text", "  ", today=today)
    assert corrected_value_errors("optional_text", "", today=today) == []
    assert corrected_value_errors("sex", "female", today=today) == []
    assert corrected_value_errors("sex", "robot", today=today)


def test_accepting_needs_a_new_value_refusing_does_not_and_both_need_reasons() -> None:
    today = date(2026, 3, 10)
    reasons = "Birth certificate seen at the meeting on 3 March."
    assert rectification_errors(kind="birth", outcome="accepted", current="2008-05-17", corrected="2008-05-71",
                                rationale=reasons, today=today)
    same = rectification_errors(kind="text", outcome="accepted", current="Okafor", corrected="Okafor",
                                rationale=reasons, today=today)
    assert fields(same) == {"corrected_value"}
    assert rectification_errors(kind="text", outcome="refused", current="Okafor", corrected="",
                                rationale=reasons, today=today) == []
    assert fields(rectification_errors(kind="text", outcome="refused", current="Okafor", corrected="",
                                       rationale="no", today=today)) == {"rationale"}
    assert fields(rectification_errors(kind="text", outcome="maybe", current="a", corrected="b",
                                       rationale=reasons, today=today)) == {"outcome"}
