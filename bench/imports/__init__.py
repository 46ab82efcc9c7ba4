"""Bulk import benchmark: a synthetic legacy file imported through the real services."""
