"""The access policy: who sees how much of a case, and who may do what."""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.lifecycle import Stage
from casetrail.core.policy import (
    STAGE_WORK,
    Actor,
    CaseAccessFacts,
    Ownable,
    Permission,
    View,
    case_view,
    denial,
    may,
    may_own,
    owner_denial,
)
from casetrail.core.roles import Role
from casetrail.core.schedules import earliest_live_offer_day, handover_lapsed, handover_response_due

POLICE, COUNCIL, OTHER_COUNCIL, SCHOOL, NHS, PROVIDER, HOME_OFFICE = 1, 2, 3, 4, 5, 6, 7


def actor(role: Role, agency: int, user: int = 100, panel: int | None = None) -> Actor:
    return Actor(user_id=user, agency_id=agency, roles=frozenset({role}), panel_authority_id=panel)


def case(**overrides: object) -> CaseAccessFacts:
    values: dict = dict(stage=Stage.GATEWAY, police_agency_id=POLICE, local_authority_id=COUNCIL,
                        owner_agency_id=POLICE, owner_user_id=1, referrer_user_id=50)
    values.update(overrides)
    return CaseAccessFacts(**values)


@pytest.mark.parametrize("who, facts, view", [
    (actor(Role.POLICE_OFFICER, POLICE), case(), View.FULL),
    (actor(Role.POLICE_OFFICER, 99), case(), View.NONE),
    (actor(Role.CHANNEL_COORDINATOR, COUNCIL), case(), View.NONE),
    (actor(Role.CHANNEL_COORDINATOR, COUNCIL), case(reached_panel=True), View.FULL),
    (actor(Role.CHANNEL_COORDINATOR, OTHER_COUNCIL), case(reached_panel=True), View.NONE),
    (actor(Role.PANEL_MEMBER, NHS, panel=COUNCIL), case(reached_panel=True), View.NONE),
    (actor(Role.PANEL_MEMBER, NHS, panel=COUNCIL), case(agenda_authority_ids=frozenset({COUNCIL})), View.FULL),
    (actor(Role.PROVIDER, PROVIDER), case(), View.NONE),
    (actor(Role.PROVIDER, PROVIDER), case(tasked_agency_ids=frozenset({PROVIDER})), View.PROVIDER),
    (actor(Role.REFERRER, SCHOOL, user=50), case(), View.REFERRER_STATUS),
    (actor(Role.REFERRER, SCHOOL, user=51), case(), View.NONE),
    (actor(Role.OVERSIGHT, HOME_OFFICE), case(), View.FULL),
    (actor(Role.ADMINISTRATOR, HOME_OFFICE), case(), View.NONE),
    # A pending offer shows enough to decide, not the whole case (docs/roles.md).
    (actor(Role.POLICE_OFFICER, 99, user=77), case(offered_to_user_ids=frozenset({77})), View.PROVIDER),
])
def test_each_role_sees_only_what_its_involvement_allows(who: Actor, facts: CaseAccessFacts, view: View) -> None:
    assert case_view(who, facts) is view


def test_oversight_reads_but_cannot_decide() -> None:
    assert not may(actor(Role.OVERSIGHT, HOME_OFFICE), Permission.GATEWAY_DECIDE, case())


def test_a_role_that_may_act_still_needs_to_be_involved_in_the_case() -> None:
    outsider = actor(Role.POLICE_OFFICER, 99)
    assert denial(outsider, Permission.GATEWAY_DECIDE, case()) == (
        "You are not involved in this case in a way that allows this.")
    assert may(actor(Role.POLICE_OFFICER, POLICE), Permission.GATEWAY_DECIDE, case())


def test_a_permission_comes_from_the_role_that_gives_the_view() -> None:
    # A police officer who is also a panel member elsewhere cannot chair a panel decision.
    both = Actor(1, POLICE, frozenset({Role.POLICE_OFFICER, Role.PANEL_MEMBER}), COUNCIL)
    assert not may(both, Permission.PANEL_DECIDE, case(reached_panel=True))


def test_only_the_chair_decides_for_the_panel() -> None:
    facts = case(reached_panel=True)
    assert may(actor(Role.PANEL_CHAIR, COUNCIL), Permission.PANEL_DECIDE, facts)
    assert not may(actor(Role.CHANNEL_COORDINATOR, COUNCIL), Permission.PANEL_DECIDE, facts)
    assert "Channel panel chair" in (denial(actor(Role.PANEL_MEMBER, NHS), Permission.PANEL_DECIDE, facts) or "")


def test_break_glass_gives_a_read_only_view_to_staff_roles_only() -> None:
    from casetrail.core.policy import only_through_break_glass

    outsider = actor(Role.POLICE_OFFICER, 99, user=77)
    facts = case(break_glass_user_ids=frozenset({77}))
    assert case_view(outsider, case()) is View.NONE
    assert case_view(outsider, facts) is View.FULL
    assert only_through_break_glass(outsider, facts)
    assert not may(outsider, Permission.GATEWAY_DECIDE, facts)
    assert not only_through_break_glass(actor(Role.POLICE_OFFICER, POLICE, user=77), facts)
    # A provider or referrer cannot break the glass even with a grant recorded for them.
    assert case_view(actor(Role.PROVIDER, PROVIDER, user=77), facts) is View.NONE
    assert not may(actor(Role.PROVIDER, PROVIDER), Permission.BREAK_GLASS)


# ---------------------------------------------------------------- who may own what

SUPPORT = dict(stage=Stage.SUPPORT, owner_agency_id=COUNCIL, reached_panel=True,
               agenda_authority_ids=frozenset({COUNCIL}), tasked_agency_ids=frozenset({PROVIDER}))


@pytest.mark.parametrize("permission", [Permission.ADD_NOTE, Permission.PLAN_SUPPORT, Permission.COMMISSION_TASKING,
                                        Permission.DELIVER_TASKING, Permission.OFFER_HANDOVER])
def test_a_pending_offer_never_lets_the_receiver_act(permission: Permission) -> None:
    for role, agency in [(Role.CHANNEL_COORDINATOR, OTHER_COUNCIL), (Role.PROVIDER, 99), (Role.POLICE_OFFICER, 99)]:
        receiver = actor(role, agency, user=77)
        offered = case(**{**SUPPORT, "offered_to_user_ids": frozenset({77})})
        assert not may(receiver, permission, offered)


@pytest.mark.parametrize("kind", list(Ownable))
@pytest.mark.parametrize("role", [Role.OVERSIGHT, Role.ADMINISTRATOR])
def test_read_only_roles_never_own_anything(kind: Ownable, role: Role) -> None:
    reason = owner_denial(kind, actor(role, COUNCIL), case(**SUPPORT), addressed_agency_id=COUNCIL,
                          approved_provider=True)
    assert reason is not None and "only read" in reason


@pytest.mark.parametrize("who, ok", [
    (actor(Role.CHANNEL_COORDINATOR, COUNCIL), True),
    (actor(Role.PANEL_CHAIR, COUNCIL), True),
    (actor(Role.POLICE_OFFICER, POLICE), True),
    (actor(Role.PANEL_MEMBER, NHS, panel=COUNCIL), True),  # sits on the panel that has the case
    (actor(Role.REFERRER, SCHOOL, user=50), True),  # the case's own referrer
    (actor(Role.REFERRER, SCHOOL, user=51), False),  # another referrer at the same school
    (actor(Role.CHANNEL_COORDINATOR, OTHER_COUNCIL), False),  # out of area
    (actor(Role.PANEL_MEMBER, NHS, panel=OTHER_COUNCIL), False),
    (actor(Role.PROVIDER, PROVIDER), False),  # providers own taskings, not plan actions
    (actor(Role.OVERSIGHT, HOME_OFFICE), False),
])
def test_a_support_action_is_owned_only_by_someone_involved_who_can_deliver_it(who: Actor, ok: bool) -> None:
    assert may_own(Ownable.SUPPORT_ACTION, who, case(**SUPPORT)) is ok


@pytest.mark.parametrize("stage, role, ok", [
    (Stage.GATEWAY, Role.POLICE_OFFICER, True),
    (Stage.GATEWAY, Role.CHANNEL_COORDINATOR, False),  # gateway decisions are the police's
    (Stage.SUPPORT, Role.CHANNEL_COORDINATOR, True),  # another council may take the case over
    (Stage.SUPPORT, Role.POLICE_OFFICER, False),
    (Stage.SUPPORT, Role.PANEL_MEMBER, False),
    (Stage.SUPPORT, Role.PROVIDER, False),
    (Stage.EXITED, Role.POLICE_OFFICER, True),  # post-exit reviews
    (Stage.CLOSED, Role.CHANNEL_COORDINATOR, False),
])
def test_a_case_goes_only_to_someone_who_can_do_its_stage_work(stage: Stage, role: Role, ok: bool) -> None:
    assert may_own(Ownable.CASE, actor(role, 99, user=77), case(stage=stage)) is ok


def test_every_stage_names_its_work() -> None:
    assert set(STAGE_WORK) == set(Stage)
    assert all(STAGE_WORK[s] for s in Stage if s.is_open)


def test_a_tasking_goes_only_to_an_approved_provider() -> None:
    provider = actor(Role.PROVIDER, 99)
    assert may_own(Ownable.TASKING, provider, case(**SUPPORT), approved_provider=True)
    assert not may_own(Ownable.TASKING, provider, case(**SUPPORT), approved_provider=False)
    assert not may_own(Ownable.TASKING, actor(Role.CHANNEL_COORDINATOR, COUNCIL), case(**SUPPORT),
                       approved_provider=True)


def test_an_information_request_stays_with_the_addressed_agency() -> None:
    nhs_member = actor(Role.PANEL_MEMBER, NHS, panel=COUNCIL)
    assert may_own(Ownable.INFORMATION_REQUEST, nhs_member, case(**SUPPORT), addressed_agency_id=NHS)
    assert not may_own(Ownable.INFORMATION_REQUEST, nhs_member, case(**SUPPORT), addressed_agency_id=POLICE)
    # A school's referrer cannot answer for the school (they hold no answering role).
    assert not may_own(Ownable.INFORMATION_REQUEST, actor(Role.REFERRER, SCHOOL), case(**SUPPORT),
                       addressed_agency_id=SCHOOL)


def test_an_offer_lapses_the_day_after_its_response_date() -> None:
    friday = date(2026, 12, 4)
    assert handover_response_due(friday, 5) == date(2026, 12, 11)
    assert not handover_lapsed(friday, date(2026, 12, 11), 5)
    assert handover_lapsed(friday, date(2026, 12, 12), 5)


@pytest.mark.parametrize("today", [date(2026, 12, d) for d in range(1, 15)])
def test_the_earliest_live_offer_day_agrees_with_the_lapse_rule(today: date) -> None:
    first = earliest_live_offer_day(today, 5)
    assert not handover_lapsed(first, today, 5)
    assert handover_lapsed(date.fromordinal(first.toordinal() - 1), today, 5)
