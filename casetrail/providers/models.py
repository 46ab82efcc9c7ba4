"""The register of approved intervention provider organisations and the people who deliver."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models


class ApprovalStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Awaiting vetting"
    SUSPENDED = "suspended", "Suspended"


class ProviderOrganisation(models.Model):
    agency = models.OneToOneField("accounts.Agency", on_delete=models.PROTECT, related_name="provider")
    specialisms = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices)
    approved_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["agency__name"]

    def __str__(self) -> str:
        return self.agency.name

    def is_approved_on(self, day: date) -> bool:
        return self.status == ApprovalStatus.APPROVED and (
            self.approved_until is None or self.approved_until >= day
        )


class ProviderWorker(models.Model):
    """A person who delivers interventions, with their own vetting."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_worker")
    organisation = models.ForeignKey(ProviderOrganisation, on_delete=models.PROTECT, related_name="workers")
    specialisms = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices)
    vetting_expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["user__last_name"]

    def is_approved_on(self, day: date) -> bool:
        return (
            self.status == ApprovalStatus.APPROVED
            and (self.vetting_expires_on is None or self.vetting_expires_on >= day)
            and self.organisation.is_approved_on(day)
        )
