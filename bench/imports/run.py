"""Time the bulk import of legacy referrals: `python -m bench.imports.run --rows 10000`.

Writes a synthetic legacy file (the synthetic population of casetrail/people/population.py: made-up
people, about a fifth of the rows a repeat referral of someone earlier, with the spelling and
recording errors of real data), makes a throwaway database (SQLite in a temporary directory, or the
PostgreSQL database named by --database-url, which must be empty and is used as it is), imports the
file with `import_referrals` as a police officer, and prints rows a second, the match rate and
how well it found the repeats the population knows of, with the machine, the size and the versions.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.machine import machine

AREAS = ("Benchshire County Council", "Benchton City Council")
SECTORS = ("education", "health", "local_authority", "police", "community", "probation")
CONCERN_TYPES = ("islamist", "extreme_right_wing", "mixed_unclear", "violence_fascination")


def write_file(path: Path, rows: int, seed: int) -> list[dict[str, Any]]:
    """The synthetic legacy file, in the order a legacy system would list it (by reference, which is
    not quite the order the referrals were made); returns the population's records by line."""
    from casetrail.core.imports import COLUMNS
    from casetrail.people.population import generate_population

    records = generate_population(rows, seed=seed).to_pylist()
    lines = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for number, record in enumerate(records):
            made = date.fromisoformat(record["referred_on"])
            writer.writerow({
                "legacy_reference": f"BENCH-{number:07d}",
                "submitted_on": made.strftime("%d/%m/%Y"),
                "referrer_name": "Bench Referrer", "referrer_job_title": "Safeguarding lead",
                "referrer_email": "bench.referrer@example.org",
                "referrer_organisation": "Benchshire Services", "referrer_sector": SECTORS[number % len(SECTORS)],
                "given_names": record["given_names"], "family_name": record["family_name"],
                "other_names": record["other_names"], "date_of_birth": record["date_of_birth"],
                "sex": record["sex"], "address": record["address"], "postcode": record["postcode"],
                "school_or_workplace": record["school"], "nhs_number": record["nhs_number"], "upn": record["upn"],
                "local_authority": AREAS[number % len(AREAS)],
                "concern": "Synthetic benchmark referral: a concern described in more than thirty characters.",
                "first_observed_on": (made - timedelta(days=3)).isoformat(),
                "concern_types": CONCERN_TYPES[number % len(CONCERN_TYPES)],
                "urgency": "routine", "person_aware": "not_known",
            })
            lines.append(record)
    return lines


def setup_django(scratch: Path, database_url: str | None) -> None:
    os.environ["CASETRAIL_ENV"] = "development"
    os.environ["CASETRAIL_VAR_DIR"] = str(scratch)
    os.environ["CASETRAIL_LINKAGE_MODEL"] = str(scratch / "no-trained-model.json")  # the shipped model
    if database_url:
        os.environ["CASETRAIL_DATABASE_URL"] = database_url
    else:
        os.environ.pop("CASETRAIL_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetrail.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_world() -> Any:
    from casetrail.accounts.services import agency_create, agency_set_duty_owner, user_create

    force = agency_create(name="Benchshire Police CTP", kind="police")
    officer = user_create(username="bench-officer", password="bench-password-not-used-42", first_name="Bench",
                          last_name="Officer", email="bench.officer@example.org", agency=force,
                          roles=["police_officer"], job_title="Prevent officer")
    agency_set_duty_owner(agency=force, user=officer)
    for name in AREAS:
        agency_create(name=name, kind="local_authority", police_force=force)
    return officer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default: a throwaway SQLite file)")
    parser.add_argument("--json", help="Also write the figures to this file")
    options = parser.parse_args(argv)
    if options.rows < 1:
        parser.error("--rows must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix="casetrail-import-bench-"))
    source = scratch / "legacy.csv"
    records = write_file(source, options.rows, options.seed)
    setup_django(scratch, options.database_url)
    officer = make_world()

    from django.db import connection
    from tqdm import tqdm

    from casetrail.referrals.imports import import_file

    bars: dict[str, Any] = {}
    stage_started: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for finished in bars.values():
                finished.close()
            bars[stage] = tqdm(total=total, desc=stage, unit="row", file=sys.stderr)
            stage_started[stage] = time.perf_counter()
        bars[stage].update(done - bars[stage].n)

    started = time.perf_counter()
    summary = import_file(user=officer, path=source, progress=progress)
    seconds = time.perf_counter() - started
    for bar in bars.values():
        bar.close()
    importing = started + seconds - stage_started.get("Importing rows", started + seconds)

    # How the matches compare with the truth the population keeps (person_key): a row is a repeat
    # when the same person was referred on an earlier day.
    first_seen: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r["referred_on"]):
        first_seen.setdefault(record["person_key"], record["referred_on"])
    repeats = matched_repeats = matched_firsts = 0
    for outcome in summary.outcomes:
        if outcome.status != "imported":
            continue
        record = records[outcome.line - 2]
        repeat = first_seen[record["person_key"]] < record["referred_on"]
        repeats += repeat
        matched_repeats += bool(repeat and outcome.possible_earlier_records)
        matched_firsts += bool(not repeat and outcome.possible_earlier_records)
    firsts = summary.imported - repeats

    import django
    import tqdm as tqdm_module

    figures = {
        "rows": summary.rows, "imported": summary.imported, "bad_rows": summary.bad,
        "seconds": round(seconds, 1), "rows_per_second": round(summary.imported / seconds, 1),
        "seconds_checking": round(seconds - importing, 1), "seconds_importing": round(importing, 1),
        "matched": summary.matched, "new_people": summary.new_people,
        "match_rate": round(summary.matched / summary.imported, 4) if summary.imported else None,
        "true_repeats": repeats, "repeats_matched": matched_repeats,
        "first_referrals_matched": matched_firsts,
        "database": connection.vendor, "machine": machine(),
        "versions": {"python": platform.python_version(), "django": django.__version__,
                     "tqdm": tqdm_module.__version__},
    }
    m = figures["machine"]
    print(f"Import of {summary.rows:,} synthetic legacy rows (seed {options.seed}) on {connection.vendor}; "
          f"{m['cores']} cores, {m['ram_gib']} GiB, {m['cpu']}; Python {m['python']}, Django {django.__version__}")
    print(f"  imported {summary.imported:,} in {seconds:.1f} s ({seconds - importing:.1f} s checking every row, "
          f"{importing:.1f} s importing): {figures['rows_per_second']} rows a second; {summary.bad} bad rows")
    print(f"  matched a person referred before: {summary.matched:,} ({figures['match_rate']:.1%}); "
          f"new people {summary.new_people:,}")
    if repeats:
        print(f"  of {repeats:,} rows the population knows are repeats, {matched_repeats:,} matched "
              f"({matched_repeats / repeats:.1%}); of {firsts:,} first referrals, {matched_firsts:,} matched "
              f"someone else ({matched_firsts / max(firsts, 1):.1%}, each a possible earlier record to resolve)")
    if summary.bad:
        reasons: dict[str, int] = {}
        for outcome in summary.outcomes:
            for column, problem in outcome.problems if outcome.status == "bad" else []:
                reasons[f"{column}: {problem}"] = reasons.get(f"{column}: {problem}", 0) + 1
        for reason, count in sorted(reasons.items(), key=lambda r: -r[1])[:5]:
            print(f"  bad: {count} x {reason}")
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=1))
    print(f"  scratch (the file{', the SQLite database' if connection.vendor == 'sqlite' else ''}): {scratch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
