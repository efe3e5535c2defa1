"""A believable small city (Tianjin) for trying the product. Idempotent: reruns change nothing.

Coordinates are plausible locations inside the named districts, not real facilities.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon
from django.db import transaction
from stdnum.cn import uscc

from waste.geo import bbox_polygon, point
from waste.models import (
    IdScheme,
    Jurisdiction,
    MemberRole,
    Membership,
    Organisation,
    Permit,
    Site,
    SiteKind,
)

DEMO_PASSWORD = "zerowaste-demo"
CITY_DISTRICT = "120000"

# (key, name, roles, district, demo user or None)
ORGANISATIONS = [
    ("haihe", "天津海河机械制造有限公司 Haihe Machinery", ["generator"], "120110", "enterprise"),
    ("binhai_chem", "天津滨海精细化工有限公司 Binhai Fine Chemicals", ["generator"], "120116", None),
    ("nankai_auto", "南开区汽车维修服务中心 Nankai Auto Repair", ["generator"], "120104", None),
    ("xiqing_elec", "天津西青电子科技有限公司 Xiqing Electronics", ["generator"], "120111", None),
    ("beichen_food", "天津北辰食品有限公司 Beichen Foods", ["generator"], "120113", None),
    ("jinhuan", "天津津环危废运输有限公司 Jinhuan Hazardous Transport", ["hauler"], "120110", "hauler"),
    ("cityclean", "天津城市清运有限公司 City Clean Haulage", ["hauler"], "120103", None),
    ("envgroup", "天津环境集团 Tianjin Environment Group", ["site_operator"], "120101", "station"),
    (
        "renew",
        "天津再生资源利用有限公司 Tianjin Renewable Resources",
        ["recycler", "site_operator"],
        "120112",
        "recycler",
    ),
    ("incin", "天津滨海危险废物焚烧处置有限公司 Binhai Incineration", ["site_operator"], "120116", None),
    ("landfill", "天津北辰固废填埋场 Beichen Landfill", ["site_operator"], "120113", None),
    ("city_bureau", "天津市生态环境局 Tianjin Bureau of Ecology and Environment", ["regulator"], "120000", "regulator"),
    ("dongli_bureau", "东丽区生态环境局 Dongli District Ecology Bureau", ["regulator"], "120110", None),
]

# (key, organisation key, name, kind, lon, lat, district, storage capacity kg)
SITES = [
    ("haihe_plant", "haihe", "Haihe Machinery plant, Dongli", SiteKind.GENERATION, 117.3301, 39.0921, "120110", 8000),
    (
        "binhai_chem_plant",
        "binhai_chem",
        "Binhai Fine Chemicals works",
        SiteKind.GENERATION,
        117.6912,
        39.0285,
        "120116",
        20000,
    ),
    (
        "nankai_garage",
        "nankai_auto",
        "Nankai Auto Repair workshop",
        SiteKind.GENERATION,
        117.1498,
        39.1281,
        "120104",
        2000,
    ),
    ("xiqing_fab", "xiqing_elec", "Xiqing Electronics fab", SiteKind.GENERATION, 117.0135, 39.1402, "120111", 5000),
    (
        "beichen_factory",
        "beichen_food",
        "Beichen Foods factory",
        SiteKind.GENERATION,
        117.1352,
        39.2248,
        "120113",
        30000,
    ),
    (
        "cp_heping",
        "envgroup",
        "Heping collection point (Nanjing Rd)",
        SiteKind.COLLECTION_POINT,
        117.2008,
        39.1172,
        "120101",
        3000,
    ),
    (
        "cp_nankai",
        "envgroup",
        "Nankai collection point (Anshan W Rd)",
        SiteKind.COLLECTION_POINT,
        117.1630,
        39.1255,
        "120104",
        3000,
    ),
    (
        "cp_hexi",
        "envgroup",
        "Hexi collection point (Youyi Rd)",
        SiteKind.COLLECTION_POINT,
        117.2175,
        39.0965,
        "120103",
        3000,
    ),
    (
        "ts_dongli",
        "envgroup",
        "Dongli transfer station",
        SiteKind.TRANSFER_STATION,
        117.3142,
        39.1058,
        "120110",
        120000,
    ),
    (
        "ts_xiqing",
        "envgroup",
        "Xiqing transfer station",
        SiteKind.TRANSFER_STATION,
        117.0550,
        39.1188,
        "120111",
        120000,
    ),
    ("renew_plant", "renew", "Jinnan recycling plant", SiteKind.TREATMENT, 117.3571, 38.9921, "120112", 500000),
    (
        "incinerator",
        "incin",
        "Binhai hazardous waste incinerator",
        SiteKind.TREATMENT,
        117.6520,
        39.0640,
        "120116",
        800000,
    ),
    ("landfill_site", "landfill", "Beichen sanitary landfill", SiteKind.DISPOSAL, 117.1021, 39.2622, "120113", None),
    ("jinhuan_depot", "jinhuan", "Jinhuan depot", SiteKind.STORAGE, 117.2870, 39.1345, "120110", 10000),
    ("cityclean_depot", "cityclean", "City Clean depot", SiteKind.STORAGE, 117.2046, 39.0814, "120103", 10000),
]

# (site key, number, codes, operations, annual kg)
PERMITS = [
    ("ts_dongli", "TJ-WX-2026-001", ["HW08", "HW49", "HW06", "HW12"], ["R13", "D15"], 2_000_000),
    ("ts_xiqing", "TJ-WX-2026-002", ["HW08", "HW49", "HW31"], ["R13", "D15"], 1_500_000),
    ("renew_plant", "TJ-WX-2026-010", ["HW08", "HW31", "SW17"], ["R9", "R4", "R3"], 20_000_000),
    ("incinerator", "TJ-WX-2026-020", ["HW06", "HW12", "HW49", "HW08", "HW11"], ["D10", "R1"], 30_000_000),
    ("landfill_site", "TJ-GF-2026-030", ["SW13", "SW59", "SW07"], ["D1", "D5"], 100_000_000),
    ("haihe_plant", "TJ-PW-2026-101", ["HW08", "HW49", "SW17"], [], 50_000),
]

CITY_AREA = (116.70, 38.55, 118.10, 40.25)
DONGLI_AREA = (117.22, 38.98, 117.50, 39.25)


@dataclass
class DemoCity:
    organisations: dict[str, Organisation] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)


def _uscc(index: int) -> str:
    body = f"91120000MA0{index:06d}"
    return body + uscc.calc_check_digit(body)


def _user(username: str):
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


@transaction.atomic
def seed_demo_city() -> DemoCity:
    city = DemoCity()
    for index, (key, name, roles, district, username) in enumerate(ORGANISATIONS, start=1):
        org, _ = Organisation.objects.get_or_create(
            identifier_scheme=IdScheme.CN_USCC,
            identifier=_uscc(index),
            defaults={
                "name": name,
                "district_code": district,
                "contact_name": "Demo contact",
                "contact_phone": f"022-2{index:03d}-0000",
                **{f"is_{r}": True for r in roles},
            },
        )
        city.organisations[key] = org
        if username:
            user = _user(username)
            city.users[username] = user
            membership, _ = Membership.objects.get_or_create(
                user=user, organisation=org, defaults={"role": MemberRole.ADMIN}
            )
            if not membership.pin_hash:
                membership.set_pin("2468")
                membership.save()
    for key, org_key, name, kind, lon, lat, district, capacity in SITES:
        site, _ = Site.objects.get_or_create(
            organisation=city.organisations[org_key],
            name=name,
            defaults={
                "kind": kind,
                "location": point(lon, lat),
                "district_code": district,
                "storage_capacity_kg": Decimal(capacity) if capacity else None,
            },
        )
        city.sites[key] = site
    today = datetime.date.today()
    for site_key, number, codes, operations, annual in PERMITS:
        Permit.objects.get_or_create(
            site=city.sites[site_key],
            number=number,
            defaults={
                "codes": codes,
                "operations": operations,
                "annual_quantity_kg": Decimal(annual),
                "valid_from": datetime.date(today.year - 1, 1, 1),
                "valid_until": datetime.date(today.year + 4, 12, 31),
            },
        )
    for org_key, name, code, area in [
        ("city_bureau", "Tianjin", CITY_DISTRICT, CITY_AREA),
        ("dongli_bureau", "Dongli District", "120110", DONGLI_AREA),
    ]:
        Jurisdiction.objects.get_or_create(
            organisation=city.organisations[org_key],
            district_code=code,
            defaults={"name": name, "area": MultiPolygon(bbox_polygon(*area))},
        )
    # Other apps add their part (vehicles, recycler offers, ...) without waste importing them.
    for config in apps.get_app_configs():
        hook = getattr(config, "seed_demo", None)
        if callable(hook):
            hook(city)
    return city
