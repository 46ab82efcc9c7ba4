"""Replay pages, included under the `web` namespace at replays/."""

from django.urls import path

from casetrail.replay import views

urlpatterns = [
    path("", views.replay_upload, name="replay-upload"),
    path("<int:run_id>", views.replay_run, name="replay-run"),
    path("<int:run_id>/report.pdf", views.replay_report_pdf, name="replay-report-pdf"),
]
