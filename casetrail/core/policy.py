"""The one access policy: who may see a case, how much of it, and who may do what.

Visibility is a set of scopes per role; the Django side turns the same scopes into query
filters, so lists, pages and the API all apply this table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as _replace
from enum import IntEnum, StrEnum

from casetrail.core.lifecycle import Stage
from casetrail.core.roles import Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    agency_id: int
    roles: frozenset[Role]
    panel_authority_id: int | None = None  # the local authority whose panel a member sits on


@dataclass(frozen=True)
class CaseAccessFacts:
    """Relations between a case and agencies or people, as recorded."""

    stage: Stage
    police_agency_id: int
    local_authority_id: int
    owner_agency_id: int
    owner_user_id: int
    referrer_user_id: int | None = None
    reached_panel: bool = False
    agenda_authority_ids: frozenset[int] = field(default_factory=frozenset)
    tasked_agency_ids: frozenset[int] = field(default_factory=frozenset)
    offered_to_user_ids: frozenset[int] = field(default_factory=frozenset)
    break_glass_user_ids: frozenset[int] = field(default_factory=frozenset)  # with a current grant


class Scope(StrEnum):
    """One way a person can be involved in a case."""

    OWNER = "owner"  # the case's named owner, or a colleague in the owning agency
    POLICE_AREA = "police_area"  # the police force the case belongs to
    CHANNEL_AUTHORITY = "channel_authority"  # the local authority, once referred to Channel
    PANEL_AGENDA = "panel_agenda"  # on the agenda of the panel the member sits on
    TASKED_PROVIDER = "tasked_provider"  # the provider organisation tasked on the case
    OWN_REFERRAL = "own_referral"  # the referrer who made the referral
    HANDOVER_OFFER = "handover_offer"  # offered ownership, to decide whether to accept
    EVERY_CASE = "every_case"  # oversight, read only
    BREAK_GLASS = "break_glass"  # outside one's involvement, with a stated reason, for a limited time


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.REFERRER: frozenset({Scope.OWN_REFERRAL}),
    Role.POLICE_OFFICER: frozenset(
        {Scope.POLICE_AREA, Scope.OWNER, Scope.HANDOVER_OFFER, Scope.BREAK_GLASS}
    ),
    Role.CHANNEL_COORDINATOR: frozenset(
        {Scope.CHANNEL_AUTHORITY, Scope.OWNER, Scope.HANDOVER_OFFER, Scope.BREAK_GLASS}
    ),
    Role.PANEL_CHAIR: frozenset(
        {Scope.CHANNEL_AUTHORITY, Scope.OWNER, Scope.HANDOVER_OFFER, Scope.BREAK_GLASS}
    ),
    Role.PANEL_MEMBER: frozenset({Scope.PANEL_AGENDA, Scope.OWNER, Scope.HANDOVER_OFFER}),
    Role.PROVIDER: frozenset({Scope.TASKED_PROVIDER, Scope.HANDOVER_OFFER}),
    Role.OVERSIGHT: frozenset({Scope.EVERY_CASE}),
    Role.ADMINISTRATOR: frozenset(),
}


class View(IntEnum):
    """How much of a case a person sees; higher includes lower."""

    NONE = 0
    REFERRER_STATUS = 1  # stage, outcome and dates; never police checks or case notes
    PROVIDER = 2  # the person, the concern, their taskings, sessions and the plan actions (also a pending offer)
    FULL = 3


SCOPE_VIEW: dict[Scope, View] = {
    Scope.OWN_REFERRAL: View.REFERRER_STATUS,
    Scope.TASKED_PROVIDER: View.PROVIDER,
    # A pending offer shows what the receiver needs to decide (docs/roles.md), never the whole case.
    Scope.HANDOVER_OFFER: View.PROVIDER,
    Scope.OWNER: View.FULL,
    Scope.POLICE_AREA: View.FULL,
    Scope.CHANNEL_AUTHORITY: View.FULL,
    Scope.PANEL_AGENDA: View.FULL,
    Scope.EVERY_CASE: View.FULL,
    Scope.BREAK_GLASS: View.FULL,
}

# Break-glass access lasts this long at most; the person says how long they need within it.
BREAK_GLASS_MAX_HOURS = 8

# Scopes that let a person read a case but never act on it: a pending hand-over lets the receiver
# read enough to decide, and nothing more until they accept.
READ_ONLY_SCOPES = frozenset({Scope.EVERY_CASE, Scope.BREAK_GLASS, Scope.HANDOVER_OFFER})
BREAK_GLASS_ROLES = frozenset(r for r, scopes in ROLE_SCOPES.items() if Scope.BREAK_GLASS in scopes)


def scopes_for(actor: Actor) -> frozenset[Scope]:
    result: set[Scope] = set()
    for role in actor.roles:
        result |= ROLE_SCOPES[role]
    return frozenset(result)


def scope_holds(scope: Scope, actor: Actor, case: CaseAccessFacts) -> bool:
    if scope is Scope.OWNER:
        return actor.user_id == case.owner_user_id or actor.agency_id == case.owner_agency_id
    if scope is Scope.POLICE_AREA:
        return actor.agency_id == case.police_agency_id
    if scope is Scope.CHANNEL_AUTHORITY:
        return actor.agency_id == case.local_authority_id and case.reached_panel
    if scope is Scope.PANEL_AGENDA:
        return actor.panel_authority_id is not None and (
            actor.panel_authority_id in case.agenda_authority_ids
        )
    if scope is Scope.TASKED_PROVIDER:
        return actor.agency_id in case.tasked_agency_ids
    if scope is Scope.OWN_REFERRAL:
        return case.referrer_user_id is not None and actor.user_id == case.referrer_user_id
    if scope is Scope.HANDOVER_OFFER:
        return actor.user_id in case.offered_to_user_ids
    if scope is Scope.BREAK_GLASS:
        return actor.user_id in case.break_glass_user_ids
    return scope is Scope.EVERY_CASE


def case_view(actor: Actor, case: CaseAccessFacts, *, acting: bool = False) -> View:
    """The most the actor may see of this case; `acting` leaves out read-only scopes, for
    deciding whether they may do something to it."""
    views = [
        SCOPE_VIEW[s]
        for s in scopes_for(actor)
        if scope_holds(s, actor, case) and not (acting and s in READ_ONLY_SCOPES)
    ]
    return max(views, default=View.NONE)


def only_through_break_glass(actor: Actor, case: CaseAccessFacts) -> bool:
    """True when the actor sees the case only because they broke the glass."""
    return case_view(actor, case) > View.NONE and not any(
        scope_holds(s, actor, case) for s in scopes_for(actor) - {Scope.BREAK_GLASS}
    )


class Permission(StrEnum):
    """Things a person does to a case or to the programme's registers."""

    SUBMIT_REFERRAL = "submit_referral"
    GATEWAY_DECIDE = "gateway_decide"
    LINK_PERSON = "link_person"
    RECORD_SIGNPOSTING_REPLY = "record_signposting_reply"
    POLICE_LED_DECIDE = "police_led_decide"
    MANAGE_PANEL = "manage_panel"  # meetings, agendas, information requests
    ANSWER_INFORMATION_REQUEST = "answer_information_request"
    PANEL_DECIDE = "panel_decide"  # adopt, not adopt, exit, panel review
    RECORD_CONSENT = "record_consent"
    ASSESS = "assess"
    PLAN_SUPPORT = "plan_support"
    COMMISSION_TASKING = "commission_tasking"
    DELIVER_TASKING = "deliver_tasking"  # acknowledge, record and cancel sessions
    DELIVER_SUPPORT_ACTION = "deliver_support_action"  # own a support action and mark it delivered or cancelled
    POST_EXIT_REVIEW = "post_exit_review"
    CLOSE_CASE = "close_case"
    OFFER_HANDOVER = "offer_handover"
    MANAGE_PROVIDERS = "manage_providers"
    MANAGE_USERS = "manage_users"
    SEARCH = "search"
    CONSULT_REFERRER = "consult_referrer"  # record a consultation with the referrer
    ADD_NOTE = "add_note"
    RECORD_SIGNIFICANT_EVENT = "record_significant_event"  # and the decision about it
    HOLD_FROM_DISPOSAL = "hold_from_disposal"
    VIEW_POLICY = "view_policy"
    REVIEW_DUPLICATES = "review_duplicates"
    BREAK_GLASS = "break_glass"
    AUDIT = "audit"  # review break-glass grants and search the access log
    # Retention reviews and disposal of closed cases; see docs/retention.md for the choice of roles.
    RETENTION_REVIEW = "retention_review"
    # Subject access requests and rectification; see docs/subject-access.md for the choice of roles.
    DATA_SUBJECT_RIGHTS = "data_subject_rights"
    # Upload a replay file and read its report (casetrail/replay): run in a throwaway database.
    RUN_REPLAY = "run_replay"
    # Import a legacy system's referrals from a file (import_referrals; docs/import.md), for areas
    # one's own force screens.
    IMPORT_REFERRALS = "import_referrals"


PERMISSION_ROLES: dict[Permission, frozenset[Role]] = {
    Permission.SUBMIT_REFERRAL: frozenset(Role),
    Permission.GATEWAY_DECIDE: frozenset({Role.POLICE_OFFICER}),
    Permission.LINK_PERSON: frozenset({Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR}),
    Permission.RECORD_SIGNPOSTING_REPLY: frozenset({Role.POLICE_OFFICER}),
    Permission.POLICE_LED_DECIDE: frozenset({Role.POLICE_OFFICER}),
    Permission.MANAGE_PANEL: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.ANSWER_INFORMATION_REQUEST: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PANEL_MEMBER}
    ),
    Permission.PANEL_DECIDE: frozenset({Role.PANEL_CHAIR}),
    Permission.RECORD_CONSENT: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.ASSESS: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.PLAN_SUPPORT: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.COMMISSION_TASKING: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.DELIVER_TASKING: frozenset({Role.PROVIDER}),
    # The partners round the panel table own the plan's actions, and so may the referrer, whose
    # school or service often stays part of the plan (providers own taskings instead).
    Permission.DELIVER_SUPPORT_ACTION: frozenset(
        {
            Role.POLICE_OFFICER,
            Role.CHANNEL_COORDINATOR,
            Role.PANEL_CHAIR,
            Role.PANEL_MEMBER,
            Role.REFERRER,
        }
    ),
    Permission.POST_EXIT_REVIEW: frozenset(
        {Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.POLICE_OFFICER}
    ),
    Permission.CLOSE_CASE: frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}),
    Permission.OFFER_HANDOVER: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}
    ),
    Permission.MANAGE_PROVIDERS: frozenset({Role.ADMINISTRATOR, Role.CHANNEL_COORDINATOR}),
    Permission.MANAGE_USERS: frozenset({Role.ADMINISTRATOR}),
    Permission.CONSULT_REFERRER: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}
    ),
    Permission.ADD_NOTE: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PANEL_MEMBER}
    ),
    Permission.HOLD_FROM_DISPOSAL: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}
    ),
    Permission.RECORD_SIGNIFICANT_EVENT: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PANEL_MEMBER}
    ),
    Permission.VIEW_POLICY: frozenset(Role),
    Permission.REVIEW_DUPLICATES: frozenset({Role.ADMINISTRATOR, Role.POLICE_OFFICER}),
    Permission.BREAK_GLASS: frozenset(
        {Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR}
    ),
    Permission.AUDIT: frozenset({Role.OVERSIGHT, Role.ADMINISTRATOR}),
    # The police hold the record of every case in their area; the Channel coordinator holds the
    # local authority's record of a case once it reached the panel. Each reviews their own.
    Permission.RETENTION_REVIEW: frozenset({Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR}),
    Permission.DATA_SUBJECT_RIGHTS: frozenset({Role.POLICE_OFFICER, Role.CHANNEL_COORDINATOR}),
    Permission.RUN_REPLAY: frozenset({Role.OVERSIGHT}),
    Permission.IMPORT_REFERRALS: frozenset({Role.POLICE_OFFICER}),
    Permission.SEARCH: frozenset(
        {
            Role.POLICE_OFFICER,
            Role.CHANNEL_COORDINATOR,
            Role.PANEL_CHAIR,
            Role.PANEL_MEMBER,
            Role.PROVIDER,
            Role.OVERSIGHT,
        }
    ),
}

# Permissions on a case need this much view of it; the rest are programme-wide.
CASE_PERMISSION_VIEW: dict[Permission, View] = {
    Permission.GATEWAY_DECIDE: View.FULL,
    Permission.LINK_PERSON: View.FULL,
    Permission.RECORD_SIGNPOSTING_REPLY: View.FULL,
    Permission.POLICE_LED_DECIDE: View.FULL,
    Permission.MANAGE_PANEL: View.FULL,
    Permission.ANSWER_INFORMATION_REQUEST: View.FULL,
    Permission.PANEL_DECIDE: View.FULL,
    Permission.RECORD_CONSENT: View.FULL,
    Permission.ASSESS: View.FULL,
    Permission.PLAN_SUPPORT: View.FULL,
    Permission.COMMISSION_TASKING: View.FULL,
    Permission.DELIVER_TASKING: View.PROVIDER,
    # The case's own referrer sees only its status, yet may own and complete an action of its plan.
    Permission.DELIVER_SUPPORT_ACTION: View.REFERRER_STATUS,
    Permission.POST_EXIT_REVIEW: View.FULL,
    Permission.CLOSE_CASE: View.FULL,
    Permission.OFFER_HANDOVER: View.FULL,
    Permission.CONSULT_REFERRER: View.FULL,
    Permission.ADD_NOTE: View.FULL,
    Permission.RECORD_SIGNIFICANT_EVENT: View.FULL,
    Permission.HOLD_FROM_DISPOSAL: View.FULL,
    Permission.RETENTION_REVIEW: View.FULL,  # police area or owner; Channel authority or owner
    Permission.DATA_SUBJECT_RIGHTS: View.FULL,  # on every case of the person (casetrail/rights)
}


def acting_role(actor: Actor, permission: Permission) -> Role | None:
    """The role in which the actor holds the permission (recorded on decisions), if any."""
    for role in sorted(PERMISSION_ROLES[permission] & actor.roles):
        return role
    return None


def denial(actor: Actor, permission: Permission, case: CaseAccessFacts | None = None) -> str | None:
    """Why the actor may not do this (None when they may)."""
    role = acting_role(actor, permission)
    if role is None:
        needed = ", ".join(sorted(r.label for r in PERMISSION_ROLES[permission]))
        return f"Only these roles can do this: {needed}."
    needed_view = CASE_PERMISSION_VIEW.get(permission)
    if needed_view is None or case is None:
        # Without a case this asks only whether the role may do this kind of thing at all.
        return None
    # The permission must come from the same role that gives the view, so a police officer
    # cannot act as a panel member, say, on a case they see only through another role.
    for role in PERMISSION_ROLES[permission] & actor.roles:
        role_actor = Actor(actor.user_id, actor.agency_id, frozenset({role}), actor.panel_authority_id)
        if case_view(role_actor, case, acting=True) >= needed_view:
            return None
    return "You are not involved in this case in a way that allows this."


def may(actor: Actor, permission: Permission, case: CaseAccessFacts | None = None) -> bool:
    return denial(actor, permission, case) is None


# ---------------------------------------------------------------- who may own what


class Ownable(StrEnum):
    """The kinds of work that have one named owner and can be handed over."""

    CASE = "case"
    SUPPORT_ACTION = "support_action"
    TASKING = "tasking"
    INFORMATION_REQUEST = "information_request"


# The work a case's owner does at each stage; whoever owns the case must be able to do some of it.
STAGE_WORK: dict[Stage, frozenset[Permission]] = {
    Stage.GATEWAY: frozenset({Permission.GATEWAY_DECIDE}),
    Stage.SIGNPOSTED: frozenset({Permission.RECORD_SIGNPOSTING_REPLY}),
    Stage.POLICE_LED: frozenset({Permission.POLICE_LED_DECIDE}),
    Stage.PANEL: frozenset({Permission.MANAGE_PANEL, Permission.PANEL_DECIDE}),
    Stage.AWAITING_CONSENT: frozenset({Permission.RECORD_CONSENT}),
    Stage.SUPPORT: frozenset({Permission.PLAN_SUPPORT}),
    Stage.EXITED: frozenset({Permission.POST_EXIT_REVIEW, Permission.CLOSE_CASE}),
    Stage.CLOSED: frozenset(),
}

# What the owner of each other kind of work must hold to do it.
OWNER_PERMISSION: dict[Ownable, Permission] = {
    Ownable.SUPPORT_ACTION: Permission.DELIVER_SUPPORT_ACTION,
    Ownable.TASKING: Permission.DELIVER_TASKING,
    Ownable.INFORMATION_REQUEST: Permission.ANSWER_INFORMATION_REQUEST,
}

# Roles that only ever read (or administer) cases: they never own work on one.
READ_ONLY_ROLES = frozenset({Role.OVERSIGHT, Role.ADMINISTRATOR})


def owner_permissions(kind: Ownable, stage: Stage) -> frozenset[Permission]:
    """The permissions, any one of which lets a person own this kind of work on a case at this stage."""
    if kind is Ownable.CASE:
        return STAGE_WORK[stage]
    return frozenset({OWNER_PERMISSION[kind]})


def owner_denial(
    kind: Ownable,
    candidate: Actor,
    case: CaseAccessFacts,
    *,
    addressed_agency_id: int | None = None,
    approved_provider: bool = False,
) -> str | None:
    """Why the candidate may not own (or be offered) this kind of work on this case; None when they may.

    The candidate is judged as they would stand once owning it: a case's owner is involved in it by
    owning it, a tasked provider by their organisation's tasking. Owning never adds a permission the
    candidate's role lacks, nor, for a support action, an involvement in the case they do not have.
    """
    if not candidate.roles - READ_ONLY_ROLES:
        return "They can only read cases, so they cannot own work on one"
    needed = owner_permissions(kind, case.stage)
    if not needed:
        return "Nobody owns work on a closed case"
    if kind is Ownable.INFORMATION_REQUEST and candidate.agency_id != addressed_agency_id:
        return "Only someone in the agency the request is addressed to can own it"
    if kind is Ownable.TASKING and not approved_provider:
        return "Only an approved intervention provider with current vetting can own a tasking"
    facts = case
    if kind is Ownable.CASE:
        facts = _replace(case, owner_user_id=candidate.user_id, owner_agency_id=candidate.agency_id)
    elif kind is Ownable.TASKING:
        facts = _replace(case, tasked_agency_ids=case.tasked_agency_ids | {candidate.agency_id})
    # An information request is answered by the addressed agency without seeing the case.
    on = None if kind is Ownable.INFORMATION_REQUEST else facts
    if any(denial(candidate, p, on) is None for p in needed):
        return None
    if not any(acting_role(candidate, p) for p in needed):
        roles = ", ".join(sorted({r.label for p in needed for r in PERMISSION_ROLES[p]}))
        return f"Their role cannot do this work; only these roles can: {roles}"
    return "They are not involved in this case in a way that lets them do this work"


def may_own(
    kind: Ownable,
    candidate: Actor,
    case: CaseAccessFacts,
    *,
    addressed_agency_id: int | None = None,
    approved_provider: bool = False,
) -> bool:
    return (
        owner_denial(
            kind,
            candidate,
            case,
            addressed_agency_id=addressed_agency_id,
            approved_provider=approved_provider,
        )
        is None
    )
