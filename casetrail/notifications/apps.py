from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "casetrail.notifications"
    label = "notifications"

    def ready(self) -> None:
        from casetrail.notifications import checks  # noqa: F401  (registers the system checks)
