"""API tokens: only a live token of an active user gets in; an expired, revoked, altered or
unknown one is refused with 401, and nothing about it is recorded as use."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from casetrail.accounts.models import ApiToken
from casetrail.accounts.services import api_token_issue, api_token_revoke
from casetrail.core.errors import InvalidInput

from .conftest import World


def status(client: Client, key: str) -> int:
    return client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def test_a_new_token_works_and_expires_after_the_configured_days(world: World, client: Client,
                                                                 settings: object) -> None:
    token, key = api_token_issue(user=world.users["police"], name="Case sync")
    assert status(client, key) == 200
    life = token.expires_at - token.created_at
    assert timedelta(days=89, hours=23) < life <= timedelta(days=90)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_expired_token_is_refused(world: World, client: Client) -> None:
    token, key = api_token_issue(user=world.users["police"], name="Case sync", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert status(client, key) == 401
    token.refresh_from_db()
    assert token.last_used_at is None


def test_a_token_without_an_expiry_is_refused(world: World, client: Client) -> None:
    token, key = api_token_issue(user=world.users["police"], name="Case sync")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert status(client, key) == 401


def test_a_revoked_token_is_refused(world: World, client: Client) -> None:
    token, key = api_token_issue(user=world.users["police"], name="Case sync")
    api_token_revoke(token=token, actor=world.users["admin"])
    assert status(client, key) == 401


@pytest.mark.parametrize("tamper", [
    lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # one character changed
    lambda key: key + "x",  # something added
    lambda key: key[:-4],  # cut short
    lambda key: key.upper(),
    lambda key: ApiToken.hash_key(key),  # the stored hash is not a key
])
def test_an_altered_token_is_refused(world: World, client: Client, tamper: object) -> None:
    _, key = api_token_issue(user=world.users["police"], name="Case sync")
    assert status(client, tamper(key)) == 401  # type: ignore[operator]
    assert status(client, key) == 200


def test_a_token_of_a_deactivated_user_is_refused(world: World, client: Client) -> None:
    police = world.users["police"]
    _, key = api_token_issue(user=police, name="Case sync")
    police.is_active = False
    police.save(update_fields=["is_active"])
    assert status(client, key) == 401


def test_malformed_authorization_headers_are_refused(world: World, client: Client) -> None:
    _, key = api_token_issue(user=world.users["police"], name="Case sync")
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION=key).status_code == 401
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Basic {key}").status_code == 401
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_a_session_cookie_does_not_open_the_api(world: World, client: Client) -> None:
    client.force_login(world.users["police"])
    assert client.get("/api/v1/cases").status_code == 401


def test_token_life_is_bounded_and_chosen_when_issuing(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        api_token_issue(user=world.users["police"], name="Case sync", days=0)
    assert "days" in refused.value.errors
    with pytest.raises(InvalidInput):
        api_token_issue(user=world.users["police"], name="Case sync", days=400)
    out = StringIO()
    call_command("issue_api_token", "--username", "police", "--name", "Nightly export", "--days", "7",
                 stdout=out, stderr=StringIO())
    token = ApiToken.objects.get(name="Nightly export")
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert "expires" in out.getvalue()
    with pytest.raises(CommandError) as bad:
        call_command("issue_api_token", "--username", "police", "--name", "x", "--days", "0", stderr=StringIO())
    assert bad.value.returncode == 2
