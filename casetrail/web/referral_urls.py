"""Routes for the referral form's pages, included under the `web` namespace at referrals/new/."""

from django.urls import path

from casetrail.web import referral_views

urlpatterns = [
    path("", referral_views.referral_start, name="referral-start"),
    path("about-you", referral_views.referral_about_you, name="referral-about-you"),
    path("person", referral_views.referral_person, name="referral-person"),
    path("concern", referral_views.referral_concern, name="referral-concern"),
    path("urgency", referral_views.referral_urgency, name="referral-urgency"),
    path("attachments", referral_views.referral_attachments, name="referral-attachments"),
    path("check", referral_views.referral_check, name="referral-check"),
    path("confirmation/<str:reference>", referral_views.referral_confirmation, name="referral-confirmation"),
]
