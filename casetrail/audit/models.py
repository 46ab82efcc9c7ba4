"""The append-only event history of every change, and the log of every look at personal data."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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


class Event(AppendOnlyModel):
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

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["case", "occurred_at"])]


class AccessLogEntry(AppendOnlyModel):
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

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "at"]), models.Index(fields=["user", "at"])]
