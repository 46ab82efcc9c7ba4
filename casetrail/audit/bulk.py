"""Writing many chained audit entries at once: imports, migrations of old records, and the
benchmarks that build a national-size history.

`append_chained` writes exactly the rows that one `create()` per entry would write (the same
id, seq, prev_hash and entry_hash, in the same hash format), a batch at a time: each batch is
one transaction that locks the chain's head row, as `ChainedEntry.save()` does, takes the next
ids from the table's own id sequence, hashes each entry with the model's own `compute_hash`,
inserts the batch with one statement per batch and moves the head on. Entries written after it
through `save()` (`event_record`, `access_log`) continue the chain, and `manage.py verify`
checks both alike.

A batch that fails (a bad row, a database error) is rolled back whole, so the chain stays
intact; the batches before it stay written unless the caller wraps the call in its own
transaction, in which case it is all or nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections, router, transaction

from casetrail.audit.hashing import FORMAT_2_COLUMNS
from casetrail.audit.models import _HEAD_TABLE, ChainedEntry, Event, _lock_head

# What append_chained computes itself; a row that names one of these is refused.
COMPUTED = ("id", "seq", "prev_hash", "entry_hash")


def _settable_names(model: type[ChainedEntry]) -> frozenset[str]:
    names: set[str] = set()
    computed = set(COMPUTED)
    if model.writes_format_2:
        computed |= set(FORMAT_2_COLUMNS)
    for field in model._meta.concrete_fields:
        if field.attname in computed or field.name in computed:
            continue
        names |= {field.name, field.attname}
    return frozenset(names)


def _check_row(model: type[ChainedEntry], row: dict[str, Any], allowed: frozenset[str], number: int) -> None:
    if not isinstance(row, dict):
        raise TypeError(f"row {number}: expected a dict of {model.__name__} field values, got {type(row).__name__}")
    unknown = sorted(set(row) - allowed)
    if unknown:
        computed = [name for name in unknown if name in (*COMPUTED, *FORMAT_2_COLUMNS)]
        if computed:
            raise ValueError(f"row {number}: {', '.join(computed)} are computed by append_chained, "
                             f"not given")
        raise ValueError(f"row {number}: {model.__name__} has no field {', '.join(unknown)}")


def _next_ids(cursor: Any, model: type[ChainedEntry], first: int, count: int) -> list[int]:
    """`count` ids for new entries, the first being the one _lock_head drew."""
    if count <= 1:
        return [first][:count]
    connection = cursor.db
    if connection.vendor == "postgresql":
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count - 1])
        return [first, *sorted(int(row[0]) for row in cursor.fetchall())]
    # SQLite (and others): the write transaction keeps other writers out, so the ids after the
    # first are free; an explicit id moves SQLite's AUTOINCREMENT counter on by itself.
    return list(range(first, first + count))


def append_chained(model: type[ChainedEntry], rows: Iterable[dict[str, Any]], *, batch_size: int = 5000,
                   progress: Callable[[int], None] | None = None) -> int:
    """Append one entry per row (a dict of the model's field values, by name or attname, without
    id, seq, prev_hash, entry_hash, nor for format-2 chains hash_format, payload_salt and
    payload_digest) to the model's chain; return how many were written. `progress` is called with
    the number of entries of each batch once it is committed."""
    if not (isinstance(model, type) and issubclass(model, ChainedEntry)) or model._meta.abstract:
        raise TypeError(f"{model!r} is not a chained audit model")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    using = router.db_for_write(model)
    connection = connections[using]
    allowed = _settable_names(model)
    fields = list(model._meta.concrete_fields)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    # As save(): inside a caller's transaction, an access-log write locks the events head first.
    lock_events_first = (model.chain != Event.chain and connection.in_atomic_block
                         and connection.features.has_select_for_update)
    written = 0
    source = iter(rows)
    while batch := list(itertools.islice(source, batch_size)):
        entries = []
        for number, row in enumerate(batch, start=written + 1):
            _check_row(model, row, allowed, number)
            entries.append(model(**row))
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            if lock_events_first:
                _lock_head(cursor, Event)
            seq, prev_hash, first_id = _lock_head(cursor, model)
            ids = _next_ids(cursor, model, first_id, len(entries))
            params = []
            for entry, id in zip(entries, ids, strict=True):
                seq += 1
                entry.pk = id
                entry.seq = seq
                entry.prev_hash = prev_hash
                if entry.writes_format_2:
                    entry._commit_payload()
                entry.entry_hash = prev_hash = entry.compute_hash()
                params.append([field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields])
            cursor.executemany(insert, params)
            cursor.execute(f"UPDATE {_HEAD_TABLE} SET seq = %s, entry_hash = %s WHERE chain = %s",
                           [seq, prev_hash, model.chain])
        for entry in entries:
            entry._state.adding = False
            entry._state.db = using
        written += len(entries)
        if progress is not None:
            progress(len(entries))
    return written

