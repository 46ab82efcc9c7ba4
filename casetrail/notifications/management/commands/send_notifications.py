"""Send the notifications that are due now, once, with a progress bar and a summary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from casetrail.notifications.models import Message
from casetrail.notifications.services import message_retry, outbox_deliver, outbox_due


class Command(BaseCommand):
    help = ("Send the notifications that are due (waiting, or failed and due for another try), "
            "once. The task worker (run_worker) does the same on every cycle.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="Send at most this many (default 200)")
        parser.add_argument("--retry-given-up", action="store_true",
                            help="First put back in the outbox the failed messages the worker gave up on "
                                 "(after fixing the cause: the mail service, or a recipient's address)")

    def handle(self, *args: Any, limit: int = 200, retry_given_up: bool = False, **options: Any) -> None:
        verbose = options.get("verbosity", 1) > 0
        if retry_given_up:
            given_up = Message.objects.filter(status=Message.Status.FAILED, next_attempt_at__isnull=True)
            requeued = 0
            for message in given_up.iterator():
                message_retry(message=message)
                requeued += 1
            if verbose:
                self.stdout.write(f"Put {requeued} given-up message(s) back in the outbox.")
        bar = tqdm(total=min(outbox_due(), limit), desc="Sending notifications", unit="message",
                   disable=not verbose)
        with bar:
            report = outbox_deliver(limit=limit, on_each=lambda _message: bar.update(1))
        summary = f"Notifications: {report.sent} sent, {report.failed} failed, {report.remaining} still to send."
        self.stdout.write(self.style.SUCCESS(summary) if not report.failed else self.style.WARNING(summary))
