"""Bench-only settings: Casetrail's own settings, read from the environment as in production,
with one change: the URLconf adds the floor view (/bench/floor), so the product's URLs never
contain it. Used by `python -m bench.load.run` through DJANGO_SETTINGS_MODULE."""

from casetrail.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load.urls"
