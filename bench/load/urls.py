"""Casetrail's routes plus /bench/floor: the least a request can cost through the same gunicorn
worker and middleware (sessions, CSRF, authentication, second factor, request id), with no
database query of its own. Its latency under load is the floor the pages are compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from casetrail import urls as casetrail_urls


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/floor", floor, name="bench-floor"), *casetrail_urls.urlpatterns]

handler400 = casetrail_urls.handler400
handler403 = casetrail_urls.handler403
handler404 = casetrail_urls.handler404
handler500 = casetrail_urls.handler500
