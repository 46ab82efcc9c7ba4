"""Retention review decisions on closed cases, and the tombstone a disposal leaves.

Both are append-only: a later review supersedes an earlier one, and a tombstone is never
changed. The one exception is disposal itself, which blanks the free-text reasons of the
disposed case's reviews (casetrail.retention.erasure).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casetrail.audit.models import AppendOnlyModel
from casetrail.core.retention import RetentionClass, ReviewDecision

USER = settings.AUTH_USER_MODEL


class RetentionReview(AppendOnlyModel):
    """One review of a closed case: retain it until a next review, or dispose of it."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="retention_reviews")
    decision = models.CharField(max_length=16, choices=[(d.value, d.value.capitalize()) for d in ReviewDecision])
    reason = models.TextField(help_text="Blank once the case has been disposed of.")
    next_review_on = models.DateField(null=True, blank=True)
    retention_class = models.CharField(max_length=32, choices=[(c.value, c.label) for c in RetentionClass])
    period_years = models.PositiveSmallIntegerField(help_text="The class's review period in force then.")
    due_on = models.DateField(help_text="The review date this decision answered.")
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_role = models.CharField(max_length=32)
    decided_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]


class Tombstone(AppendOnlyModel):
    """What a disposal erased, when, by whose decision and under which rule; never any content."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="tombstone")
    case_reference = models.CharField(max_length=20)
    referral_reference = models.CharField(max_length=20)
    person_reference = models.CharField(max_length=20)
    person_erased = models.BooleanField(help_text="False when another case of the person is still held.")
    retention_class = models.CharField(max_length=32, choices=[(c.value, c.label) for c in RetentionClass])
    period_years = models.PositiveSmallIntegerField()
    closed_on = models.DateField()
    review_due_on = models.DateField()
    decision = models.OneToOneField(RetentionReview, on_delete=models.PROTECT, related_name="tombstone")
    disposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    disposed_role = models.CharField(max_length=32)
    disposed_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    disposed_at = models.DateTimeField()
    counts = models.JSONField(default=dict, help_text="Rows erased or removed, by kind; files removed.")

    class Meta:
        ordering = ["-disposed_at"]

    def __str__(self) -> str:
        return f"Tombstone of {self.case_reference}"
