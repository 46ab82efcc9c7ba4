"""A replay file uploaded on the replay pages, and what its run in a throwaway database left:
the state of the run, its progress and its report. Nothing of the replayed case is stored here;
the case itself lived only in the throwaway database."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReplayRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the task worker"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()
    file_name = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    source = models.TextField(help_text="The uploaded replay file, as sent.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    steps_done = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    problems = models.TextField(blank=True, help_text="Why the run was refused or failed.")
    report_markdown = models.TextField(blank=True)
    report_html = models.TextField(blank=True, help_text="Rendered from the Markdown with raw HTML escaped.")
    report_pdf = models.BinaryField(blank=True, default=b"")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.steps_done / self.steps_total) if self.steps_total else 0
