"""Who must use a second factor, and the TOTP arithmetic shared by the pages, the demo and tests.

Everyone with a staff role must; a person whose only role is referrer may choose to, and once
they have a confirmed device they are asked for its code like everyone else.
"""

from __future__ import annotations

import time
from base64 import b32encode

from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from casetrail.accounts.models import User
from casetrail.core.roles import Role

DEVICE_NAME = "Authenticator app"


def second_factor_required(user: User) -> bool:
    """True unless the person's only role is referrer (no role at all still needs one)."""
    return set(user.roles) != {Role.REFERRER.value}


def has_confirmed_device(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def must_verify(user: User) -> bool:
    """Whether this signed-in person must give a code before using Casetrail."""
    return second_factor_required(user) or has_confirmed_device(user)


def totp_device(user: User, *, confirmed: bool | None = True) -> TOTPDevice | None:
    query = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        query = query.filter(confirmed=confirmed)
    return query.order_by("-pk").first()


def code_problem(device: Device, code: str) -> str:
    """Check a code against one device: "" when it is accepted (and used up), else why not."""
    code = "".join(code.split())
    if isinstance(device, TOTPDevice) and not (code.isdigit() and len(code) == device.digits):
        return f"Enter the {device.digits} numbers your authenticator app shows"
    # Locked for the check, so one code cannot be accepted twice by two requests at once. The
    # transaction commits a failure too, so the device's throttling remembers it.
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, why = locked.verify_is_allowed()
        if not allowed:
            locked_until = (why or {}).get("locked_until")
            wait = max(int((locked_until - timezone.now()).total_seconds()) + 1, 1) if locked_until else 60
            unit = "second" if wait == 1 else "seconds"
            return f"Too many wrong codes: wait {wait} {unit}, then enter the code your app shows then"
        accepted = locked.verify_token(code)
    if accepted:
        device.refresh_from_db()
        return ""
    if isinstance(device, TOTPDevice):
        return "The code is not right: enter the numbers your app shows now"
    return "The code is not right"


def verify_code(user: User, code: str) -> tuple[Device | None, str]:
    """Check a code from the person's authenticator app, or one of their backup codes (issued by
    an administrator with `manage.py addstatictoken`). Returns the device that accepted it, or
    None and why not. Six digits go to the app's device only, so a backup code that is mistyped
    does not count against the app, nor an app code against the backup codes."""
    code = "".join(code.split())
    if not code:
        return None, "Enter the code from your authenticator app"
    app_code = code.isdigit()
    devices = [d for d in devices_for_user(user, confirmed=True) if isinstance(d, TOTPDevice) == app_code]
    if not devices:
        return None, "Enter the code from your authenticator app" if not app_code else "The code is not right"
    problem = ""
    for device in devices:
        problem = code_problem(device, code)
        if not problem:
            return device, ""
    return None, problem


def secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def next_code(device: TOTPDevice, *, at: float | None = None) -> tuple[str, int]:
    """The code the device will accept next, and how many seconds it stays valid.

    A code is accepted once only, so after one was used in this time step the next step's code
    (within the device's tolerance) is the one to give. Raises ValueError when even that is out
    of reach until the clock moves on.
    """
    now = time.time() if at is None else at
    current = int(now - device.t0) // device.step + device.drift
    step = max(current, device.last_t + 1)
    if step > current + device.tolerance:
        raise ValueError("The next code is not valid yet; wait for the code to change")
    seconds_left = int(device.t0 + (step - device.drift + 1) * device.step - now)
    return str(hotp(device.bin_key, step, digits=device.digits)).zfill(device.digits), max(seconds_left, 0)
