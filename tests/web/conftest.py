"""Fixtures of the web tests: stores (memory and a real Redis), apps, a live server, a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import ACTIONS_ON, CHROMIUM_ARGS

from tests.redis_fixtures import redis_server, redis_url  # noqa: F401  (fixtures)
from trunq.scheduler.memory import MemoryStateStore
from trunq.scheduler.redis import RedisStateStore
from trunq.web import create_app


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each API test runs on both StateStore implementations."""
    if request.param == "memory":
        yield MemoryStateStore()
        return
    found = RedisStateStore(request.getfixturevalue("redis_url"))
    yield found
    found.close()


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStateStore]:  # noqa: F811
    found = RedisStateStore(redis_url)
    yield found
    found.close()


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    return root


@pytest.fixture
def client(store: Any, runs_root: Path) -> Any:
    return create_app(ACTIONS_ON, store=store, runs_root=runs_root).test_client()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # bypass_csp: the tests evaluate JS; it also proves escaping holds without the CSP backstop
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.js_errors = errors
    yield opened
    context.close()
