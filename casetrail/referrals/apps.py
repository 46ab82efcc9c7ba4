from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "casetrail.referrals"
    label = "referrals"
