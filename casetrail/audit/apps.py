from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "casetrail.audit"
    label = "audit"
