"""Single sign-on through an organisation's own OpenID Connect provider (mozilla-django-oidc).

The provider proves who someone is; Casetrail alone decides what they may do. A verified email
is matched to one existing, active Casetrail user and nothing else: no user is ever created or
changed from the provider's claims, so roles and agencies cannot come from outside.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from casetrail.accounts.models import User

log = logging.getLogger("casetrail.oidc")


def email_from_claims(claims: dict[str, Any]) -> str:
    """The claims' email if the provider vouches for it and its domain is allowed, else ""."""
    email = str(claims.get("email") or "").strip()
    if not email or "@" not in email:
        return ""
    # A provider that says the address is unverified is not trusted with it; one that says
    # nothing (several enterprise providers) is trusted, as the organisation runs it.
    if claims.get("email_verified") is False or str(claims.get("email_verified")).lower() == "false":
        return ""
    domains = settings.CASETRAIL_OIDC_EMAIL_DOMAINS
    if domains and email.rsplit("@", 1)[1].lower() not in domains:
        return ""
    return email


class CasetrailOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(email_from_claims(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        email = email_from_claims(claims)
        if not email:
            return User.objects.none()
        return User.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims: dict[str, Any]) -> User:
        # OIDC_CREATE_USER is off; this stays closed even if someone switches it on.
        log.warning("oidc sign-in refused: no Casetrail user for the provider's account")
        raise SuspiciousOperation("Casetrail users are created by Casetrail administrators only")

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        # Nothing about a Casetrail user comes from the provider.
        return user

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        try:
            user = super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation as problem:
            log.warning("oidc sign-in refused: %s", problem)
            return None
        if user is None:
            log.warning("oidc sign-in refused: no active Casetrail user with the provider's email")
        else:
            log.info("oidc sign-in matched user %s", user.pk)
        return user
