"""Referral intake pages: the referral form and its confirmation."""

from django.urls import path

from casetrail.web import referral_views

urlpatterns = [
    path("", referral_views.referral_new, name="referral-start"),
    path("confirmation/<str:reference>", referral_views.referral_confirmation, name="referral-confirmation"),
]
