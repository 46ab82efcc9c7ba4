"""Reads of cases for the acting user: the access policy is applied in every query here,
and every look at a case's personal data is written to the access log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jellyfish
from django.db.models import Q, QuerySet

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.audit.models import Event
from casetrail.audit.services import access_log
from casetrail.cases.access import live_offers, offer_due_on, view_of, visible_cases
from casetrail.cases.models import (
    Assessment,
    Case,
    HandOver,
    InformationRequest,
    Review,
    SupportAction,
    Tasking,
    WorkStatus,
)
from casetrail.core.dates import PartialDate
from casetrail.core.errors import NotFound
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import View  # noqa: F401 (re-exported for the API)
from casetrail.core.schedules import (
    post_exit_review_dates,
    tasking_acknowledgement_due,
)
from casetrail.people.keys import keys_for, name_tokens
from casetrail.people.models import Person, SearchKey


def case_list(*, user: User, stage: str | None = None, open_only: bool = False) -> QuerySet[Case]:
    cases = visible_cases(user).select_related("person", "owner_user", "owner_agency", "referral")
    if stage:
        cases = cases.filter(stage=stage)
    if open_only:
        cases = cases.exclude(stage=Stage.CLOSED)
    return cases.order_by("-opened_at")


def case_get(*, user: User, case_id: int | str, channel: str = "web", log: bool = True) -> tuple[Case, View]:
    """The case and how much of it the user may see; AccessDenied when not at all."""
    lookup = Q(reference=case_id) if isinstance(case_id, str) and not case_id.isdigit() else Q(pk=int(case_id))
    case = Case.objects.select_related("person", "referral", "owner_user", "owner_agency", "police_agency",
                                       "local_authority").filter(lookup).first()
    if case is None:
        raise NotFound("There is no case with that reference that you can see.")
    view = view_of(user, case)
    if view is View.NONE:
        raise NotFound("There is no case with that reference that you can see.")
    if log:
        access_log(user=user, operation="consultation", subject=case, case=case, person=case.person, channel=channel)
    return case, view


def case_timeline(*, case: Case) -> QuerySet[Event]:
    return Event.objects.filter(case=case).select_related("actor", "actor_agency").order_by("occurred_at", "id")


@dataclass
class PostExitReviewDue:
    case: Case
    months: int
    due_on: date

    def is_overdue(self, today: date) -> bool:
        return today > self.due_on


def post_exit_reviews_due(cases: QuerySet[Case]) -> list[PostExitReviewDue]:
    """Derived from the exit date: a review with no record is due whatever any job did."""
    due: list[PostExitReviewDue] = []
    for case in cases.filter(stage=Stage.EXITED, exited_on__isnull=False).prefetch_related("reviews"):
        done = {r.months_after_exit for r in case.reviews.all() if r.kind == Review.Kind.POST_EXIT}
        for months, day in post_exit_review_dates(case.exited_on).items():
            if months not in done:
                due.append(PostExitReviewDue(case, months, day))
    return sorted(due, key=lambda d: d.due_on)


@dataclass
class WorkItem:
    kind: str
    title: str
    case: Case
    due_on: date | None
    url_name: str
    url_args: tuple[Any, ...] = ()
    owner: str = ""

    def is_overdue(self, today: date) -> bool:
        return self.due_on is not None and today > self.due_on


@dataclass
class MyWork:
    today: date
    owned_cases: list[Case] = field(default_factory=list)
    tasks: list[WorkItem] = field(default_factory=list)
    awaiting_acceptance: list[HandOver] = field(default_factory=list)
    offered_by_me: list[HandOver] = field(default_factory=list)

    @property
    def overdue(self) -> list[WorkItem]:
        return [t for t in self.tasks if t.is_overdue(self.today)]

    @property
    def due(self) -> list[WorkItem]:
        return [t for t in self.tasks if not t.is_overdue(self.today)]


def my_work(*, user: User) -> MyWork:
    """What I own, what is due, what is overdue and what awaits my acceptance."""
    today = clock.today()
    work = MyWork(today=today)
    visible = visible_cases(user)
    work.owned_cases = list(
        visible.filter(owner_user=user).exclude(stage=Stage.CLOSED).select_related("person", "owner_agency")
    )
    for item in post_exit_reviews_due(visible.filter(owner_user=user)):
        work.tasks.append(WorkItem("post_exit_review", f"{item.months}-month post-exit review", item.case,
                                   item.due_on, "web:case-post-exit-review", (item.case.pk,)))
    for case in work.owned_cases:
        if case.stage == Stage.GATEWAY:
            work.tasks.append(WorkItem("gateway", "Gateway assessment", case, None, "web:case-gateway", (case.pk,)))
    for action in SupportAction.objects.filter(owner_user=user, status=WorkStatus.OPEN).select_related("case"):
        work.tasks.append(WorkItem("support_action", f"Support action: {action.description[:60]}", action.case,
                                   action.due_on, "web:case-detail", (action.case_id,)))
    for tasking in Tasking.objects.filter(provider_user=user).select_related("case").prefetch_related("sessions"):
        if tasking.case.stage == Stage.CLOSED:
            continue
        if tasking.acknowledged_on is None:
            work.tasks.append(WorkItem("tasking_acknowledge", "Acknowledge tasking", tasking.case,
                                       tasking_acknowledgement_due(tasking.commissioned_on),
                                       "web:tasking-detail", (tasking.pk,)))
        elif tasking.sessions.count() < tasking.sessions_commissioned:
            work.tasks.append(WorkItem("session", f"Record session {tasking.sessions.count() + 1} of "
                                       f"{tasking.sessions_commissioned}", tasking.case, None,
                                       "web:tasking-detail", (tasking.pk,)))
    for request in InformationRequest.objects.filter(owner_user=user, replied_on__isnull=True).select_related("case"):
        work.tasks.append(WorkItem("information_request", "Answer information request", request.case,
                                   request.due_on, "web:information-request-reply", (request.pk,)))
    work.tasks.sort(key=lambda t: (t.due_on is None, t.due_on or today))
    # A lapsed offer is no longer awaiting anyone: the offerer hears of it as a safeguard finding.
    work.awaiting_acceptance = list(live_offers().filter(to_user=user).select_related("case", "from_agency"))
    work.offered_by_me = list(live_offers().filter(offered_by=user).select_related("case", "to_agency"))
    for offer in [*work.awaiting_acceptance, *work.offered_by_me]:
        offer.due_on = offer_due_on(offer)  # type: ignore[attr-defined]
    return work


def my_referrals(*, user: User) -> QuerySet[Case]:
    return Case.objects.filter(referral__submitted_by=user).select_related("referral").order_by("-opened_at")


@dataclass
class SearchHit:
    person: Person
    score: float
    cases: list[Case]


def search(*, user: User, query: str, limit: int = 25) -> list[SearchHit]:
    """Find people by case or referral reference, name (tolerant of spelling) or date of birth,
    among the cases the user may see."""
    text = query.strip()
    if not text:
        return []
    visible = visible_cases(user)
    upper = text.upper()
    if upper.startswith(("CT-", "REF-", "P-")):
        cases = visible.filter(Q(reference__iexact=upper) | Q(referral__reference__iexact=upper)
                               | Q(person__reference__iexact=upper)).select_related("person")
        return _group(list(cases), {})
    birth = _as_birth(text)
    tokens = name_tokens(text) if birth is None else []
    keys = keys_for([text], None) if tokens else set()
    if birth is not None:
        keys = {("dob", birth.to_iso())} if birth.precision == "day" else {("year", str(birth.year))}
    if not keys:
        return []
    condition = Q(pk__in=[])
    for kind, value in keys:
        condition |= Q(kind=kind, value=value)
    if tokens:
        for token in tokens:
            if len(token) >= 3:
                condition |= Q(kind="name", value__startswith=token)
    # One query: the people whose keys match, among those whose cases the user may see. (Capping
    # the matching keys before asking what the user may see lost people with a common name.)
    cases = list(visible.filter(person_id__in=SearchKey.objects.filter(condition).values("person_id"))
                 .select_related("person"))
    if tokens:
        referral_names = _referral_names({c.person_id for c in cases})
        scores = {c.person_id: _score(tokens, c.person, referral_names[c.person_id]) for c in cases}
    else:
        scores = {}
    hits = _group(cases, scores)
    hits = [h for h in hits if not tokens or h.score >= 0.75]
    return hits[:limit]


def _as_birth(text: str) -> PartialDate | None:
    for separator in ("/", "-", "."):
        parts = text.split(separator)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                day, month, year = (int(p) for p in parts)
                if len(parts[0]) == 4:
                    year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
                return PartialDate(year, month, day)
            except ValueError:
                return None
    if text.isdigit() and len(text) == 4:
        return PartialDate(int(text))
    return None


def _score(tokens: list[str], person: Person, referral_names: list[tuple[str, str, str]]) -> float:
    names = name_tokens(person.given_names, person.family_name)
    for given, family, other in referral_names:
        names.extend(name_tokens(given, family, other))
    if not names:
        return 0.0
    best = [max(jellyfish.jaro_winkler_similarity(t, n) for n in names) for t in tokens]
    return sum(best) / len(best)


def _referral_names(person_ids: set[int]) -> dict[int, list[tuple[str, str, str]]]:
    """The names every referral of these people gave, in one query (not one per person)."""
    from casetrail.referrals.models import Referral

    names: dict[int, list[tuple[str, str, str]]] = {pk: [] for pk in person_ids}
    for person_id, *given in Referral.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "given_names", "family_name", "other_names"):
        names[person_id].append((given[0], given[1], given[2]))
    return names


def _group(cases: list[Case], scores: dict[int, float]) -> list[SearchHit]:
    by_person: dict[int, SearchHit] = {}
    for case in cases:
        hit = by_person.setdefault(case.person_id, SearchHit(case.person, scores.get(case.person_id, 1.0), []))
        hit.cases.append(case)
    return sorted(by_person.values(), key=lambda h: (-h.score, h.person.family_name))


def person_history(*, user: User, person: Person) -> list[Case]:
    """Every case of this person the user may see, oldest first, with their referrals."""
    return list(visible_cases(user).filter(person=person).select_related("referral", "owner_agency")
                .order_by("opened_at"))


def latest_assessment(case: Case) -> Assessment | None:
    return case.assessments.filter(status=Assessment.Status.SUBMITTED).order_by("-submitted_at").first()


def case_matches(*, user: User, case: Case, channel: str = "web") -> list[Any]:
    """Weaker suggestions: earlier people this case's referral may be, as matched now, other than
    its possible earlier records, with their evidence and the histories this user may see; each
    suggestion looked at is logged as a consultation of that person."""
    from casetrail.cases.services import DecisionType
    from casetrail.people.matching import identity_of, person_matches

    if view_of(user, case) is not View.FULL:
        raise NotFound("There is no case with that id that you can see.")
    rejected = {d.details.get("person"): d for d in case.decisions.filter(type=DecisionType.MATCH_REJECTED)
                .select_related("author")}
    referral = case.referral
    own = [r.pk for r in referral.person.referrals.all()]
    from casetrail.people.matching import current_person

    kept = {current_person(m.person).pk for m in case.possible_matches.select_related("person")}
    matches = [m for m in person_matches(user=user, identity=identity_of(referral), exclude_person=case.person,
                                         exclude_referrals=own, rejected=rejected)
               if m.person.pk not in kept and m.visible_cases]  # nothing of people the user may not see
    for match in matches:
        access_log(user=user, operation="consultation", subject=match.person, case=case, person=match.person,
                   channel=channel, justification=f"Possible earlier record of the person referred in {case.reference}")
    return matches


@dataclass
class EarlierRecord:
    """A possible earlier record of the case's person as a reader sees it: the match as found,
    where it stands, and the referrals and cases of that person this reader may see."""

    match: Any  # PossibleMatch
    person: Person  # the person record it now lives on
    status: str  # open | linked | rejected
    decision: Any  # the decision that resolved it, while resolved
    referrals: list[Any]  # the person's referrals this reader may see
    visible_cases: list[Case]
    hidden_cases: list[Case]  # outside what the reader may see: readable only through break glass

    @property
    def percent(self) -> str:
        return str(self.match.percent)


def case_earlier_records(*, user: User, case: Case, channel: str = "web") -> list[EarlierRecord]:
    """The case's possible earlier records, oldest first, for someone who may resolve them; each
    person shown is logged as a consultation of their record."""
    from casetrail.cases.earlier_records import distinct_people, person_and_merged, resolutions
    from casetrail.people.matching import current_person

    if view_of(user, case) is not View.FULL:
        raise NotFound("There is no case with that id that you can see.")
    matches = distinct_people(case.possible_matches.select_related("person", "matched_referral"))
    states = resolutions(case, matches)
    visible = visible_cases(user)
    records = []
    for match in matches:
        person = current_person(match.person)
        cases = list(Case.objects.filter(person_id__in=person_and_merged(person)).exclude(pk=case.pk)
                     .select_related("referral").order_by("opened_at"))
        seen = set(visible.filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
        state = states[match.pk]
        records.append(EarlierRecord(
            match=match, person=person, status=state.status, decision=state.decision,
            referrals=[c.referral for c in cases if c.pk in seen],
            visible_cases=[c for c in cases if c.pk in seen], hidden_cases=[c for c in cases if c.pk not in seen]))
        access_log(user=user, operation="consultation", subject=person, case=case, person=person, channel=channel,
                   justification=f"Possible earlier record of the person referred in {case.reference}")
    return records


def unresolved_earlier_records(*, user: User) -> list[tuple[Case, Any]]:
    """Possible earlier records nobody has resolved, on cases this user may resolve them on,
    oldest first (for their work list). Read from the cases' stored findings, which name each
    unresolved record, so the cost does not grow with the cases whose records are resolved."""
    from casetrail.cases.access import allowed
    from casetrail.cases.models import PossibleMatch
    from casetrail.cases.stored_findings import findings_of
    from casetrail.core.policy import Permission

    if not allowed(user, Permission.LINK_PERSON):
        return []
    cases = [case for case in visible_cases(user).exclude(stage=Stage.CLOSED)
             .filter(possible_matches__isnull=False).distinct().select_related("referral", "person", "owner_user")
             if allowed(user, Permission.LINK_PERSON, case)]
    answers = findings_of(cases)
    waiting = {int(f.key.rsplit(":", 1)[1]): case for case in cases for f in answers[case.pk]
               if f.rule == "referral.unresolved_match"}
    matches = PossibleMatch.objects.filter(pk__in=waiting).select_related("person", "matched_referral")
    return sorted(((waiting[m.pk], m) for m in matches), key=lambda cm: (cm[1].found_at, cm[1].pk))


def significant_events_with_decisions(case: Case) -> list[tuple[Any, Any]]:
    """The case's significant events, oldest first, each with the decision recorded about it (or None)."""
    decisions: dict[int, Any] = {}
    for d in case.decisions.filter(type="significant_event_response").select_related("author") \
            .order_by("recorded_at", "pk"):
        decisions.setdefault(int(d.details.get("event", 0)), d)
    return [(e, decisions.get(e.pk)) for e in case.significant_events.select_related("recorded_by")]
