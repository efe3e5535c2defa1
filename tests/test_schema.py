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
