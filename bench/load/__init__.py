"""Load test of the production server (run.py) and the cost of the access log (access_log.py)."""
