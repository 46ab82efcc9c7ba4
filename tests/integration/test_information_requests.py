"""An information request is read by those in the addressed agency who may answer for it (and by
whoever now owns the request); anyone else in that agency is told there is no such request."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.utils.html import escape

from casetrail.audit.models import AccessLogEntry
from casetrail.cases.services import information_request_create

from .conftest import PASSWORD, World, _user, case_in_support

QUESTION = "Is he known to the trust's mental health services, and is anyone working with him now?"


def test_only_those_who_may_answer_for_the_agency_read_its_request(world: World, client: Client) -> None:
    case = case_in_support(world)
    request = information_request_create(user=world.users["coordinator"], case=case, to_agency=world.nhs,
                                         question=QUESTION, requested_on=date.today())
    nurse = _user("nurse", world.nhs, "referrer")  # at the trust, but only makes referrals
    url = f"/information-requests/{request.pk}"

    client.login(username=nurse.username, password=PASSWORD)
    refused = client.get(url)
    assert refused.status_code == 404 and escape(QUESTION) not in refused.content.decode()
    assert client.post(url, {"reply": "Not known to us at all."}).status_code == 404
    request.refresh_from_db()
    assert request.replied_on is None
    assert not AccessLogEntry.objects.filter(object_type="informationrequest", user=nurse).exists()

    client.login(username="panel", password=PASSWORD)  # the trust's panel member, who answers for it
    page = client.get(url)
    assert page.status_code == 200 and escape(QUESTION) in page.content.decode()
    assert AccessLogEntry.objects.filter(object_type="informationrequest", operation="disclosure",
                                         user=world.users["panel"]).exists()
