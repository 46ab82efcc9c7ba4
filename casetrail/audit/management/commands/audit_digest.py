"""Sign the current head of each audit chain, so later tampering shows against the signed copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casetrail import clock
from casetrail.audit.digests import (
    KeyUnavailable,
    digest_sign,
    key_id,
    public_key_text,
    signing_key,
)
from casetrail.audit.management.commands.verify import verify_with_progress
from casetrail.audit.verification import CHAINED_MODELS


class Command(BaseCommand):
    help = ("Verify the audit hash chains, then write one signed digest (JSON line) per chain head: "
            "appended to --out FILE, or to standard output. --public-key prints the key auditors keep.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, metavar="FILE", help="Append the digests to this file")
        parser.add_argument("--public-key", action="store_true",
                            help="Print the public key (base64) and its id, and sign nothing")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args: Any, out: Path | None = None, public_key: bool = False, no_progress: bool = False,
               **options: Any) -> None:
        try:
            key = signing_key(create=True)
        except KeyUnavailable as problem:
            raise CommandError(str(problem)) from None
        if key.development:
            self.stderr.write(self.style.WARNING(
                f"Using the DEVELOPMENT signing key in {key.source}: anyone who can read that file can sign "
                f"digests. In production set CASETRAIL_AUDIT_SIGNING_KEY and keep the key off the database server."))
        if public_key:
            self.stdout.write(f"{public_key_text(key.public)}  (key id {key_id(key.public)})")
            return
        digests = []
        for model in CHAINED_MODELS.values():
            report = verify_with_progress(model, enabled=not no_progress)
            if not report.intact:
                # Signing a tampered chain would vouch for the tampering.
                raise CommandError(f"Not signing: {report.problem}. Run `manage.py verify`.")
            if report.last_seq == 0:
                continue
            digests.append(digest_sign(key, chain=report.chain, seq=report.last_seq,
                                       entry_hash=report.last_hash, at=clock.now()))
        lines = "".join(json.dumps(digest, sort_keys=True) + "\n" for digest in digests)
        if out is None:
            self.stdout.write(lines, ending="")
        else:
            with Path(out).open("a") as file:
                file.write(lines)
            self.stdout.write(f"Appended {len(digests)} signed digests to {out} (key id {key_id(key.public)})")
