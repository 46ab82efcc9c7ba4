"""Request and response shapes of the API, named as in the glossary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema


class FieldErrors(Schema):
    detail: str
    errors: dict[str, list[str]]


class UnmetCondition(Schema):
    code: str
    message: str
    who: str


class Refused(Schema):
    detail: str
    unmet: list[UnmetCondition] = []


class Message(Schema):
    detail: str


# The error answers every operation may give (casetrail/api/router.py explains each).
ERRORS: dict[int, Any] = {400: Message, 401: Message, 403: Message, 404: Message, 409: Refused, 422: FieldErrors,
                          503: Message}


class ReferralIn(Schema):
    referrer_name: str = Field(max_length=200)
    referrer_job_title: str = Field(max_length=200)
    referrer_email: str = Field(max_length=254)
    referrer_phone: str = Field("", max_length=40)
    referrer_organisation: str = Field(max_length=200)
    referrer_sector: str
    given_names: str = Field(max_length=200)
    family_name: str = Field(max_length=200)
    other_names: str = Field("", max_length=300)
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    sex: str = ""
    address: str = Field("", max_length=1000)
    postcode: str = Field("", max_length=10)
    school_or_workplace: str = Field("", max_length=200)
    nhs_number: str = Field("", max_length=40, description="The person's NHS number, where known: 10 digits with a "
                            "valid check digit; spaces and dashes are ignored. Stored as the 10 digits.")
    upn: str = Field("", max_length=40, description="The person's Unique Pupil Number (England), where known: 13 "
                     "characters with a valid check letter. Stored upper case, without spaces.")
    local_authority_id: int
    concern: str = Field(max_length=20000)
    first_observed_on: date
    concern_types: list[str]
    urgency: str = "routine"
    person_aware: str = "not_known"
    discussed_with: str = Field("", max_length=200)


class ReferralOut(Schema):
    reference: str
    case_reference: str
    case_id: int
    submitted_at: datetime
    status: str
    possible_earlier_records: list[EarlierRecordOut] = Field(
        [], description="Earlier people this referral's identity matched at or above the safeguard policy's "
        "threshold when it was recorded. Listed only to callers who may link people on this case, and only "
        "people with a case the caller may see; all of them must be resolved before the gateway decides.")


class DecisionOut(Schema):
    id: int
    type: str
    outcome: str
    rationale: str
    author: str
    author_role: str
    author_agency: str
    occurred_at: datetime
    recorded_at: datetime
    dissent: str
    attendees: list[str]
    supersedes_id: int | None


class CaseSummary(Schema):
    id: int
    reference: str
    stage: str
    stage_label: str
    person_reference: str
    person_name: str
    owner_agency: str
    owner_user: str
    opened_at: datetime
    version: int


class CaseOut(CaseSummary):
    referral_reference: str
    local_authority: str
    police_agency: str
    outcome: str
    referred_to_panel_on: date | None
    adopted_on: date | None
    exited_on: date | None
    closed_on: date | None
    post_exit_reviews_due: dict[str, date]
    decisions: list[DecisionOut]
    available_actions: dict[str, list[UnmetCondition]]


IMPORT_MAX_ROWS = 100


class ImportIn(Schema):
    rows: list[dict[str, str | list[str] | None]] = Field(
        min_length=1, max_length=IMPORT_MAX_ROWS,
        description="Referrals made before Casetrail, one object each, keyed by the import format's column "
        "names (docs/import.md): the referral's fields as in POST /referrals, with local_authority by name, "
        "submitted_on (when it was made) and an optional legacy_reference. Send a longer file in batches.")
    dry_run: bool = Field(False, description="Check every row and record nothing")
    source: str = Field("", max_length=200, description="The file or system the rows come from, kept on each "
                        "imported referral's `referral.imported` event")


class ImportProblemOut(Schema):
    column: str = Field(description="The column the problem is in; empty for the whole row")
    problem: str


class ImportRowOut(Schema):
    item: int = Field(description="The row's position in `rows`, from 1")
    legacy_reference: str
    status: Literal["imported", "would_import", "bad", "duplicate", "already_imported"]
    problems: list[ImportProblemOut]
    referral_reference: str = Field(description="The referral recorded (or recorded by an earlier import)")
    possible_earlier_records: int = Field(description="How many earlier people the imported referral matched")


class ImportOut(Schema):
    dry_run: bool
    imported: int
    would_import: int
    matched: int = Field(description="Imported rows that matched at least one person referred before them")
    new_people: int
    bad: int
    duplicates: int
    already_imported: int
    rows: list[ImportRowOut]


class ReferralStatusOut(Schema):
    reference: str
    case_reference: str
    submitted_at: datetime
    status: str
    outcome: str


class Versioned(Schema):
    expected_version: int | None = Field(None, description="The case version the caller last saw")


class GatewayIn(Versioned):
    deconfliction_done: bool
    database_checks_done: bool
    referrer_contacted_on: date | None = None
    referrer_contact_summary: str = ""
    referrer_contact_method: Literal["phone", "meeting", "email", "letter"] = "phone"
    outcome: Literal["no_further_action", "signpost", "police_led", "refer_to_panel"]
    signposted_to: str = ""
    nfa_reasons: list[str] = []
    rationale: str
    decided_on: date


class GatewaySecondReviewIn(Schema):
    agree: bool
    rationale: str
    reviewed_on: date


class SignpostingReplyIn(Versioned):
    accepted: bool
    service_contact: str
    rationale: str
    replied_on: date


class PoliceLedIn(Versioned):
    outcome: Literal["refer_to_panel", "close"]
    rationale: str
    decided_on: date


class MeetingIn(Schema):
    meets_on: date
    chair_id: int
    location: str = ""


class MeetingOut(Schema):
    id: int
    meets_on: date
    chair: str
    local_authority: str
    case_references: list[str]


class AgendaIn(Schema):
    case_id: int


class InformationRequestIn(Schema):
    to_agency_id: int
    question: str
    requested_on: date


class InformationRequestOut(Schema):
    id: int
    case_id: int
    to_agency: str
    question: str
    requested_on: date
    due_on: date
    reply: str
    replied_on: date | None


class InformationReplyIn(Schema):
    reply: str
    replied_on: date


class PanelDecisionIn(Versioned):
    adopt: bool
    attendees: list[str]
    rationale: str
    dissent: str = ""
    signposted_to: str = ""
    decided_on: date


class ConsentIn(Versioned):
    given: bool
    giver: Literal["person", "parent_carer"]
    giver_name: str
    capacity_confirmed: bool
    capacity_notes: str = ""
    scope: str = ""
    given_on: date
    refusal_consequence: str = ""


class ConsentWithdrawIn(Versioned):
    withdrawn_on: date
    reason: str
    consequence: Literal["police_led", "close"]


class ConsentOut(Schema):
    id: int
    given: bool
    giver: str
    given_on: date
    withdrawn_on: date | None
    withdrawal_consequence: str


class FactorJudgementIn(Schema):
    present: bool | None = None
    evidence: str = ""
    nature: Literal["underlying_cause", "presenting_behaviour"] | None = None


class AssessmentStartIn(Schema):
    framework: str = Field("", description="key:version, e.g. paf:2024; blank for the current framework")


class AssessmentSaveIn(Schema):
    expected_version: int | None = None
    judgements: dict[str, FactorJudgementIn]
    summary: str | None = None


class AssessmentSubmitIn(Schema):
    expected_version: int | None = None
    assessed_on: date


class AssessmentOut(Schema):
    id: int
    case_id: int
    framework: str
    status: str
    version: int
    judgements: dict[str, FactorJudgementIn]
    summary: str
    vulnerabilities: list[str]


class SupportActionIn(Schema):
    description: str
    vulnerabilities: list[str]
    owner_user_id: int
    due_on: date


class SupportActionCompleteIn(Schema):
    status: Literal["done", "cancelled"]
    completed_on: date
    note: str


class SupportActionOut(Schema):
    id: int
    case_id: int
    description: str
    vulnerabilities: list[str]
    owner_agency: str
    owner_user: str
    due_on: date
    status: str


class TaskingIn(Schema):
    provider_user_id: int
    sessions_commissioned: int
    purpose: str
    vulnerabilities: list[str] = []
    commissioned_on: date


class TaskingOut(Schema):
    id: int
    case_id: int
    provider_organisation: str
    provider_user: str
    sessions_commissioned: int
    commissioned_on: date
    acknowledged_on: date | None
    ended_on: date | None = Field(None, description="Ended early by a recorded decision (POST .../end)")
    sessions: list[dict[str, object]]


class AcknowledgeIn(Schema):
    acknowledged_on: date


class SessionIn(Schema):
    held_on: date
    report: str


class SessionCancelIn(Schema):
    cancelled_on: date
    reason: str


class PanelReviewIn(Versioned):
    held_on: date
    outcome: str
    notes: str
    attendees: list[str]


class ExitIn(Versioned):
    exited_on: date
    rationale: str
    residual_concerns: str = ""
    onward_support: str = ""
    attendees: list[str]
    dissent: str = ""
    minimum_period_reason: str = ""


class PostExitReviewIn(Versioned):
    months: Literal[6, 12]
    held_on: date
    outcome: Literal["no_concerns", "concerns_returned"]
    notes: str


class CloseIn(Versioned):
    closed_on: date
    rationale: str


class TaskingEndIn(Schema):
    reason_kind: str = Field("", description="stopped_by_panel, provider_withdrawn, person_disengaged or "
                             "person_unavailable")
    rationale: str = ""
    ended_on: date | None = None


class PoliceLedReviewIn(Schema):
    rationale: str = ""
    reviewed_on: date | None = None


class TransferIn(Schema):
    to_agency_id: int | None = Field(None, description="The police force (while the police hold the case) or local "
                                     "authority (once it is a Channel case) taking it on")
    kind: str = Field("", description="moved_area, into_custody or out_of_custody")
    reason: str = Field("", description="What the receiving area needs to know (at least 20 characters)")


class ConsultationIn(Schema):
    consulted_on: date
    method: Literal["phone", "meeting", "email", "letter"]
    summary: str


class NoteIn(Schema):
    noted_on: date
    text: str


# Inputs default to empty so that the access check comes first and the service then names each
# missing or wrong field.
class SignificantEventIn(Schema):
    kind: str = Field("", description="arrest_or_charge, into_custody, released, moved, mental_health_crisis, "
                      "school_exclusion, partner_information or meeting_concern")
    occurred_on: date | None = None
    source: str = Field("", description="Who told you, or at which meeting it was raised (up to 200 characters)")
    summary: str = Field("", description="What happened, in brief (10 to 5,000 characters)")


class SignificantEventResponseIn(Schema):
    outcome: str = Field("", description="discussed, refer_again or no_further_action")
    rationale: str = ""
    responded_on: date | None = None


class SignificantEventOut(Schema):
    id: int
    kind: str
    occurred_on: date
    source: str
    summary: str
    recorded_at: datetime
    decision: DecisionOut | None = Field(None, description="The recorded discussion and decision about it")


class WaiverIn(Schema):
    code: str
    reason: str
    approved_on: date


class HoldIn(Schema):
    reason_kind: Literal["serious_incident", "review", "litigation"]
    reason: str
    placed_on: date


class FindingOut(Schema):
    rule: str
    key: str
    title: str
    source: str
    severity: Literal["escalated", "overdue", "warning", "info"]
    message: str
    who: str
    since: date
    notify_user_ids: list[int]
    escalated_to_user_ids: list[int]


class FindingsOut(Schema):
    case_id: int
    case_reference: str
    as_of: date
    findings: list[FindingOut]


class LinkPersonIn(Schema):
    person_reference: str
    rationale: str


class PersonCaseOut(Schema):
    case_id: int
    case_reference: str
    referral_reference: str
    stage: str
    opened_at: datetime


class PersonOut(Schema):
    reference: str
    name: str
    date_of_birth: str
    cases: list[PersonCaseOut]


class HandOverIn(Schema):
    target_type: Literal["case", "support_action", "tasking", "information_request"]
    target_id: int
    to_user_id: int
    reason: str


class HandOverRespondIn(Schema):
    accept: bool
    note: str = ""


class HandOverOut(Schema):
    id: int
    case_id: int
    target_type: str
    target_id: int
    to_user: str
    status: str
    respond_by: date  # the last day it can be answered
    lapsed: bool  # unanswered past respond_by: it can no longer be accepted and gives no access
    transfer_kind: str = Field("", description="Set when it is a transfer of the case to another area: "
                               "moved_area, into_custody or out_of_custody")
    to_agency: str = ""


class SearchHitOut(Schema):
    person_reference: str
    name: str
    date_of_birth: str
    score: float
    case_references: list[str]


class WorkItemOut(Schema):
    kind: str
    title: str
    case_reference: str
    due_on: date | None
    overdue: bool


class MyWorkOut(Schema):
    owned_cases: list[CaseSummary]
    tasks: list[WorkItemOut]
    awaiting_acceptance: list[HandOverOut]


class ProviderOut(Schema):
    id: int
    name: str
    specialisms: list[str]
    status: str
    approved_until: date | None
    workers: list[dict[str, object]]


class FrameworkFactorOut(Schema):
    code: str
    title: str
    hint: str
    evidence_prompts: list[str]


class FrameworkDimensionOut(Schema):
    code: str
    title: str
    factors: list[FrameworkFactorOut]


class FrameworkOut(Schema):
    ref: str
    name: str
    in_use_from: date
    superseded_on: date | None
    dimensions: list[FrameworkDimensionOut]


class IdentityIn(Schema):
    given_names: str = ""
    family_name: str = ""
    other_names: list[str] = []
    date_of_birth: str = ""
    sex: Literal["male", "female", ""] = ""
    postcode: str = ""
    address: str = ""
    school: str = ""
    nhs_number: str = Field("", max_length=40, description="10 digits, spaces allowed; checked (Modulus 11)")
    upn: str = Field("", max_length=40, description="Unique Pupil Number, 13 characters; checked (check letter)")
    purpose: str = Field("", max_length=500, description="Why you are matching this identity (at least 10 "
                         "characters); recorded in the access log with each person shown")


class EvidenceOut(Schema):
    field: str
    level: str
    agrees: bool | None
    weight: float


class MatchCaseOut(Schema):
    case_id: int
    case_reference: str
    stage: str


class MatchOut(Schema):
    person_reference: str
    match_probability: float
    match_weight: float
    evidence: list[EvidenceOut]
    referrals: int
    cases: list[MatchCaseOut]
    hidden_cases: int
    rejected: bool = False


class MatchesOut(Schema):
    matches: list[MatchOut]


class EarlierRecordOut(Schema):
    person_reference: str
    match_probability: float = Field(description="As found: never rewritten by a later model")
    match_weight: float
    model_version: str = Field(description="The matching model that found it: when it was trained, and a digest")
    found_at: datetime
    status: Literal["open", "linked", "rejected"] = Field(
        description="open: not resolved (blocks the gateway); linked: the same person; rejected: not the same person")
    evidence: list[EvidenceOut]
    cases: list[MatchCaseOut] = Field(description="That person's cases the caller may see")
    hidden_case_references: list[str] = Field(
        description="That person's cases outside what the caller may see: read them through break glass")


class RejectMatchIn(Schema):
    person_reference: str
    rationale: str


class UnlinkIn(Schema):
    rationale: str


# ---------------------------------------------------------------- data-subject rights (casetrail/rights)
# Inputs default to empty so that a missing field is reported by the service, after the access
# check, with a specific message.


class SubjectAccessRequestIn(Schema):
    requested_by: str = ""
    received_on: date | None = None


class SubjectAccessRequestOut(Schema):
    reference: str
    person_reference: str
    requested_by: str
    received_on: date
    due_on: date
    extension_months: int
    status: str
    overdue: bool
    handler: str
    items_withheld: int


class SubjectItemOut(Schema):
    key: str
    label: str
    value: str
    redacted: str | None = None


class SubjectRecordOut(Schema):
    key: str
    title: str
    redacted: str | None = None
    items: list[SubjectItemOut]


class SubjectSectionOut(Schema):
    key: str
    title: str
    records: list[SubjectRecordOut]


class RedactionOut(Schema):
    id: int
    item: str
    reason: str
    rationale: str
    author: str
    recorded_at: datetime
    withdraws: int | None = None


class SubjectAccessReviewOut(SubjectAccessRequestOut):
    redaction_decisions: list[RedactionOut]
    sections: list[SubjectSectionOut]


class RedactionIn(Schema):
    item: str = ""
    reason: str = ""
    rationale: str = ""


class ExtensionIn(Schema):
    months: int | None = None
    reason: str = ""


class SubjectAnswerIn(Schema):
    recipient: str = ""


class AnswerItemOut(Schema):
    label: str
    value: str


class AnswerRecordOut(Schema):
    title: str
    items: list[AnswerItemOut]


class AnswerSectionOut(Schema):
    key: str
    title: str
    records: list[AnswerRecordOut]


class AnswerRequestOut(Schema):
    reference: str
    received_on: date
    due_on: date
    requested_by: str
    produced_at: datetime
    recipient: str


class SubjectAnswerOut(Schema):
    request: AnswerRequestOut
    person_reference: str
    sections: list[AnswerSectionOut]


class RectificationIn(Schema):
    target: str = Field("", description="'person:<field>' or 'referral:<id>:<field>'")
    requested_by: str = ""
    requested_value: str = ""
    outcome: str = Field("", description="accepted or refused")
    corrected_value: str = ""
    rationale: str = ""
    decided_on: date | None = None
    request_reference: str = ""


class RectificationOut(Schema):
    id: int
    target: str
    field_label: str
    outcome: str
    recorded_value: str
    corrected_value: str
    decided_on: date
