"""Creating people and keeping the search keys of every identity recorded for them."""

from __future__ import annotations

from casetrail import clock
from casetrail.core.dates import PartialDate
from casetrail.people.keys import keys_for
from casetrail.people.models import Person, SearchKey


def _next_reference() -> str:
    year = clock.today().year
    count = Person.objects.filter(reference__startswith=f"P-{year}-").count() + 1
    return f"P-{year}-{count:06d}"


def person_create(*, given_names: str, family_name: str, birth: PartialDate | None, sex: str) -> Person:
    person = Person.objects.create(
        reference=_next_reference(),
        given_names=given_names.strip(),
        family_name=family_name.strip(),
        date_of_birth=birth.to_iso() if birth else "",
        sex=sex,
        created_at=clock.now(),
    )
    person_index(person=person, names=[person.given_names, person.family_name], birth=birth)
    return person


def person_index(*, person: Person, names: list[str], birth: PartialDate | None) -> None:
    """Add the keys of one recorded identity; a person keeps the keys of every spelling."""
    existing = set(SearchKey.objects.filter(person=person).values_list("kind", "value"))
    SearchKey.objects.bulk_create(
        [SearchKey(person=person, kind=k, value=v) for k, v in keys_for(names, birth) - existing]
    )
