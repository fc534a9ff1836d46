"""What the rest of trio-feeds asks of an exchange: the :class:`Exchange` base of every entry."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractAsyncContextManager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs

from .._codecs import Codec
from .._engine import Feed
from .._sansio._shared import mask
from .._transports import Transport
from ..config import FeedConfig

if TYPE_CHECKING:  # the test servers need the [testing] extra: the entries import them where used
    from ..testing import FeedServer
    from ..testing.faults import Fault

__all__ = ["CredentialName", "Exchange", "ExchangeCredentials", "FaultProfile", "SchemaNotFound"]

CredentialName = Literal["api_key", "api_secret", "token"]

ENV_NAMES: Mapping[CredentialName, str] = {
    "api_key": "TRIO_FEEDS_API_KEY",
    "api_secret": "TRIO_FEEDS_API_SECRET",
    "token": "TRIO_FEEDS_TOKEN",
}
"""The environment variable of each credential (the ``watch`` command reads them)."""


@attrs.frozen(repr=False)
class ExchangeCredentials:
    """The credentials any exchange may need; ``repr`` shows which are set, never their values."""

    api_key: str | None = None
    api_secret: str | None = None
    token: str | None = None

    def __repr__(self) -> str:
        shown = [f"{n}={mask(v)!r}" if n == "api_key" else n for n, v in self.items()]
        return f"ExchangeCredentials({', '.join(shown)})"

    __str__ = __repr__

    def items(self) -> list[tuple[CredentialName, str]]:
        """The credentials that are set, as ``(name, value)``."""
        names: tuple[CredentialName, ...] = ("api_key", "api_secret", "token")
        return [(n, v) for n in names if (v := getattr(self, n))]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that is set, for redacting output."""
        return tuple(v for _, v in self.items())

    def environment(self) -> dict[str, str]:
        """These credentials as the environment variables ``trio-feeds watch`` reads."""
        return {ENV_NAMES[n]: v for n, v in self.items()}


@attrs.frozen(kw_only=True)
class FaultProfile:
    """How the fault matrix (``tests/test_feeds.py``) drives an exchange against its local server.

    Attributes:
        server_options: options of :meth:`Exchange.open_server` for the matrix (``rate`` is
            ``None`` there: the matrix pushes data itself).
        feed_options: options of :meth:`Exchange.open_feed` for the matrix.
        subscriptions: the server-side subscription keys :meth:`Exchange.matrix_subscribe`
            leads to (``ConnectionRecord.subscriptions``), in order.
        is_auth_frame: recognises the client's auth frame among a connection's received frames;
            ``None`` for an exchange without authentication.
        unknown_frame: a well-formed frame of a message type the codec does not know (``bytes``
            for a binary wire form).
        app_heartbeat: the server has application-level heartbeats; otherwise its data stream is
            the heartbeat.
        heartbeat_server_options: server options that make its heartbeat frequent.
    """

    server_options: Mapping[str, Any] = attrs.field(factory=dict)
    feed_options: Mapping[str, Any] = attrs.field(factory=dict)
    subscriptions: tuple[str, ...] = ()
    is_auth_frame: Callable[[object], bool] | None = None
    unknown_frame: str | bytes
    app_heartbeat: bool = False
    heartbeat_server_options: Mapping[str, Any] = attrs.field(factory=dict)


class SchemaNotFound(LookupError):
    """An exchange's JSON Schema is neither in the installed package nor in the source tree."""


class Exchange(ABC):
    """One exchange, as the command, the conformance checks and the tests see it.

    An entry subclasses this and fills in the class attributes and abstract methods; it is the
    only place outside the exchange's own modules (schema, codec, sans-IO protocol, public
    module, test server) that names the exchange. See "Adding an exchange" in the README.

    Attributes:
        name: the protocol's name on the command line and in errors (``"gateway"``).
        title: a few words for help texts (``"trading gateway"``).
        needs: the credentials ``watch`` requires (an exchange may use more when given).
        uses: every credential the exchange can use.
        has_auth: whether the server authenticates clients (faults like ``reject-auth`` apply).
        has_sequences: whether the server has sequenced order-book streams (the fault
            ``skip-sequence`` applies; the server implements
            :class:`~trio_feeds.testing.faults.SequenceFaults`).
        test_credentials: what the local server accepts when run by ``serve`` and ``demo``.
        watch_example: ``watch`` options that suit the local server, for ``serve``'s banner.
        text_frames: frames that are plain text rather than JSON (heartbeats such as Ranger's
            ``ping``/``pong``); ``conform`` counts them apart.
        fault_profile: how the fault matrix drives this exchange.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    needs: ClassVar[frozenset[CredentialName]] = frozenset()
    uses: ClassVar[frozenset[CredentialName]] = frozenset()
    has_auth: ClassVar[bool] = False
    has_sequences: ClassVar[bool] = False
    test_credentials: ClassVar[ExchangeCredentials] = ExchangeCredentials()
    watch_example: ClassVar[str] = ""
    text_frames: ClassVar[frozenset[str]] = frozenset()
    fault_profile: ClassVar[FaultProfile]

    def __repr__(self) -> str:
        return f"<Exchange {self.name!r}>"

    # -- codec and schema ---------------------------------------------------------------------

    @property
    @abstractmethod
    def codec(self) -> Codec:
        """The exchange's codec (``decode``, ``encode``, ``loads``)."""

    def decode(self, frame: str | bytes) -> object:
        """Decode one frame; see the exchange module's ``decode``."""
        result: object = self.codec.decode(frame)
        return result

    def encode(self, message: object) -> str:
        """Encode a decoded message back to its wire JSON."""
        return self.codec.encode(message)

    def schema_path(self) -> Path:
        """The exchange's JSON Schema: shipped in the package, else ``schemas/`` of the source tree."""
        shipped = resources.files("trio_feeds").joinpath("schemas", f"{self.name}.json")
        if shipped.is_file():
            return Path(str(shipped))
        path = Path(__file__).resolve().parents[2] / "schemas" / f"{self.name}.json"
        if not path.is_file():
            raise SchemaNotFound(f"no schema for {self.name}: looked for {path}")
        return path

    def schema(self) -> dict[str, Any]:
        """The exchange's JSON Schema (2020-12), parsed."""
        result: dict[str, Any] = json.loads(self.schema_path().read_text())
        return result

    # -- feeds ----------------------------------------------------------------------------------

    @abstractmethod
    def open_feed(
        self,
        url: str,
        credentials: ExchangeCredentials,
        *,
        config: FeedConfig | None = None,
        transport: Transport | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """The exchange module's ``open_feed`` with these credentials; ``options`` are its own."""

    # -- the command line -----------------------------------------------------------------------

    def add_watch_arguments(self, parser: Any) -> None:  # noqa: B027 - optional hook
        """Add this exchange's ``watch`` options (channels, symbols, ...) to its sub-parser."""

    def watch_feed(
        self, url: str, args: Any, credentials: ExchangeCredentials, config: FeedConfig, **options: Any
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        """The feed ``watch`` opens for parsed ``args`` (raise ``ValueError`` for bad options).

        ``options`` go to :meth:`open_feed` as they are (``record`` passes its ``recorder``).
        """
        return self.open_feed(url, credentials, config=config, **options)

    async def watch_subscribe(self, feed: Feed[Any], args: Any) -> None:  # noqa: B027 - optional hook
        """Subscribe ``feed`` to what ``args`` ask for (nothing by default)."""

    # -- the local server -----------------------------------------------------------------------

    def add_serve_arguments(self, parser: Any) -> None:  # noqa: B027 - optional hook
        """Add this exchange's ``serve`` options (the server's wire forms, ...) to its parser."""

    def serve_options(self, args: Any) -> dict[str, Any]:
        """Options of :meth:`open_server` from parsed ``serve`` arguments (none by default)."""
        return {}

    @abstractmethod
    def open_server(
        self,
        *,
        rate: float | None,
        port: int = 0,
        credentials: ExchangeCredentials | None = None,
        **options: Any,
    ) -> AbstractAsyncContextManager[FeedServer]:
        """Run the exchange's local test server (``credentials``: default ``test_credentials``)."""

    def demo_feed_options(self) -> dict[str, Any]:
        """Options of :meth:`open_feed` for the demo's feed to the local server."""
        return {}

    async def demo_subscribe(self, feed: Feed[Any]) -> None:  # noqa: B027 - optional hook
        """Subscribe the demo's feed to every channel the local server has."""

    def demo_faults(self, duration: float) -> list[tuple[float, Fault]]:
        """The demo's faults for this exchange: ``(fraction of the run, fault)``."""
        return []

    async def matrix_subscribe(self, feed: Feed[Any]) -> None:  # noqa: B027 - optional hook
        """What the fault matrix subscribes to once the feed is open."""

    async def matrix_subscribe_books(self, feed: Feed[Any]) -> tuple[Hashable, ...]:
        """Subscribe the book fault matrix's feed to order books; the keys of ``feed.books`` it keeps.

        An exchange with order books (its protocol's ``books`` is not ``None``) subscribes a
        feed opened with :attr:`fault_profile`'s options to at least one book here. The local
        server keeps the true books (``FeedServer.book_as_of``), which
        ``tests/test_fault_matrix_books.py`` compares with ``feed.books`` after every item.
        No books by default: ``()``.
        """
        return ()
