"""Referrals as they arrive, the person as the referrer described them, and attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casetrail.core.codes import PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.dates import PartialDate
from casetrail.core.referrals import nhs_number_format


class Referral(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals")
    submitted_at = models.DateTimeField()

    # The referrer as they described themselves.
    referrer_name = models.CharField(max_length=200)
    referrer_job_title = models.CharField(max_length=200)
    referrer_email = models.EmailField()
    referrer_phone = models.CharField(max_length=40, blank=True)
    referrer_organisation = models.CharField(max_length=200)
    referrer_sector = models.CharField(max_length=32, choices=list(SECTORS.items()))

    # The person as recorded on this referral (a later referral may spell them differently).
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="referrals")
    given_names = models.CharField(max_length=200)
    family_name = models.CharField(max_length=200)
    other_names = models.CharField(max_length=300, blank=True)
    date_of_birth = models.CharField(max_length=10, blank=True)
    sex = models.CharField(max_length=16, choices=list(SEX.items()), blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    school_or_workplace = models.CharField(max_length=200, blank=True)
    # Where the referrer knew them, checked and stored compact: 10 digits; 13 upper-case characters.
    nhs_number = models.CharField(max_length=10, blank=True)
    upn = models.CharField(max_length=13, blank=True)  # Unique Pupil Number
    local_authority = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")

    # The concern.
    concern = models.TextField()
    first_observed_on = models.DateField()
    concern_types = models.JSONField(default=list)
    code_list_version = models.CharField(max_length=10)
    urgency = models.CharField(max_length=16, choices=list(URGENCY.items()))
    person_aware = models.CharField(max_length=16, choices=list(PERSON_AWARE.items()))
    discussed_with = models.CharField(max_length=200, blank=True, help_text="Safeguarding lead consulted")

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def nhs_number_spaced(self) -> str:
        """The NHS number as people write it (999 111 2227); "" when none was recorded."""
        return nhs_number_format(self.nhs_number)

    @property
    def birth(self) -> PartialDate | None:
        return PartialDate.from_iso(self.date_of_birth) if self.date_of_birth else None


class Attachment(models.Model):
    """A file sent with a referral, stored outside the web root under a random name."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attachments")
    original_name = models.CharField(max_length=200)
    stored_name = models.CharField(max_length=80, unique=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()


class IdempotencyRecord(models.Model):
    """A submission key already used: a retry with the same key returns the first result."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique")]
