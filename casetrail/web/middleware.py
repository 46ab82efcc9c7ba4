"""Answers the health check before anything else runs, gives each request an id (echoed in a
response header and every log line) and a CSP nonce, holds back people who still owe a second
factor, and keeps the API's errors JSON."""

from __future__ import annotations

import logging
import secrets
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from casetrail.accounts.second_factor import has_confirmed_device, must_verify
from casetrail.web.logging import channel_var, request_id_var, user_id_var

log = logging.getLogger("casetrail.request")


class HealthCheckMiddleware:
    """Answers GET or HEAD /healthz itself, before sessions, sign-in, CSRF, messages and lockout
    run: a load balancer's check then loads and saves no session and looks up no user (those cost
    a write per check when a cookie comes along). Every other request passes straight through."""

    PATH = "/healthz"

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == self.PATH and request.method in ("GET", "HEAD"):
            from casetrail.web.health import healthz

            return healthz(request)
        return self.get_response(request)


class ApiJsonErrorsMiddleware:
    """A method an API path does not take is a JSON 405, like the API's other errors (django-ninja
    answers it in plain text)."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from casetrail.web.errors import not_allowed_as_json

        return not_allowed_as_json(request, self.get_response(request))


class RequestIdMiddleware:
    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        channel_token = channel_var.set("api" if request.path.startswith("/api/") else "web")
        user_token = user_id_var.set(str(getattr(request.user, "pk", None) or "-"))
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            channel_var.reset(channel_token)
        user_id_var.reset(user_token)
        response["X-Request-Id"] = request_id
        nonce = request.csp_nonce  # type: ignore[attr-defined]
        response.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


class SecondFactorMiddleware:
    """Sends a signed-in person who must use a second factor (everyone but a pure referrer, and a
    referrer who chose to set one up) to set up their authenticator app or enter its code before
    any page but signing in and out, those two steps, the health check, assets and the API (which
    takes bearer tokens, not sessions). Off when CASETRAIL_REQUIRE_SECOND_FACTOR is False."""

    # URL names (resolver view_name) that an unverified person may still reach.
    OPEN_VIEWS = frozenset({
        "web:sign-in", "web:sign-out", "web:second-factor-set-up", "web:second-factor-check",
        "web:oidc-start", "web:oidc-callback", "healthz",
    })

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: object, view_args: object,
                     view_kwargs: object) -> HttpResponse | None:
        if not settings.CASETRAIL_REQUIRE_SECOND_FACTOR:
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():  # type: ignore[union-attr]
            return None
        match = request.resolver_match
        if match is not None and (match.view_name in self.OPEN_VIEWS or match.namespace == "api"):
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        if not must_verify(user):  # type: ignore[arg-type]
            return None
        step = "web:second-factor-check" if has_confirmed_device(user) else "web:second-factor-set-up"  # type: ignore[arg-type]
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
