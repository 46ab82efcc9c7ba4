from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "casetrail.web"
    label = "web"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from casetrail.web.auth_views import on_signed_in

        user_logged_in.connect(on_signed_in, dispatch_uid="casetrail.web.reauthenticated_at_sign_in")
