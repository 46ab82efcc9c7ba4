"""Intake matching: every earlier referral of the same person is found however the identity was
written, scored with exactly the match weights Splink computes."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casetrail.people.linkage.index import CandidateIndex, score_normalised
from casetrail.people.linkage.model import count_term_frequencies, linker_for
from casetrail.people.linkage.records import (
    Identity,
    identities_from_table,
    normalise,
    normalise_table,
)
from tests.unit.linkage_helpers import population, shipped_model, trained_model


@pytest.fixture(scope="module")
def background():
    return identities_from_table(population(3000, seed=5))


@pytest.fixture(scope="module")
def model():
    return shipped_model()


def index_with(background, model, *identities):
    index = CandidateIndex.build(background, model)
    for identity in identities:
        index.add(identity)
    return index


def top(index, identity):
    found = index.candidates(identity, limit=5)
    assert found, f"no candidate for {identity}"
    return found[0]


def levels(candidate):
    return {e.field: e.level for e in candidate.evidence}


def test_the_southport_pattern_one_person_three_referrals(background, model):
    first = Identity("s1", "Tobias", "Rutherford", date_of_birth="2006-08-07", postcode="LS6 2AB", sex="M")
    second = Identity("s2", "Tobias", "Rutherfrod", date_of_birth="2006-08-07", sex="M")
    third = Identity("s3", "Tobias", "Rutherfurd", date_of_birth="2006-08-07", postcode="LS6 2AB", sex="M")
    index = index_with(background, model, first)
    found = index.candidates(second)
    assert found[0].record_id == "s1" and found[0].match_probability > 0.9
    assert levels(found[0])["Family name"] == "one letter different"
    index.add(second)
    found = index.candidates(third)
    assert {c.record_id for c in found[:2]} == {"s1", "s2"}
    assert all(c.match_probability > 0.9 for c in found[:2])


@pytest.mark.parametrize(
    ("earlier", "later", "field", "level"),
    [
        (("Mohammed", "Hussain", "2008-03-14"), ("Muhammad", "Hussain", "2008-03-14"),
         "Given name", "nickname or spelling variant"),
        (("Aleksandr", "Ivanov", "2007-11-02"), ("Alexander", "Ivanov", "2007-11-02"),
         "Given name", "nickname or spelling variant"),
        (("Robert", "Fairbrother", "2009-05-20"), ("Bob", "Fairbrother", "2009-05-20"),
         "Given name", "nickname or spelling variant"),
        (("Kwame", "Mensah", "2005-01-30"), ("Mensah", "Kwame", "2005-01-30"),
         "Family name", "given and family names swapped"),
        (("Rahul Tejas", "Ranawat", "2003-06-12"), ("Ranawat", "Rahul Tejas", "2003-06-12"),
         "Family name", "given and family names swapped"),
        (("Nikhil", "Parmar", "2008-06-07"), ("Parmar", "Nik", "2008-06-07"),
         "Family name", "given and family names swapped, one spelt differently"),
        (("Bradley", "Shaw", "2009-09-03"), ("Hsaw", "Bradley", "2009-09-03"),
         "Family name", "given and family names swapped, one spelt differently"),
        (("Priya", "Ranganathan", "2006-04-09"), ("Priya", "Ranganathan", "2006-09-04"),
         "Date of birth", "transposed day and month"),
        (("Chloe", "Smith-Jones", "2010-07-23"), ("Chloe", "Jones", "2010-07-23"),
         "Family name", "shares part of a multi-part name"),
        (("Oskar", "Wojciechowski", "2004-12-01"), ("Oskar", "Wojciechowski", "2004"),
         "Date of birth", "year agrees, month not recorded"),
    ],
)
def test_an_earlier_referral_is_found_however_the_identity_was_written(background, model, earlier, later, field, level):
    first = Identity("e1", earlier[0], earlier[1], date_of_birth=earlier[2], postcode="BD7 1AA")
    second = Identity("e2", later[0], later[1], date_of_birth=later[2], postcode="BD7 1AA")
    found = top(index_with(background, model, first), second)
    assert found.record_id == "e1"
    assert found.match_probability > 0.5
    assert levels(found)[field] == level


def test_evidence_says_what_agreed_and_what_was_missing(background, model):
    first = Identity("v1", "Amelia", "Hartley", date_of_birth="2011-02-03", postcode="HX1 4QT")
    second = Identity("v2", "Amelia", "Hartley", date_of_birth="2011-02-03")
    found = top(index_with(background, model, first), second)
    by_field = {e.field: e for e in found.evidence}
    # The full name agreeing is weighed once, under given name; the family name's row says it
    # agrees and weighs nothing.
    assert by_field["Given name"].level.startswith("exact, as is the family name")
    assert by_field["Given name"].agrees is True and by_field["Given name"].weight > 10
    family = by_field["Family name"]
    assert family.level == "exact (weighed with the given name)" and family.agrees is True and family.weight == 0.0
    assert by_field["Postcode"].level == "missing" and by_field["Postcode"].agrees is None
    assert by_field["Postcode"].weight == 0.0
    assert abs(sum(e.weight for e in found.evidence) + model.weights.prior - found.match_weight) < 1e-9


def test_removed_records_are_no_longer_candidates(background, model):
    first = Identity("x1", "Harriet", "Quayle", date_of_birth="2003-06-06")
    index = index_with(background, model, first)
    assert top(index, Identity("x2", "Harriet", "Quayle", date_of_birth="2003-06-06")).record_id == "x1"
    assert index.remove("x1") and "x1" not in index
    assert all(c.record_id != "x1" for c in index.candidates(Identity("x2", "Harriet", "Quayle")))


def test_a_record_is_never_its_own_candidate(background, model):
    first = Identity("y1", "Ivo", "Pemberton", date_of_birth="2001-01-01")
    assert index_with(background, model, first).candidates(first) == []


def test_an_identity_with_only_a_date_and_postcode_still_gets_candidates(background, model):
    first = Identity("z1", "Nell", "Gwynne", date_of_birth="2002-02-02", postcode="CF10 1AA")
    found = index_with(background, model, first).candidates(
        Identity("z2", "", "", date_of_birth="2002-02-02", postcode="CF10 1AA"), min_probability=0.0
    )
    assert found and found[0].record_id == "z1"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=14), st.text(max_size=10),
       st.lists(st.text(max_size=15), max_size=2))
def test_bad_input_never_raises_from_candidates(given_names, family_name, dob, postcode, aliases):
    index = _HYPOTHESIS_INDEX.get("index")
    if index is None:
        index = _HYPOTHESIS_INDEX["index"] = CandidateIndex.build(
            identities_from_table(population(500, seed=9)), shipped_model()
        )
    found = index.candidates(Identity("q", given_names, family_name, tuple(aliases), dob, dob, postcode))
    assert isinstance(found, list)


_HYPOTHESIS_INDEX: dict[str, CandidateIndex] = {}


def test_a_non_identity_is_a_clear_error(background, model):
    with pytest.raises(TypeError):
        CandidateIndex(model).candidates({"given_names": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize("frequencies", [False, True], ids=["as trained", "with common full names"])
def test_index_scores_equal_splinks_predict(frequencies):
    model = trained_model()
    data = normalise_table(population(4000, seed=21))
    if frequencies:  # names shared by two or more of these records count as common
        model = replace(model, term_frequencies=count_term_frequencies(data, min_count=2, min_records=0))
        assert len(model.term_frequencies["name_key"]["counts"]) > 20
    predictions = linker_for(model, data).inference.predict(warning_mode="never").as_pyarrow_table()
    assert predictions.num_rows > 100
    rows = {r["record_id"]: r for r in data.to_pylist()}
    sample = random.Random(0).sample(predictions.to_pylist(), min(3000, predictions.num_rows))
    adjusted = 0
    for pair in sample:
        left, right = rows[pair["record_id_l"]], rows[pair["record_id_r"]]
        ours = score_normalised(model, left, right)
        assert abs(ours - pair["match_weight"]) < 1e-6, pair
        adjusted += ours < score_normalised(trained_model(), left, right) - 1e-6
    assert (adjusted > 10) == frequencies  # a common full name weighs less, in Splink as here


def test_intake_candidates_carry_splinks_weight_and_probability():
    model = trained_model()
    table = population(2000, seed=22)
    data = normalise_table(table)
    predictions = linker_for(model, data).inference.predict(warning_mode="never").as_pyarrow_table()
    splink = {(p["record_id_l"], p["record_id_r"]): p for p in predictions.to_pylist()}
    identities = identities_from_table(table)
    index = CandidateIndex.build(identities, model)
    checked = 0
    for identity in identities[:300]:
        for candidate in index.candidates(identity, limit=20, min_probability=0.0):
            pair = splink.get((identity.record_id, candidate.record_id)) or splink.get(
                (candidate.record_id, identity.record_id))
            if pair is not None:
                assert abs(candidate.match_weight - pair["match_weight"]) < 1e-6
                assert abs(candidate.match_probability - pair["match_probability"]) < 1e-6
                checked += 1
    assert checked > 20


def test_normalised_records_can_be_added_directly(model):
    index = CandidateIndex(model)
    index.add(normalise(Identity("n1", "Maud", "Gonne", date_of_birth="1999-09-09")))
    assert top(index, Identity("n2", "Maud", "Gonne", date_of_birth="1999-09-09")).record_id == "n1"


def test_names_swapped_need_the_other_name_to_agree_at_least_by_initial(model):
    index = CandidateIndex(model)
    pair = index.score_pair(Identity("w1", "Nikhil", "Parmar", date_of_birth="2008-06-07"),
                            Identity("w2", "Parmar", "Sunil", date_of_birth="2008-06-07"))
    assert not levels(pair)["Family name"].startswith("given and family names swapped")
    # Agreeing the other way round only by initial is weaker evidence than both names swapped:
    # many given names are family names too (Owen Dunwood and Dylan Owen are strangers).
    both = index.score_pair(Identity("k1", "Kwame", "Mensah"), Identity("k2", "Mensah", "Kwame"))
    initial = index.score_pair(Identity("o1", "Owen", "Dunwood"), Identity("o2", "Dylan", "Owen"))
    assert levels(both)["Family name"] == "given and family names swapped"
    assert levels(initial)["Family name"] == "given and family names swapped, one spelt differently"
    weight = {c.record_id: {e.field: e.weight for e in c.evidence}["Family name"] for c in (both, initial)}
    assert weight["k2"] > weight["o2"]



# A valid NHS number (Modulus 11) from the 999 range, kept for testing; and a second one.
NHS_NUMBER, OTHER_NHS_NUMBER = "999 000 0018", "9990000026"


def test_the_nhs_number_finds_a_person_whose_surname_and_address_changed(background, model):
    first = Identity("i1", "Amira", "Haddad", date_of_birth="2007-05-02", postcode="BD7 1AA", nhs_number=NHS_NUMBER)
    # A new family name and a new address: without the number she would be a stranger.
    later = Identity("i2", "Amira", "Clarke", date_of_birth="2007-05-02", postcode="LS6 2AB", nhs_number="9990000018")
    index = index_with(background, model, first)
    found = top(index, later)
    assert found.record_id == "i1" and found.match_probability > 0.3
    identifier = next(e for e in found.evidence if e.field == "NHS number or UPN")
    assert identifier.level == "same NHS number" and identifier.agrees and identifier.weight > 10
    without = replace(later, nhs_number="")
    assert all(c.record_id != "i1" for c in index.candidates(without))


def test_a_different_nhs_number_counts_against_a_match(model):
    index = CandidateIndex(model)
    same = index.score_pair(Identity("d1", "Tomasz", "Nowak", date_of_birth="2006-01-09", nhs_number=NHS_NUMBER),
                            Identity("d2", "Tomasz", "Nowak", date_of_birth="2006-01-09", nhs_number=NHS_NUMBER))
    unknown = index.score_pair(Identity("d1", "Tomasz", "Nowak", date_of_birth="2006-01-09", nhs_number=NHS_NUMBER),
                               Identity("d2", "Tomasz", "Nowak", date_of_birth="2006-01-09"))
    other = index.score_pair(Identity("d1", "Tomasz", "Nowak", date_of_birth="2006-01-09", nhs_number=NHS_NUMBER),
                             Identity("d2", "Tomasz", "Nowak", date_of_birth="2006-01-09",
                                      nhs_number=OTHER_NHS_NUMBER))
    assert same.match_weight > unknown.match_weight > other.match_weight
    evidence = {e.field: e for e in other.evidence}["NHS number or UPN"]
    assert evidence.level == "different" and evidence.agrees is False
    assert {e.field: e for e in unknown.evidence}["NHS number or UPN"].agrees is None


def test_a_pupil_number_links_like_an_nhs_number(model):
    index = CandidateIndex(model)
    pair = index.score_pair(Identity("u1", "Leon", "Baptiste", upn="J201000000000"),
                            Identity("u2", "Leon", "Batiste", upn="j201000000000"))
    assert {e.field: e.level for e in pair.evidence}["NHS number or UPN"] == "same Unique Pupil Number"
    assert pair.match_probability > 0.99


def test_twins_are_kept_apart_even_with_a_typo_in_one_surname(model):
    index = CandidateIndex(model)
    pair = index.score_pair(
        Identity("t1", "Axel", "Rudkowski", date_of_birth="2006-08-07", postcode="LS6 2AB", address="4 Mill Lane"),
        Identity("t2", "Oskar", "Rudkowsky", date_of_birth="2006-08-07", postcode="LS6 2AB", address="4 Mill Lane"))
    assert levels(pair)["Given name"] == "different, with the same family name and date of birth (twins?)"
    assert pair.match_probability < 0.1
    # Twins never share an NHS number: with the same one, it is one boy whose given name was written
    # in a way no level recognises.
    one = index.score_pair(
        Identity("t1", "Axel", "Rudkowski", date_of_birth="2006-08-07", postcode="LS6 2AB", address="4 Mill Lane",
                 nhs_number=NHS_NUMBER),
        Identity("t2", "Oskar", "Rudkowsky", date_of_birth="2006-08-07", postcode="LS6 2AB", address="4 Mill Lane",
                 nhs_number=NHS_NUMBER))
    assert levels(one)["Given name"] == "different" and one.match_probability > 0.5


def test_a_small_index_does_not_make_a_name_common(model):
    # Frequencies come from the model's training data, not from the index: a boy referred five
    # times under one name in a new deployment keeps the full weight of his name.
    index = CandidateIndex(model)
    query = Identity("q", "Tobias", "Rutherford", date_of_birth="2006-08-07")
    alone = index.score_pair(query, Identity("a", "Tobias", "Rutherford", date_of_birth="2006-08-07"))
    for i in range(5):
        index.add(Identity(f"r{i}", "Tobias", "Rutherford", date_of_birth="2006-08-07"))
    assert all(abs(c.match_weight - alone.match_weight) < 1e-9 for c in index.candidates(query))
