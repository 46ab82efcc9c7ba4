"""The subject access and rectification API: create, list, review, redact, answer as JSON and
rectify, with 422 field errors that change nothing and 403/404 refusals that reveal nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.audit.models import AccessLogEntry
from casetrail.rights.models import Rectification, Redaction, SubjectAccessRequest

from .conftest import World
from .test_subject_access import REASONS, SECRET, Journey, journey  # noqa: F401 (fixture)


def call(client: Client, world: World, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.token(who)}"}
    if method == "get":
        return client.get(f"/api/v1{path}", **headers)
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **headers)


@pytest.fixture
def sar(journey: Journey, client: Client) -> dict[str, Any]:  # noqa: F811
    response = call(client, journey.world, "police", "post",
                    f"/people/{journey.person.reference}/subject-access-requests",
                    {"requested_by": "The person, by email", "received_on": clock.today().isoformat()})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_create_list_and_review(journey: Journey, client: Client, sar: dict[str, Any]) -> None:  # noqa: F811
    assert sar["person_reference"] == journey.person.reference and sar["status"] == "open"
    assert sar["due_on"] > sar["received_on"] and sar["overdue"] is False
    listed = call(client, journey.world, "police", "get", "/subject-access-requests").json()
    assert [r["reference"] for r in listed] == [sar["reference"]]
    review = call(client, journey.world, "police", "get", f"/subject-access-requests/{sar['reference']}").json()
    values = [i["value"] for s in review["sections"] for r in s["records"] for i in r["items"]]
    assert SECRET in values
    assert AccessLogEntry.objects.filter(operation="consultation", channel="api", person=journey.person).exists()


def test_bad_input_gives_field_errors_and_creates_nothing(journey: Journey, client: Client) -> None:  # noqa: F811
    response = call(client, journey.world, "police", "post",
                    f"/people/{journey.person.reference}/subject-access-requests", {"requested_by": ""})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"requested_by", "received_on"}
    assert not SubjectAccessRequest.objects.exists()


def test_redact_then_answer_as_json_without_the_withheld_text(journey: Journey, client: Client,  # noqa: F811
                                                              sar: dict[str, Any]) -> None:
    world, ref = journey.world, sar["reference"]
    review = call(client, world, "police", "get", f"/subject-access-requests/{ref}").json()
    concern = next(i["key"] for s in review["sections"] for r in s["records"] for i in r["items"]
                   if i["value"] == SECRET)
    bad = call(client, world, "police", "post", f"/subject-access-requests/{ref}/redactions",
               {"item": concern, "reason": "nope"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"reason", "rationale"}
    assert not Redaction.objects.exists()
    done = call(client, world, "police", "post", f"/subject-access-requests/{ref}/redactions",
                {"item": concern, "reason": "police_source", "rationale": REASONS})
    assert done.status_code == 201 and done.json()["item"] == concern

    no_recipient = call(client, world, "police", "post", f"/subject-access-requests/{ref}/answer", {})
    assert no_recipient.status_code == 422 and "recipient" in no_recipient.json()["errors"]
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()
    answer = call(client, world, "police", "post", f"/subject-access-requests/{ref}/answer",
                  {"recipient": "Partner system: force disclosure unit"})
    assert answer.status_code == 200
    assert SECRET not in answer.content.decode()
    assert "[Redacted: sensitive police source or intelligence]" in answer.content.decode()
    entry = AccessLogEntry.objects.get(operation="disclosure")
    assert entry.recipient == "Partner system: force disclosure unit" and entry.channel == "api"


def test_extension_through_the_api(journey: Journey, client: Client, sar: dict[str, Any]) -> None:  # noqa: F811
    path = f"/subject-access-requests/{sar['reference']}/extension"
    bad = call(client, journey.world, "police", "post", path, {"months": 5, "reason": "too short"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"months", "reason"}
    done = call(client, journey.world, "police", "post", path,
                {"months": 1, "reason": "Complex: four agencies' records to review."})
    assert done.status_code == 200 and done.json()["extension_months"] == 1 and done.json()["due_on"] > sar["due_on"]


def test_rectification_through_the_api(journey: Journey, client: Client) -> None:  # noqa: F811
    path = f"/people/{journey.person.reference}/rectifications"
    body = {"target": "person:date_of_birth", "requested_by": "The person", "outcome": "accepted",
            "corrected_value": "2008-13-01", "rationale": "Birth certificate seen at the meeting.",
            "decided_on": clock.today().isoformat()}
    bad = call(client, journey.world, "police", "post", path, body)
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"corrected_value"}
    assert not Rectification.objects.exists()
    done = call(client, journey.world, "police", "post", path, {**body, "corrected_value": "2008-07-15"})
    assert done.status_code == 201
    assert done.json()["recorded_value"] == "2008-05-17" and done.json()["corrected_value"] == "2008-07-15"
    journey.person.refresh_from_db()
    assert journey.person.date_of_birth == "2008-07-15"


def test_refusals_reveal_nothing(journey: Journey, client: Client, sar: dict[str, Any]) -> None:  # noqa: F811
    world, ref, person = journey.world, sar["reference"], journey.person.reference
    for method, path, body in [
        ("get", f"/subject-access-requests/{ref}", None),
        ("post", f"/subject-access-requests/{ref}/answer", {"recipient": "Me"}),
        ("post", f"/subject-access-requests/{ref}/redactions", {"item": "x", "reason": "third_party",
                                                                "rationale": REASONS}),
        ("post", f"/people/{person}/subject-access-requests", {"requested_by": "x",
                                                               "received_on": clock.today().isoformat()}),
        ("post", f"/people/{person}/rectifications", {"target": "person:sex"}),
        ("get", "/subject-access-requests/SAR-2099-0001", None),
    ]:
        response = call(client, world, "other_coordinator", method, path, body)
        assert response.status_code == 404, path
        assert person not in response.content.decode()
    assert call(client, world, "other_coordinator", "get", "/subject-access-requests").json() == []
    for who in ("panel", "provider"):
        assert call(client, world, who, "get", f"/subject-access-requests/{ref}").status_code == 403
        assert call(client, world, who, "get", "/subject-access-requests").status_code == 403
    # The panel member sees the person (the case is on their panel's agenda) but may not handle requests.
    assert call(client, world, "panel", "post", f"/subject-access-requests/{ref}/answer",
                {"recipient": "Me"}).status_code == 403
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()
    assert SubjectAccessRequest.objects.count() == 1 and not Redaction.objects.exists()
