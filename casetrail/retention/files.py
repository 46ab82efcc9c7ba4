"""Files in the upload directory that no attachment names any more.

Disposal deletes a referral's attachment rows in its transaction and the files once that has
committed (a rollback must not lose them), so a process that stops between the two leaves files
no record points at; so does a referral whose transaction failed after its files were written
and whose clean-up did not run. Such files are personal data kept without a purpose. The sweep
deletes them, sparing files younger than `min_age` (a referral being submitted right now has
written its files and not yet committed its rows).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from casetrail.referrals.models import Attachment

log = logging.getLogger(__name__)

STORED_NAME = re.compile(r"^[0-9a-f]{32}$")  # what referral_submit names a stored file


@dataclass(frozen=True)
class SweepResult:
    orphans: int  # files no attachment names, old enough to go
    removed: int
    bytes: int
    young: int  # orphans spared for now: younger than min_age
    other: int  # files whose names Casetrail never gives: left alone and reported


def orphan_files_sweep(*, min_age: timedelta = timedelta(hours=1), dry_run: bool = False) -> SweepResult:
    """Delete the upload directory's files that no attachment names (see the module's docstring)."""
    directory = Path(settings.MEDIA_ROOT)
    if not directory.is_dir():
        return SweepResult(0, 0, 0, 0, 0)
    known = set(Attachment.objects.values_list("stored_name", flat=True))
    cutoff = time.time() - min_age.total_seconds()
    orphans, removed, size, young, other = 0, 0, 0, 0, 0
    for path in directory.iterdir():
        if not path.is_file() or path.is_symlink():
            continue
        if not STORED_NAME.match(path.name):
            other += 1
            continue
        if path.name in known:
            continue
        stat = path.stat()
        if stat.st_mtime > cutoff:
            young += 1
            continue
        orphans += 1
        if not dry_run:
            path.unlink(missing_ok=True)
            removed += 1
            size += stat.st_size
    log.info("orphan files swept", extra={"orphans": orphans, "removed": removed, "bytes": size,
                                          "young": young, "other": other, "dry_run": dry_run})
    return SweepResult(orphans, removed, size, young, other)
