"""Forms of the recycler's pages: published capacities, claims of offers."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CapacityForm(forms.Form):
    site = forms.TypedChoiceField(label=_("Site"), coerce=int)
    codes = forms.CharField(
        label=_("Waste codes or categories accepted"),
        max_length=2000,
        help_text=_("Separated by commas, e.g. HW08, 900-249-08, SW17."),
    )
    period_start = forms.DateField(label=_("Period start"), widget=DATE)
    period_end = forms.DateField(label=_("Period end"), widget=DATE)
    capacity_kg = forms.DecimalField(
        label=_("Capacity for the period (kg)"),
        max_digits=16,
        decimal_places=3,
        min_value=Decimal("0.001"),
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )
    price_per_t = forms.DecimalField(
        label=_("Price per tonne (CNY)"),
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("Paid to the generator; negative for a gate fee you charge."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    active = forms.BooleanField(label=_("Open to matches"), required=False, initial=True)

    def __init__(self, *args, sites, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, s.name) for s in sites]
        if editing:  # the site of a published capacity stays
            self.fields["site"].disabled = True
        else:
            del self.fields["active"]

    def clean_codes(self):
        codes = [c for c in re.split(r"[,，;；\s]+", self.cleaned_data["codes"]) if c]
        if not codes:
            raise forms.ValidationError(_("List at least one waste code or category."))
        if len(codes) > 200:
            raise forms.ValidationError(_("At most 200 codes."))
        return codes

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Ends before the period starts."))
        return data


class ClaimForm(forms.Form):
    capacity = forms.TypedChoiceField(label=_("Capacity"), coerce=int)

    def __init__(self, *args, capacities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capacity"].choices = [(c, c) for c in capacities]
