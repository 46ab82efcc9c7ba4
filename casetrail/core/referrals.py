"""What a referral must contain before it can be accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.gb import nhs, upn

from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.dates import PartialDate

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_CONCERN_CHARACTERS = 30

# The longest each typed-in field may be, as stored (casetrail/referrals/models.py holds the same
# numbers; tests/integration/test_referral_limits.py keeps the two in step). Longer input is a
# clear error, never a database failure.
TEXT_LIMITS: dict[str, tuple[int, str]] = {
    "referrer_name": (200, "Your name"),
    "referrer_job_title": (200, "Your job title"),
    "referrer_email": (254, "Your email address"),
    "referrer_phone": (40, "Your phone number"),
    "referrer_organisation": (200, "Your organisation's name"),
    "given_names": (200, "The person's first names"),
    "family_name": (200, "The person's last name"),
    "other_names": (300, "Other names the person uses"),
    "school_or_workplace": (200, "The school, college or workplace"),
    "discussed_with": (200, "Who you discussed the concern with"),
}


@dataclass(frozen=True)
class ReferralInput:
    referrer_name: str
    referrer_job_title: str
    referrer_email: str
    referrer_phone: str
    referrer_organisation: str
    referrer_sector: str
    given_names: str
    family_name: str
    other_names: str
    date_of_birth: PartialDate | None
    sex: str
    address: str
    postcode: str
    school_or_workplace: str
    local_authority_id: int
    concern: str
    first_observed_on: date
    concern_types: tuple[str, ...] = field(default_factory=tuple)
    urgency: str = "routine"
    person_aware: str = "not_known"
    discussed_with: str = ""
    # Identifiers, where the referrer knows them: as typed here, stored compact by the service.
    nhs_number: str = ""
    upn: str = ""


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", value.upper())
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


# Identifiers, checked by python-stdnum. The examples shown to users are made up, with valid check
# characters: NHS numbers starting 999 are never issued to patients (kept for testing), and the UPN
# has the establishment number 0000.
NHS_NUMBER_EXAMPLE = "999 111 2227"
UPN_EXAMPLE = "T801000012001"
_SEPARATORS = re.compile(r"[\s\-]+")
_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
NHS_NUMBER_MESSAGES = {
    "length": f"Enter an NHS number with 10 digits, like {NHS_NUMBER_EXAMPLE}",
    "format": f"Enter an NHS number using numbers only, like {NHS_NUMBER_EXAMPLE}",
    "checksum": "The NHS number is not valid: check it for a mistyped digit",
}
UPN_MESSAGES = {
    "length": f"Enter a UPN with a letter and 12 characters, like {UPN_EXAMPLE}",
    "format": f"Enter a UPN as a letter, 11 numbers, then a number or letter, like {UPN_EXAMPLE}",
    "authority": "The UPN is not valid: its 2nd to 4th characters are not a local authority's number",
    "checksum": "The UPN is not valid: check it for a mistyped character",
}


def nhs_number_compact(value: str) -> str:
    """An NHS number as stored: its digits without spaces or dashes; "" when none was given."""
    return _SEPARATORS.sub("", value)


def upn_compact(value: str) -> str:
    """A Unique Pupil Number as stored: upper case, without spaces or dashes; "" when none was given."""
    return _SEPARATORS.sub("", value).upper()


def nhs_number_errors(value: str) -> list[str]:
    """Why an NHS number cannot be recorded (10 digits, Modulus 11 check digit); empty when it can
    be, or when none was given."""
    number = nhs_number_compact(value)
    if not number:
        return []
    if not re.fullmatch(r"[0-9]+", number):
        return [NHS_NUMBER_MESSAGES["format"]]
    if len(number) != 10:
        return [NHS_NUMBER_MESSAGES["length"]]
    return [] if nhs.is_valid(number) else [NHS_NUMBER_MESSAGES["checksum"]]


def upn_errors(value: str) -> list[str]:
    """Why a UPN cannot be recorded (check letter, a known local authority number, 11 digits and a
    last digit or letter); empty when it can be, or when none was given."""
    number = upn_compact(value)
    if not number:
        return []
    if len(number) != 13:
        return [UPN_MESSAGES["length"]]
    if not _UPN_SHAPE.match(number):
        return [UPN_MESSAGES["format"]]
    try:
        upn.validate(number)
    except InvalidComponent:
        return [UPN_MESSAGES["authority"]]
    except InvalidChecksum:
        return [UPN_MESSAGES["checksum"]]
    except ValidationError:
        # The last character is one a UPN never uses (I, O or S).
        return [UPN_MESSAGES["format"]]
    return []


def nhs_number_format(number: str) -> str:
    """A stored NHS number as people write it, in groups of 3, 3 and 4 digits."""
    return nhs.format(number) if len(number) == 10 else number


def referral_errors(data: ReferralInput, *, today: date) -> dict[str, list[str]]:
    """Every problem with a referral, keyed by field; empty when it can be accepted."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    required = {
        "referrer_name": "Enter your full name",
        "referrer_job_title": "Enter your job title or role",
        "referrer_email": "Enter your email address",
        "referrer_organisation": "Enter the name of your organisation",
        "given_names": "Enter the person's first name",
        "family_name": "Enter the person's last name",
        "concern": "Describe what you observed",
    }
    for name, message in required.items():
        if not str(getattr(data, name)).strip():
            add(name, message)
    for name, (limit, label) in TEXT_LIMITS.items():
        if len(str(getattr(data, name)).strip()) > limit:
            add(name, f"{label} must be {limit} characters or fewer")
    if data.referrer_email.strip() and not EMAIL.match(data.referrer_email.strip()):
        add("referrer_email", "Enter an email address in the correct format, like name@example.org")
    if data.referrer_sector not in SECTORS:
        add("referrer_sector", "Select the sector your organisation is in")
    if data.sex and data.sex not in SEX:
        add("sex", "Select the person's sex, or 'Not known'")
    if data.postcode.strip() and not POSTCODE.match(normalise_postcode(data.postcode)):
        add("postcode", "Enter a real postcode, like SW1A 1AA")
    for message in nhs_number_errors(data.nhs_number):
        add("nhs_number", message)
    for message in upn_errors(data.upn):
        add("upn", message)
    if data.concern.strip() and len(data.concern.strip()) < MIN_CONCERN_CHARACTERS:
        add("concern", f"Describe what you observed in at least {MIN_CONCERN_CHARACTERS} characters")
    if not data.concern_types:
        add("concern_types", "Select at least one type of concern, or 'No ideology identified'")
    unknown = [c for c in data.concern_types if c not in CONCERN_TYPES]
    if unknown:
        add("concern_types", "Select types of concern from the list")
    if data.urgency not in URGENCY:
        add("urgency", "Select how urgent the concern is")
    if data.person_aware not in PERSON_AWARE:
        add("person_aware", "Select whether the person knows about this referral")
    if data.date_of_birth is not None:
        if data.date_of_birth.earliest() > today:
            add("date_of_birth", "Date of birth must be in the past")
        elif today.year - data.date_of_birth.year > 120:
            add("date_of_birth", "Date of birth must be within the last 120 years")
    if data.first_observed_on > today:
        add("first_observed_on", "The date the concern was first observed must be today or in the past")
    elif data.date_of_birth is not None and data.first_observed_on < data.date_of_birth.earliest():
        add("first_observed_on", "The date the concern was first observed must be after the person's date of birth")
    return errors
