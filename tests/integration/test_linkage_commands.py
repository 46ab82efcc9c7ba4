"""The whole-index linkage commands: retraining on the referrals recorded here, and the batch
search for people recorded twice, through the real referral service."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from casetrail.core.dates import PartialDate
from casetrail.people.linkage.model import LinkageModel
from casetrail.people.matching import DEFAULT_MODEL, forget_index, model_path
from casetrail.people.models import DuplicateCandidate
from casetrail.people.population import generate_population
from casetrail.referrals.services import referral_submit
from tests.integration.conftest import World, referral_input


@pytest.fixture(autouse=True)
def model_file(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "linkage" / "model.json"
    settings.CASETRAIL_LINKAGE_MODEL = str(path)
    forget_index()
    yield path
    forget_index()


def _refer(world: World, key: str, **identity: Any) -> Any:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, **identity),
                                  idempotency_key=key)
    return referral


def _refer_population(world: World, size: int) -> int:
    """Referrals of a synthetic population with repeat referrals, as a referrer would send them."""
    count = 0
    for row in generate_population(size, seed=7).to_pylist():
        try:
            born = PartialDate.from_iso(row["date_of_birth"]) if row["date_of_birth"] else None
        except ValueError:
            born = None
        if born is None or not (row["given_names"].strip() or row["family_name"].strip()):
            continue
        _refer(world, row["record_id"], given_names=row["given_names"], family_name=row["family_name"],
               other_names=row["other_names"], date_of_birth=born, sex=row["sex"] if row["sex"] in
               ("male", "female") else "", postcode=row["postcode"], address=row["address"],
               school_or_workplace=row["school"])
        count += 1
    return count


def test_training_refuses_too_few_referrals_and_keeps_the_shipped_model(world: World, model_file: Path) -> None:
    _refer(world, "a")
    with pytest.raises(CommandError, match="Only 1 referrals are recorded; training needs at least 1000"):
        call_command("linkage_train")
    assert not model_file.exists() and model_path() == DEFAULT_MODEL
    with pytest.raises(CommandError, match="at least 2"):
        call_command("linkage_train", min_records=1)


def test_training_on_the_recorded_referrals_saves_the_model_that_matching_then_uses(
        world: World, model_file: Path) -> None:
    recorded = _refer_population(world, 320)
    out = StringIO()
    call_command("linkage_train", min_records=300, stdout=out)
    assert f"Trained on {recorded} referrals" in out.getvalue()
    assert model_path() == model_file
    model = LinkageModel.load(model_file)
    assert model.record_count == recorded and model.trained_at and model.settings["comparisons"]
    shipped = LinkageModel.load(DEFAULT_MODEL)
    assert model.settings != shipped.settings  # estimated from these referrals, not copied


def test_the_batch_search_puts_a_misspelt_repeat_up_for_review_once(world: World) -> None:
    first = _refer(world, "one", given_names="Marek", family_name="Wisniewski", date_of_birth=PartialDate(2009, 3, 14),
                   postcode="TE2 4AB", address="12 Alder Road")
    again = _refer(world, "two", given_names="Marek", family_name="Wisnewski", date_of_birth=PartialDate(2009, 3, 14),
                   postcode="TE2 4AB", address="12 Alder Road")
    other = _refer(world, "three", given_names="Aisha", family_name="Begum", date_of_birth=PartialDate(2007, 1, 2),
                   postcode="TE9 9ZZ", address="3 Elm Close")
    assert len({first.person_id, again.person_id, other.person_id}) == 3
    out = StringIO()
    call_command("linkage_dedupe", stdout=out)
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {first.person_id, again.person_id}
    assert pair.match_probability >= 0.9 and pair.status == DuplicateCandidate.Status.OPEN
    evidence = {e["field"]: (e["level"], e["agrees"]) for e in pair.evidence}
    assert evidence["Family name"] == ("one letter different", True)
    assert evidence["Date of birth"] == ("exact", True)
    assert "1 new for review" in out.getvalue()
    call_command("linkage_dedupe", stdout=StringIO())
    assert DuplicateCandidate.objects.count() == 1


def test_the_batch_search_refuses_a_threshold_that_is_not_a_probability(world: World) -> None:
    for bad in ("0", "1", "1.5", "-0.2"):
        with pytest.raises(CommandError, match="probability between 0 and 1"):
            call_command("linkage_dedupe", threshold=float(bad))
    assert not DuplicateCandidate.objects.exists()
