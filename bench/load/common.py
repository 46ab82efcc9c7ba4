"""What the load benches report with their figures: the machine and the library versions."""

from __future__ import annotations

from importlib import metadata
from typing import Any


def versions(*extra: str) -> dict[str, str]:
    found = {}
    for name in ("django", "gunicorn", "psycopg", "locust", "django-otp", *extra):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def describe(figures: dict[str, Any]) -> str:
    m, v, d = figures["machine"], figures["versions"], figures.get("dataset", {})
    lines = [f"Machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['cpu']}; Python {m['python']}; "
             f"load average {m['load_average_1m']} (1 min) at the end",
             "Versions: " + ", ".join(f"{k} {x}" for k, x in v.items())]
    if d:
        lines.append("Dataset at the start: " + ", ".join(f"{k.replace('_', ' ')} {x:,}" for k, x in d.items()))
    return "\n".join(lines)
