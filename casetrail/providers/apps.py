from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "casetrail.providers"
    label = "providers"
