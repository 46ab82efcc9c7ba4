"""Files no attachment names (left by a disposal or a referral whose process stopped before it
removed them) are deleted by the sweep; the files attachments name, files being written now and
files Casetrail did not name are left alone."""

from __future__ import annotations

import os
import secrets
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.models import Attachment
from casetrail.referrals.services import referral_submit

from .conftest import World, referral_input


def _file(directory: Path, name: str, *, hours_old: float) -> Path:
    path = directory / name
    path.write_bytes(b"Synthetic file content for a test.\n")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


@pytest.fixture()
def uploads(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return Path(settings.MEDIA_ROOT)


def test_the_sweep_deletes_only_old_files_no_attachment_names(world: World, uploads: Path) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world), idempotency_key="sweep",
                                  attachments=[UploadedFile("notes.txt", b"What the teacher saw.")])
    kept = uploads / referral.attachments.get().stored_name
    os.utime(kept, (time.time() - 7200, time.time() - 7200))
    # A disposal stopped after its commit: the row is gone, the file is not.
    left_by_disposal = _file(uploads, secrets.token_hex(16), hours_old=30)
    being_written = _file(uploads, secrets.token_hex(16), hours_old=0)
    not_ours = _file(uploads, "README.txt", hours_old=30)

    out = StringIO()
    call_command("uploads_sweep", "--dry-run", stdout=out)
    assert "1 file(s) no attachment names would be deleted" in out.getvalue()
    assert left_by_disposal.exists()

    out = StringIO()
    call_command("uploads_sweep", stdout=out)
    assert "1 file(s) no attachment names deleted" in out.getvalue()
    assert "1 younger than 60 minutes spared" in out.getvalue()
    assert not left_by_disposal.exists()
    assert kept.exists() and being_written.exists() and not_ours.exists()
    assert Attachment.objects.filter(stored_name=kept.name).exists()

    # Once its row is gone too (disposal), the attachment's file goes at the next sweep.
    Attachment.objects.filter(stored_name=kept.name).delete()
    call_command("uploads_sweep", stdout=StringIO())
    assert not kept.exists() and being_written.exists()


def test_the_sweep_refuses_to_spare_nothing(world: World, uploads: Path) -> None:
    young = _file(uploads.mkdir(parents=True) or uploads, secrets.token_hex(16), hours_old=0)
    with pytest.raises(CommandError, match="at least 1"):
        call_command("uploads_sweep", "--min-age-minutes", "0", stdout=StringIO())
    assert young.exists()


def test_the_sweep_without_an_upload_directory_does_nothing(world: World, uploads: Path) -> None:
    out = StringIO()
    call_command("uploads_sweep", stdout=out)
    assert out.getvalue().startswith("0 file(s)") and not uploads.exists()
