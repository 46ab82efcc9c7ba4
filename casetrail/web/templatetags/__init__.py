"""Template tag libraries for the Casetrail web interface."""
