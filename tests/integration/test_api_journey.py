"""The whole journey through the API, each step by the role whose job it is, and the refusals."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases.models import Case, Decision
from casetrail.core import frameworks
from casetrail.core.dates import add_months
from casetrail.referrals.models import Referral

from .conftest import World, frozen_at, moment

TODAY = date.today()


class Api:
    def __init__(self, client: Client, world: World):
        self.client = client
        self.world = world
        self.tokens: dict[str, str] = {}

    def call(self, method: str, who: str, path: str, body: Any = None, **headers: str) -> Any:
        if who not in self.tokens:
            self.tokens[who] = self.world.token(who)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[who]}"}
        auth.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        response = getattr(self.client, method)(f"/api/v1{path}", data=json.dumps(body) if body is not None else None,
                                                content_type="application/json", **auth)
        return response


def referral_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "referrer_name": "Rita Referrer", "referrer_job_title": "Designated safeguarding lead",
        "referrer_email": "rita@example.org", "referrer_organisation": "Testshire Academy",
        "referrer_sector": "education", "given_names": "Sam", "family_name": "Okafor-Test",
        "date_of_birth": "2008-05-17", "sex": "male", "postcode": "TE1 1ST",
        "local_authority_id": world.council.pk,
        "concern": "Has told classmates that violence against a named group is justified and shares videos.",
        "first_observed_on": (TODAY - timedelta(days=7)).isoformat(), "concern_types": ["extreme_right_wing"],
        "urgency": "routine", "person_aware": "no",
    }
    body.update(overrides)
    return body


@pytest.fixture
def api(client: Client, world: World) -> Api:
    return Api(client, world)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _submit_referral(api: Api, **overrides: Any) -> dict[str, Any]:
    return _ok(api.call("post", "referrer", "/referrals", referral_body(api.world, **overrides),
                        **{"Idempotency-Key": "key-" + overrides.get("family_name", "default") * 2}), 201)


def _judgements(framework: frameworks.Framework) -> dict[str, Any]:
    first = framework.factors[0].code
    second = framework.factors[1].code
    result: dict[str, Any] = {f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
    result[first] = {"present": True, "evidence": "Talks often of unfair treatment of his family.",
                     "nature": "underlying_cause"}
    result[second] = {"present": True, "evidence": "Shares violent videos with classmates.",
                      "nature": "presenting_behaviour"}
    return result


def test_a_person_goes_from_referral_to_closure_through_the_api(api: Api, world: World) -> None:
    made = _submit_referral(api)
    case_id = made["case_id"]
    assert made["status"] == "Gateway assessment"

    case = _ok(api.call("get", "police", f"/cases/{case_id}"))
    assert case["owner_agency"] == world.police.name
    case = _ok(api.call("post", "police", f"/cases/{case_id}/gateway", {
        "expected_version": case["version"], "deconfliction_done": True, "database_checks_done": True,
        "referrer_contacted_on": TODAY.isoformat(), "referrer_contact_summary": "Rang the school; more detail given.",
        "outcome": "refer_to_panel", "rationale": "Escalating behaviour with a clear ideological element.",
        "decided_on": TODAY.isoformat()}))
    assert case["stage"] == "panel"
    assert case["owner_agency"] == world.council.name

    meeting = _ok(api.call("post", "coordinator", "/panel-meetings", {
        "meets_on": TODAY.isoformat(), "chair_id": world.users["chair"].pk, "location": "Room 1"}), 201)
    _ok(api.call("post", "coordinator", f"/panel-meetings/{meeting['id']}/agenda", {"case_id": case_id}))
    request = _ok(api.call("post", "coordinator", f"/cases/{case_id}/information-requests", {
        "to_agency_id": world.nhs.pk, "question": "Is he known to mental health services?",
        "requested_on": TODAY.isoformat()}), 201)
    _ok(api.call("post", "panel", f"/information-requests/{request['id']}/reply", {
        "reply": "Not currently known to services.", "replied_on": TODAY.isoformat()}))

    case = _ok(api.call("post", "chair", f"/cases/{case_id}/panel-decision", {
        "adopt": True, "attendees": ["Chair, LA", "Police officer, CTP", "Nurse, NHS"],
        "rationale": "Vulnerabilities suitable for Channel support identified.", "decided_on": TODAY.isoformat()}))
    assert case["stage"] == "awaiting_consent"
    _ok(api.call("post", "coordinator", f"/cases/{case_id}/consent", {
        "given": True, "giver": "parent_carer", "giver_name": "Ada Okafor", "capacity_confirmed": True,
        "scope": "Sharing with the provider and school", "given_on": TODAY.isoformat()}), 201)

    framework = frameworks.current_framework(TODAY)
    assessment = _ok(api.call("post", "coordinator", f"/cases/{case_id}/assessments", {}), 201)
    assessment = _ok(api.call("patch", "coordinator", f"/assessments/{assessment['id']}", {
        "expected_version": assessment["version"], "judgements": _judgements(framework),
        "summary": "Grievance drives the behaviour; mentoring recommended."}))
    assessment = _ok(api.call("post", "coordinator", f"/assessments/{assessment['id']}/submit", {
        "expected_version": assessment["version"], "assessed_on": TODAY.isoformat()}))
    assert len(assessment["vulnerabilities"]) == 2

    _ok(api.call("post", "coordinator", f"/cases/{case_id}/support-actions", {
        "description": "Weekly mentoring on identity and grievance", "vulnerabilities": assessment["vulnerabilities"],
        "owner_user_id": world.users["coordinator"].pk, "due_on": (TODAY + timedelta(days=30)).isoformat()}), 201)
    tasking = _ok(api.call("post", "coordinator", f"/cases/{case_id}/taskings", {
        "provider_user_id": world.users["provider"].pk, "sessions_commissioned": 2,
        "purpose": "Theological mentoring sessions", "vulnerabilities": assessment["vulnerabilities"][:1],
        "commissioned_on": TODAY.isoformat()}), 201)
    _ok(api.call("post", "provider", f"/taskings/{tasking['id']}/acknowledge",
                 {"acknowledged_on": TODAY.isoformat()}))
    _ok(api.call("post", "provider", f"/taskings/{tasking['id']}/sessions", {
        "held_on": TODAY.isoformat(), "report": "Met at the library; engaged well and discussed his grievances."}), 201)
    tasking = _ok(api.call("post", "provider", f"/taskings/{tasking['id']}/cancellations", {
        "cancelled_on": TODAY.isoformat(), "reason": "He moved college and declined a second meeting."}), 201)
    assert [s["status"] for s in tasking["sessions"]] == ["delivered", "cancelled"]

    blocked = _ok(api.call("get", "chair", f"/cases/{case_id}/exit-blockers"))
    # The referrer was consulted at the gateway the same day the panel adopted, so only support is missing.
    assert {u["code"] for u in blocked["unmet"]} == {"exit.vulnerability_unsupported"}
    action = _ok(api.call("get", "coordinator", "/my-work"))
    support = [t for t in action["tasks"] if t["kind"] == "support_action"]
    assert len(support) == 1
    action_id = Case.objects.get(pk=case_id).support_actions.get().pk
    _ok(api.call("post", "coordinator", f"/support-actions/{action_id}/complete", {
        "status": "done", "completed_on": TODAY.isoformat(), "note": "Six mentoring meetings held with the school."}))
    _ok(api.call("post", "coordinator", f"/cases/{case_id}/referrer-consultations", {
        "consulted_on": TODAY.isoformat(), "method": "meeting",
        "summary": "The school sees a real change and supports ending Channel support."}), 201)
    assert _ok(api.call("get", "chair", f"/cases/{case_id}/exit-blockers"))["unmet"] == []

    _ok(api.call("post", "chair", f"/cases/{case_id}/panel-reviews", {
        "held_on": TODAY.isoformat(), "outcome": "continue", "notes": "Good engagement; plan continues as agreed.",
        "attendees": ["Chair, LA", "Police officer, CTP"]}), 201)
    case = _ok(api.call("post", "chair", f"/cases/{case_id}/exit", {
        "exited_on": TODAY.isoformat(), "rationale": "All members agree vulnerability is much reduced.",
        "attendees": ["Chair, LA", "Police officer, CTP"]}))
    assert case["stage"] == "exited"
    assert set(case["post_exit_reviews_due"]) == {"6", "12"}

    refused = api.call("post", "coordinator", f"/cases/{case_id}/close", {
        "closed_on": TODAY.isoformat(), "rationale": "Closing without the reviews should be refused."})
    assert refused.status_code == 409
    assert refused.json()["unmet"][0]["code"] == "closure.post_exit_reviews_missing"

    early = api.call("post", "police", f"/cases/{case_id}/post-exit-reviews", {
        "months": 6, "held_on": TODAY.isoformat(), "outcome": "no_concerns",
        "notes": "No further concerns from police or partners."})
    assert early.status_code == 422 and "cannot be held before" in early.json()["errors"]["held_on"][0]
    for months in (6, 12):
        due = add_months(TODAY, months)
        with frozen_at(moment(due)):
            _ok(api.call("post", "police", f"/cases/{case_id}/post-exit-reviews", {
                "months": months, "held_on": due.isoformat(), "outcome": "no_concerns",
                "notes": "No further concerns from police or partners."}), 201)
    closed_on = add_months(TODAY, 12)
    with frozen_at(moment(closed_on)):
        case = _ok(api.call("post", "coordinator", f"/cases/{case_id}/close", {
            "closed_on": closed_on.isoformat(), "rationale": "Both post-exit reviews found no concerns."}))
    assert case["stage"] == "closed"

    decisions = Decision.objects.filter(case_id=case_id)
    assert all(d.rationale and d.author_id and d.author_role and d.author_agency_id for d in decisions)
    assert Event.objects.filter(case_id=case_id).count() >= 20
    assert AccessLogEntry.objects.filter(case_id=case_id, operation="consultation").exists()
    status = _ok(api.call("get", "referrer", "/referrals/mine"))
    assert status[0]["status"] == "Closed"


def test_a_retried_referral_with_the_same_key_is_not_duplicated(api: Api, world: World) -> None:
    body = referral_body(world)
    first = api.call("post", "referrer", "/referrals", body, **{"Idempotency-Key": "retry-key-0001"})
    second = api.call("post", "referrer", "/referrals", body, **{"Idempotency-Key": "retry-key-0001"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["reference"] == second.json()["reference"]
    assert Referral.objects.count() == 1
    other = api.call("post", "referrer", "/referrals", referral_body(world, given_names="Tom"),
                     **{"Idempotency-Key": "retry-key-0001"})
    assert other.status_code == 422
    assert "idempotency_key" in other.json()["errors"]


@pytest.mark.parametrize("overrides, field", [
    ({"given_names": ""}, "given_names"),
    ({"referrer_email": "not-an-email"}, "referrer_email"),
    ({"date_of_birth": "2090-01-01"}, "date_of_birth"),
    ({"date_of_birth": "2008-02-30"}, "date_of_birth"),
    ({"first_observed_on": (TODAY + timedelta(days=2)).isoformat()}, "first_observed_on"),
    ({"first_observed_on": "2001-01-01"}, "first_observed_on"),
    ({"concern_types": []}, "concern_types"),
    ({"concern_types": ["made_up"]}, "concern_types"),
    ({"postcode": "NOT A POSTCODE"}, "postcode"),
    ({"local_authority_id": 999999}, "local_authority_id"),
    ({"first_observed_on": "yesterday"}, "first_observed_on"),
])
def test_a_bad_referral_gets_field_errors_and_writes_nothing(api: Api, world: World, overrides: dict[str, Any],
                                                             field: str) -> None:
    response = api.call("post", "referrer", "/referrals", referral_body(world, **overrides))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Referral.objects.count() == 0 and Case.objects.count() == 0


def test_malformed_json_is_a_clear_422(api: Api, world: World) -> None:
    token = world.token("referrer")
    response = api.client.post("/api/v1/referrals", data="{not json", content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code in (400, 422)
    assert Referral.objects.count() == 0


def test_no_token_or_a_wrong_token_is_refused(client: Client, world: World) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer ct_wrong").status_code == 401


def test_a_gateway_decision_without_checks_names_what_is_missing(api: Api, world: World) -> None:
    case_id = _submit_referral(api)["case_id"]
    response = api.call("post", "police", f"/cases/{case_id}/gateway", {
        "deconfliction_done": False, "database_checks_done": True, "outcome": "no_further_action", "nfa_reasons": ["no_vulnerability"],
        "rationale": "Nothing of concern found in checks.", "decided_on": TODAY.isoformat()})
    assert response.status_code == 409
    assert response.json()["unmet"][0]["code"] == "gateway.checks_incomplete"
    assert Case.objects.get(pk=case_id).stage == "gateway"
    assert not Decision.objects.filter(case_id=case_id).exists()


def test_a_decision_without_rationale_or_dated_in_the_future_is_refused(api: Api, world: World) -> None:
    case_id = _submit_referral(api)["case_id"]
    response = api.call("post", "police", f"/cases/{case_id}/gateway", {
        "deconfliction_done": True, "database_checks_done": True, "outcome": "no_further_action", "nfa_reasons": ["no_vulnerability"],
        "rationale": "ok", "decided_on": (TODAY + timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"rationale", "decided_on"}
    assert Case.objects.get(pk=case_id).stage == "gateway"


def test_a_stale_version_is_refused(api: Api, world: World) -> None:
    case_id = _submit_referral(api)["case_id"]
    response = api.call("post", "police", f"/cases/{case_id}/gateway", {
        "expected_version": 99, "deconfliction_done": True, "database_checks_done": True,
        "outcome": "no_further_action", "nfa_reasons": ["no_vulnerability"], "rationale": "Checks found nothing of concern here.",
        "decided_on": TODAY.isoformat()})
    assert response.status_code == 409
    assert "Someone else changed this case" in response.json()["detail"]
    assert Case.objects.get(pk=case_id).stage == "gateway"


@pytest.mark.parametrize("who, expected", [
    ("referrer", 403), ("coordinator", 404), ("panel", 404), ("provider", 404), ("oversight", 403),
    ("other_coordinator", 404), ("admin", 404),
])
def test_only_the_police_can_decide_at_the_gateway(api: Api, world: World, who: str, expected: int) -> None:
    case_id = _submit_referral(api)["case_id"]
    response = api.call("post", who, f"/cases/{case_id}/gateway", {
        "deconfliction_done": True, "database_checks_done": True, "outcome": "no_further_action", "nfa_reasons": ["no_vulnerability"],
        "rationale": "Checks found nothing of concern here.", "decided_on": TODAY.isoformat()})
    assert response.status_code == expected, response.content
    assert Case.objects.get(pk=case_id).stage == "gateway"


def test_a_referrer_sees_status_but_not_the_case_record(api: Api, world: World) -> None:
    case_id = _submit_referral(api)["case_id"]
    assert api.call("get", "referrer", f"/cases/{case_id}").status_code == 403
    assert api.call("get", "referrer", "/cases").status_code == 403
    assert _ok(api.call("get", "referrer", "/referrals/mine"))[0]["status"] == "Gateway assessment"


def test_an_unapproved_provider_cannot_be_tasked(api: Api, world: World) -> None:
    from casetrail.providers.services import provider_worker_save

    provider_worker_save(user=world.users["admin"], worker_user=world.users["provider"],
                         organisation=world.provider_org, specialisms=["mentoring"], status="suspended",
                         vetting_expires_on=None)
    case_id = _submit_referral(api)["case_id"]
    Case.objects.filter(pk=case_id).update(stage="support", referred_to_panel_on=TODAY,
                                           local_authority=world.council)
    response = api.call("post", "coordinator", f"/cases/{case_id}/taskings", {
        "provider_user_id": world.users["provider"].pk, "sessions_commissioned": 2,
        "purpose": "Mentoring sessions on identity", "commissioned_on": TODAY.isoformat()})
    assert response.status_code == 422
    assert "provider_user" in response.json()["errors"]


def test_a_repeat_referral_linked_to_the_earlier_person_shows_both(api: Api, world: World) -> None:
    first = _submit_referral(api)
    second = _submit_referral(api, family_name="Okafor-Tset")
    first_person = Case.objects.get(pk=first["case_id"]).person.reference
    person = _ok(api.call("post", "police", f"/cases/{second['case_id']}/link-person", {
        "person_reference": first_person, "rationale": "Same date of birth, school and address; surname misspelt."}))
    assert [c["case_id"] for c in person["cases"]] == [first["case_id"], second["case_id"]]
    assert AccessLogEntry.objects.filter(operation="combination").count() == 1
    hits = _ok(api.call("get", "police", "/search?q=Okafor-Tset"))
    assert hits[0]["person_reference"] == first_person


def test_search_tolerates_misspelling_and_respects_access(api: Api, world: World) -> None:
    _submit_referral(api, given_names="Mohammed", family_name="Rahman")
    hits = _ok(api.call("get", "police", "/search?q=Muhammad%20Rahmen"))
    assert hits and hits[0]["name"] == "Mohammed Rahman"
    assert _ok(api.call("get", "coordinator", "/search?q=Rahman")) == []  # not yet referred to the panel
    assert api.call("get", "police", "/search?q=x").status_code == 422


def test_a_handover_moves_ownership_only_when_accepted(api: Api, world: World) -> None:
    case_id = _submit_referral(api)["case_id"]
    offer = _ok(api.call("post", "police", f"/cases/{case_id}/handovers", {
        "target_type": "case", "target_id": case_id, "to_user_id": world.users["police2"].pk,
        "reason": "Moving to the north team; my colleague takes this on."}), 201)
    assert Case.objects.get(pk=case_id).owner_user == world.users["police"]
    work = _ok(api.call("get", "police2", "/my-work"))
    assert [h["id"] for h in work["awaiting_acceptance"]] == [offer["id"]]
    assert api.call("post", "police", f"/handovers/{offer['id']}/respond", {"accept": True}).status_code == 404
    _ok(api.call("post", "police2", f"/handovers/{offer['id']}/respond", {"accept": True}))
    assert Case.objects.get(pk=case_id).owner_user == world.users["police2"]
