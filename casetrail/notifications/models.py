"""A message in the outbox: who it is for, what it says, and how its delivery went."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Message(models.Model):
    """One notification to one member of staff, queued in the transaction of the change behind it.

    Its subject and body leave the secure system, so they carry only the case reference, what
    needs attention and a link: never a name or case text.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not sent"

    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="messages")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    kind = models.CharField(max_length=64, help_text="What it is about, e.g. finding, referrer_outcome, escalation.")
    dedupe_key = models.CharField(max_length=200, unique=True,
                                  help_text="The same key queues one message, however often it is asked for.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    backend_reference = models.CharField(max_length=200, blank=True)
    # While a worker is sending it, the end of its claim; after a failure, when to try again.
    # Empty on a pending message nobody has tried yet, and on a failed one the worker gave up on.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} message {self.pk}"

    @property
    def kind_label(self) -> str:
        return self.kind.replace("_", " ").capitalize()

    @property
    def will_retry(self) -> bool:
        """A failed message the worker will try again (False once it has given up)."""
        return self.status == self.Status.FAILED and self.next_attempt_at is not None
