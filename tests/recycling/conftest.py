import pytest

from tests.waste.test_chain_e2e import permit


@pytest.fixture
def plant(city, catalogs):
    """The recycler's plant, permitted for mineral oil, fly ash and recyclables."""
    permit(city.plant, ["HW08", "HW18", "SW17"], ["R4", "R9", "R13", "D10", "D1"])
    return city.plant
