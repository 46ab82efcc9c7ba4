"""System checks for the notifications settings (run by every management command, the worker's too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def notification_links(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "PRODUCTION", False) and "127.0.0.1" in settings.CASETRAIL_BASE_URL:
        return [checks.Warning("CASETRAIL_BASE_URL still points at this machine, so the links in "
                               "notifications will not work for the people who receive them.",
                               id="notifications.W001")]
    return []
