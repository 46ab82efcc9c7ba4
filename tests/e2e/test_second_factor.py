"""The second factor in the browser: a coordinator sets up an authenticator app from the page
(the secret read off the page, the code worked out as the app would), then signs in again with
a fresh code, after a wrong one."""

from __future__ import annotations

import time
from base64 import b32decode
from typing import Any

import pytest
from django_otp.oath import hotp
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ACTION_TIMEOUT_MS, error_summary, expect_accessible
from tests.integration.conftest import PASSWORD, World

pytestmark = [pytest.mark.e2e, pytest.mark.second_factor]

STEP = 30  # seconds per code, as on the page's otpauth:// address


class App:
    """An authenticator app: the secret typed in from the page, a code per 30-second step."""

    def __init__(self, secret: str) -> None:
        compact = "".join(secret.split())
        self.key = b32decode(compact + "=" * (-len(compact) % 8))
        self.used = -1

    def code(self) -> str:
        # Casetrail accepts each step's code once, and the next step's early, as apps drift.
        step = max(int(time.time()) // STEP, self.used + 1)
        self.used = step
        return f"{hotp(self.key, step):06d}"


def sign_in_with_password(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_coordinator_sets_up_an_app_then_signs_in_with_its_code(world: World, browser: Browser,
                                                                  live_server: Any) -> None:
    coordinator = world.users["coordinator"]
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_with_password(page, coordinator.username)
        expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
        expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
        expect_accessible(page)
        # Nothing else is reachable yet.
        page.goto("/cases/")
        expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()

        app = App(page.locator("#secret-key").inner_text())
        page.get_by_label("Code", exact=True).fill(app.code())
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to Casetrail")).to_be_visible()
        sign_in_with_password(page, coordinator.username)
        expect(page.get_by_role("heading", name="Enter the code from your authenticator app")).to_be_visible()

        right = app.code()
        page.get_by_label("Code", exact=True).fill(f"{(int(right) + 1) % 1_000_000:06d}")
        page.get_by_role("button", name="Continue").click()
        expect(error_summary(page)).to_contain_text("The code is not right")
        expect_accessible(page)
        page.wait_for_timeout(1_100)  # after one wrong code the check waits a second

        page.get_by_label("Code", exact=True).fill(right)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
        expect(page.get_by_role("banner")).to_contain_text(f"Signed in as {coordinator.display_name}")
    finally:
        context.close()
