"""Factories for the personas: generator, hauler, site operator, recycler, regulator, outsider."""

from __future__ import annotations

import random
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon
from stdnum.cn import uscc

from waste.geo import bbox_polygon, point
from waste.models import IdScheme, Jurisdiction, MemberRole, Membership, Organisation, Site, SiteKind

# Central Tianjin; geometry in tests is drawn from this box.
CITY_BBOX = (117.10, 39.05, 117.30, 39.20)
# Far away (Urumqi): nothing an outsider owns lies in the city's jurisdictions.
ELSEWHERE_BBOX = (87.50, 43.70, 87.70, 43.90)


def uscc_code(seq: int) -> str:
    body = f"91120101MA{seq:07d}"
    return body + uscc.calc_check_digit(body)


_RNG = random.Random(7)  # deterministic points across runs


def city_point(bbox=CITY_BBOX, rng=_RNG):
    return point(rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3]))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    identifier_scheme = IdScheme.CN_USCC
    identifier = factory.Sequence(uscc_code)
    district_code = "120101"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    kind = SiteKind.GENERATION
    location = factory.LazyFunction(city_point)
    district_code = "120101"
    storage_capacity_kg = Decimal("50000")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = MemberRole.ADMIN


def persona(
    username: str, *, roles: list[str], site_kind: str | None, bbox=CITY_BBOX, member_role="admin", district="120101"
):
    """A user who administers an organisation with the given roles and, optionally, one site."""
    org = OrganisationFactory(
        name=f"{username.title()} Ltd", district_code=district, **{f"is_{r}": True for r in roles}
    )
    user = UserFactory(username=username)
    MembershipFactory(user=user, organisation=org, role=member_role)
    site = (
        SiteFactory(organisation=org, kind=site_kind, location=city_point(bbox), district_code=district)
        if site_kind
        else None
    )
    return user, org, site


def jurisdiction_for(org: Organisation, bbox=CITY_BBOX, code="120000") -> Jurisdiction:
    return Jurisdiction.objects.create(
        organisation=org, name=f"Area {code}", district_code=code, area=MultiPolygon(bbox_polygon(*bbox))
    )
