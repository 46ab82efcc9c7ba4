"""The notifications outbox: queued once with the change, sent once by the worker, caught up after
an outage, and every step recorded on the case."""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from casetrail.audit.models import Event
from casetrail.cases.models import Case
from casetrail.clock import frozen_at
from casetrail.notifications import services
from casetrail.notifications.models import Message
from casetrail.notifications.services import (
    MAX_ATTEMPTS,
    STOP_AFTER_FAILURES_IN_A_ROW,
    case_link,
    message_queue,
    message_retry,
    outbox_deliver,
)
from casetrail.referrals.services import referral_submit

from .conftest import World, referral_input

START = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


class RefusingEmailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("Connection refused by the mail server")


@pytest.fixture
def case(world: World) -> Case:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    return referral.case


def queue(world: World, case: Case, key: str = "finding:1", recipient: str = "coordinator",
          kind: str = "finding") -> tuple[Message, bool]:
    return message_queue(case=case, recipient=world.users[recipient], kind=kind, dedupe_key=key,
                         subject=f"Case {case.reference} needs your attention",
                         body=f"A finding on case {case.reference} needs your attention.\n{case_link(case)}",
                         data={"finding_key": key})


def events(case: Case, kind: str) -> list[Event]:
    return list(Event.objects.filter(case=case, kind=kind))


# ---------------------------------------------------------------- queueing


def test_the_same_dedupe_key_queues_one_message_and_one_event(world: World, case: Case) -> None:
    with frozen_at(START):
        first, created = queue(world, case)
        again, created_again = queue(world, case)

    assert created and not created_again
    assert again.pk == first.pk
    assert Message.objects.count() == 1
    assert first.status == Message.Status.PENDING and first.created_at == START
    assert first.data == {"finding_key": "finding:1"}
    [event] = events(case, "notification.queued")
    assert event.actor is None and event.subject_id == first.pk


def test_the_queued_event_names_the_recipients_role_and_agency_never_the_person(world: World, case: Case
                                                                                ) -> None:
    queue(world, case)
    [event] = events(case, "notification.queued")
    assert "Channel coordinator" in event.summary and "Testshire County Council" in event.summary
    assert "Okafor" not in event.summary and "Sam" not in event.summary


def test_a_message_is_queued_only_if_the_change_behind_it_is_committed(world: World, case: Case) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue(world, case)
        raise RuntimeError("the change was refused")
    assert not Message.objects.exists()
    assert not events(case, "notification.queued")


def test_a_message_carrying_the_persons_name_is_refused(world: World, case: Case) -> None:
    with pytest.raises(ValueError, match="name"):
        message_queue(case=case, recipient=world.users["coordinator"], kind="finding", dedupe_key="k",
                      subject="Sam Okafor-Test: exit too soon", body=case_link(case))
    assert not Message.objects.exists()


def test_the_link_points_at_the_case_page_on_the_configured_site(settings: Any, case: Case) -> None:
    settings.CASETRAIL_BASE_URL = "https://casetrail.example.gov.uk/"
    assert case_link(case) == f"https://casetrail.example.gov.uk/cases/{case.pk}/"


# ---------------------------------------------------------------- delivery


def test_delivery_sends_each_message_once_and_records_it_on_the_case(world: World, case: Case,
                                                                       mailoutbox: list[Any]) -> None:
    with frozen_at(START):
        message, _ = queue(world, case)
    with frozen_at(START + timedelta(minutes=1)):
        report = outbox_deliver()
        again = outbox_deliver()

    assert (report.sent, report.failed, report.remaining) == (1, 0, 0)
    assert (again.sent, again.failed) == (0, 0)
    [email] = mailoutbox
    assert email.to == ["coordinator@example.org"]
    assert case.reference in email.subject and case_link(case) in email.body
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.sent_at == START + timedelta(minutes=1)
    assert message.attempts == 1
    assert message.backend_reference == email.extra_headers["Message-ID"]
    [sent] = events(case, "notification.sent")
    assert sent.subject_id == message.pk and "Channel coordinator" in sent.summary


def test_delivery_goes_oldest_first_and_stops_at_the_limit(world: World, case: Case,
                                                            mailoutbox: list[Any]) -> None:
    for n in range(3):
        with frozen_at(START + timedelta(minutes=n)):
            queue(world, case, key=f"finding:{n}")
    report = outbox_deliver(limit=2)
    assert (report.sent, report.remaining) == (2, 1)
    assert list(Message.objects.filter(status=Message.Status.SENT).values_list("dedupe_key", flat=True)) == [
        "finding:0", "finding:1"]


def test_an_outage_leaves_messages_waiting_and_a_later_run_catches_them_up(world: World, case: Case,
                                                                            settings: Any,
                                                                            mailoutbox: list[Any]) -> None:
    with frozen_at(START):
        for n in range(5):
            queue(world, case, key=f"finding:{n}")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    with frozen_at(START + timedelta(minutes=1)):
        during = outbox_deliver()

    # The pass gives up after a few failures in a row; the rest are not even tried.
    assert (during.sent, during.failed, during.remaining) == (0, STOP_AFTER_FAILURES_IN_A_ROW, 5)
    failed = Message.objects.filter(status=Message.Status.FAILED)
    assert failed.count() == STOP_AFTER_FAILURES_IN_A_ROW
    assert all(m.will_retry and m.attempts == 1 and "refused" in m.last_error for m in failed)
    assert Message.objects.filter(status=Message.Status.PENDING, attempts=0).count() == 2
    assert len(events(case, "notification.failed")) == STOP_AFTER_FAILURES_IN_A_ROW
    assert mailoutbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with frozen_at(START + timedelta(minutes=2, seconds=30)):
        after = outbox_deliver()

    assert (after.sent, after.failed, after.remaining) == (5, 0, 0)
    assert len(mailoutbox) == 5
    assert sorted(m.to[0] for m in mailoutbox) == ["coordinator@example.org"] * 5
    assert not Message.objects.exclude(status=Message.Status.SENT).exists()
    assert len(events(case, "notification.sent")) == 5


def test_a_failed_message_waits_before_it_is_tried_again(world: World, case: Case, settings: Any,
                                                          mailoutbox: list[Any]) -> None:
    with frozen_at(START):
        message, _ = queue(world, case)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    with frozen_at(START):
        outbox_deliver()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with frozen_at(START + timedelta(seconds=30)):
        too_soon = outbox_deliver()
    assert too_soon.sent == 0 and too_soon.remaining == 1
    with frozen_at(START + timedelta(minutes=1)):
        assert outbox_deliver().sent == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.last_error == ""


def test_the_worker_gives_up_after_the_last_attempt(world: World, case: Case, settings: Any) -> None:
    with frozen_at(START):
        message, _ = queue(world, case)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    moment = START
    for _ in range(MAX_ATTEMPTS + 2):
        with frozen_at(moment):
            outbox_deliver()
        moment += timedelta(days=1)
    message.refresh_from_db()
    assert message.attempts == MAX_ATTEMPTS
    assert message.status == Message.Status.FAILED and not message.will_retry
    assert len(events(case, "notification.failed")) == MAX_ATTEMPTS
    assert "will not be tried again" in events(case, "notification.failed")[-1].summary


def test_a_recipient_without_an_email_address_fails_once_with_a_clear_reason(world: World, case: Case,
                                                                               mailoutbox: list[Any]) -> None:
    coordinator = world.users["coordinator"]
    coordinator.email = ""
    coordinator.save(update_fields=["email"])
    with frozen_at(START):
        message, _ = queue(world, case)
        report = outbox_deliver()
    with frozen_at(START + timedelta(days=3)):
        later = outbox_deliver()

    assert (report.sent, report.failed, report.remaining) == (0, 1, 0)
    assert (later.sent, later.failed) == (0, 0)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert "no email address" in message.last_error and not message.will_retry
    assert mailoutbox == []
    [failed] = events(case, "notification.failed")
    assert failed.data["will_retry"] is False

    # Once the address is added, the message can be put back and is sent.
    coordinator.email = "coordinator@example.org"
    coordinator.save(update_fields=["email"])
    message_retry(message=message)
    assert outbox_deliver().sent == 1
    assert len(mailoutbox) == 1
    assert len(events(case, "notification.requeued")) == 1


def test_a_message_another_worker_is_sending_is_not_sent_again(world: World, case: Case,
                                                                mailoutbox: list[Any]) -> None:
    with frozen_at(START):
        message, _ = queue(world, case)
        claimed = services._claim_next()  # another worker has claimed it and is sending it
    assert claimed is not None and claimed.pk == message.pk
    with frozen_at(START + timedelta(minutes=1)):
        assert outbox_deliver().sent == 0
    assert mailoutbox == []
    # If that worker died mid-send, its claim runs out and the message is sent after all.
    with frozen_at(START + services.CLAIM + timedelta(seconds=1)):
        assert outbox_deliver().sent == 1
    assert len(mailoutbox) == 1


def test_a_sent_message_is_never_sent_again_even_if_asked_for_again(world: World, case: Case,
                                                                     mailoutbox: list[Any]) -> None:
    queue(world, case)
    outbox_deliver()
    _, created = queue(world, case)
    outbox_deliver()
    assert not created
    assert len(mailoutbox) == 1


class SlowBackend:
    name = "slow"

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message: Message) -> str:
        time.sleep(0.02)
        with self.lock:
            self.sent.append(message.pk)
        return f"slow-{message.pk}"


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_send_a_message_twice(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between concurrent workers are a PostgreSQL matter; SQLite lets one writer in")
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    for n in range(12):
        queue(world, referral.case, key=f"finding:{n}")
    backend = SlowBackend()
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connection as thread_connection

        try:
            outbox_deliver(backend=backend)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(backend.sent) == sorted(Message.objects.values_list("pk", flat=True))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 12


@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_a_message_another_worker_holds_rather_than_taking_or_waiting_for_it(world: World
                                                                                         ) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite one writer at a time takes the whole database")
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    with frozen_at(START):
        held, _ = queue(world, referral.case, key="a")
    with frozen_at(START + timedelta(seconds=1)):
        free, _ = queue(world, referral.case, key="b")
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    try:
        started = time.monotonic()
        claimed = services._claim_next()
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(timeout=20)
    assert claimed is not None and claimed.pk == free.pk
    assert waited < 5


# ---------------------------------------------------------------- worker, command, page, admin


# Transactional: the worker closes and reopens its database connection between cycles.
@pytest.mark.django_db(transaction=True)
def test_the_task_worker_delivers_the_outbox_in_batch_mode(world: World, case: Case,
                                                            mailoutbox: list[Any]) -> None:
    queue(world, case)
    handler = signal.getsignal(signal.SIGTERM)
    call_command("run_worker", batch=True, interval=0, verbosity=0)
    assert len(mailoutbox) == 1
    assert Message.objects.get().status == Message.Status.SENT
    assert signal.getsignal(signal.SIGTERM) == handler


def test_send_notifications_sends_what_is_due_and_prints_a_summary(world: World, case: Case,
                                                                    mailoutbox: list[Any]) -> None:
    queue(world, case, key="a")
    queue(world, case, key="b")
    out = StringIO()
    call_command("send_notifications", stdout=out, stderr=StringIO())
    assert "2 sent, 0 failed, 0 still to send" in out.getvalue()
    assert len(mailoutbox) == 2


def test_the_case_partial_shows_to_whom_what_and_whether_it_was_sent(world: World, case: Case) -> None:
    with frozen_at(START):
        queue(world, case, key="a")
        queue(world, case, key="b", recipient="police", kind="referrer_outcome")
        outbox_deliver(limit=1)
    html = render_to_string("notifications/_case_messages.html", {"messages": case.messages.all()})
    assert "Coordinator Tester" in html and "Testshire County Council" in html
    assert "Police Tester" in html and "Testshire Police CTP" in html
    assert "Referrer outcome" in html
    assert "Sent" in html and "Waiting" in html
    assert "2 Mar 2026" in html
    assert "No notifications" in render_to_string("notifications/_case_messages.html", {"messages": []})


def test_the_admin_shows_messages_but_cannot_add_change_or_delete_them(world: World) -> None:
    model_admin = admin_site._registry[Message]
    request = RequestFactory().get("/")
    request.user = world.users["admin"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
