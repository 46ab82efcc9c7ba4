"""Test-run configuration shared by every suite: how the browser is launched, a fast
password hasher (Argon2 is deliberately slow; production keeps it, see test_settings), and
signing in without a second factor or lockout unless a test asks for them (see below).

Keep this file to that. Fixtures about application data belong in the suite's own
conftest: tests/integration/conftest.py, tests/e2e/conftest.py, tests/scenarios/conftest.py.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread, and Django refuses
# ORM calls from a thread with a running loop unless this is set.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Playwright cannot download its own browsers here; we drive Debian's Chromium.
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
)

# As root Chromium needs --no-sandbox. The rest stop it calling home (the network
# is closed, so each attempt only fails slowly) and keep it lean in containers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, skip browser tests on a developer's machine but fail in CI."""
    if CHROMIUM is not None:
        return
    browser_tests = [item for item in items if item.get_closest_marker("e2e")]
    if not browser_tests:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            "Chromium is not installed, so the e2e tests cannot run in CI. "
            "Run scripts/setup test (it installs Debian's chromium package)."
        )
    skip = pytest.mark.skip(reason="chromium is not installed: run scripts/setup test")
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium.

    Headless unless pytest runs with --headed (which needs a display, e.g. Xvfb).
    """
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sign_in_safeguards_only_where_tested(request: pytest.FixtureRequest, settings: Any) -> None:
    """Most tests sign in with client.login() or through the sign-in page with a password only.

    The second factor is switched off unless a test is marked `second_factor`, and django-axes
    unless it is marked `lockout` (axes also needs a request in authenticate(), which
    client.login() does not pass). tests/integration/test_sign_in.py and
    tests/e2e/test_second_factor.py prove both with the markers on.
    """
    if request.node.get_closest_marker("second_factor") is None:
        settings.CASETRAIL_REQUIRE_SECOND_FACTOR = False
    if request.node.get_closest_marker("lockout") is None:
        settings.AXES_ENABLED = False
