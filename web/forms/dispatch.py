"""Forms of the hauler dispatcher: which open pickups to show, plan a day's rounds, dispatch a plan to drivers."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logistics.models import Vehicle


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PickupFilterForm(forms.Form):
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())


class VehicleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, vehicle: Vehicle) -> str:
        name = f" {vehicle.name}" if vehicle.name else ""
        return _("%(plate)s%(name)s · %(kg)s kg · shift %(start)s–%(end)s") % {
            "plate": vehicle.plate,
            "name": name,
            "kg": floatformat(vehicle.capacity_kg, "0g"),
            "start": vehicle.shift_start.strftime("%H:%M"),
            "end": vehicle.shift_end.strftime("%H:%M"),
        }


class PlanForm(forms.Form):
    """The day to plan and the vehicles to plan it with (the service refuses a past day or no vehicle)."""

    date = forms.DateField(
        label=_("Day to plan"),
        widget=DateInput(),
        error_messages={"required": _("Enter the day to plan."), "invalid": _("Enter a date such as 2026-03-01.")},
    )
    vehicles = VehicleChoiceField(
        label=_("Vehicles"),
        queryset=Vehicle.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The hauler's active vehicles; each one drives at most one round."),
        error_messages={"invalid_choice": _("%(value)s is not an active vehicle of this hauler.")},
    )

    def __init__(self, *args, vehicles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicles"].queryset = vehicles
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
            self.initial.setdefault("vehicles", list(vehicles.values_list("pk", flat=True)))


class DispatchForm(forms.Form):
    """One driver per route of the plan: a field ``driver_<vehicle id>`` for each vehicle with a route."""

    def __init__(self, *args, routes: list[dict], drivers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose a driver"))] + [(u.username, u.get_full_name() or u.username) for u in drivers]
        for route in routes:
            vehicle = route["vehicle"]
            name = f"driver_{vehicle['id']}"
            self.fields[name] = forms.ChoiceField(
                label=_("Driver of %(plate)s") % {"plate": vehicle["plate"]},
                choices=choices,
                required=True,
                error_messages={
                    "required": _("Choose a driver for %(plate)s.") % {"plate": vehicle["plate"]},
                    "invalid_choice": _("%(value)s is not a driver of this hauler."),
                },
            )
            if not self.is_bound and vehicle.get("default_driver"):
                self.initial[name] = vehicle["default_driver"]

    def drivers(self) -> dict[str, str]:
        """vehicle id → driver's username, as the dispatch service takes it."""
        return {name.removeprefix("driver_"): value for name, value in self.cleaned_data.items()}

    @staticmethod
    def field_for(path: str) -> str | None:
        """The form field for a service error path such as ``drivers.12``."""
        prefix, _dot, vehicle = path.partition(".")
        return f"driver_{vehicle}" if prefix == "drivers" and vehicle else None
