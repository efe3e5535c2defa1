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
from django.utils import timezone
from stdnum.cn import uscc

from waste.geo import bbox_polygon, point
from waste.lifecycle import Action
from waste.models import (
    Batch,
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
def seed_demo_city(*, activity: bool = True) -> DemoCity:
    """The demo city; ``activity=False`` leaves out its batches, manifests and alerts (for a generated
    year that must be the only waste in the city, as the indicator tests and benchmark need)."""
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
    # Fleets and licences before the activity: a hazardous manifest needs a licensed carrier.
    for config in apps.get_app_configs():
        hook = getattr(config, "seed_demo_fleet", None)
        if callable(hook):
            hook(city)
    if activity:
        _activity(city)
    # Other apps add their part (vehicles, recycler offers, ...) without waste importing them.
    for config in apps.get_app_configs():
        hook = getattr(config, "seed_demo", None)
        if callable(hook):
            hook(city)
    # The early-warning rules run once over what the city did, as the periodic task would.
    if activity:
        from waste.alerts.services import alerts_scan

        alerts_scan()
    return city


# --- A living city: batches and manifests in every state, made through the services ------------------

OIL = "900-249-08"  # HW08 waste mineral oil
RAGS = "900-041-49"  # HW49 oily packaging and absorbents
# Batch descriptions people read; the first one also marks that the activity has been seeded.
OIL_NEW = "数控车间废矿物油 Waste oil from the CNC shop"
RAGS_STORED = "含油抹布和废油桶 Oily rags and empty oil drums"
OIL_OFFERED = "液压站换油废油 Spent hydraulic oil, offered to recyclers"
OIL_SEALED = "齿轮箱废油 Gearbox oil awaiting collection"
OIL_ON_ROAD = "淬火油 Spent quenching oil"
RAGS_ON_ROAD = "含油手套和滤芯 Oily gloves and filters"
OIL_TREATED = "切削废油 Waste cutting oil, re-refined"
RAGS_OLD = "旧仓库清理的含油废物 Oily waste from the old store clear-out"
OIL_AT_STATION = "空压机废油 Compressor oil"
# A hazardous batch held this many days since generation: within 30 days of the 365-day legal limit.
NEAR_LIMIT_DAYS = 340


def _ago(days: int, hours: int = 0) -> datetime.datetime:
    """``days`` ago, but not before this year began, so that the year's indicators count it."""
    now = timezone.now()
    start = timezone.make_aware(datetime.datetime(timezone.localdate(now).year, 1, 1, 0, 30))
    return max(now - datetime.timedelta(days=days, hours=hours), min(start, now - datetime.timedelta(minutes=30)))


def _activity(city: DemoCity) -> None:
    """Haihe Machinery's batches across the lifecycle, one manifest on the road to the Dongli transfer
    station, stock at the station (one hazardous batch near the storage limit), and one batch re-refined
    at the recycling plant. Everything goes through the services, so the ledger verifies."""
    from waste.services.batches import batch_create, batch_treat
    from waste.services.catalogs import catalogs_load_shipped
    from waste.services.manifests import manifest_create, manifest_sign
    from waste.services.transitions import Act, batch_act

    plant, station, recycler_plant = city.sites["haihe_plant"], city.sites["ts_dongli"], city.sites["renew_plant"]
    if Batch.objects.filter(origin_site=plant, description=OIL_NEW).exists():
        return
    catalogs_load_shipped()  # the waste codes the batches use; loaded versions are left alone
    enterprise, hauler = city.users["enterprise"], city.users["hauler"]
    station_user, recycler = city.users["station"], city.users["recycler"]
    carrier = city.organisations["jinhuan"]

    def made(code: str, kg: str, description: str, at: datetime.datetime, form: str = "liquid") -> str:
        batch = batch_create(
            user=enterprise,
            site=plant,
            waste_code=code,
            quantity_kg=Decimal(kg),
            description=description,
            physical_form=form,
            generated_at=at,
        )
        return batch.code

    def shipped(codes: list[str], to_site: Site, *, picked_up: bool = True) -> str:
        manifest = manifest_create(user=enterprise, from_site=plant, to_site=to_site, carriers=[carrier], batches=codes)
        manifest_sign(user=enterprise, number=manifest.number, role="consignor")
        if picked_up:  # the carrier signs its part by scanning each batch at pickup
            for code in codes:
                batch_act(code=code, act=Act(user=hauler, action=Action.PICKUP, event_time=timezone.now()))
        return manifest.number

    # The enterprise's own stock: just generated, stored, and one stored batch offered to recyclers.
    made(OIL, "180", OIL_NEW, _ago(0, hours=3))
    rags = made(RAGS, "95", RAGS_STORED, _ago(12), form="solid")
    batch_act(code=rags, act=Act(user=enterprise, action=Action.STORE_IN, event_time=_ago(11), site=plant))
    offered = made(OIL, "420", OIL_OFFERED, _ago(20))
    batch_act(code=offered, act=Act(user=enterprise, action=Action.STORE_IN, event_time=_ago(19), site=plant))
    # Signed by the consignor, waiting for the carrier.
    shipped([made(OIL, "260", OIL_SEALED, _ago(6))], station, picked_up=False)
    # On the road to the Dongli transfer station: the station has it to receive.
    shipped([made(OIL, "350", OIL_ON_ROAD, _ago(4)), made(RAGS, "60", RAGS_ON_ROAD, _ago(4), form="solid")], station)
    # Received and re-refined (R9) at the recycling plant: its trace ends in a fate.
    treated = made(OIL, "500", OIL_TREATED, _ago(30))
    number = shipped([treated], recycler_plant)
    manifest_sign(user=recycler, number=number, role="receiver", decision="accept")
    batch_treat(user=recycler, code=treated, operation="R9")
    # Stock at the station: an old hazardous batch, weighed 12 % light at the gate (a weight-mismatch
    # alert), stored near the legal limit; and an oil batch received today.
    old = made(RAGS, "250", RAGS_OLD, timezone.now() - datetime.timedelta(days=NEAR_LIMIT_DAYS), form="solid")
    fresh = made(OIL, "300", OIL_AT_STATION, _ago(8))
    number = shipped([old, fresh], station)
    manifest_sign(
        user=station_user,
        number=number,
        role="receiver",
        decision="accept",
        lines=[{"batch": old, "received_kg": "220"}],
    )
    batch_act(code=old, act=Act(user=station_user, action=Action.STORE_IN, event_time=timezone.now(), site=station))
