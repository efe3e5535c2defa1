"""Writes for organisations, memberships and jurisdictions."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError

from waste.errors import AppError
from waste.models import IdScheme, Jurisdiction, MemberRole, Membership, Organisation, Role
from waste.permissions import membership_require

DISTRICT_CODE = re.compile(r"^\d{6}$")
# RCRA ID: two-letter state code then ten characters (e.g. TXD987654321).
US_EPA_ID = re.compile(r"^[A-Z]{2}[A-Z0-9]{10}$")


def identifier_normalise(*, scheme: str, identifier: str, field: str = "identifier") -> str:
    raw = (identifier or "").strip().upper().replace(" ", "")
    try:
        if scheme == IdScheme.CN_USCC:
            return uscc.validate(raw)
        if scheme == IdScheme.EU_VAT:
            return vat.validate(raw)
    except StdnumError as exc:
        names = {IdScheme.CN_USCC: _("unified social credit code"), IdScheme.EU_VAT: _("EU VAT number")}
        raise AppError.field(
            field, _("Invalid %(names)s: %(exc)s.") % {"names": names[scheme], "exc": exc}, code="invalid_identifier"
        ) from exc
    if scheme == IdScheme.US_EPA_ID:
        if not US_EPA_ID.match(raw):
            raise AppError.field(
                field, _("Invalid US EPA ID: two letters then ten letters or digits."), code="invalid_identifier"
            )
        return raw
    raise AppError.field("identifier_scheme", _("Unknown identifier scheme %(scheme)s.") % {"scheme": repr(scheme)})


def district_code_check(code: str, *, field: str = "district_code") -> str:
    if not DISTRICT_CODE.match(code or ""):
        raise AppError.field(field, _("A district code is six digits (GB/T 2260), e.g. 120101."))
    return code


@transaction.atomic
def organisation_create(
    *,
    user,
    name: str,
    roles: list[str],
    identifier_scheme: str,
    identifier: str,
    district_code: str = "",
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
) -> Organisation:
    """Registers an organisation; its creator becomes its first administrator."""
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise AppError.field("roles", _("An organisation needs at least one role."))
    if Role.REGULATOR in roles and not user.is_superuser:
        raise AppError.field("roles", _("Only a platform administrator can register a regulator."), status=403)
    if district_code:
        district_code_check(district_code)
    canonical = identifier_normalise(scheme=identifier_scheme, identifier=identifier)
    if Organisation.objects.filter(identifier_scheme=identifier_scheme, identifier=canonical).exists():
        raise AppError.field(
            "identifier", _("An organisation with this identifier is already registered."), code="duplicate", status=409
        )
    org = Organisation(
        name=name,
        identifier_scheme=identifier_scheme,
        identifier=canonical,
        district_code=district_code,
        address=address,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        **{f"is_{role}": True for role in roles},
    )
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:  # a concurrent registration of the same identifier
        raise AppError.field(
            "identifier", _("An organisation with this identifier is already registered."), code="duplicate", status=409
        ) from exc
    Membership.objects.create(user=user, organisation=org, role=MemberRole.ADMIN)
    return org


@transaction.atomic
def membership_add(*, user, organisation: Organisation, username: str, role: str) -> Membership:
    membership_require(user=user, organisation=organisation, admin=True)
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise AppError.field("username", _("No user with this username."), code="unknown_user")
    membership, created = Membership.objects.get_or_create(
        user=member, organisation=organisation, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_pin_set(*, user, organisation: Organisation, pin: str) -> Membership:
    """A member sets the PIN a driver types to capture their signature on the driver's device."""
    if not re.fullmatch(r"\d{4,8}", pin or ""):
        raise AppError.field("pin", _("A PIN is 4 to 8 digits."))
    membership = membership_require(user=user, organisation=organisation)
    if membership is None:
        raise AppError.field("organisation", _("Administrators without membership have no PIN."), status=403)
    membership.set_pin(pin)
    membership.save(update_fields=["pin_hash", "pin_failures", "pin_locked"])
    return membership


@transaction.atomic
def jurisdiction_create(*, user, organisation: Organisation, name: str, district_code: str, area) -> Jurisdiction:
    if not user.is_superuser:
        raise AppError(_("Only a platform administrator can assign jurisdictions."), code="forbidden", status=403)
    if not organisation.is_regulator:
        raise AppError.field("organisation", _("Only a regulator has a jurisdiction."))
    district_code_check(district_code)
    return Jurisdiction.objects.create(organisation=organisation, name=name, district_code=district_code, area=area)
