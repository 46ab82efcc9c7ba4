"""Due dates computed from recorded facts: nothing here depends on a job having run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from casetrail.core.dates import add_months

POST_EXIT_REVIEW_MONTHS: tuple[int, ...] = (6, 12)
TASKING_ACKNOWLEDGEMENT_WORKING_DAYS = 5
INFORMATION_REQUEST_DAYS = 10
HANDOVER_RESPONSE_DAYS = 5


@dataclass(frozen=True)
class Due:
    what: str
    due_on: date

    def is_overdue(self, today: date) -> bool:
        return today > self.due_on

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def post_exit_review_dates(exited_on: date) -> dict[int, date]:
    """The 6- and 12-month reviews fall due that many calendar months after exit."""
    return {months: add_months(exited_on, months) for months in POST_EXIT_REVIEW_MONTHS}


def add_working_days(start: date, days: int) -> date:
    """Working days skip Saturdays and Sundays (bank holidays are not modelled)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def tasking_acknowledgement_due(commissioned_on: date) -> date:
    return add_working_days(commissioned_on, TASKING_ACKNOWLEDGEMENT_WORKING_DAYS)


def information_request_due(requested_on: date) -> date:
    return requested_on + timedelta(days=INFORMATION_REQUEST_DAYS)


def handover_response_due(offered_on: date, working_days: int = HANDOVER_RESPONSE_DAYS) -> date:
    """The last day a hand-over offer can be answered; after it the offer has lapsed."""
    return add_working_days(offered_on, working_days)


def handover_lapsed(offered_on: date, today: date, working_days: int = HANDOVER_RESPONSE_DAYS) -> bool:
    return today > handover_response_due(offered_on, working_days)


def earliest_live_offer_day(today: date, working_days: int = HANDOVER_RESPONSE_DAYS) -> date:
    """The earliest offer date whose offer has not lapsed by `today` (for filtering in a query)."""
    day = today
    while not handover_lapsed(day - timedelta(days=1), today, working_days):
        day -= timedelta(days=1)
    return day
