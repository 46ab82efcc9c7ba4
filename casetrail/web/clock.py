"""The web layer reads the same clock as the services."""

from casetrail.clock import frozen_at, now, today

__all__ = ["frozen_at", "now", "today"]
