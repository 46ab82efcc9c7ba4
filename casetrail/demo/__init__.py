"""Synthetic demo data for Casetrail, built only through the services, and operational commands."""
