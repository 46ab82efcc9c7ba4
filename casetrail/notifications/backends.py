"""Ways of delivering a message: Django's email backends, or GOV.UK Notify through its client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
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

    # Optionally, `delivered(message) -> str | None`: the reference of an earlier delivery of the
    # message, if the service has one (NotImplementedError: it cannot tell). The outbox asks it
    # before sending again a message whose worker died between sending it and recording that it
    # had (casetrail.notifications.services).


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

    def delivered(self, message: Message) -> str | None:
        """Asks the Django email backend, if it can tell (a `delivered(idstring)` method, given
        the part of the Message-ID that names this message); SMTP cannot: NotImplementedError."""
        lookup = getattr(get_connection(), "delivered", None)
        if lookup is None:
            raise NotImplementedError("this email backend cannot tell what it has sent")
        found = lookup(f"casetrail-{message.pk}")
        return str(found) if found else None


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

    def delivered(self, message: Message) -> str | None:
        """Notify's id of a notification already sent with this message's reference (its dedupe
        key), if there is one."""
        response = self.client.get_all_notifications(reference=message.dedupe_key)
        for notification in response.get("notifications", []):
            return str(notification["id"])
        return None


def configured_backend() -> Backend:
    """The backend CASETRAIL_NOTIFICATIONS_BACKEND names: "email" (the default) or "notify"."""
    name = getattr(settings, "CASETRAIL_NOTIFICATIONS_BACKEND", "email")
    if name == "email":
        return EmailBackend()
    if name == "notify":
        return NotifyBackend()
    raise ImproperlyConfigured(f"CASETRAIL_NOTIFICATIONS_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
