"""Typed errors raised by the core rules and the services that apply them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class DomainError(Exception):
    """Base for every rule the programme enforces; each carries a plain-English message."""


class InvalidInput(DomainError):
    """Input that breaks a rule; errors are keyed by field name ('' for the whole request)."""

    def __init__(self, errors: Mapping[str, Sequence[str]]):
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items() if v}
        super().__init__("; ".join(m for msgs in self.errors.values() for m in msgs))

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls({field: [message]})


@dataclass(frozen=True)
class Unmet:
    """One condition that stops an action, who can meet it, and the rule's id."""

    code: str
    message: str
    who: str


class TransitionNotAllowed(DomainError):
    """The case cannot take this action now; `unmet` says exactly why."""

    def __init__(self, action: str, unmet: Sequence[Unmet]):
        self.action = action
        self.unmet = list(unmet)
        super().__init__(" ".join(u.message for u in self.unmet))


class AccessDenied(DomainError):
    """The acting person may not see or do this."""


class StaleState(DomainError):
    """Someone else changed the record after the form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else changed this case after you opened the page. "
            "Review the latest details and submit again."
        )


class NotFound(AccessDenied):
    """There is nothing the person may see here (deliberately indistinguishable from absence)."""
