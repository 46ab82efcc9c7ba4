"""GOV.UK-styled error pages; under /api/ the same errors as JSON, as the API answers its own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

API_PREFIX = "/api/"


def _page(request: HttpRequest, status: int, heading: str, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        # An API client gets JSON even for a path no operation answers, never an HTML page.
        return JsonResponse({"detail": f"{heading}. {message}"}, status=status)
    return render(request, "error.html", {"heading": heading, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, "There is a problem with the request", "Check the address and try again.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You do not have access to this page."
    return _page(request, 403, "You cannot do this", message)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _page(request, 404, "Not found", "No API operation answers this path; the operations are described at /api/v1/openapi.json.")
    return _page(
        request, 404, "Page not found",
        "If you typed the address, check it is correct. If you followed a link, you may not have access to it.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, "Sorry, there is a problem with the service", "Try again later.")
