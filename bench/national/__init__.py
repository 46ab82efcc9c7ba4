"""The national dataset: generator and query plans (see bench/README.md)."""
