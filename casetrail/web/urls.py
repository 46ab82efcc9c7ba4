"""Page routes, all under the `web` namespace."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from casetrail.web import auth_views as sign_in_views
from casetrail.web import views
from casetrail.web.case_steps import STEPS
from casetrail.web.steps import step_view

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.SignInView.as_view(), name="sign-in"),
    path("sign-out", auth_views.LogoutView.as_view(), name="sign-out"),
    # Second factor, confirming who you are again, single sign-on: casetrail/web/auth_views.py
    path("second-factor/set-up", sign_in_views.second_factor_set_up, name="second-factor-set-up"),
    path("second-factor/check", sign_in_views.second_factor_check, name="second-factor-check"),
    path("confirm-identity", sign_in_views.confirm_identity, name="confirm-identity"),
    path("sign-in/organisation", sign_in_views.oidc_start, name="oidc-start"),
    path("sign-in/organisation/callback", sign_in_views.oidc_callback, name="oidc-callback"),
    path("my-work", views.my_work, name="my-work"),
    path("my-referrals", views.my_referrals, name="my-referrals"),
    path("referrals/new/", include("casetrail.web.referral_urls")),
    path("retention/", include("casetrail.retention.urls")),  # review queue and disposal
    path("replays/", include("casetrail.replay.urls")),  # upload a replay file, read its report
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/assessment/", include("casetrail.web.assessment_urls")),
    path("cases/<int:case_id>/agenda", views.agenda_add, name="case-agenda"),
    path("cases/<int:case_id>/attachments/<int:attachment_id>", views.attachment_download,
         name="attachment-download"),
    *[path(f"cases/<int:case_id>/{key}", step_view(step), name=f"case-{key}") for key, step in STEPS.items()],
    path("search", views.search, name="search"),
    path("safeguard-policy", views.safeguard_policy, name="safeguard-policy"),
    path("break-glass", views.break_glass, name="break-glass"),
    path("audit/break-glass", views.audit_break_glass, name="audit-break-glass"),
    path("audit/log", views.audit_log, name="audit-log"),
    path("audit/unusual", views.audit_unusual, name="audit-unusual"),
    path("people/duplicates", views.duplicate_list, name="duplicate-list"),
    path("people/duplicates/<int:pair_id>", views.duplicate_review, name="duplicate-review"),
    path("people/<str:reference>", views.person_detail, name="person-detail"),
    # Subject access requests and rectification: casetrail/rights/urls.py
    path("", include("casetrail.rights.urls")),
    path("panel-meetings/", views.meeting_list, name="meeting-list"),
    path("panel-meetings/<int:meeting_id>", views.meeting_detail, name="meeting-detail"),
    path("information-requests/<int:request_id>", views.information_request_reply,
         name="information-request-reply"),
    path("taskings/<int:tasking_id>", views.tasking_detail, name="tasking-detail"),
    path("support-actions/<int:action_id>", views.support_action_complete, name="support-action-complete"),
    path("handovers/<int:handover_id>", views.handover_respond, name="handover-respond"),
    path("providers/", views.provider_list, name="provider-list"),
    path("providers/new", views.provider_edit, name="provider-new"),
    path("providers/<int:organisation_id>", views.provider_edit, name="provider-edit"),
]
