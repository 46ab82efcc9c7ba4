"""Every stage transition and its guard, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casetrail.core.errors import TransitionNotAllowed
from casetrail.core.lifecycle import TRANSITIONS, Action, CaseFacts, Stage, apply, available_actions

READY = dict(gateway_checks_complete=True, on_panel_agenda=True, consent_active=True, submitted_assessments=1,
             post_exit_reviews_recorded=frozenset({6, 12}))

EXPECTED = {
    (Stage.GATEWAY, Action.GATEWAY_NO_FURTHER_ACTION): Stage.CLOSED,
    (Stage.GATEWAY, Action.GATEWAY_SIGNPOST): Stage.SIGNPOSTED,
    (Stage.GATEWAY, Action.GATEWAY_POLICE_LED): Stage.POLICE_LED,
    (Stage.GATEWAY, Action.GATEWAY_REFER_TO_PANEL): Stage.PANEL,
    (Stage.SIGNPOSTED, Action.SIGNPOSTING_ACCEPTED): Stage.CLOSED,
    (Stage.SIGNPOSTED, Action.SIGNPOSTING_DECLINED): Stage.GATEWAY,
    (Stage.POLICE_LED, Action.POLICE_LED_REFER_TO_PANEL): Stage.PANEL,
    (Stage.POLICE_LED, Action.POLICE_LED_CLOSE): Stage.CLOSED,
    (Stage.PANEL, Action.PANEL_ADOPT): Stage.AWAITING_CONSENT,
    (Stage.PANEL, Action.PANEL_NOT_ADOPT): Stage.CLOSED,
    (Stage.AWAITING_CONSENT, Action.CONSENT_GIVEN): Stage.SUPPORT,
    (Stage.AWAITING_CONSENT, Action.CONSENT_REFUSED_TO_POLICE_LED): Stage.POLICE_LED,
    (Stage.AWAITING_CONSENT, Action.CONSENT_REFUSED_CLOSE): Stage.CLOSED,
    (Stage.SUPPORT, Action.CONSENT_REFUSED_TO_POLICE_LED): Stage.POLICE_LED,
    (Stage.SUPPORT, Action.CONSENT_REFUSED_CLOSE): Stage.CLOSED,
    (Stage.SUPPORT, Action.EXIT): Stage.EXITED,
    (Stage.EXITED, Action.POST_EXIT_CONCERNS_RETURNED): Stage.PANEL,
    (Stage.EXITED, Action.CLOSE): Stage.CLOSED,
}


@pytest.mark.parametrize("stage, action", sorted(EXPECTED, key=str))
def test_each_allowed_transition_reaches_its_stage(stage: Stage, action: Action) -> None:
    assert apply(action, CaseFacts(stage=stage, **READY)) is EXPECTED[(stage, action)]


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("action", list(Action))
def test_every_other_transition_is_refused_naming_the_stage(stage: Stage, action: Action) -> None:
    if (stage, action) in EXPECTED:
        return
    with pytest.raises(TransitionNotAllowed) as refused:
        apply(action, CaseFacts(stage=stage, **READY))
    assert refused.value.unmet[0].code == "stage.not_allowed"
    assert stage.label in refused.value.unmet[0].message


@pytest.mark.parametrize("action, missing, code", [
    (Action.GATEWAY_REFER_TO_PANEL, {"gateway_checks_complete": False}, "gateway.checks_incomplete"),
    (Action.GATEWAY_NO_FURTHER_ACTION, {"gateway_checks_complete": False}, "gateway.checks_incomplete"),
    (Action.PANEL_ADOPT, {"on_panel_agenda": False}, "panel.not_on_agenda"),
    (Action.PANEL_NOT_ADOPT, {"on_panel_agenda": False}, "panel.not_on_agenda"),
    (Action.CONSENT_GIVEN, {"consent_active": False}, "consent.missing"),
    (Action.EXIT, {"submitted_assessments": 0}, "exit.no_assessment"),
    (Action.CLOSE, {"post_exit_reviews_recorded": frozenset({6})}, "closure.post_exit_reviews_missing"),
])
def test_a_guard_names_its_unmet_condition_and_who_can_meet_it(action: Action, missing: dict, code: str) -> None:
    source = next(iter(TRANSITIONS[action].sources))
    with pytest.raises(TransitionNotAllowed) as refused:
        apply(action, CaseFacts(stage=source, **{**READY, **missing}))
    assert [u.code for u in refused.value.unmet] == [code]
    assert refused.value.unmet[0].who


def test_closure_lists_each_missing_post_exit_review() -> None:
    facts = CaseFacts(stage=Stage.EXITED, post_exit_reviews_recorded=frozenset())
    message = available_actions(facts)[Action.CLOSE][0].message
    assert "6-month and 12-month" in message


@given(st.lists(st.sampled_from(list(Action)), max_size=30),
       st.fixed_dictionaries({"gateway_checks_complete": st.booleans(), "on_panel_agenda": st.booleans(),
                              "consent_active": st.booleans(), "submitted_assessments": st.integers(0, 2)}),
       st.lists(st.sampled_from([6, 12]), max_size=2))
def test_no_sequence_of_actions_closes_an_exited_case_without_both_reviews(
        actions: list[Action], facts: dict, reviews: list[int]) -> None:
    stage = Stage.GATEWAY
    recorded = frozenset(reviews)
    for action in actions:
        previous = stage
        try:
            stage = apply(action, CaseFacts(stage=stage, post_exit_reviews_recorded=recorded, **facts))
        except TransitionNotAllowed:
            continue
        if previous is Stage.EXITED and stage is Stage.CLOSED:
            assert recorded == {6, 12}
        if stage is Stage.EXITED:
            assert facts["submitted_assessments"] > 0
