"""Pages render for each role on the demo data, refuse what a role may not see, and the
referral form and a gateway step work through the browser-facing views."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils.html import escape

from casetrail.accounts.models import User
from casetrail.cases.models import Case
from casetrail.demo.load import PASSWORD, load_demo


@pytest.fixture
def demo(db: object) -> None:
    load_demo(progress=False)


def signed_in(client: Client, username: str) -> Client:
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.mark.parametrize("username", ["referrer", "police", "coordinator", "chair", "panel", "provider",
                                      "oversight", "admin"])
def test_every_role_has_a_my_work_page(client: Client, demo: None, username: str) -> None:
    response = signed_in(client, username).get("/my-work")
    assert response.status_code == 200
    assert b"My work" in response.content


def test_the_police_officer_can_open_every_case_of_the_force(client: Client, demo: None) -> None:
    signed_in(client, "police")
    for case in Case.objects.all():
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 200, case.stage
        assert case.owner_user.display_name.encode() in response.content


def test_the_repeat_referral_shows_the_earlier_one(client: Client, demo: None) -> None:
    signed_in(client, "police")
    case = Case.objects.get(referral__family_name="Husain")
    response = client.get(f"/cases/{case.pk}/")
    assert b"Earlier referrals of this person" in response.content
    assert b"Hussain" in response.content


def test_a_coordinator_cannot_open_a_case_still_at_the_gateway(client: Client, demo: None) -> None:
    signed_in(client, "coordinator")
    case = Case.objects.filter(stage="gateway").first()
    assert case is not None
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/cases/{case.pk}/gateway").status_code == 404


def test_a_referrer_sees_only_the_status_page(client: Client, demo: None) -> None:
    signed_in(client, "referrer")
    case = Case.objects.filter(stage="support").first()
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    assert b"details of police checks" in response.content
    assert case.referral.concern.encode() not in response.content


def test_an_exited_case_shows_its_blocked_closure_with_reasons(client: Client, demo: None) -> None:
    signed_in(client, "coordinator")
    case = Case.objects.filter(stage="exited", reviews__isnull=True).first()
    response = client.get(f"/cases/{case.pk}/")
    assert b"Close the case: blocked" in response.content
    assert b"6-month and 12-month post-exit review must be recorded" in response.content


def test_a_gateway_decision_through_the_page_and_its_error_summary(client: Client, demo: None) -> None:
    from casetrail.cases.earlier_records import unresolved

    signed_in(client, "police")
    # One with no possible earlier record waiting (the demo's third repeat referral has one).
    case = next(c for c in Case.objects.filter(stage="gateway") if not unresolved(c))
    page = f"/cases/{case.pk}/gateway"
    bad = client.post(page, {"expected_version": case.version, "outcome": "no_further_action", "rationale": "no"})
    assert bad.status_code == 400
    assert b"There is a problem" in bad.content
    assert Case.objects.get(pk=case.pk).stage == "gateway"
    today = date.today()
    good = client.post(page, {
        "expected_version": case.version, "deconfliction_done": "on", "database_checks_done": "on",
        "outcome": "no_further_action", "nfa_reasons": ["no_vulnerability"], "rationale": "Checks found nothing suggesting radicalisation.",
        "decided_on_day": today.day, "decided_on_month": today.month, "decided_on_year": today.year})
    assert good.status_code == 302, good.content.decode()[:2000]
    assert Case.objects.get(pk=case.pk).stage == "closed"


@pytest.mark.parametrize("path", ["/cases/", "/search?q=Hussain", "/panel-meetings/", "/providers/"])
def test_staff_pages_render(client: Client, demo: None, path: str) -> None:
    signed_in(client, "coordinator")
    assert client.get(path).status_code == 200


def test_health_endpoint_reports_ok(client: Client, db: object) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_the_handover_page_lists_staff_with_their_agency(client: Client, demo: None) -> None:
    signed_in(client, "police")
    case = Case.objects.filter(stage="gateway").first()
    response = client.get(f"/cases/{case.pk}/handover")
    assert response.status_code == 200
    colleague = User.objects.get(username="police2")
    expected = f"{colleague.display_name} ({colleague.agency.name}, Police Prevent officer)"
    assert escape(expected).encode() in response.content
    # Only people who may take the work on: never oneself, nor a read-only user.
    for name in ("police", "oversight"):
        assert f'{User.objects.get(username=name).display_name} ('.encode() not in response.content
