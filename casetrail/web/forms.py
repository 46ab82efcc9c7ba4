"""Date widgets and fields that follow the GOV.UK Design System's date input pattern and error messages."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from casetrail.core.dates import PartialDate

PARTS = ("day", "month", "year")
_WIDTHS = {"day": 2, "month": 2, "year": 4}

# GOV.UK asks services to accept month names as well as numbers ("Mar", "march", "Sept").
_MONTH_NAMES = {
    **{name.lower(): number for number, name in enumerate(calendar.month_name) if name},
    **{name.lower(): number for number, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}


class DateInputWidget(forms.MultiWidget):
    """Three text inputs named <name>_day, <name>_month and <name>_year, with ids id_<name>_day etc."""

    template_name = "govuk/date_input.html"
    use_fieldset = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # A dict of widgets makes MultiWidget name the inputs <name>_day, <name>_month, <name>_year.
        widgets = {part: forms.TextInput(attrs={"inputmode": "numeric"}) for part in PARTS}
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if value is None:
            return [None, None, None]
        # Both datetime.date and PartialDate have day, month and year (None when unknown).
        return [value.day, value.month, value.year]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        attrs = dict(attrs or {})
        # The govuk_field tag passes which parts are wrong so only those inputs get the error style.
        error_parts = attrs.pop("error_parts", ())
        invalid = attrs.pop("aria-invalid", None)
        context = super().get_context(name, value, attrs)
        id_ = context["widget"]["attrs"].get("id")
        for part, sub in zip(PARTS, context["widget"]["subwidgets"], strict=True):
            classes = [
                "govuk-input",
                "govuk-date-input__input",
                f"govuk-input--width-{_WIDTHS[part]}",
            ]
            if part in error_parts:
                classes.append("govuk-input--error")
            sub["attrs"]["class"] = " ".join(classes)
            if id_:
                sub["attrs"]["id"] = f"{id_}_{part}"
            if invalid and part in error_parts:
                sub["attrs"]["aria-invalid"] = invalid
            sub["part"] = part
            sub["label"] = part.capitalize()
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""

    def render(self, name, value, attrs=None, renderer=None):  # type: ignore[no-untyped-def]
        # Rendered with the project's engine: Django's default form renderer only looks in app
        # template folders, and the GOV.UK templates live in casetrail/templates.
        context = self.get_context(name, value, attrs)
        return mark_safe(get_template(self.template_name).render(context))


def _lower_first(label: str) -> str:
    """'Date of birth' -> 'date of birth', but leave acronyms such as 'DBS check date' alone."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


class _GovukDateFieldBase(forms.MultiValueField):
    """Shared parsing and GOV.UK error messages; subclasses turn the numbers into a value."""

    widget = DateInputWidget

    def __init__(
        self,
        *,
        not_in_future: bool = False,
        not_before: datetime.date | None = None,
        **kwargs: Any,
    ) -> None:
        self.not_in_future = not_in_future
        self.not_before = not_before
        self._form_label: str | None = None
        # The sub-fields only exist to satisfy MultiValueField: this class checks the parts itself
        # so that it can say which part is wrong.
        parts = tuple(forms.CharField(required=False) for _ in PARTS)
        super().__init__(fields=parts, require_all_fields=False, **kwargs)

    def _clean_bound_field(self, bf: forms.BoundField) -> Any:
        # clean() is not told the field's name, so remember the label the form shows
        # (the declared label, or else the field name humanised) for the error messages.
        self._form_label = bf.label
        return super()._clean_bound_field(bf)

    @property
    def message_label(self) -> str:
        return str(self._form_label or self.label or "Date")

    def error(self, message: str, code: str, parts: tuple[str, ...] = PARTS) -> ValidationError:
        # params carries the wrong parts to the template tags; the message is %-formatted with
        # params, so a literal % in a label must be doubled.
        return ValidationError(message.replace("%", "%%"), code=code, params={"parts": parts})

    def clean(self, value: Any) -> Any:
        if self.disabled and not isinstance(value, (list, tuple)):
            value = self.widget.decompress(value)
        result = self.compress(list(value or []))
        self.validate(result)
        self.run_validators(result)
        return result

    def validate(self, value: Any) -> None:
        # Required-ness is checked while parsing, where the GOV.UK message is known.
        pass

    def compress(self, data_list: list[Any]) -> Any:
        texts = [str(v).strip() if v is not None else "" for v in (data_list + [None] * 3)[:3]]
        given = {part: text for part, text in zip(PARTS, texts, strict=True) if text}
        label = self.message_label
        if not given:
            if self.required:
                raise self.error(f"Enter {_lower_first(label)}", "required")
            return None
        self.check_complete(given, label)
        numbers = self.to_numbers(given, label)
        value = self.build(numbers, label)
        self.check_limits(value, tuple(given), label)
        return value

    def check_complete(self, given: dict[str, str], label: str) -> None:
        missing = tuple(part for part in PARTS if part not in given)
        if missing:
            raise self.error(
                f"{label} must include a {' and '.join(missing)}", "incomplete", missing
            )

    def to_numbers(self, given: dict[str, str], label: str) -> dict[str, int]:
        numbers: dict[str, int] = {}
        for part, text in given.items():
            if text.isdigit():
                numbers[part] = int(text)
            elif part == "month" and text.lower() in _MONTH_NAMES:
                numbers[part] = _MONTH_NAMES[text.lower()]
            else:
                raise self.error(f"{label} must be a real date", "invalid", (part,))
        if "year" in given and len(given["year"]) != 4:
            raise self.error("Year must include 4 numbers", "year_digits", ("year",))
        for part, top in (("day", 31), ("month", 12), ("year", 9999)):
            if part in numbers and not 1 <= numbers[part] <= top:
                raise self.error(f"{label} must be a real date", "invalid", (part,))
        return numbers

    def build(self, numbers: dict[str, int], label: str) -> Any:
        raise NotImplementedError

    def earliest(self, value: Any) -> datetime.date:
        raise NotImplementedError

    def latest(self, value: Any) -> datetime.date:
        raise NotImplementedError

    def check_limits(self, value: Any, parts: tuple[str, ...], label: str) -> None:
        if self.not_in_future:
            # Imported here so that merely importing the forms does not need the clock module.
            from casetrail.web.clock import today

            if self.earliest(value) > today():
                raise self.error(f"{label} must be today or in the past", "future", parts)
        if self.not_before is not None and self.latest(value) < self.not_before:
            limit = f"{self.not_before.day} {self.not_before:%B %Y}"
            raise self.error(f"{label} must be the same as or after {limit}", "too_early", parts)


class GovukDateField(_GovukDateFieldBase):
    """A full date (datetime.date) entered as day, month and year."""

    def build(self, numbers: dict[str, int], label: str) -> datetime.date:
        try:
            return datetime.date(numbers["year"], numbers["month"], numbers["day"])
        except ValueError:
            # Month and year were range-checked already, so the day is past the month's end.
            raise self.error(f"{label} must be a real date", "invalid", ("day",)) from None

    def earliest(self, value: datetime.date) -> datetime.date:
        return value

    def latest(self, value: datetime.date) -> datetime.date:
        return value


class PartialDateField(_GovukDateFieldBase):
    """A PartialDate: the day, or the day and month, may be left blank, but never the year."""

    def check_complete(self, given: dict[str, str], label: str) -> None:
        if "year" not in given:
            raise self.error(f"{label} must include a year", "incomplete", ("year",))
        if "day" in given and "month" not in given:
            raise self.error(f"{label} must include a month", "incomplete", ("month",))

    def build(self, numbers: dict[str, int], label: str) -> PartialDate:
        try:
            return PartialDate(numbers["year"], numbers.get("month"), numbers.get("day"))
        except ValueError:
            raise self.error(f"{label} must be a real date", "invalid", ("day",)) from None

    def earliest(self, value: PartialDate) -> datetime.date:
        return value.earliest()

    def latest(self, value: PartialDate) -> datetime.date:
        return value.latest()
