from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "casetrail.cases"
    label = "cases"
