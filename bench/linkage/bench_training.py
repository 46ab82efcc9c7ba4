"""Training at scale: normalising the population, then Casetrail's model and Splink's default
approach, each with time and peak memory (run each bench in its own process: see run.py)."""

from __future__ import annotations

from bench.linkage import common


def run(size: int, seed: int = 0, out: str | None = None) -> dict:
    from casetrail.people.linkage.model import train_model

    figures: dict = {}
    data_raw = common.population(size, seed)
    from casetrail.people.linkage.records import normalise_table

    with common.timed(figures, "normalise_s"):
        data = normalise_table(data_raw)
    del data_raw
    with common.timed(figures, "train_s"):
        model = train_model(data, seed=seed)
    figures["train_peak_rss_gib"] = round(common.peak_rss_gib(), 2)
    figures["training_timings"] = model.training["timings"]
    figures["levels_raised"] = model.training["levels_raised_to_different"]
    common.CACHE.mkdir(parents=True, exist_ok=True)
    model.save(common.CACHE / f"model_{size}_{seed}.json")
    return common.emit("training", size, figures, out)


def run_baseline(size: int, seed: int = 0, out: str | None = None) -> dict:
    from bench.linkage import baseline

    figures: dict = {}
    data = common.normalised(size, seed)
    with common.timed(figures, "splink_default_train_s"):
        linker = baseline.linker(data)
        baseline.train(linker, seed=seed)
    common.CACHE.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(common.CACHE / f"baseline_{size}_{seed}.json"), overwrite=True)
    return common.emit("training_splink_default", size, figures, out)


if __name__ == "__main__":
    import sys

    options = common.args([a for a in sys.argv[1:] if a != "--baseline"])
    (run_baseline if "--baseline" in sys.argv else run)(options.size, options.seed, options.json)
