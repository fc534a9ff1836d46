"""``trio-feeds watch``: connect to an endpoint and print its typed messages and session events.

Credentials come from the environment (``TRIO_FEEDS_API_KEY``, ``TRIO_FEEDS_API_SECRET``,
``TRIO_FEEDS_TOKEN``) or from ``--credentials-file`` (a JSON object or ``KEY=VALUE`` lines with
the same names, or ``api_key``/``api_secret``/``token``); never from the command line, and they
are never printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import attrs
import trio
from rich.console import Console

from .. import cryptology, gateway, onyx, peatio
from .._engine import Feed
from ..errors import FeedError
from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    Stopper,
    UsageError,
    describe_error,
    event_fields,
    event_text,
    is_event,
    json_line,
    message_json,
    message_type,
    write_line,
)

__all__ = ["Credentials", "WatchOptions", "load_credentials", "run_watch"]

_ENV = {"api_key": "TRIO_FEEDS_API_KEY", "api_secret": "TRIO_FEEDS_API_SECRET", "token": "TRIO_FEEDS_TOKEN"}
_ENCODERS: dict[str, Callable[[Any], str]] = {
    "cryptology": cryptology.encode,
    "gateway": gateway.encode,
    "onyx": onyx.encode,
    "peatio": peatio.encode,
}


@attrs.frozen(repr=False)
class Credentials:
    """Credentials for ``watch``; the repr shows which are set, never their values."""

    api_key: str | None = None
    api_secret: str | None = None
    token: str | None = None

    def __repr__(self) -> str:
        present = [name for name in ("api_key", "api_secret", "token") if getattr(self, name)]
        return f"Credentials(set={present})"

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Every value, for scrubbing output."""
        return (self.api_key, self.api_secret, self.token)


def load_credentials(path: str | None, environ: Mapping[str, str] | None = None) -> Credentials:
    """Read credentials from ``path`` (if given; it wins) or the environment.

    Raises:
        UsageError: the file cannot be read or parsed (its contents are never quoted).
    """
    env = os.environ if environ is None else environ
    values = {name: env.get(var) or None for name, var in _ENV.items()}
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read credentials file {path}: {exc.strerror}") from None
        values.update(_parse_credentials(text, path))
    return Credentials(**values)


def _parse_credentials(text: str, path: str) -> dict[str, str]:
    names = {**{var.lower(): name for name, var in _ENV.items()}, **{name: name for name in _ENV}}
    found: dict[str, str] = {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            raise UsageError(f"credentials file {path}: not valid JSON") from None
        if not isinstance(data, dict):
            raise UsageError(f"credentials file {path}: expected a JSON object")
        items = [(str(k), v) for k, v in data.items()]
    else:
        items = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, eq, value = line.removeprefix("export ").partition("=")
            if not eq:
                raise UsageError(f"credentials file {path}, line {number}: expected KEY=VALUE")
            items.append((key.strip(), value.strip().strip("'\"")))
    for key, value in items:
        name = names.get(key.lower())
        if name is None:
            raise UsageError(
                f"credentials file {path}: unknown key {key!r} "
                f"(use {', '.join(_ENV.values())} or {', '.join(_ENV)})"
            )
        if not isinstance(value, str):
            raise UsageError(f"credentials file {path}: {key} must be a string")
        found[name] = value
    return found


@attrs.frozen
class WatchOptions:
    """Options of ``trio-feeds watch``."""

    protocol: str
    url: str
    json: bool = False
    count: int | None = None
    events: bool = True
    channels: tuple[str, ...] = ()
    exchange: str | None = None
    symbols: tuple[str, ...] = ()
    depth: int | None = None
    market_data_type: str | None = None
    trade_pairs: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    product_groups: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    peatio_auth: str = "message"


def _open(options: WatchOptions, creds: Credentials) -> AbstractAsyncContextManager[Feed]:
    p = options.protocol
    if p == "gateway":
        if not (creds.api_key and creds.api_secret):
            raise UsageError(
                "the gateway needs an API key and secret: set TRIO_FEEDS_API_KEY and "
                "TRIO_FEEDS_API_SECRET, or pass --credentials-file"
            )
        return gateway.open_feed(
            options.url, credentials=gateway.Credentials(creds.api_key, creds.api_secret)
        )
    if p == "onyx":
        if not creds.token:
            raise UsageError("onyx needs a token: set TRIO_FEEDS_TOKEN, or pass --credentials-file")
        return onyx.open_feed(options.url, token=creds.token)
    if p == "peatio":
        if not options.streams:
            raise UsageError("peatio: give at least one --stream (e.g. --stream btcusd.trades)")
        auth: Literal["message", "header"] = "header" if options.peatio_auth == "header" else "message"
        return peatio.open_feed(options.url, streams=options.streams, token=creds.token, auth=auth)
    pairs = options.trade_pairs or None
    return cryptology.open_feed(options.url, trade_pairs=pairs)


async def _subscribe(options: WatchOptions, feed: Feed, failures: list[FeedError]) -> None:
    try:
        await _subscribe_all(options, feed)
    except FeedError as exc:  # refused or unanswered: say so and stop
        failures.append(exc)
        await feed.aclose()


async def _subscribe_all(options: WatchOptions, feed: Feed) -> None:
    if options.protocol == "gateway":
        await feed.subscribe(
            list(options.channels or ("market_data",)),
            exchange=options.exchange,
            symbols=list(options.symbols) or None,
            depth=options.depth,
            type=options.market_data_type,
        )
    elif options.protocol == "onyx":
        for channel in options.channels or ("server_info",):
            if channel == "tickers":
                await feed.subscribe(
                    "tickers",
                    products=list(options.products) or None,
                    product_groups=list(options.product_groups) or None,
                )
            else:
                await feed.subscribe(channel)


async def run_watch(options: WatchOptions, creds: Credentials, stopper: Stopper) -> int:
    """Watch a feed until Ctrl-C, ``--count`` messages, or an error that ends the feed."""
    console = Console(highlight=False, stderr=False)
    err = Console(stderr=True, highlight=False)
    encode = _ENCODERS[options.protocol]
    fit: dict[str, Any] = (
        {"overflow": "ellipsis", "no_wrap": True} if console.is_terminal else {"soft_wrap": True}
    )
    t0 = trio.current_time()
    feed_cm = _open(options, creds)
    seen = 0
    failures: list[FeedError] = []
    try:
        async with feed_cm as feed, trio.open_nursery() as nursery:
            nursery.start_soon(_subscribe, options, feed, failures)
            nursery.start_soon(_close_on, stopper, feed)
            async for item in feed:
                t = round(trio.current_time() - t0, 4)
                if is_event(item):
                    if not options.events:
                        continue
                    name = type(item).__name__
                    if options.json:
                        fields = {"t": t, "protocol": options.protocol, "kind": "event", "type": name}
                        write_line(json_line({**fields, **event_fields(item, clock_zero=t0)}))
                    else:
                        console.print(
                            f"{_clock()}  {name:<14} {event_text(item)}", style="yellow", markup=False
                        )
                    continue
                kind = message_type(item)
                wire = message_json(encode, item)
                if options.json:
                    fields = {"t": t, "protocol": options.protocol, "kind": "message", "type": kind}
                    write_line(json_line(fields, {"data": wire}))
                else:
                    # A terminal gets one line per message; a pipe or file gets whole messages.
                    console.print(f"{_clock()}  {kind:<14} {wire}", markup=False, **fit)
                seen += 1
                if options.count is not None and seen >= options.count:
                    break
            nursery.cancel_scope.cancel()
    except FeedError as exc:
        failures.append(exc)
    if failures:
        text = describe_error(failures[0], creds.secrets)
        err.print(f"trio-feeds watch: {text}", markup=False, style="red")
        return EXIT_FAILURE
    return EXIT_OK


async def _close_on(stopper: Stopper, feed: Feed) -> None:
    await stopper.wait()
    await feed.aclose()


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]
