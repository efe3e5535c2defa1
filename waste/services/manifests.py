"""Manifests: created by the consignor, signed in turn, received, corrected only by new versions."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.errors import AppError, Conflict
from waste.lifecycle import TRANSITIONS, Action
from waste.models import (
    RECEIVING_KINDS,
    Batch,
    BatchParty,
    BatchStatus,
    Manifest,
    ManifestCarrier,
    ManifestLine,
    ManifestSerial,
    ManifestStatus,
    Membership,
    Organisation,
    Site,
)
from waste.permissions import membership_require
from waste.selectors.manifests import manifest_current
from waste.services.batches import batches_lock, permit_check
from waste.services.ledger import NewEvent, ledger_append
from waste.services.transitions import Act, batch_transition


def working_days_after(day: datetime.date, days: int) -> datetime.date:
    """Adds working days (Monday to Friday). Public holidays are not modelled."""
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _fleet_hooks(name: str):
    """Fleet and licences live in logistics, which waste does not import: its AppConfig provides
    ``manifest_carriers_check`` and ``manifest_carrier_vehicle`` (read here)."""
    return [hook for config in apps.get_app_configs() if callable(hook := getattr(config, name, None))]


def manifest_number_next(*, year: int, area_code: str) -> str:
    serial, _ = ManifestSerial.objects.select_for_update().get_or_create(year=year, area_code=area_code)
    serial.last += 1
    serial.save(update_fields=["last"])
    return f"{year:04d}{area_code}{serial.last:06d}"


@transaction.atomic
def manifest_create(
    *, user, from_site: Site, to_site: Site, carriers: list[Organisation], batches: list[str]
) -> Manifest:
    consignor = from_site.organisation
    membership_require(user=user, organisation=consignor, field="from_site")
    if to_site.kind not in RECEIVING_KINDS or not to_site.active:
        raise AppError.field("to_site", _("The destination does not receive waste."), code="not_receiving")
    if to_site.pk == from_site.pk:
        raise AppError.field("to_site", _("A movement goes to another site."))
    if not carriers:
        raise AppError.field("carriers", _("Name at least one carrier."))
    if len({c.pk for c in carriers}) != len(carriers):
        raise AppError.field("carriers", _("A carrier is listed twice."), code="duplicate")
    for i, carrier in enumerate(carriers):
        if not carrier.is_hauler:
            raise AppError.field(
                f"carriers.{i}",
                _("%(name)s is not registered as a hauler.") % {"name": carrier.name},
                code="wrong_role",
            )
    if not batches:
        raise AppError.field("batches", _("A manifest lists at least one batch."))
    locked = batches_lock(batches, "batches")
    today = timezone.localdate()
    for i, batch in enumerate(locked):
        field = f"batches.{i}"
        if batch.holder_id != consignor.pk or batch.current_site_id != from_site.pk:
            raise AppError.field(
                field,
                _("%(code)s is not held at %(name)s.") % {"code": batch.code, "name": from_site.name},
                code="not_here",
            )
        if batch.status not in TRANSITIONS[Action.PICKUP].sources or batch.status == BatchStatus.IN_TRANSIT:
            raise Conflict.field(
                field,
                _("%(code)s cannot be shipped while %(lower)s.")
                % {"code": batch.code, "lower": batch.get_status_display().lower()},
                code="not_allowed",
            )
        if ManifestLine.objects.filter(
            batch=batch,
            manifest__correction__isnull=True,
            manifest__status__in=[ManifestStatus.DRAFT, ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT],
        ).exists():
            raise Conflict.field(
                field, _("%(code)s is already on an open manifest.") % {"code": batch.code}, code="duplicate"
            )
        permit_check(site=to_site, entry=batch.waste, on=today, field=field)
        if batch.is_hazardous and not any(p.valid_from <= today <= p.valid_until for p in to_site.permits.all()):
            raise AppError.field(
                field,
                _("%(name)s holds no hazardous-waste permit in force.") % {"name": to_site.name},
                code="not_permitted",
            )
    for i, carrier in enumerate(carriers):
        for hook in _fleet_hooks("manifest_carriers_check"):
            hook(carrier=carrier, batches=locked, on=today, field=f"carriers.{i}")
    manifest = Manifest.objects.create(
        number=manifest_number_next(year=today.year, area_code=from_site.district_code),
        consignor=consignor,
        from_site=from_site,
        receiver=to_site.organisation,
        to_site=to_site,
        created_by=user,
    )
    ManifestCarrier.objects.bulk_create(
        [ManifestCarrier(manifest=manifest, organisation=c, order=i + 1) for i, c in enumerate(carriers)]
    )
    ManifestLine.objects.bulk_create(
        [ManifestLine(manifest=manifest, batch=b, quantity_kg=b.last_weight_kg or b.quantity_kg) for b in locked]
    )
    # A carrier named on the manifest takes part in its batches' journey: its drivers see a batch
    # (waste, quantity, generator) when they scan its label, before the pickup.
    BatchParty.objects.bulk_create(
        [BatchParty(batch=b, organisation=c) for b in locked for c in carriers], ignore_conflicts=True
    )
    return manifest


def _signed_event(manifest: Manifest, *, user, organisation: Organisation, role: str, method: str, extra=None):
    ledger_append(
        events=[
            NewEvent(
                event_type="signed",
                organisation=organisation,
                event_time=timezone.now(),
                stream=manifest.number,
                user=user,
                data={
                    "manifest": manifest.number,
                    "version": manifest.version,
                    "role": role,
                    "method": method,
                    "batches": [line.batch.code for line in manifest.lines.select_related("batch")],
                    **(extra or {}),
                },
            )
        ]
    )


def _pin_check(*, consignor: Organisation, signer: str, pin: str) -> Membership:
    """Checks a consignor member's PIN; failures count in their own transaction so they stick."""
    membership = Membership.objects.filter(organisation=consignor, user__username=signer).first()
    if membership is None or not membership.pin_hash:
        raise AppError.field("signer", _("No member of the consignor with a PIN has this username."))
    if membership.pin_locked:
        raise AppError.field(
            "pin",
            _("This PIN is locked after repeated failures; the consignor must reset it."),
            code="pin_locked",
            status=423,
        )
    if membership.pin_matches(pin):
        Membership.objects.filter(pk=membership.pk).update(pin_failures=0)
        return membership
    failures = membership.pin_failures + 1
    locked = failures >= settings.PIN_FAILURE_LIMIT
    Membership.objects.filter(pk=membership.pk).update(pin_failures=failures, pin_locked=locked)
    raise AppError.field(
        "pin",
        _("Wrong PIN. The PIN is now locked.") if locked else _("Wrong PIN."),
        code="wrong_pin",
        status=403,
    )


def manifest_sign(
    *,
    user,
    number: str,
    role: str,
    pin: str | None = None,
    signer: str | None = None,
    decision: str | None = None,
    lines: list[dict] | None = None,
    vehicle: str | None = None,
) -> Manifest:
    """One party signs its part; the signature seals it. PIN failures are recorded even though
    the signature is refused, so they are written outside the signing transaction."""
    if role == "consignor" and pin is not None:
        manifest = manifest_current(number)
        _pin_check(consignor=manifest.consignor, signer=signer or "", pin=pin)
        signer_user = get_user_model().objects.get(username=signer)
        with transaction.atomic():
            return _sign_consignor(manifest_current(number, lock=True), user=signer_user, captured_by=user)
    with transaction.atomic():
        manifest = manifest_current(number, lock=True)
        if role == "consignor":
            membership_require(user=user, organisation=manifest.consignor, field="role")
            return _sign_consignor(manifest, user=user, captured_by=None)
        if role == "carrier":
            return _sign_carrier(manifest, user=user, vehicle=vehicle)
        if role == "receiver":
            return _sign_receiver(manifest, user=user, decision=decision, lines=lines or [])
    raise AppError.field("role", _("Role is consignor, carrier or receiver."))


def _sign_consignor(manifest: Manifest, *, user, captured_by) -> Manifest:
    if manifest.status != ManifestStatus.DRAFT or manifest.consignor_signed_at:
        raise Conflict.field("role", _("The consignor has already signed; the part is sealed."), code="sealed")
    now = timezone.now()
    manifest.consignor_signed_at, manifest.consignor_signed_by = now, user
    manifest.receipt_due = working_days_after(timezone.localdate(now), settings.MANIFEST_RECEIPT_WORKING_DAYS)
    manifest.status = ManifestStatus.SEALED
    manifest.save()
    method = "pin" if captured_by else "login"
    extra = {"captured_by": captured_by.username} if captured_by else {}
    _signed_event(manifest, user=user, organisation=manifest.consignor, role="consignor", method=method, extra=extra)
    return manifest


def _sign_carrier(manifest: Manifest, *, user, vehicle: str | None = None) -> Manifest:
    if manifest.status not in (ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT):
        raise Conflict.field("role", _("Carriers sign after the consignor and before receipt."), code="out_of_order")
    orgs = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    for carrier in manifest.carriers.select_related("organisation").order_by("order"):
        if carrier.signed_at is None:
            if carrier.organisation_id not in orgs and not user.is_superuser:
                raise AppError.field(
                    "role",
                    _("It is %(name)s's turn to sign.") % {"name": carrier.organisation.name},
                    code="not_your_turn",
                    status=403,
                )
            # The signature names the vehicle and its driver; a hazardous load needs a licensed
            # carrier and a vehicle allowed to carry it (logistics decides, through the hook).
            plate, driver = "", None
            for hook in _fleet_hooks("manifest_carrier_vehicle"):
                plate, driver = hook(
                    manifest=manifest,
                    organisation=carrier.organisation,
                    user=user,
                    plate=vehicle,
                    on=timezone.localdate(),
                )
            carrier.signed_at, carrier.signed_by = timezone.now(), user
            carrier.vehicle_plate, carrier.driver = plate, driver
            carrier.save(update_fields=["signed_at", "signed_by", "vehicle_plate", "driver"])
            extra = {"order": carrier.order}
            if plate:
                extra["vehicle"] = plate
            if driver is not None:
                extra["driver"] = driver.username
            _signed_event(
                manifest,
                user=user,
                organisation=carrier.organisation,
                role="carrier",
                method="login",
                extra=extra,
            )
            return manifest
    raise Conflict.field("role", _("Every carrier has already signed."), code="sealed")


def _sign_receiver(manifest: Manifest, *, user, decision: str | None, lines: list[dict]) -> Manifest:
    membership_require(user=user, organisation=manifest.receiver, field="role")
    if manifest.status not in (ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT):
        raise Conflict.field(
            "role", _("The receiver signs once the waste has left the consignor."), code="out_of_order"
        )
    if decision not in ("accept", "partial", "refuse"):
        raise AppError.field("decision", _("Decision is accept, partial or refuse."))
    by_code = {}
    for i, item in enumerate(lines):
        by_code[item["batch"]] = (i, item)
    manifest_lines = list(manifest.lines.select_related("batch"))
    unknown = set(by_code) - {line.batch.code for line in manifest_lines}
    if unknown:
        raise AppError.field(f"lines.{by_code[sorted(unknown)[0]][0]}.batch", _("This batch is not on the manifest."))
    now = timezone.now()
    for line in manifest_lines:
        batch = Batch.objects.select_for_update().get(pk=line.batch_id)
        index, item = by_code.get(batch.code, (None, {}))
        field = f"lines.{index}" if index is not None else "decision"
        refused = (
            Decimal(item.get("refused_kg") or 0)
            if decision in ("partial", "accept")
            else (line.quantity_kg if decision == "refuse" else Decimal(0))
        )
        if refused < 0 or refused > line.quantity_kg:
            raise AppError.field(f"{field}.refused_kg", _("Between 0 and the manifest quantity."))
        received = item.get("received_kg")
        received = Decimal(received) if received is not None else (line.received_kg or line.quantity_kg - refused)
        if refused == line.quantity_kg:
            if batch.status in TRANSITIONS[Action.REJECT].sources:
                batch_transition(
                    batch=batch,
                    act=Act(
                        user=user,
                        action=Action.REJECT,
                        event_time=now,
                        organisation=manifest.receiver,
                        reason=item.get("reason", "refused at receipt"),
                    ),
                )
        elif batch.status in TRANSITIONS[Action.RECEIVE].sources:
            batch_transition(
                batch=batch,
                act=Act(
                    user=user,
                    action=Action.RECEIVE,
                    event_time=now,
                    organisation=manifest.receiver,
                    weight_kg=received,
                    data={"refused_kg": str(refused)} if refused else None,
                ),
            )
        ManifestLine.objects.filter(pk=line.pk).update(
            received_kg=received if refused < line.quantity_kg else Decimal(0),
            refused_kg=refused,
            refusal_reason=item.get("reason", ""),
        )
    refused_all = all(line.refused_kg == line.quantity_kg for line in ManifestLine.objects.filter(manifest=manifest))
    any_refused = ManifestLine.objects.filter(manifest=manifest, refused_kg__gt=0).exists()
    if decision == "accept" and any_refused:
        raise AppError.field("decision", _("Some quantities were refused: the decision is partial."))
    manifest.status = (
        ManifestStatus.REFUSED
        if refused_all
        else ManifestStatus.PARTIALLY_RECEIVED
        if any_refused
        else ManifestStatus.RECEIVED
    )
    manifest.receiver_signed_at, manifest.receiver_signed_by = now, user
    manifest.save()
    _signed_event(
        manifest,
        user=user,
        organisation=manifest.receiver,
        role="receiver",
        method="login",
        extra={"decision": manifest.status},
    )
    return manifest


@transaction.atomic
def manifest_correct(
    *, user, number: str, reason: str, to_site: Site | None = None, quantities: dict[str, Decimal] | None = None
) -> Manifest:
    """A correction is a new version; the old one is kept, superseded, never edited."""
    old = manifest_current(number, lock=True)
    membership_require(user=user, organisation=old.consignor, field="number")
    if old.receiver_signed_at is not None:
        raise Conflict.field("number", _("A received manifest can no longer be corrected."), code="sealed")
    if not reason.strip():
        raise AppError.field("reason", _("Say why the manifest is corrected."))
    new = Manifest.objects.create(
        number=old.number,
        version=old.version + 1,
        previous=old,
        status=old.status,
        consignor=old.consignor,
        from_site=old.from_site,
        receiver=(to_site or old.to_site).organisation,
        to_site=to_site or old.to_site,
        created_by=user,
        consignor_signed_at=old.consignor_signed_at,
        consignor_signed_by=old.consignor_signed_by,
        receipt_due=old.receipt_due,
        correction_reason=reason,
    )
    for carrier in old.carriers.all():
        ManifestCarrier.objects.create(
            manifest=new,
            organisation=carrier.organisation,
            order=carrier.order,
            signed_at=carrier.signed_at,
            signed_by=carrier.signed_by,
        )
    quantities = dict(quantities or {})
    for line in old.lines.select_related("batch"):
        ManifestLine.objects.create(
            manifest=new, batch=line.batch, quantity_kg=quantities.pop(line.batch.code, line.quantity_kg)
        )
    if quantities:
        raise AppError.field(
            "quantities", _("Not on the manifest: %(join)s.") % {"join": ", ".join(sorted(quantities))}
        )
    Manifest.objects.filter(pk=old.pk).update(status=ManifestStatus.SUPERSEDED)
    _signed_event(
        new,
        user=user,
        organisation=new.consignor,
        role="consignor",
        method="correction",
        extra={"reason": reason, "supersedes": old.version},
    )
    return new


def manifest_overdue(manifest: Manifest, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return manifest.receiver_signed_at is None and manifest.receipt_due is not None and manifest.receipt_due < today
