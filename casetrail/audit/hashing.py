"""The canonical serialisation of a chained audit entry and its SHA-256 hash (format 1).

An entry's hash commits to every stored field, including its id, its place in the chain (`seq`)
and the previous entry's hash, so changing, removing, inserting or reordering entries breaks
the chain. The document is JSON with sorted keys, no spaces and ASCII only; timestamps are
UTC ISO 8601 with microseconds; a whole-number float is written as an integer, because
PostgreSQL's jsonb gives back `2` for `2.0` and `10000000000000000` for `1e16`.

Format 1 is frozen: migration 0003 holds a copy of it. A change to what is hashed is a new
format, with its own number, never an edit of this one.

Format 2 (access-log entries written since migration 0006) lets personal text be erased without
breaking the chain: the entry's free-text fields (its payload: `justification`, `recipient`) are
not hashed directly. The entry stores a random salt and `payload_digest`, a SHA-256 of the salt and
the payload, and its hash commits to the digest and every other field. Erasure blanks the payload
and the salt; the digest stays, so the chain still verifies, and without the salt a short text
cannot be recovered by guessing it against the digest. Each entry says its format (`hash_format`).
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

FORMAT_2 = 2
# Columns that only format 2 has; a format-1 entry's hash never includes them.
FORMAT_2_COLUMNS = ("hash_format", "payload_salt", "payload_digest")
# The erasable free text of each chain that writes format 2, committed through payload_digest.
PAYLOAD_FIELDS: dict[str, tuple[str, ...]] = {"access_log": ("justification", "recipient")}
ACCESS_LOG_FIELDS_2 = ACCESS_LOG_FIELDS + FORMAT_2_COLUMNS


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


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def canonical(chain: str, values: Mapping[str, Any], fields: Iterable[str]) -> bytes:
    """The bytes that are hashed: the chain's name, the format and each field's stored value.

    The entry's own `hash_format` (absent or 1: format 1) decides which fields go in."""
    if (values.get("hash_format") or FORMAT) == FORMAT:
        document = {"_chain": chain, "_format": FORMAT,
                    **{name: _stored_form(values[name]) for name in fields if name not in FORMAT_2_COLUMNS}}
        return _json(document)
    if values["hash_format"] != FORMAT_2:
        raise ValueError(f"unknown audit hash format {values['hash_format']!r}")
    # The payload and its salt are committed through payload_digest, which is hashed instead.
    left_out = {*PAYLOAD_FIELDS[chain], "hash_format", "payload_salt"}
    document = {"_chain": chain, "_format": FORMAT_2,
                **{name: _stored_form(values[name]) for name in fields if name not in left_out}}
    return _json(document)


def payload_digest(chain: str, values: Mapping[str, Any], salt: str) -> str:
    """SHA-256 of the salt and the entry's erasable fields (format 2)."""
    payload = {name: _stored_form(values[name]) for name in PAYLOAD_FIELDS[chain]}
    return hashlib.sha256(salt.encode("ascii") + b":" + _json(payload)).hexdigest()


def payload_problem(chain: str, values: Mapping[str, Any]) -> str:
    """Why a format-2 entry's payload does not match the digest it committed to; empty if it does.
    An erased payload (no salt) must be blank."""
    if (values.get("hash_format") or FORMAT) == FORMAT:
        return ""
    if not values["payload_salt"]:
        if any(values[name] for name in PAYLOAD_FIELDS[chain]):
            return "its salt was removed but not its text: an erasure was faked"
        return ""
    if payload_digest(chain, values, values["payload_salt"]) != values["payload_digest"]:
        return "its text no longer matches the digest it committed to"
    return ""


def entry_hash(chain: str, values: Mapping[str, Any], fields: Iterable[str]) -> str:
    return hashlib.sha256(canonical(chain, values, fields)).hexdigest()
