# Chain the events and access-log entries recorded before the chain existed, in id order.
#
# Migrations never import app code, so this holds a frozen copy of hash format 1
# (casetrail/audit/hashing.py); tests/integration/test_audit_chain.py checks the two agree.
# Re-runnable: it carries on from the chain head over the entries that have no seq yet.

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import migrations

FORMAT = 1
GENESIS = "0" * 64
BATCH = 2000
CHAINS = {
    "events": ("Event", (
        "id", "case_id", "kind", "subject_type", "subject_id", "actor_id", "actor_role", "actor_agency_id",
        "occurred_at", "recorded_at", "summary", "data", "seq", "prev_hash",
    )),
    "access_log": ("AccessLogEntry", (
        "id", "user_id", "role", "agency_id", "operation", "object_type", "object_id", "case_id", "person_id",
        "at", "channel", "justification", "recipient", "request_id", "seq", "prev_hash",
    )),
}


def _stored_form(value):
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _stored_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_stored_form(item) for item in value]
    return value


def entry_hash(chain, values, fields):
    document = {"_chain": chain, "_format": FORMAT, **{name: _stored_form(values[name]) for name in fields}}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def chain_existing_entries(apps, schema_editor):
    db = schema_editor.connection.alias
    ChainHead = apps.get_model("audit", "ChainHead")
    for chain, (model_name, fields) in CHAINS.items():
        model = apps.get_model("audit", model_name)
        head, _ = ChainHead.objects.using(db).get_or_create(chain=chain, defaults={"seq": 0, "entry_hash": GENESIS})
        seq, prev_hash = head.seq, head.entry_hash
        unchained = model.objects.using(db).filter(seq__isnull=True).order_by("id")
        stored = [name for name in fields if name not in ("seq", "prev_hash")]
        while rows := list(unchained.values(*stored)[:BATCH]):
            chained = []
            for values in rows:
                seq += 1
                values.update(seq=seq, prev_hash=prev_hash)
                prev_hash = entry_hash(chain, values, fields)
                chained.append(model(id=values["id"], seq=seq, prev_hash=values["prev_hash"], entry_hash=prev_hash))
            model.objects.using(db).bulk_update(chained, ["seq", "prev_hash", "entry_hash"], batch_size=500)
            ChainHead.objects.using(db).filter(chain=chain).update(seq=seq, entry_hash=prev_hash)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop, elidable=False),
    ]
