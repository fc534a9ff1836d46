"""trio_feeds.metrics: feeds' health scraped over HTTP on 127.0.0.1, as Prometheus would."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
import trio
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from trio_feeds import FeedConfig, cryptology, events, gateway
from trio_feeds.group import open_feeds
from trio_feeds.metrics import FeedMetrics, MetricsServer, quantiles, serve_metrics
from trio_feeds.testing import open_cryptology_server, open_gateway_server

CREDS = gateway.Credentials("key-1", "metrics-SECRET-9c1d")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def fast() -> FeedConfig:
    return FeedConfig(
        ping_interval=0.05, ping_timeout=0.2, backoff_initial=0.01, backoff_max=0.05, request_timeout=1.0,
        rng=random.Random(7),
    )  # fmt: skip


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _get(url: str, method: str = "GET") -> tuple[int, str, str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def num(samples: Samples, name: str, **labels: str) -> float:
    found = value(samples, name, **labels)
    assert found is not None, f"{name} {labels} missing"
    return found


async def scrape(url: str) -> Samples:
    """GET the endpoint with a real HTTP client (urllib, in a thread) and parse the text format."""
    status, content_type, body = await trio.to_thread.run_sync(_get, url)
    assert status == 200
    assert content_type.startswith("text/plain")
    return parse(body)


async def scrape_until(url: str, ok: Callable[[Samples], bool]) -> Samples:
    with trio.fail_after(5):
        while True:
            samples = await scrape(url)
            if ok(samples):
                return samples
            await trio.sleep(0.05)


async def test_a_scrape_shows_messages_flowing_and_a_reconnect_with_its_gap() -> None:
    registry = CollectorRegistry()
    metrics = FeedMetrics()
    registry.register(metrics)
    labels = {"feed": "gw", "protocol": "gateway"}
    async with (
        open_gateway_server(api_key="key-1", api_secret="metrics-SECRET-9c1d", rate=200) as server,
        gateway.open_feed(server.url, credentials=CREDS, config=fast()) as feed,
        trio.open_nursery() as nursery,
    ):
        endpoint: MetricsServer = await nursery.start(serve_metrics, 0, "127.0.0.1", registry)
        assert endpoint.url == f"http://127.0.0.1:{endpoint.port}/metrics"
        metrics.add_feed("gw", feed)

        async def consume() -> None:
            async for item in feed:
                metrics.note("gw", item)
                if not isinstance(item, events.FeedEvent):
                    metrics.observe_latency("gw", 0.002)

        nursery.start_soon(consume)
        await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])

        first = await scrape_until(
            endpoint.url, lambda s: (value(s, "trio_feeds_messages_total", **labels) or 0) > 5
        )
        assert value(first, "trio_feeds_connected", **labels) == 1.0
        assert value(first, "trio_feeds_reconnects_total", **labels) == 0.0
        assert value(first, "trio_feeds_gaps_total", **labels) == 0.0
        assert value(first, "trio_feeds_decode_failures_total", **labels) == 0.0
        assert value(first, "trio_feeds_dropped_messages_total", **labels) == 0.0
        assert num(first, "trio_feeds_frames_total", **labels) >= num(
            first, "trio_feeds_messages_total", **labels
        )
        assert 0.0 <= num(first, "trio_feeds_last_message_age_seconds", **labels) < 1.0
        assert 0.0 <= num(first, "trio_feeds_buffer_fill_ratio", **labels) <= 1.0
        assert value(first, "trio_feeds_delivery_latency_seconds", quantile="0.5", **labels) == 0.002
        assert value(first, "trio_feeds_delivery_latency_seconds", quantile="0.99", **labels) == 0.002
        assert (value(first, "trio_feeds_delivery_latency_samples", **labels) or 0) > 0

        before = num(first, "trio_feeds_messages_total", **labels)
        second = await scrape_until(
            endpoint.url, lambda s: num(s, "trio_feeds_messages_total", **labels) > before
        )
        assert num(second, "trio_feeds_messages_total", **labels) > before

        await server.close(1011, "server restart")
        healed = await scrape_until(
            endpoint.url,
            lambda s: (
                value(s, "trio_feeds_gaps_total", **labels) == 1.0
                and value(s, "trio_feeds_connected", **labels) == 1.0
            ),
        )
        assert value(healed, "trio_feeds_reconnects_total", **labels) == 1.0
        nursery.cancel_scope.cancel()


async def test_a_group_exports_every_feed_with_the_groups_health() -> None:
    registry = CollectorRegistry()
    metrics = FeedMetrics()
    registry.register(metrics)
    async with (
        open_gateway_server(api_key="key-1", api_secret="metrics-SECRET-9c1d", rate=200) as gw,
        open_cryptology_server(rate=200) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        async with open_feeds(feeds) as group:
            metrics.add_group(group, prefix="a-")
            await group["gw"].subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            with trio.fail_after(5):
                async for _ in group:
                    if all(h.messages >= 5 for h in group.health.values()):
                        break
            samples = parse(generate_latest(registry).decode())
    for name, protocol in (("a-gw", "gateway"), ("a-cr", "cryptology")):
        labels = {"feed": name, "protocol": protocol}
        assert (value(samples, "trio_feeds_messages_total", **labels) or 0) >= 5
        assert value(samples, "trio_feeds_last_message_age_seconds", **labels) is not None
        # No latency was observed: no quantile, and zero samples.
        assert value(samples, "trio_feeds_delivery_latency_seconds", quantile="0.5", **labels) is None
        assert value(samples, "trio_feeds_delivery_latency_samples", **labels) == 0.0
    metrics.remove("a-gw")
    assert "a-gw" not in repr(metrics)


async def test_a_scrape_from_another_thread_reads_ages_on_the_feeds_clock() -> None:
    registry = CollectorRegistry()
    metrics = FeedMetrics()
    registry.register(metrics)
    async with (
        open_cryptology_server(rate=200) as server,
        cryptology.open_feed(server.url, config=fast()) as feed,
    ):
        metrics.add_feed("cr", feed)
        with trio.fail_after(5):
            async for item in feed:
                metrics.note("cr", item)
                if not isinstance(item, events.FeedEvent):
                    break
        text = await trio.to_thread.run_sync(lambda: generate_latest(registry).decode())
    age = num(parse(text), "trio_feeds_last_message_age_seconds", feed="cr", protocol="cryptology")
    assert 0.0 <= age < 5.0


async def test_the_endpoint_answers_only_scrapes() -> None:
    registry = CollectorRegistry()
    async with trio.open_nursery() as nursery:
        endpoint: MetricsServer = await nursery.start(serve_metrics, 0, "127.0.0.1", registry)
        base = f"http://127.0.0.1:{endpoint.port}"
        status, _, body = await trio.to_thread.run_sync(_get, base + "/nope")
        assert status == 404
        assert "/metrics" in body
        status, _, _ = await trio.to_thread.run_sync(lambda: _get(base + "/metrics", "POST"))
        assert status == 405
        status, content_type, body = await trio.to_thread.run_sync(lambda: _get(base + "/metrics", "HEAD"))
        assert (status, body) == (200, "")
        assert content_type.startswith("text/plain")
        # Not HTTP at all: a 400, and the server goes on.
        stream = await trio.open_tcp_stream("127.0.0.1", endpoint.port)
        async with stream:
            await stream.send_all(b"hello\r\n\r\n")
            answer = await stream.receive_some(1024)
        assert answer.startswith(b"HTTP/1.1 400 ")
        # A client that connects and leaves without a request does not disturb it either.
        stream = await trio.open_tcp_stream("127.0.0.1", endpoint.port)
        await stream.aclose()
        status, _, _ = await trio.to_thread.run_sync(_get, base + "/metrics")
        assert status == 200
        nursery.cancel_scope.cancel()


def test_without_prometheus_client_the_import_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "try:\n    import trio_feeds.metrics\nexcept ImportError as e:\n    print(e)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'trio-feeds[metrics]'" in result.stdout


def test_quantiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    random.Random(3).shuffle(values)
    assert quantiles(values, (0.5, 0.99, 1.0)) == [50.0, 99.0, 100.0]
    assert quantiles([7.0], (0.5, 0.99)) == [7.0, 7.0]
    assert all(math.isnan(v) for v in quantiles([], (0.5,)))


def test_two_collectors_on_one_registry_clash_by_name() -> None:
    registry = CollectorRegistry()
    registry.register(FeedMetrics())
    with pytest.raises(ValueError, match="Duplicated"):
        registry.register(FeedMetrics())
    with pytest.raises(ValueError, match="latency_samples"):
        FeedMetrics(latency_samples=0)
