"""GOV.UK-styled error pages; under /api/ the same errors as JSON, as the API answers its own.

When the database cannot be reached or written (the server is down, the connection broke, the
disk is full, the database is read-only), every page answers 503 with a page saying so and the
API a 503 with a detail, instead of a 500: the request's transaction was rolled back, so nothing
of it was saved, and the same request succeeds once the database is back (Django opens a new
connection on the next request; no restart is needed).
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

API_PREFIX = "/api/"

UNAVAILABLE_HEADING = "Sorry, the service cannot reach its records"
UNAVAILABLE_MESSAGE = "Nothing you sent has been saved. Try again in a few minutes."
RETRY_AFTER_SECONDS = 30

# Words in a database error that mean the database took no more writes (SQLite's "database or
# disk is full" and "attempt to write a readonly database"; PostgreSQL's "No space left on
# device", "could not extend file" and "cannot execute ... in a read-only transaction").
WRITE_REFUSED = ("disk is full", "readonly database", "read-only", "no space left", "could not extend file",
                 "disk full")
# Words that mean the database is there but busy: a lock not granted in time (SQLite's busy
# timeout, PostgreSQL's lock_timeout or a deadlock) or a statement cancelled for taking too long.
BUSY = ("database is locked", "database table is locked", "deadlock detected", "lock timeout",
        "could not obtain lock", "canceling statement due to")
# PostgreSQL error classes that mean the database is unavailable rather than the request wrong:
# 08 connection exception, 53 insufficient resources (disk full, out of memory), 57 operator
# intervention (shut down, cancelled), 25006 read-only transaction.
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def database_failure(exc: BaseException | None) -> str | None:
    """'unreachable', 'read-only or disk full' or 'busy' when `exc` means the database is not
    there to take the request; None for any other error (a bug stays a 500)."""
    if not isinstance(exc, DatabaseError):
        return None
    text = " ".join(str(e) for e in (exc, exc.__cause__) if e is not None).lower()
    if any(words in text for words in WRITE_REFUSED):
        return "read-only or disk full"
    if any(words in text for words in BUSY):
        return "busy"
    state = str(getattr(exc.__cause__, "sqlstate", None) or getattr(exc.__cause__, "pgcode", None) or "")
    if state == "25006":
        return "read-only or disk full"
    if isinstance(exc, (OperationalError, InterfaceError)) or state[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return "unreachable"
    return None


def database_unavailable(request: HttpRequest, failure: str) -> HttpResponse:
    """The 503 answer. Rendered without context processors, sessions or the signed-in user, all of
    which would ask the database again."""
    from casetrail.web import health

    health.note_database_failure(failure)
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            {"detail": f"The service cannot reach its records just now ({failure}). Nothing was saved. "
                       f"Try again in a few minutes."}, status=503)
    else:
        html = render_to_string("unavailable.html", {
            "request": request, "heading": UNAVAILABLE_HEADING, "message": UNAVAILABLE_MESSAGE,
            "retry_after": RETRY_AFTER_SECONDS,
        })
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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
    # Django calls this while handling the exception, from any middleware, view or template.
    failure = database_failure(sys.exc_info()[1])
    if failure is not None:
        return database_unavailable(request, failure)
    return _page(request, 500, "Sorry, there is a problem with the service", "Try again later.")


def not_allowed_as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A method an API path does not take: a JSON 405 (with its Allow header), as the API's other errors."""
    if response.status_code != 405 or not request.path.startswith(API_PREFIX) \
            or response.get("Content-Type", "").startswith("application/json"):
        return response
    answer = JsonResponse({"detail": f"This path does not take {request.method}; it takes "
                                     f"{response.get('Allow', 'other methods')}."}, status=405)
    if response.has_header("Allow"):
        answer["Allow"] = response["Allow"]
    return answer
