"""The outbox in the Django admin, to look at only: messages change through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casetrail.notifications.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "recipient", "kind", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("dedupe_key", "case__reference", "backend_reference")
    date_hierarchy = "created_at"
    list_select_related = ("case", "recipient")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
