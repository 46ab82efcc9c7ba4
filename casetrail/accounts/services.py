"""Agencies, users and API tokens: created only here, each with its event."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from casetrail import clock
from casetrail.accounts.models import Agency, ApiToken, User
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
                panel_authority: Agency | None = None, actor: User | None = None) -> User:
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
        job_title=job_title, panel_authority=panel_authority,
    )
    event_record(kind="user.created", subject=user, actor=actor, summary=f"User {user.pk} created",
                 data={"roles": user.roles, "agency": agency.pk if agency else None})
    return user


@transaction.atomic
def api_token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token; the plain key is returned once and never stored."""
    if not name.strip():
        raise InvalidInput.single("name", "Name the token after the system that will use it")
    key = "ct_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name.strip(), key_hash=ApiToken.hash_key(key), prefix=key[:8])
    event_record(kind="api_token.issued", subject=token, actor=user, summary=f"API token {token.pk} issued")
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    event_record(kind="api_token.revoked", subject=token, actor=actor, summary=f"API token {token.pk} revoked")
    return token
