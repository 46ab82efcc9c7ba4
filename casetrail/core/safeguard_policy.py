"""The one policy object for every interval and count the safeguards use.

Each setting has a documented default and the source it comes from. Deployments change
them through configuration (`CASETRAIL_SAFEGUARD_POLICY`, a JSON object of overrides);
the admin's policy page shows the values in force.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class SafeguardPolicy:
    assessment_max_age_days: int = 90
    minimum_support_days: int | None = None
    session_interval_days: int = 21
    first_session_days: int = 15
    tasking_acknowledgement_working_days: int = 5
    escalation_days: int = 7
    handover_response_working_days: int = 5
    late_record_days: int = 5
    referrer_told_days: int = 10
    repeat_referral_count: int = 3
    repeat_referral_months: int = 24
    post_exit_review_grace_days: int = 0
    post_exit_review_early_days: int = 14
    possible_match_percent: int = 50
    unresolved_match_escalation_days: int = 3
    reassessment_after_event_days: int = 28
    meeting_concern_response_days: int = 14
    rereferral_watch_days: int = 365
    police_led_review_days: int = 91

    def with_overrides(self, overrides: Mapping[str, Any]) -> SafeguardPolicy:
        """A copy with the given settings changed; unknown names or bad values raise ValueError."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"Unknown safeguard policy settings: {', '.join(unknown)}")
        for name, value in overrides.items():
            optional = name in OPTIONAL
            if value is None and optional:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Safeguard policy setting {name} must be a whole number of 0 or more")
        if not 1 <= overrides.get("possible_match_percent", 50) <= 99:
            raise ValueError("Safeguard policy setting possible_match_percent must be between 1 and 99")
        if overrides.get("repeat_referral_count", 2) < 2:
            raise ValueError("Safeguard policy setting repeat_referral_count must be 2 or more")
        return dataclasses.replace(self, **dict(overrides))

    def describe(self) -> list[tuple[str, str, Any, Any, str]]:
        """(setting, meaning, value in force, default, source) for the admin page and docs."""
        default = SafeguardPolicy()
        return [
            (f.name, MEANINGS[f.name], getattr(self, f.name), getattr(default, f.name), SOURCES[f.name])
            for f in fields(self)
        ]


OPTIONAL = {"minimum_support_days"}

MEANINGS: dict[str, str] = {
    "assessment_max_age_days": "Exit needs a vulnerability assessment made within this many days.",
    "minimum_support_days": "Exit before this many days of support needs the chair's recorded reason "
    "(blank: no minimum).",
    "session_interval_days": "A commissioned session is overdue this many days after the previous one.",
    "first_session_days": "The first session is overdue this many days after the provider acknowledged.",
    "tasking_acknowledgement_working_days": "A provider acknowledges a tasking within this many working days.",
    "escalation_days": "A flag not dealt with after this many further days is escalated to the panel chair.",
    "handover_response_working_days": "A hand-over is answered within this many working days.",
    "late_record_days": "A record made more than this many days after the event is marked late.",
    "referrer_told_days": "The referrer is told the outcome of a decision within this many days.",
    "repeat_referral_count": "The referral that makes this many for one person, within the window, "
    "cannot be closed at the gateway without a second person's review.",
    "repeat_referral_months": "The window, in months, for counting repeat referrals.",
    "post_exit_review_grace_days": "Days after a post-exit review falls due before it is overdue.",
    "post_exit_review_early_days": "How many days before it falls due a post-exit review may be held.",
    "possible_match_percent": "An earlier person whose recorded identity matches a new referral with at least this "
    "probability (in percent) becomes a possible earlier record of it: it must be resolved (same person or not, "
    "with reasons) before any gateway decision, and counts as a repeat referral until judged a different person.",
    "unresolved_match_escalation_days": "A possible earlier record not resolved this many days after it was found "
    "is escalated to the owning agency's duty owner.",
    "reassessment_after_event_days": "After a significant event on an open Channel case, the assessment is due again "
    "within this many days (and exit waits for it).",
    "meeting_concern_response_days": "A concern raised at a multi-agency meeting needs a recorded discussion and "
    "decision within this many days.",
    "rereferral_watch_days": "A significant event recorded this many days or fewer after a case closed is flagged to "
    "its last owner as a possible re-referral.",
    "police_led_review_days": "A police-led case is reviewed, with a recorded decision, at least this often.",
}

SOURCES: dict[str, str] = {
    "assessment_max_age_days": "Learning review 2025 (F1): the assessment was outdated at exit. "
    "Channel duty guidance expects the VAF to be reviewed at each panel; panels meet monthly, so 90 days "
    "allows for a missed meeting.",
    "minimum_support_days": "Learning review 2025 (F7): exit 'too quickly'. No minimum is set in guidance, "
    "so the default is off.",
    "session_interval_days": "Learning review 2025 (F5): a second session was planned and never happened. "
    "Fortnightly sessions are typical; three weeks allows one slip.",
    "first_session_days": "Learning review 2025 (F5, F6): provider engagement should begin promptly once "
    "tasked.",
    "tasking_acknowledgement_working_days": "Learning review 2025 (F6): police and provider lost contact; a "
    "working week to acknowledge.",
    "escalation_days": "Learning review 2025 (F5, F6, F10): gaps went unnoticed for months; one week "
    "before the chair is told.",
    "handover_response_working_days": "Learning review 2025 (F10): responsibilities were 'blurred'.",
    "late_record_days": "Learning review 2025 (F8): a review was recorded eight months late.",
    "referrer_told_days": "Learning review 2025 (F4): the school was told only that the matter was 'being "
    "dealt with'. Prevent duty guidance 2023 says referrers should be kept informed.",
    "repeat_referral_count": "Southport review 2025: three referrals of the same person were treated as "
    "unconnected.",
    "repeat_referral_months": "Southport review 2025: the three referrals spanned about two years.",
    "post_exit_review_grace_days": "Channel duty guidance: reviews at 6 and 12 months after exit.",
    "post_exit_review_early_days": "Channel duty guidance: reviews at 6 and 12 months after exit. A review held "
    "on the day of exit would defeat the closure gate (F7, F8); two weeks allows a panel date just before.",
    "possible_match_percent": "Southport review 2025 (F11): a misspelt surname hid two earlier referrals. At 50% "
    "the shipped matching model puts the right earlier person first for about 99% of people already known "
    "(synthetic intake benchmark, bench/README.md) while about one new person in 200 is flagged wrongly: "
    "each wrong flag costs one recorded decision, each miss repeats the Southport failure.",
    "unresolved_match_escalation_days": "Southport review 2025 (F11). Police gateway screening takes about five "
    "days on average; three days leaves time to act on the escalation before a decision is due.",
    "reassessment_after_event_days": "Reading inquest 2024: risk was repeatedly rated low as he moved between prison "
    "and community. Panels meet about monthly; four weeks lets the next meeting reassess.",
    "meeting_concern_response_days": "Fishmongers' Hall inquest 2021: a risk raised at a multi-agency meeting had no "
    "recorded discussion. Two weeks allows the next scheduled meeting or a call to answer it.",
    "rereferral_watch_days": "Reading inquest 2024: each agency closed its case as he moved between prison and "
    "community. A year covers the post-exit review period of a Channel case.",
    "police_led_review_days": "Learning review 2025 (F8): reviews were late or missing. Channel cases are reviewed at "
    "monthly panels; a police-led case managed outside the panel is reviewed at least quarterly.",
}

DEFAULT_POLICY = SafeguardPolicy()
