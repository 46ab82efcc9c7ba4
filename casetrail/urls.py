"""Top-level routes: the API under /api/v1/, pages everywhere else, and a health check."""

from django.contrib import admin
from django.urls import include, path

from casetrail.api.router import api
from casetrail.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("casetrail.web.urls")),
]

handler400 = "casetrail.web.errors.bad_request"
handler403 = "casetrail.web.errors.forbidden"
handler404 = "casetrail.web.errors.not_found"
handler500 = "casetrail.web.errors.server_error"
