"""Forms of the regulator's pages: search, indicator filters, export requests, export verification."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waste.models import ExportFormat, ExportKind

MAX_INDICATOR_DAYS = 366 * 10  # as the indicator API (waste/api/reports.py)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EARLIEST = datetime.date(2000, 1, 1)  # no ledger predates the system; far-off years would overflow time zones


def period_check(form, data) -> None:
    """Both dates from EARLIEST on, "to" not before "from"; errors beside the field."""
    for name in ("date_from", "date_to"):
        if data.get(name) and data[name] < EARLIEST:
            form.add_error(name, _("Must be on or after %(date)s.") % {"date": EARLIEST.isoformat()})
            data.pop(name, None)
    start, end = data.get("date_from"), data.get("date_to")
    if start and end and start > end:
        form.add_error("date_to", _("Must not be before “From”."))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Batch code, manifest number, organisation name or unified social credit code"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def clean_q(self):
        value = self.cleaned_data["q"].strip()
        if len(value) < 2:
            raise forms.ValidationError(_("Type at least 2 characters."), code="too_short")
        return value


class IndicatorForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), widget=DateInput())
    date_to = forms.DateField(label=pgettext_lazy("date range", "To"), widget=DateInput())
    district = forms.ChoiceField(label=_("District"), required=False)

    def __init__(self, *args, districts: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        # Only districts of the jurisdiction: another one is "not one of the available choices".
        self.fields["district"].choices = [("", _("— whole jurisdiction —")), *districts]

    @classmethod
    def initial_period(cls) -> dict:
        today = timezone.localdate()
        return {"date_from": datetime.date(today.year, 1, 1), "date_to": today}

    def clean(self):
        data = super().clean()
        period_check(self, data)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end - start).days > MAX_INDICATOR_DAYS:
            self.add_error("date_to", _("A report covers at most ten years."))
        return data


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=ExportKind.choices)
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), widget=DateInput())
    date_to = forms.DateField(label=pgettext_lazy("date range", "To"), widget=DateInput())
    organisation = forms.ModelChoiceField(
        label=_("Enterprise"),
        queryset=None,
        required=False,
        empty_label=_("— whole jurisdiction —"),
        help_text=_(
            "HJ 1259 tables are per enterprise: choose one. The register and events may cover the whole jurisdiction."
        ),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        # Only organisations the regulator sees: another one is "not one of the available choices".
        self.fields["organisation"].queryset = organisations.order_by("name")

    def clean(self):
        data = super().clean()
        period_check(self, data)
        if data.get("kind") == ExportKind.HJ1259 and not data.get("organisation") and "organisation" not in self.errors:
            self.add_error("organisation", _("HJ 1259 tables are per enterprise: choose the enterprise."))
        return data


class VerifyForm(forms.Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_("A CSV, Excel, PDF or JSON-LD file exported by this system (at most 50 MB)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."), code="too_large")
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        return upload
