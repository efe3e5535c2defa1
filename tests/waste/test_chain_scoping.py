"""Who sees which batches and manifests: the parties of the chain and the regulator, no one else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new, now_iso, permit, ship

pytestmark = pytest.mark.django_db

BATCH_PATHS = [
    "/api/v1/batches/{code}/",
    "/api/v1/batches/{code}/trace/",
    "/api/v1/batches/{code}/events.jsonld",
    "/api/v1/batches/{code}/qr.png",
    "/api/v1/batches/{code}/qr.svg",
    "/api/v1/batches/{code}/label.pdf",
]
MANIFEST_PATHS = ["/api/v1/manifests/{number}/", "/api/v1/manifests/{number}/versions/"]


@pytest.fixture
def shipped(city, catalogs):
    """A batch shipped from the generator to the transfer station by the hauler, and one that stayed home."""
    permit(city.transfer, ["HW08"], ["R13"])
    generator = client_for(city.generator)
    moved = batch_new(generator, city.generation_site, generated_at=now_iso(-60))["code"]
    home = batch_new(generator, city.generation_site)["code"]
    number = ship(
        generator,
        client_for(city.hauler),
        client_for(city.operator),
        from_site=city.generation_site,
        to_site=city.transfer,
        codes=[moved],
        carriers=[city.hauler_org.pk],
    )
    foreign = batch_new(client_for(city.outsider), city.outsider_site)["code"]
    return SimpleNamespace(moved=moved, home=home, number=number, foreign=foreign)


def listed(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return {row.get("code") or row.get("number") for row in response.json()["results"]}


def sees_batch(client, code) -> bool:
    statuses = {client.get(p.format(code=code)).status_code for p in BATCH_PATHS}
    assert statuses in ({200}, {404}), statuses  # all or nothing, never a 403 that confirms it exists
    return statuses == {200}


def sees_manifest(client, number) -> bool:
    statuses = {client.get(p.format(number=number)).status_code for p in MANIFEST_PATHS}
    assert statuses in ({200}, {404}), statuses
    return statuses == {200}


def test_it_shows_an_outsider_nothing_of_the_chain(city, shipped):
    outsider = client_for(city.outsider)

    assert listed(outsider, "/api/v1/batches/") == {shipped.foreign}
    assert not sees_batch(outsider, shipped.moved)
    assert not sees_batch(outsider, shipped.home)
    assert listed(outsider, "/api/v1/manifests/") == set()
    assert not sees_manifest(outsider, shipped.number)
    assert (
        outsider.post(f"/api/v1/manifests/{shipped.number}/sign/", {"role": "carrier"}, format="json").status_code
        == 404
    )


def test_it_shows_the_generator_its_own_batches_only(city, shipped):
    generator = client_for(city.generator)

    assert listed(generator, "/api/v1/batches/") == {shipped.moved, shipped.home}
    assert sees_batch(generator, shipped.moved)
    assert not sees_batch(generator, shipped.foreign)
    assert sees_manifest(generator, shipped.number)


@pytest.mark.parametrize("persona", ["hauler", "operator"])
def test_it_shows_carriers_and_receivers_the_batches_they_handled(city, shipped, persona):
    client = client_for(getattr(city, persona))

    assert listed(client, "/api/v1/batches/") == {shipped.moved}
    assert sees_batch(client, shipped.moved)
    assert not sees_batch(client, shipped.home)
    assert listed(client, "/api/v1/manifests/") == {shipped.number}
    assert sees_manifest(client, shipped.number)


def test_it_hides_the_chain_from_an_uninvolved_recycler(city, shipped):
    recycler = client_for(city.recycler)

    assert listed(recycler, "/api/v1/batches/") == set()
    assert not sees_batch(recycler, shipped.moved)
    assert not sees_manifest(recycler, shipped.number)


def test_it_shows_the_regulator_the_batches_in_its_jurisdiction(city, shipped):
    regulator = client_for(city.regulator)

    assert listed(regulator, "/api/v1/batches/") == {shipped.moved, shipped.home}
    assert sees_batch(regulator, shipped.moved)
    assert not sees_batch(regulator, shipped.foreign)
    assert sees_manifest(regulator, shipped.number)


def test_it_refuses_anonymous_readers(shipped, api):
    assert api.get("/api/v1/batches/").status_code == 401
    assert api.get(f"/api/v1/batches/{shipped.moved}/").status_code == 401
    assert api.get(f"/api/v1/manifests/{shipped.number}/").status_code == 401


def test_it_refuses_a_regulator_acting_on_a_batch_it_only_watches(city, shipped):
    regulator = client_for(city.regulator)

    response = regulator.post(f"/api/v1/batches/{shipped.home}/split/", {"parts": ["50", "50"]}, format="json")

    assert response.status_code == 403
