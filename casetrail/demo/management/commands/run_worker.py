"""Run the background task worker: a thin alias for django-tasks-db's db_worker command."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = ("Run the background task worker (django-tasks database backend). An alias for "
            "'manage.py db_worker'; use that command directly for its other options.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", help="Queues to process, comma-separated; '*' for all (default: default)")
        parser.add_argument("--interval", type=float, help="Seconds to wait when the queue is empty (default: 1)")
        parser.add_argument("--batch", action="store_true", help="Process the outstanding tasks, then exit")

    def handle(self, *args: Any, queue_name: str | None = None, interval: float | None = None,
               batch: bool = False, **options: Any) -> None:
        # Pass only what was given, so db_worker keeps its own defaults.
        given = {"queue_name": queue_name, "interval": interval, "batch": batch or None}
        call_command("db_worker", verbosity=options.get("verbosity", 1),
                     **{name: value for name, value in given.items() if value is not None})
