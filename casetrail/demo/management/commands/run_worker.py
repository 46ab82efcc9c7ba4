"""Run the background task worker: django-tasks-db's worker, which also tells people of new safeguard
findings (every few minutes, after looking again for possible earlier records of referrals still
before a panel) and delivers the notifications outbox (every cycle)."""

from __future__ import annotations

import logging
import os
import time
from argparse import ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker, valid_backend_name

from casetrail.notifications.services import DeliveryReport, outbox_deliver

logger = logging.getLogger("casetrail.worker")

# The outbox gets its turn at least this often while tasks keep arriving.
TASKS_PER_CYCLE = 20
# Findings are computed from recorded facts; telling people of new ones needs a pass this often.
FINDINGS_EVERY_SECONDS = 300


class OutboxWorker(Worker):
    """db_worker's worker, run in cycles: the ready tasks (up to TASKS_PER_CYCLE), one pass of
    the notifications outbox, then a wait of `interval` seconds when there was nothing to do."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exit_when_idle = self.batch
        self.batch = True  # the parent's loop hands back to this one once no task is ready

    def run(self) -> None:
        tasks_logger = logging.getLogger("django_tasks_db")
        tasks_logger.info("Starting worker worker_id=%s queues=%s, with the notifications outbox",
                          self.worker_id, ",".join(self.queue_names))
        level = tasks_logger.level
        while self.running:
            before = self._run_tasks
            self.max_tasks = before + TASKS_PER_CYCLE
            # The parent announces its start and end every time; once (above) is enough.
            tasks_logger.setLevel(max(level, logging.WARNING))
            try:
                super().run()
            finally:
                tasks_logger.setLevel(level)
            self.startup_delay = False
            if not self.running:
                return
            self.notify_findings()
            report = self.deliver_outbox()
            if self._run_tasks == before and not (report.sent or report.failed):
                if self.exit_when_idle:
                    return
                if self.running:
                    time.sleep(self.interval)

    def notify_findings(self) -> None:
        """Queue messages for findings nobody has been told of yet. Idempotent, so after any outage
        the first pass catches up with everything that became visible meanwhile."""
        from casetrail import clock
        from casetrail.cases.earlier_records import possible_matches_refresh
        from casetrail.cases.safeguards import findings_notify, notify_candidates
        from casetrail.cases.stored_findings import refresh

        now = time.monotonic()
        if now - getattr(self, "_findings_at", -FINDINGS_EVERY_SECONDS) < FINDINGS_EVERY_SECONDS:
            return
        self._findings_at = now
        self.running_task = True
        try:
            # Referrals still before a panel are matched again first, so that what a retrained
            # model or newly recorded referrals show is found (and told) without anyone acting.
            found = possible_matches_refresh()
            # Each case's findings for today computed where its stored answer is stale (a new day,
            # a change nobody has read since), then read by findings_notify.
            computed = refresh(notify_candidates(clock.today()).select_related("referral", "owner_user",
                                                                               "owner_agency"))
            queued = findings_notify()
        finally:
            self.running_task = False
        if found:
            logger.info("possible earlier records: %s found", found)
        if computed:
            logger.info("findings: %s cases computed", computed)
        if queued:
            logger.info("findings: %s messages queued", queued)

    def deliver_outbox(self) -> DeliveryReport:
        # Marked as a running task, so that a first Ctrl-C or TERM lets the pass finish.
        self.running_task = True
        try:
            report = outbox_deliver()
        finally:
            self.running_task = False
        if report.sent or report.failed:
            logger.info("notifications: %s sent, %s failed, %s still to send",
                        report.sent, report.failed, report.remaining)
        return report


class Command(BaseCommand):
    help = ("Run the background task worker (django-tasks database backend), which also sends the "
            "notifications that are due on every cycle. 'manage.py db_worker' runs the tasks alone.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", help="Queues to process, comma-separated; '*' for all (default: default)")
        parser.add_argument("--interval", type=float, help="Seconds to wait when there is nothing to do (default: 1)")
        parser.add_argument("--batch", action="store_true",
                            help="Process the outstanding tasks and notifications, then exit")

    def handle(self, *args: Any, queue_name: str | None = None, interval: float | None = None,
               batch: bool = False, **options: Any) -> None:
        DbWorkerCommand(stdout=self.stdout, stderr=self.stderr).configure_logging(options.get("verbosity", 1))
        try:
            backend_name = valid_backend_name(DEFAULT_TASK_BACKEND_ALIAS)
        except ArgumentTypeError as problem:
            raise CommandError(str(problem)) from None
        if interval is not None and interval < 0:
            raise CommandError("--interval must be zero or greater")
        worker = OutboxWorker(
            queue_names=(queue_name or DEFAULT_TASK_QUEUE_NAME).split(","),
            interval=1 if interval is None else interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=True,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        # As db_worker does: reload on code changes in DEBUG, except in batch mode.
        if settings.DEBUG and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
            return
        worker.configure_signals()
        try:
            worker.run()
        finally:
            worker.reset_signals()
