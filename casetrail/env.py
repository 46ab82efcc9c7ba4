"""Typed settings read from the environment; the embedded default needs none set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse


class MissingSetting(RuntimeError):
    """A value production cannot run without was not provided."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise MissingSetting(f"The environment variable {name} must be set in production.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class DatabaseConfig:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    def as_django(self) -> dict[str, object]:
        config: dict[str, object] = {"ENGINE": self.engine, "NAME": self.name}
        if self.engine.endswith("sqlite3"):
            # WAL lets the task worker write while pages read; the lock wait covers short bursts.
            config["OPTIONS"] = {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        else:
            config.update(
                USER=self.user, PASSWORD=self.password, HOST=self.host, PORT=self.port,
                CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True,
            )
        return config


def database_from_url(url: str, base_dir: Path) -> DatabaseConfig:
    """Parse `sqlite:///path` or `postgres://user:pass@host:port/name` (host may be a socket dir)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("//"):
            path = path[1:]
        elif path.startswith("/"):
            path = path[1:]
        name = Path(path) if Path(path).is_absolute() else base_dir / path
        return DatabaseConfig(engine="django.db.backends.sqlite3", name=str(name))
    if parsed.scheme in {"postgres", "postgresql"}:
        from urllib.parse import parse_qs

        query = parse_qs(parsed.query)
        host = unquote(parsed.hostname or "") or query.get("host", [""])[0]
        return DatabaseConfig(
            engine="django.db.backends.postgresql",
            name=unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            host=host,
            port=str(parsed.port or ""),
        )
    raise MissingSetting(f"Unsupported database URL scheme {parsed.scheme!r}; use sqlite or postgres.")
