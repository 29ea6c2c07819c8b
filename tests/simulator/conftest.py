import pytest

from tasks_app.simulator import Simulator
from tests.simulator import KEY


@pytest.fixture(autouse=True)
def _empty_cache_and_english():
    """Overrides the suite's Django cache reset: these tests run without Django (-p no:django)."""
    yield


@pytest.fixture
def sim():
    simulator = Simulator(api_key=KEY, frozen_clock=True).start()
    simulator.timeout_sleep = 1.0
    yield simulator
    simulator.stop()
