"""Walking the audit hash chains to find the first broken link, and what broke it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction

from casetrail.audit.fast_hashing import FastChain, fast_chain
from casetrail.audit.hashing import GENESIS, entry_hash, payload_problem
from casetrail.audit.models import AccessLogEntry, ChainedEntry, ChainHead, Event

CHAINED_MODELS: dict[str, type[ChainedEntry]] = {Event.chain: Event, AccessLogEntry.chain: AccessLogEntry}


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain. kind is what most likely happened: changed, missing,
    inserted or reordered (or head, when the head row itself is missing)."""

    chain: str
    table: str
    seq: int
    id: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.table} seq {self.seq}" + (f" (id {self.id})" if self.id is not None else "")
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class ChainReport:
    chain: str
    table: str
    entries: int
    last_seq: int
    last_hash: str
    problem: Break | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _head(chain: str) -> tuple[int, str] | None:
    return ChainHead.objects.filter(chain=chain).values_list("seq", "entry_hash").first()


def _entry(model: type[ChainedEntry], **lookup: Any) -> dict[str, Any] | None:
    return model.objects.filter(**lookup).order_by("seq").values(*model.chained_fields, "entry_hash").first()


def _hashes(model: type[ChainedEntry], values: Mapping[str, Any]) -> bool:
    return entry_hash(model.chain, values, model.chained_fields) == values["entry_hash"]


def chain_rows(model: type[ChainedEntry]) -> Iterator[dict[str, Any]]:
    """Every entry, in chain order, read in one statement (so from one snapshot)."""
    return model.objects.order_by("seq").values(*model.chained_fields, "entry_hash").iterator(chunk_size=2000)


READ_CHUNK = 10_000


def _raw_rows(model: type[ChainedEntry], fast: FastChain) -> Iterator[list[tuple[Any, ...]]]:
    """Every entry as the fast reader selects it, in chain order, read in one statement (one
    snapshot), in chunks. On PostgreSQL inside a transaction, so the server-side cursor streams
    rather than copying the whole result first; on SQLite without one (a write transaction there
    would stop other writers while the chain is read)."""
    connection = connections[router.db_for_read(model)]
    streaming = transaction.atomic(using=connection.alias) if connection.vendor == "postgresql" else nullcontext()
    with streaming, connection.chunked_cursor() as cursor:
        cursor.execute(fast.sql)
        while chunk := cursor.fetchmany(READ_CHUNK):
            yield chunk


def _row_problem(model: type[ChainedEntry], row: Mapping[str, Any], last_seq: int, prev_hash: str,
                 broken: Callable[..., Break]) -> Break | None:
    """The general check of one entry, following the entry at last_seq whose hash is prev_hash."""
    seq, id = row["seq"], row["id"]
    if seq != last_seq + 1:
        missing = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seq {last_seq + 1} to {seq - 1}"
        return broken(last_seq + 1, None, "missing",
                      f"{missing} is not in the table: seq {seq} (id {id}) follows seq {last_seq}")
    if row["prev_hash"] != prev_hash:
        return _diagnose_link(model, row, last_seq, prev_hash, broken)
    if not _hashes(model, row):
        return broken(seq, id, "changed", "the stored entry no longer matches its hash")
    if payload := payload_problem(model.chain, row):
        return broken(seq, id, "changed", payload)
    return None


def _walk(model: type[ChainedEntry], broken: Callable[..., Break], progress: Callable[[int], None] | None,
          fast_path: bool) -> tuple[int, int, str, Break | None]:
    """Check every entry in order: (entries that hold, last seq, last hash, first problem). Each
    entry that holds has the seq after the last, so the count is the last seq."""
    last_seq, prev_hash = 0, GENESIS
    connection = connections[router.db_for_read(model)]
    fast = fast_chain(model, connection.vendor, connection.ops.quote_name) if fast_path else None
    if fast is None:
        for row in chain_rows(model):
            if problem := _row_problem(model, row, last_seq, prev_hash, broken):
                return last_seq, last_seq, prev_hash, problem
            last_seq, prev_hash = row["seq"], row["entry_hash"]
            if progress is not None:
                progress(1)
        return last_seq, last_seq, prev_hash, None
    holds = fast.holds
    for chunk in _raw_rows(model, fast):
        for row in chunk:
            if row[0] == last_seq + 1 and row[2] == prev_hash and holds(row):
                last_seq, prev_hash = row[0], row[3]
                continue
            # Something is unusual: the general check, on the entry as the ORM reads it, decides.
            entry = _entry(model, id=row[1])
            if entry is None:  # gone since the walk's statement began
                return last_seq, last_seq, prev_hash, broken(row[0], row[1], "missing",
                                                             "the entry was removed while the chain was read")
            if problem := _row_problem(model, entry, last_seq, prev_hash, broken):
                return last_seq, last_seq, prev_hash, problem
            last_seq, prev_hash = entry["seq"], entry["entry_hash"]
        if progress is not None:
            progress(len(chunk))
    return last_seq, last_seq, prev_hash, None


def chain_verify(model: type[ChainedEntry], *, progress: Callable[[int], None] | None = None,
                 fast_path: bool = True) -> ChainReport:
    """Recompute every entry's hash and check each links to the one before it. fast_path=False
    checks every entry the general way only (the benchmark compares the two)."""
    table = model._meta.db_table

    def broken(seq: int, id: int | None, kind: str, detail: str) -> Break:
        return Break(model.chain, table, seq, id, kind, detail)

    head_before = _head(model.chain)
    count, last_seq, prev_hash, problem = _walk(model, broken, progress, fast_path)
    head_after = _head(model.chain)
    if problem is None:
        problem = _check_head(model.chain, last_seq, prev_hash, head_before, head_after, broken)
    elif head_after is not None and problem.seq > head_after[0] and problem.id is not None:
        problem = broken(problem.seq, problem.id, "inserted", f"it lies beyond the chain's head (seq {head_after[0]}): "
                                                              f"added without going through the audit service")
    return ChainReport(model.chain, table, count, last_seq, prev_hash, problem)


def _diagnose_link(model: type[ChainedEntry], row: dict[str, Any], last_seq: int, prev_hash: str,
                   broken: Callable[..., Break]) -> Break:
    """Entry `row` does not commit to the entry before it: say what most likely happened."""
    seq, id = row["seq"], row["id"]
    linked = _entry(model, entry_hash=row["prev_hash"]) if row["prev_hash"] != GENESIS else {"seq": 0}
    if linked is not None and linked["seq"] > seq:
        return broken(seq, id, "reordered", f"it links to seq {linked['seq']}, which now comes after it")
    if linked is not None:
        return broken(seq, id, "inserted", f"it links to seq {linked['seq']}, not to seq {last_seq}: "
                                           f"what lies between was inserted")
    following = _entry(model, seq=seq + 1)
    if following is not None and following["prev_hash"] == prev_hash:
        return broken(seq, id, "inserted", f"seq {seq + 1} links past it to seq {last_seq}")
    if _hashes(model, row) and last_seq > 0:
        previous = _entry(model, seq=last_seq)
        return broken(last_seq, previous["id"] if previous else None, "changed",
                      f"seq {seq} (id {id}) commits to a different version of it: changed and re-hashed")
    return broken(seq, id, "missing", "the entry it links to is no longer in the table "
                                      "(removed, and the entries after it renumbered)")


def _check_head(chain: str, last_seq: int, last_hash: str, before: tuple[int, str] | None,
                after: tuple[int, str] | None, broken: Callable[..., Break]) -> Break | None:
    """The walk read one snapshot between two reads of the head row, so an intact chain ends at
    or after the first read and at or before the second."""
    if after is None:
        return None if last_seq == 0 else broken(last_seq, None, "head", "the chain's head row is missing")
    if before is not None and last_seq < before[0]:
        return broken(last_seq + 1, None, "missing", f"the chain ends at seq {last_seq} but its head "
                                                     f"records seq {before[0]}: entries removed from the end")
    if last_seq > after[0]:
        return broken(after[0] + 1, None, "inserted", f"the chain runs on past its head (seq {after[0]}) "
                                                      f"to seq {last_seq}: entries added without the head")
    for head in (before, after):
        if head is not None and head[0] == last_seq and head[1] != last_hash:
            return broken(last_seq, None, "changed", "the last entry's hash differs from the one its head records")
    return None


@dataclass(frozen=True)
class DigestCheck:
    line: int
    chain: str
    seq: int
    problem: str  # empty when the digest holds

    def __str__(self) -> str:
        return f"digest line {self.line} ({self.chain} seq {self.seq}): {self.problem or 'holds'}"


def digest_holds(chain: str, seq: int, signed_hash: str) -> str:
    """Why the chain does not (or no longer does) hold the signed hash at seq; empty if it does."""
    model = CHAINED_MODELS.get(chain)
    if model is None:
        return f"no chain called {chain!r}"
    stored = model.objects.filter(seq=seq).values_list("entry_hash", flat=True).first()
    if stored is None:
        return f"{model._meta.db_table} has no entry at seq {seq}: entries were removed"
    if stored != signed_hash:
        return (f"{model._meta.db_table} seq {seq} no longer has the signed hash: "
                f"the history up to it was rewritten")
    return ""
