"""Signing in: the second factor every staff role must use, lockout after repeated failures,
sessions that end when idle, confirming who you are again before a disclosure, CSRF on every
form and the security headers on every page."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from casetrail.accounts.models import User
from casetrail.accounts.second_factor import next_code
from casetrail.accounts.services import totp_device_confirm, totp_device_start
from casetrail.audit.models import Event
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.services import referral_submit
from casetrail.web.auth_views import REAUTHENTICATED_AT

from .conftest import PASSWORD, World, referral_input

SIGN_IN = "/sign-in"


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    """Through the real sign-in page (django-axes needs the request that client.login() lacks)."""
    return client.post(SIGN_IN, {"username": username, "password": password}, **extra)


def enrolled(user: User) -> TOTPDevice:
    """A confirmed authenticator app for `user`, set up through the services."""
    device = totp_device_start(user=user)
    return totp_device_confirm(device=device, code=next_code(device)[0])


def code_for(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return next_code(device)[0]


def waited(device: TOTPDevice) -> None:
    """As if the throttling wait after a wrong code had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=5))
    device.refresh_from_db()


def redirect_path(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


# ---------------------------------------------------------------- second factor


@pytest.mark.second_factor
def test_staff_must_set_up_an_authenticator_app_before_any_page(client: Client, world: World) -> None:
    coordinator = world.users["coordinator"]
    assert redirect_path(sign_in(client, "coordinator")) == "/my-work"
    assert redirect_path(client.get("/my-work")) == "/second-factor/set-up?next=%2Fmy-work"
    assert redirect_path(client.get("/cases/?stage=gateway")).startswith("/second-factor/set-up?next=")
    assert redirect_path(client.get("/admin/")).startswith("/second-factor/set-up?next=")

    page = client.get("/second-factor/set-up?next=/cases/")
    html = page.content.decode()
    assert page.status_code == 200 and "Set up your authenticator app" in html
    # The QR code is drawn in the page: no image is fetched from anywhere, no inline style.
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "style=" not in svg and "href" not in svg
    secret = re.search(r'<code id="secret-key">([A-Z2-7 ]+)</code>', html)
    assert secret is not None and len(secret.group(1).replace(" ", "")) == 32
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    # Reloading keeps the same secret until it is confirmed.
    assert secret.group(1) in client.get("/second-factor/set-up").content.decode()

    wrong = client.post("/second-factor/set-up", {"code": "000000" if next_code(device)[0] != "000000" else "111111",
                                                  "next": "/cases/"})
    assert wrong.status_code == 200 and "There is a problem" in wrong.content.decode()
    assert "The code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()
    assert redirect_path(client.get("/my-work")).startswith("/second-factor/set-up")

    # Each wrong code makes the next check wait (1, 2, 4... seconds); a person takes that long anyway.
    waited(device)
    done = client.post("/second-factor/set-up", {"code": next_code(device)[0], "next": "/cases/"})
    assert redirect_path(done) == "/cases/"
    assert client.get("/my-work").status_code == 200
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=True).count() == 1
    assert Event.objects.filter(kind="user.second_factor_enrolled", subject_id=coordinator.pk).exists()


@pytest.mark.second_factor
def test_each_sign_in_asks_for_a_fresh_code_and_a_code_works_once(world: World) -> None:
    chair = world.users["chair"]
    enrolled(chair)
    first, second = Client(), Client()
    sign_in(first, "chair")
    assert redirect_path(first.get("/my-work")) == "/second-factor/check?next=%2Fmy-work"
    assert "Enter the code from your authenticator app" in first.get("/second-factor/check").content.decode()

    letters = first.post("/second-factor/check", {"code": "abc", "next": "/my-work"})
    assert "There is a problem" in letters.content.decode()
    code = code_for(chair)
    assert redirect_path(first.post("/second-factor/check", {"code": code, "next": "/my-work"})) == "/my-work"
    assert first.get("/my-work").status_code == 200

    # The same code cannot sign in a second session (someone who saw it over a shoulder).
    sign_in(second, "chair")
    replay = second.post("/second-factor/check", {"code": code, "next": "/my-work"})
    assert replay.status_code == 200 and "The code is not right" in replay.content.decode()
    assert redirect_path(second.get("/my-work")).startswith("/second-factor/check")

    # Signing out and in again asks again.
    first.post("/sign-out")
    sign_in(first, "chair")
    assert redirect_path(first.get("/my-work")).startswith("/second-factor/check")


@pytest.mark.second_factor
def test_wrong_codes_are_slowed_down(world: World, client: Client) -> None:
    police = world.users["police"]
    device = enrolled(police)
    sign_in(client, "police")
    right = next_code(device)[0]
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    client.post("/second-factor/check", {"code": wrong})
    client.post("/second-factor/check", {"code": wrong})
    # After two wrong codes the device waits before it checks even the right one.
    waiting = client.post("/second-factor/check", {"code": code_for(police)})
    assert "Too many wrong codes" in waiting.content.decode()
    assert redirect_path(client.get("/my-work")).startswith("/second-factor/check")


@pytest.mark.second_factor
def test_a_referrer_may_sign_in_without_a_code_or_choose_to_use_one(world: World, client: Client) -> None:
    referrer = world.users["referrer"]
    sign_in(client, "referrer")
    assert client.get("/my-work").status_code == 200

    page = client.get("/second-factor/set-up").content.decode()
    assert "You can protect your account" in page
    device = TOTPDevice.objects.get(user=referrer, confirmed=False)
    client.post("/second-factor/set-up", {"code": next_code(device)[0]})
    assert client.get("/my-work").status_code == 200

    again = Client()
    sign_in(again, "referrer")
    assert redirect_path(again.get("/my-work")).startswith("/second-factor/check")


@pytest.mark.second_factor
def test_an_administrators_backup_code_works_once(world: World, client: Client) -> None:
    provider = world.users["provider"]
    enrolled(provider)
    out = StringIO()
    call_command("addstatictoken", "provider", stdout=out)
    backup = out.getvalue().strip()
    assert StaticDevice.objects.filter(user=provider).exists()

    sign_in(client, "provider")
    assert redirect_path(client.post("/second-factor/check", {"code": backup, "next": "/my-work"})) == "/my-work"
    again = Client()
    sign_in(again, "provider")
    used = again.post("/second-factor/check", {"code": backup})
    assert used.status_code == 200 and "The code is not right" in used.content.decode()


@pytest.mark.second_factor
def test_a_new_app_cannot_be_set_up_over_an_existing_one_with_the_password_alone(world: World,
                                                                                 client: Client) -> None:
    police = world.users["police"]
    enrolled(police)
    sign_in(client, "police")
    assert redirect_path(client.get("/second-factor/set-up")).startswith("/second-factor/check")
    assert TOTPDevice.objects.filter(user=police).count() == 1


@pytest.mark.second_factor
def test_after_a_lost_app_is_removed_a_backup_code_leads_to_setting_up_a_new_one(world: World,
                                                                                client: Client) -> None:
    oversight = world.users["oversight"]
    enrolled(oversight)
    TOTPDevice.objects.filter(user=oversight).delete()  # what the administrator does in the admin
    out = StringIO()
    call_command("addstatictoken", "oversight", stdout=out)
    sign_in(client, "oversight")
    assert redirect_path(client.get("/my-work")).startswith("/second-factor/check")
    assert redirect_path(client.get("/second-factor/set-up")).startswith("/second-factor/check")
    to_set_up = redirect_path(client.post("/second-factor/check", {"code": out.getvalue().strip(),
                                                                   "next": "/my-work"}))
    assert to_set_up == "/second-factor/set-up?next=%2Fmy-work"
    assert client.get(to_set_up).status_code == 200
    device = TOTPDevice.objects.get(user=oversight, confirmed=False)
    assert redirect_path(client.post(to_set_up, {"code": next_code(device)[0], "next": "/my-work"})) == "/my-work"


@pytest.mark.second_factor
def test_signing_out_the_health_check_and_the_api_need_no_code(world: World, client: Client) -> None:
    enrolled(world.users["coordinator"])
    sign_in(client, "coordinator")
    assert client.get("/healthz").status_code == 200
    token = world.token("coordinator")
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert redirect_path(client.post("/sign-out")) == "/sign-in"
    assert redirect_path(client.get("/my-work")).startswith("/sign-in?next=")


def test_without_the_marker_the_suite_signs_in_with_a_password_alone(world: World, client: Client) -> None:
    """What tests/conftest.py does for every other test: the setting switches enforcement off."""
    assert client.login(username="coordinator", password=PASSWORD)
    assert client.get("/my-work").status_code == 200


# ---------------------------------------------------------------- lockout


@pytest.mark.lockout
def test_five_wrong_passwords_lock_that_username_at_that_address(world: World, client: Client) -> None:
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(4):
        refused = sign_in(client, "coordinator", "wrong-password-123", **attacker)
        assert refused.status_code == 200 and "There is a problem" in refused.content.decode()
    locked = sign_in(client, "coordinator", "wrong-password-123", **attacker)
    assert locked.status_code == 429
    assert "You cannot sign in at the moment" in locked.content.decode()
    assert "30 minutes" in locked.content.decode()

    # Now even the right password is refused from there, and nobody is signed in.
    right = sign_in(client, "coordinator", **attacker)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    # The same person elsewhere, and other people at that address, can still sign in.
    assert redirect_path(sign_in(Client(), "coordinator", REMOTE_ADDR="198.51.100.7")) == "/my-work"
    assert redirect_path(sign_in(Client(), "chair", **attacker)) == "/my-work"

    # An administrator unlocks with django-axes' own command.
    call_command("axes_reset_username", "coordinator", stdout=StringIO())
    assert redirect_path(sign_in(Client(), "coordinator", **attacker)) == "/my-work"


@pytest.mark.lockout
def test_a_lockout_ends_after_the_cool_off(world: World, client: Client) -> None:
    from axes.models import AccessAttempt

    for _ in range(5):
        sign_in(client, "police", "wrong-password-123")
    assert sign_in(client, "police").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert redirect_path(sign_in(client, "police")) == "/my-work"


@pytest.mark.lockout
def test_a_success_clears_earlier_failures(world: World) -> None:
    for _ in range(4):
        sign_in(Client(), "chair", "wrong-password-123")
    assert redirect_path(sign_in(Client(), "chair")) == "/my-work"
    for _ in range(4):
        assert sign_in(Client(), "chair", "wrong-password-123").status_code == 200


@pytest.mark.lockout
def test_api_tokens_work_with_lockout_on(world: World, client: Client) -> None:
    token = world.token("police")
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer ct_guess").status_code == 401


# ---------------------------------------------------------------- sessions


def test_a_session_ends_after_thirty_minutes_without_a_request(world: World, client: Client,
                                                                settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    client.login(username="police", password=PASSWORD)
    response = client.get("/my-work")
    assert response.status_code == 200
    # Every request sends the cookie again with the full idle time, and moves the server's expiry.
    assert response.cookies["sessionid"]["max-age"] == 30 * 60
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + timedelta(minutes=29)

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert redirect_path(client.get("/my-work")).startswith("/sign-in?next=")


# ---------------------------------------------------------------- confirming who you are again


@pytest.fixture
def attachment_url(world: World, settings: Any, tmp_path: Path) -> str:
    settings.MEDIA_ROOT = tmp_path
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                  attachments=[UploadedFile("notes.txt", b"What the teacher saw.")])
    attachment = referral.attachments.get()
    return f"/cases/{referral.case.pk}/attachments/{attachment.pk}"


def _age_reauthentication(client: Client, seconds: int) -> None:
    session = client.session
    session[REAUTHENTICATED_AT] = time.time() - seconds
    session.save()


def test_a_download_asks_for_the_password_again_after_five_minutes(world: World, client: Client,
                                                                    attachment_url: str) -> None:
    client.login(username="police", password=PASSWORD)
    # Signing in with the password just now counts.
    assert client.get(attachment_url).status_code == 200

    _age_reauthentication(client, 301)
    asked = redirect_path(client.get(attachment_url))
    assert asked.startswith("/confirm-identity?next=")
    page = client.get(asked).content.decode()
    assert "Confirm it is you" in page and 'name="code"' not in page

    wrong = client.post(asked, {"password": "not-my-password"})
    assert wrong.status_code == 200 and "The password is not right" in wrong.content.decode()
    assert redirect_path(client.get(attachment_url)).startswith("/confirm-identity")

    assert redirect_path(client.post(asked, {"password": PASSWORD})) == attachment_url
    download = client.get(attachment_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"What the teacher saw."


@pytest.mark.second_factor
def test_with_an_authenticator_app_confirming_needs_the_code_too(world: World, client: Client,
                                                                 attachment_url: str) -> None:
    police = world.users["police"]
    enrolled(police)
    sign_in(client, "police")
    client.post("/second-factor/check", {"code": code_for(police)})
    assert client.get(attachment_url).status_code == 200

    _age_reauthentication(client, 600)
    asked = redirect_path(client.get(attachment_url))
    no_code = client.post(asked, {"password": PASSWORD})
    assert no_code.status_code == 200 and "There is a problem" in no_code.content.decode()
    assert redirect_path(client.post(asked, {"password": PASSWORD, "code": code_for(police)})) == attachment_url
    assert client.get(attachment_url).status_code == 200


@pytest.mark.lockout
def test_wrong_passwords_when_confirming_count_towards_the_lockout(world: World, client: Client,
                                                                    attachment_url: str) -> None:
    sign_in(client, "police")
    _age_reauthentication(client, 600)
    asked = redirect_path(client.get(attachment_url))
    for _ in range(4):
        assert client.post(asked, {"password": "not-my-password"}).status_code == 200
    locked = client.post(asked, {"password": "not-my-password"})
    assert locked.status_code == 429
    # The session ended with the lockout.
    assert redirect_path(client.get("/my-work")).startswith("/sign-in")


# ---------------------------------------------------------------- CSRF and headers


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(SIGN_IN, {"username": "police", "password": PASSWORD})
    assert refused.status_code == 403 and "Your form could not be sent" in refused.content.decode()
    assert "_auth_user_id" not in browser.session

    browser.get(SIGN_IN)
    token = browser.cookies["csrftoken"].value
    assert redirect_path(browser.post(SIGN_IN, {"username": "referrer", "password": PASSWORD,
                                                "csrfmiddlewaretoken": token})) == "/my-work"
    page = browser.get("/referrals/new/about-you")
    assert page.status_code == 200
    answers = {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
               "referrer_email": "rita@example.org", "referrer_organisation": "Testshire Academy",
               "referrer_sector": "education", "discussed_with": "DSL"}
    refused = browser.post("/referrals/new/about-you", answers)
    assert refused.status_code == 403
    signed_out = browser.post("/sign-out")
    assert signed_out.status_code == 403 and browser.get("/my-work").status_code == 200
    token = browser.cookies["csrftoken"].value
    assert browser.post("/referrals/new/about-you", {**answers, "csrfmiddlewaretoken": token}).status_code == 302


def test_pages_send_a_nonced_content_security_policy_and_refuse_framing(world: World, client: Client) -> None:
    response = client.get(SIGN_IN)
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert scripts and all(f'nonce="{nonce.group(1)}"' in attributes for attributes in scripts)
    assert nonce.group(1) not in client.get(SIGN_IN)["Content-Security-Policy"]  # fresh on each page
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response.cookies["csrftoken"]["httponly"] and response.cookies["csrftoken"]["samesite"] == "Lax"
