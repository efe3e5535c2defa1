"""Forms of the enterprise (waste generator) pages."""

from __future__ import annotations

import datetime

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waste.models import BatchStatus, ExportFormat, PhysicalForm, Site

TRAITS = [
    ("T", _("T — toxic")),
    ("C", _("C — corrosive")),
    ("I", _("I — ignitable")),
    ("R", _("R — reactive")),
    ("In", _("In — infectious")),
]

TABS = {
    # Trackdéchets-style tabs: what the enterprise must act on, what is on its way, what is done.
    "act": (_("To act on"), [BatchStatus.GENERATED, BatchStatus.STORED, BatchStatus.READY, BatchStatus.REJECTED]),
    "transit": (_("In transit"), [BatchStatus.IN_TRANSIT, BatchStatus.DELIVERED]),
    "closed": (
        _("Closed"),
        [BatchStatus.RECEIVED, BatchStatus.CONSOLIDATED, BatchStatus.SPLIT, BatchStatus.TREATED],
    ),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class BatchFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    waste_code = forms.CharField(label=_("Waste code"), required=False, max_length=40)
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )
    date_from = forms.DateField(label=_("Generated from"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("Generated until"), required=False, widget=DateInput())

    def __init__(self, *args, tab: str, sites, **kwargs):
        super().__init__(*args, **kwargs)
        statuses = TABS[tab][1]
        self.fields["status"].choices = [("", _("All statuses"))] + [
            (s.value, s.label) for s in BatchStatus if s in statuses
        ]
        self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class BatchCreateForm(forms.Form):
    site = forms.ModelChoiceField(
        label=_("Site of generation"), queryset=Site.objects.none(), empty_label=_("Choose a site")
    )
    waste_code = forms.CharField(
        label=_("Waste code"),
        max_length=40,
        help_text=_(
            "Type a code (e.g. 900-249-08, 16 01 04*, SW17) or part of the waste's name in Chinese or English."
        ),
    )
    quantity_kg = forms.DecimalField(label=_("Quantity (kg)"), max_digits=12, decimal_places=3, min_value=0.001)
    estimated = forms.BooleanField(label=_("The quantity is an estimate (not weighed)"), required=False)
    physical_form = forms.ChoiceField(
        label=_("Physical form"), choices=PhysicalForm.choices, initial=PhysicalForm.SOLID
    )
    hazard_traits = forms.MultipleChoiceField(
        label=_("Hazard traits"),
        choices=TRAITS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to take the traits the catalog gives for the code."),
    )
    container_type = forms.CharField(
        label=_("Container type"), required=False, max_length=40, help_text=_("e.g. drum, IBC, bag")
    )
    container_count = forms.IntegerField(label=_("Number of containers"), required=False, min_value=1, max_value=10_000)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    main_components = forms.CharField(label=_("Main hazardous components"), required=False, max_length=300)
    generated_at = forms.DateTimeField(
        label=_("Generated at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if sites.count() == 1 and not self.is_bound:
            self.fields["site"].initial = sites.first()
        self.fields["waste_code"].widget.attrs.update(
            {
                "list": "waste-code-options",
                "autocomplete": "off",
                # htmx refreshes the picker's <datalist> with catalog entries matching what is typed.
                "hx-get": reverse("web:enterprise-waste-codes"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#waste-code-options",
                "hx-swap": "innerHTML",
            }
        )

    def clean(self):
        data = super().clean()
        if data.get("container_count") and not data.get("container_type"):
            self.add_error("container_type", _("Name the type of the containers you counted."))
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        containers = []
        if data.get("container_type"):
            containers = [{"type": data["container_type"], "count": data.get("container_count") or 1, "volume_l": None}]
        return {
            "site": data["site"],
            "waste_code": data["waste_code"],
            "quantity_kg": data["quantity_kg"],
            "estimated": data["estimated"],
            "physical_form": data["physical_form"],
            "hazard_traits": data["hazard_traits"] or None,
            "containers": containers,
            "description": data["description"],
            "main_components": data["main_components"],
            "generated_at": data.get("generated_at"),
        }


class BatchSelectionForm(forms.Form):
    """The batches ticked in the batch log (label printing, pickups, manifests)."""

    batches = forms.MultipleChoiceField(
        label=_("Batches"), error_messages={"required": _("Tick at least one batch first.")}
    )

    def __init__(self, *args, codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batches"].choices = [(c, c) for c in codes]


def haulers_choices():
    from waste.models import Organisation

    # Haulers are public parties: any enterprise may name one (as in the pickup API).
    return Organisation.objects.filter(is_hauler=True).order_by("name")


class PickupRequestForm(forms.Form):
    batches = forms.CharField(widget=forms.MultipleHiddenInput)
    date = forms.DateField(label=_("Pickup date"), widget=DateInput())
    hauler = forms.ModelChoiceField(
        label=_("Hauler"), queryset=None, required=False, empty_label=_("Any hauler (decided later)")
    )
    window_start = forms.TimeField(
        label=_("Available from"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    window_end = forms.TimeField(
        label=_("Available until"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hauler"].queryset = haulers_choices()
        if not self.is_bound:
            self.fields["date"].initial = timezone.localdate() + datetime.timedelta(days=1)

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The pickup date is in the past."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("window_start") and data.get("window_end") and data["window_end"] <= data["window_start"]:
            self.add_error("window_end", _("The time window ends before it starts."))
        return data


class ManifestCreateForm(forms.Form):
    from_site = forms.ModelChoiceField(
        label=_("From (your site)"), queryset=Site.objects.none(), empty_label=_("Choose a site")
    )
    to_site = forms.ModelChoiceField(
        label=_("To (receiving site)"), queryset=Site.objects.none(), empty_label=_("Choose the receiver's site")
    )
    carrier = forms.ModelChoiceField(label=_("Carrier (hauler)"), queryset=None, empty_label=_("Choose a hauler"))

    def __init__(self, *args, own_sites, receiving_sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_site"].queryset = own_sites
        self.fields["to_site"].queryset = receiving_sites
        self.fields["carrier"].queryset = haulers_choices()
        if own_sites.count() == 1 and not self.is_bound:
            self.fields["from_site"].initial = own_sites.first()


class LedgerForm(forms.Form):
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), widget=DateInput())
    date_to = forms.DateField(label=_("Until"), widget=DateInput())
    format = forms.ChoiceField(
        label=_("File format"),
        choices=[(ExportFormat.XLSX, "Excel (XLSX)"), (ExportFormat.CSV, "CSV"), (ExportFormat.PDF, "PDF")],
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
