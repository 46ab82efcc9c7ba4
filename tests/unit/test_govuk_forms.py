"""Tests for the GOV.UK form tags, the date fields and the base page template (no database needed)."""

from __future__ import annotations

import datetime
import re

import pytest
from django import forms
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.http import HttpResponse
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import include, path

from casetrail.clock import frozen_at
from casetrail.core.dates import PartialDate
from casetrail.web.forms import GovukDateField, PartialDateField

# A stand-in URLconf (this module) so base.html can reverse web:sign-out on its own.
urlpatterns = [
    path("", include(([path("sign-out/", lambda request: HttpResponse(), name="sign-out")], "web")))
]


def render(source: str, **context: object) -> str:
    return Template("{% load govuk %}" + source).render(Context(context))


def squash(html: str) -> str:
    """Collapse whitespace so assertions don't depend on template indentation."""
    return re.sub(r"\s+", " ", html)


def element(html: str, tag: str, id_: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(id_)}"[^>]*>', html)
    assert match, f"no <{tag} id={id_!r}> in:\n{html}"
    return match.group(0)


class EveryWidgetForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        help_text="As it appears on ID",
        widget=forms.TextInput(attrs={"width": 20}),
    )
    email = forms.EmailField(required=False)
    age = forms.IntegerField(widget=forms.NumberInput(attrs={"width": 3}))
    notes = forms.CharField(widget=forms.Textarea)
    agency = forms.ChoiceField(
        choices=[("", "Choose an agency"), ("police", "Police"), ("school", "School")]
    )
    concern = forms.ChoiceField(
        choices=[("online", "Online <radicalisation>"), ("other", "Other")],
        widget=forms.RadioSelect,
    )
    needs = forms.MultipleChoiceField(
        choices=[("housing", "Housing"), ("mentoring", "Mentoring")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent = forms.BooleanField(label="The person has been told about this referral")
    attachment = forms.FileField(required=False, help_text="A PDF, up to 10MB")
    referred_on = GovukDateField(label="Referral date")
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self) -> dict:
        raise forms.ValidationError("Check the whole referral <again>")


BAD_DATA = {
    "full_name": "<script>alert(1)</script>",
    "age": "",
    "notes": "",
    "agency": "",
    "needs": ["housing"],
    "referred_on_day": "31",
    "referred_on_month": "2",
    "referred_on_year": "2024",
}


class DateForm(forms.Form):
    referred_on = GovukDateField(label="Referral date", not_in_future=True)


class BoundedDateForm(forms.Form):
    closed_on = GovukDateField(not_before=datetime.date(2024, 4, 1), required=False)


class BirthForm(forms.Form):
    date_of_birth = PartialDateField(label="Date of birth", not_in_future=True)


TODAY = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def bad_form() -> EveryWidgetForm:
    form = EveryWidgetForm(data=BAD_DATA)
    assert not form.is_valid()
    return form


# ---------------------------------------------------------------- one field at a time


def test_text_input_has_label_hint_width_and_describedby() -> None:
    html = render("{% govuk_field form.full_name %}", form=EveryWidgetForm())
    assert '<label class="govuk-label" for="id_full_name">' in html
    assert '<div id="id_full_name-hint" class="govuk-hint">' in html
    tag = element(html, "input", "id_full_name")
    assert 'class="govuk-input govuk-input--width-20"' in tag
    assert 'aria-describedby="id_full_name-hint"' in tag
    # "width" picks the class and must not leak out as an HTML attribute.
    assert " width=" not in tag


def test_input_with_error_gets_error_classes_message_and_describedby(
    bad_form: EveryWidgetForm,
) -> None:
    html = squash(render("{% govuk_field form.age %}", form=bad_form))
    assert html.strip().startswith('<div class="govuk-form-group govuk-form-group--error">')
    assert (
        '<p id="id_age-error" class="govuk-error-message"> '
        '<span class="govuk-visually-hidden">Error:</span> This field is required. </p>'
    ) in html
    tag = element(html, "input", "id_age")
    assert 'type="number"' in tag
    assert "govuk-input--width-3" in tag and "govuk-input--error" in tag
    assert 'aria-describedby="id_age-error"' in tag


def test_textarea_select_and_file_upload_use_their_govuk_classes(bad_form: EveryWidgetForm) -> None:
    textarea = element(
        render("{% govuk_field form.notes %}", form=bad_form), "textarea", "id_notes"
    )
    assert 'class="govuk-textarea govuk-textarea--error"' in textarea

    select_html = render("{% govuk_field form.agency %}", form=bad_form)
    assert 'class="govuk-select govuk-select--error"' in element(select_html, "select", "id_agency")
    assert '<option value="police">Police</option>' in select_html

    file_html = render("{% govuk_field form.attachment %}", form=bad_form)
    tag = element(file_html, "input", "id_attachment")
    assert 'type="file"' in tag and 'class="govuk-file-upload"' in tag
    assert 'aria-describedby="id_attachment-hint"' in tag
    assert "Attachment (optional)" in squash(file_html)


def test_optional_fields_say_so_and_required_ones_do_not() -> None:
    form = EveryWidgetForm()
    assert "Email (optional)" in squash(render("{% govuk_field form.email %}", form=form))
    assert "Needs (optional)" in squash(render("{% govuk_field form.needs %}", form=form))
    assert "(optional)" not in render("{% govuk_field form.full_name %}", form=form)


def test_radios_sit_in_a_fieldset_with_govuk_ids_and_keep_the_choice() -> None:
    form = EveryWidgetForm(data={"concern": "other"})
    form.is_valid()
    html = squash(render("{% govuk_field form.concern %}", form=form))
    assert '<fieldset class="govuk-fieldset">' in html
    assert '<legend class="govuk-fieldset__legend"> Concern </legend>' in html
    assert '<div class="govuk-radios" data-module="govuk-radios">' in html
    first = element(html, "input", "id_concern")
    second = element(html, "input", "id_concern-2")
    assert 'type="radio"' in first and 'value="online"' in first and "checked" not in first
    assert 'value="other"' in second and "checked" in second
    assert '<label class="govuk-label govuk-radios__label" for="id_concern-2">' in html


def test_checkboxes_with_an_error_describe_the_fieldset(bad_form: EveryWidgetForm) -> None:
    bad_form.add_error("needs", "Select the support the person needs")
    html = squash(render("{% govuk_field form.needs %}", form=bad_form))
    assert "govuk-form-group--error" in html
    assert '<fieldset class="govuk-fieldset" aria-describedby="id_needs-error">' in html
    assert 'data-module="govuk-checkboxes"' in html
    assert "checked" in element(html, "input", "id_needs")
    assert "checked" not in element(html, "input", "id_needs-2")


def test_single_checkbox_puts_its_label_beside_the_box(bad_form: EveryWidgetForm) -> None:
    html = squash(render("{% govuk_field form.consent %}", form=bad_form))
    tag = element(html, "input", "id_consent")
    assert 'type="checkbox"' in tag and "govuk-checkboxes__input" in tag
    assert 'aria-describedby="id_consent-error"' in tag
    assert (
        '<label class="govuk-label govuk-checkboxes__label" for="id_consent"> '
        "The person has been told about this referral </label>"
    ) in html
    assert "<fieldset" not in html


def test_hidden_field_is_a_bare_hidden_input() -> None:
    html = render("{% govuk_field form.token %}", form=EveryWidgetForm(initial={"token": "abc"}))
    assert html == '<input type="hidden" name="token" value="abc" id="id_token">'


def test_govuk_fields_renders_every_field_in_order_then_hidden_ones() -> None:
    html = render("{% govuk_fields form %}", form=EveryWidgetForm())
    ids = [
        "id_full_name",
        "id_email",
        "id_age",
        "id_notes",
        "id_agency",
        "id_concern",
        "id_needs",
        "id_consent",
        "id_attachment",
        "id_referred_on_day",
        "id_token",
    ]
    positions = [html.index(f'id="{id_}"') for id_ in ids]
    assert positions == sorted(positions)
    assert html.count('class="govuk-form-group') == 10 + 3  # 10 visible fields, 3 date parts


def test_user_input_is_escaped_never_trusted(bad_form: EveryWidgetForm) -> None:
    html = render("{% govuk_error_summary form %}{% govuk_fields form %}", form=bad_form)
    assert "<script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "Online &lt;radicalisation&gt;" in html
    assert "Check the whole referral &lt;again&gt;" in html


# ---------------------------------------------------------------- error summary


def test_error_summary_links_each_error_to_its_input(bad_form: EveryWidgetForm) -> None:
    html = squash(render("{% govuk_error_summary form %}", form=bad_form))
    assert '<div class="govuk-error-summary" data-module="govuk-error-summary">' in html
    assert '<h2 class="govuk-error-summary__title">There is a problem</h2>' in html
    items = re.findall(r"<li>(.*?)</li>", html)
    assert items == [
        "Check the whole referral &lt;again&gt;",  # non-field errors come first, unlinked
        '<a href="#id_age">This field is required.</a>',
        '<a href="#id_notes">This field is required.</a>',
        '<a href="#id_agency">This field is required.</a>',
        '<a href="#id_concern">This field is required.</a>',
        '<a href="#id_consent">This field is required.</a>',
        '<a href="#id_referred_on_day">Referral date must be a real date</a>',
        "This field is required.",  # the hidden token: nothing on the page to link to
    ]


def test_error_summary_links_a_date_to_the_part_that_is_wrong() -> None:
    form = DateForm(data={"referred_on_day": "1", "referred_on_year": "2024"})
    html = render("{% govuk_error_summary form %}", form=form)
    assert '<a href="#id_referred_on_month">Referral date must include a month</a>' in html


def test_error_summary_covers_several_forms_and_is_empty_without_errors() -> None:
    valid = DateForm(
        data={"referred_on_day": "1", "referred_on_month": "2", "referred_on_year": "2024"}
    )
    assert valid.is_valid()
    assert render("{% govuk_error_summary form %}", form=valid).strip() == ""
    assert render("{% govuk_error_summary form %}", form=DateForm()).strip() == ""

    other = DateForm(
        prefix="other",
        data={
            "other-referred_on_day": "1",
            "other-referred_on_month": "2",
            "other-referred_on_year": "24",
        },
    )
    html = render("{% govuk_error_summary form other %}", form=DateForm(data={}), other=other)
    assert '<a href="#id_referred_on_day">Enter referral date</a>' in html
    assert '<a href="#id_other-referred_on_year">Year must include 4 numbers</a>' in html


# ---------------------------------------------------------------- date fields


def date_errors(
    form_class: type[forms.Form], name: str, day: str, month: str, year: str
) -> list[str]:
    form = form_class(data={f"{name}_day": day, f"{name}_month": month, f"{name}_year": year})
    with frozen_at(TODAY):
        form.is_valid()
    return form.errors.get(name, [])


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter referral date"),
        ("", "3", "2024", "Referral date must include a day"),
        ("1", "", "2024", "Referral date must include a month"),
        ("1", "3", "", "Referral date must include a year"),
        ("", "", "2024", "Referral date must include a day and month"),
        ("31", "2", "2024", "Referral date must be a real date"),
        ("1", "13", "2024", "Referral date must be a real date"),
        ("x", "3", "2024", "Referral date must be a real date"),
        ("1", "3", "24", "Year must include 4 numbers"),
        ("16", "6", "2025", "Referral date must be today or in the past"),
    ],
)
def test_full_date_error_messages(day: str, month: str, year: str, message: str) -> None:
    assert date_errors(DateForm, "referred_on", day, month, year) == [message]


def test_full_date_accepts_today_and_month_names() -> None:
    for month in ("6", "June", "jun"):
        form = DateForm(
            data={"referred_on_day": " 15 ", "referred_on_month": month, "referred_on_year": "2025"}
        )
        with frozen_at(TODAY):
            assert form.is_valid(), form.errors
        assert form.cleaned_data["referred_on"] == datetime.date(2025, 6, 15)


def test_not_before_and_the_humanised_label_when_none_is_given() -> None:
    assert date_errors(BoundedDateForm, "closed_on", "31", "3", "2024") == [
        "Closed on must be the same as or after 1 April 2024"
    ]
    assert date_errors(BoundedDateForm, "closed_on", "1", "4", "2024") == []
    assert date_errors(BoundedDateForm, "closed_on", "", "", "") == []  # optional


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("", "", "2007", PartialDate(2007)),
        ("", "3", "2007", PartialDate(2007, 3)),
        ("14", "3", "2007", PartialDate(2007, 3, 14)),
        ("", "", "2025", PartialDate(2025)),  # the earliest reading is not in the future
    ],
)
def test_partial_date_allows_the_day_or_the_day_and_month_to_be_blank(
    day: str, month: str, year: str, expected: PartialDate
) -> None:
    form = BirthForm(
        data={"date_of_birth_day": day, "date_of_birth_month": month, "date_of_birth_year": year}
    )
    with frozen_at(TODAY):
        assert form.is_valid(), form.errors
    assert form.cleaned_data["date_of_birth"] == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter date of birth"),
        ("14", "3", "", "Date of birth must include a year"),
        ("", "3", "", "Date of birth must include a year"),
        ("14", "", "2007", "Date of birth must include a month"),
        ("30", "2", "2008", "Date of birth must be a real date"),
        ("", "13", "2008", "Date of birth must be a real date"),
        ("", "", "07", "Year must include 4 numbers"),
        ("", "7", "2025", "Date of birth must be today or in the past"),
    ],
)
def test_partial_date_error_messages(day: str, month: str, year: str, message: str) -> None:
    assert date_errors(BirthForm, "date_of_birth", day, month, year) == [message]


def test_date_input_markup_names_ids_values_and_the_wrong_part_highlighted() -> None:
    form = DateForm(
        data={"referred_on_day": "1", "referred_on_month": "", "referred_on_year": "<b>"}
    )
    form.is_valid()
    html = squash(render("{% govuk_field form.referred_on %}", form=form))
    assert (
        '<fieldset class="govuk-fieldset" role="group" aria-describedby="id_referred_on-error">'
        in html
    )
    assert '<div class="govuk-date-input" id="id_referred_on">' in html
    day = element(html, "input", "id_referred_on_day")
    month = element(html, "input", "id_referred_on_month")
    year = element(html, "input", "id_referred_on_year")
    assert 'name="referred_on_day"' in day and 'value="1"' in day and 'inputmode="numeric"' in day
    assert "govuk-input--width-2" in day and "govuk-input--error" not in day
    assert 'name="referred_on_month"' in month and "govuk-input--error" in month
    assert "govuk-input--width-4" in year and 'value="&lt;b&gt;"' in year
    assert (
        '<label class="govuk-label govuk-date-input__label" for="id_referred_on_month"> Month </label>'
        in html
    )


def test_a_whole_date_error_highlights_every_part() -> None:
    form = DateForm(
        data={"referred_on_day": "31", "referred_on_month": "2", "referred_on_year": "2024"}
    )
    form.is_valid()
    html = render("{% govuk_field form.referred_on %}", form=form)
    assert html.count("govuk-input--error") == 1  # 31 February: only the day is wrong
    form = DateForm(data={})
    form.is_valid()
    assert render("{% govuk_field form.referred_on %}", form=form).count("govuk-input--error") == 3


def test_date_widget_shows_an_initial_date_and_partial_date() -> None:
    html = render(
        "{% govuk_field form.referred_on %}",
        form=DateForm(initial={"referred_on": datetime.date(2024, 3, 9)}),
    )
    assert 'value="9"' in element(html, "input", "id_referred_on_day")
    assert 'value="2024"' in element(html, "input", "id_referred_on_year")
    html = render(
        "{% govuk_field form.date_of_birth %}",
        form=BirthForm(initial={"date_of_birth": PartialDate(2007, 3)}),
    )
    assert "value=" not in element(html, "input", "id_date_of_birth_day")
    assert 'value="3"' in element(html, "input", "id_date_of_birth_month")


# ---------------------------------------------------------------- page template


@override_settings(ROOT_URLCONF=__name__)
def test_base_page_shows_navigation_who_is_acting_messages_and_nonce() -> None:
    request = RequestFactory().get("/cases/")
    request.csp_nonce = "n0nce"
    html = squash(
        render_to_string(
            "error.html",
            {
                "heading": "Page not found",
                "message": "Check the <address>.",
                "nav_items": [
                    {"label": "My work", "url": "/", "active": False},
                    {"label": "Cases", "url": "/cases/", "active": True},
                ],
                "acting": {
                    "name": "Sam <Ali>",
                    "roles_display": "Caseworker",
                    "agency_name": "Northshire Police",
                },
                "messages": [
                    Message(constants.SUCCESS, "Referral saved"),
                    Message(constants.INFO, "Heads up"),
                ],
            },
            request=request,
        )
    )
    assert "<title>Page not found – Casetrail</title>" in html
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert '<a href="/" class="govuk-generic-header__homepage-link">Casetrail</a>' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html
    assert (
        '<li class="govuk-service-navigation__item govuk-service-navigation__item--active">' in html
    )
    assert 'href="/cases/" aria-current="true"' in html
    assert "<strong>Sam &lt;Ali&gt;</strong>, Caseworker, Northshire Police" in html
    assert re.search(
        r'<form method="post" action="/sign-out/"[^>]*> <input type="hidden" name="csrfmiddlewaretoken"',
        html,
    )
    assert "govuk-notification-banner--success" in html and "Referral saved" in html
    assert (
        '<h2 class="govuk-notification-banner__title" id="govuk-notification-banner-title-2"> Important </h2>'
        in html
    )
    assert html.count('nonce="n0nce"') == 2
    assert "Check the &lt;address&gt;." in html


def test_base_page_without_anyone_signed_in_has_no_sign_out() -> None:
    html = render_to_string(
        "error.html", {"heading": "Page not found", "acting": None, "nav_items": []}
    )
    assert "Sign out" not in html
    assert "govuk-service-navigation" not in html
    assert 'nonce=""' in html
