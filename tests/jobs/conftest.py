"""The multi-process tests' fixtures (PostgreSQL and Redis or skip, a simulator, a
staff login the servers accept), shared by every test of several processes here."""

from tests.jobs.test_multiprocess import services_or_skip, sim, staff  # noqa: F401 - fixtures
