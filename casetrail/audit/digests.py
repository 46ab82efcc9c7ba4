"""Signed digests of the chain heads, so that even a database administrator who rewrites the
history and re-computes every hash is found out: the rewritten chain no longer has the hash
that was signed at that seq, and without the private key no new signature can be made.

A digest is one JSON line: {chain, seq, entry_hash, at, key_id, signature}. The signature is
Ed25519 over the other five fields in canonical JSON, after a fixed prefix.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

KEY_ENV = "CASETRAIL_AUDIT_SIGNING_KEY"
DEVELOPMENT_KEY_FILE = "audit-signing-key"
SIGNED_FIELDS = ("chain", "seq", "entry_hash", "at", "key_id")
_PREFIX = b"casetrail audit digest v1\n"


class KeyUnavailable(Exception):
    """No signing key is configured (or, for checking, no public key was given)."""


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    source: str  # where it came from, for messages
    development: bool

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as auditors keep it: base64 of its 32 raw bytes."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_key_parse(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError as problem:
        raise KeyUnavailable(f"Not an Ed25519 public key (base64 of 32 bytes): {problem}") from None


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def _private_key_parse(text: str, source: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        raise KeyUnavailable(f"{source} is not an Ed25519 private key (base64 of 32 bytes)") from None


def signing_key(*, create: bool = False) -> SigningKey:
    """The key from CASETRAIL_AUDIT_SIGNING_KEY; outside production, a development key kept in
    the var directory (made on first use when create is true)."""
    text = os.environ.get(KEY_ENV, "")
    if text:
        return SigningKey(_private_key_parse(text, KEY_ENV), KEY_ENV, development=False)
    if getattr(settings, "PRODUCTION", False):
        raise KeyUnavailable(f"{KEY_ENV} must be set to sign audit digests in production.")
    path = Path(settings.VAR_DIR) / DEVELOPMENT_KEY_FILE
    if not path.exists():
        if not create:
            raise KeyUnavailable(f"No signing key: set {KEY_ENV} or pass the auditors' public key.")
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(raw).decode("ascii") + "\n")
    return SigningKey(_private_key_parse(path.read_text(), str(path)), str(path), development=True)


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    payload = {name: fields[name] for name in SIGNED_FIELDS}
    return _PREFIX + json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def digest_sign(key: SigningKey, *, chain: str, seq: int, entry_hash: str, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain": chain, "seq": seq, "entry_hash": entry_hash,
        "at": at.astimezone(UTC).isoformat(timespec="seconds"), "key_id": key_id(key.public),
    }
    signature = key.private.sign(_signed_bytes(fields))
    return {**fields, "signature": base64.b64encode(signature).decode("ascii")}


def digest_signature_problem(digest: dict[str, Any], public: Ed25519PublicKey) -> str:
    """Why the digest's signature does not hold under this public key; empty if it does."""
    missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in digest]
    if missing:
        return f"not a digest: no {', '.join(missing)}"
    if digest["key_id"] != key_id(public):
        return f"signed with key {digest['key_id']}, not the given key {key_id(public)}"
    try:
        public.verify(base64.b64decode(str(digest["signature"]), validate=True), _signed_bytes(digest))
    except (InvalidSignature, ValueError):
        return "the signature does not match: the digest was altered or forged"
    return ""
