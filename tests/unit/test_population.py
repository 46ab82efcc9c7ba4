"""The synthetic person population that person linkage is trained and measured on: reproducible,
noisy at the configured rates, honest about its errors, full of hard negatives, and invented."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict

import jellyfish
import pyarrow as pa
import pytest

from casetrail.core.referrals import POSTCODE
from casetrail.people import population_names as names
from casetrail.people.population import (
    COLUMNS,
    ERROR_TYPES,
    LINKAGE_DATA,
    SCHEMA,
    PopulationConfig,
    generate_population,
    generate_population_with_truth,
    multi_part_variants,
    nicknames,
    transliteration_groups,
    true_pairs,
    typo,
)

N = 20_000

# Every real UK postcode area (and the non-geographic BF, BX, GIR, XM); ours must be none of them.
REAL_POSTCODE_AREAS = frozenset("""
AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH
EN EX FK FY G GIR GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME
MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA
TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV XM YO ZE
""".split())


@pytest.fixture(scope="module")
def population():
    return generate_population_with_truth(N, seed=11)


@pytest.fixture(scope="module")
def records(population):
    return population.records.to_pandas()


@pytest.fixture(scope="module")
def truth(population):
    return population.truth.to_pandas()


@pytest.fixture(scope="module")
def clean():
    """The same people with no recording errors at all."""
    return generate_population_with_truth(5_000, seed=3, config=PopulationConfig.without_errors())


def test_the_same_seed_gives_the_same_records() -> None:
    assert generate_population(3_000, seed=5).equals(generate_population(3_000, seed=5))


def test_a_different_seed_gives_different_records() -> None:
    first = generate_population(3_000, seed=5).column("family_name").to_pylist()
    second = generate_population(3_000, seed=6).column("family_name").to_pylist()
    assert first != second


def test_the_records_are_the_truths_records(population) -> None:
    again = generate_population(N, seed=11)
    assert again.equals(population.records)


def test_records_have_exactly_the_shared_schema(population) -> None:
    assert population.records.schema.equals(SCHEMA)
    assert tuple(population.records.column_names) == COLUMNS == (
        "record_id", "person_key", "given_names", "family_name", "other_names", "date_of_birth", "sex",
        "postcode", "address", "school", "nhs_number", "upn", "referred_on")
    for column in COLUMNS:
        assert population.records.column(column).null_count == 0


def test_record_ids_are_unique_and_say_nothing_about_the_person(records) -> None:
    assert records.record_id.is_unique
    assert len(records) == N
    first_key_per_id_order = records.sort_values("record_id").person_key
    # Consecutive records rarely belong to one person: ids follow referral dates, not people.
    assert (first_key_per_id_order.values[1:] == first_key_per_id_order.values[:-1]).mean() < 0.01


def test_the_duplicate_rate_sets_how_many_people_there_are(records) -> None:
    assert records.person_key.nunique() == round(N * 0.8)
    people = generate_population(2_000, seed=1, duplicate_rate=0.5).column("person_key").to_pylist()
    assert len(set(people)) == 1_000


def test_most_people_are_referred_once_and_some_three_times_or_more(records) -> None:
    per_person = Counter(records.person_key.value_counts())
    people = sum(per_person.values())
    assert per_person[1] / people > 0.75
    assert per_person[2] / people > 0.1
    assert per_person[3] > 50  # Southport: three referrals of the same boy


def test_referrals_of_one_person_are_in_date_order_and_in_the_period(records) -> None:
    assert records.referred_on.between("2016-01-01", "2025-12-31").all()
    by_record = records.sort_values("record_id")
    assert by_record.referred_on.is_monotonic_increasing


@pytest.mark.parametrize("error", list(ERROR_TYPES))
def test_every_error_happens_at_about_its_configured_rate(truth, error: str) -> None:
    rate = getattr(PopulationConfig(), ERROR_TYPES[error])
    flag = truth[error]
    possible = flag.notna()
    assert possible.sum() >= 200, f"{error} could happen on only {possible.sum()} records"
    observed = (flag[possible] == True).mean()  # noqa: E712 (a nullable column)
    tolerance = 4 * math.sqrt(rate * (1 - rate) / possible.sum()) + 0.003
    assert abs(observed - rate) <= tolerance, f"{error}: {observed:.4f} against {rate}"


def test_a_surname_changes_for_some_people_referred_more_than_once(truth) -> None:
    changed = truth[truth.family_name_changed]
    assert 0 < changed.person_key.nunique()
    per_person = truth.groupby("person_key").family_name_changed.agg(["any", "all"])
    assert not per_person["all"].any()  # the first referral always has the old name


NAME_ERRORS = ["given_typo", "given_initial_only", "nickname_used", "given_transliterated", "middle_name_dropped",
               "name_order_swapped", "name_case_changed", "family_typo", "family_transliterated",
               "family_multi_part_varied"]


def _none_of(truth, errors: list[str]):
    return ~truth[errors].eq(True).any(axis=1)


def test_records_without_a_name_error_carry_the_true_names(records, truth) -> None:
    untouched = _none_of(truth, NAME_ERRORS)
    assert untouched.mean() > 0.5
    assert (records.given_names[untouched] == truth.true_given_names[untouched]).all()
    assert (records.family_name[untouched] == truth.true_family_name[untouched]).all()
    touched = ~untouched & _none_of(truth, ["name_case_changed", "middle_name_dropped"])
    differs = (records.given_names != truth.true_given_names) | (records.family_name != truth.true_family_name)
    assert differs[touched].mean() > 0.98


def test_records_without_a_date_error_carry_the_true_date_of_birth(records, truth) -> None:
    errors = ["dob_missing", "dob_year_only", "dob_year_month", "dob_day_month_swapped", "dob_digit_typo"]
    untouched = _none_of(truth, errors)
    assert (records.date_of_birth[untouched] == truth.true_date_of_birth[untouched]).all()
    assert (records.date_of_birth[~untouched] != truth.true_date_of_birth[~untouched]).all()


def test_partial_dates_of_birth_keep_only_year_or_year_and_month(records, truth) -> None:
    year = truth.dob_year_only == True  # noqa: E712
    month = truth.dob_year_month == True  # noqa: E712
    assert (records.date_of_birth[year] == truth.true_date_of_birth[year].str[:4]).all()
    assert (records.date_of_birth[month] == truth.true_date_of_birth[month].str[:7]).all()
    assert records.date_of_birth.str.fullmatch(r"(\d{4}(-\d{2}(-\d{2})?)?)?").all()


def test_records_without_an_address_error_carry_the_true_postcode_and_address(records, truth) -> None:
    postcode_ok = _none_of(truth, ["postcode_missing", "postcode_typo", "postcode_unspaced"])
    address_ok = _none_of(truth, ["address_missing", "address_reformatted", "address_typo"])
    assert (records.postcode[postcode_ok] == truth.true_postcode[postcode_ok]).all()
    assert (records.address[address_ok] == truth.true_address[address_ok]).all()


def test_a_move_gives_a_new_address_that_later_referrals_keep(truth) -> None:
    moved = truth.moved == True  # noqa: E712
    assert moved.sum() > 100
    ordered = truth.sort_values("record_id")
    previous = ordered.groupby("person_key").true_address.shift()
    changed = ordered.true_address.ne(previous) & previous.notna()
    # An address changes only at a move (now and then a move lands on the same street and number).
    assert not (changed & ~moved.loc[ordered.index]).any()
    assert changed[moved.loc[ordered.index]].mean() > 0.95


def test_without_errors_every_record_is_the_truth(clean) -> None:
    records, truth = clean.records.to_pandas(), clean.truth.to_pandas()
    assert (records.given_names == truth.true_given_names).all()
    assert (records.family_name == truth.true_family_name).all()
    assert (records.date_of_birth == truth.true_date_of_birth).all()
    assert (records.postcode == truth.true_postcode).all()
    assert (records.sex == truth.true_sex).all()
    for error in ERROR_TYPES:
        if error != "moved":
            assert not (truth[error] == True).any(), error  # noqa: E712


def _given_pool() -> set[str]:
    return {n for parts in names.TRADITIONS.values() for sex in names.SEXES for n in parts[sex]}


def _family_pool() -> set[str]:
    pool = {n for parts in names.TRADITIONS.values() for n in parts["family"]} | set(names.COMPOUND_SURNAMES)
    feminine = {re.sub(r"(ski|cki)$", lambda m: m.group(1)[:-1] + "a", n) for n in pool}
    slavic = {n + "a" for n in pool if n.endswith(("ov", "ev", "in"))}
    return pool | feminine | slavic | {"Kaur"}


def _splits_into(full: str, pool: set[str]) -> bool:
    """One pool name, or two joined by a space (a first and a second given name)."""
    return full in pool or any(full[:i] in pool and full[i + 1:] in pool for i, c in enumerate(full) if c == " ")


def test_true_names_come_only_from_the_name_pools(clean) -> None:
    records = clean.records.to_pandas()
    given, family = _given_pool(), _family_pool()
    assert all(_splits_into(full, given) for full in records.given_names)
    assert all(surname in family or all(part in family for part in surname.split("-"))
               for surname in records.family_name)
    also_known_as = given | {v for vs in nicknames().values() for v in vs} | {
        n for pool in names.ENGLISH_ALIASES.values() for n in pool}
    aliases = [a for cell in records.other_names if cell for a in cell.split(";")]
    assert aliases and all(a.split(" ")[0] in also_known_as for a in aliases)


def test_no_name_points_at_a_real_widely_reported_person(records) -> None:
    avoid = names.AVOID_FULL_NAMES
    for given, family, other in zip(records.given_names, records.family_name, records.other_names, strict=True):
        first = given.split(" ")[0]
        for full in (f"{first} {family}", f"{family} {first}", f"{given} {family}", *other.split(";")):
            assert full.lower() not in avoid, full


def test_every_postcode_is_uk_format_in_an_invented_area(records) -> None:
    postcodes = records.postcode[records.postcode != ""]
    assert len(postcodes) > 0.9 * N
    assert postcodes.map(lambda p: bool(POSTCODE.match(p))).all()
    areas = set(postcodes.str.extract(r"^([A-Z]+)")[0])
    assert areas <= set(names.AREAS)
    assert not areas & REAL_POSTCODE_AREAS


def test_addresses_are_in_invented_towns(truth) -> None:
    towns = {town for _, area_towns in names.AREAS.values() for town in area_towns}
    assert set(truth.true_address.str.rsplit(", ", n=1).str[1]) <= towns
    assert truth.true_address.str.match(r"^(Flat \d+, )?\d+ [A-Z]").all()


def test_twins_share_surname_birth_and_home_but_not_a_given_name(truth) -> None:
    first = truth.sort_values("record_id").groupby("person_key").first()
    twins = first[first.relation == "twin"]
    assert len(twins) > 20
    for twin in twins.itertuples():
        other = first.loc[twin.related_person_key]
        assert twin.Index != twin.related_person_key
        assert twin.true_date_of_birth == other.true_date_of_birth
        assert twin.true_family_name[:4] == other.true_family_name[:4] or "Kaur" in (
            twin.true_family_name, other.true_family_name)
        assert twin.true_given_names.split(" ")[0] != other.true_given_names.split(" ")[0]
    homes = first.groupby("person_key").true_address.first()
    at_home = [homes[t.Index] == homes[t.related_person_key] for t in twins.itertuples()]
    assert all(at_home)  # a person's first referral is always from home


def test_siblings_and_fathers_share_a_home_but_not_a_birth_date(truth) -> None:
    first = truth.sort_values("record_id").groupby("person_key").first()
    for relation in ("sibling", "parent_namesake"):
        relatives = first[first.relation == relation]
        assert len(relatives) > 5, relation
        for person in relatives.itertuples():
            other = first.loc[person.related_person_key]
            assert person.true_address == other.true_address
            assert person.true_date_of_birth != other.true_date_of_birth
            if relation == "parent_namesake":
                assert person.true_given_names == other.true_given_names.split(" ")[0]
                assert person.true_date_of_birth < other.true_date_of_birth


def test_different_people_share_common_names_with_different_births(records, truth) -> None:
    common = truth[truth.relation == "common_name"]
    full = common.true_given_names.str.split(" ").str[0] + " " + common.true_family_name
    people = common.assign(full=full).groupby("full").agg(people=("person_key", "nunique"),
                                                          births=("true_date_of_birth", "nunique"))
    assert (people.people >= 3).sum() >= 5
    assert (people.births >= people.people).all()
    # And collisions happen among everyone else too, as they do in life.
    names_per_person = (records.given_names.str.split(" ").str[0] + " " + records.family_name).groupby(
        records.person_key).first()
    assert (names_per_person.value_counts() >= 5).sum() > 20


def test_true_pairs_are_every_pair_of_one_persons_records() -> None:
    table = pa.table({"record_id": ["a", "b", "c", "d", "e"], "person_key": ["p", "p", "p", "q", "r"]})
    assert true_pairs(table) == {("a", "b"), ("a", "c"), ("b", "c")}


@pytest.mark.parametrize("name", ["Katherine", "Mohammed", "Okafor", "Wiśniewski", "Ng", "Abdul Rahman"])
def test_a_typo_is_one_small_change(name: str) -> None:
    import random

    rnd = random.Random(4)
    for _ in range(200):
        wrong = typo(name, rnd)
        assert wrong != name
        assert jellyfish.damerau_levenshtein_distance(wrong.lower(), name.lower()) <= 2


def test_surnames_of_several_parts_are_recorded_in_the_usual_ways() -> None:
    assert {"Smith", "Okafor", "Okafor Smith", "Smith-Okafor"} <= set(multi_part_variants("Okafor-Smith"))
    assert {"Vanderberg", "Berg"} <= set(multi_part_variants("Van der Berg"))
    assert {"Hassan", "Alhassan", "El-Hassan"} <= set(multi_part_variants("Al-Hassan"))
    assert {"OBrien", "O Brien"} <= set(multi_part_variants("O'Brien"))
    assert "Mc Carthy" in multi_part_variants("McCarthy")
    assert multi_part_variants("Smith") == ()


def test_the_variant_tables_are_well_formed() -> None:
    with (LINKAGE_DATA / "nicknames.csv").open(encoding="utf-8", newline="") as handle:
        nick_rows = list(csv.reader(handle))
    with (LINKAGE_DATA / "transliterations.csv").open(encoding="utf-8", newline="") as handle:
        translit_rows = list(csv.reader(handle))
    assert nick_rows[0] == ["name", "variant"] and translit_rows[0] == ["group_id", "variant"]
    assert 300 <= len(nick_rows) - 1 <= 2000 and 300 <= len(translit_rows) - 1 <= 2000
    assert all(len(row) == 2 and all(v.strip() == v and v for v in row) for row in nick_rows + translit_rows)
    assert len({tuple(r) for r in nick_rows}) == len(nick_rows)
    assert all(name != variant for name, variant in nick_rows[1:])
    groups_of: dict[str, set[str]] = defaultdict(set)
    for group, variant in translit_rows[1:]:
        groups_of[variant].add(group)
    assert all(len(groups) == 1 for groups in groups_of.values())  # a spelling belongs to one name
    assert all(len(variants) >= 2 for variants in transliteration_groups().values())
    assert {"Mohammed", "Muhammad", "Mohamed", "Mohammad"} <= set(transliteration_groups()["mohammed"])
    assert {"Aleksandr", "Alexander", "Oleksandr"} <= set(transliteration_groups()["aleksandr"])
    assert {"Will", "Bill"} <= set(nicknames()["William"]) and "Mo" in nicknames()["Mohammed"]


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        PopulationConfig(given_typo_rate=1.5)
    with pytest.raises(ValueError, match="add up"):
        PopulationConfig(dob_missing_rate=0.6, dob_year_only_rate=0.6)
    with pytest.raises(ValueError):
        generate_population(0)
    with pytest.raises(ValueError):
        generate_population(10, duplicate_rate=1.0)


def test_identifiers_are_valid_synthetic_numbers_recorded_only_sometimes(records, truth) -> None:
    from stdnum.gb import nhs, upn

    with_nhs, with_upn = records[records.nhs_number != ""], records[records.upn != ""]
    # NHS numbers from the 999 range, kept for testing and never issued; pupil numbers well formed.
    assert with_nhs.nhs_number.str.match(r"^999\d{7}$").all()
    assert all(nhs.is_valid(n) for n in with_nhs.nhs_number)
    assert all(upn.is_valid(n) for n in with_upn.upn)
    config = PopulationConfig()
    assert abs(len(with_nhs) / len(records) - config.nhs_number_recorded_rate) < 0.02
    # A pupil number only where the referral names a school or college (as recorded or before it was lost).
    school_age = (records.school != "") | (truth.school_missing == True)  # noqa: E712
    assert not (records.upn != "")[~school_age].any()
    assert abs(len(with_upn) / school_age.sum() - config.upn_recorded_rate) < 0.03


def test_a_persons_records_carry_one_number_unless_it_was_recorded_wrongly(records, truth) -> None:
    joined = records.assign(wrong=truth.identifier_wrong == True)  # noqa: E712 (a nullable column)
    for column in ("nhs_number", "upn"):
        right = joined[(joined[column] != "") & ~joined.wrong]
        assert (right.groupby("person_key")[column].nunique() == 1).all(), column
        owners = right.groupby(column).person_key.nunique()
        assert (owners == 1).all(), f"two people share a {column}"
    wrong = joined[joined.wrong]
    assert len(wrong) > 5
    truly = joined[~joined.wrong & (joined.nhs_number != "")].groupby("person_key").nhs_number.first()
    recorded = wrong[wrong.nhs_number != ""]
    assert not any(truly.get(p) == n for p, n in zip(recorded.person_key, recorded.nhs_number, strict=True))
