"""Data-subject rights: subject access requests, the redaction decisions taken in answering
them, and rectification decisions. Rows are written only by `casetrail.rights.services`;
decisions here are append-only, like every other decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casetrail.audit.models import AppendOnlyModel
from casetrail.core.subject_access import REDACTION_LABELS, RectificationOutcome, RequestTimes

USER = settings.AUTH_USER_MODEL


class SubjectAccessRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Answered"

    reference = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="subject_access_requests")
    requested_by = models.CharField(max_length=200, help_text="The data subject, or who asked on their behalf")
    received_on = models.DateField()
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    handler = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="subject_access_requests")
    handler_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    completed_on = models.DateField(null=True, blank=True)
    completion_note = models.TextField(blank=True)

    class Meta:
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def times(self) -> RequestTimes:
        return RequestTimes(self.received_on, self.extension_months, self.completed_on)

    @property
    def due_on(self):  # type: ignore[no-untyped-def]
        return self.times.due_on


class Redaction(AppendOnlyModel):
    """A decision to withhold one item (a field, or a whole record) from a request's answer.
    Withdrawing it is a later row that names it in `withdraws`."""

    request = models.ForeignKey(SubjectAccessRequest, on_delete=models.PROTECT, related_name="redactions")
    item = models.CharField(max_length=80)  # "<record type>:<id>" or "<record type>:<id>:<field>"
    reason = models.CharField(max_length=32, choices=[(r.value, label) for r, label in REDACTION_LABELS.items()],
                              blank=True)
    rationale = models.TextField()
    withdraws = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="withdrawn_by")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=32)
    author_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]


class Rectification(AppendOnlyModel):
    """A decision on a data subject's claim that something recorded about them is wrong. The
    value as recorded before is kept here whatever the outcome; nothing is silently overwritten."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="rectifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(SubjectAccessRequest, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="rectifications")
    target_type = models.CharField(max_length=16)  # person, referral
    target_id = models.BigIntegerField()
    field = models.CharField(max_length=32)
    field_label = models.CharField(max_length=100)
    requested_by = models.CharField(max_length=200)
    recorded_value = models.TextField(blank=True)
    requested_value = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=[(o.value, o.value.capitalize()) for o in RectificationOutcome])
    corrected_value = models.TextField(blank=True)
    rationale = models.TextField()
    decided_on = models.DateField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=32)
    author_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
