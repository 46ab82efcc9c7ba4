"""The Django side of the one access policy: the core's scopes as query filters and checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.cases.models import AgendaItem, BreakGlassGrant, Case, HandOver, Tasking
from casetrail.core.errors import AccessDenied
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import (
    PERMISSION_ROLES,
    READ_ONLY_ROLES,
    CaseAccessFacts,
    Ownable,
    Permission,
    Scope,
    View,
    case_view,
    denial,
    owner_denial,
    owner_permissions,
    scopes_for,
)
from casetrail.core.schedules import earliest_live_offer_day, handover_lapsed, handover_response_due

# ---------------------------------------------------------------- hand-over offers: live until they lapse


def _response_working_days() -> int:
    from casetrail.cases.safeguards import current_policy

    return current_policy().handover_response_working_days


def offer_due_on(offer: HandOver) -> date:
    """The last day the receiver can answer the offer (the safeguard policy's working days)."""
    return handover_response_due(timezone.localdate(offer.offered_at), _response_working_days())


def offer_lapsed(offer: HandOver) -> bool:
    """An offer unanswered after its response date has lapsed: computed, never set by a job."""
    return offer.status == HandOver.Status.OFFERED and handover_lapsed(
        timezone.localdate(offer.offered_at), clock.today(), _response_working_days())


def live_offers() -> QuerySet[HandOver]:
    """Offers still awaiting an answer and not lapsed: the only ones that give access or can be accepted."""
    first_day = earliest_live_offer_day(clock.today(), _response_working_days())
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    return HandOver.objects.filter(status=HandOver.Status.OFFERED, offered_at__gte=since)


def _scope_q(scope: Scope, user: User) -> Q:
    if scope is Scope.OWNER:
        return Q(owner_user=user) | Q(owner_agency_id=user.agency_id)
    if scope is Scope.POLICE_AREA:
        return Q(police_agency_id=user.agency_id)
    if scope is Scope.CHANNEL_AUTHORITY:
        return Q(local_authority_id=user.agency_id, referred_to_panel_on__isnull=False)
    # The scopes through other tables are `pk IN (subquery)`, not correlated EXISTS: inside the OR
    # of a user's scopes, PostgreSQL runs an EXISTS once per case of the table, but hashes an IN
    # subquery once (the visibility filter of a panel member took 279-830 ms at 100,000 cases).
    if scope is Scope.PANEL_AGENDA:
        if user.panel_authority_id is None:
            return Q(pk__in=[])
        return Q(pk__in=AgendaItem.objects.filter(meeting__local_authority_id=user.panel_authority_id)
                 .values("case_id"))
    if scope is Scope.TASKED_PROVIDER:
        return Q(pk__in=Tasking.objects.filter(provider_agency_id=user.agency_id).values("case_id"))
    if scope is Scope.OWN_REFERRAL:
        return Q(referral__submitted_by=user)
    if scope is Scope.HANDOVER_OFFER:
        return Q(pk__in=live_offers().filter(to_user=user).values("case_id"))
    if scope is Scope.BREAK_GLASS:
        return Q(pk__in=BreakGlassGrant.objects.filter(user=user, expires_at__gt=clock.now()).values("case_id"))
    if scope is Scope.EVERY_CASE:
        return Q(pk__isnull=False)  # not Q(): an empty Q vanishes when OR-ed, leaving no case at all
    raise ValueError(scope)


def visible_cases(user: User) -> QuerySet[Case]:
    """Every case the user may see at all (each then shown at the view level it allows)."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    scopes = scopes_for(user.as_actor())
    if not scopes:
        return Case.objects.none()
    condition = Q(pk__in=[])
    for scope in scopes:
        condition |= _scope_q(scope, user)
    return Case.objects.filter(condition)


_REUSED: ContextVar[dict[int, CaseAccessFacts] | None] = ContextVar("casetrail_access_facts", default=None)


@contextmanager
def access_facts_reused() -> Iterator[None]:
    """While active, each case's access facts are read once and reused: for a page that only reads,
    asking the policy a dozen questions about one case (which steps to offer, what to show)."""
    token = _REUSED.set({})
    try:
        yield
    finally:
        _REUSED.reset(token)


def access_facts(case: Case) -> CaseAccessFacts:
    reused = _REUSED.get()
    if reused is None:
        return _access_facts(case)
    if case.pk not in reused:
        reused[case.pk] = _access_facts(case)
    return reused[case.pk]


def _access_facts(case: Case) -> CaseAccessFacts:
    return CaseAccessFacts(
        stage=Stage(case.stage),
        police_agency_id=case.police_agency_id,
        local_authority_id=case.local_authority_id,
        owner_agency_id=case.owner_agency_id,
        owner_user_id=case.owner_user_id,
        referrer_user_id=case.referral.submitted_by_id,
        reached_panel=case.referred_to_panel_on is not None,
        agenda_authority_ids=frozenset(
            AgendaItem.objects.filter(case=case).values_list("meeting__local_authority_id", flat=True)
        ),
        tasked_agency_ids=frozenset(
            Tasking.objects.filter(case=case).values_list("provider_agency_id", flat=True)
        ),
        offered_to_user_ids=frozenset(
            live_offers().filter(case=case).values_list("to_user_id", flat=True)
        ),
        break_glass_user_ids=frozenset(
            BreakGlassGrant.objects.filter(case=case, expires_at__gt=clock.now()).values_list("user_id", flat=True)
        ),
    )


def view_of(user: User, case: Case) -> View:
    if not user.is_authenticated:
        return View.NONE
    return case_view(user.as_actor(), access_facts(case))


def require(user: User, permission: Permission, case: Case | None = None) -> None:
    """Raise AccessDenied unless the policy allows the user this permission (on this case)."""
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied("Sign in to do this.")
    reason = denial(user.as_actor(), permission, access_facts(case) if case is not None else None)
    if reason:
        raise AccessDenied(reason)


def allowed(user: User, permission: Permission, case: Case | None = None) -> bool:
    try:
        require(user, permission, case)
    except AccessDenied:
        return False
    return True


# ---------------------------------------------------------------- who may own what


def _approved_provider(user: User) -> bool:
    from casetrail.providers.models import ProviderWorker

    worker = ProviderWorker.objects.filter(user=user).select_related("organisation").first()
    return worker is not None and worker.is_approved_on(clock.today())


def owner_refusal(kind: Ownable, user: User | None, case: Case, *, addressed_agency_id: int | None = None,
                  facts: CaseAccessFacts | None = None) -> str | None:
    """Why this user may not own (or be offered) this kind of work on this case; None when they may.
    The policy's `owner_denial` decides; this only gathers the recorded facts it reads."""
    if user is None or not user.is_active:
        return "Select an active person"
    if user.agency_id is None:
        return "They belong to no agency, so they cannot own work on a case"
    return owner_denial(kind, user.as_actor(), facts or access_facts(case), addressed_agency_id=addressed_agency_id,
                        approved_provider=kind is Ownable.TASKING and _approved_provider(user))


def eligible_owners(kind: Ownable, case: Case, *, addressed_agency_id: int | None = None) -> QuerySet[User]:
    """Everyone who may own this kind of work on this case: the only people a form or API offers."""
    facts = access_facts(case)
    # Only people holding a role that does this work are asked about (saves a look-up per person).
    roles = {r for p in owner_permissions(kind, facts.stage) for r in PERMISSION_ROLES[p]} - READ_ONLY_ROLES
    candidates = User.objects.filter(is_active=True, agency__isnull=False)
    if addressed_agency_id is not None:
        candidates = candidates.filter(agency_id=addressed_agency_id)
    ids = [u.pk for u in candidates.select_related("agency")
           if u.role_set & roles
           and owner_refusal(kind, u, case, addressed_agency_id=addressed_agency_id, facts=facts) is None]
    return User.objects.filter(pk__in=ids).select_related("agency").order_by("last_name", "first_name")
