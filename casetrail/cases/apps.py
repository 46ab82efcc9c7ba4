from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "casetrail.cases"
    label = "cases"

    def ready(self) -> None:
        from casetrail.cases.stored_findings import connect_signals

        connect_signals()
