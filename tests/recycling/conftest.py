import pytest

from tests.waste.test_chain_e2e import permit


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Personas get passwords; the production hasher would make every test pay for them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plant(city, catalogs):
    """The recycler's plant, permitted for mineral oil, fly ash and recyclables."""
    permit(city.plant, ["HW08", "HW18", "SW17"], ["R4", "R9", "R13", "D10", "D1"])
    return city.plant
