"""Significant events: what they set off on a case (reassessment, the panel's agenda, a decision
about a meeting's concern, a look at re-referral after closure), and the bad input they refuse."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.cases import safeguards, services
from casetrail.cases.models import AgendaItem, Case, SignificantEvent
from casetrail.core.errors import AccessDenied, InvalidInput

from .conftest import PASSWORD, World, case_in_support, frozen_at, moment

WHY = "Discussed at the panel; the mentor will visit weekly and the school watches his contacts."


def record(world: World, case: Case, kind: str = "released", who: str = "police", **values: Any) -> SignificantEvent:
    fields: dict[str, Any] = dict(kind=kind, occurred_on=clock.today(), source="Probation, by phone",
                                  summary="Released from custody to his mother's address.")
    fields.update(values)
    return services.significant_event_record(user=world.users[who], case=case, **fields)


def rules_on(case: Case, day: date) -> dict[str, Any]:
    return {f.rule: f for f in safeguards.case_findings(Case.objects.get(pk=case.pk), as_of=day)}


def test_an_event_makes_the_assessment_due_again_and_exit_waits_for_it(world: World) -> None:
    case = case_in_support(world)  # assessed today
    today = clock.today()
    record(world, case)  # the same day: the assessment may well have weighed it
    assert "event.reassessment_due" not in rules_on(case, today)
    assert "exit.assessment_before_event" not in {u.code for u in safeguards.exit_blockers(case)}
    tomorrow = today + timedelta(days=1)
    with frozen_at(moment(tomorrow)):
        record(world, case, kind="arrest_or_charge", occurred_on=tomorrow, summary="Arrested for a public order offence.")
        assert "exit.assessment_before_event" in {u.code for u in safeguards.exit_blockers(
            Case.objects.get(pk=case.pk))}
    found = rules_on(case, tomorrow)["event.reassessment_due"]
    assert found.since == tomorrow and found.notify == (case.owner_user_id,) and found.severity == "warning"
    assert rules_on(case, tomorrow + timedelta(days=29))["event.reassessment_due"].severity == "overdue"
    assert rules_on(case, tomorrow + timedelta(days=40))["event.reassessment_due"].escalated_to


def test_an_open_channel_case_goes_on_the_next_panel_agenda(world: World) -> None:
    case = case_in_support(world)
    today = clock.today()
    past = AgendaItem.objects.get(case=case).meeting
    assert past.meets_on == today
    record(world, case, occurred_on=today)
    # The meeting of today counts; only a later event finds no meeting.
    assert "event.not_on_agenda" not in rules_on(case, today)
    with frozen_at(moment(today + timedelta(days=3))):
        record(world, case, kind="moved", occurred_on=today + timedelta(days=2), summary="Moved to his aunt's flat.")
        assert "event.not_on_agenda" in rules_on(case, today + timedelta(days=3))
        nxt = services.panel_meeting_create(user=world.users["coordinator"], meets_on=today + timedelta(days=20),
                                            chair=world.users["chair"], location="Room 2")
        record(world, case, kind="school_exclusion", occurred_on=today + timedelta(days=3),
               summary="Excluded for five days.", who="coordinator")
        assert AgendaItem.objects.filter(case=case, meeting=nxt).exists()
        assert "event.not_on_agenda" not in rules_on(case, today + timedelta(days=3))


def test_a_concern_raised_at_a_meeting_needs_a_recorded_decision(world: World) -> None:
    case = case_in_support(world)
    today = clock.today()
    event = record(world, case, kind="meeting_concern", source="Multi-agency risk meeting",
                   summary="Probation said he has new contacts who share violent material.")
    assert "event.meeting_concern_unanswered" not in rules_on(case, today + timedelta(days=14))
    flagged = rules_on(case, today + timedelta(days=15))["event.meeting_concern_unanswered"]
    assert flagged.notify == (case.owner_user_id,)
    assert rules_on(case, today + timedelta(days=30))["event.meeting_concern_unanswered"].escalated_to
    with frozen_at(moment(today + timedelta(days=16))):
        decision = services.significant_event_respond(user=world.users["chair"], event=event, outcome="discussed",
                                                      rationale=WHY, responded_on=today + timedelta(days=16))
    assert decision.details["event"] == event.pk and decision.rationale == WHY
    assert "event.meeting_concern_unanswered" not in rules_on(case, today + timedelta(days=30))
    # As of before the decision, it still shows.
    assert "event.meeting_concern_unanswered" in rules_on(case, today + timedelta(days=15))
    with pytest.raises(InvalidInput) as twice:
        services.significant_event_respond(user=world.users["chair"], event=event, outcome="discussed",
                                           rationale=WHY, responded_on=today)
    assert twice.value.errors["event"] == ["A decision about this event is already recorded"]


def _closed_at_gateway(world: World) -> Case:
    from casetrail.referrals.services import referral_submit

    from .conftest import referral_input

    case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    services.gateway_decide(user=world.users["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                            outcome="no_further_action", signposted_to="", decided_on=clock.today(),
                            rationale="No vulnerability to radicalisation found in the checks made.",
                            nfa_reasons=["no_vulnerability"])
    return Case.objects.get(pk=case.pk)


def test_an_event_after_closure_is_put_to_the_last_owner_as_a_possible_re_referral(world: World) -> None:
    case = _closed_at_gateway(world)
    today = clock.today()
    later = today + timedelta(days=200)
    with frozen_at(moment(later)):
        event = record(world, case, kind="into_custody", occurred_on=later, summary="Remanded for assault.")
        found = rules_on(case, later)["event.possible_rereferral"]
        assert found.notify == (world.users["police"].pk,) and "200 days after the case closed" in found.message
        told = safeguards.findings_for(world.users["police"])
        assert any(f.rule == "event.possible_rereferral" for _, f in told)
        services.significant_event_respond(user=world.users["police"], event=event, outcome="refer_again",
                                           rationale="New referral made to the gateway with the custody details.",
                                           responded_on=later)
        assert "event.possible_rereferral" not in rules_on(case, later)
    long_after = today + timedelta(days=500)
    with frozen_at(moment(long_after)):
        record(world, case, kind="moved", occurred_on=long_after, summary="Moved out of the area.")
        assert "event.possible_rereferral" not in rules_on(case, long_after)


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(world: World) -> None:
    case = case_in_support(world)
    version = Case.objects.get(pk=case.pk).version
    with pytest.raises(InvalidInput) as bad:
        record(world, case, kind="alien_abduction", occurred_on=clock.today() + timedelta(days=2), source="",
               summary="no")
    assert set(bad.value.errors) == {"kind", "occurred_on", "source", "summary"}
    with pytest.raises(InvalidInput) as unborn:
        record(world, case, occurred_on=date(2001, 1, 1))
    assert "occurred_on" in unborn.value.errors
    with pytest.raises(InvalidInput) as long:
        record(world, case, source="x" * 201, summary="y" * 5001)
    assert set(long.value.errors) == {"source", "summary"}
    for who in ("provider", "referrer", "oversight", "other_coordinator"):
        with pytest.raises(AccessDenied):
            record(world, case, who=who)
    assert not SignificantEvent.objects.exists() and Case.objects.get(pk=case.pk).version == version
    event = record(world, case, kind="meeting_concern")
    with pytest.raises(InvalidInput) as no_reason:
        services.significant_event_respond(user=world.users["chair"], event=event, outcome="shrug", rationale="ok",
                                           responded_on=clock.today() - timedelta(days=3))
    assert set(no_reason.value.errors) == {"outcome", "rationale", "responded_on"}
    with pytest.raises(AccessDenied):
        services.significant_event_respond(user=world.users["provider"], event=event, outcome="discussed",
                                           rationale=WHY, responded_on=clock.today())


def test_the_api_records_lists_and_decides(world: World, client: Client) -> None:
    case = case_in_support(world)
    auth = {"Authorization": f"Bearer {world.token('police')}"}
    bad = client.post(f"/api/v1/cases/{case.pk}/significant-events", {"kind": "x"}, content_type="application/json",
                      headers=auth)
    assert bad.status_code == 422 and {"kind", "occurred_on", "source", "summary"} <= set(bad.json()["errors"])
    made = client.post(f"/api/v1/cases/{case.pk}/significant-events",
                       {"kind": "meeting_concern", "occurred_on": clock.today().isoformat(),
                        "source": "MAPPA meeting", "summary": "Concern about contact with a known extremist."},
                       content_type="application/json", headers=auth)
    assert made.status_code == 201
    [listed] = client.get(f"/api/v1/cases/{case.pk}/significant-events", headers=auth).json()
    assert listed["kind"] == "meeting_concern" and listed["decision"] is None
    decided = client.post(f"/api/v1/cases/{case.pk}/significant-events/{listed['id']}/decision",
                          {"outcome": "discussed", "rationale": WHY, "responded_on": clock.today().isoformat()},
                          content_type="application/json", headers=auth)
    assert decided.status_code == 201
    [listed] = client.get(f"/api/v1/cases/{case.pk}/significant-events", headers=auth).json()
    assert listed["decision"]["rationale"] == WHY
    missing = client.post(f"/api/v1/cases/{case.pk}/significant-events/999999/decision",
                          {"outcome": "discussed", "rationale": WHY, "responded_on": clock.today().isoformat()},
                          content_type="application/json", headers=auth)
    assert missing.status_code == 404


def test_the_pages_record_an_event_and_its_decision(world: World, client: Client) -> None:
    case = case_in_support(world)
    client.login(username="coordinator", password=PASSWORD)
    url = f"/cases/{case.pk}/significant-event"
    today = clock.today()
    refused = client.post(url, {"kind": "meeting_concern", "source": "", "summary": "",
                                "occurred_on_day": today.day, "occurred_on_month": today.month, "occurred_on_year": today.year})
    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    assert not SignificantEvent.objects.exists()
    done = client.post(url, {"kind": "meeting_concern", "source": "Multi-agency risk meeting",
                             "summary": "Probation raised new online contacts.", "occurred_on_day": today.day,
                             "occurred_on_month": today.month, "occurred_on_year": today.year})
    assert done.status_code == 302
    event = SignificantEvent.objects.get()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Significant events" in page and "Probation raised new online contacts." in page
    assert f"significant-event-response?event={event.pk}" in page
    answered = client.post(f"/cases/{case.pk}/significant-event-response",
                           {"event": event.pk, "outcome": "discussed", "rationale": WHY,
                            "responded_on_day": today.day, "responded_on_month": today.month,
                            "responded_on_year": today.year})
    assert answered.status_code == 302
    assert WHY in client.get(f"/cases/{case.pk}/").content.decode()
