"""Whole-index linkage jobs, run as commands: retraining the model on the referrals recorded
here, and the batch search for people recorded twice (for an administrator to review).

Both read every referral's identity attributes; neither changes a referral or a person. What
they find becomes possible-duplicate pairs through `people.services.duplicates_record`, which
writes its event; nothing is linked without a person's decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casetrail.people.linkage.index import CandidateIndex
from casetrail.people.linkage.model import LinkageModel
from casetrail.people.linkage.records import Identity
from casetrail.people.matching import (
    DEFAULT_MODEL,
    current_person,
    forget_index,
    identity_of,
    model_path,
    trained_model_path,
)
from casetrail.referrals.models import Referral

Progress = Callable[[str, float], None]

# Unsupervised training estimates how often each field agrees among true matches from the data
# alone; with too few records it learns noise, and the shipped model is better.
MIN_TRAINING_RECORDS = 1000


class TooFewRecords(ValueError):
    pass


def referral_identities() -> Iterator[Identity]:
    """Every referral ever recorded, closed cases included, as recorded."""
    for referral in Referral.objects.order_by("pk").iterator(chunk_size=5000):
        yield identity_of(referral)


@dataclass(frozen=True)
class TrainingSummary:
    path: Path
    record_count: int
    trained_at: str
    seconds: float


def linkage_model_train(*, path: Path | None = None, min_records: int = MIN_TRAINING_RECORDS,
                        progress: Progress | None = None) -> TrainingSummary:
    """Train the linkage model on the referrals recorded here and save it where matching looks
    (`CASETRAIL_LINKAGE_MODEL`, by default var/linkage/model.json). Refuses with too few records."""
    from casetrail.people.linkage.model import retrain

    count = Referral.objects.count()
    if count < min_records:
        raise TooFewRecords(
            f"Only {count} referrals are recorded; training needs at least {min_records}. "
            f"Matching goes on using {'the model trained here before' if model_path() != DEFAULT_MODEL else 'the model shipped with Casetrail'}.")
    target = path or trained_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model = retrain(list(referral_identities()), target, progress=progress)
    forget_index()  # this process's intake index rebuilds with the new weights
    return TrainingSummary(path=target, record_count=model.record_count, trained_at=model.trained_at,
                           seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class DedupeSummary:
    records: int
    pairs_scored: int
    people_pairs: int
    new_pairs: int
    seconds: float


def duplicates_find(*, threshold: float = 0.9, progress: Progress | None = None) -> DedupeSummary:
    """Score the whole index for records of different people that are likely the same person and
    store each pair of people, with the evidence of their closest records, for review."""
    from casetrail.people.linkage.dedupe import find_duplicates
    from casetrail.people.services import duplicates_record

    started = time.perf_counter()
    model = LinkageModel.load(model_path())
    referrals = {str(r.pk): r for r in Referral.objects.select_related("person").order_by("pk")}
    identities = [identity_of(r) for r in referrals.values()]
    if len(identities) < 2:
        return DedupeSummary(len(identities), 0, 0, 0, time.perf_counter() - started)
    result = find_duplicates(identities, model, threshold=threshold, cluster_threshold=threshold,
                             progress=progress)
    best: dict[tuple[int, int], tuple[float, str, str]] = {}
    for left, right, probability in zip(result.pairs.column("record_id_l").to_pylist(),
                                        result.pairs.column("record_id_r").to_pylist(),
                                        result.pairs.column("match_probability").to_pylist(), strict=True):
        a, b = current_person(referrals[left].person).pk, current_person(referrals[right].person).pk
        if a == b:
            continue  # already one person
        key = (min(a, b), max(a, b))
        if key not in best or probability > best[key][0]:
            best[key] = (probability, left, right)
    scorer = CandidateIndex(model)
    pairs: list[dict[str, Any]] = []
    for (a, b), (probability, left, right) in best.items():
        explained = scorer.score_pair(identity_of(referrals[left]), identity_of(referrals[right]))
        pairs.append({"person_a": a, "person_b": b, "match_probability": probability,
                      "evidence": [{"field": e.field, "level": e.level, "agrees": e.agrees, "weight": e.weight}
                                   for e in explained.evidence]})
    new = duplicates_record(pairs=pairs, trained_at=model.trained_at)
    return DedupeSummary(records=len(identities), pairs_scored=result.pairs.num_rows, people_pairs=len(pairs),
                         new_pairs=new, seconds=time.perf_counter() - started)

