from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "casetrail.audit"
    label = "audit"

    def ready(self) -> None:
        from casetrail.audit import checks  # noqa: F401  (registers the system check)
