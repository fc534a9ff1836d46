"""The registry entry of Cryptology market data."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from .. import cryptology
from .._codecs import Codec
from .._engine import Feed
from .._transports import Transport
from ..config import FeedConfig
from ..testing import FeedServer, open_cryptology_server
from ..testing.faults import Fault
from ._base import Exchange, ExchangeCredentials, FaultProfile

__all__ = ["EXCHANGE", "CryptologyExchange"]


class CryptologyExchange(Exchange):
    """Cryptology market data: no authentication, every trade pair, filtered on our side."""

    name = "cryptology"
    title = "Cryptology market data"
    fault_profile = FaultProfile(
        server_options={"rate": None, "trade_pairs": ("BTC_USD",)},
        subscriptions=("order_book:BTC_USD", "trades:BTC_USD"),
        unknown_frame='{"@type": "FundingRate", "rate": "0.01"}',
        heartbeat_server_options={"rate": 40},
    )

    @property
    def codec(self) -> Codec:
        """The Cryptology codec."""
        return cryptology.codec

    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """:func:`trio_feeds.cryptology.open_feed` (market data needs no credentials)."""
        return cryptology.open_feed(url, config=config, transport=transport, **options)

    def add_watch_arguments(self, parser: Any) -> None:
        """``--trade-pair`` (alias ``--symbol``)."""
        parser.add_argument(
            "--trade-pair",
            "--symbol",
            dest="trade_pair",
            action="append",
            default=[],
            help="deliver only this trade pair, e.g. BTC_USD (repeatable; default all)",
        )

    def watch_feed(
        self, url: str, args: Any, credentials: ExchangeCredentials, config: FeedConfig, **options: Any
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """A feed filtered to the ``--trade-pair`` pairs (all by default)."""
        return self.open_feed(url, credentials, config=config, trade_pairs=args.trade_pair or None, **options)

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """:func:`trio_feeds.testing.open_cryptology_server`; ``serve`` and the demo stream two pairs."""
        options.setdefault("trade_pairs", ("BTC_USD", "ETH_USD"))
        return open_cryptology_server(rate=rate, port=port, **options)

    def demo_feed_options(self) -> dict[str, Any]:
        """A short silence bound: the demo server streams steadily."""
        return {"server_heartbeat": 2.0}

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A trade whose price is not a number, and the exchange's rate-limit close."""
        bad_trade = (
            '{"@type": "AnonymousTrade", "time": [1530093825, 250], "trade_pair": "BTC_USD", '
            '"amount": "1", "price": "cheap", "maker_buy": false}'
        )
        return [(0.22, Fault("raw", bad_trade)), (0.55, Fault("rate-limit"))]


EXCHANGE = CryptologyExchange()
"""The registry entry."""
