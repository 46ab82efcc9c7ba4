"""The indexes added for national scale are the ones the queries can use (PostgreSQL's planner,
asked to avoid reading tables whole, since these test tables are tiny): search's name prefix
through the pattern index, the audit log by period through the index on its time, and who looked
at a person through the person's and their cases' indexes. Timings are measured in
bench/national/explain.py, never here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection

from casetrail.audit.selectors import log_search
from casetrail.people.models import SearchKey

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans of PostgreSQL")


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
def test_a_name_prefix_is_searched_through_the_index(db: Any) -> None:
    # On an empty table the planner may pick either index; with some keys and their statistics it
    # must take the one that bounds the prefix.
    from django.utils import timezone

    from casetrail.people.models import Person

    people = Person.objects.bulk_create([Person(reference=f"P-PLAN-{n}", given_names="Plan", family_name="Test",
                                                created_at=timezone.now()) for n in range(20)])
    SearchKey.objects.bulk_create([SearchKey(person=people[n % 20], kind=kind, value=f"{kind}{n:05d}")
                                   for n in range(4000) for kind in ("name", "phonetic")])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_searchkey")
    plan = _plan(SearchKey.objects.filter(kind="name", value__startswith="jon").values_list("person_id", flat=True))
    assert "search_key_kind_value_idx" in plan
    assert "~>=~" in plan and "~<~" in plan, plan  # the prefix bounds the index scan


@postgresql_only
def test_the_audit_log_of_a_period_is_read_through_its_time_index(db: Any) -> None:
    today = date.today()
    plan = _plan(log_search(start=today - timedelta(days=30), end=today))
    assert "audit_acces_at_3aaa36_idx" in plan, plan


def test_who_looked_at_a_person_names_their_cases_rather_than_joining_them(world: Any) -> None:
    """An OR through a join to the cases can use no index; the ids of the person's cases can."""
    from casetrail.referrals.services import referral_submit

    from .conftest import referral_input

    case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    today = date.today()
    sql, params = log_search(person_id=case.person_id, start=today - timedelta(days=30), end=today) \
        .query.sql_with_params()
    where = sql[sql.index(" WHERE "):]
    assert '"cases_case"."person_id"' not in where
    assert '"audit_accesslogentry"."case_id" IN' in where and case.pk in params


@postgresql_only
def test_the_last_identity_change_is_read_from_the_kind_index(db: Any) -> None:
    from casetrail.audit.models import Event
    from casetrail.people.matching import IDENTITY_CHANGE_EVENTS

    for kind in IDENTITY_CHANGE_EVENTS:
        plan = _plan(Event.objects.filter(kind=kind).order_by("-seq").values_list("seq", flat=True)[:1])
        assert "Index Only Scan Backward using audit_event_kind_4c17cf_idx" in plan, plan
