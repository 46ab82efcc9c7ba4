"""Retention pages, included under the `web` namespace at retention/."""

from django.urls import path

from casetrail.retention import views

urlpatterns = [
    path("", views.retention_queue_page, name="retention-queue"),
    path("cases/<int:case_id>", views.retention_review_page, name="retention-review"),
    path("cases/<int:case_id>/dispose", views.retention_dispose_page, name="retention-dispose"),
]
