"""Run a replay file and write its report: what Casetrail would have blocked, flagged and told whom.

By default the replay runs in a throwaway SQLite database made for it (migrated, used, deleted),
so it can never mix with real records. `--keep-database PATH` keeps that database to browse in
the site afterwards. `--current-database` runs in the configured database instead, in one
transaction, and only if it holds no cases. See docs/replay.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casetrail.replay.format import ReplayError, load

BAD_INPUT = 2


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not a real date written YYYY-MM-DD", returncode=BAD_INPUT) from None


class Command(BaseCommand):
    help = ("Replay a dated case history through the real services and report, as of a date, what was "
            "blocked, what was flagged, to whom, and since when.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The replay file (YAML), e.g. casetrail/replay/scenarios/"
                                         "learning-review-2014.yaml")
        parser.add_argument("--as-of", help="Report as of this date, YYYY-MM-DD (default: the last event's date)")
        parser.add_argument("--report", help="Write the Markdown report here (default: print it)")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--keep-database", metavar="PATH",
                           help="Run in a new SQLite database at PATH and keep it to browse afterwards")
        where.add_argument("--current-database", action="store_true",
                           help="Run in the configured database, in one transaction; refused if it holds any case")
        parser.add_argument("--no-what-if", action="store_true", help="Leave out the file's what_if branches")
        parser.add_argument("--migrate", action="store_true", help=argparse_hidden())
        # Days replayed so far and in all, written as "DONE TOTAL" (for the replay pages' worker).
        parser.add_argument("--progress-file", help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            replay = load(path)
        except ReplayError as problem:
            raise CommandError(problem.text(), returncode=BAD_INPUT) from None
        as_of = _day(options["as_of"]) if options["as_of"] else None
        if as_of is not None:
            if as_of < replay.first_day:
                raise CommandError(f"--as-of {as_of.isoformat()} is before the first event "
                                   f"({replay.first_day.isoformat()})", returncode=BAD_INPUT)
            if as_of > date.today():
                raise CommandError(f"--as-of {as_of.isoformat()} is in the future", returncode=BAD_INPUT)
        if options["current_database"]:
            self.run_here(replay, as_of, options)
        else:
            self.run_elsewhere(path, options)

    # ------------------------------------------------------------ in a database of its own

    def run_elsewhere(self, path: Path, options: dict[str, Any]) -> None:
        """Run this command again in a child process pointed at a new SQLite database."""
        keep = options["keep_database"]
        with tempfile.TemporaryDirectory(prefix="casetrail-replay-") as scratch:
            database = Path(keep).resolve() if keep else Path(scratch) / "replay.sqlite3"
            if database.exists():
                raise CommandError(f"{database} already exists: --keep-database needs a new file",
                                   returncode=BAD_INPUT)
            database.parent.mkdir(parents=True, exist_ok=True)
            command = [sys.executable, "-m", "casetrail", "replay", str(path), "--current-database",
                       "--migrate", f"--verbosity={options['verbosity']}"]
            if options["as_of"]:
                command.append(f"--as-of={options['as_of']}")
            if options["report"]:
                command.append(f"--report={options['report']}")
            if options["no_what_if"]:
                command.append("--no-what-if")
            if options["progress_file"]:
                command.append(f"--progress-file={options['progress_file']}")
            env = {**os.environ, "CASETRAIL_DATABASE_URL": f"sqlite:///{database}",
                   "CASETRAIL_UPLOAD_DIR": str(Path(scratch) / "uploads"),
                   "CASETRAIL_NOTIFICATIONS_BACKEND": "email", "CASETRAIL_KEPT_DATABASE": str(database) if keep else ""}
            finished = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
            self.stdout.write(finished.stdout, ending="")
            if finished.returncode != 0:
                if keep and database.exists():
                    database.unlink()
                raise CommandError("The replay did not complete; see the reasons above.",
                                   returncode=finished.returncode)

    # ------------------------------------------------------------ here

    def run_here(self, replay: Any, as_of: date | None, options: dict[str, Any]) -> None:
        from casetrail.replay.engine import DatabaseNotEmpty, run
        from casetrail.replay.report import flags, render

        verbosity = options["verbosity"]
        if options["migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        try:
            outcome = run(replay, until=as_of, progress=verbosity > 0, what_if=not options["no_what_if"],
                          on_progress=_progress_writer(options["progress_file"]))
        except ReplayError as problem:
            raise CommandError(problem.text(), returncode=BAD_INPUT) from None
        except DatabaseNotEmpty as problem:
            raise CommandError(f"{problem} Run without --current-database to use a throwaway database.",
                               returncode=BAD_INPUT) from None
        day = as_of or outcome.until
        report = render(outcome, as_of=day)
        if options["report"]:
            Path(options["report"]).write_text(report, encoding="utf-8")
        else:
            self.stdout.write(report)
        raised = [f for case in outcome.cases for f in flags(case, policy=outcome.policy, through=day)]
        told = [t for t in outcome.told if t.queued_on <= day]
        events = sum(1 for e in replay.events if e.do != "note")
        lines = [
            "",
            f"Replayed {events} events from {replay.first_day:%-d %B %Y} to {outcome.until:%-d %B %Y} "
            f"({outcome.days_caught_up} days caught up) in {outcome.seconds:.1f} s"
            + (f", and {len(outcome.branches)} what-if branch{'es' if len(outcome.branches) != 1 else ''}"
               if outcome.branches else "") + ".",
            f"As of {day:%-d %B %Y}: {sum(1 for b in outcome.blocks if b.event.on <= day)} actions blocked, "
            f"{len(raised)} flags raised ({sum(1 for f in raised if f.open)} open), {len(told)} messages to "
            f"{len({t.recipient for t in told})} people.",
        ]
        if options["report"]:
            lines.append(f"Report written to {options['report']}")
        kept = os.environ.get("CASETRAIL_KEPT_DATABASE", "")
        if kept:
            lines.append(f"Database kept at {kept}. Browse it with CASETRAIL_DATABASE_URL=sqlite:///{kept} "
                         "python manage.py runserver, signing in as any cast member (the username is their key "
                         f"in the file) with the password {outcome.password}")
        elif not options["migrate"]:
            lines.append("The replay was written to the configured database.")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)) if options["report"] else "\n".join(lines))


def _progress_writer(path: str | None) -> Any:
    """A callback writing "DONE TOTAL" to `path` (replaced whole, at most a few times a second)."""
    if not path:
        return None
    target = Path(path)
    last = [0.0]

    def write(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.25:
            return
        last[0] = now
        partial = target.with_suffix(".partial")
        partial.write_text(f"{done} {total}", encoding="utf-8")
        partial.replace(target)

    return write


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
