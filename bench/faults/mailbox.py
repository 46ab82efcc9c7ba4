"""A Django email backend for the fault runs that records every message it is handed, one JSON
line each (its Message-ID, which names the outbox message, and its subject), appended and
flushed before send_messages returns: the backend's own record of what it sent, to count
against the outbox. Set CASETRAIL_EMAIL_BACKEND=bench.faults.mailbox.RecordingBackend and
CASETRAIL_FAULTS_MAIL_LOG to the file. It can also tell whether it already sent a message, as a
mail service with an API could and SMTP cannot."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        path = os.environ["CASETRAIL_FAULTS_MAIL_LOG"]
        lines = "".join(json.dumps({"message_id": m.extra_headers.get("Message-ID", ""), "to": m.to,
                                    "subject": m.subject}) + "\n" for m in email_messages)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, lines.encode())
        finally:
            os.close(descriptor)
        return len(email_messages)

    def delivered(self, idstring: str) -> str | None:
        """The Message-ID of an earlier send of the message `idstring` names, if this backend
        recorded one (casetrail.notifications.backends.EmailBackend.delivered asks)."""
        path = os.environ["CASETRAIL_FAULTS_MAIL_LOG"]
        if not os.path.exists(path):
            return None
        with open(path) as log:
            for line in log:
                message_id = json.loads(line)["message_id"]
                if f".{idstring}@" in message_id:
                    return str(message_id)
        return None
