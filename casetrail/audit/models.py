"""The append-only event history of every change, and the log of every look at personal data.

Both are hash chains (see hashing.py): each entry is written with its place in its table's chain
(`seq`), the previous entry's hash and its own, while the chain's head row is locked, so writers
take turns and the chain never forks. `manage.py verify` walks the chains.
"""

from __future__ import annotations

import json
import secrets
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction

from casetrail.audit.hashing import (
    ACCESS_LOG_FIELDS_2,
    EVENT_FIELDS,
    FORMAT_2,
    GENESIS,
    PAYLOAD_FIELDS,
    entry_hash,
    payload_digest,
)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("History is append-only: events cannot be updated.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("History is append-only: events cannot be deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("History is append-only: a recorded entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("History is append-only: a recorded entry cannot be deleted.")


class ChainHead(models.Model):
    """The last entry of one chain. Its row is locked while an entry is added (one writer at a
    time), and `verify` compares it with the table, which shows entries removed from the end."""

    chain = models.CharField(max_length=32, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS)

    def __str__(self) -> str:
        return f"{self.chain} at {self.seq}"


class ChainedQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit entries join their hash chain one at a time: use create().")


class ChainedEntry(AppendOnlyModel):
    """An append-only entry that commits to the one before it."""

    chain: ClassVar[str]
    chained_fields: ClassVar[tuple[str, ...]]
    # Chains whose entries are written in hash format 2, with erasable free text (hashing.py).
    writes_format_2: ClassVar[bool] = False

    seq = models.PositiveBigIntegerField(unique=True, editable=False, help_text="Position in this table's hash chain, from 1.")
    prev_hash = models.CharField(max_length=64, editable=False, help_text="The previous entry's entry_hash.")
    entry_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of this entry (casetrail.audit.hashing).")

    objects = ChainedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if args:
            raise TypeError("Pass save() options by keyword.")
        if not self._state.adding:
            raise PermissionError("History is append-only: a recorded entry cannot be changed.")
        using = kwargs.pop("using", None) or router.db_for_write(type(self), instance=self)
        kwargs.pop("force_insert", None)
        connection = connections[using]
        # Heads are locked in one order, events before access_log, so two transactions that
        # write to both chains cannot deadlock. A lone access-log write (a page view, in its
        # own transaction) locks only its own head.
        lock_events_first = (self.chain != Event.chain and connection.in_atomic_block
                             and connection.features.has_select_for_update)
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            if lock_events_first:
                _lock_head(cursor, Event)
            seq, prev_hash, self.pk = _lock_head(cursor, type(self))
            self.seq = seq + 1
            self.prev_hash = prev_hash
            if self.writes_format_2:
                self._commit_payload()
            self.entry_hash = self.compute_hash()
            super().save(**kwargs, using=using, force_insert=True)
            cursor.execute(f"UPDATE {_HEAD_TABLE} SET seq = %s, entry_hash = %s WHERE chain = %s",
                           [self.seq, self.entry_hash, self.chain])

    def _stored_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field, is_json in _hashed_fields(type(self)):
            value = field.get_prep_value(getattr(self, field.attname))
            values[name] = json.loads(json.dumps(value, cls=field.encoder)) if is_json else value
        return values

    def _commit_payload(self) -> None:
        """Format 2: a fresh salt, and the digest of the salt and the erasable text."""
        self.hash_format = FORMAT_2
        self.payload_salt = secrets.token_hex(16)
        self.payload_digest = payload_digest(self.chain, self._stored_values(), self.payload_salt)

    def compute_hash(self) -> str:
        """The hash of this entry as it will read back from the database."""
        return entry_hash(self.chain, self._stored_values(), self.chained_fields)


@cache
def _hashed_fields(model: type[ChainedEntry]) -> list[tuple[str, Any, bool]]:
    fields = [(name, model._meta.get_field(name)) for name in model.chained_fields]
    return [(name, field, isinstance(field, models.JSONField)) for name, field in fields]


# Raw SQL below: these statements run on every audited write, and building them through the
# ORM cost more than the rest of the write together.
_HEAD_TABLE = ChainHead._meta.db_table


def _lock_head(cursor: Any, model: type[ChainedEntry]) -> tuple[int, str, int]:
    """Lock the chain's head row until the transaction ends (PostgreSQL; on SQLite the write
    transaction already keeps other writers out): its last seq and hash, and the id the new
    entry will have, so that its hash can include it."""
    connection = cursor.db
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    if connection.vendor == "postgresql":
        next_id = "nextval(pg_get_serial_sequence(%s, %s))"
        params = [model._meta.db_table, model._meta.pk.column, model.chain]
    elif connection.vendor == "sqlite":
        # AUTOINCREMENT semantics: never reuse an id, even one whose row has gone.
        next_id = (f"MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                   f"COALESCE((SELECT MAX({column}) FROM {table}), 0)) + 1")
        params = [model._meta.db_table, model.chain]
    else:
        next_id, params = f"(SELECT COALESCE(MAX({column}), 0) + 1 FROM {table})", [model.chain]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT seq, entry_hash, {next_id} FROM {_HEAD_TABLE} WHERE chain = %s{lock}"
    cursor.execute(select, params)
    head = cursor.fetchone()
    if head is None:
        # No head row (a flushed database): start from the table's last entry, if any.
        last = model.objects.using(connection.alias).order_by("-seq").values_list("seq", "entry_hash").first()
        seq, last_hash = last or (0, GENESIS)
        try:
            with transaction.atomic(using=connection.alias):
                ChainHead.objects.using(connection.alias).create(chain=model.chain, seq=seq, entry_hash=last_hash)
        except IntegrityError:
            pass  # another writer made it first: lock theirs
        cursor.execute(select, params)
        head = cursor.fetchone()
    return int(head[0]), str(head[1]), int(head[2])


class Event(ChainedEntry):
    """One change, written in the same transaction as the change itself."""

    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=64)
    subject_id = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=32, blank=True)
    actor_agency = models.ForeignKey("accounts.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(help_text="When it happened, as stated by the person recording it.")
    recorded_at = models.DateTimeField(help_text="When Casetrail recorded it (server clock).")
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    chain = "events"
    chained_fields = EVENT_FIELDS

    class Meta:
        ordering = ["recorded_at", "id"]
        # The latest event of some kinds (person matching asks for the last identity change on every
        # case page and intake): without it PostgreSQL walks the whole chain backwards (bench/national).
        indexes = [models.Index(fields=["case", "occurred_at"]), models.Index(fields=["kind", "seq"])]


class AccessLogEntry(ChainedEntry):
    """A processing operation on personal data (Data Protection Act 2018, s.62)."""

    class Operation(models.TextChoices):
        COLLECTION = "collection"
        ALTERATION = "alteration"
        CONSULTATION = "consultation"
        DISCLOSURE = "disclosure"
        COMBINATION = "combination"
        ERASURE = "erasure"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=120, blank=True)
    agency = models.ForeignKey("accounts.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    operation = models.CharField(max_length=16, choices=Operation.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    channel = models.CharField(max_length=16, default="web")  # web, api, command
    justification = models.CharField(max_length=500, blank=True)
    recipient = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Hash format 2 (hashing.py): justification and recipient are committed through a salted
    # digest, so that disposal can erase them (`erase_payloads`) and the chain still verifies.
    hash_format = models.PositiveSmallIntegerField(default=1, editable=False)
    payload_salt = models.CharField(max_length=32, blank=True, editable=False)
    payload_digest = models.CharField(max_length=64, blank=True, editable=False)

    chain = "access_log"
    chained_fields = ACCESS_LOG_FIELDS_2
    writes_format_2 = True

    class Meta:
        ordering = ["-at", "-id"]
        # By period, newest first: the audit log's search and the unusual-access report.
        indexes = [models.Index(fields=["person", "at"]), models.Index(fields=["user", "at"]),
                   models.Index(fields=["at", "id"])]


def erase_payloads(model: type[ChainedEntry], ids: list[int]) -> tuple[int, int]:
    """Blank the erasable text (and its salt) of these entries; the only change an audit entry
    ever takes. Returns (entries erased, entries holding text that cannot be erased because they
    were written in format 1). Call inside the transaction of the disposal that needs it, which
    records the erasure in the access log itself.

    On PostgreSQL the append-only trigger lets exactly this UPDATE through (migration 0006), and
    only when the transaction has set casetrail.audit_erasure to 'payload'.
    """
    if not model.writes_format_2 or not ids:
        return 0, 0
    payload = PAYLOAD_FIELDS[model.chain]
    using = router.db_for_write(model)
    connection = connections[using]
    rows = model.objects.using(using).filter(pk__in=ids)
    has_text = models.Q()
    for name in payload:
        has_text |= ~models.Q(**{name: ""})
    stuck = rows.filter(hash_format=1).filter(has_text).count()
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('casetrail.audit_erasure', 'payload', true)")
        erasable = rows.filter(hash_format=FORMAT_2).exclude(payload_salt="")
        # Deliberately past AppendOnlyQuerySet.update, which refuses every other change.
        erased = models.QuerySet.update(erasable, payload_salt="", **{name: "" for name in payload})
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('casetrail.audit_erasure', '', true)")
    return erased, stuck
