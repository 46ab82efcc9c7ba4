"""Routes for data-subject rights pages, included under the `web` namespace."""

from django.urls import path

from casetrail.rights import views

urlpatterns = [
    path("subject-access-requests/", views.sar_list, name="sar-list"),
    path("subject-access-requests/<str:reference>", views.sar_detail, name="sar-detail"),
    path("subject-access-requests/<str:reference>/redact", views.sar_redact, name="sar-redact"),
    path("subject-access-requests/<str:reference>/extend", views.sar_extend, name="sar-extend"),
    path("subject-access-requests/<str:reference>/answer", views.sar_export, name="sar-export"),
    path("people/<str:reference>/subject-access-request", views.sar_open, name="sar-open"),
    path("people/<str:reference>/rectification", views.rectification, name="rectification"),
]
