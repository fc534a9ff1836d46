"""In-process exchange servers for testing Trio apps offline, with fault injection.

Each server speaks one protocol as its documents describe, on ``127.0.0.1`` and a free port,
inside an async context manager that owns its tasks (leaving it, or cancelling it, stops
everything and closes every socket; errors propagate)::

    from trio_feeds.testing import open_gateway_server

    async def test_my_app():
        async with open_gateway_server(api_key="test-key", api_secret="test-secret", rate=50) as server:
            await run_my_app(server.url)              # ws://127.0.0.1:PORT/ws
            await server.close(1011, "boom")          # ... and check the app reconnects
            await server.wait_for(lambda: len(server.connections) == 2)
            assert server.connections[1].subscriptions == server.connections[0].subscriptions

Servers: :func:`open_gateway_server` (authenticate with an HMAC-SHA256 signature, subscribe,
ping/pong, close events), :func:`open_cryptology_server` (market data in the real server's binary
XDR frames, a version frame first; ``form="json"`` for text frames, ``legacy=True`` there for
``_cls``), :func:`open_onyx_server` (token auth within 5 s, ``id``/``method``
responses, ``server_info``/``tickers``/``dashboards``), :func:`open_peatio_server` (``?stream=``
streams acknowledged on connect, JWT by message or ``Authorization`` header, subscribe events,
one matching-engine book per market with sequenced increments, ``frames="array"`` for the
document's server generation). Their module docstrings give the details.

Data: each connection gets generated, schema-valid messages (built from the generated models
and encoded with the protocol's codec) for what it subscribed, ``rate`` messages per second
(settable at any time as ``server.rate``); with ``rate=None`` nothing is sent until
``await server.push()`` (the next generated messages) or ``await server.push(message)``
(a model, dict or frame of your own).

Sequence numbers: every generated data message that has room for it carries the connection's
sequence number, 1, 2, 3, ... (per connection, counting only stamped messages), so a test can
prove nothing was lost or duplicated. ``server.sequence_of(frame_or_dict_or_model)`` reads it:

=========== ===============================================================================
gateway     ``data.timestamp = SEQUENCE_EPOCH_MS + seq`` on every channel message; ``trades``
            and ``orders`` also ``data.id = str(seq)``
cryptology  ``current_order_id = seq`` (an extra key in the ``legacy`` ``_cls`` form)
onyx        tickers ``timestamp_millis = SEQUENCE_EPOCH_MS + seq``; dashboard increments
            ``message["seq"]`` (``server_info`` and the dashboards snapshot: none)
peatio      public trades ``tid``; private ``order``/``trade`` ``id`` (book increments carry
            their market's own ``sequence``; ``server.book(market)`` is the true book)
=========== ===============================================================================

Records: ``server.connections`` lists a :class:`ConnectionRecord` per accepted connection
(kept after it closed): the parsed frames the client sent (``received``), what the server
sent (``sent``), ``authenticated`` and ``auth_attempts``, active ``subscriptions``,
``close_code``/``close_reason``/``closed_by``. ``server.refused`` lists refused handshakes,
``server.tls_failures`` failed TLS handshakes (``wss://`` servers only).
``await server.wait_for(predicate)`` waits for any condition on them.

Fault controls (methods of every server, usable while clients are connected; ``connection=``
picks one connection by record or id, default all open ones):

- ``await close(code, reason="")``: WebSocket close with that code (gateway sends its
  ``close`` event first); returns once closed.
- ``await abort(reset=False)``: drop TCP without a close frame (the client sees 1006).
- ``blackhole()``: stop sending *and* reading: the client's WebSocket pings get no pong, its
  messages wait; new connections hang in the handshake. ``resume()`` undoes it.
- ``stop_heartbeats()``: the server's heartbeats stop (gateway ``ping`` events, Peatio text
  ``ping``, WebSocket pings from ``ws_ping_interval``); data continues. ``resume()`` undoes it.
- ``await send_raw(text_or_bytes)``: one frame exactly as given (malformed JSON, unknown
  types, oversized frames).
- ``reject_auth(n=1)`` / ``reject_auth_always()`` / ``accept_auth()``: fail authentication
  even with valid credentials (gateway, onyx, peatio).
- ``await rate_limit()``: gateway: ``error`` 429 then close 1008; cryptology: close 4009;
  onyx: close 1008; peatio: ``error`` then close 1008.
- ``refuse_next(n=1, status=503)``: refuse the next connection attempts with that HTTP
  status, or drop them before answering with ``status=None``.
- ``delay_replies(seconds)``: answer requests (auth, subscribe, pongs) late, still in order.
- ``resume()``: undo ``blackhole``, ``stop_heartbeats`` and ``delay_replies``.
- Gateway only: ``await ping()`` sends a ``ping`` event now and closes 1008 without a ``pong``
  in ``pong_timeout``.
- Peatio only: ``skip_sequence(n=1, market=None)``: the next ``n`` book increments reach no
  live subscriber (a sequence jump; ``--fault skip-sequence:N@WHEN``); ``restart_engine()``:
  the matching engine restarts and its sequences begin again at 1.

TLS (``wss://``): every ``open_<protocol>_server`` takes ``ssl_context=``, a server-side
:class:`ssl.SSLContext` with a certificate loaded; ``server.url`` then says ``wss://``.
:func:`trio_feeds.testing.tls.tls_contexts` makes a throwaway CA and a certificate for
``127.0.0.1`` (it needs ``trustme``: ``pip install 'trio-feeds[testing]'``) and returns
``(server_context, client_context)``; give the client one to the feed's transport::

    from trio_feeds.testing.tls import tls_contexts
    from trio_feeds.transports import FastTransport

    server_context, client_context = tls_contexts()
    async with open_cryptology_server(ssl_context=server_context) as server:   # wss://127.0.0.1:PORT/
        async with cryptology.open_feed(server.url, transport=FastTransport(ssl_context=client_context)):
            ...

Each TLS handshake runs in its connection's own task, bounded by 5 s; one that fails (the
client rejected the certificate, spoke plain ``ws://``, or never finished) ends that
connection only and is recorded in ``server.tls_failures`` (``record.tls_error`` says why).
A client context from another ``tls_contexts()`` call does not trust the server's CA, and
``tls_contexts("example.test")`` makes a certificate for another host: certificates a client
must reject.

Pytest: ``trio_feeds.testing.pytest_plugin`` provides the fixtures ``gateway_server``,
``cryptology_server``, ``onyx_server`` and ``peatio_server`` (pytest-trio tests), configured
with ``@pytest.mark.trio_feeds_server(rate=..., ...)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._server import SEQUENCE_EPOCH_MS, BookState, ConnectionRecord, FeedServer, Target

if TYPE_CHECKING:
    from .cryptology import CryptologyServer, open_cryptology_server
    from .gateway import GatewayServer, open_gateway_server, sign
    from .onyx import OnyxServer, open_onyx_server
    from .peatio import PeatioServer, open_peatio_server

# Each server is imported when first asked for: a server module imports its exchange's codec,
# and the command (which imports `trio_feeds.testing.faults`, so this package) or a test of one
# exchange would otherwise pay for all four at start-up.
_SERVERS = {
    "CryptologyServer": "cryptology",
    "open_cryptology_server": "cryptology",
    "GatewayServer": "gateway",
    "open_gateway_server": "gateway",
    "sign": "gateway",
    "OnyxServer": "onyx",
    "open_onyx_server": "onyx",
    "PeatioServer": "peatio",
    "open_peatio_server": "peatio",
}


def __getattr__(name: str) -> Any:
    module = _SERVERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SERVERS})


__all__ = [
    "BookState",
    "SEQUENCE_EPOCH_MS",
    "ConnectionRecord",
    "CryptologyServer",
    "FeedServer",
    "GatewayServer",
    "OnyxServer",
    "PeatioServer",
    "Target",
    "open_cryptology_server",
    "open_gateway_server",
    "open_onyx_server",
    "open_peatio_server",
    "sign",
]
