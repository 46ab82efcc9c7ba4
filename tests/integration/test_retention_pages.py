"""The retention pages and API: the queue, the review form's GOV.UK errors, the confirmation
step before a disposal, and the refusals (403, 404, 409, 422), none of which change anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases import services as case_services
from casetrail.cases.models import Case
from casetrail.retention.models import RetentionReview, Tombstone

from .conftest import PASSWORD, World
from .test_retention import MARK, REASON, SIX_YEARS, database_text, later, police_led_case


def signed_in(client: Client, username: str) -> Client:
    assert client.login(username=username, password=PASSWORD)
    return client


def unchanged(case: Case) -> tuple[int, int, int, int]:
    case.refresh_from_db()
    return Event.objects.count(), RetentionReview.objects.count(), Tombstone.objects.count(), case.version


def hold(world: World, case: Case) -> None:
    case_services.retention_hold_place(user=world.users["police"], case=case, reason_kind="litigation",
                                       reason="Civil claim against the force is pending.", placed_on=clock.today())


# ---------------------------------------------------------------- pages


def test_the_queue_lists_due_cases_and_held_ones_with_their_reason(client: Client, world: World) -> None:
    due, held = police_led_case(world), police_led_case(world, mark="Heldcase")
    hold(world, held)
    signed_in(client, "police")
    assert b"Retention reviews" in client.get("/my-work").content  # in the navigation
    with later(SIX_YEARS + 1):
        page = client.get("/retention/").content.decode()
    assert f'data-case="{due.reference}"' in page and f'data-case="{held.reference}"' in page
    assert "Legal proceedings: Civil claim against the force is pending." in page
    assert MARK not in page  # the queue shows references, not names or case text
    assert "No retention reviews are due" in client.get("/retention/").content.decode()  # not yet due today


@pytest.mark.parametrize("username", ["chair", "panel", "provider", "oversight", "referrer"])
def test_the_queue_is_refused_to_roles_without_the_permission(client: Client, world: World, username: str) -> None:
    signed_in(client, username)
    assert client.get("/retention/").status_code == 403
    assert b"Retention reviews" not in client.get("/my-work").content


@pytest.mark.parametrize(("post", "message"), [
    ({"decision": "retain", "reason": ""}, "Enter the rationale for this decision."),
    ({"decision": "retain", "reason": REASON}, "Enter the date of the next review"),
    ({"reason": REASON}, "Answer the question: What is your decision?"),
    ({}, "Enter the rationale for this decision."),  # every problem at once, not one per submit
    ({"decision": "dispose", "reason": REASON, "next_review_on_day": "1", "next_review_on_month": "1",
      "next_review_on_year": "2031"}, "Leave the next review date empty"),
])
def test_bad_review_input_shows_an_error_summary_and_changes_nothing(
        client: Client, world: World, post: dict[str, str], message: str) -> None:
    case = police_led_case(world)
    before = unchanged(case)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        response = client.post(f"/retention/cases/{case.pk}", post)
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body and message in body
    assert unchanged(case) == before


def test_dispose_while_held_is_refused_with_the_holds_reason(client: Client, world: World) -> None:
    case = police_led_case(world)
    hold(world, case)
    before = unchanged(case)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        response = client.post(f"/retention/cases/{case.pk}", {"decision": "dispose", "reason": REASON})
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "The case is held from disposal: Legal proceedings: Civil claim against the force is pending." in body
    assert unchanged(case) == before


def test_retain_records_the_decision_and_returns_to_the_queue(client: Client, world: World) -> None:
    case = police_led_case(world)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        next_year = clock.today() + timedelta(days=365)
        response = client.post(f"/retention/cases/{case.pk}", {
            "decision": "retain", "reason": REASON, "next_review_on_day": str(next_year.day),
            "next_review_on_month": str(next_year.month), "next_review_on_year": str(next_year.year)})
        assert response.status_code == 302 and response["Location"] == "/retention/"
        assert f'data-case="{case.reference}"' not in client.get("/retention/").content.decode()
    assert RetentionReview.objects.get(case=case).next_review_on == next_year


def test_disposal_is_confirmed_before_anything_is_erased(client: Client, world: World,
                                                         django_capture_on_commit_callbacks: Any) -> None:
    case = police_led_case(world)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        response = client.post(f"/retention/cases/{case.pk}", {"decision": "dispose", "reason": REASON})
        assert response.status_code == 302 and response["Location"] == f"/retention/cases/{case.pk}/dispose"
        assert MARK in database_text()  # deciding is not disposing
        confirm = client.get(response["Location"]).content.decode()
        assert "It cannot be undone" in confirm
        refused = client.post(f"/retention/cases/{case.pk}/dispose", {})
        assert refused.status_code == 400 and "govuk-error-summary" in refused.content.decode()
        assert not Tombstone.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(f"/retention/cases/{case.pk}/dispose", {"confirm": "on"})
        assert done.status_code == 302
        page = client.get(f"/retention/cases/{case.pk}").content.decode()
    assert 'id="tombstone"' in page and case.reference in page
    assert MARK not in database_text()
    case_page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="disposed"' in case_page and "personal data was erased" in case_page and MARK not in case_page


def test_the_confirmation_page_says_why_a_held_case_cannot_be_disposed_of(client: Client, world: World) -> None:
    case = police_led_case(world)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        client.post(f"/retention/cases/{case.pk}", {"decision": "dispose", "reason": REASON})
        hold(world, case)
        page = client.get(f"/retention/cases/{case.pk}/dispose").content.decode()
        assert 'id="disposal-blocked"' in page and "Civil claim against the force is pending." in page
        assert client.post(f"/retention/cases/{case.pk}/dispose", {"confirm": "on"}).status_code == 400
    assert not Tombstone.objects.exists()


def test_review_pages_are_404_for_cases_one_cannot_see_and_403_without_the_permission(
        client: Client, world: World) -> None:
    case = police_led_case(world)
    before = unchanged(case)
    signed_in(client, "coordinator")  # the case never reached the panel: not theirs to see
    for url in (f"/retention/cases/{case.pk}", f"/retention/cases/{case.pk}/dispose"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"decision": "dispose", "reason": REASON, "confirm": "on"}).status_code == 404
    signed_in(client, "oversight")  # sees every case, may review none
    for url in (f"/retention/cases/{case.pk}", f"/retention/cases/{case.pk}/dispose"):
        assert client.get(url).status_code == 403
        assert client.post(url, {"decision": "dispose", "reason": REASON, "confirm": "on"}).status_code == 403
    assert unchanged(case) == before


# ---------------------------------------------------------------- API


def api(client: Client, world: World, who: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {world.token(who)}"}


def test_the_api_queue_review_and_disposal(client: Client, world: World,
                                           django_capture_on_commit_callbacks: Any) -> None:
    case, held = police_led_case(world), police_led_case(world, mark="Heldcase")
    hold(world, held)
    auth = api(client, world, "police")
    with later(SIX_YEARS + 1):
        queue = client.get("/api/v1/retention/queue", **auth).json()
        assert {(i["case_reference"], i["state"], i["held"]) for i in queue} == {
            (case.reference, "due", False), (held.reference, "due", True)}
        assert [h["reason"] for i in queue for h in i["holds"]] == ["Civil claim against the force is pending."]
        review = client.post(f"/api/v1/cases/{case.pk}/retention-reviews", {"decision": "dispose", "reason": REASON},
                             content_type="application/json", **auth)
        assert review.status_code == 201 and review.json()["retention_class"] == "police_led"
        with django_capture_on_commit_callbacks(execute=True):
            disposal = client.post(f"/api/v1/cases/{case.pk}/disposal", {"confirm": True},
                                   content_type="application/json", **auth)
    assert disposal.status_code == 201
    body = disposal.json()
    assert body["case_reference"] == case.reference and body["person_erased"] and body["counts"]["files"] == 1
    assert AccessLogEntry.objects.filter(case=case, operation="erasure", channel="api").exists()


@pytest.mark.parametrize(("who", "payload", "status", "detail"), [
    ("police", {"decision": "dispose"}, 422, "reason"),
    ("police", {"decision": "keep", "reason": REASON}, 422, "decision"),
    ("police", {"decision": "retain", "reason": REASON}, 422, "next_review_on"),
    ("police", {"decision": "dispose", "reason": "short"}, 422, "reason"),
    ("oversight", {"decision": "dispose", "reason": REASON}, 403, None),
    ("chair", {"decision": "dispose", "reason": REASON}, 404, None),
    ("coordinator", {"decision": "dispose", "reason": REASON}, 404, None),
])
def test_api_review_refusals_change_nothing(client: Client, world: World, who: str, payload: dict[str, str],
                                            status: int, detail: str | None) -> None:
    case = police_led_case(world)
    auth = api(client, world, who)
    before = unchanged(case)
    with later(SIX_YEARS + 1):
        response = client.post(f"/api/v1/cases/{case.pk}/retention-reviews", payload,
                               content_type="application/json", **auth)
    assert response.status_code == status, response.content
    if detail:
        assert detail in response.json()["errors"]
    assert unchanged(case) == before


def test_api_dispose_while_held_is_409_with_the_reason(client: Client, world: World) -> None:
    case = police_led_case(world)
    auth = api(client, world, "police")
    with later(SIX_YEARS + 1):
        client.post(f"/api/v1/cases/{case.pk}/retention-reviews", {"decision": "dispose", "reason": REASON},
                    content_type="application/json", **auth)
        hold(world, case)
        before = unchanged(case)
        response = client.post(f"/api/v1/cases/{case.pk}/disposal", {"confirm": True},
                               content_type="application/json", **auth)
        assert response.status_code == 409
        assert [u["code"] for u in response.json()["unmet"]] == ["retention.held"]
        assert "Civil claim" in response.json()["unmet"][0]["message"]
        unconfirmed = client.post(f"/api/v1/cases/{case.pk}/disposal", {"confirm": False},
                                  content_type="application/json", **auth)
        assert unconfirmed.status_code == 422
    assert unchanged(case) == before
    assert client.get("/api/v1/retention/queue", **api(client, world, "oversight")).status_code == 403


def test_disposal_asks_for_the_password_again_when_it_was_not_given_lately(client: Client, world: World) -> None:
    import time

    from casetrail.web.auth_views import REAUTHENTICATED_AT

    case = police_led_case(world)
    signed_in(client, "police")
    with later(SIX_YEARS + 1):
        client.post(f"/retention/cases/{case.pk}", {"decision": "dispose", "reason": REASON})
        session = client.session
        session[REAUTHENTICATED_AT] = time.time() - 3600
        session.save()
        asked = client.post(f"/retention/cases/{case.pk}/dispose", {"confirm": "on"})
        assert asked.status_code == 302 and asked["Location"].startswith("/confirm-identity?next=")
        assert not Tombstone.objects.exists() and MARK in database_text()
