"""How django-axes sees a sign-in attempt: the client's address and a log label without names."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind CASETRAIL_PROXY_COUNT trusted proxies it is the address
    the outermost of them saw, so a client cannot choose its own by sending X-Forwarded-For."""
    count = settings.CASETRAIL_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return str(request.META.get("REMOTE_ADDR", ""))


def client_label(username: str | None, ip_address: str, user_agent: str, path_info: Any,
                 request: HttpRequest) -> str:
    """What axes writes in the logs: a digest of the username (logs carry no names) and the address."""
    digest = hashlib.sha256((username or "").encode()).hexdigest()[:12] if username else "-"
    path = path_info[0] if isinstance(path_info, tuple) else path_info
    return f"user-digest={digest} ip={ip_address} path={path}"
