"""The registry entry of Onyx."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from .. import onyx
from .._codecs import Codec
from .._engine import Feed
from .._transports import Transport
from ..config import FeedConfig
from ._base import CredentialName, Exchange, ExchangeCredentials, FaultProfile

if TYPE_CHECKING:  # the test servers need the [testing] extra: imported where used
    from ..testing import FeedServer
    from ..testing.faults import Fault

__all__ = ["EXCHANGE", "OnyxExchange"]

_CHANNELS = ("server_info", "tickers", "dashboards")


def _is_auth_frame(frame: object) -> bool:
    return isinstance(frame, dict) and frame.get("method") == "auth"


class OnyxExchange(Exchange):
    """Onyx: token auth, id-correlated requests, ``server_info``/``tickers``/``dashboards``."""

    name = "onyx"
    title = "Onyx"
    needs: ClassVar[frozenset[CredentialName]] = frozenset({"token"})
    uses: ClassVar[frozenset[CredentialName]] = needs
    has_auth = True
    test_credentials = ExchangeCredentials(token="demo-token")
    watch_example = "--channel tickers --product-group crude"
    fault_profile = FaultProfile(
        server_options={"rate": None},
        subscriptions=("tickers:brt",),
        is_auth_frame=_is_auth_frame,
        unknown_frame='{"channel": "news", "message": {"text": "hi"}, "message_type": 1}',
        heartbeat_server_options={"rate": 40},
    )

    @property
    def codec(self) -> Codec:
        """The Onyx codec."""
        return onyx.codec

    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """:func:`trio_feeds.onyx.open_feed` with the token."""
        if not credentials.token:
            raise ValueError("onyx needs a token")
        return onyx.open_feed(url, token=credentials.token, config=config, transport=transport, **options)

    def add_watch_arguments(self, parser: Any) -> None:
        """``--channel``, ``--product``, ``--product-group``."""
        parser.add_argument(
            "--channel",
            action="append",
            default=[],
            choices=_CHANNELS,
            help="channel to subscribe (repeatable; default server_info)",
        )
        parser.add_argument(
            "--product", action="append", default=[], help="tickers: product, e.g. brt (repeatable)"
        )
        parser.add_argument(
            "--product-group",
            action="append",
            default=[],
            help="tickers: product group, e.g. crude (repeatable)",
        )

    async def watch_subscribe(self, feed: Feed[Any], args: Any) -> None:
        """Each ``--channel`` in turn; ``tickers`` with the products and groups given."""
        assert isinstance(feed, onyx.OnyxFeed)
        for channel in args.channel or ("server_info",):
            if channel == "tickers":
                await feed.subscribe(
                    "tickers",
                    products=list(args.product) or None,
                    product_groups=list(args.product_group) or None,
                )
            elif channel == "dashboards":
                await feed.subscribe("dashboards")
            else:
                await feed.subscribe("server_info")

    def add_serve_arguments(self, parser: Any) -> None:
        """``--reply-form``: how the server answers requests."""
        parser.add_argument(
            "--reply-form",
            choices=("object", "string"),
            default="object",
            help='answers as the live server sends them, {"Message": ...} (default), or as the document\'s '
            "plain string",
        )

    def serve_options(self, args: Any) -> dict[str, Any]:
        """``detail_messages`` from ``--reply-form``."""
        return {"detail_messages": args.reply_form == "object"}

    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """:func:`trio_feeds.testing.open_onyx_server` accepting the token."""
        from ..testing import open_onyx_server  # noqa: PLC0415 - the [testing] extra, only here

        creds = credentials or self.test_credentials
        return open_onyx_server(token=creds.token or "", rate=rate, port=port, **options)

    async def demo_subscribe(self, feed: Feed[Any]) -> None:
        """Every channel: server info, tickers of two product groups, dashboards."""
        assert isinstance(feed, onyx.OnyxFeed)
        await feed.subscribe("server_info")
        await feed.subscribe("tickers", product_groups=["crude", "gasoline"])
        await feed.subscribe("dashboards")

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """A refused handshake and a TCP drop at once, then a truncated frame."""
        from ..testing.faults import Fault  # noqa: PLC0415 - the [testing] extra, only here

        return [
            (0.30, Fault("refuse", "503")),
            (0.30, Fault("abort")),
            (0.72, Fault("raw", '{"channel": "tickers", "message": [')),
        ]

    async def matrix_subscribe(self, feed: Feed[Any]) -> None:
        """Tickers of one product."""
        assert isinstance(feed, onyx.OnyxFeed)
        await feed.subscribe("tickers", products=["brt"])


EXCHANGE = OnyxExchange()
"""The registry entry."""
