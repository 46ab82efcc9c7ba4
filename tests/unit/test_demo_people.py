"""The synthetic people generator: reproducible, drawn only from its own pools, shaped like the referral population."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from casetrail.core.referrals import normalise_postcode
from casetrail.demo.people import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    PLACES,
    PersonGenerator,
    is_from_pools,
    misspelt,
)

TODAY = date(2026, 11, 22)
# The referral form's rule, with the demo's own outward codes.
DEMO_POSTCODE = re.compile(r"^(NS|RV)[0-9]{1,2} [0-9][A-Z]{2}$")


def draw(seed: int, count: int, **overrides: object) -> list:
    generator = PersonGenerator(seed, today=TODAY)
    return [generator.person(**overrides) for _ in range(count)]  # type: ignore[arg-type]


def test_the_same_seed_draws_the_same_people() -> None:
    assert draw(7, 50) == draw(7, 50)


def test_a_different_seed_draws_different_people() -> None:
    assert [p.full_name for p in draw(7, 50)] != [p.full_name for p in draw(8, 50)]


def test_where_a_person_lives_never_changes_their_name_or_birth() -> None:
    north = draw(3, 40, area="northshire")
    river = draw(3, 40, area="riverton")
    assert [(p.full_name, p.date_of_birth) for p in north] == [(p.full_name, p.date_of_birth) for p in river]
    assert {p.postcode[:2] for p in north} == {"NS"} and {p.postcode[:2] for p in river} == {"RV"}


def test_every_name_comes_from_the_pools_and_none_repeats() -> None:
    people = draw(2026, 400)
    assert all(is_from_pools(p.given_names, p.family_name) for p in people)
    assert all(p.given_names != p.family_name for p in people)
    assert len({p.full_name for p in people}) == len(people)
    # The parent or carer who would consent is drawn from the pools too.
    assert all(is_from_pools(*p.parent_carer.split(" ", 1)) for p in people)


def test_the_population_mixes_naming_traditions() -> None:
    traditions = Counter(p.tradition for p in draw(2026, 400))
    assert len(traditions) >= 10
    assert traditions.most_common(1)[0][0] == "white_british"
    assert traditions["white_british"] < 0.6 * 400


def test_about_nine_in_ten_are_male_and_most_are_12_to_25() -> None:
    people = draw(11, 1000)
    males = sum(p.sex == "male" for p in people)
    ages = [p.age_on(TODAY) for p in people]
    assert 850 <= males <= 950
    assert sum(12 <= a <= 25 for a in ages) >= 900
    assert sum(a < 18 for a in ages) > 500


def test_addresses_and_postcodes_look_british_and_fictional() -> None:
    for person in draw(5, 200, area="northshire") + draw(5, 200, area="riverton"):
        assert DEMO_POSTCODE.match(person.postcode), person.postcode
        assert normalise_postcode(person.postcode) == person.postcode
        assert person.town in PLACES[person.area]
        assert person.address.endswith(person.town)
        assert re.match(r"^(Flat \d+, )?\d+ [A-Z]", person.address)
        assert person.school_or_workplace


def test_children_go_to_schools_named_after_places() -> None:
    children = [p for p in draw(9, 200) if p.age_on(TODAY) <= 15]
    assert children
    for child in children:
        assert any(child.school_or_workplace.startswith(place) for place in PLACES[child.area])


def test_overrides_are_honoured() -> None:
    person = draw(1, 1, sex="male", tradition="pakistani_bangladeshi", family_name="Hussain", age=16)[0]
    assert (person.sex, person.family_name, person.tradition) == ("male", "Hussain", "pakistani_bangladeshi")
    assert person.age_on(TODAY) == 16


def test_women_take_the_feminine_form_of_polish_surnames() -> None:
    women = draw(4, 25, sex="female", tradition="polish")
    assert all(not p.family_name.endswith("ski") for p in women)
    assert any(p.family_name.endswith("ska") for p in women)


def test_a_misspelling_is_a_different_name_the_pools_still_know() -> None:
    assert misspelt("Hussain") == "Husain"
    assert "Husain" in FAMILY_NAMES and "Hussain" in FAMILY_NAMES
    assert misspelt("Zzyzx") == "Zzyzx"


def test_an_unknown_area_is_refused() -> None:
    with pytest.raises(ValueError):
        PersonGenerator(1, today=TODAY).person(area="atlantis")


def test_the_demo_cast_is_pure_and_covers_every_plan() -> None:
    from casetrail.demo.load import PLANS, REPEAT_FAMILY_NAME, demo_cast

    cast = demo_cast(2026, TODAY)
    assert [j.person.full_name for j in cast] == [j.person.full_name for j in demo_cast(2026, TODAY)]
    assert len(cast) == sum(count for _, _, count in PLANS)
    assert {j.plan for j in cast} == {plan for plan, _, _ in PLANS}
    repeat = next(j for j in cast if j.plan == "repeat_referral")
    assert repeat.person.family_name == REPEAT_FAMILY_NAME
    assert all(j.person.given_names in GIVEN_NAMES for j in cast)


def test_everyone_has_a_made_up_nhs_number_and_pupils_a_upn() -> None:
    from stdnum.gb import nhs, upn

    people = draw(3, 300, area="northshire") + draw(4, 300, area="riverton")
    for person in people:
        assert nhs.is_valid(person.nhs_number) and person.nhs_number.startswith("999"), person.nhs_number
        if person.age_on(TODAY) <= 17:
            assert upn.is_valid(person.upn), person.upn
        if person.upn:
            assert person.upn[1:4] == {"northshire": "888", "riverton": "889"}[person.area]
            assert person.upn[8:10] == f"{(person.date_of_birth.year + 5) % 100:02d}"  # the year they started
        if person.age_on(TODAY) > 19:
            assert person.upn == ""
    assert any(p.upn for p in people) and any(not p.upn for p in people)
    one_generator = draw(5, 1000)
    numbers = [p.nhs_number for p in one_generator] + [p.upn for p in one_generator if p.upn]
    assert len(numbers) == len(set(numbers))  # never repeated within one demo


def test_identifiers_follow_from_the_seed_and_change_nothing_else() -> None:
    first, again = draw(8, 20), draw(8, 20)
    assert [(p.nhs_number, p.upn) for p in first] == [(p.nhs_number, p.upn) for p in again]
    assert [p.nhs_number for p in first] != [p.nhs_number for p in draw(9, 20)]
