"""The registry entry of Peatio Ranger."""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from .. import peatio
from .._codecs import Codec
from .._engine import Feed
from .._transports import Transport
from ..config import FeedConfig
from ._base import CredentialName, Exchange, ExchangeCredentials, FaultProfile

if TYPE_CHECKING:  # the test servers need the [testing] extra: imported where used
    from ..testing import FeedServer
    from ..testing.faults import Fault

__all__ = ["EXCHANGE", "PeatioExchange"]

_DEMO_STREAMS = ("btcusd.trades", "btcusd.update", "btcusd.ob-inc", "order", "trade")


def _is_auth_frame(frame: object) -> bool:
    return isinstance(frame, dict) and "jwt" in frame


class PeatioExchange(Exchange):
    """Peatio Ranger: streams in the query string or by events, a JWT for private streams."""

    name = "peatio"
    title = "Peatio Ranger"
    uses: ClassVar[frozenset[CredentialName]] = frozenset({"token"})
    has_auth = True
    has_sequences = True
    test_credentials = ExchangeCredentials(token="demo-token")
    watch_example = "--stream btcusd.trades --stream btcusd.ob-inc"
    text_frames = frozenset({"ping", "pong"})
    fault_profile = FaultProfile(
        server_options={"rate": None},
        feed_options={"streams": ["btcusd.trades"], "auth": "message", "subscribe_mode": "event"},
        subscriptions=("btcusd.trades", "order"),
        is_auth_frame=_is_auth_frame,
        # An event of peatio-core's own spec (web_socket_spec.rb): a stream no model knows.
        unknown_frame='{"btcusd.order": {"key": "btcusd_order_1"}}',
        app_heartbeat=True,
        heartbeat_server_options={"ping_interval": 0.05},
    )

    @property
    def codec(self) -> Codec:
        """The Peatio Ranger codec."""
        return peatio.codec

    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """:func:`trio_feeds.peatio.open_feed` with the token, if any (public streams need none)."""
        return peatio.open_feed(url, token=credentials.token, config=config, transport=transport, **options)

    def add_watch_arguments(self, parser: Any) -> None:
        """``--stream`` (at least one) and ``--auth``."""
        parser.add_argument(
            "--stream",
            action="append",
            default=[],
            help="stream, e.g. btcusd.trades, btcusd.ob-inc, order (repeatable; at least one)",
        )
        parser.add_argument(
            "--auth",
            choices=("message", "header"),
            default="message",
            help="send the token as a jwt message (default) or an Authorization header",
        )

    def watch_feed(
        self, url: str, args: Any, credentials: ExchangeCredentials, config: FeedConfig, **options: Any
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """A feed of the ``--stream`` streams, in the query string."""
        if not args.stream:
            raise ValueError("peatio: give at least one --stream (e.g. --stream btcusd.trades)")
        return self.open_feed(url, credentials, config=config, streams=args.stream, auth=args.auth, **options)

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """:func:`trio_feeds.testing.open_peatio_server` accepting the token."""
        from ..testing import open_peatio_server  # noqa: PLC0415 - the [testing] extra, only here

        creds = credentials or self.test_credentials
        return open_peatio_server(token=creds.token or "", rate=rate, port=port, **options)

    def add_serve_arguments(self, parser: Any) -> None:
        """``--frames``, ``--auth-rejection`` and ``--text-errors``: which server generation to be."""
        parser.add_argument(
            "--frames",
            choices=("object", "array"),
            default="object",
            help="data frames as {stream: payload} (default) or [stream, payload] (peatio-core 0.4.x, "
            "as rubykube/ranger-example-nodejs expects)",
        )
        parser.add_argument(
            "--auth-rejection",
            choices=("401", "drop", "anonymous"),
            default="401",
            help="a bad Authorization header gets HTTP 401 (rango /private, default), a dropped "
            "handshake (the Ruby Ranger) or an anonymous connection (rango /public)",
        )
        parser.add_argument(
            "--text-errors", action="store_true", help='errors as plain strings, {"error": "..."} (rango)'
        )

    def serve_options(self, args: Any) -> dict[str, Any]:
        """The server options of :meth:`add_serve_arguments`."""
        return {"frames": args.frames, "auth_rejection": args.auth_rejection, "text_errors": args.text_errors}

    def demo_feed_options(self) -> dict[str, Any]:
        """Public and private streams of one market."""
        return {"streams": _DEMO_STREAMS}

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A stalled server, then a restart close."""
        from ..testing.faults import Fault  # noqa: PLC0415 - the [testing] extra, only here

        stall = f"{max(0.8, 0.12 * duration):.1f}"
        return [(0.40, Fault("blackhole", stall)), (0.80, Fault("close", "1012:service restart"))]

    async def matrix_subscribe(self, feed: Feed[Any]) -> None:
        """A private stream, added on the live connection."""
        assert isinstance(feed, peatio.PeatioFeed)
        await feed.subscribe("order")

    async def matrix_subscribe_books(self, feed: Feed[Any]) -> tuple[Hashable, ...]:
        """The sequenced book of one market (``<market>.ob-inc``), added on the live connection."""
        assert isinstance(feed, peatio.PeatioFeed)
        await feed.subscribe("btcusd.ob-inc")
        return ("btcusd",)


EXCHANGE = PeatioExchange()
"""The registry entry."""
