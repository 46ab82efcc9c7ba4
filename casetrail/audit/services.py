"""Writing the event history and the personal-data access log."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db import connection
from django.utils import timezone

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event, _lock_head
from casetrail.web.logging import request_id_var


def as_moment(value: date | datetime) -> datetime:
    """A stated date becomes noon that day, local time (a date has no time of day)."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, time(12, 0)))


def event_record(
    *,
    kind: str,
    subject: Any,
    summary: str,
    actor: Any = None,
    role: str = "",
    case: Any = None,
    occurred_at: date | datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Write one event; call inside the transaction of the change it describes."""
    recorded = clock.now()
    return Event.objects.create(
        case=case,
        kind=kind,
        subject_type=subject._meta.model_name,
        subject_id=subject.pk,
        actor=actor,
        actor_role=role,
        actor_agency_id=getattr(actor, "agency_id", None),
        occurred_at=as_moment(occurred_at) if occurred_at is not None else recorded,
        recorded_at=recorded,
        summary=summary[:300],
        data=data or {},
    )


def history_lock() -> None:
    """Take the event history's write lock now; it is held until the transaction ends.

    Every audited write takes this lock when it records its first event, so writers take turns
    from there on. A service that numbers what it creates from what exists (REF-2026-00042 is
    one more than the referrals of 2026) takes it before counting, so that two transactions can
    never draw the same number: without it, on PostgreSQL, referrals sent at once counted the
    same people and half of them failed on the unique reference. On SQLite the immediate write
    transaction already keeps other writers out, and this changes nothing. Outside a transaction
    there is nothing to hold the lock to, and it does nothing either.
    """
    if connection.in_atomic_block and connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            _lock_head(cursor, Event)


def access_log(
    *,
    user: Any,
    operation: str,
    subject: Any,
    case: Any = None,
    person: Any = None,
    channel: str = "web",
    justification: str = "",
    recipient: str = "",
) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        user=user if getattr(user, "pk", None) else None,
        role=getattr(user, "roles_display", "")[:120],
        agency_id=getattr(user, "agency_id", None),
        operation=operation,
        object_type=subject._meta.model_name,
        object_id=str(subject.pk),
        case=case,
        person=person,
        at=clock.now(),
        channel=channel,
        justification=justification[:500],
        recipient=recipient[:200],
        request_id=request_id_var.get(),
    )
