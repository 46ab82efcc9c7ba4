"""The one clock every service reads, so a replay can set it to a past date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("casetrail_clock", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


def today() -> date:
    return timezone.localdate(now())


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were `moment` (used by replays and tests)."""
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
