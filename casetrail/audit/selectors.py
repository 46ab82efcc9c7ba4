"""What auditors ask of the access log: who looked at this person, what did this user look at,
and what looks unusual (volume, out of hours, break glass)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from casetrail.audit.models import AccessLogEntry

# A person opening more than this many records of personal data in a day is shown for review.
UNUSUAL_DAILY_VOLUME = 60
WORKING_HOURS = (time(7, 0), time(19, 0))


def _span(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone), datetime.combine(end + timedelta(days=1), time.min,
                                                                              tzinfo=zone))


def log_search(*, person_id: int | None = None, case_id: int | None = None, user_id: int | None = None,
               operation: str = "", start: date, end: date, limit: int = 500) -> QuerySet[AccessLogEntry]:
    """Entries in [start, end], newest first, narrowed by person, case, user and operation."""
    since, until = _span(start, end)
    entries = AccessLogEntry.objects.filter(at__gte=since, at__lt=until)
    if person_id is not None:
        from casetrail.cases.models import Case

        # The person's entries and those about their cases, each found through its own index: the
        # same OR through a join to the cases read every entry of the period (bench/national).
        cases = list(Case.objects.filter(person_id=person_id).values_list("pk", flat=True))
        entries = entries.filter(Q(person_id=person_id) | Q(case_id__in=cases))
    if case_id is not None:
        entries = entries.filter(case_id=case_id)
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    if operation:
        entries = entries.filter(operation=operation)
    return entries.select_related("user", "agency", "case", "person").order_by("-at", "-id")[:limit]


@dataclass
class UnusualAccess:
    heavy_days: list[dict[str, Any]]
    out_of_hours: list[AccessLogEntry]
    break_glass: list[Any]


def unusual_access(*, start: date, end: date, daily_volume: int = UNUSUAL_DAILY_VOLUME) -> UnusualAccess:
    """Days on which someone looked at an unusual amount, looks outside working hours or at
    weekends, and every break-glass grant in the period."""
    from casetrail.cases.models import BreakGlassGrant

    since, until = _span(start, end)
    entries = AccessLogEntry.objects.filter(at__gte=since, at__lt=until, user__isnull=False)
    heavy = list(
        entries.annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("user_id", "user__username", "user__first_name", "user__last_name", "day")
        .annotate(n=Count("id")).filter(n__gt=daily_volume).order_by("-n")[:100]
    )
    opening, closing = WORKING_HOURS
    odd = []
    for entry in entries.select_related("user", "agency", "case").order_by("-at")[:5000]:
        local = timezone.localtime(entry.at)
        if local.weekday() >= 5 or not opening <= local.time() < closing:
            odd.append(entry)
            if len(odd) >= 200:
                break
    grants = list(BreakGlassGrant.objects.filter(granted_at__gte=since, granted_at__lt=until)
                  .select_related("user", "case", "reviewed_by"))
    return UnusualAccess(heavy, odd, grants)
