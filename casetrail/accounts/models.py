"""Agencies, the people who work in them, their roles, and API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from casetrail.core.policy import Actor
from casetrail.core.roles import AgencyKind, Role


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=[(k.value, k.label) for k in AgencyKind])
    # A local authority's cases are screened by this police force.
    police_force = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="local_authorities"
    )
    # Who owns new work arriving at this agency until someone else takes it on.
    duty_owner = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def kind_enum(self) -> AgencyKind:
        return AgencyKind(self.kind)


class User(AbstractUser):
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    roles = models.JSONField(default=list, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Panel members sit on one local authority's Channel panel.
    panel_authority = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="panel_members"
    )
    # Made by load_demo: only such users may have their one-time codes printed (demo_code).
    is_demo = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles if r in Role._value2member_map_)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set & set(roles))

    @property
    def roles_display(self) -> str:
        return ", ".join(Role(r).label for r in self.roles if r in Role._value2member_map_)

    def as_actor(self) -> Actor:
        return Actor(
            user_id=self.pk,
            agency_id=self.agency_id or 0,
            roles=self.role_set if self.is_active else frozenset(),
            panel_authority_id=self.panel_authority_id,
        )


class ApiToken(models.Model):
    """A per-user bearer token; only its SHA-256 is stored. It stops working when it expires
    or is revoked, whichever comes first."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Null only for a token issued before tokens expired; the backfill migration sets it.
    expires_at = models.DateTimeField(null=True)

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
