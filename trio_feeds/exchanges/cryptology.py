"""The registry entry of Cryptology market data."""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from .. import cryptology
from .._codecs import Codec
from .._engine import Feed
from .._transports import Transport
from ..config import FeedConfig
from ._base import Exchange, ExchangeCredentials, FaultProfile

if TYPE_CHECKING:  # the test servers need the [testing] extra: imported where used
    from ..testing import FeedServer
    from ..testing.faults import Fault

__all__ = ["EXCHANGE", "CryptologyExchange"]


class CryptologyExchange(Exchange):
    """Cryptology market data: no authentication, every trade pair, filtered on our side."""

    name = "cryptology"
    title = "Cryptology market data"
    # The matrix runs on the local server's default form, the real server's binary XDR frames.
    # Its heartbeat cell uses the 2018 server's one-byte frames (the later server sends nothing
    # on a quiet market: there only the WebSocket pings, which the blackhole cell covers).
    fault_profile = FaultProfile(
        server_options={"rate": None, "trade_pairs": ("BTC_USD",)},
        subscriptions=("order_book:BTC_USD", "trades:BTC_USD"),
        unknown_frame=cryptology.xdr.pack_broadcast('{"@type": "FundingRate", "rate": "0.01"}'),
        app_heartbeat=True,
        heartbeat_server_options={"heartbeat_interval": 0.05},
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
        """``--trade-pair`` (alias ``--symbol``) and ``--wire-form``."""
        parser.add_argument(
            "--trade-pair",
            "--symbol",
            dest="trade_pair",
            action="append",
            default=[],
            help="deliver only this trade pair, e.g. BTC_USD (repeatable; default all)",
        )
        parser.add_argument(
            "--wire-form",
            dest="wire_form",
            choices=("auto", "xdr", "json"),
            default="auto",
            help=(
                "binary XDR frames (the real server) or plain JSON text frames; auto (default): "
                "the first frame tells. A JSON server that may stay silent after a connect needs json"
            ),
        )

    def watch_feed(
        self, url: str, args: Any, credentials: ExchangeCredentials, config: FeedConfig, **options: Any
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """A feed filtered to the ``--trade-pair`` pairs (all by default), of ``--wire-form``."""
        return self.open_feed(
            url,
            credentials,
            config=config,
            trade_pairs=args.trade_pair or None,
            wire_form=getattr(args, "wire_form", "auto"),
            **options,
        )

    def add_serve_arguments(self, parser: Any) -> None:
        """``--wire-form``: the real server's binary XDR frames (default) or JSON text frames."""
        parser.add_argument(
            "--wire-form",
            dest="wire_form",
            choices=("xdr", "json"),
            default="xdr",
            help=(
                "binary XDR frames with a version frame first, as the real server and its official "
                "client (default), or the documents' plain JSON text frames"
            ),
        )

    def serve_options(self, args: Any) -> dict[str, Any]:
        """``form`` from ``--wire-form``."""
        return {"form": getattr(args, "wire_form", "xdr")}

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """:func:`trio_feeds.testing.open_cryptology_server`; ``serve`` and the demo stream two pairs.

        The server speaks the real server's binary XDR form unless ``form="json"`` is given,
        so the official client's ``examples/market_radio.py`` runs against ``trio-feeds serve``.
        """
        from ..testing import open_cryptology_server  # noqa: PLC0415 - the [testing] extra, only here

        options.setdefault("trade_pairs", ("BTC_USD", "ETH_USD"))
        return open_cryptology_server(rate=rate, port=port, **options)

    def demo_feed_options(self) -> dict[str, Any]:
        """A short silence bound: the demo server streams steadily."""
        return {"server_heartbeat": 2.0}

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A trade whose price is not a number, and the exchange's rate-limit close."""
        from ..testing.faults import Fault  # noqa: PLC0415 - the [testing] extra, only here

        bad_trade = (
            '{"@type": "AnonymousTrade", "time": [1530093825, 250], "trade_pair": "BTC_USD", '
            '"amount": "1", "price": "cheap", "maker_buy": false}'
        )
        return [(0.22, Fault("raw", bad_trade)), (0.55, Fault("rate-limit"))]

    async def matrix_subscribe_books(self, feed: Feed[Any]) -> tuple[Hashable, ...]:
        """Nothing to ask: the server streams every trade pair's whole book (the profile's one pair)."""
        return tuple(self.fault_profile.server_options["trade_pairs"])


EXCHANGE = CryptologyExchange()
"""The registry entry."""
