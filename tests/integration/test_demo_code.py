"""The demo's simulated authenticator apps: `demo_code` prints a code the demo user's device
accepts, and refuses anyone load_demo did not create, and everything in production."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from casetrail.accounts.models import User
from casetrail.accounts.second_factor import next_code, verify_code
from casetrail.accounts.services import (
    totp_device_confirm,
    totp_device_create_for_demo,
    totp_device_start,
)
from casetrail.core.errors import InvalidInput

from .conftest import World, _user


def demo_code(username: str) -> str:
    out = StringIO()
    call_command("demo_code", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def demo_police(world: World) -> User:
    user = User.objects.get(username="police")
    User.objects.filter(pk=user.pk).update(is_demo=True)
    user.refresh_from_db()
    totp_device_create_for_demo(user=user)
    return user


def test_demo_code_prints_a_code_the_device_accepts_once(demo_police: User) -> None:
    code = demo_code("police")
    assert code.isdigit() and len(code) == 6
    device, problem = verify_code(demo_police, code)
    assert device is not None, problem
    # Straight after, it prints the next code, which is accepted too.
    following = demo_code("police")
    assert following != code and verify_code(demo_police, following)[0] is not None


def test_demo_code_refuses_anyone_the_demo_did_not_create(world: World) -> None:
    real = world.users["coordinator"]
    device = totp_device_start(user=real)
    totp_device_confirm(device=device, code=next_code(device)[0])
    with pytest.raises(CommandError) as refused:
        demo_code("coordinator")
    assert refused.value.returncode == 2 and "not a demo user" in str(refused.value)
    with pytest.raises(CommandError):
        demo_code("nobody")
    with pytest.raises(InvalidInput):
        totp_device_create_for_demo(user=_user("eve", world.school, "referrer"))


def test_demo_code_never_runs_in_production(demo_police: User, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError) as refused:
        demo_code("police")
    assert "production" in str(refused.value)


def test_the_demo_gives_every_staff_user_a_device_and_says_how_to_get_codes(db: object) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out, verbosity=0)
    printed = out.getvalue()
    assert "manage.py demo_code <username>" in printed
    staff = User.objects.exclude(roles=["referrer"])
    assert staff.exists() and all(u.is_demo for u in User.objects.all())
    assert set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True)) == set(
        staff.values_list("username", flat=True))
    assert not TOTPDevice.objects.filter(user__username="referrer").exists()
