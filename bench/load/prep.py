"""What the load test needs before it starts: signed-in sessions, API tokens, and for each
simulated person the cases they work on and names to search for. Runs inside Django.

Bench-only shortcut for signing in: instead of posting the password and a TOTP code (Argon2 and
the code's one-use rule would make sign-in itself the bottleneck and let two simulated people
on one account lock each other out), a database session is created holding exactly the keys
that `django.contrib.auth.login` and django-otp's `login` put there: the user's id, the
authentication backend, the session hash of the password, and the persistent id of the TOTP
device the person verified with. Casetrail's middleware and views then treat the session as
one that signed in with both factors. A user with no confirmed device (possible in a generated
national dataset) is given one first, since production requires it of every staff role.
Never use this outside bench/ and tests.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

# Which roles the load test plays, and how many cases and search terms each simulated person gets.
ROLES = ("police_officer", "channel_coordinator", "referrer")
CASES_PER_PERSON = 40
SEARCHES_PER_PERSON = 10


@dataclass
class Persona:
    """One simulated person: a Casetrail user with a session of their own."""

    kind: str  # police_officer, channel_coordinator, referrer, api
    username: str
    session_key: str = ""
    api_token: str = ""
    case_ids: list[int] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    local_authority_id: int | None = None


def sign_in_session(user: Any) -> str:
    """A new database session signed in as `user` with a verified second factor; its key.

    The same keys as django.contrib.auth.login (SESSION_KEY, BACKEND_SESSION_KEY,
    HASH_SESSION_KEY) and django_otp.login (DEVICE_ID_SESSION_KEY)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from casetrail.accounts.second_factor import must_verify, totp_device

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        raise RuntimeError(f"sign_in_session writes database sessions, but SESSION_ENGINE is {settings.SESSION_ENGINE}")
    session = SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if must_verify(user):
        device = totp_device(user) or _device_for(user)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    assert session.session_key is not None
    return session.session_key


def _device_for(user: Any) -> Any:
    """A confirmed TOTP device for a user who has none (bench data only)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="Load test authenticator", confirmed=True)


def _users(role: str) -> list[Any]:
    from casetrail.accounts.models import User

    # roles is a JSON list; filtering in Python keeps this the same on SQLite and PostgreSQL.
    users = User.objects.filter(is_active=True).select_related("agency").order_by("pk")
    return [u for u in users if role in u.roles and (role != "referrer" or set(u.roles) == {"referrer"})]


def _work_of(user: Any, rng: random.Random) -> tuple[list[int], list[str]]:
    """Cases the user works on (owned first, then any they may see) and family names to search."""
    from casetrail.cases.access import visible_cases

    visible = visible_cases(user)
    owned = list(visible.filter(owner_user=user).values_list("pk", flat=True)[:CASES_PER_PERSON])
    if len(owned) < CASES_PER_PERSON:
        others = list(visible.exclude(owner_user=user).order_by("-pk").values_list("pk", flat=True)[:500])
        rng.shuffle(others)
        owned += others[: CASES_PER_PERSON - len(owned)]
    names = list(visible.order_by("-pk").values_list("person__family_name", flat=True)[:500])
    names = sorted({n for n in names if n})
    rng.shuffle(names)
    return owned, names[:SEARCHES_PER_PERSON]


def _local_authority() -> int | None:
    from casetrail.accounts.models import Agency

    found = (Agency.objects.filter(kind="local_authority", police_force__duty_owner__isnull=False)
             .order_by("pk").values_list("pk", flat=True).first())
    return found


def build_plan(*, sessions_per_role: int, seed: int = 0) -> dict[str, Any]:
    """Sessions, tokens and work for every role the load test plays, from the users in the
    database: up to `sessions_per_role` sessions per role (people share an account when there
    are fewer users than that) and as many API tokens for the API clients."""
    from casetrail.accounts.services import api_token_issue

    rng = random.Random(seed)
    authority = _local_authority()
    plan: dict[str, list[dict[str, Any]]] = {}
    for role in ROLES:
        users = _users(role)
        if not users:
            raise RuntimeError(f"The database has no active user with the role {role}: load data first.")
        personas = []
        for index in range(sessions_per_role):
            user = users[index % len(users)]
            cases, searches = _work_of(user, rng)
            personas.append(Persona(kind=role, username=user.username, session_key=sign_in_session(user),
                                    case_ids=cases, searches=searches, local_authority_id=authority))
        plan[role] = [asdict(p) for p in personas]
    # API clients read as police officers: a case list and the cases their officer works on.
    officers = _users("police_officer")
    api = []
    for index in range(sessions_per_role):
        user = officers[index % len(officers)]
        cases, searches = _work_of(user, rng)
        _, key = api_token_issue(user=user, name=f"load test {index + 1}", days=1)
        api.append(asdict(Persona(kind="api", username=user.username, api_token=key, case_ids=cases,
                                  searches=searches)))
    plan["api"] = api
    return plan


def dataset_size() -> dict[str, int]:
    """How much data the run is against."""
    from casetrail.accounts.models import User
    from casetrail.audit.models import AccessLogEntry, Event
    from casetrail.cases.models import Case
    from casetrail.people.models import Person

    return {"cases": Case.objects.count(), "people": Person.objects.count(), "events": Event.objects.count(),
            "access_log_entries": AccessLogEntry.objects.count(), "users": User.objects.count()}
