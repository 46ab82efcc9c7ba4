"""What the load benches report with their figures: the machine and the library versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "ram_gib": round(ram, 1), "cpu": cpu, "python": platform.python_version(),
            # Other work on the machine at the end of the run slows everything measured.
            "load_average_1m": round(os.getloadavg()[0], 2)}


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
