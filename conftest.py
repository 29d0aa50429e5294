"""Root conftest: shared fixtures every test directory can use."""

pytest_plugins = ["tests.redis_fixtures"]
