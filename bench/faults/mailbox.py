"""A Django email backend for the fault runs that records every message it is handed, one JSON
line each (its Message-ID, which names the outbox message, and its subject), appended and
flushed before send_messages returns: the backend's own record of what it sent, to count
against the outbox. Set CASETRAIL_EMAIL_BACKEND=bench.faults.mailbox.RecordingBackend and
CASETRAIL_FAULTS_MAIL_LOG to the file."""

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
