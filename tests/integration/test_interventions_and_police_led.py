"""An intervention ends by a recorded decision, never by silence, and is put before the panel; a
police-led case is reviewed periodically and closes under the gateway's repeat-referral rule."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.test import Client

from casetrail import clock
from casetrail.cases import safeguards, services
from casetrail.cases.models import Case, Decision, Tasking
from casetrail.core.errors import AccessDenied, InvalidInput, TransitionNotAllowed

from .conftest import PASSWORD, World, case_in_support, frozen_at, moment
from .test_earlier_records import START, _at, link, southport_like

WHY = "Mentoring stopped after one session: he refused to meet again; the school mentor continues weekly."


def rules_on(case: Case, day: object) -> dict[str, object]:
    return {f.rule: f for f in safeguards.case_findings(Case.objects.get(pk=case.pk), as_of=day)}  # type: ignore[arg-type]


def test_an_intervention_ends_by_a_decision_not_by_silence_and_the_panel_is_told(world: World) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    today = clock.today()
    services.tasking_acknowledge(user=world.users["provider"], tasking=tasking, acknowledged_on=today)
    services.session_record(user=world.users["provider"], tasking=tasking, held_on=today,
                            report="First session: talked about his grievance and online contacts.")
    later = today + timedelta(days=30)
    assert "session.overdue" in rules_on(case, later)  # silence is flagged
    with frozen_at(moment(later)):
        decision = services.tasking_end(user=world.users["coordinator"], tasking=tasking,
                                        reason_kind="person_disengaged", rationale=WHY, ended_on=later)
        assert decision.details == {"tasking": tasking.pk, "delivered": 1, "commissioned": 2}
        found = rules_on(case, later)
        assert "session.overdue" not in found
        ended = found["tasking.ended_early"]
        assert set(ended.notify) == {world.users["chair"].pk, case.owner_user_id}  # type: ignore[attr-defined]
        assert "1 of 2 sessions delivered" in ended.message  # type: ignore[attr-defined]
        assert "exit.sessions_outstanding" not in {u.code for u in safeguards.exit_blockers(case)}
    # As of before the decision, the session was still overdue.
    assert "session.overdue" in rules_on(case, later - timedelta(days=1))
    with frozen_at(moment(later + timedelta(days=2))):
        services.panel_review_record(user=world.users["chair"], case=case, expected_version=None,
                                     held_on=later + timedelta(days=2), outcome="continue",
                                     notes="Reviewed the ended mentoring; the school mentor carries on weekly.",
                                     attendees=["Chair, LA", "Police officer, CTP"])
        assert "tasking.ended_early" not in rules_on(case, later + timedelta(days=2))


def test_the_provider_may_withdraw_its_own_tasking_and_nobody_else_outside_the_case_may(world: World) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    for who in ("oversight", "referrer", "other_coordinator", "police"):
        with pytest.raises(AccessDenied):
            services.tasking_end(user=world.users[who], tasking=tasking, reason_kind="stopped_by_panel",
                                 rationale=WHY, ended_on=clock.today())
    assert Tasking.objects.get(pk=tasking.pk).ended_on is None
    services.tasking_end(user=world.users["provider"], tasking=tasking, reason_kind="provider_withdrawn",
                         rationale="Our mentor left the organisation and we have nobody vetted to replace him.",
                         ended_on=clock.today())
    assert Decision.objects.get(case=case, type="tasking_ended").author == world.users["provider"]


def test_bad_input_to_end_a_tasking_is_refused_and_writes_nothing(world: World) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    with pytest.raises(InvalidInput) as bad:
        services.tasking_end(user=world.users["coordinator"], tasking=tasking, reason_kind="bored", rationale="no",
                             ended_on=clock.today() + timedelta(days=3))
    assert set(bad.value.errors) == {"reason_kind", "rationale", "ended_on"}
    with pytest.raises(InvalidInput) as early:
        services.tasking_end(user=world.users["coordinator"], tasking=tasking, reason_kind="stopped_by_panel",
                             rationale=WHY, ended_on=tasking.commissioned_on - timedelta(days=1))
    assert "ended_on" in early.value.errors
    assert Tasking.objects.get(pk=tasking.pk).ended_on is None and not case.decisions.filter(
        type="tasking_ended").exists()
    services.tasking_end(user=world.users["coordinator"], tasking=tasking, reason_kind="stopped_by_panel",
                         rationale=WHY, ended_on=clock.today())
    with pytest.raises(InvalidInput) as twice:
        services.tasking_end(user=world.users["coordinator"], tasking=tasking, reason_kind="stopped_by_panel",
                             rationale=WHY, ended_on=clock.today())
    assert twice.value.errors["tasking"] == ["This tasking has already been ended"]


def test_the_page_and_the_api_end_a_tasking(world: World, client: Client) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    client.login(username="coordinator", password=PASSWORD)
    today = clock.today()
    refused = client.post(f"/cases/{case.pk}/end-tasking", {"tasking": tasking.pk, "reason_kind": "",
                                                            "rationale": "", "ended_on_day": today.day,
                                                            "ended_on_month": today.month,
                                                            "ended_on_year": today.year})
    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    other = case_in_support(world)
    auth = {"Authorization": f"Bearer {world.token('provider')}"}
    answer = client.post(f"/api/v1/taskings/{other.taskings.get().pk}/end",
                         {"reason_kind": "provider_withdrawn", "rationale": WHY, "ended_on": today.isoformat()},
                         content_type="application/json", headers=auth)
    assert answer.status_code == 201 and answer.json()["ended_on"] == today.isoformat()
    bad = client.post(f"/api/v1/taskings/{tasking.pk}/end", {"reason_kind": "x"}, content_type="application/json",
                      headers=auth)
    assert bad.status_code == 422 and {"reason_kind", "rationale", "ended_on"} <= set(bad.json()["errors"])


def _police_led(world: World, case: Case, day: object, frozen: bool = True) -> None:
    with _at(day) if frozen else nullcontext():  # type: ignore[arg-type]
        services.gateway_decide(user=world.users["police"], case=case, expected_version=None, deconfliction_done=True,
                                database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                                outcome="police_led", signposted_to="", decided_on=day,  # type: ignore[arg-type]
                                rationale="Live police interest; handled by the CT unit.")


def test_a_police_led_case_is_reviewed_every_quarter_or_flagged(world: World) -> None:
    from casetrail.referrals.services import referral_submit

    from .conftest import referral_input

    case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    today = clock.today()
    _police_led(world, case, today, frozen=False)  # now: after the referral came in today
    assert "police_led.review_overdue" not in rules_on(case, today + timedelta(days=91))
    overdue = rules_on(case, today + timedelta(days=92))["police_led.review_overdue"]
    assert overdue.notify == (world.users["police"].pk,)  # type: ignore[attr-defined]
    assert rules_on(case, today + timedelta(days=100))["police_led.review_overdue"].escalated_to  # type: ignore[attr-defined]
    with frozen_at(moment(today + timedelta(days=95))):
        with pytest.raises(InvalidInput):
            services.police_led_review_record(user=world.users["police"], case=case, rationale="fine",
                                              reviewed_on=clock.today())
        services.police_led_review_record(user=world.users["police"], case=case, reviewed_on=clock.today(),
                                          rationale="Checked with the CT unit: the investigation continues.")
    assert "police_led.review_overdue" not in rules_on(case, today + timedelta(days=150))
    assert "police_led.review_overdue" in rules_on(case, today + timedelta(days=190))
    with pytest.raises(AccessDenied):
        services.police_led_review_record(user=world.users["coordinator"], case=case, reviewed_on=clock.today(),
                                          rationale="A coordinator cannot review a police-led case.")


def test_a_police_led_closure_of_a_third_referral_needs_a_second_officer(world: World) -> None:
    first, second, third = southport_like(world)
    link(world, second, first, START + timedelta(days=151))
    day = START + timedelta(days=402)
    link(world, third, first, day)
    _police_led(world, third, day)
    with _at(day), pytest.raises(TransitionNotAllowed) as refused:
        services.police_led_decide(user=world.users["police"], case=third, expected_version=None, outcome="close",
                                   rationale="Police activity concluded; nothing further.", decided_on=day)
    assert [u.code for u in refused.value.unmet] == ["gateway.repeat_needs_second_review"]
    with _at(day):
        services.gateway_second_review_record(user=world.users["police2"], case=third, agree=True, reviewed_on=day,
                                              rationale="Read all three referrals; agree it may close now.")
        services.police_led_decide(user=world.users["police"], case=third, expected_version=None, outcome="close",
                                   rationale="Police activity concluded; nothing further.", decided_on=day)
    assert Case.objects.get(pk=third.pk).stage == "closed"
