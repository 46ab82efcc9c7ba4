"""Load the synthetic demo and print who can sign in."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from casetrail.accounts.models import User
from casetrail.demo.load import PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load synthetic demo data (agencies, one user per role, people at every stage)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reset", action="store_true", help="Empty the database first")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, reset: bool = False, seed: int = 2026, **options: Any) -> None:
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        elif User.objects.exists():
            self.stdout.write("Demo data already loaded (use --reset to rebuild it).")
            self._sign_in([(u.username, u.roles_display, str(u.agency or "–")) for u in User.objects.all()])
            return
        summary = load_demo(seed=seed, progress=True)
        self._sign_in(summary.sign_in)
        self.stdout.write("\nCases by stage:")
        for stage, count in sorted(summary.stages.items()):
            self.stdout.write(f"  {stage:<18} {count}")
        self.stdout.write("\nCasetrail runs at http://127.0.0.1:8000/")

    def _sign_in(self, rows: list[tuple[str, str, str]]) -> None:
        self.stdout.write(f"\nSign in with any of these users; the password for all is: {PASSWORD}\n")
        self.stdout.write(f"  {'username':<14} {'role':<28} agency")
        for username, role, agency in rows:
            self.stdout.write(f"  {username:<14} {role:<28} {agency}")
