"""A progress bar for the linkage jobs, which report (stage, fraction done)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def stage_bar(description: str) -> Iterator[Callable[[str, float], None]]:
    """A bar from 0 to 100 % that shows the current stage; hidden when stderr is not a terminal."""
    with tqdm(total=100, desc=description, unit="%", file=sys.stderr, disable=None,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}") as bar:
        def report(stage: str, done: float) -> None:
            bar.set_postfix_str(stage, refresh=False)
            bar.update(max(0, round(done * 100) - bar.n))

        yield report
