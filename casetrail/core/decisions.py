"""Decisions: what kinds exist, and the rules every decision must satisfy before it is recorded."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from casetrail.core.dates import PartialDate

MIN_RATIONALE_CHARACTERS = 20


class DecisionType(StrEnum):
    GATEWAY = "gateway"
    SIGNPOSTING_REPLY = "signposting_reply"
    POLICE_LED = "police_led"
    ADOPTION = "adoption"
    CONSENT = "consent"
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    ASSESSMENT = "assessment"
    PLAN_CHANGE = "plan_change"
    TASKING = "tasking"
    SESSION_CANCELLATION = "session_cancellation"
    PANEL_REVIEW = "panel_review"
    EXIT = "exit"
    POST_EXIT_REVIEW = "post_exit_review"
    CLOSURE = "closure"
    PERSON_LINK = "person_link"
    PERSON_UNLINK = "person_unlink"
    MATCH_REJECTED = "match_rejected"
    HANDOVER = "handover"
    GATEWAY_SECOND_REVIEW = "gateway_second_review"
    VULNERABILITY_WAIVER = "vulnerability_waiver"
    RETENTION_HOLD = "retention_hold"
    SIGNIFICANT_EVENT_RESPONSE = "significant_event_response"
    TASKING_ENDED = "tasking_ended"
    POLICE_LED_REVIEW = "police_led_review"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def rationale_errors(rationale: str | None) -> list[str]:
    """A decision's written reason must say something: blank or token reasons are refused."""
    text = (rationale or "").strip()
    if not text:
        return ["Enter the rationale for this decision."]
    if len(text) < MIN_RATIONALE_CHARACTERS:
        return [
            f"The rationale must explain the decision in at least {MIN_RATIONALE_CHARACTERS} characters."
        ]
    return []


def occurred_errors(
    occurred: date | datetime,
    *,
    today: date,
    birth: PartialDate | None = None,
    not_before: date | None = None,
    not_before_label: str = "",
) -> list[str]:
    """A stated date must not be in the future, nor before the person was born."""
    day = occurred.date() if isinstance(occurred, datetime) else occurred
    errors = []
    if day > today:
        errors.append("The date must be today or in the past.")
    if birth is not None and day < birth.earliest():
        errors.append("The date must be after the person's date of birth.")
    if not_before is not None and day < not_before:
        errors.append(f"The date must be on or after {not_before_label or not_before.isoformat()}.")
    return errors
