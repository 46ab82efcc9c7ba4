"""Code lists used on referrals, versioned because the official categories change."""

from __future__ import annotations

CODE_LIST_VERSION = "2024"

SECTORS: dict[str, str] = {
    "education": "Education",
    "police": "Police",
    "local_authority": "Local authority",
    "health": "Health",
    "community": "Community",
    "friends_family": "Friends and family",
    "prison": "Prison",
    "probation": "Probation",
    "other": "Other",
}

CONCERN_TYPES: dict[str, str] = {
    "islamist": "Islamist",
    "extreme_right_wing": "Extreme right-wing",
    "left_wing": "Left-wing, anarchist or single-issue",
    "violence_fascination": "Fascination with extreme violence or mass casualty attacks",
    "mixed_unclear": "Conflicted, mixed or unclear",
    "no_ideology": "No ideology identified",
    "other": "Other",
}

URGENCY: dict[str, str] = {
    "routine": "Routine: no immediate risk",
    "urgent": "Urgent: concern is escalating",
    "immediate": "Immediate risk: 999 has been called",
}

PERSON_AWARE: dict[str, str] = {
    "yes": "Yes",
    "no": "No",
    "not_known": "Not known",
}

SEX: dict[str, str] = {
    "male": "Male",
    "female": "Female",
    "not_known": "Not known",
}

GIVER: dict[str, str] = {
    "person": "The person",
    "parent_carer": "A parent or carer",
}

CONSENT_REFUSAL_CONSEQUENCES: dict[str, str] = {
    "police_led": "Move to police-led case management",
    "close": "Close and signpost to other safeguarding support",
}

POST_EXIT_OUTCOMES: dict[str, str] = {
    "no_concerns": "No concerns: continue to next review or closure",
    "concerns_returned": "Concerns have returned: back to the Channel panel",
}

PANEL_REVIEW_OUTCOMES: dict[str, str] = {
    "continue": "Continue support as planned",
    "plan_changed": "Continue with a changed plan",
    "consider_exit": "Consider exit at the next panel",
}

# Why a referral closes at the gateway with no further action. "No clear ideology" alone is
# not accepted (Southport review 2025): see safeguards.gateway_close_gate.
NFA_REASONS: dict[str, str] = {
    "no_vulnerability": "No vulnerability to radicalisation identified",
    "no_ideology": "No clear ideology or cause",
    "needs_met_elsewhere": "Needs are being met by other services",
    "mistaken_or_malicious": "The referral was mistaken or malicious",
    "already_managed": "Already managed by counter-terrorism policing",
}

# What a referrer is told about their referral, by the case's outcome or stage: enough to know
# it was acted on, never the police checks or the panel's reasons (F4).
REFERRER_NEWS: dict[str, str] = {
    "gateway": "The police Prevent team is looking at your referral.",
    "no_further_action": "The police found no need for Prevent support. If you are still worried, other "
    "safeguarding routes remain open to you.",
    "signposted": "Your referral was passed to a service better placed to help.",
    "police_led": "The police are managing the next steps.",
    "panel": "The local Channel panel is considering your referral.",
    "not_adopted": "The Channel panel decided Channel support was not the right help; other support was "
    "suggested.",
    "adopted": "The Channel panel is arranging support. You may be asked for your view on how it is going.",
    "exited": "Channel support has ended and the person will be reviewed after 6 and 12 months.",
    "transferred": "The case moved to another area's Channel panel.",
    "closed": "The case is closed.",
}

# Why an intervention ends before its sessions are all delivered (a decision with reasons).
TASKING_END_REASONS: dict[str, str] = {
    "stopped_by_panel": "The panel stopped it",
    "provider_withdrawn": "The provider withdrew",
    "person_disengaged": "The person stopped taking part",
    "person_unavailable": "The person moved away or went into custody",
}

# What was decided about a significant event (a meeting's concern, or news after closure).
SIGNIFICANT_EVENT_OUTCOMES: dict[str, str] = {
    "discussed": "Discussed; the decision is in the rationale",
    "refer_again": "Refer the person again",
    "no_further_action": "No further action needed",
}
