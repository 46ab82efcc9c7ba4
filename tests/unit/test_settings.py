"""Production-relevant settings that the test run itself overrides for speed."""

from __future__ import annotations

from casetrail import settings


def test_passwords_are_hashed_with_argon2_outside_tests() -> None:
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
