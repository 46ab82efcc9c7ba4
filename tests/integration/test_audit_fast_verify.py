"""The fast path of verification (casetrail/audit/fast_hashing.py) recomputes, from the raw
columns, the very hash the general path computes, for every kind of value the application
writes; what it does not recognise it leaves to the general path, which keeps the verdict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from casetrail.audit.fast_hashing import fast_chain
from casetrail.audit.models import AccessLogEntry, ChainedEntry, Event, erase_payloads
from casetrail.audit.services import access_log, event_record
from casetrail.audit.verification import chain_verify

from .conftest import World
from .test_audit_chain import tamper

ODD_DATA = [
    {},
    {"ratio": 0.25, "whole": 2.0, "big": 1e16, "huge": 1e23, "negative_zero": -0.0, "tiny": 1e-7},
    {"nested": {"b": [1, 2.0, {"z": None, "a": True}], "a": "é – “quoted” \\ \"", "emoji": "🙂"}},
    {"n": 10**20, "list": [], "text": "\u001f\u2028"},
    [1, "two", 3.5],
    "just text",
]


def raw_rows(model: type[ChainedEntry]) -> list[tuple]:
    fast = fast_chain(model, connection.vendor, connection.ops.quote_name)
    assert fast is not None
    with connection.cursor() as cursor:
        cursor.execute(fast.sql)
        return [(row, fast.holds(row)) for row in cursor.fetchall()]


def test_every_value_the_application_writes_hashes_the_same_the_fast_way(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for number, data in enumerate(ODD_DATA):
        event_record(kind="test.odd", subject=world.council, summary=f"Odd value {number} – ‘quoted’ \\ \"x\"",
                     actor=world.users["coordinator"] if number % 2 else None, data=data,  # type: ignore[arg-type]
                     occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))  # no microseconds: a shorter text
    police = world.users["police"]
    entries = [access_log(user=police, operation="disclosure", subject=world.council, justification=f"Court {n} é",
                          recipient="Crown Court") for n in range(3)]
    access_log(user=None, operation="consultation", subject=world.council)
    erase_payloads(AccessLogEntry, [entries[1].pk])
    monkeypatch.setattr(AccessLogEntry, "writes_format_2", False)  # as entries were written before format 2
    access_log(user=police, operation="consultation", subject=world.council, justification="Old style")
    for model in (Event, AccessLogEntry):
        rows = raw_rows(model)
        assert rows and all(holds for _, holds in rows), [row for row, holds in rows if not holds]
        assert chain_verify(model).intact
    assert set(AccessLogEntry.objects.values_list("hash_format", flat=True)) == {1, 2}
    assert AccessLogEntry.objects.filter(pk=entries[1].pk, payload_salt="", justification="").exists()


def test_a_changed_entry_does_not_hold_the_fast_way(world: World) -> None:
    event = event_record(kind="test.step", subject=world.council, summary="Step", data={"n": 1.5})
    tamper(f"UPDATE audit_event SET data = '{{\"n\": 1.50001}}' WHERE id = {event.pk}")
    assert [holds for row, holds in raw_rows(Event) if row[1] == event.pk] == [False]
    report = chain_verify(Event)
    assert report.problem is not None and (report.problem.seq, report.problem.kind) == (event.seq, "changed")
