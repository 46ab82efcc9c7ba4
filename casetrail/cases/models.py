"""Cases and everything recorded on them: decisions, panel work, consent, assessments,
support plans, taskings, reviews and hand-overs.

Rows here are written only by `casetrail.cases.services`; the stage only through the core.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models

from casetrail.audit.models import AppendOnlyModel
from casetrail.core.decisions import DecisionType
from casetrail.core.lifecycle import Stage

USER = settings.AUTH_USER_MODEL


class Case(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="cases")
    referral = models.OneToOneField("referrals.Referral", on_delete=models.PROTECT, related_name="case")
    stage = models.CharField(max_length=32, choices=[(s.value, s.label) for s in Stage])
    police_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    local_authority = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    owner_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_cases")
    opened_at = models.DateTimeField()
    referred_to_panel_on = models.DateField(null=True, blank=True)
    adopted_on = models.DateField(null=True, blank=True)
    exited_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    # Optimistic concurrency: every change increments it; a stale form is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at"]
        # The case list, newest first, stops after a page instead of sorting every case.
        indexes = [models.Index(fields=["-opened_at"], name="case_opened_newest")]

    def __str__(self) -> str:
        return self.reference

    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)


class Decision(AppendOnlyModel):
    """A decision with its author, role, agency, time and rationale; never edited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    type = models.CharField(max_length=32, choices=[(t.value, t.label) for t in DecisionType])
    outcome = models.CharField(max_length=64)
    rationale = models.TextField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(max_length=32)
    author_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    attendees = models.JSONField(default=list, blank=True)
    dissent = models.TextField(blank=True)
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by")

    class Meta:
        ordering = ["occurred_at", "id"]


class PanelMeeting(models.Model):
    local_authority = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="panel_meetings")
    meets_on = models.DateField()
    chair = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    location = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-meets_on"]


class AgendaItem(models.Model):
    meeting = models.ForeignKey(PanelMeeting, on_delete=models.PROTECT, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agenda_items")
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="agenda_item_unique")]


class InformationRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="information_requests")
    to_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    owner_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_information_requests")
    question = models.TextField()
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_on = models.DateField()
    due_on = models.DateField()
    reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["requested_on", "id"]

    @property
    def is_open(self) -> bool:
        return self.replied_on is None


class Consent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consents")
    given = models.BooleanField()
    giver = models.CharField(max_length=16)  # person, parent_carer
    giver_name = models.CharField(max_length=200)
    capacity_confirmed = models.BooleanField()
    capacity_notes = models.TextField(blank=True)
    scope = models.TextField()
    given_on = models.DateField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    withdrawal_consequence = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["given_on", "id"]

    @property
    def is_active(self) -> bool:
        return self.given and self.withdrawn_on is None


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    framework_key = models.CharField(max_length=32)
    framework_version = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    judgements = models.JSONField(default=dict)
    summary = models.TextField(blank=True)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    assessed_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at"]


class WorkStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class SupportAction(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="support_actions")
    description = models.TextField()
    vulnerabilities = models.JSONField(default=list)  # factor codes from the assessment
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    owner_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_support_actions")
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=WorkStatus.choices, default=WorkStatus.OPEN)
    completed_on = models.DateField(null=True, blank=True)
    completion_note = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]


class Tasking(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="taskings")
    provider_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    provider_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_taskings")
    sessions_commissioned = models.PositiveSmallIntegerField()
    purpose = models.TextField()
    vulnerabilities = models.JSONField(default=list)
    commissioned_on = models.DateField()
    commissioned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    acknowledged_on = models.DateField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set by the decision to end it before every session was delivered (`tasking_end`); the
    # sessions not delivered are then accounted for by that decision, never by silence.
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["commissioned_on", "id"]


class Session(models.Model):
    class Status(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    tasking = models.ForeignKey(Tasking, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    held_on = models.DateField()
    report = models.TextField(blank=True)
    cancellation_reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["tasking", "number"], name="session_number_unique")]


class Review(models.Model):
    class Kind(models.TextChoices):
        PANEL = "panel", "Panel review"
        POST_EXIT = "post_exit", "Post-exit review"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    months_after_exit = models.PositiveSmallIntegerField(null=True, blank=True)
    held_on = models.DateField()
    outcome = models.CharField(max_length=32)
    notes = models.TextField()
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="review")

    class Meta:
        ordering = ["held_on", "id"]


class HandOver(models.Model):
    class Status(models.TextChoices):
        OFFERED = "offered", "Awaiting acceptance"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="handovers")
    class TransferKind(models.TextChoices):
        MOVED_AREA = "moved_area", "The person moved to another area"
        INTO_CUSTODY = "into_custody", "The person was taken into custody"
        OUT_OF_CUSTODY = "out_of_custody", "The person was released from custody"

    target_type = models.CharField(max_length=32)  # case, support_action, tasking, information_request
    target_id = models.BigIntegerField()
    # Set when the offer is a transfer of the case to another force or local authority's area: on
    # acceptance the case's area changes too, and it keeps its history, findings and due reviews.
    transfer_kind = models.CharField(max_length=32, choices=TransferKind.choices, blank=True)
    from_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    from_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="handovers_offered")
    reason = models.TextField()
    offered_at = models.DateTimeField()
    offered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)
    responded_at = models.DateTimeField(null=True, blank=True)
    response_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-offered_at"]

    TARGET_WORDS = {"case": "the case", "support_action": "a support action", "tasking": "a tasking",
                    "information_request": "an information request"}

    @property
    def what(self) -> str:
        """What is offered, in words: 'the case', 'a tasking', or a transfer of the case."""
        if self.transfer_kind:
            return f"Transfer of the case ({self.get_transfer_kind_display().lower()})"
        return self.TARGET_WORDS.get(self.target_type, self.target_type).capitalize()

    @property
    def is_lapsed(self) -> bool:
        """Unanswered past its response date (computed each time; see casetrail.cases.access)."""
        from casetrail.cases.access import offer_lapsed

        return offer_lapsed(self)

    @property
    def respond_by(self) -> date:
        from casetrail.cases.access import offer_due_on

        return offer_due_on(self)

    @property
    def state_display(self) -> str:
        return "Lapsed unanswered" if self.is_lapsed else self.get_status_display()


class ReferrerConsultation(AppendOnlyModel):
    """The referrer's view was sought and recorded (F4): not a one-way update."""

    class Method(models.TextChoices):
        PHONE = "phone", "Phone call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    consulted_on = models.DateField()
    method = models.CharField(max_length=16, choices=Method.choices)
    summary = models.TextField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["consulted_on", "id"]


class CaseNote(AppendOnlyModel):
    """A dated contact or observation that is neither a decision nor a consultation."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    noted_on = models.DateField()
    text = models.TextField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["noted_on", "id"]


class VulnerabilityWaiver(AppendOnlyModel):
    """The chair's approved reason why an identified vulnerability needs no support action (F3)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="waivers")
    code = models.CharField(max_length=64)
    reason = models.TextField()
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="waiver")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]


class RetentionHold(models.Model):
    """Holds a case from disposal while an incident or review needs it (F12)."""

    class Reason(models.TextChoices):
        SERIOUS_INCIDENT = "serious_incident", "Linked to a serious incident"
        REVIEW = "review", "Under review (learning review, inquiry or inquest)"
        LITIGATION = "litigation", "Legal proceedings"
        SUBJECT_ACCESS = "subject_access", "Subject access request in progress"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="holds")
    reason_kind = models.CharField(max_length=32, choices=Reason.choices)
    reason = models.TextField()
    placed_on = models.DateField()
    placed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    lifted_on = models.DateField(null=True, blank=True)
    lifted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["placed_on", "id"]


class BreakGlassGrant(models.Model):
    """Read access to a case outside one's involvement: stated reason, limited time, reviewed."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="break_glass_grants")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "expires_at"])]


class PossibleMatch(AppendOnlyModel):
    """An earlier person a referral's identity matched at or above the policy's threshold, kept as
    it was found: the probability, model and evidence shown that day are never rewritten.

    Whether it is resolved is not stored here: it follows from the case's link, unlink and
    match-rejected decisions, so undoing a link opens it again (DESIGN.md principle 11).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="possible_matches")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    # The earlier referral whose recorded identity scored best.
    matched_referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField()
    match_weight = models.FloatField()
    model_version = models.CharField(max_length=64)
    evidence = models.JSONField(default=list)  # [{field, level, agrees, weight}, ...]
    found_at = models.DateTimeField()

    class Meta:
        ordering = ["found_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "person"], name="possible_match_once_per_person")]

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.1f}%" if self.probability < 0.999 else "over 99.9%"


class SignificantEvent(AppendOnlyModel):
    """Something that changes the picture of a person, recorded on their case with its date and
    source: it makes the assessment stale, brings an open Channel case back to the panel and, after
    closure, asks whether to refer again. Its discussion and decision is a `Decision` naming it."""

    class Kind(models.TextChoices):
        ARREST_OR_CHARGE = "arrest_or_charge", "Arrest or charge"
        INTO_CUSTODY = "into_custody", "Taken into custody"
        RELEASED = "released", "Released from custody"
        MOVED = "moved", "Moved address or area"
        MENTAL_HEALTH_CRISIS = "mental_health_crisis", "Mental-health crisis"
        SCHOOL_EXCLUSION = "school_exclusion", "Excluded from school or college"
        PARTNER_INFORMATION = "partner_information", "New information from a partner"
        MEETING_CONCERN = "meeting_concern", "Concern raised at a multi-agency meeting"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="significant_events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurred_on = models.DateField()
    source = models.CharField(max_length=200)  # who told us, or where it was raised
    summary = models.TextField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_role = models.CharField(max_length=32)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_on", "id"]


class StoredFindings(models.Model):
    """The case's safeguard findings as computed on `day`, kept so that pages need not compute them.

    A cache of an answer, not a record of a fact: written only by `casetrail.cases.stored_findings`,
    never edited, and used only while its key (`day`, `last_event_id`, `generation`) is still the
    key of the case now, so a stale answer is never read. Recomputed after every change to the
    case, by the worker when a day passes, and on read whenever the key differs.
    """

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="stored_findings")
    day = models.DateField(help_text="The day the findings are for.")
    last_event_id = models.BigIntegerField(help_text="The id of the case's latest event when computed (0: none).")
    generation = models.CharField(max_length=64, help_text="Digest of the rules, the policy and the facts "
                                                           "outside the case (staff, roles, duty owners).")
    findings = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="stored_findings_day")]


class FindingsGeneration(models.Model):
    """One counter, moved on whenever a fact outside any one case changes that findings read (a
    person's account, roles or agency, an agency's duty owner): every stored answer is then stale."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    counter = models.PositiveBigIntegerField(default=0)
