"""Property-based: random sequences of referrals of one boy, his surname misspelt in turn, and of
what officers do about them. Whatever the order, and whoever links what:

- no referral closes at the gateway while a possible earlier record of it is unresolved;
- no third (or later) referral within the window closes without a second officer's review,
  whether or not anyone linked the referrals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casetrail.cases import services
from casetrail.cases.earlier_records import unresolved
from casetrail.cases.models import Case
from casetrail.core.dates import PartialDate
from casetrail.core.decisions import DecisionType
from casetrail.core.errors import DomainError
from casetrail.people.matching import current_person, forget_index
from casetrail.referrals.services import referral_submit

from .conftest import World, frozen_at, referral_input

START = date.today() - timedelta(days=300)
SPELLINGS = ["Rudakowski", "Rudakowsky", "Rudakovski", "Rudakowksi", "Rudakowskii"]
WHY = "Recorded for the property test, with enough words."
STEP = st.one_of(
    st.tuples(st.just("refer"), st.sampled_from(SPELLINGS)),
    st.tuples(st.sampled_from(["link", "reject", "unlink", "review", "close", "close"]), st.integers(0, 4)),
)


def _at(day: date) -> Any:
    return frozen_at(timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10)))


class Run:
    """One sequence of steps, with what each successful gateway closure looked like."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cases: list[Case] = []
        self.day = START

    def case(self, index: int) -> Case | None:
        return Case.objects.get(pk=self.cases[index].pk) if index < len(self.cases) else None

    def do(self, name: str, arg: Any) -> None:
        u = self.world.users
        if name == "refer":
            data = referral_input(self.world, given_names="Axel", family_name=arg, sex="male",
                                  date_of_birth=PartialDate(2006, 8, 7), postcode="TE4 9QA",
                                  address="14 Larch Close, Testbridge", school_or_workplace="Testbridge High School",
                                  first_observed_on=self.day - timedelta(days=2))
            self.cases.append(referral_submit(user=u["referrer"], data=data)[0].case)
            return
        case = self.case(arg)
        if case is None or not self.cases:
            return
        first_person = current_person(self.case(0).person)  # type: ignore[union-attr]
        match name:
            case "link":
                services.case_link_person(user=u["police"], case=case, person=first_person, rationale=WHY)
            case "reject":
                services.match_reject(user=u["police"], case=case, person=first_person, rationale=WHY)
            case "unlink":
                services.person_link_undo(user=u["police"], case=case, rationale=WHY)
            case "review":
                services.gateway_second_review_record(user=u["police2"], case=case, agree=True, rationale=WHY,
                                                      reviewed_on=self.day)
            case "close":
                self.close(arg, case)

    def close(self, index: int, case: Case) -> None:
        waiting = unresolved(case)
        services.gateway_decide(user=self.world.users["police"], case=case, expected_version=None,
                                deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="no_further_action", signposted_to="",
                                rationale="No vulnerability to radicalisation found in the checks made.",
                                decided_on=self.day, nfa_reasons=["no_vulnerability"])
        # It closed: the promises must hold.
        assert waiting == [], f"referral {index + 1} closed with unresolved earlier records"
        reviewed = case.decisions.filter(type=DecisionType.GATEWAY_SECOND_REVIEW, outcome="agree_close") \
            .exclude(author=self.world.users["police"]).exists()
        assert index + 1 < 3 or reviewed, f"referral {index + 1} of one boy closed without a second review"


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=3, max_size=14), gaps=st.lists(st.integers(0, 20), min_size=14, max_size=14))
def test_no_sequence_closes_a_repeat_referral_unseen(world: World, steps: list[tuple[str, Any]],
                                                     gaps: list[int]) -> None:
    forget_index()  # each example starts from an empty index: the last one's records were rolled back
    with transaction.atomic():
        run = Run(world)
        for (name, arg), gap in zip(steps, gaps, strict=False):
            run.day += timedelta(days=gap)
            with _at(run.day):
                try:
                    run.do(name, arg)
                except DomainError:
                    pass  # refused: nothing was written, and the next step goes on
        transaction.set_rollback(True)
    forget_index()
