"""API authentication: a per-user bearer token, checked against its stored hash.

A token is refused (401) when it is unknown or altered, revoked, expired, or its user is
inactive. Expiry runs on the real clock, never the app's (replayable) one.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from casetrail import clock
from casetrail.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        found = (ApiToken.objects.select_related("user", "user__agency")
                 .filter(key_hash=ApiToken.hash_key(token), revoked_at__isnull=True,
                         expires_at__gt=timezone.now()).first())
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=clock.now())
        request.user = found.user
        return found.user
