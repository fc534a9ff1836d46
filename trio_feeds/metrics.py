"""Feed health as Prometheus metrics (needs the ``metrics`` extra: ``prometheus-client``).

::

    from prometheus_client import CollectorRegistry
    from trio_feeds.metrics import FeedMetrics, serve_metrics

    registry = CollectorRegistry()
    metrics = FeedMetrics()
    registry.register(metrics)
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_metrics, 9464, "127.0.0.1", registry)
        async with gateway.open_feed(url, credentials=creds) as feed:
            metrics.add_feed("gateway", feed)
            async for item in feed:
                metrics.note("gateway", item)      # optional: the last message's age
                ...

:class:`FeedMetrics` is a collector: it reads each feed's state when Prometheus scrapes, so it
costs nothing per message. The counters are the ones the engine keeps anyway
(:attr:`Feed.stats <trio_feeds.Feed.stats>`); the age of the last message comes from a
:class:`~trio_feeds.group.FeedHealth` (a group keeps one per feed; :meth:`FeedMetrics.note`
keeps it for a feed of your own); delivery latency is what your application measures
(:meth:`FeedMetrics.observe_latency`): only it knows when a message was sent (an exchange
timestamp, or the local test servers' send times as ``trio-feeds demo`` uses them).

Metrics, each labelled ``feed`` (the name given) and ``protocol``:

=============================================== ===============================================
``trio_feeds_messages_total``                   messages delivered to the feed's buffer
``trio_feeds_frames_total``                     WebSocket frames received
``trio_feeds_reconnects_total``                 reconnect attempts
``trio_feeds_gaps_total``                       data gaps reported (``Gap`` events)
``trio_feeds_decode_failures_total``            frames that could not be decoded
``trio_feeds_dropped_messages_total``           messages dropped by the overflow policy
``trio_feeds_connected``                        1 while a connection is open, else 0
``trio_feeds_buffered_items``                   items waiting for the consumer
``trio_feeds_buffer_fill_ratio``                waiting items / ``buffer_size``
``trio_feeds_last_message_age_seconds``         seconds since the last message (once one came)
``trio_feeds_delivery_latency_seconds``         latency quantiles (label ``quantile``: 0.5, 0.99)
                                                over the recent samples
``trio_feeds_delivery_latency_samples``         how many samples those quantiles come from
=============================================== ===============================================
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs
import trio

try:
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError as exc:  # the one line that says what to install, not a bare module name
    raise ImportError(
        "trio_feeds.metrics needs the metrics extra: pip install 'trio-feeds[metrics]'"
    ) from exc

from ._engine import Feed
from .group import FeedGroup, FeedHealth

__all__ = ["FeedMetrics", "MetricsServer", "quantiles", "respond", "serve_metrics"]

PREFIX = "trio_feeds"
QUANTILES = (0.5, 0.99)
_LABELS = ("feed", "protocol")

# The HTTP side: a scrape request is a few hundred bytes; anything bigger or slower is not one.
_MAX_REQUEST = 16 * 1024
_REQUEST_TIMEOUT = 10.0


@attrs.define(eq=False)
class _Tracked:
    feed: Feed[Any]
    health: FeedHealth | None
    latencies: deque[tuple[float, float]]


class FeedMetrics:
    """A Prometheus collector of feeds' health: register it, then add feeds or groups.

    Everything is read at scrape time (:meth:`collect`), from the Trio thread when
    :func:`serve_metrics` serves it. Reads are of plain counters, so a scrape from another
    thread (``prometheus_client.start_http_server``) also works; ages then use the clock of
    the Trio run that added the feed.

    Args:
        latency_samples: how many recent latency samples each feed keeps (a ring).
        latency_max_age: samples older than this many seconds are left out of the quantiles,
            so a feed that stopped delivering does not show its old latency forever.
    """

    def __init__(self, *, latency_samples: int = 1024, latency_max_age: float = 60.0) -> None:
        if latency_samples < 1:
            raise ValueError("latency_samples must be at least 1")
        self._latency_samples = latency_samples
        self._latency_max_age = latency_max_age
        self._feeds: dict[str, _Tracked] = {}
        self._clock: trio.abc.Clock | None = None

    def __repr__(self) -> str:
        return f"<FeedMetrics feeds={sorted(self._feeds)}>"

    # -- what to collect ----------------------------------------------------------------------

    def add_feed(self, name: str, feed: Feed[Any], *, health: FeedHealth | None = None) -> None:
        """Export ``feed``'s metrics under the label ``feed=name`` (replaces a feed of that name).

        ``health``: a :class:`~trio_feeds.group.FeedHealth` that sees the feed's items (a
        group's); without one, :meth:`note` keeps one.
        """
        self._capture_clock()
        self._feeds[name] = _Tracked(feed, health, deque(maxlen=self._latency_samples))

    def add_group(self, group: FeedGroup[Any], *, prefix: str = "") -> None:
        """Export every feed of ``group`` (as ``prefix + name``), with the group's health of each."""
        health = group.health
        for name, feed in group.feeds.items():
            self.add_feed(prefix + name, feed, health=health[name])

    def remove(self, name: str) -> None:
        """Stop exporting the feed called ``name`` (nothing if it is not there)."""
        self._feeds.pop(name, None)

    def note(self, name: str, item: object) -> None:
        """Note one item of the feed called ``name``, for the age of its last message.

        Not needed for a feed of a group (:meth:`add_group`): the group notes its items.
        """
        tracked = self._feeds[name]
        if tracked.health is None:
            tracked.health = FeedHealth()
        tracked.health.note(item)

    def observe_latency(self, name: str, seconds: float) -> None:
        """Record one delivery latency sample (seconds) of the feed called ``name``."""
        self._feeds[name].latencies.append((trio.current_time(), seconds))

    # -- prometheus_client's Collector ----------------------------------------------------------

    def describe(self) -> Iterable[Metric]:
        """The metric families (the registry checks their names for clashes when registering)."""
        return self.collect()

    def collect(self) -> Iterable[Metric]:
        """The metrics of every feed as they are now."""
        now = self._now()
        counters = {
            key: CounterMetricFamily(f"{PREFIX}_{key}", text, labels=_LABELS)
            for key, text in (
                ("messages", "Messages delivered to the feed's buffer."),
                ("frames", "WebSocket frames received."),
                ("reconnects", "Reconnect attempts."),
                ("gaps", "Data gaps reported (Gap events)."),
                ("decode_failures", "Frames that could not be decoded."),
                ("dropped_messages", "Messages dropped by the overflow policy."),
            )
        }
        connected = GaugeMetricFamily(f"{PREFIX}_connected", "1 while a connection is open.", labels=_LABELS)
        buffered = GaugeMetricFamily(
            f"{PREFIX}_buffered_items", "Items waiting for the consumer.", labels=_LABELS
        )
        fill = GaugeMetricFamily(
            f"{PREFIX}_buffer_fill_ratio", "Waiting items / buffer_size.", labels=_LABELS
        )
        age = GaugeMetricFamily(
            f"{PREFIX}_last_message_age_seconds", "Seconds since the last message.", labels=_LABELS
        )
        latency = GaugeMetricFamily(
            f"{PREFIX}_delivery_latency_seconds",
            "Delivery latency quantiles over the recent samples.",
            labels=(*_LABELS, "quantile"),
        )
        samples = GaugeMetricFamily(
            f"{PREFIX}_delivery_latency_samples",
            "Recent latency samples behind the quantiles.",
            labels=_LABELS,
        )
        for name, tracked in list(self._feeds.items()):
            feed = tracked.feed
            labels = [name, feed.protocol.name]
            stats = feed.stats
            counters["messages"].add_metric(labels, stats.messages)
            counters["frames"].add_metric(labels, stats.frames)
            counters["reconnects"].add_metric(labels, stats.reconnects)
            counters["gaps"].add_metric(labels, stats.gaps)
            counters["decode_failures"].add_metric(labels, stats.decode_errors)
            counters["dropped_messages"].add_metric(labels, stats.dropped)
            connected.add_metric(labels, 1.0 if feed.connected else 0.0)
            waiting = feed.buffered
            buffered.add_metric(labels, waiting)
            fill.add_metric(labels, waiting / feed.config.buffer_size)
            health = tracked.health
            if health is not None and health.last_message_at is not None and now is not None:
                age.add_metric(labels, max(0.0, now - health.last_message_at))
            recent = self._recent(tracked.latencies, now)
            samples.add_metric(labels, len(recent))
            for q, value in zip(QUANTILES, quantiles(recent, QUANTILES), strict=True):
                if not math.isnan(value):
                    latency.add_metric([*labels, f"{q:g}"], value)
        yield from counters.values()
        yield from (connected, buffered, fill, age, latency, samples)

    # -- helpers --------------------------------------------------------------------------------

    def _capture_clock(self) -> None:
        # The clock of the Trio run the feeds live in: ages are on it, and a scrape served
        # from another thread (no Trio run there) can still read it.
        try:
            self._clock = trio.lowlevel.current_clock()
        except RuntimeError:
            self._clock = None

    def _now(self) -> float | None:
        try:
            return trio.current_time()
        except RuntimeError:  # scraped from another thread
            return None if self._clock is None else self._clock.current_time()

    def _recent(self, latencies: deque[tuple[float, float]], now: float | None) -> list[float]:
        window = list(latencies)  # one C-level copy: safe against appends from the Trio thread
        if now is None:
            return [v for _, v in window]
        oldest = now - self._latency_max_age
        return [v for t, v in window if t >= oldest]


def quantiles(values: list[float], qs: Iterable[float]) -> list[float]:
    """The nearest-rank quantiles ``qs`` of ``values`` (``nan`` each when there are none)."""
    if not values:
        return [math.nan for _ in qs]
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] for q in qs]


# -- serving over HTTP, from Trio ----------------------------------------------------------------


@attrs.frozen
class MetricsServer:
    """Where :func:`serve_metrics` listens (what ``nursery.start`` returns).

    Attributes:
        host: the address it is bound to.
        port: the TCP port (the one the OS chose when 0 was asked for).
    """

    host: str
    port: int

    @property
    def url(self) -> str:
        """The scrape URL, ``http://HOST:PORT/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"


async def serve_metrics(
    port: int = 0,
    host: str = "127.0.0.1",
    registry: CollectorRegistry = REGISTRY,
    *,
    task_status: trio.TaskStatus[MetricsServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``registry`` for Prometheus at ``http://host:port/metrics`` until cancelled.

    Run it with ``await nursery.start(serve_metrics, port, host, registry)``: that returns a
    :class:`MetricsServer` once it listens. The scrape runs in this Trio thread (no thread of
    its own), one connection task per scrape in this task's nursery. ``GET /metrics`` (or
    ``/``) answers in the format the ``Accept`` header asks for (Prometheus text or
    OpenMetrics); other paths 404, other methods 405.
    """

    async def handle(stream: trio.SocketStream) -> None:
        await _handle(stream, registry)

    async with trio.open_nursery() as nursery:
        listeners: list[trio.SocketListener] = await nursery.start(
            functools.partial(trio.serve_tcp, handle, port, host=host)
        )
        bound = listeners[0].socket.getsockname()
        task_status.started(MetricsServer(host=bound[0], port=bound[1]))


async def _handle(stream: trio.SocketStream, registry: CollectorRegistry) -> None:
    async with stream:
        try:
            with trio.move_on_after(_REQUEST_TIMEOUT):
                head = await _read_head(stream)
                if head is None:
                    await stream.send_all(_response(400, "text/plain", b"bad request\n"))
                    return
                await stream.send_all(respond(head, registry))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            # The scraper went away mid-answer: nothing to do for this connection.
            return


async def _read_head(stream: trio.SocketStream) -> bytes | None:
    """The request head (up to the blank line), or ``None`` if it is too long or cut short."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(4096)
        if not chunk or len(data) + len(chunk) > _MAX_REQUEST:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def respond(head: bytes, registry: Collector) -> bytes:
    """The whole HTTP response to a request head (``GET /metrics HTTP/1.1`` and headers)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return _response(400, "text/plain", b"bad request\n")
    method, target, _ = parts
    if method not in ("GET", "HEAD"):
        return _response(405, "text/plain", b"method not allowed\n", extra=("Allow: GET, HEAD",))
    path = target.split("?", 1)[0]
    if path not in ("/metrics", "/"):
        return _response(404, "text/plain", b"not found: try /metrics\n")
    accept = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "accept":
            accept = value.strip()
    encoder, content_type = choose_encoder(accept)
    body = encoder(registry)
    return _response(200, content_type, body, head_only=method == "HEAD")


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def _response(
    status: int, content_type: str, body: bytes, *, extra: tuple[str, ...] = (), head_only: bool = False
) -> bytes:
    headers = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)
