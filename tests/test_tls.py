"""``wss://``: the local servers over TLS, a slice of the fault matrix, certificates to reject.

Real exchanges are ``wss://``. Here every registered exchange's test server runs with a
throwaway certificate (``trio_feeds.testing.tls``, from trustme) and the feeds connect with a
client context that trusts only its CA, on both transports:

- a slice of the fault matrix (``tests/test_feeds.py``, reused cell for cell) over TLS;
- a server certificate from a CA the client does not trust, and one for another host name:
  the feed reports each failed attempt (``Reconnecting`` with the verification error), never
  connects, and ends with ``FeedClosed`` after ``max_attempts``; the server records each
  failed TLS handshake and goes on serving;
- a plain ``ws://`` client, and one that never finishes the TLS handshake, harm nobody else;
- secrets never appear (the credentials of each feed, in errors, events and debug logs).
"""

from __future__ import annotations

import logging
import re
import ssl
import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

import attrs
import pytest
import trio

from tests.test_feeds import (
    ADAPTERS,
    FAULTS,
    JWT,
    PROTOCOLS,
    SECRETS,
    WAIT,
    Adapter,
    consume,
    feed_tasks,
    make_config,
    open_fds,
    run_fault_cell,
    wait_no_connections,
)
from trio_feeds import Feed, cryptology, exchanges, peatio
from trio_feeds import events as ev
from trio_feeds.errors import FeedClosed
from trio_feeds.testing import _accept, open_cryptology_server, open_peatio_server
from trio_feeds.testing.tls import tls_contexts
from trio_feeds.transports import FastTransport, Transport, TrioWebsocketTransport

# The cells that exercise what TLS changes: a close handshake, a TCP drop under TLS (no
# close_notify), a stalled path (pings over TLS), refused handshakes (a fresh TLS handshake
# per attempt). The rest of the matrix is independent of the byte stream below WebSocket.
TLS_FAULTS = ["close_1011", "tcp_abort", "blackhole", "refuse_next_503"]
MAX_ATTEMPTS = 2
UNTRUSTED = r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: unable to get local issuer certificate"
WRONG_HOST = r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: IP address mismatch"


@attrs.frozen
class Certificates:
    """Server and client contexts for the module (each ``tls_contexts()`` call makes a new CA)."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    untrusted_server: ssl.SSLContext  # signed by a CA ``client`` does not trust
    wrong_host_server: ssl.SSLContext  # for "example.test" only, signed by wrong_host_client's CA
    wrong_host_client: ssl.SSLContext


@pytest.fixture(scope="module")
def certs() -> Certificates:
    server, client = tls_contexts()
    untrusted_server, _ = tls_contexts()
    wrong_host_server, wrong_host_client = tls_contexts("example.test")
    return Certificates(server, client, untrusted_server, wrong_host_server, wrong_host_client)


@pytest.fixture(params=["trio-websocket", "fast"])
def transport_name(request: pytest.FixtureRequest) -> str:
    """Every test here runs on both transports."""
    name: str = request.param
    return name


def make_transport(name: str, context: ssl.SSLContext) -> Transport:
    if name == "fast":
        return FastTransport(ssl_context=context)
    return TrioWebsocketTransport(ssl_context=context)


def assert_no_secrets(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:400])


# -- a slice of the fault matrix over TLS --------------------------------------------------------


@pytest.mark.parametrize("fault_name", TLS_FAULTS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_fault_matrix_over_tls(
    protocol: str, fault_name: str, transport_name: str, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    transport = make_transport(transport_name, certs.client)
    await run_fault_cell(
        ADAPTERS[protocol], FAULTS[fault_name], transport, server_options={"ssl_context": certs.server}
    )
    # It really was TLS: the feed's own log names the wss:// URL of each connection.
    assert len(re.findall(r"connected to wss://127\.0\.0\.1:\d+", caplog.text)) >= 2
    assert_no_secrets([caplog.text, *(repr(r.args) for r in caplog.records)])


async def test_every_exchange_server_serves_wss_through_the_registry(certs: Certificates) -> None:
    # Exchange.open_server passes ssl_context through its **options to open_<x>_server.
    for exchange in exchanges.all_exchanges():
        async with exchange.open_server(rate=None, ssl_context=certs.server) as server:
            assert server.tls
            assert server.url.startswith(f"wss://127.0.0.1:{server.port}/")
        async with exchange.open_server(rate=None) as server:
            assert not server.tls
            assert server.url.startswith(f"ws://127.0.0.1:{server.port}/")


# -- certificates the client must reject ----------------------------------------------------------


async def collect(feed_cm: AbstractAsyncContextManager[Feed[Any]], items: list[Any]) -> None:
    """Open a feed and read it into ``items`` until it ends (bounded)."""
    async with feed_cm as feed:
        with trio.fail_after(WAIT):
            async for item in feed:
                items.append(item)


async def expect_rejected(
    adapter: Adapter,
    server_context: ssl.SSLContext,
    transport: Transport,
    pattern: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The feed never connects, says why on every attempt, and gives up after MAX_ATTEMPTS."""
    caplog.set_level(logging.DEBUG)
    cfg = make_config(max_attempts=MAX_ATTEMPTS)
    items: list[Any] = []
    fds_before = open_fds()
    async with adapter.server(ssl_context=server_context) as server:
        with pytest.raises(FeedClosed) as info:
            await collect(adapter.feed(server, cfg, transport, None), items)
        assert feed_tasks() == []
        assert re.search(pattern, str(info.value)), info.value
        assert f"gave up after {MAX_ATTEMPTS} reconnect attempts" in str(info.value)
        reconnecting = [it for it in items if isinstance(it, ev.Reconnecting)]
        assert [r.attempt for r in reconnecting] == list(range(1, MAX_ATTEMPTS + 1)), items
        for r in reconnecting:
            assert re.search(pattern, r.reason), r
        assert not any(isinstance(it, ev.Connected | ev.Disconnected) for it in items), items
        # The server saw every attempt fail in the TLS handshake, none reach WebSocket.
        await server.wait_for(lambda: len(server.tls_failures) == MAX_ATTEMPTS + 1)
        assert all(r.tls_error and not r.open for r in server.tls_failures)
        assert server.connections == []
        assert server.refused == []
        await wait_no_connections(server)
    assert open_fds() == fds_before
    texts = [str(info.value), repr(info.value), *(repr(it) for it in items), caplog.text]
    assert_no_secrets(texts + [repr(r.args) for r in caplog.records])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_certificate_from_an_untrusted_ca_is_rejected(
    protocol: str, transport_name: str, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    transport = make_transport(transport_name, certs.client)
    await expect_rejected(ADAPTERS[protocol], certs.untrusted_server, transport, UNTRUSTED, caplog)


async def test_certificate_for_another_host_is_rejected(
    transport_name: str, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    # The chain is trusted (wrong_host_client trusts its CA): only the host name is wrong.
    transport = make_transport(transport_name, certs.wrong_host_client)
    await expect_rejected(ADAPTERS["gateway"], certs.wrong_host_server, transport, WRONG_HOST, caplog)


async def test_default_context_rejects_the_throwaway_certificate(certs: Certificates) -> None:
    # Without ssl_context a transport verifies against the system's CAs, as for a real exchange.
    async with open_cryptology_server(rate=None, ssl_context=certs.server) as server:
        for transport in (FastTransport(), TrioWebsocketTransport()):
            with pytest.raises(FeedClosed, match=UNTRUSTED):
                await consume(
                    cryptology.open_feed(server.url, config=make_config(max_attempts=0), transport=transport)
                )
        await server.wait_for(lambda: len(server.tls_failures) == 2)
        assert server.connections == []


# -- failed TLS handshakes end one connection, never the server -----------------------------------


async def test_plain_ws_client_fails_and_the_server_serves_the_next_one(
    transport_name: str, certs: Certificates
) -> None:
    async with open_cryptology_server(rate=None, ssl_context=certs.server) as server:
        plain_url = server.url.replace("wss://", "ws://", 1)
        transport = make_transport(transport_name, certs.client)
        with pytest.raises(FeedClosed, match="closed during the WebSocket handshake"):
            await consume(
                cryptology.open_feed(plain_url, config=make_config(max_attempts=0), transport=transport)
            )
        await server.wait_for(lambda: len(server.tls_failures) == 1)
        # OpenSSL recognises the cleartext HTTP request where a TLS ClientHello should be.
        assert re.search(r"HTTP_REQUEST|WRONG_VERSION_NUMBER", server.tls_failures[0].tls_error)
        assert server.connections == []
        # The server goes on: the next client, over TLS, connects.
        async with cryptology.open_feed(server.url, config=make_config(), transport=transport) as feed:
            with trio.fail_after(WAIT):
                async for item in feed:
                    if isinstance(item, ev.Connected):
                        assert item.url.startswith("wss://")
                        break
        await wait_no_connections(server)
        assert len(server.connections) == 1


async def test_a_client_that_never_finishes_tls_blocks_nobody(
    transport_name: str, certs: Certificates
) -> None:
    async with open_cryptology_server(rate=200, ssl_context=certs.server) as server:
        stalled = await trio.open_tcp_stream("127.0.0.1", server.port)  # says nothing at all
        async with stalled:
            # Meanwhile a real client connects and gets data, long before the stalled
            # handshake times out (5 s): it waits for nobody.
            transport = make_transport(transport_name, certs.client)
            async with cryptology.open_feed(server.url, config=make_config(), transport=transport) as feed:
                await feed.subscribe("BTC_USD")
                with trio.fail_after(WAIT):
                    async for item in feed:
                        if server.sequence_of(item) is not None:
                            break
            assert server.tls_failures == []
        # The stalled client goes away: recorded, and the server serves on.
        await server.wait_for(lambda: server.tls_failures)
        assert re.search(r"EOF", server.tls_failures[0].tls_error), server.tls_failures[0]
        assert [r.id for r in server.connections] == [2]
        await wait_no_connections(server)


async def test_a_stalled_tls_handshake_times_out(
    certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_accept, "_HANDSHAKE_TIMEOUT", 0.05)
    async with open_cryptology_server(rate=None, ssl_context=certs.server) as server:
        async with await trio.open_tcp_stream("127.0.0.1", server.port) as stalled:
            await server.wait_for(lambda: server.tls_failures)
            assert server.tls_failures[0].tls_error == "no TLS handshake within 0.05 s"
            with trio.fail_after(WAIT):
                assert await stalled.receive_some(1024) == b""  # the server hung up
        assert server.connections == []


# -- secrets over TLS ------------------------------------------------------------------------------


async def test_peatio_jwt_header_goes_over_tls_and_never_into_logs(
    transport_name: str, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_peatio_server(token=JWT, rate=None, ssl_context=certs.server) as server:
        async with peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "order"],
            token=JWT,
            auth="header",
            config=make_config(),
            transport=make_transport(transport_name, certs.client),
        ) as feed:
            record = await server.wait_for_connection(1)
            await server.wait_for(lambda: record.authenticated)
            assert record.headers["authorization"] == f"Bearer {JWT}"  # it was sent, encrypted
            await server.abort()  # a TLS drop and a reconnect with the header again
            second = await server.wait_for_connection(2)
            await server.wait_for(lambda: second.authenticated)
            texts = [repr(feed), repr(feed.transport), repr(feed.config)]
        await wait_no_connections(server)
    assert_no_secrets([*texts, caplog.text, *(repr(r.args) for r in caplog.records)])


def test_the_helper_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)  # as if it were not installed
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install 'trio-feeds[testing]'")):
        tls_contexts()
