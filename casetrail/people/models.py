"""People referred to the programme, who outlive any one case, and their search keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casetrail.core.dates import PartialDate


class Person(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    # Identity as first recorded; each referral keeps its own copy as recorded on it.
    given_names = models.CharField(max_length=200)
    family_name = models.CharField(max_length=200)
    date_of_birth = models.CharField(max_length=10, blank=True, help_text="YYYY, YYYY-MM or YYYY-MM-DD")
    sex = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    # Set when a person record is found to be a duplicate and linked into another.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_records")

    class Meta:
        ordering = ["family_name", "given_names"]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def birth(self) -> PartialDate | None:
        return PartialDate.from_iso(self.date_of_birth) if self.date_of_birth else None


class SearchKey(models.Model):
    """Normalised and phonetic keys of every name and birth date recorded for a person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="search_keys")
    kind = models.CharField(max_length=16)  # name, phonetic, dob, year
    value = models.CharField(max_length=64)

    class Meta:
        # Equality and prefix (search's value__startswith): on PostgreSQL a prefix LIKE uses an index
        # only with the pattern operator class (the database's collation is not C); elsewhere the
        # operator class is ignored and this is the plain index it replaced.
        indexes = [models.Index(fields=["kind", "value"], name="search_key_kind_value_idx",
                                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"])]
        constraints = [models.UniqueConstraint(fields=["person", "kind", "value"], name="search_key_unique")]


class DuplicateCandidate(models.Model):
    """Two person records the batch linkage run thinks may be one person, for review."""

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        DISMISSED = "dismissed", "Different people"
        LINKED = "linked", "Linked as one person"

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    match_probability = models.FloatField()
    evidence = models.JSONField(default=list)  # [{field, level, agrees, weight}, ...]
    found_at = models.DateTimeField()
    model_trained_at = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-match_probability", "pk"]
        constraints = [models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique")]
