"""Running a replay: the cast is set up, then each event goes through the real services with the
clock set to its date, and every day in between is caught up as the notification worker would.

The whole run is one transaction, under `historic_replay()`: where a safeguard refuses an
action the service records the refusal and carries on as the old process did, so every later
failure is still checked. A missing or token rationale is refused by the services outright
(it is input, not a gate); the replay records that refusal and retries with a placeholder that
says no rationale was recorded. Anything else a service refuses stops the replay with the line
of the event, and the transaction leaves nothing behind. `what_if` branches run after the main
timeline inside a savepoint that is rolled back once their outcome has been read.
"""

from __future__ import annotations

import secrets
import time as timer
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from tqdm import tqdm

from casetrail.accounts.models import Agency, User
from casetrail.accounts.services import agency_create, agency_set_duty_owner, user_create
from casetrail.audit.models import Event
from casetrail.cases import services as cs
from casetrail.cases.models import Case, HandOver, PanelMeeting, SupportAction, Tasking
from casetrail.clock import frozen_at
from casetrail.core import frameworks
from casetrail.core.decisions import rationale_errors
from casetrail.core.errors import (
    AccessDenied,
    DomainError,
    InvalidInput,
    StaleState,
    TransitionNotAllowed,
)
from casetrail.core.referrals import ReferralInput
from casetrail.core.roles import AgencyKind, Role
from casetrail.core.safeguard_policy import SafeguardPolicy
from casetrail.core.safeguards import CaseRecord
from casetrail.replay.format import Branch, EventSpec, MemberSpec, Problem, Replay, ReplayError

LONDON = ZoneInfo("Europe/London")
SET_UP_AT = time(8, 0)
EVENTS_FROM = time(10, 0)  # the events of one day run a minute apart from 10:00, in file order
CATCH_UP_AT = time(18, 0)  # the notification worker's pass at the end of each day

# What the replay records instead of a rationale the original case did not have. The
# `decision.no_rationale` safeguard flags every decision whose rationale starts this way.
NO_RATIONALE = "[No explicit rationale was recorded in the original case.]"

SECTOR_OF_AGENCY = {
    AgencyKind.POLICE: "police", AgencyKind.LOCAL_AUTHORITY: "local_authority", AgencyKind.SCHOOL: "education",
    AgencyKind.HEALTH: "health", AgencyKind.PROVIDER: "other", AgencyKind.HOME_OFFICE: "other",
    AgencyKind.OTHER: "other",
}
# The services name some fields as the models do; a refusal is reported at the replay's field.
FIELD_NAMES = {"sessions_commissioned": "sessions", "owner_user": "owner", "provider_user": "provider",
               "to_user": "to", "person": "earlier_referral", "notes": "notes", "judgements": "vulnerabilities",
               "meets_on": "meets_on", "attendees": "attendees"}


class DatabaseNotEmpty(Exception):
    """A replay runs only on a database that holds no cases, so nothing real is mixed in."""


# ---------------------------------------------------------------- what a run leaves, as plain data


@dataclass(frozen=True)
class Block:
    """An action a safeguard refused, and what the replay did instead."""

    event: EventSpec
    case_reference: str
    rules: tuple[str, ...]  # the unmet rules' ids
    message: str  # what the service said
    went_ahead: str  # what happened next, in words


@dataclass(frozen=True)
class Told:
    """One message queued for one person about one finding (or a decision, for the referrer)."""

    case_id: int | None
    recipient: str  # cast key
    kind: str  # finding, escalation, referrer_outcome
    finding_key: str
    rule: str
    queued_on: date
    sent_on: date | None


@dataclass(frozen=True)
class Search:
    """What a search found: each person's reference, score and referral references."""

    event: EventSpec
    hits: tuple[tuple[str, float, tuple[str, ...]], ...]
    found_earlier: tuple[str, ...]  # the `id`s of earlier referrals of the subject that it found


@dataclass(frozen=True)
class CaseOutcome:
    case_id: int
    reference: str
    referral_label: str
    record: CaseRecord
    referral_id: int = 0


@dataclass(frozen=True)
class Performed:
    event: EventSpec
    case_reference: str  # "" for notes


@dataclass
class Outcome:
    """Everything the report needs, read out of the database before the run ends."""

    replay: Replay
    policy: SafeguardPolicy
    until: date
    cast_user_ids: dict[int, str]
    cases: list[CaseOutcome] = field(default_factory=list)
    performed: list[Performed] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    told: list[Told] = field(default_factory=list)
    searches: list[Search] = field(default_factory=list)
    branch: Branch | None = None
    branches: list[Outcome] = field(default_factory=list)
    days_caught_up: int = 0
    seconds: float = 0.0
    password: str = ""


# ---------------------------------------------------------------- running


def run(replay: Replay, *, until: date | None = None, progress: bool = False, what_if: bool = True,
        password: str | None = None, on_progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Run the replay into the current database (which must hold no cases), in one transaction.

    The transaction commits when the run succeeds; a ReplayError rolls everything back.
    `on_progress(days_done, days_total)` is called after each day replayed.
    """
    return Runner(replay, until=until, progress=progress, what_if=what_if, password=password,
                  on_progress=on_progress).run()


class _ReplayBackend:
    """Delivers the outbox inside the replay: nothing leaves the machine, the message is marked sent."""

    name = "replay"

    def send(self, message: Any) -> str:
        return f"replay-{message.pk}"


class Runner:
    def __init__(self, replay: Replay, *, until: date | None, progress: bool, what_if: bool,
                 password: str | None, on_progress: Callable[[int, int], None] | None = None):
        self.replay = replay
        self.on_progress = on_progress
        self.total = 0
        last = max([replay.last_day, *(b.events[-1].on for b in replay.what_if if b.events)])
        # Caught up to the report's date, never past today: the clock cannot be set to the future.
        self.until = min(max(until or replay.last_day, replay.last_day), date.today())
        self.horizon = max(self.until, last)
        self.progress = progress
        self.what_if = what_if
        self.password = password or ("Replay-" + secrets.token_urlsafe(12))
        self.users: dict[str, User] = {}
        self.agencies: dict[str, Agency] = {}
        self.cases: dict[str, Case] = {}  # referral label: its case
        self.case: Case | None = None
        self.tasks: dict[str, Any] = {}  # label: tasking, support action or hand-over
        self.meetings: dict[date, PanelMeeting] = {}
        self.caught_up: date | None = None
        self.records: list[CaseRecord] | None = None  # the open cases' records, until something changes
        self.told: set[tuple[str, str, int]] = set()
        self.policy: SafeguardPolicy | None = None
        self.days = 0
        self.bar: Any = None

    # ------------------------------------------------------------ the run

    def run(self) -> Outcome:
        from casetrail.cases.safeguards import current_policy, historic_replay

        started = timer.perf_counter()
        total = (self.until - self.replay.first_day).days + 1 + sum(
            (b.events[-1].on - b.events[0].on).days + 1 for b in self.replay.what_if if b.events and self.what_if)
        # On a terminal only (disable=None); the command prints its summary when the bar is gone.
        self.total = total
        self.bar = tqdm(total=total, desc="Replaying", unit="day", leave=False,
                        disable=None if self.progress else True)
        try:
            with transaction.atomic(), historic_replay():
                self.policy = current_policy()
                if Case.objects.exists():
                    raise DatabaseNotEmpty("The database already holds cases; a replay needs one without any.")
                with self.at(self.replay.first_day, SET_UP_AT):
                    self.set_up()
                outcome = Outcome(self.replay, current_policy(), self.until,
                                  {u.pk: key for key, u in self.users.items()}, password=self.password)
                first_case = len(self.cases)
                self.play(self.replay.events, outcome)
                self.catch_up(self.until)
                self.read(outcome, list(self.cases.values())[first_case:])
                if self.what_if:
                    for branch in self.replay.what_if:
                        outcome.branches.append(self.play_branch(branch, outcome))
                outcome.days_caught_up = self.days
                outcome.seconds = timer.perf_counter() - started
                return outcome
        finally:
            self.bar.close()

    def play_branch(self, branch: Branch, main: Outcome) -> Outcome:
        """Run a what-if branch in a savepoint, read what it showed, then undo it."""
        outcome = Outcome(self.replay, main.policy, branch.events[-1].on, main.cast_user_ids, branch=branch)
        saved = (dict(self.cases), self.case, dict(self.tasks), self.caught_up, set(self.told))
        point = transaction.savepoint()
        try:
            self.caught_up = branch.events[0].on - timedelta(days=1)
            known = len(self.cases)
            self.play(branch.events, outcome)
            self.catch_up(branch.events[-1].on)
            self.read(outcome, list(self.cases.values())[known:])
        finally:
            transaction.savepoint_rollback(point)
            self.cases, self.case, self.tasks, self.caught_up, self.told = saved
            self.records = None
        return outcome

    def play(self, events: tuple[EventSpec, ...], outcome: Outcome) -> None:
        minute_of: dict[date, int] = {}
        for event in events:
            self.catch_up(event.on - timedelta(days=1))
            minute = minute_of.get(event.on, 0)
            minute_of[event.on] = minute + 1
            if event.do == "note":
                outcome.performed.append(Performed(event, self.case.reference if self.case else ""))
                continue
            last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            try:
                self.records = None
                with self.at(event.on, EVENTS_FROM, minute):
                    getattr(self, f"do_{event.do}")(event, outcome)
            except (DomainError, ValueError) as problem:
                raise ReplayError(self.replay.source, self.problems(event, problem), during_run=True) from None
            reference = self.case.reference if self.case else ""
            outcome.performed.append(Performed(event, reference))
            for overridden in Event.objects.filter(pk__gt=last_event, kind="gate.overridden").order_by("pk"):
                rules = tuple(overridden.data.get("rules", ()))
                outcome.blocks.append(Block(event, reference, rules, overridden.data.get("unmet", ""),
                                            "It went ahead as the old process did; the refusal is on the record."))
            if self.bar is not None:
                self.bar.set_postfix_str(f"{event.on:%b %Y}: {event.do.replace('_', ' ')}")

    @contextmanager
    def at(self, day: date, moment: time, minutes: int = 0) -> Iterator[None]:
        with frozen_at(datetime.combine(day, moment, tzinfo=LONDON) + timedelta(minutes=minutes)):
            yield

    def catch_up(self, through: date) -> None:
        """The end-of-day notification pass for every day not yet caught up, through `through`.

        `findings_notify` is what the worker runs each day. It is asked on every day on which the
        safeguards show someone something they have not been told yet (worked out from the same
        records and rules, which is quick); on the other days it would queue nothing.
        """
        from casetrail.cases.safeguards import case_record, findings_notify, notify_candidates
        from casetrail.core.safeguards import findings
        from casetrail.notifications.services import outbox_deliver, outbox_due

        assert self.policy is not None
        day = (self.caught_up + timedelta(days=1)) if self.caught_up else self.replay.first_day
        backend = _ReplayBackend()
        while day <= through:
            if self.records is None:
                self.records = [case_record(c) for c in notify_candidates(day)
                                .select_related("referral", "owner_user", "person")]
            wanted = {(kind, f.key, user_id)
                      for record in self.records
                      for f in findings(record.as_of(day), today=day, policy=self.policy) if f.since <= day
                      for kind, users in (("finding", f.notify), ("escalation", f.escalated_to))
                      for user_id in users}
            with self.at(day, CATCH_UP_AT):
                if wanted - self.told:
                    findings_notify(as_of=day)
                    self.told |= wanted
                    self.records = None
                if outbox_due():
                    outbox_deliver(backend=backend)
                    self.records = None
            self.caught_up = day
            self.days += 1
            if self.bar is not None:
                self.bar.update(1)
            if self.on_progress is not None:
                self.on_progress(self.days, self.total)
            day += timedelta(days=1)

    # ------------------------------------------------------------ reading the outcome

    def read(self, outcome: Outcome, cases: list[Case]) -> None:
        from casetrail.cases.safeguards import case_record
        from casetrail.notifications.models import Message

        labels = {case.pk: label for label, case in self.cases.items()}
        for case in cases:
            fresh = Case.objects.select_related("referral", "owner_user", "person").get(pk=case.pk)
            outcome.cases.append(CaseOutcome(fresh.pk, fresh.reference, labels.get(fresh.pk, ""),
                                             case_record(fresh), fresh.referral_id))
        messages = Message.objects.filter(case_id__in=[c.pk for c in cases]).order_by("created_at", "pk")
        for m in messages:
            key = outcome.cast_user_ids.get(m.recipient_id, f"user {m.recipient_id}")
            outcome.told.append(Told(
                m.case_id, key, m.kind, str(m.data.get("finding_key", "")), str(m.data.get("rule", "")),
                m.created_at.astimezone(LONDON).date(),
                m.sent_at.astimezone(LONDON).date() if m.sent_at else None))

    # ------------------------------------------------------------ problems

    def problems(self, event: EventSpec, problem: Exception) -> list[Problem]:
        who = self.replay.cast.get(event.by or "")
        by = f"{event.by} ({who.full_name}, {who.role_label})" if who else str(event.by)
        where = f"'{event.do}' event on {event.on.isoformat()}"
        if isinstance(problem, InvalidInput):
            found = []
            for name, messages in problem.errors.items():
                name = FIELD_NAMES.get(name, name)
                for message in messages:
                    label = f" ({name})" if name else ""
                    found.append(Problem(event.line_of(name), f"{where}{label}: Casetrail refused it: {message}"))
            return found
        if isinstance(problem, TransitionNotAllowed):
            reasons = "; ".join(f"{u.message} [{u.code}]" for u in problem.unmet)
            return [Problem(event.line, f"{where}: the case cannot do this now: {reasons}")]
        if isinstance(problem, AccessDenied):
            return [Problem(event.line, f"{where}: {by} may not do this on this case: {problem}")]
        if isinstance(problem, StaleState):
            return [Problem(event.line, f"{where}: {problem}")]
        return [Problem(event.line, f"{where}: {problem}")]

    # ------------------------------------------------------------ the cast

    def set_up(self) -> None:
        from casetrail.providers.services import provider_organisation_save, provider_worker_save

        approved_until = self.horizon + timedelta(days=366)
        admin = user_create(username="replay-admin", password=self.password, first_name="Replay",
                            last_name="Administrator", email="replay-admin@replay.example", agency=None,
                            roles=[Role.ADMINISTRATOR.value], job_title="Runs the replay")
        organisations = {}
        ordered = sorted(self.replay.agencies.values(), key=lambda a: a.police_force is not None)
        for spec in ordered:
            try:
                if spec.kind == AgencyKind.PROVIDER:
                    organisations[spec.key] = provider_organisation_save(
                        user=admin, agency=None, name=spec.name, specialisms=list(spec.specialisms),
                        status="approved", approved_until=approved_until)
                    self.agencies[spec.key] = organisations[spec.key].agency
                else:
                    self.agencies[spec.key] = agency_create(
                        name=spec.name, kind=spec.kind.value, actor=admin,
                        police_force=self.agencies.get(spec.police_force or ""))
            except InvalidInput as problem:
                raise ReplayError(self.replay.source, [Problem(spec.line, f"agency '{spec.key}': {m}")
                                                       for m in _messages(problem)], during_run=True) from None
        for member in self.replay.cast.values():
            agency = self.agencies.get(member.agency or "")
            try:
                user = user_create(
                    username=member.key, password=self.password, first_name=member.first_name,
                    last_name=member.last_name, email=f"{member.key}@{_domain(member, agency)}", agency=agency,
                    roles=[r.value for r in member.roles], job_title=member.job_title,
                    panel_authority=self.agencies.get(member.panel_authority or ""), actor=admin)
                self.users[member.key] = user
                if Role.PROVIDER in member.roles and member.agency in organisations:
                    organisation = organisations[member.agency]
                    provider_worker_save(user=admin, worker_user=user, organisation=organisation,
                                         specialisms=list(organisation.specialisms), status="approved",
                                         vetting_expires_on=approved_until)
                if member.duty_owner and agency is not None:
                    agency_set_duty_owner(agency=agency, user=user, actor=admin)
            except InvalidInput as problem:
                raise ReplayError(self.replay.source, [Problem(member.line, f"cast member '{member.key}': {m}")
                                                       for m in _messages(problem)], during_run=True) from None

    def user(self, key: str) -> User:
        return self.users[key]

    def attendees(self, keys: tuple[str, ...]) -> list[str]:
        people = [self.replay.cast[k] for k in keys]
        return [f"{p.full_name}, {p.job_title}, {self.agencies[p.agency].name if p.agency else 'no agency'}"
                for p in people]

    def current(self) -> Case:
        assert self.case is not None
        return self.case

    def decided(self, event: EventSpec, outcome: Outcome, call: Callable[[str], Any], *,
                field_name: str = "rationale", rule: str = "decision.no_rationale") -> Any:
        """Call a decision's service; a rationale it refuses is recorded as a block and replaced by
        the placeholder, as the old record had none worth the name."""
        given = str(event.values.get(field_name, ""))
        try:
            return call(given)
        except InvalidInput as problem:
            if set(problem.errors) != {field_name} or not rationale_errors(given):
                raise
            message = " ".join(problem.errors[field_name])
        placeholder = NO_RATIONALE + (f' The record says only: "{given.strip()}"' if given.strip() else "")
        result = call(placeholder)
        outcome.blocks.append(Block(event, self.current().reference, (rule,), message,
                                    "Recorded with a note that no explicit rationale was given, as in the "
                                    "original case."))
        return result

    # ------------------------------------------------------------ one method per event type

    def do_referral(self, event: EventSpec, outcome: Outcome) -> None:
        from casetrail.referrals.services import referral_submit

        v, subject = event.values, self.replay.subject
        member = self.replay.cast[event.by or ""]
        user = self.user(member.key)
        agency = self.agencies.get(member.agency or "")
        data = ReferralInput(
            referrer_name=member.full_name, referrer_job_title=member.job_title, referrer_email=user.email,
            referrer_phone="", referrer_organisation=agency.name if agency else "",
            referrer_sector=SECTOR_OF_AGENCY[AgencyKind(agency.kind)] if agency else "other",
            given_names=v["given_names"] or subject.given_names, family_name=v["family_name"] or subject.family_name,
            other_names=subject.other_names, date_of_birth=subject.date_of_birth, sex=subject.sex,
            address=subject.address, postcode=subject.postcode, school_or_workplace=subject.school_or_workplace,
            nhs_number=subject.nhs_number, upn=subject.upn,
            local_authority_id=self.agencies[subject.local_authority].pk, concern=v["concern"],
            first_observed_on=v["first_observed_on"], concern_types=tuple(v["concern_types"]),
            urgency=v["urgency"], person_aware=v["person_aware"], discussed_with=v["discussed_with"])
        referral, _ = referral_submit(user=user, data=data, channel="replay")
        self.case = referral.case
        self.cases[event.label or f"referral{len(self.cases) + 1}"] = referral.case

    def do_gateway_decision(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.gateway_decide(
            user=self.user(event.by or ""), case=self.current(), expected_version=None,
            deconfliction_done=v["deconfliction_done"], database_checks_done=v["database_checks_done"],
            referrer_contacted_on=v["referrer_contacted_on"], referrer_contact_summary=v["referrer_contact_summary"],
            referrer_contact_method=v["referrer_contact_method"], outcome=v["outcome"],
            signposted_to=v["signposted_to"], rationale=rationale, decided_on=v["decided_on"],
            nfa_reasons=tuple(v["nfa_reasons"])))

    def do_gateway_second_review(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.gateway_second_review_record(
            user=self.user(event.by or ""), case=self.current(), agree=v["agree"], rationale=rationale,
            reviewed_on=v["reviewed_on"]))

    def do_person_search(self, event: EventSpec, outcome: Outcome) -> None:
        from casetrail.cases.selectors import search

        hits = search(user=self.user(event.by or ""), query=event.values["query"])
        found = {case.pk for hit in hits for case in hit.cases}
        current = self.case.pk if self.case else None
        earlier = tuple(label for label, case in self.cases.items() if case.pk in found and case.pk != current)
        labels = {case.pk: label for label, case in self.cases.items()}

        def named(case: Case) -> str:  # the referral, with the file's id for it when it has one
            label = labels.get(case.pk, "")
            return f"{case.referral.reference} ({label})" if label and not label.startswith("_") else \
                case.referral.reference

        outcome.searches.append(Search(
            event, tuple((hit.person.reference, round(hit.score, 2), tuple(named(c) for c in hit.cases))
                         for hit in hits), earlier))

    def do_person_link(self, event: EventSpec, outcome: Outcome) -> None:
        earlier = self.cases[event.values["earlier_referral"]]
        person = Case.objects.select_related("person").get(pk=earlier.pk).person
        self.decided(event, outcome, lambda rationale: cs.case_link_person(
            user=self.user(event.by or ""), case=self.current(), person=person, rationale=rationale))

    def do_match_rejected(self, event: EventSpec, outcome: Outcome) -> None:
        earlier = self.cases[event.values["earlier_referral"]]
        person = Case.objects.select_related("person").get(pk=earlier.pk).person
        self.decided(event, outcome, lambda rationale: cs.match_reject(
            user=self.user(event.by or ""), case=self.current(), person=person, rationale=rationale))

    def do_police_led_decision(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.police_led_decide(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, outcome=v["outcome"],
            rationale=rationale, decided_on=v["decided_on"]))

    def do_police_led_review(self, event: EventSpec, outcome: Outcome) -> None:
        self.decided(event, outcome, lambda rationale: cs.police_led_review_record(
            user=self.user(event.by or ""), case=self.current(), reviewed_on=event.values["reviewed_on"],
            rationale=rationale))

    def do_significant_event(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.tasks[event.label or ""] = cs.significant_event_record(
            user=self.user(event.by or ""), case=self.current(), kind=v["kind"], occurred_on=v["occurred_on"],
            source=v["source"], summary=v["summary"])

    def do_significant_event_decision(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        recorded = self.tasks[v["event"]]
        self.decided(event, outcome, lambda rationale: cs.significant_event_respond(
            user=self.user(event.by or ""), event=recorded, outcome=v["outcome"], rationale=rationale,
            responded_on=v["responded_on"]))

    def do_transfer_offer(self, event: EventSpec, outcome: Outcome) -> None:
        receiver = self.user(event.values["to"])
        self.tasks[event.label or ""] = self.decided(event, outcome, lambda reason: cs.case_transfer_offer(
            user=self.user(event.by or ""), case=self.current(), to_agency=receiver.agency,
            kind=event.values["kind"], reason=reason), field_name="reason")

    def do_panel_agenda(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        user = self.user(event.by or "")
        meeting = self.meetings.get(v["meets_on"])
        if meeting is None:
            meeting = cs.panel_meeting_create(user=user, meets_on=v["meets_on"], chair=self.user(v["chair"]),
                                              location=v["location"])
            self.meetings[v["meets_on"]] = meeting
        cs.agenda_add(user=user, meeting=meeting, case=self.current())

    def do_panel_decision(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.panel_decide(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, adopt=v["adopt"],
            attendees=self.attendees(v["attendees"]), rationale=rationale, dissent=v["dissent"],
            signposted_to=v["signposted_to"], decided_on=v["decided_on"]))

    def do_consent(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        cs.consent_record(user=self.user(event.by or ""), case=self.current(), expected_version=None,
                          given=v["given"], giver=v["giver"], giver_name=v["giver_name"],
                          capacity_confirmed=v["capacity_confirmed"], capacity_notes=v["capacity_notes"],
                          scope=v["scope"], given_on=v["given_on"], refusal_consequence=v["refusal_consequence"])

    def do_assessment(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        user = self.user(event.by or "")
        framework = frameworks.framework_from_ref(v["framework"])
        judgements: dict[str, dict[str, Any]] = {
            f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
        for found in v["vulnerabilities"]:
            judgements[found.factor] = {"present": True, "evidence": found.evidence, "nature": found.nature}
        draft = cs.assessment_start(user=user, case=self.current(), framework_ref=framework.ref)
        draft = cs.assessment_save(user=user, assessment=draft, expected_version=None, judgements=judgements,
                                   summary=v["summary"])
        cs.assessment_submit(user=user, assessment=draft, expected_version=None, assessed_on=v["assessed_on"])

    def do_support_action(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        action = cs.support_action_add(user=self.user(event.by or ""), case=self.current(),
                                       description=v["description"], vulnerabilities=list(v["vulnerabilities"]),
                                       owner_user=self.user(v["owner"]), due_on=v["due_on"])
        self.tasks[event.label or ""] = action

    def do_support_action_done(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        action: SupportAction = self.tasks[v["action"]]
        cs.support_action_complete(user=self.user(event.by or ""), action=action, status=v["status"],
                                   completed_on=v["completed_on"], note=v["summary"])

    def do_tasking(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        tasking = self.decided(event, outcome, lambda purpose: cs.tasking_commission(
            user=self.user(event.by or ""), case=self.current(), provider_user=self.user(v["provider"]),
            sessions_commissioned=v["sessions"], purpose=purpose, vulnerabilities=list(v["vulnerabilities"]),
            commissioned_on=v["commissioned_on"]), field_name="purpose")
        self.tasks[event.label or ""] = tasking

    def do_tasking_ended(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        tasking: Tasking = self.tasks[v["tasking"]]
        self.decided(event, outcome, lambda rationale: cs.tasking_end(
            user=self.user(event.by or ""), tasking=tasking, reason_kind=v["reason_kind"], rationale=rationale,
            ended_on=v["ended_on"]))

    def do_tasking_acknowledged(self, event: EventSpec, outcome: Outcome) -> None:
        tasking: Tasking = self.tasks[event.values["tasking"]]
        cs.tasking_acknowledge(user=self.user(event.by or ""), tasking=tasking,
                               acknowledged_on=event.values["acknowledged_on"])

    def do_session(self, event: EventSpec, outcome: Outcome) -> None:
        tasking: Tasking = self.tasks[event.values["tasking"]]
        cs.session_record(user=self.user(event.by or ""), tasking=tasking, held_on=event.values["held_on"],
                          report=event.values["report"])

    def do_session_cancelled(self, event: EventSpec, outcome: Outcome) -> None:
        tasking: Tasking = self.tasks[event.values["tasking"]]
        self.decided(event, outcome, lambda reason: cs.session_cancel(
            user=self.user(event.by or ""), tasking=tasking, cancelled_on=event.values["cancelled_on"],
            reason=reason), field_name="reason")

    def do_referrer_consultation(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        cs.referrer_consultation_record(user=self.user(event.by or ""), case=self.current(),
                                        consulted_on=v["consulted_on"], method=v["method"], summary=v["summary"])

    def do_case_note(self, event: EventSpec, outcome: Outcome) -> None:
        cs.case_note_record(user=self.user(event.by or ""), case=self.current(), noted_on=event.values["noted_on"],
                            text=event.values["text"])

    def do_vulnerability_waiver(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda reason: cs.vulnerability_waiver_record(
            user=self.user(event.by or ""), case=self.current(), code=v["code"], reason=reason,
            approved_on=v["approved_on"]), field_name="reason")

    def do_panel_review(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda notes: cs.panel_review_record(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, held_on=v["held_on"],
            outcome=v["outcome"], notes=notes, attendees=self.attendees(v["attendees"])), field_name="notes")

    def do_exit(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.case_exit(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, exited_on=v["exited_on"],
            rationale=rationale, residual_concerns=v["residual_concerns"], onward_support=v["onward_support"],
            attendees=self.attendees(v["attendees"]), dissent=v["dissent"],
            minimum_period_reason=v["minimum_period_reason"]), rule="exit.no_rationale")

    def do_post_exit_review(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda notes: cs.post_exit_review_record(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, months=v["months"],
            held_on=v["held_on"], outcome=v["outcome"], notes=notes), field_name="notes")

    def do_closure(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda rationale: cs.case_close(
            user=self.user(event.by or ""), case=self.current(), expected_version=None, closed_on=v["closed_on"],
            rationale=rationale))

    def do_handover_offer(self, event: EventSpec, outcome: Outcome) -> None:
        case = self.current()
        offer = cs.handover_offer(user=self.user(event.by or ""), case=case, target_type="case", target_id=case.pk,
                                  to_user=self.user(event.values["to"]), reason=event.values["reason"])
        self.tasks[event.label or ""] = offer

    def do_handover_response(self, event: EventSpec, outcome: Outcome) -> None:
        offer: HandOver = self.tasks[event.values["handover"]]
        cs.handover_respond(user=self.user(event.by or ""), handover=offer, accept=event.values["accept"],
                            note=event.values["reason"])

    def do_retention_hold(self, event: EventSpec, outcome: Outcome) -> None:
        v = event.values
        self.decided(event, outcome, lambda reason: cs.retention_hold_place(
            user=self.user(event.by or ""), case=self.current(), reason_kind=v["reason_kind"], reason=reason,
            placed_on=v["placed_on"]), field_name="reason")


def _messages(problem: InvalidInput) -> list[str]:
    return [m for messages in problem.errors.values() for m in messages]


def _domain(member: MemberSpec, agency: Agency | None) -> str:
    """A made-up address under .example, which can never reach anyone."""
    stem = (agency.name if agency else "casetrail").lower()
    return "".join(c if c.isalnum() else "-" for c in stem).strip("-")[:40] + ".replay.example"
