"""The event history and the access log are hash chains: `verify` finds a changed, deleted,
inserted or reordered entry; PostgreSQL refuses the SQL that would make one; a signed digest
exposes even a history rewritten and re-hashed by someone with the database to themselves."""

from __future__ import annotations

import base64
import importlib
import json
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from casetrail.audit.hashing import FORMAT_2_COLUMNS, GENESIS, entry_hash
from casetrail.audit.models import AccessLogEntry, ChainedEntry, ChainHead, Event
from casetrail.audit.services import access_log, event_record

from .conftest import World

POSTGRESQL = connection.vendor == "postgresql"
TABLES = (Event._meta.db_table, AccessLogEntry._meta.db_table)


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        verify(*args)
    assert failure.value.returncode == 1
    return str(failure.value)


@pytest.fixture
def events(world: World) -> list[Event]:
    """Five more events after those the world's set-up wrote."""
    return [event_record(kind="test.step", subject=world.council, actor=world.users["coordinator"],
                         role="channel_coordinator", summary=f"Step {n}", data={"n": n, "ratio": n / 4})
            for n in range(1, 6)]


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> str:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    monkeypatch.setenv("CASETRAIL_AUDIT_SIGNING_KEY", base64.b64encode(raw).decode())
    out = StringIO()
    call_command("audit_digest", "--public-key", stdout=out, stderr=StringIO())
    return out.getvalue().split()[0]


def tamper(*statements: str, refused: bool = True) -> None:
    """Run raw SQL as a database administrator might. On PostgreSQL the triggers refuse the first
    statement; then, as the tables' owner, switch them off to show `verify` still finds it."""
    with connection.cursor() as cursor:
        if POSTGRESQL:
            if refused:
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    cursor.execute(statements[0])
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending FK checks
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        for statement in statements:
            cursor.execute(statement)
        if POSTGRESQL:
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def move_seq(table: str, where: str, by: int) -> list[str]:
    """SQL moving seq by `by` for the rows matching `where`, through free values so that the
    unique constraint holds after each statement."""
    return [f"UPDATE {table} SET seq = seq + 1000000 WHERE {where}",
            f"UPDATE {table} SET seq = seq - 1000000 + ({by}) WHERE seq >= 1000000"]


def rows(model: type[ChainedEntry]) -> list[dict[str, Any]]:
    return list(model.objects.order_by("seq").values(*model.chained_fields, "entry_hash"))


# ---------------------------------------------------------------- the chain as written


def test_each_entry_commits_to_the_one_before(world: World, events: list[Event]) -> None:
    access_log(user=world.users["police"], operation="consultation", subject=world.council)
    for model in (Event, AccessLogEntry):
        chain = rows(model)
        assert [row["seq"] for row in chain] == list(range(1, len(chain) + 1))
        assert chain[0]["prev_hash"] == GENESIS
        for previous, row in zip(chain, chain[1:], strict=False):
            assert row["prev_hash"] == previous["entry_hash"]
        for row in chain:
            assert entry_hash(model.chain, row, model.chained_fields) == row["entry_hash"]
        head = ChainHead.objects.get(chain=model.chain)
        assert (head.seq, head.entry_hash) == (chain[-1]["seq"], chain[-1]["entry_hash"])
    # The instance returned is the row as stored.
    assert Event.objects.get(pk=events[-1].pk).entry_hash == events[-1].entry_hash == events[-1].compute_hash()


def test_verify_passes_an_intact_chain(world: World, events: list[Event]) -> None:
    access_log(user=world.users["police"], operation="consultation", subject=world.council)
    out = verify()
    assert f"audit_event: {Event.objects.count():,} entries, intact" in out
    assert "audit_accesslogentry: 1 entries, intact" in out


def test_the_data_migration_hashes_entries_as_the_application_does(world: World, events: list[Event]) -> None:
    access_log(user=world.users["police"], operation="disclosure", subject=world.council, recipient="Court")
    migration = importlib.import_module("casetrail.audit.migrations.0003_chain_existing_entries")
    for model in (Event, AccessLogEntry):
        fields = migration.CHAINS[model.chain][1]
        assert tuple(fields) == tuple(name for name in model.chained_fields if name not in FORMAT_2_COLUMNS)
        for row in rows(model):
            # Access-log entries are now written in format 2 (migration 0006): the frozen copy
            # must still agree with the application's format 1 on the same values.
            as_format_1 = {**row, "hash_format": 1}
            assert migration.entry_hash(model.chain, row, fields) == entry_hash(model.chain, as_format_1,
                                                                                model.chained_fields)
            if row.get("hash_format", 1) == 1:
                assert migration.entry_hash(model.chain, row, fields) == row["entry_hash"]


def test_values_hash_as_they_read_back_from_the_database(world: World) -> None:
    """jsonb rewrites 1e16 as 10000000000000000 and 2.0 as 2; int keys become strings."""
    event = event_record(kind="test.numbers", subject=world.council, summary="Numbers",
                         data={"big": 1e16, "whole": 2.0, "tiny": 1e-7, 3: ["x", 0.1], "text": "café ✓"})
    stored = Event.objects.filter(pk=event.pk).values(*Event.chained_fields, "entry_hash").get()
    assert entry_hash(Event.chain, stored, Event.chained_fields) == stored["entry_hash"] == event.entry_hash
    verify()


# ---------------------------------------------------------------- tampering found


def test_verify_finds_a_changed_entry(events: list[Event]) -> None:
    target = events[2]
    tamper(f"UPDATE audit_event SET summary = 'Nothing happened' WHERE id = {target.pk}")
    message = verify_fails()
    assert f"audit_event seq {target.seq} (id {target.pk}): changed" in message


def test_verify_finds_a_changed_access_log_entry(world: World) -> None:
    entries = [access_log(user=world.users["police"], operation="consultation", subject=world.council)
               for _ in range(3)]
    tamper(f"UPDATE audit_accesslogentry SET user_id = {world.users['chair'].pk} WHERE id = {entries[1].pk}")
    assert f"audit_accesslogentry seq {entries[1].seq} (id {entries[1].pk}): changed" in verify_fails()


def test_verify_finds_a_deleted_entry(events: list[Event]) -> None:
    target = events[2]
    tamper(f"DELETE FROM audit_event WHERE id = {target.pk}")
    message = verify_fails()
    assert f"audit_event seq {target.seq}: missing" in message
    assert f"seq {target.seq + 1} (id {events[3].pk}) follows seq {target.seq - 1}" in message


def test_verify_finds_an_entry_deleted_from_the_end(events: list[Event]) -> None:
    tamper(f"DELETE FROM audit_event WHERE id = {events[-1].pk}")
    assert f"audit_event seq {events[-1].seq}: missing: the chain ends at seq {events[-2].seq}" in verify_fails()


def test_verify_finds_a_deleted_entry_when_the_rest_are_renumbered(events: list[Event]) -> None:
    target = events[1]
    tamper(f"DELETE FROM audit_event WHERE id = {target.pk}",
           *move_seq("audit_event", f"seq > {target.seq}", -1))
    assert f"audit_event seq {target.seq} (id {events[2].pk}): missing" in verify_fails()


def test_verify_finds_an_inserted_entry_even_with_a_valid_hash(events: list[Event]) -> None:
    """The forger knows the format: the inserted entry hashes and links correctly, but the
    entry after it still commits to the one before the insertion."""
    after = events[1]
    forged = Event.objects.filter(pk=after.pk).values(*Event.chained_fields).get()
    forged.update(id=after.pk + 1000, seq=after.seq + 1, prev_hash=after.entry_hash, summary="Consent given")
    columns = [field.column for field in Event._meta.concrete_fields]
    forged_hash = entry_hash(Event.chain, forged, Event.chained_fields)
    overrides = {"id": str(forged["id"]), "seq": str(forged["seq"]), "prev_hash": f"'{after.entry_hash}'",
                 "entry_hash": f"'{forged_hash}'", "summary": "'Consent given'"}
    select = ", ".join(overrides.get(column, column) for column in columns)
    tamper(*move_seq("audit_event", f"seq > {after.seq}", +1),
           f"INSERT INTO audit_event ({', '.join(columns)}) SELECT {select} FROM audit_event WHERE id = {after.pk}")
    message = verify_fails()
    assert f"audit_event seq {after.seq + 2} (id {events[2].pk}): inserted" in message
    assert f"links to seq {after.seq}, not to seq {after.seq + 1}" in message


def forge_after(last: Event, entry_hash_sql: str | None = None) -> str:
    """SQL adding a copy of `last` after it, without the audit service (so without the head)."""
    forged = Event.objects.filter(pk=last.pk).values(*Event.chained_fields).get()
    forged.update(id=last.pk + 1000, seq=last.seq + 1, prev_hash=last.entry_hash)
    columns = [field.column for field in Event._meta.concrete_fields]
    overrides = {"id": str(forged["id"]), "seq": str(forged["seq"]), "prev_hash": f"'{last.entry_hash}'",
                 "entry_hash": entry_hash_sql or f"'{entry_hash(Event.chain, forged, Event.chained_fields)}'"}
    select = ", ".join(overrides.get(column, column) for column in columns)
    return f"INSERT INTO audit_event ({', '.join(columns)}) SELECT {select} FROM audit_event WHERE id = {last.pk}"


def test_verify_finds_an_entry_added_without_going_through_the_chain(events: list[Event]) -> None:
    last = events[-1]
    tamper(forge_after(last), refused=False)
    message = verify_fails()
    assert f"audit_event seq {last.seq + 1}: inserted: the chain runs on past its head (seq {last.seq})" in message


def test_verify_finds_a_forged_entry_beyond_the_head(events: list[Event]) -> None:
    last = events[-1]
    tamper(forge_after(last, entry_hash_sql="'" + "f" * 64 + "'"), refused=False)
    message = verify_fails()
    assert f"audit_event seq {last.seq + 1} (id {last.pk + 1000}): inserted: it lies beyond the chain's head" in message


def test_verify_finds_a_reordered_pair(events: list[Event]) -> None:
    first, second = events[1], events[2]
    tamper(f"UPDATE audit_event SET seq = seq + 1000000 WHERE id = {first.pk}",
           f"UPDATE audit_event SET seq = {first.seq} WHERE id = {second.pk}",
           f"UPDATE audit_event SET seq = {second.seq} WHERE id = {first.pk}")
    message = verify_fails()
    assert f"audit_event seq {first.seq} (id {second.pk}): reordered" in message
    assert f"links to seq {second.seq}, which now comes after it" in message


def test_verify_finds_an_entry_changed_and_re_hashed(events: list[Event]) -> None:
    target = events[2]
    changed = Event.objects.filter(pk=target.pk).values(*Event.chained_fields).get()
    changed["summary"] = "Nothing happened"
    tamper(f"UPDATE audit_event SET summary = 'Nothing happened', "
           f"entry_hash = '{entry_hash(Event.chain, changed, Event.chained_fields)}' WHERE id = {target.pk}")
    assert f"audit_event seq {target.seq} (id {target.pk}): changed: seq {target.seq + 1}" in verify_fails()


# ---------------------------------------------------------------- refused outright


def test_the_orm_refuses_to_change_or_remove_entries(world: World, events: list[Event]) -> None:
    entry = access_log(user=world.users["police"], operation="consultation", subject=world.council)
    for model, instance in ((Event, events[0]), (AccessLogEntry, entry)):
        with pytest.raises(PermissionError):
            model.objects.filter(pk=instance.pk).update(seq=0)
        with pytest.raises(PermissionError):
            model.objects.filter(pk=instance.pk).delete()
        with pytest.raises(PermissionError):
            instance.save()
        with pytest.raises(PermissionError):
            instance.delete()
        with pytest.raises(PermissionError):
            model.objects.bulk_create([model()])
    verify()


@pytest.mark.skipif(not POSTGRESQL, reason="the database-level refusal is PostgreSQL's")
def test_postgresql_refuses_update_delete_and_truncate(world: World, events: list[Event]) -> None:
    access_log(user=world.users["police"], operation="consultation", subject=world.council)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # else TRUNCATE stops at the pending FK checks
    for table in TABLES:
        for statement in (f"UPDATE {table} SET seq = seq WHERE seq = 1", f"DELETE FROM {table} WHERE seq = 1",
                          f"TRUNCATE {table} CASCADE"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
                c.execute(statement)
    verify()


# ---------------------------------------------------------------- signed digests


def rehash_everything_from(model: type[ChainedEntry], seq: int) -> None:
    """What a database administrator covering their tracks would do: recompute every hash from
    the changed entry on, and the head, so that the chain itself is consistent again."""
    chain = rows(model)
    statements, prev_hash = [], GENESIS
    table = model._meta.db_table
    for row in chain:
        if row["seq"] >= seq:
            row["prev_hash"] = prev_hash
            row["entry_hash"] = entry_hash(model.chain, row, model.chained_fields)
            statements.append(f"UPDATE {table} SET prev_hash = '{row['prev_hash']}', "
                              f"entry_hash = '{row['entry_hash']}' WHERE id = {row['id']}")
        prev_hash = row["entry_hash"]
    statements.append(f"UPDATE audit_chainhead SET entry_hash = '{prev_hash}' WHERE chain = '{model.chain}'")
    tamper(*statements)


def test_a_signed_digest_exposes_a_history_rewritten_and_re_hashed(
        world: World, events: list[Event], signing_key: str, tmp_path: Path) -> None:
    access_log(user=world.users["police"], operation="consultation", subject=world.council)
    digests = tmp_path / "digests.jsonl"
    call_command("audit_digest", "--out", str(digests), "--no-progress", stdout=StringIO(), stderr=StringIO())
    signed = [json.loads(line) for line in digests.read_text().splitlines()]
    assert {(d["chain"], d["seq"]) for d in signed} == {("events", events[-1].seq), ("access_log", 1)}
    assert "all hold" in verify("--digests", str(digests), "--public-key", signing_key)

    target = events[1]
    tamper(f"UPDATE audit_event SET summary = 'Nothing happened' WHERE id = {target.pk}")
    rehash_everything_from(Event, target.seq)
    verify()  # the chain alone is consistent again...
    message = verify_fails("--digests", str(digests), "--public-key", signing_key)  # ...but not with the digest
    assert f"audit_event seq {events[-1].seq} no longer has the signed hash" in message


def test_a_digest_altered_or_checked_with_another_key_is_refused(
        world: World, events: list[Event], signing_key: str, tmp_path: Path) -> None:
    digests = tmp_path / "digests.jsonl"
    call_command("audit_digest", "--out", str(digests), "--no-progress", stdout=StringIO(), stderr=StringIO())
    digest = json.loads(digests.read_text())
    altered = tmp_path / "altered.jsonl"
    altered.write_text(json.dumps({**digest, "seq": digest["seq"] - 1}) + "\n")
    assert "the signature does not match" in verify_fails("--digests", str(altered), "--public-key", signing_key)

    other = Ed25519PrivateKey.generate().public_key()
    other_key = base64.b64encode(other.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    assert f"signed with key {digest['key_id']}, not the given key" in verify_fails(
        "--digests", str(digests), "--public-key", other_key)


def test_audit_digest_refuses_to_sign_a_broken_chain(events: list[Event], signing_key: str) -> None:
    tamper(f"UPDATE audit_event SET summary = 'Nothing happened' WHERE id = {events[0].pk}")
    with pytest.raises(CommandError, match="Not signing"):
        call_command("audit_digest", "--no-progress", stdout=StringIO(), stderr=StringIO())


def test_in_development_a_key_is_made_and_kept_in_the_var_directory(
        events: list[Event], settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASETRAIL_AUDIT_SIGNING_KEY", raising=False)
    settings.VAR_DIR = tmp_path
    out, err = StringIO(), StringIO()
    call_command("audit_digest", "--no-progress", stdout=out, stderr=err)
    assert "DEVELOPMENT signing key" in err.getvalue()
    key_file = tmp_path / "audit-signing-key"
    assert key_file.stat().st_mode & 0o077 == 0
    digests = tmp_path / "digests.jsonl"
    digests.write_text(out.getvalue())
    assert "all hold" in verify("--digests", str(digests))  # against the server's own key
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="CASETRAIL_AUDIT_SIGNING_KEY must be set"):
        call_command("audit_digest", stdout=StringIO(), stderr=StringIO())


# ---------------------------------------------------------------- concurrent writers


@pytest.mark.skipif(not POSTGRESQL, reason="on SQLite every write transaction already runs alone")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_take_turns_on_the_chain(world: World) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    event_record(kind="test.concurrent", subject=world.council, summary=f"Writer {n} step {i}")
                    access_log(user=world.users["police"], operation="alteration", subject=world.council)
        except BaseException as problem:  # noqa: BLE001 - reported by the main thread
            errors.append(problem)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Event.objects.filter(kind="test.concurrent").count() == 60
    verify()
