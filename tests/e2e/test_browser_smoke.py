"""Proves the browser itself starts and renders, apart from the application."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_chromium_renders_a_page(page: Page) -> None:
    html = "<!doctype html><title>Smoke</title><h1>Casetrail browser smoke test</h1>"
    page.goto("data:text/html," + quote(html))
    expect(page).to_have_title("Smoke")
    expect(page.locator("h1")).to_have_text("Casetrail browser smoke test")
