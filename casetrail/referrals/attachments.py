"""Checks on uploaded files: size limits and type sniffed from the content, not the name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from casetrail.core.errors import InvalidInput

# Magic numbers of the document and image types a referrer may reasonably send.
SIGNATURES: list[tuple[bytes, str, tuple[str, ...]]] = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
]
ALLOWED_TEXT = (".txt",)
MAX_FILES = 5


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str


def check_upload(upload: UploadedFile) -> CheckedFile:
    name = upload.name.replace("\\", "/").rsplit("/", 1)[-1][:200] or "attachment"
    lower = name.lower()
    limit = settings.MAX_ATTACHMENT_BYTES
    if not upload.content:
        raise InvalidInput.single("", f"'{name}' is empty")
    if len(upload.content) > limit:
        raise InvalidInput.single("", f"'{name}' must be smaller than {limit // (1024 * 1024)} MB")
    for magic, content_type, extensions in SIGNATURES:
        if upload.content.startswith(magic):
            if not lower.endswith(extensions):
                raise InvalidInput.single("", f"'{name}' does not match its file type")
            return CheckedFile(name, upload.content, content_type, hashlib.sha256(upload.content).hexdigest())
    if lower.endswith(ALLOWED_TEXT):
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput.single("", f"'{name}' must be plain text") from None
        return CheckedFile(name, upload.content, "text/plain", hashlib.sha256(upload.content).hexdigest())
    raise InvalidInput.single("", f"'{name}' must be a PDF, Word document (.docx), JPG, PNG or text file")
