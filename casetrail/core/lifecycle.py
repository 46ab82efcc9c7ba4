"""The stages of a case and the only allowed moves between them, each with its guards.

A case changes stage only through `apply`, which names every unmet condition when a move
is refused. Guards read a `CaseFacts` snapshot that the persistence layer builds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from casetrail.core.errors import TransitionNotAllowed, Unmet
from casetrail.core.roles import AgencyKind, Role


class Stage(StrEnum):
    GATEWAY = "gateway"
    SIGNPOSTED = "signposted"
    POLICE_LED = "police_led"
    PANEL = "panel"
    AWAITING_CONSENT = "awaiting_consent"
    SUPPORT = "support"
    EXITED = "exited"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self is not Stage.CLOSED


STAGE_LABELS: dict[Stage, str] = {
    Stage.GATEWAY: "Gateway assessment",
    Stage.SIGNPOSTED: "Signposted, awaiting acceptance",
    Stage.POLICE_LED: "Police-led case management",
    Stage.PANEL: "Channel panel consideration",
    Stage.AWAITING_CONSENT: "Adopted, awaiting consent",
    Stage.SUPPORT: "Channel support",
    Stage.EXITED: "Exited, post-exit reviews",
    Stage.CLOSED: "Closed",
}


class Action(StrEnum):
    GATEWAY_NO_FURTHER_ACTION = "gateway_no_further_action"
    GATEWAY_SIGNPOST = "gateway_signpost"
    GATEWAY_POLICE_LED = "gateway_police_led"
    GATEWAY_REFER_TO_PANEL = "gateway_refer_to_panel"
    SIGNPOSTING_ACCEPTED = "signposting_accepted"
    SIGNPOSTING_DECLINED = "signposting_declined"
    POLICE_LED_REFER_TO_PANEL = "police_led_refer_to_panel"
    POLICE_LED_CLOSE = "police_led_close"
    PANEL_ADOPT = "panel_adopt"
    PANEL_NOT_ADOPT = "panel_not_adopt"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED_TO_POLICE_LED = "consent_refused_to_police_led"
    CONSENT_REFUSED_CLOSE = "consent_refused_close"
    EXIT = "exit"
    POST_EXIT_CONCERNS_RETURNED = "post_exit_concerns_returned"
    CLOSE = "close"


@dataclass(frozen=True)
class CaseFacts:
    """What the guards need to know about a case, derived from recorded facts."""

    stage: Stage
    gateway_checks_complete: bool = False
    on_panel_agenda: bool = False
    consent_active: bool = False
    submitted_assessments: int = 0
    post_exit_reviews_recorded: frozenset[int] = field(default_factory=frozenset)
    pending_information_requests: int = 0


Guard = Callable[[CaseFacts], Unmet | None]


def _checks_complete(facts: CaseFacts) -> Unmet | None:
    if facts.gateway_checks_complete:
        return None
    return Unmet(
        "gateway.checks_incomplete",
        "Deconfliction and database checks must be recorded as done before the gateway decision.",
        Role.POLICE_OFFICER.label,
    )


def _on_agenda(facts: CaseFacts) -> Unmet | None:
    if facts.on_panel_agenda:
        return None
    return Unmet(
        "panel.not_on_agenda",
        "The case must be on a panel meeting's agenda before the panel decides.",
        Role.CHANNEL_COORDINATOR.label,
    )


def _consent_active(facts: CaseFacts) -> Unmet | None:
    if facts.consent_active:
        return None
    return Unmet(
        "consent.missing",
        "Support needs current consent from the person, or a parent or carer for under-18s.",
        Role.CHANNEL_COORDINATOR.label,
    )


def _assessed(facts: CaseFacts) -> Unmet | None:
    if facts.submitted_assessments > 0:
        return None
    return Unmet(
        "exit.no_assessment",
        "A vulnerability assessment must be submitted before the case can exit.",
        Role.CHANNEL_COORDINATOR.label,
    )


def _both_post_exit_reviews(facts: CaseFacts) -> Unmet | None:
    missing = sorted({6, 12} - facts.post_exit_reviews_recorded)
    if not missing:
        return None
    months = " and ".join(f"{m}-month" for m in missing)
    return Unmet(
        "closure.post_exit_reviews_missing",
        f"The {months} post-exit review must be recorded before the case can close.",
        Role.CHANNEL_COORDINATOR.label,
    )


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[Stage]
    target: Stage
    guards: tuple[Guard, ...] = ()


def _t(action: Action, sources: set[Stage], target: Stage, *guards: Guard) -> Transition:
    return Transition(action, frozenset(sources), target, guards)


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in [
        _t(Action.GATEWAY_NO_FURTHER_ACTION, {Stage.GATEWAY}, Stage.CLOSED, _checks_complete),
        _t(Action.GATEWAY_SIGNPOST, {Stage.GATEWAY}, Stage.SIGNPOSTED, _checks_complete),
        _t(Action.GATEWAY_POLICE_LED, {Stage.GATEWAY}, Stage.POLICE_LED, _checks_complete),
        _t(Action.GATEWAY_REFER_TO_PANEL, {Stage.GATEWAY}, Stage.PANEL, _checks_complete),
        _t(Action.SIGNPOSTING_ACCEPTED, {Stage.SIGNPOSTED}, Stage.CLOSED),
        _t(Action.SIGNPOSTING_DECLINED, {Stage.SIGNPOSTED}, Stage.GATEWAY),
        _t(Action.POLICE_LED_REFER_TO_PANEL, {Stage.POLICE_LED}, Stage.PANEL),
        _t(Action.POLICE_LED_CLOSE, {Stage.POLICE_LED}, Stage.CLOSED),
        _t(Action.PANEL_ADOPT, {Stage.PANEL}, Stage.AWAITING_CONSENT, _on_agenda),
        _t(Action.PANEL_NOT_ADOPT, {Stage.PANEL}, Stage.CLOSED, _on_agenda),
        _t(Action.CONSENT_GIVEN, {Stage.AWAITING_CONSENT}, Stage.SUPPORT, _consent_active),
        _t(
            Action.CONSENT_REFUSED_TO_POLICE_LED,
            {Stage.AWAITING_CONSENT, Stage.SUPPORT},
            Stage.POLICE_LED,
        ),
        _t(Action.CONSENT_REFUSED_CLOSE, {Stage.AWAITING_CONSENT, Stage.SUPPORT}, Stage.CLOSED),
        _t(Action.EXIT, {Stage.SUPPORT}, Stage.EXITED, _assessed),
        _t(Action.POST_EXIT_CONCERNS_RETURNED, {Stage.EXITED}, Stage.PANEL),
        _t(Action.CLOSE, {Stage.EXITED}, Stage.CLOSED, _both_post_exit_reviews),
    ]
}


def unmet_conditions(action: Action, facts: CaseFacts) -> list[Unmet]:
    """Every reason the action cannot be taken now (empty when it can)."""
    transition = TRANSITIONS[action]
    if facts.stage not in transition.sources:
        allowed = ", ".join(sorted(s.label for s in transition.sources))
        return [
            Unmet(
                "stage.not_allowed",
                f"This cannot be done while the case is at '{facts.stage.label}'; "
                f"it is only possible at: {allowed}.",
                "nobody at this stage",
            )
        ]
    return [u for guard in transition.guards if (u := guard(facts)) is not None]


def apply(action: Action, facts: CaseFacts) -> Stage:
    """The stage the case moves to, or TransitionNotAllowed naming each unmet condition."""
    unmet = unmet_conditions(action, facts)
    if unmet:
        raise TransitionNotAllowed(action.value, unmet)
    return TRANSITIONS[action].target


def available_actions(facts: CaseFacts) -> dict[Action, list[Unmet]]:
    """Actions possible from this stage, each with what still stands in its way."""
    return {
        action: unmet_conditions(action, facts)
        for action, transition in TRANSITIONS.items()
        if facts.stage in transition.sources
    }


# While the police hold a case (before any panel) it belongs to a force; from the panel on, to a
# local authority. A transfer to another area goes to an agency of that kind.
POLICE_STAGES = frozenset({Stage.GATEWAY, Stage.SIGNPOSTED, Stage.POLICE_LED})


def transfer_receiver_kind(stage: Stage | str) -> AgencyKind:
    """The kind of agency a case at this stage is transferred to."""
    return AgencyKind.POLICE if Stage(stage) in POLICE_STAGES else AgencyKind.LOCAL_AUTHORITY
