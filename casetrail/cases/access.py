"""The Django side of the one access policy: the core's scopes as query filters and checks."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.cases.models import AgendaItem, BreakGlassGrant, Case, HandOver, Tasking
from casetrail.core.errors import AccessDenied
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import (
    CaseAccessFacts,
    Permission,
    Scope,
    View,
    case_view,
    denial,
    scopes_for,
)


def _scope_q(scope: Scope, user: User) -> Q:
    if scope is Scope.OWNER:
        return Q(owner_user=user) | Q(owner_agency_id=user.agency_id)
    if scope is Scope.POLICE_AREA:
        return Q(police_agency_id=user.agency_id)
    if scope is Scope.CHANNEL_AUTHORITY:
        return Q(local_authority_id=user.agency_id, referred_to_panel_on__isnull=False)
    if scope is Scope.PANEL_AGENDA:
        if user.panel_authority_id is None:
            return Q(pk__in=[])
        return Q(
            Exists(
                AgendaItem.objects.filter(
                    case=OuterRef("pk"), meeting__local_authority_id=user.panel_authority_id
                )
            )
        )
    if scope is Scope.TASKED_PROVIDER:
        return Q(Exists(Tasking.objects.filter(case=OuterRef("pk"), provider_agency_id=user.agency_id)))
    if scope is Scope.OWN_REFERRAL:
        return Q(referral__submitted_by=user)
    if scope is Scope.HANDOVER_OFFER:
        return Q(
            Exists(HandOver.objects.filter(case=OuterRef("pk"), to_user=user, status=HandOver.Status.OFFERED))
        )
    if scope is Scope.BREAK_GLASS:
        return Q(Exists(BreakGlassGrant.objects.filter(case=OuterRef("pk"), user=user,
                                                       expires_at__gt=clock.now())))
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


def access_facts(case: Case) -> CaseAccessFacts:
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
            HandOver.objects.filter(case=case, status=HandOver.Status.OFFERED).values_list("to_user_id", flat=True)
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
