"""Shared fixtures: a real simulator on loopback and logged-in clients."""

import pytest
from django.core.cache import cache

from tasks_app.simulator import Simulator

API_KEY = "sk-test-SECRET-9f3c1b7e"


@pytest.fixture
def simulator(settings):
    """A fresh relay simulator on a free loopback port, with the dashboard pointed at it."""
    sim = Simulator(api_key=API_KEY).start()
    sim.timeout_sleep = 2.0
    settings.MJ_API_BASE = sim.base_url
    settings.MJ_API_KEY = API_KEY
    settings.MJ_DEMO_MODE = False
    settings.MJ_READ_TIMEOUT = 0.5
    settings.MJ_RETRY_BACKOFF = 0.01
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client
