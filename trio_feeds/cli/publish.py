"""``trio-feeds publish CONFIG.toml``: run the feeds a config lists and publish them to Redis Streams.

The config (TOML)::

    [redis]
    url = "redis://127.0.0.1:6379/0"   # or url_env = "REDIS_URL" (a password stays out of the file)
    prefix = "trio-feeds"              # first part of every stream key
    name = "publisher-a"               # this publisher: one name per process
    maxlen = 100000                    # optional: PublisherConfig fields
    sources = false

    [[feeds]]
    name = "binance-trades"            # the feed's name in the group (its events go to its streams)
    exchange = "gateway"               # a registered exchange
    url = "wss://gateway.example/ws"
    args = ["--channel", "trades", "--symbol", "BTCUSDT"]   # what `trio-feeds watch gateway URL` takes
    credentials_file = "gateway.env"   # optional; else the environment, as for `watch`
    raw = false                        # optional: also publish every frame as received

Several publisher processes share the work by config: give each its own ``name`` and its own
feeds (a stream has one publisher). Each runs until Ctrl-C (or SIGTERM), then writes what is
queued and exits.
"""

from __future__ import annotations

import json
import os
import signal
import tomllib
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import attrs
import trio

from .. import exchanges
from .._engine import Feed
from ..config import FeedConfig
from ..group import open_feeds
from ..redis_streams import (
    PublishedEntry,
    Publisher,
    PublisherConfig,
    open_publisher,
    publish_feeds,
    raw_frames,
    redact_url,
)
from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, Stopper, UsageError
from .watch import load_credentials

__all__ = ["FeedSpec", "PublishSettings", "load_publish_config", "run_publish"]

_PUBLISHER_FIELDS = {f.name for f in attrs.fields(PublisherConfig)}


@attrs.frozen
class FeedSpec:
    """One ``[[feeds]]`` entry, parsed."""

    name: str
    exchange: exchanges.Exchange
    url: str
    args: Any
    credentials_file: str | None
    raw: bool = False


@attrs.frozen
class PublishSettings:
    """A parsed config."""

    url: str
    prefix: str
    name: str
    publisher: PublisherConfig
    feeds: tuple[FeedSpec, ...]


def load_publish_config(path: str, environ: dict[str, str] | None = None) -> PublishSettings:
    """Read and check a publish config (``UsageError`` says what is wrong and where)."""
    from . import build_parser  # noqa: PLC0415 - the package imports this module lazily

    environ = dict(os.environ) if environ is None else environ
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    redis = data.get("redis")
    if not isinstance(redis, dict):
        raise UsageError(f"{path}: a [redis] table is needed")
    url = redis.get("url")
    if "url_env" in redis:
        url = environ.get(str(redis["url_env"]))
        if not url:
            raise UsageError(f"{path}: the environment variable {redis['url_env']} is not set")
    if not isinstance(url, str):
        raise UsageError(f"{path}: [redis] needs url (or url_env)")
    unknown = set(redis) - {"url", "url_env", "prefix", "name"} - _PUBLISHER_FIELDS
    if unknown:
        raise UsageError(f"{path}: unknown [redis] keys: {', '.join(sorted(unknown))}")
    try:
        publisher = PublisherConfig(**{k: v for k, v in redis.items() if k in _PUBLISHER_FIELDS})
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path}: [redis]: {exc}") from None
    feeds_data = data.get("feeds")
    if not isinstance(feeds_data, list) or not feeds_data:
        raise UsageError(f"{path}: at least one [[feeds]] entry is needed")
    parser = build_parser()
    feeds: list[FeedSpec] = []
    for number, feed in enumerate(feeds_data, 1):
        where = f"{path}: feeds #{number}"
        try:
            name, exchange_name, feed_url = feed["name"], feed["exchange"], feed["url"]
        except (KeyError, TypeError):
            raise UsageError(f"{where}: name, exchange and url are needed") from None
        try:
            exchange = exchanges.get(exchange_name)
        except KeyError:
            raise UsageError(f"{where}: unknown exchange {exchange_name!r}") from None
        extra = [str(a) for a in feed.get("args", [])]
        try:
            args = parser.parse_args(["watch", exchange.name, feed_url, *extra])
        except SystemExit:
            raise UsageError(
                f"{where}: bad args {extra!r} (see trio-feeds watch {exchange.name} -h)"
            ) from None
        raw = feed.get("raw", False)
        if not isinstance(raw, bool):
            raise UsageError(f"{where}: raw must be true or false")
        feeds.append(FeedSpec(str(name), exchange, feed_url, args, feed.get("credentials_file"), raw))
    if len({f.name for f in feeds}) != len(feeds):
        raise UsageError(f"{path}: feed names must differ")
    return PublishSettings(
        url=url,
        prefix=str(redis.get("prefix", "trio-feeds")),
        name=str(redis.get("name", "publisher")),
        publisher=publisher,
        feeds=tuple(feeds),
    )


def _open(spec: FeedSpec, publisher: Publisher) -> AbstractAsyncContextManager[Feed[Any]]:
    creds = load_credentials(spec.credentials_file)
    missing = [n for n in spec.exchange.needs if not getattr(creds, n)]
    if missing:
        raise UsageError(f"feed {spec.name}: {spec.exchange.name} needs credentials ({', '.join(missing)})")
    config = FeedConfig(max_attempts=spec.args.max_attempts)
    if spec.raw:
        tap = raw_frames(publisher, exchange=spec.exchange.name, feed=spec.name)
        return spec.exchange.watch_feed(spec.url, spec.args, creds, config, recorder=tap)
    return spec.exchange.watch_feed(spec.url, spec.args, creds, config)


async def run_publish(settings: PublishSettings, stopper: Stopper, acked: str | None = None) -> int:
    """Publish until Ctrl-C / SIGTERM (or until every feed ended)."""
    print(
        f"publishing {len(settings.feeds)} feeds as {settings.name!r} to {redact_url(settings.url)} "
        f"under {settings.prefix!r}",
        flush=True,
    )
    # Written from the publisher's callback, a line per entry: small blocking writes, as a log
    # handler makes them.
    audit = Path(acked).open("a", encoding="utf-8") if acked else None  # noqa: SIM115, ASYNC230 - closed below

    def on_published(entries: Sequence[PublishedEntry]) -> None:
        if audit is not None:
            audit.write("".join(json.dumps([e.stream, e.id]) + "\n" for e in entries))
            audit.flush()

    try:
        async with (
            open_publisher(
                settings.url,
                prefix=settings.prefix,
                name=settings.name,
                config=settings.publisher,
                on_published=on_published,
            ) as publisher,
            open_feeds(
                {spec.name: _open(spec, publisher) for spec in settings.feeds},
                normalized=True,
                on_failure="isolate",
            ) as group,
            trio.open_nursery() as nursery,
        ):
            for spec in settings.feeds:
                await spec.exchange.watch_subscribe(group[spec.name], spec.args)

            async def publish() -> None:
                await publish_feeds(group, publisher)
                nursery.cancel_scope.cancel()

            async def on_signal() -> None:
                with trio.open_signal_receiver(signal.SIGTERM) as signals:
                    async for _ in signals:
                        stopper.event.set()

            nursery.start_soon(publish)
            nursery.start_soon(on_signal)
            await stopper.wait()
            nursery.cancel_scope.cancel()
        print(f"published {publisher.stats.published} entries; {publisher.stats}", flush=True)
        if publisher.stats.unpublished:
            return EXIT_FAILURE
        return EXIT_INTERRUPTED if stopper.interrupted else 0
    finally:
        if audit is not None:
            audit.close()
