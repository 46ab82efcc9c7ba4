"""Template tags that render Django forms as GOV.UK Design System components: {% load govuk %}."""

from __future__ import annotations

import copy
from typing import Any

from django import forms, template
from django.contrib.messages import constants as message_levels
from django.forms.boundfield import BoundField
from django.forms.widgets import Input
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from casetrail.web.forms import PARTS, DateInputWidget

register = template.Library()


def _date_error_parts(bf: BoundField) -> tuple[str, ...]:
    """The parts of a date (day, month, year) that its errors are about; all three if not said."""
    wrong: set[str] = set()
    for error in bf.form.errors.as_data().get(bf.name, []):
        wrong.update((error.params or {}).get("parts", ()))
    return tuple(part for part in PARTS if part in wrong) or PARTS


def _error_target(bf: BoundField) -> str | None:
    """The id that the error summary links to: the field's input, or its first wrong date part."""
    if bf.is_hidden or not bf.auto_id:
        return None
    if isinstance(bf.field.widget, DateInputWidget):
        return f"{bf.auto_id}_{_date_error_parts(bf)[0]}"
    # Radios and checkboxes give their first option the field's own id, as GOV.UK does.
    return bf.auto_id


@register.simple_tag
def govuk_error_summary(*forms_: forms.BaseForm | None) -> str:
    """The 'There is a problem' summary for one or more forms, or nothing when they have no errors."""
    items: list[dict[str, Any]] = []
    for form in forms_:
        if form is None:
            continue
        items.extend({"text": error, "target": None} for error in form.non_field_errors())
        for bf in form:
            target = _error_target(bf)
            items.extend({"text": error, "target": target} for error in bf.errors)
    if not items:
        return ""
    return render_to_string("govuk/error_summary.html", {"items": items})


def _classes(*names: str | None) -> str:
    return " ".join(name for name in names if name)


def _width_class(width: Any) -> str | None:
    """widget attrs {"width": 10} -> govuk-input--width-10; {"width": "one-half"} -> a fluid width."""
    if width in (None, False, ""):
        return None
    width = str(width)
    return f"govuk-input--width-{width}" if width.isdigit() else f"govuk-!-width-{width}"


def _choice_options(bf: BoundField) -> list[dict[str, Any]]:
    options = []
    for index, sub in enumerate(bf.subwidgets):
        # GOV.UK ids: the first option has the field's id (so error links land on it), then -2, -3...
        if not bf.auto_id:
            option_id = ""
        elif index == 0:
            option_id = bf.auto_id
        else:
            option_id = f"{bf.auto_id}-{index + 1}"
        value = sub.data["value"]
        options.append(
            {
                "id": option_id,
                "name": sub.data["name"],
                "value": "" if value is None else value,
                "label": sub.choice_label,
                "checked": sub.data["selected"],
            }
        )
    return options


@register.simple_tag
def govuk_field(bf: BoundField) -> str:
    """One bound field as the GOV.UK component that matches its widget."""
    widget = bf.field.widget
    if widget.is_hidden:
        return bf.as_widget()

    errors = bf.errors
    hint_id = f"{bf.auto_id}-hint" if bf.help_text and bf.auto_id else ""
    error_id = f"{bf.auto_id}-error" if errors and bf.auto_id else ""
    describedby = _classes(hint_id, error_id)
    context: dict[str, Any] = {
        "field": bf,
        "id": bf.auto_id,
        "label": bf.label,
        "optional": not bf.field.required,
        "hint": bf.help_text,
        "hint_id": hint_id,
        "errors": errors,
        "error_id": error_id,
        "describedby": describedby,
        "disabled": bf.field.disabled,
    }
    own_class = widget.attrs.get("class")

    def error_class(block: str) -> str | None:
        return f"{block}--error" if errors else None

    if isinstance(widget, DateInputWidget):
        error_parts = _date_error_parts(bf) if errors else ()
        context["widget_html"] = bf.as_widget(attrs={"error_parts": error_parts})
        return render_to_string("govuk/date.html", context)

    # CheckboxSelectMultiple is a kind of RadioSelect in Django, so it is tested first.
    if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
        multiple = isinstance(widget, forms.CheckboxSelectMultiple)
        context.update(
            kind="checkboxes" if multiple else "radios",
            input_type="checkbox" if multiple else "radio",
            extra_classes=own_class,
            options=_choice_options(bf),
        )
        return render_to_string("govuk/choices.html", context)

    attrs: dict[str, Any] = {}
    if describedby:
        attrs["aria-describedby"] = describedby

    if isinstance(widget, forms.CheckboxInput):
        # A lone checkbox is itself the answer, so it is never marked "(optional)".
        context["optional"] = False
        attrs["class"] = _classes("govuk-checkboxes__input", own_class)
        context["widget_html"] = bf.as_widget(attrs=attrs)
        return render_to_string("govuk/checkbox.html", context)

    render_widget = None
    if isinstance(widget, forms.FileInput):
        attrs["class"] = _classes("govuk-file-upload", own_class, error_class("govuk-file-upload"))
        if isinstance(widget, forms.ClearableFileInput):
            # GOV.UK has no "currently / clear" control: render the plain file input.
            render_widget = copy.copy(widget)
            render_widget.template_name = forms.FileInput.template_name
    elif isinstance(widget, forms.Textarea):
        attrs["class"] = _classes("govuk-textarea", own_class, error_class("govuk-textarea"))
    elif isinstance(widget, forms.Select):
        attrs["class"] = _classes("govuk-select", own_class, error_class("govuk-select"))
    elif isinstance(widget, Input):
        width = widget.attrs.get("width")
        attrs["class"] = _classes(
            "govuk-input", _width_class(width), own_class, error_class("govuk-input")
        )
        # "width" only chooses the class; False keeps Django from writing it out as an attribute.
        attrs["width"] = False
    context["widget_html"] = bf.as_widget(widget=render_widget, attrs=attrs)
    return render_to_string("govuk/field.html", context)


@register.simple_tag
def govuk_fields(form: forms.BaseForm) -> SafeString:
    """Every visible field in order, then the hidden ones."""
    rendered = [govuk_field(bf) for bf in form.visible_fields()]
    rendered += [bf.as_widget() for bf in form.hidden_fields()]
    # Each piece came out of an autoescaping template or Django's widget rendering.
    return mark_safe("".join(rendered))


@register.simple_tag
def govuk_messages(messages: Any) -> str:
    """Django messages as notification banners: a success banner, then an "Important" one."""
    success, other = [], []
    for message in messages or ():
        (success if message.level == message_levels.SUCCESS else other).append(message)
    banners = [{"success": True, "messages": success}, {"success": False, "messages": other}]
    banners = [banner for banner in banners if banner["messages"]]
    if not banners:
        return ""
    return render_to_string("govuk/messages.html", {"banners": banners})


@register.filter
def code_label(value: Any) -> str:
    """A stored code as words: "refer_to_panel" becomes "Refer to panel"."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
