from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "casetrail.retention"
    label = "retention"
