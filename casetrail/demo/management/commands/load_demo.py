"""Load the synthetic demo and print who can sign in."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from casetrail.accounts.models import User
from casetrail.core.lifecycle import Stage
from casetrail.demo.load import PASSWORD, load_demo, sign_in_rows

SITE = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "Load synthetic demo data: agencies, one user per role and people at every stage of the journey."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true",
                            help="Empty the database first (manage.py flush), then load the demo")
        parser.add_argument("--seed", type=int, default=2026, help="Seed for the synthetic people (default 2026)")

    def handle(self, *args: Any, reset: bool = False, seed: int = 2026, **options: Any) -> None:
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        elif User.objects.exists():
            self.stdout.write("Demo data already loaded (use --reset to replace everything with a fresh demo).")
            self.sign_in_table(sign_in_rows())
            return
        started = time.perf_counter()
        summary = load_demo(seed=seed, progress=options.get("verbosity", 1) > 0)
        self.stdout.write(self.style.SUCCESS(
            f"Demo loaded in {time.perf_counter() - started:.1f} s: {summary.people} people, "
            f"{summary.referrals} referrals."))
        self.sign_in_table(summary.sign_in)
        self.stdout.write("\nCases by stage:")
        for stage in Stage:
            self.stdout.write(f"  {stage.label:<34} {summary.stages.get(stage.value, 0):>3}")
        self.stdout.write(f"\nCasetrail runs at {SITE}")

    def sign_in_table(self, rows: list[tuple[str, str, str]]) -> None:
        with_code = set(TOTPDevice.objects.filter(confirmed=True, user__is_demo=True)
                        .values_list("user__username", flat=True))
        self.stdout.write(f"\nSign in with any of these users; every demo password is {PASSWORD}\n")
        self.stdout.write(f"  {'username':<14} {'password':<21} {'code':<6} {'role':<24} agency")
        for username, role, agency in rows:
            code = "yes" if username in with_code else "–"
            self.stdout.write(f"  {username:<14} {PASSWORD:<21} {code:<6} {role:<24} {agency}")
        if with_code:
            self.stdout.write(
                "\nUsers marked 'code' also enter a code from an authenticator app after the password. The demo"
                "\nusers' apps are simulated: in another terminal, in this directory, print the current code with\n\n"
                "  .venv/bin/python manage.py demo_code <username>     e.g. .venv/bin/python manage.py demo_code police\n\n"
                "Each code works once and changes every 30 seconds.")
