"""The notifications outbox: messages queued with the change that calls for them, sent by the worker."""
