"""Replays for the scenario tests: each is run once per session through the real services, its
outcome read, and its writes rolled back, so the tests read plain data and share no rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from casetrail.replay.engine import Outcome, run
from casetrail.replay.format import load

SCENARIOS = Path(__file__).resolve().parents[2] / "casetrail" / "replay" / "scenarios"
LEARNING_REVIEW_2014 = SCENARIOS / "learning-review-2014.yaml"
REPEAT_REFERRALS = SCENARIOS / "repeat-referrals-2019.yaml"
MENTORING = SCENARIOS / "mentoring-peters-out-2022.yaml"
CUSTODY = SCENARIOS / "custody-and-release-2018.yaml"

# Days on which the tests compare the report's findings with the product's own adapter.
CHECK_DAYS = (date(2014, 12, 6), date(2015, 2, 8), date(2015, 4, 8), date(2016, 4, 20), date(2021, 10, 18))


@dataclass
class Replayed:
    outcome: Outcome
    adapter_keys: dict[date, set[str]]  # casetrail.cases.safeguards.case_findings on the main case
    rows_left: int  # cases in the database after the run was rolled back


def _replayed(path: Path, django_db_blocker: Any, check_days: tuple[date, ...] = ()) -> Replayed:
    from casetrail.cases.models import Case
    from casetrail.cases.safeguards import case_findings

    with django_db_blocker.unblock():
        with transaction.atomic():
            outcome = run(load(path))
            case = Case.objects.get(pk=outcome.cases[0].case_id)
            keys = {day: {f.key for f in case_findings(case, as_of=day)} for day in check_days}
            transaction.set_rollback(True)
        left = Case.objects.count()
    return Replayed(outcome, keys, left)


@pytest.fixture(scope="session")
def replay_2014(django_db_setup: Any, django_db_blocker: Any) -> Replayed:
    return _replayed(LEARNING_REVIEW_2014, django_db_blocker, CHECK_DAYS)


@pytest.fixture(scope="session")
def replay_repeat_referrals(django_db_setup: Any, django_db_blocker: Any) -> Replayed:
    return _replayed(REPEAT_REFERRALS, django_db_blocker)


@pytest.fixture(scope="session")
def replay_mentoring(django_db_setup: Any, django_db_blocker: Any) -> Replayed:
    return _replayed(MENTORING, django_db_blocker)


@pytest.fixture(scope="session")
def replay_custody(django_db_setup: Any, django_db_blocker: Any) -> Replayed:
    return _replayed(CUSTODY, django_db_blocker)
