"""The access policy: who sees how much of a case, and who may do what."""

from __future__ import annotations

import pytest

from casetrail.core.lifecycle import Stage
from casetrail.core.policy import Actor, CaseAccessFacts, Permission, View, case_view, denial, may
from casetrail.core.roles import Role

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
    (actor(Role.POLICE_OFFICER, 99, user=77), case(offered_to_user_ids=frozenset({77})), View.FULL),
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
