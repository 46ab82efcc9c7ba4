"""Django's flush, able to empty the audit tables on PostgreSQL.

Their triggers (audit migration 0005) refuse TRUNCATE unless the session has set
casetrail.audit_erasure; flush erases the whole database, audit trail included, so it sets it
for its own run. The test runner and `load_demo --reset` flush through this command too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database", DEFAULT_DB_ALIAS)]
        if connection.vendor != "postgresql":
            return super().handle(**options)
        with connection.cursor() as cursor:
            cursor.execute("SET casetrail.audit_erasure = 'on'")
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET casetrail.audit_erasure")
