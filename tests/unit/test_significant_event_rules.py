"""What a significant event asks of a case, on plain records."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from casetrail.core import safeguards as s
from casetrail.core.safeguard_policy import DEFAULT_POLICY

D0 = date(2025, 5, 5)
OWNER = 10


def d(days: int) -> date:
    return D0 + timedelta(days=days)


def in_support(*events: s.SignificantEventRec, assessed: int = 0, agenda: tuple[tuple[date, date], ...] = ()
               ) -> s.CaseRecord:
    return s.CaseRecord(
        case_id=1, referred_on=D0, states=(s.StateRec(D0, "support", OWNER, 2),),
        assessments=(s.AssessmentRec(1, "vaf:2012", None, d(assessed), d(assessed), ()),),
        significant_events=events, agenda=agenda)


def event(id: int = 1, kind: str = "released", on: int = 10, responded: int | None = None) -> s.SignificantEventRec:
    return s.SignificantEventRec(id, kind, kind.replace("_", " ").title(), d(on), d(on),
                                 d(responded) if responded is not None else None)


def rules(record: s.CaseRecord, day: int) -> set[str]:
    return {f.rule for f in s.findings(record.as_of(d(day)), today=d(day), policy=DEFAULT_POLICY)}


def test_a_newer_assessment_answers_the_event_and_lets_exit_through() -> None:
    stale = in_support(event(on=10))
    assert "event.reassessment_due" in rules(stale, 11)
    refused = s.exit_gate(stale, on=d(12), policy=DEFAULT_POLICY, rationale="x" * 40)
    assert "exit.assessment_before_event" in {u.code for u in refused}
    fresh = dataclasses.replace(stale, assessments=(*stale.assessments,
                                                    s.AssessmentRec(2, "vaf:2012", None, d(11), d(11), ())))
    assert "event.reassessment_due" not in rules(fresh, 12)
    assert "exit.assessment_before_event" not in {
        u.code for u in s.exit_gate(fresh, on=d(12), policy=DEFAULT_POLICY, rationale="x" * 40)}


def test_an_event_is_not_on_the_agenda_until_a_meeting_on_or_after_it_has_the_case() -> None:
    assert "event.not_on_agenda" in rules(in_support(event(on=10), agenda=((d(1), d(5)),)), 11)
    assert "event.not_on_agenda" not in rules(in_support(event(on=10), agenda=((d(11), d(20)),)), 11)
    # Known only from the day the item was added.
    assert "event.not_on_agenda" in rules(in_support(event(on=10), agenda=((d(12), d(20)),)), 11)


def test_a_meeting_concern_waits_the_interval_then_flags_until_decided() -> None:
    interval = DEFAULT_POLICY.meeting_concern_response_days
    concern = in_support(event(kind="meeting_concern", on=10))
    assert "event.meeting_concern_unanswered" not in rules(concern, 10 + interval)
    assert "event.meeting_concern_unanswered" in rules(concern, 11 + interval)
    answered = in_support(event(kind="meeting_concern", on=10, responded=12))
    assert "event.meeting_concern_unanswered" not in rules(answered, 40)
    assert "event.meeting_concern_unanswered" not in rules(in_support(event(kind="released", on=10)), 40)


def test_after_closure_only_events_within_the_watch_period_ask_about_re_referral() -> None:
    closed = s.CaseRecord(case_id=1, referred_on=D0, states=(s.StateRec(D0, "gateway", OWNER, 1),
                                                               s.StateRec(d(5), "closed", OWNER, 1)))
    soon = dataclasses.replace(closed, significant_events=(event(on=100),))
    late = dataclasses.replace(closed, significant_events=(event(on=5 + DEFAULT_POLICY.rereferral_watch_days + 1),))
    assert "event.possible_rereferral" in rules(soon, 100)
    assert "event.possible_rereferral" not in rules(late, 500)
    done = dataclasses.replace(closed, significant_events=(event(on=100, responded=101),))
    assert "event.possible_rereferral" not in rules(done, 102)
