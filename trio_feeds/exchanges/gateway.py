"""The registry entry of the trading gateway."""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from .. import gateway
from .._codecs import Codec
from .._engine import Feed
from .._transports import Transport
from ..config import FeedConfig
from ._base import CredentialName, Exchange, ExchangeCredentials, FaultProfile

if TYPE_CHECKING:  # the test servers need the [testing] extra: imported where used
    from ..testing import FeedServer
    from ..testing.faults import Fault

__all__ = ["EXCHANGE", "GatewayExchange"]

_DEMO_EXCHANGE = "binance"


def _is_auth_frame(frame: object) -> bool:
    return isinstance(frame, dict) and frame.get("action") == "authenticate"


class GatewayExchange(Exchange):
    """The trading gateway: HMAC-signed auth, channel subscriptions, app-level ping/pong."""

    name = "gateway"
    title = "trading gateway"
    needs: ClassVar[frozenset[CredentialName]] = frozenset({"api_key", "api_secret"})
    uses: ClassVar[frozenset[CredentialName]] = needs
    has_auth = True
    test_credentials = ExchangeCredentials(api_key="demo-key", api_secret="demo-secret")
    watch_example = "--channel trades --channel orderbook"
    fault_profile = FaultProfile(
        server_options={"rate": None, "idle_ping": None},
        subscriptions=("trades:binance:BTCUSDT",),
        is_auth_frame=_is_auth_frame,
        unknown_frame='{"channel": "liquidations", "exchange": "binance", "data": {}}',
        app_heartbeat=True,
        heartbeat_server_options={"idle_ping": 0.05, "pong_timeout": 1.0},
    )

    @property
    def codec(self) -> Codec:
        """The gateway codec."""
        return gateway.codec

    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """:func:`trio_feeds.gateway.open_feed` with the API key and secret."""
        if not (credentials.api_key and credentials.api_secret):
            raise ValueError("the gateway needs an API key and an API secret")
        creds = gateway.Credentials(credentials.api_key, credentials.api_secret)
        return gateway.open_feed(url, credentials=creds, config=config, transport=transport, **options)

    def add_watch_arguments(self, parser: Any) -> None:
        """``--channel``, ``--exchange``, ``--symbol``, ``--depth``, ``--type``."""
        parser.add_argument(
            "--channel",
            action="append",
            default=[],
            choices=get_args(gateway.Channel),
            help="channel to subscribe (repeatable; default market_data)",
        )
        parser.add_argument("--exchange", help="exchange of the subscription (default: the server's)")
        parser.add_argument("--symbol", action="append", default=[], help="symbol, e.g. BTCUSDT (repeatable)")
        parser.add_argument("--depth", type=int, help="order-book depth")
        parser.add_argument("--type", dest="market_data_type", help="market-data type (e.g. ticker)")

    async def watch_subscribe(self, feed: Feed[Any], args: Any) -> None:
        """One subscription of every ``--channel`` with the given params."""
        assert isinstance(feed, gateway.GatewayFeed)
        await feed.subscribe(
            list(args.channel or ("market_data",)),
            exchange=args.exchange,
            symbols=list(args.symbol) or None,
            depth=args.depth,
            type=args.market_data_type,
        )

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """:func:`trio_feeds.testing.open_gateway_server` accepting ``credentials``."""
        from ..testing import open_gateway_server  # noqa: PLC0415 - the [testing] extra, only here

        creds = credentials or self.test_credentials
        return open_gateway_server(
            api_key=creds.api_key or "",
            api_secret=creds.api_secret or "",
            rate=rate,
            port=port,
            **options,
        )

    async def demo_subscribe(self, feed: Feed[Any]) -> None:
        """Every channel: market data, book and trades of one symbol, orders and positions of another."""
        assert isinstance(feed, gateway.GatewayFeed)
        await feed.subscribe(
            ["market_data", "orderbook", "trades"], exchange=_DEMO_EXCHANGE, symbols=["BTCUSDT"]
        )
        await feed.subscribe(["orders", "positions"], exchange=_DEMO_EXCHANGE, symbols=["ETHUSDT"])
        await feed.subscribe("system_events", exchange=_DEMO_EXCHANGE)

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A server error close, and a trade whose price is not a number."""
        from ..testing.faults import Fault  # noqa: PLC0415 - the [testing] extra, only here

        bad_trade = (
            '{"channel": "trades", "exchange": "binance", "symbol": "BTCUSDT", '
            '"data": {"id": "1", "price": "oops", "amount": 1, "side": "buy", '
            '"timestamp": 1}, "timestamp": 1}'
        )
        return [(0.12, Fault("close", "1011:demo: internal error")), (0.65, Fault("raw", bad_trade))]

    async def matrix_subscribe(self, feed: Feed[Any]) -> None:
        """Trades of one symbol."""
        assert isinstance(feed, gateway.GatewayFeed)
        await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])

    async def matrix_subscribe_books(self, feed: Feed[Any]) -> tuple[Hashable, ...]:
        """The order book of one symbol, five levels deep."""
        assert isinstance(feed, gateway.GatewayFeed)
        await feed.subscribe(["orderbook"], exchange="binance", symbols=["BTCUSDT"], depth=5)
        return (("binance", "BTCUSDT"),)


EXCHANGE = GatewayExchange()
"""The registry entry."""
