from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "casetrail.accounts"
    label = "accounts"
