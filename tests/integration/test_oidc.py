"""Single sign-on: the provider's claims are matched by email to one existing, active Casetrail
user, and never create or change one. All without a network: the provider's side is faked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from casetrail.accounts.models import User
from casetrail.accounts.oidc import CasetrailOIDCBackend
from casetrail.web.auth_views import REAUTHENTICATED_AT

from .conftest import World

PROVIDER = "https://login.example.org/oauth2"


@pytest.fixture
def oidc(settings: Any) -> Any:
    settings.CASETRAIL_OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "casetrail-test"
    settings.OIDC_RP_CLIENT_SECRET = "not-a-real-secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{PROVIDER}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{PROVIDER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{PROVIDER}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{PROVIDER}/keys"
    settings.CASETRAIL_OIDC_EMAIL_DOMAINS = ()
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "casetrail.accounts.oidc.CasetrailOIDCBackend"]
    return settings


def match(claims: dict[str, Any]) -> User | None:
    """What the backend makes of the claims the provider's userinfo endpoint would return."""
    backend = CasetrailOIDCBackend()
    backend.get_userinfo = lambda access_token, id_token, payload: claims  # type: ignore[method-assign]
    return backend.get_or_create_user("access-token", "id-token", {})


def test_a_verified_email_matches_the_one_user_with_it(world: World, oidc: Any) -> None:
    coordinator = world.users["coordinator"]
    assert match({"email": "Coordinator@Example.org", "email_verified": True, "sub": "1"}) == coordinator
    # Some enterprise providers never send email_verified; the organisation runs the provider.
    assert match({"email": "coordinator@example.org", "sub": "1"}) == coordinator


def test_nobody_is_created_or_changed_from_the_claims(world: World, oidc: Any) -> None:
    users = User.objects.count()
    assert match({"email": "stranger@example.org", "email_verified": True, "given_name": "Eve",
                  "roles": ["administrator"]}) is None
    assert User.objects.count() == users
    coordinator = match({"email": "coordinator@example.org", "given_name": "Mallory", "family_name": "X",
                         "roles": ["administrator"], "groups": ["admins"]})
    assert coordinator is not None
    coordinator.refresh_from_db()
    assert coordinator.first_name == "Coordinator" and coordinator.roles == ["channel_coordinator"]


@pytest.mark.parametrize("claims", [
    {"email": "coordinator@example.org", "email_verified": False},
    {"email": "coordinator@example.org", "email_verified": "false"},
    {"email": ""},
    {"sub": "no-email"},
    {"email": "not-an-address"},
])
def test_unverified_or_missing_emails_match_nobody(world: World, oidc: Any, claims: dict[str, Any]) -> None:
    assert match(claims) is None


def test_deactivated_users_and_shared_emails_match_nobody(world: World, oidc: Any) -> None:
    chair = world.users["chair"]
    chair.is_active = False
    chair.save(update_fields=["is_active"])
    assert match({"email": "chair@example.org"}) is None
    police2 = world.users["police2"]
    police2.email = "police@example.org"
    police2.save(update_fields=["email"])
    assert match({"email": "police@example.org"}) is None


def test_only_the_allowed_email_domains_match(world: World, oidc: Any) -> None:
    oidc.CASETRAIL_OIDC_EMAIL_DOMAINS = ("testshire.gov.uk",)
    assert match({"email": "coordinator@example.org"}) is None
    world.users["coordinator"].email = "colin@testshire.gov.uk"
    world.users["coordinator"].save(update_fields=["email"])
    assert match({"email": "Colin@Testshire.gov.uk"}) == world.users["coordinator"]


def test_the_organisation_button_appears_only_when_configured(world: World, client: Client, settings: Any) -> None:
    assert "Sign in with your organisation" not in client.get("/sign-in").content.decode()
    assert client.get("/sign-in/organisation").status_code == 404
    assert client.get("/sign-in/organisation/callback?code=x&state=y").status_code == 404
    assert "could not be signed in through your organisation" not in client.get(
        "/sign-in?organisation=failed").content.decode()


def _start(client: Client) -> dict[str, list[str]]:
    response = client.get("/sign-in/organisation?next=/cases/")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{PROVIDER}/authorize"
    return parse_qs(target.query)


def test_the_organisation_sign_in_goes_to_the_provider_with_state_nonce_and_pkce(world: World, client: Client,
                                                                                   oidc: Any) -> None:
    page = client.get("/sign-in").content.decode()
    assert "Sign in with your organisation" in page and 'href="/sign-in/organisation"' in page
    params = _start(client)
    assert params["client_id"] == ["casetrail-test"] and params["scope"] == ["openid email"]
    assert params["redirect_uri"] == ["http://testserver/sign-in/organisation/callback"]
    assert params["state"] and params["nonce"] and params["code_challenge_method"] == ["S256"]


def _fake_provider(monkeypatch: pytest.MonkeyPatch, claims: dict[str, Any]) -> None:
    """The provider's token, its verification and the userinfo, as they would come back."""
    monkeypatch.setattr(CasetrailOIDCBackend, "get_token",
                        lambda self, payload: {"id_token": "id-token", "access_token": "access-token"})
    monkeypatch.setattr(CasetrailOIDCBackend, "verify_token", lambda self, token, **kwargs: {"sub": "1"})
    monkeypatch.setattr(CasetrailOIDCBackend, "get_userinfo", lambda self, access, id_token, payload: claims)


def test_a_matched_person_is_signed_in_but_must_confirm_before_a_download(
        world: World, client: Client, oidc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_provider(monkeypatch, {"email": "coordinator@example.org", "email_verified": True})
    state = _start(client)["state"][0]
    back = client.get(f"/sign-in/organisation/callback?code=abc&state={state}")
    assert back.status_code == 302 and back["Location"] == "/cases/"
    assert int(client.session["_auth_user_id"]) == world.users["coordinator"].pk
    # The provider may have let them in without asking anything, so it does not count as
    # having just proved who they are (see reauthenticated).
    assert REAUTHENTICATED_AT not in client.session


def test_an_unknown_person_is_sent_back_to_sign_in_with_the_reason(
        world: World, client: Client, oidc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_provider(monkeypatch, {"email": "stranger@example.org", "email_verified": True})
    users = User.objects.count()
    state = _start(client)["state"][0]
    back = client.get(f"/sign-in/organisation/callback?code=abc&state={state}")
    assert back.status_code == 302 and back["Location"] == "/sign-in?organisation=failed"
    assert "_auth_user_id" not in client.session and User.objects.count() == users
    page = client.get(back["Location"]).content.decode()
    assert "There is a problem" in page and "could not be signed in through your organisation" in page
