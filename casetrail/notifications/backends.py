"""Ways of delivering a message: Django's email backends, or GOV.UK Notify through its client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME

if TYPE_CHECKING:
    from casetrail.notifications.models import Message

BACKENDS = ("email", "notify")


class Undeliverable(Exception):
    """The message can never be delivered as it stands (trying again would not help)."""


class Backend(Protocol):
    name: str

    def send(self, message: Message) -> str:
        """Deliver the message; return the backend's reference for it, or raise."""
        ...


def _address(message: Message) -> str:
    address = (message.recipient.email or "").strip()
    if not address:
        raise Undeliverable("The recipient has no email address; add one to their account.")
    return address


class EmailBackend:
    """Email through whichever Django email backend EMAIL_BACKEND names (SMTP in production)."""

    name = "email"

    def send(self, message: Message) -> str:
        # Our own Message-ID, so the mail server's logs can be matched to the message.
        message_id = make_msgid(idstring=f"casetrail-{message.pk}", domain=DNS_NAME)
        email = EmailMessage(subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL,
                             to=[_address(message)], headers={"Message-ID": message_id})
        email.send(fail_silently=False)
        return message_id


class NotifyBackend:
    """GOV.UK Notify through its official client, with one template that takes ((subject)) and ((body))."""

    name = "notify"

    def __init__(self, client: Any = None, *, template_id: str | None = None) -> None:
        self.template_id = template_id if template_id is not None else settings.NOTIFY_TEMPLATE_ID
        if client is None:
            if not settings.NOTIFY_API_KEY or not self.template_id:
                raise ImproperlyConfigured("The notify backend needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID.")
            from notifications_python_client.notifications import NotificationsAPIClient

            client = NotificationsAPIClient(settings.NOTIFY_API_KEY)
        self.client = client

    def send(self, message: Message) -> str:
        response = self.client.send_email_notification(
            email_address=_address(message),
            template_id=self.template_id,
            personalisation={"subject": message.subject, "body": message.body},
            # Notify keeps the reference, so a message can be found there by its key.
            reference=message.dedupe_key,
        )
        return str(response["id"])


def configured_backend() -> Backend:
    """The backend CASETRAIL_NOTIFICATIONS_BACKEND names: "email" (the default) or "notify"."""
    name = getattr(settings, "CASETRAIL_NOTIFICATIONS_BACKEND", "email")
    if name == "email":
        return EmailBackend()
    if name == "notify":
        return NotifyBackend()
    raise ImproperlyConfigured(f"CASETRAIL_NOTIFICATIONS_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
