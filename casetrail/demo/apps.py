from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "casetrail.demo"
    label = "demo"
