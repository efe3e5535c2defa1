"""Forms of emergency command: report an incident (members and citizens), dispatch, act, note."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from emergency.models import IncidentKind
from logistics.models import WasteClass


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=IncidentKind.choices)
    lon = forms.FloatField(
        label=_("Longitude"), min_value=-180, max_value=180, help_text=_("Where it is, e.g. 117.2001")
    )
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90, help_text=_("e.g. 39.1201"))
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False, widget=DateTimeInput(), help_text=_("Blank: now")
    )
    waste_code = forms.CharField(
        label=_("Waste code"), required=False, max_length=32, help_text=_("If known, e.g. 900-249-08")
    )
    waste_class = forms.ChoiceField(
        label=_("Kind of waste"), required=False, choices=[("", _("Not known")), *WasteClass.choices]
    )
    quantity_kg = forms.DecimalField(
        label=_("Estimated quantity (kg)"), required=False, min_value=0, max_digits=12, decimal_places=3
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.ImageField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per request: a lazy string formatted in the class body is read once, at import, in
        # whatever language was active then (English), and the Chinese page showed it in English.
        self.fields["photo"].help_text = gettext("JPEG, PNG or WebP, at most %(mb)s MB") % {
            "mb": settings.INCIDENT_PHOTO_MAX_BYTES // 2**20
        }


class PublicReportForm(IncidentForm):
    """The citizens' page: what, where, a photo, and a way to reach them if they wish."""

    contact = forms.CharField(
        label=_("Your phone or e-mail"), required=False, max_length=100, help_text=_("Optional; only the city sees it")
    )


class DispatchForm(forms.Form):
    vehicle = forms.IntegerField(widget=forms.HiddenInput)
    site = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
