"""Ten years of referrals and where each went, as the rows the services would have written.

Each referral is planned as a journey (gateway, signposting, police-led case management, the
panel, consent, assessment, support, exit, post-exit reviews, closure) with its dates; a step
that would fall after yesterday has not happened yet, so the case stays where it is and the
most recent cases are the open ones. Every step appends exactly the rows its service writes
(see the `# service:` comment on each): ordinary rows with the ids they will have, the events
of the history and the entries of the access log. Ids are given here, in the order the
services would have given them, so an event can name its subject before anything is written.

Nothing here touches the database; casetrail/people/population.py supplies the people.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from casetrail.core import frameworks
from casetrail.core.codes import (
    CODE_LIST_VERSION,
    CONSENT_REFUSAL_CONSEQUENCES,
    PANEL_REVIEW_OUTCOMES,
)
from casetrail.core.dates import add_months
from casetrail.core.decisions import DecisionType
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import Permission, acting_role
from casetrail.core.referrals import nhs_number_compact, normalise_postcode, upn_compact
from casetrail.core.schedules import information_request_due, post_exit_review_dates

LONDON = ZoneInfo("Europe/London")

# Where referrals end up (Home Office statistics put roughly a third at no further action, a
# third signposted, and one in eight discussed at a Channel panel, about half of those adopted).
PATHS = {"no_further_action": 0.37, "signpost": 0.355, "police_led": 0.15, "panel": 0.125}
PANEL_ADOPTED = 0.52
CONSENT_GIVEN = 0.86
SIGNPOST_ACCEPTED = 0.94
REFERRER_CONTACTED = 0.7
SECTORS = {"education": 0.37, "police": 0.14, "local_authority": 0.11, "health": 0.11, "community": 0.07,
           "friends_family": 0.06, "prison": 0.04, "probation": 0.05, "other": 0.05}
# Who records a referral from each sector (people outside the services phone the local Prevent lead).
SUBMITTER = {"education": "education", "police": "police", "local_authority": "local_authority", "health": "health",
             "community": "local_authority", "friends_family": "local_authority", "other": "local_authority",
             "prison": "police", "probation": "police"}
CONCERNS = {"mixed_unclear": 0.30, "extreme_right_wing": 0.21, "no_ideology": 0.15, "islamist": 0.14,
            "violence_fascination": 0.12, "other": 0.05, "left_wing": 0.03}
URGENCY = {"routine": 0.85, "urgent": 0.13, "immediate": 0.02}
PERSON_AWARE = {"yes": 0.4, "no": 0.45, "not_known": 0.15}
NFA_REASONS = ("no_vulnerability", "needs_met_elsewhere", "mistaken_or_malicious", "already_managed")
SIGNPOST_SERVICES = ("Early Help Service", "Children's social care", "CAMHS", "Youth Justice Service",
                     "Adult social care", "Community mental health team")
REFERRER_OUTCOME_TEXT = {
    "gateway": "The police have completed their initial assessment of your referral.",
    "adoption": "The Channel panel has considered your referral.",
    "exit": "Channel support for the person you referred has ended.",
    "closure": "The case that began with your referral has been closed.",
}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def at_work(day: date, rng: random.Random) -> datetime:
    """A moment in the working day (London), in UTC as the clock gives it."""
    local = datetime.combine(day, time(9, 0), tzinfo=LONDON) + timedelta(minutes=rng.randint(0, 480),
                                                                           seconds=rng.randint(0, 59),
                                                                           microseconds=rng.randint(0, 999_999))
    return local.astimezone(UTC)


def noon(day: date) -> datetime:
    """casetrail.audit.services.as_moment: a stated date is noon that day, London time."""
    return datetime.combine(day, time(12, 0), tzinfo=LONDON).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def second_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(2 - first.weekday()) % 7 + 7)


@dataclass
class Rows:
    """The rows of every table, each a dict of field attnames, ids included."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    # (recorded_at, order, row): sorted before writing so each chain runs in time order.
    events: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)
    access: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class StaffRef:
    """What the rows need of a member of staff (kept small: journeys copy it around)."""

    pk: int
    agency_id: int | None
    role: str
    roles_display: str
    name: str
    job_title: str
    email: str
    agency_name: str
    description: str  # casetrail.notifications.services.recipient_description

    @classmethod
    def of(cls, user: Any) -> StaffRef:
        agency = user.agency
        return cls(pk=user.pk, agency_id=user.agency_id, role=user.roles[0], roles_display=user.roles_display,
                   name=user.display_name, job_title=user.job_title, email=user.email,
                   agency_name=agency.name if agency else "",
                   description=f"{user.roles_display or 'member of staff'}, {agency or 'no agency'}")

    def acting(self, permission: Permission) -> str:
        from casetrail.core.policy import Actor
        from casetrail.core.roles import Role

        role = acting_role(Actor(user_id=self.pk, agency_id=self.agency_id or 0, roles=frozenset({Role(self.role)})),
                           permission)
        return role.value if role else ""


@dataclass
class AreaRef:
    authority_id: int
    authority_name: str
    force_id: int
    force_name: str
    force_duty_owner: StaffRef
    officers: list[StaffRef]
    coordinators: list[StaffRef]
    chair: StaffRef
    panel_member: StaffRef
    referrers: dict[str, StaffRef]
    health_id: int
    health_name: str
    health_owner: StaffRef
    meetings: dict[date, int] = field(default_factory=dict)  # meets_on -> PanelMeeting id


@dataclass
class Ids:
    """The next id of each table, handed out in the order the services would have used them."""

    counters: dict[str, Any] = field(default_factory=dict)

    def next(self, table: str) -> int:
        if table not in self.counters:
            self.counters[table] = count(self.start.get(table, 1))
        return int(next(self.counters[table]))

    start: dict[str, int] = field(default_factory=dict)


@dataclass
class CaseState:
    pk: int
    row: dict[str, Any]
    referral: dict[str, Any]
    person_id: int
    area: AreaRef
    referrer: StaffRef
    rng: random.Random
    last: datetime
    pronoun: dict[str, str]
    age: int | None
    concern: str
    decisions: dict[str, int] = field(default_factory=dict)  # type -> latest id (for supersedes)
    owner: StaffRef | None = None
    viewers: list[int] = field(default_factory=list)  # user ids involved (they look at the case)


class Planner:
    """Plans every journey and collects its rows (see the module's docstring)."""

    def __init__(self, *, areas: list[AreaRef], providers: list[tuple[StaffRef, list[str]]], ids: Ids,
                 first_day: date, last_day: date, seed: int):
        self.areas = areas
        self.providers = providers
        self.ids = ids
        self.first_day = first_day
        self.last_day = last_day  # nothing happens after this day (yesterday)
        self.limit = datetime.combine(last_day, time(23, 59), tzinfo=LONDON).astimezone(UTC)
        self.rows = Rows()
        self.order = count()
        self.seed = seed
        self.references: dict[tuple[str, int], int] = defaultdict(int)
        self.stage_counts: dict[str, int] = defaultdict(int)
        self.case_windows: list[tuple[int, int, datetime, datetime, tuple[int, ...]]] = []
        from casetrail.demo import load as demo

        self.demo = demo

    # ------------------------------------------------------------ shared steps (as in the services)

    def reference(self, prefix: str, moment: datetime, width: int) -> str:
        """referrals.services._next_reference: PREFIX-YEAR-N, counted within the year."""
        year = local_day(moment).year
        self.references[(prefix, year)] += 1
        return f"{prefix}-{year}-{self.references[(prefix, year)]:0{width}d}"

    def event(self, t: datetime, kind: str, subject_type: str, subject_id: int, summary: str, *,
              case: int | None = None, actor: StaffRef | None = None, role: str = "",
              occurred: date | datetime | None = None, data: dict[str, Any] | None = None) -> None:
        """audit.services.event_record"""
        occurred_at = t if occurred is None else (occurred if isinstance(occurred, datetime) else noon(occurred))
        self.rows.events.append((t, next(self.order), {
            "case_id": case, "kind": kind, "subject_type": subject_type, "subject_id": subject_id,
            "actor_id": actor.pk if actor else None, "actor_role": role,
            "actor_agency_id": actor.agency_id if actor else None, "occurred_at": occurred_at, "recorded_at": t,
            "summary": summary[:300], "data": data or {}}))

    def access(self, t: datetime, user: StaffRef, operation: str, object_type: str, object_id: int, *,
               case: int | None, person: int | None, justification: str = "") -> None:
        """audit.services.access_log"""
        self.rows.access.append((t, next(self.order), {
            "user_id": user.pk, "role": user.roles_display[:120], "agency_id": user.agency_id,
            "operation": operation, "object_type": object_type, "object_id": str(object_id), "case_id": case,
            "person_id": person, "at": t, "channel": "web", "justification": justification[:500], "recipient": "",
            "request_id": ""}))

    def case_event(self, c: CaseState, t: datetime, kind: str, subject_type: str, subject_id: int, user: StaffRef,
                   role: str, on: date | None, summary: str, **data: Any) -> None:
        """cases.services._event: the event, and the alteration in the access log."""
        self.event(t, kind, subject_type, subject_id, summary, case=c.pk, actor=user, role=role, occurred=on,
                   data=data)
        self.access(t, user, "alteration", subject_type, subject_id, case=c.pk, person=c.person_id)

    def save(self, c: CaseState, t: datetime, **fields: Any) -> None:
        """cases.services._save: the new values and version, and a case.state event when the stage or
        owner changed."""
        c.row.update(fields)
        c.row["version"] += 1
        if {"stage", "owner_user_id", "owner_agency_id"} & fields.keys():
            label = Stage(c.row["stage"]).label
            self.event(t, "case.state", "case", c.pk,
                       f"Stage: {label}; owner changed" if "stage" not in fields else f"Stage: {label}",
                       case=c.pk, data={"stage": c.row["stage"], "owner_user": c.row["owner_user_id"],
                                        "owner_agency": c.row["owner_agency_id"]})

    def decide(self, c: CaseState, t: datetime, *, type: DecisionType, outcome: str, rationale: str,
               user: StaffRef, role: str, on: date, details: dict[str, Any] | None = None,
               attendees: list[str] | None = None) -> int:
        """cases.services._decide"""
        pk = self.ids.next("decision")
        self.rows.tables["decision"].append({
            "id": pk, "case_id": c.pk, "type": type.value, "outcome": outcome, "rationale": rationale.strip(),
            "author_id": user.pk, "author_role": role, "author_agency_id": user.agency_id, "occurred_at": noon(on),
            "recorded_at": t, "details": details or {}, "attendees": attendees or [], "dissent": "",
            "supersedes_id": c.decisions.get(type.value)})
        c.decisions[type.value] = pk
        return pk

    def notify_referrer(self, c: CaseState, t: datetime, decision_type: str, decision_id: int, on: date) -> None:
        """cases.safeguards.referrer_outcome_notify -> notifications.services.message_queue, then the
        worker's delivery a few minutes later (notification.sent)."""
        text = REFERRER_OUTCOME_TEXT.get(decision_type)
        if text is None:
            return
        pk = self.ids.next("message")
        referral_ref = c.referral["reference"]
        sent_at = t + timedelta(minutes=c.rng.randint(1, 5))
        reference = f"<casetrail-{pk}.bench@casetrail.example.org>"
        self.rows.tables["message"].append({
            "id": pk, "case_id": c.pk, "recipient_id": c.referrer.pk, "kind": "referrer_outcome",
            "dedupe_key": f"referrer_outcome:{decision_id}", "subject": f"Your Prevent referral {referral_ref}: an update",
            "body": f"{text}\nSign in to Casetrail to see the status of referral {referral_ref}: "
                    "http://127.0.0.1:8000/my-referrals",
            "data": {"decision_id": decision_id}, "created_at": t, "status": "sent", "attempts": 1, "last_error": "",
            "sent_at": sent_at, "backend_reference": reference, "next_attempt_at": None})
        self.event(t, "notification.queued", "message", pk,
                   f"Notification (referrer outcome) queued for {c.referrer.description}", case=c.pk, occurred=on,
                   data={"kind": "referrer_outcome", "recipient": c.referrer.pk})
        self.event(sent_at, "notification.sent", "message", pk,
                   f"Notification (referrer outcome) sent to {c.referrer.description}", case=c.pk,
                   data={"kind": "referrer_outcome", "recipient": c.referrer.pk, "attempt": 1, "reference": reference})

    def step_time(self, c: CaseState, day: date) -> datetime | None:
        """When a step planned for `day` happens: after the case's last step, or None if after yesterday."""
        t = at_work(day, c.rng)
        if t <= c.last:
            t = c.last + timedelta(minutes=c.rng.randint(3, 40))
        if t > self.limit:
            return None
        c.last = t
        return t

    # ------------------------------------------------------------ intake

    def referral(self, index: int, record: dict[str, Any], submitted: datetime, area: AreaRef,
                 rng: random.Random) -> CaseState:
        """referrals.services.referral_submit (_create)"""
        sector = _pick(rng, SECTORS)
        referrer = area.referrers[SUBMITTER[sector]]
        person_id = record["person_id"]
        concern = _pick(rng, CONCERNS)
        sex = record["sex"]
        pronoun = {"he": "she", "his": "her", "him": "her"} if sex == "female" else {"he": "he", "his": "his",
                                                                                      "him": "him"}
        pronoun |= {k.capitalize(): v.capitalize() for k, v in pronoun.items()}
        born = record["date_of_birth"]
        age = (local_day(submitted).year - int(born[:4])) if born else None
        texts = (self.demo.SCHOOL_CONCERNS if age is not None and age < 18 else self.demo.ADULT_CONCERNS)
        concern_text = rng.choice(texts.get(concern, texts["mixed_unclear"])).format(**pronoun)
        referral_id = self.ids.next("referral")
        case_id = self.ids.next("case")
        referral = {
            "id": referral_id, "reference": self.reference("REF", submitted, 5), "submitted_by_id": referrer.pk,
            "submitted_at": submitted, "referrer_name": referrer.name, "referrer_job_title": referrer.job_title,
            "referrer_email": referrer.email, "referrer_phone": "", "referrer_organisation": referrer.agency_name,
            "referrer_sector": sector, "person_id": person_id, "given_names": record["given_names"].strip(),
            "family_name": record["family_name"].strip(), "other_names": record["other_names"].strip(),
            "date_of_birth": born, "sex": sex, "address": record["address"].strip(),
            "postcode": normalise_postcode(record["postcode"]) if record["postcode"].strip() else "",
            "school_or_workplace": record["school"].strip(), "nhs_number": nhs_number_compact(record["nhs_number"]),
            "upn": upn_compact(record["upn"]), "local_authority_id": area.authority_id, "concern": concern_text,
            "first_observed_on": local_day(submitted) - timedelta(days=rng.randint(1, 60)),
            "concern_types": [concern], "code_list_version": CODE_LIST_VERSION, "urgency": _pick(rng, URGENCY),
            "person_aware": _pick(rng, PERSON_AWARE), "discussed_with": rng.choice(("", "Head of year", "Line manager",
                                                                                       "Safeguarding lead"))}
        self.rows.tables["referral"].append(referral)
        police = area.force_duty_owner
        row = {"id": case_id, "reference": self.reference("CT", submitted, 5), "person_id": person_id,
               "referral_id": referral_id, "stage": Stage.GATEWAY.value, "police_agency_id": area.force_id,
               "local_authority_id": area.authority_id, "owner_agency_id": area.force_id,
               "owner_user_id": police.pk, "opened_at": submitted, "referred_to_panel_on": None,
               "adopted_on": None, "exited_on": None, "closed_on": None, "outcome": "", "version": 1}
        c = CaseState(pk=case_id, row=row, referral=referral, person_id=person_id, area=area, referrer=referrer,
                      rng=rng, last=submitted, pronoun=pronoun, age=age, concern=concern, owner=police,
                      viewers=[police.pk])
        t = submitted
        self.event(t, "case.state", "case", case_id, "Case opened at the gateway", case=case_id,
                   data={"stage": "gateway", "owner_user": police.pk, "owner_agency": area.force_id})
        self.event(t, "referral.submitted", "referral", referral_id, f"Referral {referral['reference']} received",
                   case=case_id, actor=referrer, role="referrer", occurred=t,
                   data={"channel": "web", "attachments": 0, "urgency": referral["urgency"]})
        self.event(t, "case.opened", "case", case_id, f"Case {row['reference']} opened at gateway; owner "
                   f"{area.force_name}", case=case_id, actor=referrer, role="referrer", occurred=t,
                   data={"owner_user": police.pk, "owner_agency": area.force_id})
        self.access(t, referrer, "collection", "referral", referral_id, case=case_id, person=person_id)
        return c

    # ------------------------------------------------------------ gateway and police-led

    def gateway(self, c: CaseState, day: date, outcome: str, contact: bool | None = None) -> bool:
        """cases.services.gateway_decide (the referrer consulted when `contact`, or by chance)"""
        t = self.step_time(c, day)
        if t is None:
            return False
        rng = c.rng
        officer = rng.choice(c.area.officers)
        role = officer.acting(Permission.GATEWAY_DECIDE)
        on = local_day(t)
        if contact is None:
            contact = rng.random() < REFERRER_CONTACTED
        contacted = on - timedelta(days=rng.randint(0, 3)) if contact else None
        if contacted is not None and contacted < local_day(c.row["opened_at"]):
            contacted = local_day(c.row["opened_at"])
        reasons = [rng.choice(NFA_REASONS)] if outcome == "no_further_action" else []
        signposted = f"{rng.choice(SIGNPOST_SERVICES)}, {c.area.authority_name}" if outcome == "signpost" else ""
        fields: dict[str, Any] = {"outcome": outcome}
        if outcome == "refer_to_panel":
            owner = c.area.coordinators[0]
            fields.update(referred_to_panel_on=on, owner_agency_id=c.area.authority_id, owner_user_id=owner.pk)
        elif outcome == "no_further_action":
            owner = officer
            fields.update(closed_on=on, owner_user_id=officer.pk, owner_agency_id=officer.agency_id)
        else:
            owner = officer
            fields.update(owner_user_id=officer.pk, owner_agency_id=officer.agency_id)
        target = {"no_further_action": Stage.CLOSED, "signpost": Stage.SIGNPOSTED, "police_led": Stage.POLICE_LED,
                  "refer_to_panel": Stage.PANEL}[outcome]
        self.save(c, t, stage=target.value, **fields)
        c.owner = owner
        c.viewers.append(owner.pk)
        if contacted is not None:
            self.consultation(c, t, officer, role, contacted)
        rationale = rng.choice(self.demo.GATEWAY_RATIONALE[outcome])
        decision = self.decide(c, t, type=DecisionType.GATEWAY, outcome=outcome, rationale=rationale, user=officer,
                               role=role, on=on, details={
                                   "deconfliction_done": True, "database_checks_done": True,
                                   "referrer_contacted_on": contacted.isoformat() if contacted else None,
                                   "referrer_contact_summary": "Spoke to the referrer about what they had seen "
                                                               "since the referral." if contacted else "",
                                   "signposted_to": signposted, "nfa_reasons": reasons})
        self.case_event(c, t, "gateway.decided", "decision", decision, officer, role, on,
                        f"Gateway outcome: {outcome.replace('_', ' ')}", outcome=outcome, stage=target.value)
        self.notify_referrer(c, t, "gateway", decision, on)
        return True

    def consultation(self, c: CaseState, t: datetime, user: StaffRef, role: str, on: date) -> None:
        """cases.services._consultation"""
        pk = self.ids.next("referrerconsultation")
        self.rows.tables["referrerconsultation"].append({
            "id": pk, "case_id": c.pk, "consulted_on": on, "method": c.rng.choice(("phone", "phone", "email", "meeting")),
            "summary": "Spoke to the referrer about what they had seen since the referral.", "recorded_by_id": user.pk,
            "recorded_at": t})
        self.case_event(c, t, "referrer.consulted", "referrerconsultation", pk, user, role, on, "Referrer consulted")

    def signposting_reply(self, c: CaseState, day: date, accepted: bool) -> bool:
        """cases.services.signposting_reply"""
        t = self.step_time(c, day)
        if t is None:
            return False
        officer = c.owner or c.area.force_duty_owner
        role = officer.acting(Permission.RECORD_SIGNPOSTING_REPLY)
        on = local_day(t)
        if accepted:
            self.save(c, t, stage=Stage.CLOSED.value, closed_on=on, outcome="signposted")
        else:
            self.save(c, t, stage=Stage.GATEWAY.value, outcome="")
        decision = self.decide(c, t, type=DecisionType.SIGNPOSTING_REPLY, outcome="accepted" if accepted else "declined",
                               rationale="The service replied after reviewing the referral and the family's needs.",
                               user=officer, role=role, on=on, details={"service_contact": "Duty manager"})
        self.case_event(c, t, "signposting.replied", "decision", decision, officer, role, on,
                        "Signposted service " + ("accepted the referral" if accepted else "declined; back to gateway"))
        return True

    def police_led_review(self, c: CaseState, day: date) -> bool:
        """cases.services.police_led_review_record"""
        t = self.step_time(c, day)
        if t is None:
            return False
        officer = c.owner or c.area.force_duty_owner
        role = officer.acting(Permission.POLICE_LED_DECIDE)
        on = local_day(t)
        decision = self.decide(c, t, type=DecisionType.POLICE_LED_REVIEW, outcome="reviewed",
                               rationale="Checked partner information and police systems; the risk is still best "
                                         "managed by the police with partners.", user=officer, role=role, on=on)
        self.save(c, t)
        self.case_event(c, t, "police_led.reviewed", "decision", decision, officer, role, on, "Police-led case reviewed")
        return True

    def police_led_close(self, c: CaseState, day: date) -> bool:
        """cases.services.police_led_decide (close)"""
        t = self.step_time(c, day)
        if t is None:
            return False
        officer = c.owner or c.area.force_duty_owner
        role = officer.acting(Permission.POLICE_LED_DECIDE)
        on = local_day(t)
        self.save(c, t, stage=Stage.CLOSED.value, closed_on=on, outcome="police_led")
        decision = self.decide(c, t, type=DecisionType.POLICE_LED, outcome="close",
                               rationale="The risk has reduced: partners report no further concerns and police "
                                         "checks show no new information.", user=officer, role=role, on=on)
        self.case_event(c, t, "police_led.decided", "decision", decision, officer, role, on, "Police-led outcome: close")
        return True

    # ------------------------------------------------------------ panel

    def meetings(self) -> None:
        """Each panel meets on the second Wednesday of every month, cases or not; the meetings of
        the ten years and of the next two months, month by month."""
        month = date(self.first_day.year, self.first_day.month, 1)
        end = add_months(self.last_day, 2)
        while month <= end:
            meets_on = second_wednesday(month.year, month.month)
            if meets_on - timedelta(days=14) >= self.first_day:
                for area in self.areas:
                    self.meeting(area, meets_on)
            month = add_months(month, 1)

    def meeting_on_or_after(self, area: AreaRef, day: date) -> date:
        month = date(day.year, day.month, 1)
        while True:
            meets = second_wednesday(month.year, month.month)
            if meets >= day:
                return meets
            month = add_months(month, 1)

    def meeting(self, area: AreaRef, meets_on: date, needed_at: datetime | None = None) -> int | None:
        """cases.services.panel_meeting_create, by the coordinator three weeks before (or just
        before a case is put on its agenda); None if it would not have been set up by yesterday."""
        if meets_on in area.meetings:
            return area.meetings[meets_on]
        created = at_work(meets_on - timedelta(days=21), random.Random(f"{self.seed}:meeting:{area.authority_id}:"
                                                                        f"{meets_on}"))
        if needed_at is not None and needed_at <= created:
            created = needed_at - timedelta(minutes=10)
        if created > self.limit:
            return None
        pk = self.ids.next("panelmeeting")
        area.meetings[meets_on] = pk
        coordinator = area.coordinators[0]
        self.rows.tables["panelmeeting"].append({
            "id": pk, "local_authority_id": area.authority_id, "meets_on": meets_on, "chair_id": area.chair.pk,
            "location": "Council offices, committee room 2", "created_by_id": coordinator.pk})
        self.event(created, "panel.meeting_created", "panelmeeting", pk, f"Panel meeting on {meets_on}",
                   actor=coordinator, role=coordinator.acting(Permission.MANAGE_PANEL))
        return pk

    def agenda_add(self, c: CaseState, day: date) -> date | None:
        """cases.services.agenda_add; returns the meeting's date."""
        t = self.step_time(c, day)
        if t is None:
            return None
        meets_on = self.meeting_on_or_after(c.area, local_day(t) + timedelta(days=5))
        meeting = self.meeting(c.area, meets_on, needed_at=t)
        assert meeting is not None
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.MANAGE_PANEL)
        pk = self.ids.next("agendaitem")
        self.rows.tables["agendaitem"].append({"id": pk, "meeting_id": meeting, "case_id": c.pk, "added_at": t,
                                               "added_by_id": coordinator.pk})
        self.save(c, t)
        self.case_event(c, t, "panel.agenda_added", "agendaitem", pk, coordinator, role, None,
                        f"Added to the panel agenda for {meets_on}")
        return meets_on

    def information_request(self, c: CaseState, day: date) -> None:
        """cases.services.information_request_create, then information_request_reply by the health trust."""
        t = self.step_time(c, day)
        if t is None:
            return
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.MANAGE_PANEL)
        on = local_day(t)
        pk = self.ids.next("informationrequest")
        owner = c.area.health_owner
        row = {"id": pk, "case_id": c.pk, "to_agency_id": c.area.health_id, "owner_user_id": owner.pk,
               "question": "Is the person known to mental health services, and is any support in place?",
               "requested_by_id": coordinator.pk, "requested_on": on, "due_on": information_request_due(on),
               "reply": "", "replied_by_id": None, "replied_on": None}
        self.rows.tables["informationrequest"].append(row)
        self.save(c, t)
        self.case_event(c, t, "information_request.sent", "informationrequest", pk, coordinator, role, on,
                        f"Information requested from {c.area.health_name}", to_agency=c.area.health_id)
        c.viewers.append(owner.pk)
        t2 = self.step_time(c, on + timedelta(days=c.rng.randint(3, 12)))
        if t2 is None:
            return
        replied = local_day(t2)
        row.update(reply="Known to the community mental health team; a care coordinator is allocated.",
                   replied_by_id=owner.pk, replied_on=replied)
        self.save(c, t2)
        self.case_event(c, t2, "information_request.answered", "informationrequest", pk, owner,
                        owner.acting(Permission.ANSWER_INFORMATION_REQUEST), replied,
                        f"{c.area.health_name} answered an information request")

    def attendees(self, c: CaseState) -> list[str]:
        return [f"{c.area.chair.name} (chair, {c.area.authority_name})",
                f"{c.area.coordinators[0].name} ({c.area.authority_name})",
                f"{c.area.panel_member.name} ({c.area.health_name})",
                f"{c.area.force_duty_owner.name} ({c.area.force_name})"]

    def panel_decide(self, c: CaseState, day: date, adopt: bool) -> bool:
        """cases.services.panel_decide"""
        t = self.step_time(c, day)
        if t is None:
            return False
        chair = c.area.chair
        role = chair.acting(Permission.PANEL_DECIDE)
        on = local_day(t)
        if adopt:
            self.save(c, t, stage=Stage.AWAITING_CONSENT.value, adopted_on=on, outcome="adopted")
        else:
            self.save(c, t, stage=Stage.CLOSED.value, closed_on=on, outcome="not_adopted")
        decision = self.decide(c, t, type=DecisionType.ADOPTION, outcome="adopted" if adopt else "not_adopted",
                               rationale=c.rng.choice(self.demo.GATEWAY_RATIONALE["refer_to_panel"]) if adopt else
                               "The partners agree the needs are better met by early help than by Channel support.",
                               user=chair, role=role, on=on,
                               details={"signposted_to": "" if adopt else f"Early Help Service, {c.area.authority_name}"},
                               attendees=self.attendees(c))
        self.case_event(c, t, "panel.decided", "decision", decision, chair, role, on,
                        "Panel adopted the case" if adopt else "Panel did not adopt the case")
        c.viewers.append(chair.pk)
        self.notify_referrer(c, t, "adoption", decision, on)
        return True

    def consent(self, c: CaseState, day: date, given: bool) -> bool:
        """cases.services.consent_record"""
        t = self.step_time(c, day)
        if t is None:
            return False
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.RECORD_CONSENT)
        on = local_day(t)
        adult = c.age is None or c.age >= 18
        giver = "person" if adult else "parent_carer"
        consequence = "" if given else c.rng.choice(("close", "police_led"))
        pk = self.ids.next("consent")
        scope = "Mentoring sessions and sharing information between the panel's partners for the support plan."
        self.rows.tables["consent"].append({
            "id": pk, "case_id": c.pk, "given": given, "giver": giver,
            "giver_name": (f"{c.referral['given_names']} {c.referral['family_name']}" if adult
                           else f"Parent of {c.referral['given_names']} {c.referral['family_name']}"),
            "capacity_confirmed": True, "capacity_notes": "", "scope": scope, "given_on": on,
            "recorded_by_id": coordinator.pk, "withdrawn_on": None, "withdrawal_reason": "",
            "withdrawal_consequence": consequence})
        if given:
            self.save(c, t, stage=Stage.SUPPORT.value)
        elif consequence == "police_led":
            police = c.area.force_duty_owner
            self.save(c, t, stage=Stage.POLICE_LED.value, owner_agency_id=c.area.force_id, owner_user_id=police.pk)
            c.owner = police
        else:
            self.save(c, t, stage=Stage.CLOSED.value, closed_on=on, outcome="consent_refused")
        self.decide(c, t, type=DecisionType.CONSENT, outcome="given" if given else "refused",
                    rationale=scope if given else f"Consent refused: {CONSENT_REFUSAL_CONSEQUENCES[consequence]}",
                    user=coordinator, role=role, on=on, details={"consent": pk, "giver": giver})
        self.case_event(c, t, "consent.recorded", "consent", pk, coordinator, role, on,
                        "Consent given" if given else "Consent refused", giver=giver)
        return True

    # ------------------------------------------------------------ assessment and support

    def assessment(self, c: CaseState, day: date) -> list[tuple[str, str]] | None:
        """cases.services.assessment_start, assessment_save, assessment_submit; returns the
        vulnerabilities identified (code, nature)."""
        t = self.step_time(c, day)
        if t is None:
            return None
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.ASSESS)
        framework = frameworks.current_framework(local_day(t))
        profile = self.demo.PROFILES[framework.key].get(c.concern, self.demo.PROFILES[framework.key]["mixed_unclear"])
        present = dict(profile)
        pk = self.ids.next("assessment")
        row = {"id": pk, "case_id": c.pk, "framework_key": framework.key, "framework_version": framework.version,
               "status": "draft", "judgements": {}, "summary": "", "author_id": coordinator.pk, "started_at": t,
               "updated_at": t, "submitted_at": None, "assessed_on": None, "version": 1}
        self.rows.tables["assessment"].append(row)
        self.case_event(c, t, "assessment.started", "assessment", pk, coordinator, role, None,
                        f"Assessment started on {framework.name} ({framework.version})")
        t2 = self.step_time(c, local_day(t) + timedelta(days=c.rng.randint(3, 10)))
        if t2 is None:
            return None
        judgements = {}
        for factor in framework.factors:
            if factor.code in present:
                evidence = self.demo.EVIDENCE.get(factor.code, "Reported by partners at the panel.").format(**c.pronoun)
                judgements[factor.code] = {"present": True, "evidence": evidence, "nature": present[factor.code]}
            else:
                judgements[factor.code] = {"present": False, "evidence": "", "nature": None}
        row.update(judgements=judgements, summary="Vulnerabilities identified with partners; the support plan "
                                                  "addresses each underlying cause.", updated_at=t2, version=2)
        self.case_event(c, t2, "assessment.draft_saved", "assessment", pk, coordinator, role, None,
                        "Assessment draft saved", factors=sorted(judgements))
        t3 = self.step_time(c, local_day(t2) + timedelta(days=c.rng.randint(1, 7)))
        if t3 is None:
            return None
        on = local_day(t3)
        found = [f.code for f in framework.factors if f.code in present]
        row.update(status="submitted", submitted_at=t3, assessed_on=on, version=3)
        self.decide(c, t3, type=DecisionType.ASSESSMENT, outcome=f"{len(found)} vulnerabilities identified",
                    rationale=row["summary"], user=coordinator, role=role, on=on,
                    details={"assessment": pk, "framework": framework.ref, "vulnerabilities": found})
        self.save(c, t3)
        self.case_event(c, t3, "assessment.submitted", "assessment", pk, coordinator, role, on,
                        f"Assessment submitted on {framework.ref}: {len(found)} vulnerabilities identified")
        return [(code, present[code]) for code in found]

    def support(self, c: CaseState, start: date, found: list[tuple[str, str]]) -> date | None:
        """Support actions (support_action_add, _complete), one tasking (tasking_commission,
        tasking_acknowledge, session_record, session_cancel) and panel reviews
        (panel_review_record); returns the day support ended, or None if it has not yet."""
        rng = c.rng
        coordinator = c.area.coordinators[0]
        plan_role = coordinator.acting(Permission.PLAN_SUPPORT)
        actions = []
        for code, nature in found:
            if nature != "underlying_cause":
                continue
            t = self.step_time(c, start + timedelta(days=rng.randint(0, 3)))
            if t is None:
                return None
            description = self.demo.ACTIONS.get(code, ("Regular check-ins with a named worker", "coordinator"))[0]
            pk = self.ids.next("supportaction")
            row = {"id": pk, "case_id": c.pk, "description": description, "vulnerabilities": [code],
                   "owner_agency_id": coordinator.agency_id, "owner_user_id": coordinator.pk,
                   "due_on": local_day(t) + timedelta(days=rng.randint(60, 150)), "status": "open",
                   "completed_on": None, "completion_note": "", "created_by_id": coordinator.pk, "created_at": t}
            self.rows.tables["supportaction"].append(row)
            self.save(c, t)
            self.case_event(c, t, "support_action.added", "supportaction", pk, coordinator, plan_role, None,
                            "Support action added", vulnerabilities=[code], owner_user=coordinator.pk)
            actions.append(row)
        presenting = [code for code, nature in found if nature == "presenting_behaviour"]
        provider, _ = self.provider_for(c)
        commission_role = coordinator.acting(Permission.COMMISSION_TASKING)
        t = self.step_time(c, start + timedelta(days=rng.randint(2, 10)))
        if t is None:
            return None
        on = local_day(t)
        sessions = rng.randint(4, 10)
        tasking = self.ids.next("tasking")
        tasking_row = {"id": tasking, "case_id": c.pk, "provider_agency_id": provider.agency_id,
                       "provider_user_id": provider.pk, "sessions_commissioned": sessions,
                       "purpose": self.demo.TASKING_PURPOSE.get(c.concern, self.demo.TASKING_PURPOSE["mixed_unclear"]),
                       "vulnerabilities": presenting, "commissioned_on": on, "commissioned_by_id": coordinator.pk,
                       "acknowledged_on": None, "acknowledged_by_id": None, "ended_on": None}
        self.rows.tables["tasking"].append(tasking_row)
        self.decide(c, t, type=DecisionType.TASKING, outcome=f"{sessions} sessions", rationale=tasking_row["purpose"],
                    user=coordinator, role=commission_role, on=on,
                    details={"tasking": tasking, "provider_user": provider.pk})
        self.save(c, t)
        self.case_event(c, t, "tasking.commissioned", "tasking", tasking, coordinator, commission_role, on,
                        f"{provider.agency_name} tasked for {sessions} sessions")
        c.viewers.append(provider.pk)
        deliver_role = provider.acting(Permission.DELIVER_TASKING)
        t = self.step_time(c, on + timedelta(days=rng.randint(1, 6)))
        if t is None:
            return None
        tasking_row.update(acknowledged_on=local_day(t), acknowledged_by_id=provider.pk)
        self.save(c, t)
        self.case_event(c, t, "tasking.acknowledged", "tasking", tasking, provider, deliver_role, local_day(t),
                        "Tasking acknowledged by provider")
        day = local_day(t)
        cancel_at = rng.randint(2, sessions) if rng.random() < 0.15 else 0
        next_review = add_months(start, 3)
        for number in range(1, sessions + 1):
            day += timedelta(days=rng.randint(10, 18))
            while next_review <= day:
                if not self.panel_review(c, self.meeting_on_or_after(c.area, next_review)):
                    return None
                next_review = add_months(next_review, 3)
            t = self.step_time(c, day)
            if t is None:
                return None
            pk = self.ids.next("session")
            held = local_day(t)
            if number == cancel_at:
                reason = rng.choice(self.demo.CANCEL_REASONS)
                self.rows.tables["session"].append({
                    "id": pk, "tasking_id": tasking, "number": number, "status": "cancelled", "held_on": held,
                    "report": "", "cancellation_reason": reason, "recorded_by_id": provider.pk, "recorded_at": t})
                self.decide(c, t, type=DecisionType.SESSION_CANCELLATION, outcome=f"session {number} cancelled",
                            rationale=reason, user=provider, role=deliver_role, on=held, details={"session": pk})
                self.save(c, t)
                self.case_event(c, t, "session.cancelled", "session", pk, provider, deliver_role, held,
                                f"Session {number} cancelled")
            else:
                report = rng.choice(self.demo.SESSION_REPORTS).format(**c.pronoun)
                self.rows.tables["session"].append({
                    "id": pk, "tasking_id": tasking, "number": number, "status": "delivered", "held_on": held,
                    "report": report, "cancellation_reason": "", "recorded_by_id": provider.pk, "recorded_at": t})
                self.save(c, t)
                self.case_event(c, t, "session.delivered", "session", pk, provider, deliver_role, held,
                                f"Session {number} delivered")
        for row in actions:
            t = self.step_time(c, day + timedelta(days=rng.randint(1, 10)))
            if t is None:
                return None
            done = local_day(t)
            row.update(status="done", completed_on=done, completion_note="Delivered as planned; partners report "
                                                                         "it helped.")
            self.save(c, t)
            self.case_event(c, t, "support_action.done", "supportaction", row["id"], coordinator,
                            coordinator.acting(Permission.DELIVER_SUPPORT_ACTION), done, "Support action marked done")
        return local_day(c.last)

    def provider_for(self, c: CaseState) -> tuple[StaffRef, list[str]]:
        suited = [p for p in self.providers if c.concern in p[1]] or self.providers
        return suited[c.pk % len(suited)]

    def panel_review(self, c: CaseState, meets_on: date) -> bool:
        """cases.services.panel_review_record"""
        t = self.step_time(c, meets_on)
        if t is None:
            return False
        chair = c.area.chair
        role = chair.acting(Permission.PANEL_DECIDE)
        held = local_day(t)
        outcome = c.rng.choice(("continue", "continue", "plan_changed", "consider_exit"))
        notes = self.demo.REVIEW_NOTES[outcome]
        decision = self.decide(c, t, type=DecisionType.PANEL_REVIEW, outcome=outcome, rationale=notes, user=chair,
                               role=role, on=held, attendees=self.attendees(c))
        pk = self.ids.next("review")
        self.rows.tables["review"].append({"id": pk, "case_id": c.pk, "kind": "panel", "months_after_exit": None,
                                           "held_on": held, "outcome": outcome, "notes": notes,
                                           "decision_id": decision})
        self.save(c, t)
        self.case_event(c, t, "review.panel", "review", pk, chair, role, held,
                        f"Panel review: {PANEL_REVIEW_OUTCOMES[outcome]}")
        return True

    def exit(self, c: CaseState, day: date) -> bool:
        """cases.services.case_exit"""
        t = self.step_time(c, day)
        if t is None:
            return False
        chair = c.area.chair
        role = chair.acting(Permission.PANEL_DECIDE)
        on = local_day(t)
        self.save(c, t, stage=Stage.EXITED.value, exited_on=on, outcome="exited")
        decision = self.decide(c, t, type=DecisionType.EXIT, outcome="exited",
                               rationale="Every vulnerability in the plan was addressed and partners report the "
                                         "risk has reduced; the person agrees support can end.",
                               user=chair, role=role, on=on, attendees=self.attendees(c),
                               details={"residual_concerns": "None beyond those the school is managing.",
                                        "onward_support": "School pastoral support continues.",
                                        "minimum_period_reason": ""})
        self.case_event(c, t, "case.exited", "decision", decision, chair, role, on, "Exited from Channel support")
        self.notify_referrer(c, t, "exit", decision, on)
        return True

    def post_exit_review(self, c: CaseState, months: int) -> bool:
        """cases.services.post_exit_review_record (no concerns)"""
        due = post_exit_review_dates(c.row["exited_on"])[months]
        t = self.step_time(c, due + timedelta(days=c.rng.randint(0, 10)))
        if t is None:
            return False
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.POST_EXIT_REVIEW)
        held = local_day(t)
        notes = self.demo.POST_EXIT_NOTES
        decision = self.decide(c, t, type=DecisionType.POST_EXIT_REVIEW, outcome="no_concerns", rationale=notes,
                               user=coordinator, role=role, on=held, details={"months": months})
        pk = self.ids.next("review")
        self.rows.tables["review"].append({"id": pk, "case_id": c.pk, "kind": "post_exit", "months_after_exit": months,
                                           "held_on": held, "outcome": "no_concerns", "notes": notes,
                                           "decision_id": decision})
        self.save(c, t)
        self.case_event(c, t, "review.post_exit", "review", pk, coordinator, role, held,
                        f"{months}-month post-exit review recorded")
        return True

    def close(self, c: CaseState, day: date) -> bool:
        """cases.services.case_close"""
        t = self.step_time(c, day)
        if t is None:
            return False
        coordinator = c.area.coordinators[0]
        role = coordinator.acting(Permission.CLOSE_CASE)
        on = local_day(t)
        self.save(c, t, stage=Stage.CLOSED.value, closed_on=on, outcome=c.row["outcome"])
        decision = self.decide(c, t, type=DecisionType.CLOSURE, outcome="closed",
                               rationale="Both post-exit reviews found no further concerns; partners agree to close.",
                               user=coordinator, role=role, on=on)
        self.case_event(c, t, "case.closed", "decision", decision, coordinator, role, on, "Case closed")
        self.notify_referrer(c, t, "closure", decision, on)
        return True

    # ------------------------------------------------------------ one journey

    def journey(self, c: CaseState) -> None:
        rng = c.rng
        day = local_day(c.row["opened_at"])
        path = _pick(rng, PATHS)
        gateway_day = day + timedelta(days=int(rng.lognormvariate(2.4, 0.6)) + 1)
        if path == "signpost":
            if not self.gateway(c, gateway_day, "signpost"):
                return
            accepted = rng.random() < SIGNPOST_ACCEPTED
            if not self.signposting_reply(c, gateway_day + timedelta(days=rng.randint(5, 45)), accepted):
                return
            if not accepted:
                self.gateway(c, local_day(c.last) + timedelta(days=rng.randint(3, 20)), "no_further_action")
            return
        if path == "no_further_action":
            self.gateway(c, gateway_day, "no_further_action")
            return
        if path == "police_led":
            if not self.gateway(c, gateway_day, "police_led"):
                return
            self.police_led(c, gateway_day)
            return
        if not self.gateway(c, gateway_day, "refer_to_panel"):
            return
        self.panel(c, gateway_day)

    def police_led(self, c: CaseState, start: date) -> None:
        rng = c.rng
        lasts = min(1500, int(rng.lognormvariate(5.2, 0.8)) + 30)
        end = start + timedelta(days=lasts)
        review = start + timedelta(days=90)
        while review < end:
            if not self.police_led_review(c, review):
                return
            review += timedelta(days=rng.randint(80, 100))
        self.police_led_close(c, end)

    def panel(self, c: CaseState, referred: date) -> None:
        rng = c.rng
        meets_on = self.agenda_add(c, referred + timedelta(days=rng.randint(1, 5)))
        if meets_on is None:
            return
        if rng.random() < 0.6:
            self.information_request(c, local_day(c.last) + timedelta(days=1))
        adopt = rng.random() < PANEL_ADOPTED
        if not self.panel_decide(c, max(meets_on, local_day(c.last)), adopt) or not adopt:
            return
        given = rng.random() < CONSENT_GIVEN
        if not self.consent(c, local_day(c.last) + timedelta(days=rng.randint(3, 20)), given):
            return
        if not given:
            if c.row["stage"] == Stage.POLICE_LED.value:
                self.police_led(c, local_day(c.last))
            return
        found = self.assessment(c, local_day(c.last) + timedelta(days=rng.randint(2, 14)))
        if found is None:
            return
        ended = self.support(c, local_day(c.last) + timedelta(days=1), found)
        if ended is None:
            return
        if not self.exit(c, self.meeting_on_or_after(c.area, ended + timedelta(days=7))):
            return
        for months in (6, 12):
            if not self.post_exit_review(c, months):
                return
        self.close(c, local_day(c.last) + timedelta(days=rng.randint(1, 14)))

    def finish(self, c: CaseState) -> None:
        """The case's row as it stands after its last step."""
        self.rows.tables["case"].append(c.row)
        self.stage_counts[c.row["stage"]] += 1
        closed = c.row["closed_on"]
        end = (datetime.combine(closed, time(17), tzinfo=LONDON).astimezone(UTC) + timedelta(days=30)
               if closed else self.limit)
        self.case_windows.append((c.pk, c.person_id, c.row["opened_at"], min(end, self.limit),
                                  tuple(dict.fromkeys(c.viewers))))
