"""The fast path of chain verification: each entry's hash recomputed from the raw columns.

`manage.py verify` reads every entry of a chain; at national size (ten million events) the
per-entry cost is what matters. The general path (hashing.canonical on the ORM's values) builds
a model dict, converts each value and serialises a dict with sorted keys: tens of microseconds an
entry. Here, for each chain, hash format and database, one Python function is compiled that takes
a row as the database cursor returns it (a tuple: timestamps already written as text, JSON as its
text) and joins the canonical document from pre-encoded key strings and C-level encoders.

It produces the very bytes hashing.canonical produces for every value the application writes.
Any value it does not recognise (a type or timestamp form it was not built for) makes it give up
on that row, and chain_verify then checks the row the general way; a row whose fast hash does not
match is also checked the general way, so the verdict (first broken link and its kind) is always
the general path's own. The fast path can only say "this row holds" when the row's raw values are
exactly those of an entry hashed by the application: every text value is JSON-escaped and every
number must be a Python int, so no raw value can imitate another field's bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from django.db import models

from casetrail.audit.hashing import FORMAT, FORMAT_2, FORMAT_2_COLUMNS, PAYLOAD_FIELDS


class Unrecognised(Exception):
    """The fast path does not know this value: check the row the general way."""


def _whole_float(text: str) -> float | int:
    # As hashing._stored_form: a whole-number float is written as an integer.
    value = float(text)
    return int(Decimal(repr(value))) if value.is_integer() else value


# The C scanner and encoder behind json.loads and json.dumps, called without their Python
# wrappers: parse_float as above; sort_keys, "," and ":", ensure_ascii as hashing._json.
_scan = json.JSONDecoder(parse_float=_whole_float).scan_once
_encode = c_make_encoder(None, None, encode_basestring_ascii, None, ":", ",", True, False, True)


# Many events carry the same data ({}, or one stage's code): their canonical form, once worked out.
_known_json: dict[str, str] = {}
KNOWN_JSON_MAX = 65_536


def _json(text: Any) -> str:
    """The canonical JSON of a stored JSON text (whole-number floats as integers)."""
    known = _known_json.get(text)
    if known is not None:
        return known
    value, end = _scan(text, 0)
    if end != len(text):  # surrounding spaces, or more after it: the general path decides
        raise Unrecognised
    canonical = "".join(_encode(value, 0))
    if len(_known_json) < KNOWN_JSON_MAX:
        _known_json[text] = canonical
    return canonical


def _kind(field: models.Field) -> str | None:
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.DateTimeField):
        return "moment"
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    if isinstance(field, models.ForeignKey):
        return _kind(field.target_field)
    if isinstance(field, models.IntegerField | models.BigIntegerField | models.SmallIntegerField
                  | models.AutoField | models.BigAutoField):
        return "int"
    return None


def _select(vendor: str, kind: str, column: str, nullable: bool) -> str:
    """The SQL that reads a column already in (or near) its form in the document. A value not in
    the form the application writes reads as NULL, which the compiled function refuses."""
    if vendor == "postgresql":
        if kind == "moment":
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US+00:00')"
        if kind == "json":
            return f"{column}::text"
        if kind == "int":  # PostgreSQL's integer columns hold integers only
            return f"COALESCE({column}::text, 'null')" if nullable else f"{column}::text"
        return column
    # SQLite keeps any type in any column: read only what the application writes, as text.
    if kind == "moment":
        # Django writes str() of the naive UTC time: 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return (f"CASE WHEN typeof({column}) = 'text' AND substr({column}, 11, 1) = ' ' THEN CASE length({column}) "
                f"WHEN 26 THEN CASE WHEN substr({column}, 20, 1) = '.' THEN "
                f"substr({column}, 1, 10) || 'T' || substr({column}, 12) || '+00:00' END "
                f"WHEN 19 THEN substr({column}, 1, 10) || 'T' || substr({column}, 12) || '.000000+00:00' END END")
    if kind == "int":
        null = " WHEN 'null' THEN 'null'" if nullable else ""
        return f"CASE typeof({column}) WHEN 'integer' THEN CAST({column} AS TEXT){null} END"
    if kind in ("json", "text"):
        return f"CASE typeof({column}) WHEN 'text' THEN {column} END"
    return column


def _expression(kind: str, index: int) -> str:
    """Python source of one value's JSON text, from column `index` of the row `r`."""
    value = f"r[{index}]"
    if kind == "int":
        # As text from the SELECT (seq and id as the integers they are); NULL where the column held
        # something else, which gives 'None', never part of a document the application hashed.
        return value
    if kind == "json":
        return f"_json({value})"
    return f"_quote({value})"  # text and moments; raises TypeError on NULL


def _document(chain: str, format: int, fields: list[str], index: dict[str, int], kinds: dict[str, str]) -> str:
    """Python source of the expression that is the canonical document of a row: a %-template
    of the constant parts, filled with each value's JSON text."""
    parts = [("_chain", json.dumps(chain)), ("_format", str(format))]
    parts += [(name, None) for name in fields]
    template, values = "{", []
    for number, (name, literal) in enumerate(sorted(parts, key=lambda part: part[0])):
        template += ("," if number else "") + json.dumps(name).replace("%", "%%") + ":"
        if literal is not None:
            template += literal.replace("%", "%%")
        else:
            template += "%s"
            values.append(_expression(kinds[name], index[name]))
    return f"({template + '}'!r} % ({', '.join(values)},))"


class FastChain:
    """The compiled reader of one chain on one database: the SELECT, and `holds(row)`, true when
    the row's stored hash (and, in format 2, its payload digest) is right. Column 0 is seq, 1 id,
    2 prev_hash, 3 entry_hash."""

    def __init__(self, sql: str, holds: Callable[[tuple[Any, ...]], bool]) -> None:
        self.sql = sql
        self.holds = holds


def fast_chain(model: type[Any], vendor: str, quote: Callable[[str], str]) -> FastChain | None:
    """The fast reader for this chain, or None if one of its fields is of a kind it does not know
    (then every row is checked the general way)."""
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    names = ["seq", "id", "prev_hash", "entry_hash"]
    names += [name for name in model.chained_fields if name not in names]
    kinds: dict[str, str] = {}
    nullable = {name: by_attname[name].null for name in names}
    for name in names:
        kind = _kind(by_attname[name])
        if kind is None or vendor not in ("sqlite", "postgresql"):
            return None
        kinds[name] = kind
    index = {name: number for number, name in enumerate(names)}
    # seq, id, prev_hash, entry_hash as stored (the walk compares them); the rest in document form.
    columns = ", ".join(quote(by_attname[name].column) if number < 4 else
                        _select(vendor, kinds[name], quote(by_attname[name].column), nullable[name])
                        for number, name in enumerate(names))
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} ORDER BY {quote('seq')}"

    chain, fields = model.chain, [name for name in model.chained_fields if name != "entry_hash"]
    format_1 = _document(chain, FORMAT, [name for name in fields if name not in FORMAT_2_COLUMNS], index, kinds)
    lines = ["def holds(r):", "    try:"]
    if "hash_format" in index:
        payload = PAYLOAD_FIELDS.get(chain)
        # hash_format reads as text; 0 counts as format 1, as in hashing.canonical.
        lines.append(f"        format = r[{index['hash_format']}]")
        lines.append(f"        if format == '{FORMAT}' or format == '0':")
        lines.append(f"            return _sha256({format_1}.encode('ascii')).hexdigest() == r[3]")
        if payload is not None:
            left_out = {*payload, "hash_format", "payload_salt"}
            format_2 = _document(chain, FORMAT_2, [name for name in fields if name not in left_out], index, kinds)
            text = _document_plain(payload, index, kinds)
            salt, digest = index["payload_salt"], index["payload_digest"]
            # Erased: the salt and the payload are empty texts (anything else: the general path).
            blank = " and ".join(f"r[{index[name]}] == ''" for name in payload)
            lines += [
                f"        if format == '{FORMAT_2}':",
                f"            if _sha256({format_2}.encode('ascii')).hexdigest() != r[3]:",
                "                return False",
                f"            salt = r[{salt}]",
                "            if salt == '':",
                f"                return {blank}",
                f"            return _sha256(_text_bytes(salt) + b':' + {text}.encode('ascii')).hexdigest() == r[{digest}]",
            ]
        lines.append("        return False")
    else:
        lines.append(f"        return _sha256({format_1}.encode('ascii')).hexdigest() == r[3]")
    lines += ["    except Exception:", "        return False"]
    namespace: dict[str, Any] = {"_sha256": hashlib.sha256, "_quote": encode_basestring_ascii,
                                 "_json": _json, "_text_bytes": _salt_bytes}
    exec(compile("\n".join(lines), f"<fast hash of {chain} on {vendor}>", "exec"), namespace)  # noqa: S102
    return FastChain(sql, namespace["holds"])


def _salt_bytes(salt: Any) -> bytes:
    if salt.__class__ is not str:
        raise Unrecognised
    return salt.encode("ascii")  # type: ignore[no-any-return]


def _document_plain(names: tuple[str, ...], index: dict[str, int], kinds: dict[str, str]) -> str:
    """Python source of the canonical JSON object of just these fields (the format-2 payload)."""
    template, values = "{", []
    for number, name in enumerate(sorted(names)):
        template += ("," if number else "") + json.dumps(name).replace("%", "%%") + ":%s"
        values.append(_expression(kinds[name], index[name]))
    return f"({template + '}'!r} % ({', '.join(values)},))"
