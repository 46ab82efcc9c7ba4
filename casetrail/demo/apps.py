"""The demo app: synthetic demo data and the operational management commands."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "casetrail.demo"
    label = "demo"
    verbose_name = "Demo data and operations"
