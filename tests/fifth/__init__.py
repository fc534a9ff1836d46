"""A fifth exchange, defined entirely in tests/: the registry entry of the ticker protocol.

Adding it took a schema (``ticker.json``), its generated models (``models.py``, by
``codegen/generate.py --schema ... --output ...``), a codec and sans-IO protocol with its feed
(``protocol.py``), a local test server (``server.py``) and this registry entry; no library
file changed. ``tests/conftest.py`` registers it, so the fault matrix runs on it;
``tests/test_fifth_exchange.py`` runs the command on it in subprocesses, which find it through
``TRIO_FEEDS_EXCHANGES=tests.fifth:EXCHANGE``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, ClassVar

from tests.fifth.protocol import TickerFeed, codec, open_feed
from tests.fifth.server import open_ticker_server
from trio_feeds import Feed
from trio_feeds._codecs import Codec
from trio_feeds.config import FeedConfig
from trio_feeds.exchanges import Exchange, ExchangeCredentials, FaultProfile
from trio_feeds.exchanges._base import CredentialName
from trio_feeds.testing import FeedServer
from trio_feeds.testing.faults import Fault
from trio_feeds.transports import Transport

__all__ = ["EXCHANGE", "TickerExchange"]


def _is_auth_frame(frame: object) -> bool:
    return isinstance(frame, dict) and frame.get("op") == "auth"


class TickerExchange(Exchange):
    """The ticker protocol's registry entry."""

    name = "ticker"
    title = "ticker test protocol"
    needs: ClassVar[frozenset[CredentialName]] = frozenset({"token"})
    uses: ClassVar[frozenset[CredentialName]] = needs
    has_auth = True
    test_credentials = ExchangeCredentials(token="demo-token")
    watch_example = "--symbol BTC --symbol ETH"
    fault_profile = FaultProfile(
        server_options={"rate": None, "ping_interval": None},
        subscriptions=("tick:BTC",),
        is_auth_frame=_is_auth_frame,
        unknown_frame='{"type": "news", "text": "hi"}',
        app_heartbeat=True,
        heartbeat_server_options={"ping_interval": 0.05},
    )

    @property
    def codec(self) -> Codec:
        """The ticker codec."""
        return codec

    def schema_path(self) -> Path:
        """``tests/fifth/ticker.json``."""
        return Path(__file__).with_name("ticker.json")

    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """A ticker feed with the token."""
        if not credentials.token:
            raise ValueError("ticker needs a token")
        return open_feed(url, token=credentials.token, config=config, transport=transport, **options)

    def add_watch_arguments(self, parser: Any) -> None:
        """``--symbol`` (repeatable)."""
        parser.add_argument("--symbol", action="append", default=[], help="symbol, e.g. BTC (repeatable)")

    async def watch_subscribe(self, feed: Feed[Any], args: Any) -> None:
        """Every ``--symbol`` (default BTC)."""
        assert isinstance(feed, TickerFeed)
        await feed.subscribe(*(args.symbol or ["BTC"]))

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """The ticker test server accepting the token."""
        creds = credentials or self.test_credentials
        return open_ticker_server(token=creds.token or "", rate=rate, port=port, **options)

    async def demo_subscribe(self, feed: Feed[Any]) -> None:
        """Two symbols."""
        assert isinstance(feed, TickerFeed)
        await feed.subscribe("BTC", "ETH")

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A TCP drop."""
        return [(0.5, Fault("abort"))]

    async def matrix_subscribe(self, feed: Feed[Any]) -> None:
        """One symbol."""
        assert isinstance(feed, TickerFeed)
        await feed.subscribe("BTC")


EXCHANGE = TickerExchange()
"""The registry entry."""
