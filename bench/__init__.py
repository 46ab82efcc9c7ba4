"""Benchmarks: each has a README and its last results."""
