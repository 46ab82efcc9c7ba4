"""A deployment check: a production service holding real data keeps the second factor on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def second_factor_is_required(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "PRODUCTION", False) and not settings.CASETRAIL_REQUIRE_SECOND_FACTOR:
        return [checks.Warning(
            "CASETRAIL_REQUIRE_SECOND_FACTOR is off: staff can sign in with a password alone.",
            hint="Unset it (it defaults to on). It exists for the test suite; see docs/security.md.",
            id="accounts.W001",
        )]
    return []
