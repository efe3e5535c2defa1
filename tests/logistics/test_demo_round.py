"""The demo's round of today: `seed_demo` gives the demo driver stops and a label to scan on /m/."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from logistics.models import Trip
from tests.conftest import client_for
from waste.demo import OIL_SEALED
from waste.models import Batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.ROUTING_SOLVER_SECONDS = 1


def test_it_gives_the_demo_driver_a_round_with_the_batch_waiting_for_him_once_a_day():
    from django.contrib.auth import get_user_model

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    driver = get_user_model().objects.get(username="driver")
    [trip] = Trip.objects.filter(driver=driver)
    waiting = Batch.objects.get(description=OIL_SEALED)
    [today] = client_for(driver).get("/api/v1/trips/today/").json()["results"]
    assert today["id"] == trip.pk and today["plate"] == "津A·W1001"
    codes = [code for stop in today["stops"] for code in stop["batches"]]
    assert codes == [waiting.code]
    assert today["current_stop"] == 1
