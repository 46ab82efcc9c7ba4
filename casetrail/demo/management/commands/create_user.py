"""Create a user in an agency with one or more roles, through the accounts service."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casetrail.accounts.models import Agency
from casetrail.accounts.services import user_create
from casetrail.core.errors import InvalidInput
from casetrail.core.roles import Role

BAD_INPUT = 2
# The service names fields as the model does; say them as this command's options.
OPTION = {"roles": "--role", "": "input"}


class Command(BaseCommand):
    help = "Create a user. Exits with status 2 and the reasons when the input is refused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="Omit it to be asked for it without echo (kept out of shell history)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--job-title", default="")
        parser.add_argument("--agency", default="", help='The agency\'s name, e.g. "Northshire County Council"')
        parser.add_argument("--role", dest="roles", action="append", default=[], metavar="ROLE",
                            help="Repeat for several roles: " + ", ".join(r.value for r in Role))
        parser.add_argument("--panel-authority", default="",
                            help="For a panel member: the local authority whose panel they sit on")

    def handle(self, *args: Any, **options: Any) -> None:
        errors: dict[str, list[str]] = {}
        agency = self.agency(options["agency"], "agency", errors)
        panel_authority = self.agency(options["panel_authority"], "panel_authority", errors)
        if errors:
            self.refuse(errors)
        password = options["password"]
        if password is None:
            password = self.ask_password()
        try:
            user = user_create(
                username=options["username"], password=password, first_name=options["first_name"],
                last_name=options["last_name"], email=options["email"], agency=agency, roles=options["roles"],
                job_title=options["job_title"], panel_authority=panel_authority,
            )
        except InvalidInput as problem:
            self.refuse(problem.errors)
        self.stdout.write(self.style.SUCCESS(
            f"Created {user.username} ({user.roles_display}) in {user.agency or 'no agency'}."))

    def agency(self, name: str, field: str, errors: dict[str, list[str]]) -> Agency | None:
        if not name.strip():
            return None
        found = Agency.objects.filter(name__iexact=name.strip()).first()
        if found is None:
            known = ", ".join(Agency.objects.values_list("name", flat=True)) or "none yet"
            errors[field] = [f"There is no agency called {name.strip()!r} (known: {known})"]
        return found

    def ask_password(self) -> str:
        if not sys.stdin.isatty():
            self.refuse({"password": ["Give --password, or run in a terminal to be asked for it"]})
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            self.refuse({"password": ["The two passwords did not match"]})
        return first

    def refuse(self, errors: dict[str, list[str]]) -> None:
        lines = [f"  {OPTION.get(field, '--' + field.replace('_', '-'))}: {message}"
                 for field, messages in errors.items() for message in messages]
        raise CommandError("The user was not created:\n" + "\n".join(lines), returncode=BAD_INPUT)
