"""Typed settings read from the environment; the embedded default needs none set."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
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
                # Pages ask many small questions: compiling a plan (JIT) cost more than it saved,
                # 180 ms of a 233 ms list query on the national dataset.
                OPTIONS={"options": "-c jit=off"},
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


# ---------------------------------------------------------------- single sign-on (OIDC)


@dataclass(frozen=True)
class OidcConfig:
    """Where an organisation's OpenID Connect provider is and who we are to it."""

    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_endpoint: str
    sign_algo: str = "RS256"
    email_domains: tuple[str, ...] = ()


OIDC_ENDPOINTS = {
    "authorization_endpoint": "CASETRAIL_OIDC_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "CASETRAIL_OIDC_TOKEN_ENDPOINT",
    "userinfo_endpoint": "CASETRAIL_OIDC_USERINFO_ENDPOINT",
    "jwks_endpoint": "CASETRAIL_OIDC_JWKS_ENDPOINT",
}


def fetch_oidc_discovery(provider_url: str) -> dict[str, str]:
    """The provider's published endpoints (/.well-known/openid-configuration)."""
    import json
    import urllib.request

    url = provider_url.rstrip("/") + "/.well-known/openid-configuration"
    if not url.startswith("https://"):
        raise MissingSetting("CASETRAIL_OIDC_PROVIDER_URL must be an https:// address.")
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - https only, checked above
            document = json.load(response)
    except (OSError, ValueError) as problem:
        raise MissingSetting(
            f"Could not read the OIDC provider's configuration from {url} ({problem}); set "
            + ", ".join(OIDC_ENDPOINTS.values()) + " instead.") from None
    return {key: str(document.get(key) or "") for key in OIDC_ENDPOINTS}


def oidc_from_env(environ: Mapping[str, str] | None = None,
                  discover: Callable[[str], dict[str, str]] = fetch_oidc_discovery) -> OidcConfig | None:
    """The OIDC configuration, or None when single sign-on is not configured.

    Configured means a client id and secret plus either CASETRAIL_OIDC_PROVIDER_URL (endpoints
    read from its discovery document at start-up) or every CASETRAIL_OIDC_*_ENDPOINT. A partial
    configuration stops the process rather than offering a button that cannot work.
    """
    env = os.environ if environ is None else environ
    client_id = env.get("CASETRAIL_OIDC_CLIENT_ID", "").strip()
    client_secret = env.get("CASETRAIL_OIDC_CLIENT_SECRET", "").strip()
    provider_url = env.get("CASETRAIL_OIDC_PROVIDER_URL", "").strip()
    endpoints = {key: env.get(name, "").strip() for key, name in OIDC_ENDPOINTS.items()}
    if not (client_id or client_secret or provider_url or any(endpoints.values())):
        return None
    if not (client_id and client_secret):
        raise MissingSetting("OIDC needs both CASETRAIL_OIDC_CLIENT_ID and CASETRAIL_OIDC_CLIENT_SECRET.")
    if not all(endpoints.values()):
        if not provider_url:
            raise MissingSetting("OIDC needs CASETRAIL_OIDC_PROVIDER_URL or every one of "
                                 + ", ".join(OIDC_ENDPOINTS.values()) + ".")
        found = discover(provider_url)
        endpoints = {key: endpoints[key] or found.get(key, "") for key in OIDC_ENDPOINTS}
        missing = [OIDC_ENDPOINTS[key] for key, value in endpoints.items() if not value]
        if missing:
            raise MissingSetting("The OIDC provider does not publish " + ", ".join(missing) + "; set them.")
    domains = tuple(d.strip().lower().lstrip("@") for d in env.get("CASETRAIL_OIDC_EMAIL_DOMAINS", "").split(",")
                    if d.strip())
    return OidcConfig(client_id=client_id, client_secret=client_secret,
                      sign_algo=env.get("CASETRAIL_OIDC_SIGN_ALGO", "").strip() or "RS256",
                      email_domains=domains, **endpoints)
