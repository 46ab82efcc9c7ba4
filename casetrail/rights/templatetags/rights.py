"""{% load rights %}{% person_rights person %}: on the person page, the links to handle the
person's rights (for those who may) and the corrections made to their record."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from casetrail.cases.access import visible_cases
from casetrail.rights.selectors import may_handle

register = template.Library()


@register.inclusion_tag("rights/_person_rights.html", takes_context=True)
def person_rights(context: Any, person: Any) -> dict[str, Any]:
    user = context["request"].user
    handles = may_handle(user=user, person=person)
    return {
        "person": person,
        "may_handle": handles,
        "requests": list(person.subject_access_requests.order_by("-received_on")) if handles else [],
        # Corrections to the person record, and to referrals of cases this user can see.
        "rectifications": list(person.rectifications.filter(Q(case__isnull=True) | Q(case__in=visible_cases(user)))
                               .select_related("author").order_by("recorded_at", "id")),
    }
