"""The two ways a notification leaves Casetrail: GOV.UK Notify's client and Django's email backends.

No database and no network: messages are unsaved, and Notify's client is a fake that records
what it was asked to send.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from notifications_python_client.errors import HTTP503Error
from notifications_python_client.notifications import NotificationsAPIClient

from casetrail.accounts.models import User
from casetrail.notifications.backends import (
    EmailBackend,
    NotifyBackend,
    Undeliverable,
    configured_backend,
)
from casetrail.notifications.models import Message

TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
# The shape of a Notify API key: name, service id, secret (all made up).
API_KEY = "casetrail_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"


class FakeNotifyClient:
    """Stands in for NotificationsAPIClient: records calls, answers like Notify, or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def send_email_notification(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"id": "740e5834-3a29-46b4-9a6f-16142fde533a", "reference": kwargs.get("reference"),
                "content": {"subject": kwargs["personalisation"]["subject"]}}


def message(email: str = "coordinator@example.org") -> Message:
    return Message(recipient=User(username="coordinator", email=email), kind="finding",
                   dedupe_key="finding:case-7:exit-too-soon", subject="Case CT-0007 needs your attention",
                   body="A finding on case CT-0007 needs your attention: http://127.0.0.1:8000/cases/7/")


def test_notify_sends_the_subject_and_body_through_the_template_with_the_dedupe_key_as_reference() -> None:
    client = FakeNotifyClient()

    reference = NotifyBackend(client, template_id=TEMPLATE).send(message())

    assert reference == "740e5834-3a29-46b4-9a6f-16142fde533a"
    assert client.calls == [{
        "email_address": "coordinator@example.org",
        "template_id": TEMPLATE,
        "personalisation": {"subject": "Case CT-0007 needs your attention",
                            "body": "A finding on case CT-0007 needs your attention: http://127.0.0.1:8000/cases/7/"},
        "reference": "finding:case-7:exit-too-soon",
    }]


def test_notify_refuses_a_recipient_without_an_email_address_without_calling_notify() -> None:
    client = FakeNotifyClient()
    with pytest.raises(Undeliverable, match="no email address"):
        NotifyBackend(client, template_id=TEMPLATE).send(message(email="  "))
    assert client.calls == []


def test_notify_failures_reach_the_caller_so_the_message_can_be_retried() -> None:
    client = FakeNotifyClient(error=HTTP503Error())
    with pytest.raises(HTTP503Error):
        NotifyBackend(client, template_id=TEMPLATE).send(message())


def test_notify_uses_the_official_client_with_the_configured_key(settings: Any) -> None:
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_TEMPLATE_ID = TEMPLATE

    backend = NotifyBackend()

    assert isinstance(backend.client, NotificationsAPIClient)
    assert backend.client.service_id == "26785a09-ab16-4eb0-8407-a37497a57506"
    assert backend.template_id == TEMPLATE


def test_notify_without_a_key_is_a_configuration_error(settings: Any) -> None:
    settings.NOTIFY_API_KEY = ""
    settings.NOTIFY_TEMPLATE_ID = TEMPLATE
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_API_KEY"):
        NotifyBackend()


def test_email_goes_through_djangos_email_backend_from_the_default_address(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "casetrail@council.example.org"
    mail.outbox = []

    reference = EmailBackend().send(message())

    [sent] = mail.outbox
    assert sent.to == ["coordinator@example.org"]
    assert sent.from_email == "casetrail@council.example.org"
    assert sent.subject == "Case CT-0007 needs your attention"
    assert "http://127.0.0.1:8000/cases/7/" in sent.body
    assert sent.extra_headers["Message-ID"] == reference
    assert reference.startswith("<") and reference.endswith(">")


def test_email_refuses_a_recipient_without_an_email_address(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    with pytest.raises(Undeliverable):
        EmailBackend().send(message(email=""))
    assert mail.outbox == []


def test_the_setting_chooses_the_backend(settings: Any) -> None:
    settings.NOTIFY_API_KEY = API_KEY
    settings.NOTIFY_TEMPLATE_ID = TEMPLATE
    settings.CASETRAIL_NOTIFICATIONS_BACKEND = "email"
    assert isinstance(configured_backend(), EmailBackend)
    settings.CASETRAIL_NOTIFICATIONS_BACKEND = "notify"
    assert isinstance(configured_backend(), NotifyBackend)
    settings.CASETRAIL_NOTIFICATIONS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured):
        configured_backend()
