"""Fault benchmarks: the web server and the task worker killed at random while writes stream in."""
