"""Assessment page routes, included under cases/<case_id>/assessment/ in the `web` namespace."""

from django.urls import path

from casetrail.web import assessment_views as views

urlpatterns = [
    path("start", views.assessment_start, name="assessment-start"),
    path("<int:assessment_id>", views.assessment_detail, name="assessment-detail"),
    path("<int:assessment_id>/summary", views.assessment_summary, name="assessment-summary"),
    path("<int:assessment_id>/<str:dimension_code>", views.assessment_dimension, name="assessment-dimension"),
]
