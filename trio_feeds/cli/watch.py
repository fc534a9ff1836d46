"""``trio-feeds watch``: connect to an endpoint and print its typed messages and session events.

Credentials come from the environment (``TRIO_FEEDS_API_KEY``, ``TRIO_FEEDS_API_SECRET``,
``TRIO_FEEDS_TOKEN``) or from ``--credentials-file`` (a JSON object or ``KEY=VALUE`` lines with
the same names, or ``api_key``/``api_secret``/``token``); never from the command line, and they
are never printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import trio
from rich.console import Console

from .._engine import Feed
from ..config import FeedConfig
from ..errors import FeedError
from ..exchanges import Exchange, ExchangeCredentials
from ..exchanges._base import ENV_NAMES
from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    Stopper,
    UsageError,
    describe_error,
    display_type,
    event_fields,
    event_text,
    is_event,
    json_line,
    message_json,
    write_line,
)
from ._lines import normalized_fields, normalized_text

__all__ = ["WatchOptions", "load_credentials", "run_watch"]

_TYPE = 22  # width of the type column: the longest names (DashboardsIncrementEvent) overflow it

_ENV: dict[str, str] = {name: var for name, var in ENV_NAMES.items()}


def load_credentials(path: str | None, environ: Mapping[str, str] | None = None) -> ExchangeCredentials:
    """Read credentials from ``path`` (if given; it wins) or the environment.

    Raises:
        UsageError: the file cannot be read or parsed (its contents are never quoted).
    """
    env = os.environ if environ is None else environ
    values: dict[str, str | None] = {name: env.get(var) or None for name, var in _ENV.items()}
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read credentials file {path}: {exc.strerror}") from None
        values.update(_parse_credentials(text, path))
    return ExchangeCredentials(**values)


def _parse_credentials(text: str, path: str) -> dict[str, str]:
    names: dict[str, str] = {var.lower(): name for name, var in _ENV.items()}
    names.update({name: name for name in _ENV})
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
    """Options of ``trio-feeds watch``.

    Attributes:
        exchange: the registry entry of the endpoint's protocol.
        url: the endpoint.
        args: the parsed command line (the exchange reads its own options from it).
    """

    exchange: Exchange
    url: str
    args: Any = None
    json: bool = False
    count: int | None = None
    events: bool = True
    max_attempts: int | None = None
    normalized: bool = False


def _open(options: WatchOptions, creds: ExchangeCredentials) -> AbstractAsyncContextManager[Feed[Any]]:
    exchange = options.exchange
    missing = sorted(ENV_NAMES[n] for n in exchange.needs if not getattr(creds, n))
    if missing:
        raise UsageError(
            f"{exchange.name} needs credentials: set {' and '.join(missing)}, or pass --credentials-file"
        )
    config = FeedConfig(max_attempts=options.max_attempts)
    try:
        return exchange.watch_feed(options.url, options.args, creds, config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def _subscribe(options: WatchOptions, feed: Feed[Any], failures: list[FeedError]) -> None:
    try:
        await options.exchange.watch_subscribe(feed, options.args)
    except FeedError as exc:  # refused or unanswered: say so and stop
        failures.append(exc)
        await feed.aclose()


async def run_watch(options: WatchOptions, creds: ExchangeCredentials, stopper: Stopper) -> int:
    """Watch a feed until Ctrl-C, ``--count`` messages, or an error that ends the feed."""
    console = Console(highlight=False, stderr=False)
    err = Console(stderr=True, highlight=False)
    protocol = options.exchange.name
    encode = options.exchange.encode
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
                        fields = {"t": t, "protocol": protocol, "kind": "event", "type": name}
                        write_line(json_line({**fields, **event_fields(item, clock_zero=t0)}))
                    else:
                        console.print(
                            f"{_clock()}  {name:<{_TYPE}} {event_text(item)}",
                            style="yellow",
                            markup=False,
                            **fit,
                        )
                    continue
                kind = display_type(item)
                if options.normalized:
                    for normal in feed.normalize(item):
                        name = type(normal).__name__
                        if options.json:
                            fields = {"t": t, "protocol": protocol, "kind": "normalized", "type": name}
                            write_line(json_line({**fields, "data": normalized_fields(normal)}))
                        else:
                            console.print(f"{_clock()}  {name:<{_TYPE}} {normalized_text(normal)}", **fit)
                elif options.json:
                    fields = {"t": t, "protocol": protocol, "kind": "message", "type": kind}
                    write_line(json_line(fields, {"data": message_json(encode, item)}))
                else:
                    # One readable line per message: its normalized form, else its wire JSON.
                    normals = feed.normalize(item)
                    text = "; ".join(map(normalized_text, normals)) or message_json(encode, item)
                    console.print(f"{_clock()}  {kind:<{_TYPE}} {text}", markup=False, **fit)
                seen += 1
                if options.count is not None and seen >= options.count:
                    break
            nursery.cancel_scope.cancel()
    except FeedError as exc:
        failures.append(exc)
    if failures:
        text = describe_error(failures[0], creds.secrets)
        err.print(f"trio-feeds watch: {text}", markup=False, style="red", soft_wrap=True)
        return EXIT_FAILURE
    return EXIT_OK


async def _close_on(stopper: Stopper, feed: Feed[Any]) -> None:
    await stopper.wait()
    await feed.aclose()


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]
