from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casetrail.accounts"
    label = "accounts"

    def ready(self) -> None:
        from casetrail.accounts import checks  # noqa: F401  (registers the deployment check)
