"""Signing in beyond the password: setting up and using an authenticator app (second factor),
confirming who you are again before an export or disclosure (`reauthenticated`), the lockout
and CSRF pages, and single sign-on through an organisation's own provider when configured.

Every export, download or other disclosure of personal data must be decorated with
`@reauthenticated` as well as `@login_required`; see docs/security.md.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from casetrail.accounts.models import User
from casetrail.accounts.second_factor import (
    has_confirmed_device,
    must_verify,
    secret_text,
    totp_device,
    verify_code,
)
from casetrail.accounts.services import totp_device_confirm, totp_device_start
from casetrail.core.errors import InvalidInput
from casetrail.web.case_forms import GovukForm
from casetrail.web.steps import apply_errors

# When the person last proved who they are (Unix time): signing in, a code, or the confirm page.
REAUTHENTICATED_AT = "casetrail_reauthenticated_at"
OIDC_BACKEND = "casetrail.accounts.oidc.CasetrailOIDCBackend"


# ---------------------------------------------------------------- helpers


def _next_url(request: HttpRequest, default: str = "web:my-work") -> str:
    """Where to go afterwards: the `next` given, if it stays on this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse(default)


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTHENTICATED_AT] = time.time()


def recently_reauthenticated(request: HttpRequest, max_age_seconds: int) -> bool:
    at = request.session.get(REAUTHENTICATED_AT)
    return isinstance(at, int | float) and 0 <= time.time() - at <= max_age_seconds


def on_signed_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Signing in with a password counts as proving who you are just now (connected in apps.py).
    Single sign-on does not: the provider may have let the person in without asking anything."""
    if request is not None and hasattr(request, "session") and getattr(user, "backend", "") != OIDC_BACKEND:
        mark_reauthenticated(request)


def reauthenticated(view: Callable[..., HttpResponse] | None = None, *,
                    max_age_seconds: int | None = None) -> Any:
    """Ask for the password (and code) again unless the person proved who they are within
    `max_age_seconds` (CASETRAIL_REAUTHENTICATE_SECONDS, 5 minutes, by default). Use it, under
    @login_required, on every export, download and disclosure: `@reauthenticated` or
    `@reauthenticated(max_age_seconds=60)`."""

    def decorate(inner: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(inner)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = settings.CASETRAIL_REAUTHENTICATE_SECONDS if max_age_seconds is None else max_age_seconds
            if not recently_reauthenticated(request, limit):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('web:confirm-identity')}?{query}")
            return inner(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def qr_code_svg(text: str) -> SafeString:
    """`text` as an inline SVG QR code: drawn here, so no request leaves the page, and with no
    inline style, so the Content-Security-Policy needs no exception."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=12, border=4)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" '
                      'focusable="false" class="casetrail-qr-code" ', 1)
    # The SVG is built by qrcode from a fixed template and path data; `text` is not in it.
    return mark_safe(svg)  # noqa: S308


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    # These pages come before the service itself: no navigation, only the sign-out button.
    return render(request, template, {"nav_items": [], **context}, status=status)


# ---------------------------------------------------------------- forms


class CodeForm(GovukForm):
    code = forms.CharField(
        label="Code", max_length=16, strip=True,
        help_text="The 6 numbers your authenticator app shows, for example 123456",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "spellcheck": "false", "width": 10}),
    )


class ConfirmIdentityForm(GovukForm):
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = CodeForm.base_fields["code"]

    def __init__(self, *args: Any, ask_password: bool, ask_code: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ask_password:
            del self.fields["password"]
        if not ask_code:
            del self.fields["code"]


# ---------------------------------------------------------------- second factor


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def second_factor_set_up(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    verified = user.is_verified()  # type: ignore[attr-defined]
    # A new app is set up by someone with no second factor yet, or who has just used another one
    # (a backup code); never on the password alone over an existing second factor.
    if totp_device(user) is not None or (has_confirmed_device(user) and not verified):
        return redirect(_next_url(request) if verified else
                        f"{reverse('web:second-factor-check')}?{urlencode({'next': _next_url(request)})}")
    device = totp_device_start(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_device_confirm(device=device, code=form.cleaned_data["code"])
        except InvalidInput as problem:
            apply_errors(form, problem)
        else:
            _verified(request, device)
            return redirect(_next_url(request))
    return _page(request, "accounts/second_factor_set_up.html", {
        "form": form, "qr_code": qr_code_svg(device.config_url), "secret": secret_text(device),
        "required": must_verify(user), "next": _next_url(request),
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def second_factor_check(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not has_confirmed_device(user):
        return redirect(f"{reverse('web:second-factor-set-up')}?{urlencode({'next': _next_url(request)})}")
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, problem = verify_code(user, form.cleaned_data["code"])
        if device is not None:
            _verified(request, device)
            if totp_device(user) is None:  # in with a backup code and no app: set one up now
                return redirect(f"{reverse('web:second-factor-set-up')}?{urlencode({'next': _next_url(request)})}")
            return redirect(_next_url(request))
        form.add_error("code", problem)
    return _page(request, "accounts/second_factor_check.html", {"form": form, "next": _next_url(request)})


def _verified(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    # A new session key for the new level of trust, as Django does when signing in.
    request.session.cycle_key()
    mark_reauthenticated(request)


# ---------------------------------------------------------------- confirming who you are again


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def confirm_identity(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ask_code = has_confirmed_device(user)
    ask_password = user.has_usable_password()
    if not (ask_code or ask_password):
        return _page(request, "error.html", {
            "heading": "You cannot confirm who you are",
            "message": "Your account has no password or authenticator app. Ask your administrator."}, status=403)
    form = ConfirmIdentityForm(request.POST or None, ask_password=ask_password, ask_code=ask_code)
    if request.method == "POST" and form.is_valid():
        if ask_password:
            # Through authenticate(), so django-axes counts wrong passwords here as at sign-in.
            checked = authenticate(request, username=user.get_username(), password=form.cleaned_data["password"])
            if getattr(request, "axes_locked_out", False):
                logout(request)  # AxesMiddleware answers with the lockout page
                return redirect("web:sign-in")
            if checked is None or checked.pk != user.pk:
                form.add_error("password", "The password is not right")
        if ask_code and not form.errors:
            device, problem = verify_code(user, form.cleaned_data["code"])
            if device is None:
                form.add_error("code", problem)
        if not form.errors:
            mark_reauthenticated(request)
            return redirect(_next_url(request))
    return _page(request, "accounts/confirm_identity.html", {
        "form": form, "next": _next_url(request), "minutes": settings.CASETRAIL_REAUTHENTICATE_SECONDS // 60})


# ---------------------------------------------------------------- lockout and CSRF pages


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE), as a GOV.UK page."""
    minutes = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    return _page(request, "accounts/locked_out.html", {"minutes": minutes},
                 status=settings.AXES_HTTP_RESPONSE_CODE)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form arrived without its CSRF token (CSRF_FAILURE_VIEW): nothing was saved."""
    return _page(request, "error.html", {
        "heading": "Your form could not be sent",
        "message": "Nothing was saved. This happens when a page was open for a long time or your browser "
                   "blocks cookies. Go back, reload the page and try again.",
    }, status=403)


# ---------------------------------------------------------------- single sign-on (OIDC)


def _oidc_only(view: Callable[..., HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not settings.CASETRAIL_OIDC_ENABLED:
            raise Http404("Single sign-on is not set up")
        return view(request)

    return wrapper


oidc_start = _oidc_only(OIDCAuthenticationRequestView.as_view())
oidc_callback = _oidc_only(OIDCAuthenticationCallbackView.as_view())
