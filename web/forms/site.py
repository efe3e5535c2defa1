"""Forms of the site operator's pages: receipt, consolidation, splitting, treatment, mass balance."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waste.errors import AppError

KG = {"max_digits": 12, "decimal_places": 3}
MAX_BALANCE_DAYS = 3 * 366  # as the mass-balance API


def kg_field(label, *, required=True, min_value=Decimal(0), help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=min_value,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
        **KG,
    )


def app_error_to_forms(error: AppError, form: forms.Form, lists: dict | None = None, aliases: dict | None = None):
    """Puts a service's field errors beside the fields they name.

    ``lists`` maps a list path of the service (``lines``, ``outputs``) to the forms of its items, so
    that ``lines.1.refused_kg`` lands on the second line's field; ``aliases`` renames a service path to
    a field of ``form`` (``batches.0`` → ``batches``). Anything else goes to the summary on top."""
    lists, aliases = lists or {}, aliases or {}
    placed = False
    for path, messages in (error.fields or {}).items():
        head, *rest = path.split(".")
        target, field = form, aliases.get(path, aliases.get(head, head))
        if head in lists and rest and rest[0].isdigit() and int(rest[0]) < len(lists[head]):
            target = lists[head][int(rest[0])]
            field = rest[1] if len(rest) > 1 else None
        if field not in target.fields:
            field = None
        for message in messages:
            target.add_error(field, message)
        placed = True
    if not placed:
        form.add_error(None, error.message)


# --- Receipt -----------------------------------------------------------------------------------------


class ReceiptForm(forms.Form):
    DECISIONS = [
        ("accept", _("Accept everything")),
        ("partial", _("Accept part, refuse the rest")),
        ("refuse", _("Refuse everything")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)


class ReceiptLineForm(forms.Form):
    """One batch of the manifest: what the weighbridge shows, what is refused and why."""

    weighed_kg = kg_field(_("Weighed (kg)"), required=False, help_text=_("What the weighbridge shows for this batch."))
    refused_kg = kg_field(_("Refused (kg)"), required=False, help_text=_("Leave empty when nothing is refused."))
    reason = forms.CharField(label=_("Reason for refusal"), max_length=300, required=False)

    def __init__(self, *args, line, **kwargs):
        self.line = line
        super().__init__(*args, **kwargs)


def receipt_lines(decision_form: ReceiptForm, line_forms: list[ReceiptLineForm]) -> list[dict] | None:
    """The lines for the receiver's signature, or None after putting each error beside its field."""
    valid = decision_form.is_valid() & all([f.is_valid() for f in line_forms])
    if not valid:
        return None
    decision = decision_form.cleaned_data["decision"]
    lines = []
    for form in line_forms:
        weighed, refused = form.cleaned_data["weighed_kg"], form.cleaned_data["refused_kg"] or Decimal(0)
        reason = form.cleaned_data["reason"].strip()
        code = form.line.batch.code
        if decision == "refuse":
            if not reason:
                form.add_error("reason", _("Say why the batch is refused."))
            lines.append({"batch": code, "reason": reason})
            continue
        if weighed is None:
            form.add_error("weighed_kg", _("Enter the weight shown by the weighbridge."))
            continue
        if weighed <= 0:
            form.add_error("weighed_kg", _("Must be greater than zero."))
            continue
        if refused > weighed:
            form.add_error("refused_kg", _("Cannot be more than the weighed quantity."))
            continue
        if decision == "accept" and refused:
            form.add_error("refused_kg", _("You accept everything: leave this empty, or choose a partial acceptance."))
            continue
        if refused and not reason:
            form.add_error("reason", _("Say why part of the batch is refused."))
            continue
        lines.append({"batch": code, "received_kg": weighed - refused, "refused_kg": refused, "reason": reason})
    if decision == "partial" and not any(line.get("refused_kg") for line in lines) and not _errors(line_forms):
        decision_form.add_error("decision", _("Nothing is refused: enter the refused quantity, or accept everything."))
    if decision_form.errors or _errors(line_forms):
        return None
    return lines


def _errors(forms_) -> bool:
    return any(f.errors for f in forms_)


# --- Consolidation and splitting -----------------------------------------------------------------------


class ConsolidateForm(forms.Form):
    batches = forms.MultipleChoiceField(
        label=_("Batches to consolidate"), widget=forms.CheckboxSelectMultiple, help_text=_("Choose two or more.")
    )
    waste_code = forms.CharField(
        label=_("Waste code of the new batch"),
        max_length=20,
        required=False,
        help_text=_("Needed only when the batches have different codes."),
    )

    def __init__(self, *args, codes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batches"].choices = codes

    def clean_batches(self):
        codes = self.cleaned_data["batches"]
        if len(codes) < 2:
            raise forms.ValidationError(_("Choose at least two batches."))
        return codes


class SplitForm(forms.Form):
    parts = forms.CharField(
        label=_("Quantities of the parts (kg)"),
        max_length=500,
        help_text=_("Separated by commas, e.g. 40, 60; they add up to the batch's weight."),
    )

    def clean_parts(self):
        raw = [p for p in re.split(r"[,，;；\s]+", self.cleaned_data["parts"]) if p]
        try:
            quantities = [Decimal(p) for p in raw]
        except InvalidOperation:
            raise forms.ValidationError(_("Enter numbers separated by commas.")) from None
        if len(quantities) < 2:
            raise forms.ValidationError(_("Enter at least two parts."))
        if any(not q.is_finite() or q <= 0 for q in quantities):
            raise forms.ValidationError(_("Every part must be greater than zero."))
        if any(q.as_tuple().exponent < -3 for q in quantities):
            raise forms.ValidationError(_("At most three decimals (grams)."))
        return quantities


# --- Treatment -----------------------------------------------------------------------------------------


class TreatmentForm(forms.Form):
    operation = forms.ChoiceField(label=_("Operation (R/D code)"))
    quantity_kg = kg_field(_("Quantity treated (kg)"), min_value=Decimal("0.001"))
    losses_kg = kg_field(
        _("Losses (kg)"), required=False, help_text=_("Moisture, emissions, combustion: what leaves the balance.")
    )
    treated_at = forms.DateTimeField(
        label=_("Treated at"),
        required=False,
        help_text=_("Leave empty for now."),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, operations: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].choices = [("", _("Choose an operation"))] + operations


class TreatmentOutputForm(forms.Form):
    KINDS = [("secondary", _("Secondary material")), ("residue", _("Residue"))]
    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS, required=False)
    material = forms.CharField(label=_("Material"), max_length=100, required=False)
    grade = forms.CharField(label=_("Grade"), max_length=40, required=False)
    quantity_kg = kg_field(_("Quantity (kg)"), required=False)
    waste_code = forms.CharField(
        label=_("Waste code"), max_length=20, required=False, help_text=_("For a residue that is waste.")
    )

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if not data.get("kind") and "kind" not in self.errors:
            self.add_error("kind", _("Choose secondary material or residue."))
        if not data.get("material"):
            self.add_error("material", _("Name the material."))
        if data.get("quantity_kg") is None and "quantity_kg" not in self.errors:
            self.add_error("quantity_kg", _("Enter the quantity."))
        return data

    def is_blank(self) -> bool:
        """A row left empty (the kind select always has a value) is no output."""
        values = [self.data.get(self.add_prefix(name), "").strip() for name in ("material", "grade", "quantity_kg")]
        values.append(self.data.get(self.add_prefix("waste_code"), "").strip())
        return not any(values)


OUTPUT_ROWS = 3


def output_forms(data=None) -> list[TreatmentOutputForm]:
    return [TreatmentOutputForm(data, prefix=f"output-{i}") for i in range(OUTPUT_ROWS)]


# --- Mass balance --------------------------------------------------------------------------------------


class MassBalanceForm(forms.Form):
    site = forms.TypedChoiceField(label=_("Site"), coerce=int)
    date_from = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, s.name) for s in sites]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("Is before the start of the period."))
            elif (end - start).days > MAX_BALANCE_DAYS:
                self.add_error("date_to", _("A mass balance covers at most three years."))
        return data


def month_so_far() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today.replace(day=1), today
