"""Print the code a demo user's (simulated) authenticator app would show, so the demo can be
signed in to. Refused for anyone load_demo did not create, and always in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casetrail.accounts.models import User
from casetrail.accounts.second_factor import next_code, totp_device


class Command(BaseCommand):
    help = "Print the current authenticator code of a demo user (made by load_demo); never in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="A demo user, e.g. coordinator")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_code does not run in production.", returncode=2)
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None or not user.is_demo:
            raise CommandError(f"{username!r} is not a demo user: demo_code only prints codes for the users "
                               "that load_demo created.", returncode=2)
        device = totp_device(user)
        if device is None:
            raise CommandError(f"{user.username} has no authenticator app: sign in with the password alone.",
                               returncode=2)
        try:
            code, seconds = next_code(device)
        except ValueError as problem:
            raise CommandError(f"{problem} (a code was used moments ago; try again in 30 seconds).",
                               returncode=1) from None
        self.stdout.write(code)
        self.stderr.write(f"Code for {user.username}, valid for about {seconds} more seconds; each code works once.")
