"""The task worker down for a week: when it comes back, one cycle queues and sends every reminder
and escalation that fell due meanwhile, once each, and a second cycle sends nothing more; and the
findings asked for on each day of that week, after the fact, are those a worker running every day
saw on the day.

The same scenario runs twice in one database: once with the worker down for the week, once with
the worker running each morning, five weeks later (same weekdays, no bank holiday near either),
each copy with people of its own, compared case by case."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.cases import safeguards
from casetrail.cases import services as case_services
from casetrail.cases.models import Case, Tasking
from casetrail.clock import frozen_at
from casetrail.core.dates import PartialDate
from casetrail.notifications.models import Message
from casetrail.referrals.services import referral_submit

from .conftest import World, case_in_support, referral_input

DOWN_FROM = date(2026, 6, 15)  # a Monday
DAILY_FROM = DOWN_FROM + timedelta(days=35)  # a Monday too
WEEK = 7
# Each case of the scenario: the day its tasking was commissioned, relative to the week's start.
STARTS = {"early": -12, "acknowledged": -9, "middle": -6, "late": -1}
PEOPLE = {
    "down": [("Orla", "Marchetti"), ("Piet", "Vandersloot"), ("Quinn", "Abernathy"), ("Rafe", "Kowalczyk")],
    "daily": [("Saoirse", "Lindgren"), ("Tobin", "Okonkwo"), ("Ulla", "Brannigan"), ("Vikram", "Delacroix")],
}


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


@dataclass
class Copy:
    name: str
    start: date
    cases: dict[str, Case]

    def label(self, case_id: int | None) -> str:
        return next((n for n, c in self.cases.items() if c.pk == case_id), "")


def _identity(copy: str, index: int) -> dict[str, Any]:
    given, family = PEOPLE[copy][index]
    return dict(given_names=given, family_name=family, sex="female" if index % 2 else "male",
                date_of_birth=PartialDate(1980 + 7 * index + (3 if copy == "daily" else 0), index + 2, 11 + index),
                address=f"{3 + index} {family} Gardens", postcode=f"W{index + 1}{'A' if copy == 'down' else 'D'} 7QT",
                school_or_workplace="")


def _build(world: World, copy: str, start: date) -> Copy:
    """Four cases in support, commissioned on different days before the week, so that reminders
    and escalations fall due on different days of it. The worker was running then: it sends the
    referrer their outcome the day each case is built."""
    cases = {}
    for index, (name, offset) in enumerate(STARTS.items()):
        with frozen_at(at(start + timedelta(days=offset), 9)):
            cases[name] = case_in_support(world, **_identity(copy, index))
        with frozen_at(at(start + timedelta(days=offset), 10)):
            _worker_cycle()
    return Copy(copy, start, cases)


def _during_the_week(world: World, copy: Copy, day: int) -> None:
    """What staff record during the week, worker or not: the early person is referred again on
    day 1 (a possible earlier record to resolve, escalated after three days), and the provider
    acknowledges one tasking on day 6, the day after it was escalated to the chair (when the
    worker comes back on day 7, that escalation is no longer due)."""
    if day == 1:
        with frozen_at(at(copy.start + timedelta(days=day), 9)):
            again = {**_identity(copy.name, 0), "referrer_email": "second@example.org"}
            referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, **again))
            copy.cases["repeat"] = referral.case
    if day == 6:
        with frozen_at(at(copy.start + timedelta(days=day), 9)):
            tasking = Tasking.objects.get(case=copy.cases["acknowledged"])
            case_services.tasking_acknowledge(user=world.users["provider"], tasking=tasking,
                                              acknowledged_on=copy.start + timedelta(days=day))


def _worker_cycle() -> None:
    """One run of the task worker as deployed (`run_worker --batch`): tasks, findings, outbox."""
    call_command("run_worker", batch=True, interval=0, verbosity=0)


def _usernames(ids: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(sorted(User.objects.filter(pk__in=ids).values_list("username", flat=True)))


def _findings(copy: Copy, case: Case, as_of: date | None) -> list[tuple[Any, ...]]:
    day = as_of
    return sorted((copy.label(case.pk), f.rule, re.sub(r"\d+", "#", f.key), (f.since - copy.start).days,
                   f.severity.value, _usernames(f.notify), _usernames(f.escalated_to))
                  for f in safeguards.case_findings(Case.objects.get(pk=case.pk), as_of=day))


def _all_findings(copy: Copy, as_of: date | None) -> list[tuple[Any, ...]]:
    """The findings of the copy's cases opened by then (a daily worker never saw a case before
    it was opened, and asking about a day before a case existed is not a question worth asking)."""
    day = as_of or clock.today()
    return sorted(row for case in list(copy.cases.values()) if case.opened_at.date() <= day
                  for row in _findings(copy, case, as_of))


def _messages(copy: Copy) -> Counter[tuple[str, ...]]:
    """The copy's messages: case, kind, rule, finding, recipient, status, and whether they were
    queued before the week began (both copies had their worker then) or since."""
    ids = [c.pk for c in copy.cases.values()]
    week = at(copy.start, 0)
    return Counter((copy.label(m.case_id), m.kind, str(m.data.get("rule", "")),
                    re.sub(r"\d+", "#", str(m.data.get("finding_key", ""))), m.recipient.username, m.status,
                    "before" if m.created_at < week else "since")
                   for m in Message.objects.filter(case_id__in=ids).select_related("recipient"))


def _sends(mailoutbox: list[Any]) -> Counter[int]:
    """How many times the email backend was handed each outbox message (its Message-ID names it)."""
    found = (re.search(r"casetrail-(\d+)", m.extra_headers.get("Message-ID", "")) for m in mailoutbox)
    return Counter(int(m.group(1)) for m in found if m)


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its connection between cycles
def test_a_week_without_the_worker_is_caught_up_in_one_cycle_as_a_daily_worker_would_have(
        world: World, mailoutbox: list[Any]) -> None:
    # ---- the worker down for the week: nothing runs, staff go on recording
    down = _build(world, "down", DOWN_FROM)
    sent_before = Message.objects.filter(status=Message.Status.SENT).count()
    for day in range(WEEK + 1):
        _during_the_week(world, down, day)
    assert Message.objects.filter(status=Message.Status.SENT).count() == sent_before
    back = at(DOWN_FROM + timedelta(days=WEEK), 10)
    with frozen_at(back):
        due_now = _all_findings(down, None)
        _worker_cycle()
        first_sends = _sends(mailoutbox)
        _worker_cycle()  # and again: nothing more is queued or sent
    assert _sends(mailoutbox) == first_sends
    down_messages = _messages(down)
    assert {m[5] for m in down_messages} == {"sent"}
    # Every message of these cases was handed to the email backend exactly once.
    down_ids = set(Message.objects.filter(case__in=down.cases.values()).values_list("pk", flat=True))
    assert {pk: n for pk, n in first_sends.items() if pk in down_ids} == dict.fromkeys(down_ids, 1)
    # Every reminder and escalation due when the worker came back was sent, once to each person
    # told of it (two findings of one rule on a case are two messages).
    due: Counter[tuple[str, ...]] = Counter()
    for label, rule, key, _, _, notified, escalated in due_now:
        due.update((label, "finding", rule, key, username) for username in notified)
        due.update((label, "escalation", rule, key, username) for username in escalated)
    told: Counter[tuple[str, ...]] = Counter()
    for (label, kind, rule, key, username, status, _), n in down_messages.items():
        if status == "sent":
            told[(label, kind, rule, key, username)] += n
    assert {key: told[key] for key in due} == due
    assert any(kind == "escalation" for (_, kind, *_) in down_messages)  # the week did escalate something
    # The findings of each day, asked after the fact.
    down_days = {day: _all_findings(down, DOWN_FROM + timedelta(days=day)) for day in range(WEEK + 1)}

    # ---- the same scenario, five weeks later, with the worker running every morning
    daily = _build(world, "daily", DAILY_FROM)
    live_days: dict[int, list[tuple[Any, ...]]] = {}
    for day in range(WEEK + 1):
        _during_the_week(world, daily, day)
        with frozen_at(at(DAILY_FROM + timedelta(days=day), 10)):
            _worker_cycle()
            live_days[day] = _all_findings(daily, None)  # what the day's pass saw, as the day ended
    daily_messages = _messages(daily)

    # Findings: asked after the fact (as_of each day) they are what the daily worker saw that day,
    # in both copies, case by case.
    after_the_fact = {day: _all_findings(daily, DAILY_FROM + timedelta(days=day)) for day in range(WEEK + 1)}
    for day in live_days:
        assert after_the_fact[day] == live_days[day], (
            day, set(after_the_fact[day]) - set(live_days[day]), set(live_days[day]) - set(after_the_fact[day]))
    assert down_days == live_days

    # Messages: the catch-up sent what the daily worker sent, except the reminders of findings
    # that were dealt with before the worker came back (nobody needs telling of those any more).
    open_at_end = {(label, rule, key) for (label, rule, key, *_) in live_days[WEEK]}
    expected = Counter({m: n for m, n in daily_messages.items()
                        if m[1] not in ("finding", "escalation") or m[6] == "before"
                        or (m[0], m[2], m[3]) in open_at_end})
    assert down_messages == expected, (down_messages - expected, expected - down_messages)
    # The one difference: the escalation of the tasking acknowledged on day 6, sent on day 5 by the
    # daily worker, was no longer due when the worker came back.
    assert {m[:3] for m in daily_messages - expected} == {("acknowledged", "escalation", "tasking.unacknowledged")}
    # And the daily worker, too, sent each message once.
    daily_ids = set(Message.objects.filter(case__in=daily.cases.values()).values_list("pk", flat=True))
    assert {pk: n for pk, n in _sends(mailoutbox).items() if pk in daily_ids} == dict.fromkeys(daily_ids, 1)

