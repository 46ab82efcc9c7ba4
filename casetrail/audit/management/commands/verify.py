"""Check the audit hash chains, and optionally signed digests of them; exit 1 if anything is broken."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from casetrail.audit.digests import (
    KeyUnavailable,
    digest_signature_problem,
    key_id,
    public_key_parse,
    signing_key,
)
from casetrail.audit.models import ChainedEntry, ChainHead
from casetrail.audit.verification import (
    CHAINED_MODELS,
    ChainReport,
    DigestCheck,
    chain_verify,
    digest_holds,
)


def verify_with_progress(model: type[ChainedEntry], *, enabled: bool) -> ChainReport:
    """chain_verify with a progress bar on a terminal (none when output is redirected)."""
    head = ChainHead.objects.filter(chain=model.chain).values_list("seq", flat=True).first()
    total = head if head is not None else model.objects.count()
    with tqdm(total=total, desc=model._meta.db_table, unit=" entries", file=sys.stderr,
              disable=None if enabled else True, mininterval=0.5) as bar:
        return chain_verify(model, progress=bar.update)


class Command(BaseCommand):
    help = ("Walk the event history and access-log hash chains and report the first broken link of each; "
            "with --digests, also check signed digests from audit_digest. Exit status 1 if anything is broken.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--digests", type=Path, metavar="FILE",
                            help="JSON lines written by audit_digest: check each signature and that the "
                                 "chain still has the signed hash at the signed seq")
        parser.add_argument("--public-key", metavar="KEY_OR_FILE",
                            help="The auditors' copy of the public key (base64, or a file holding it); "
                                 "by default the one matching this server's signing key")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args: Any, digests: Path | None = None, public_key: str | None = None,
               no_progress: bool = False, **options: Any) -> None:
        problems: list[str] = []
        for model in CHAINED_MODELS.values():
            report = verify_with_progress(model, enabled=not no_progress)
            if report.intact:
                self.stdout.write(f"{report.table}: {report.entries:,} entries, intact "
                                  f"(seq {report.last_seq}, hash {report.last_hash[:16]}…)")
            else:
                self.stderr.write(f"{report.table}: BROKEN after {report.entries:,} good entries: {report.problem}")
                problems.append(str(report.problem))
        if digests is not None:
            checks = self.check_digests(Path(digests), public_key)
            failed = [check for check in checks if check.problem]
            for check in failed:
                self.stderr.write(str(check))
            problems.extend(str(check) for check in failed)
            if not failed:
                self.stdout.write(f"{digests}: {len(checks)} signed digests, all hold")
        if problems:
            raise CommandError(f"Audit trail broken: {problems[0]}")

    def check_digests(self, path: Path, public_key: str | None) -> list[DigestCheck]:
        try:
            if public_key is not None:
                key_text = Path(public_key).read_text() if Path(public_key).is_file() else public_key
                public = public_key_parse(key_text)
            else:
                own = signing_key()
                public = own.public
                self.stdout.write(f"Checking digests against this server's own key {key_id(public)}; an auditor "
                                  f"should pass --public-key with the copy they hold.")
        except KeyUnavailable as problem:
            raise CommandError(str(problem)) from None
        try:
            lines = path.read_text().splitlines()
        except OSError as problem:
            raise CommandError(f"Cannot read {path}: {problem.strerror}") from None
        checks = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                digest = json.loads(line)
                if not isinstance(digest, dict):
                    raise ValueError
            except ValueError:
                checks.append(DigestCheck(number, "?", 0, "not a JSON object"))
                continue
            chain, seq = str(digest.get("chain", "?")), digest.get("seq", 0)
            problem = digest_signature_problem(digest, public)
            if not problem:
                problem = digest_holds(chain, int(seq), str(digest["entry_hash"]))
            checks.append(DigestCheck(number, chain, seq if isinstance(seq, int) else 0, problem))
        return checks
