"""The safeguards wired into the services, the API and the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casetrail.audit.models import Event
from casetrail.cases import safeguards, services
from casetrail.cases.models import Case, Decision
from casetrail.clock import frozen_at
from casetrail.core.errors import AccessDenied, InvalidInput, TransitionNotAllowed
from casetrail.notifications.models import Message
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, case_in_support, referral_input

TODAY = date.today()
RATIONALE = "All members agree the vulnerability is much reduced after support."


def _exit(world: World, case: Case, on: date = TODAY) -> Decision:
    return services.case_exit(user=world.users["chair"], case=case, expected_version=None, exited_on=on,
                              rationale=RATIONALE, residual_concerns="", onward_support="",
                              attendees=["Chair, LA", "Officer, CTP"])


def _make_exit_possible(world: World, case: Case) -> None:
    tasking = case.taskings.get()
    provider = world.users["provider"]
    services.tasking_acknowledge(user=provider, tasking=tasking, acknowledged_on=TODAY)
    services.session_record(user=provider, tasking=tasking, held_on=TODAY,
                            report="Met at the library and talked about his grievances at length.")
    services.session_cancel(user=provider, tasking=tasking, cancelled_on=TODAY,
                            reason="He moved college and declined a second meeting.")
    codes = services.latest_vulnerability_codes(case)
    action = services.support_action_add(user=world.users["coordinator"], case=case, description="Weekly mentoring on identity and belonging",
                                         vulnerabilities=codes, owner_user=world.users["coordinator"],
                                         due_on=TODAY + timedelta(days=30))
    services.support_action_complete(user=world.users["coordinator"], action=action, status="done",
                                     completed_on=TODAY, note="Delivered over six weeks at school.")
    services.referrer_consultation_record(user=world.users["coordinator"], case=case, consulted_on=TODAY,
                                          method="phone", summary="The school supports ending Channel support.")


def test_exit_is_blocked_with_every_reason_and_nothing_is_written(world: World) -> None:
    case = case_in_support(world)
    before = (case.version, Decision.objects.count(), Event.objects.count())
    with pytest.raises(TransitionNotAllowed) as refused:
        _exit(world, case)
    codes = [u.code for u in refused.value.unmet]
    assert set(codes) == {"exit.vulnerability_unsupported", "exit.sessions_outstanding",
                          "exit.referrer_not_consulted"}
    assert all(u.who for u in refused.value.unmet)
    case.refresh_from_db()
    assert (case.version, Decision.objects.count(), Event.objects.count()) == before
    assert case.stage == "support"


def test_exit_goes_ahead_once_the_gate_is_met_and_the_referrer_is_told(world: World) -> None:
    case = case_in_support(world)
    _make_exit_possible(world, case)
    assert safeguards.exit_blockers(case) == []
    decision = _exit(world, case)
    case.refresh_from_db()
    assert case.stage == "exited"
    told = Message.objects.filter(kind="referrer_outcome", recipient=world.users["referrer"])
    assert {m.data["decision_id"] for m in told} >= {decision.pk}
    assert all(case.person.family_name not in m.body for m in told)


def test_a_chair_approved_reason_stands_in_for_support(world: World) -> None:
    case = case_in_support(world)
    _make_exit_possible(world, case)
    case.support_actions.all()  # both vulnerabilities are met by the completed action
    with pytest.raises(InvalidInput) as wrong:
        services.vulnerability_waiver_record(user=world.users["chair"], case=case, code="not-a-factor",
                                             reason="Another service already provides this support.",
                                             approved_on=TODAY)
    assert "code" in wrong.value.errors
    with pytest.raises(AccessDenied):
        services.vulnerability_waiver_record(user=world.users["coordinator"], case=case,
                                             code=services.latest_vulnerability_codes(case)[0],
                                             reason="Another service already provides this support.",
                                             approved_on=TODAY)


def test_the_closure_gate_can_only_be_passed_by_the_reviews(world: World) -> None:
    case = case_in_support(world)
    _make_exit_possible(world, case)
    _exit(world, case)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.case_close(user=world.users["coordinator"], case=case, expected_version=None, closed_on=TODAY,
                            rationale="Closing before the reviews should not be possible.")
    assert [u.code for u in refused.value.unmet] == ["closure.post_exit_reviews_missing"]
    # A person who moved is transferred, not closed: close takes no receiving area at all.
    with pytest.raises(TypeError):
        services.case_close(user=world.users["coordinator"], case=case, expected_version=None,  # type: ignore[call-arg]
                            closed_on=TODAY, rationale="The family moved; the other area's panel takes over.",
                            transferred_to=world.other_council)
    case.refresh_from_db()
    assert case.stage == "exited"


def _gateway_nfa(world: World, case: Case, reasons: list[str], officer: str = "police") -> Decision:
    return services.gateway_decide(user=world.users[officer], case=case, expected_version=None,
                                   deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                   referrer_contact_summary="", outcome="no_further_action", signposted_to="",
                                   rationale="Checks found nothing suggesting a risk of radicalisation.",
                                   decided_on=TODAY, nfa_reasons=reasons)


def test_no_ideology_alone_does_not_close_a_referral(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    with pytest.raises(InvalidInput) as missing:
        _gateway_nfa(world, referral.case, [])
    assert "nfa_reasons" in missing.value.errors
    with pytest.raises(TransitionNotAllowed) as refused:
        _gateway_nfa(world, referral.case, ["no_ideology"])
    assert [u.code for u in refused.value.unmet] == ["gateway.no_ideology_alone"]
    _gateway_nfa(world, referral.case, ["no_ideology", "no_vulnerability"])


def test_a_third_referral_needs_a_second_officer_to_close_at_the_gateway(world: World) -> None:
    cases = []
    for key in ("first", "second", "third"):
        referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                      idempotency_key=key)
        cases.append(referral.case)
    person = cases[0].person
    for case in cases[1:]:
        services.case_link_person(user=world.users["police"], case=case, person=person,
                                  rationale="Same name, date of birth and school as the earlier referral.")
    third = Case.objects.get(pk=cases[2].pk)
    assert "referral.repeat" in {f.rule for f in safeguards.case_findings(third)}
    with pytest.raises(TransitionNotAllowed) as refused:
        _gateway_nfa(world, third, ["no_vulnerability"])
    assert [u.code for u in refused.value.unmet] == ["gateway.repeat_needs_second_review"]
    # The deciding officer cannot review their own proposal.
    services.gateway_second_review_record(user=world.users["police"], case=third, agree=True,
                                          rationale="I read both earlier referrals; nothing new here.",
                                          reviewed_on=TODAY)
    with pytest.raises(TransitionNotAllowed):
        _gateway_nfa(world, third, ["no_vulnerability"])
    services.gateway_second_review_record(user=world.users["police2"], case=third, agree=True,
                                          rationale="I read both earlier referrals and agree nothing is new.",
                                          reviewed_on=TODAY)
    _gateway_nfa(world, third, ["no_vulnerability"])
    assert Case.objects.get(pk=third.pk).stage == "closed"


def test_in_a_historic_replay_a_refused_exit_is_recorded_as_overridden(world: World) -> None:
    case = case_in_support(world)
    with safeguards.historic_replay():
        _exit(world, case)
    case.refresh_from_db()
    assert case.stage == "exited"
    overridden = Event.objects.get(case=case, kind="gate.overridden")
    assert "exit.sessions_outstanding" in overridden.data["rules"]
    assert "gate.overridden" in {f.rule for f in safeguards.case_findings(case)}


def test_findings_are_computed_as_of_any_date_and_told_once(world: World) -> None:
    start = timezone.make_aware(datetime.combine(TODAY - timedelta(days=60), datetime.min.time()).replace(hour=9))
    with frozen_at(start):
        case = case_in_support(world)
    day = start.date()
    # Nothing was overdue on the day it was commissioned; a fortnight later the tasking was unacknowledged.
    assert "tasking.unacknowledged" not in {f.rule for f in safeguards.case_findings(case, as_of=day)}
    later = {f.rule: f for f in safeguards.case_findings(case, as_of=day + timedelta(days=14))}
    assert "tasking.unacknowledged" in later
    provider = world.users["provider"]
    assert provider.pk in later["tasking.unacknowledged"].notify
    escalated = {f.rule: f for f in safeguards.case_findings(case)}["tasking.unacknowledged"]
    assert world.users["chair"].pk in escalated.escalated_to

    first = safeguards.findings_notify()
    assert first > 0
    assert safeguards.findings_notify() == 0  # idempotent: nothing new to tell
    to_provider = Message.objects.filter(recipient=provider, kind="finding")
    assert to_provider.exists() and all(case.person.family_name not in m.body for m in to_provider)
    assert Message.objects.filter(recipient=world.users["chair"], kind="escalation").exists()
    assert Event.objects.filter(case=case, kind="notification.queued").exists()


def test_a_late_record_is_marked_on_the_case_page(world: World, client: Client) -> None:
    case = case_in_support(world)
    services.case_note_record(user=world.users["coordinator"], case=case, noted_on=TODAY - timedelta(days=30),
                              text="The head of year rang to say he seemed calmer.")
    assert "record.late" in {f.rule for f in safeguards.case_findings(case)}
    client.login(username="coordinator", password=PASSWORD)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Recorded 30 days late" in page
    assert 'data-rule="record.late"' in page


# ---------------------------------------------------------------- the API


def _token_client(client: Client, world: World, who: str) -> Any:
    token = world.token(who)
    return lambda path: client.get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_findings_endpoint_answers_as_of_a_date_and_refuses_bad_dates(world: World, client: Client) -> None:
    case = case_in_support(world)
    get = _token_client(client, world, "coordinator")
    now = get(f"/cases/{case.pk}/findings")
    assert now.status_code == 200
    assert now.json()["case_reference"] == case.reference
    soon = get(f"/cases/{case.pk}/findings?as_of={TODAY.isoformat()}")
    assert soon.status_code == 200 and soon.json()["as_of"] == TODAY.isoformat()
    bad = get(f"/cases/{case.pk}/findings?as_of=2025-02-30")
    assert bad.status_code == 422
    future = get(f"/cases/{case.pk}/findings?as_of={(TODAY + timedelta(days=3)).isoformat()}")
    assert future.status_code == 422 and "as_of" in future.json()["errors"]
    referrer = _token_client(client, world, "referrer")(f"/cases/{case.pk}/findings")
    assert referrer.status_code in (403, 404)


def test_new_safeguard_endpoints_refuse_bad_input_and_write_nothing(world: World, client: Client) -> None:
    import json

    case = case_in_support(world)
    token = world.token("coordinator")
    before = Event.objects.count()

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(f"/api/v1/cases/{case.pk}{path}", data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")

    short = post("/referrer-consultations", {"consulted_on": TODAY.isoformat(), "method": "phone", "summary": "ok"})
    assert short.status_code == 422 and "summary" in short.json()["errors"]
    assert post("/referrer-consultations", {"consulted_on": TODAY.isoformat(), "method": "pigeon",
                                            "summary": "x" * 30}).status_code == 422
    assert post("/holds", {"reason_kind": "review", "reason": "short",
                           "placed_on": TODAY.isoformat()}).status_code == 422
    future = post("/notes", {"noted_on": (TODAY + timedelta(days=1)).isoformat(), "text": "Something"})
    assert future.status_code == 422 and "noted_on" in future.json()["errors"]
    assert Event.objects.count() == before
    assert post("/holds", {"reason_kind": "review", "reason": "Learning review of the programme's handling.",
                           "placed_on": TODAY.isoformat()}).status_code == 201
    assert "retention.hold" in {f.rule for f in safeguards.case_findings(case)}


# ---------------------------------------------------------------- my work


def test_my_work_lists_the_findings_each_person_must_act_on(world: World, client: Client) -> None:
    start = timezone.make_aware(datetime.combine(TODAY - timedelta(days=40), datetime.min.time()).replace(hour=9))
    with frozen_at(start):
        case_in_support(world)
    client.login(username="provider", password=PASSWORD)
    page = client.get("/my-work").content.decode()
    assert 'data-rule="tasking.unacknowledged"' in page
    client.login(username="chair", password=PASSWORD)
    assert 'data-rule="tasking.unacknowledged"' in client.get("/my-work").content.decode()
    client.login(username="oversight", password=PASSWORD)
    assert 'data-rule="tasking.unacknowledged"' not in client.get("/my-work").content.decode()


def test_the_referrer_is_told_the_outcome_in_words_suited_to_them(world: World, client: Client) -> None:
    case = case_in_support(world)
    client.login(username="referrer", password=PASSWORD)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "The Channel panel is arranging support" in page
    assert "Grievance" not in page and "Escalating behaviour" not in page  # no assessment, no rationale
    told = Message.objects.filter(recipient=world.users["referrer"], kind="referrer_outcome")
    assert {m.data["decision_id"] for m in told} == set(
        case.decisions.filter(type__in=["gateway", "adoption"]).values_list("pk", flat=True))
