"""A worker killed between handing a message to the mail service and recording that it had: once
the claim runs out, the next pass asks the service whether it already has the message (GOV.UK
Notify by the message's reference, its dedupe key) and records it as sent without sending it
again. A service that cannot tell (SMTP) is sent it again: at-least-once, and logged.

bench/faults/sigkill.py kills real workers at random; these tests stop one at the exact point."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from casetrail.audit.models import Event
from casetrail.cases.models import Case
from casetrail.clock import frozen_at
from casetrail.notifications import services
from casetrail.notifications.backends import EmailBackend, NotifyBackend
from casetrail.notifications.models import Message
from casetrail.notifications.services import CLAIM, case_link, message_queue, outbox_deliver
from casetrail.referrals.services import referral_submit

from .conftest import World, referral_input

START = timezone.make_aware(datetime(2026, 3, 2, 9, 0))
AFTER_THE_CLAIM = START + CLAIM + CLAIM


class FakeNotify:
    """Notify's client: remembers what it sent and finds it again by reference."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_email_notification(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append({**kwargs, "id": f"notify-{len(self.sent) + 1}"})
        return {"id": self.sent[-1]["id"], "reference": kwargs.get("reference")}

    def get_all_notifications(self, reference: str | None = None, **_: Any) -> dict[str, Any]:
        return {"notifications": [{"id": n["id"], "reference": n["reference"]} for n in self.sent
                                  if n["reference"] == reference]}


@pytest.fixture
def message(world: World) -> Message:
    case: Case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    with frozen_at(START):
        queued, _ = message_queue(case=case, recipient=world.users["coordinator"], kind="finding",
                                  dedupe_key="finding:interrupted:1", subject=f"Case {case.reference}",
                                  body=f"A finding on case {case.reference}.\n{case_link(case)}")
    return queued


def _killed_after_sending(backend: Any) -> Message:
    """What a worker does before SIGKILL stops it: claim the message and hand it over, then nothing."""
    with frozen_at(START):
        claimed = services._claim()
        assert claimed is not None and claimed[1] is False
        backend.send(claimed[0])
    return claimed[0]


def test_notify_is_asked_and_a_message_it_already_has_is_not_sent_again(message: Message) -> None:
    notify = FakeNotify()
    backend = NotifyBackend(notify, template_id="template")
    _killed_after_sending(backend)
    with frozen_at(START + CLAIM / 2):
        assert outbox_deliver(backend=backend).sent == 0  # still claimed by the dead worker
    with frozen_at(AFTER_THE_CLAIM):
        report = outbox_deliver(backend=backend)

    assert report.sent == 1 and len(notify.sent) == 1
    message.refresh_from_db()
    assert (message.status, message.backend_reference, message.attempts) == ("sent", "notify-1", 2)
    [event] = Event.objects.filter(kind="notification.sent", subject_id=message.pk)
    assert event.data["found_delivered"] is True and "not sent again" in event.summary
    with frozen_at(AFTER_THE_CLAIM + CLAIM):
        assert outbox_deliver(backend=backend).sent == 0 and len(notify.sent) == 1


def test_a_message_notify_never_received_is_sent_when_the_claim_runs_out(message: Message) -> None:
    notify = FakeNotify()
    backend = NotifyBackend(notify, template_id="template")
    with frozen_at(START):
        assert services._claim() is not None  # killed before it reached Notify
    with frozen_at(AFTER_THE_CLAIM):
        assert outbox_deliver(backend=backend).sent == 1
    assert len(notify.sent) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert "found_delivered" not in Event.objects.get(kind="notification.sent", subject_id=message.pk).data


def test_an_interrupted_retry_of_a_failed_message_is_recognised_too(message: Message) -> None:
    notify = FakeNotify()
    backend = NotifyBackend(notify, template_id="template")
    with frozen_at(START):
        claimed = services._claim()
        assert claimed is not None
        services._finish(claimed[0], error=ConnectionError("Notify unavailable"))
    message.refresh_from_db()
    assert message.status == "failed"
    retry_at = message.next_attempt_at
    assert retry_at is not None
    with frozen_at(retry_at):
        claimed = services._claim()
        assert claimed is not None and claimed[1] is False  # a recorded failure is not in doubt
        backend.send(claimed[0])  # and the worker dies here
    with frozen_at(retry_at + CLAIM + CLAIM):
        again = services._claim()
    assert again is not None and again[1] is True


def test_smtp_cannot_tell_so_the_message_is_sent_again_and_the_log_says_so(
        message: Message, mailoutbox: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    _killed_after_sending(EmailBackend())
    assert len(mailoutbox) == 1
    with frozen_at(AFTER_THE_CLAIM), caplog.at_level(logging.WARNING, logger="casetrail.notifications.services"):
        assert outbox_deliver(backend=EmailBackend()).sent == 1
    assert len(mailoutbox) == 2  # at-least-once: the locmem backend, like SMTP, cannot be asked
    assert "cannot tell whether it was delivered" in caplog.text
    message.refresh_from_db()
    assert message.status == "sent"
