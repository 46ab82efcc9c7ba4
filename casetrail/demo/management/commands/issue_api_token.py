"""Issue an API token for a user and print its key, which is shown only this once, and when it expires."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casetrail.accounts.models import User
from casetrail.accounts.services import api_token_issue
from casetrail.core.errors import InvalidInput


class Command(BaseCommand):
    help = "Issue an API token; the key is printed once and only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", required=True, help="Name the token after the system that will use it")
        parser.add_argument("--days", type=int, default=None,
                            help="How many days the token works (default CASETRAIL_API_TOKEN_DAYS, 90)")

    def handle(self, *args: Any, username: str, name: str, days: int | None = None, **options: Any) -> None:
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None or not user.is_active:
            raise CommandError(f"There is no active user {username!r}", returncode=2)
        try:
            token, key = api_token_issue(user=user, name=name, days=days)
        except InvalidInput as problem:
            raise CommandError(str(problem), returncode=2) from None
        self.stdout.write(f"API token {token.name!r} for {user.username} (prefix {token.prefix}), "
                          f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(key)
        self.stderr.write("Store the key now: it cannot be shown again. Send it as 'Authorization: Bearer <key>'.")
