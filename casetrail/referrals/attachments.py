"""Checks on uploaded files: size limits and type sniffed from the content, not the name."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings

from casetrail.core.errors import InvalidInput

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Magic numbers of the document and image types a referrer may reasonably send.
SIGNATURES: list[tuple[bytes, str, tuple[str, ...]]] = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"PK\x03\x04", DOCX, (".docx",)),
]
ALLOWED_TEXT = (".txt",)
MAX_FILES = 5
MAX_NAME = 200

# A .docx is a zip; it is never unpacked here, but its directory is read to make sure it is one.
DOCX_REQUIRED_MEMBERS = ("[Content_Types].xml", "word/document.xml")
DOCX_MAX_MEMBERS = 1000
DOCX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024

# Control characters (but tab, line feed, form feed and carriage return) mean a binary file, not text.
_BINARY_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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


def safe_name(raw: str) -> str:
    """The name to show for an upload: no folders, no control or direction-changing characters
    (an RTL override can make `xfdp.exe` look like `exe.pdf`), and short, keeping the extension.
    It is only ever displayed or offered as a download name; the file is stored under a random one."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters (NUL, newlines, escapes); Cf: format characters (bidi overrides, zero-width).
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    if name in ("", ".", ".."):
        return "attachment"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


def _docx_problem(content: bytes) -> str | None:
    """Why a file that starts like a zip is not a Word document; None if it looks like one.

    Reads only the zip's central directory, never decompressing a member, so a zip bomb costs nothing here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return "is damaged or is not a Word document"
    names = {member.filename for member in members}
    if len(members) > DOCX_MAX_MEMBERS or sum(m.file_size for m in members) > DOCX_MAX_UNPACKED_BYTES:
        return "unpacks to far more than its size: it cannot be accepted"
    if not all(required in names for required in DOCX_REQUIRED_MEMBERS):
        return "is not a Word document"
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return "contains macros: save it as a plain Word document (.docx) and attach it again"
    return None


def check_upload(upload: UploadedFile) -> CheckedFile:
    name = safe_name(upload.name)
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
            if content_type == DOCX:
                problem = _docx_problem(upload.content)
                if problem is not None:
                    raise InvalidInput.single("", f"'{name}' {problem}")
            return CheckedFile(name, upload.content, content_type, hashlib.sha256(upload.content).hexdigest())
    if lower.endswith(ALLOWED_TEXT):
        try:
            text = upload.content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput.single("", f"'{name}' must be plain text") from None
        if _BINARY_IN_TEXT.search(text):
            raise InvalidInput.single("", f"'{name}' must be plain text")
        return CheckedFile(name, upload.content, "text/plain", hashlib.sha256(upload.content).hexdigest())
    raise InvalidInput.single("", f"'{name}' must be a PDF, Word document (.docx), JPG, PNG or text file")
