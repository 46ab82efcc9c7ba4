"""Queueing notifications with the change that calls for them, and delivering the outbox.

A message is queued inside the caller's transaction, so it exists exactly when the change
does, and at most once for its dedupe key. The task worker delivers the outbox: a message
is claimed (its row locked while the claim is written), sent outside any transaction, then
marked sent or failed, each with its event on the case. A failed message is tried again
later with a growing delay, so an outage of the mail service is caught up once it is over;
a worker that was down simply finds the messages still waiting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.audit.services import event_record
from casetrail.cases.models import Case
from casetrail.notifications.backends import Backend, Undeliverable, configured_backend
from casetrail.notifications.models import Message

logger = logging.getLogger(__name__)

# A failed message is tried again after 1, 2, 4 ... minutes, at most 6 hours apart,
# which spans about a day of outage before the worker gives up on it.
MAX_ATTEMPTS = 12
MAX_RETRY_DELAY = timedelta(hours=6)
# How long a claim keeps other workers off a message; far longer than one send can take.
CLAIM = timedelta(minutes=10)
# After this many failures in a row a pass stops: the service is down, and the rest can wait.
STOP_AFTER_FAILURES_IN_A_ROW = 3


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    remaining: int


def case_link(case: Case) -> str:
    """The absolute address of the case's page, the only way into its details from a message."""
    return settings.CASETRAIL_BASE_URL.rstrip("/") + reverse("web:case-detail", args=[case.pk])


def recipient_description(user: User) -> str:
    """A recipient by role and agency, as the case history names them."""
    return f"{user.roles_display or 'member of staff'}, {user.agency or 'no agency'}"


def _refuse_names(case: Case | None, *texts: str) -> None:
    """A message leaves the secure system: refuse one that carries the person's name."""
    person = getattr(case, "person", None)
    if person is None:
        return
    full_name = person.full_name.casefold()
    family = re.compile(rf"\b{re.escape(person.family_name)}\b") if person.family_name.strip() else None
    for text in texts:
        if (full_name and full_name in text.casefold()) or (family and family.search(text)):
            raise ValueError("A notification must not carry the person's name: give the case reference "
                             "and a link (case_link) instead.")


@transaction.atomic
def message_queue(*, case: Case | None, recipient: User, kind: str, dedupe_key: str, subject: str, body: str,
                  data: dict[str, Any] | None = None,
                  occurred_on: date | datetime | None = None) -> tuple[Message, bool]:
    """Queue one message for the worker to send; returns (message, created).

    Call it inside the transaction of the change it tells about. The same dedupe key queues
    one message only: a second call returns the first message and writes nothing.
    """
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    _refuse_names(case, subject, body, dedupe_key)
    try:
        # A savepoint, so that losing a race for the key leaves the caller's transaction usable.
        with transaction.atomic():
            message = Message.objects.create(
                case=case, recipient=recipient, kind=kind, dedupe_key=dedupe_key, subject=subject[:200],
                body=body, data=data or {}, created_at=clock.now(),
            )
    except IntegrityError:
        return Message.objects.get(dedupe_key=dedupe_key), False
    event_record(kind="notification.queued", subject=message, case=case, occurred_at=occurred_on,
                 summary=f"Notification ({kind.replace('_', ' ')}) queued for {recipient_description(recipient)}",
                 data={"kind": kind, "recipient": recipient.pk})
    return message, True


def _due(now: datetime) -> Q:
    waiting = Q(status=Message.Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    retry = Q(status=Message.Status.FAILED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now)
    return waiting | retry


def outbox_remaining() -> int:
    """Messages not yet delivered that the worker will still try: waiting, claimed or to retry."""
    return Message.objects.filter(
        Q(status=Message.Status.PENDING)
        | Q(status=Message.Status.FAILED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__isnull=False)
    ).count()


def _claim_next() -> Message | None:
    """Take the oldest due message for this worker, or None when nothing is due (see _claim)."""
    claimed = _claim()
    return claimed[0] if claimed else None


def _claim() -> tuple[Message, bool] | None:
    """Take the oldest due message for this worker: (message, interrupted), or None when
    nothing is due. `interrupted`: an earlier claim of it never recorded how it went (its
    worker died between claiming and recording), so it may already have been delivered.

    The row is locked while the claim is written (PostgreSQL skips rows another worker holds;
    SQLite's immediate transactions let one writer in at a time), and its status is read under
    that lock, so two workers can never both claim it, nor anyone claim a sent message. A
    claimed message is `pending` until its attempt is recorded: a recorded failure is `failed`,
    so a `pending` message with attempts behind it is one whose attempt was interrupted.
    """
    now = clock.now()
    with transaction.atomic():
        message = (Message.objects.select_for_update(skip_locked=True)
                   .filter(_due(now)).order_by("created_at", "id").first())
        if message is None:
            return None
        interrupted = message.status == Message.Status.PENDING and message.attempts > 0
        message.attempts += 1
        message.status = Message.Status.PENDING
        message.next_attempt_at = now + CLAIM
        message.save(update_fields=["attempts", "status", "next_attempt_at"])
    return Message.objects.select_related("recipient__agency", "case").get(pk=message.pk), interrupted


def _finish(claimed: Message, *, reference: str = "", error: BaseException | None = None,
            found_delivered: bool = False) -> bool:
    """Record how the claimed attempt went, with its event; False if the claim was lost meanwhile.
    found_delivered: the backend had already delivered it (an interrupted attempt), so it was
    not sent again."""
    now = clock.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=claimed.pk)
        if message.status == Message.Status.SENT or message.attempts != claimed.attempts:
            logger.warning("notification %s: claim lost to another worker", message.pk,
                           extra={"case_id": message.case_id})
            return False
        to = recipient_description(claimed.recipient)
        if error is None:
            message.status = Message.Status.SENT
            message.sent_at = now
            message.backend_reference = reference[:200]
            message.last_error = ""
            message.next_attempt_at = None
            message.save(update_fields=["status", "sent_at", "backend_reference", "last_error", "next_attempt_at"])
            event_record(kind="notification.sent", subject=message, case=message.case,
                         summary=f"Notification ({message.kind.replace('_', ' ')}) sent to {to}"
                         + (" (found delivered before its worker stopped; not sent again)" if found_delivered
                            else ""),
                         data={"kind": message.kind, "recipient": message.recipient_id,
                               "attempt": message.attempts, "reference": message.backend_reference,
                               **({"found_delivered": True} if found_delivered else {})})
            return True
        retry = not isinstance(error, Undeliverable) and message.attempts < MAX_ATTEMPTS
        message.status = Message.Status.FAILED
        message.last_error = (str(error) or type(error).__name__)[:500]
        message.next_attempt_at = now + min(timedelta(minutes=2 ** (message.attempts - 1)), MAX_RETRY_DELAY) \
            if retry else None
        message.save(update_fields=["status", "last_error", "next_attempt_at"])
        outcome = "will be tried again" if retry else "will not be tried again"
        event_record(kind="notification.failed", subject=message, case=message.case,
                     summary=f"Notification ({message.kind.replace('_', ' ')}) to {to} not sent "
                             f"(attempt {message.attempts}); {outcome}",
                     data={"kind": message.kind, "recipient": message.recipient_id, "attempt": message.attempts,
                           "error": type(error).__name__, "will_retry": retry})
        return True


def _check_recipient(message: Message) -> None:
    if not message.recipient.is_active:
        raise Undeliverable("The recipient's account is deactivated.")
    if not (message.recipient.email or "").strip():
        raise Undeliverable("The recipient has no email address; add one to their account.")


def _delivered_before(backend: Backend, message: Message) -> str | None:
    """The backend's reference for the message if it has already delivered it, else None. A
    backend that cannot tell (plain SMTP) is sent the message again: at-least-once, logged."""
    lookup = getattr(backend, "delivered", None)
    try:
        if lookup is None:
            raise NotImplementedError
        found: str | None = lookup(message)
    except NotImplementedError:
        logger.warning("notification %s: an earlier attempt was interrupted and the backend cannot tell "
                       "whether it was delivered, so it is sent again", message.pk, extra={"case_id": message.case_id})
        return None
    if found is None:
        logger.info("notification %s: an earlier attempt was interrupted before delivery; sending it now",
                    message.pk, extra={"case_id": message.case_id})
    return found


def outbox_deliver(*, limit: int = 200, backend: Backend | None = None,
                   on_each: Callable[[Message], None] | None = None) -> DeliveryReport:
    """Send up to `limit` due messages, oldest first, through the configured backend.

    Waiting messages are sent, and failed ones whose retry time has come are tried again.
    A pass stops early when the backend fails several times in a row; what it did not reach
    stays waiting for the next pass. `on_each` is called after each attempt (for progress bars).
    """
    backend = backend or configured_backend()
    sent = failed = failures_in_a_row = 0
    for _ in range(limit):
        claimed = _claim()
        if claimed is None:
            break
        message, interrupted = claimed
        try:
            _check_recipient(message)
            # An interrupted attempt may have been delivered: ask the backend before sending again.
            found = _delivered_before(backend, message) if interrupted else None
            reference = found or backend.send(message)
        except Exception as error:  # any failure of the backend is recorded, and the pass goes on
            if _finish(message, error=error):
                failed += 1
            logger.warning("notification %s not sent: %s", message.pk, type(error).__name__,
                           extra={"case_id": message.case_id})
            failures_in_a_row = 0 if isinstance(error, Undeliverable) else failures_in_a_row + 1
        else:
            if _finish(message, reference=reference, found_delivered=found is not None):
                sent += 1
            failures_in_a_row = 0
        if on_each is not None:
            on_each(message)
        if failures_in_a_row >= STOP_AFTER_FAILURES_IN_A_ROW:
            logger.warning("notification backend failing; delivery paused until the next pass")
            break
    return DeliveryReport(sent=sent, failed=failed, remaining=outbox_remaining())


def outbox_due() -> int:
    """How many messages a pass would try now."""
    return Message.objects.filter(_due(clock.now())).count()


@transaction.atomic
def message_retry(*, message: Message) -> Message:
    """Put a message the worker gave up on back in the outbox (after the cause has been fixed)."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.status != Message.Status.FAILED or message.will_retry:
        return message
    message.status = Message.Status.PENDING
    message.attempts = 0
    message.next_attempt_at = None
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    event_record(kind="notification.requeued", subject=message, case=message.case,
                 summary=f"Notification ({message.kind.replace('_', ' ')}) put back in the outbox",
                 data={"kind": message.kind, "recipient": message.recipient_id})
    return message
