"""The canonical serialisation of a chained audit entry and its SHA-256 hash (format 1).

An entry's hash commits to every stored field, including its id, its place in the chain (`seq`)
and the previous entry's hash, so changing, removing, inserting or reordering entries breaks
the chain. The document is JSON with sorted keys, no spaces and ASCII only; timestamps are
UTC ISO 8601 with microseconds; a whole-number float is written as an integer, because
PostgreSQL's jsonb gives back `2` for `2.0` and `10000000000000000` for `1e16`.

Format 1 is frozen: migration 0003 holds a copy of it. A change to what is hashed is a new
format, with its own number, never an edit of this one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

FORMAT = 1
GENESIS = "0" * 64  # what the first entry of a chain links to

# The fields each chain's entries commit to, by attname, for FORMAT 1. A system check
# (casetrail.audit.checks) fails if a model gains a field that is not listed here.
EVENT_FIELDS = (
    "id", "case_id", "kind", "subject_type", "subject_id", "actor_id", "actor_role", "actor_agency_id",
    "occurred_at", "recorded_at", "summary", "data", "seq", "prev_hash",
)
ACCESS_LOG_FIELDS = (
    "id", "user_id", "role", "agency_id", "operation", "object_type", "object_id", "case_id", "person_id",
    "at", "channel", "justification", "recipient", "request_id", "seq", "prev_hash",
)


def _stored_form(value: Any) -> Any:
    """The value as it reads back from either database, in one canonical form."""
    if isinstance(value, float) and value.is_integer():
        # jsonb gives back the decimal digits json.dumps wrote (1e+23 -> 100000000000000000000000),
        # not the float's exact binary value (99999999999999991611392).
        return int(Decimal(repr(value)))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _stored_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_stored_form(item) for item in value]
    return value


def canonical(chain: str, values: Mapping[str, Any], fields: Iterable[str]) -> bytes:
    """The bytes that are hashed: the chain's name, the format and each field's stored value."""
    document = {"_chain": chain, "_format": FORMAT, **{name: _stored_form(values[name]) for name in fields}}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(chain: str, values: Mapping[str, Any], fields: Iterable[str]) -> str:
    return hashlib.sha256(canonical(chain, values, fields)).hexdigest()
