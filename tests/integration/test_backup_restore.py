"""`manage.py backup` and `manage.py restore`: a backup restored into an empty database and upload
directory has every row, every file byte for byte and both audit chains intact; a restore into a
database that is not empty, or from a damaged backup, is refused and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from casetrail.audit.models import AccessLogEntry, Event
from casetrail.audit.services import access_log
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.models import Attachment
from casetrail.referrals.services import referral_submit

from .conftest import World, referral_input

ROOT = Path(__file__).resolve().parents[2]


class EmptyDatabases:
    """New, empty databases of the suite's own kind, for the restore to run against."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path, self.made = tmp_path, []

    def url(self) -> str:
        name = f"casetrail_restore_{os.getpid()}_{len(self.made)}"
        self.made.append(name)
        if connection.vendor == "sqlite":
            return f"sqlite:///{self.tmp_path / (name + '.sqlite3')}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        config = connection.settings_dict
        user = quote(config["USER"] or "") + (":" + quote(config["PASSWORD"]) if config["PASSWORD"] else "")
        if (config["HOST"] or "").startswith("/"):
            return f"postgres://{user}@/{name}?host={quote(config['HOST'])}"
        return f"postgres://{user}@{config['HOST'] or 'localhost'}:{config['PORT'] or 5432}/{name}"

    def drop(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for name in self.made:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_databases(tmp_path: Path) -> Any:
    databases = EmptyDatabases(tmp_path)
    yield databases
    databases.drop()


def restore(backup: Path, url: str, uploads: Path) -> subprocess.CompletedProcess[str]:
    """The restore as an operator runs it: its own process, pointed at the new database."""
    env = {**os.environ, "CASETRAIL_DATABASE_URL": url, "CASETRAIL_UPLOAD_DIR": str(uploads),
           "CASETRAIL_ENV": "development"}
    return subprocess.run([sys.executable, "manage.py", "restore", str(backup), "--no-progress"], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False, timeout=600)


def counts_at(url: str, uploads: Path, tables: list[str]) -> dict[str, int]:
    """Row counts in another database, read by a separate process."""
    script = ("import json, sys, django; django.setup(); from django.db import connection; c = connection.cursor(); "
              "out = {}\nfor t in sys.argv[1:]:\n    c.execute(f'SELECT COUNT(*) FROM \"{t}\"'); out[t] = c.fetchone()[0]\n"
              "print(json.dumps(out))")
    env = {**os.environ, "CASETRAIL_DATABASE_URL": url, "CASETRAIL_UPLOAD_DIR": str(uploads),
           "CASETRAIL_ENV": "development", "DJANGO_SETTINGS_MODULE": "casetrail.settings"}
    done = subprocess.run([sys.executable, "-c", script, *tables], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database_whole(world: World, tmp_path: Path, settings: Any,
                                                        empty_databases: EmptyDatabases) -> None:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    contents = [b"Synthetic notes from the school.\n", "Second note – é\n".encode()]
    for number, content in enumerate(contents):
        referral_submit(user=world.users["referrer"], data=referral_input(world, family_name=f"Backup{number}"),
                        attachments=[UploadedFile(f"notes-{number}.txt", content)])
    access_log(user=world.users["police"], operation="disclosure", subject=world.council, recipient="Court")
    backup = tmp_path / "backup"
    out = StringIO()
    call_command("backup", str(backup), "--no-progress", stdout=out, stderr=StringIO())
    assert "Backup written to" in out.getvalue()

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["audit_event"] == Event.objects.count()
    assert manifest["tables"]["audit_accesslogentry"] == AccessLogEntry.objects.count()
    assert manifest["tables"]["referrals_attachment"] == 2
    assert manifest["chains"]["events"]["last_seq"] == manifest["chains"]["events"]["head_seq"] == Event.objects.count()
    assert {(item["name"], item["sha256"]) for item in manifest["files"]} == set(
        Attachment.objects.values_list("stored_name", "sha256"))
    assert manifest["attachments_without_file"] == manifest["attachments_with_other_content"] == []

    url, uploads = empty_databases.url(), tmp_path / "restored-uploads"
    done = restore(backup, url, uploads)
    assert done.returncode == 0, done.stderr
    assert "Every table count, file and both audit chains match the backup." in done.stdout
    assert f"events: {Event.objects.count():,} entries, intact" in done.stdout
    assert f"access_log: {AccessLogEntry.objects.count():,} entries, intact" in done.stdout
    # Checked again from outside the command: the rows, and the files byte for byte.
    tables = ["audit_event", "audit_accesslogentry", "referrals_attachment", "cases_case", "people_person"]
    assert counts_at(url, uploads, tables) == {table: manifest["tables"][table] for table in tables}
    for stored_name, content in zip(Attachment.objects.order_by("id").values_list("stored_name", flat=True),
                                    contents, strict=True):
        assert (uploads / stored_name).read_bytes() == content

    # Into a database that now holds the service: refused, and nothing changes.
    again = restore(backup, url, tmp_path / "other-uploads")
    assert again.returncode == 1
    assert "is not empty" in again.stderr and "restore only into an empty database" in again.stderr
    assert not (tmp_path / "other-uploads").exists()


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_or_a_full_upload_directory_is_refused(world: World, tmp_path: Path, settings: Any,
                                                                empty_databases: EmptyDatabases) -> None:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    referral_submit(user=world.users["referrer"], data=referral_input(world),
                    attachments=[UploadedFile("notes.txt", b"Synthetic notes.\n")])
    backup = tmp_path / "backup"
    call_command("backup", str(backup), "--no-progress", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("backup", str(backup), "--no-progress", stdout=StringIO(), stderr=StringIO())

    full = tmp_path / "full-uploads"
    full.mkdir()
    (full / "someone-elses.txt").write_text("x")
    url = empty_databases.url()
    done = restore(backup, url, full)
    assert done.returncode == 1 and "upload directory" in done.stderr and "is not empty" in done.stderr

    stored = next((backup / "uploads").iterdir())
    stored.write_bytes(b"Changed after the backup.\n")
    done = restore(backup, url, tmp_path / "restored-uploads")
    assert done.returncode == 1 and "the backup is damaged" in done.stderr
    assert not (tmp_path / "restored-uploads").exists()
    # The target database is still empty: a later restore of a good backup would still go in.
    if connection.vendor == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        assert not path.exists() or counts_tables(path) == 0

    (backup / "manifest.json").write_text("{}")
    done = restore(backup, url, tmp_path / "restored-uploads")
    assert done.returncode == 1 and "is not a manifest" in done.stderr


def counts_tables(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as database:
        return int(database.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
