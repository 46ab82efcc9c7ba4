"""Replays: a dated history of a real or imagined case, run through the real services to show
what Casetrail would have blocked, flagged and told whom, as of any date."""
