"""Gives each request an id (echoed in a response header and every log line) and a CSP nonce."""

from __future__ import annotations

import logging
import secrets
import time
import uuid

from django.http import HttpRequest, HttpResponse

from casetrail.web.logging import request_id_var, user_id_var

log = logging.getLogger("casetrail.request")


class RequestIdMiddleware:
    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(str(getattr(request.user, "pk", None) or "-"))
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
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
