"""Sign-in settings: single sign-on is configured from the environment or not at all, and the
production settings pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from casetrail import settings
from casetrail.env import MissingSetting, oidc_from_env

ROOT = Path(__file__).resolve().parents[2]
CLIENT = {"CASETRAIL_OIDC_CLIENT_ID": "casetrail", "CASETRAIL_OIDC_CLIENT_SECRET": "s3cret"}
ENDPOINTS = {
    "CASETRAIL_OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.org/authorize",
    "CASETRAIL_OIDC_TOKEN_ENDPOINT": "https://idp.example.org/token",
    "CASETRAIL_OIDC_USERINFO_ENDPOINT": "https://idp.example.org/userinfo",
    "CASETRAIL_OIDC_JWKS_ENDPOINT": "https://idp.example.org/keys",
}


def no_network(url: str) -> dict[str, str]:
    raise AssertionError("discovery should not be needed")


def test_single_sign_on_is_off_unless_configured() -> None:
    assert oidc_from_env({}, discover=no_network) is None
    assert settings.CASETRAIL_OIDC_ENABLED is False
    assert "casetrail.accounts.oidc.CasetrailOIDCBackend" not in settings.AUTHENTICATION_BACKENDS


def test_single_sign_on_from_the_endpoints_given() -> None:
    config = oidc_from_env({**CLIENT, **ENDPOINTS, "CASETRAIL_OIDC_EMAIL_DOMAINS": "Testshire.gov.uk, @nhs.net"},
                           discover=no_network)
    assert config is not None
    assert config.token_endpoint == "https://idp.example.org/token" and config.sign_algo == "RS256"
    assert config.email_domains == ("testshire.gov.uk", "nhs.net")


def test_single_sign_on_from_the_providers_discovery_document() -> None:
    asked: list[str] = []

    def discover(url: str) -> dict[str, str]:
        asked.append(url)
        return {"authorization_endpoint": "https://idp/a", "token_endpoint": "https://idp/t",
                "userinfo_endpoint": "https://idp/u", "jwks_endpoint": "https://idp/k"}

    config = oidc_from_env({**CLIENT, "CASETRAIL_OIDC_PROVIDER_URL": "https://idp.example.org"}, discover=discover)
    assert asked == ["https://idp.example.org"]
    assert config is not None and config.userinfo_endpoint == "https://idp/u"


@pytest.mark.parametrize("environ", [
    {"CASETRAIL_OIDC_CLIENT_ID": "casetrail", **ENDPOINTS},  # no secret
    {**CLIENT},  # nowhere to send people
    {**CLIENT, "CASETRAIL_OIDC_TOKEN_ENDPOINT": "https://idp.example.org/token"},  # some endpoints only
])
def test_a_partial_single_sign_on_configuration_stops_the_start(environ: dict[str, str]) -> None:
    with pytest.raises(MissingSetting):
        oidc_from_env(environ, discover=no_network)


def test_sign_in_defaults() -> None:
    assert settings.CASETRAIL_REQUIRE_SECOND_FACTOR is True
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.CASETRAIL_REAUTHENTICATE_SECONDS == 5 * 60


def deploy_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy` with production settings and stand-in secrets, warnings fatal,
    as scripts/test runs it in CI."""
    # As a server's environment would be: none of this test run's own settings.
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("CASETRAIL_", "DJANGO_"))}
    environ.update(
        CASETRAIL_ENV="production",
        CASETRAIL_SECRET_KEY="stand-in-secret-for-the-deployment-check-" + "k" * 40,
        CASETRAIL_ALLOWED_HOSTS="casetrail.example.org",
        CASETRAIL_BASE_URL="https://casetrail.example.org",
        CASETRAIL_DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
        CASETRAIL_VAR_DIR=str(tmp_path),
        **extra,
    )
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deployment_checks(tmp_path: Path) -> None:
    done = deploy_check(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_deployment_checks_flag_a_production_service_without_the_second_factor(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, CASETRAIL_REQUIRE_SECOND_FACTOR="false")
    assert done.returncode != 0 and "accounts.W001" in done.stdout + done.stderr
