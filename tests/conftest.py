from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import ELSEWHERE_BBOX, jurisdiction_for, persona
from waste import dbroles
from waste.models import Role, SiteKind

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """Compile every app's zh_Hans catalogue that is newer than its .mo (they are not committed), before
    any test loads translations: tests must read the catalogues as they are in the tree."""
    for po in REPO.glob("*/locale/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Personas get passwords; the production hasher would make every test pay ~2 s for them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    """The product defaults to Chinese; tests read English unless they ask for zh-hans
    (Accept-Language, or settings.LANGUAGE_CODE) to check the translation."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    """An API client that authenticates the way real clients do: a Bearer token."""
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user
    return client


def hazardous_licence(organisation, number: str = "CITY-HW-1"):
    """A hauler licence for hazardous waste in force this year: a hazardous manifest needs its carrier to hold one."""
    import datetime

    from logistics.models import HaulerLicence

    today = datetime.date.today()
    return HaulerLicence.objects.create(
        organisation=organisation,
        number=number,
        classes=["hazardous"],
        valid_from=today - datetime.timedelta(days=365),
        valid_until=today + datetime.timedelta(days=365),
    )


@pytest.fixture
def city(db):
    """The personas of a small city, each with an organisation and a site."""
    generator, generator_org, generation_site = persona(
        "generator", roles=[Role.GENERATOR], site_kind=SiteKind.GENERATION
    )
    hauler, hauler_org, _ = persona("hauler", roles=[Role.HAULER], site_kind=None)
    hazardous_licence(hauler_org)
    operator, operator_org, transfer = persona(
        "operator", roles=[Role.SITE_OPERATOR], site_kind=SiteKind.TRANSFER_STATION
    )
    recycler, recycler_org, plant = persona("recycler", roles=[Role.RECYCLER], site_kind=SiteKind.TREATMENT)
    regulator, regulator_org, _ = persona("regulator", roles=[Role.REGULATOR], site_kind=None)
    jurisdiction_for(regulator_org)
    outsider, outsider_org, outsider_site = persona(
        "outsider",
        roles=[Role.GENERATOR],
        site_kind=SiteKind.GENERATION,
        bbox=ELSEWHERE_BBOX,
        district="650102",
    )
    return SimpleNamespace(
        generator=generator,
        generator_org=generator_org,
        generation_site=generation_site,
        hauler=hauler,
        hauler_org=hauler_org,
        operator=operator,
        operator_org=operator_org,
        transfer=transfer,
        recycler=recycler,
        recycler_org=recycler_org,
        plant=plant,
        regulator=regulator,
        regulator_org=regulator_org,
        outsider=outsider,
        outsider_org=outsider_org,
        outsider_site=outsider_site,
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With two PostgreSQL roles (scripts/test.sh), the owner creates the test database and migrates it;
    the tests themselves then connect as the application role, as the web and worker processes do."""
    from django.conf import settings
    from django.db import connection

    if dbroles.two_roles():
        connection.close()
        _APP_ROLE.update(USER=connection.settings_dict["USER"], PASSWORD=connection.settings_dict["PASSWORD"])
        connection.settings_dict.update(settings.DATABASE_OWNER)


_APP_ROLE: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings
    from django.db import connection

    if dbroles.two_roles():
        connection.close()
        connection.settings_dict.update(_APP_ROLE)
    yield
    if dbroles.two_roles():  # the owner drops the test database
        connection.close()
        connection.settings_dict.update(settings.DATABASE_OWNER)


def tamper(sql: str, params=()) -> None:
    """An insider with the owner's rights edits the database behind the application's back. With two
    roles that is another connection, so the test must commit its data first (transaction=True)."""
    from django.conf import settings
    from django.db import connection

    if not dbroles.two_roles():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        host=db["HOST"],
        port=db["PORT"],
        user=settings.DATABASE_OWNER["USER"],
        password=settings.DATABASE_OWNER["PASSWORD"],
    ) as owner:
        owner.execute(sql, params)


@pytest.fixture
def catalogs(db):
    from waste.services.catalogs import catalogs_load_shipped

    catalogs_load_shipped()


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker process on the configured broker, reading the test database."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        url = f"spatialite:///{db['NAME']}"
    if settings.CELERY_BROKER_URL.startswith("memory"):
        pytest.fail("CELERY_BROKER_URL must name a real broker for tests marked celery (make test sets Redis)")
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    env.pop("DATABASE_OWNER_URL", None)  # the worker runs as the application role only
    log = open(Path(settings.VAR_DIR) / "test-worker.log", "ab")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=1.0, destination=[f"test-{os.getpid()}@{os.uname().nodename}"]):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start; see {log.name}")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()
