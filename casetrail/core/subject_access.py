"""Data-subject rights: when a subject access request must be answered, the grounds on which
part of the answer may be withheld, and what a valid rectification decision needs.

UK GDPR art. 12(3) and DPA 2018 s.45 / s.54: answer within one calendar month of receipt,
extendable by up to two further months with a reason given to the requester within the first
month. The month runs to the corresponding calendar date; with no such date (31 January) to the
last day of the next month; a deadline falling on a weekend or a given public holiday moves to
the next working day (ICO guidance).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from casetrail.core.codes import SEX
from casetrail.core.dates import PartialDate, add_months
from casetrail.core.decisions import rationale_errors
from casetrail.core.referrals import nhs_number_compact, nhs_number_errors, upn_compact, upn_errors

RESPONSE_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


def next_working_day(day: date, holidays: Collection[date] = ()) -> date:
    """The day itself when it is a working day, else the next one that is."""
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def response_due(received_on: date, extension_months: int = 0, holidays: Collection[date] = ()) -> date:
    """The statutory due date: one calendar month from receipt plus any extension (0 to 2)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"An extension is between 0 and {MAX_EXTENSION_MONTHS} months.")
    return next_working_day(add_months(received_on, RESPONSE_MONTHS + extension_months), holidays)


@dataclass(frozen=True)
class RequestTimes:
    received_on: date
    extension_months: int = 0
    completed_on: date | None = None

    @property
    def due_on(self) -> date:
        return response_due(self.received_on, self.extension_months)

    def is_overdue(self, today: date) -> bool:
        """Overdue while unanswered after the due date (an answer given late stays late)."""
        finished = self.completed_on or today
        return finished > self.due_on

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def received_errors(received_on: date | None, *, today: date) -> list[str]:
    if received_on is None:
        return ["Enter the date the request was received"]
    if received_on > today:
        return ["The date the request was received must be today or in the past"]
    return []


def extension_errors(times: RequestTimes, *, months: int | None, reason: str, on: date) -> list[tuple[str, str]]:
    """Why an extension may not be recorded, as (field, message) pairs; empty when it may.

    The extension must be decided, and the requester told, within the first month; the total
    extension is at most two months; the reason is a decision's rationale.
    """
    errors: list[tuple[str, str]] = []
    if times.completed_on is not None:
        errors.append(("", "This request has already been answered"))
    if months is None or not 1 <= months <= MAX_EXTENSION_MONTHS - times.extension_months:
        left = MAX_EXTENSION_MONTHS - times.extension_months
        errors.append(("months", "The request has already been extended as far as the law allows" if left <= 0
                       else f"Extend by 1 to {left} month{'s' if left > 1 else ''}"))
    first_due = response_due(times.received_on, 0)
    if on > first_due:
        errors.append(("", f"An extension must be decided within the first month (by {first_due:%-d %B %Y})"))
    errors.extend(("reason", message) for message in rationale_errors(reason))
    return errors


class RedactionReason(StrEnum):
    """The fixed grounds on which an item is withheld from a subject access response."""

    THIRD_PARTY = "third_party"
    POLICE_SOURCE = "police_source"
    CRIME_PREVENTION = "crime_prevention"
    LEGAL_PRIVILEGE = "legal_privilege"
    OTHER = "other"

    @property
    def label(self) -> str:
        return REDACTION_LABELS[self]

    @property
    def placeholder(self) -> str:
        """What the requester sees in place of the item."""
        return f"[Redacted: {REDACTION_SHORT[self]}]"


REDACTION_LABELS: dict[RedactionReason, str] = {
    RedactionReason.THIRD_PARTY: "Information about another person (third-party data)",
    RedactionReason.POLICE_SOURCE: "Sensitive police source or intelligence",
    RedactionReason.CRIME_PREVENTION: "Would prejudice the prevention or detection of crime "
                                      "(DPA 2018 Part 3, s.45(4))",
    RedactionReason.LEGAL_PRIVILEGE: "Legal professional privilege",
    RedactionReason.OTHER: "Other (explained in the rationale)",
}

REDACTION_SHORT: dict[RedactionReason, str] = {
    RedactionReason.THIRD_PARTY: "third-party information",
    RedactionReason.POLICE_SOURCE: "sensitive police source or intelligence",
    RedactionReason.CRIME_PREVENTION: "prevention or detection of crime (DPA 2018 s.45(4))",
    RedactionReason.LEGAL_PRIVILEGE: "legal professional privilege",
    RedactionReason.OTHER: "exemption applied",
}

MIN_OTHER_EXPLANATION = 40


def redaction_errors(reason: str, rationale: str) -> list[tuple[str, str]]:
    """A redaction is a decision: a ground from the fixed list and a written rationale; 'other'
    must say which exemption applies, so it needs a fuller explanation."""
    errors: list[tuple[str, str]] = []
    if reason not in RedactionReason.__members__.values():
        errors.append(("reason", "Select why this item is withheld"))
    errors.extend(("rationale", message) for message in rationale_errors(rationale))
    if reason == RedactionReason.OTHER and not errors and len(rationale.strip()) < MIN_OTHER_EXPLANATION:
        errors.append(("rationale", f"For 'other', explain which exemption applies and why, in at least "
                                    f"{MIN_OTHER_EXPLANATION} characters"))
    return errors


def redacted(value: str, reason: RedactionReason | None) -> str:
    return reason.placeholder if reason is not None else value


class RectificationOutcome(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


# What a data subject may say is wrong, and how each value is checked. Kinds: text, optional_text,
# birth, sex, nhs_number, upn (the identifiers may be corrected to blank: "that is not my number").
RECTIFIABLE_PERSON_FIELDS: dict[str, tuple[str, str]] = {
    "given_names": ("Given names", "text"),
    "family_name": ("Family name", "text"),
    "date_of_birth": ("Date of birth", "birth"),
    "sex": ("Sex", "sex"),
}
RECTIFIABLE_REFERRAL_FIELDS: dict[str, tuple[str, str]] = {
    "given_names": ("Given names as referred", "text"),
    "family_name": ("Family name as referred", "text"),
    "other_names": ("Other names as referred", "optional_text"),
    "date_of_birth": ("Date of birth as referred", "birth"),
    "address": ("Address", "optional_text"),
    "postcode": ("Postcode", "optional_text"),
    "school_or_workplace": ("School or workplace", "optional_text"),
    "nhs_number": ("NHS number", "nhs_number"),
    "upn": ("Unique Pupil Number", "upn"),
}
MAX_VALUE_LENGTH = 200


def corrected_value_errors(kind: str, value: str, *, today: date) -> list[str]:
    """Whether a corrected value can be recorded in a field of this kind."""
    text = value.strip()
    if kind == "nhs_number":
        return nhs_number_errors(text)
    if kind == "upn":
        return upn_errors(text)
    if kind == "text" and not text:
        return ["Enter the corrected value"]
    if len(text) > MAX_VALUE_LENGTH and kind != "optional_text":
        return [f"The corrected value must be {MAX_VALUE_LENGTH} characters or fewer"]
    if kind == "birth":
        try:
            birth = PartialDate.from_iso(text)
        except ValueError:
            return ["Enter the date of birth as YYYY-MM-DD (or YYYY-MM, or YYYY if only the year is known)"]
        if birth.earliest() > today:
            return ["The date of birth must be in the past"]
    if kind == "sex" and text and text not in SEX:
        return [f"Enter one of: {', '.join(SEX)}"]
    return []


def corrected_value_stored(kind: str, value: str) -> str:
    """A valid corrected value in the form its field keeps (a date as ISO, an identifier compact)."""
    text = value.strip()
    if kind == "birth" and text:
        return PartialDate.from_iso(text).to_iso()
    if kind == "nhs_number":
        return nhs_number_compact(text)
    if kind == "upn":
        return upn_compact(text)
    return text


def rectification_errors(*, kind: str, outcome: str, current: str, corrected: str, rationale: str,
                         today: date) -> list[tuple[str, str]]:
    """An accepted rectification needs a valid corrected value that differs from the recorded one;
    a refusal needs no value. Both need a rationale."""
    errors: list[tuple[str, str]] = []
    if outcome not in RectificationOutcome.__members__.values():
        errors.append(("outcome", "Select whether the correction is accepted or refused"))
    elif outcome == RectificationOutcome.ACCEPTED:
        found = corrected_value_errors(kind, corrected, today=today)
        if not found and corrected_value_stored(kind, corrected) == current.strip():
            found = ["The corrected value is the same as the recorded one"]
        errors.extend(("corrected_value", message) for message in found)
    errors.extend(("rationale", message) for message in rationale_errors(rationale))
    return errors
