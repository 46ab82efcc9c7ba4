"""Who can give consent to Channel support, and what withdrawing it means."""

from __future__ import annotations

from datetime import date

from casetrail.core.codes import CONSENT_REFUSAL_CONSEQUENCES, GIVER
from casetrail.core.dates import PartialDate, age_on

AGE_OF_CONSENT = 18


def consent_errors(
    *,
    given: bool,
    giver: str,
    giver_name: str,
    capacity_confirmed: bool,
    scope: str,
    on: date,
    birth: PartialDate | None,
    refusal_consequence: str,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if giver not in GIVER:
        errors["giver"] = ["Select who gave or refused consent"]
    if not giver_name.strip():
        errors["giver_name"] = ["Enter the name of the person who gave or refused consent"]
    if given:
        if birth is not None and giver == "person" and age_on(birth, on) < AGE_OF_CONSENT:
            errors["giver"] = [
                "The person is under 18 on that date: consent must come from a parent or carer"
            ]
        if not capacity_confirmed:
            errors["capacity_confirmed"] = [
                "Confirm that the capacity to consent was considered and is present"
            ]
        if not scope.strip():
            errors["scope"] = ["Describe what the consent covers"]
    elif refusal_consequence not in CONSENT_REFUSAL_CONSEQUENCES:
        errors["refusal_consequence"] = ["Select what happens now that consent is refused"]
    return errors


def withdrawal_errors(*, reason: str, consequence: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if len(reason.strip()) < 10:
        errors["reason"] = ["Record what the person or their parent or carer said"]
    if consequence not in CONSENT_REFUSAL_CONSEQUENCES:
        errors["consequence"] = ["Select what happens now that consent is withdrawn"]
    return errors
