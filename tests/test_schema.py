"""The OpenAPI document, the docs page (no CDN), and a schemathesis run that fails on any 5xx."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory


def test_it_serves_an_openapi_3_document(db):
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/sites/" in document["paths"]
    assert "/api/v1/auth/token/" in document["paths"]


def test_it_serves_the_docs_with_local_assets_only(db):
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.findall(r"https?://", html), "the docs page must not load anything from a CDN"


def test_it_serves_the_docs_assets_themselves(db):
    html = Client().get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)

    assert assets
    for asset in assets:
        assert Client().get(asset).status_code == 200, asset


# --- fuzzing -------------------------------------------------------------------------------------------
# Every operation in the schema is exercised with a fresh Bearer token of a site operator (a fresh one
# per request, so that fuzzing `auth/token/revoke*` does not sign the rest of the run out). Most
# generated ids in paths (`/sites/{id}/`, `/batches/{code}/`) match nothing and answer 404; that still
# proves the path parameter is parsed and validated without a 5xx. Bodies and query parameters are
# fuzzed fully. Bounded: a few examples per operation, derandomised, so the run is repeatable.


# Loaded at collection through the WSGI app itself (serving the schema needs no database). Not
# `schemathesis.pytest.from_fixture`: with pytest 9 it fails on a removed pytest attribute (`_nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def operator(db):
    """A site operator with an organisation and a site (no password: hashing one costs seconds)."""
    org = OrganisationFactory(name="Fuzz Ops", is_site_operator=True)
    user = get_user_model().objects.create(username="fuzz-operator")
    MembershipFactory(user=user, organisation=org)
    SiteFactory(organisation=org, kind="transfer_station")
    return user


@pytest.fixture
def keep_test_connection():
    """Django closes the database connection after each request through the WSGI handler, which
    would close the test's transaction; django.test.Client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_it_never_answers_with_a_server_error(case, operator, keep_test_connection):
    _, token = AuthToken.objects.create(user=operator)

    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])


# --- as every persona, on objects that exist --------------------------------------------------------
# The same fuzzing, but each example acts as the next persona of a small city (enterprise, hauler,
# site operator, recycler, regulator, outsider), and every other example puts a real id of that city
# in the path (its enterprise's organisation and site, a batch, its manifest), so that operations
# reach found objects and their permission checks, not only the 404 of an unknown id.

PERSONA_NAMES = ["generator", "hauler", "operator", "recycler", "regulator", "outsider"]


@pytest.fixture
def real_ids(city, catalogs):
    from tests.conftest import client_for
    from tests.waste.chain_helpers import batch_new, manifest_new, permit

    permit(city.transfer, ["HW08"], ["R13", "R9"])
    generator = client_for(city.generator)
    code = batch_new(generator, city.generation_site)["code"]
    number = manifest_new(
        generator, from_site=city.generation_site, to_site=city.transfer, carriers=[city.hauler_org], codes=[code]
    )
    ids = {
        "code": code,
        "number": number,
        "/sites/": city.generation_site.pk,
        "/organisations/": city.generator_org.pk,
    }
    return city, ids


def with_real_ids(case, ids: dict) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
        elif name in ("id", "pk"):
            for prefix, value in ids.items():
                if prefix.startswith("/") and prefix in case.path:
                    case.path_parameters[name] = value


@schema.parametrize()
@settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_it_never_answers_with_a_server_error_as_any_persona_on_real_objects(case, real_ids, keep_test_connection):
    city, ids = real_ids
    turn = AuthToken.objects.count()  # every call makes one token: the personas take turns
    user = getattr(city, PERSONA_NAMES[turn % len(PERSONA_NAMES)])
    if turn % 2 == 0:
        with_real_ids(case, ids)
    _, token = AuthToken.objects.create(user=user)

    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
