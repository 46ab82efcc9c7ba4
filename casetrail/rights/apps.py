from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "casetrail.rights"
    label = "rights"
