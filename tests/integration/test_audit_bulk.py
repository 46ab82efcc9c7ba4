"""The bulk path of the audit chains (casetrail/audit/bulk.py) writes exactly what one save() per
entry writes, continues the chain where it stands, and leaves it for save() to continue."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from casetrail.audit.bulk import append_chained
from casetrail.audit.hashing import entry_hash
from casetrail.audit.models import AccessLogEntry, ChainedEntry, ChainHead, Event
from casetrail.audit.services import access_log, event_record
from casetrail.audit.verification import chain_verify

from .conftest import World

MOMENT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def event_values(world: World, n: int) -> dict[str, Any]:
    coordinator = world.users["coordinator"]
    return {"kind": "import.step", "subject_type": "agency", "subject_id": world.council.pk,
            "actor": coordinator, "actor_role": "channel_coordinator", "actor_agency_id": coordinator.agency_id,
            "occurred_at": MOMENT + timedelta(minutes=n), "recorded_at": MOMENT + timedelta(minutes=n, seconds=1),
            "summary": f"Imported step {n} – “quoted”", "data": {"n": n, "ratio": n / 4, "whole": 2.0, "list": [1, "é"]}}


def access_values(world: World, n: int) -> dict[str, Any]:
    coordinator = world.users["coordinator"]
    return {"user": coordinator, "role": "Channel coordinator", "agency_id": coordinator.agency_id,
            "operation": "consultation", "object_type": "agency", "object_id": str(world.council.pk),
            "at": MOMENT + timedelta(seconds=n), "channel": "command", "justification": f"Import check {n}",
            "recipient": "", "request_id": f"req-{n}"}


def stored_row(model: type[ChainedEntry], pk: int) -> dict[str, Any]:
    names = [field.attname for field in model._meta.concrete_fields]
    return model.objects.filter(pk=pk).values(*names).get()


def verify() -> str:
    out = StringIO()
    call_command("verify", "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_bulk_entries_then_one_event_record_verify(world: World) -> None:
    before = {model: model.objects.count() for model in (Event, AccessLogEntry)}
    batches: list[int] = []
    assert append_chained(Event, (event_values(world, n) for n in range(23)), batch_size=5,
                          progress=batches.append) == 23
    assert batches == [5, 5, 5, 5, 3]
    assert append_chained(AccessLogEntry, [access_values(world, n) for n in range(12)], batch_size=4) == 12
    event = event_record(kind="test.after", subject=world.council, summary="After the import")
    entry = access_log(user=world.users["coordinator"], operation="consultation", subject=world.council)

    for model, written, last in ((Event, 24, event), (AccessLogEntry, 13, entry)):
        assert model.objects.count() == before[model] + written
        assert last.seq == model.objects.count()
        report = chain_verify(model)
        assert report.intact, report.problem
        assert (report.entries, report.last_hash) == (model.objects.count(), last.entry_hash)
        assert ChainHead.objects.get(chain=model.chain).seq == last.seq
    out = verify()
    assert "audit_event:" in out and "audit_accesslogentry:" in out and "BROKEN" not in out
    # Every bulk-written row hashes, read back from the database, to what it stores.
    for model in (Event, AccessLogEntry):
        for values in model.objects.order_by("seq").values(*model.chained_fields, "entry_hash"):
            assert entry_hash(model.chain, values, model.chained_fields) == values["entry_hash"]
    assert AccessLogEntry.objects.filter(request_id="req-3").get().hash_format == 2


def _as_save_would(model: type[ChainedEntry], values: dict[str, Any]) -> dict[str, Any]:
    """The row create() writes for these values, rolled back so the chain is as it was (and, on
    PostgreSQL, the id sequence set back, since a sequence ignores rollbacks)."""
    with transaction.atomic():
        saved = model.objects.create(**values)
        row = stored_row(model, saved.pk)
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                           [model._meta.db_table, saved.pk])
    return row


@pytest.mark.parametrize("model", [Event, AccessLogEntry])
def test_a_bulk_entry_is_the_row_save_would_write(world: World, model: type[ChainedEntry],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The access log's format-2 salt is random: fix it, so both ways draw the same one.
    monkeypatch.setattr(secrets, "token_hex", lambda size: "5a" * size)
    make = event_values if model is Event else access_values
    append_chained(model, [make(world, n) for n in range(3)])  # the chain already runs
    values = make(world, 99)
    expected = _as_save_would(model, values)
    assert append_chained(model, [values]) == 1
    written = stored_row(model, expected["id"])
    assert written == expected
    assert written["seq"] == model.objects.count()
    assert chain_verify(model).intact


def test_bad_rows_are_refused_and_change_nothing(world: World) -> None:
    head = ChainHead.objects.filter(chain="events").values_list("seq", "entry_hash").first()
    count = Event.objects.count()
    good = event_values(world, 1)
    with pytest.raises(ValueError, match="row 2: entry_hash, seq are computed by append_chained"):
        append_chained(Event, [good, {**good, "seq": 5, "entry_hash": "0" * 64}])
    with pytest.raises(ValueError, match="row 1: Event has no field colour"):
        append_chained(Event, [{**good, "colour": "red"}])
    with pytest.raises(ValueError, match="payload_salt are computed"):
        append_chained(AccessLogEntry, [{**access_values(world, 1), "payload_salt": "x"}])
    with pytest.raises(TypeError, match="not a chained audit model"):
        append_chained(ChainHead, [good])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        append_chained(Event, [good], batch_size=0)
    assert Event.objects.count() == count
    assert ChainHead.objects.filter(chain="events").values_list("seq", "entry_hash").first() == head
    assert append_chained(Event, []) == 0
    assert chain_verify(Event).intact
