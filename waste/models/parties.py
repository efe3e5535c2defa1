"""Organisations, their members and a regulator's jurisdiction."""

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from waste.geo import WGS84


class Role(models.TextChoices):
    GENERATOR = "generator", _("Waste generator")
    HAULER = "hauler", _("Hauler")
    SITE_OPERATOR = "site_operator", _("Site operator")
    RECYCLER = "recycler", _("Recycler")
    REGULATOR = "regulator", _("Regulator")


class IdScheme(models.TextChoices):
    CN_USCC = "cn_uscc", _("China unified social credit code")
    EU_VAT = "eu_vat", _("EU VAT number")
    US_EPA_ID = "us_epa_id", _("US EPA identification number")


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    is_generator = models.BooleanField(default=False)
    is_hauler = models.BooleanField(default=False)
    is_site_operator = models.BooleanField(default=False)
    is_recycler = models.BooleanField(default=False)
    is_regulator = models.BooleanField(default=False)
    identifier_scheme = models.CharField(max_length=16, choices=IdScheme.choices)
    identifier = models.CharField(max_length=32)
    district_code = models.CharField(max_length=6, blank=True, help_text="GB/T 2260 code")
    address = models.CharField(max_length=300, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("pk",), "geo": ("sites__location",), "districts": ("district_code",)}

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identifier_scheme", "identifier"], name="organisation_identifier")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def roles(self) -> list[str]:
        return [role.value for role in Role if getattr(self, f"is_{role.value}")]

    def has_role(self, role: str) -> bool:
        return bool(getattr(self, f"is_{role}", False))


class MemberRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MEMBER = "member", _("Member")
    DRIVER = "driver", _("Driver")
    VIEWER = "viewer", _("Viewer (read only)")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    # A consignor's PIN lets a driver capture the consignor's signature on the driver's device.
    pin_hash = models.CharField(max_length=200, blank=True)
    pin_failures = models.PositiveSmallIntegerField(default=0)
    pin_locked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    SCOPE = {"orgs": ("organisation",), "geo": ()}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]
        ordering = ["organisation", "user"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role != MemberRole.VIEWER

    def set_pin(self, pin: str) -> None:
        self.pin_hash = make_password(pin)
        self.pin_failures = 0
        self.pin_locked = False

    def pin_matches(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)


class Jurisdiction(models.Model):
    """The area a regulator oversees: everything located inside it is visible to its members."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jurisdictions")
    name = models.CharField(max_length=200)
    district_code = models.CharField(max_length=6, help_text="GB/T 2260 code of the area")
    area = models.MultiPolygonField(srid=WGS84)

    SCOPE = {"orgs": ("organisation",), "geo": ()}

    class Meta:
        ordering = ["district_code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.district_code})"
