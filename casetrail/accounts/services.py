"""Agencies, users and API tokens: created only here, each with its event."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from casetrail import clock
from casetrail.accounts.models import Agency, ApiToken, User
from casetrail.accounts.second_factor import DEVICE_NAME, code_problem, totp_device
from casetrail.audit.services import event_record
from casetrail.core.errors import InvalidInput
from casetrail.core.roles import AgencyKind, Role


@transaction.atomic
def agency_create(*, name: str, kind: str, police_force: Agency | None = None, region: str = "",
                  actor: User | None = None) -> Agency:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Enter the agency's name"]
    elif Agency.objects.filter(name__iexact=name.strip()).exists():
        errors["name"] = ["An agency with that name already exists"]
    if kind not in AgencyKind._value2member_map_:
        errors["kind"] = ["Select the kind of agency"]
    if kind == AgencyKind.LOCAL_AUTHORITY and police_force is None:
        errors["police_force"] = ["Select the police force that screens this area's referrals"]
    if errors:
        raise InvalidInput(errors)
    agency = Agency.objects.create(name=name.strip(), kind=kind, police_force=police_force, region=region)
    event_record(kind="agency.created", subject=agency, actor=actor, summary=f"Agency {agency.pk} created",
                 data={"kind": kind})
    return agency


@transaction.atomic
def agency_set_duty_owner(*, agency: Agency, user: User, actor: User | None = None) -> Agency:
    if user.agency_id != agency.pk:
        raise InvalidInput.single("user", "The duty owner must work for the agency")
    agency.duty_owner = user
    agency.save(update_fields=["duty_owner"])
    event_record(kind="agency.duty_owner_set", subject=agency, actor=actor, summary=f"Duty owner of {agency.pk} set",
                 data={"user": user.pk})
    return agency


@transaction.atomic
def user_create(*, username: str, password: str, first_name: str, last_name: str, email: str,
                agency: Agency | None, roles: list[str], job_title: str = "",
                panel_authority: Agency | None = None, actor: User | None = None,
                is_demo: bool = False) -> User:
    errors: dict[str, list[str]] = {}
    if not username.strip():
        errors["username"] = ["Enter a username"]
    elif User.objects.filter(username__iexact=username.strip()).exists():
        errors["username"] = ["That username is taken"]
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if not roles or unknown:
        errors["roles"] = ["Select roles from: " + ", ".join(r.value for r in Role)]
    if agency is None and Role.ADMINISTRATOR.value not in roles:
        errors["agency"] = ["Select the agency the person works for"]
    if Role.PANEL_MEMBER.value in roles and panel_authority is None:
        errors["panel_authority"] = ["Select the local authority whose panel the member sits on"]
    try:
        validate_password(password)
    except ValidationError as problem:
        errors["password"] = list(problem.messages)
    if errors:
        raise InvalidInput(errors)
    user = User.objects.create_user(
        username=username.strip(), password=password, first_name=first_name.strip(),
        last_name=last_name.strip(), email=email.strip(), agency=agency, roles=sorted(set(roles)),
        job_title=job_title, panel_authority=panel_authority, is_demo=is_demo,
    )
    event_record(kind="user.created", subject=user, actor=actor, summary=f"User {user.pk} created",
                 data={"roles": user.roles, "agency": agency.pk if agency else None, "demo": is_demo})
    return user


MAX_API_TOKEN_DAYS = 366


@transaction.atomic
def api_token_issue(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token that works for `days` (CASETRAIL_API_TOKEN_DAYS unless given); the plain
    key is returned once and never stored."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name the token after the system that will use it"]
    days = settings.CASETRAIL_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= MAX_API_TOKEN_DAYS:
        errors["days"] = [f"A token must last between 1 and {MAX_API_TOKEN_DAYS} days"]
    if errors:
        raise InvalidInput(errors)
    key = "ct_" + secrets.token_urlsafe(32)
    # Expiry is security, not case history, so it runs on the real clock even in a replay.
    token = ApiToken.objects.create(user=user, name=name.strip(), key_hash=ApiToken.hash_key(key), prefix=key[:8],
                                    expires_at=timezone.now() + timedelta(days=days))
    event_record(kind="api_token.issued", subject=token, actor=user, summary=f"API token {token.pk} issued",
                 data={"expires_at": token.expires_at.isoformat()})
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    event_record(kind="api_token.revoked", subject=token, actor=actor, summary=f"API token {token.pk} revoked")
    return token


# ---------------------------------------------------------------- second factor


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device being set up, kept across page loads so the
    secret shown does not change until the person proves their app has it."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, code: str) -> TOTPDevice:
    """Confirm a device with a code from the person's app; the person's other TOTP devices go.

    The code is checked before the transaction: a wrong code must still count towards the
    device's throttling, which a rolled-back transaction would forget.
    """
    if device.confirmed:
        raise InvalidInput.single("code", "This authenticator app is already set up")
    problem = code_problem(device, code)
    if problem:
        raise InvalidInput.single("code", problem)
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        event_record(kind="user.second_factor_enrolled", subject=device.user, actor=device.user,
                     summary=f"User {device.user_id} set up an authenticator app")
    return device


@transaction.atomic
def totp_device_create_for_demo(*, user: User) -> TOTPDevice:
    """A confirmed device for a demo user, whose codes `manage.py demo_code` prints."""
    if not user.is_demo:
        raise InvalidInput.single("user", "Only demo users get a device without setting one up")
    device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    event_record(kind="user.second_factor_enrolled", subject=user, actor=None,
                 summary=f"Demo user {user.pk} given an authenticator", data={"demo": True})
    return device
